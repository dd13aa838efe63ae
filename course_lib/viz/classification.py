"""Figures about a trained classifier's decisions (confusion matrices, misclassified examples).

Also :class:`LiveHistory`, the live training-curve display for notebooks: in
JupyterLab it redraws the loss and error curves after every epoch in one
output area; in the stored (published) notebook that output holds the final
curves.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .._checks import check_array, check_int
from .images import _as_display, _to_numpy, plot_history

__all__ = ["confusion_matrix", "plot_confusion", "show_misclassified", "show_confusion_examples",
           "show_top_images", "LiveHistory"]


def confusion_matrix(labels, predictions, num_classes: int = 10) -> np.ndarray:
    """Counts ``C[i, j]`` of images of true class i predicted as class j.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1], [0, 0, 1], num_classes=2).tolist()
    [[1, 0], [1, 1]]
    """
    y = check_array("labels", _to_numpy(labels), ndim=1).astype(np.int64)
    p = check_array("predictions", _to_numpy(predictions), ndim=1).astype(np.int64)
    k = check_int("num_classes", num_classes, minimum=1)
    if len(y) != len(p):
        raise ValueError(f"labels and predictions must have the same length, got {len(y)} and {len(p)}")
    if len(y) and (min(y.min(), p.min()) < 0 or max(y.max(), p.max()) >= k):
        raise ValueError(f"labels and predictions must lie in 0..{k - 1}; pass num_classes="
                         f"{int(max(y.max(), p.max())) + 1} or fix the labels")
    return np.bincount(y * k + p, minlength=k * k).reshape(k, k)


def plot_confusion(cm, class_names: Optional[Sequence[str]] = None, *, title: Optional[str] = None,
                   cell: float = 0.55) -> Figure:
    """The confusion matrix as a heat map with counts; the diagonal (right answers) is greyed out
    so the mistakes stand out.

    Examples
    --------
    >>> fig = plot_confusion(np.array([[5, 1], [2, 7]]), ["a", "b"])
    >>> len(fig.axes)
    2
    """
    cm = check_array("cm", _to_numpy(cm), ndim=2).astype(np.int64)
    k = cm.shape[0]
    if cm.shape != (k, k):
        raise ValueError(f"cm must be square (K, K), got shape {cm.shape}")
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    off = cm.astype(float).copy()
    np.fill_diagonal(off, np.nan)
    size = max(4.0, cell * k + 1.8)
    fig, ax = plt.subplots(figsize=(size + 0.8, size))
    im = ax.imshow(off, cmap="Reds", vmin=0, vmax=max(1.0, np.nanmax(off) if k > 1 else 1.0))
    for i in range(k):
        for j in range(k):
            colour = "0.35" if i == j else ("white" if cm[i, j] > 0.6 * np.nanmax(off) else "black")
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(range(k), names, rotation=45 if max(len(n) for n in names) > 2 else 0, ha="right"
                  if max(len(n) for n in names) > 2 else "center")
    ax.set_yticks(range(k), names)
    ax.set(xlabel="predicted class", ylabel="true class")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="images (off the diagonal)")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def show_misclassified(images, labels, predictions, *, class_names: Optional[Sequence[str]] = None,
                       max_images: int = 40, ncols: int = 10, title: Optional[str] = None,
                       cell: float = 1.1) -> Figure:
    """The wrongly classified images, each captioned "true -> predicted" (Forsyth fig. 17.13).

    Examples
    --------
    >>> fig = show_misclassified(np.zeros((3, 1, 4, 4)), [0, 1, 2], [0, 2, 1])
    >>> sum(1 for ax in fig.axes if ax.images)
    2
    """
    x = _to_numpy(images)
    y = check_array("labels", _to_numpy(labels), ndim=1).astype(np.int64)
    p = check_array("predictions", _to_numpy(predictions), ndim=1).astype(np.int64)
    if not (len(x) == len(y) == len(p)):
        raise ValueError(f"images, labels and predictions must have the same length, got "
                         f"{len(x)}, {len(y)}, {len(p)}")
    max_images = check_int("max_images", max_images, minimum=1)
    wrong = np.flatnonzero(y != p)
    shown = wrong[:max_images]
    name = (lambda c: class_names[c]) if class_names is not None else str
    n = max(1, len(shown))
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(cell * ncols, (cell + 0.25) * nrows + 0.5), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, i in zip(axes.flat, shown):
        img = _as_display(x[i])
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        ax.set_title(f"{name(y[i])} \u2192 {name(p[i])}", fontsize=7)
    head = title or "misclassified images"
    fig.suptitle(f"{head} ({len(shown)} of {len(wrong)} shown; caption: true \u2192 predicted)", fontsize=9)
    fig.tight_layout()
    return fig


def show_confusion_examples(images, labels, predictions, class_names: Sequence[str], *,
                            by: str = "true", per_class: int = 8, title: Optional[str] = None,
                            cell: float = 0.9) -> Figure:
    """One row per class of misclassified images (Forsyth figs. 17.17 and 17.18).

    ``by="true"``: row c shows images *of* class c that were given another label
    (captioned with the wrong label); ``by="predicted"``: row c shows images of
    other classes that were *called* c (captioned with their true label).

    Examples
    --------
    >>> fig = show_confusion_examples(np.zeros((4, 3, 4, 4)), [0, 0, 1, 1], [1, 0, 0, 1], ["a", "b"],
    ...                               per_class=2)
    >>> sum(1 for ax in fig.axes if ax.images)
    2
    """
    if by not in ("true", "predicted"):
        raise ValueError(f"by must be 'true' or 'predicted', got by={by!r}")
    x = _to_numpy(images)
    y = check_array("labels", _to_numpy(labels), ndim=1).astype(np.int64)
    p = check_array("predictions", _to_numpy(predictions), ndim=1).astype(np.int64)
    per_class = check_int("per_class", per_class, minimum=1)
    k = len(class_names)
    fig, axes = plt.subplots(k, per_class + 1, figsize=(cell * (per_class + 1.6), cell * k + 0.6),
                             squeeze=False, gridspec_kw={"width_ratios": [1.6] + [1] * per_class})
    for ax in axes.flat:
        ax.set_axis_off()
    for c in range(k):
        key, other = (y, p) if by == "true" else (p, y)
        idx = np.flatnonzero((key == c) & (y != p))[:per_class]
        axes[c, 0].text(1.0, 0.5, f"{class_names[c]}\n({int(((key == c) & (y != p)).sum())})",
                        ha="right", va="center", fontsize=8, transform=axes[c, 0].transAxes)
        for j, i in enumerate(idx):
            img = _as_display(x[i])
            ax = axes[c, j + 1]
            ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
            ax.set_title(class_names[other[i]], fontsize=6, pad=1)
    what = ("misclassified FROM each class (row: true class; caption: predicted)" if by == "true"
            else "misclassified INTO each class (row: predicted class; caption: true class)")
    fig.suptitle(title or what, fontsize=9)
    fig.tight_layout()
    return fig


def show_top_images(images, scores, *, units: Sequence[int], per_unit: int = 10,
                    unit_names: Optional[Sequence[str]] = None, title: Optional[str] = None,
                    cell: float = 0.9) -> Figure:
    """For each chosen unit, the images with the largest scores (Forsyth figs. 17.12 and 17.19).

    Parameters
    ----------
    images : (N, C, H, W)
    scores : (N, U) array, e.g. the ReLU outputs of a layer for every image
    units : the columns of ``scores`` to show, one row each

    Examples
    --------
    >>> fig = show_top_images(np.zeros((5, 1, 4, 4)), np.arange(10.0).reshape(5, 2), units=[1], per_unit=3)
    >>> sum(1 for ax in fig.axes if ax.images)
    3
    """
    x = _to_numpy(images)
    s = check_array("scores", _to_numpy(scores), ndim=2)
    if len(s) != len(x):
        raise ValueError(f"scores must have one row per image, got {len(s)} rows for {len(x)} images")
    per_unit = check_int("per_unit", per_unit, minimum=1)
    units = [check_int("units entries", u, minimum=0) for u in units]
    if any(u >= s.shape[1] for u in units):
        raise ValueError(f"units must be < {s.shape[1]} (the number of columns of scores), got {units}")
    fig, axes = plt.subplots(len(units), per_unit + 1, figsize=(cell * (per_unit + 1.5), cell * len(units) + 0.6),
                             squeeze=False, gridspec_kw={"width_ratios": [1.5] + [1] * per_unit})
    for ax in axes.flat:
        ax.set_axis_off()
    for r, u in enumerate(units):
        order = np.argsort(-s[:, u], kind="stable")[:per_unit]
        label = unit_names[r] if unit_names is not None else f"unit {u}"
        axes[r, 0].text(1.0, 0.5, label, ha="right", va="center", fontsize=8, transform=axes[r, 0].transAxes)
        for j, i in enumerate(order):
            img = _as_display(x[i])
            axes[r, j + 1].imshow(img, cmap="gray" if img.ndim == 2 else None)
    fig.suptitle(title or "images with the largest response, per unit (strongest on the left)", fontsize=9)
    fig.tight_layout()
    return fig


class LiveHistory:
    """An ``on_epoch_end`` callback for :func:`course_lib.training.fit` that redraws the curves.

    In a notebook it keeps one output area and replaces the figure after every
    epoch (so JupyterLab shows the curves growing; the stored notebook keeps the
    last, complete figure). Outside a notebook it does nothing visible.

    Parameters
    ----------
    title : str
        Figure title; say what was trained on what.
    val_label : str
        What the held-out curves measure ("validation" or "test").

    Examples
    --------
    >>> live = LiveHistory("demo")
    >>> live({"epoch": [1], "train_loss": [1.0], "train_top1": [0.5], "train_top5": [0.1],
    ...       "val_loss": [], "val_top1": [], "val_top5": []})
    """

    def __init__(self, title: str = "", *, val_label: str = "validation"):
        self.title = title
        self.val_label = val_label
        self._handle = None
        self.history = None

    def __call__(self, history) -> None:
        self.history = history
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:  # pragma: no cover
            return
        if get_ipython() is None:
            return
        fig = plot_history(history, title=self.title, val_label=self.val_label)
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        plt.close(fig)
