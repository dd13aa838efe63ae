"""Figures about hand-crafted features and the permutation experiment (chapter 2): colour
histograms, HoG pictures, linear-probe accuracies, rectangle-feature responses, and the
accuracies of networks trained on original and shuffled pixels.

Every function returns a matplotlib Figure and never shows it.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence, Tuple

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .._checks import check_array, check_int

__all__ = ["plot_colour_histograms", "show_hog", "plot_probe_accuracies", "show_haar_responses",
           "plot_permutation_accuracies"]


def _np(a) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def plot_colour_histograms(histograms: Mapping[str, Sequence[float]], bins: int, *,
                           title: str = "average colour histogram of the class") -> Figure:
    """Colour histograms as bar charts, one row each, every bar drawn in the colour of its cell.

    Parameters
    ----------
    histograms : dict of str -> array, shape (bins ** 3,)
        Name -> histogram with cell index ``bins**2 * R + bins * G + B`` (as
        :func:`course_lib.features.color_histogram`).
    bins : int
        Intervals per colour channel, >= 1.

    Examples
    --------
    >>> fig = plot_colour_histograms({"a": np.full(8, 1 / 8)}, bins=2)
    >>> len(fig.axes[0].patches)
    8
    """
    bins = check_int("bins", bins, minimum=1)
    if not isinstance(histograms, Mapping) or not histograms:
        raise TypeError(f"histograms must be a non-empty dict name -> histogram, got {type(histograms).__name__}")
    hists = {name: check_array(f"histograms[{name!r}]", _np(h), ndim=1) for name, h in histograms.items()}
    for name, h in hists.items():
        if len(h) != bins ** 3:
            raise ValueError(f"histograms[{name!r}] has {len(h)} cells, expected bins ** 3 = {bins ** 3}")
    centres = (np.arange(bins) + 0.5) / bins                       # the middle of each interval
    cell_colours = np.stack(np.meshgrid(centres, centres, centres, indexing="ij"), -1).reshape(-1, 3)
    fig, axes = plt.subplots(len(hists), 1, figsize=(9, 1.85 * len(hists) + 0.1), sharex=True, sharey=True,
                             squeeze=False)
    for ax, (name, h) in zip(axes[:, 0], hists.items()):
        ax.bar(np.arange(bins ** 3), h, color=cell_colours, edgecolor="0.6", linewidth=0.4)
        ax.set_ylabel("fraction of pixels", fontsize=8)
        ax.set_title(f"{title} '{name}'", fontsize=10)
    axes[-1, 0].set_xlabel(f"colour cell (index = {bins * bins} R + {bins} G + B, each from 0 to {bins - 1}); "
                           "every bar is drawn in its cell's colour")
    fig.tight_layout()
    return fig


def _enlarge(img: np.ndarray, factor: int) -> np.ndarray:
    """(C, H, W) floats -> (C, factor*H, factor*W), bilinear, only for drawing."""
    from skimage.transform import resize
    if factor == 1:
        return img
    c, h, w = img.shape
    return np.moveaxis(resize(np.moveaxis(img, 0, -1), (h * factor, w * factor), order=1), -1, 0)


def show_hog(images: Sequence, pixels_per_cell: Sequence[int], titles: Sequence[str], *,
             enlarge: Optional[Sequence[int]] = None, orientations: int = 9,
             suptitle: Optional[str] = None) -> Figure:
    """Images (top row) and skimage's HoG picture of their cell histograms (bottom row).

    Parameters
    ----------
    images : sequence of arrays, shape (C, H, W)
        uint8 (0..255) or floats in [0, 1]; C = 1 or 3.
    pixels_per_cell : sequence of int
        HoG cell size for each image, measured on the (enlarged) image that is drawn.
    titles : sequence of str
        One title per image.
    enlarge : sequence of int, optional
        Bilinear enlargement of each image before HoG and drawing (so small images show
        something); default 1 for all.
    orientations : int

    Examples
    --------
    >>> img = np.zeros((1, 16, 16)); img[:, :, 8:] = 1.0
    >>> fig = show_hog([img], [4], ["edge"], enlarge=[2])
    >>> fig.axes[1].images[0].get_array().shape
    (32, 32)
    """
    from ..features import hog_visualization
    imgs = [check_array(f"images[{i}]", _np(im), ndim=3, shape_hint="(C, H, W)") for i, im in enumerate(images)]
    n = len(imgs)
    if n == 0:
        raise ValueError("images must hold at least one image")
    enlarge = [1] * n if enlarge is None else list(enlarge)
    for name, seq in (("pixels_per_cell", pixels_per_cell), ("titles", titles), ("enlarge", enlarge)):
        if len(seq) != n:
            raise ValueError(f"{name} must have one entry per image ({n}), got {len(seq)}")
    fig, axes = plt.subplots(2, n, figsize=(2.4 * n, 5.6), squeeze=False)
    for col, (img, ppc, title, f) in enumerate(zip(imgs, pixels_per_cell, titles, enlarge)):
        f = check_int(f"enlarge[{col}]", f, minimum=1)
        x = img / 255.0 if img.dtype == np.uint8 else img.astype(np.float64)
        x = _enlarge(x, f)
        axes[0, col].imshow(x[0] if x.shape[0] == 1 else np.moveaxis(x, 0, -1),
                            cmap="gray" if x.shape[0] == 1 else None)
        axes[0, col].set_title(title, fontsize=9)
        vis = hog_visualization(x, orientations=orientations, pixels_per_cell=ppc)
        axes[1, col].imshow(vis, cmap="gray", vmin=0, vmax=max(float(np.percentile(vis, 99.5)), 1e-12))
    for ax in axes.flat:
        ax.set_axis_off()
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_probe_accuracies(results: Mapping[str, Mapping[str, float]], *, title: str,
                          chance: Optional[float] = 0.1, held_out: str = "test") -> Figure:
    """Horizontal bars of held-out accuracy per feature set, with the training accuracy as a tick.

    Parameters
    ----------
    results : dict of str -> dict
        Feature name -> a dict with keys ``"train"`` and ``held_out`` (accuracies in [0, 1]).
    title : str
        Say what was trained and tested on.
    chance : float, optional
        A dashed line at chance accuracy.
    held_out : str
        The key (and legend word) of the held-out accuracy: ``"test"`` or ``"validation"``.

    Examples
    --------
    >>> fig = plot_probe_accuracies({"a": {"train": 0.6, "test": 0.5}}, title="t")
    >>> fig.axes[0].get_xlabel()
    'accuracy'
    """
    if not isinstance(results, Mapping) or not results:
        raise TypeError(f"results must be a non-empty dict name -> {{'train': ..., {held_out!r}: ...}}")
    for name, r in results.items():
        if "train" not in r or held_out not in r:
            raise ValueError(f"results[{name!r}] needs the keys 'train' and {held_out!r}, got {sorted(r)}")
    names = list(results)
    fig, ax = plt.subplots(figsize=(7.5, 0.4 * len(names) + 1.4))
    ax.barh(names, [results[n][held_out] for n in names], color="tab:blue", label=f"{held_out} accuracy")
    ax.scatter([results[n]["train"] for n in names], names, color="black", marker="|", s=300, zorder=3,
               label="training accuracy")
    if chance is not None:
        ax.axvline(chance, color="0.5", ls="--", label=f"chance ({chance:.0%})")
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("accuracy")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3, fontsize=8)
    fig.tight_layout()
    return fig


def show_haar_responses(image, rectangles: Mapping[str, Sequence[Tuple[int, int, int, int, int]]],
                        responses: Mapping[str, np.ndarray], marks: Mapping[str, Tuple[int, int]], *,
                        crop: Tuple[int, int, int, int]) -> Figure:
    """Rectangle features drawn on a grey photograph, and their response at every window position.

    Parameters
    ----------
    image : array, shape (H, W)
        Grey values in [0, 1].
    rectangles : dict of str -> list of (sign, top, left, height, width)
        The signed rectangles of each placed feature in image coordinates (as
        :func:`course_lib.integral_image.haar_rectangles` with ``top``/``left``); +1 drawn red, -1 blue.
    responses : dict of str -> array, shape (H', W')
        The feature's response map (same keys as ``rectangles``), drawn with ``RdBu_r`` symmetric about 0.
    marks : dict of str -> (row, col)
        Where the feature was placed by hand (a + on its map); the strongest response gets an x.
    crop : (top, bottom, left, right)
        The part of ``image`` shown in the first panel.

    Examples
    --------
    >>> img = np.zeros((20, 20)); r = {"f": [(1, 2, 2, 3, 3), (-1, 5, 2, 3, 3)]}
    >>> fig = show_haar_responses(img, r, {"f": np.zeros((10, 10))}, {"f": (2, 2)}, crop=(0, 20, 0, 20))
    >>> len(fig.axes)
    3
    """
    img = check_array("image", _np(image), ndim=2, shape_hint="(H, W)")
    if set(rectangles) != set(responses) or set(rectangles) != set(marks) or not rectangles:
        raise ValueError(f"rectangles, responses and marks must have the same non-empty keys, got "
                         f"{sorted(rectangles)}, {sorted(responses)}, {sorted(marks)}")
    t, b, l, r = (check_int(n, v, minimum=0) for n, v in zip(("top", "bottom", "left", "right"), crop))
    if not (t < b <= img.shape[0] and l < r <= img.shape[1]):
        raise ValueError(f"crop (top, bottom, left, right) = {crop} must lie inside the image {img.shape}")
    names = list(rectangles)
    fig, axes = plt.subplots(1, 1 + len(names), figsize=(4.5 * (1 + len(names)), 4.6))
    axes[0].imshow(img[t:b, l:r], cmap="gray", vmin=0, vmax=1, extent=(l - 0.5, r - 0.5, b - 0.5, t - 0.5))
    axes[0].set_title("the features on the image (red +, blue -)", fontsize=10)
    for name, style in zip(names, ("-", ":", "--", "-.")):
        for sign, top, left, h, w in rectangles[name]:
            axes[0].add_patch(plt.Rectangle((left - 0.5, top - 0.5), w, h, fill=False, lw=1.8, ls=style,
                                            ec="red" if sign > 0 else "blue"))
    for ax, name in zip(axes[1:], names):
        resp = check_array(f"responses[{name!r}]", _np(responses[name]), ndim=2)
        v = float(np.abs(resp).max()) or 1.0
        im = ax.imshow(resp, cmap="RdBu_r", vmin=-v, vmax=v)
        peak = np.unravel_index(np.argmax(resp), resp.shape)
        row, col = marks[name]
        ax.plot(col, row, "k+", ms=14, mew=2, label="placed by hand")
        ax.plot(peak[1], peak[0], "kx", ms=10, mew=2, label="strongest response")
        ax.set_title(f"{name} at every position", fontsize=10)
        ax.legend(loc="lower left", fontsize=8)
        fig.colorbar(im, ax=ax, fraction=0.046, label="contrast (grey levels)")
    for ax in axes:
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def plot_permutation_accuracies(accuracy: Mapping[Tuple[str, str], Sequence[float]], *, title: str,
                                ylabel: str = "test accuracy") -> Figure:
    """Bars of mean accuracy per (model, pixels) pair with one dot per seed; shuffled pixels hatched.

    Parameters
    ----------
    accuracy : dict of (model name, "original" | "shuffled") -> sequence of accuracies
        One accuracy in [0, 1] per seed.
    title : str
        Say what was trained and tested on (e.g. the MNIST subset).
    ylabel : str

    Examples
    --------
    >>> fig = plot_permutation_accuracies({("FC", "original"): [0.9, 0.92], ("FC", "shuffled"): [0.91]},
    ...                                   title="t")
    >>> len(fig.axes[0].patches)
    2
    """
    if not isinstance(accuracy, Mapping) or not accuracy:
        raise TypeError("accuracy must be a non-empty dict (model, pixels) -> accuracies")
    models = list(dict.fromkeys(m for m, _ in accuracy))
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for i, ((m, p), accs) in enumerate(accuracy.items()):
        accs = [float(a) for a in accs]
        if not accs:
            raise ValueError(f"accuracy[{(m, p)!r}] is empty; give one accuracy per seed")
        ax.bar(i, np.mean(accs), color=f"C{models.index(m)}", hatch="//" if p == "shuffled" else None,
               edgecolor="white")
        ax.scatter([i] * len(accs), accs, color="black", s=12, zorder=3)
    ax.set_xticks(range(len(accuracy)), [f"{m}\n{p} pixels" for m, p in accuracy])
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
