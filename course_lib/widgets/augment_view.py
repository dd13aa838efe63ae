"""The augmentation explorer for the static book (chapter 7): HTML + inline JavaScript, no CDN.

:func:`augment_explorer_html` shows one small image, one augmented copy whose parameters are set
by hand (padding and crop offset, mirror, brightness, contrast and saturation factors, the padding
fill), optionally its per-pixel whitened version with an epsilon slider, and a grid of random draws
(strengths and a seed). ``static/augment_explorer.js`` ports the arithmetic of
:mod:`course_lib.augment` and of :class:`course_lib.whitening.PixelWhitener`;
:func:`augment_fixed` is the Python side of that agreement (tested in Node). The page's random draws
come from its own seeded generator (not torch's), with the ranges of
:func:`course_lib.augment.color_jitter` and :func:`course_lib.augment.random_crop`.
"""
from __future__ import annotations

import json
import numbers
from typing import Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F

from .. import augment as A
from .._checks import check_array, check_int
from ._assets import asset, new_id

__all__ = ["augment_explorer_html", "augment_fixed", "AUGMENT_MAX_PADDING"]

#: the largest padding the explorer's slider offers
AUGMENT_MAX_PADDING = 8


def _check_factor(name: str, value, hi: float = 2.0) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= hi:
        raise ValueError(f"{name} must be a number in [0, {hi:g}], got {name}={value!r}; 1 leaves the image as it is")
    return float(value)


def _check_image(image) -> np.ndarray:
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
    img = check_array("image", image, ndim=3, shape_hint="(C, H, W) with values in [0, 1]").astype(np.float64)
    if img.shape[0] not in (1, 3):
        raise ValueError(f"image must have 1 or 3 channels (C, H, W), got shape {img.shape}; "
                         f"pass one image as image[0] from a batch")
    if not np.isfinite(img).all() or img.min() < 0 or img.max() > 1:
        raise ValueError("image must hold floats in [0, 1]; divide uint8 images by 255")
    return img


def _check_fill(fill, channels: int) -> list:
    f = np.asarray(fill, dtype=np.float64).ravel()
    if f.size == 1:
        f = np.repeat(f, channels)
    if f.size != channels or not np.isfinite(f).all():
        raise ValueError(f"fill must be a number or one number per channel ({channels}), got {fill!r}")
    return [float(v) for v in f]


def augment_fixed(image, *, padding: int = 0, dy: Optional[int] = None, dx: Optional[int] = None,
                  flip: bool = False, brightness: float = 1.0, contrast: float = 1.0,
                  saturation: float = 1.0, fill: Union[float, Sequence[float]] = 0.0) -> np.ndarray:
    """One augmented copy of an image for *fixed* parameters, with :mod:`course_lib.augment`'s operations.

    The order is that of :func:`course_lib.augment.augmenter`: crop (pad by ``padding`` with
    ``fill``, then the window at offset (``dy``, ``dx``) of the padded image, which is what
    :func:`~course_lib.augment.random_crop` returns for that offset), mirror, brightness,
    contrast, saturation. The explorer's JavaScript computes the same thing.

    Parameters
    ----------
    image : ndarray or Tensor, shape (C, H, W), C = 1 or 3, values in [0, 1]
    padding : int >= 0
    dy, dx : int in 0 .. 2 * padding, optional
        Window offset in the padded image; default ``padding`` (no shift).
    flip : bool
    brightness, contrast, saturation : float in [0, 2]
        Factors (1 leaves the image unchanged).
    fill : float or one float per channel

    Returns
    -------
    ndarray, shape (C, H, W), float64, values in [0, 1]

    Examples
    --------
    >>> img = np.zeros((1, 3, 3)); img[0, 1, 1] = 1.0
    >>> augment_fixed(img, padding=1, dy=0, dx=2)[0]          # content moves down 1, left 1
    array([[0., 0., 0.],
           [0., 0., 0.],
           [1., 0., 0.]])
    """
    img = _check_image(image)
    padding = check_int("padding", padding, minimum=0)
    dy = padding if dy is None else check_int("dy", dy, minimum=0)
    dx = padding if dx is None else check_int("dx", dx, minimum=0)
    if dy > 2 * padding or dx > 2 * padding:
        raise ValueError(f"dy and dx must lie in 0..{2 * padding} (2 * padding), got dy={dy}, dx={dx}")
    if not isinstance(flip, (bool, np.bool_)):
        raise TypeError(f"flip must be True or False, got {flip!r}")
    b, c, s = (_check_factor(n, v) for n, v in (("brightness", brightness), ("contrast", contrast),
                                                ("saturation", saturation)))
    fill_t = torch.tensor(_check_fill(fill, img.shape[0]), dtype=torch.float64)
    x = torch.from_numpy(img)[None]                                        # (1, C, H, W)
    h, w = img.shape[1:]
    xp = F.pad(x, (padding,) * 4)
    if padding:
        border = torch.ones(h + 2 * padding, w + 2 * padding, dtype=torch.bool)
        border[padding:padding + h, padding:padding + w] = False
        xp = torch.where(border, fill_t.view(1, -1, 1, 1), xp)             # random_crop's fill rule
    x = xp[..., dy:dy + h, dx:dx + w]
    if flip:
        x = A.hflip(x)
    x = A.adjust_saturation(A.adjust_contrast(A.adjust_brightness(x, b), c), s)
    return x[0].numpy().copy()


def augment_explorer_html(image, *, mean=None, std=None, channel_mean: Optional[Sequence[float]] = None,
                          padding: int = 4, dy: Optional[int] = None, dx: Optional[int] = None,
                          flip: bool = False, brightness: float = 1.0, contrast: float = 1.0,
                          saturation: float = 1.0, strengths: Sequence[float] = (0.2, 0.2, 0.2),
                          eps: float = 0.1, seed: int = 0, draws: int = 8) -> "HTML":
    """The augmentation explorer for the static book (chapter 7), no Python kernel needed.

    Parameters
    ----------
    image : ndarray or Tensor, shape (C, H, W), C = 1 or 3, values in [0, 1], at most 64 x 64
        E.g. one CIFAR-10 training image as floats.
    mean, std : ndarray, shape (C, H, W), optional
        Per-pixel training statistics (``PixelWhitener.mean_``, ``.std_``). When given, the page
        shows the augmented copy whitened as ``(x - mean) / (std + eps)`` with an epsilon slider.
    channel_mean : sequence of C floats, optional
        Offered as the padding fill ("channel mean") besides black (0).
    padding, dy, dx, flip, brightness, contrast, saturation
        Starting values of the hand-set copy (see :func:`augment_fixed`); padding <= 8.
    strengths : (b, c, s)
        Starting strengths of the random draws, each in [0, 1].
    eps : float in [0.001, 1]
    seed : int in 0..99
    draws : int in 1..16

    Returns
    -------
    IPython.display.HTML

    Examples
    --------
    >>> page = augment_explorer_html(np.full((3, 8, 8), 0.5), padding=2)
    >>> "mountAugment" in page.data and 'data-explorer="augment"' in page.data
    True
    """
    from IPython.display import HTML
    img = _check_image(image)
    C, H, W = img.shape
    if max(H, W) > 64 or min(H, W) < 2:
        raise ValueError(f"image must be between 2 and 64 pixels each way, got {H} x {W}; crop or subsample it")
    padding = check_int("padding", padding, minimum=0)
    if padding > AUGMENT_MAX_PADDING:
        raise ValueError(f"padding must be at most {AUGMENT_MAX_PADDING}, got padding={padding}")
    dy = padding if dy is None else dy
    dx = padding if dx is None else dx
    augment_fixed(img, padding=padding, dy=dy, dx=dx, flip=flip, brightness=brightness,
                  contrast=contrast, saturation=saturation)            # the same checks
    strengths = [float(_check_factor(f"strengths[{i}]", v, hi=1.0)) for i, v in enumerate(strengths)] \
        if isinstance(strengths, (tuple, list)) and len(strengths) == 3 else None
    if strengths is None:
        raise ValueError("strengths must be three numbers (brightness, contrast, saturation) in [0, 1]")
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 1e-3 <= eps <= 1:
        raise ValueError(f"eps must be a number in [0.001, 1], got eps={eps!r}")
    seed = check_int("seed", seed, minimum=0)
    if seed > 99:
        raise ValueError(f"seed must be in 0..99, got seed={seed}")
    draws = check_int("draws", draws, minimum=1)
    if draws > 16:
        raise ValueError(f"draws must be in 1..16, got draws={draws}")
    fills = {"black (0)": [0.0] * C}
    if channel_mean is not None:
        fills["channel mean"] = [round(v, 4) for v in _check_fill(channel_mean, C)]
    cfg = {"image": {"channels": C, "height": H, "width": W, "data": [round(float(v), 4) for v in img.ravel()]},
           "max_padding": AUGMENT_MAX_PADDING, "padding": padding, "dy": int(dy), "dx": int(dx), "flip": bool(flip),
           "brightness": float(brightness), "contrast": float(contrast), "saturation": float(saturation),
           "fills": fills, "fill": "channel mean" if channel_mean is not None else "black (0)",
           "strengths": strengths, "eps": float(eps), "seed": seed, "draws": draws, "whitening": None}
    if (mean is None) != (std is None):
        raise ValueError("give both mean and std (PixelWhitener.mean_ and .std_) or neither")
    if mean is not None:
        m = check_array("mean", mean, ndim=3, shape_hint="(C, H, W)").astype(np.float64)
        s = check_array("std", std, ndim=3, shape_hint="(C, H, W)").astype(np.float64)
        if m.shape != (C, H, W) or s.shape != (C, H, W):
            raise ValueError(f"mean and std must have the image's shape {(C, H, W)}, got {m.shape} and "
                             f"{s.shape}; pass PixelWhitener.mean_ and .std_ fitted on such images")
        if not (np.isfinite(m).all() and np.isfinite(s).all()) or (s < 0).any():
            raise ValueError("mean must be finite and std finite and >= 0")
        cfg["whitening"] = {"mean": [round(float(v), 5) for v in m.ravel()],
                            "std": [round(float(v), 5) for v in s.ravel()]}
    eid = new_id("cl-aug")
    text = json.dumps(cfg, ensure_ascii=True, sort_keys=True).replace("</", "<\\/")
    return HTML(f'<div class="cl-explorer" id="{eid}" data-explorer="augment">'
                f'<style>{asset("explorers.css")}</style>'
                f'<div class="cl-controls"></div>'
                f'<div class="cl-picture"><noscript>This explorer needs JavaScript.</noscript></div>'
                f'<div class="cl-text"></div>'
                f'<script>{asset("augment_explorer.js")}\n'
                f'window.courseLibAugmentExplorer.instances["{eid}"] = window.courseLibAugmentExplorer.mountAugment('
                f'document.currentScript ? document.currentScript.parentNode : "{eid}", {text});'
                f'</script></div>')
