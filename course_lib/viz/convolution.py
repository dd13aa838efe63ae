"""Figures for the chapters on convolution and on stride, padding and output sizes.

Every function returns a matplotlib Figure and never shows it. Signed maps
(kernels, responses) use ``RdBu_r`` with limits symmetric about zero, and carry
a labelled colour bar wherever magnitudes are meant to be read.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence, Tuple

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .._checks import check_array, check_int

__all__ = ["show_template_match", "show_detector_responses", "show_kernel_learning",
           "show_dilation", "show_padding_frames", "show_transposed_stamps", "show_aliasing"]


def _np(a) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def _check_fraction(name: str, value, *, low: float = 0.0, high: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}; pass e.g. {name}=0.5")
    value = float(value)
    if not low < value <= high:
        raise ValueError(f"{name} must lie in ({low}, {high}], got {value}; pass e.g. {name}=0.5")
    return value


def show_template_match(image, template, corner: Tuple[int, int], *,
                        title: Optional[str] = None) -> Figure:
    """A patch used as a kernel: the image, the patch, and the cosine of patch and kernel everywhere.

    The cosine map is the response divided by the norms of the kernel and of the
    patch under it (valid positions only), drawn on a fixed -1..1 ``RdBu_r``
    scale with a labelled colour bar; its maximum is marked with a cross.

    Parameters
    ----------
    image : 2D array (H, W)
    template : 2D array (kH, kW), the kernel (usually cut out of ``image``)
    corner : (row, col)
        Where ``template`` was cut out (drawn as a red square on the image).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> img = np.zeros((8, 8)); img[2:5, 3] = 1.0
    >>> fig = show_template_match(img, img[1:6, 2:5], (1, 2))
    >>> len(fig.axes)           # three panels and the colour bar
    4
    """
    from ..conv import correlate2d
    image = check_array("image", _np(image), ndim=2, shape_hint="(H, W)").astype(float)
    template = check_array("template", _np(template), ndim=2, shape_hint="(kH, kW)").astype(float)
    if template.shape[0] > image.shape[0] or template.shape[1] > image.shape[1]:
        raise ValueError(f"template {template.shape} must fit inside image {image.shape}; cut a smaller patch")
    if (not isinstance(corner, (tuple, list)) or len(corner) != 2
            or not all(isinstance(c, (int, np.integer)) for c in corner)):
        raise TypeError(f"corner must be a (row, col) pair of ints, got {corner!r}; pass e.g. corner=(6, 10)")
    r0, c0 = int(corner[0]), int(corner[1])
    response = correlate2d(image, template)
    norms = np.sqrt(correlate2d(image ** 2, np.ones_like(template))) + 1e-8
    cosine = response / (norms * (np.linalg.norm(template) + 1e-12))
    peak = np.unravel_index(int(np.argmax(cosine)), cosine.shape)
    fig, axes = plt.subplots(1, 3, figsize=(8.4, 2.9))
    axes[0].imshow(image, cmap="gray")
    axes[0].add_patch(Rectangle((c0 - .5, r0 - .5), template.shape[1], template.shape[0],
                                fill=False, ec="red", lw=2))
    axes[0].set_title("image and the patch", fontsize=10)
    axes[1].imshow(template, cmap="gray")
    axes[1].set_title("kernel = the patch", fontsize=10)
    im = axes[2].imshow(cosine, cmap="RdBu_r", vmin=-1, vmax=1)
    axes[2].plot(peak[1], peak[0], "k+", ms=12)
    axes[2].set_title("cosine of patch and kernel\n(+: best match)", fontsize=10)
    for ax in axes:
        ax.set_axis_off()
    cb = fig.colorbar(im, ax=axes[2], fraction=0.046, pad=0.04)
    cb.set_label("cosine similarity", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_detector_responses(images, kernels: Mapping[str, np.ndarray], *,
                            threshold_fraction: float = 0.5) -> Figure:
    """Each kernel (a row) on each image: its response map, then its thresholded detections.

    The response is the cross-correlation with zero padding that keeps the image
    size ("same" padding, odd kernels). A position is a detection when its
    response exceeds ``threshold_fraction`` times the kernel's largest response
    over all ``images``. Each row shares one symmetric colour scale, with a
    colour bar labelled "response".

    Parameters
    ----------
    images : sequence of 2D arrays, or array (N, H, W)
    kernels : mapping name -> odd-sized 2D kernel
    threshold_fraction : float in (0, 1]

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> img = np.zeros((9, 9)); img[3:6, :] = 1.0
    >>> fig = show_detector_responses([img, img.T], {"bar": np.array([[-1.], [2.], [-1.]])})
    >>> len(fig.axes)           # 1 kernel x 2 images x 2 panels, plus one colour bar
    5
    """
    from ..conv import correlate2d
    images = [check_array(f"images[{i}]", _np(a), ndim=2, shape_hint="(H, W)").astype(float)
              for i, a in enumerate(images)]
    if not images:
        raise ValueError("images must hold at least one 2D image, got an empty sequence")
    if not isinstance(kernels, Mapping) or not kernels:
        raise TypeError(f"kernels must be a non-empty mapping name -> 2D kernel, got {type(kernels).__name__}")
    ks = {}
    for name, k in kernels.items():
        k = check_array(f"kernels[{name!r}]", _np(k), ndim=2, shape_hint="(kH, kW)").astype(float)
        if k.shape[0] % 2 == 0 or k.shape[1] % 2 == 0:
            raise ValueError(f"kernels[{name!r}] must have odd height and width for same padding, "
                             f"got {k.shape}; pad it with a row or column of zeros")
        ks[name] = k
    frac = _check_fraction("threshold_fraction", threshold_fraction)
    from ..viz.images import show_detections
    n = len(images)
    fig, axes = plt.subplots(len(ks), 2 * n, figsize=(2.05 * 2 * n * 0.55 + 1.2, 1.25 * len(ks) + 0.6),
                             squeeze=False)
    for row, (name, k) in enumerate(ks.items()):
        pad = (k.shape[0] // 2, k.shape[1] // 2)
        maps = [correlate2d(np.pad(img, ((pad[0],) * 2, (pad[1],) * 2)), k) for img in images]
        thr = frac * max(float(m.max()) for m in maps)
        v = max(float(np.abs(m).max()) for m in maps) or 1.0
        for col, (img, m) in enumerate(zip(images, maps)):
            ax_map, ax_det = axes[row, 2 * col], axes[row, 2 * col + 1]
            im = ax_map.imshow(m, cmap="RdBu_r", vmin=-v, vmax=v)
            ax_map.set_axis_off()
            show_detections(img, m > thr, ax=ax_det)
        axes[row, 0].set_title(name, fontsize=9, loc="left")
    fig.suptitle("responses (red +, blue -) and detections (red squares) above "
                 f"{frac:g} x the largest response", fontsize=10)
    fig.tight_layout()
    for row in range(len(ks)):
        cb = fig.colorbar(axes[row, 0].images[0], ax=list(axes[row]), fraction=0.012, pad=0.01)
        cb.set_label("response", fontsize=8)
        cb.ax.tick_params(labelsize=7)
    return fig


def show_kernel_learning(losses: Sequence[float], learned, target, *,
                         title: Optional[str] = None) -> Figure:
    """Recovering a kernel by gradient descent: the loss curve, the target and the learned kernel.

    Parameters
    ----------
    losses : sequence of float
        The training loss after each step (drawn on a log scale).
    learned, target : 2D arrays of the same shape
        Drawn on one symmetric ``RdBu_r`` scale with their numbers written in.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = show_kernel_learning([1.0, 0.1, 0.01], np.eye(3) * 0.9, np.eye(3))
    >>> len(fig.axes)           # loss, target, learned, colour bar
    4
    """
    losses = np.asarray(list(losses), dtype=float)
    if losses.ndim != 1 or losses.size == 0:
        raise ValueError(f"losses must be a non-empty sequence of numbers, got shape {losses.shape}")
    if not np.all(np.isfinite(losses)) or (losses < 0).any():
        raise ValueError("losses must be finite and non-negative; did the training diverge?")
    learned = check_array("learned", _np(learned), ndim=2, shape_hint="(kH, kW)").astype(float)
    target = check_array("target", _np(target), ndim=2, shape_hint="(kH, kW)").astype(float)
    if learned.shape != target.shape:
        raise ValueError(f"learned and target must have the same shape, got {learned.shape} and {target.shape}")
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), gridspec_kw={"width_ratios": [1.6, 1, 1]})
    steps = np.arange(1, losses.size + 1)
    axes[0].plot(steps, np.maximum(losses, 1e-300), color="tab:blue")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("gradient step")
    axes[0].set_ylabel("mean squared error (log scale)")
    axes[0].set_title("training loss", fontsize=10)
    axes[0].grid(alpha=0.3)
    v = max(float(np.abs(target).max()), float(np.abs(learned).max())) or 1.0
    for ax, arr, name in [(axes[1], target, "target kernel"), (axes[2], learned, "learned kernel")]:
        im = ax.imshow(arr, cmap="RdBu_r", vmin=-v, vmax=v)
        for (i, j), x in np.ndenumerate(arr):
            x = 0.0 if abs(x) < 0.005 else x            # no "-0.00"
            ax.text(j, i, f"{x:.2f}", ha="center", va="center", fontsize=9,
                    color="white" if abs(x) > 0.6 * v else "black")
        ax.set_title(name, fontsize=10)
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    cb = fig.colorbar(im, ax=[axes[1], axes[2]], fraction=0.03, pad=0.02)
    cb.set_label("weight", fontsize=9)
    return fig


def show_dilation(kernel_size: int = 3, dilations: Sequence[int] = (1, 2, 3)) -> Figure:
    """Where the taps of a dilated kernel fall: one panel per dilation, the span outlined.

    Examples
    --------
    >>> fig = show_dilation(3, (1, 2))
    >>> len(fig.axes)
    2
    """
    k = check_int("kernel_size", kernel_size, minimum=1)
    dilations = [check_int("dilations[i]", d, minimum=1) for d in dilations]
    if not dilations:
        raise ValueError("dilations must hold at least one dilation, e.g. dilations=(1, 2, 3)")
    size = max(d * (k - 1) + 1 for d in dilations)
    fig, axes = plt.subplots(1, len(dilations), figsize=(3 * len(dilations), 3.3), squeeze=False)
    for ax, d in zip(axes[0], dilations):
        grid = np.zeros((size, size))
        grid[np.ix_(np.arange(k) * d, np.arange(k) * d)] = 1.0
        ax.imshow(grid, cmap="Oranges", vmin=0, vmax=1.5)
        span = d * (k - 1) + 1
        ax.add_patch(Rectangle((-.5, -.5), span, span, fill=False, ec="k", ls="--"))
        ax.set_title(f"dilation {d}: {k * k} taps span {span} x {span}", fontsize=10)
        ax.set_xticks(range(size))
        ax.set_yticks(range(size))
        ax.set_xlabel("column")
        ax.set_ylabel("row")
    fig.suptitle(f"A {k} x {k} kernel at dilation {', '.join(map(str, dilations))} "
                 "(orange: the pixels it multiplies)")
    fig.tight_layout()
    return fig


def show_padding_frames(image, kernel_size: int, paddings: Mapping[str, int]) -> Figure:
    """A box blur with several paddings, each output drawn where its windows are centred.

    The first panel is the input zero-padded by ``kernel_size - 1``; every output
    pixel i is placed over input pixel ``i - p + (k - 1)/2``, so one can see which
    part of the picture each padding covers. The red dashed square is the input.

    Parameters
    ----------
    image : 2D array (H, W), values in [0, 1]
    kernel_size : int (k), the side of the box blur (every weight 1 / k^2)
    paddings : mapping label -> padding p (0 <= p <= k - 1)

    Examples
    --------
    >>> fig = show_padding_frames(np.ones((12, 12)), 3, {"valid": 0, "same": 1})
    >>> len(fig.axes)
    3
    """
    from ..conv import conv2d
    img = check_array("image", _np(image), ndim=2, shape_hint="(H, W)").astype(float)
    k = check_int("kernel_size", kernel_size, minimum=1)
    if not isinstance(paddings, Mapping) or not paddings:
        raise TypeError("paddings must be a non-empty mapping label -> int, e.g. {'valid, p = 0': 0}")
    for name, p in paddings.items():
        if check_int(f"paddings[{name!r}]", p, minimum=0) > k - 1:
            raise ValueError(f"paddings[{name!r}] = {p} is more than kernel_size - 1 = {k - 1}; "
                             "a window would see only zeros")
    h, w = img.shape
    if k > h + 2 * min(paddings.values()) or k > w + 2 * min(paddings.values()):
        raise ValueError(f"kernel_size {k} does not fit the {h} x {w} image with the smallest padding")
    box = np.full((1, 1, k, k), 1.0 / k ** 2)
    fig, axes = plt.subplots(1, len(paddings) + 1, figsize=(3.25 * (len(paddings) + 1), 3.9),
                             sharex=True, sharey=True)
    padded = np.pad(img, k - 1)
    axes[0].imshow(padded, cmap="gray", vmin=0, vmax=1,
                   extent=(-k + 0.5, w - 0.5 + k, h - 0.5 + k, -k + 0.5))
    axes[0].set_title(f"input with {k - 1} zeros each side\n{padded.shape[0]} x {padded.shape[1]}", fontsize=10)
    for ax, (name, p) in zip(axes[1:], paddings.items()):
        out = conv2d(img[None, None], box, padding=p)[0, 0]
        lo = (k - 1) / 2 - p - 0.5                    # output i is centred on input i - p + (k-1)/2
        ax.imshow(out, cmap="gray", vmin=0, vmax=1, extent=(lo, lo + out.shape[1], lo + out.shape[0], lo))
        ax.set_title(f"{name}\noutput {out.shape[0]} x {out.shape[1]}", fontsize=10)
    for ax in axes:
        ax.add_patch(Rectangle((-0.5, -0.5), w, h, fill=False, ec="red", ls="--", lw=1.2))
        ax.set_facecolor("#f3e9d2")                   # beige: no pixel here at all
        ax.set_xlim(-k - 1, w + k)
        ax.set_ylim(h + k, -k - 1)
        ax.set_xlabel("column of the input")
    axes[0].set_ylabel("row of the input")
    fig.suptitle(f"A {k} x {k} box blur with {len(paddings)} paddings (red: the {h} x {w} input)", y=1.02)
    fig.tight_layout()
    return fig


def show_transposed_stamps(n: int = 3, kernel_size: int = 3, stride: int = 2) -> Figure:
    """A transposed convolution of an all-ones n x n input with an all-ones kernel.

    Each output value counts the kernel stamps that cover it. The stamps of input
    pixels (0, 0) and (0, 1) are outlined in red and blue on both panels.

    Examples
    --------
    >>> fig = show_transposed_stamps(2, 3, 2)
    >>> fig.axes[1].get_xlabel()
    'output column'
    """
    n = check_int("n", n, minimum=2)
    k = check_int("kernel_size", kernel_size, minimum=1)
    s = check_int("stride", stride, minimum=1)
    m = (n - 1) * s + k
    stamps = np.zeros((m, m), dtype=int)
    for i in range(n):                                  # every input pixel stamps the kernel
        for j in range(n):
            stamps[i * s:i * s + k, j * s:j * s + k] += 1
    fig, axes = plt.subplots(1, 2, figsize=(3.2 + 0.62 * m, 0.62 * m + 0.9),
                             gridspec_kw={"width_ratios": [n, m]})
    top = int(stamps.max()) + 1
    for ax, arr, title, what in [(axes[0], np.ones((n, n), dtype=int), f"input {n} x {n} (all ones)", "input"),
                                 (axes[1], stamps, f"output {m} x {m}: stamps covering each pixel", "output")]:
        ax.imshow(arr, cmap="Blues", vmin=0, vmax=top)
        for (i, j), v in np.ndenumerate(arr):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=10)
        ax.set_xticks(range(arr.shape[1]))
        ax.set_yticks(range(arr.shape[0]))
        ax.set_xlabel(f"{what} column")
        ax.set_ylabel(f"{what} row")
        ax.set_title(title, fontsize=10)
    for (r, c), color in [((0, 0), "red"), ((0, 1), "blue")]:
        axes[0].add_patch(Rectangle((c - .5, r - .5), 1, 1, fill=False, ec=color, lw=3))
        axes[1].add_patch(Rectangle((s * c - .5 + .06, s * r - .5 + .06), k - .12, k - .12,
                                    fill=False, ec=color, lw=2.5))
    fig.suptitle(f"Transposed convolution, {k} x {k} kernel, stride {s}: stamps {s} pixels apart, "
                 "overlaps added")
    fig.tight_layout()
    return fig


def show_aliasing(image, stride: int, sigma: Optional[float] = None, *,
                  crop: Optional[Tuple[int, int, int]] = None) -> Figure:
    """Subsampling with and without a blur first: what a large stride does to fine detail.

    Three panels: the image, every ``stride``-th pixel (what a stride-s layer
    with a one-tap kernel keeps), and a Gaussian blur (``sigma``, default
    ``stride / 2``) followed by the same subsampling. The subsampled images are
    drawn at the original size, so the blocks are the kept pixels.

    Parameters
    ----------
    image : 2D array (H, W), values in [0, 1]
    stride : int >= 2
    sigma : float, optional
    crop : (row, col, size), optional
        Show only this square of all three (after subsampling the full image).

    Examples
    --------
    >>> fig = show_aliasing(np.random.default_rng(0).random((32, 32)), 4)
    >>> len(fig.axes)
    3
    """
    from scipy.ndimage import gaussian_filter
    img = check_array("image", _np(image), ndim=2, shape_hint="(H, W)").astype(float)
    s = check_int("stride", stride, minimum=2)
    sigma = s / 2 if sigma is None else _check_fraction("sigma", sigma, high=float(max(img.shape)))
    h, w = img.shape
    if s > min(h, w):
        raise ValueError(f"stride {s} is larger than the image ({h} x {w}); pick stride <= {min(h, w)}")
    plain = img[::s, ::s]
    blurred = gaussian_filter(img, sigma, mode="reflect")[::s, ::s]
    up = lambda a: np.kron(a, np.ones((s, s)))[:h, :w]   # noqa: E731  (each kept pixel as an s x s block)
    panels = [(img, f"original {h} x {w}"),
              (up(plain), f"every {s}th pixel: {plain.shape[0]} x {plain.shape[1]}"),
              (up(blurred), f"blur (sigma {sigma:g}), then every {s}th pixel")]
    if crop is not None:
        if not (isinstance(crop, (tuple, list)) and len(crop) == 3):
            raise TypeError(f"crop must be (row, col, size), got {crop!r}")
        r, c, size = (check_int(f"crop[{i}]", v, minimum=0) for i, v in enumerate(crop))
        if size < 1 or r + size > h or c + size > w:
            raise ValueError(f"crop {crop!r} must lie inside the {h} x {w} image and have size >= 1")
        panels = [(a[r:r + size, c:c + size], t) for a, t in panels]
    fig, axes = plt.subplots(1, 3, figsize=(11, 4))
    for ax, (a, t) in zip(axes, panels):
        ax.imshow(a, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(t, fontsize=10)
        ax.set_axis_off()
    fig.suptitle(f"Stride {s} without and with a blur first" + (" (a crop)" if crop is not None else ""))
    fig.tight_layout()
    return fig
