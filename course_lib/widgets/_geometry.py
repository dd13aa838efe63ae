"""Pure bookkeeping behind the explorers: what each window touches, what is never read.

Nothing here draws. The output sizes themselves always come from
:mod:`course_lib.shapes` and :mod:`course_lib.receptive_field`; this module
only adds where each window sits (for the pictures), which input rows and
columns no window reaches, and the formula with the numbers substituted.
``static/explorers.js`` mirrors these functions for the static book, and
``tests/test_widgets.py`` checks that both give the same answers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, NamedTuple, Optional, Sequence, Tuple

from ..receptive_field import FieldInfo, Layer, receptive_fields
from ..shapes import conv_output_size, conv_transpose_output_size

MODES = ("conv", "pool-floor", "pool-ceil", "transposed")

# Slider ranges of the conv-arithmetic explorer (shared with the static page).
CONV_RANGES = {
    "height": (1, 32), "width": (1, 32), "kernel_size": (1, 7),
    "stride": (1, 4), "padding": (0, 4), "dilation": (1, 3),
}
CONV_DEFAULTS = {"height": 7, "width": 7, "kernel_size": 3, "stride": 1, "padding": 0,
                 "dilation": 1, "mode": "conv", "step": 0}

# Ranges of the receptive-field tracer's per-layer controls and input size.
RF_RANGES = {"kernel_size": (1, 11), "stride": (1, 4), "padding": (0, 5), "dilation": (1, 3),
             "input_size": (1, 64)}


class Dropped(NamedTuple):
    """Input rows and columns that no kernel tap reads (output ones for ``transposed``)."""
    rows: Tuple[int, ...]
    cols: Tuple[int, ...]


@dataclass(frozen=True)
class Axis:
    """One axis (height or width) of a conv/pool/transposed-conv layer.

    ``starts[i]`` is where window i's first tap lies: an input coordinate for
    conv and pooling (negative = left padding), an output coordinate before
    cropping for ``transposed`` (input cell i scatters to ``starts[i] + j*d``).
    """
    n: int
    out: Optional[int]
    starts: Tuple[int, ...]
    dropped: Tuple[int, ...]
    formula: str
    error: Optional[str]


def _pool_padding_error(k: int, p: int) -> Optional[str]:
    """torch's extra rule for pooling layers (checked on the raw kernel size)."""
    if 2 * p > k:
        return (f"padding={p} is more than half of kernel_size={k}; torch's pooling layers "
                f"need padding <= kernel_size // 2 = {k // 2}. Use less padding or a larger kernel")
    return None


def axis_geometry(n: int, k: int, s: int, p: int, d: int, mode: str, label: str = "H") -> Axis:
    """Window positions, unreached pixels and substituted formula along one axis.

    Examples
    --------
    >>> a = axis_geometry(7, 3, 3, 0, 1, "conv")
    >>> a.out, a.starts, a.dropped
    (2, (0, 3), (6,))
    >>> a.formula
    'H_out = ⌊(7 + 2·0 − 1·(3 − 1) − 1) / 3⌋ + 1 = ⌊4 / 3⌋ + 1 = 2'
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got mode={mode!r}")
    span = d * (k - 1) + 1
    if mode == "transposed":
        head = (f"{label}_out = {s}·({n} − 1) − 2·{p} + {d}·({k} − 1) + 1")
        try:
            out = conv_transpose_output_size(n, k, stride=s, padding=p, dilation=d)
        except ValueError as err:
            return Axis(n, None, (), (), f"{head} = {(n - 1) * s - 2 * p + d * (k - 1) + 1}",
                        str(err))
        starts = tuple(i * s for i in range(n))
        hit = {st + j * d - p for st in starts for j in range(k)}
        dropped = tuple(r for r in range(out) if r not in hit)
        return Axis(n, out, starts, dropped, f"{head} = {out}", None)

    room = n + 2 * p - span
    body = f"({n} + 2·{p} − {d}·({k} − 1) − 1) / {s}"
    ceil = mode == "pool-ceil"
    error = _pool_padding_error(k, p) if mode != "conv" else None
    try:
        out = conv_output_size(n, k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
    except ValueError as err:
        out, error = None, error or str(err)
    if ceil:
        raw = -(-room // s) + 1
        formula = f"{label}_out = ⌈{body}⌉ + 1 = ⌈{room} / {s}⌉ + 1 = {raw}"
        if out is not None and out != raw:
            formula += f" → {out}: torch drops the last window, which would start in the padding"
    else:
        formula = f"{label}_out = ⌊{body}⌋ + 1 = ⌊{room} / {s}⌋ + 1 = {room // s + 1}"
    if out is None and (room // s + 1 < 1 or (ceil and -(-room // s) + 1 < 1)):
        formula += " < 1: no window fits"
    if error is not None:
        return Axis(n, None, (), (), formula, error)
    starts = tuple(i * s - p for i in range(out))
    hit = {st + j * d for st in starts for j in range(k)}
    dropped = tuple(r for r in range(n) if r not in hit)
    return Axis(n, out, starts, dropped, formula, None)


def _list(items: Sequence[int], one: str, many: str) -> str:
    shown = ", ".join(str(i) for i in items[:6]) + (", …" if len(items) > 6 else "")
    return f"{one if len(items) == 1 else many} {shown}"


@dataclass(frozen=True)
class ConvState:
    """Everything the conv-arithmetic explorer shows, for one setting of its controls."""
    height: int
    width: int
    kernel_size: int
    stride: int
    padding: int
    dilation: int
    mode: str
    rows: Axis
    cols: Axis
    output_size: Optional[Tuple[int, int]]
    message: str
    dropped: Dropped
    steps: int      # positions the step slider walks (output cells, input cells when transposed)


def conv_state(height: int, width: int, kernel_size: int, stride: int, padding: int,
               dilation: int, mode: str) -> ConvState:
    """The explorer's state for one setting (both axes, message, dropped pixels).

    Examples
    --------
    >>> st = conv_state(7, 7, 3, 3, 0, 1, "conv")
    >>> st.output_size, st.dropped
    ((2, 2), Dropped(rows=(6,), cols=(6,)))
    >>> conv_state(3, 3, 5, 1, 0, 1, "conv").output_size is None
    True
    """
    rows = axis_geometry(height, kernel_size, stride, padding, dilation, mode, "H")
    cols = axis_geometry(width, kernel_size, stride, padding, dilation, mode, "W")
    dropped = Dropped(rows.dropped, cols.dropped)
    k, s, p, d = kernel_size, stride, padding, dilation
    if rows.error or cols.error:
        which = "height" if rows.error else "width"
        message = f"Impossible ({which}): {rows.error or cols.error}"
        return ConvState(height, width, k, s, p, d, mode, rows, cols, None, message, dropped, 0)
    out = (rows.out, cols.out)
    if mode == "transposed":
        message = (f"Each input pixel scatters a {k}×{k} copy of the kernel (taps {d} apart) into "
                   f"the output, {s} apart; padding {p} crops {p} from every side.")
        if dropped.rows or dropped.cols:
            parts = [x for x in (_list(dropped.rows, "row", "rows") if dropped.rows else "",
                                 _list(dropped.cols, "column", "columns") if dropped.cols else "")
                     if x]
            message += f" Output {' and '.join(parts)} get no contribution (grey)."
        steps = height * width
    else:
        parts, causes = [], set()
        for ax, one, many in ((rows, "row", "rows"), (cols, "column", "columns")):
            if ax.dropped:
                parts.append(_list(ax.dropped, one, many))
                last_tap = ax.starts[-1] + d * (k - 1)
                causes.update("stride" if r > last_tap else "gap" for r in ax.dropped)
        if parts:
            why = []
            if "stride" in causes:
                why.append("the stride does not fit, so the size is floored like torch")
            if "gap" in causes:
                why.append("they fall between the strided, dilated kernel taps")
            message = f"Never read (grey): input {' and '.join(parts)}; {' and '.join(why)}."
        else:
            message = "Every input pixel is read by at least one window."
        if mode == "pool-ceil":
            hang = any(ax.starts[-1] + d * (k - 1) > ax.n - 1 + p for ax in (rows, cols))
            if hang:
                message += " ceil_mode lets the last window hang past the padding (those cells are ignored)."
        steps = out[0] * out[1]
    return ConvState(height, width, k, s, p, d, mode, rows, cols, out, message, dropped, steps)


@dataclass(frozen=True)
class TracerState:
    """What the receptive-field tracer shows for one layer stack and one chosen unit."""
    layers: Tuple[Layer, ...]
    input_size: int
    fields: Tuple[FieldInfo, ...]           # valid prefix of the stack
    output_sizes: Tuple[Optional[int], ...]  # one per layer, None after an impossible layer
    error: Optional[str]
    unit: Tuple[int, int]
    span: Optional[Tuple[Tuple[int, int], Tuple[int, int]]]   # input rows, cols of the unit
    layer_spans: Tuple[Tuple[Tuple[int, int], Tuple[int, int]], ...]  # same, in every layer's grid

    @property
    def receptive_field(self) -> Optional[int]:
        """Receptive field (pixels along one axis) of the last layer, None if impossible."""
        return self.fields[-1].size if self.fields and self.error is None else None


def tracer_state(layers: Sequence[Layer], input_size: int, unit: Tuple[int, int] = (0, 0)
                 ) -> TracerState:
    """Sizes, receptive fields and the chosen unit's spans through a layer stack.

    ``unit`` is clipped into the last layer's output grid. ``layer_spans[l]``
    is the part of layer ``l``'s output (``l = 0`` is the input) that the chosen
    unit depends on, computed with :func:`receptive_fields` on the layers above.

    Examples
    --------
    >>> st = tracer_state([Layer("conv", 5), Layer("pool", 2, stride=2)], 28, (3, 0))
    >>> st.output_sizes, st.receptive_field, st.span
    ((24, 12), 6, ((6, 11), (0, 5)))
    """
    layers = tuple(layers)
    fields: List[FieldInfo] = []
    error = None
    for i, layer in enumerate(layers):
        if layer.kind == "pool":
            bad = _pool_padding_error(layer.kernel_size, layer.padding)
            if bad:
                error = f"layer {i + 1} (pool {layer.kernel_size}): {bad}"   # 1-based, like the table
                break
        try:
            fields = receptive_fields(layers[: i + 1], input_size)
        except ValueError as err:
            error = str(err)
            break
    sizes = tuple(f.output_size for f in fields) + (None,) * (len(layers) - len(fields))
    if error is not None or not layers:
        n = fields[-1].output_size if fields else input_size
        r, c = (min(max(u, 0), n - 1) for u in unit)
        return TracerState(layers, input_size, tuple(fields), sizes, error, (r, c),
                           None if error else ((r, r), (c, c)),
                           () if error else (((r, r), (c, c)),))
    n_last = fields[-1].output_size
    r, c = (min(max(u, 0), n_last - 1) for u in unit)
    spans = []
    for level in range(len(layers) + 1):    # level 0 = input, level l = output of layer l
        if level == len(layers):
            spans.append(((r, r), (c, c)))
            continue
        n_here = input_size if level == 0 else fields[level - 1].output_size
        top = receptive_fields(layers[level:], n_here)[-1]
        spans.append((top.span(r), top.span(c)))
    return TracerState(layers, input_size, tuple(fields), sizes, None, (r, c), spans[0],
                       tuple(spans))
