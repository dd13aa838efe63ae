"""Checks for the exercises of the chapters "Training an MNIST classifier" and "Classifying CIFAR-10".

The truths are computed here from :mod:`course_lib.models` and
:mod:`course_lib.costs` (never typed in), and each check knows the usual
mistakes: block sizes of the unpadded network, a forgotten ``zero_grad``, the
model picked by training error, a transposed confusion matrix, biases left
out of a count, batch norm's running statistics counted as parameters, an
ascending sort...
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from ..costs import layer_costs
from ..models import PartialConv2d, buduma_cifar, forsyth_mnist
from ..training import count_parameters
from .core import (Case, Result, as_number, check_function, check_value, compare_arrays, exercise_check,
                   is_stub, named_mistakes, not_attempted, not_yet, passed)

__all__ = ["check_block_sizes_32", "check_train_step", "check_model_choice", "check_confusion_reading",
           "check_c3_costs", "check_pool_sizes", "check_bn_parameters", "check_topk_error",
           "check_top_images"]


def _safe_repr(value: Any, limit: int = 80) -> str:
    try:
        text = repr(value)
    except Exception:                 # an object whose repr fails is still an answer to describe
        text = f"a {type(value).__name__}"
    return text if len(text) <= limit else text[:limit] + " ..."


def _spatial_sizes(model: nn.Sequential, shape) -> tuple:
    sizes, x = [], torch.zeros(1, *shape)
    with torch.no_grad():
        for m in model:
            x = m(x)
            if isinstance(m, (nn.Conv2d, nn.MaxPool2d)) and m is not model[-2]:
                sizes.append(int(x.shape[-1]))
    return tuple(sizes)


# ----------------------------------------------------------------------------------------------
# Chapter 8

@exercise_check("answer")
def check_block_sizes_32(answer: Any) -> Result:
    """Exercise 8.1: Forsyth's MNIST network fed 32 x 32 images: (sizes after conv1, pool1, conv2,
    pool2, conv3), and the parameter count.

    Examples
    --------
    >>> check_block_sizes_32(...).status
    'not attempted'
    >>> check_block_sizes_32(((24, 12, 8, 4, 1), 431080)).status
    'fail'
    """
    title = "Exercise 8.1: Forsyth's net on 32 x 32 images (S8.2)"
    if is_stub(answer):
        return not_attempted(title, "replace the `...` with ((five sizes), parameter count).")
    sizes = _spatial_sizes(forsyth_mnist(), (1, 32, 32))
    params = count_parameters(forsyth_mnist())
    expected = (sizes, params)
    same28 = _spatial_sizes(forsyth_mnist(), (1, 28, 28))
    mistakes = [((same28, params), "those are the sizes for 28 x 28 images; start from 32"),
                ((tuple(s + 1 for s in sizes), params), "each size is one too large: a k x k window "
                 "fits n - k + 1 times"),
                ((tuple(-(-n // 1) for n in (32, 16, 16, 8, 8)), params), "no convolution here is "
                 "padded: each 5 x 5 (or 4 x 4) convolution shrinks the block")]
    return check_value(title, answer, expected, mistakes=mistakes, what="your prediction",
                       hints=["a k x k convolution without padding turns n into n - k + 1; a 2 x 2 "
                              "pool with stride 2 halves (rounding down)",
                              "the parameters of a convolution are k * k * C_in * C_out + C_out, "
                              "whatever the input size"],
                       success="The last block is now 2 x 2, not 1 x 1: the 'fully connected' "
                               "layers are convolutions and simply produce a small map.")


def _tiny_net(seed: int) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 4))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    return net


def _reference_steps(batches, *, zero_grad=True, step=True, loss="ce", backward=True):
    net = _tiny_net(0)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for x, y in batches:
        if zero_grad:
            opt.zero_grad()
        out = net(x)
        value = (nn.functional.cross_entropy(out, y) if loss == "ce"
                 else nn.functional.mse_loss(out.softmax(1), nn.functional.one_hot(y, 4).float()))
        if backward:
            value.backward()
        if step:
            opt.step()
        losses.append(value.item())
    return torch.cat([p.detach().flatten() for p in net.parameters()]).numpy(), losses


@exercise_check("train_step")
def check_train_step(train_step: Any) -> Result:
    """Exercise 8.2: ``train_step(model, optimizer, images, labels)`` does one step and returns the loss.

    The check runs three steps on a tiny network with SGD + momentum and
    compares the parameters and the returned losses with a reference.

    Examples
    --------
    >>> def good(model, optimizer, images, labels):
    ...     optimizer.zero_grad()
    ...     loss = nn.functional.cross_entropy(model(images), labels)
    ...     loss.backward()
    ...     optimizer.step()
    ...     return loss.item()
    >>> check_train_step(good).status
    'pass'
    """
    title = "Exercise 8.2: one training step (S8.5)"
    if is_stub(train_step):
        return not_attempted(title, "replace the `...` with your function.")
    if not callable(train_step):
        return not_yet(title, f"expected a function, got a {type(train_step).__name__}.")
    g = torch.Generator().manual_seed(1)
    batches = [(torch.randn(5, 1, 6, 6, generator=g), torch.randint(0, 4, (5,), generator=g)) for _ in range(3)]
    net = _tiny_net(0)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for i, (x, y) in enumerate(batches):
        try:
            out = train_step(net, opt, x.clone(), y.clone())
        except NotImplementedError:
            return not_attempted(title, "the function still raises NotImplementedError.")
        except Exception as err:
            return not_yet(title, f"step {i + 1} raised {type(err).__name__}: {str(err)[:200]}")
        value = as_number(out.detach() if isinstance(out, torch.Tensor) and out.numel() == 1 else out)
        if value is None:
            return not_yet(title, f"step {i + 1} returned {type(out).__name__}; return the loss "
                           f"as a number (loss.item()) or a one-element tensor.")
        losses.append(value)
    got = torch.cat([p.detach().flatten() for p in net.parameters()]).numpy()
    ref, ref_losses = _reference_steps(batches)
    if compare_arrays(got, ref, rtol=1e-4, atol=1e-6) is None:
        if not np.allclose(losses, ref_losses, rtol=1e-4, atol=1e-6):
            return not_yet(title, "the parameters are updated correctly, but the returned values are not "
                           "the mini-batch losses (return the cross-entropy of this batch, computed "
                           "before the update).")
        return passed(title, "three steps with SGD and momentum give the reference parameters and losses.")
    variants = [(dict(zero_grad=False), "the gradients accumulate from step to step: clear them "
                 "(optimizer.zero_grad()) before backward()"),
                (dict(step=False), "the parameters never change: the optimiser must take its step "
                 "after backward()"),
                (dict(backward=False), "no gradients reach the parameters: call backward() on the loss"),
                (dict(loss="mse"), "that is a squared error on the probabilities; a classifier is trained "
                 "with the cross-entropy of the logits")]
    for kwargs, message in variants:
        if compare_arrays(got, _reference_steps(batches, **kwargs)[0], rtol=1e-4, atol=1e-6) is None:
            return not_yet(title, "after three steps the parameters differ from the reference.",
                           [f"problem:  {message}"])
    return not_yet(title, "after three steps the parameters differ from the reference.",
                   hints=["a step is: clear old gradients, forward, loss, backward, optimiser step",
                          "use the cross-entropy of the model's outputs and the labels, and do not "
                          "change the learning rate inside the step"])


@exercise_check("answer", context=lambda: dict(val_errors={"a": [0.3, 0.2], "b": [0.25, 0.22]},
                                               train_errors={"a": [0.2, 0.1], "b": [0.1, 0.05]}))
def check_model_choice(answer: Any, val_errors: Mapping[str, Sequence[float]],
                       train_errors: Mapping[str, Sequence[float]]) -> Result:
    """Exercise 8.3: pick (variant, epoch) by validation error; epochs count from 1.

    Examples
    --------
    >>> v = {"plain": [0.3, 0.2, 0.25], "momentum": [0.2, 0.15, 0.18]}
    >>> t = {"plain": [0.3, 0.1, 0.05], "momentum": [0.2, 0.1, 0.02]}
    >>> check_model_choice(("momentum", 2), v, t).status
    'pass'
    >>> "training" in str(check_model_choice(("momentum", 3), v, t))
    True
    """
    title = "Exercise 8.3: choose a model on the validation split (S8.9)"
    if is_stub(answer):
        return not_attempted(title, "replace the `...` with a tuple (variant name, epoch).")
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return not_yet(title, f"expected a tuple (variant name, epoch), got {_safe_repr(answer)}.")
    name, epoch = answer
    if not isinstance(name, str) or name not in val_errors:
        return not_yet(title, f"{_safe_repr(name, 60)} is not one of the variants {sorted(val_errors)}.")
    ep = as_number(epoch)
    n_ep = len(val_errors[name])
    if ep is None or not float(ep).is_integer() or not 1 <= ep <= n_ep:
        return not_yet(title, f"the epoch must be a whole number from 1 to {n_ep} (epochs count from 1).")
    ep = int(ep)
    best = min(((v, k, e + 1) for k, vs in val_errors.items() for e, v in enumerate(vs)))
    if abs(val_errors[name][ep - 1] - best[0]) <= 1e-12:
        return passed(title, "that (variant, epoch) has the lowest validation error; the test split "
                      "was not needed to choose it.")
    by_train = min(((v, k, e + 1) for k, vs in train_errors.items() for e, v in enumerate(vs)))
    last = min(((vs[-1], k, len(vs)) for k, vs in val_errors.items()))
    if (name, ep) == by_train[1:]:
        problem = ("that is the lowest *training* error: it rewards memorising the training images; "
                   "choose by the validation error")
    elif (name, ep) == last[1:]:
        problem = ("that is the best variant at the last epoch; an earlier epoch of some run has a lower "
                   "validation error (early stopping)")
    elif name == best[1]:
        problem = "right variant, but another epoch of it has a lower validation error"
    else:
        problem = "another (variant, epoch) has a lower validation error"
    return not_yet(title, "that is not the choice the validation split supports.", [f"problem:  {problem}"],
                   hints=["look at every epoch of every variant, not only the last one",
                          "the quantity to minimise is val_errors[variant][epoch - 1]"])


@exercise_check("answer", context=lambda: dict(cm=np.array([[5, 2], [0, 7]])))
def check_confusion_reading(answer: Any, cm: Any) -> Result:
    """Exercise 8.4: (true class, predicted class) of the most frequent mistake in a confusion matrix
    whose rows are true classes and columns predicted classes.

    Examples
    --------
    >>> cm = np.array([[50, 1, 0], [7, 40, 2], [0, 3, 45]])
    >>> check_confusion_reading((1, 0), cm).status
    'pass'
    >>> "transposed" in str(check_confusion_reading((0, 1), cm)) or "rows" in str(check_confusion_reading((0, 1), cm))
    True
    """
    title = "Exercise 8.4: read the confusion matrix (S8.6)"
    if is_stub(answer):
        return not_attempted(title, "replace the `...` with a tuple (true class, predicted class).")
    m = np.asarray(cm.detach().cpu().numpy() if hasattr(cm, "detach") else cm, dtype=float)
    off = m.copy()
    np.fill_diagonal(off, -np.inf)
    i, j = np.unravel_index(int(np.argmax(off)), off.shape)
    diag = int(np.argmax(np.diag(m)))
    mistakes = [((int(j), int(i)), "rows and columns are swapped: a row is the TRUE class, a column the "
                 "PREDICTED class"),
                ((diag, diag), "that is a diagonal entry, the images classified correctly; look off "
                 "the diagonal")]
    return check_value(title, answer, (int(i), int(j)), mistakes=mistakes, what="your reading",
                       hints=["the most frequent mistake is the largest entry off the diagonal",
                              "answer (row index, column index) of that entry"])


@exercise_check("answer")
def check_c3_costs(answer: Any) -> Result:
    """Exercise 8.5: a C3 in which each of the 16 maps reads 3 of the 6 S2 maps (5 x 5 kernels,
    10 x 10 outputs, one bias per map): (weights, connections), biases included.

    Examples
    --------
    >>> check_c3_costs(...).status
    'not attempted'
    """
    title = "Exercise 8.5: the cost of a sparser C3 (S8.3)"
    if is_stub(answer):
        return not_attempted(title, "replace the `...` with a tuple (weights, connections).")
    table = [tuple((j + i) % 6 for i in range(3)) for j in range(16)]
    row = layer_costs(nn.Sequential(PartialConv2d(6, table, 5)), (6, 14, 14))[0]
    expected = (row.weights, row.connections)
    no_bias = layer_costs(nn.Sequential(PartialConv2d(6, table, 5)), (6, 14, 14), count_bias=False)[0]
    full = layer_costs(nn.Sequential(nn.Conv2d(6, 16, 5)), (6, 14, 14))[0]
    mistakes = [((no_bias.weights, no_bias.connections), "the biases are missing (one weight per map, "
                 "and one connection per unit)"),
                ((full.weights, full.connections), "that is a fully connected C3: here each map reads "
                 "only 3 input maps"),
                ((row.weights, row.weights), "connections are counted per output unit: a shared "
                 "kernel is one set of weights but is used at every position"),
                ((row.weights, no_bias.connections), "the connections miss the bias connection of each unit")]
    return check_value(title, answer, expected, mistakes=mistakes, what="your count",
                       hints=["weights: each map has 3 kernels of 5 x 5 plus one bias",
                              "connections: every one of the 16 x 10 x 10 units reads 3 x 5 x 5 inputs "
                              "plus its bias"])


# ----------------------------------------------------------------------------------------------
# Chapter 9

@exercise_check("answer")
def check_pool_sizes(answer: Any) -> Result:
    """Exercise 9.1: sizes after Forsyth's three 3 x 3 stride-2 pools (32, 16 and 8 going in), with the
    extra right column and bottom row, and without: ((a, b, c), (d, e, f)).

    Examples
    --------
    >>> check_pool_sizes(((16, 8, 4), (15, 7, 3))).status
    'pass'
    >>> check_pool_sizes(((16, 8, 4), (16, 8, 4))).status
    'fail'
    """
    title = "Exercise 9.1: pooling with and without the extra row and column (S9.1)"
    if is_stub(answer):
        return not_attempted(title, "replace the `...` with ((three sizes with the pad), (three without)).")
    def out(n, pad):
        return (n + pad - 3) // 2 + 1
    expected = (tuple(out(n, 1) for n in (32, 16, 8)), tuple(out(n, 0) for n in (32, 16, 8)))
    ceil = tuple(-(-(n - 3) // 2) + 1 for n in (32, 16, 8))
    mistakes = [((expected[0], expected[0]), "without the extra row and column the 3 x 3 window fits one "
                 "time fewer: floor((n - 3) / 2) + 1"),
                ((expected[1], expected[0]), "the two tuples are swapped"),
                (((16, 8, 4), ceil), "that uses a ceiling; torch (and the formula) round down"),
                (((16, 8, 4), (16, 8, 4)), "without the extra row and column the 3 x 3 window fits one "
                 "time fewer: floor((n - 3) / 2) + 1")]
    return check_value(title, answer, expected, mistakes=mistakes, what="your sizes",
                       hints=["the output size of pooling is floor((n + pad - k) / s) + 1",
                              "with the extra column n becomes n + 1 before the pool"])


@exercise_check("answer")
def check_bn_parameters(answer: Any) -> Result:
    """Exercise 9.2: (trainable parameters, batch-norm buffer values) of Buduma's CIFAR net with batch norm.

    Examples
    --------
    >>> check_bn_parameters(...).status
    'not attempted'
    """
    title = "Exercise 9.2: what batch norm adds (S9.4)"
    if is_stub(answer):
        return not_attempted(title, "replace the `...` with a tuple (parameters, buffer values).")
    net = buduma_cifar(batch_norm=True)
    params = count_parameters(net)
    buffers = sum(b.numel() for name, b in net.named_buffers() if not name.endswith("num_batches_tracked"))
    plain = count_parameters(buduma_cifar())
    mistakes = [((params + buffers, buffers), "the running mean and variance are buffers, not trainable "
                 "parameters"),
                ((plain, buffers), "batch norm's gamma and beta are trainable parameters: two per channel"),
                ((params + 20, buffers + 20), "the builder puts no batch norm on the 10 logits (Buduma's "
                 "code does, erratum E18)"),
                ((params, buffers // 2), "each channel keeps two running statistics, mean and variance"),
                ((params - (params - plain) // 2, buffers), "each batch norm channel has two parameters, "
                 "gamma and beta")]
    return check_value(title, answer, (params, buffers), mistakes=mistakes, what="your count",
                       hints=["batch norm sits after conv1, conv2, fc1 and fc2 (64, 64, 384 and 192 channels)",
                              "per channel: gamma and beta are trained; the running mean and variance are not"])


def _topk_error(logits: np.ndarray, labels: np.ndarray, k: int) -> float:
    top = np.argsort(-logits, axis=1, kind="stable")[:, :k]
    return float((top != labels[:, None]).all(axis=1).mean())


def _topk_cases():
    rng = np.random.default_rng(9)
    cases = []
    for n, c, k in [(6, 10, 1), (50, 10, 5), (40, 7, 3), (1, 10, 10)]:
        logits = rng.normal(size=(n, c))
        labels = rng.integers(0, c, size=n)
        cases.append(Case(f"{n} images, {c} classes, k={k}", (logits, labels, k),
                          expected=_topk_error(logits, labels, k)))
    return cases


@exercise_check("topk_error")
def check_topk_error(topk_error: Any) -> Result:
    """Exercise 9.3: ``topk_error(logits, labels, k)``, the fraction of images whose label is not
    among the k largest scores (NumPy arrays (N, K) and (N,)).

    Examples
    --------
    >>> def good(logits, labels, k):
    ...     top = np.argsort(-logits, axis=1)[:, :k]
    ...     return float((top != labels[:, None]).all(axis=1).mean())
    >>> check_topk_error(good).status
    'pass'
    """
    cases = _topk_cases()

    def variants(expected):
        for case in cases:
            if case.expected == expected:
                logits, labels, k = case.args
                yield 1 - expected, "that is the top-k accuracy; the error is 1 minus it"
                yield _topk_error(-logits, labels, k), "those are the k SMALLEST scores: sort descending"
                yield float((np.argsort(-logits, axis=1)[:, :k] != labels[:, None]).all(axis=1).sum()), \
                    "that is a count; return the fraction of images"
    return check_function("Exercise 9.3: top-k error (S9.1)", topk_error, cases,
                          compare=named_mistakes(variants, lambda g, e: compare_arrays(g, e, rtol=1e-9)),
                          hints=["take the indices of the k largest scores of each row",
                                 "an image counts as an error when none of its k indices equals its label"])


def _top_images_cases():
    rng = np.random.default_rng(3)
    cases = []
    for n, u, unit, k in [(20, 5, 2, 4), (30, 8, 0, 10), (12, 3, 2, 1)]:
        scores = rng.permutation(n * u).reshape(n, u).astype(float)
        cases.append(Case(f"{n} images, {u} units, unit {unit}, n={k}", (scores, unit, k),
                          expected=np.argsort(-scores[:, unit], kind="stable")[:k]))
    return cases


@exercise_check("top_images")
def check_top_images(top_images: Any) -> Result:
    """Exercise 9.4: ``top_images(scores, unit, n)``: indices of the n images (rows of ``scores``,
    shape (N, U)) with the largest response of ``unit``, strongest first.

    Examples
    --------
    >>> check_top_images(lambda scores, unit, n: np.argsort(-scores[:, unit])[:n]).status
    'pass'
    >>> "ascending" in str(check_top_images(lambda scores, unit, n: np.argsort(scores[:, unit])[:n]))
    True
    """
    cases = _top_images_cases()

    def variants(expected):
        for case in cases:
            if np.array_equal(case.expected, expected):
                scores, unit, k = case.args
                yield np.argsort(scores[:, unit])[:k], "those are the WEAKEST responses (ascending sort)"
                yield np.argsort(scores[:, unit])[::-1][:k][::-1], "right images, but the order is " \
                    "reversed: strongest first"
                if unit < scores.shape[0]:
                    yield np.argsort(-scores[unit, :])[:k], "that sorts a row (one image's units); a " \
                        "unit's responses are a column"
    return check_function("Exercise 9.4: the images that excite a unit most (S9.3)", top_images, cases,
                          compare=named_mistakes(variants, lambda g, e: compare_arrays(g, e, rtol=0, atol=0)),
                          hints=["a unit's responses to all images are one column, scores[:, unit]",
                                 "sort that column in descending order and keep the first n indices"])
