"""Segmentation metrics: confusion matrix, pixel accuracy, per-class IoU, mean IoU and Dice.

Predictions and targets are integer class maps of the same shape (any number
of axes, e.g. (N, H, W)); NumPy arrays or torch tensors. A class that appears
in neither the prediction nor the target has no IoU (NaN) and is left out of
the mean, as in the PASCAL VOC and Cityscapes evaluations.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from ._checks import check_array, check_int

__all__ = ["confusion_matrix", "pixel_accuracy", "per_class_iou", "mean_iou", "dice"]


def _maps(pred, target, num_classes: int, ignore_index: Optional[int]):
    p = check_array("pred", pred)
    t = check_array("target", target)
    for name, a in (("pred", p), ("target", t)):
        if not np.issubdtype(a.dtype, np.integer):
            raise TypeError(f"{name} must hold integer class indices, got dtype {a.dtype}; take "
                            f"logits.argmax(1) for a prediction")
    if p.shape != t.shape:
        raise ValueError(f"pred and target must have the same shape, got {p.shape} and {t.shape}; "
                         "pass class maps (N, H, W), not logits (N, K, H, W)")
    num_classes = check_int("num_classes", num_classes, minimum=1)
    p, t = p.ravel().astype(np.int64), t.ravel().astype(np.int64)
    if ignore_index is not None:
        ignore_index = check_int("ignore_index", ignore_index)
        keep = t != ignore_index
        p, t = p[keep], t[keep]
    for name, a in (("pred", p), ("target", t)):
        if a.size and (a.min() < 0 or a.max() >= num_classes):
            raise ValueError(f"{name} has classes {int(a.min())}..{int(a.max())} outside 0..{num_classes - 1}; "
                             "check num_classes")
    return p, t, num_classes


def confusion_matrix(pred, target, num_classes: int, *, ignore_index: Optional[int] = None) -> np.ndarray:
    """Pixel counts: entry (i, j) is the number of pixels of true class i predicted as j.

    Examples
    --------
    >>> confusion_matrix(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), 3)
    array([[1, 0, 0],
           [0, 1, 0],
           [0, 1, 1]])
    """
    p, t, k = _maps(pred, target, num_classes, ignore_index)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def pixel_accuracy(pred, target, *, ignore_index: Optional[int] = None) -> float:
    """Fraction of pixels whose predicted class is right.

    Examples
    --------
    >>> pixel_accuracy(np.array([[0, 1], [1, 1]]), np.array([[0, 1], [0, 1]]))
    0.75
    """
    p = check_array("pred", pred)
    t = check_array("target", target)
    k = int(max(p.max(initial=0), t.max(initial=0))) + 1 if p.size else 1
    cm = confusion_matrix(p, t, max(k, 1), ignore_index=ignore_index)
    total = cm.sum()
    if total == 0:
        raise ValueError("no pixels to score (all ignored or empty); check ignore_index")
    return float(np.trace(cm) / total)


def per_class_iou(pred, target, num_classes: int, *, ignore_index: Optional[int] = None) -> np.ndarray:
    """IoU of each class: ``|pred = c and target = c| / |pred = c or target = c|``; NaN if c is absent in both.

    Examples
    --------
    >>> per_class_iou(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), 4)
    array([1. , 0.5, 0.5, nan])
    """
    cm = confusion_matrix(pred, target, num_classes, ignore_index=ignore_index).astype(np.float64)
    inter = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - inter
    return np.divide(inter, union, out=np.full(len(inter), np.nan), where=union > 0)


def mean_iou(pred, target, num_classes: int, *, ignore_index: Optional[int] = None) -> float:
    """Mean of :func:`per_class_iou` over the classes present in the prediction or the target.

    Examples
    --------
    >>> round(mean_iou(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), 4), 4)
    0.6667
    """
    iou = per_class_iou(pred, target, num_classes, ignore_index=ignore_index)
    return float(np.nanmean(iou)) if np.isfinite(iou).any() else float("nan")


def dice(pred, target, num_classes: int, *, ignore_index: Optional[int] = None) -> np.ndarray:
    """Dice coefficient of each class, ``2 |A and B| / (|A| + |B|) = 2 IoU / (1 + IoU)``; NaN if absent in both.

    Examples
    --------
    >>> dice(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), 3).round(4)
    array([1.    , 0.6667, 0.6667])
    """
    cm = confusion_matrix(pred, target, num_classes, ignore_index=ignore_index).astype(np.float64)
    inter = np.diag(cm)
    size = cm.sum(0) + cm.sum(1)
    return np.divide(2 * inter, size, out=np.full(len(inter), np.nan), where=size > 0)
