"""Output-size and cost arithmetic for convolution and pooling layers.

The book's notation: input size n (H or W), kernel size k, stride s,
padding p, dilation d. One dilated kernel spans d(k - 1) + 1 pixels.
"""
from __future__ import annotations

__all__ = ["conv_output_size", "conv_transpose_output_size", "conv_params", "conv_macs",
           "window_coverage", "window_coverage_naive"]

import numpy as np

from ._checks import check_int, check_pair


def _check_common(n, kernel_size, stride, padding, dilation):
    n = check_int("n", n, minimum=1)
    k = check_int("kernel_size", kernel_size, minimum=1)
    s = check_int("stride", stride, minimum=1)
    p = check_int("padding", padding, minimum=0)
    d = check_int("dilation", dilation, minimum=1)
    return n, k, s, p, d


def conv_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0,
                     dilation: int = 1, ceil_mode: bool = False) -> int:
    """Number of output positions along one axis of a convolution or pooling layer.

    ``floor((n + 2p - d(k-1) - 1) / s) + 1``, exactly what torch produces for
    ``Conv2d`` and for ``MaxPool2d``/``AvgPool2d``. With ``ceil_mode=True``
    (pooling only) the division rounds up, but, like torch, a last window that
    would start in the right-hand padding is dropped: it must start inside the
    input or the left padding.

    Parameters
    ----------
    n : int
        Input size along the axis (H or W), >= 1.
    kernel_size : int
        Kernel (window) size k, >= 1.
    stride, padding, dilation : int
        s >= 1, p >= 0 (added on both sides), d >= 1.
    ceil_mode : bool
        Round up instead of down (torch's pooling option).

    Returns
    -------
    int
        The output size, >= 1.

    Raises
    ------
    ValueError
        When the (dilated) kernel is larger than the padded input, so no window fits.

    Examples
    --------
    >>> conv_output_size(32, 5, padding=2)
    32
    >>> conv_output_size(7, 3, stride=3)   # the stride "does not fit": floor
    2
    >>> conv_output_size(32, 3, stride=2, ceil_mode=True)  # Forsyth's 32 -> 16 pooling
    16
    """
    n, k, s, p, d = _check_common(n, kernel_size, stride, padding, dilation)
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"ceil_mode must be True or False, got {ceil_mode!r}")
    span = d * (k - 1) + 1
    room = n + 2 * p - span            # free pixels left after the first window
    if ceil_mode:
        out = -(-room // s) + 1        # ceil; a first window may overhang, as in torch
        # torch's rule: the last window must start inside the input or the left padding
        if (out - 1) * s >= n + p:
            out -= 1
    else:
        out = room // s + 1
    if out < 1:
        raise ValueError(
            f"kernel_size={k} (spanning {span} pixels with dilation={d}) is larger than the "
            f"padded input n + 2*padding = {n + 2 * p}; no window fits. Use a smaller kernel or "
            f"dilation, or more padding")
    assert out >= 1
    return out


def conv_transpose_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0,
                               dilation: int = 1, output_padding: int = 0) -> int:
    """Output size of a transposed convolution (``torch.nn.ConvTranspose2d``).

    ``(n - 1)s - 2p + d(k - 1) + output_padding + 1``. It inverts
    :func:`conv_output_size`: a transposed convolution maps the output size of
    a convolution with the same settings back to its input size.

    Examples
    --------
    >>> conv_transpose_output_size(16, 4, stride=2, padding=1)
    32
    >>> conv_transpose_output_size(2, 3, stride=2)
    5
    """
    n, k, s, p, d = _check_common(n, kernel_size, stride, padding, dilation)
    op = check_int("output_padding", output_padding, minimum=0)
    if op >= max(s, d):
        raise ValueError(f"output_padding must be smaller than stride or dilation, got "
                         f"output_padding={op} with stride={s}, dilation={d}; use 0..{max(s, d) - 1}")
    out = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    if out < 1:
        raise ValueError(f"padding={p} removes the whole output (size {out}); use less padding")
    return out


def _check_groups(groups, cin: int, cout: int) -> int:
    g = check_int("groups", groups, minimum=1)
    if cin % g or cout % g:
        raise ValueError(f"groups must divide in_channels and out_channels (as in torch), got "
                         f"groups={g} with in_channels={cin}, out_channels={cout}; use a common "
                         f"divisor such as groups=1")
    return g


def conv_params(in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                bias: bool = True, groups: int = 1) -> int:
    """Learnable parameters of a conv layer: ``kH*kW*(C_in/groups)*C_out (+ C_out)``.

    With ``groups = g`` the channels are split into g independent groups: each
    output channel reads only the ``C_in / g`` input channels of its group, so the
    weights shrink by a factor g. ``groups = C_in = C_out`` is a depthwise
    convolution (one k x k filter per channel).

    Examples
    --------
    >>> conv_params(3, 10, 5)          # ten 5x5 filters on an RGB input
    760
    >>> conv_params(1, 20, 5)          # the MNIST first layer
    520
    >>> conv_params(32, 32, 3, groups=32, bias=False)   # depthwise 3x3
    288
    """
    cin = check_int("in_channels", in_channels, minimum=1)
    cout = check_int("out_channels", out_channels, minimum=1)
    kh, kw = check_pair("kernel_size", kernel_size, minimum=1)
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be True or False, got {bias!r}")
    g = _check_groups(groups, cin, cout)
    return kh * kw * (cin // g) * cout + (cout if bias else 0)


def conv_macs(in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
              out_height: int, out_width: int, groups: int = 1) -> int:
    """Multiply-adds for one image: every output value needs ``kH*kW*C_in/groups`` of them.

    Examples
    --------
    >>> conv_macs(3, 10, 5, 32, 32)
    768000
    >>> conv_macs(32, 32, 3, 16, 16, groups=32)     # depthwise: 32 times fewer than groups=1
    73728
    """
    cin = check_int("in_channels", in_channels, minimum=1)
    cout = check_int("out_channels", out_channels, minimum=1)
    kh, kw = check_pair("kernel_size", kernel_size, minimum=1)
    ho = check_int("out_height", out_height, minimum=1)
    wo = check_int("out_width", out_width, minimum=1)
    g = _check_groups(groups, cin, cout)
    return kh * kw * (cin // g) * cout * ho * wo


def window_coverage(n: int | tuple[int, int], kernel_size: int | tuple[int, int],
                    stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                    dilation: int | tuple[int, int] = 1, ceil_mode: bool = False) -> np.ndarray:
    """How many windows of a conv or pooling layer read each input pixel (0 = never read).

    The count at a pixel equals the gradient of the sum of all outputs of a
    convolution with an all-ones kernel with respect to that pixel, which is how
    torch can check it; here it is counted directly, window by window. Padding
    cells are not part of the result. With ``ceil_mode=True`` (pooling) the extra
    last window that torch allows is counted too.

    Parameters
    ----------
    n : int or (int, int)
        Input size (H, W); an int means a square input.
    kernel_size, stride, padding, dilation : int or (int, int)
        As in ``torch.nn.Conv2d`` / ``MaxPool2d``.
    ceil_mode : bool
        Pooling's rounding up (see :func:`conv_output_size`).

    Returns
    -------
    ndarray of int64, shape (H, W)

    Examples
    --------
    >>> window_coverage(7, 3, stride=3)        # the last row and column are never read
    array([[1, 1, 1, 1, 1, 1, 0],
           [1, 1, 1, 1, 1, 1, 0],
           [1, 1, 1, 1, 1, 1, 0],
           [1, 1, 1, 1, 1, 1, 0],
           [1, 1, 1, 1, 1, 1, 0],
           [1, 1, 1, 1, 1, 1, 0],
           [0, 0, 0, 0, 0, 0, 0]])
    >>> window_coverage(5, 3, stride=2)[0]     # overlapping windows read the middle twice
    array([1, 1, 2, 1, 1])
    """
    h, w = check_pair("n", n, minimum=1)
    k = check_pair("kernel_size", kernel_size, minimum=1)
    s = check_pair("stride", stride, minimum=1)
    p = check_pair("padding", padding, minimum=0)
    d = check_pair("dilation", dilation, minimum=1)
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"ceil_mode must be True or False, got {ceil_mode!r}")
    per_axis = []
    for size, kk, ss, pp, dd in zip((h, w), k, s, p, d):
        m = conv_output_size(size, kk, ss, pp, dd, ceil_mode=ceil_mode)
        # reads along this axis: for each output i and tap u the position i*s + u*d - p
        pos = (np.arange(m)[:, None] * ss + np.arange(kk)[None, :] * dd - pp).ravel()
        pos = pos[(pos >= 0) & (pos < size)]
        per_axis.append(np.bincount(pos, minlength=size).astype(np.int64))
    # a 2D window reads (row, col) once per (row tap, col tap) pair: the counts multiply
    return np.outer(per_axis[0], per_axis[1])


def window_coverage_naive(n: int | tuple[int, int], kernel_size: int | tuple[int, int],
                          stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                          dilation: int | tuple[int, int] = 1, ceil_mode: bool = False) -> np.ndarray:
    """Loop-based reference for :func:`window_coverage`: visit every window and every tap.

    Examples
    --------
    >>> window_coverage_naive(5, 3, stride=2)[0]
    array([1, 1, 2, 1, 1])
    """
    h, w = check_pair("n", n, minimum=1)
    (kh, kw), (sh, sw) = check_pair("kernel_size", kernel_size, minimum=1), check_pair("stride", stride, minimum=1)
    (ph, pw), (dh, dw) = check_pair("padding", padding, minimum=0), check_pair("dilation", dilation, minimum=1)
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"ceil_mode must be True or False, got {ceil_mode!r}")
    ho = conv_output_size(h, kh, sh, ph, dh, ceil_mode=ceil_mode)
    wo = conv_output_size(w, kw, sw, pw, dw, ceil_mode=ceil_mode)
    count = np.zeros((h, w), dtype=np.int64)
    for i in range(ho):
        for j in range(wo):
            for u in range(kh):
                for v in range(kw):
                    r, c = i * sh + u * dh - ph, j * sw + v * dw - pw
                    if 0 <= r < h and 0 <= c < w:
                        count[r, c] += 1
    return count
