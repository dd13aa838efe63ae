"""Receptive-field bookkeeping through a stack of conv and pooling layers.

For each layer we track three numbers along one axis:

* ``size`` r: how many input pixels one unit sees,
* ``jump`` j: how far apart (in input pixels) neighbouring units' fields start,
* ``start``: the input coordinate where unit 0's field starts (negative
  when it reaches into the padding).

A layer with kernel k, stride s, padding p, dilation d updates them as
``r += d(k-1) j``, ``start -= p j``, ``j *= s``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from ._checks import check_int
from .shapes import conv_output_size


@dataclass(frozen=True)
class Layer:
    """One conv or pooling layer along one axis (square kernels).

    Examples
    --------
    >>> Layer("conv", 5)
    Layer(kind='conv', kernel_size=5, stride=1, padding=0, dilation=1, ceil_mode=False)
    """
    kind: str
    kernel_size: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    ceil_mode: bool = False

    def __post_init__(self):
        if self.kind not in ("conv", "pool"):
            raise ValueError(f"kind must be 'conv' or 'pool', got {self.kind!r}")
        check_int("kernel_size", self.kernel_size, minimum=1)
        check_int("stride", self.stride, minimum=1)
        check_int("padding", self.padding, minimum=0)
        check_int("dilation", self.dilation, minimum=1)
        if not isinstance(self.ceil_mode, bool):
            raise TypeError(f"ceil_mode must be True or False, got {self.ceil_mode!r}")


@dataclass(frozen=True)
class FieldInfo:
    """Size bookkeeping after one layer."""
    name: str
    output_size: int
    size: int
    jump: int
    start: int

    def span(self, index: int) -> tuple[int, int]:
        """Input pixels [first, last] (inclusive) seen by output unit ``index``."""
        first = self.start + index * self.jump
        return first, first + self.size - 1

    def units_covering(self, input_size: int) -> List[int]:
        """Indices of the units (along this axis) whose field contains every input pixel 0..n-1.

        A field larger than the image is not enough: it must also be placed over it.

        Examples
        --------
        >>> info = receptive_fields([Layer("conv", 5), Layer("pool", 2, stride=2)], 8)[-1]
        >>> info.size, info.units_covering(8), info.units_covering(6)
        (6, [], [0])
        """
        n = check_int("input_size", input_size, minimum=1)
        return [i for i in range(self.output_size) if self.span(i)[0] <= 0 and self.span(i)[1] >= n - 1]


def receptive_fields(layers: Sequence[Layer], input_size: int) -> List[FieldInfo]:
    """Track output size and receptive field through ``layers``.

    Parameters
    ----------
    layers : sequence of Layer
        The stack, input first.
    input_size : int
        Input height (or width) in pixels.

    Returns
    -------
    list of FieldInfo
        One entry per layer, each with ``output_size``, ``size`` (receptive
        field in input pixels), ``jump`` and ``start``.

    Examples
    --------
    >>> info = receptive_fields([Layer("conv", 5), Layer("pool", 2, stride=2)], 28)
    >>> [(i.output_size, i.size) for i in info]
    [(24, 5), (12, 6)]
    """
    n = check_int("input_size", input_size, minimum=1)
    layers = list(layers)
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"layers[{i}] must be a Layer, got {type(layer).__name__}; "
                            f"build it as Layer('conv', 3, stride=1, padding=1)")
    size, jump, start = 1, 1, 0
    out: List[FieldInfo] = []
    for i, layer in enumerate(layers):
        try:
            n = conv_output_size(n, layer.kernel_size, layer.stride, layer.padding,
                                 layer.dilation, ceil_mode=layer.ceil_mode)
        except ValueError as err:
            # layers count from 1, like the names in the result (conv1, pool2, ...)
            raise ValueError(f"layer {i + 1} ({layer.kind} {layer.kernel_size}): {err}") from None
        start -= layer.padding * jump
        size += layer.dilation * (layer.kernel_size - 1) * jump
        jump *= layer.stride
        out.append(FieldInfo(f"{layer.kind}{i + 1}", n, size, jump, start))
    return out


def stack_receptive_field(num_layers: int, kernel_size: int) -> int:
    """Receptive field of ``L`` stride-1 conv layers of size k: ``1 + L(k - 1)``.

    Examples
    --------
    >>> stack_receptive_field(3, 3)
    7
    """
    L = check_int("num_layers", num_layers, minimum=0)
    k = check_int("kernel_size", kernel_size, minimum=1)
    return 1 + L * (k - 1)


def probe_model(layers: Sequence[Layer]):
    """The stack as a one-channel torch model (float64) whose gradients reveal receptive fields.

    Convolutions get all-ones kernels and no bias; pooling layers become
    *average* pooling with the same window, so every pixel inside a unit's field
    gets a positive gradient (max pooling would route the gradient to one pixel).

    Examples
    --------
    >>> probe_model([Layer("conv", 5), Layer("pool", 2, stride=2)])
    Sequential(
      (0): Conv2d(1, 1, kernel_size=(5, 5), stride=(1, 1), bias=False)
      (1): AvgPool2d(kernel_size=2, stride=2, padding=0)
    )
    """
    import torch
    from torch import nn
    layers = list(layers)
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"layers[{i}] must be a Layer, got {type(layer).__name__}; "
                            f"build it as Layer('conv', 3, stride=1, padding=1)")
    modules = []
    for layer in layers:
        if layer.kind == "conv":
            conv = nn.Conv2d(1, 1, layer.kernel_size, layer.stride, layer.padding, layer.dilation,
                             bias=False).double()
            with torch.no_grad():
                conv.weight.fill_(1.0)
            conv.requires_grad_(False)
            modules.append(conv)
        else:
            if layer.dilation != 1:
                raise ValueError("pooling layers with dilation != 1 have no average-pooling probe; "
                                 "use dilation=1 for pool layers")
            modules.append(nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding,
                                        ceil_mode=layer.ceil_mode))
    return nn.Sequential(*modules)


class MeasuredField(NamedTuple):
    """A receptive field measured by autograd, see :func:`measured_receptive_field`."""

    gradient: np.ndarray            #: (H, W): d(unit)/d(pixel), > 0 exactly inside the field
    size: Tuple[int, int]           #: (rows, cols) of the field's bounding box inside the image
    rows: Tuple[int, int]           #: first and last input row with a non-zero gradient
    cols: Tuple[int, int]           #: first and last input column with a non-zero gradient
    unit: Tuple[int, int]           #: which output unit (row, col) was probed


def measured_receptive_field(layers: Sequence[Layer], input_size: int,
                             unit: Optional[Tuple[int, int]] = None, *, seed: int = 0) -> MeasuredField:
    """Measure a unit's receptive field: which input pixels change its value (torch autograd).

    The stack (:func:`probe_model`) runs on a random positive image of
    ``input_size`` x ``input_size``; the gradient of one output unit with respect
    to every pixel is non-zero exactly on the pixels it depends on. Parts of the
    field that fall into the padding are not pixels, so near the border the
    measured size can be smaller than :func:`receptive_fields` says.

    Parameters
    ----------
    layers : sequence of Layer
    input_size : int
    unit : (int, int), optional
        Output unit (row, col); default the centre of the last map.
    seed : int
        Seed of the random input (any positive input gives the same support).

    Returns
    -------
    MeasuredField

    Examples
    --------
    >>> m = measured_receptive_field([Layer("conv", 3)] * 3, 28)
    >>> m.size, m.unit
    ((7, 7), (11, 11))
    """
    import torch
    n = check_int("input_size", input_size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    info = receptive_fields(layers, n)          # checks the layers and that they fit
    if not info:
        raise ValueError("layers must hold at least one Layer")
    m = info[-1].output_size
    if unit is None:
        unit = (m // 2, m // 2)
    if (not isinstance(unit, (tuple, list)) or len(unit) != 2
            or not all(isinstance(u, (int, np.integer)) and not isinstance(u, bool) for u in unit)):
        raise TypeError(f"unit must be a pair (row, col) of ints, got {unit!r}")
    if not all(0 <= u < m for u in unit):
        raise ValueError(f"unit must lie in the {m} x {m} output, got unit={tuple(unit)}; use 0..{m - 1}")
    gen = torch.Generator().manual_seed(seed)
    x = (torch.rand(1, 1, n, n, dtype=torch.float64, generator=gen) + 0.5).requires_grad_(True)
    y = probe_model(layers)(x)
    y[0, 0, int(unit[0]), int(unit[1])].backward()
    grad = x.grad[0, 0].numpy().copy()
    rows = np.flatnonzero(grad.sum(axis=1))
    cols = np.flatnonzero(grad.sum(axis=0))
    return MeasuredField(grad, (int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)),
                         (int(rows[0]), int(rows[-1])), (int(cols[0]), int(cols[-1])),
                         (int(unit[0]), int(unit[1])))


def field_table(named_layers: Sequence[Tuple[str, Layer]], input_size: int, *,
                title: Optional[str] = None) -> str:
    """A text table of output size, receptive field, jump and start after each layer.

    Parameters
    ----------
    named_layers : sequence of (str, Layer)
        A display name per layer (e.g. "conv 5x5x1x20").
    input_size : int
    title : str, optional
        A first line.

    Returns
    -------
    str
        Print it.

    Examples
    --------
    >>> print(field_table([("conv 5x5", Layer("conv", 5)), ("max pool 2x2/2", Layer("pool", 2, stride=2))], 28))
    layer                      output  field  jump  start
    input                          28      1     1      0
    conv 5x5                       24      5     1      0
    max pool 2x2/2                 12      6     2      0
    """
    named_layers = list(named_layers)
    for i, item in enumerate(named_layers):
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)
                and isinstance(item[1], Layer)):
            raise TypeError(f"named_layers[{i}] must be a pair (name, Layer), got {item!r}")
    n = check_int("input_size", input_size, minimum=1)
    infos = receptive_fields([layer for _, layer in named_layers], n)
    lines = [] if title is None else [str(title)]
    lines.append(f"{'layer':<26}{'output':>7}{'field':>7}{'jump':>6}{'start':>7}")
    lines.append(f"{'input':<26}{n:>7}{1:>7}{1:>6}{0:>7}")
    for (name, _), info in zip(named_layers, infos):
        lines.append(f"{name:<26}{info.output_size:>7}{info.size:>7}{info.jump:>6}{info.start:>7}")
    return "\n".join(lines)
