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

from ._checks import IntPair, as_float, check_array, check_int, check_pair
from .shapes import conv_output_size

__all__ = ["conv2d", "conv2d_naive", "correlate2d", "convolve2d", "correlate2d_naive",
           "conv2d_input_grad", "conv2d_input_grad_naive", "conv2d_weight_grad",
           "conv2d_weight_grad_naive"]


def _check_groups(groups, c_in: int, c_out: int, weight_c_in: int) -> int:
    g = check_int("groups", groups, minimum=1)
    if c_in % g or c_out % g:
        raise ValueError(f"groups must divide both the input channels ({c_in}) and the output "
                         f"channels ({c_out}), got groups={g}; use a common divisor, e.g. groups=1")
    if weight_c_in * g != c_in:
        raise ValueError(f"weight has {weight_c_in} input channels per group but x has {c_in} "
                         f"channels in {g} group(s); weight must be (C_out, C_in / groups, kH, kW) "
                         f"= (C_out, {c_in // g}, kH, kW)")
    return g


def _check_conv_args(x, weight, bias, stride, padding, dilation, groups=1):
    """Shared argument-check block of conv2d and conv2d_naive."""
    x = check_array("x", x, ndim=4, shape_hint="(N, C_in, H, W)")
    weight = check_array("weight", weight, ndim=4, shape_hint="(C_out, C_in / groups, kH, kW)")
    stride = check_pair("stride", stride, minimum=1)
    padding = check_pair("padding", padding, minimum=0)
    dilation = check_pair("dilation", dilation, minimum=1)
    if check_int("groups", groups, minimum=1) == 1 and weight.shape[1] != x.shape[1]:
        raise ValueError(f"weight has {weight.shape[1]} input channels but x has {x.shape[1]} "
                         f"(x.shape={x.shape}, weight.shape={weight.shape}); weight must be "
                         f"(C_out, C_in, kH, kW) with C_in = x.shape[1]")
    groups = _check_groups(groups, x.shape[1], weight.shape[0], weight.shape[1])
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
            tuple(hw), groups)


def _im2col(x, kh, kw, stride, padding, dilation, out_hw):
    """The input patches as (C_in, kH, kW, N, H_out, W_out): kH*kW strided slice copies."""
    (sh, sw), (ph, pw), (dh, dw), (ho, wo) = stride, padding, dilation, out_hw
    n, c_in, h, w = x.shape
    # channels first, so that each tap's slice lands contiguously in cols: (C_in, N, H + 2p, W + 2p)
    xc = np.zeros((c_in, n, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
    xc[:, :, ph:ph + h, pw:pw + w] = x.transpose(1, 0, 2, 3)
    cols = np.empty((c_in, kh, kw, n, ho, wo), dtype=x.dtype)
    for u in range(kh):
        for v in range(kw):
            r0, c0 = u * dh, v * dw     # where tap (u, v) reads for output (0, 0)
            cols[:, u, v] = xc[:, :, r0:r0 + (ho - 1) * sh + 1:sh, c0:c0 + (wo - 1) * sw + 1:sw]
    return cols


def conv2d(x: np.ndarray, weight: np.ndarray, bias: Optional[np.ndarray] = None,
           stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1,
           groups: int = 1) -> np.ndarray:
    """2D cross-correlation of a batch, vectorised; agrees with ``torch.nn.functional.conv2d``.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
        Input batch.
    weight : ndarray, shape (C_out, C_in / groups, kH, kW)
        One kernel block per output channel.
    bias : ndarray, shape (C_out,), optional
        One bias per output channel.
    stride, padding, dilation : int or (int, int)
        As in torch. Padding is zero padding on both sides.
    groups : int
        Split the input and output channels into ``groups`` independent groups
        (torch's ``groups``): output channel o reads only the C_in / groups input
        channels of its group. ``groups = C_in`` with C_out = C_in is a depthwise
        convolution.

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
    (GEMM): ``W.reshape(C_out, -1) @ cols`` (one product per group, batched).

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = np.ones((1, 1, 2, 2))
    >>> conv2d(x, w, stride=2)
    array([[[[10., 18.],
             [42., 50.]]]])
    """
    x, weight, bias, stride, padding, dilation, (ho, wo), g = _check_conv_args(
        x, weight, bias, stride, padding, dilation, groups)
    n, c_in, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    cols = _im2col(x, kh, kw, stride, padding, dilation, (ho, wo))
    # (g, C_out/g, C_in/g*kH*kW) @ (g, C_in/g*kH*kW, N*H_out*W_out); for g = 1 one plain GEMM
    out = weight.reshape(g, c_out // g, -1) @ cols.reshape(g, (c_in // g) * kh * kw, -1)
    out = np.ascontiguousarray(out.reshape(c_out, n, ho, wo).transpose(1, 0, 2, 3))
    if bias is not None:
        out += bias[None, :, None, None]
    return out


def conv2d_naive(x: np.ndarray, weight: np.ndarray, bias: Optional[np.ndarray] = None,
                 stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1,
                 groups: int = 1) -> np.ndarray:
    """Loop-based reference for :func:`conv2d` (same signature, same result, slow).

    Every output value is written out as the sum in the definition:
    ``out[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] * xpad[n, c, i*s + u*d, j*s + v*d]``,
    where, with groups, input channel c of output o's group is ``(o // (C_out/groups)) * C_in/groups + c``.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> conv2d_naive(x, np.ones((1, 1, 2, 2)), stride=2)
    array([[[[10., 18.],
             [42., 50.]]]])
    """
    x, weight, bias, (sh, sw), (ph, pw), (dh, dw), (ho, wo), g = _check_conv_args(
        x, weight, bias, stride, padding, dilation, groups)
    n_batch, c_in, h, w = x.shape
    c_out, c_per_group, kh, kw = weight.shape
    out = np.zeros((n_batch, c_out, ho, wo), dtype=x.dtype)
    for n in range(n_batch):
        for o in range(c_out):
            first = (o // (c_out // g)) * c_per_group      # first input channel of o's group
            for i in range(ho):
                for j in range(wo):
                    total = 0.0 if bias is None else bias[o]
                    for c in range(c_per_group):
                        for u in range(kh):
                            for v in range(kw):
                                row = i * sh + u * dh - ph   # position in the unpadded input
                                col = j * sw + v * dw - pw
                                if 0 <= row < h and 0 <= col < w:  # outside = zero padding
                                    total += weight[o, c, u, v] * x[n, first + c, row, col]
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


# -- backward pass --------------------------------------------------------------------------------

def _check_grad_args(grad_output, weight_shape, input_shape, stride, padding, dilation, groups):
    """Shared checks of the gradient functions; returns the settings and the float dtype."""
    grad_output = check_array("grad_output", grad_output, ndim=4, shape_hint="(N, C_out, H_out, W_out)")
    stride = check_pair("stride", stride, minimum=1)
    padding = check_pair("padding", padding, minimum=0)
    dilation = check_pair("dilation", dilation, minimum=1)
    n, c_in, h, w = input_shape
    c_out, c_per_group, kh, kw = weight_shape
    g = _check_groups(groups, c_in, c_out, c_per_group)
    want = (n, c_out, conv_output_size(h, kh, stride[0], padding[0], dilation[0]),
            conv_output_size(w, kw, stride[1], padding[1], dilation[1]))
    if grad_output.shape != want:
        raise ValueError(f"grad_output must have the shape of the convolution's output, {want}, got "
                         f"{grad_output.shape}; check the input size, weight and settings")
    return as_float(grad_output), stride, padding, dilation, g


def _input_size(name, input_size, n, c_in):
    hw = check_pair(name, input_size, minimum=1)
    return (n, c_in) + hw


def conv2d_input_grad(grad_output: np.ndarray, weight: np.ndarray, input_size: IntPair,
                      stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1,
                      groups: int = 1) -> np.ndarray:
    """Gradient of :func:`conv2d` with respect to its input: a full convolution with the flipped kernel.

    If ``y = conv2d(x, weight, ...)`` and ``grad_output`` is dL/dy, this returns dL/dx.
    It is computed as the book states it: spread ``grad_output`` out by the stride
    (put s - 1 zeros between its values), pad it by d(k - 1) on every side ("full"),
    and cross-correlate it with the kernel flipped in both axes and with its input
    and output channels swapped. Input rows the forward pass never read get 0.

    Parameters
    ----------
    grad_output : ndarray, shape (N, C_out, H_out, W_out)
        dL/dy.
    weight : ndarray, shape (C_out, C_in / groups, kH, kW)
        The forward pass's weight.
    input_size : int or (int, int)
        (H, W) of the forward pass's input (several input sizes give the same output size).
    stride, padding, dilation, groups
        The forward pass's settings.

    Returns
    -------
    ndarray, shape (N, C_in, H, W)
        dL/dx.

    Examples
    --------
    >>> w = np.array([[[[1., 2.], [3., 4.]]]])
    >>> g = np.zeros((1, 1, 2, 2)); g[0, 0, 0, 0] = 1     # dL/dy: one at output (0, 0)
    >>> conv2d_input_grad(g, w, 3)[0, 0]                  # the window of output (0, 0), weighted
    array([[1., 2., 0.],
           [3., 4., 0.],
           [0., 0., 0.]])
    """
    weight = check_array("weight", weight, ndim=4, shape_hint="(C_out, C_in / groups, kH, kW)")
    g_in = check_array("grad_output", grad_output, ndim=4, shape_hint="(N, C_out, H_out, W_out)")
    groups_ = check_int("groups", groups, minimum=1)
    shape = _input_size("input_size", input_size, g_in.shape[0], weight.shape[1] * groups_)
    gy, (sh, sw), (ph, pw), (dh, dw), g = _check_grad_args(
        g_in, weight.shape, shape, stride, padding, dilation, groups)
    n, c_in, h, w = shape
    c_out, cig, kh, kw = weight.shape
    dtype = np.result_type(gy.dtype, as_float(weight).dtype)
    ho, wo = gy.shape[2:]
    # 1. spread out by the stride
    spread = np.zeros((n, c_out, (ho - 1) * sh + 1, (wo - 1) * sw + 1), dtype=dtype)
    spread[:, :, ::sh, ::sw] = gy
    # 2. flip the kernel and swap in/out channels within each group: (C_in, C_out/g, kH, kW)
    cog = c_out // g
    flipped = weight[:, :, ::-1, ::-1].astype(dtype).reshape(g, cog, cig, kh, kw)
    flipped = flipped.transpose(0, 2, 1, 3, 4).reshape(c_in, cog, kh, kw)
    # 3. full cross-correlation: gradient at every position of the padded input
    full = conv2d(spread, flipped, padding=(dh * (kh - 1), dw * (kw - 1)), dilation=(dh, dw), groups=g)
    # 4. rows/cols of the padded input the forward pass never reached get 0; drop the padding
    padded = np.zeros((n, c_in, h + 2 * ph, w + 2 * pw), dtype=dtype)
    padded[:, :, :full.shape[2], :full.shape[3]] = full
    return np.ascontiguousarray(padded[:, :, ph:ph + h, pw:pw + w])


def conv2d_input_grad_naive(grad_output: np.ndarray, weight: np.ndarray, input_size: IntPair,
                            stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1,
                            groups: int = 1) -> np.ndarray:
    """Loop-based reference for :func:`conv2d_input_grad`: the chain rule, term by term.

    Each input pixel collects ``w[o, c, u, v] * grad_output[n, o, i, j]`` from
    every output (i, j) whose window read it through tap (u, v).

    Examples
    --------
    >>> w = np.array([[[[1., 2.], [3., 4.]]]])
    >>> conv2d_input_grad_naive(np.ones((1, 1, 2, 2)), w, 3)[0, 0]
    array([[ 1.,  3.,  2.],
           [ 4., 10.,  6.],
           [ 3.,  7.,  4.]])
    """
    weight = check_array("weight", weight, ndim=4, shape_hint="(C_out, C_in / groups, kH, kW)")
    g_in = check_array("grad_output", grad_output, ndim=4, shape_hint="(N, C_out, H_out, W_out)")
    groups_ = check_int("groups", groups, minimum=1)
    shape = _input_size("input_size", input_size, g_in.shape[0], weight.shape[1] * groups_)
    gy, (sh, sw), (ph, pw), (dh, dw), g = _check_grad_args(
        g_in, weight.shape, shape, stride, padding, dilation, groups)
    n_batch, c_in, h, w = shape
    c_out, cig, kh, kw = weight.shape
    gx = np.zeros(shape, dtype=np.result_type(gy.dtype, as_float(weight).dtype))
    for n in range(n_batch):
        for o in range(c_out):
            first = (o // (c_out // g)) * cig
            for i in range(gy.shape[2]):
                for j in range(gy.shape[3]):
                    for c in range(cig):
                        for u in range(kh):
                            for v in range(kw):
                                row, col = i * sh + u * dh - ph, j * sw + v * dw - pw
                                if 0 <= row < h and 0 <= col < w:
                                    gx[n, first + c, row, col] += weight[o, c, u, v] * gy[n, o, i, j]
    return gx


def conv2d_weight_grad(x: np.ndarray, grad_output: np.ndarray, kernel_size: IntPair,
                       stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1,
                       groups: int = 1) -> np.ndarray:
    """Gradient of :func:`conv2d` with respect to its weight: input patches times dL/dy, summed.

    ``dW[o, c, u, v] = sum_{n, i, j} grad_output[n, o, i, j] * xpad[n, c', i*s + u*d, j*s + v*d]``
    (c' = c in output o's group): a cross-correlation of the input with the output
    gradient. The gradient of the bias is ``grad_output.sum(axis=(0, 2, 3))``. A
    weight used at every position gets the *sum* of its per-position gradients.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, H, W)
        The forward pass's input.
    grad_output : ndarray, shape (N, C_out, H_out, W_out)
    kernel_size : int or (int, int)
    stride, padding, dilation, groups
        The forward pass's settings.

    Returns
    -------
    ndarray, shape (C_out, C_in / groups, kH, kW)

    Examples
    --------
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> conv2d_weight_grad(x, np.ones((1, 1, 2, 2)), 2)[0, 0]   # each tap: sum of what it read
    array([[ 8., 12.],
           [20., 24.]])
    """
    x = check_array("x", x, ndim=4, shape_hint="(N, C_in, H, W)")
    g_in = check_array("grad_output", grad_output, ndim=4, shape_hint="(N, C_out, H_out, W_out)")
    kh, kw = check_pair("kernel_size", kernel_size, minimum=1)
    groups_ = check_int("groups", groups, minimum=1)
    if x.shape[0] != g_in.shape[0]:
        raise ValueError(f"x and grad_output must have the same batch size, got {x.shape[0]} and "
                         f"{g_in.shape[0]}")
    if x.shape[1] % groups_:
        raise ValueError(f"groups must divide the input channels ({x.shape[1]}), got groups={groups_}")
    wshape = (g_in.shape[1], x.shape[1] // groups_, kh, kw)
    gy, stride, padding, dilation, g = _check_grad_args(
        g_in, wshape, x.shape, stride, padding, dilation, groups)
    dtype = np.result_type(as_float(x).dtype, gy.dtype)
    n, c_in = x.shape[:2]
    c_out = gy.shape[1]
    cols = _im2col(x.astype(dtype), kh, kw, stride, padding, dilation, gy.shape[2:])
    cols = cols.reshape(g, (c_in // g) * kh * kw, -1)                      # (g, C_in/g*kH*kW, N*Ho*Wo)
    gflat = gy.astype(dtype).transpose(1, 0, 2, 3).reshape(g, c_out // g, -1)   # (g, C_out/g, N*Ho*Wo)
    return np.ascontiguousarray((gflat @ cols.transpose(0, 2, 1)).reshape(wshape))


def conv2d_weight_grad_naive(x: np.ndarray, grad_output: np.ndarray, kernel_size: IntPair,
                             stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1,
                             groups: int = 1) -> np.ndarray:
    """Loop-based reference for :func:`conv2d_weight_grad`.

    Examples
    --------
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> conv2d_weight_grad_naive(x, np.ones((1, 1, 2, 2)), 2)[0, 0]
    array([[ 8., 12.],
           [20., 24.]])
    """
    x = check_array("x", x, ndim=4, shape_hint="(N, C_in, H, W)")
    g_in = check_array("grad_output", grad_output, ndim=4, shape_hint="(N, C_out, H_out, W_out)")
    kh, kw = check_pair("kernel_size", kernel_size, minimum=1)
    groups_ = check_int("groups", groups, minimum=1)
    if x.shape[0] != g_in.shape[0]:
        raise ValueError(f"x and grad_output must have the same batch size, got {x.shape[0]} and "
                         f"{g_in.shape[0]}")
    if x.shape[1] % groups_:
        raise ValueError(f"groups must divide the input channels ({x.shape[1]}), got groups={groups_}")
    wshape = (g_in.shape[1], x.shape[1] // groups_, kh, kw)
    gy, (sh, sw), (ph, pw), (dh, dw), g = _check_grad_args(
        g_in, wshape, x.shape, stride, padding, dilation, groups)
    n_batch, c_in, h, w = x.shape
    c_out, cig = wshape[:2]
    gw = np.zeros(wshape, dtype=np.result_type(as_float(x).dtype, gy.dtype))
    for n in range(n_batch):
        for o in range(c_out):
            first = (o // (c_out // g)) * cig
            for i in range(gy.shape[2]):
                for j in range(gy.shape[3]):
                    for c in range(cig):
                        for u in range(kh):
                            for v in range(kw):
                                row, col = i * sh + u * dh - ph, j * sw + v * dw - pw
                                if 0 <= row < h and 0 <= col < w:
                                    gw[o, c, u, v] += gy[n, o, i, j] * x[n, first + c, row, col]
    return gw
