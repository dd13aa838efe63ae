"""Figures of the chapter "A CIFAR-10 speedrun" (chapter 18). Every function returns a Figure and never shows it.

Whitening filters are drawn as small RGB tiles around grey (grey = 0), the patch
spectrum on a log axis, an ablation as two bar panels (accuracy and time),
accuracy against wall-clock time, and the spread of accuracy over seeds.
Accuracies are given as fractions in [0, 1] and drawn in percent.
"""
from __future__ import annotations

import math
import numbers
from typing import Mapping, Optional, Sequence, Tuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

__all__ = ["plot_whitening_filters", "plot_patch_spectrum", "plot_ablation", "plot_time_accuracy",
           "plot_seed_spread", "speedrun_history", "LiveSpeedrun"]

_BASE = "tab:orange"       # the baseline / the recipe as a whole
_OTHER = "tab:blue"


def _np(a, name: str) -> np.ndarray:
    """A real-valued float64 array, or a TypeError naming ``name``."""
    if hasattr(a, "detach") and hasattr(a, "numpy"):        # a torch tensor
        a = a.detach().cpu().numpy()
    if isinstance(a, (str, bytes, Mapping)) or a is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(a).__name__}; "
                        f"pass a NumPy array, a list or a torch tensor")
    try:
        arr = np.asarray(a)
    except Exception:                                        # ragged nested lists
        raise TypeError(f"{name} must be an array of numbers, got {type(a).__name__} that NumPy cannot "
                        f"turn into an array; pass a flat list of numbers") from None
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}; convert it with "
                        f"np.asarray({name}, dtype=float)")
    return arr.astype(np.float64)


def _fraction(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be an accuracy in [0, 1], got {name}={value!r}; "
                         f"give fractions, e.g. 0.94 for 94%")
    return float(value)


def plot_whitening_filters(weight, *, title: Optional[str] = None) -> Figure:
    """The first half of a whitening layer's filters (the ``+f`` ones) as small images around grey.

    :func:`course_lib.speedrun.whitening_filters` returns every filter twice, ``+f``
    then ``-f``; only the first half is drawn. Each filter is rescaled on its own,
    symmetrically about grey: ``0.5 + w / (2 max|w|)``, so grey means 0, brighter
    than grey a positive weight and darker a negative one (per colour channel for
    RGB filters). Tiles are drawn with nearest-neighbour interpolation, so a 2 x 2
    filter shows as four clean squares.

    Parameters
    ----------
    weight : array or Tensor, shape (F, C, k, k)
        The conv weight, C = 3 (drawn in colour) or C = 1 (drawn in grey); F even.
    title : str, optional
        Default: how many filters are shown and their size.

    Returns
    -------
    Figure
        One axes per drawn filter (F / 2 of them), titled with the filter's index.

    Examples
    --------
    >>> w = np.random.default_rng(0).standard_normal((6, 3, 2, 2))
    >>> fig = plot_whitening_filters(np.concatenate([w, -w]))
    >>> len(fig.axes), fig.axes[0].get_title()
    (6, '0')
    """
    w = _np(weight, "weight")
    if w.ndim != 4 or w.shape[1] not in (1, 3) or w.shape[2] != w.shape[3] or w.shape[2] < 1:
        raise ValueError(f"weight must have shape (F, C, k, k) with C = 1 or 3, got {w.shape}; pass the "
                         f"conv layer's weight, e.g. net.whiten.weight")
    if w.shape[0] < 2 or w.shape[0] % 2:
        raise ValueError(f"weight must hold an even number F >= 2 of filters (+f then -f), got F={w.shape[0]}; "
                         f"pass the whole layer, e.g. net.whiten.weight")
    if not np.isfinite(w).all():
        raise ValueError("weight must be finite, got NaN or inf values; check the whitening eps")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")
    n, c, k = w.shape[0] // 2, w.shape[1], w.shape[2]
    half = w[:n]
    scale = np.abs(half).reshape(n, -1).max(axis=1)
    tiles = 0.5 + half / (2 * np.where(scale > 0, scale, 1.0))[:, None, None, None]   # (n, C, k, k) in [0, 1]
    ncols = min(n, max(6, math.ceil(1.5 * math.sqrt(n))))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(0.95 * ncols + 0.3, 1.05 * nrows + 0.6), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            fig.delaxes(ax)
            continue
        tile = tiles[i].transpose(1, 2, 0)                                  # (k, k, C)
        if c == 1:
            ax.imshow(tile[:, :, 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        else:
            ax.imshow(np.clip(tile, 0.0, 1.0), interpolation="nearest")
        ax.set_title(str(i), fontsize=8, pad=2)
        ax.set_xticks([])
        ax.set_yticks([])
    if title is None:
        title = f"{n} whitening filters of {k} x {k} patches (each with its negative, not shown); grey = 0"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_patch_spectrum(eigenvalues, *, eps: Optional[float] = None) -> Figure:
    """Eigenvalues of the patch covariance, largest first, on a log axis, with ``eps`` as a line.

    Whitening divides direction i by ``sqrt(lambda_i + eps)``: the directions with
    the smallest variance are amplified most, and ``eps`` caps the gain at
    ``1 / sqrt(eps)``; directions far below the line are hardly amplified beyond that.

    Parameters
    ----------
    eigenvalues : array or Tensor, shape (D,)
        Positive variances; they are sorted largest first.
    eps : float, optional
        The whitening's ``eps`` (> 0), drawn as a dashed horizontal line.

    Returns
    -------
    Figure
        One axes with a log y axis.

    Examples
    --------
    >>> fig = plot_patch_spectrum([0.3, 0.02, 1e-4, 5.0], eps=5e-4)
    >>> fig.axes[0].get_yscale(), len(fig.axes[0].lines)
    ('log', 2)
    """
    lam = _np(eigenvalues, "eigenvalues")
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"eigenvalues must be a non-empty 1-D array (D,), got shape {lam.shape}")
    if not np.isfinite(lam).all() or (lam <= 0).any():
        raise ValueError(f"eigenvalues must be positive and finite to be drawn on a log axis, got min "
                         f"{lam.min():g}; clip them first, e.g. np.maximum(eigenvalues, 1e-12)")
    if eps is not None and (isinstance(eps, bool) or not isinstance(eps, numbers.Real)
                            or not math.isfinite(eps) or eps <= 0):
        raise ValueError(f"eps must be a number > 0 (it is drawn on a log axis), got eps={eps!r}; "
                         f"pass eps=None to leave the line out")
    lam = np.sort(lam)[::-1]
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.semilogy(np.arange(1, lam.size + 1), lam, "o-", ms=4, color=_OTHER, label="eigenvalue (variance)")
    if eps is not None:
        ax.axhline(float(eps), color="k", ls="--", lw=1,
                   label=f"eps = {eps:g} (gain capped at 1/sqrt(eps) = {1 / math.sqrt(eps):.3g}x)")
    ax.set_xlabel("direction (largest variance first)")
    ax.set_ylabel("variance (log scale)")
    ax.set_title("spectrum of the patch covariance", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_ablation(rows: Sequence[Mapping], *, baseline_label: str, metric: str = "val_acc") -> Figure:
    """One bar per variant: accuracy (left, in %) and training time (right), the baseline highlighted.

    The accuracy axis starts a little below the lowest value so that differences
    of a few tenths of a point are visible; each bar carries its value, and a
    dashed line marks the baseline's accuracy.

    Parameters
    ----------
    rows : sequence of dict
        Each with ``"label"`` (str), ``metric`` (an accuracy in [0, 1]) and
        ``"seconds"`` (>= 0). Drawn top to bottom in the order given.
    baseline_label : str
        The label of the row to highlight (the full recipe).
    metric : str
        The key of the accuracy in each row.

    Returns
    -------
    Figure
        Two axes: accuracy bars and seconds bars.

    Examples
    --------
    >>> rows = [{"label": "full recipe", "val_acc": 0.94, "seconds": 30.0},
    ...         {"label": "no flips", "val_acc": 0.925, "seconds": 29.0}]
    >>> fig = plot_ablation(rows, baseline_label="full recipe")
    >>> len(fig.axes), len(fig.axes[0].patches)
    (2, 2)
    """
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a str (a key of each row), got {type(metric).__name__}")
    if isinstance(rows, (str, Mapping)) or not isinstance(rows, Sequence) or len(rows) == 0:
        raise ValueError(f"rows must be a non-empty list of dicts with 'label', {metric!r} and 'seconds', "
                         f"got {type(rows).__name__}")
    labels, acc, secs = [], [], []
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping) or not {"label", metric, "seconds"} <= set(row):
            raise ValueError(f"rows[{i}] must be a dict with keys 'label', {metric!r} and 'seconds', got {row!r}")
        if not isinstance(row["label"], str):
            raise TypeError(f"rows[{i}]['label'] must be a str, got {type(row['label']).__name__}")
        labels.append(row["label"])
        acc.append(_fraction(f"rows[{i}][{metric!r}]", row[metric]))
        s = row["seconds"]
        if isinstance(s, bool) or not isinstance(s, numbers.Real) or not math.isfinite(s) or s < 0:
            raise ValueError(f"rows[{i}]['seconds'] must be a number >= 0, got {s!r}")
        secs.append(float(s))
    if len(set(labels)) != len(labels):
        raise ValueError(f"rows must have distinct labels, got {labels}")
    if baseline_label not in labels:
        raise ValueError(f"baseline_label must be one of the rows' labels {labels}, got {baseline_label!r}")
    b = labels.index(baseline_label)
    pct = 100 * np.asarray(acc)
    colours = [_BASE if i == b else _OTHER for i in range(len(labels))]
    y = np.arange(len(labels))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 0.45 * len(labels) + 1.6), sharey=True,
                                 gridspec_kw=dict(width_ratios=[2, 1]))
    lo, hi = float(pct.min()), float(pct.max())
    left = max(0.0, lo - max(0.5, 0.25 * (hi - lo)))
    right = min(100.0, hi + max(0.4, 0.15 * (hi - lo)))
    a1.barh(y, pct - left, left=left, color=colours)
    for yi, v in zip(y, pct):
        a1.text(v, yi, f" {v:.2f}%", va="center", fontsize=8)
    a1.axvline(pct[b], color=_BASE, ls="--", lw=1)
    a1.set_xlim(left, right + 0.12 * (right - left))       # room for the written values
    a1.set_xlabel(f"{metric} (%)")
    a1.set_title("accuracy (axis starts near the lowest value)", fontsize=10)
    a2.barh(y, secs, color=colours)
    for yi, s in zip(y, secs):
        a2.text(s, yi, f" {s:.3g}", va="center", fontsize=8)
    a2.set_xlim(0, max(secs) * 1.25 if max(secs) > 0 else 1.0)
    a2.set_xlabel("training time (s)")
    a2.set_title("time", fontsize=10)
    a1.set_yticks(y)
    a1.set_yticklabels(labels)
    a1.get_yticklabels()[b].set_fontweight("bold")
    a1.invert_yaxis()
    for a in (a1, a2):
        a.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def plot_time_accuracy(curves: Mapping[str, Tuple[Sequence[float], Sequence[float]]], *,
                       target: Optional[float] = None) -> Figure:
    """Accuracy (%) against wall-clock minutes, one line with markers per run.

    Parameters
    ----------
    curves : dict name -> (seconds, accuracies)
        Two sequences of the same length: elapsed training seconds and
        accuracies in [0, 1] (e.g. after each epoch).
    target : float, optional
        An accuracy in [0, 1] drawn as a labelled dashed line (e.g. 0.94).

    Returns
    -------
    Figure
        One axes, one line per curve (plus the target line).

    Examples
    --------
    >>> fig = plot_time_accuracy({"recipe": ([10, 20, 30], [0.8, 0.9, 0.94])}, target=0.94)
    >>> fig.axes[0].get_xlabel(), len(fig.axes[0].lines)
    ('training time (minutes)', 2)
    """
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError(f"curves must be a non-empty dict name -> (seconds, accuracies), got "
                         f"{type(curves).__name__}")
    if target is not None:
        target = _fraction("target", target)
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, pair in curves.items():
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"curves[{name!r}] must be a pair (seconds, accuracies), got {type(pair).__name__}")
        t, a = _np(pair[0], f"curves[{name!r}] seconds"), _np(pair[1], f"curves[{name!r}] accuracies")
        if t.ndim != 1 or t.shape != a.shape or t.size == 0:
            raise ValueError(f"curves[{name!r}] must hold two non-empty 1-D sequences of the same length, got "
                             f"shapes {t.shape} and {a.shape}")
        if not np.isfinite(t).all() or (t < 0).any():
            raise ValueError(f"curves[{name!r}] seconds must be finite and >= 0")
        if not np.isfinite(a).all() or (a < 0).any() or (a > 1).any():
            raise ValueError(f"curves[{name!r}] accuracies must be in [0, 1], got min {a.min():g}, "
                             f"max {a.max():g}; give fractions, e.g. 0.94 for 94%")
        ax.plot(t / 60.0, 100 * a, marker="o", ms=4, label=str(name))
    if target is not None:
        ax.axhline(100 * target, color="k", ls="--", lw=1, label=f"target {100 * target:.4g}%")
    ax.set_xlabel("training time (minutes)")
    ax.set_ylabel("accuracy (%)")
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_seed_spread(accuracies, *, label: str) -> Figure:
    """Accuracy of every seed as a dot, with the mean (line) and +/- one standard deviation (band).

    The standard deviation is the sample one (``ddof=1``), so at least two seeds
    are needed. The dots are spread vertically by a fixed jitter so that equal
    values stay visible.

    Parameters
    ----------
    accuracies : sequence of float, shape (S,)
        One accuracy in [0, 1] per seed (S >= 2).
    label : str
        What was run (e.g. ``"full recipe, 10 seeds"``), written as the y label.

    Returns
    -------
    Figure
        One axes: S dots, a mean line and a shaded band.

    Examples
    --------
    >>> fig = plot_seed_spread([0.938, 0.941, 0.944, 0.940], label="recipe")
    >>> len(fig.axes[0].collections[0].get_offsets())
    4
    """
    if not isinstance(label, str):
        raise TypeError(f"label must be a str, got {type(label).__name__}")
    a = _np(accuracies, "accuracies")
    if a.ndim != 1 or a.size < 2:
        raise ValueError(f"accuracies must be a 1-D sequence of at least 2 seeds' accuracies, got shape "
                         f"{a.shape}; run more seeds")
    if not np.isfinite(a).all() or (a < 0).any() or (a > 1).any():
        raise ValueError(f"accuracies must be in [0, 1], got min {a.min():g}, max {a.max():g}; "
                         f"give fractions, e.g. 0.94 for 94%")
    pct = 100 * a
    mean, std = float(pct.mean()), float(pct.std(ddof=1))
    jitter = np.random.default_rng(0).uniform(-0.25, 0.25, a.size)      # fixed: the same figure every time
    fig, ax = plt.subplots(figsize=(7, 2.2))
    ax.axvspan(mean - std, mean + std, color=_OTHER, alpha=0.15, label=f"mean +/- 1 std ({std:.2f} points)")
    ax.axvline(mean, color=_OTHER, lw=1.5, label=f"mean {mean:.2f}%")
    ax.scatter(pct, jitter, s=28, color="k", zorder=3, label=f"{a.size} seeds")
    ax.set_ylim(-1, 1)
    ax.set_yticks([0])
    ax.set_yticklabels([label])
    pad = max(0.2, 0.6 * std, 0.1 * float(np.ptp(pct)))
    ax.set_xlim(min(pct.min(), mean - std) - pad, max(pct.max(), mean + std) + pad)
    ax.set_xlabel("accuracy (%)")
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def speedrun_history(entries: Sequence[Mapping]) -> dict:
    """Turn :func:`course_lib.speedrun.train_speedrun`'s per-epoch entries into :func:`plot_history`'s dict.

    Accuracies become top-1 error rates (``1 - acc``); there are no top-5 or
    validation-loss curves.

    Parameters
    ----------
    entries : sequence of dict
        Each with ``epoch``, ``train_loss``, ``train_acc`` and optionally ``val_acc``.

    Returns
    -------
    dict of lists with the keys of :class:`course_lib.training.History`.

    Examples
    --------
    >>> speedrun_history([{"epoch": 1, "train_loss": 2.0, "train_acc": 0.25, "val_acc": 0.5}])["val_top1"]
    [0.5]
    """
    if isinstance(entries, Mapping) or not isinstance(entries, Sequence):
        raise TypeError(f"entries must be a list of per-epoch dicts, got {type(entries).__name__}")
    for e in entries:
        if not isinstance(e, Mapping) or not {"epoch", "train_loss", "train_acc"} <= set(e):
            raise ValueError(f"each entry needs 'epoch', 'train_loss' and 'train_acc', got {e!r}")
    has_val = bool(entries) and all("val_acc" in e for e in entries)
    return {"epoch": [e["epoch"] for e in entries], "train_loss": [e["train_loss"] for e in entries],
            "train_top1": [1 - e["train_acc"] for e in entries], "train_top5": [], "val_loss": [],
            "val_top1": [1 - e["val_acc"] for e in entries] if has_val else [], "val_top5": []}


class LiveSpeedrun:
    """An ``on_epoch_end`` callback for :func:`course_lib.speedrun.train_speedrun` that redraws the curves.

    It collects the entries (``self.entries``) and hands them to
    :class:`course_lib.viz.classification.LiveHistory`, which replaces one figure
    in the notebook after every epoch; outside a notebook it only collects.

    Examples
    --------
    >>> live = LiveSpeedrun("demo")
    >>> live({"epoch": 1, "seconds": 3.0, "train_loss": 2.0, "train_acc": 0.3, "val_acc": 0.4})
    >>> len(live.entries)
    1
    """

    def __init__(self, title: str = "", *, val_label: str = "validation"):
        from .classification import LiveHistory
        self.entries: list = []
        self._live = LiveHistory(title, val_label=val_label)

    def __call__(self, entry: Mapping) -> None:
        self.entries.append(dict(entry))
        self._live(speedrun_history(self.entries))
