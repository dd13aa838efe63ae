"""Checks for the exercises of the chapter on adversarial examples.

They know the usual mistakes: the step taken the wrong way (down the loss, as
a targeted attack does), the raw gradient instead of its sign, no clamp to
[0, 1], the gradient taken with the network in training mode (batch norm and
dropout change it), a model left in another mode; for the transfer rate,
counting over all images instead of those the source fools and both networks
get right; for the projection, only one of the two boxes.
"""
from __future__ import annotations

import math
from typing import Any, Dict, Optional

import numpy as np
import torch
from torch import nn

from ..adversarial import epsilon_sweep, fgsm, transfer_rate
from .core import (Case, Result, check_experiment, check_function, check_value, compare_arrays,
                   exercise_check, is_stub, named_mistakes)

__all__ = ["check_fgsm", "check_linear_change", "check_transfer_rate", "check_sweep_experiment",
           "check_projection", "LIBRARY_ATTACKS"]

#: Library functions a "write it yourself" attack must not call.
LIBRARY_ATTACKS = ["course_lib.adversarial.fgsm", "course_lib.adversarial.pgd", "course_lib.fgsm",
                   "course_lib.pgd"]


# ----------------------------------------------------------------------------------------------
# Exercise: FGSM

def _small_models():
    """Three small seeded networks on 1 x 4 x 4 images: linear, conv + ReLU, conv + batch norm."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(131)
        linear = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
        conv = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(16, 3))
        bn = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(16, 3))
        with torch.no_grad():
            bn[1].running_mean.copy_(torch.randn(4) * 0.3)
            bn[1].running_var.copy_(torch.rand(4) + 0.5)
        bn.train()                       # handed over in training mode: the attack must use eval mode
    return linear.eval(), conv.eval(), bn


def _fgsm_cases():
    g = torch.Generator().manual_seed(13)
    linear, conv, bn = _small_models()
    x4 = torch.rand(4, 1, 4, 4, generator=g)
    edges = torch.tensor([0.0, 1.0, 0.02, 0.98]).repeat(4).reshape(1, 1, 4, 4).repeat(3, 1, 1, 1)
    raw = [("a linear model, 4 images, eps = 0.1", linear, x4, torch.tensor([0, 1, 2, 1]), 0.1),
           ("a conv net with ReLU, eps = 0.05", conv, x4, torch.tensor([2, 2, 0, 1]), 0.05),
           ("pixels at 0 and 1 (the result must stay in [0, 1]), eps = 0.25", conv, edges,
            torch.tensor([0, 1, 2]), 0.25),
           ("a network with batch norm, handed over in training mode, eps = 0.1", bn, x4,
            torch.tensor([1, 0, 2, 2]), 0.1)]
    cases = []
    for name, model, x, y, eps in raw:
        expected = fgsm(model, x, y, eps).numpy()
        cases.append(Case(name, (model, x, y, eps), expected=expected))
    return cases, raw


def _fgsm_variants(raw):
    def variants(expected):
        for _, model, x, y, eps in raw:
            ref = fgsm(model, x, y, eps).numpy()
            if ref.shape != np.shape(expected) or not np.array_equal(ref, expected):
                continue
            yield fgsm(model, x, y, eps, targeted=True).numpy(), \
                "the step goes the wrong way: FGSM adds eps * sign(gradient), to make the loss larger"
            m = model
            was = m.training
            m.eval()
            xg = x.clone().requires_grad_(True)
            loss = nn.functional.cross_entropy(m(xg), y, reduction="sum")
            (grad,) = torch.autograd.grad(loss, xg)
            m.train(was)
            yield (x + eps * grad.sign()).numpy(), "the result is not clamped to [0, 1]"
            yield (x + eps * grad).clamp(0, 1).numpy(), "that is eps times the gradient itself; FGSM uses its sign"
            yield (x + eps * grad / (grad.abs().max() + 1e-12)).clamp(0, 1).numpy(), \
                "the gradient is scaled, not replaced by its sign"
            if any(isinstance(mod, (nn.BatchNorm2d, nn.Dropout)) for mod in model.modules()):
                m.train()
                xg = x.clone().requires_grad_(True)
                loss = nn.functional.cross_entropy(m(xg), y, reduction="sum")
                (gt,) = torch.autograd.grad(loss, xg)
                m.train(was)
                yield (x + eps * gt.sign()).clamp(0, 1).numpy(), \
                    ("the gradient was taken in training mode (batch norm used the batch's statistics): call "
                     "model.eval() first, and put the model back in its mode afterwards")
            return
    return variants


class _StateChanged:
    """What the wrapper returns when the student's function changed the model."""

    def __init__(self, what: str):
        self.what = what


def _guard_model(student_fn):
    """Call the student's function, then check that the model's mode and parameters are as before."""
    import functools

    @functools.wraps(student_fn)
    def run(model, images, labels, eps):
        mode = model.training
        params = [p.detach().clone() for p in model.parameters()]
        grads = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
        got = student_fn(model, images, labels, eps)
        if model.training != mode:
            return _StateChanged(f"the model came back in {'training' if model.training else 'eval'} mode; "
                                 f"it was handed over in {'training' if mode else 'eval'} mode: remember "
                                 f"model.training first and put it back with model.train(was_training)")
        if any(not torch.equal(a, p.detach()) for a, p in zip(params, model.parameters())):
            return _StateChanged("the model's parameters changed: an attack changes the image, never the network")
        if any((g is None) != (p.grad is None) or (g is not None and not torch.equal(g, p.grad))
               for g, p in zip(grads, model.parameters())):
            return _StateChanged("the parameters' .grad changed: take the gradient with respect to the images "
                                 "only (torch.autograd.grad(loss, images)), or zero the parameters' gradients "
                                 "you created")
        return got
    return run


@exercise_check("student_fn", title="Exercise 13.1: the fast gradient sign method (S13.1)")
def check_fgsm(student_fn: Any, *, exercise: str = "Exercise 13.1: the fast gradient sign method (S13.1)") -> Result:
    """Check ``student_fn(model, images, labels, eps)`` against Bishop's eq. 10.11 (untargeted FGSM).

    The model must be used in eval mode and handed back unchanged (mode,
    parameters and their gradients).

    Examples
    --------
    >>> def mine(model, x, y, eps):
    ...     was = model.training
    ...     model.eval()
    ...     x = x.clone().requires_grad_(True)
    ...     loss = torch.nn.functional.cross_entropy(model(x), y)
    ...     (g,) = torch.autograd.grad(loss, x)
    ...     model.train(was)
    ...     return (x + eps * g.sign()).clamp(0, 1).detach()
    >>> check_fgsm(mine).status
    'pass'
    >>> check_fgsm(...).status
    'not attempted'
    """
    cases, raw = _fgsm_cases()
    base = named_mistakes(_fgsm_variants(raw), base=lambda got, exp: compare_arrays(got, exp, rtol=1e-5, atol=1e-5))

    def compare(got, expected):
        if isinstance(got, _StateChanged):
            return got.what
        return base(got, expected)

    fn = student_fn if is_stub(student_fn) or not callable(student_fn) else _guard_model(student_fn)
    return check_function(exercise, fn, cases, compare=compare,
                          success="Your attack is eq. 10.11: one signed step up the loss, clamped to [0, 1], "
                                  "with the network in eval mode and left as it was.",
                          hints=["the loss is the cross-entropy of model(images) with the true labels; you need "
                                 "its gradient with respect to the images, not the weights",
                                 "images.clone().requires_grad_(True), then torch.autograd.grad(loss, images); "
                                 "the new images are the old ones plus eps times the *sign* of that gradient, "
                                 "clamped to [0, 1]"],
                          forbid=LIBRARY_ATTACKS, forbid_reason="the attack itself is the exercise")


# ----------------------------------------------------------------------------------------------
# Exercise: how far can a linear score move?

@exercise_check("answer", title="Exercise 13.2: a linear score under FGSM (S13.3)")
def check_linear_change(answer: Any, *,
                        exercise: str = "Exercise 13.2: a linear score under FGSM (S13.3)") -> Result:
    """The largest change of ``w . x + b`` under a perturbation with every pixel within eps: ``eps * ||w||_1``.

    The task: every weight is +0.01 or -0.01, eps = 0.1, no pixel near 0 or 1;
    answer ``(change for 784 pixels, change for 3,072 values)``.

    Examples
    --------
    >>> check_linear_change((0.1 * 0.01 * 784, 0.1 * 0.01 * 3072)).status
    'pass'
    >>> "L2" in str(check_linear_change((0.1 * 0.01 * 28, 0.1 * 0.01 * 3072 ** 0.5)))
    True
    """
    w, eps = 0.01, 0.1
    dims = (784, 3072)
    expected = tuple(eps * w * d for d in dims)
    mistakes = [
        (tuple(eps * w * math.sqrt(d) for d in dims),
         "that is eps times the L2 norm of w; the sign step changes every pixel by eps, so the changes add up "
         "over all pixels (the L1 norm)"),
        (tuple(eps * w for _ in dims), "that is the change from one pixel; every pixel moves"),
        (tuple(eps * d for d in dims), "the weights are missing: each pixel's change is multiplied by its weight"),
        (tuple(w * d for d in dims), "eps is missing"),
        (tuple(2 * eps * w * d for d in dims), "twice too large: the score moves by eps |w_i| per pixel, not 2 eps"),
        (tuple(0.0 for _ in dims), "with mixed signs the weights do cancel in sum(w), but FGSM chooses the sign of "
                                   "each pixel's step to match its weight, so nothing cancels"),
    ]
    return check_value(exercise, answer, expected, rtol=1e-3, atol=1e-9, what="your pair of changes", mistakes=mistakes,
                       hint="each pixel i moves by +-eps in the direction of sign(w_i); add up what each moves the "
                            "score",
                       hints=["w . (x + dx) - w . x = w . dx, and with dx_i = eps * sign(w_i) that is a sum over "
                              "all pixels"],
                       success="The change grows with the number of inputs: a high-dimensional linear model is "
                               "easy to push across its decision boundary with an invisible eps.")


# ----------------------------------------------------------------------------------------------
# Exercise: transfer rate

def _transfer_cases():
    rng = np.random.default_rng(133)
    y = rng.integers(0, 10, 40)

    def flip(a, p):
        b = a.copy()
        m = rng.random(len(a)) < p
        b[m] = (b[m] + rng.integers(1, 10, m.sum())) % 10
        return b

    sc, tc = flip(y, 0.1), flip(y, 0.15)
    sa, ta = flip(y, 0.8), flip(y, 0.5)
    raw = [("a hand example: 4 images", [0, 1, 2, 3], [0, 1, 2, 0], [5, 5, 2, 5], [0, 1, 2, 3], [0, 5, 2, 3]),
           ("a target that misses some clean images", [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5], [9, 9, 9, 9, 4, 5],
            [0, 7, 2, 3, 4, 5], [1, 7, 2, 8, 4, 5]),
           ("40 random predictions", y, sc, sa, tc, ta),
           ("the source is never fooled (no image counts: NaN)", [1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3],
            [0, 0, 0])]
    cases = []
    for name, *arrays in raw:
        arrays = [np.asarray(a, dtype=np.int64) for a in arrays]
        cases.append(Case(name, tuple(arrays), expected=np.float64(transfer_rate(*arrays))))
    return cases


def _transfer_variants(args_by_expected):
    def variants(expected):
        arrays = args_by_expected.get(np.asarray(expected, dtype=np.float64).tobytes())
        if arrays is None:
            return
        y, sc, sa, tc, ta = arrays
        yield float((ta != y).mean()), ("that is the target's error on all the attacked images; count only the "
                                        "images that both networks get right when clean and that fool the source")
        m = (sc == y) & (sa != y)
        if m.any():
            yield float((ta[m] != y[m]).mean()), ("the images the target gets wrong even when clean are counted: "
                                                  "keep only images that the target classifies correctly without "
                                                  "the attack")
        m = (sc == y) & (tc == y)
        if m.any():
            yield float((ta[m] != y[m]).mean()), ("images that did not fool the source are counted too: keep only "
                                                  "those whose attack worked on the source")
        m = (sc == y) & (tc == y) & (sa != y)
        if m.any():
            yield float((ta[m] == y[m]).mean()), ("that is the fraction the target still gets right: the transfer "
                                                  "rate is the fraction it gets wrong")
            yield float((ta[m] != sa[m]).mean()), ("the target's answer was compared with the source's answer; "
                                                   "compare it with the true label")
            yield float((ta[m] != y[m]).sum()), "that is a count; divide by the number of images that qualify"
        else:
            yield 0.0, ("no image qualifies here (the source is never fooled), so the rate is undefined: return "
                        "float('nan')")
    return variants


@exercise_check("student_fn", title="Exercise 13.3: the transfer rate (S13.3)")
def check_transfer_rate(student_fn: Any, *, exercise: str = "Exercise 13.3: the transfer rate (S13.3)") -> Result:
    """Check ``student_fn(labels, source_clean, source_adv, target_clean, target_adv)`` against
    :func:`course_lib.adversarial.transfer_rate`.

    Examples
    --------
    >>> def mine(y, sc, sa, tc, ta):
    ...     keep = (sc == y) & (tc == y) & (sa != y)
    ...     return (ta[keep] != y[keep]).mean() if keep.any() else float("nan")
    >>> check_transfer_rate(mine).status
    'pass'
    """
    cases = _transfer_cases()
    by_expected = {np.asarray(c.expected, dtype=np.float64).tobytes(): c.args for c in cases}
    return check_function(exercise, student_fn, cases,
                          compare=named_mistakes(_transfer_variants(by_expected),
                                                 base=lambda got, exp: compare_arrays(got, exp, rtol=1e-6, atol=1e-7)),
                          success="This is the rate in the chapter's transfer matrix.",
                          hints=["three conditions pick the images that count: the source is right on the clean "
                                 "image, the target is right on the clean image, the source is wrong on the attacked "
                                 "image",
                                 "a boolean mask of those images; among them, the fraction where target_adv differs "
                                 "from the label (NaN when the mask is empty)"],
                          forbid=["course_lib.adversarial.transfer_rate"],
                          forbid_reason="the rate is the exercise")


# ----------------------------------------------------------------------------------------------
# Exercise: an epsilon sweep of the linear classifier

SWEEP_EPS = (0.0, 0.05, 0.1, 0.2)


def sweep_truth(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> Dict[float, float]:
    """The accuracies of :func:`check_sweep_experiment`, computed by the check itself.

    Examples
    --------
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    >>> sorted(sweep_truth(model, torch.rand(6, 1, 2, 2), torch.zeros(6, dtype=torch.long)))
    [0.0, 0.05, 0.1, 0.2]
    """
    return epsilon_sweep(model, images, labels, SWEEP_EPS)


@exercise_check("results", context=lambda: dict(model=None, images=None, labels=None),
                title="Exercise 13.4: how robust is the linear classifier? (S13.1, S13.3)")
def check_sweep_experiment(results: Any, model: Optional[nn.Module], images: Optional[torch.Tensor],
                           labels: Optional[torch.Tensor], *,
                           exercise: str = "Exercise 13.4: how robust is the linear classifier? (S13.1, S13.3)"
                           ) -> Result:
    """Check ``results = {eps: accuracy}`` for eps in 0, 0.05, 0.1, 0.2 (FGSM on ``model``, ``images``, ``labels``).

    The check recomputes the four accuracies with the same model and images.

    Examples
    --------
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    >>> x, y = torch.rand(20, 1, 2, 2), torch.randint(0, 3, (20,))
    >>> check_sweep_experiment(sweep_truth(model, x, y), model, x, y).status
    'pass'
    """
    truth = sweep_truth(model, images, labels) if model is not None else None
    tol = 1.5 / len(labels) + 1e-9 if truth is not None else 0.0

    def rule(v: Dict[float, float]) -> Optional[str]:
        vals = [v[e] for e in SWEEP_EPS]
        if any(x > 1.0 for x in vals):
            return "the values look like percentages: store accuracies as fractions in [0, 1]"
        if truth is None:
            return None
        bad = [e for e in SWEEP_EPS if abs(v[e] - truth[e]) > tol]
        if not bad:
            return None
        if all(abs(v[e] - (1 - truth[e])) <= tol for e in SWEEP_EPS):
            return "these are error rates; the task asks for accuracies (1 - error)"
        if bad == [0.0]:
            return "results[0.0] should be the clean accuracy (eps = 0 leaves the images as they are)"
        if vals != sorted(vals, reverse=True):
            return (f"the accuracy at eps = {bad[0]} does not match the check's measurement, and the accuracies "
                    f"do not fall as eps grows: is the step going down the loss (a minus sign)?")
        return (f"the accuracy at eps = {bad[0]} does not match what the check measures on the same images: "
                f"attack with the true labels, every image, clamp to [0, 1], and count the attacked images the "
                f"model still gets right")

    return check_experiment(exercise, results, list(SWEEP_EPS), ranges={e: (0.0, 100.0) for e in SWEEP_EPS},
                            rules=[rule],
                            hints=["for each eps: x_adv = fgsm(model, images, labels, eps), then the fraction of "
                                   "model(x_adv).argmax(1) equal to labels",
                                   "the keys are the floats 0.0, 0.05, 0.1, 0.2 themselves"])


# ----------------------------------------------------------------------------------------------
# Exercise: the projection of PGD

def _projection_cases():
    g = torch.Generator().manual_seed(135)
    x = torch.rand(2, 1, 3, 3, generator=g)
    far = x + (torch.rand(2, 1, 3, 3, generator=g) - 0.5) * 0.8
    near_edges = torch.tensor([[[[0.0, 0.05, 0.5], [0.95, 1.0, 0.3], [0.2, 0.8, 0.6]]]])
    step = near_edges + torch.tensor([[[[-0.3, -0.3, 0.05], [0.3, 0.2, -0.05], [0.2, -0.2, 0.0]]]])
    rgb = torch.rand(1, 3, 2, 2, generator=g)
    raw = [("random steps, some outside the box, eps = 0.1", far, x, 0.1),
           ("pixels at 0 and 1, steps past the edges, eps = 0.1", step, near_edges, 0.1),
           ("already inside the box: unchanged, eps = 0.5", x + 0.01, x, 0.5),
           ("a colour image, eps = 0.03", rgb + 0.2 * (torch.rand(1, 3, 2, 2, generator=g) - 0.5), rgb, 0.03)]
    cases = []
    for name, xa, x0, eps in raw:
        expected = torch.min(torch.max(xa, x0 - eps), x0 + eps).clamp(0, 1)
        cases.append(Case(name, (xa, x0, eps), expected=expected.numpy()))
    return cases, raw


@exercise_check("student_fn", title="Exercise 13.5: the projection step of PGD (S13.2, S13.4)")
def check_projection(student_fn: Any, *,
                     exercise: str = "Exercise 13.5: the projection step of PGD (S13.2, S13.4)") -> Result:
    """Check ``student_fn(x_adv, x, eps)``: the nearest image to ``x_adv`` within eps of ``x`` and in [0, 1].

    Examples
    --------
    >>> check_projection(lambda xa, x, eps: torch.min(torch.max(xa, x - eps), x + eps).clamp(0, 1)).status
    'pass'
    >>> "[0, 1]" in str(check_projection(lambda xa, x, eps: torch.min(torch.max(xa, x - eps), x + eps)))
    True
    """
    cases, raw = _projection_cases()
    by_key = {c.expected.tobytes(): r for c, r in zip(cases, raw)}

    def variants(expected):
        r = by_key.get(np.asarray(expected, dtype=np.float32).tobytes())
        if r is None:
            return
        _, xa, x0, eps = r
        yield torch.min(torch.max(xa, x0 - eps), x0 + eps).numpy(), \
            "the result can leave [0, 1]: clamp it to the valid pixel range as well"
        yield xa.clamp(0, 1).numpy(), "only [0, 1] is enforced: every pixel must also stay within eps of x"
        yield (x0 + eps * torch.sign(xa - x0)).clamp(0, 1).numpy(), \
            "every pixel was moved to the edge of the box; pixels already inside must stay where they are"
        yield torch.min(torch.max(x0, xa - eps), xa + eps).clamp(0, 1).numpy(), \
            "the box is centred on x_adv; it must be centred on the original image x"

    return check_function(exercise, student_fn, cases,
                          compare=named_mistakes(variants, base=lambda got, exp: compare_arrays(got, exp, rtol=1e-6,
                                                                                                atol=1e-6)),
                          success="This is the projection PGD applies after every step.",
                          hints=["two boxes: [x - eps, x + eps] around the original image, and [0, 1]",
                                 "clamp element by element: first into the eps-box around x (torch.max with the "
                                 "lower edge, torch.min with the upper), then into [0, 1]"],
                          forbid=LIBRARY_ATTACKS, forbid_reason="the projection is the exercise")
