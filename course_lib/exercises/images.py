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
from .core import (FAIL, PASS, Case, Result, _short, as_number, check_experiment, check_function, compare_arrays,
                   compare_exact, exercise_check, is_stub, not_attempted, not_yet, passed, same_value)

__all__ = ["check_to_nchw", "check_batch_memory", "check_hinge_loss", "check_topk_prediction",
           "check_shift_augmentation"]


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


@exercise_check("student_fn", title="Exercise 1.1: from image files to a PyTorch batch (S1.1)")
def check_to_nchw(student_fn, *, exercise: str = "Exercise 1.1: from image files to a PyTorch batch (S1.1)") -> Result:
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
                          expected=_expect_array(right, _nchw_wrong_variants(images))))
    return check_function(exercise, student_fn, cases, compare=_compare_nchw,
                          success="Your batches are ready for torch.nn.Conv2d.",
                          hints=["three things change: the channel axis moves from last to second (a grey "
                                 "batch first gets a channel axis of size 1), the dtype becomes float, and "
                                 "the values are scaled to [0, 1]",
                                 "moving an axis is a transpose (or np.moveaxis), not a reshape; the "
                                 "brightest uint8 value, 255, must become 1.0"])


# ----------------------------------------------------------------------------------------------
# shape and memory of a batch

@exercise_check("shape", "nbytes_uint8", "nbytes_float32", title="Exercise 1.2: predict the shape and the memory of a batch (S1.1)")
def check_batch_memory(shape: Any, nbytes_uint8: Any, nbytes_float32: Any, *, n: int = 64,
                       channels: int = 3, height: int = 32, width: int = 32,
                       exercise: str = "Exercise 1.2: predict the shape and the memory of a batch (S1.1)") -> Result:
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
        return not_attempted(exercise, "replace each `...` with your prediction.")
    right_shape = (n, channels, height, width)
    values = n * channels * height * width
    hints = ["a PyTorch batch is (N, C, H, W); the memory is the number of values times the bytes per value",
             "uint8 takes 1 byte per value and float32 takes 4 (32 bits)"]
    problems = []
    if is_stub(shape):
        problems.append("shape: still `...`")
    elif not same_value(shape, right_shape):
        known = {(n, height, width, channels): "the channels are last (N, H, W, C), the layout of image "
                                               "files; PyTorch wants (N, C, H, W)",
                 (channels, height, width): "the batch axis N is missing: a batch is 4D",
                 (n, channels, width, height): "height and width are swapped: (N, C, H, W)",
                 (channels, n, height, width): "the batch axis comes first: (N, C, H, W)"}
        hint = next((m for v, m in known.items() if v != right_shape and same_value(shape, v)),
                    "N images, C colour channels, H rows, W columns, in that order")
        problems.append(f"shape: got {_short(shape, 60)}: {hint}")
    for got, per_value, name in ((nbytes_uint8, 1, "uint8"), (nbytes_float32, 4, "float32")):
        right = values * per_value
        if is_stub(got):
            problems.append(f"{name} size: still `...`")
            continue
        if same_value(got, right):
            continue
        x = as_number(got)
        hint = "count the values, then the bytes each one takes"
        if x is None:
            hint = "give a whole number of bytes"
        elif values:
            ratio = x / values
            if name == "float32" and ratio == 8:
                hint = "8 bytes per value is float64; float32 takes 4"
            elif name == "float32" and ratio == 1:
                hint = "a float32 value takes 4 bytes, not 1"
            elif name == "float32" and ratio == 32:
                hint = "float32 is 32 *bits* = 4 bytes per value"
            elif name == "uint8" and ratio == 8:
                hint = "uint8 is 8 *bits* = 1 byte per value"
            elif x * channels == right:
                hint = "the channels are missing: every pixel stores C values"
            elif x * n == right:
                hint = f"that is one image; the batch has {n}"
            elif x * 1024 == right or x * 1000 == right:
                hint = "give the number of bytes, not kilobytes"
        problems.append(f"{name} size: got {_short(got, 40)}: {hint}")
    if not problems:
        return passed(exercise, "the shape and both sizes are right: converting uint8 pixels to float32 "
                      "multiplies the memory by 4.")
    return not_yet(exercise, f"{len(problems)} of 3 predictions not right yet.", problems, hints)


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


@exercise_check("student_fn", title="Exercise 1.3: the multiclass hinge loss, without loops (S1.6)")
def check_hinge_loss(student_fn, *,
                     exercise: str = "Exercise 1.3: the multiclass hinge loss, without loops (S1.6)") -> Result:
    """Check ``student_fn(scores, labels, margin)``: mean multiclass hinge loss, slides' definition.

    ``L = mean_i sum_{j != y_i} max(0, s_ij - s_iy_i + margin)``, compared with
    :func:`course_lib.linear.multiclass_hinge_loss`.

    Examples
    --------
    >>> def hinge(s, y, margin=1.0):
    ...     m = np.maximum(0, s - s[np.arange(len(y)), y][:, None] + margin)
    ...     m[np.arange(len(y)), y] = 0
    ...     return m.sum(1).mean()
    >>> check_hinge_loss(hinge).status
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
                          expected=_Float(right, _hinge_wrong_variants(s, y, m))))
    return check_function(exercise, student_fn, cases, compare=_compare_float,
                          success="This is the SVM loss of the lecture slides.",
                          hints=["for one image, every *wrong* class j costs how far its score comes within "
                                 "the margin of the true class's score, or nothing if it is further away; "
                                 "add those costs, then average over the images",
                                 "with scores[np.arange(N), labels] you get each image's true score as a "
                                 "column; broadcasting against the whole score table gives every class's "
                                 "cost at once, and the true class must then count 0"],
                          forbid=["course_lib.linear.multiclass_hinge_loss",
                                  "course_lib.linear.multiclass_hinge_loss_naive",
                                  "course_lib.linear.MulticlassHingeLoss.forward"],
                          forbid_reason="write the loss yourself")


# ----------------------------------------------------------------------------------------------
# top-1 / top-5 prediction

def _topk_context():
    rng = np.random.default_rng(0)
    return dict(scores=np.round(rng.normal(size=(6, 8)), 2), labels=np.array([6, 7, 1, 0, 4, 6]))


@exercise_check("answer", context=_topk_context, title="Exercise 1.4: predict the top-1 and top-5 errors (S1.7)")
def check_topk_prediction(answer: Any, scores: Any, labels: Any, *,
                          exercise: str = "Exercise 1.4: predict the top-1 and top-5 errors (S1.7)") -> Result:
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
        return not_attempted(exercise, "replace the `...` with your two counts.")
    s = torch.as_tensor(np.asarray(scores, dtype=np.float64))
    y = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    n = len(y)
    errs = topk_errors(s, y, ks=(1, 5))
    right = (errs[1], errs[5])
    value = answer.detach().cpu().numpy() if hasattr(answer, "detach") else answer
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        return not_yet(exercise, f"expected a pair (top1_errors, top5_errors), got {_short(answer, 60)}.")
    got = tuple(value)
    if same_value(got, right):
        return passed(exercise, "both counts are right: a top-5 error is also a top-1 error, so the second "
                      "count can never be larger than the first.")
    nums = [as_number(g) for g in got]
    if any(v is None for v in nums):
        return not_yet(exercise, f"both counts must be numbers, got {_short(answer, 60)}.")
    low = topk_errors(-s, y, ks=(1, 5))
    known = [((n - right[0], n - right[1]), "those are the counts of *correct* images; the error "
                                            "counts the images where the true class is missed"),
             ((right[0] / n, right[1] / n), "those are error *rates*; give the counts of images"),
             ((right[1], right[0]), "top-1 and top-5 are swapped: top-5 error can never exceed "
                                    "top-1 error"),
             ((low[1], low[5]), "that ranks the *lowest* scores first; the top-k are the k highest "
                                "scores")]
    problem = None
    for v, message in known:
        if v != right and all(np.isclose(a, b) for a, b in zip(nums, v)):
            problem = message
            break
    if problem is None:
        if nums[1] > nums[0]:
            problem = "top-5 error can never exceed top-1 error: a top-1 hit is also a top-5 hit"
        else:
            wrong = [name for name, a, b in zip(("top-1", "top-5"), nums, right) if a != b]
            problem = f"the {' and the '.join(wrong)} count{'s are' if len(wrong) > 1 else ' is'} not right yet"
    return not_yet(exercise, "your counts are not right yet.",
                   [f"got:      {_short(answer, 60)}", f"problem:  {problem}"],
                   ["for each image, rank the classes from the highest score down and find the true class's "
                    "rank; a top-1 error is an image whose true class is not first",
                    "a top-5 error is an image whose true class is not among the first five; count each kind "
                    "over the six images"])


# ----------------------------------------------------------------------------------------------
# Exercise 1.6: teach the classifier to tolerate shifts

def _shift_aug_context():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 10))
    images = torch.randint(0, 256, (20, 1, 4, 4), dtype=torch.uint8)
    return dict(plain_model=model, test_images=images, test_labels=torch.arange(20) % 10)


def _errors_on(model, images, labels, shift):
    from ..training import TensorLoader, evaluate
    device = next(model.parameters()).device
    moved = torch.roll(torch.as_tensor(images), shift, dims=3) if shift else torch.as_tensor(images)
    return float(evaluate(model, TensorLoader(moved, torch.as_tensor(labels), 1000, device=device))["top1"])


@exercise_check("results", context=_shift_aug_context,
                title="Exercise 1.6: teach the classifier to tolerate shifts (S1.5, S1.6)")
def check_shift_augmentation(results: Any, plain_model: Any, test_images: Any, test_labels: Any, *,
                             exercise: str = "Exercise 1.6: teach the classifier to tolerate shifts (S1.5, S1.6)"
                             ) -> Result:
    """Check the two errors of Exercise 1.6: the plain model's is recomputed, the augmented one bounded.

    ``results["plain, shifted by 2"]`` must be the error of ``plain_model`` on
    the held-out digits rolled 2 pixels to the right (recomputed here, within
    0.002); ``results["augmented, shifted by 2"]`` must be an error rate in
    [0, 1] and lower than the plain one (the effect the exercise is about).

    Examples
    --------
    >>> ctx = _shift_aug_context()
    >>> plain = _errors_on(ctx["plain_model"], ctx["test_images"], ctx["test_labels"], 2)
    >>> check_shift_augmentation({"plain, shifted by 2": plain, "augmented, shifted by 2": plain / 2},
    ...                          **ctx).status in ("pass", "fail")
    True
    >>> check_shift_augmentation({"plain, shifted by 2": 0, "augmented, shifted by 2": 0}, **ctx).status
    'fail'
    """
    keys = ["plain, shifted by 2", "augmented, shifted by 2"]
    if is_stub(results):
        return not_attempted(exercise, "train your model, measure both errors and fill in results_1_6.")
    truth = _errors_on(plain_model, test_images, test_labels, 2)

    def plain_recomputed(v):
        got = v[keys[0]]
        if abs(got - truth) <= 2e-3:
            return None
        if abs(got - (1 - truth)) <= 2e-3:
            return "those look like accuracies; record the error, the fraction of digits misclassified"
        if abs(got - _errors_on(plain_model, test_images, test_labels, 0)) <= 2e-3:
            return ("that is mnist_model's error on the centred digits; shift the held-out digits 2 pixels "
                    "to the right first (torch.roll along the last axis)")
        if abs(got - _errors_on(plain_model, test_images, test_labels, -2)) <= 2e-3:
            return "the digits were shifted to the left; shift them 2 pixels to the right"
        return ("the plain model's error does not match the check's own measurement of mnist_model on the "
                "held-out digits shifted 2 pixels to the right")

    def augmentation_helps(v):
        if not v[keys[1]] < v[keys[0]]:
            return ("the augmented model should make fewer errors on shifted digits than the plain one; "
                    "is the transform applied to the training batches, and does it move each image by a "
                    "random amount between -2 and 2 pixels?")
    return check_experiment(exercise, results, keys, ranges={k: (0.0, 1.0) for k in keys},
                            rules=[plain_recomputed, augmentation_helps],
                            hints=["both numbers are error rates on the same shifted held-out digits: one "
                                   "for mnist_model, one for the model trained on randomly shifted copies",
                                   "cl.evaluate(model, loader)['top1'] is the top-1 error of a model on the "
                                   "batches of a TensorLoader"],
                            success="Compare with your prediction, then open the discussion below.")
