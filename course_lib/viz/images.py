"""Figures for the book. Every function returns a matplotlib Figure and never shows it.

Grey images use the ``gray`` colour map; signed quantities (kernels, feature
maps, whitened images) use ``RdBu_r`` with limits symmetric about zero, so
white always means zero, red positive and blue negative.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence, Tuple

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .._checks import check_array, check_int

__all__ = ["show_images", "show_signed", "show_filters", "show_feature_maps", "plot_history",
           "show_detections", "number_grid", "show_window_coverage", "plot_sweeps"]


def _to_numpy(a):
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def _grid(n: int, ncols: int, cell: float = 1.3, extra_h: float = 0.0):
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(cell * ncols, cell * nrows + extra_h),
                             squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    return fig, axes.flat


def _as_display(img: np.ndarray) -> np.ndarray:
    """(C, H, W) or (H, W) -> something imshow understands, floats in [0, 1] for RGB."""
    if img.ndim == 3:
        if img.shape[0] == 1:
            img = img[0]
        else:
            img = np.moveaxis(img, 0, -1)
            if img.dtype != np.uint8:
                lo, hi = float(img.min()), float(img.max())
                img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    return img


def show_images(images, labels: Optional[Sequence] = None, *, ncols: int = 8,
                class_names: Optional[Sequence[str]] = None, title: Optional[str] = None,
                cell: float = 1.3) -> Figure:
    """A grid of images with optional labels underneath.

    Parameters
    ----------
    images : array or tensor, shape (N, C, H, W) or (N, H, W)
        uint8 or float; grey (C = 1) shown with ``gray``, RGB as colour.
    labels : sequence, optional
        One label per image (ints are mapped through ``class_names``; strings shown as they are).
    ncols : int
    class_names : sequence of str, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = show_images(np.zeros((3, 1, 8, 8)), labels=[0, 1, 2])
    >>> len(fig.axes)
    3
    """
    images = check_array("images", _to_numpy(images), ndim=(3, 4), shape_hint="(N, C, H, W)")
    ncols = check_int("ncols", ncols, minimum=1)
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"labels must have one entry per image ({len(images)}), got {len(labels)}")
    fig, axes = _grid(len(images), ncols, cell, extra_h=0.4 if title else 0.0)
    for i, ax in zip(range(len(images)), axes):
        img = _as_display(images[i])
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, interpolation="nearest")
        if labels is not None:
            lab = labels[i]
            if class_names is not None and not isinstance(lab, str):
                lab = class_names[int(lab)]
            ax.set_title(str(lab), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_signed(arrays, titles: Optional[Sequence[str]] = None, *, ncols: int = 6,
                cell: float = 1.6, shared_scale: bool = False, colorbar: bool = False,
                suptitle: Optional[str] = None, colorbar_label: Optional[str] = None) -> Figure:
    """Signed 2D arrays (kernels, responses) with ``RdBu_r`` centred on zero.

    Parameters
    ----------
    arrays : sequence of 2D arrays, or array of shape (N, H, W)
    titles : sequence of str, optional
    shared_scale : bool
        One symmetric colour range for all panels (compare magnitudes) or one each.
        Use it whenever the reader is meant to compare panels.
    colorbar : bool
        Draw colour bars so magnitudes can be read: one for the whole figure with
        ``shared_scale=True``, otherwise one per panel.
    colorbar_label : str, optional
        What the colour measures (e.g. "weight"); implies ``colorbar=True``.

    Examples
    --------
    >>> fig = show_signed([np.eye(3) - 0.5, -np.eye(3)], titles=["a", "b"])
    >>> [ax.get_title() for ax in fig.axes]
    ['a', 'b']
    """
    arrays = list(arrays)
    if not arrays:
        raise ValueError("arrays must hold at least one 2D array, got an empty sequence")
    arrays = [check_array(f"arrays[{i}]", _to_numpy(a), ndim=2, shape_hint="(H, W); pick one "
                          "channel").astype(float) for i, a in enumerate(arrays)]
    if titles is not None and len(titles) != len(arrays):
        raise ValueError(f"titles must have {len(arrays)} entries, got {len(titles)}")
    if colorbar_label is not None and not isinstance(colorbar_label, str):
        raise TypeError(f"colorbar_label must be a str, got {colorbar_label!r}")
    colorbar = bool(colorbar) or colorbar_label is not None
    vmax_all = max(float(np.abs(a).max()) for a in arrays) or 1.0
    fig, axes = _grid(len(arrays), ncols, cell, extra_h=0.4 if suptitle else 0.0)
    panels = []
    for i, (a, ax) in enumerate(zip(arrays, axes)):
        vmax = vmax_all if shared_scale else (float(np.abs(a).max()) or 1.0)
        im = ax.imshow(a, cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
        panels.append(ax)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
        if colorbar and not shared_scale:
            cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
            if colorbar_label:
                cb.set_label(colorbar_label, fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    if colorbar and shared_scale:             # one bar for all panels, after the layout
        cb = fig.colorbar(im, ax=panels, fraction=0.03, pad=0.02, shrink=0.9)
        if colorbar_label:
            cb.set_label(colorbar_label, fontsize=9)
    return fig


def show_filters(weight, *, ncols: int = 10, title: Optional[str] = None) -> Figure:
    """First-layer filters of a conv layer, shape (C_out, C_in, kH, kW).

    RGB filters (C_in = 3) are shown in colour, each rescaled to [0, 1];
    other filters show their first input channel with a signed colour map.

    Examples
    --------
    >>> len(show_filters(np.random.default_rng(0).standard_normal((4, 1, 5, 5))).axes)
    4
    """
    w = check_array("weight", _to_numpy(weight), ndim=4, shape_hint="(C_out, C_in, kH, kW)")
    if w.shape[1] == 3:
        fig, axes = _grid(len(w), ncols, 1.0, extra_h=0.4 if title else 0.0)
        for f, ax in zip(w, axes):
            ax.imshow(_as_display(f.astype(float)), interpolation="nearest")
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        return fig
    return show_signed(list(w[:, 0]), ncols=ncols, cell=1.0, suptitle=title)


def show_feature_maps(maps, *, ncols: int = 8, titles: Optional[Sequence[str]] = None,
                      title: Optional[str] = None) -> Figure:
    """Feature maps of one image, shape (C, H, W), one signed panel per channel.

    Examples
    --------
    >>> len(show_feature_maps(np.zeros((3, 4, 4))).axes)
    3
    """
    m = check_array("maps", _to_numpy(maps), ndim=3, shape_hint="(C, H, W)")
    return show_signed(list(m), titles=titles, ncols=ncols, cell=1.4, suptitle=title)


def plot_history(history, *, title: Optional[str] = None, val_label: str = "validation") -> Figure:
    """Loss and top-1/top-5 error per epoch for train and held-out data (Forsyth fig. 17.10 style).

    Parameters
    ----------
    history : course_lib.training.History or a dict with the same keys
    title : str, optional
    val_label : str
        What the ``val_*`` curves were measured on, used in the legend: ``"validation"``
        for a split carved from the training data, ``"test"`` when the test set was
        passed as the validation loader (pass ``split.test_name``).

    Examples
    --------
    >>> h = {"epoch": [1, 2], "train_loss": [1.0, 0.5], "train_top1": [0.3, 0.2],
    ...      "train_top5": [0.1, 0.05], "val_loss": [], "val_top1": [], "val_top5": []}
    >>> len(plot_history(h).axes)
    2
    """
    h = history.as_dict() if hasattr(history, "as_dict") else dict(history)
    if not isinstance(val_label, str) or not val_label:
        raise TypeError(f"val_label must be a non-empty str such as 'validation' or 'test', got {val_label!r}")
    missing = [k for k in ("epoch", "train_loss", "train_top1") if k not in h]
    if missing:
        raise ValueError(f"history lacks {missing}; pass the History returned by fit()")
    fig, (ax_l, ax_e) = plt.subplots(1, 2, figsize=(9, 3.2))
    ep = h["epoch"]
    ax_l.plot(ep, h["train_loss"], "o-", label="train")
    if h.get("val_loss"):
        ax_l.plot(ep, h["val_loss"], "s--", label=val_label)
    ax_l.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    for key, style, lab in (("train_top1", "o-", "train top-1"), ("val_top1", "s--", f"{val_label} top-1"),
                            ("train_top5", "o:", "train top-5"), ("val_top5", "s:", f"{val_label} top-5")):
        if h.get(key):
            ax_e.plot(ep, h[key], style, label=lab)
    ax_e.set(xlabel="epoch", ylabel="error rate", title="top-1 and top-5 error")
    for ax in (ax_l, ax_e):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_detections(image, mask, *, title: Optional[str] = None, ax=None) -> Figure:
    """An image in grey with the pixels of ``mask`` (same H, W) marked in red.

    Examples
    --------
    >>> fig = show_detections(np.zeros((5, 5)), np.eye(5, dtype=bool))
    >>> len(fig.axes)
    1
    """
    image = check_array("image", _to_numpy(image), ndim=2, shape_hint="(H, W)")
    mask = np.asarray(_to_numpy(mask))
    if mask.dtype != bool:
        if not np.issubdtype(mask.dtype, np.number) or not np.isin(mask, (0, 1)).all():
            raise TypeError(f"mask must be a bool array (e.g. response > threshold) or hold only 0 and 1, "
                            f"got dtype {mask.dtype}")
        mask = mask.astype(bool)
    if mask.shape != image.shape:
        raise ValueError(f"mask must have the image's shape {image.shape}, got {mask.shape}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(2.6, 2.6))
    else:
        fig = ax.figure
    ax.imshow(image, cmap="gray", interpolation="nearest")
    ys, xs = np.nonzero(mask)
    ax.scatter(xs, ys, s=6, c="red", marker="s", linewidths=0)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def number_grid(values, *, title: Optional[str] = None, pad: int = 0, fmt: str = "{:g}",
                highlight: Optional[Tuple[int, int, int, int]] = None, ax=None) -> Figure:
    """A small array drawn as a grid of its numbers; the outer ``pad`` rings shaded as padding.

    Replaces chapter 4's ``show_numbers``.

    Parameters
    ----------
    values : 2D array
    title : str, optional
    pad : int
        How many outer rings are padding (drawn light blue, numbers grey).
    fmt : str
        Format of each number.
    highlight : (row, col, height, width), optional
        A window to outline in orange (e.g. the one an output reads).
    ax : matplotlib Axes, optional
        Draw into it (for multi-panel figures); otherwise a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = number_grid(np.arange(16).reshape(4, 4), pad=1, highlight=(0, 0, 3, 3), title="x")
    >>> len(fig.axes[0].texts)
    16
    """
    from matplotlib.patches import Rectangle
    v = check_array("values", _to_numpy(values), ndim=2, shape_hint="(H, W)")
    pad = check_int("pad", pad, minimum=0)
    if ax is None:
        fig, ax = plt.subplots(figsize=(0.42 * v.shape[1] + 0.4, 0.42 * v.shape[0] + 0.6))
    else:
        fig = ax.figure
    ax.imshow(np.zeros(v.shape), cmap="gray_r", vmin=0, vmax=1)
    for (i, j), x in np.ndenumerate(v):
        inside = pad <= i < v.shape[0] - pad and pad <= j < v.shape[1] - pad
        if not inside:
            ax.add_patch(Rectangle((j - .5, i - .5), 1, 1, fc="#cfe3f5", ec="none"))
        ax.text(j, i, fmt.format(x), ha="center", va="center", fontsize=9, color="k" if inside else "0.45")
    if highlight is not None:
        r, c, h, w = highlight
        ax.add_patch(Rectangle((c - .5, r - .5), w, h, fill=False, ec="darkorange", lw=2.5))
    ax.set_xticks(np.arange(-.5, v.shape[1]), minor=True)
    ax.set_yticks(np.arange(-.5, v.shape[0]), minor=True)
    ax.grid(which="minor", color="0.7", lw=0.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def show_window_coverage(n: int, kernel_size: int, strides: Sequence[int] = (2, 3), padding: int = 0,
                         *, title: Optional[str] = "How many windows read each pixel (orange: the last window)"
                         ) -> Figure:
    """One panel per stride: each input pixel's count of windows that read it; unread pixels hatched.

    Uses :func:`course_lib.shapes.window_coverage`. Replaces chapter 4's ``reads`` figure.

    Examples
    --------
    >>> fig = show_window_coverage(7, 3, strides=(2, 3))
    >>> len(fig.axes)
    2
    """
    from matplotlib.patches import Rectangle
    from ..shapes import conv_output_size, window_coverage
    n = check_int("n", n, minimum=1)
    k = check_int("kernel_size", kernel_size, minimum=1)
    strides = [check_int("strides[i]", s, minimum=1) for s in strides]
    if not strides:
        raise ValueError("strides must hold at least one stride, e.g. strides=(2, 3)")
    p = check_int("padding", padding, minimum=0)
    counts = [window_coverage(n, k, s, p) for s in strides]
    top = max(int(c.max()) for c in counts) or 1
    fig, axes = plt.subplots(1, len(strides), figsize=(4.5 * len(strides), 4.4), squeeze=False)
    for ax, s, count in zip(axes[0], strides, counts):
        m = conv_output_size(n, k, stride=s, padding=p)
        ax.imshow(count, cmap="Blues", vmin=0, vmax=top)
        for (i, j), c in np.ndenumerate(count):
            ax.text(j, i, str(c), ha="center", va="center", fontsize=10,
                    color="white" if c > top / 2 else "black")
            if c == 0:
                ax.add_patch(Rectangle((j - .5, i - .5), 1, 1, fc="0.8", ec="0.5", hatch="///"))
        last = (m - 1) * s - p
        ax.add_patch(Rectangle((last - .5, last - .5), k, k, fill=False, ec="darkorange", lw=3))
        unread = int((count.sum(axis=0) == 0).sum())
        ax.set_title(f"{n} x {n}, {k} x {k} kernel, stride {s}: {m} x {m} output\n"
                     + (f"{unread} column(s) and row(s) never read (hatched)" if unread else "every pixel is read"),
                     fontsize=10)
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        ax.set_xlabel("input column")
        ax.set_ylabel("input row")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_sweeps(x: Sequence, curves: Mapping[str, Sequence[float]], *, xlabel: str, ylabel: str,
                title: Optional[str] = None, chance: Optional[float] = None, ax=None,
                percent: bool = False) -> Figure:
    """Several measured curves against one swept setting (shift, angle, epochs...), markers on the data.

    Replaces the inline sweep plots (ch 1 invariance sweeps, ch 2 "which features survive a shift").

    Parameters
    ----------
    x : sequence
        The swept values.
    curves : dict of str -> sequence
        One curve per name, each as long as ``x``.
    xlabel, ylabel : str
        Axis labels (say what was trained and tested on in ``title`` or the label).
    chance : float, optional
        A dashed reference line (e.g. 0.1 for ten classes).
    percent : bool
        Format the y axis as percentages.

    Examples
    --------
    >>> fig = plot_sweeps([0, 1, 2], {"a": [0.9, 0.8, 0.5]}, xlabel="shift", ylabel="accuracy", chance=0.1)
    >>> [l.get_label() for l in fig.axes[0].get_lines()]
    ['a', 'chance']
    """
    x = list(x)
    if not isinstance(curves, Mapping) or not curves:
        raise TypeError(f"curves must be a non-empty dict name -> values, got {type(curves).__name__}")
    for name, ys in curves.items():
        if len(ys) != len(x):
            raise ValueError(f"curve {name!r} has {len(ys)} values but x has {len(x)}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.4))
    else:
        fig = ax.figure
    for name, ys in curves.items():
        ax.plot(x, list(ys), "o-", label=name)
    if chance is not None:
        ax.axhline(chance, color="0.5", ls="--", label="chance")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if all(isinstance(v, (int, float, np.integer, np.floating)) for v in x):
        ax.set_xticks(x)
    if percent:
        from matplotlib.ticker import PercentFormatter
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
