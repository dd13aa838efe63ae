"""Max and average pooling in NumPy, vectorised and loop versions, with torch's semantics.

x is (N, C, H, W); the result is (N, C, H_out, W_out) with H_out from
:func:`course_lib.shapes.conv_output_size` (``ceil_mode`` included). As in torch:
``stride`` defaults to ``kernel_size``; ``padding`` may be at most half the
kernel; max pooling pads with -inf (padding never wins); average pooling
counts padded zeros in the divisor (``count_include_pad=True``) but not the
extra cells that ``ceil_mode`` lets a last window hang over.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from ._checks import IntPair, as_float, check_array, check_pair
from .shapes import conv_output_size

__all__ = ["max_pool2d", "max_pool2d_naive", "avg_pool2d", "avg_pool2d_naive",
           "adaptive_windows", "adaptive_avg_pool2d", "adaptive_avg_pool2d_naive",
           "adaptive_max_pool2d", "adaptive_max_pool2d_naive"]


def _check_pool_args(x, kernel_size, stride, padding, ceil_mode):
    x = check_array("x", x, ndim=4, shape_hint="(N, C, H, W)")
    k = check_pair("kernel_size", kernel_size, minimum=1)
    s = k if stride is None else check_pair("stride", stride, minimum=1)
    p = check_pair("padding", padding, minimum=0)
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"ceil_mode must be True or False, got {ceil_mode!r}")
    for axis in (0, 1):
        if 2 * p[axis] > k[axis]:
            raise ValueError(f"padding must be at most half of kernel_size (as in torch), got "
                             f"padding={p[axis]} with kernel_size={k[axis]}; use padding <= "
                             f"{k[axis] // 2}")
    if 0 in x.shape:
        raise ValueError(f"x must not have empty axes, got shape {x.shape}")
    out = []
    for axis, name in ((0, "height"), (1, "width")):
        try:
            out.append(conv_output_size(x.shape[2 + axis], k[axis], s[axis], p[axis],
                                        ceil_mode=ceil_mode))
        except ValueError as err:
            raise ValueError(f"pooling window does not fit the input {name}: {err}") from None
    return as_float(x), k, s, p, tuple(out)


def _padded(x, k, s, p, out_hw, fill):
    """The input padded by p on the left/top and, on the right/bottom, by whatever
    the last (ceil-mode) window needs beyond p, filled with ``fill``."""
    (kh, kw), (sh, sw), (ph, pw), (ho, wo) = k, s, p, out_hw
    n, c, h, w = x.shape
    extra_h = max((ho - 1) * sh + kh - (h + ph), ph)
    extra_w = max((wo - 1) * sw + kw - (w + pw), pw)
    if ph == pw == extra_h == extra_w == 0:
        return x
    xp = np.full((n, c, h + ph + extra_h, w + pw + extra_w), fill, dtype=x.dtype)
    xp[:, :, ph:ph + h, pw:pw + w] = x
    return xp


def _taps(xp, k, s, out_hw):
    """Yield, for each of the kH*kW window offsets, the (N, C, H_out, W_out) strided slice
    of the padded input that this offset reads: combining the taps (max or sum) pools."""
    (kh, kw), (sh, sw), (ho, wo) = k, s, out_hw
    for u in range(kh):
        for v in range(kw):
            yield xp[:, :, u:u + (ho - 1) * sh + 1:sh, v:v + (wo - 1) * sw + 1:sw]


def max_pool2d(x: np.ndarray, kernel_size: IntPair, stride: Optional[IntPair] = None,
               padding: IntPair = 0, ceil_mode: bool = False) -> np.ndarray:
    """Max pooling, vectorised; agrees with ``torch.nn.functional.max_pool2d``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size`` (non-overlapping windows).
    padding : int or (int, int)
        Implicit -inf padding on both sides, at most ``kernel_size // 2``.
    ceil_mode : bool
        Round the output size up (see :func:`course_lib.shapes.conv_output_size`).

    Returns
    -------
    ndarray, shape (N, C, H_out, W_out)

    Examples
    --------
    >>> x = np.array([[[[1., 1., 2., 4.], [5., 6., 7., 8.], [3., 2., 1., 0.], [1., 2., 3., 4.]]]])
    >>> max_pool2d(x, 2)
    array([[[[6., 8.],
             [3., 4.]]]])
    """
    x, k, s, p, out_hw = _check_pool_args(x, kernel_size, stride, padding, ceil_mode)
    taps = _taps(_padded(x, k, s, p, out_hw, -np.inf), k, s, out_hw)
    out = np.array(next(taps))                 # a copy of the first tap
    for tap in taps:                           # kH*kW - 1 vectorised maxima
        np.maximum(out, tap, out=out)
    return out


def _avg_divisor(size, k, s, p, n_out):
    """Per-output-position window size along one axis, as torch counts it."""
    start = np.arange(n_out) * s - p
    end = np.minimum(start + k, size + p)   # padding counts, the ceil overhang does not
    return end - start


def avg_pool2d(x: np.ndarray, kernel_size: IntPair, stride: Optional[IntPair] = None,
               padding: IntPair = 0, ceil_mode: bool = False) -> np.ndarray:
    """Average pooling, vectorised; agrees with ``torch.nn.functional.avg_pool2d``.

    Zero padding is counted in the average (torch's default
    ``count_include_pad=True``); a ceil-mode window hanging over the padded
    input averages only over the cells it covers.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel_size, stride, padding, ceil_mode
        As in :func:`max_pool2d`.

    Returns
    -------
    ndarray, shape (N, C, H_out, W_out)

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> avg_pool2d(x, 2)
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    """
    x, k, s, p, out_hw = _check_pool_args(x, kernel_size, stride, padding, ceil_mode)
    taps = _taps(_padded(x, k, s, p, out_hw, 0.0), k, s, out_hw)
    sums = np.array(next(taps))
    for tap in taps:
        sums += tap
    div_h = _avg_divisor(x.shape[2], k[0], s[0], p[0], out_hw[0])
    div_w = _avg_divisor(x.shape[3], k[1], s[1], p[1], out_hw[1])
    sums /= (div_h[:, None] * div_w[None, :]).astype(x.dtype)
    return sums


def max_pool2d_naive(x: np.ndarray, kernel_size: IntPair, stride: Optional[IntPair] = None,
                     padding: IntPair = 0, ceil_mode: bool = False) -> np.ndarray:
    """Loop-based reference for :func:`max_pool2d` (same signature and result).

    Examples
    --------
    >>> x = np.array([[[[1., 1., 2., 4.], [5., 6., 7., 8.], [3., 2., 1., 0.], [1., 2., 3., 4.]]]])
    >>> max_pool2d_naive(x, 2)
    array([[[[6., 8.],
             [3., 4.]]]])
    """
    x, (kh, kw), (sh, sw), (ph, pw), (ho, wo) = _check_pool_args(
        x, kernel_size, stride, padding, ceil_mode)
    n_batch, c, h, w = x.shape
    out = np.empty((n_batch, c, ho, wo), dtype=x.dtype)
    for n in range(n_batch):
        for ch in range(c):
            for i in range(ho):
                for j in range(wo):
                    best = -np.inf
                    for u in range(kh):
                        for v in range(kw):
                            row, col = i * sh + u - ph, j * sw + v - pw
                            if 0 <= row < h and 0 <= col < w and x[n, ch, row, col] > best:
                                best = x[n, ch, row, col]
                    out[n, ch, i, j] = best
    return out


def avg_pool2d_naive(x: np.ndarray, kernel_size: IntPair, stride: Optional[IntPair] = None,
                     padding: IntPair = 0, ceil_mode: bool = False) -> np.ndarray:
    """Loop-based reference for :func:`avg_pool2d` (same signature and result).

    Examples
    --------
    >>> avg_pool2d_naive(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    array([[[[ 2.5,  4.5],
             [10.5, 12.5]]]])
    """
    x, (kh, kw), (sh, sw), (ph, pw), (ho, wo) = _check_pool_args(
        x, kernel_size, stride, padding, ceil_mode)
    n_batch, c, h, w = x.shape
    out = np.empty((n_batch, c, ho, wo), dtype=x.dtype)
    for n in range(n_batch):
        for ch in range(c):
            for i in range(ho):
                for j in range(wo):
                    total, count = 0.0, 0
                    for u in range(kh):
                        for v in range(kw):
                            row, col = i * sh + u - ph, j * sw + v - pw
                            # cells of the zero-padded input count; the ceil overhang does not
                            if -ph <= row < h + ph and -pw <= col < w + pw:
                                count += 1
                                if 0 <= row < h and 0 <= col < w:
                                    total += x[n, ch, row, col]
                    out[n, ch, i, j] = total / count
    return out


# -- adaptive pooling ------------------------------------------------------------------------------

def adaptive_windows(n: int, out_size: int) -> np.ndarray:
    """The windows adaptive pooling uses along one axis: rows ``[start, end)``, one per output.

    Output i pools input positions ``floor(i * n / m)`` to ``ceil((i + 1) * n / m)``
    (m = ``out_size``), as torch does. The windows cover the input and may
    differ in size by one and overlap by one when m does not divide n; when it
    does, they are plain pooling with kernel = stride = n / m.

    Parameters
    ----------
    n : int
        Input size along the axis, >= 1.
    out_size : int
        Output size m, >= 1 (may exceed n: windows then repeat pixels).

    Returns
    -------
    ndarray of int64, shape (m, 2)
        ``[start, end)`` per output position.

    Examples
    --------
    >>> adaptive_windows(10, 3).tolist()         # sizes 4, 4, 4: overlaps of one
    [[0, 4], [3, 7], [6, 10]]
    >>> adaptive_windows(8, 4).tolist()          # m divides n: kernel = stride = 2
    [[0, 2], [2, 4], [4, 6], [6, 8]]
    """
    from ._checks import check_int
    n = check_int("n", n, minimum=1)
    m = check_int("out_size", out_size, minimum=1)
    i = np.arange(m)
    start = (i * n) // m
    end = -((-(i + 1) * n) // m)            # ceil((i + 1) n / m) in integers
    return np.stack([start, end], axis=1).astype(np.int64)


def _check_adaptive(x, output_size):
    x = check_array("x", x, ndim=4, shape_hint="(N, C, H, W)")
    if 0 in x.shape:
        raise ValueError(f"x must not have empty axes, got shape {x.shape}")
    out = check_pair("output_size", output_size, minimum=1)
    return as_float(x), out


def _adaptive(x, output_size, reduce):
    x, (mh, mw) = _check_adaptive(x, output_size)
    rows, cols = adaptive_windows(x.shape[2], mh), adaptive_windows(x.shape[3], mw)
    # one reduction per output row band, then per column band: at most mh + mw vectorised calls
    bands = np.stack([reduce(x[:, :, r0:r1, :], axis=2) for r0, r1 in rows], axis=2)     # (N, C, mh, W)
    return np.stack([reduce(bands[:, :, :, c0:c1], axis=3) for c0, c1 in cols], axis=3)  # (N, C, mh, mw)


def adaptive_avg_pool2d(x: np.ndarray, output_size: IntPair) -> np.ndarray:
    """Average pooling to a fixed output size, whatever the input size (``F.adaptive_avg_pool2d``).

    Output (i, j) averages the input block ``adaptive_windows(H, m_h)[i]`` x
    ``adaptive_windows(W, m_w)[j]``. ``output_size = 1`` is global average pooling.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    output_size : int or (int, int)

    Returns
    -------
    ndarray, shape (N, C, m_h, m_w)

    Examples
    --------
    >>> x = np.arange(25.0).reshape(1, 1, 5, 5)
    >>> adaptive_avg_pool2d(x, 2)                 # windows rows/cols [0, 3) and [2, 5)
    array([[[[ 6.,  8.],
             [16., 18.]]]])
    """
    return _adaptive(x, output_size, np.mean)


def adaptive_max_pool2d(x: np.ndarray, output_size: IntPair) -> np.ndarray:
    """Max pooling to a fixed output size, whatever the input size (``F.adaptive_max_pool2d``).

    Examples
    --------
    >>> adaptive_max_pool2d(np.arange(25.0).reshape(1, 1, 5, 5), 2)
    array([[[[12., 14.],
             [22., 24.]]]])
    """
    return _adaptive(x, output_size, np.max)


def _adaptive_naive(x, output_size, reduce):
    x, (mh, mw) = _check_adaptive(x, output_size)
    n_batch, c, h, w = x.shape
    out = np.empty((n_batch, c, mh, mw), dtype=x.dtype)
    for n in range(n_batch):
        for ch in range(c):
            for i in range(mh):
                r0, r1 = (i * h) // mh, -((-(i + 1) * h) // mh)
                for j in range(mw):
                    c0, c1 = (j * w) // mw, -((-(j + 1) * w) // mw)
                    values = [x[n, ch, r, col] for r in range(r0, r1) for col in range(c0, c1)]
                    out[n, ch, i, j] = reduce(values)
    return out


def adaptive_avg_pool2d_naive(x: np.ndarray, output_size: IntPair) -> np.ndarray:
    """Loop-based reference for :func:`adaptive_avg_pool2d`.

    Examples
    --------
    >>> adaptive_avg_pool2d_naive(np.arange(25.0).reshape(1, 1, 5, 5), 1)
    array([[[[12.]]]])
    """
    return _adaptive_naive(x, output_size, lambda v: sum(v) / len(v))


def adaptive_max_pool2d_naive(x: np.ndarray, output_size: IntPair) -> np.ndarray:
    """Loop-based reference for :func:`adaptive_max_pool2d`.

    Examples
    --------
    >>> adaptive_max_pool2d_naive(np.arange(25.0).reshape(1, 1, 5, 5), 1)
    array([[[[24.]]]])
    """
    return _adaptive_naive(x, output_size, max)
