"""Data for convolutions beyond images: 1D signals, images read as sequences, and videos.

Everything is generated here from a seed or from local MNIST images, so it
works offline:

* :func:`synthetic_signals`: noisy 1D signals that contain one of a few patterns
  (a bump, a burst of oscillation, a step, or nothing) at a random position;
* :func:`image_rows_as_sequence`: an image read top to bottom, one row per time step
  (28 steps of 28 values for MNIST), the classic "sequential MNIST" set-up;
* :func:`moving_digits`: short videos of an MNIST digit gliding across a black
  frame in one of four directions; the label is the direction, which no single
  frame can tell (Srivastava et al. 2015 made moving-MNIST videos popular).

:class:`ArrayLoader` yields mini-batches of tensors of any rank (``TensorLoader``
in :mod:`course_lib.training` is for (N, C, H, W) images only), so
:func:`course_lib.training.fit` trains 1D and 3D networks too.
"""
from __future__ import annotations

from typing import Iterator, Optional, Tuple

import numpy as np
import torch

from ._checks import check_int

__all__ = ["SIGNAL_CLASSES", "DIRECTIONS", "synthetic_signals", "image_rows_as_sequence",
           "moving_digits", "ArrayLoader"]

#: Class names of :func:`synthetic_signals`, in label order.
SIGNAL_CLASSES = ("nothing", "bump", "burst", "step")
#: Class names of :func:`moving_digits`, in label order (the direction of motion).
DIRECTIONS = ("right", "left", "down", "up")


def _check_noise(noise) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.floating)) or noise < 0:
        raise ValueError(f"noise must be a number >= 0, got noise={noise!r}; e.g. noise=0.5")
    return float(noise)


def synthetic_signals(n: int, length: int = 128, *, noise: float = 0.5, seed: int = 0
                      ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Noisy 1D signals, each holding one pattern at a random position (balanced classes).

    The patterns (amplitude 1, width about 16 samples): 0 ``nothing``; 1 ``bump``, a
    Gaussian bump; 2 ``burst``, a short burst of a sine with a period of 4 samples under a
    Gaussian envelope (zero mean, so a blur cannot see it); 3 ``step``, the signal rises
    by 1 and stays there. White Gaussian noise with standard deviation ``noise`` is added.

    Parameters
    ----------
    n : int
        Number of signals; label ``i % 4`` for signal i, then shuffled with the seed.
    length : int
        Samples per signal, >= 48.
    noise : float
        Standard deviation of the noise.
    seed : int

    Returns
    -------
    x : Tensor, float32, shape (n, 1, length)
    y : Tensor, int64, shape (n,)
    position : Tensor, int64, shape (n,)
        The centre of the pattern (of the step's edge); -1 for ``nothing``.

    Examples
    --------
    >>> x, y, pos = synthetic_signals(8, 64, noise=0.0, seed=0)
    >>> tuple(x.shape), sorted(y.tolist())
    ((8, 1, 64), [0, 0, 1, 1, 2, 2, 3, 3])
    >>> bool((x[y == 0] == 0).all())       # no noise and no pattern: all zero
    True
    """
    n = check_int("n", n, minimum=1)
    length = check_int("length", length, minimum=48)
    noise = _check_noise(noise)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % len(SIGNAL_CLASSES))
    t = np.arange(length, dtype=np.float64)
    x = np.zeros((n, length))
    pos = np.full(n, -1, dtype=np.int64)
    for i, c in enumerate(y):
        if c == 0:
            continue
        p = int(rng.integers(16, length - 16))
        pos[i] = p
        envelope = np.exp(-0.5 * ((t - p) / 4.0) ** 2)
        if c == 1:
            x[i] = envelope
        elif c == 2:
            x[i] = envelope * np.sin(2 * np.pi * (t - p) / 4.0 + rng.uniform(0, 2 * np.pi))
        else:
            x[i] = (t >= p).astype(np.float64)
    x += noise * rng.standard_normal(x.shape)
    return (torch.from_numpy(x[:, None].astype(np.float32)), torch.from_numpy(y.astype(np.int64)),
            torch.from_numpy(pos))


def image_rows_as_sequence(images) -> torch.Tensor:
    """Read (N, 1, H, W) images as sequences of H time steps with W channels: (N, W, H).

    Row r of the image becomes time step r; the W pixel values of that row are the W
    channels of a 1D convolution (``torch.nn.Conv1d(in_channels=W, ...)``). dtype kept.

    Examples
    --------
    >>> img = torch.arange(6).reshape(1, 1, 2, 3)      # 2 rows of 3 pixels
    >>> image_rows_as_sequence(img)[0]                  # column t is row t
    tensor([[0, 3],
            [1, 4],
            [2, 5]])
    """
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a torch tensor (N, 1, H, W), got {type(images).__name__}")
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images must have shape (N, 1, H, W) (one grey channel), got "
                         f"{tuple(images.shape)}; convert colour images to grey first")
    return images[:, 0].transpose(1, 2).contiguous()


def moving_digits(images, n: int, *, frames: int = 10, size: int = 36, speed: Tuple[int, int] = (1, 2),
                  digit_size: Optional[int] = None, seed: int = 0) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Videos of one digit moving in a straight line; the label is the direction.

    Each video draws a random digit from ``images``, a direction (balanced: right, left,
    down, up), a speed in pixels per frame and a start position that keeps the digit
    inside the ``size`` x ``size`` frame for all ``frames`` frames. The frames are uint8,
    like MNIST.

    Parameters
    ----------
    images : Tensor, uint8, shape (M, 1, 28, 28)
        The digits to animate (use different MNIST images for training and testing videos).
    n : int
        Number of videos.
    frames : int
        T, frames per video, >= 2.
    size : int
        Frame height and width, >= 28 + (frames - 1) * max speed.
    speed : (int, int)
        Smallest and largest speed in pixels per frame, >= 1.
    digit_size : int, optional
        Shrink the digits to ``digit_size`` x ``digit_size`` first (area averaging), e.g. 14
        for half-size MNIST digits and small, fast videos.
    seed : int

    Returns
    -------
    videos : Tensor, uint8, shape (n, 1, frames, size, size)
        (N, C, T, H, W): the layout of ``torch.nn.Conv3d``.
    direction : Tensor, int64, shape (n,)
        Index into :data:`DIRECTIONS`.
    digit_index : Tensor, int64, shape (n,)
        Which of ``images`` each video shows.

    Examples
    --------
    >>> digits = torch.zeros(3, 1, 28, 28, dtype=torch.uint8); digits[:, :, 10:18, 12:16] = 255
    >>> v, d, i = moving_digits(digits, 4, frames=5, size=36, seed=0)
    >>> tuple(v.shape), sorted(d.tolist())
    ((4, 1, 5, 36, 36), [0, 1, 2, 3])
    """
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images must be a (M, 1, h, w) tensor of grey digits, got "
                         f"{getattr(images, 'shape', type(images).__name__)}")
    n = check_int("n", n, minimum=1)
    frames = check_int("frames", frames, minimum=2)
    size = check_int("size", size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    if not isinstance(speed, (tuple, list)) or len(speed) != 2:
        raise TypeError(f"speed must be a pair (slowest, fastest) in pixels per frame, got {speed!r}")
    lo, hi = (check_int("speed[0]", speed[0], minimum=1), check_int("speed[1]", speed[1], minimum=1))
    if hi < lo:
        raise ValueError(f"speed must be (slowest, fastest) with slowest <= fastest, got {speed!r}")
    if digit_size is not None:
        ds = check_int("digit_size", digit_size, minimum=1)
        images = torch.nn.functional.interpolate(images.float(), size=(ds, ds), mode="area")
        images = images.round().clamp(0, 255).to(torch.uint8)
    h, w = images.shape[-2:]
    travel = (frames - 1) * hi
    if size < max(h, w) + travel:
        raise ValueError(f"size={size} is too small: a {h} x {w} digit moving {hi} pixels per frame for "
                         f"{frames} frames needs size >= {max(h, w) + travel}; use size="
                         f"{max(h, w) + travel} or fewer frames")
    rng = np.random.default_rng(seed)
    src = images.numpy()
    direction = rng.permutation(np.arange(n) % len(DIRECTIONS))
    which = rng.integers(0, len(src), n)
    videos = np.zeros((n, 1, frames, size, size), dtype=np.uint8)
    steps = {0: (0, 1), 1: (0, -1), 2: (1, 0), 3: (-1, 0)}      # (d_row, d_col) per direction
    for v in range(n):
        dr, dc = steps[int(direction[v])]
        sp = int(rng.integers(lo, hi + 1))
        span = (frames - 1) * sp
        # start so that the whole path stays inside the frame
        r_lo, r_hi = (span, size - h) if dr < 0 else (0, size - h - span * abs(dr))
        c_lo, c_hi = (span, size - w) if dc < 0 else (0, size - w - span * abs(dc))
        r0, c0 = int(rng.integers(r_lo, r_hi + 1)), int(rng.integers(c_lo, c_hi + 1))
        for t in range(frames):
            r, c = r0 + dr * sp * t, c0 + dc * sp * t
            videos[v, 0, t, r:r + h, c:c + w] = src[which[v], 0]
    return (torch.from_numpy(videos), torch.from_numpy(direction.astype(np.int64)),
            torch.from_numpy(which.astype(np.int64)))


class ArrayLoader:
    """Mini-batches (x, y) from tensors of any rank: (N, C, L), (N, C, T, H, W), ...

    uint8 inputs are scaled to [0, 1] batch by batch; float inputs are passed through.
    Works with :func:`course_lib.training.fit` and :func:`course_lib.training.evaluate`.

    Parameters
    ----------
    x : Tensor, shape (N, ...)
    y : Tensor, shape (N,)
    batch_size : int
    shuffle : bool
        Reshuffle every epoch (epoch e uses ``seed + e``).
    device : str or torch.device, optional
        Where to keep the data (default: CPU).
    seed : int

    Examples
    --------
    >>> x = torch.zeros(10, 1, 16); y = torch.arange(10)
    >>> [tuple(xb.shape) for xb, yb in ArrayLoader(x, y, 4)]
    [(4, 1, 16), (4, 1, 16), (2, 1, 16)]
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int = 64, shuffle: bool = False,
                 device=None, seed: int = 0):
        if not isinstance(x, torch.Tensor) or x.ndim < 2:
            raise ValueError(f"x must be a torch tensor with a batch axis (N, ...), got "
                             f"{getattr(x, 'shape', type(x).__name__)}; use torch.as_tensor(x)")
        if not isinstance(y, torch.Tensor) or y.ndim != 1 or len(y) != len(x):
            raise ValueError(f"y must be a 1D torch tensor with {len(x)} labels, got "
                             f"{getattr(y, 'shape', type(y).__name__)}")
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.seed = check_int("seed", seed, minimum=0)
        self.device = torch.device("cpu") if device is None else torch.device(device)
        self.x, self.y = x.to(self.device), y.to(self.device)
        self.shuffle = bool(shuffle)
        self.epoch = 0

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __iter__(self) -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        self.epoch += 1
        order = torch.randperm(len(self.x), generator=g).to(self.device) if self.shuffle else None
        for start in range(0, len(self.x), self.batch_size):
            idx = slice(start, start + self.batch_size) if order is None else order[start:start + self.batch_size]
            xb = self.x[idx]
            xb = xb.float().div_(255.0) if xb.dtype == torch.uint8 else xb.float()
            yield xb, self.y[idx]
