"""The source texts' networks, one builder per network, like ``torchvision.models``.

Every builder returns a fresh ``nn.Module`` in training mode, takes an optional
``seed`` (same seed, same initial weights) and documents its source and its
parameter count. The networks take NCHW float images; what a trained network
needs on top (per-pixel whitening, padding, crops) is added by
:mod:`course_lib.trained`, so the builders stay exactly what the sources
describe.

========================  =========================================  ===========
builder                   source                                     parameters
========================  =========================================  ===========
``forsyth_mnist()``       Forsyth, *Applied ML*, fig. 17.9           431,080
``forsyth_cifar()``       Forsyth, fig. 17.15 (as it really fits)    145,578
``lenet5()``              LeCun et al. 1998 (Table I connectivity)   60,840
``lenet5("dense_c3")``    Grosse, CSC321 lecture 5, Table 1          61,696
``buduma_mnist()``        Buduma, *Fundamentals of DL*, ch. 5        3,274,634
``buduma_cifar()``        Buduma, ch. 5 (no batch norm)              1,068,298
``lenet1989()``           LeCun et al. 1989 (zip codes, USPS)        9,760
``alexnet2012()``         Krizhevsky et al. 2012 (two GPUs)          60,965,224
========================  =========================================  ===========
"""
from __future__ import annotations

import math
from collections import OrderedDict
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_int

__all__ = ["forsyth_mnist", "forsyth_cifar", "lenet5", "buduma_mnist", "buduma_cifar",
           "LECUN_C3_TABLE", "PartialConv2d", "Subsampling2d", "PaddedPool2d", "ScaledTanh",
           "he_init_", "MODEL_BUILDERS", "UntiedConv2d", "LECUN_1989_H2_TABLE", "lenet1989",
           "alexnet2012"]


# ----------------------------------------------------------------------------------------------
# building blocks the sources need and torch does not have

#: LeCun et al. 1998, Table I: which S2 maps (0-5) each of the 16 C3 maps reads.
#: Maps 0-5 read three neighbouring maps, 6-11 four neighbouring maps, 12-14 four
#: non-neighbouring maps, and map 15 all six (indices wrap around modulo 6).
LECUN_C3_TABLE: Tuple[Tuple[int, ...], ...] = (
    tuple(tuple(sorted((j + i) % 6 for i in range(3))) for j in range(6))
    + tuple(tuple(sorted((j + i) % 6 for i in range(4))) for j in range(6))
    + ((0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5))
    + ((0, 1, 2, 3, 4, 5),)
)


class PartialConv2d(nn.Module):
    """A convolution in which output map ``j`` reads only the input maps ``table[j]``.

    Only the kernels that exist are parameters (LeCun's C3 has 60 kernels of
    5 x 5 and 16 biases, 1,516 parameters, where a full 6 -> 16 convolution
    would have 2,416). In the forward pass the kernels are scattered into a full
    (C_out, C_in, k, k) weight tensor whose missing entries are zero.

    Parameters
    ----------
    in_channels : int
    table : sequence of sequences of int
        ``table[j]`` lists the input maps of output map ``j``.
    kernel_size : int
    bias : bool

    Examples
    --------
    >>> c3 = PartialConv2d(6, LECUN_C3_TABLE, 5)
    >>> sum(p.numel() for p in c3.parameters()), tuple(c3(torch.zeros(1, 6, 14, 14)).shape)
    (1516, (1, 16, 10, 10))
    """

    def __init__(self, in_channels: int, table: Sequence[Sequence[int]], kernel_size: int,
                 bias: bool = True):
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        if not isinstance(table, (tuple, list)) or len(table) == 0:
            raise TypeError(f"table must be a non-empty sequence of input-map lists, got {table!r}; "
                            f"pass e.g. table=LECUN_C3_TABLE")
        out_idx, in_idx = [], []
        for j, maps in enumerate(table):
            maps = list(maps)
            if not maps or any(not isinstance(m, int) or not 0 <= m < in_channels for m in maps) \
                    or len(set(maps)) != len(maps):
                raise ValueError(f"table[{j}] must list distinct input maps in 0..{in_channels - 1}, "
                                 f"got {maps!r}; fix that row of the table")
            out_idx += [j] * len(maps)
            in_idx += maps
        self.out_channels = len(table)
        self.table = tuple(tuple(m) for m in table)
        self.register_buffer("out_index", torch.tensor(out_idx), persistent=False)
        self.register_buffer("in_index", torch.tensor(in_idx), persistent=False)
        self.weight = nn.Parameter(torch.empty(len(out_idx), kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(self.out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # fan-in of output map j is len(table[j]) * k * k; LeCun draws U(-2.4/F, 2.4/F)
        fan_in = torch.tensor([len(self.table[j]) for j in self.out_index.tolist()],
                              dtype=torch.float32) * self.kernel_size ** 2
        with torch.no_grad():
            bound = (2.4 / fan_in).view(-1, 1, 1)
            self.weight.uniform_(-1, 1).mul_(bound)
            if self.bias is not None:
                per_map = torch.tensor([2.4 / (len(m) * self.kernel_size ** 2) for m in self.table])
                self.bias.uniform_(-1, 1).mul_(per_map)

    def full_weight(self) -> torch.Tensor:
        """The (C_out, C_in, k, k) kernel block, zero where there is no connection."""
        k = self.kernel_size
        w = self.weight.new_zeros(self.out_channels, self.in_channels, k, k)
        return w.index_put((self.out_index, self.in_index), self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.full_weight(), self.bias)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"kernels={len(self.in_index)}, bias={self.bias is not None}")


class Subsampling2d(nn.Module):
    """LeCun's trainable subsampling: the sum of each 2 x 2 block, times a coefficient, plus a bias.

    One coefficient and one bias per map (so 2 * C parameters); the blocks do not
    overlap (stride = kernel size).

    Examples
    --------
    >>> s2 = Subsampling2d(6)
    >>> sum(p.numel() for p in s2.parameters()), tuple(s2(torch.ones(1, 6, 28, 28)).shape)
    (12, (1, 6, 14, 14))
    """

    def __init__(self, channels: int, kernel_size: int = 2):
        super().__init__()
        self.channels = check_int("channels", channels, minimum=1)
        self.kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        # LeCun initialises the coefficient so that the unit starts in the tanh's linear range
        self.weight = nn.Parameter(torch.full((channels,), 1.0 / kernel_size ** 2))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = self.kernel_size
        summed = F.avg_pool2d(x, k) * (k * k)                      # (N, C, H/k, W/k)
        return summed * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return f"{self.channels}, kernel_size={self.kernel_size}"


class PaddedPool2d(nn.Module):
    """Max or average pooling after an asymmetric pad, as MatConvNet's ``pad=[top bottom left right]``.

    Forsyth's CIFAR-10 network attaches one column on the right and one row at the
    bottom before each 3 x 3, stride-2 pool, so that 32 becomes 33 and then 16.
    Max pooling pads with -inf (the pad never wins), average pooling with zeros.

    Examples
    --------
    >>> pool = PaddedPool2d("max", 3, 2, pad=(0, 1, 0, 1))
    >>> tuple(pool(torch.zeros(1, 1, 32, 32)).shape)
    (1, 1, 16, 16)
    """

    def __init__(self, mode: str, kernel_size: int, stride: int,
                 pad: Tuple[int, int, int, int] = (0, 1, 0, 1)):
        super().__init__()
        if mode not in ("max", "avg"):
            raise ValueError(f"mode must be 'max' or 'avg', got mode={mode!r}")
        if not (isinstance(pad, (tuple, list)) and len(pad) == 4
                and all(isinstance(p, int) and p >= 0 for p in pad)):
            raise ValueError(f"pad must be 4 ints >= 0 (top, bottom, left, right), got pad={pad!r}")
        self.mode = mode
        self.kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        self.stride = check_int("stride", stride, minimum=1)
        self.pad = tuple(pad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        top, bottom, left, right = self.pad
        value = float("-inf") if self.mode == "max" else 0.0
        x = F.pad(x, (left, right, top, bottom), value=value)
        pool = F.max_pool2d if self.mode == "max" else F.avg_pool2d
        return pool(x, self.kernel_size, self.stride)

    def extra_repr(self) -> str:
        return f"{self.mode}, kernel_size={self.kernel_size}, stride={self.stride}, pad={self.pad}"


class ScaledTanh(nn.Module):
    """LeCun's squashing function f(a) = A tanh(S a) with A = 1.7159 and S = 2/3 (so f(1) = 1).

    Examples
    --------
    >>> round(float(ScaledTanh()(torch.tensor(1.0))), 4)
    1.0
    """

    A, S = 1.7159, 2.0 / 3.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.A * torch.tanh(self.S * x)


def he_init_(model: nn.Module) -> nn.Module:
    """He initialisation in place: conv and linear weights from N(0, 2 / fan_in), biases 0.

    fan_in is k * k * C_in for a convolution and the input width for a linear
    layer (Buduma, ch. 5, following He et al. 2015).

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> layer = he_init_(nn.Linear(1000, 500))
    >>> round(float(layer.weight.detach().std()) * (1000 / 2) ** 0.5, 1), float(layer.bias.detach().abs().max())
    (1.0, 0.0)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()
            with torch.no_grad():
                m.weight.normal_(0.0, math.sqrt(2.0 / fan_in))
                if m.bias is not None:
                    m.bias.zero_()
    return model


def _named(*layers) -> nn.Sequential:
    return nn.Sequential(OrderedDict(layers))


def _seeded(seed: Optional[int]):
    """A context that seeds torch's global generator for the build, then restores it."""
    if seed is not None:
        check_int("seed", seed, minimum=0)
    return torch.random.fork_rng(devices=[], enabled=seed is not None)


def _build(seed: Optional[int], make):
    with _seeded(seed):
        if seed is not None:
            torch.manual_seed(seed)
        return make()


# ----------------------------------------------------------------------------------------------
# Forsyth

def forsyth_mnist(*, seed: Optional[int] = None, dropout: float = 0.0) -> nn.Sequential:
    """Forsyth's MNIST network (MatConvNet's LeNet example), *Applied ML* fig. 17.9.

    Input (N, 1, 28, 28). Blocks 24 x 24 x 20, 12 x 12 x 20, 8 x 8 x 50,
    4 x 4 x 50, 1 x 1 x 500, 1 x 1 x 10: conv 5 x 5 x 1 x 20, max pool 2,
    conv 5 x 5 x 20 x 50, max pool 2, conv 4 x 4 x 50 x 500, ReLU,
    conv 1 x 1 x 500 x 10 (the "fully connected" layers are convolutions, as in
    MatConvNet). There is no ReLU after the first two convolutions, as in the
    figure. Output: logits (N, 10). 431,080 parameters.

    Parameters
    ----------
    seed : int, optional
    dropout : float
        Drop probability of a dropout layer after each of the first two blocks
        (Forsyth's exercise 17.2 (b)); 0 leaves them out.

    Examples
    --------
    >>> from course_lib.training import count_parameters
    >>> count_parameters(forsyth_mnist())
    431080
    >>> tuple(forsyth_mnist(seed=0)(torch.zeros(2, 1, 28, 28)).shape)
    (2, 10)
    """
    dropout = _check_prob("dropout", dropout)

    def drop(name):
        return [(name, nn.Dropout(dropout))] if dropout > 0 else []

    return _build(seed, lambda: _named(
        ("conv1", nn.Conv2d(1, 20, 5)),            # 28 -> 24
        ("pool1", nn.MaxPool2d(2)),                # 24 -> 12
        *drop("drop1"),
        ("conv2", nn.Conv2d(20, 50, 5)),           # 12 -> 8
        ("pool2", nn.MaxPool2d(2)),                # 8 -> 4
        *drop("drop2"),
        ("conv3", nn.Conv2d(50, 500, 4)),          # 4 -> 1
        ("relu3", nn.ReLU()),
        ("conv4", nn.Conv2d(500, 10, 1)),          # 1 x 1 x 10
        ("flatten", nn.Flatten()),
    ))


def forsyth_cifar(*, seed: Optional[int] = None, dropout: float = 0.0) -> nn.Sequential:
    """Forsyth's CIFAR-10 network (MatConvNet's example), *Applied ML* fig. 17.15, as it really fits.

    Built literally from the figure it fails (see the syllabus, S9.1): every 5 x 5
    convolution needs padding 2, and before each 3 x 3 stride-2 pool the block
    gets one extra column at the right and one row at the bottom (Forsyth's text).
    Input (N, 3, 32, 32); blocks 32-16-16-8-8-4-1:
    conv 5x5x3x32 p2, pad + max pool 3s2, ReLU, conv 5x5x32x32 p2, ReLU,
    pad + avg pool 3s2, conv 5x5x32x64 p2, ReLU, pad + avg pool 3s2,
    conv 4x4x64x64, ReLU, conv 1x1x64x10. Output: logits (N, 10).
    145,578 parameters.

    Parameters
    ----------
    seed : int, optional
    dropout : float
        Drop probability of a dropout layer after the first two ReLUs
        (Forsyth's exercise 17.4 (b)); 0 leaves them out.

    Examples
    --------
    >>> from course_lib.training import count_parameters
    >>> count_parameters(forsyth_cifar())
    145578
    >>> tuple(forsyth_cifar(seed=0)(torch.zeros(2, 3, 32, 32)).shape)
    (2, 10)
    """
    dropout = _check_prob("dropout", dropout)

    def drop(name):
        return [(name, nn.Dropout(dropout))] if dropout > 0 else []

    return _build(seed, lambda: _named(
        ("conv1", nn.Conv2d(3, 32, 5, padding=2)),          # 32
        ("pool1", PaddedPool2d("max", 3, 2)),               # 32 -> 33 -> 16
        ("relu1", nn.ReLU()), *drop("drop1"),
        ("conv2", nn.Conv2d(32, 32, 5, padding=2)),         # 16
        ("relu2", nn.ReLU()), *drop("drop2"),
        ("pool2", PaddedPool2d("avg", 3, 2)),               # 16 -> 17 -> 8
        ("conv3", nn.Conv2d(32, 64, 5, padding=2)),         # 8
        ("relu3", nn.ReLU()),
        ("pool3", PaddedPool2d("avg", 3, 2)),               # 8 -> 9 -> 4
        ("conv4", nn.Conv2d(64, 64, 4)),                    # 4 -> 1: the 64-d feature
        ("relu4", nn.ReLU()),
        ("conv5", nn.Conv2d(64, 10, 1)),
        ("flatten", nn.Flatten()),
    ))


# ----------------------------------------------------------------------------------------------
# LeNet-5

def lenet5(variant: str = "lecun1998", *, seed: Optional[int] = None) -> nn.Sequential:
    """LeNet-5 (LeCun, Bottou, Bengio and Haffner 1998), in two versions.

    Input (N, 1, 32, 32) (LeCun centres the 28 x 28 MNIST digits in a 32 x 32
    field). Layers C1 (6 maps 28 x 28, 5 x 5), S2 (14 x 14), C3 (16 maps
    10 x 10), S4 (5 x 5), C5 (120, a 5 x 5 convolution), F6 (84), output (10).

    ``variant="lecun1998"``: the paper's network. C3 map j reads only the S2 maps
    of :data:`LECUN_C3_TABLE` (the paper's Table I; 1,516 parameters); S2 and S4
    are trainable subsamplings (:class:`Subsampling2d`, one coefficient and one
    bias per map); every layer up to F6 is followed by LeCun's scaled tanh.
    C1 to F6 hold 156 + 12 + 1,516 + 32 + 48,120 + 10,164 = 60,000 trainable
    parameters. LeCun's output layer is 10 Euclidean RBF units whose 84-d
    parameter vectors were drawn by hand and kept fixed; here it is a trainable
    linear layer 84 -> 10 without bias (the same 840 connections), giving logits
    for the cross-entropy loss. With it the network has the paper's 340,908
    connections (bias connections included).

    ``variant="dense_c3"``: the network of Grosse's Table 1 (CSC321 lecture 5):
    every C3 map reads all six S2 maps (a plain 6 -> 16 convolution) and S2/S4 are
    plain 2 x 2 average pooling without parameters.

    Examples
    --------
    >>> from course_lib.training import count_parameters
    >>> count_parameters(lenet5())
    60840
    >>> count_parameters(lenet5()[:-1])      # C1 to F6 (with its tanh), without the output layer
    60000
    >>> count_parameters(lenet5("dense_c3"))
    61696
    >>> [name for name, _ in lenet5().named_children()][:4]
    ['C1', 'C1_act', 'S2', 'S2_act']
    """
    if variant not in ("lecun1998", "dense_c3"):
        raise ValueError(f"variant must be 'lecun1998' or 'dense_c3', got variant={variant!r}")

    def make():
        if variant == "lecun1998":
            act, s2 = ScaledTanh, Subsampling2d(6)
            c3, s4 = PartialConv2d(6, LECUN_C3_TABLE, 5), Subsampling2d(16)
        else:
            act, s2, c3, s4 = nn.Tanh, nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.AvgPool2d(2)
        layers = [("C1", nn.Conv2d(1, 6, 5)), ("C1_act", act()),        # 32 -> 28
                  ("S2", s2)]                                          # 28 -> 14
        if variant == "lecun1998":
            layers.append(("S2_act", act()))
        layers += [("C3", c3), ("C3_act", act()),                        # 14 -> 10
                   ("S4", s4)]                                          # 10 -> 5
        if variant == "lecun1998":
            layers.append(("S4_act", act()))
        layers += [("C5", nn.Conv2d(16, 120, 5)), ("C5_act", act()),     # 5 -> 1
                   ("flatten", nn.Flatten()),
                   ("F6", nn.Linear(120, 84)), ("F6_act", act()),
                   ("output", nn.Linear(84, 10, bias=False))]           # like LeCun's RBF: no bias
        return nn.Sequential(OrderedDict(layers))

    return _build(seed, make)


# ----------------------------------------------------------------------------------------------
# Buduma

def buduma_mnist(*, seed: Optional[int] = None, dropout: float = 0.5) -> nn.Sequential:
    """Buduma's MNIST network, *Fundamentals of Deep Learning* ch. 5, with He initialisation.

    Input (N, 1, 28, 28): conv 5x5x1x32 "same" + ReLU, max pool 2 (28 -> 14),
    conv 5x5x32x64 "same" + ReLU, max pool 2 (14 -> 7), flatten 7 x 7 x 64 = 3,136,
    fully connected 1,024 + ReLU, dropout, fully connected 10 (logits).
    Weights N(0, 2 / fan_in), biases 0. 3,274,634 parameters.

    Buduma writes the dropout as 0.5 "during training and 1 during evaluation":
    TensorFlow's *keep* probability (erratum E17). ``dropout`` here is torch's
    *drop* probability; 0.5 either way.

    Examples
    --------
    >>> from course_lib.training import count_parameters
    >>> count_parameters(buduma_mnist())
    3274634
    >>> tuple(buduma_mnist(seed=0)(torch.zeros(2, 1, 28, 28)).shape)
    (2, 10)
    """
    dropout = _check_prob("dropout", dropout)
    return _build(seed, lambda: he_init_(_named(
        ("conv1", nn.Conv2d(1, 32, 5, padding=2)), ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2)),                                      # 28 -> 14
        ("conv2", nn.Conv2d(32, 64, 5, padding=2)), ("relu2", nn.ReLU()),
        ("pool2", nn.MaxPool2d(2)),                                      # 14 -> 7
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(7 * 7 * 64, 1024)), ("relu3", nn.ReLU()),
        ("drop", nn.Dropout(dropout)),
        ("fc2", nn.Linear(1024, 10)),
    )))


def buduma_cifar(*, batch_norm: bool = False, seed: Optional[int] = None,
                 dropout: Optional[float] = None) -> nn.Sequential:
    """Buduma's CIFAR-10 network, *Fundamentals of Deep Learning* ch. 5, with or without batch norm.

    Input (N, 3, 24, 24) (Buduma trains on 24 x 24 distorted crops): conv 5x5x3x64
    "same" [+ BN] + ReLU, max pool 2 (24 -> 12), conv 5x5x64x64 "same" [+ BN] +
    ReLU, max pool 2 (12 -> 6), flatten 2,304, fully connected 384 [+ BN] + ReLU,
    dropout, fully connected 192 [+ BN] + ReLU, dropout, fully connected 10
    (plain logits: Buduma's code also sends the logits through batch norm and a
    ReLU, erratum E18, which this builder does not copy). He initialisation.
    1,068,298 parameters without batch norm; batch norm adds 1,408 (gamma and
    beta of 64 + 64 + 384 + 192 channels). Like Buduma's code, the layers keep
    their bias before batch norm (redundant there: E18).

    Parameters
    ----------
    batch_norm : bool
    seed : int, optional
    dropout : float, optional
        Drop probability after the two hidden fully connected layers. Default 0.5
        without batch norm and 0 with it (Buduma sets keep_prob = 1 in the batch
        norm version).

    Examples
    --------
    >>> from course_lib.training import count_parameters
    >>> count_parameters(buduma_cifar()), count_parameters(buduma_cifar(batch_norm=True))
    (1068298, 1069706)
    >>> tuple(buduma_cifar(seed=0)(torch.zeros(2, 3, 24, 24)).shape)
    (2, 10)
    """
    if not isinstance(batch_norm, bool):
        raise TypeError(f"batch_norm must be True or False, got {batch_norm!r}")
    if dropout is None:
        dropout = 0.0 if batch_norm else 0.5
    dropout = _check_prob("dropout", dropout)

    def bn(name, kind, c):
        return [(name, kind(c))] if batch_norm else []

    def drop(name):
        return [(name, nn.Dropout(dropout))] if dropout > 0 else []

    return _build(seed, lambda: he_init_(_named(
        ("conv1", nn.Conv2d(3, 64, 5, padding=2)), *bn("bn1", nn.BatchNorm2d, 64), ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2)),                                      # 24 -> 12
        ("conv2", nn.Conv2d(64, 64, 5, padding=2)), *bn("bn2", nn.BatchNorm2d, 64), ("relu2", nn.ReLU()),
        ("pool2", nn.MaxPool2d(2)),                                      # 12 -> 6
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(6 * 6 * 64, 384)), *bn("bn3", nn.BatchNorm1d, 384), ("relu3", nn.ReLU()),
        *drop("drop1"),
        ("fc2", nn.Linear(384, 192)), *bn("bn4", nn.BatchNorm1d, 192), ("relu4", nn.ReLU()),
        *drop("drop2"),
        ("fc3", nn.Linear(192, 10)),
    )))


def _check_prob(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number in [0, 1), got {value!r}; pass e.g. {name}=0.5")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {name}={value}; it is the probability of "
                         f"dropping a unit, e.g. {name}=0.5")
    return float(value)


#: Builder and input shape (C, H, W) of every source network, by name.
MODEL_BUILDERS = {
    "forsyth_mnist": (forsyth_mnist, (1, 28, 28)),
    "forsyth_cifar": (forsyth_cifar, (3, 32, 32)),
    "lenet5": (lenet5, (1, 32, 32)),
    "buduma_mnist": (buduma_mnist, (1, 28, 28)),
    "buduma_cifar": (buduma_cifar, (3, 24, 24)),
}


# ----------------------------------------------------------------------------------------------
# Architectures of the history chapter: LeNet-1989 and the 2012 AlexNet

class UntiedConv2d(nn.Module):
    """A strided convolution with shared kernels but one bias per *unit* (LeCun et al. 1989).

    LeCun's 1989 zip-code network shares the kernel weights across positions but
    gives every unit its own bias ("untied" biases), so the bias has shape
    (C_out, H_out, W_out). With ``table`` output map ``j`` reads only the input
    maps ``table[j]`` (as :class:`PartialConv2d`); without it every map reads all.

    Parameters
    ----------
    in_channels, out_channels : int
        ``out_channels`` must equal ``len(table)`` when a table is given.
    kernel_size, stride : int
    output_size : int
        H_out = W_out (the untied bias needs it at build time).
    table : sequence of sequences of int, optional

    Examples
    --------
    >>> h1 = UntiedConv2d(1, 12, 5, stride=2, output_size=8)
    >>> sum(p.numel() for p in h1.parameters()), tuple(h1(torch.zeros(1, 1, 20, 20)).shape)
    (1068, (1, 12, 8, 8))
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, stride: int = 1,
                 output_size: int, table: Optional[Sequence[Sequence[int]]] = None):
        super().__init__()
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.out_channels = check_int("out_channels", out_channels, minimum=1)
        self.kernel_size = check_int("kernel_size", kernel_size, minimum=1)
        self.stride = check_int("stride", stride, minimum=1)
        self.output_size = check_int("output_size", output_size, minimum=1)
        if table is None:
            table = [list(range(in_channels))] * out_channels
        if not isinstance(table, (tuple, list)) or len(table) != out_channels:
            raise ValueError(f"table must list the input maps of each of the {out_channels} output maps, "
                             f"got {table!r}; pass one list per output map or table=None")
        out_idx, in_idx = [], []
        for j, maps in enumerate(table):
            maps = list(maps)
            if not maps or any(not isinstance(m, int) or not 0 <= m < in_channels for m in maps) \
                    or len(set(maps)) != len(maps):
                raise ValueError(f"table[{j}] must list distinct input maps in 0..{in_channels - 1}, "
                                 f"got {maps!r}; fix that row of the table")
            out_idx += [j] * len(maps)
            in_idx += maps
        self.table = tuple(tuple(m) for m in table)
        self.register_buffer("out_index", torch.tensor(out_idx), persistent=False)
        self.register_buffer("in_index", torch.tensor(in_idx), persistent=False)
        self.weight = nn.Parameter(torch.empty(len(out_idx), kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels, output_size, output_size))
        with torch.no_grad():            # LeCun 1989: U(-2.4/F, 2.4/F), F the fan-in of the unit
            fan_in = self.kernel_size ** 2 * len(self.table[0])
            self.weight.uniform_(-2.4 / fan_in, 2.4 / fan_in)
            self.bias.uniform_(-2.4 / fan_in, 2.4 / fan_in)

    def full_weight(self) -> torch.Tensor:
        """The (C_out, C_in, k, k) kernel block, zero where there is no connection."""
        k = self.kernel_size
        w = self.weight.new_zeros(self.out_channels, self.in_channels, k, k)
        return w.index_put((self.out_index, self.in_index), self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.conv2d(x, self.full_weight(), stride=self.stride)
        if y.shape[-2:] != self.bias.shape[-2:]:
            raise ValueError(f"the output is {tuple(y.shape[-2:])}, but the untied bias was built for "
                             f"output_size={self.output_size}; check the input size")
        return y + self.bias

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, kernels={len(self.in_index)}, untied bias "
                f"{tuple(self.bias.shape)}")


#: LeNet-1989's H2: each of the 12 maps reads 8 of the 12 H1 maps. The paper gives the count, not
#: the table; this one (map j reads maps j, j+1, ..., j+7 modulo 12) is the book's choice.
LECUN_1989_H2_TABLE: Tuple[Tuple[int, ...], ...] = tuple(
    tuple(sorted((j + i) % 12 for i in range(8))) for j in range(12))


def lenet1989(*, seed: Optional[int] = None) -> nn.Sequential:
    """LeCun et al. 1989's zip-code network ("Net-1" of Grosse's Table 2), on 16 x 16 digits.

    Input (N, 1, 16, 16) in [-1, 1] (background -1). H1: 12 maps of 8 x 8, 5 x 5
    kernels with stride 2 on the input padded by 2 with the background value;
    H2: 12 maps of 4 x 4, 5 x 5 kernels with stride 2 on H1 padded by 2, each
    map reading 8 of the 12 H1 maps (:data:`LECUN_1989_H2_TABLE`); H3: 30 units
    fully connected; 10 outputs. Kernels are shared, biases are one per unit
    (:class:`UntiedConv2d`), LeCun's scaled tanh after every hidden layer.
    The paper's counts: 1,256 units (input included), 64,660 connections,
    9,760 independent parameters. Output: logits (N, 10).

    Examples
    --------
    >>> from course_lib.training import count_parameters
    >>> count_parameters(lenet1989())
    9760
    >>> tuple(lenet1989(seed=0)(torch.zeros(2, 1, 16, 16)).shape)
    (2, 10)
    """
    return _build(seed, lambda: _named(
        ("pad1", nn.ConstantPad2d(2, -1.0)),                                   # 16 -> 20
        ("H1", UntiedConv2d(1, 12, 5, stride=2, output_size=8)),               # 20 -> 8
        ("H1_act", ScaledTanh()),
        ("pad2", nn.ZeroPad2d(2)),                                             # 8 -> 12
        ("H2", UntiedConv2d(12, 12, 5, stride=2, output_size=4, table=LECUN_1989_H2_TABLE)),  # 12 -> 4
        ("H2_act", ScaledTanh()),
        ("flatten", nn.Flatten()),
        ("H3", nn.Linear(12 * 4 * 4, 30)), ("H3_act", ScaledTanh()),
        ("output", nn.Linear(30, 10)),
    ))


def alexnet2012(num_classes: int = 1000, *, seed: Optional[int] = None, dropout: float = 0.5) -> nn.Sequential:
    """The AlexNet of Krizhevsky, Sutskever and Hinton (2012), with its two-GPU grouping.

    Input (N, 3, 227, 227): the paper says 224 x 224, but only 227 gives its
    55 x 55 first layer with an 11 x 11, stride-4 kernel and no padding. Layers:
    conv1 96 x 11 x 11 s4 (48 kernels per GPU, both read the whole image), ReLU,
    local response normalisation, max pool 3 s2; conv2 256 x 5 x 5 p2 with
    ``groups=2`` (each GPU's 128 kernels read only its own 48 maps), ReLU, LRN,
    max pool; conv3 384 x 3 x 3 p1 reading all 256 maps (the GPUs talk here);
    conv4 384 and conv5 256, 3 x 3 p1, ``groups=2``; max pool; fully connected
    4,096, 4,096 (dropout before each) and ``num_classes``.
    60,965,224 parameters for 1,000 classes (torchvision's one-GPU
    ``alexnet`` has 64 first-layer kernels and 61,100,840).

    Examples
    --------
    >>> from course_lib.training import count_parameters
    >>> count_parameters(alexnet2012())
    60965224
    >>> alexnet2012().conv2.groups, alexnet2012().conv1.out_channels
    (2, 96)
    """
    check_int("num_classes", num_classes, minimum=1)
    dropout = _check_prob("dropout", dropout)

    def lrn():
        return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)     # the paper's constants

    return _build(seed, lambda: _named(
        ("conv1", nn.Conv2d(3, 96, 11, stride=4)), ("relu1", nn.ReLU(inplace=True)),   # 227 -> 55
        ("norm1", lrn()), ("pool1", nn.MaxPool2d(3, 2)),                                # 55 -> 27
        ("conv2", nn.Conv2d(96, 256, 5, padding=2, groups=2)), ("relu2", nn.ReLU(inplace=True)),
        ("norm2", lrn()), ("pool2", nn.MaxPool2d(3, 2)),                                # 27 -> 13
        ("conv3", nn.Conv2d(256, 384, 3, padding=1)), ("relu3", nn.ReLU(inplace=True)),
        ("conv4", nn.Conv2d(384, 384, 3, padding=1, groups=2)), ("relu4", nn.ReLU(inplace=True)),
        ("conv5", nn.Conv2d(384, 256, 3, padding=1, groups=2)), ("relu5", nn.ReLU(inplace=True)),
        ("pool5", nn.MaxPool2d(3, 2)),                                                  # 13 -> 6
        ("flatten", nn.Flatten()),
        ("drop6", nn.Dropout(dropout)), ("fc6", nn.Linear(256 * 6 * 6, 4096)), ("relu6", nn.ReLU(inplace=True)),
        ("drop7", nn.Dropout(dropout)), ("fc7", nn.Linear(4096, 4096)), ("relu7", nn.ReLU(inplace=True)),
        ("fc8", nn.Linear(4096, num_classes)),
    ))
