"""Figures about images and datasets (chapter 1): pixel values, the vision tasks, class samples
with mean images, label-preserving changes and what they do to a classifier.

Every function returns a matplotlib Figure and never shows it.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence, Tuple

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .._checks import check_array, check_int

__all__ = ["show_patch_values", "show_vision_tasks", "show_class_samples", "show_grey_grid",
           "plot_shift_similarity", "plot_invariance_sweeps"]


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
