"""Figures of what a trained network has learned (chapter 12): colour filters, top patches, Grad-CAM
overlays, maximising images and their scores, t-SNE maps with points or thumbnails.

Every function returns a matplotlib Figure and never shows it.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .._checks import check_array, check_int

__all__ = ["show_rgb_filters", "show_patch_rows", "show_cam_overlays", "plot_score_comparison",
           "plot_ascent", "plot_embedding", "plot_embedding_thumbnails", "show_image_pairs", "figure_png",
           "picker_html"]


def _np(a) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def _hwc(img: np.ndarray) -> np.ndarray:
    """(C, H, W) in [0, 1] -> what imshow wants: (H, W, 3) or (H, W)."""
    img = np.clip(img.astype(float), 0, 1)
    return img[0] if img.shape[0] == 1 else np.transpose(img, (1, 2, 0))


def _images(name: str, images) -> np.ndarray:
    arr = check_array(name, _np(images), ndim=4, shape_hint="(N, C, H, W)")
    if arr.shape[1] not in (1, 3):
        raise ValueError(f"{name} must have 1 or 3 channels (N, C, H, W), got shape {arr.shape}")
    return arr.astype(float) / 255.0 if arr.dtype == np.uint8 else arr.astype(float)


def show_rgb_filters(weight, *, ncols: int = 8, title: Optional[str] = None, cell: float = 0.9) -> Figure:
    """Colour filters (C_out, 3, k, k) as small images, zero drawn as mid-grey.

    Each filter is scaled by its own largest absolute weight: 0.5 + w / (2 max|w|)
    per channel, so grey means zero, a saturated colour means a large positive
    weight in that channel and its complement a large negative one. The shared
    grey keeps the sign visible, which a min-max stretch would hide.

    Examples
    --------
    >>> len(show_rgb_filters(np.random.default_rng(0).normal(size=(6, 3, 5, 5)), ncols=3).axes)
    6
    """
    w = check_array("weight", _np(weight), ndim=4, shape_hint="(C_out, 3, k, k)").astype(float)
    if w.shape[1] != 3:
        raise ValueError(f"weight must have 3 input channels (colour filters), got shape {w.shape}")
    ncols = check_int("ncols", ncols, minimum=1)
    n = len(w)
    rows = -(-n // ncols)
    fig, axes = plt.subplots(rows, ncols, figsize=(cell * ncols, cell * rows + (0.5 if title else 0.1)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            peak = np.abs(w[i]).max()
            ax.imshow(_hwc(0.5 + w[i] / (2 * peak if peak > 0 else 1.0)), interpolation="nearest")
            ax.set_title(str(i), fontsize=7, pad=1)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_patch_rows(rows: Mapping[str, object], *, title: Optional[str] = None, cell: float = 0.8) -> Figure:
    """One row of patches per unit: ``{"conv1 ch 3": patches (k, C, S, S), ...}``.

    Patches of different rows may differ in size (deeper units see more); each
    is shown at the same display size, so deeper patches show less detail.

    Examples
    --------
    >>> fig = show_patch_rows({"a": np.zeros((3, 3, 5, 5)), "b": np.ones((2, 3, 9, 9))})
    >>> len(fig.axes)
    6
    """
    if not isinstance(rows, Mapping) or not rows:
        raise TypeError(f"rows must be a non-empty dict label -> patches, got {type(rows).__name__}")
    data = {str(k): _images(f"rows[{k!r}]", v) for k, v in rows.items()}
    ncols = max(len(v) for v in data.values())
    fig, axes = plt.subplots(len(data), ncols, figsize=(cell * ncols + 1.6, cell * len(data) + (0.5 if title else 0.1)),
                             squeeze=False)
    for r, (label, patches) in enumerate(data.items()):
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
            if c < len(patches):
                ax.imshow(_hwc(patches[c]), interpolation="nearest")
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_cam_overlays(images, cams, *, titles: Optional[Sequence[str]] = None, signed: bool = False,
                      alpha: float = 0.5, ncols: int = 6, title: Optional[str] = None) -> Figure:
    """Images with a heat map on top: Grad-CAM maps already upsampled to the image size.

    ``signed=False``: maps >= 0 in ``inferno`` from 0 to 1 (normalise first,
    :func:`course_lib.interpret.upsample_cam`). ``signed=True``: ``RdBu_r``
    with symmetric limits [-1, 1], for Bishop's map without the ReLU. A
    colourbar shows the scale.

    Examples
    --------
    >>> fig = show_cam_overlays(np.zeros((2, 3, 8, 8)), np.ones((2, 8, 8)), titles=["a", "b"])
    >>> len(fig.axes)
    3
    """
    imgs = _images("images", images)
    maps = check_array("cams", _np(cams), ndim=3, shape_hint="(N, H, W)").astype(float)
    if maps.shape != (imgs.shape[0],) + imgs.shape[2:]:
        raise ValueError(f"cams must have shape (N, H, W) = {(imgs.shape[0],) + imgs.shape[2:]} (upsample "
                         f"them to the image size first), got {maps.shape}")
    if titles is not None and len(titles) != len(imgs):
        raise ValueError(f"titles must hold one string per image ({len(imgs)}), got {len(titles)}")
    if not isinstance(signed, bool):
        raise TypeError(f"signed must be True or False, got {signed!r}")
    ncols = check_int("ncols", ncols, minimum=1)
    n = len(imgs)
    ncols = min(ncols, n)
    rows = -(-n // ncols)
    fig, axes = plt.subplots(rows, ncols, figsize=(1.9 * ncols + 0.8, 2.1 * rows + (0.4 if title else 0.0)),
                             squeeze=False)
    cmap, vmin, vmax = ("RdBu_r", -1.0, 1.0) if signed else ("inferno", 0.0, 1.0)
    im = None
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(_hwc(imgs[i]), cmap="gray" if imgs.shape[1] == 1 else None)
            im = ax.imshow(maps[i], cmap=cmap, vmin=vmin, vmax=vmax, alpha=alpha, interpolation="bilinear")
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    fig.colorbar(im, ax=axes.ravel().tolist(), shrink=0.8,
                 label="map / its largest |value|" if signed else "map / its maximum")
    if title:
        fig.suptitle(title)
    return fig


def plot_score_comparison(logits: Mapping[str, object], class_names: Sequence[str], *, target: int,
                          title: Optional[str] = None) -> Figure:
    """Bar charts of the 10 pre-softmax scores of images, one panel per image (target bar highlighted).

    Examples
    --------
    >>> fig = plot_score_comparison({"a": np.arange(3.0), "b": -np.arange(3.0)}, ["x", "y", "z"], target=1)
    >>> len(fig.axes)
    2
    """
    if not isinstance(logits, Mapping) or not logits:
        raise TypeError("logits must be a non-empty dict label -> scores (classes,)")
    data = {k: check_array(f"logits[{k!r}]", _np(v), ndim=1) for k, v in logits.items()}
    k = len(class_names)
    for name, v in data.items():
        if len(v) != k:
            raise ValueError(f"logits[{name!r}] has {len(v)} scores but there are {k} class names")
    target = check_int("target", target, minimum=0)
    if target >= k:
        raise ValueError(f"target must lie in 0..{k - 1}, got {target}")
    fig, axes = plt.subplots(1, len(data), figsize=(4.2 * len(data), 3.2), squeeze=False, sharey=True)
    for ax, (name, v) in zip(axes[0], data.items()):
        colours = ["tab:red" if i == target else "tab:grey" for i in range(k)]
        ax.bar(np.arange(k), v, color=colours)
        ax.axhline(0, color="black", lw=0.6)
        ax.set_xticks(np.arange(k), class_names, rotation=60, fontsize=8)
        ax.set_title(name, fontsize=9)
    axes[0, 0].set_ylabel("pre-softmax score")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_ascent(histories: Mapping[str, object], *, ylabel: str, title: Optional[str] = None,
                logy: bool = False) -> Figure:
    """The objective over the steps of a gradient ascent, one line per run.

    Examples
    --------
    >>> len(plot_ascent({"a": [1, 2, 3]}, ylabel="score").axes[0].lines)
    1
    """
    if not isinstance(histories, Mapping) or not histories:
        raise TypeError("histories must be a non-empty dict label -> values per step")
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    for name, h in histories.items():
        h = check_array(f"histories[{name!r}]", _np(h), ndim=1)
        ax.plot(np.arange(len(h)), h, label=str(name))
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_embedding(xy, labels, class_names: Sequence[str], *, title: Optional[str] = None) -> Figure:
    """A 2-D embedding (t-SNE) as a scatter plot, one colour per class (``tab10``).

    Examples
    --------
    >>> fig = plot_embedding(np.zeros((4, 2)), [0, 1, 1, 0], ["a", "b"])
    >>> len(fig.axes[0].collections)
    2
    """
    xy = check_array("xy", _np(xy), ndim=2, shape_hint="(N, 2)")
    lab = check_array("labels", _np(labels), ndim=1).astype(int)
    if xy.shape[1] != 2 or len(lab) != len(xy):
        raise ValueError(f"xy must be (N, 2) and labels (N,), got {xy.shape} and {lab.shape}")
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    cmap = plt.get_cmap("tab10")
    for c, name in enumerate(class_names):
        sel = lab == c
        if sel.any():
            ax.scatter(xy[sel, 0], xy[sel, 1], s=6, color=cmap(c % 10), label=name, alpha=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("t-SNE 1")
    ax.set_ylabel("t-SNE 2")
    ax.legend(fontsize=7, markerscale=2, loc="center left", bbox_to_anchor=(1.0, 0.5))
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_embedding_thumbnails(xy, images, *, grid: int = 20, title: Optional[str] = None) -> Figure:
    """Thumbnails at their embedded positions, snapped to a ``grid`` x ``grid`` lattice (one per cell).

    Each lattice cell shows the image whose point lies nearest to the cell's
    centre among the points inside the cell (Karpathy's t-SNE grids).

    Examples
    --------
    >>> fig = plot_embedding_thumbnails(np.random.default_rng(0).random((30, 2)), np.zeros((30, 3, 4, 4)), grid=4)
    >>> fig.axes[0].images[0].get_array().shape
    (16, 16, 3)
    """
    xy = check_array("xy", _np(xy), ndim=2, shape_hint="(N, 2)").astype(float)
    imgs = _images("images", images)
    grid = check_int("grid", grid, minimum=1)
    if xy.shape != (len(imgs), 2):
        raise ValueError(f"xy must be (N, 2) with N = {len(imgs)} images, got {xy.shape}")
    lo, hi = xy.min(0), xy.max(0)
    u = (xy - lo) / np.where(hi > lo, hi - lo, 1.0) * grid
    cell = np.minimum(u.astype(int), grid - 1)
    dist = np.linalg.norm(u - (cell + 0.5), axis=1)
    h, w = imgs.shape[2:]
    canvas = np.ones((grid * h, grid * w, 3))
    best = {}
    for i in np.argsort(dist):
        key = (cell[i, 0], cell[i, 1])
        if key not in best:
            best[key] = i
    for (cx, cy), i in best.items():
        row = grid - 1 - cy                     # y up, like the scatter plot
        im = _hwc(imgs[i])
        canvas[row * h:(row + 1) * h, cx * w:(cx + 1) * w] = im if im.ndim == 3 else im[..., None]
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.imshow(canvas, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("t-SNE 1")
    ax.set_ylabel("t-SNE 2")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def show_image_pairs(images: Mapping[str, object], *, title: Optional[str] = None, size: float = 3.0) -> Figure:
    """Images (C, H, W) side by side with their labels, e.g. a photograph and its dreams.

    Examples
    --------
    >>> len(show_image_pairs({"a": np.zeros((3, 4, 4)), "b": np.ones((3, 4, 4))}).axes)
    2
    """
    if not isinstance(images, Mapping) or not images:
        raise TypeError("images must be a non-empty dict label -> image (C, H, W)")
    arrs = {k: check_array(f"images[{k!r}]", _np(v), ndim=3, shape_hint="(C, H, W)") for k, v in images.items()}
    fig, axes = plt.subplots(1, len(arrs), figsize=(size * len(arrs), size * 0.9 + (0.4 if title else 0)),
                             squeeze=False)
    for ax, (name, im) in zip(axes[0], arrs.items()):
        ax.imshow(_hwc(im), cmap="gray" if im.shape[0] == 1 else None, interpolation="nearest")
        ax.set_title(str(name), fontsize=9)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def figure_png(fig: Figure, *, dpi: int = 80) -> bytes:
    """A figure as PNG bytes (and closes it), for :func:`picker_html`.

    Examples
    --------
    >>> figure_png(plt.figure(figsize=(1, 1)))[:4]
    b'\\x89PNG'
    """
    import io
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    dpi = check_int("dpi", dpi, minimum=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def picker_html(pictures: Mapping[str, bytes], *, label: str = "show", element_id: str = "picker") -> str:
    """A self-contained HTML explorer: a drop-down list that switches between pre-rendered PNG pictures.

    It needs no running kernel, so it works in the published (static) book as
    well as in Jupyter: every picture is embedded (base64) and a few lines of
    JavaScript show the one selected.

    Parameters
    ----------
    pictures : dict of str -> PNG bytes
        Option label -> picture (see :func:`figure_png`), in display order.
    label : str
        Text in front of the list.
    element_id : str
        A prefix for the HTML ids (letters, digits, ``-`` and ``_``), unique on the page.

    Returns
    -------
    str
        Display it with ``IPython.display.HTML``.

    Examples
    --------
    >>> html = picker_html({"a": b"\\x89PNG1", "b": b"\\x89PNG2"}, element_id="demo")
    >>> html.count("<option"), html.count("<img")
    (2, 2)
    """
    import base64
    import html as _html
    import re
    if not isinstance(pictures, Mapping) or not pictures:
        raise TypeError("pictures must be a non-empty dict label -> PNG bytes")
    if not isinstance(element_id, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", element_id):
        raise ValueError(f"element_id must start with a letter and hold only letters, digits, - and _, "
                         f"got {element_id!r}")
    options, imgs = [], []
    for i, (name, png) in enumerate(pictures.items()):
        if not isinstance(png, (bytes, bytearray)) or not bytes(png).startswith(b"\x89PNG"):
            raise TypeError(f"pictures[{name!r}] must be PNG bytes (use figure_png(fig))")
        options.append(f'<option value="{i}">{_html.escape(str(name))}</option>')
        data = base64.b64encode(bytes(png)).decode("ascii")
        imgs.append(f'<img id="{element_id}-{i}" src="data:image/png;base64,{data}" alt="{_html.escape(str(name))}"'
                    f' style="display:{"block" if i == 0 else "none"};max-width:100%">')
    script = (f"<script>(function(){{var s=document.getElementById('{element_id}-select');"
              f"s.addEventListener('change',function(){{for(var i=0;i<{len(imgs)};i++){{"
              f"document.getElementById('{element_id}-'+i).style.display=(String(i)===s.value)?'block':'none';}}}});"
              f"}})();</script>")
    return (f'<div id="{element_id}"><label>{_html.escape(label)} '
            f'<select id="{element_id}-select" data-lm-suppress-shortcuts="true">{"".join(options)}</select></label>'
            f'<div>{"".join(imgs)}</div>{script}</div>')
