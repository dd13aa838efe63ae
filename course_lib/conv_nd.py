"""Convolution beyond images: 1D (sequences, audio) and 3D (video, volumes) in NumPy.

Shapes follow PyTorch: ``conv1d`` takes x (N, C_in, L) and weight (C_out, C_in, k);
``conv3d`` takes x (N, C_in, T, H, W) and weight (C_out, C_in, kT, kH, kW). Each
vectorised op has a loop twin (``*_naive``) with the same signature. Like torch,
"convolution" means cross-correlation. The size along every axis is the one
formula of chapter 4, :func:`course_lib.shapes.conv_output_size`, applied per axis.

A **causal** 1D convolution pads only on the left, by ``d (k - 1)``, so output t
reads inputs t - d(k-1), ..., t and never the future (WaveNet, van den Oord et al.
2016). Stacking causal layers with dilations 1, 2, 4, ... grows the receptive
field exponentially with depth: :func:`receptive_field_1d`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from ._checks import as_float, check_array, check_int
from .shapes import conv_output_size

__all__ = ["conv1d", "conv1d_naive", "causal_conv1d", "causal_conv1d_naive", "conv3d",
           "conv3d_naive", "conv_output_shape", "conv_nd_params", "conv_nd_macs",
           "FieldLayer", "receptive_field_1d", "causal_receptive_field"]

IntTuple = Union[int, Sequence[int]]


def _check_tuple(name: str, value, n: int, minimum: int) -> Tuple[int, ...]:
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{name} must be an int or {n} ints, got {value!r} with {len(value)} "
                             f"entries; pass e.g. {name}={(1,) * n if n > 1 else 1}")
        return tuple(check_int(f"{name}[{i}]", v, minimum=minimum) for i, v in enumerate(value))
    return (check_int(name, value, minimum=minimum),) * n


def _check_args(x, weight, bias, stride, padding, dilation, nd: int):
    names = {1: ("(N, C_in, L)", "(C_out, C_in, k)"),
             3: ("(N, C_in, T, H, W)", "(C_out, C_in, kT, kH, kW)")}[nd]
    x = as_float(check_array("x", x, ndim=nd + 2, shape_hint=names[0]))
    weight = as_float(check_array("weight", weight, ndim=nd + 2, shape_hint=names[1]))
    stride = _check_tuple("stride", stride, nd, 1)
    padding = _check_tuple("padding", padding, nd, 0)
    dilation = _check_tuple("dilation", dilation, nd, 1)
    if weight.shape[1] != x.shape[1]:
        raise ValueError(f"weight has {weight.shape[1]} input channels but x has {x.shape[1]} "
                         f"(x.shape={x.shape}, weight.shape={weight.shape}); weight must be "
                         f"{names[1]} with C_in = x.shape[1]")
    if 0 in weight.shape or 0 in x.shape:
        raise ValueError(f"x and weight must not have empty axes, got x.shape={x.shape}, "
                         f"weight.shape={weight.shape}")
    if bias is not None:
        bias = as_float(check_array("bias", bias, ndim=1, shape_hint="(C_out,)"))
        if bias.shape[0] != weight.shape[0]:
            raise ValueError(f"bias must have C_out={weight.shape[0]} entries, got shape "
                             f"{bias.shape}; pass one bias per output channel or bias=None")
    out = []
    for a in range(nd):
        try:
            out.append(conv_output_size(x.shape[2 + a], weight.shape[2 + a], stride[a], padding[a],
                                        dilation[a]))
        except ValueError as err:
            raise ValueError(f"weight does not fit x along axis {2 + a}: {err}") from None
    return x, weight, bias, stride, padding, dilation, tuple(out)


def _pad(x: np.ndarray, padding: Sequence[int]) -> np.ndarray:
    return np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])


def _conv_taps(x, weight, bias, stride, padding, dilation, out):
    """One tensordot per kernel tap: out += w[:, :, tap] . x[shifted, strided window]."""
    nd = len(out)
    xp = _pad(x, padding)
    dtype = np.result_type(x, weight)
    res = np.zeros((x.shape[0], weight.shape[0]) + out, dtype=dtype)
    for tap in np.ndindex(*weight.shape[2:]):
        sl = tuple(slice(t * d, t * d + (o - 1) * s + 1, s)
                   for t, d, o, s in zip(tap, dilation, out, stride))
        window = xp[(slice(None), slice(None)) + sl]                  # (N, C_in, *out)
        w = weight[(slice(None), slice(None)) + tap]                  # (C_out, C_in)
        res += np.moveaxis(np.tensordot(window, w, axes=([1], [1])), -1, 1)
    if bias is not None:
        res += bias.reshape((1, -1) + (1,) * nd)
    return res


def conv1d(x: np.ndarray, weight: np.ndarray, bias: Optional[np.ndarray] = None,
           stride: int = 1, padding: int = 0, dilation: int = 1) -> np.ndarray:
    """1D convolution (cross-correlation) of a batch of sequences, like ``torch.nn.functional.conv1d``.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, L)
    weight : ndarray, shape (C_out, C_in, k)
    bias : ndarray, shape (C_out,), optional
    stride, padding, dilation : int
        s >= 1, p >= 0 (zeros on both ends), d >= 1.

    Returns
    -------
    ndarray, shape (N, C_out, L_out)
        ``L_out = floor((L + 2p - d(k-1) - 1) / s) + 1``;
        ``out[n, o, t] = b[o] + sum_{c,u} w[o, c, u] x_pad[n, c, t s + u d]``.

    Examples
    --------
    >>> x = np.array([[[0., 0., 1., 2., 1., 0., 0.]]])
    >>> conv1d(x, np.array([[[1., 2., 1.]]]))          # a bump detector fires on the bump
    array([[[1., 4., 6., 4., 1.]]])
    """
    x, weight, bias, stride, padding, dilation, out = _check_args(x, weight, bias, stride, padding,
                                                                  dilation, 1)
    return _conv_taps(x, weight, bias, stride, padding, dilation, out)


def conv1d_naive(x: np.ndarray, weight: np.ndarray, bias: Optional[np.ndarray] = None,
                 stride: int = 1, padding: int = 0, dilation: int = 1) -> np.ndarray:
    """Loop twin of :func:`conv1d` (same signature): one output value at a time.

    Examples
    --------
    >>> x = np.arange(6.).reshape(1, 1, 6)
    >>> conv1d_naive(x, np.ones((1, 1, 2)), stride=2)
    array([[[1., 5., 9.]]])
    """
    x, weight, bias, stride, padding, dilation, out = _check_args(x, weight, bias, stride, padding,
                                                                  dilation, 1)
    (s,), (d,), (lo,) = stride, dilation, out
    xp = _pad(x, padding)
    n, c_in, _ = x.shape
    c_out, _, k = weight.shape
    res = np.zeros((n, c_out, lo), dtype=np.result_type(x, weight))
    for b in range(n):
        for o in range(c_out):
            for t in range(lo):
                total = 0.0 if bias is None else bias[o]
                for c in range(c_in):
                    for u in range(k):
                        total += weight[o, c, u] * xp[b, c, t * s + u * d]
                res[b, o, t] = total
    return res


def _causal_args(x, weight, dilation):
    x = as_float(check_array("x", x, ndim=3, shape_hint="(N, C_in, L)"))
    weight = as_float(check_array("weight", weight, ndim=3, shape_hint="(C_out, C_in, k)"))
    d = check_int("dilation", dilation, minimum=1)
    return x, weight, d


def causal_conv1d(x: np.ndarray, weight: np.ndarray, bias: Optional[np.ndarray] = None,
                  dilation: int = 1) -> np.ndarray:
    """Causal 1D convolution: zeros only on the left, ``d(k-1)`` of them; the output keeps length L.

    ``out[t]`` depends on ``x[t - d(k-1)], ..., x[t - d], x[t]`` only, never on later inputs.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, L)
    weight : ndarray, shape (C_out, C_in, k)
    bias : ndarray, shape (C_out,), optional
    dilation : int

    Returns
    -------
    ndarray, shape (N, C_out, L)

    Examples
    --------
    >>> x = np.array([[[1., 2., 3., 4.]]])
    >>> causal_conv1d(x, np.array([[[1., 10.]]]))      # out[t] = x[t-1] + 10 x[t]
    array([[[10., 21., 32., 43.]]])
    """
    x, weight, d = _causal_args(x, weight, dilation)
    left = d * (weight.shape[-1] - 1)
    xp = np.pad(x, [(0, 0), (0, 0), (left, 0)])
    return conv1d(xp, weight, bias, dilation=d)


def causal_conv1d_naive(x: np.ndarray, weight: np.ndarray, bias: Optional[np.ndarray] = None,
                        dilation: int = 1) -> np.ndarray:
    """Loop twin of :func:`causal_conv1d`: indices before the start read zero.

    Examples
    --------
    >>> causal_conv1d_naive(np.array([[[1., 2., 3., 4.]]]), np.array([[[1., 0., 0.]]]), dilation=1)
    array([[[0., 0., 1., 2.]]])
    """
    x, weight, d = _causal_args(x, weight, dilation)
    if weight.shape[1] != x.shape[1]:
        raise ValueError(f"weight has {weight.shape[1]} input channels but x has {x.shape[1]}; "
                         f"weight must be (C_out, C_in, k) with C_in = x.shape[1]")
    if bias is not None:
        bias = as_float(check_array("bias", bias, ndim=1, shape_hint="(C_out,)"))
    n, c_in, L = x.shape
    c_out, _, k = weight.shape
    res = np.zeros((n, c_out, L), dtype=np.result_type(x, weight))
    for b in range(n):
        for o in range(c_out):
            for t in range(L):
                total = 0.0 if bias is None else bias[o]
                for c in range(c_in):
                    for u in range(k):
                        src = t - d * (k - 1 - u)       # tap u = k-1 reads x[t] itself
                        if src >= 0:
                            total += weight[o, c, u] * x[b, c, src]
                res[b, o, t] = total
    return res


def conv3d(x: np.ndarray, weight: np.ndarray, bias: Optional[np.ndarray] = None,
           stride: IntTuple = 1, padding: IntTuple = 0, dilation: IntTuple = 1) -> np.ndarray:
    """3D convolution of a batch of videos or volumes, like ``torch.nn.functional.conv3d``.

    Parameters
    ----------
    x : ndarray, shape (N, C_in, T, H, W)
        T is time (frames) for a video, depth (slices) for a medical volume.
    weight : ndarray, shape (C_out, C_in, kT, kH, kW)
    bias : ndarray, shape (C_out,), optional
    stride, padding, dilation : int or 3 ints
        Per axis (T, H, W), as in torch.

    Returns
    -------
    ndarray, shape (N, C_out, T_out, H_out, W_out)
        Each axis sized by the one formula of chapter 4.

    Examples
    --------
    >>> x = np.zeros((1, 1, 4, 5, 5)); x[0, 0, 1:3, 2, 2] = 1.0
    >>> conv3d(x, np.ones((2, 1, 2, 3, 3)), padding=(0, 1, 1)).shape
    (1, 2, 3, 5, 5)
    """
    x, weight, bias, stride, padding, dilation, out = _check_args(x, weight, bias, stride, padding,
                                                                  dilation, 3)
    return _conv_taps(x, weight, bias, stride, padding, dilation, out)


def conv3d_naive(x: np.ndarray, weight: np.ndarray, bias: Optional[np.ndarray] = None,
                 stride: IntTuple = 1, padding: IntTuple = 0, dilation: IntTuple = 1) -> np.ndarray:
    """Loop twin of :func:`conv3d` (same signature): seven loops, one output value at a time.

    Examples
    --------
    >>> x = np.arange(8.).reshape(1, 1, 2, 2, 2)
    >>> conv3d_naive(x, np.ones((1, 1, 2, 2, 2)))
    array([[[[[28.]]]]])
    """
    x, weight, bias, stride, padding, dilation, out = _check_args(x, weight, bias, stride, padding,
                                                                  dilation, 3)
    xp = _pad(x, padding)
    n, c_in = x.shape[:2]
    c_out, _, kt, kh, kw = weight.shape
    res = np.zeros((n, c_out) + out, dtype=np.result_type(x, weight))
    (st, sh, sw), (dt, dh, dw) = stride, dilation
    for b in range(n):
        for o in range(c_out):
            for t, i, j in np.ndindex(*out):
                total = 0.0 if bias is None else bias[o]
                for c in range(c_in):
                    for u in range(kt):
                        for v in range(kh):
                            for w in range(kw):
                                total += weight[o, c, u, v, w] * xp[b, c, t * st + u * dt,
                                                                   i * sh + v * dh, j * sw + w * dw]
                res[b, o, t, i, j] = total
    return res


def conv_output_shape(input_shape: Sequence[int], kernel_size: IntTuple, stride: IntTuple = 1,
                      padding: IntTuple = 0, dilation: IntTuple = 1) -> Tuple[int, ...]:
    """Output size along every spatial axis: :func:`course_lib.shapes.conv_output_size` per axis.

    Parameters
    ----------
    input_shape : sequence of int
        The spatial sizes only: (L,) for 1D, (H, W) for 2D, (T, H, W) for 3D.
    kernel_size, stride, padding, dilation : int or one int per axis

    Returns
    -------
    tuple of int, one per axis

    Examples
    --------
    >>> conv_output_shape((16, 28, 28), (3, 5, 5), padding=(1, 2, 2))
    (16, 28, 28)
    >>> conv_output_shape((100,), 3, dilation=8)
    (84,)
    """
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence) or not input_shape:
        raise TypeError(f"input_shape must be a non-empty sequence of sizes such as (16, 28, 28), "
                        f"got {input_shape!r}")
    nd = len(input_shape)
    sizes = [check_int(f"input_shape[{i}]", n, minimum=1) for i, n in enumerate(input_shape)]
    k = _check_tuple("kernel_size", kernel_size, nd, 1)
    s = _check_tuple("stride", stride, nd, 1)
    p = _check_tuple("padding", padding, nd, 0)
    d = _check_tuple("dilation", dilation, nd, 1)
    return tuple(conv_output_size(n, *args) for n, *args in zip(sizes, k, s, p, d))


def conv_nd_params(in_channels: int, out_channels: int, kernel_size: Sequence[int],
                   bias: bool = True) -> int:
    """Learnable parameters of an N-dimensional conv layer: ``prod(k) * C_in * C_out (+ C_out)``.

    Examples
    --------
    >>> conv_nd_params(1, 16, (5,))            # 1D: 5 weights per filter
    96
    >>> conv_nd_params(16, 32, (3, 3, 3))      # 3D: 27 weights per input channel
    13856
    """
    cin = check_int("in_channels", in_channels, minimum=1)
    cout = check_int("out_channels", out_channels, minimum=1)
    if isinstance(kernel_size, (int, np.integer)) or not isinstance(kernel_size, Sequence) or not kernel_size:
        raise TypeError(f"kernel_size must be a tuple with one size per axis, e.g. (3, 3, 3), "
                        f"got {kernel_size!r}")
    k = [check_int(f"kernel_size[{i}]", v, minimum=1) for i, v in enumerate(kernel_size)]
    if not isinstance(bias, bool):
        raise TypeError(f"bias must be True or False, got {bias!r}")
    return math.prod(k) * cin * cout + (cout if bias else 0)


def conv_nd_macs(in_channels: int, out_channels: int, kernel_size: Sequence[int],
                 output_shape: Sequence[int]) -> int:
    """Multiply-adds for one input: ``prod(k) * C_in`` per output value, times ``C_out * prod(out)``.

    Examples
    --------
    >>> conv_nd_macs(16, 32, (3, 3, 3), (16, 28, 28))
    173408256
    """
    w = conv_nd_params(in_channels, out_channels, kernel_size, bias=False)
    if isinstance(output_shape, (int, np.integer)) or not isinstance(output_shape, Sequence) \
            or len(output_shape) != len(kernel_size):
        raise TypeError(f"output_shape must be a tuple with one size per axis like kernel_size "
                        f"{tuple(kernel_size)}, got {output_shape!r}")
    o = [check_int(f"output_shape[{i}]", v, minimum=1) for i, v in enumerate(output_shape)]
    return w * math.prod(o)


@dataclass(frozen=True)
class FieldLayer:
    """One layer along one axis for receptive-field tracing: kernel k, stride s, dilation d.

    Examples
    --------
    >>> FieldLayer(3, dilation=4)
    FieldLayer(kernel_size=3, stride=1, dilation=4)
    """
    kernel_size: int
    stride: int = 1
    dilation: int = 1

    def __post_init__(self):
        check_int("kernel_size", self.kernel_size, minimum=1)
        check_int("stride", self.stride, minimum=1)
        check_int("dilation", self.dilation, minimum=1)


def receptive_field_1d(layers: Sequence[FieldLayer]) -> List[int]:
    """Receptive field (in input steps) after each layer of a stack along one axis.

    ``r += d (k - 1) j`` and then ``j *= s`` (j: the jump, the input distance between
    neighbouring units), the same recursion as :mod:`course_lib.receptive_field` uses
    for images; apply it per axis for 3D (time, height, width). Padding does not change
    the size of a field, so causal and "same" layers count alike.

    Examples
    --------
    >>> receptive_field_1d([FieldLayer(2, dilation=d) for d in (1, 2, 4, 8)])   # WaveNet-style
    [2, 4, 8, 16]
    >>> receptive_field_1d([FieldLayer(3), FieldLayer(2, stride=2), FieldLayer(3)])
    [3, 4, 8]
    """
    if isinstance(layers, FieldLayer) or not isinstance(layers, Sequence):
        raise TypeError(f"layers must be a list of FieldLayer, got {type(layers).__name__}; "
                        f"e.g. [FieldLayer(3), FieldLayer(3, dilation=2)]")
    r, j, out = 1, 1, []
    for i, layer in enumerate(layers):
        if not isinstance(layer, FieldLayer):
            raise TypeError(f"layers[{i}] must be a FieldLayer, got {type(layer).__name__}; "
                            f"build it as FieldLayer(kernel_size, stride=1, dilation=1)")
        r += layer.dilation * (layer.kernel_size - 1) * j
        j *= layer.stride
        out.append(r)
    return out


def causal_receptive_field(kernel_size: int, dilations: Sequence[int]) -> int:
    """Receptive field of stacked stride-1 causal layers: ``1 + (k - 1) * sum(dilations)``.

    Examples
    --------
    >>> causal_receptive_field(2, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512])   # WaveNet's block
    1024
    >>> causal_receptive_field(3, [1, 1, 1, 1])                             # no dilation: linear
    9
    """
    k = check_int("kernel_size", kernel_size, minimum=1)
    if isinstance(dilations, (int, np.integer)) or not isinstance(dilations, Sequence):
        raise TypeError(f"dilations must be a list of ints, e.g. [1, 2, 4, 8], got {dilations!r}")
    ds = [check_int(f"dilations[{i}]", d, minimum=1) for i, d in enumerate(dilations)]
    return 1 + (k - 1) * sum(ds)
