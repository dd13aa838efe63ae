"""Figures of the chapter "Batch normalisation". Every function returns a Figure and never shows it.

Import from here (``from course_lib.viz.batchnorm import plot_channel_histograms``);
:class:`LiveConvergence` redraws one figure of validation accuracy against
mini-batches while several runs train, so JupyterLab shows the curves growing.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

__all__ = ["plot_channel_histograms", "plot_convergence", "plot_lr_sweep", "plot_batch_size_effect",
           "LiveConvergence"]


def _as_np(a) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


def plot_channel_histograms(before, after, channels: Sequence[int] = (0, 1, 2, 3), *,
                            title: str = "") -> Figure:
    """Histograms of a few channels' values before and after batch norm.

    Parameters
    ----------
    before, after : array, shape (N, C, H, W)
    channels : channel indices to show (one colour each)

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(3, 2, (8, 4, 5, 5))
    >>> fig = plot_channel_histograms(x, (x - 3) / 2)
    >>> len(fig.axes)
    2
    """
    b, a = _as_np(before), _as_np(after)
    if b.shape != a.shape or b.ndim < 2:
        raise ValueError(f"before and after must be arrays of the same shape (N, C, ...), got {b.shape} and "
                         f"{a.shape}")
    channels = list(channels)
    if not channels or any(not 0 <= int(c) < b.shape[1] for c in channels):
        raise ValueError(f"channels must be indices in 0..{b.shape[1] - 1}, got {channels}")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for ax, data, name in [(axes[0], b, "before batch norm"), (axes[1], a, "after batch norm (training mode)")]:
        for c in channels:
            vals = data[:, int(c)].ravel()
            ax.hist(vals, bins=40, histtype="step", linewidth=1.5, density=True,
                    label=f"channel {c}: mean {vals.mean():.2f}, std {vals.std():.2f}")
        ax.set_title(name)
        ax.set_xlabel("value")
        ax.set_ylabel("density")
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _curve(h):
    h = h.as_dict() if hasattr(h, "as_dict") else h
    steps = np.asarray(h["steps"], dtype=float)
    acc = 1.0 - np.asarray(h["val_top1"], dtype=float)
    return steps, acc


def plot_convergence(histories: Mapping[str, object], threshold: Optional[float] = None, *,
                     title: str = "", ax=None) -> Figure:
    """Validation accuracy against mini-batches for several runs, with the threshold line.

    Parameters
    ----------
    histories : dict name -> History (or dict with ``steps`` and ``val_top1``)
    threshold : float, optional
        An accuracy in (0, 1) drawn as a dashed line; each run's first crossing is marked.

    Examples
    --------
    >>> fig = plot_convergence({"a": {"steps": [10, 20], "val_top1": [0.5, 0.1]}}, 0.8)
    >>> fig.axes[0].get_xlabel()
    'mini-batches'
    """
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError("histories must be a non-empty dict name -> History")
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4))
    else:
        fig = ax.figure
    for name, h in histories.items():
        steps, acc = _curve(h)
        line, = ax.plot(steps, acc, marker=".", label=name)
        if threshold is not None:
            hit = np.nonzero(acc >= threshold)[0]
            if hit.size:
                ax.plot(steps[hit[0]], acc[hit[0]], "o", ms=9, mfc="none", color=line.get_color())
    if threshold is not None:
        ax.axhline(threshold, color="k", ls="--", lw=1, label=f"threshold {threshold:.0%}")
    ax.set_xlabel("mini-batches")
    ax.set_ylabel("validation accuracy")
    ax.set_ylim(0, 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_lr_sweep(results: Mapping[str, Mapping[float, float]], *, ylabel: str = "validation accuracy",
                  title: str = "") -> Figure:
    """One line per network over the learning rates (log axis).

    Parameters
    ----------
    results : dict network name -> {learning rate: value}

    Examples
    --------
    >>> fig = plot_lr_sweep({"plain": {0.01: 0.9, 0.1: 0.95}, "batch norm": {0.01: 0.93, 0.1: 0.97}})
    >>> fig.axes[0].get_xscale()
    'log'
    """
    if not isinstance(results, Mapping) or not results:
        raise ValueError("results must be a non-empty dict name -> {learning rate: value}")
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for name, per_lr in results.items():
        lrs = sorted(per_lr)
        ax.plot(lrs, [per_lr[lr] for lr in lrs], marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_batch_size_effect(batch_sizes: Sequence[int], spreads: Sequence[float],
                           train_mode_accuracy: Sequence[float], eval_accuracy: float, *,
                           title: str = "") -> Figure:
    """Two panels: the spread of a batch mean, and accuracy with batch statistics, against the batch size.

    Examples
    --------
    >>> fig = plot_batch_size_effect([2, 8, 32], [1.0, 0.5, 0.25], [0.5, 0.8, 0.9], 0.95)
    >>> len(fig.axes)
    2
    """
    bs = np.asarray(batch_sizes, dtype=float)
    sp, acc = np.asarray(spreads, dtype=float), np.asarray(train_mode_accuracy, dtype=float)
    if not (bs.shape == sp.shape == acc.shape) or bs.ndim != 1 or bs.size == 0:
        raise ValueError("batch_sizes, spreads and train_mode_accuracy must be 1-D and of the same length")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.4))
    a1.loglog(bs, sp, "o-", label="measured")
    a1.loglog(bs, sp[0] * np.sqrt(bs[0] / bs), "k--", lw=1, label="1 / sqrt(batch size)")
    a1.set_xlabel("batch size")
    a1.set_ylabel("std of the batch mean")
    a1.set_title("noise of the batch statistics", fontsize=10)
    a1.legend(fontsize=8)
    a2.semilogx(bs, acc, "o-", label="training mode (batch statistics)")
    a2.axhline(eval_accuracy, color="k", ls="--", lw=1, label="evaluation mode (running statistics)")
    a2.set_xlabel("batch size at evaluation")
    a2.set_ylabel("validation accuracy")
    a2.set_ylim(0, 1)
    a2.set_title("normalising with the batch's own statistics", fontsize=10)
    a2.legend(fontsize=8, loc="lower right")
    for a in (a1, a2):
        a.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


class LiveConvergence:
    """Redraw :func:`plot_convergence` for all runs so far, every time a run reports.

    Use ``live(name, history)`` as the ``on_epoch_end`` of each run (with
    ``functools.partial`` or a lambda). In a notebook one output area is kept and
    replaced; elsewhere nothing is drawn. ``histories`` holds the latest history
    of each run.

    Examples
    --------
    >>> live = LiveConvergence(0.9, title="demo")
    >>> live("run", {"steps": [10], "val_top1": [0.3]})
    >>> list(live.histories)
    ['run']
    """

    def __init__(self, threshold: Optional[float] = None, *, title: str = ""):
        self.threshold = threshold
        self.title = title
        self.histories: dict = {}
        self._handle = None

    def __call__(self, name: str, history) -> None:
        h = history.as_dict() if hasattr(history, "as_dict") else history
        self.histories[name] = {"steps": list(h["steps"]), "val_top1": list(h["val_top1"])}
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:  # pragma: no cover
            return
        if get_ipython() is None:
            return
        fig = plot_convergence(self.histories, self.threshold, title=self.title)
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        plt.close(fig)
