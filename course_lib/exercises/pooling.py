"""Checks for the pooling and receptive-field exercises (chapter "Pooling and receptive fields").

Each check knows the usual mistakes (averaging instead of taking the max,
overlapping windows with stride 1, keeping a half window at an odd edge,
ignoring the stride in receptive-field bookkeeping, ...) and names the mistake
when a wrong answer matches it.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..pooling import avg_pool2d, max_pool2d
from ..receptive_field import Layer, receptive_fields
from ..shapes import conv_output_size
from .core import (FAIL, NOT_ATTEMPTED, PASS, Case, Result, _short, as_number, check_experiment, check_function,
                   compare_arrays, compare_exact, exercise_check, is_stub, named_mistakes, not_attempted,
                   not_yet, passed, same_value)

__all__ = ["check_max_pool_2x2", "check_forsyth_pool_sizes", "check_forsyth_next_layer", "check_receptive_field",
           "check_pool_shift_experiment", "check_pool_shift_prediction"]

#: Library pooling a "write it yourself" exercise must not call.
LIBRARY_POOLING = ["course_lib.pooling.max_pool2d", "course_lib.pooling.max_pool2d_naive",
                   "torch.nn.functional.max_pool2d", "torch.nn.functional.max_pool2d_with_indices",
                   "torch.max_pool2d", "torch.nn.functional.adaptive_max_pool2d",
                   "torch.nn.functional.fractional_max_pool2d"]


# --------------------------------------------------------------------------------------------
# Exercise: 2 x 2 max pooling with stride 2 on NCHW arrays
# --------------------------------------------------------------------------------------------

@exercise_check("student_fn", title="Exercise 5.1: 2 x 2 max pooling from scratch (S5.1, E3)")
def check_max_pool_2x2(student_fn, *,
                       exercise: str = "Exercise 5.1: 2 x 2 max pooling from scratch (S5.1, E3)") -> Result:
    """Check ``student_fn(x)``: 2 x 2 max pooling with stride 2 on an (N, C, H, W) array.

    The reference is :func:`course_lib.max_pool2d` (``kernel_size=2``, ``stride=2``,
    floor rounding as in torch: an odd last row or column is dropped).

    Examples
    --------
    >>> def pool(x):
    ...     n, c, h, w = x.shape
    ...     return x[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
    >>> check_max_pool_2x2(pool).status
    'pass'
    >>> "calls course_lib.max_pool2d" in str(check_max_pool_2x2(lambda x: max_pool2d(x, 2)))
    True
    >>> r = check_max_pool_2x2(lambda x: avg_pool2d(x, 2))
    >>> "average" in r.details[3]
    True
    >>> sw = np.lib.stride_tricks.sliding_window_view
    >>> r = check_max_pool_2x2(lambda x: sw(x, (2, 2), axis=(2, 3)).max(axis=(-2, -1)))
    >>> "stride 1" in r.details[3]
    True
    """
    rng = np.random.default_rng(7)
    slides = np.array([[1., 1., 2., 4.], [5., 6., 7., 8.], [3., 2., 1., 0.], [1., 2., 3., 4.]])
    inputs = [("the slides' 4 x 4 example", slides[None, None]),
              ("a batch of 2 images with 3 channels, 6 x 8", np.round(rng.standard_normal((2, 3, 6, 8)), 2)),
              ("all values negative (the max is below zero)", -np.abs(np.round(rng.standard_normal((1, 2, 4, 4)), 2)) - 0.1),
              ("odd size 5 x 7: the last row and column are left out", np.round(rng.standard_normal((1, 2, 5, 7)), 2)),
              ("a 2 x 2 input gives one value per channel", np.round(rng.standard_normal((3, 1, 2, 2)), 2))]
    cases = [Case(name, (x,), expected=max_pool2d(x, 2)) for name, x in inputs]

    def variants(expected):
        for _, x in inputs:
            truth = max_pool2d(x, 2)
            if truth.shape != np.shape(expected) or not np.array_equal(truth, expected):
                continue
            yield avg_pool2d(x, 2), ("these are window *averages* (average pooling); max pooling "
                                     "keeps the largest value of each window.")
            yield max_pool2d(x, 2, stride=1), ("the windows overlap: this is stride 1 (the mistake in "
                                               "Bishop's fig. 10.22 caption). Non-overlapping 2 x 2 "
                                               "windows move 2 pixels at a time: stride 2.")
            if x.shape[2] % 2 or x.shape[3] % 2:
                yield max_pool2d(x, 2, ceil_mode=True), (
                    "a half window at the odd edge was kept (ceil rounding); torch's default, like "
                    "this exercise, drops it: the output is H // 2 x W // 2.")
            yield np.maximum(max_pool2d(x, 2), 0.0), (
                "negative maxima came back as 0: start the running max at -inf (or the first value "
                "of the window), not at 0.")
            yield x[:, :, : 2 * (x.shape[2] // 2): 2, : 2 * (x.shape[3] // 2): 2], (
                "this is every second pixel (subsampling), not the max over each window.")
    return check_function(exercise, student_fn, cases, compare=named_mistakes(variants, compare_arrays),
                          hints=["the output has one value per 2 x 2 window; the windows do not overlap and "
                                 "tile the image; each channel of each image is pooled on its own",
                                 "output (n, c, i, j) is the largest of the four values in rows 2i, 2i + 1 and "
                                 "columns 2j, 2j + 1; with an odd H or W the last row or column belongs to no "
                                 "window"],
                          forbid=LIBRARY_POOLING, forbid_reason="write the pooling with NumPy or loops")


# --------------------------------------------------------------------------------------------
# Exercise: predict Forsyth's pooled sizes
# --------------------------------------------------------------------------------------------

def _chain(n: int, step) -> Tuple[Any, ...]:
    """Apply ``step`` three times (three pooling layers with size-keeping convs in between)."""
    out = []
    for _ in range(3):
        n = step(n)
        out.append(n)
    return tuple(out)


@exercise_check("answer", title="Exercise 5.2: what if Forsyth had not padded? (S5.2)")
def check_forsyth_pool_sizes(answer: Any, *,
                             exercise: str = "Exercise 5.2: what if Forsyth had not padded? (S5.2)") -> Result:
    """Check the prediction of the three pooled sizes of Forsyth's CIFAR-10 net without padding.

    The net pools a 32 x 32 block three times with 3 x 3 windows and stride 2
    ("same" convolutions in between). With one extra bottom row and right
    column (``ceil_mode=True``) the sizes are (16, 8, 4); with torch's default
    (no padding, floor) they are (15, 7, 3), the expected answer. The check
    never prints the sizes.

    Examples
    --------
    >>> check_forsyth_pool_sizes((15, 7, 3)).status
    'pass'
    >>> check_forsyth_pool_sizes(...).status
    'not attempted'
    >>> "ceil" in str(check_forsyth_pool_sizes((16, 8, 4)))
    True
    """
    expected = _chain(32, lambda n: conv_output_size(n, 3, 2))
    if is_stub(answer):
        return not_attempted(exercise, "replace the `...` with a tuple of three sizes.")
    got = _plain_sizes(answer)
    if got is None or len(got) != 3:
        return not_yet(exercise, f"expected a tuple of three sizes, one per pooling layer, e.g. (20, 10, 5); "
                       f"got {_short(answer, 80)}.")
    if any(as_number(v) is not None and not float(as_number(v)).is_integer() for v in got):
        return not_yet(exercise, f"got {_short(answer, 60)}: a size counts window positions, so it is a whole "
                       f"number; round down as torch does.")
    if same_value(got, expected):
        return passed(exercise, "the three sizes are right: each pooling loses the row and column that only "
                      "a partial window would read, and the losses compound.")
    mistakes = [
        (_chain(32, lambda n: conv_output_size(n, 3, 2, ceil_mode=True)),
         "these are the sizes *with* the extra row and column (ceil rounding); without them torch "
         "rounds down: a window must fit entirely."),
        (_chain(32, lambda n: (n - 3) // 2),
         "every size is one too small: did you forget the + 1 (the first window position counts too)?"),
        (_chain(32, lambda n: n // 2), "halving is what the extra padding gives; without it a 3 x 3 window "
                                       "must fit entirely inside the block"),
        (tuple(conv_output_size(32, 3, 2) for _ in range(3)),
         "each pooling layer starts from the previous one's output, not from 32 again."),
    ]
    details = [f"got:      {_short(answer, 60)}"]
    problem = next((m for v, m in mistakes if v != expected and same_value(got, v)), None)
    if problem is None:
        wrong = [i + 1 for i, (g, e) in enumerate(zip(got, expected)) if not same_value(g, e)]
        problem = f"size{'s' if len(wrong) > 1 else ''} {', '.join(map(str, wrong))} not right yet"
    details.append(f"problem:  {problem}")
    return not_yet(exercise, "the prediction is not right yet.", details,
                   ["a pooling window of 3 with stride 2 fits at positions 0, 2, 4, ... as long as all three "
                    "of its pixels are inside the block; count them, then start again from that size",
                    "with no padding the count is floor((n - 3) / 2) + 1; apply it three times, starting "
                    "from n = 32"])


def _plain_sizes(answer: Any):
    value = answer.detach().cpu().numpy() if hasattr(answer, "detach") else answer
    try:
        if isinstance(value, np.ndarray):
            value = value.reshape(-1).tolist() if value.ndim == 1 else None
    except Exception:
        return None
    return tuple(value) if isinstance(value, (tuple, list)) else None


@exercise_check("fits", title="Exercise 5.2b: would the next layer fit? (S5.2)")
def check_forsyth_next_layer(fits: Any, *,
                             exercise: str = "Exercise 5.2b: would the next layer fit? (S5.2)") -> Result:
    """Check the side question of Exercise 5.2: does a 4 x 4 convolution fit the unpadded pooled block?

    Examples
    --------
    >>> check_forsyth_next_layer(False).status, check_forsyth_next_layer(True).status
    ('pass', 'fail')
    >>> check_forsyth_next_layer(...).status
    'not attempted'
    """
    if is_stub(fits):
        return not_attempted(exercise, "set `fits_5_2` to True or False.")
    value = {"yes": True, "no": False, "true": True, "false": False}.get(fits.strip().lower()) \
        if isinstance(fits, str) else fits
    if isinstance(value, (bool, np.bool_)):
        value = bool(value)
    if not isinstance(value, bool):
        return not_yet(exercise, f"answer with True or False, got {_short(fits, 40)}.")
    last = _chain(32, lambda n: conv_output_size(n, 3, 2))[-1]
    truth = last >= 4
    if value == truth:
        return passed(exercise, "right: a convolution without padding needs a block at least as large as "
                      "its kernel. Compare with the role of Forsyth's one-sided padding.")
    return not_yet(exercise, "not quite: compare the size after the third pooling (your prediction above) with "
                   "the 4 x 4 kernel. Without padding a kernel must fit entirely inside the block.")


# --------------------------------------------------------------------------------------------
# Exercise: receptive field of a stack of (kernel_size, stride) layers
# --------------------------------------------------------------------------------------------

def _rf_true(stack: Sequence[Tuple[int, int]]) -> int:
    layers = [Layer("conv", k, stride=s) for k, s in stack]
    # a long input so that every layer fits; the receptive field does not depend on it
    return receptive_fields(layers, 4096)[-1].size if layers else 1


def _rf_ignore_stride(stack):
    return 1 + sum(k - 1 for k, _ in stack)


def _rf_stride_too_early(stack):
    r, j = 1, 1
    for k, s in stack:
        j *= s
        r += (k - 1) * j
    return r


def _rf_no_one(stack):
    r, j = 0, 1
    for k, s in stack:
        r += (k - 1) * j
        j *= s
    return r


def _rf_product(stack):
    return int(np.prod([k for k, _ in stack])) if stack else 1


VGG16_TO_POOL5 = ([(3, 1)] * 2 + [(2, 2)]) * 2 + ([(3, 1)] * 3 + [(2, 2)]) * 3


@exercise_check("student_fn", title="Exercise 5.3: the receptive field of a stack (S5.5)")
def check_receptive_field(student_fn, *,
                          exercise: str = "Exercise 5.3: the receptive field of a stack (S5.5)") -> Result:
    """Check ``student_fn(layers)``: receptive field (pixels per axis) of a stack of layers.

    ``layers`` is a list of ``(kernel_size, stride)`` pairs, input first; the
    answer is the size of the last layer's receptive field in input pixels
    (padding does not change it). An empty stack gives 1 (a unit is a pixel).

    Examples
    --------
    >>> def field(layers):
    ...     r, j = 1, 1
    ...     for k, s in layers:
    ...         r, j = r + (k - 1) * j, j * s
    ...     return r
    >>> check_receptive_field(field).status
    'pass'
    >>> r = check_receptive_field(_rf_ignore_stride)
    >>> "stride" in r.details[3]
    True
    """
    stacks = [("three 3 x 3 convs, stride 1 (1 + L(k - 1))", [(3, 1)] * 3),
              ("conv 5 x 5 then 2 x 2 pooling, stride 2 (Forsyth's MNIST net)", [(5, 1), (2, 2)]),
              ("conv 5 x 5 then 3 x 3 pooling, stride 2 (Forsyth's CIFAR net)", [(5, 1), (3, 2)]),
              ("Forsyth's whole MNIST net: conv5, pool2, conv5, pool2, conv4",
               [(5, 1), (2, 2), (5, 1), (2, 2), (4, 1)]),
              ("AlexNet's start: conv 11 stride 4, pool 3 stride 2, conv 5, pool 3 stride 2",
               [(11, 4), (3, 2), (5, 1), (3, 2)]),
              ("VGG-16 up to its last pooling layer", VGG16_TO_POOL5),
              ("an empty stack: one pixel", [])]
    cases = [Case(name, (list(stack),), expected=_rf_true(stack)) for name, stack in stacks]
    by_expected = {}
    for _, stack in stacks:
        by_expected.setdefault(_rf_true(stack), stack)

    def variants(expected):
        stack = by_expected.get(int(expected))
        n = as_number(expected)
        if stack is None:
            return
        yield _rf_ignore_stride(stack), ("the strides were ignored: after a layer with stride s, "
                                         "one step in its output is s steps in the input, so later "
                                         "kernels add (k - 1) times the product of earlier strides.")
        yield _rf_stride_too_early(stack), ("a layer's own stride was applied to its own kernel: "
                                            "multiply the jump by s *after* adding (k - 1) * jump.")
        yield _rf_no_one(stack), "off by one: a unit with no layers sees 1 pixel, so start at r = 1."
        yield _rf_product(stack), "receptive fields grow by adding (k - 1) * jump, not by multiplying kernel sizes."
    return check_function(exercise, student_fn, cases, compare=named_mistakes(variants, compare_exact),
                          hints=["follow one output unit back through the layers, last to first: each layer "
                                 "widens what it sees by (k - 1) steps, and a step is as many input pixels "
                                 "as all the strides *before* that layer multiply to",
                                 "keep two numbers while walking from the input to the output: the field "
                                 "size so far (1 pixel before any layer) and the distance in input pixels "
                                 "between neighbouring units of the current layer (1 at the input); update "
                                 "the size with the old distance, then the distance with the layer's stride"],
                          forbid=["course_lib.receptive_field.receptive_fields",
                                  "course_lib.receptive_field.stack_receptive_field"],
                          forbid_reason="do the bookkeeping yourself")


# --------------------------------------------------------------------------------------------
# Exercise 5.4: how far does the invariance reach?
# --------------------------------------------------------------------------------------------

def _pool2(t):
    import torch.nn.functional as F
    return F.max_pool2d(t, 2)


def _shift_truth(X, shift, measure) -> dict:
    """The measurements of Exercise 5.4, and the unpooled ones (a common slip), computed here."""
    out = {}
    pooled = _pool2(X)
    for s in range(5):
        moved = shift(X, 0, s)
        out[f"shift{s}"] = float(measure(pooled, _pool2(moved)))
        out[f"nopool{s}"] = float(measure(X, moved))
    return out


def _shift_context():
    import torch
    rng = np.random.default_rng(0)
    X = torch.from_numpy((rng.random((4, 1, 12, 12)) > 0.6) * rng.random((4, 1, 12, 12)))

    def shift(t, dy, dx):
        import torch.nn.functional as F
        t = F.pad(t, (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0)))
        h, w = t.shape[-2:]
        return t[..., max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]

    def measure(a, b):
        active = (a != 0) | (b != 0)
        return float(((a == b) & active).sum() / active.sum())
    return dict(X=X, shift=shift, measure=measure)


@exercise_check("results", context=_shift_context, title="Exercise 5.4: how far does the invariance reach? (S5.3)")
def check_pool_shift_experiment(results: Any, X: Any, shift: Any, measure: Any, *,
                                exercise: str = "Exercise 5.4: how far does the invariance reach? (S5.3)") -> Result:
    """Check ``results["shift0"] ... results["shift4"]`` of Exercise 5.4 by redoing the measurement.

    ``X`` is the batch of digits, ``shift(t, dy, dx)`` and ``measure(a, b)``
    (``unchanged_fraction``) are the notebook's own helpers; the check applies
    2 x 2/2 max pooling (``F.max_pool2d(t, 2)``) to the digits and to their
    right-shifted copies, as the task says, and compares within 1e-3. It also
    checks the shape of the result (shift 0 gives 1, values in [0, 1], falling
    with the shift) and names the measurement without pooling.

    Examples
    --------
    >>> ctx = _shift_context()
    >>> truth = _shift_truth(ctx["X"], ctx["shift"], ctx["measure"])
    >>> good = {f"shift{s}": truth[f"shift{s}"] for s in range(5)}
    >>> check_pool_shift_experiment(good, **ctx).status
    'pass'
    >>> check_pool_shift_experiment({f"shift{s}": 0.5 for s in range(5)}, **ctx).status
    'fail'
    """
    keys = [f"shift{s}" for s in range(5)]
    if is_stub(results):
        return not_attempted(exercise, "run your experiment and fill in the results_5_4 dict.")
    truth = _shift_truth(X, shift, measure)

    def shift0_is_one(v):
        if abs(v["shift0"] - 1.0) > 1e-9:
            return ("shift 0 compares the pooled digits with themselves, so every active position is "
                    "unchanged: results_5_4['shift0'] must be 1")

    def falls(v):
        if any(v[a] < v[b] - 1e-9 for a, b in zip(keys, keys[1:])):
            return ("the fractions should not grow with the shift here: a larger shift moves the content "
                    "further from its pooling windows")

    def recomputed(v):
        if all(abs(v[k] - truth[f"nopool{k[5:]}"]) <= 1e-3 for k in keys) and any(
                abs(truth[f"nopool{k[5:]}"] - truth[k]) > 1e-3 for k in keys):
            return ("these are the fractions *without* pooling; pool both the digits and the shifted digits "
                    "with 2 x 2/2 max pooling before comparing them")
        bad = [k for k in keys if abs(v[k] - truth[k]) > 1e-3]
        if bad:
            return (f"{', '.join(bad)} do not match the measurement the check repeats on the same digits "
                    f"(pooled digits against pooled shifted digits, shifted to the right)")
    return check_experiment(exercise, results, keys, ranges={k: (0.0, 1.0) for k in keys},
                            rules=[shift0_is_one, falls, recomputed],
                            hints=["for each shift s, pool the digits X and pool the shifted digits "
                                   "shift(X, 0, s), then compare the two pooled maps with unchanged_fraction",
                                   "one number per shift, stored under the key f\"shift{s}\""],
                            success="Now compare with your prediction below, and open the discussion.")


def _prediction_truth(X, shift, measure) -> Tuple[float, float]:
    pooled2 = float(measure(_pool2(X), _pool2(shift(X, 0, 2))))
    unpooled1 = float(measure(X, shift(X, 0, 1)))
    return pooled2, unpooled1


_CHOICES = ("lower", "about the same", "higher")


@exercise_check("prediction", context=_shift_context, title="Exercise 5.4b: your prediction (S5.3)")
def check_pool_shift_prediction(prediction: Any, X: Any, shift: Any, measure: Any, *,
                                exercise: str = "Exercise 5.4b: your prediction (S5.3)") -> Result:
    """Check the side question of Exercise 5.4 against the measurement on the same digits.

    The pooled 2-pixel value is "about the same" as the unpooled 1-pixel value
    when the two are within a factor 1.5 of each other; "lower" or "higher" is
    accepted too when it states the direction of a difference of more than 5%.

    Examples
    --------
    >>> ctx = _shift_context()
    >>> check_pool_shift_prediction(..., **ctx).status
    'not attempted'
    >>> check_pool_shift_prediction("no idea", **ctx).status
    'fail'
    """
    if is_stub(prediction):
        return not_attempted(exercise, 'set `prediction_5_4` to "lower", "about the same" or "higher".')
    if not isinstance(prediction, str) or prediction.strip().lower() not in _CHOICES:
        return not_yet(exercise, f'answer with one of "lower", "about the same" or "higher"; got '
                       f"{_short(prediction, 40)}.")
    choice = prediction.strip().lower()
    pooled2, unpooled1 = _prediction_truth(X, shift, measure)
    ratio = pooled2 / unpooled1 if unpooled1 > 0 else float("inf")
    ok = {"about the same": 1 / 1.5 <= ratio <= 1.5,
          "lower": ratio < 0.95, "higher": ratio > 1.05}[choice]
    if ok:
        return passed(exercise, "your prediction agrees with the measurement. The discussion below says why.")
    return not_yet(exercise, "the measurement disagrees with your prediction. Look at your results_5_4 value "
                   "for the 2-pixel shift next to section 3's one-pixel value without pooling, and think "
                   "about where the content of each 2 x 2 window goes when the shift equals the stride.")
