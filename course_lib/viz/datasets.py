"""Figures about images and datasets (chapter 1): pixel values, colour channels, array-layout and
uint8 pitfalls, the vision tasks, class samples with mean images, label-preserving changes and what
they do to a classifier, and the two losses against the margin.

Every function returns a matplotlib Figure and never shows it.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence, Tuple

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .._checks import check_array, check_int

__all__ = ["show_patch_values", "show_channels", "show_reshape_vs_transpose", "show_image_row",
           "show_vision_tasks", "show_class_samples", "show_grey_grid", "plot_shift_similarity",
           "plot_invariance_sweeps", "plot_margin_losses"]


def _np(a) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def show_patch_values(image, top: int, left: int, size: int = 8, *,
                      title: Optional[str] = None) -> Figure:
    """A grey uint8 image with a boxed patch, and the patch enlarged with its value in every pixel.

    Parameters
    ----------
    image : array, shape (H, W)
        Grey values 0..255.
    top, left : int
        Top-left pixel of the patch (the patch must fit inside the image).
    size : int
        Side of the square patch, 1..16 (the numbers must stay readable).
    title : str, optional
        Title of the left panel; default names the shape and dtype.

    Examples
    --------
    >>> fig = show_patch_values(np.arange(100, dtype=np.uint8).reshape(10, 10), 2, 3, 4)
    >>> len(fig.axes), len(fig.axes[1].texts)
    (2, 16)
    """
    img = check_array("image", _np(image), ndim=2, shape_hint="(H, W)")
    top, left = check_int("top", top, minimum=0), check_int("left", left, minimum=0)
    size = check_int("size", size, minimum=1)
    if size > 16:
        raise ValueError(f"size must be at most 16 so the numbers stay readable, got {size}")
    if top + size > img.shape[0] or left + size > img.shape[1]:
        raise ValueError(f"the {size} x {size} patch at (top, left) = ({top}, {left}) does not fit in an image "
                         f"of shape {img.shape}; choose top <= {img.shape[0] - size}, left <= {img.shape[1] - size}")
    patch = img[top:top + size, left:left + size]
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.3))
    axes[0].imshow(img, cmap="gray", vmin=0, vmax=255)
    axes[0].add_patch(plt.Rectangle((left - 0.5, top - 0.5), size, size, fill=False, ec="red", lw=1.5))
    axes[0].set_title(title or f"{img.shape[0]} x {img.shape[1]} {img.dtype} (red box: the patch)")
    axes[1].imshow(patch, cmap="gray", vmin=0, vmax=255)
    for i in range(size):
        for j in range(size):
            v = patch[i, j]
            axes[1].text(j, i, f"{v:g}", ha="center", va="center", fontsize=7,
                         color="black" if v > 127 else "white")
    axes[1].set_title("the same patch, one number per pixel")
    for ax in axes:
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def _colour_hwc(name: str, image, channel_axis: int) -> np.ndarray:
    """A colour image as (H, W, C) with C = 3, uint8 or floats in [0, 1] (checked)."""
    img = check_array(name, _np(image), ndim=3, shape_hint="(H, W, 3) or (3, H, W)")
    if channel_axis not in (0, -1, 2):
        raise ValueError(f"channel_axis must be 0 (C, H, W) or -1 (H, W, C), got channel_axis={channel_axis}")
    img = np.moveaxis(img, channel_axis, -1)
    if img.shape[-1] != 3:
        raise ValueError(f"{name} must have 3 colour channels on axis {channel_axis}, got shape "
                         f"{np.moveaxis(img, -1, channel_axis).shape}; pass channel_axis=0 for (C, H, W) images")
    if img.dtype != np.uint8 and (not np.isfinite(img).all() or img.min() < 0 or img.max() > 1):
        raise ValueError(f"{name} must be uint8 (0..255) or floats in [0, 1], got {img.dtype} values from "
                         f"{float(np.nanmin(img)):g} to {float(np.nanmax(img)):g}; divide uint8 values by 255")
    return img


def show_channels(image, *, names: Sequence[str] = ("red", "green", "blue"), channel_axis: int = -1,
                  title: Optional[str] = None) -> Figure:
    """A colour image next to each of its three channels, drawn as grey images on one fixed scale.

    Every channel panel maps 0 to black and the largest possible value (255 for uint8, 1 for
    floats) to white, so brightness can be compared across channels.

    Parameters
    ----------
    image : array, shape (H, W, 3) or (3, H, W)
        uint8 values 0..255 or floats in [0, 1].
    names : sequence of 3 str
        Names of the channels, used in the panel titles.
    channel_axis : int
        -1 (default) for the (H, W, C) layout of image files and scikit-image, 0 for (C, H, W).
    title : str, optional
        Title of the first panel; default names the layout.

    Returns
    -------
    matplotlib.figure.Figure
        Four panels: the image, then channels 0, 1 and 2.

    Examples
    --------
    >>> fig = show_channels(np.zeros((4, 5, 3), dtype=np.uint8))
    >>> [ax.get_title() for ax in fig.axes][1:]
    ['channel 0: red', 'channel 1: green', 'channel 2: blue']
    """
    img = _colour_hwc("image", image, channel_axis)
    if isinstance(names, str) or len(names) != 3:
        raise ValueError(f"names must be three channel names, got {names!r}; e.g. names=('red', 'green', 'blue')")
    top = 255 if img.dtype == np.uint8 else 1.0
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.4))
    axes[0].imshow(img)
    axes[0].set_title(title or "RGB image (H x W x 3)")
    for c, name in enumerate(names):
        axes[c + 1].imshow(img[:, :, c], cmap="gray", vmin=0, vmax=top)
        axes[c + 1].set_title(f"channel {c}: {name}")
    for ax in axes:
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def show_reshape_vs_transpose(transposed, reshaped, *, channel: int = 0, title: Optional[str] = None) -> Figure:
    """One channel of every image of two (N, C, H, W) batches: made by a transpose (top row) and by a reshape.

    Both batches must have the same shape. Each panel is drawn in grey on one fixed scale
    (0..255 for uint8, 0..1 for floats), so the two rows can be compared pixel for pixel.

    Parameters
    ----------
    transposed : array, shape (N, C, H, W)
        The batch with its colour axis moved correctly, e.g. ``np.transpose(hwc, (0, 3, 1, 2))``.
    reshaped : array, shape (N, C, H, W)
        The same values re-read in the new shape, e.g. ``hwc.reshape(N, C, H, W)``.
    channel : int
        The channel shown, 0..C-1.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        2 x N panels; row 0 transpose, row 1 reshape.

    Examples
    --------
    >>> hwc = np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3)
    >>> fig = show_reshape_vs_transpose(hwc.transpose(0, 3, 1, 2), hwc.reshape(2, 3, 4, 4))
    >>> fig.axes[2].get_title()
    "reshape: image 0, 'channel 0'"
    """
    a = check_array("transposed", _np(transposed), ndim=4, shape_hint="(N, C, H, W)")
    b = check_array("reshaped", _np(reshaped), ndim=4, shape_hint="(N, C, H, W)")
    if a.shape != b.shape:
        raise ValueError(f"transposed and reshaped must have the same shape, got {a.shape} and {b.shape}; "
                         f"reshape to the transposed batch's shape")
    if len(a) > 8:
        raise ValueError(f"transposed holds {len(a)} images; show at most 8, e.g. transposed[:8], reshaped[:8]")
    channel = check_int("channel", channel, minimum=0)
    if channel >= a.shape[1]:
        raise ValueError(f"channel must be below the number of channels C = {a.shape[1]}, got channel={channel}")
    top = 255 if a.dtype == np.uint8 else max(float(a.max()), float(b.max()), 1.0)
    n = len(a)
    fig, axes = plt.subplots(2, n, figsize=(2.5 * n, 5.4), squeeze=False)
    for i in range(n):
        axes[0, i].imshow(a[i, channel], cmap="gray", vmin=0, vmax=top)
        axes[0, i].set_title(f"transpose: image {i}, channel {channel}", fontsize=9)
        axes[1, i].imshow(b[i, channel], cmap="gray", vmin=0, vmax=top)
        axes[1, i].set_title(f"reshape: image {i}, 'channel {channel}'", fontsize=9)
    for ax in axes.flat:
        ax.set_axis_off()
    fig.suptitle(title or "moving the colour axis: transpose (top) versus reshape (bottom)")
    fig.tight_layout()
    return fig


def show_image_row(images: Mapping[str, np.ndarray], *, channel_axis: int = -1,
                   title: Optional[str] = None) -> Figure:
    """Colour images side by side, each shown as it is (uint8 0..255 or floats in [0, 1], never rescaled).

    Because nothing is rescaled, the row shows what arithmetic did to the values: for example
    uint8 values that wrapped around past 255 come out dark.

    Parameters
    ----------
    images : dict of str -> array, shape (H, W, 3) or (3, H, W)
        Panel title -> image, in display order.
    channel_axis : int
        -1 (default) for (H, W, C) images, 0 for (C, H, W).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> img = np.full((4, 4, 3), 200, dtype=np.uint8)
    >>> fig = show_image_row({"original": img, "uint8 + 100": img + np.uint8(100)})
    >>> [ax.get_title() for ax in fig.axes]
    ['original', 'uint8 + 100']
    """
    if not isinstance(images, Mapping) or not images:
        raise TypeError(f"images must be a non-empty dict title -> colour image, got {type(images).__name__}")
    if len(images) > 6:
        raise ValueError(f"images holds {len(images)} pictures; show at most 6 in one row")
    shown = {str(k): _colour_hwc(f"images[{k!r}]", v, channel_axis) for k, v in images.items()}
    fig, axes = plt.subplots(1, len(shown), figsize=(11 / 3 * len(shown), 3.8 + (0.3 if title else 0.0)),
                             squeeze=False)
    for ax, (name, img) in zip(axes[0], shown.items()):
        ax.imshow(img)
        ax.set_title(name)
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_vision_tasks(image, boxes, semantic, instances) -> Figure:
    """One grey image and the answers of four vision tasks side by side.

    Parameters
    ----------
    image : array, shape (H, W)
    boxes : array, shape (n, 4)
        (row0, col0, row1, col1) per object, as ``skimage.measure.regionprops(...).bbox``.
    semantic : array, shape (H, W)
        Object/background mask.
    instances : array of int, shape (H, W)
        0 for background, 1, 2, ... one label per object.

    Examples
    --------
    >>> img = np.zeros((8, 8)); mask = img > 0; mask[2:4, 2:4] = True
    >>> fig = show_vision_tasks(img, [[2, 2, 4, 4]], mask, mask.astype(int))
    >>> [ax.get_title() for ax in fig.axes][1]
    'detection: a box per object'
    """
    img = check_array("image", _np(image), ndim=2, shape_hint="(H, W)")
    b = check_array("boxes", _np(boxes), ndim=2, shape_hint="(n, 4)")
    if b.shape[1] != 4:
        raise ValueError(f"boxes must have 4 columns (row0, col0, row1, col1), got shape {b.shape}")
    sem = np.asarray(_np(semantic))
    inst = check_array("instances", _np(instances), ndim=2, shape_hint="(H, W)")
    if sem.shape != img.shape or inst.shape != img.shape:
        raise ValueError(f"semantic {sem.shape} and instances {inst.shape} must have the image's shape {img.shape}")
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.2))
    axes[0].imshow(img, cmap="gray")
    axes[0].set_title("classification: one label")
    axes[1].imshow(img, cmap="gray")
    for r0, c0, r1, c1 in b:
        axes[1].add_patch(plt.Rectangle((c0 - 0.5, r0 - 0.5), c1 - c0, r1 - r0, fill=False, ec="red", lw=1.2))
    axes[1].set_title("detection: a box per object")
    axes[2].imshow(sem, cmap="gray")
    axes[2].set_title("semantic segmentation")
    axes[3].imshow(np.ma.masked_equal(inst, 0), cmap="tab20", interpolation="nearest")
    axes[3].set_title("instance segmentation")
    for ax in axes:
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def show_class_samples(images, labels, class_names: Sequence[str], *, n_per_class: int = 8, seed: int = 0,
                       title: Optional[str] = None) -> Figure:
    """Random images of every class in a row, followed by the class mean image (Forsyth fig. 17.14 style).

    All class means share one contrast stretch, so their colours can be compared with each other.

    Parameters
    ----------
    images : array or tensor, shape (N, 3, H, W), uint8
    labels : array or tensor of int, shape (N,)
    class_names : sequence of str
        One name per class; class k is ``labels == k``.
    n_per_class : int
        Random images shown per class (each class must have that many).
    seed : int
        Seed of the draw.

    Examples
    --------
    >>> x = np.random.default_rng(0).integers(0, 256, (20, 3, 4, 4), dtype=np.uint8)
    >>> fig = show_class_samples(x, np.arange(20) % 2, ["a", "b"], n_per_class=3)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['a', 'b']
    """
    x = check_array("images", _np(images), ndim=4, shape_hint="(N, 3, H, W)")
    if x.shape[1] != 3 or x.dtype != np.uint8:
        raise ValueError(f"images must be uint8 colour images (N, 3, H, W), got {x.dtype} {x.shape}")
    y = check_array("labels", _np(labels), ndim=1).astype(np.int64)
    if len(y) != len(x):
        raise ValueError(f"labels must have one entry per image ({len(x)}), got {len(y)}")
    k_classes = len(class_names)
    n_per_class = check_int("n_per_class", n_per_class, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    counts = np.bincount(y, minlength=k_classes)
    if len(counts) > k_classes or counts.min() < n_per_class:
        raise ValueError(f"every one of the {k_classes} classes needs at least n_per_class={n_per_class} images "
                         f"and labels must lie in 0..{k_classes - 1}; counts per label: {counts.tolist()}")
    rng = np.random.default_rng(seed)
    h, w = x.shape[2:]
    step_h, step_w, gap = h + 2, w + 2, 4
    # one class at a time keeps the float copies small: (K, 3, H, W) means in [0, 1]
    means = np.stack([x[y == k].mean(axis=0, dtype=np.float64) / 255 for k in range(k_classes)])
    lo, hi = float(means.min()), float(means.max())
    stretched = (means - lo) / (hi - lo) if hi > lo else np.zeros_like(means)
    mosaic = np.ones((k_classes * step_h, (n_per_class + 1) * step_w + gap, 3))   # white background
    mean_col = n_per_class * step_w + gap
    for k in range(k_classes):
        idx = rng.choice(np.flatnonzero(y == k), n_per_class, replace=False)
        for j, i in enumerate(idx):
            mosaic[k * step_h:k * step_h + h, j * step_w:j * step_w + w] = np.moveaxis(x[i], 0, -1) / 255
        mosaic[k * step_h:k * step_h + h, mean_col:mean_col + w] = np.moveaxis(stretched[k], 0, -1)
    fig, ax = plt.subplots(figsize=(0.8 * (n_per_class + 1) + 0.3, 0.8 * k_classes + 0.3))
    ax.imshow(mosaic, interpolation="nearest")
    ax.set_yticks([k * step_h + h / 2 for k in range(k_classes)], list(class_names))
    ax.set_xticks([mean_col + w / 2], ["class mean"])
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.set_title(title or f"{n_per_class} random images per class, and the class mean")
    fig.tight_layout()
    return fig


def show_grey_grid(images, labels: Optional[Sequence[str]] = None, *, ncols: int = 7, cell: float = 1.15,
                   title: Optional[str] = None, vmin: float = 0.0, vmax: float = 1.0) -> Figure:
    """Grey images on ONE fixed grey scale (``vmin`` black, ``vmax`` white), so dimmed images look dimmer.

    Parameters
    ----------
    images : array, shape (N, H, W) or (N, 1, H, W)
    labels : sequence of str, optional
        One label per image, shown underneath.
    ncols : int
    cell : float
        Inches per image.
    vmin, vmax : float
        The grey range shared by all panels (``vmin < vmax``).

    Examples
    --------
    >>> fig = show_grey_grid(np.zeros((3, 5, 5)), ["a", "b", "c"], ncols=3)
    >>> fig.axes[0].images[0].get_clim()
    (0.0, 1.0)
    """
    x = check_array("images", _np(images), ndim=(3, 4), shape_hint="(N, H, W) or (N, 1, H, W)")
    if x.ndim == 4:
        if x.shape[1] != 1:
            raise ValueError(f"images must be grey, (N, 1, H, W), got shape {x.shape}")
        x = x[:, 0]
    if labels is not None and len(labels) != len(x):
        raise ValueError(f"labels must have one entry per image ({len(x)}), got {len(labels)}")
    ncols = check_int("ncols", ncols, minimum=1)
    if not vmin < vmax:
        raise ValueError(f"vmin must be below vmax, got vmin={vmin}, vmax={vmax}")
    ncols = min(ncols, len(x))
    nrows = -(-len(x) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(cell * ncols, cell * nrows + (0.4 if title else 0.0)),
                             squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for i, (img, ax) in enumerate(zip(x, axes.flat)):
        ax.imshow(img, cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
        if labels is not None:
            ax.set_title(str(labels[i]), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_shift_similarity(shifts: Sequence[int], cos_shift: Sequence[float], cos_same: float,
                          cos_other: float, *, title: Optional[str] = None) -> Figure:
    """Mean cosine similarity of images with shifted copies of themselves, against two reference levels.

    Parameters
    ----------
    shifts : sequence of int
        Shifts in pixels.
    cos_shift : sequence of float
        Mean cosine between each image and itself shifted by ``shifts[i]``.
    cos_same, cos_other : float
        Mean cosine with another image of the same class, and of a different class.

    Examples
    --------
    >>> fig = plot_shift_similarity([0, 1, 2], [1.0, 0.8, 0.5], 0.55, 0.4)
    >>> [l.get_label() for l in fig.axes[0].get_lines()][0]
    'digit vs. itself, shifted'
    """
    shifts, cos_shift = list(shifts), [float(c) for c in cos_shift]
    if len(shifts) != len(cos_shift) or not shifts:
        raise ValueError(f"shifts and cos_shift must be non-empty and equally long, got {len(shifts)} "
                         f"and {len(cos_shift)}")
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.plot(shifts, cos_shift, "o-", label="digit vs. itself, shifted")
    ax.axhline(float(cos_same), color="C2", ls="--", label="vs. another digit, same class")
    ax.axhline(float(cos_other), color="C3", ls=":", label="vs. a digit of another class")
    ax.set(xlabel="horizontal shift (pixels)", ylabel="mean cosine similarity", ylim=(0, 1.05),
           title=title or "in pixel space, a small shift is a big change")
    ax.set_xticks(shifts)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_invariance_sweeps(sweeps: Mapping[str, Tuple[Sequence[float], Sequence[float]]], *,
                           ylabel: str = "top-1 error", suptitle: Optional[str] = None) -> Figure:
    """One panel per label-preserving change: a classifier's error against the strength of the change.

    Parameters
    ----------
    sweeps : dict of str -> (values, errors)
        The panel's x-axis label (e.g. ``"shift right (pixels)"``) -> the swept values and the
        measured error rates (fractions), equally long.
    ylabel : str
        Label of the shared y axis; say what the error was measured on.
    suptitle : str, optional

    Examples
    --------
    >>> fig = plot_invariance_sweeps({"shift (pixels)": ([0, 1], [0.1, 0.2]),
    ...                               "angle (degrees)": ([0, 10], [0.1, 0.15])})
    >>> [ax.get_xlabel() for ax in fig.axes]
    ['shift (pixels)', 'angle (degrees)']
    """
    if not isinstance(sweeps, Mapping) or not sweeps:
        raise TypeError(f"sweeps must be a non-empty dict label -> (values, errors), got {type(sweeps).__name__}")
    for name, pair in sweeps.items():
        if len(pair) != 2 or len(pair[0]) != len(pair[1]) or not len(pair[0]):
            raise ValueError(f"sweeps[{name!r}] must be (values, errors) of the same non-zero length")
    from matplotlib.ticker import PercentFormatter
    fig, axes = plt.subplots(1, len(sweeps), figsize=(3.25 * len(sweeps), 3.0), sharey=True, squeeze=False)
    for ax, (name, (values, errors)) in zip(axes[0], sweeps.items()):
        ax.plot(list(values), [float(e) for e in errors], "o-")
        ax.set(xlabel=name, title=name.split(" (")[0])
        ax.set_xticks(list(values))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel(ylabel)
    axes[0, 0].set_ylim(0, None)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_margin_losses(margin, losses: Mapping[str, Sequence[float]], *, mark: Optional[float] = 1.0,
                       title: Optional[str] = None) -> Figure:
    """Losses of one image against its margin (true-class score minus the best other score).

    Parameters
    ----------
    margin : array, shape (M,)
        The margins, increasing.
    losses : dict of str -> array, shape (M,)
        Legend label -> the loss at each margin (e.g. softmax cross-entropy and the hinge loss).
    mark : float, optional
        Draw a dotted vertical line at this margin (default 1, where the hinge loss reaches 0);
        None draws none.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> m = np.linspace(-2, 2, 5)
    >>> fig = plot_margin_losses(m, {"hinge": np.maximum(0, 1 - m)})
    >>> [line.get_label() for line in fig.axes[0].get_lines()][0], fig.axes[0].get_xlabel()[:5]
    ('hinge', 'score')
    """
    m = check_array("margin", _np(margin), ndim=1, shape_hint="(M,)").astype(np.float64)
    if len(m) < 2 or not np.all(np.diff(m) > 0):
        raise ValueError(f"margin must hold at least two increasing values, got {len(m)} values; "
                         f"use e.g. np.linspace(-3, 4, 141)")
    if not isinstance(losses, Mapping) or not losses:
        raise TypeError(f"losses must be a non-empty dict label -> loss values, got {type(losses).__name__}")
    curves = {}
    for name, values in losses.items():
        v = check_array(f"losses[{name!r}]", _np(values), ndim=1, shape_hint="(M,)").astype(np.float64)
        if v.shape != m.shape:
            raise ValueError(f"losses[{name!r}] must have one value per margin ({len(m)}), got {len(v)}")
        curves[str(name)] = v
    if mark is not None and (isinstance(mark, bool) or not isinstance(mark, (int, float))):
        raise TypeError(f"mark must be a number or None, got {mark!r}")
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for name, v in curves.items():
        ax.plot(m, v, label=name)
    if mark is not None:
        ax.axvline(float(mark), color="gray", lw=0.8, ls=":")
    ax.set(xlabel="score of the true class minus score of the other class", ylabel="loss",
           title=title or "loss against the winning margin")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
