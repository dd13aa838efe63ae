"""Batch normalisation in NumPy (forward, backward, running statistics) and folding it into a convolution.

For an input x of shape (N, C) or (N, C, ...), channel c is normalised with
the mean and variance of *all* its values in the batch: over the N examples and,
for convolutional feature maps, over every spatial position as well (one mean and
one variance per channel, so the statistics do not depend on where in the image a
value sits). Then a per-channel scale gamma (``weight``) and shift beta (``bias``)
are applied::

    y = (x - mean) / sqrt(var + eps) * weight + bias

* **training mode** uses the batch's own mean and *biased* variance (divided by
  the number of values m) and, when running statistics are given, updates them in
  place with ``running = (1 - momentum) * running + momentum * batch_statistic``,
  where the variance put into the running average is the *unbiased* one (divided
  by m - 1), exactly as :func:`torch.nn.functional.batch_norm` does;
* **evaluation mode** uses the running statistics and changes nothing.

``momentum`` is torch's convention: the weight of the *new* batch. TensorFlow's
``ExponentialMovingAverage(decay=0.9)`` (Buduma's code) is ``momentum=0.1``.

The module also has the experiment helpers of the chapter "Batch normalisation":
a small MNIST network with batch norm switched on or off and placed before or
after the ReLU (:func:`small_convnet`), a loader wrapper that lets
:func:`course_lib.training.fit` validate every few mini-batches
(:class:`StepChunks`), and :func:`steps_to_reach` to read off how many
mini-batches a run needed to reach an accuracy.
"""
from __future__ import annotations

import copy
import math
from collections import OrderedDict
from typing import Iterable, Iterator, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from ._checks import as_float, check_array, check_int

__all__ = ["batch_norm", "batch_norm_naive", "batch_norm_backward", "batch_norm_backward_naive",
           "fold_batch_norm_weights", "fold_batch_norm", "fold_sequential", "small_convnet",
           "StepChunks", "steps_to_reach"]


# ----------------------------------------------------------------------------------------------
# argument checks

def _check_number(name: str, value, *, low: float, high: float, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r} of type {type(value).__name__}; "
                        f"pass e.g. {name}={high if high < 1 else 0.1}")
    v = float(value)
    ok = (v > low if low_open else v >= low) and v <= high and math.isfinite(v)
    if not ok:
        bracket = "(" if low_open else "["
        raise ValueError(f"{name} must be in {bracket}{low:g}, {high:g}], got {name}={value!r}")
    return v


def _check_channel_vector(name: str, value, c: int, *, allow_none: bool) -> Optional[np.ndarray]:
    if value is None:
        if allow_none:
            return None
        raise ValueError(f"{name} is needed here, got None; pass an array of shape ({c},)")
    arr = check_array(name, value, ndim=1, shape_hint=f"({c},)")
    if arr.shape != (c,):
        raise ValueError(f"{name} must have one value per channel, shape ({c},), got shape {arr.shape}; "
                         f"x has C={c} channels on axis 1")
    return arr


def _check_running(name: str, value, c: int) -> Optional[np.ndarray]:
    """Running statistics are updated in place, so they must be writable float NumPy arrays."""
    if value is None:
        return None
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        raise TypeError(f"{name} must be a NumPy array (it is updated in place), got a torch tensor; "
                        f"pass {name}.numpy() (a view that shares memory with the tensor)")
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a NumPy array (it is updated in place), got "
                        f"{type(value).__name__}; use np.asarray({name}, dtype=np.float64)")
    arr = check_array(name, value, ndim=1, shape_hint=f"({c},)")
    if arr.shape != (c,):
        raise ValueError(f"{name} must have one value per channel, shape ({c},), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"{name} must be a float array (it is updated in place), got dtype {arr.dtype}; "
                        f"use {name}.astype(np.float64)")
    return arr


def _check_x(x) -> np.ndarray:
    x = check_array("x", x, shape_hint="(N, C) or (N, C, H, W)")
    if x.ndim < 2:
        raise ValueError(f"x must have a batch axis and a channel axis, shape (N, C) or (N, C, ...), got "
                         f"shape {x.shape}; add a batch axis with x[None]")
    if 0 in x.shape:
        raise ValueError(f"x must not have empty axes, got shape {x.shape}")
    return as_float(x)


def _check_bn_args(x, running_mean, running_var, weight, bias, training, momentum, eps):
    x = _check_x(x)
    c = x.shape[1]
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"training must be True or False, got {training!r}")
    training = bool(training)
    if momentum is None:
        raise TypeError("momentum must be a number in [0, 1], got None; torch's functional batch_norm "
                        "takes a number (the cumulative average of momentum=None belongs to nn.BatchNorm)")
    momentum = _check_number("momentum", momentum, low=0.0, high=1.0)
    eps = _check_number("eps", eps, low=0.0, high=math.inf)
    rm = _check_running("running_mean", running_mean, c)
    rv = _check_running("running_var", running_var, c)
    if (rm is None) != (rv is None):
        raise ValueError("running_mean and running_var must be given together (or both None)")
    if not training and rm is None:
        raise ValueError("running_mean and running_var are needed when training=False (evaluation "
                         "mode normalises with them); pass them, or use training=True")
    w = _check_channel_vector("weight", weight, c, allow_none=True)
    b = _check_channel_vector("bias", bias, c, allow_none=True)
    if training and eps <= 0:
        raise ValueError(f"eps must be positive in training mode (as in torch), got eps={eps!r}; "
                         f"use e.g. eps=1e-5")
    m = x.size // c                                  # values per channel: N * H * W
    if training and m < 2:
        raise ValueError(f"training mode needs more than one value per channel to compute a variance, got "
                         f"x of shape {x.shape} ({m} value per channel); use a larger batch, or "
                         f"training=False")
    return x, rm, rv, w, b, training, momentum, eps, m


def _channel_shape(x: np.ndarray) -> Tuple[int, ...]:
    """(1, C, 1, ..., 1): broadcasts a per-channel vector against x."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _reduce_axes(x: np.ndarray) -> Tuple[int, ...]:
    return (0,) + tuple(range(2, x.ndim))


# ----------------------------------------------------------------------------------------------
# forward

def batch_norm(x: np.ndarray, running_mean: Optional[np.ndarray], running_var: Optional[np.ndarray],
               weight: Optional[np.ndarray] = None, bias: Optional[np.ndarray] = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> np.ndarray:
    """Batch normalisation, vectorised; agrees with ``torch.nn.functional.batch_norm``.

    Parameters
    ----------
    x : ndarray, shape (N, C) or (N, C, ...)
    running_mean, running_var : ndarray, shape (C,), or None
        Float arrays. Used (not changed) when ``training=False``; updated **in
        place** when ``training=True`` (the variance with the unbiased estimate).
        May be None in training mode (no update).
    weight, bias : ndarray, shape (C,), optional
        gamma and beta; default 1 and 0.
    training : bool
        Batch statistics (True) or running statistics (False).
    momentum : float in [0, 1]
        Weight of the new batch in the running averages.
    eps : float >= 0
        Added to the variance before the square root (> 0 in training mode, as in torch).

    Returns
    -------
    ndarray, shape of x (float; integers become float64)

    Examples
    --------
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])          # N = 2 examples, C = 2 channels
    >>> rm, rv = np.zeros(2), np.ones(2)
    >>> np.round(batch_norm(x, rm, rv, training=True), 4)
    array([[-1., -1.],
           [ 1.,  1.]])
    >>> rm, rv                                            # 0.9 * old + 0.1 * batch (unbiased variance)
    (array([0.2, 2. ]), array([ 1.1, 20.9]))
    """
    x, rm, rv, w, b, training, momentum, eps, m = _check_bn_args(
        x, running_mean, running_var, weight, bias, training, momentum, eps)
    shape, axes = _channel_shape(x), _reduce_axes(x)
    if training:
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)                       # biased: divided by m, as in the normalisation
        if rm is not None:
            rm *= 1.0 - momentum
            rm += momentum * mean
            rv *= 1.0 - momentum
            rv += momentum * var * (m / (m - 1))     # unbiased estimate into the running average
    else:
        mean, var = rm, rv
    out = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if w is not None:
        out = out * w.reshape(shape)
    if b is not None:
        out = out + b.reshape(shape)
    return out.astype(x.dtype, copy=False)


def batch_norm_naive(x: np.ndarray, running_mean: Optional[np.ndarray], running_var: Optional[np.ndarray],
                     weight: Optional[np.ndarray] = None, bias: Optional[np.ndarray] = None,
                     training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> np.ndarray:
    """Batch normalisation with explicit loops over channels and values; same contract as :func:`batch_norm`.

    Every mean and variance is a running sum over the N x H x W values of one
    channel, written out so that what is averaged over is visible.

    Examples
    --------
    >>> x = np.arange(8.0).reshape(2, 2, 2)              # (N, C, L)
    >>> np.allclose(batch_norm_naive(x, None, None, training=True),
    ...             batch_norm(x, None, None, training=True))
    True
    """
    x, rm, rv, w, b, training, momentum, eps, m = _check_bn_args(
        x, running_mean, running_var, weight, bias, training, momentum, eps)
    n, c = x.shape[:2]
    spatial = x.shape[2:]
    out = np.empty_like(x)
    for ch in range(c):
        if training:
            total = 0.0
            for i in range(n):
                for pos in np.ndindex(*spatial):
                    total += x[(i, ch) + pos]
            mean = total / m
            sq = 0.0
            for i in range(n):
                for pos in np.ndindex(*spatial):
                    sq += (x[(i, ch) + pos] - mean) ** 2
            var = sq / m
            if rm is not None:
                rm[ch] = (1.0 - momentum) * rm[ch] + momentum * mean
                rv[ch] = (1.0 - momentum) * rv[ch] + momentum * sq / (m - 1)
        else:
            mean, var = rm[ch], rv[ch]
        scale = 1.0 if w is None else w[ch]
        shift = 0.0 if b is None else b[ch]
        for i in range(n):
            for pos in np.ndindex(*spatial):
                out[(i, ch) + pos] = (x[(i, ch) + pos] - mean) / math.sqrt(var + eps) * scale + shift
    return out


# ----------------------------------------------------------------------------------------------
# backward

def _check_backward_args(grad_output, x, weight, running_mean, running_var, training, eps):
    x = _check_x(x)
    g = as_float(check_array("grad_output", grad_output))
    if g.shape != x.shape:
        raise ValueError(f"grad_output must have the shape of x, {x.shape}, got {g.shape}")
    c = x.shape[1]
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"training must be True or False, got {training!r}")
    eps = _check_number("eps", eps, low=0.0, high=math.inf)
    w = _check_channel_vector("weight", weight, c, allow_none=True)
    rm = _check_channel_vector("running_mean", running_mean, c, allow_none=True)
    rv = _check_channel_vector("running_var", running_var, c, allow_none=True)
    if not training and (rm is None or rv is None):
        raise ValueError("running_mean and running_var are needed when training=False; pass them")
    if training and eps <= 0:
        raise ValueError(f"eps must be positive in training mode (as in torch), got eps={eps!r}")
    m = x.size // c
    if training and m < 2:
        raise ValueError(f"training mode needs more than one value per channel, got x of shape {x.shape}")
    return g, x, w, rm, rv, bool(training), eps, m


def batch_norm_backward(grad_output: np.ndarray, x: np.ndarray, weight: Optional[np.ndarray] = None,
                        running_mean: Optional[np.ndarray] = None,
                        running_var: Optional[np.ndarray] = None, training: bool = True,
                        eps: float = 1e-5) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of batch norm's output with respect to x, gamma and beta, vectorised.

    With x_hat = (x - mean) / s, s = sqrt(var + eps), and g_hat = grad_output * gamma,
    in training mode (the batch statistics depend on x)::

        grad_x = (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)) / s

    where the means run over the same N x H x W values as the statistics. In
    evaluation mode the statistics are constants and ``grad_x = g_hat / s``.
    Always ``grad_weight = sum(grad_output * x_hat)`` and ``grad_bias = sum(grad_output)``.

    Parameters
    ----------
    grad_output : ndarray, shape of x
        Gradient of the loss with respect to batch norm's output.
    x : ndarray, shape (N, C) or (N, C, ...)
    weight : ndarray, shape (C,), optional
        gamma (default 1).
    running_mean, running_var : ndarray, shape (C,), optional
        Needed when ``training=False``.
    training : bool
    eps : float >= 0

    Returns
    -------
    grad_input : ndarray, shape of x
    grad_weight, grad_bias : ndarray, shape (C,)

    Examples
    --------
    >>> x = np.array([[1.0], [2.0], [4.0]])
    >>> gx, gw, gb = batch_norm_backward(np.ones_like(x), x)
    >>> np.abs(gx).max() < 1e-12, gb                     # a constant gradient is normalised away
    (np.True_, array([3.]))
    """
    g, x, w, rm, rv, training, eps, m = _check_backward_args(
        grad_output, x, weight, running_mean, running_var, training, eps)
    shape, axes = _channel_shape(x), _reduce_axes(x)
    if training:
        mean, var = x.mean(axis=axes), x.var(axis=axes)
    else:
        mean, var = rm, rv
    s = np.sqrt(var + eps).reshape(shape)
    x_hat = (x - mean.reshape(shape)) / s
    g_hat = g if w is None else g * w.reshape(shape)
    if training:
        grad_x = (g_hat - g_hat.mean(axis=axes, keepdims=True)
                  - x_hat * (g_hat * x_hat).mean(axis=axes, keepdims=True)) / s
    else:
        grad_x = g_hat / s
    return grad_x, (g * x_hat).sum(axis=axes), g.sum(axis=axes)


def batch_norm_backward_naive(grad_output: np.ndarray, x: np.ndarray, weight: Optional[np.ndarray] = None,
                              running_mean: Optional[np.ndarray] = None,
                              running_var: Optional[np.ndarray] = None, training: bool = True,
                              eps: float = 1e-5) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`batch_norm_backward` by the chain rule, one value at a time.

    For channel c with values x_1..x_m: dy_j/dx_i = gamma / s * (delta_ij - 1/m - x_hat_i x_hat_j / m)
    in training mode (and gamma / s * delta_ij in evaluation mode), so
    grad_x_i = sum_j grad_output_j * dy_j/dx_i, a double loop over the m values.

    Examples
    --------
    >>> x = np.array([[1.0, 0.0], [2.0, 5.0], [4.0, 1.0]])
    >>> g = np.array([[0.1, -1.0], [0.3, 0.2], [-0.2, 0.7]])
    >>> all(np.allclose(a, b) for a, b in zip(batch_norm_backward_naive(g, x), batch_norm_backward(g, x)))
    True
    """
    g, x, w, rm, rv, training, eps, m = _check_backward_args(
        grad_output, x, weight, running_mean, running_var, training, eps)
    n, c = x.shape[:2]
    spatial = x.shape[2:]
    grad_x = np.zeros_like(x)
    grad_w, grad_b = np.zeros(c), np.zeros(c)
    for ch in range(c):
        idx = [(i, ch) + pos for i in range(n) for pos in np.ndindex(*spatial)]
        vals = [x[k] for k in idx]
        if training:
            mean = sum(vals) / m
            var = sum((v - mean) ** 2 for v in vals) / m
        else:
            mean, var = rm[ch], rv[ch]
        s = math.sqrt(var + eps)
        x_hat = [(v - mean) / s for v in vals]
        gamma = 1.0 if w is None else w[ch]
        for i, ki in enumerate(idx):
            total = 0.0
            for j, kj in enumerate(idx):
                d = (1.0 if i == j else 0.0)
                if training:
                    d -= 1.0 / m + x_hat[i] * x_hat[j] / m
                total += g[kj] * gamma / s * d
            grad_x[ki] = total
            grad_w[ch] += g[ki] * x_hat[i]
            grad_b[ch] += g[ki]
    return grad_x, grad_w, grad_b


# ----------------------------------------------------------------------------------------------
# folding into the preceding layer (inference)

def fold_batch_norm_weights(weight: np.ndarray, bias: Optional[np.ndarray], running_mean: np.ndarray,
                            running_var: np.ndarray, gamma: Optional[np.ndarray] = None,
                            beta: Optional[np.ndarray] = None,
                            eps: float = 1e-5) -> Tuple[np.ndarray, np.ndarray]:
    """Weights and bias of one layer that computes layer-then-batch-norm (evaluation mode).

    With s = gamma / sqrt(running_var + eps) per output channel::

        weight' = weight * s  (each output channel's kernel scaled)
        bias'   = (bias - running_mean) * s + beta

    Parameters
    ----------
    weight : ndarray, shape (C_out, ...)
        A convolution's (C_out, C_in / groups, kH, kW) or a linear layer's (C_out, C_in).
    bias : ndarray, shape (C_out,), or None (no bias, i.e. zeros)
    running_mean, running_var : ndarray, shape (C_out,)
    gamma, beta : ndarray, shape (C_out,), optional
        Default 1 and 0 (batch norm without affine parameters).
    eps : float >= 0

    Returns
    -------
    weight', bias' : ndarrays, shapes (C_out, ...) and (C_out,)

    Examples
    --------
    >>> w, b = fold_batch_norm_weights(np.ones((1, 1, 1, 1)), np.array([1.0]), np.array([3.0]),
    ...                                np.array([4.0]), np.array([2.0]), np.array([0.5]), eps=0.0)
    >>> w.ravel(), b                                    # scale 2 / sqrt(4) = 1; (1 - 3) * 1 + 0.5
    (array([1.]), array([-1.5]))
    """
    weight = as_float(check_array("weight", weight))
    if weight.ndim < 2:
        raise ValueError(f"weight must have an output-channel axis first, shape (C_out, ...), got shape "
                         f"{weight.shape}")
    c = weight.shape[0]
    rm = _check_channel_vector("running_mean", running_mean, c, allow_none=False)
    rv = _check_channel_vector("running_var", running_var, c, allow_none=False)
    if np.any(rv < 0):
        raise ValueError("running_var must not be negative; pass the layer's running variance")
    b = _check_channel_vector("bias", bias, c, allow_none=True)
    gm = _check_channel_vector("gamma", gamma, c, allow_none=True)
    bt = _check_channel_vector("beta", beta, c, allow_none=True)
    eps = _check_number("eps", eps, low=0.0, high=math.inf)
    scale = (1.0 if gm is None else gm) / np.sqrt(rv + eps)
    new_w = weight * scale.reshape((c,) + (1,) * (weight.ndim - 1))
    new_b = ((0.0 if b is None else b) - rm) * scale + (0.0 if bt is None else bt)
    return new_w, np.asarray(new_b, dtype=np.float64)


_PAIRS = ((nn.Conv1d, nn.BatchNorm1d), (nn.Conv2d, nn.BatchNorm2d), (nn.Conv3d, nn.BatchNorm3d),
          (nn.Linear, nn.BatchNorm1d))


def fold_batch_norm(conv: nn.Module, bn: nn.Module) -> nn.Module:
    """A new layer that computes ``bn(conv(x))`` in evaluation mode with one convolution (or linear layer).

    At inference time batch norm is a fixed per-channel affine map, so it can be
    merged into the weights and bias of the layer before it: the network gets one
    layer fewer and the same outputs (up to rounding). Training mode cannot be
    folded (its statistics change with every batch).

    Parameters
    ----------
    conv : nn.Conv1d, nn.Conv2d, nn.Conv3d or nn.Linear
    bn : nn.BatchNorm1d / 2d / 3d matching ``conv`` with ``num_features == out channels``,
        with running statistics (``track_running_stats=True``).

    Returns
    -------
    A new layer of the type of ``conv`` (the inputs are not changed), with a bias,
    in evaluation mode, on ``conv``'s device and dtype.

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> conv, bn = nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4)
    >>> with torch.no_grad():
    ...     _ = bn(conv(torch.randn(8, 3, 6, 6)))         # a training step sets the running statistics
    >>> fused = fold_batch_norm(conv, bn.eval())
    >>> x = torch.randn(2, 3, 6, 6)
    >>> bool(torch.allclose(fused(x), bn(conv(x)), atol=1e-5))
    True
    """
    if not isinstance(conv, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)):
        raise TypeError(f"conv must be an nn.Conv1d/2d/3d or nn.Linear, got {type(conv).__name__}")
    if not isinstance(bn, nn.modules.batchnorm._BatchNorm):
        raise TypeError(f"bn must be a batch norm layer (nn.BatchNorm1d/2d/3d), got {type(bn).__name__}")
    if not any(isinstance(conv, a) and type(bn) is b for a, b in _PAIRS):
        raise TypeError(f"{type(bn).__name__} does not follow {type(conv).__name__}: use BatchNorm1d after "
                        f"Linear or Conv1d, BatchNorm2d after Conv2d, BatchNorm3d after Conv3d")
    c_out = conv.out_features if isinstance(conv, nn.Linear) else conv.out_channels
    if bn.num_features != c_out:
        raise ValueError(f"bn has num_features={bn.num_features} but conv has {c_out} output channels; "
                         f"fold the batch norm that directly follows this layer")
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError("bn has no running statistics (track_running_stats=False): it always uses batch "
                         "statistics, so there is nothing fixed to fold")
    with torch.no_grad():
        def np64(t):
            return None if t is None else t.detach().cpu().double().numpy()
        w, b = fold_batch_norm_weights(np64(conv.weight), np64(conv.bias), np64(bn.running_mean),
                                       np64(bn.running_var), np64(bn.weight), np64(bn.bias), eps=bn.eps)
        fused = copy.deepcopy(conv)
        if fused.bias is None:
            fused.bias = nn.Parameter(torch.zeros(c_out, dtype=conv.weight.dtype, device=conv.weight.device))
        fused.weight.copy_(torch.from_numpy(w))
        fused.bias.copy_(torch.from_numpy(b))
    return fused.eval()


def fold_sequential(model: nn.Sequential) -> nn.Sequential:
    """A copy of ``model`` for inference with every (conv or linear, batch norm) pair folded into one layer.

    Only directly adjacent pairs are folded (batch norm after the nonlinearity
    cannot be folded into the layer before it). Nested ``nn.Sequential`` blocks
    are handled; the copy is in evaluation mode.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU()).eval()
    >>> [type(m).__name__ for m in fold_sequential(net)]
    ['Conv2d', 'ReLU']
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be an nn.Sequential, got {type(model).__name__}")
    items = list(model.named_children())
    out, i = [], 0
    while i < len(items):
        name, m = items[i]
        nxt = items[i + 1][1] if i + 1 < len(items) else None
        if isinstance(m, nn.Sequential):
            out.append((name, fold_sequential(m)))
        elif nxt is not None and isinstance(nxt, nn.modules.batchnorm._BatchNorm) and any(
                isinstance(m, a) and type(nxt) is b for a, b in _PAIRS) and nxt.running_mean is not None:
            out.append((name, fold_batch_norm(m, nxt)))
            i += 1                                   # the batch norm is gone
        else:
            out.append((name, copy.deepcopy(m)))
        i += 1
    return nn.Sequential(OrderedDict(out)).eval()


# ----------------------------------------------------------------------------------------------
# the chapter's experiments

def small_convnet(*, batch_norm: bool = False, placement: str = "before", conv_bias: Optional[bool] = None,
                  dropout: float = 0.0, width: int = 16, seed: Optional[int] = None) -> nn.Sequential:
    """A small MNIST network for batch-norm experiments, (N, 1, 28, 28) -> (N, 10) logits.

    Three 3 x 3 "same" convolutions with ``width``, ``2 * width`` and ``2 * width``
    maps (28 -> 14 -> 7 by 2 x 2 max pooling after the first two), each followed
    by a ReLU (and batch norm if asked), then a linear layer from the flattened
    2 * width x 7 x 7 block to 10 logits. Cheap enough to train many times on two
    CPU cores.

    Parameters
    ----------
    batch_norm : bool
        A BatchNorm2d after every convolution.
    placement : "before" or "after"
        Batch norm between the convolution and the ReLU (Ioffe and Szegedy,
        Buduma) or after the ReLU.
    conv_bias : bool, optional
        Whether convolutions have a bias. Default: not with batch norm placed
        before the ReLU (where batch norm's shift makes it redundant), yes otherwise.
    dropout : float in [0, 1)
        Drop probability before the linear layer.
    width : int
    seed : int, optional
        Same seed, same initial weights (torch's default initialisation).

    Examples
    --------
    >>> net = small_convnet(batch_norm=True, seed=0)
    >>> tuple(net(torch.zeros(4, 1, 28, 28)).shape), [type(m).__name__ for m in net][:3]
    ((4, 10), ['Conv2d', 'BatchNorm2d', 'ReLU'])
    """
    if not isinstance(batch_norm, bool):
        raise TypeError(f"batch_norm must be True or False, got {batch_norm!r}")
    if placement not in ("before", "after"):
        raise ValueError(f"placement must be 'before' or 'after' (the ReLU), got placement={placement!r}")
    if conv_bias is None:
        conv_bias = not (batch_norm and placement == "before")
    if not isinstance(conv_bias, bool):
        raise TypeError(f"conv_bias must be True, False or None, got {conv_bias!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be a probability in [0, 1), got dropout={dropout!r}")
    width = check_int("width", width, minimum=1)
    chans = [1, width, 2 * width, 2 * width]
    gen_state = torch.random.get_rng_state()
    if seed is not None:
        torch.manual_seed(check_int("seed", seed, minimum=0))
    try:
        layers = []
        for i in range(3):
            layers.append((f"conv{i + 1}", nn.Conv2d(chans[i], chans[i + 1], 3, padding=1, bias=conv_bias)))
            block = [(f"bn{i + 1}", nn.BatchNorm2d(chans[i + 1]))] if batch_norm else []
            relu = [(f"relu{i + 1}", nn.ReLU())]
            layers += block + relu if placement == "before" else relu + block
            if i < 2:
                layers.append((f"pool{i + 1}", nn.MaxPool2d(2)))
        layers.append(("flatten", nn.Flatten()))
        if dropout > 0:
            layers.append(("drop", nn.Dropout(float(dropout))))
        layers.append(("fc", nn.Linear(chans[-1] * 7 * 7, 10)))
        return nn.Sequential(OrderedDict(layers))
    finally:
        if seed is not None:
            torch.random.set_rng_state(gen_state)


class StepChunks:
    """Cut an endless stream of mini-batches into chunks of ``steps``, one chunk per "epoch".

    :func:`course_lib.training.fit` validates after every epoch; wrapped in
    ``StepChunks``, it validates every ``steps`` mini-batches instead, which is
    what counting mini-batches to a threshold accuracy needs. The wrapped
    loader is restarted (reshuffled) whenever it runs out.

    Examples
    --------
    >>> from course_lib.training import TensorLoader
    >>> x, y = torch.zeros(10, 1, 2, 2), torch.arange(10)
    >>> chunks = StepChunks(TensorLoader(x, y, 4, device="cpu"), steps=4)
    >>> [[len(yb) for _, yb in chunks] for _ in range(2)]          # 3 batches per pass over 10 images
    [[4, 4, 2, 4], [4, 2, 4, 4]]
    """

    def __init__(self, loader: Iterable, steps: int):
        if not hasattr(loader, "__iter__"):
            raise TypeError(f"loader must be iterable (e.g. a TensorLoader), got {type(loader).__name__}")
        self.loader = loader
        self.steps = check_int("steps", steps, minimum=1)
        self._it: Optional[Iterator] = None

    def __len__(self) -> int:
        return self.steps

    def _next(self):
        for _ in range(2):
            if self._it is None:
                self._it = iter(self.loader)
            try:
                return next(self._it)
            except StopIteration:
                self._it = None
        raise ValueError("the wrapped loader yields no batches")

    def __iter__(self):
        for _ in range(self.steps):
            yield self._next()


def steps_to_reach(history, accuracy: float) -> Optional[int]:
    """The first mini-batch count at which the validation accuracy reached ``accuracy``, or None.

    ``history`` is a :class:`course_lib.training.History` (or its ``as_dict()``)
    with ``steps`` and ``val_top1`` (error fractions); the accuracy is checked only
    where it was measured, so the answer is exact up to the validation interval.

    Examples
    --------
    >>> steps_to_reach({"steps": [100, 200, 300], "val_top1": [0.2, 0.08, 0.05]}, 0.9)
    200
    >>> steps_to_reach({"steps": [100], "val_top1": [0.2]}, 0.9) is None
    True
    """
    h = history.as_dict() if hasattr(history, "as_dict") else history
    try:
        steps, errors = list(h["steps"]), list(h["val_top1"])
    except (KeyError, TypeError):
        raise TypeError("history must have 'steps' and 'val_top1' (a History from fit with a val_loader)") \
            from None
    if len(steps) != len(errors):
        raise ValueError(f"history has {len(steps)} step counts but {len(errors)} validation errors; pass "
                         f"the History of a run with a val_loader")
    accuracy = _check_number("accuracy", accuracy, low=0.0, high=1.0)
    for s, e in zip(steps, errors):
        if 1.0 - e >= accuracy - 1e-12:
            return int(s)
    return None
