"""2D convolution (cross-correlation) in NumPy: a loop version and a vectorised one.

Shapes follow PyTorch: x is (N, C_in, H, W), weight is (C_out, C_in, kH, kW),
bias is (C_out,), the result is (N, C_out, H_out, W_out) with
H_out = floor((H + 2p - d(kH - 1) - 1) / s) + 1 (see :mod:`course_lib.shapes`).
Like every deep-learning library, "convolution" here means cross-correlation:
the kernel is not flipped. :func:`convolve2d` is the textbook convolution.
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

import numpy as np

from ._checks import IntPair, as_float, check_array, check_pair
from .shapes import conv_output_size

__all__ = ["conv2d", "conv2d_naive", "correlate2d", "convolve2d", "correlate2d_naive"]


def _check_conv_args(x, weight, bias, stride, padding, dilation):
    """Shared argument-check block of conv2d and conv2d_naive."""
    x = check_array("x", x, ndim=4, shape_hint="(N, C_in, H, W)")
    weight = check_array("weight", weight, ndim=4, shape_hint="(C_out, C_in, kH, kW)")
    stride = check_pair("stride", stride, minimum=1)
    padding = check_pair("padding", padding, minimum=0)
    dilation = check_pair("dilation", dilation, minimum=1)
    if weight.shape[1] != x.shape[1]:
        raise ValueError(f"weight has {weight.shape[1]} input channels but x has {x.shape[1]} "
                         f"(x.shape={x.shape}, weight.shape={weight.shape}); weight must be "
                         f"(C_out, C_in, kH, kW) with C_in = x.shape[1]")
    if 0 in weight.shape or 0 in x.shape:
        raise ValueError(f"x and weight must not have empty axes, got x.shape={x.shape}, "
                         f"weight.shape={weight.shape}")
    if bias is not None:
        bias = check_array("bias", bias, ndim=1, shape_hint="(C_out,)")
        if bias.shape[0] != weight.shape[0]:
            raise ValueError(f"bias must have C_out={weight.shape[0]} entries, got shape "
                             f"{bias.shape}; pass one bias per output channel or bias=None")
    # output sizes (raises ValueError naming kernel_size when no window fits)
    hw = []
    for axis, name in ((0, "height"), (1, "width")):
        try:
            hw.append(conv_output_size(x.shape[2 + axis], weight.shape[2 + axis], stride[axis],
                                       padding[axis], dilation[axis]))
        except ValueError as err:
            raise ValueError(f"weight {name} does not fit the input: {err}") from None
    dtype = np.result_type(as_float(x).dtype, as_float(weight).dtype,
                           as_float(bias).dtype if bias is not None else np.float32)
    return (x.astype(dtype, copy=False), weight.astype(dtype, copy=False),
            None if bias is None else bias.astype(dtype, copy=False), stride, padding, dilation,
            tuple(hw))


def conv2d(x: np.ndarray, weight: np.ndarray, bias: Optional[np.ndarray] = None,
           stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1) -> np.ndarray:
    """2D cross-correlation of a batch, vectorised; agrees with ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
        Input batch.
    weight : ndarray, shape (C_out, C_in, kH, kW)
        One kernel block per output channel.
    bias : ndarray, shape (C_out,), optional
        One bias per output channel.
    stride, padding, dilation : int or (int, int)
        As in torch. Padding is zero padding on both sides.

    Returns
    -------
    ndarray, shape (N, C_out, H_out, W_out)
        Float result (float64 for integer inputs, otherwise the inputs' float type).

    Notes
    -----
    Every output value is a dot product between a kernel block and the input
    patch under it. We copy the patches into one matrix, ``cols`` of shape
    (C_in*kH*kW, N*H_out*W_out), with kH*kW strided slice copies (one per
    kernel tap, "im2col"), and compute every output with one matrix product
    (GEMM): ``W.reshape(C_out, -1) @ cols``.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.ones((1, 1, 2, 2))
    >>> conv2d(x, w, stride=2)
    array([[[[10., 18.],
             [42., 50.]]]])
    """
    x, weight, bias, (sh, sw), (ph, pw), (dh, dw), (ho, wo) = _check_conv_args(
        x, weight, bias, stride, padding, dilation)
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    # channels first, so that each tap's slice lands contiguously in cols: (C_in, N, H + 2p, W + 2p)
    xc = np.zeros((c_in, n, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
    xc[:, :, ph:ph + h, pw:pw + w] = x.transpose(1, 0, 2, 3)
    cols = np.empty((c_in, kh, kw, n, ho, wo), dtype=x.dtype)
    for u in range(kh):
        for v in range(kw):
            r0, c0 = u * dh, v * dw     # where tap (u, v) reads for output (0, 0)
            cols[:, u, v] = xc[:, :, r0:r0 + (ho - 1) * sh + 1:sh, c0:c0 + (wo - 1) * sw + 1:sw]
    out = weight.reshape(c_out, -1) @ cols.reshape(c_in * kh * kw, -1)    # (C_out, N*H_out*W_out)
    out = np.ascontiguousarray(out.reshape(c_out, n, ho, wo).transpose(1, 0, 2, 3))
    if bias is not None:
        out += bias[None, :, None, None]
    return out


def conv2d_naive(x: np.ndarray, weight: np.ndarray, bias: Optional[np.ndarray] = None,
                 stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1) -> np.ndarray:
    """Loop-based reference for :func:`conv2d` (same signature, same result, slow).

    Every output value is written out as the sum in the definition:
    ``out[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] * xpad[n, c, i*s + u*d, j*s + v*d]``.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> conv2d_naive(x, np.ones((1, 1, 2, 2)), stride=2)
    array([[[[10., 18.],
             [42., 50.]]]])
    """
    x, weight, bias, (sh, sw), (ph, pw), (dh, dw), (ho, wo) = _check_conv_args(
        x, weight, bias, stride, padding, dilation)
    n_batch, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    out = np.zeros((n_batch, c_out, ho, wo), dtype=x.dtype)
    for n in range(n_batch):
        for o in range(c_out):
            for i in range(ho):
                for j in range(wo):
                    total = 0.0 if bias is None else bias[o]
                    for c in range(c_in):
                        for u in range(kh):
                            for v in range(kw):
                                row = i * sh + u * dh - ph   # position in the unpadded input
                                col = j * sw + v * dw - pw
                                if 0 <= row < h and 0 <= col < w:  # outside = zero padding
                                    total += weight[o, c, u, v] * x[n, c, row, col]
                    out[n, o, i, j] = total
    return out


def _check_2d(image, kernel, padding, stride):
    image = check_array("image", image, ndim=2, shape_hint="(H, W)")
    kernel = check_array("kernel", kernel, ndim=2, shape_hint="(kH, kW)")
    return image, kernel, check_pair("padding", padding, minimum=0), check_pair("stride", stride, minimum=1)


def correlate2d(image: np.ndarray, kernel: np.ndarray, padding: IntPair = 0,
                stride: IntPair = 1) -> np.ndarray:
    """Cross-correlate one 2D image with one 2D kernel (what CNN layers compute).

    ``out[i, j] = sum_{u, v} kernel[u, v] * image[i*s + u - p, j*s + v - p]`` with zeros outside.

    Parameters
    ----------
    image : ndarray, shape (H, W)
    kernel : ndarray, shape (kH, kW)
    padding, stride : int or (int, int)

    Returns
    -------
    ndarray, shape (H_out, W_out)

    Examples
    --------
    >>> correlate2d(np.array([[1., 2., 3.], [4., 5., 6.]]), np.array([[1., -1.]]))
    array([[-1., -1.],
           [-1., -1.]])
    """
    image, kernel, padding, stride = _check_2d(image, kernel, padding, stride)
    return conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0]


def correlate2d_naive(image: np.ndarray, kernel: np.ndarray, padding: IntPair = 0,
                      stride: IntPair = 1) -> np.ndarray:
    """Loop-based reference for :func:`correlate2d`.

    Examples
    --------
    >>> correlate2d_naive(np.array([[1., 2., 3.], [4., 5., 6.]]), np.array([[1., -1.]]))
    array([[-1., -1.],
           [-1., -1.]])
    """
    image, kernel, padding, stride = _check_2d(image, kernel, padding, stride)
    return conv2d_naive(image[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0]


def convolve2d(image: np.ndarray, kernel: np.ndarray, padding: IntPair = 0,
               stride: IntPair = 1) -> np.ndarray:
    """True 2D convolution: flip the kernel in both axes, then cross-correlate.

    ``out[i, j] = sum_{u, v} kernel[u, v] * image[i*s - u + kH - 1 - p, ...]``; with
    ``padding = k - 1`` it equals ``scipy.signal.convolve2d(image, kernel, mode="full")``.

    Examples
    --------
    >>> convolve2d(np.array([[1., 2., 3.], [4., 5., 6.]]), np.array([[1., -1.]]))
    array([[1., 1.],
           [1., 1.]])
    """
    image, kernel, padding, stride = _check_2d(image, kernel, padding, stride)
    return correlate2d(image, kernel[::-1, ::-1], padding=padding, stride=stride)
