"""Checks for the exercises of the chapter "Convolutions beyond images" (1D sequences, 3D videos).

They know the usual mistakes: the flipped kernel (``np.convolve``), a "same" or
"full" output instead of "valid", a causal convolution padded on the right (it
reads the future) or on both sides (centred), a forgotten dilation, a receptive
field without the (k - 1) factor, a 3D layer counted without its bias or as a
2D layer, and an image read column by column instead of row by row.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..conv_nd import causal_conv1d, causal_receptive_field, conv_nd_macs, conv_nd_params
from ..sequences import image_rows_as_sequence
from .core import Case, Result, check_function, check_value, compare_arrays, exercise_check, named_mistakes, passed

__all__ = ["check_conv1d_loops", "check_causal_dilated", "check_causal_field_prediction", "check_conv3d_costs",
           "check_rows_as_sequence", "LIBRARY_CONV1D"]

#: Library convolutions a "write it from loops" exercise must not call.
LIBRARY_CONV1D = ["numpy.correlate", "numpy.convolve", "scipy.signal.correlate", "scipy.signal.convolve",
                  "scipy.signal.correlate2d", "scipy.ndimage.correlate1d", "scipy.ndimage.convolve1d",
                  "course_lib.conv_nd.conv1d", "course_lib.conv_nd.conv1d_naive",
                  "course_lib.conv_nd.causal_conv1d", "course_lib.conv_nd.causal_conv1d_naive",
                  "torch.nn.functional.conv1d", "torch.conv1d"]


def _valid(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    k = len(w)
    return np.array([float(np.dot(x[t:t + k], w)) for t in range(len(x) - k + 1)])


@exercise_check("student_fn", title="Exercise 17.1: a 1D convolution from loops (S17.1)")
def check_conv1d_loops(student_fn: Any, *,
                       exercise: str = "Exercise 17.1: a 1D convolution from loops (S17.1)") -> Result:
    """Check ``student_fn(x, w)``: valid 1D cross-correlation of a signal (L,) with a kernel (k,), length L - k + 1.

    Examples
    --------
    >>> def mine(x, w):
    ...     return [sum(x[t + u] * w[u] for u in range(len(w))) for t in range(len(x) - len(w) + 1)]
    >>> check_conv1d_loops(mine).status
    'pass'
    >>> "flipped" in str(check_conv1d_loops(lambda x, w: mine(x, w[::-1])))
    True
    """
    rng = np.random.default_rng(171)
    inputs = [("a bump detector on a short signal", np.array([0., 0., 1., 2., 1., 0., 0.]), np.array([1., 2., 1.])),
              ("an asymmetric edge kernel", np.array([0., 0., 0., 1., 1., 1.]), np.array([-1., 0., 2.])),
              ("kernel as long as the signal: one output", np.round(rng.standard_normal(4), 2), np.round(rng.standard_normal(4), 2)),
              ("a 1-tap kernel scales the signal", np.round(rng.standard_normal(5), 2), np.array([2.5])),
              ("a long noisy signal, 5-tap kernel", np.round(rng.standard_normal(40), 2), np.round(rng.standard_normal(5), 2))]
    cases = [Case(name, (x, w), expected=_valid(x, w)) for name, x, w in inputs]
    info = {c.expected.tobytes(): (x, w) for c, (_, x, w) in zip(cases, inputs)}

    def variants(expected):
        xw = info.get(np.asarray(expected).tobytes())
        if xw is None:
            return
        x, w = xw
        yield _valid(x, w[::-1]), ("this is the *convolution* of the textbook (np.convolve): the kernel is "
                                   "flipped. Deep-learning layers slide the kernel as it is.")
        k = len(w)
        xp = np.pad(x, (k // 2, (k - 1) // 2))
        yield _valid(xp, w), "this is a 'same' output (zero padding); the task asks for the valid part only, L - k + 1 values."
        yield _valid(np.pad(x, (k - 1, k - 1)), w), "this is the 'full' output; the task asks for L - k + 1 values."
        if len(expected) > 1:
            yield expected[:-1], "the last position is missing: a k-tap kernel fits at L - k + 1 positions."

    return check_function(exercise, student_fn, cases, compare=named_mistakes(variants),
                          hints=["output t is the dot product of the kernel with the k input values starting at t",
                                 "the kernel fits at positions t = 0, 1, ..., L - k"],
                          forbid=LIBRARY_CONV1D, forbid_reason="the exercise is the sliding dot product itself")


@exercise_check("student_fn", title="Exercise 17.2: a dilated causal convolution (S17.1)")
def check_causal_dilated(student_fn: Any, *,
                         exercise: str = "Exercise 17.2: a dilated causal convolution (S17.1)") -> Result:
    """Check ``student_fn(x, w, dilation)``: causal dilated 1D convolution of x (L,), w (k,); output length L.

    ``out[t] = sum_u w[u] * x[t - dilation * (k - 1 - u)]``, reading zero before the start.

    Examples
    --------
    >>> def mine(x, w, dilation):
    ...     k, pad = len(w), dilation * (len(w) - 1)
    ...     xp = np.concatenate([np.zeros(pad), x])
    ...     return np.array([sum(w[u] * xp[t + u * dilation] for u in range(k)) for t in range(len(x))])
    >>> check_causal_dilated(mine).status
    'pass'
    >>> "future" in str(check_causal_dilated(lambda x, w, dilation: mine(x[::-1], w[::-1], dilation)[::-1]))
    True
    """
    rng = np.random.default_rng(172)
    inputs = [("an impulse at t = 0, k = 2, dilation 1", np.eye(6)[0], np.array([1., 10.]), 1),
              ("an impulse at t = 2, k = 2, dilation 3", np.eye(9)[2], np.array([1., 10.]), 3),
              ("a ramp, k = 3, dilation 2", np.arange(1., 11.), np.array([1., -2., 4.]), 2),
              ("noise, k = 3, dilation 4", np.round(rng.standard_normal(20), 2), np.round(rng.standard_normal(3), 2), 4),
              ("a field longer than the signal (k = 2, dilation 8, L = 5)", np.arange(1., 6.), np.array([3., 1.]), 8)]

    def truth(x, w, d):
        return causal_conv1d(x[None, None], w[None, None], dilation=d)[0, 0]

    cases = [Case(name, (x, w, d), expected=truth(x, w, d)) for name, x, w, d in inputs]
    info = {c.expected.tobytes(): (x, w, d) for c, (_, x, w, d) in zip(cases, inputs)}

    def variants(expected):
        xwd = info.get(np.asarray(expected).tobytes())
        if xwd is None:
            return
        x, w, d = xwd
        L, k = len(x), len(w)
        yield truth(x[::-1], w[::-1], d)[::-1], ("the output reads the *future*: the zeros went on the right. "
                                                 "A causal layer pads d (k - 1) zeros on the left only.")
        yield truth(x, w, 1), "the dilation is ignored: tap u must reach back u * dilation steps, not u."
        yield truth(x, w[::-1], d), "the kernel is reversed: the last tap, w[k - 1], multiplies x[t] itself."
        half = d * (k - 1) // 2
        xp = np.pad(x, (half, d * (k - 1) - half))
        centred = np.array([sum(w[u] * xp[t + u * d] for u in range(k)) for t in range(L)])
        yield centred, "the padding is split over both ends (a centred window): a causal window ends at t."

    return check_function(exercise, student_fn, cases, compare=named_mistakes(variants),
                          hints=["output t may read x[t] and earlier values only; values before the start count as 0",
                                 "with dilation d the taps sit d steps apart: t, t - d, t - 2d, ..."],
                          forbid=LIBRARY_CONV1D, forbid_reason="the exercise is to build the causal window yourself")


@exercise_check("answer", context=lambda: dict(kernel_size=3, dilations=(1, 2, 4, 8)),
                title="Exercise 17.3: predict a receptive field (S17.1)")
def check_causal_field_prediction(answer: Any, *, kernel_size: int = 3, dilations=(1, 2, 4, 8),
                                  exercise: str = "Exercise 17.3: predict a receptive field (S17.1)") -> Result:
    """Check a predicted receptive field of stacked causal layers: ``1 + (k - 1) * sum(dilations)``.

    Examples
    --------
    >>> check_causal_field_prediction(31).status
    'pass'
    >>> "(k - 1)" in str(check_causal_field_prediction(16))
    True
    """
    k, ds = kernel_size, list(dilations)
    truth = causal_receptive_field(k, ds)
    mistakes = [(1 + sum(ds), "that adds the dilations but forgets that each layer adds (k - 1) times its dilation"),
                (1 + (k - 1) * len(ds), "that ignores the dilations: each layer reaches (k - 1) * d steps further back"),
                (k * sum(ds), "the field starts at 1 (the current step) and each layer adds (k - 1) * d"),
                (int(np.prod(ds)) * k, "the dilations add up along the stack; they are not multiplied"),
                ((k - 1) * sum(ds), "off by one: count the current step itself too")]
    return check_value(exercise, answer, truth, what="the receptive field", mistakes=mistakes,
                       hint="follow the last output back one layer at a time: how many steps back does each layer reach?")


@exercise_check("params", "macs", context=lambda: dict(),
                title="Exercise 17.4: what a 3D layer costs (S17.1)")
def check_conv3d_costs(params: Any, macs: Any, *, in_channels: int = 16, out_channels: int = 32,
                       kernel_size=(3, 3, 3), output_shape=(8, 14, 14),
                       exercise: str = "Exercise 17.4: what a 3D layer costs (S17.1)") -> Result:
    """Check predicted parameters (with biases) and multiply-adds of one Conv3d layer for one video.

    Examples
    --------
    >>> check_conv3d_costs(13856, 21676032).status
    'pass'
    >>> "bias" in str(check_conv3d_costs(13824, 21676032))
    True
    """
    cin, cout, k, out = in_channels, out_channels, tuple(kernel_size), tuple(output_shape)
    p_true = conv_nd_params(cin, cout, k)
    m_true = conv_nd_macs(cin, cout, k, out)
    k2 = k[1:]
    a = check_value(exercise + " parameters", params, p_true, what="the parameter count",
                    mistakes=[(conv_nd_params(cin, cout, k, bias=False), "the biases are missing (one per output channel)"),
                              (conv_nd_params(cin, cout, k2), "that is a 2D layer: a 3D kernel also spans kT frames"),
                              (int(np.prod(k)) * cout + cout, "each filter has kT x kH x kW weights *per input channel*"),
                              (p_true * int(np.prod(out)), "parameters are shared over all positions: do not multiply "
                                                           "by the output size")],
                    hint="one filter: kT x kH x kW x C_in weights and one bias; there are C_out filters")
    b = check_value(exercise + " multiply-adds", macs, m_true, what="the multiply-add count",
                    mistakes=[(m_true + cout * int(np.prod(out)), "biases are additions only: do not count them"),
                              (conv_nd_macs(cin, cout, k2, out[1:]) * out[0], "that counts a 2D kernel: a 3D kernel also spans kT frames"),
                              (conv_nd_params(cin, cout, k, bias=False), "that is the number of weights; every weight is "
                                                                         "used once per output position"),
                              (m_true // cout, "every one of the C_out output channels needs its own multiply-adds")],
                    hint="each output value needs kT x kH x kW x C_in multiply-adds; count the output values")
    if a.passed and b.passed:
        return passed(exercise, "both counts are right.")
    return a if not a.passed else b


@exercise_check("student_fn", title="Exercise 17.5: an image as a sequence of rows (S17.1)")
def check_rows_as_sequence(student_fn: Any, *,
                           exercise: str = "Exercise 17.5: an image as a sequence of rows (S17.1)") -> Result:
    """Check ``student_fn(images)``: (N, 1, H, W) -> (N, W, H), time step t = row t, channels = the W pixels.

    Examples
    --------
    >>> check_rows_as_sequence(lambda im: im[:, 0].transpose(0, 2, 1)).status
    'pass'
    >>> "column by column" in str(check_rows_as_sequence(lambda im: im[:, 0]))
    True
    """
    rng = np.random.default_rng(175)
    inputs = [("one 2 x 3 image", np.arange(6.).reshape(1, 1, 2, 3)),
              ("a batch of 3 images, 4 x 5 (not square)", rng.integers(0, 256, (3, 1, 4, 5)).astype(np.float64)),
              ("an MNIST-sized batch of 2", rng.integers(0, 256, (2, 1, 28, 28)).astype(np.float64))]
    cases = [Case(name, (x,), expected=image_rows_as_sequence(torch.from_numpy(x)).numpy()) for name, x in inputs]
    info = {c.expected.tobytes(): x for c, (_, x) in zip(cases, inputs)}

    def variants(expected):
        x = info.get(np.asarray(expected).tobytes())
        if x is None:
            return
        yield x[:, 0], ("this reads the image column by column: axis 1 (the channels) holds the rows and the last "
                        "axis (time) runs along a row. Time should run down the rows.")
        yield x[:, 0].reshape(x.shape[0], x.shape[3], x.shape[2]), ("a reshape keeps the memory order and so mixes "
                                                                    "rows; swap the two axes instead.")
        yield x.reshape(x.shape[0], 1, -1), "this is one channel with H x W time steps (pixel by pixel), not row by row."

    return check_function(exercise, student_fn, cases, compare=named_mistakes(variants),
                          hints=["drop the channel axis, then make the last axis run over the rows",
                                 "for Conv1d the layout is (N, channels, time): channels = the W pixels of a row"],
                          forbid=["course_lib.sequences.image_rows_as_sequence"],
                          forbid_reason="the exercise is the reordering itself")
