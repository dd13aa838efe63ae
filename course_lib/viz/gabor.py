"""Figures for Gabor filters and the visual cortex (chapter 6). Every function returns a Figure.

Kernels use ``RdBu_r`` on fixed limits [-1, 1] (white = 0); rectified responses and
energies use ``gray`` (black = 0); colour filters are drawn with grey = 0.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .._checks import check_array, check_int

__all__ = ["show_kernel_grid", "show_kernels_and_responses", "show_cell_maps", "plot_tuning_curves",
           "show_filter_fits", "plot_r2_groups", "signed_rgb"]


def _np(a) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=float)


def _check_mapping(name: str, value) -> None:
    if not isinstance(value, Mapping) or not value:
        raise TypeError(f"{name} must be a non-empty dict, got {type(value).__name__}")


def signed_rgb(f, scale: Optional[float] = None) -> np.ndarray:
    """A signed colour filter (3, k, k) as an image (k, k, 3) in [0, 1], grey = 0.

    Parameters
    ----------
    f : array, shape (3, k, k)
    scale : float, optional
        The value drawn at full colour (default: the filter's own largest magnitude); pass one
        scale to draw a filter and its fit alike.

    Examples
    --------
    >>> signed_rgb(np.zeros((3, 2, 2)))[0, 0].tolist()
    [0.5, 0.5, 0.5]
    """
    f = check_array("f", _np(f), ndim=3, shape_hint="(3, k, k)")
    if f.shape[0] != 3:
        raise ValueError(f"f must have 3 colour channels first, got shape {f.shape}")
    s = float(np.abs(f).max()) if scale is None else float(scale)
    if not s > 0:
        s = 1.0
    return np.clip(0.5 + 0.5 * np.moveaxis(f, 0, -1) / s, 0, 1)


def show_kernel_grid(kernels, *, row_labels: Optional[Sequence[str]] = None,
                     col_labels: Optional[Sequence[str]] = None, titles: Optional[Sequence[Sequence[str]]] = None,
                     title: Optional[str] = None, cell: float = 1.2) -> Figure:
    """A grid of signed kernels on one fixed scale [-1, 1] (``RdBu_r``, white = 0).

    Parameters
    ----------
    kernels : array, shape (R, C, k, k)
    row_labels, col_labels : sequence of str, optional
        Written left of each row / above each column.
    titles : R x C nested sequence of str, optional
        One title per panel (instead of ``col_labels``).

    Examples
    --------
    >>> fig = show_kernel_grid(np.zeros((2, 3, 5, 5)), col_labels=["a", "b", "c"])
    >>> len(fig.axes), fig.axes[0].images[0].get_clim()
    (6, (-1.0, 1.0))
    """
    k = check_array("kernels", _np(kernels), ndim=4, shape_hint="(rows, cols, k, k)")
    R, C = k.shape[:2]
    for name, labels, n in (("row_labels", row_labels, R), ("col_labels", col_labels, C)):
        if labels is not None and len(labels) != n:
            raise ValueError(f"{name} must have {n} entries, got {len(labels)}")
    if titles is not None and (len(titles) != R or any(len(t) != C for t in titles)):
        raise ValueError(f"titles must be {R} rows of {C} strings")
    fig, axes = plt.subplots(R, C, figsize=(cell * C + 0.4, cell * R + 0.6), squeeze=False)
    for i in range(R):
        for j in range(C):
            ax = axes[i, j]
            ax.imshow(k[i, j], cmap="RdBu_r", vmin=-1, vmax=1)
            ax.set_xticks([]); ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
            if titles is not None:
                ax.set_title(titles[i][j], fontsize=9)
            elif i == 0 and col_labels is not None:
                ax.set_title(col_labels[j], fontsize=10)
            if j == 0 and row_labels is not None:
                ax.set_ylabel(row_labels[i], fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_kernels_and_responses(kernels, responses, *, titles: Optional[Sequence[str]] = None,
                               title: Optional[str] = None) -> Figure:
    """Kernels (top row, [-1, 1]) above their signed responses (bottom row, each symmetric about 0).

    Examples
    --------
    >>> fig = show_kernels_and_responses([np.eye(3)], [np.ones((4, 4))], titles=["k"])
    >>> fig.axes[0].get_title(), fig.axes[1].images[0].get_clim()
    ('k', (-1.0, 1.0))
    """
    kernels, responses = list(kernels), list(responses)
    if not kernels or len(kernels) != len(responses):
        raise ValueError(f"need as many responses as kernels (at least one), got {len(kernels)} and "
                         f"{len(responses)}")
    if titles is not None and len(titles) != len(kernels):
        raise ValueError(f"titles must have {len(kernels)} entries, got {len(titles)}")
    n = len(kernels)
    fig, axes = plt.subplots(2, n, figsize=(2.75 * n, 5.6), squeeze=False)
    for j, (kern, resp) in enumerate(zip(kernels, responses)):
        kern = check_array(f"kernels[{j}]", _np(kern), ndim=2, shape_hint="(k, k)")
        resp = check_array(f"responses[{j}]", _np(resp), ndim=2, shape_hint="(H, W)")
        v = float(np.abs(resp).max()) or 1.0
        axes[0, j].imshow(kern, cmap="RdBu_r", vmin=-1, vmax=1)
        axes[1, j].imshow(resp, cmap="RdBu_r", vmin=-v, vmax=v)
        if titles is not None:
            axes[0, j].set_title(titles[j], fontsize=8)
        for ax in axes[:, j]:
            ax.set_axis_off()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_cell_maps(images, maps, *, row_titles: Optional[Sequence[str]] = None,
                   col_titles: Optional[Sequence[str]] = None, shared_rows: bool = True,
                   signed_first: bool = False, title: Optional[str] = None, cell: float = 1.5) -> Figure:
    """One row per image: the image, then its response maps (grey, black = 0).

    Parameters
    ----------
    images : sequence of (H, W) arrays
        Drawn in the first column (grey; signed with ``RdBu_r`` on [-1, 1] if ``signed_first``).
    maps : sequence of sequences of (H', W') arrays
        ``maps[r]`` are the non-negative responses drawn next to ``images[r]``.
    shared_rows : bool
        One grey scale per row (compare the maps of one image) or one per panel.

    Examples
    --------
    >>> img = np.ones((5, 5))
    >>> fig = show_cell_maps([img], [[img, 2 * img]], col_titles=["a", "b"])
    >>> fig.axes[1].get_title(), fig.axes[2].images[0].get_clim()
    ('a', (0.0, 2.0))
    """
    images, maps = list(images), [list(m) for m in maps]
    if not images or len(images) != len(maps):
        raise ValueError(f"need one list of maps per image (at least one image), got {len(images)} images "
                         f"and {len(maps)} lists")
    ncols = 1 + max(len(m) for m in maps)
    if col_titles is not None and len(col_titles) != ncols - 1:
        raise ValueError(f"col_titles must have {ncols - 1} entries, got {len(col_titles)}")
    if row_titles is not None and len(row_titles) != len(images):
        raise ValueError(f"row_titles must have {len(images)} entries, got {len(row_titles)}")
    fig, axes = plt.subplots(len(images), ncols, figsize=(cell * ncols, cell * len(images) + 0.7), squeeze=False)
    for r, (img, row) in enumerate(zip(images, maps)):
        img = check_array(f"images[{r}]", _np(img), ndim=2, shape_hint="(H, W)")
        if signed_first:
            axes[r, 0].imshow(img, cmap="RdBu_r", vmin=-1, vmax=1)
        else:
            axes[r, 0].imshow(img, cmap="gray")
        if row_titles is not None:
            axes[r, 0].set_title(row_titles[r], fontsize=9)
        row = [check_array(f"maps[{r}][{j}]", _np(m), ndim=2, shape_hint="(H, W)") for j, m in enumerate(row)]
        top = max(float(m.max()) for m in row) or 1.0
        for j, m in enumerate(row):
            axes[r, j + 1].imshow(m, cmap="gray", vmin=0, vmax=top if shared_rows else (float(m.max()) or 1.0))
            if r == 0 and col_titles is not None:
                axes[r, j + 1].set_title(col_titles[j], fontsize=9)
    for ax in axes.flat:
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_tuning_curves(thetas, curves: Mapping[str, Sequence[float]], *, stimuli: Optional[Mapping] = None,
                       normalise: str = "peak", title: str = "orientation tuning",
                       ylabel: Optional[str] = None) -> Figure:
    """Orientation tuning curves against the filter orientation (degrees), with the stimuli beside them.

    Parameters
    ----------
    thetas : sequence of float
        Filter orientations in radians.
    curves : dict of str -> sequence
        One curve per name, as long as ``thetas``.
    stimuli : dict of str -> (H, W) array, optional
        Drawn in grey to the left of the plot.
    normalise : {"peak", "mean", "none"}
        Divide each curve by its maximum, by its mean, or not at all.

    Examples
    --------
    >>> t = np.linspace(0, np.pi, 4, endpoint=False)
    >>> fig = plot_tuning_curves(t, {"a": [1, 2, 1, 0.5]}, stimuli={"s": np.eye(4)})
    >>> fig.axes[-1].get_xlabel()
    'filter orientation θ (degrees)'
    """
    thetas = np.asarray(thetas, dtype=float)
    _check_mapping("curves", curves)
    if normalise not in ("peak", "mean", "none"):
        raise ValueError(f"normalise must be 'peak', 'mean' or 'none', got {normalise!r}")
    for name, c in curves.items():
        if len(c) != len(thetas):
            raise ValueError(f"curves[{name!r}] has {len(c)} values, thetas has {len(thetas)}")
    stimuli = dict(stimuli or {})
    n = len(stimuli)
    fig, axes = plt.subplots(1, n + 1, figsize=(2.6 * n + 6.5, 3.2), width_ratios=[1] * n + [2.4], squeeze=False)
    axes = axes[0]
    for ax, (name, img) in zip(axes, stimuli.items()):
        ax.imshow(check_array(f"stimuli[{name!r}]", _np(img), ndim=2, shape_hint="(H, W)"), cmap="gray")
        ax.set_title(name, fontsize=9); ax.set_axis_off()
    ax = axes[-1]
    for (name, c), style in zip(curves.items(), ["-", "--", ":", "-."] * 4):
        c = np.asarray(c, dtype=float)
        scale = {"peak": c.max(), "mean": c.mean(), "none": 1.0}[normalise] or 1.0
        ax.plot(np.degrees(thetas), c / scale, style, lw=2, label=name)
    default = {"peak": "response (peak = 1)", "mean": "response / its average over θ", "none": "response"}
    ax.set(xlabel="filter orientation θ (degrees)", ylabel=ylabel or default[normalise], title=title,
           xticks=range(0, 181, 30))
    ax.legend(fontsize=8); ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def show_filter_fits(filters, fitted, r2: Sequence[float], *, ncols: int = 8,
                     title: Optional[str] = None) -> Figure:
    """Colour filters next to their fitted Gabor functions, best fits first (grey = 0, one scale per pair).

    Parameters
    ----------
    filters, fitted : arrays, shape (N, 3, k, k)
    r2 : sequence of float, length N
        Fraction of variance explained, written above each filter.
    ncols : int
        Pairs per row.

    Examples
    --------
    >>> f = np.random.default_rng(0).standard_normal((2, 3, 5, 5))
    >>> fig = show_filter_fits(f, f, [0.5, 0.9], ncols=2)
    >>> fig.axes[0].get_title()
    'R²=0.90'
    """
    f = check_array("filters", _np(filters), ndim=4, shape_hint="(N, 3, k, k)")
    g = check_array("fitted", _np(fitted), ndim=4, shape_hint="(N, 3, k, k)")
    r2 = np.asarray(r2, dtype=float)
    if g.shape != f.shape or len(r2) != len(f):
        raise ValueError(f"filters {f.shape}, fitted {g.shape} and r2 ({len(r2)}) must describe the same filters")
    ncols = check_int("ncols", ncols, minimum=1)
    order = np.argsort(-r2)
    nrows = -(-len(order) // ncols)
    fig, axes = plt.subplots(nrows, 2 * ncols, figsize=(13 * ncols / 8, 1.0 * nrows + 0.5), squeeze=False)
    for n, i in enumerate(order):
        r, c = divmod(n, ncols)
        scale = float(np.abs(f[i]).max())
        axes[r, 2 * c].imshow(signed_rgb(f[i], scale))
        axes[r, 2 * c + 1].imshow(signed_rgb(g[i], scale))
        axes[r, 2 * c].set_title(f"R²={r2[i]:.2f}", fontsize=8)
        axes[r, 2 * c + 1].set_title("fit", fontsize=8)
    for ax in axes.flat:
        ax.set_axis_off()
    fig.suptitle(title or "each learned filter (left) next to its nearest Gabor function (right), best fits first")
    fig.tight_layout()
    return fig


def plot_r2_groups(groups: Mapping[str, Sequence[float]], *, bins: int = 20,
                   title: str = "how Gabor-like are the filters?") -> Figure:
    """Overlaid histograms of R² (fraction of variance explained by the nearest Gabor), one per group.

    Examples
    --------
    >>> fig = plot_r2_groups({"a": [0.1, 0.5], "b": [0.9]})
    >>> fig.axes[0].get_xlabel()
    'fraction of variance explained by the nearest Gabor (R²)'
    """
    _check_mapping("groups", groups)
    nb = check_int("bins", bins, minimum=1)
    values = [np.asarray(v, dtype=float) for v in groups.values()]
    lo = min([0.0] + [float(v.min()) for v in values if len(v)])
    edges = np.linspace(lo, 1, nb + 1)
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    for (name, v) in zip(groups, values):
        ax.hist(v, bins=edges, alpha=0.55, label=f"{name} ({len(v)})")
    ax.set(xlabel="fraction of variance explained by the nearest Gabor (R²)", ylabel="number of filters",
           title=title)
    ax.legend(fontsize=8); ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
