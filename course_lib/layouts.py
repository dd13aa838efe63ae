"""Tensor layouts: NHWC (TensorFlow, Keras) vs NCHW (PyTorch), and the two filter layouts.

TensorFlow stores a batch of images as (N, H, W, C) and conv filters as
(kH, kW, C_in, C_out); PyTorch uses (N, C, H, W) and (C_out, C_in, kH, kW).
Converting is a transpose, never a reshape: a reshape keeps the memory order
and scrambles the pixels. :func:`conv2d_nhwc` computes a TensorFlow-layout
convolution directly (its own einsum code, not a call through the NCHW one), so
a test can check that converted weights give the same outputs.
"""
from __future__ import annotations

import numpy as np

from ._checks import IntPair, as_float, check_array, check_pair
from .shapes import conv_output_size

__all__ = ["nhwc_to_nchw", "nchw_to_nhwc", "tf_to_torch_weight", "torch_to_tf_weight", "conv2d_nhwc"]


def _torch_aware(name, a, ndim, hint):
    """(array, back) where back() turns a NumPy result into the input's type (tensor or array)."""
    if hasattr(a, "permute") and hasattr(a, "detach"):      # a torch tensor: stay in torch
        if a.ndim != ndim:
            raise ValueError(f"{name} must be {ndim}D with shape {hint}, got shape {tuple(a.shape)}")
        return a, True
    arr = check_array(name, a, ndim=ndim, shape_hint=hint)
    return arr, False


def _move(name, a, ndim, hint, order):
    arr, is_torch = _torch_aware(name, a, ndim, hint)
    if is_torch:
        return arr.permute(*order).contiguous()
    return np.ascontiguousarray(arr.transpose(order))


def nhwc_to_nchw(x):
    """(N, H, W, C) -> (N, C, H, W), for NumPy arrays and torch tensors.

    Examples
    --------
    >>> x = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)     # N=2, H=3, W=4, C=5
    >>> nhwc_to_nchw(x).shape
    (2, 5, 3, 4)
    >>> bool((nchw_to_nhwc(nhwc_to_nchw(x)) == x).all())
    True
    """
    return _move("x", x, 4, "(N, H, W, C)", (0, 3, 1, 2))


def nchw_to_nhwc(x):
    """(N, C, H, W) -> (N, H, W, C), for NumPy arrays and torch tensors.

    Examples
    --------
    >>> nchw_to_nhwc(np.zeros((2, 3, 32, 32))).shape
    (2, 32, 32, 3)
    """
    return _move("x", x, 4, "(N, C, H, W)", (0, 2, 3, 1))


def tf_to_torch_weight(weight):
    """TensorFlow filters (kH, kW, C_in, C_out) -> PyTorch weight (C_out, C_in, kH, kW).

    Examples
    --------
    >>> w_tf = np.zeros((5, 5, 3, 32))              # 32 filters of 5 x 5 on RGB, TensorFlow layout
    >>> tf_to_torch_weight(w_tf).shape
    (32, 3, 5, 5)
    """
    return _move("weight", weight, 4, "(kH, kW, C_in, C_out)", (3, 2, 0, 1))


def torch_to_tf_weight(weight):
    """PyTorch weight (C_out, C_in, kH, kW) -> TensorFlow filters (kH, kW, C_in, C_out).

    Examples
    --------
    >>> torch_to_tf_weight(np.zeros((32, 3, 5, 5))).shape
    (5, 5, 3, 32)
    """
    return _move("weight", weight, 4, "(C_out, C_in, kH, kW)", (2, 3, 1, 0))


def conv2d_nhwc(x: np.ndarray, filters: np.ndarray, stride: IntPair = 1, padding: IntPair = 0) -> np.ndarray:
    """Cross-correlation in TensorFlow's layouts: x (N, H, W, C_in), filters (kH, kW, C_in, C_out).

    ``out[n, i, j, o] = sum_{u, v, c} xpad[n, i*s + u, j*s + v, c] * filters[u, v, c, o]``,
    computed with ``sliding_window_view`` and ``einsum`` (independent of
    :func:`course_lib.conv.conv2d`). ``padding`` is explicit zero padding on both sides
    (TensorFlow's "VALID" is padding=0).

    Returns
    -------
    ndarray, shape (N, H_out, W_out, C_out)

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> conv2d_nhwc(x, np.ones((2, 2, 1, 1)), stride=2)[0, :, :, 0]
    array([[10., 18.],
           [42., 50.]])
    """
    x = check_array("x", x, ndim=4, shape_hint="(N, H, W, C_in)")
    filters = check_array("filters", filters, ndim=4, shape_hint="(kH, kW, C_in, C_out)")
    (sh, sw), (ph, pw) = check_pair("stride", stride, minimum=1), check_pair("padding", padding, minimum=0)
    if filters.shape[2] != x.shape[3]:
        raise ValueError(f"filters have {filters.shape[2]} input channels but x has {x.shape[3]} "
                         f"(x is NHWC: channels last); filters must be (kH, kW, C_in, C_out). A PyTorch "
                         f"weight converts with torch_to_tf_weight(weight)")
    kh, kw = filters.shape[:2]
    ho = conv_output_size(x.shape[1], kh, sh, ph)
    wo = conv_output_size(x.shape[2], kw, sw, pw)
    xp = np.pad(as_float(x), ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(1, 2))   # (N, H', W', C, kH, kW)
    win = win[:, ::sh, ::sw][:, :ho, :wo]
    return np.einsum("nijcuv,uvco->nijo", win, as_float(filters), optimize=True)
