"""Linear classifiers and their two classic losses: softmax cross-entropy and the multiclass hinge.

A linear classifier scores an image ``x`` (flattened to a vector of D pixel
values) with one row of a weight matrix per class: ``s = W x + b``, so
``scores`` has shape (N, K) for a batch of N images and K classes. Each row of
``W`` can be reshaped to the image's (C, H, W) and viewed as a *template* of
its class (:func:`class_templates`).

Two losses turn the scores and the true labels ``y`` into one number per image:

* softmax cross-entropy, ``L_i = -log(exp(s_{y_i}) / sum_j exp(s_j))``;
* multiclass hinge (SVM), ``L_i = sum_{j != y_i} max(0, s_j - s_{y_i} + margin)``.

Each has a loop-based ``*_naive`` twin with the same signature; both agree
with torch (``torch.nn.functional.cross_entropy``, and
``K * torch.nn.functional.multi_margin_loss``: torch divides the hinge sum by
the number of classes K, the lecture slides' formula does not).
"""
from __future__ import annotations

import math
from typing import Sequence, Tuple, Union

import numpy as np
import torch
from torch import nn

from ._checks import as_float, check_array, check_int

__all__ = ["softmax", "softmax_cross_entropy", "softmax_cross_entropy_naive",
           "multiclass_hinge_loss", "multiclass_hinge_loss_naive", "MulticlassHingeLoss",
           "linear_classifier", "class_templates"]

REDUCTIONS = ("mean", "sum", "none")


# ----------------------------------------------------------------------------------------------
# argument checks shared by the losses

def _check_reduction(reduction) -> str:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {list(REDUCTIONS)}, got reduction={reduction!r}; "
                         f"pass e.g. reduction='mean'")
    return reduction


def _check_margin(margin) -> float:
    if isinstance(margin, bool) or not isinstance(margin, (int, float, np.integer, np.floating)):
        raise TypeError(f"margin must be a number, got {margin!r} of type {type(margin).__name__}; "
                        f"pass e.g. margin=1.0")
    margin = float(margin)
    if not math.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a finite number >= 0, got margin={margin}; "
                         f"the usual choice is margin=1.0")
    return margin


def _check_scores_labels(scores, labels) -> Tuple[np.ndarray, np.ndarray]:
    """scores (N, K) float, labels (N,) ints in 0..K-1."""
    scores = check_array("scores", scores, ndim=2, shape_hint="(N, K)")
    if scores.shape[1] == 0:
        raise ValueError(f"scores must have at least one class (K >= 1), got shape {scores.shape}")
    scores = as_float(scores)
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite numbers, got NaN or inf; check the model's output")
    labels = check_array("labels", labels, ndim=1, shape_hint="(N,)")
    if not np.issubdtype(labels.dtype, np.integer):
        if labels.size and not np.all(labels == np.round(labels)):
            raise TypeError(f"labels must be integer class indices, got dtype {labels.dtype} with "
                            f"fractions; convert with labels.astype(int)")
        labels = labels.astype(np.int64)
    if labels.shape[0] != scores.shape[0]:
        raise ValueError(f"labels must have one entry per row of scores ({scores.shape[0]}), got "
                         f"{labels.shape[0]}; scores is (N, K) and labels (N,)")
    k = scores.shape[1]
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        bad = labels[(labels < 0) | (labels >= k)][0]
        raise ValueError(f"labels must be class indices in 0..{k - 1} (scores has K={k} columns), "
                         f"got label {int(bad)}; labels start at 0")
    return scores, labels.astype(np.int64, copy=False)


def _reduce(per_example: np.ndarray, reduction: str):
    if reduction == "none":
        return per_example
    if reduction == "sum":
        return float(per_example.sum())
    return float(per_example.mean()) if per_example.size else float("nan")


# ----------------------------------------------------------------------------------------------
# softmax and cross-entropy

def softmax(scores: np.ndarray) -> np.ndarray:
    """Class probabilities from scores, row by row, computed stably.

    ``p[i, j] = exp(s[i, j]) / sum_k exp(s[i, k])``; subtracting each row's
    maximum first changes nothing mathematically and avoids overflow.

    Parameters
    ----------
    scores : ndarray, shape (N, K) or (K,)

    Returns
    -------
    ndarray, same shape, rows summing to 1.

    Examples
    --------
    >>> softmax(np.array([[1.0, 1.0], [0.0, np.log(3.0)]])).round(3)
    array([[0.5 , 0.5 ],
           [0.25, 0.75]])
    >>> softmax(np.array([1000.0, 1000.0]))   # no overflow
    array([0.5, 0.5])
    """
    s = as_float(check_array("scores", scores, ndim=(1, 2), shape_hint="(N, K) or (K,)"))
    if s.shape[-1] == 0:
        raise ValueError(f"scores must have at least one class, got shape {s.shape}")
    z = np.exp(s - s.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def softmax_cross_entropy(scores: np.ndarray, labels: np.ndarray, reduction: str = "mean"):
    """Softmax cross-entropy loss, vectorised; agrees with ``torch.nn.functional.cross_entropy``.

    ``L_i = -log softmax(s_i)[y_i] = logsumexp(s_i) - s_{i, y_i}``.

    Parameters
    ----------
    scores : ndarray, shape (N, K)
        Class scores (logits) of N examples.
    labels : ndarray of int, shape (N,)
        True classes, 0..K-1.
    reduction : {"mean", "sum", "none"}
        Average over examples (default), sum, or return the (N,) per-example losses.

    Returns
    -------
    float, or ndarray of shape (N,) for ``reduction="none"``.

    Examples
    --------
    >>> scores = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.0]])
    >>> round(softmax_cross_entropy(scores, np.array([0, 1])), 4)
    0.3069
    >>> round(softmax_cross_entropy(np.zeros((1, 10)), np.array([3])), 4)  # uniform guess: log 10
    2.3026
    """
    scores, labels = _check_scores_labels(scores, labels)
    reduction = _check_reduction(reduction)
    m = scores.max(axis=1)                                                 # (N,)
    lse = m + np.log(np.exp(scores - m[:, None]).sum(axis=1))              # log-sum-exp, (N,)
    per_example = lse - scores[np.arange(len(labels)), labels]
    return _reduce(per_example, reduction)


def softmax_cross_entropy_naive(scores: np.ndarray, labels: np.ndarray, reduction: str = "mean"):
    """Loop-based reference for :func:`softmax_cross_entropy` (same signature, same result).

    Examples
    --------
    >>> scores = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.0]])
    >>> round(softmax_cross_entropy_naive(scores, np.array([0, 1])), 4)
    0.3069
    """
    scores, labels = _check_scores_labels(scores, labels)
    reduction = _check_reduction(reduction)
    n, k = scores.shape
    per_example = np.zeros(n, dtype=scores.dtype)
    for i in range(n):
        biggest = max(scores[i, j] for j in range(k))        # shift for numerical safety
        total = 0.0
        for j in range(k):
            total += math.exp(scores[i, j] - biggest)
        log_prob = (scores[i, labels[i]] - biggest) - math.log(total)
        per_example[i] = -log_prob
    return _reduce(per_example, reduction)


# ----------------------------------------------------------------------------------------------
# multiclass hinge (SVM) loss

def multiclass_hinge_loss(scores: np.ndarray, labels: np.ndarray, margin: float = 1.0,
                          reduction: str = "mean"):
    """Multiclass hinge (SVM) loss, vectorised, as in the lecture slides.

    ``L_i = sum_{j != y_i} max(0, s_{i, j} - s_{i, y_i} + margin)``: every wrong
    class whose score comes within ``margin`` of the true class's score adds
    the shortfall. The true class itself is left out of the sum (including it
    would add ``margin`` to every loss). Equal to
    ``K * torch.nn.functional.multi_margin_loss(scores, labels, margin=margin)``,
    since torch divides by the number of classes K.

    Parameters
    ----------
    scores : ndarray, shape (N, K)
    labels : ndarray of int, shape (N,)
    margin : float
        The required gap, >= 0 (default 1).
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    float, or ndarray of shape (N,) for ``reduction="none"``.

    Examples
    --------
    >>> scores = np.array([[3.0, 5.0, -1.0], [1.0, 0.5, 4.0]])
    >>> multiclass_hinge_loss(scores, np.array([0, 2]), reduction="none")
    array([3., 0.])
    >>> multiclass_hinge_loss(scores, np.array([0, 2]))
    1.5
    """
    scores, labels = _check_scores_labels(scores, labels)
    margin = _check_margin(margin)
    reduction = _check_reduction(reduction)
    rows = np.arange(len(labels))
    correct = scores[rows, labels]                                          # (N,)
    margins = np.maximum(0.0, scores - correct[:, None] + margin)           # (N, K)
    margins[rows, labels] = 0.0                                             # skip j = y_i
    return _reduce(margins.sum(axis=1), reduction)


def multiclass_hinge_loss_naive(scores: np.ndarray, labels: np.ndarray, margin: float = 1.0,
                                reduction: str = "mean"):
    """Loop-based reference for :func:`multiclass_hinge_loss` (same signature, same result).

    Examples
    --------
    >>> scores = np.array([[3.0, 5.0, -1.0], [1.0, 0.5, 4.0]])
    >>> multiclass_hinge_loss_naive(scores, np.array([0, 2]))
    1.5
    """
    scores, labels = _check_scores_labels(scores, labels)
    margin = _check_margin(margin)
    reduction = _check_reduction(reduction)
    n, k = scores.shape
    per_example = np.zeros(n, dtype=scores.dtype)
    for i in range(n):
        for j in range(k):
            if j == labels[i]:
                continue
            per_example[i] += max(0.0, scores[i, j] - scores[i, labels[i]] + margin)
    return _reduce(per_example, reduction)


class MulticlassHingeLoss(nn.Module):
    """The slides' multiclass hinge loss as a torch module, for training with ``fit``.

    Same value as :func:`multiclass_hinge_loss` (sum over the wrong classes,
    then mean over the batch), so it is ``K`` times torch's
    ``nn.MultiMarginLoss``; differentiable with autograd.

    Parameters
    ----------
    margin : float
    reduction : {"mean", "sum", "none"}

    Examples
    --------
    >>> loss = MulticlassHingeLoss()
    >>> loss(torch.tensor([[3.0, 5.0, -1.0], [1.0, 0.5, 4.0]]), torch.tensor([0, 2]))
    tensor(1.5000)
    """

    def __init__(self, margin: float = 1.0, reduction: str = "mean"):
        super().__init__()
        self.margin = _check_margin(margin)
        self.reduction = _check_reduction(reduction)

    def forward(self, scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if not isinstance(scores, torch.Tensor) or scores.ndim != 2:
            raise ValueError(f"scores must be a 2D torch tensor (N, K), got "
                             f"{type(scores).__name__} {tuple(getattr(scores, 'shape', ()))}")
        if not isinstance(labels, torch.Tensor) or labels.shape != scores.shape[:1]:
            raise ValueError(f"labels must be a torch tensor of shape ({scores.shape[0]},), got "
                             f"{tuple(getattr(labels, 'shape', ()))}")
        correct = scores.gather(1, labels[:, None])                          # (N, 1)
        margins = (scores - correct + self.margin).clamp(min=0)              # (N, K)
        margins = margins.masked_fill(nn.functional.one_hot(labels, scores.shape[1]).bool(), 0.0)
        per_example = margins.sum(dim=1)
        if self.reduction == "none":
            return per_example
        return per_example.sum() if self.reduction == "sum" else per_example.mean()

    def extra_repr(self) -> str:
        return f"margin={self.margin}, reduction={self.reduction!r}"


# ----------------------------------------------------------------------------------------------
# the classifier and its templates

def _check_shape(name: str, shape) -> Tuple[int, ...]:
    if not isinstance(shape, (tuple, list, torch.Size)) or len(shape) == 0:
        raise TypeError(f"{name} must be a tuple of ints such as (1, 28, 28), got {shape!r}")
    return tuple(check_int(f"{name}[{i}]", s, minimum=1) for i, s in enumerate(shape))


def linear_classifier(input_shape: Sequence[int], num_classes: int, *, seed: int = 0,
                      zero_init: bool = False) -> nn.Sequential:
    """``f(x) = W x + b`` on flattened images: ``nn.Sequential(nn.Flatten(), nn.Linear(D, K))``.

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one image, e.g. (1, 28, 28) or (3, 32, 32); D is its product.
    num_classes : int
        K, the number of classes (rows of W).
    seed : int
        Seed of torch's default initialisation (the global RNG is left as it was).
    zero_init : bool
        Start from W = 0 and b = 0 instead. A linear classifier's loss is convex,
        so it needs no random start; with zeros, the weights of pixels that never
        vary (MNIST's empty border) stay zero, and the templates show only what
        training put there.

    Returns
    -------
    nn.Sequential
        Maps ``(N, *input_shape)`` to scores (N, K); ``model[1].weight`` is W, shape (K, D).

    Examples
    --------
    >>> model = linear_classifier((1, 28, 28), 10)
    >>> model(torch.zeros(5, 1, 28, 28)).shape, tuple(model[1].weight.shape)
    (torch.Size([5, 10]), (10, 784))
    >>> linear_classifier((3, 32, 32), 10, zero_init=True)[1].weight.detach().any().item()
    False
    """
    shape = _check_shape("input_shape", input_shape)
    num_classes = check_int("num_classes", num_classes, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    if not isinstance(zero_init, bool):
        raise TypeError(f"zero_init must be True or False, got {zero_init!r}; pass zero_init=True "
                        f"to start from W = 0")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Flatten(), nn.Linear(int(np.prod(shape)), num_classes))
    if zero_init:
        with torch.no_grad():
            model[1].weight.zero_()
            model[1].bias.zero_()
    return model


def class_templates(weight: Union[np.ndarray, torch.Tensor, nn.Module],
                    input_shape: Sequence[int]) -> np.ndarray:
    """The rows of W reshaped to images: one template per class.

    Parameters
    ----------
    weight : ndarray or tensor of shape (K, D), or a model whose last ``nn.Linear`` is W
    input_shape : tuple of int
        (C, H, W) of one image, with C * H * W = D.

    Returns
    -------
    ndarray, shape (K, C, H, W)
        float; signed (positive weights vote for the class, negative against).

    Examples
    --------
    >>> class_templates(np.arange(12.0).reshape(2, 6), (1, 2, 3)).shape
    (2, 1, 2, 3)
    >>> class_templates(linear_classifier((3, 4, 4), 5), (3, 4, 4)).shape
    (5, 3, 4, 4)
    """
    if isinstance(weight, nn.Module):
        linears = [m for m in weight.modules() if isinstance(m, nn.Linear)]
        if not linears:
            raise ValueError("weight is a model without an nn.Linear layer; pass the (K, D) weight "
                             "matrix or a model such as linear_classifier(...)")
        weight = linears[-1].weight
    w = as_float(check_array("weight", weight, ndim=2, shape_hint="(K, D)"))
    shape = _check_shape("input_shape", input_shape)
    if int(np.prod(shape)) != w.shape[1]:
        raise ValueError(f"input_shape {shape} has {int(np.prod(shape))} values but weight has "
                         f"D={w.shape[1]} columns; pass the (C, H, W) of the images the model saw")
    return w.reshape((w.shape[0],) + shape).copy()
