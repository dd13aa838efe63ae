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
from typing import Iterable, List, Sequence

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
            raise ValueError(f"layer {i} ({layer.kind} {layer.kernel_size}): {err}") from None
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
