"""Static (no-kernel) explorers for chapters 2, 3 and 6: HTML + inline JavaScript, no CDN.

* :func:`kernel_playground_html` -- chapter 3: pick an image and a kernel (or type one), move the
  threshold; the feature map and the detections follow (the live :func:`kernel_playground`'s rule).
* :func:`gabor_explorer_html` -- chapter 6: Bishop's Gabor parameters as sliders; the kernel and
  its response on an image follow.
* :func:`hog_explorer_html` -- chapter 2: image size, cell size, bins and block size as sliders;
  the cell grid, the number of cell-histogram values and the feature length D follow.

``static/image_explorers.js`` ports the arithmetic (``correlate2d``, ``gabor_kernel``,
``hog_shape``, the threshold rule) and is tested against these Python versions. Every control
the script creates carries ``data-lm-suppress-shortcuts="true"`` so that arrow keys move the
sliders inside JupyterLab too. Images are embedded rounded to 4 decimals (what the page draws).
"""
from __future__ import annotations

import json
import math
from typing import Mapping, Optional

import numpy as np

from .._checks import check_array, check_int
from ..features import hog_shape
from ..gabor import gabor_kernel
from ._assets import asset, new_id

__all__ = ["kernel_playground_html", "gabor_explorer_html", "hog_explorer_html", "HOG_RANGES",
           "GABOR_RANGES"]

#: (min, max, step) of the HoG explorer's sliders.
HOG_RANGES = {"height": (8, 480, 8), "width": (8, 640, 8), "pixels_per_cell": (2, 32, 1),
              "orientations": (1, 18, 1), "cells_per_block": (1, 4, 1)}
#: (min, max, step) of the Gabor explorer's sliders (angles in radians).
GABOR_RANGES = {"theta": (0.0, round(math.pi, 4), round(math.pi / 24, 6)), "omega": (0.0, 3.0, 0.05),
                "phi": (0.0, round(2 * math.pi, 4), round(math.pi / 12, 6)), "alpha": (0.005, 0.5, 0.005),
                "beta": (0.005, 0.5, 0.005), "size": (3, 31, 2)}


def _html(kind: str, config: dict, text: str, legend: str = "") -> "HTML":
    from IPython.display import HTML
    eid = new_id("cl-img")
    cfg = json.dumps(config, ensure_ascii=True, sort_keys=True).replace("</", "<\\/")
    return HTML(f'<div class="cl-explorer" id="{eid}" data-explorer="{kind[5:].lower()}">'
                f'<style>{asset("explorers.css")}</style>'
                f'<div class="cl-controls"></div>'
                f'<div class="cl-picture"><noscript>This explorer needs JavaScript.</noscript></div>'
                f'<div class="cl-text">{text}</div>{legend}'
                f'<script>{asset("image_explorers.js")}\n'
                f'window.courseLibImageExplorers.instances["{eid}"] = window.courseLibImageExplorers.{kind}('
                f'document.currentScript ? document.currentScript.parentNode : "{eid}", {cfg});'
                f'</script></div>')


def _embed(name: str, image) -> dict:
    img = check_array(name, image, ndim=2, shape_hint="(H, W)").astype(np.float64)
    if not np.isfinite(img).all():
        raise ValueError(f"{name} must hold finite numbers")
    return {"height": int(img.shape[0]), "width": int(img.shape[1]),
            "data": [round(float(v), 4) for v in img.ravel()]}


def kernel_playground_html(images: Mapping[str, np.ndarray], kernels: Optional[Mapping[str, np.ndarray]] = None,
                           *, image: Optional[str] = None, preset: Optional[str] = None,
                           threshold: float = 0.5) -> "HTML":
    """The kernel playground for the static book (chapter 3), no Python kernel needed.

    Parameters
    ----------
    images : dict of str -> ndarray, shape (H, W)
        The images to choose from (e.g. a few MNIST digits, floats in [0, 1]); at most 64 x 64.
    kernels : dict of str -> ndarray, shape (K, K), optional
        Square preset kernels of one size K <= 9 (default :func:`preset_kernels`). The reader
        can edit the K x K numbers.
    image, preset : str, optional
        The starting image and kernel (default: the first of each).
    threshold : float
        Detections are responses >= threshold x (largest response), and > 0; in [0, 1].

    Returns
    -------
    IPython.display.HTML

    Examples
    --------
    >>> page = kernel_playground_html({"bar": np.eye(8)})
    >>> "mountKernel" in page.data and 'data-explorer="kernel"' in page.data
    True
    """
    from .playground import preset_kernels
    if not isinstance(images, Mapping) or not images:
        raise TypeError(f"images must be a non-empty dict name -> 2D array, got {type(images).__name__}")
    kernels = preset_kernels() if kernels is None else kernels
    if not isinstance(kernels, Mapping) or not kernels:
        raise TypeError(f"kernels must be a non-empty dict name -> square 2D array, got {type(kernels).__name__}")
    emb = {str(n): _embed(f"images[{n!r}]", im) for n, im in images.items()}
    ks = {}
    for n, k in kernels.items():
        k = check_array(f"kernels[{n!r}]", k, ndim=2, shape_hint="(K, K)").astype(np.float64)
        if k.shape[0] != k.shape[1] or k.shape[0] > 9:
            raise ValueError(f"kernels[{n!r}] must be square and at most 9 x 9, got shape {k.shape}")
        ks[str(n)] = [[round(float(v), 4) for v in r] for r in k]
    sizes = {len(k) for k in ks.values()}
    if len(sizes) != 1:
        raise ValueError(f"all kernels must have the same size, got sizes {sorted(sizes)}")
    K = sizes.pop()
    for n, e in emb.items():
        if min(e["height"], e["width"]) < K or max(e["height"], e["width"]) > 64:
            raise ValueError(f"images[{n!r}] must be between {K} and 64 pixels each way, got "
                             f"{e['height']} x {e['width']}")
    image = next(iter(emb)) if image is None else image
    preset = next(iter(ks)) if preset is None else preset
    if image not in emb:
        raise ValueError(f"image must be one of {list(emb)}, got {image!r}")
    if preset not in ks:
        raise ValueError(f"preset must be one of {list(ks)}, got {preset!r}")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
    return _html("mountKernel", {"images": emb, "presets": ks, "image": image, "preset": preset,
                                 "threshold": float(threshold)}, "")


def gabor_explorer_html(image, size: int = 15, *, theta: float = 0.0, omega: float = 0.6,
                        phi: float = 0.0, alpha: float = 0.02, beta: float = 0.02) -> "HTML":
    """The Gabor explorer for the static book (chapter 6): Bishop's eq. 10.6-10.8 as sliders.

    The kernel is :func:`course_lib.gabor.gabor_kernel` (amplitude 1), the response its valid
    cross-correlation with ``image`` (both recomputed in the page's JavaScript).

    Parameters
    ----------
    image : ndarray, shape (H, W)
        At most 96 x 96 and at least 31 pixels each way (the largest kernel).
    size : int
        Starting odd kernel size, 3..31.
    theta, omega, phi, alpha, beta : float
        Starting values, inside :data:`GABOR_RANGES`.

    Returns
    -------
    IPython.display.HTML

    Examples
    --------
    >>> page = gabor_explorer_html(np.zeros((40, 40)), size=11, omega=0.8)
    >>> "mountGabor" in page.data
    True
    """
    emb = _embed("image", image)
    if not (31 <= min(emb["height"], emb["width"]) and max(emb["height"], emb["width"]) <= 96):
        raise ValueError(f"image must be between 31 and 96 pixels each way, got {emb['height']} x {emb['width']}")
    size = check_int("size", size, minimum=3)
    if size % 2 == 0 or size > 31:
        raise ValueError(f"size must be odd and at most 31, got size={size}")
    values = {"theta": theta, "omega": omega, "phi": phi, "alpha": alpha, "beta": beta}
    for name, v in values.items():
        lo, hi, _ = GABOR_RANGES[name]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
            raise ValueError(f"{name} must be a number in [{lo}, {hi}], got {name}={v!r}")
    gabor_kernel(size, **{k: float(v) for k, v in values.items()})     # same checks as the library
    cfg = {"image": emb, "size": size, "ranges": {k: list(v) for k, v in GABOR_RANGES.items()},
           **{k: float(v) for k, v in values.items()}}
    return _html("mountGabor", cfg, "")


def _hog_text(h: int, w: int, ppc: int, bins: int, cpb: int) -> str:
    """Python twin of image_explorers.js's hogText (same markup, tested)."""
    try:
        s = hog_shape(h, w, pixels_per_cell=ppc, orientations=bins, cells_per_block=cpb)
    except ValueError:
        cells = (h // ppc, w // ppc)
        msg = (f"a {h} × {w} image has only {cells[0]} × {cells[1]} cells of {ppc} × {ppc} pixels, "
               f"fewer than one block of {cpb} × {cpb} cells")
        return f'<div class="cl-msg cl-error">Impossible: {msg}</div>'
    (cy, cx), (by, bx) = s.cells, s.blocks
    return (f'<div class="cl-formula">cells: ⌊{h} / {ppc}⌋ × ⌊{w} / {ppc}⌋ = {cy} × {cx}</div>'
            f'<div class="cl-formula">cell histograms: {cy} × {cx} × {bins} bins = {s.cell_values:,} numbers</div>'
            f'<div class="cl-formula">blocks of {cpb} × {cpb} cells, one cell apart: {by} × {bx}</div>'
            f'<div class="cl-shape">feature length D = {by} × {bx} × {cpb} × {cpb} × {bins} = <b>{s.length:,}</b></div>')


def hog_explorer_html(height: int = 240, width: int = 320, pixels_per_cell: int = 8, orientations: int = 9,
                      cells_per_block: int = 2) -> "HTML":
    """The HoG arithmetic explorer for the static book (chapter 2, S2.6).

    Sliders for the image size, cell size, number of orientation bins and block size;
    the page draws the cell grid (grey: pixels left over, not in any cell) with the first two
    block positions, and prints cells, cell-histogram numbers, blocks and the feature length
    D exactly as :func:`course_lib.features.hog_shape` computes them (scikit-image's layout).

    Returns
    -------
    IPython.display.HTML

    Examples
    --------
    >>> page = hog_explorer_html()             # the slides' 320 x 240 image, 8 x 8 cells, 9 bins
    >>> "10,800 numbers" in page.data
    True
    """
    cfg = {"height": height, "width": width, "pixels_per_cell": pixels_per_cell, "orientations": orientations,
           "cells_per_block": cells_per_block}
    for name, v in cfg.items():
        lo, hi, step = HOG_RANGES[name]
        v = check_int(name, v, minimum=lo)
        if v > hi or (v - lo) % step:
            raise ValueError(f"{name} must be in {lo}..{hi} in steps of {step}, got {name}={v}")
    cfg["ranges"] = {k: list(v) for k, v in HOG_RANGES.items()}
    return _html("mountHog", cfg, _hog_text(height, width, pixels_per_cell, orientations, cells_per_block))
