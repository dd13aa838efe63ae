"""Checks for the exercises of the chapter "Images and the classification problem".

Each check knows the usual mistakes (``reshape`` where a transpose is needed,
pixel values left in 0..255, the true class counted in the hinge sum, torch's
division by the number of classes, correct answers counted instead of errors,
...) and names the mistake when a wrong answer matches it.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional, Tuple

import numpy as np
import torch

from ..linear import multiclass_hinge_loss
from ..training import topk_errors
from .core import FAIL, PASS, Case, Result, check_function, compare_arrays, compare_exact, is_stub

__all__ = ["check_to_nchw", "check_batch_memory", "check_hinge_loss", "check_topk_prediction"]


# ----------------------------------------------------------------------------------------------
# expected answers that carry the known wrong answers with them

class _Array(np.ndarray):
    """An ndarray (the right answer) that also carries known wrong answers and what they mean."""
    wrong: Tuple[Tuple[np.ndarray, str], ...] = ()


def _expect_array(value: np.ndarray, wrong: Iterable[Tuple[Optional[np.ndarray], str]]) -> _Array:
    arr = np.asarray(value).view(_Array)
    arr.wrong = tuple((np.asarray(v), m) for v, m in wrong if v is not None)
    return arr


class _Float(float):
    """A float (the right answer) that also carries known wrong answers and what they mean."""
    wrong: Tuple[Tuple[float, str], ...]

    def __new__(cls, value: float, wrong: Iterable[Tuple[Optional[float], str]] = ()):
        obj = super().__new__(cls, value)
        obj.wrong = tuple((float(v), m) for v, m in wrong
                          if v is not None and not np.isclose(v, value, rtol=1e-6, atol=1e-9))
        return obj


def _named_mistakes(got: Any, expected: Any, compare) -> list:
    return list(dict.fromkeys(m for v, m in getattr(expected, "wrong", ()) if compare(got, v) is None))


# ----------------------------------------------------------------------------------------------
# HWC uint8 -> NCHW float

def _as_numpy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return value


def _compare_nchw(got: Any, expected: Any) -> Optional[str]:
    got = _as_numpy(got)
    if got is None or got is Ellipsis:
        return "nothing came back (did you forget `return`?)"
    if not isinstance(got, np.ndarray):
        return f"the result is a {type(got).__name__}; return a NumPy array (or a torch tensor)"
    if not np.issubdtype(got.dtype, np.floating):
        return (f"the result has dtype {got.dtype}; convert to float (e.g. .astype(np.float32)) "
                f"before or while scaling to [0, 1]")
    reason = compare_arrays(got, np.asarray(expected), rtol=1e-5, atol=1e-6)
    if reason is None:
        return None
    mistakes = _named_mistakes(got, expected, lambda g, v: compare_arrays(g, v, rtol=1e-5, atol=1e-6))
    return f"{reason}: " + "; or ".join(mistakes) if mistakes else reason


def _nchw_wrong_variants(images: np.ndarray) -> list:
    """Plausible wrong outputs of an HWC -> NCHW float conversion for one input batch."""
    x = images if images.ndim == 4 else images[..., None]                   # (N, H, W, C)
    n, h, w, c = x.shape
    f = x.astype(np.float64)
    right = np.transpose(f, (0, 3, 1, 2)) / 255.0
    wrong = [(f.reshape(n, c, h, w) / 255.0,
              "right shape, scrambled values: reshape keeps the memory order (pixel by pixel, "
              "colours interleaved); move the channel axis with transpose/np.moveaxis instead"),
             (np.transpose(f, (0, 3, 1, 2)),
              "values are still in 0..255: divide by 255 to get floats in [0, 1]"),
             (np.transpose(f, (0, 3, 1, 2)) / 256.0,
              "divided by 256: the brightest uint8 value is 255, which must become exactly 1.0"),
             (np.transpose(f, (0, 3, 2, 1)) / 255.0,
              "height and width are swapped: the axis order is (N, C, H, W), e.g. "
              "transpose(0, 3, 1, 2)"),
             (f / 255.0, "the channels are still last (N, H, W, C); PyTorch wants (N, C, H, W)"),
             (np.transpose(f, (3, 0, 1, 2)) / 255.0,
              "this is (C, N, H, W): the batch axis must stay first")]
    if images.ndim == 3:
        wrong.append((images.astype(np.float64) / 255.0,
                      "a grey batch (N, H, W) needs a channel axis of size 1: (N, 1, H, W)"))
    return wrong


def check_to_nchw(student_fn) -> Result:
    """Check ``student_fn(images)``: uint8 (N, H, W, C) or grey (N, H, W) -> float (N, C, H, W) in [0, 1].

    Examples
    --------
    >>> def right(images):
    ...     x = images if images.ndim == 4 else images[..., None]
    ...     return np.transpose(x, (0, 3, 1, 2)).astype(np.float32) / 255
    >>> check_to_nchw(right).status
    'pass'
    >>> r = check_to_nchw(lambda im: im.reshape(im.shape[0], im.shape[3], im.shape[1], im.shape[2]) / 255)
    >>> "reshape" in r.details[3]
    True
    """
    rng = np.random.default_rng(11)
    inputs = [("a batch of 2 RGB images, 4 x 5", rng.integers(0, 256, (2, 4, 5, 3), dtype=np.uint8)),
              ("one RGB image, 6 x 3 (taller than wide)", rng.integers(0, 256, (1, 6, 3, 3), dtype=np.uint8)),
              ("black and white pixels: 0 -> 0.0, 255 -> 1.0",
               np.array([[[[0, 255, 0], [255, 255, 255]]]], dtype=np.uint8)),
              ("a grey batch (N, H, W) of 3 images, 4 x 4", rng.integers(0, 256, (3, 4, 4), dtype=np.uint8)),
              ("a CIFAR-sized batch, 5 x 32 x 32 x 3", rng.integers(0, 256, (5, 32, 32, 3), dtype=np.uint8))]
    cases = []
    for name, images in inputs:
        x = images if images.ndim == 4 else images[..., None]
        right = np.transpose(x, (0, 3, 1, 2)).astype(np.float64) / 255.0
        cases.append(Case(name, (images.copy(),),
                          expected=_expect_array(right, _nchw_wrong_variants(images)),
                          hint="add a channel axis to grey batches, move the channel axis from last to "
                               "second (transpose(0, 3, 1, 2)), convert to float and divide by 255"))
    return check_function("Exercise 1.1: uint8 HWC to float NCHW (S1.1)", student_fn, cases,
                          compare=_compare_nchw,
                          success="Your batches are ready for torch.nn.Conv2d.")


# ----------------------------------------------------------------------------------------------
# shape and memory of a batch

def check_batch_memory(shape: Any, nbytes_uint8: Any, nbytes_float32: Any, *, n: int = 64,
                       channels: int = 3, height: int = 32, width: int = 32,
                       exercise: str = "Exercise 1.2: shape and memory of a batch (S1.1)") -> Result:
    """Check a predicted NCHW shape and byte counts (uint8 and float32) of a batch of images.

    Parameters
    ----------
    shape : tuple of 4 ints
        The predicted (N, C, H, W), or ``...`` while not attempted.
    nbytes_uint8, nbytes_float32 : int
        The predicted sizes in bytes of the batch stored as uint8 and as float32.
    n, channels, height, width : int
        The batch (default: 64 CIFAR-10 images).

    Examples
    --------
    >>> check_batch_memory((64, 3, 32, 32), 196608, 786432).status
    'pass'
    >>> r = check_batch_memory((64, 32, 32, 3), 196608, 786432)
    >>> "channels" in str(r)
    True
    """
    answers = (shape, nbytes_uint8, nbytes_float32)
    if any(is_stub(a) for a in answers):
        return Result(exercise, "not attempted", "replace each `...` with your prediction.")
    right_shape = (n, channels, height, width)
    values = n * channels * height * width
    # shape
    reason = compare_exact(tuple(shape) if isinstance(shape, (list, tuple, torch.Size)) else shape,
                           right_shape)
    if reason is not None:
        hints = {(n, height, width, channels): "the channels are last (N, H, W, C), the layout of "
                                                "image files; PyTorch wants (N, C, H, W)",
                 (channels, height, width): "the batch axis N is missing: a batch is 4D",
                 (n, channels, width, height): "height and width are swapped: (N, C, H, W)",
                 (channels, n, height, width): "the batch axis comes first: (N, C, H, W)"}
        hint = hints.get(tuple(shape) if isinstance(shape, (list, tuple)) else None,
                         "N images, C colour channels, H rows, W columns, in that order")
        return Result(exercise, FAIL, "the shape is not right yet.",
                      [f"expected: {right_shape}", f"got:      {shape!r}", f"hint:     {hint}"])
    for got, per_value, name in ((nbytes_uint8, 1, "uint8"), (nbytes_float32, 4, "float32")):
        right = values * per_value
        reason = compare_exact(got, right)
        if reason is None:
            continue
        hint = f"one value per pixel per channel per image ({values:,} values), {per_value} byte(s) each"
        if isinstance(got, (int, float)) and values:
            ratio = got / values
            if name == "float32" and ratio == 8:
                hint = "8 bytes per value is float64; float32 takes 4"
            elif name == "float32" and ratio == 1:
                hint = "a float32 value takes 4 bytes, not 1"
            elif name == "float32" and ratio == 32:
                hint = "float32 is 32 *bits* = 4 bytes per value"
            elif name == "uint8" and ratio == 8:
                hint = "uint8 is 8 *bits* = 1 byte per value"
            elif got * channels == right:
                hint = "the channels are missing: every pixel stores C values"
            elif got * n == right:
                hint = f"that is one image; the batch has {n}"
        return Result(exercise, FAIL, f"the {name} size is not right yet.",
                      [f"expected: {right:,} bytes", f"got:      {got!r}", f"hint:     {hint}"])
    return Result(exercise, PASS, f"shape {right_shape}, {values:,} bytes as uint8 and "
                  f"{4 * values:,} bytes as float32: converting to float multiplies memory by 4.")


# ----------------------------------------------------------------------------------------------
# multiclass hinge loss

def _compare_float(got: Any, expected: Any) -> Optional[str]:
    got = _as_numpy(got)
    if got is None or got is Ellipsis:
        return "nothing came back (did you forget `return`?)"
    if isinstance(got, np.ndarray) and got.ndim > 0:
        return (f"got an array of shape {got.shape}; return one number, the mean loss over the "
                f"examples")
    try:
        value = float(got)
    except (TypeError, ValueError):
        return f"the result is a {type(got).__name__}, not a number"
    if np.isclose(value, float(expected), rtol=1e-6, atol=1e-9):
        return None
    reason = f"got {value:.6g}, expected {float(expected):.6g}"
    mistakes = _named_mistakes(value, expected,
                               lambda g, v: None if np.isclose(g, v, rtol=1e-6, atol=1e-9) else "no")
    return f"{reason}: " + "; or ".join(mistakes) if mistakes else reason


def _hinge_wrong_variants(scores: np.ndarray, labels: np.ndarray, margin: float) -> list:
    n, k = scores.shape
    rows = np.arange(n)
    correct = scores[rows, labels][:, None]
    raw = scores - correct + margin
    hinge = np.maximum(0.0, raw)
    others = np.ones_like(scores, dtype=bool)
    others[rows, labels] = False
    right = (hinge * others).sum(1).mean()
    return [
        ((hinge.sum(1)).mean(),
         "the true class is in the sum: it always adds max(0, margin) = margin; skip j = y_i"),
        (right / k, "divided by the number of classes K, as torch.nn.MultiMarginLoss does; the "
                    "slides' loss sums over the wrong classes without dividing"),
        (right * n, "that is the sum over examples; return the mean"),
        ((hinge * others).max(1).mean(),
         "that takes the largest violation per example (max over j); the slides' loss sums over all "
         "wrong classes j"),
        ((raw * others).sum(1).mean(),
         "the max(0, .) is missing: classes that are already beaten by more than the margin must "
         "contribute 0, not a negative number"),
        ((np.maximum(0.0, scores - correct + 1.0) * others).sum(1).mean(),
         "the margin argument is ignored (1 is hard-coded)"),
        ((np.maximum(0.0, correct - scores + margin) * others).sum(1).mean(),
         "the sign is flipped: a wrong class j costs max(0, s_j - s_y + margin)"),
    ]


def check_hinge_loss(student_fn) -> Result:
    """Check ``student_fn(scores, labels, margin)``: mean multiclass hinge loss, slides' definition.

    ``L = mean_i sum_{j != y_i} max(0, s_ij - s_iy_i + margin)``, compared with
    :func:`course_lib.linear.multiclass_hinge_loss`.

    Examples
    --------
    >>> from course_lib.linear import multiclass_hinge_loss
    >>> check_hinge_loss(lambda s, y, margin: multiclass_hinge_loss(s, y, margin)).status
    'pass'
    >>> r = check_hinge_loss(lambda s, y, margin: np.maximum(0, s - s[np.arange(len(y)), y][:, None]
    ...                                                       + margin).sum(1).mean())
    >>> "true class" in r.details[3]
    True
    """
    rng = np.random.default_rng(7)
    settings = [
        ("one image, three classes (cat, car, frog)", np.array([[3.0, 5.0, -1.0]]), np.array([0]), 1.0),
        ("two images, one already classified with a safe margin",
         np.array([[3.0, 5.0, -1.0], [1.0, 0.5, 4.0]]), np.array([0, 2]), 1.0),
        ("8 images, 10 classes, random scores", np.round(rng.standard_normal((8, 10)), 2),
         rng.integers(0, 10, 8), 1.0),
        ("margin 2", np.round(2 * rng.standard_normal((6, 5)), 2), rng.integers(0, 5, 6), 2.0),
        ("margin 0.5, ties between classes", np.array([[1.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]]),
         np.array([1, 3]), 0.5),
        ("every true score wins by more than the margin: loss 0",
         np.array([[5.0, 1.0, 0.0], [0.0, 4.0, 2.5]]), np.array([0, 1]), 1.0),
        ("a big batch (loop-free code is fast here)", np.round(rng.standard_normal((5000, 10)), 3),
         rng.integers(0, 10, 5000), 1.0),
    ]
    cases = []
    for name, s, y, m in settings:
        right = multiclass_hinge_loss(s, y, m)
        cases.append(Case(name, (s.copy(), y.copy()), {"margin": m},
                          expected=_Float(right, _hinge_wrong_variants(s, y, m)),
                          hint="for each image: sum over the wrong classes j of max(0, s_j - s_y + "
                               "margin); then average over the images"))
    return check_function("Exercise 1.3: multiclass hinge loss (S1.6)", student_fn, cases,
                          compare=_compare_float,
                          success="This is the SVM loss of the lecture slides.")


# ----------------------------------------------------------------------------------------------
# top-1 / top-5 prediction

def check_topk_prediction(answer: Any, scores: Any, labels: Any, *,
                          exercise: str = "Exercise 1.4: predict top-1 and top-5 errors (S1.7)") -> Result:
    """Check a predicted ``(top1_errors, top5_errors)`` count for a score table.

    The truth comes from :func:`course_lib.training.topk_errors`.

    Parameters
    ----------
    answer : tuple of 2 ints
        Number of images whose true class is not the top score, and not among the 5 top scores.
    scores : array, shape (N, K)
    labels : array of int, shape (N,)

    Examples
    --------
    >>> s = np.array([[0.1, 0.9, 0.0, 0.2, 0.3, 0.4, 0.5]] * 2); y = np.array([1, 2])
    >>> check_topk_prediction((1, 1), s, y).status
    'pass'
    >>> "correct" in str(check_topk_prediction((1, 2), s, np.array([1, 3])))  # truth: (1, 0)
    True
    """
    if is_stub(answer):
        return Result(exercise, "not attempted", "replace the `...` with your two counts.")
    s = torch.as_tensor(np.asarray(scores, dtype=np.float64))
    y = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    n = len(y)
    errs = topk_errors(s, y, ks=(1, 5))
    right = (errs[1], errs[5])
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return Result(exercise, FAIL, f"expected a pair (top1_errors, top5_errors), got {answer!r}.")
    got = tuple(answer)
    if all(compare_exact(g, r) is None for g, r in zip(got, right)):
        return Result(exercise, PASS, f"{right[0]} of {n} images miss at top-1 and {right[1]} at top-5 "
                      f"(error rates {right[0] / n:.0%} and {right[1] / n:.0%}).")
    low = topk_errors(-s, y, ks=(1, 5))
    known = [((n - right[0], n - right[1]), "those are the counts of *correct* images; the error "
                                            "counts the images where the true class is missed"),
             ((right[0] / n, right[1] / n), "those are error *rates*; give the counts of images"),
             ((right[1], right[0]), "top-1 and top-5 are swapped: top-5 error can never exceed "
                                    "top-1 error"),
             ((low[1], low[5]), "that ranks the *lowest* scores first; the top-k are the k highest "
                                "scores")]
    hint = ("for each image, sort the scores from highest to lowest: a top-1 error when the true class "
            "is not first, a top-5 error when it is not among the first five")
    for value, message in known:
        if all(np.isclose(float(g), float(v)) for g, v in zip(got, value)) and value != right:
            hint = message
            break
    else:
        if got[0] is not None and got[1] is not None and float(got[1]) > float(got[0]):
            hint = "top-5 error can never exceed top-1 error: a top-1 hit is also a top-5 hit"
    return Result(exercise, FAIL, "your counts are not right yet.",
                  [f"expected: a pair (top1_errors, top5_errors) of counts out of {n}",
                   f"got:      {got!r}", f"hint:     {hint}"])
