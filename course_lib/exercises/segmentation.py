"""Checks for the segmentation exercises (chapter "Segmentation").

Each check knows the usual mistakes: the output size of a transposed
convolution worked out with the ordinary convolution's formula, or without its
padding or ``output_padding``; max-unpooling that reads the flat indices
column by column, or copies the value into the whole window (which is nearest
up-sampling); IoU confused with recall, precision or Dice, a union that counts
the intersection twice, and an absent class scored 0 instead of "no IoU"; and
on an imbalanced mask, the mean IoU taken over one class only or confused with
the mean per-class accuracy.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .core import (Case, Result, check_function, check_value, compare_arrays, exercise_check, is_stub,
                   named_mistakes, not_attempted)

__all__ = ["check_transposed_size", "check_max_unpool", "check_iou_from_confusion", "check_imbalanced_scores"]


# --------------------------------------------------------------------------------------------
# Exercise 15.1: the output size of a transposed convolution

TC_INPUT = (13, 10)                               # (H, W) of the input map
TC_KERNEL, TC_STRIDE, TC_PADDING, TC_OUTPUT_PADDING = 5, 3, 2, 1


def _tc_size(n: int, *, k=TC_KERNEL, s=TC_STRIDE, p=TC_PADDING, op=TC_OUTPUT_PADDING) -> int:
    return (n - 1) * s - 2 * p + k + op


@exercise_check("answer", title="Exercise 15.1: output size of a transposed convolution (S15.2)")
def check_transposed_size(answer: Any) -> Result:
    """Check the predicted (H, W) of ``ConvTranspose2d(k=5, stride=3, padding=2, output_padding=1)`` on 13 x 10.

    Examples
    --------
    >>> check_transposed_size((38, 29)).status
    'pass'
    >>> "output_padding" in str(check_transposed_size((37, 28)))
    True
    """
    ex = "Exercise 15.1: output size of a transposed convolution (S15.2)"
    H, W = TC_INPUT
    k, s, p, op = TC_KERNEL, TC_STRIDE, TC_PADDING, TC_OUTPUT_PADDING
    expected = (_tc_size(H), _tc_size(W))
    mistakes = [
        ((_tc_size(H, op=0), _tc_size(W, op=0)), "output_padding is missing: it adds rows and columns at the "
                                                 "bottom and right, after the padding is cut"),
        ((_tc_size(H, p=0), _tc_size(W, p=0)), "the padding was not subtracted: in a transposed convolution "
                                               "`padding` removes 2p rows and columns from the full output"),
        (((H - 1) * s - p + k + op, (W - 1) * s - p + k + op), "the padding was subtracted once; it is cut "
                                                               "from both sides"),
        (((H - 1) * s + 2 * p + k + op, (W - 1) * s + 2 * p + k + op),
         "the padding was added; a transposed convolution's padding removes rows and columns"),
        ((H * s - 2 * p + k + op, W * s - 2 * p + k + op), "off by the stride: the last input pixel starts its "
                                                           "stamp at (H - 1) x stride, not H x stride"),
        ((H * s, W * s), "stride x input is the size only for some kernel, padding and output_padding choices; "
                         "work it out from the stamps"),
        (((H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1),
         "that is the output size of the ordinary (forward) convolution, which shrinks; the transposed one "
         "goes the other way"),
        ((expected[1], expected[0]), "rows and columns are swapped: rows follow the height"),
    ]
    return check_value(ex, answer, expected, mistakes=mistakes, what="your output size",
                       hint="each input pixel stamps a 5 x 5 kernel, and stamps start 3 pixels apart; then "
                            "`padding` is cut from each border and `output_padding` added at the far end",
                       hints=["along one axis the full output spans (n - 1) x stride + kernel pixels"])


# --------------------------------------------------------------------------------------------
# Exercise 15.2: max-unpooling by hand

def _pool(x: np.ndarray):
    """2 x 2 max pooling, stride 2, of a 2D array: (values, flat indices into x), first maximum on ties."""
    h, w = x.shape[0] // 2, x.shape[1] // 2
    vals = np.zeros((h, w))
    idx = np.zeros((h, w), np.int64)
    for i in range(h):
        for j in range(w):
            win = x[2 * i:2 * i + 2, 2 * j:2 * j + 2]
            u, v = divmod(int(np.argmax(win)), 2)
            vals[i, j] = win[u, v]
            idx[i, j] = (2 * i + u) * x.shape[1] + 2 * j + v
    return vals, idx


def _unpool(vals, idx, size):
    out = np.zeros(size)
    out.ravel()[np.asarray(idx).ravel()] = np.asarray(vals, float).ravel()
    return out


def _unpool_cases():
    rng = np.random.default_rng(15)
    out = []
    for name, shape in [("a 4 x 4 map pooled to 2 x 2", (4, 4)), ("a wide 4 x 6 map", (4, 6)),
                        ("a tall 6 x 4 map", (6, 4)), ("a 5 x 5 map: the last row and column were never pooled", (5, 5)),
                        ("an 8 x 10 map with negative values", (8, 10))]:
        x = np.round(rng.normal(size=shape), 2) if "negative" in name else rng.permutation(
            shape[0] * shape[1]).reshape(shape).astype(float) + 1
        vals, idx = _pool(x)
        out.append((name, vals, idx, shape))
    return out


@exercise_check("student_fn", title="Exercise 15.2: max-unpooling by hand (S15.2)")
def check_max_unpool(student_fn: Any) -> Result:
    """Check ``student_fn(values, indices, output_size)`` -> the max-unpooled 2D map.

    Examples
    --------
    >>> check_max_unpool(_unpool).status
    'pass'
    >>> r = check_max_unpool(lambda v, i, s: np.kron(v, np.ones((2, 2))))
    >>> r.status
    'fail'
    """
    raw = _unpool_cases()
    cases = [Case(name, (vals, idx, size), expected=_unpool(vals, idx, size)) for name, vals, idx, size in raw]

    def variants(expected):
        for _, vals, idx, size in raw:
            if np.shape(expected) != size or not np.array_equal(expected, _unpool(vals, idx, size)):
                continue
            H, W = size
            if np.all(idx // H < W):                           # read as column-major: (idx % H, idx // H)
                wrong = np.zeros(size)
                wrong[idx % H, idx // H] = vals
                yield wrong, ("the flat index is row * W + column (row-major): divide by the width W, "
                              "not the height")
            near = np.zeros(size)
            near[:2 * vals.shape[0], :2 * vals.shape[1]] = np.kron(vals, np.ones((2, 2)))
            yield near, ("the value fills its whole 2 x 2 window: that is nearest up-sampling; max-unpooling "
                         "puts it only where the maximum was and zeros elsewhere")
            corner = np.zeros(size)
            corner[:2 * vals.shape[0]:2, :2 * vals.shape[1]:2] = vals
            yield corner, ("every value went to the top-left corner of its window: use the remembered index "
                           "to find where the maximum was")

    return check_function("Exercise 15.2: max-unpooling by hand (S15.2)", student_fn, cases,
                          compare=named_mistakes(variants),
                          hints=["start from an array of zeros of the output size; each pooled value goes to "
                                 "exactly one position, given by its index",
                                 "an index n in an H x W map is row n // W, column n % W"],
                          forbid=["course_lib.upsampling.max_unpool2d", "course_lib.upsampling.max_unpool2d_naive",
                                  "torch.nn.functional.max_unpool2d"],
                          forbid_reason="the exercise is to write the unpooling yourself")


# --------------------------------------------------------------------------------------------
# Exercise 15.3: per-class IoU from a confusion matrix

def _iou_cm(cm):
    cm = np.asarray(cm, float)
    inter = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - inter
    return np.divide(inter, union, out=np.full(len(inter), np.nan), where=union > 0)


def _ratio(num, den):
    return np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0)


_CM_CASES = [
    ("two classes", np.array([[50, 10], [5, 35]])),
    ("three classes, not symmetric", np.array([[80, 4, 6], [2, 20, 8], [10, 0, 30]])),
    ("a class that never occurs and is never predicted (its row and column are zero)",
     np.array([[40, 0, 3], [0, 0, 0], [7, 0, 25]])),
    ("a class that occurs but is never predicted", np.array([[60, 5, 0], [4, 30, 0], [3, 2, 0]])),
    ("a perfect prediction", np.diag([12, 7, 3, 9])),
]


@exercise_check("student_fn", title="Exercise 15.3: IoU from a confusion matrix (S15.3)")
def check_iou_from_confusion(student_fn: Any) -> Result:
    """Check ``student_fn(cm)`` -> per-class IoU (NaN for a class absent from prediction and target).

    ``cm[i, j]`` counts the pixels of true class i predicted as j.

    Examples
    --------
    >>> check_iou_from_confusion(_iou_cm).status
    'pass'
    >>> r = check_iou_from_confusion(lambda cm: np.diag(cm) / np.asarray(cm).sum(1))
    >>> r.status
    'fail'
    """
    cases = [Case(name, (cm,), expected=_iou_cm(cm)) for name, cm in _CM_CASES]

    def variants(expected):
        for _, cm in _CM_CASES:
            truth = _iou_cm(cm)
            if np.shape(truth) != np.shape(expected) or not np.allclose(truth, expected, equal_nan=True):
                continue
            c = cm.astype(float)
            d, rows, cols = np.diag(c), c.sum(1), c.sum(0)
            yield _ratio(d, rows), ("that divides by the true pixels of each class only (the row sums): that is "
                                    "the recall; the union also holds the pixels wrongly predicted as the class")
            yield _ratio(d, cols), ("that divides by the predicted pixels of each class only (the column sums): "
                                    "that is the precision; the union also holds the missed pixels")
            yield _ratio(2 * d, rows + cols), "that is the Dice coefficient, not the IoU"
            yield _ratio(d, rows + cols), ("the union counts the intersection twice: subtract it once from "
                                           "row sum + column sum")
            yield np.nan_to_num(truth, nan=0.0), ("a class that is neither present nor predicted has no IoU "
                                                  "(0 / 0): return NaN for it, so a mean can leave it out")
            yield np.nan_to_num(truth, nan=1.0), ("a class that is neither present nor predicted has no IoU "
                                                  "(0 / 0): return NaN for it, not 1")

    return check_function("Exercise 15.3: IoU from a confusion matrix (S15.3)", student_fn, cases,
                          compare=named_mistakes(variants),
                          hints=["for class c the intersection is cm[c, c]; the union is every pixel that is "
                                 "class c in the truth or in the prediction",
                                 "row c counts the truly-c pixels, column c the predicted-c pixels; the diagonal "
                                 "entry is in both"],
                          forbid=["course_lib.segmentation.per_class_iou", "course_lib.segmentation.mean_iou",
                                  "course_lib.segmentation.dice"],
                          forbid_reason="the exercise is to compute IoU from the matrix yourself")


# --------------------------------------------------------------------------------------------
# Exercise 15.4: pixel accuracy, mean IoU and Dice on an imbalanced mask

# a 100 x 100 mask: 9,600 background pixels and 400 digit pixels. The prediction finds 300 of the digit's
# pixels, misses 100, and marks 100 background pixels as digit.
IMB_CM = np.array([[9500, 100], [100, 300]])


def _imbalanced_truth():
    cm = IMB_CM.astype(float)
    pa = np.trace(cm) / cm.sum()
    iou = _iou_cm(cm)
    dice_digit = 2 * cm[1, 1] / (cm[1].sum() + cm[:, 1].sum())
    return float(pa), float(np.mean(iou)), float(dice_digit)


@exercise_check("answer", title="Exercise 15.4: accuracy, mean IoU and Dice on an imbalanced mask (S15.3)")
def check_imbalanced_scores(answer: Any) -> Result:
    """Check the predicted (pixel accuracy, mean IoU, Dice of the digit) for :data:`IMB_CM`; 3 decimals.

    Examples
    --------
    >>> check_imbalanced_scores(tuple(round(v, 3) for v in _imbalanced_truth())).status
    'pass'
    >>> "alone" in str(check_imbalanced_scores((0.98, 0.6, 0.75)))
    True
    """
    ex = "Exercise 15.4: accuracy, mean IoU and Dice on an imbalanced mask (S15.3)"
    if is_stub(answer):
        return not_attempted(ex, "replace the `...` with your three numbers.")
    pa, miou, dice_d = _imbalanced_truth()
    cm = IMB_CM.astype(float)
    iou = _iou_cm(cm)
    recall = np.diag(cm) / cm.sum(1)
    mistakes = [
        ((pa, float(iou[1]), dice_d), "the mean IoU is the mean over both classes, background included; "
                                      "you gave the digit's IoU alone"),
        ((pa, float(iou[0]), dice_d), "the mean IoU is the mean over both classes; you gave the background's "
                                      "IoU alone"),
        ((pa, float(recall.mean()), dice_d), "that is the mean per-class accuracy (recall), not the mean IoU: "
                                             "the union also holds the wrongly predicted pixels"),
        ((pa, miou, float(iou[1])), "the Dice coefficient is 2 |A and B| / (|A| + |B|), not the IoU"),
        ((pa, float(np.mean(np.diag(cm) / (cm.sum(0) + cm.sum(1)))), dice_d),
         "the union counts the intersection twice: subtract it once"),
        ((float(cm[1, 1] / cm[1].sum()), miou, dice_d), "pixel accuracy counts every right pixel, background "
                                                        "included, over all pixels"),
    ]
    mistakes = [(w, m) for w, m in mistakes
                if not np.allclose(w, (pa, miou, dice_d), atol=0.002)]
    try:
        n = len(answer)
    except Exception:
        n = None
    if n is not None and n != 3 and not isinstance(answer, str):
        return check_value(ex, answer, (pa, miou, dice_d), what="each of your three numbers",
                           hint="give three numbers: (pixel accuracy, mean IoU, Dice of the digit class)")
    return check_value(ex, answer, (pa, miou, dice_d), rtol=0, atol=0.002, mistakes=mistakes,
                       what="each of your three numbers",
                       hint="write the 2 x 2 confusion matrix first: rows are the truth, columns the prediction",
                       hints=["IoU of a class = diagonal entry / (row sum + column sum - diagonal entry)"])
