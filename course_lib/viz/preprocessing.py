"""Figures for preprocessing and augmentation (chapter 7). Every function returns a Figure.

Grey images use ``gray``; colour images are drawn as they are (values in [0, 1]).
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .._checks import check_array

__all__ = ["show_mean_image_parts", "plot_spectrum", "show_augmentation_rows", "plot_seed_curves"]


def _np(a) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=float)


def show_mean_image_parts(mean, digits, *, title: str = "mean-image subtraction (brighter = larger magnitude)"
                          ) -> Figure:
    """The mean training image beside digits I and the positive and negative parts of I - M.

    Forsyth's fig. 17.8 redrawn: for each digit, max(I - M, 0) (ink where ink is unusual) and
    max(M - I, 0) (where digits usually have ink and this one has none), both in ``gray`` on
    [0, 1], so brighter means larger in magnitude.

    Parameters
    ----------
    mean : array, shape (H, W)
        The mean training image M, values in [0, 1].
    digits : array, shape (n, H, W)
        A few images I, values in [0, 1].
    title : str

    Returns
    -------
    Figure
        Axes: the mean, then ``n`` digits, ``n`` positive parts, ``n`` negative parts.

    Examples
    --------
    >>> fig = show_mean_image_parts(np.full((4, 4), 0.5), np.eye(4)[None].repeat(2, axis=0))
    >>> len(fig.axes), fig.axes[0].get_title()
    (7, 'mean training image M')
    """
    m = check_array("mean", _np(mean), ndim=2, shape_hint="(H, W); pick one channel")
    d = check_array("digits", _np(digits), ndim=3, shape_hint="(n, H, W)")
    if d.shape[1:] != m.shape:
        raise ValueError(f"digits must have the mean's size {m.shape}, got {d.shape[1:]}")
    n = len(d)
    if not 1 <= n <= 12:
        raise ValueError(f"digits must hold 1 to 12 images, got {n}")
    centred = d - m
    fig = plt.figure(figsize=(3 + 1.3 * n, 4.6))
    grid = fig.add_gridspec(3, n + 2, width_ratios=[2.2, 0.3] + [1] * n)
    ax = fig.add_subplot(grid[:, 0])
    ax.imshow(np.pad(m, 1), cmap="gray", vmin=0)              # a black frame, so the mean stands out
    ax.set_title("mean training image M")
    ax.set_axis_off()
    rows = [("digit I", d), ("positive part of I - M", np.maximum(centred, 0)),
            ("negative part of I - M", np.maximum(-centred, 0))]
    for r, (name, imgs) in enumerate(rows):
        for c in range(n):
            ax = fig.add_subplot(grid[r, c + 2])
            ax.imshow(imgs[c], cmap="gray", vmin=0, vmax=1)
            ax.set_axis_off()
            if c == 0:
                ax.set_title(name, fontsize=9, loc="left")
    fig.suptitle(title)
    return fig


def plot_spectrum(eigenvalues, *, title: str = "eigenvalues of the patch covariance") -> Figure:
    """Eigenvalues (variances along the principal directions), largest first, on a log scale.

    Parameters
    ----------
    eigenvalues : array, shape (D,)
        Non-negative; drawn in the order given (sort them largest first).
    title : str

    Examples
    --------
    >>> fig = plot_spectrum([4.0, 1.0, 0.25])
    >>> fig.axes[0].get_yscale()
    'log'
    """
    lam = check_array("eigenvalues", _np(eigenvalues), ndim=1, shape_hint="(D,)")
    if len(lam) == 0 or not np.isfinite(lam).all() or (lam <= 0).any():
        raise ValueError("eigenvalues must be a non-empty array of positive numbers; drop the zero ones")
    fig, ax = plt.subplots(figsize=(5.5, 3))
    ax.semilogy(np.arange(1, len(lam) + 1), lam, ".-")
    ax.set(xlabel="component (largest variance first)", ylabel="variance (log scale)", title=title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def show_augmentation_rows(rows: Mapping[str, Sequence], *, title: str = "one image under each augmentation",
                           cell: float = 1.5) -> Figure:
    """A grid of colour images, one row per operation; ``None`` leaves a cell empty.

    Parameters
    ----------
    rows : dict of str -> sequence of images
        Each image (3, H, W) or (1, 3, H, W), values in [0, 1] (NumPy or torch). The row name is
        written beside the row.
    title : str
    cell : float
        Inches per image.

    Examples
    --------
    >>> img = np.zeros((3, 4, 4))
    >>> fig = show_augmentation_rows({"flip": [img, img, None], "crop": [img, img, img]})
    >>> [ax.get_ylabel() for ax in fig.axes[::3]]
    ['flip', 'crop']
    """
    if not isinstance(rows, Mapping) or not rows:
        raise TypeError(f"rows must be a non-empty dict name -> list of images, got {type(rows).__name__}")
    ncols = max(len(v) for v in rows.values())
    fig, axes = plt.subplots(len(rows), ncols, figsize=(cell * ncols, cell * len(rows) + 0.5), squeeze=False)
    for r, (name, imgs) in enumerate(rows.items()):
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            im = imgs[c] if c < len(imgs) else None
            if im is None:
                ax.set_axis_off() if c > 0 else None
                continue
            a = _np(im)
            a = a[0] if a.ndim == 4 else a
            if a.ndim != 3 or a.shape[0] not in (1, 3):
                raise ValueError(f"rows[{name!r}][{c}] must have shape (3, H, W) or (1, 3, H, W), got {_np(im).shape}")
            ax.imshow(np.clip(a.transpose(1, 2, 0), 0, 1) if a.shape[0] == 3 else a[0], cmap="gray", vmin=0, vmax=1)
        axes[r, 0].set_ylabel(name, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_seed_curves(runs: Mapping[str, Sequence], *, val_label: str = "validation",
                     title: Optional[str] = None, colours: Sequence[str] = ("tab:red", "tab:blue", "tab:green")
                     ) -> Figure:
    """Training and held-out top-1 error per epoch, averaged over seeds, with the seeds' range shaded.

    Parameters
    ----------
    runs : dict of str -> sequence of History
        One entry per arm (e.g. "without augmentation"), one History per seed, all with the same epochs.
    val_label : str
        What the held-out curve is ("validation" or "test").
    title : str, optional

    Returns
    -------
    Figure
        Solid lines: training error (running average over each epoch); dashed: held-out error.

    Examples
    --------
    >>> from course_lib.training import History
    >>> h = History(epoch=[1, 2], train_top1=[0.5, 0.3], val_top1=[0.6, 0.5])
    >>> fig = plot_seed_curves({"plain": [h, h]})
    >>> [l.get_label() for l in fig.axes[0].get_lines()]
    ['plain: training', 'plain: validation']
    """
    if not isinstance(runs, Mapping) or not runs:
        raise TypeError(f"runs must be a non-empty dict name -> list of History, got {type(runs).__name__}")
    fig, ax = plt.subplots(figsize=(6.8, 3.8))
    for (name, hs), colour in zip(runs.items(), colours):
        hs = list(hs)
        if not hs or not all(hasattr(h, "train_top1") and hasattr(h, "val_top1") for h in hs):
            raise TypeError(f"runs[{name!r}] must be a non-empty list of History objects")
        epochs = list(hs[0].epoch)
        if any(list(h.epoch) != epochs for h in hs):
            raise ValueError(f"the runs of {name!r} must share the same epochs")
        for key, style, what in (("train_top1", "-", "training"), ("val_top1", "--", val_label)):
            ys = np.array([getattr(h, key) for h in hs], dtype=float)        # (seeds, epochs)
            ax.plot(epochs, ys.mean(axis=0), style, color=colour, label=f"{name}: {what}")
            if len(hs) > 1:
                ax.fill_between(epochs, ys.min(axis=0), ys.max(axis=0), color=colour, alpha=0.15, lw=0)
    ax.set(xlabel="epoch", ylabel="top-1 error")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        ax.set_title(title)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
