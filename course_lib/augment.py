"""Data augmentation for batches of float images (N, C, H, W) on any device.

Every random operation takes a ``torch.Generator`` (or an int seed) and draws
*all* of its random numbers from it, one batch at a time, on the generator's
device; the numbers are then moved to the batch's device. So the same seed
gives the same augmented batch on the CPU and on a GPU, and a whole training
run is reproducible.

The colour operations follow ``torchvision.transforms.v2.functional``
(``adjust_brightness``, ``adjust_contrast``, ``adjust_saturation``,
``adjust_hue``) exactly, but take one factor *per image*, so a whole batch is
jittered in one vectorised call. :func:`augmenter` chains the operations into
one callable ``(batch, generator) -> batch``, the ``transform`` that
:class:`course_lib.training.TensorLoader` expects.

Inputs are float images with values in [0, 1] (what ``TensorLoader`` yields);
every operation keeps them in [0, 1]. Normalisation (:func:`normalize`) comes
last, because the colour operations assume [0, 1].
"""
from __future__ import annotations

import numbers
from typing import Callable, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from ._checks import check_int

__all__ = ["hflip", "vflip", "random_flip", "random_crop", "adjust_brightness", "adjust_contrast",
           "adjust_saturation", "adjust_hue", "rgb_to_grayscale", "color_jitter", "normalize",
           "Augmenter", "augmenter", "shift_image", "affine_image"]

GeneratorArg = Union[torch.Generator, int]
Factor = Union[float, Sequence[float], torch.Tensor]
Transform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]

#: ITU-R 601-2 luma weights, the ones torchvision (and PIL) use for grey values.
LUMA_WEIGHTS = (0.2989, 0.587, 0.114)


# ----------------------------------------------------------------------------------------------
# argument checks

def _check_batch(x, *, channels: Optional[Tuple[int, ...]] = None) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch tensor of shape (N, C, H, W), got {type(x).__name__}; "
                        f"convert it with torch.as_tensor(x)")
    if x.ndim != 4:
        raise ValueError(f"x must be 4D with shape (N, C, H, W), got shape {tuple(x.shape)}; "
                         f"add a batch axis with x[None]")
    if not x.is_floating_point():
        raise TypeError(f"x must hold floats in [0, 1], got dtype {x.dtype}; "
                        f"convert uint8 images with x.float() / 255")
    if channels is not None and x.shape[1] not in channels:
        want = " or ".join(str(c) for c in channels)
        raise ValueError(f"x must have {want} channels, got C={x.shape[1]} (shape {tuple(x.shape)}); "
                         f"colour operations need grey (C=1) or RGB (C=3) images")
    return x


def _as_generator(generator) -> torch.Generator:
    if isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return torch.Generator().manual_seed(check_int("generator", generator, minimum=0))
    raise TypeError(f"generator must be a torch.Generator or an int seed, got {generator!r}; "
                    f"pass e.g. generator=torch.Generator().manual_seed(0) or generator=0")


def _check_strength(name: str, value, *, maximum: Optional[float] = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0 \
            or (maximum is not None and value > maximum):
        upper = f" and <= {maximum}" if maximum is not None else ""
        raise ValueError(f"{name} must be a real number >= 0{upper}, got {name}={value!r}; "
                         f"0 switches it off, e.g. {name}=0.2")
    return float(value)


def _per_image(name: str, factor: Factor, x: torch.Tensor, *, lo: float, hi: float) -> torch.Tensor:
    """A factor (float, or one per image) as a tensor of shape (N, 1, 1, 1) on x's device."""
    f = torch.as_tensor(factor, dtype=x.dtype).to(x.device)
    if f.ndim == 0:
        f = f.expand(x.shape[0])
    if f.ndim != 1 or f.shape[0] != x.shape[0]:
        raise ValueError(f"{name} must be a number or have one entry per image ({x.shape[0]}), got "
                         f"shape {tuple(f.shape)}; pass a float or a tensor of shape (N,)")
    if not torch.isfinite(f).all() or (f < lo).any() or (f > hi).any():
        raise ValueError(f"{name} must lie in [{lo}, {hi}], got values from {float(f.min()):.4g} to "
                         f"{float(f.max()):.4g}; clip the factors to that range")
    return f.view(-1, 1, 1, 1)


def _uniform(n: int, lo: float, hi: float, generator: torch.Generator) -> torch.Tensor:
    """n numbers uniform in [lo, hi), drawn on the generator's device (CPU for TensorLoader)."""
    u = torch.rand(n, generator=generator, device=generator.device, dtype=torch.float64)
    return lo + (hi - lo) * u


# ----------------------------------------------------------------------------------------------
# geometry: flips and crops

def hflip(x: torch.Tensor) -> torch.Tensor:
    """Mirror every image left to right (reverse the width axis).

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W)

    Returns
    -------
    Tensor, shape (N, C, H, W): ``out[..., j] = x[..., W - 1 - j]``.

    Examples
    --------
    >>> hflip(torch.arange(3.0).view(1, 1, 1, 3))
    tensor([[[[2., 1., 0.]]]])
    """
    return _check_batch(x).flip(-1)


def vflip(x: torch.Tensor) -> torch.Tensor:
    """Mirror every image top to bottom (reverse the height axis).

    Examples
    --------
    >>> vflip(torch.arange(3.0).view(1, 1, 3, 1)).flatten()
    tensor([2., 1., 0.])
    """
    return _check_batch(x).flip(-2)


def random_flip(x: torch.Tensor, generator: GeneratorArg, *, p: float = 0.5,
                direction: str = "horizontal") -> torch.Tensor:
    """Flip each image independently with probability ``p``.

    Draws N numbers from ``generator``.

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W)
    generator : torch.Generator or int seed
    p : float in [0, 1]
    direction : {"horizontal", "vertical"}
        Horizontal (left-right) flips suit photographs; a vertical flip turns a
        car upside down and a 6 into something like a 9.

    Returns
    -------
    Tensor, shape (N, C, H, W)

    Examples
    --------
    >>> x = torch.arange(4.0).view(2, 1, 1, 2)
    >>> random_flip(x, generator=0, p=1.0).flatten().tolist()
    [1.0, 0.0, 3.0, 2.0]
    """
    x = _check_batch(x)
    g = _as_generator(generator)
    p = _check_strength("p", p, maximum=1.0)
    if direction not in ("horizontal", "vertical"):
        raise ValueError(f"direction must be 'horizontal' or 'vertical', got {direction!r}")
    flip = (torch.rand(x.shape[0], generator=g, device=g.device) < p).to(x.device)
    flipped = x.flip(-1 if direction == "horizontal" else -2)
    return torch.where(flip.view(-1, 1, 1, 1), flipped, x)


def random_crop(x: torch.Tensor, generator: GeneratorArg, *, padding: int = 4,
                size: Optional[Union[int, Tuple[int, int]]] = None,
                fill: Union[float, Sequence[float]] = 0.0) -> torch.Tensor:
    """Pad every image by ``padding`` on all sides, then cut a random window out of it.

    Each image gets its own offset (dy, dx), uniform over all positions where
    the window fits; the result is exactly the window
    ``padded[n, :, dy:dy + h, dx:dx + w]``. With the default ``size`` (the
    input size) this is the usual "pad 4, crop 32" of CIFAR-10 training: a
    random shift by up to ``padding`` pixels. Draws 2N integers from ``generator``.

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W)
    generator : torch.Generator or int seed
    padding : int >= 0
    size : int or (h, w), optional
        Window size, default (H, W). Must fit in the padded image.
    fill : float or one float per channel
        Value of the padding pixels. 0 is black for images in [0, 1]; pass
        the per-channel mean so that, after mean subtraction, the padding is 0.

    Returns
    -------
    Tensor, shape (N, C, h, w)

    Examples
    --------
    >>> x = torch.rand(5, 3, 32, 32)
    >>> random_crop(x, generator=0, padding=4).shape
    torch.Size([5, 3, 32, 32])
    >>> random_crop(x, generator=0, padding=0, size=24).shape
    torch.Size([5, 3, 24, 24])
    """
    x = _check_batch(x)
    g = _as_generator(generator)
    padding = check_int("padding", padding, minimum=0)
    n, c, height, width = x.shape
    if size is None:
        h, w = height, width
    elif isinstance(size, (tuple, list)) and len(size) == 2:
        h, w = check_int("size[0]", size[0], minimum=1), check_int("size[1]", size[1], minimum=1)
    else:
        h = w = check_int("size", size, minimum=1)
    if h > height + 2 * padding or w > width + 2 * padding:
        raise ValueError(f"size=({h}, {w}) does not fit in the padded image "
                         f"({height + 2 * padding}, {width + 2 * padding}); use a smaller size or "
                         f"more padding")
    fill_t = torch.as_tensor(fill, dtype=x.dtype).to(x.device).flatten()
    if fill_t.numel() not in (1, c):
        raise ValueError(f"fill must be a number or one number per channel ({c}), got {fill!r}")
    # pad with zeros, then put the fill value into the border (F.pad takes one scalar only)
    xp = F.pad(x, (padding, padding, padding, padding))
    if padding > 0 and bool((fill_t != 0).any()):
        border = torch.ones(1, 1, height + 2 * padding, width + 2 * padding, dtype=torch.bool,
                            device=x.device)
        border[..., padding:padding + height, padding:padding + width] = False
        xp = torch.where(border, fill_t.view(1, -1, 1, 1), xp)
    dy = torch.randint(0, height + 2 * padding - h + 1, (n,), generator=g, device=g.device).to(x.device)
    dx = torch.randint(0, width + 2 * padding - w + 1, (n,), generator=g, device=g.device).to(x.device)
    # every h x w window of the padded images, as a view: (N, C, positions down, positions across, h, w)
    windows = xp.unfold(2, h, 1).unfold(3, w, 1)
    return windows[torch.arange(n, device=x.device), :, dy, dx]                # (N, C, h, w)


# ----------------------------------------------------------------------------------------------
# colour: brightness, contrast, saturation, hue (torchvision's definitions, one factor per image)

def rgb_to_grayscale(x: torch.Tensor) -> torch.Tensor:
    """Grey value 0.2989 R + 0.587 G + 0.114 B of each pixel (grey images pass through).

    Returns
    -------
    Tensor, shape (N, 1, H, W)

    Examples
    --------
    >>> rgb_to_grayscale(torch.ones(2, 3, 4, 4)).shape
    torch.Size([2, 1, 4, 4])
    """
    x = _check_batch(x, channels=(1, 3))
    if x.shape[1] == 1:
        return x.clone()
    wts = torch.tensor(LUMA_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * wts).sum(dim=1, keepdim=True)


def _blend(x: torch.Tensor, other: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    # factor * x + (1 - factor) * other, clipped to the valid range [0, 1]
    return (factor * x + (1.0 - factor) * other).clamp(0.0, 1.0)


def adjust_brightness(x: torch.Tensor, factor: Factor) -> torch.Tensor:
    """Scale every pixel by ``factor`` (0 gives black, 1 the original), clipped to [0, 1].

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W), values in [0, 1]
    factor : float >= 0, or a tensor of shape (N,) with one factor per image

    Returns
    -------
    Tensor, shape (N, C, H, W)

    Examples
    --------
    >>> adjust_brightness(torch.full((2, 1, 1, 1), 0.6), torch.tensor([0.5, 2.0])).flatten()
    tensor([0.3000, 1.0000])
    """
    x = _check_batch(x, channels=(1, 3))
    f = _per_image("factor", factor, x, lo=0.0, hi=float("inf"))
    return _blend(x, torch.zeros_like(x), f)


def adjust_contrast(x: torch.Tensor, factor: Factor) -> torch.Tensor:
    """Blend every image with its mean grey value (0 gives a flat grey image, 1 the original).

    Examples
    --------
    >>> x = torch.tensor([0.2, 0.6]).view(1, 1, 1, 2)
    >>> adjust_contrast(x, 0.5).flatten()
    tensor([0.3000, 0.5000])
    """
    x = _check_batch(x, channels=(1, 3))
    f = _per_image("factor", factor, x, lo=0.0, hi=float("inf"))
    mean = rgb_to_grayscale(x).mean(dim=(1, 2, 3), keepdim=True)
    return _blend(x, mean, f)


def adjust_saturation(x: torch.Tensor, factor: Factor) -> torch.Tensor:
    """Blend every pixel with its own grey value (0 gives a grey image, 1 the original).

    Grey images (C = 1) are returned unchanged, as in torchvision.

    Examples
    --------
    >>> x = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)     # pure red
    >>> adjust_saturation(x, 0.0).flatten()                      # its grey value, three times
    tensor([0.2989, 0.2989, 0.2989])
    """
    x = _check_batch(x, channels=(1, 3))
    f = _per_image("factor", factor, x, lo=0.0, hi=float("inf"))
    if x.shape[1] == 1:
        return x
    return _blend(x, rgb_to_grayscale(x), f)


def _rgb_to_hsv(x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Hue (in turns, [0, 1)), saturation and value, each (N, H, W).

    The textbook formulas (red, then green, then blue wins a tie for the
    largest channel, as in torchvision and PIL), written with 0/1 masks instead
    of ``torch.where`` because that is several times faster on the CPU.
    """
    r, g, b = x.unbind(dim=1)
    maxc, minc = x.amax(dim=1), x.amin(dim=1)
    chroma = maxc - minc
    grey = (chroma == 0).to(x.dtype)                       # no hue at all: h = 0, s = 0
    s = chroma / (maxc + (maxc == 0).to(x.dtype))
    is_r = (maxc == r).to(x.dtype)
    is_g = (maxc == g).to(x.dtype) * (1 - is_r)
    is_b = 1 - is_r - is_g
    # which sixth of the colour wheel, and where in it: (g - b)/chroma, (b - r)/chroma + 2, (r - g)/chroma + 4
    h = (is_r * (g - b) + is_g * (b - r + 2 * chroma) + is_b * (r - g + 4 * chroma)) / (chroma + grey)
    h = h * (1 - grey) / 6.0
    return h - torch.floor(h), s, maxc


def _hsv_to_rgb(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`_rgb_to_hsv`; returns (N, 3, H, W).

    Channel c is v - v s clip(min(k, 4 - k), 0, 1) with k = (n_c + 6 h) mod 6
    and n = (5, 3, 1) for (R, G, B): the six-sector formula without a table.
    """
    n = torch.tensor([5.0, 3.0, 1.0], dtype=h.dtype, device=h.device).view(1, 3, 1, 1)
    k = n + 6.0 * h.unsqueeze(1)
    k = k - 6.0 * torch.floor(k / 6.0)
    return v.unsqueeze(1) - (v * s).unsqueeze(1) * torch.clamp(torch.minimum(k, 4.0 - k), 0.0, 1.0)


def adjust_hue(x: torch.Tensor, factor: Factor) -> torch.Tensor:
    """Rotate every pixel's hue by ``factor`` turns of the colour wheel, in [-0.5, 0.5].

    The image goes to HSV, the hue moves by ``factor`` (modulo 1), and back to
    RGB; saturation and value stay. Grey images (C = 1) are returned unchanged.

    Examples
    --------
    >>> red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
    >>> adjust_hue(red, 1 / 3).flatten()                         # a third of a turn: green
    tensor([0., 1., 0.])
    """
    x = _check_batch(x, channels=(1, 3))
    f = _per_image("factor", factor, x, lo=-0.5, hi=0.5)
    if x.shape[1] == 1:
        return x
    h, s, v = _rgb_to_hsv(x)
    h = h + f.view(-1, 1, 1)
    return _hsv_to_rgb(h - torch.floor(h), s, v).clamp(0.0, 1.0)


def color_jitter(x: torch.Tensor, generator: GeneratorArg, *, brightness: float = 0.0,
                 contrast: float = 0.0, saturation: float = 0.0, hue: float = 0.0) -> torch.Tensor:
    """Random brightness, contrast, saturation and hue, one draw per image and operation.

    Like torchvision's ``ColorJitter``: the brightness factor is uniform in
    [max(0, 1 - brightness), 1 + brightness] (contrast and saturation alike) and
    the hue shift uniform in [-hue, hue]. The operations run in that fixed
    order (torchvision shuffles it); an operation with strength 0 is skipped and
    draws nothing. Draws N numbers per active operation from ``generator``.

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W), values in [0, 1], C = 1 or 3
    generator : torch.Generator or int seed
    brightness, contrast, saturation : float >= 0
    hue : float in [0, 0.5]

    Returns
    -------
    Tensor, shape (N, C, H, W), values in [0, 1]

    Examples
    --------
    >>> x = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    >>> y = color_jitter(x, 0, brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)
    >>> y.shape, bool(y.min() >= 0) and bool(y.max() <= 1)
    (torch.Size([4, 3, 8, 8]), True)
    >>> torch.equal(y, color_jitter(x, 0, brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1))
    True
    """
    x = _check_batch(x, channels=(1, 3))
    g = _as_generator(generator)
    strengths = {"brightness": _check_strength("brightness", brightness),
                 "contrast": _check_strength("contrast", contrast),
                 "saturation": _check_strength("saturation", saturation),
                 "hue": _check_strength("hue", hue, maximum=0.5)}
    ops = {"brightness": adjust_brightness, "contrast": adjust_contrast,
           "saturation": adjust_saturation, "hue": adjust_hue}
    n = x.shape[0]
    for name, strength in strengths.items():
        if strength == 0:
            continue
        lo, hi = (-strength, strength) if name == "hue" else (max(0.0, 1.0 - strength), 1.0 + strength)
        x = ops[name](x, _uniform(n, lo, hi, g).to(device=x.device, dtype=x.dtype))
    return x


def normalize(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """Subtract a per-channel mean and divide by a per-channel standard deviation.

    Parameters
    ----------
    x : Tensor, shape (N, C, H, W)
    mean, std : sequences of C floats (std > 0)

    Examples
    --------
    >>> normalize(torch.full((1, 2, 1, 1), 0.5), mean=[0.5, 0.25], std=[1.0, 0.5]).flatten()
    tensor([0.0000, 0.5000])
    """
    x = _check_batch(x)
    m = torch.as_tensor(mean, dtype=x.dtype).to(x.device).flatten()
    s = torch.as_tensor(std, dtype=x.dtype).to(x.device).flatten()
    if m.numel() != x.shape[1] or s.numel() != x.shape[1]:
        raise ValueError(f"mean and std need one entry per channel ({x.shape[1]}), got "
                         f"{m.numel()} and {s.numel()}")
    if not (s > 0).all():
        raise ValueError(f"std must be > 0 for every channel, got {s.tolist()}")
    return (x - m.view(1, -1, 1, 1)) / s.view(1, -1, 1, 1)


# ----------------------------------------------------------------------------------------------
# chaining

class Augmenter:
    """A chain of batch operations, each called as ``step(batch, generator)``.

    Use it as ``TensorLoader(..., transform=aug)``; calling it with the same
    generator state gives the same batch. Build one with :func:`augmenter`.

    Parameters
    ----------
    steps : sequence of (name, callable) pairs
        Each callable maps ``(batch, generator) -> batch``.

    Examples
    --------
    >>> aug = Augmenter([("flip", lambda x, g: random_flip(x, g, p=1.0))])
    >>> aug(torch.arange(2.0).view(1, 1, 1, 2), 0).flatten()
    tensor([1., 0.])
    """

    def __init__(self, steps: Sequence[Tuple[str, Transform]]):
        steps = list(steps)
        for i, step in enumerate(steps):
            if not (isinstance(step, tuple) and len(step) == 2 and isinstance(step[0], str)
                    and callable(step[1])):
                raise TypeError(f"steps[{i}] must be a (name, callable) pair, got {step!r}")
        self.steps: List[Tuple[str, Transform]] = steps

    def __call__(self, batch: torch.Tensor, generator: GeneratorArg) -> torch.Tensor:
        g = _as_generator(generator)
        for _, step in self.steps:
            batch = step(batch, g)
        return batch

    @property
    def names(self) -> List[str]:
        return [name for name, _ in self.steps]

    def __repr__(self) -> str:
        return f"Augmenter({' -> '.join(self.names) or 'identity'})"


def augmenter(*, padding: int = 0, size: Optional[Union[int, Tuple[int, int]]] = None,
              fill: Union[float, Sequence[float]] = 0.0, flip: bool = False,
              brightness: float = 0.0, contrast: float = 0.0, saturation: float = 0.0,
              hue: float = 0.0, mean: Optional[Sequence[float]] = None,
              std: Optional[Sequence[float]] = None) -> Augmenter:
    """Build the usual training pipeline: crop, flip, colour jitter, then normalise.

    Steps that are switched off (``padding=0`` and no ``size``, ``flip=False``,
    all colour strengths 0, no ``mean``) are left out, so ``augmenter(mean=m,
    std=s)`` is a plain normaliser for test images: the same code for the
    training and the test loader, with and without augmentation.

    Parameters
    ----------
    padding, size, fill
        :func:`random_crop` (skipped when ``padding == 0`` and ``size is None``).
    flip : bool
        :func:`random_flip`, horizontal, p = 0.5.
    brightness, contrast, saturation, hue
        :func:`color_jitter` strengths.
    mean, std : sequences of C floats, optional
        :func:`normalize` as the last step (``std`` defaults to ones).

    Returns
    -------
    Augmenter
        Callable ``(batch, generator) -> batch``.

    Examples
    --------
    >>> aug = augmenter(padding=4, flip=True, brightness=0.2, mean=[0.5] * 3, std=[0.25] * 3)
    >>> aug
    Augmenter(crop -> flip -> color_jitter -> normalize)
    >>> aug(torch.rand(8, 3, 32, 32), torch.Generator().manual_seed(0)).shape
    torch.Size([8, 3, 32, 32])
    >>> augmenter(mean=[0.5], std=[0.5])
    Augmenter(normalize)
    """
    padding = check_int("padding", padding, minimum=0)
    jitter = {"brightness": _check_strength("brightness", brightness),
              "contrast": _check_strength("contrast", contrast),
              "saturation": _check_strength("saturation", saturation),
              "hue": _check_strength("hue", hue, maximum=0.5)}
    if not isinstance(flip, bool):
        raise TypeError(f"flip must be True or False, got {flip!r}")
    if std is not None and mean is None:
        raise ValueError("std was given without mean; pass both, e.g. mean=[0.5] * 3, std=[0.25] * 3")
    steps: List[Tuple[str, Transform]] = []
    if padding > 0 or size is not None:
        steps.append(("crop", lambda x, g: random_crop(x, g, padding=padding, size=size, fill=fill)))
    if flip:
        steps.append(("flip", lambda x, g: random_flip(x, g)))
    if any(v > 0 for v in jitter.values()):
        steps.append(("color_jitter", lambda x, g: color_jitter(x, g, **jitter)))
    if mean is not None:
        std_ = [1.0] * len(mean) if std is None else std
        steps.append(("normalize", lambda x, g: normalize(x, mean, std_)))
    return Augmenter(steps)


# ----------------------------------------------------------------------------------------------
# deterministic geometric changes (for invariance experiments, not random augmentation)

def shift_image(x, dy: int, dx: int):
    """Move the content of an image down by ``dy`` and right by ``dx`` pixels, filling with zeros.

    Negative values move up or left; the size stays the same and what leaves the
    frame is lost. Works on NumPy arrays and torch tensors of any shape (..., H, W)
    and returns the same type, dtype and device.

    Parameters
    ----------
    x : ndarray or torch.Tensor, shape (..., H, W)
    dy, dx : int
        Shift in pixels (rows down, columns right).

    Returns
    -------
    same type as ``x``, same shape

    Examples
    --------
    >>> import numpy as np
    >>> shift_image(np.arange(1, 10).reshape(3, 3), 1, -1)
    array([[0, 0, 0],
           [2, 3, 0],
           [5, 6, 0]])
    """
    dy, dx = check_int("dy", dy), check_int("dx", dx)
    if isinstance(x, torch.Tensor):
        out = torch.zeros_like(x)
    else:
        import numpy as np
        if not isinstance(x, np.ndarray):
            raise TypeError(f"x must be a NumPy array or a torch.Tensor, got {type(x).__name__}; "
                            f"convert it with np.asarray(x)")
        out = np.zeros_like(x)
    if x.ndim < 2:
        raise ValueError(f"x must have at least 2 axes (..., H, W), got shape {tuple(x.shape)}")
    h, w = x.shape[-2:]
    if abs(dy) >= h or abs(dx) >= w:
        return out                                     # everything left the frame
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        x[..., max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def affine_image(image, *, shift: Tuple[float, float] = (0.0, 0.0), angle: float = 0.0,
                 scale: float = 1.0, brightness: float = 1.0):
    """Shift, rotate, scale and dim one grey image about its centre (bilinear, zero fill, clipped to [0, 1]).

    Rotation is counter-clockwise on screen for positive ``angle`` (rows point
    down); ``scale > 1`` enlarges the content; ``shift`` is (down, right) in pixels
    and may be fractional; ``brightness`` multiplies the result, which is then
    clipped to [0, 1].

    Parameters
    ----------
    image : ndarray or torch.Tensor, shape (H, W)
        Floats in [0, 1].
    shift : (float, float)
    angle : float
        Degrees.
    scale : float
        > 0.
    brightness : float
        >= 0.

    Returns
    -------
    ndarray, shape (H, W), float64

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((5, 5)); img[2, 2] = 1.0
    >>> float(affine_image(img, shift=(1, 2))[3, 4])
    1.0
    >>> bool(np.allclose(affine_image(img, angle=90), img))
    True
    """
    import numpy as np
    from scipy import ndimage as ndi
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().numpy()
    from ._checks import check_array
    img = check_array("image", image, ndim=2, shape_hint="(H, W); pick one channel").astype(np.float64)
    if not isinstance(shift, (tuple, list)) or len(shift) != 2 or not all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) for v in shift):
        raise TypeError(f"shift must be a pair (down, right) of numbers, got {shift!r}")
    for name, value, lo in (("angle", angle, None), ("scale", scale, 0.0), ("brightness", brightness, 0.0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a number, got {value!r}")
        if lo is not None and not (value > lo or (name == "brightness" and value == 0)):
            raise ValueError(f"{name} must be > {lo:g}, got {name}={value}")
    theta = np.deg2rad(float(angle))
    # maps output coordinates (row, col) to input coordinates
    rot = np.array([[np.cos(theta), np.sin(theta)], [-np.sin(theta), np.cos(theta)]])
    matrix = rot / float(scale)
    centre = np.array(img.shape, dtype=np.float64) / 2 - 0.5
    offset = centre - matrix @ (centre + np.asarray(shift, dtype=np.float64))
    out = ndi.affine_transform(img, matrix, offset=offset, order=1, mode="constant", cval=0.0)
    return np.clip(float(brightness) * out, 0.0, 1.0)
