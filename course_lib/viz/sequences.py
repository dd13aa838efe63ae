"""Figures for convolutions beyond images: 1D signals and their responses, causal stacks, videos.

Every function returns a matplotlib Figure and never shows it. Signed responses
use ``RdBu_r`` with limits symmetric about zero; video frames use ``gray``.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

__all__ = ["plot_signals", "plot_signal_responses", "plot_causal_stack", "show_video_frames"]


def _np(a) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def plot_signals(x, y, classes: Sequence[str], *, per_class: int = 2,
                 position=None, title: Optional[str] = None) -> Figure:
    """A few signals of every class, one panel per class (input (N, 1, L) and labels (N,)).

    Examples
    --------
    >>> x = np.zeros((4, 1, 50)); y = np.array([0, 1, 0, 1])
    >>> len(plot_signals(x, y, ["a", "b"], per_class=1).axes)
    2
    """
    x, y = _np(x), _np(y)
    if x.ndim != 3 or x.shape[1] != 1 or len(y) != len(x):
        raise ValueError(f"x must be (N, 1, L) with one label per signal, got x {x.shape}, y {y.shape}")
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1:
        raise ValueError(f"per_class must be an int >= 1, got {per_class!r}")
    pos = None if position is None else _np(position)
    fig, axes = plt.subplots(1, len(classes), figsize=(3.2 * len(classes), 2.6), sharey=True, squeeze=False)
    for c, ax in enumerate(axes[0]):
        idx = np.flatnonzero(y == c)[:per_class]
        for i in idx:
            line, = ax.plot(x[i, 0], lw=0.9)
            if pos is not None and pos[i] >= 0:
                ax.axvline(pos[i], color=line.get_color(), ls=":", lw=1)
        ax.set(title=f"{c}: {classes[c]}", xlabel="time step t")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("value")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_signal_responses(signal, responses, names: Sequence[str], *, title: Optional[str] = None) -> Figure:
    """A signal (L,) above the responses (K, L') of K filters to it, aligned at the left.

    Examples
    --------
    >>> len(plot_signal_responses(np.zeros(20), np.zeros((2, 18)), ["a", "b"]).axes)
    3
    """
    s, r = _np(signal).ravel(), _np(responses)
    if r.ndim != 2 or len(names) != r.shape[0]:
        raise ValueError(f"responses must be (K, L') with K names, got {r.shape} and {len(names)} names")
    fig, axes = plt.subplots(1 + r.shape[0], 1, figsize=(8, 1.3 * (1 + r.shape[0]) + 0.4), sharex=True)
    axes[0].plot(s, color="k", lw=0.9)
    axes[0].set_ylabel("input", fontsize=8)
    lim = float(np.abs(r).max()) or 1.0
    for ax, row, name in zip(axes[1:], r, names):
        ax.bar(np.arange(len(row)), row, width=1.0, color=np.where(row >= 0, "#c0392b", "#2166ac"))
        ax.set_ylim(-lim * 1.05, lim * 1.05)
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_ylabel(name, fontsize=8)
    axes[-1].set_xlabel("time step t (output t reads inputs t ... t + k - 1)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_causal_stack(kernel_size: int, dilations: Sequence[int], *, length: Optional[int] = None,
                      title: Optional[str] = None) -> Figure:
    """The units that the last output of a stack of causal (dilated) layers depends on.

    Row 0 is the input, row l the output of layer l; filled dots are the units the last
    output reads, directly or through earlier layers, and the lines are the connections used.

    Examples
    --------
    >>> fig = plot_causal_stack(2, [1, 2, 4])
    >>> fig.axes[0].get_ylabel()
    'layer'
    """
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1:
        raise ValueError(f"kernel_size must be an int >= 1, got {kernel_size!r}")
    ds = list(dilations)
    if not ds or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in ds):
        raise ValueError(f"dilations must be a non-empty list of ints >= 1, got {dilations!r}")
    field = 1 + (kernel_size - 1) * sum(ds)
    L = length if length is not None else field + 3
    fig, ax = plt.subplots(figsize=(min(12, 0.28 * L + 2), 0.55 * (len(ds) + 1) + 1.2))
    used = {len(ds): {L - 1}}
    for layer in range(len(ds), 0, -1):
        d = ds[layer - 1]
        below = set()
        for t in used[layer]:
            for u in range(kernel_size):
                src = t - d * u
                if src >= 0:
                    below.add(src)
                    ax.plot([t, src], [layer, layer - 1], color="#c0392b", lw=0.8, alpha=0.7)
        used[layer - 1] = below
    for layer in range(len(ds) + 1):
        ts = np.arange(L)
        on = np.isin(ts, sorted(used.get(layer, set())))
        ax.scatter(ts[~on], np.full((~on).sum(), layer), s=14, facecolors="white", edgecolors="grey", zorder=3)
        ax.scatter(ts[on], np.full(on.sum(), layer), s=18, color="#c0392b", zorder=4)
    ax.set_yticks(range(len(ds) + 1))
    ax.set_yticklabels(["input"] + [f"d={d}" for d in ds])
    ax.set(xlabel="time step t", ylabel="layer",
           title=title or f"kernel {kernel_size}, dilations {ds}: the last output sees {field} inputs")
    ax.set_xlim(-0.8, L - 0.2)
    fig.tight_layout()
    return fig


def show_video_frames(videos, labels=None, classes: Optional[Sequence[str]] = None, *,
                      max_videos: int = 4, title: Optional[str] = None) -> Figure:
    """One row per video (N, 1, T, H, W), one column per frame, in ``gray``.

    Examples
    --------
    >>> fig = show_video_frames(np.zeros((2, 1, 3, 8, 8)))
    >>> len(fig.axes)
    6
    """
    v = _np(videos)
    if v.ndim != 5 or v.shape[1] != 1:
        raise ValueError(f"videos must be (N, 1, T, H, W), got shape {v.shape}")
    if isinstance(max_videos, bool) or not isinstance(max_videos, int) or max_videos < 1:
        raise ValueError(f"max_videos must be an int >= 1, got {max_videos!r}")
    n, t = min(len(v), max_videos), v.shape[2]
    fig, axes = plt.subplots(n, t, figsize=(1.1 * t + 0.6, 1.15 * n + (0.4 if title else 0)), squeeze=False)
    vmax = 255 if v.dtype == np.uint8 else max(float(v.max()), 1e-12)
    for i in range(n):
        for f in range(t):
            ax = axes[i, f]
            ax.imshow(v[i, 0, f], cmap="gray", vmin=0, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"frame {f}", fontsize=8)
        if labels is not None:
            lab = int(_np(labels)[i])
            axes[i, 0].set_ylabel(classes[lab] if classes is not None else str(lab), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
