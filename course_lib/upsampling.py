"""Up-sampling: nearest, bilinear, max-unpooling and the transposed convolution, in NumPy.

Arrays are NCHW and keyword names follow torch. Each op has a loop-based
``*_naive`` twin with the same signature (tested to agree), and each is checked
against torch (``F.interpolate``, ``nn.MaxUnpool2d``, ``F.conv_transpose2d``) in
float64. :func:`conv_matrix` writes a convolution as a matrix, so that the
transposed convolution is visibly multiplication by its transpose (Bishop 10.5.3).
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from ._checks import IntPair, as_float, check_array, check_int, check_pair

__all__ = ["upsample_nearest", "upsample_nearest_naive", "upsample_bilinear", "upsample_bilinear_naive",
           "max_pool2d_with_indices", "max_unpool2d", "max_unpool2d_naive",
           "conv_transpose2d", "conv_transpose2d_naive", "conv_matrix", "overlap_count"]


def _x4(x, name: str = "x") -> np.ndarray:
    return as_float(check_array(name, x, ndim=4, shape_hint="(N, C, H, W)"))


def upsample_nearest(x, scale_factor: IntPair = 2) -> np.ndarray:
    """Repeat every pixel ``scale_factor`` times along each axis (``F.interpolate(mode="nearest")``).

    Examples
    --------
    >>> upsample_nearest(np.array([[[[1, 2], [3, 4]]]]), 2)[0, 0]
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.],
           [3., 3., 4., 4.],
           [3., 3., 4., 4.]])
    """
    x = _x4(x)
    sh, sw = check_pair("scale_factor", scale_factor, minimum=1)
    return np.repeat(np.repeat(x, sh, axis=2), sw, axis=3)


def upsample_nearest_naive(x, scale_factor: IntPair = 2) -> np.ndarray:
    """Loop version of :func:`upsample_nearest`: output pixel (i, j) copies input (i // s, j // s).

    Examples
    --------
    >>> upsample_nearest_naive(np.ones((1, 1, 1, 2)), (2, 1)).shape
    (1, 1, 2, 2)
    """
    x = _x4(x)
    sh, sw = check_pair("scale_factor", scale_factor, minimum=1)
    n, c, h, w = x.shape
    out = np.empty((n, c, h * sh, w * sw), x.dtype)
    for i in range(h * sh):
        for j in range(w * sw):
            out[:, :, i, j] = x[:, :, i // sh, j // sw]
    return out


def _bilinear_coords(n_in: int, n_out: int, s: int, align_corners: bool):
    """Source positions and weights for each output index along one axis, as torch computes them."""
    j = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = j * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros(n_out)
    else:
        src = np.maximum((j + 0.5) / s - 0.5, 0.0)     # half-pixel centres, clamped at the first pixel
    i0 = np.minimum(np.floor(src).astype(int), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, src - i0


def upsample_bilinear(x, scale_factor: IntPair = 2, *, align_corners: bool = False) -> np.ndarray:
    """Bilinear up-sampling by an integer factor (``F.interpolate(mode="bilinear")``).

    With ``align_corners=False`` (torch's default) pixel centres sit at
    half-integer positions, so output pixel ``j`` reads input position
    ``(j + 0.5) / s - 0.5`` (clamped at the borders).

    Examples
    --------
    >>> upsample_bilinear(np.array([[[[0., 4.]]]]), (1, 2))[0, 0]
    array([[0., 1., 3., 4.]])
    """
    x = _x4(x)
    sh, sw = check_pair("scale_factor", scale_factor, minimum=1)
    if not isinstance(align_corners, bool):
        raise TypeError(f"align_corners must be True or False, got {align_corners!r}")
    n, c, h, w = x.shape
    y0, y1, wy = _bilinear_coords(h, h * sh, sh, align_corners)
    x0, x1, wx = _bilinear_coords(w, w * sw, sw, align_corners)
    rows = x[:, :, y0, :] * (1 - wy)[:, None] + x[:, :, y1, :] * wy[:, None]
    return rows[..., x0] * (1 - wx) + rows[..., x1] * wx


def upsample_bilinear_naive(x, scale_factor: IntPair = 2, *, align_corners: bool = False) -> np.ndarray:
    """Loop version of :func:`upsample_bilinear`: four neighbours per output pixel.

    Examples
    --------
    >>> upsample_bilinear_naive(np.array([[[[0., 4.]]]]), (1, 2))[0, 0]
    array([[0., 1., 3., 4.]])
    """
    x = _x4(x)
    sh, sw = check_pair("scale_factor", scale_factor, minimum=1)
    if not isinstance(align_corners, bool):
        raise TypeError(f"align_corners must be True or False, got {align_corners!r}")
    n, c, h, w = x.shape
    y0, y1, wy = _bilinear_coords(h, h * sh, sh, align_corners)
    x0, x1, wx = _bilinear_coords(w, w * sw, sw, align_corners)
    out = np.empty((n, c, h * sh, w * sw))
    for i in range(h * sh):
        for j in range(w * sw):
            a, b = y0[i], y1[i]
            l, r = x0[j], x1[j]
            out[:, :, i, j] = ((1 - wy[i]) * ((1 - wx[j]) * x[:, :, a, l] + wx[j] * x[:, :, a, r]) +
                               wy[i] * ((1 - wx[j]) * x[:, :, b, l] + wx[j] * x[:, :, b, r]))
    return out


def max_pool2d_with_indices(x, kernel_size: IntPair, stride: Optional[IntPair] = None
                            ) -> Tuple[np.ndarray, np.ndarray]:
    """Max pooling that also returns where each maximum was (``F.max_pool2d(return_indices=True)``).

    Indices are flat positions ``row * W + col`` in each input channel; on ties
    the first maximum in row-major window order wins, as in torch.

    Examples
    --------
    >>> out, idx = max_pool2d_with_indices(np.array([[[[1, 5, 2, 0], [3, 4, 8, 1]]]]), 2)
    >>> out[0, 0].tolist(), idx[0, 0].tolist()
    ([[5.0, 8.0]], [[1, 6]])
    """
    x = _x4(x)
    kh, kw = check_pair("kernel_size", kernel_size, minimum=1)
    sh, sw = (kh, kw) if stride is None else check_pair("stride", stride, minimum=1)
    n, c, h, w = x.shape
    if kh > h or kw > w:
        raise ValueError(f"kernel_size {(kh, kw)} is larger than the input {(h, w)}; use a smaller window")
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    best = np.full((n, c, oh, ow), -np.inf)
    idx = np.zeros((n, c, oh, ow), np.int64)
    rows = np.arange(oh)[:, None] * sh
    cols = np.arange(ow)[None, :] * sw
    for u in range(kh):                  # taps in row-major order; strict ">" keeps the first maximum
        for v in range(kw):
            val = x[:, :, u:u + sh * (oh - 1) + 1:sh, v:v + sw * (ow - 1) + 1:sw]
            better = val > best
            best = np.where(better, val, best)
            idx = np.where(better, (rows + u) * w + (cols + v), idx)
    return best, idx


def _unpool_args(x, indices, kernel_size, stride, output_size):
    x = _x4(x)
    ind = check_array("indices", indices, ndim=4, shape_hint="(N, C, H, W), like x")
    if ind.shape != x.shape:
        raise ValueError(f"indices must have x's shape {x.shape}, got {ind.shape}; pass the indices "
                         "returned with these pooled values")
    if not np.issubdtype(ind.dtype, np.integer):
        raise TypeError(f"indices must be integers, got dtype {ind.dtype}")
    kh, kw = check_pair("kernel_size", kernel_size, minimum=1)
    sh, sw = (kh, kw) if stride is None else check_pair("stride", stride, minimum=1)
    if output_size is None:
        oh, ow = (x.shape[2] - 1) * sh + kh, (x.shape[3] - 1) * sw + kw
    else:
        oh, ow = check_pair("output_size", tuple(output_size)[-2:], minimum=1)
    if ind.size and (ind.min() < 0 or ind.max() >= oh * ow):
        raise ValueError(f"indices must lie in 0..{oh * ow - 1} for an output of {oh} x {ow}, got "
                         f"{int(ind.min())}..{int(ind.max())}; pass output_size=(H, W) of the pooled input")
    return x, ind.astype(np.int64), oh, ow


def max_unpool2d(x, indices, kernel_size: IntPair, stride: Optional[IntPair] = None,
                 output_size=None) -> np.ndarray:
    """Max-unpooling: put each value back where its maximum came from, zeros elsewhere (SegNet).

    Parameters
    ----------
    x : (N, C, h, w) pooled values
    indices : (N, C, h, w) int, from :func:`max_pool2d_with_indices`
    kernel_size, stride : int or pair
        The pooling's settings (stride defaults to kernel_size).
    output_size : (H, W), optional
        The pooled input's size; default ``(h - 1) * stride + kernel_size``.

    Examples
    --------
    >>> out, idx = max_pool2d_with_indices(np.array([[[[1, 5, 2, 0], [3, 4, 8, 1]]]]), 2)
    >>> max_unpool2d(out, idx, 2)[0, 0]
    array([[0., 5., 0., 0.],
           [0., 0., 8., 0.]])
    """
    x, ind, oh, ow = _unpool_args(x, indices, kernel_size, stride, output_size)
    n, c = x.shape[:2]
    out = np.zeros((n * c, oh * ow), x.dtype)
    np.put_along_axis(out, ind.reshape(n * c, -1), x.reshape(n * c, -1), axis=1)
    return out.reshape(n, c, oh, ow)


def max_unpool2d_naive(x, indices, kernel_size: IntPair, stride: Optional[IntPair] = None,
                       output_size=None) -> np.ndarray:
    """Loop version of :func:`max_unpool2d`.

    Examples
    --------
    >>> max_unpool2d_naive(np.array([[[[7.]]]]), np.array([[[[3]]]]), 2)[0, 0]
    array([[0., 0.],
           [0., 7.]])
    """
    x, ind, oh, ow = _unpool_args(x, indices, kernel_size, stride, output_size)
    n, c, h, w = x.shape
    out = np.zeros((n, c, oh, ow), x.dtype)
    for a in range(n):
        for b in range(c):
            for i in range(h):
                for j in range(w):
                    k = ind[a, b, i, j]
                    out[a, b, k // ow, k % ow] = x[a, b, i, j]
    return out


def _ct_args(x, weight, bias, stride, padding, output_padding, dilation):
    x = _x4(x)
    wt = as_float(check_array("weight", weight, ndim=4, shape_hint="(C_in, C_out, kH, kW)"))
    if wt.shape[0] != x.shape[1]:
        raise ValueError(f"weight must have shape (C_in, C_out, kH, kW) with C_in = {x.shape[1]} (x's "
                         f"channels), got {wt.shape}; a transposed convolution's weight puts C_in first")
    if bias is not None:
        bias = as_float(check_array("bias", bias, ndim=1, shape_hint="(C_out,)"))
        if len(bias) != wt.shape[1]:
            raise ValueError(f"bias must have C_out = {wt.shape[1]} entries, got {len(bias)}")
    s = check_pair("stride", stride, minimum=1)
    p = check_pair("padding", padding, minimum=0)
    op = check_pair("output_padding", output_padding, minimum=0)
    d = check_pair("dilation", dilation, minimum=1)
    if op[0] >= max(s[0], d[0]) or op[1] >= max(s[1], d[1]):
        raise ValueError(f"output_padding must be smaller than stride or dilation, got "
                         f"output_padding={op}, stride={s}, dilation={d}; torch rejects it too")
    kh, kw = wt.shape[2:]
    oh = (x.shape[2] - 1) * s[0] - 2 * p[0] + d[0] * (kh - 1) + op[0] + 1
    ow = (x.shape[3] - 1) * s[1] - 2 * p[1] + d[1] * (kw - 1) + op[1] + 1
    if oh < 1 or ow < 1:
        raise ValueError(f"the output would be {oh} x {ow}; reduce padding={p}")
    return x, wt, bias, s, p, d, oh, ow


def conv_transpose2d(x, weight, bias=None, stride: IntPair = 1, padding: IntPair = 0,
                     output_padding: IntPair = 0, dilation: IntPair = 1) -> np.ndarray:
    """Transposed convolution (``F.conv_transpose2d``, groups=1): every input pixel stamps the kernel.

    Input pixel (i, j) adds ``x[n, ci, i, j] * weight[ci, co]`` into the output
    at rows ``i * s + u * d`` and columns ``j * s + v * d``; then ``padding``
    rows/columns are cut from each border. The output size is
    ``(H - 1) s - 2p + d (k - 1) + output_padding + 1``.

    Parameters
    ----------
    x : (N, C_in, H, W)
    weight : (C_in, C_out, kH, kW)
        Note the order: torch stores a transposed convolution's weight with C_in first.
    bias : (C_out,), optional
    stride, padding, output_padding, dilation : int or pair

    Examples
    --------
    >>> conv_transpose2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), stride=2)[0, 0]
    array([[1., 1., 2., 1., 1.],
           [1., 1., 2., 1., 1.],
           [2., 2., 4., 2., 2.],
           [1., 1., 2., 1., 1.],
           [1., 1., 2., 1., 1.]])
    """
    x, wt, bias, s, p, d, oh, ow = _ct_args(x, weight, bias, stride, padding, output_padding, dilation)
    n, _, h, w = x.shape
    co, kh, kw = wt.shape[1:]
    full_h = (h - 1) * s[0] + d[0] * (kh - 1) + 1 + p[0] * 2 + oh   # room for padding and output_padding
    full_w = (w - 1) * s[1] + d[1] * (kw - 1) + 1 + p[1] * 2 + ow
    full = np.zeros((n, co, full_h, full_w), np.result_type(x, wt))
    for u in range(kh):                     # one GEMM per kernel tap, scattered with a strided slice
        for v in range(kw):
            contrib = np.einsum("nihw,io->nohw", x, wt[:, :, u, v], optimize=True)
            r0, c0 = u * d[0], v * d[1]
            full[:, :, r0:r0 + s[0] * (h - 1) + 1:s[0], c0:c0 + s[1] * (w - 1) + 1:s[1]] += contrib
    out = full[:, :, p[0]:p[0] + oh, p[1]:p[1] + ow]
    if bias is not None:
        out = out + bias[None, :, None, None]
    return np.ascontiguousarray(out)


def conv_transpose2d_naive(x, weight, bias=None, stride: IntPair = 1, padding: IntPair = 0,
                           output_padding: IntPair = 0, dilation: IntPair = 1) -> np.ndarray:
    """Loop version of :func:`conv_transpose2d`: each output pixel gathers the stamps that reach it.

    Examples
    --------
    >>> conv_transpose2d_naive(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), stride=2)[0, 0, 2]
    array([2., 2., 4., 2., 2.])
    """
    x, wt, bias, s, p, d, oh, ow = _ct_args(x, weight, bias, stride, padding, output_padding, dilation)
    n, ci, h, w = x.shape
    co, kh, kw = wt.shape[1:]
    out = np.zeros((n, co, oh, ow), np.result_type(x, wt))
    for r in range(oh):
        for c in range(ow):
            for u in range(kh):
                for v in range(kw):
                    ii, jj = r + p[0] - u * d[0], c + p[1] - v * d[1]   # the input pixel whose stamp lands here
                    if ii % s[0] or jj % s[1]:
                        continue
                    i, j = ii // s[0], jj // s[1]
                    if 0 <= i < h and 0 <= j < w:
                        out[:, :, r, c] += x[:, :, i, j] @ wt[:, :, u, v]
    if bias is not None:
        out += bias[None, :, None, None]
    return out


def conv_matrix(weight, input_size, stride: IntPair = 1, padding: IntPair = 0) -> np.ndarray:
    """The matrix of a convolution (cross-correlation, no bias) acting on one flattened image.

    ``conv2d(x, weight, stride, padding)[0].ravel() == conv_matrix(...) @ x[0].ravel()``,
    and multiplying by its transpose is the transposed convolution with the same
    weight: ``conv_transpose2d(y, weight, stride, padding, output_padding)`` equals
    ``conv_matrix(...).T @ y[0].ravel()`` (with ``output_padding`` chosen so the
    sizes match).

    Parameters
    ----------
    weight : (C_out, C_in, kH, kW)
    input_size : (C_in, H, W)
    stride, padding : int or pair

    Returns
    -------
    (C_out * H_out * W_out, C_in * H * W) array

    Examples
    --------
    >>> conv_matrix(np.array([[[[1., 2.]]]]), (1, 1, 3))
    array([[1., 2., 0.],
           [0., 1., 2.]])
    """
    wt = as_float(check_array("weight", weight, ndim=4, shape_hint="(C_out, C_in, kH, kW)"))
    if not (isinstance(input_size, (tuple, list)) and len(input_size) == 3):
        raise TypeError(f"input_size must be (C_in, H, W), got {input_size!r}; pass e.g. input_size=(1, 4, 4)")
    ci, h, w = (check_int(f"input_size[{i}]", v, minimum=1) for i, v in enumerate(input_size))
    if wt.shape[1] != ci:
        raise ValueError(f"weight has C_in = {wt.shape[1]} but input_size has {ci} channels")
    s = check_pair("stride", stride, minimum=1)
    p = check_pair("padding", padding, minimum=0)
    co, _, kh, kw = wt.shape
    oh, ow = (h + 2 * p[0] - kh) // s[0] + 1, (w + 2 * p[1] - kw) // s[1] + 1
    if oh < 1 or ow < 1:
        raise ValueError(f"the kernel {(kh, kw)} does not fit the padded input {(h + 2 * p[0], w + 2 * p[1])}")
    m = np.zeros((co, oh, ow, ci, h, w))
    for i in range(oh):
        for j in range(ow):
            for u in range(kh):
                for v in range(kw):
                    r, c = i * s[0] + u - p[0], j * s[1] + v - p[1]
                    if 0 <= r < h and 0 <= c < w:      # taps on the zero padding contribute nothing
                        m[:, i, j, :, r, c] += wt[:, :, u, v]
    return m.reshape(co * oh * ow, ci * h * w)


def overlap_count(input_size, kernel_size: IntPair, stride: IntPair, padding: IntPair = 0) -> np.ndarray:
    """How many kernel stamps of a transposed convolution reach each output pixel.

    Uneven counts are the checkerboard: with kernel 3 and stride 2 the counts
    alternate 1, 2, 1, 2 along each axis; kernel 4 with stride 2 covers every
    interior pixel equally.

    Examples
    --------
    >>> overlap_count((1, 3), 3, 2)[0].astype(int).tolist()
    [1, 1, 2, 1, 2, 1, 1]
    """
    if not (isinstance(input_size, (tuple, list)) and len(input_size) == 2):
        raise TypeError(f"input_size must be (H, W), got {input_size!r}; pass e.g. input_size=(8, 8)")
    h, w = (check_int(f"input_size[{i}]", v, minimum=1) for i, v in enumerate(input_size))
    kh, kw = check_pair("kernel_size", kernel_size, minimum=1)
    return conv_transpose2d(np.ones((1, 1, h, w)), np.ones((1, 1, kh, kw)), stride=stride,
                            padding=padding)[0, 0]
