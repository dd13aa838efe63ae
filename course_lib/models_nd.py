"""Small 1D and 3D convolutional networks for sequences and videos (chapter 17).

One builder per network, like ``torchvision.models``; each takes an optional
``seed`` (same seed, same initial weights) and gives its parameter count.

=============================  ==============================================  ==========
builder                        what it reads                                   parameters
=============================  ==============================================  ==========
``signal_cnn1d()``             (N, 1, L) signals, 4 pattern classes            4,932
``row_cnn1d()``                (N, 28, 28) images read row by row, 10 digits   30,794
``causal_tcn()``               (N, 28, 28) rows, dilated causal, last step     10,474
``video_cnn3d()``              (N, 1, T, H, W) videos, 4 directions            10,692
``video_cnn3d(temporal=1)``    the same with no kernel extent in time          3,636
``video_cnn2plus1d()``         (2+1)D: k x k in space, then k in time          5,404
=============================  ==============================================  ==========
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_int

__all__ = ["CausalConv1d", "signal_cnn1d", "row_cnn1d", "causal_tcn", "video_cnn3d",
           "video_cnn2plus1d"]


def _seeded(seed: Optional[int], make):
    if seed is None:
        return make()
    seed = check_int("seed", seed, minimum=0)
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        return make()
    finally:
        torch.random.set_rng_state(state)


class CausalConv1d(nn.Conv1d):
    """``nn.Conv1d`` that pads ``dilation * (kernel_size - 1)`` zeros on the left only.

    The output has the input's length, and output t sees inputs up to t only.

    Examples
    --------
    >>> conv = CausalConv1d(1, 1, 2, dilation=4)
    >>> x = torch.zeros(1, 1, 10); x[..., 5] = 1.0
    >>> y = conv(x) - conv(torch.zeros(1, 1, 10))       # the response to one impulse at t = 5
    >>> (y.abs() > 0).nonzero()[:, -1].tolist()          # only t = 5 and t = 5 + 4: never before 5
    [5, 9]
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1,
                 bias: bool = True):
        k = check_int("kernel_size", kernel_size, minimum=1)
        d = check_int("dilation", dilation, minimum=1)
        super().__init__(check_int("in_channels", in_channels, minimum=1),
                         check_int("out_channels", out_channels, minimum=1), k, dilation=d, bias=bias)
        self.left = d * (k - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, (self.left, 0)))


def signal_cnn1d(*, num_classes: int = 4, width: int = 16, seed: Optional[int] = None) -> nn.Sequential:
    """1D CNN for :func:`course_lib.sequences.synthetic_signals` (input (N, 1, L)).

    conv 9 (1 -> w, same padding), ReLU, max pool 2, conv 9 (w -> 2w), ReLU, global max
    pool over time (so a pattern counts wherever it occurs), linear 2w -> classes.
    4,932 parameters with the defaults.

    Examples
    --------
    >>> from course_lib.training import count_parameters
    >>> count_parameters(signal_cnn1d())
    4932
    >>> tuple(signal_cnn1d(seed=0)(torch.zeros(2, 1, 128)).shape)
    (2, 4)
    """
    num_classes = check_int("num_classes", num_classes, minimum=1)
    w = check_int("width", width, minimum=1)
    return _seeded(seed, lambda: nn.Sequential(OrderedDict([
        ("conv1", nn.Conv1d(1, w, 9, padding=4)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool1d(2)),
        ("conv2", nn.Conv1d(w, 2 * w, 9, padding=4)), ("relu2", nn.ReLU()),
        ("gmp", nn.AdaptiveMaxPool1d(1)), ("flatten", nn.Flatten()),
        ("fc", nn.Linear(2 * w, num_classes))])))


def row_cnn1d(*, in_channels: int = 28, num_classes: int = 10, width: int = 64,
              seed: Optional[int] = None) -> nn.Sequential:
    """1D CNN over an image read row by row: input (N, W, H) from ``image_rows_as_sequence``.

    conv 3 (W -> w), ReLU, max pool 2, conv 3 (w -> w), ReLU, max pool 2, conv 3 (w -> w), ReLU,
    global average pool, linear w -> classes (all convolutions "same" padded).
    30,794 parameters with the defaults (28 channels, width 64).

    Examples
    --------
    >>> from course_lib.training import count_parameters
    >>> count_parameters(row_cnn1d())
    30794
    >>> tuple(row_cnn1d(seed=0)(torch.zeros(2, 28, 28)).shape)
    (2, 10)
    """
    c = check_int("in_channels", in_channels, minimum=1)
    num_classes = check_int("num_classes", num_classes, minimum=1)
    w = check_int("width", width, minimum=1)
    return _seeded(seed, lambda: nn.Sequential(OrderedDict([
        ("conv1", nn.Conv1d(c, w, 3, padding=1)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool1d(2)),
        ("conv2", nn.Conv1d(w, w, 3, padding=1)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool1d(2)),
        ("conv3", nn.Conv1d(w, w, 3, padding=1)), ("relu3", nn.ReLU()),
        ("gap", nn.AdaptiveAvgPool1d(1)), ("flatten", nn.Flatten()),
        ("fc", nn.Linear(w, num_classes))])))


class _LastStep(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[..., -1]


def causal_tcn(*, in_channels: int = 28, num_classes: int = 10, width: int = 32, kernel_size: int = 2,
               dilations: Sequence[int] = (1, 2, 4, 8, 16), seed: Optional[int] = None) -> nn.Sequential:
    """A temporal convolutional network: dilated causal convolutions, classify from the last step.

    ``len(dilations)`` layers ``CausalConv1d(k, dilation=d)`` + ReLU, then a 1 x 1 convolution to
    the classes, and the output at the *last* time step only. That step sees
    ``1 + (k - 1) * sum(dilations)`` inputs (:func:`course_lib.conv_nd.causal_receptive_field`):
    32 for the defaults, enough for 28 rows; with dilations all 1 it sees only 6.
    10,474 parameters with the defaults.

    Examples
    --------
    >>> from course_lib.training import count_parameters
    >>> count_parameters(causal_tcn())
    10474
    >>> tuple(causal_tcn(seed=0)(torch.zeros(2, 28, 28)).shape)
    (2, 10)
    """
    c = check_int("in_channels", in_channels, minimum=1)
    num_classes = check_int("num_classes", num_classes, minimum=1)
    w = check_int("width", width, minimum=1)
    k = check_int("kernel_size", kernel_size, minimum=1)
    if isinstance(dilations, (int, str)) or not isinstance(dilations, Sequence) or not dilations:
        raise TypeError(f"dilations must be a non-empty list of ints, e.g. (1, 2, 4, 8), got {dilations!r}")
    ds = [check_int(f"dilations[{i}]", d, minimum=1) for i, d in enumerate(dilations)]

    def make():
        layers = []
        for i, d in enumerate(ds, start=1):
            layers += [(f"conv{i}", CausalConv1d(c if i == 1 else w, w, k, dilation=d)),
                       (f"relu{i}", nn.ReLU())]
        layers += [("head", nn.Conv1d(w, num_classes, 1)), ("last", _LastStep())]
        return nn.Sequential(OrderedDict(layers))
    return _seeded(seed, make)


def video_cnn3d(*, num_classes: int = 4, width: int = 8, temporal: int = 3,
                seed: Optional[int] = None) -> nn.Sequential:
    """3D CNN for (N, 1, T, H, W) videos: kernels ``temporal x 3 x 3``.

    conv (t,3,3) 1 -> w, ReLU, max pool (1,2,2), conv (t,3,3) w -> 2w, ReLU, max pool (1,2,2),
    conv (t,3,3) 2w -> 2w, ReLU, global average pool, linear 2w -> classes ("same" padding).
    ``temporal=1`` gives a frame-by-frame 2D network that cannot compare frames.
    10,692 parameters with the defaults; 3,636 with ``temporal=1``.

    Examples
    --------
    >>> from course_lib.training import count_parameters
    >>> count_parameters(video_cnn3d()), count_parameters(video_cnn3d(temporal=1))
    (10692, 3636)
    >>> tuple(video_cnn3d(seed=0)(torch.zeros(2, 1, 10, 36, 36)).shape)
    (2, 4)
    """
    num_classes = check_int("num_classes", num_classes, minimum=1)
    w = check_int("width", width, minimum=1)
    t = check_int("temporal", temporal, minimum=1)
    if t % 2 == 0:
        raise ValueError(f"temporal must be odd so that 'same' padding is symmetric, got temporal={t}; "
                         f"use 1, 3 or 5")
    k, p = (t, 3, 3), (t // 2, 1, 1)
    return _seeded(seed, lambda: nn.Sequential(OrderedDict([
        ("conv1", nn.Conv3d(1, w, k, padding=p)), ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool3d((1, 2, 2))),
        ("conv2", nn.Conv3d(w, 2 * w, k, padding=p)), ("relu2", nn.ReLU()),
        ("pool2", nn.MaxPool3d((1, 2, 2))),
        ("conv3", nn.Conv3d(2 * w, 2 * w, k, padding=p)), ("relu3", nn.ReLU()),
        ("gap", nn.AdaptiveAvgPool3d(1)), ("flatten", nn.Flatten()),
        ("fc", nn.Linear(2 * w, num_classes))])))


def video_cnn2plus1d(*, num_classes: int = 4, width: int = 8, temporal: int = 3,
                     seed: Optional[int] = None) -> nn.Sequential:
    """(2+1)D version of :func:`video_cnn3d`: each t x 3 x 3 kernel split into 1 x 3 x 3, ReLU, t x 1 x 1.

    The factorisation of Tran et al. (2018, "A closer look at spatiotemporal convolutions"):
    fewer weights per layer (9 C_in C_out + t C_out^2 instead of 9 t C_in C_out) and an extra
    nonlinearity between space and time. 5,404 parameters with the defaults.

    Examples
    --------
    >>> from course_lib.training import count_parameters
    >>> count_parameters(video_cnn2plus1d())
    5404
    """
    num_classes = check_int("num_classes", num_classes, minimum=1)
    w = check_int("width", width, minimum=1)
    t = check_int("temporal", temporal, minimum=1)
    if t % 2 == 0:
        raise ValueError(f"temporal must be odd, got temporal={t}; use 1, 3 or 5")

    def block(i, cin, cout):
        return [(f"conv{i}s", nn.Conv3d(cin, cout, (1, 3, 3), padding=(0, 1, 1))), (f"relu{i}s", nn.ReLU()),
                (f"conv{i}t", nn.Conv3d(cout, cout, (t, 1, 1), padding=(t // 2, 0, 0))), (f"relu{i}t", nn.ReLU())]
    return _seeded(seed, lambda: nn.Sequential(OrderedDict(
        block(1, 1, w) + [("pool1", nn.MaxPool3d((1, 2, 2)))]
        + block(2, w, 2 * w) + [("pool2", nn.MaxPool3d((1, 2, 2)))]
        + block(3, 2 * w, 2 * w)
        + [("gap", nn.AdaptiveAvgPool3d(1)), ("flatten", nn.Flatten()),
           ("fc", nn.Linear(2 * w, num_classes))])))
