"""Static (no-kernel) explorers for chapters 1, 2, 3 and 6: HTML + inline JavaScript, no CDN.

* :func:`digit_scores_explorer_html` -- chapter 1: move or rotate a digit with sliders and watch a
  classifier's class scores; every frame (:func:`digit_score_grid`) is computed in Python, the page
  only looks them up.

* :func:`kernel_playground_html` -- chapter 3: pick an image and a kernel (or type one), move the
  threshold; the feature map and the detections follow (the live :func:`kernel_playground`'s rule).
* :func:`gabor_explorer_html` -- chapter 6: Bishop's Gabor parameters as sliders; the kernel and
  its response on an image follow.
* :func:`hog_explorer_html` -- chapter 2: image size, cell size, bins and block size as sliders;
  the cell grid, the number of cell-histogram values and the feature length D follow.

``static/image_explorers.js`` ports the arithmetic (``correlate2d``, ``gabor_kernel``,
``hog_shape``, the threshold rule) and is tested against these Python versions; the digit
explorer computes nothing in the page. Every control
the script creates carries ``data-lm-suppress-shortcuts="true"`` so that arrow keys move the
sliders inside JupyterLab too. Images are embedded rounded to 4 decimals (what the page draws).
"""
from __future__ import annotations

import base64
import json
import math
import numbers
from typing import Mapping, NamedTuple, Optional, Sequence

import numpy as np
import torch

from .._checks import check_array, check_int
from ..features import hog_shape
from ..gabor import gabor_kernel
from ._assets import asset, new_id

__all__ = ["kernel_playground_html", "gabor_explorer_html", "hog_explorer_html", "HOG_RANGES",
           "GABOR_RANGES", "ScoreGrid", "digit_score_grid", "digit_scores_explorer_html"]

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


# -- chapter 1: move or rotate a digit, watch the class scores ------------------------------------

class ScoreGrid(NamedTuple):
    """A classifier's scores for one image under every shift and rotation of a grid.

    ``images[a, i, j]`` is ``affine_image(image, shift=(shifts[i], shifts[j]), angle=angles[a])``
    (moved down by ``shifts[i]``, right by ``shifts[j]``, turned by ``angles[a]`` degrees
    counter-clockwise), ``scores[a, i, j]`` the model's K scores for it and ``predictions[a, i, j]``
    their arg max.
    """
    shifts: tuple
    angles: tuple
    images: np.ndarray       # (A, S, S, H, W) float64 in [0, 1]
    scores: np.ndarray       # (A, S, S, K) float32
    predictions: np.ndarray  # (A, S, S) int64

    def index(self, dy: int, dx: int, angle: float) -> tuple:
        """The (a, i, j) index of a grid point; ValueError if it is not on the grid."""
        for name, v, axis in (("dy", dy, self.shifts), ("dx", dx, self.shifts), ("angle", angle, self.angles)):
            if v not in axis:
                raise ValueError(f"{name}={v!r} is not on the grid; choose one of {list(axis)}")
        return self.angles.index(angle), self.shifts.index(dy), self.shifts.index(dx)


def _even_steps(name: str, values, *, integers: bool) -> tuple:
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, range, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of numbers, got {type(values).__name__}; e.g. {name}=range(-4, 5)")
    vals = list(values)
    kind = numbers.Integral if integers else numbers.Real
    if not vals or any(isinstance(v, bool) or not isinstance(v, kind) for v in vals):
        raise TypeError(f"{name} must be a non-empty sequence of {'ints' if integers else 'numbers'}, got {values!r}")
    vals = [int(v) if integers else float(v) for v in vals]
    steps = np.diff(vals)
    if len(vals) > 1 and (np.any(steps <= 0) or not np.allclose(steps, steps[0])):
        raise ValueError(f"{name} must increase in equal steps (the page's sliders have one step), got {vals}")
    if len(vals) > 41:
        raise ValueError(f"{name} has {len(vals)} values; use at most 41 (the page stores every frame)")
    return tuple(vals)


def digit_score_grid(model: torch.nn.Module, image, *, shifts: Sequence[int] = range(-4, 5),
                     angles: Sequence[float] = range(-30, 31, 10), device=None) -> ScoreGrid:
    """Shift and rotate one grey image over a grid and record a classifier's scores for every copy.

    Each copy is :func:`course_lib.augment.affine_image` of ``image`` (one bilinear resampling
    about the centre, zero fill); the scores are ``model``'s output for it, a batch of shape
    (1, 1, H, W) in float32. This is the data behind :func:`digit_scores_explorer_html`.

    Parameters
    ----------
    model : torch.nn.Module
        Maps (N, 1, H, W) floats in [0, 1] to scores (N, K), e.g. ``linear_classifier((1, 28, 28), 10)``.
    image : ndarray or Tensor, shape (H, W) or (1, H, W), floats in [0, 1]
    shifts : sequence of int
        Pixel offsets, increasing in equal steps, used for both directions (down and right).
    angles : sequence of float
        Angles in degrees, increasing in equal steps.
    device : optional
        Where the model runs; default, where its parameters are.

    Returns
    -------
    ScoreGrid
        ``images`` (A, S, S, H, W), ``scores`` (A, S, S, K), ``predictions`` (A, S, S) with
        A = len(angles), S = len(shifts).

    Examples
    --------
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))
    >>> g = digit_score_grid(model, np.zeros((4, 4)), shifts=[-1, 0, 1], angles=[0, 90])
    >>> g.images.shape, g.scores.shape, g.index(dy=1, dx=-1, angle=90)
    ((2, 3, 3, 4, 4), (2, 3, 3, 3), (1, 2, 0))
    """
    from ..augment import affine_image
    from ..training import predict
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
    img = check_array("image", image, ndim=(2, 3), shape_hint="(H, W) or (1, H, W)").astype(np.float64)
    if img.ndim == 3:
        if img.shape[0] != 1:
            raise ValueError(f"image must be one grey image (H, W) or (1, H, W), got shape {img.shape}; "
                             f"pass images[0] from a batch")
        img = img[0]
    if not np.isfinite(img).all() or img.min() < 0 or img.max() > 1:
        raise ValueError("image must hold floats in [0, 1]; divide uint8 images by 255")
    if min(img.shape) < 2 or max(img.shape) > 64:
        raise ValueError(f"image must be between 2 and 64 pixels each way, got {img.shape[0]} x {img.shape[1]}")
    shifts = _even_steps("shifts", shifts, integers=True)
    angles = _even_steps("angles", angles, integers=False)
    if max(abs(v) for v in shifts) >= min(img.shape):
        raise ValueError(f"shifts must stay below the image size {min(img.shape)}, got {list(shifts)}")
    # (A, S, S, H, W): angle, then down, then right
    frames = np.stack([affine_image(img, shift=(dy, dx), angle=a) for a in angles for dy in shifts for dx in shifts])
    scores = predict(model, torch.from_numpy(frames[:, None]).float(), device=device).numpy()
    if scores.ndim != 2:
        raise ValueError(f"model must return scores of shape (N, K), got {scores.shape}")
    A, S = len(angles), len(shifts)
    return ScoreGrid(shifts, angles, frames.reshape(A, S, S, *img.shape), scores.reshape(A, S, S, -1),
                     scores.argmax(axis=1).reshape(A, S, S))


def digit_scores_explorer_html(grid: ScoreGrid, *, label: Optional[int] = None,
                               class_names: Optional[Sequence[str]] = None, dy: int = 0, dx: int = 0,
                               angle: float = 0.0) -> "HTML":
    """Move or rotate a digit with sliders and watch a classifier's class scores (static book, chapter 1).

    Every frame of ``grid`` (:func:`digit_score_grid`) is embedded: the moved digit (as 8-bit
    grey values, what the page draws) and its K scores (rounded to 4 decimals) with the model's
    arg max. The page's script only looks frames up: three sliders (down, right, angle) pick a
    frame, a canvas shows the digit on a fixed grey scale (0 black, 1 white), and a bar chart
    shows the scores on one fixed axis for all frames, with the arg max marked.

    Parameters
    ----------
    grid : ScoreGrid
    label : int, optional
        The true class; its bar is green, and the arg max is red when it is wrong.
    class_names : sequence of K str, optional
        Default "0", "1", ...
    dy, dx, angle
        The starting frame (a point of the grid).

    Returns
    -------
    IPython.display.HTML

    Examples
    --------
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))
    >>> page = digit_scores_explorer_html(digit_score_grid(model, np.eye(4), shifts=[-1, 0, 1], angles=[0]))
    >>> "mountDigitScores" in page.data and 'data-explorer="digitscores"' in page.data
    True
    """
    if not isinstance(grid, ScoreGrid):
        raise TypeError(f"grid must be a ScoreGrid from digit_score_grid(model, image), got {type(grid).__name__}")
    A, S, _, H, W = grid.images.shape
    K = grid.scores.shape[-1]
    if grid.scores.shape != (A, S, S, K) or grid.predictions.shape != (A, S, S):
        raise ValueError(f"grid is inconsistent: images {grid.images.shape}, scores {grid.scores.shape}, "
                         f"predictions {grid.predictions.shape}; build it with digit_score_grid")
    names = [str(k) for k in range(K)] if class_names is None else [str(n) for n in class_names]
    if len(names) != K:
        raise ValueError(f"class_names must have one name per class (K = {K}), got {len(names)}")
    if label is not None:
        label = check_int("label", label, minimum=0)
        if label >= K:
            raise ValueError(f"label must be a class index in 0..{K - 1}, got label={label}")
    start = grid.index(dy, dx, angle)
    pixels = np.clip(np.round(grid.images * 255), 0, 255).astype(np.uint8)
    step = lambda v: (v[1] - v[0]) if len(v) > 1 else 1      # noqa: E731
    cfg = {"height": int(H), "width": int(W), "shifts": [int(v) for v in grid.shifts],
           "angles": [float(v) for v in grid.angles], "shift_step": int(step(grid.shifts)),
           "angle_step": float(step(grid.angles)), "pixels": base64.b64encode(pixels.tobytes()).decode("ascii"),
           "scores": [round(float(v), 4) for v in grid.scores.ravel()], "classes": K,
           "predictions": [int(v) for v in grid.predictions.ravel()], "names": names, "label": label,
           "start": [int(v) for v in start]}
    return _html("mountDigitScores", cfg, "")
