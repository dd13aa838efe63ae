"""The receptive-field tracer: edit a stack of conv/pool layers, see what one unit sees.

The sizes and fields come from :func:`course_lib.receptive_field.receptive_fields`
(via :func:`course_lib.widgets._geometry.tracer_state`). Two front ends:
:func:`receptive_field_tracer` (ipywidgets, live kernel) and
:func:`receptive_field_tracer_html` (self-contained HTML/JS for the static book).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import ipywidgets as widgets
from IPython.display import HTML

from .._checks import check_int
from ..receptive_field import FieldInfo, Layer
from ._assets import asset, static_html
from ._geometry import RF_RANGES, TracerState, tracer_state
from ._svg import tracer_svg, tracer_text

__all__ = ["ReceptiveFieldTracer", "receptive_field_tracer", "receptive_field_tracer_html"]

_PARAMS = ("kernel_size", "stride", "padding", "dilation")


def _default_layers() -> List[Layer]:
    return [Layer("conv", 5), Layer("pool", 2, stride=2)]


def _check_args(layers, input_size, unit) -> Tuple[List[Layer], int, Tuple[int, int]]:
    layers = _default_layers() if layers is None else layers
    if isinstance(layers, Layer) or not isinstance(layers, (list, tuple)):
        raise TypeError(f"layers must be a list of Layer, got {type(layers).__name__}; "
                        f"pass e.g. layers=[Layer('conv', 5), Layer('pool', 2, stride=2)]")
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise TypeError(f"layers[{i}] must be a Layer, got {type(layer).__name__}; "
                            f"build it as Layer('conv', 3, stride=1, padding=1)")
        for name in _PARAMS:
            lo, hi = RF_RANGES[name]
            value = getattr(layer, name)
            if not lo <= value <= hi:
                raise ValueError(f"layers[{i}].{name} must be between {lo} and {hi} (the slider's "
                                 f"range), got {name}={value}; pick a value in {lo}..{hi}")
        if layer.kind == "conv" and layer.ceil_mode:
            raise ValueError(f"layers[{i}] is a conv layer with ceil_mode=True; ceil_mode is a "
                             f"pooling option, use Layer('pool', ..., ceil_mode=True)")
    lo, hi = RF_RANGES["input_size"]
    input_size = check_int("input_size", input_size)
    if not lo <= input_size <= hi:
        raise ValueError(f"input_size must be between {lo} and {hi}, got input_size={input_size}; "
                         f"pick a value in {lo}..{hi}")
    if not isinstance(unit, (tuple, list)) or len(unit) != 2:
        raise TypeError(f"unit must be a (row, col) pair, got {unit!r}; pass e.g. unit=(0, 0)")
    unit = (check_int("unit[0]", unit[0], minimum=0), check_int("unit[1]", unit[1], minimum=0))
    return list(layers), input_size, unit


class ReceptiveFieldTracer(widgets.VBox):
    """Live receptive-field tracer (see :func:`receptive_field_tracer`).

    Attributes
    ----------
    controls : dict
        ``input_size``, ``unit_row``, ``unit_col`` (IntSliders), ``add`` (Button) and
        ``layers``: one dict per layer row with ``kind`` (Dropdown), ``kernel_size``,
        ``stride``, ``padding``, ``dilation`` (IntSliders), ``ceil_mode`` (Checkbox)
        and ``remove`` (Button).
    state : TracerState
        Everything shown, recomputed on every change.
    """

    def __init__(self, layers: Optional[Sequence[Layer]] = None, input_size: int = 28,
                 unit: Tuple[int, int] = (0, 0)):
        layers, input_size, unit = _check_args(layers, input_size, unit)
        lo, hi = RF_RANGES["input_size"]
        style = {"description_width": "initial"}
        self.controls: Dict = {
            "input_size": widgets.IntSlider(value=input_size, min=lo, max=hi,
                                            description="input size", style=style),
            "add": widgets.Button(description="+ add layer", layout=widgets.Layout(width="120px")),
            "unit_row": widgets.IntSlider(value=0, min=0, max=hi, description="unit row", style=style),
            "unit_col": widgets.IntSlider(value=0, min=0, max=hi, description="unit col", style=style),
            "layers": [],
        }
        self._stack = widgets.VBox(layout=widgets.Layout(border_left="3px solid #f2a144",
                                                         padding="0 0 0 8px"))
        self._picture = widgets.HTML()
        self._text = widgets.HTML()
        self._busy = True
        for layer in layers:
            self.add_layer(layer)
        c = self.controls
        c["unit_row"].value, c["unit_col"].value = unit
        c["add"].on_click(lambda _: self.add_layer())
        for name in ("input_size", "unit_row", "unit_col"):
            c[name].observe(self._changed, names="value")
        super().__init__([widgets.HBox([c["input_size"], c["add"]]), self._stack,
                          widgets.HBox([c["unit_row"], c["unit_col"]]), self._picture, self._text])
        self.add_class("cl-rf-tracer")
        self._busy = False
        self._update()

    # -- editing the stack -------------------------------------------------------------------
    def add_layer(self, layer: Optional[Layer] = None) -> None:
        """Append a layer row (default: conv 3x3, stride 1, padding 1).

        Examples
        --------
        >>> tr = receptive_field_tracer(input_size=28)
        >>> tr.add_layer(Layer("conv", 3))
        >>> tr.output_sizes, tr.receptive_field
        ((24, 12, 10), 10)
        """
        layer = Layer("conv", 3, padding=1) if layer is None else layer
        _check_args([layer], RF_RANGES["input_size"][0], (0, 0))
        row = {"kind": widgets.Dropdown(options=["conv", "pool"], value=layer.kind,
                                        layout=widgets.Layout(width="80px"))}
        for name, short in zip(_PARAMS, ("k", "s", "p", "d")):
            lo, hi = RF_RANGES[name]
            row[name] = widgets.IntSlider(value=getattr(layer, name), min=lo, max=hi,
                                          description=short, tooltip=name,
                                          style={"description_width": "14px"},
                                          layout=widgets.Layout(width="170px"))
        row["ceil_mode"] = widgets.Checkbox(value=layer.ceil_mode, description="ceil_mode",
                                            indent=False, disabled=layer.kind != "pool",
                                            layout=widgets.Layout(width="100px"))
        row["remove"] = widgets.Button(description="✕", tooltip="remove this layer",
                                       layout=widgets.Layout(width="36px"))
        row["remove"].on_click(lambda _, r=row: self.remove_layer(self.controls["layers"].index(r)))
        for name in ("kind", *_PARAMS, "ceil_mode"):
            row[name].observe(self._changed, names="value")
        self.controls["layers"].append(row)
        self._stack.children = [*self._stack.children,
                                widgets.HBox([row[n] for n in ("kind", *_PARAMS, "ceil_mode", "remove")])]
        self._update()

    def remove_layer(self, index: int) -> None:
        """Remove the layer row at ``index`` (0 = first layer).

        Examples
        --------
        >>> tr = receptive_field_tracer(input_size=28)
        >>> tr.remove_layer(1)
        >>> tr.layers, tr.receptive_field
        ((Layer(kind='conv', kernel_size=5, stride=1, padding=0, dilation=1, ceil_mode=False),), 5)
        """
        n = len(self.controls["layers"])
        index = check_int("index", index)
        if not 0 <= index < n:
            raise ValueError(f"index must be in 0..{n - 1} (there are {n} layers), got index={index}")
        del self.controls["layers"][index]
        children = list(self._stack.children)
        del children[index]
        self._stack.children = children
        self._update()

    # -- state -------------------------------------------------------------------------------
    @property
    def layers(self) -> Tuple[Layer, ...]:
        """The stack as course_lib Layers, read from the rows."""
        out = []
        for row in self.controls["layers"]:
            kind = row["kind"].value
            out.append(Layer(kind, row["kernel_size"].value, row["stride"].value,
                             row["padding"].value, row["dilation"].value,
                             ceil_mode=kind == "pool" and row["ceil_mode"].value))
        return tuple(out)

    @property
    def output_sizes(self) -> Tuple[Optional[int], ...]:
        """Output size of every layer (None from an impossible layer on)."""
        return self.state.output_sizes

    @property
    def fields(self) -> Tuple[FieldInfo, ...]:
        """course_lib's FieldInfo of every valid layer."""
        return self.state.fields

    @property
    def receptive_field(self) -> Optional[int]:
        """Receptive field of the last layer in input pixels (per axis), None if impossible."""
        return self.state.receptive_field

    @property
    def span(self) -> Optional[Tuple[Tuple[int, int], Tuple[int, int]]]:
        """``((first_row, last_row), (first_col, last_col))`` input pixels the chosen unit sees."""
        return self.state.span

    @property
    def unit(self) -> Tuple[int, int]:
        """The chosen last-layer unit (row, col)."""
        return self.state.unit

    @property
    def message(self) -> str:
        """The error (impossible stack) or an empty string."""
        return self.state.error or ""

    @property
    def svg(self) -> str:
        """The SVG markup of the current picture."""
        return self._picture.value

    def _changed(self, change) -> None:
        if not self._busy:
            self._update()

    def _update(self) -> None:
        if self._busy and not hasattr(self, "state"):
            return
        c = self.controls
        for row in c["layers"]:                  # ceil_mode is a pooling option
            row["ceil_mode"].disabled = row["kind"].value != "pool"
        layers, n = self.layers, c["input_size"].value
        st = tracer_state(layers, n, (c["unit_row"].value, c["unit_col"].value))
        last = st.fields[-1].output_size if st.fields else n
        was, self._busy = self._busy, True
        try:
            for name in ("unit_row", "unit_col"):
                c[name].max = last - 1
        finally:
            self._busy = was
        self.state: TracerState = tracer_state(layers, n, (c["unit_row"].value,
                                                           c["unit_col"].value))
        self._picture.value = tracer_svg(self.state)
        self._text.value = f"<style>{asset('explorers.css')}</style>{tracer_text(self.state)}"


def receptive_field_tracer(layers: Optional[Sequence[Layer]] = None, input_size: int = 28,
                           unit: Tuple[int, int] = (0, 0)) -> ReceptiveFieldTracer:
    """Edit a stack of conv/pool layers and see each layer's output size and receptive field.

    Each row sets one layer's kind, kernel size, stride, padding, dilation and
    (pooling) ``ceil_mode``; rows can be added and removed. A table lists every
    layer's output size, receptive field, jump and start; the picture shows the
    input and every layer's grid with the part that one chosen last-layer unit
    (``unit row``/``unit col`` sliders) depends on, padding in blue.

    Parameters
    ----------
    layers : list of Layer, optional
        The starting stack (default: conv 5x5, then 2x2 pooling with stride 2).
        Kernel 1..11, stride 1..4, padding 0..5, dilation 1..3.
    input_size : int
        Square input size, 1..64.
    unit : (int, int)
        Starting unit (row, col) of the last layer; clipped into its grid.

    Returns
    -------
    ReceptiveFieldTracer
        An ``ipywidgets.VBox``; read ``.controls``, ``.layers``, ``.output_sizes``,
        ``.receptive_field``, ``.span``.

    Examples
    --------
    >>> tr = receptive_field_tracer(input_size=28)        # conv5, then 2x2/2 pool
    >>> tr.output_sizes, [f.size for f in tr.fields]
    ((24, 12), [5, 6])
    >>> tr = receptive_field_tracer([Layer("conv", 5, padding=2),
    ...                              Layer("pool", 3, stride=2, ceil_mode=True)], input_size=32)
    >>> tr.output_sizes, tr.receptive_field, tr.span
    ((32, 16), 7, ((-2, 4), (-2, 4)))
    """
    return ReceptiveFieldTracer(layers, input_size, unit)


def receptive_field_tracer_html(layers: Optional[Sequence[Layer]] = None, input_size: int = 28,
                                unit: Tuple[int, int] = (0, 0)) -> HTML:
    """The receptive-field tracer for the static book: HTML + inline JS, no kernel needed.

    Same controls (range sliders, kind selects, add/remove buttons), table and
    picture as :func:`receptive_field_tracer`, computed by a JS port of
    :func:`course_lib.receptive_field.receptive_fields` (tested to agree).

    Parameters
    ----------
    layers, input_size, unit
        As for :func:`receptive_field_tracer`.

    Returns
    -------
    IPython.display.HTML

    Examples
    --------
    >>> page = receptive_field_tracer_html(input_size=28)
    >>> "mountTracer" in page.data, "6×6 receptive field" in page.data
    (True, True)
    """
    layers, input_size, unit = _check_args(layers, input_size, unit)
    st = tracer_state(layers, input_size, unit)
    cfg = {"layers": [{"kind": L.kind, "kernel_size": L.kernel_size, "stride": L.stride,
                       "padding": L.padding, "dilation": L.dilation, "ceil_mode": L.ceil_mode}
                      for L in layers],
           "input_size": input_size, "unit": list(st.unit),
           "ranges": {k: list(v) for k, v in RF_RANGES.items()}}
    return HTML(static_html("mountTracer", cfg, tracer_svg(st), tracer_text(st), legend=False))
