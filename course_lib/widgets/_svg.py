"""SVG pictures and HTML text of the two arithmetic explorers, as strings.

The live widgets put these strings into ``ipywidgets.HTML``; the static book
runs ``static/explorers.js``, whose ``convSvg``/``convText``/``tracerSvg``/
``tracerText`` build the very same markup (character for character, tested),
so a reader sees the same picture with or without a Python kernel.
Only integers go into coordinates, so both languages format them alike.
"""
from __future__ import annotations

from typing import List

from ._geometry import ConvState, TracerState

# Palette (also in explorers.js and explorers.css).
IN_FILL = "#ffffff"
PAD_FILL, PAD_STROKE = "#d6e6f5", "#8fb0d3"
DROP_FILL = "#bdbdbd"
TAP_FILL, WIN_STROKE = "#f2a144", "#b5530c"
OUT_FILL = "#f4f4f4"
GRID, EDGE = "#9aa3ad", "#444444"
TEXT = "#333333"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rect(x: int, y: int, w: int, h: int, fill: str, stroke: str = "none", extra: str = "") -> str:
    return (f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}" '
            f'stroke="{stroke}"{extra}/>')


def _text(x: int, y: int, label: str) -> str:
    return f'<text x="{x}" y="{y}" font-size="13" fill="{TEXT}">{_esc(label)}</text>'


def _label_w(label: str) -> int:
    """Width in px that a 13-px sans-serif label may take (8 px a character: never too little)."""
    return 8 * len(label)


def _fit(cols: int, rows: int) -> int:
    """Cell size in px so the picture stays about 600 x 330 px."""
    return max(4, min(28, 560 // max(cols, 1), 320 // max(rows, 1)))


def _grid(x: int, y: int, cols: int, rows: int, cs: int, colour: str = GRID) -> str:
    """All cell borders of a cols x rows block as one path (keeps the markup O(n), not O(n^2))."""
    d = "".join(f"M{x + t * cs} {y}V{y + rows * cs}" for t in range(cols + 1))
    d += "".join(f"M{x} {y + t * cs}H{x + cols * cs}" for t in range(rows + 1))
    return f'<path d="{d}" stroke="{colour}" stroke-width="1" fill="none"/>'


def _line(x1: int, y1: int, x2: int, y2: int) -> str:
    return (f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{WIN_STROKE}" '
            f'stroke-dasharray="4 3"/>')


def _svg(width: int, height: int, parts: List[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif">{"".join(parts)}</svg>')


def conv_svg(st: ConvState, step: int) -> str:
    """The conv-arithmetic picture: padded input, window at ``step``, output grid."""
    H, W, k, s, p, d = st.height, st.width, st.kernel_size, st.stride, st.padding, st.dilation
    span = d * (k - 1) + 1
    x0, y0, gap = 10, 26, 60
    parts: List[str] = []
    if st.output_size is None:
        pr = p if st.mode != "transposed" else 0
        cs = _fit(W + 2 * pr, H + 2 * pr)
        if pr:
            parts.append(_rect(x0, y0, (W + 2 * pr) * cs, (H + 2 * pr) * cs, PAD_FILL))
        parts.append(_rect(x0 + pr * cs, y0 + pr * cs, W * cs, H * cs, IN_FILL))
        parts.append(_grid(x0, y0, W + 2 * pr, H + 2 * pr, cs))
        parts.append(_rect(x0 + pr * cs, y0 + pr * cs, W * cs, H * cs, "none", EDGE))
        label = f"input {H}×{W}" + (f", padding {pr}" if pr else "")
        parts.append(_text(x0, 16, label))
        return _svg(x0 + max((W + 2 * pr) * cs, _label_w(label)) + 10, y0 + (H + 2 * pr) * cs + 10, parts)
    if st.mode == "transposed":
        Ho, Wo = st.output_size
        Fh, Fw = Ho + 2 * p, Wo + 2 * p      # before cropping
        cs = _fit(W + Fw, max(H, Fh))
        i, j = divmod(min(step, st.steps - 1), W)
        in_label = f"input {H}×{W}"
        out_label = f"output {Ho}×{Wo}" + (f", blue ring cropped (padding {p})" if p else "")
        xo = x0 + max(W * cs, _label_w(in_label)) + gap        # labels never overlap
        parts.append(_rect(x0, y0, W * cs, H * cs, IN_FILL))
        parts.append(_rect(x0 + j * cs, y0 + i * cs, cs, cs, TAP_FILL))
        parts.append(_grid(x0, y0, W, H, cs))
        parts.append(_rect(x0, y0, W * cs, H * cs, "none", EDGE))
        if p:
            parts.append(_rect(xo, y0, Fw * cs, Fh * cs, PAD_FILL))
        parts.append(_rect(xo + p * cs, y0 + p * cs, Wo * cs, Ho * cs, OUT_FILL))
        for r in st.dropped.rows:
            parts.append(_rect(xo + p * cs, y0 + (r + p) * cs, Wo * cs, cs, DROP_FILL))
        for c in st.dropped.cols:
            parts.append(_rect(xo + (c + p) * cs, y0 + p * cs, cs, Ho * cs, DROP_FILL))
        r0, c0 = st.rows.starts[i], st.cols.starts[j]
        for a in range(k):
            for b in range(k):
                parts.append(_rect(xo + (c0 + b * d) * cs, y0 + (r0 + a * d) * cs, cs, cs, TAP_FILL,
                                   "none", ' fill-opacity="0.85"'))
        parts.append(_grid(xo, y0, Fw, Fh, cs))
        parts.append(_rect(xo + p * cs, y0 + p * cs, Wo * cs, Ho * cs, "none", EDGE))
        parts.append(_rect(x0 + j * cs, y0 + i * cs, cs, cs, "none", WIN_STROKE, ' stroke-width="3"'))
        parts.append(_rect(xo + c0 * cs, y0 + r0 * cs, span * cs, span * cs, "none", WIN_STROKE,
                           ' stroke-width="3"'))
        parts.append(_line(x0 + (j + 1) * cs, y0 + i * cs + cs // 2, xo + c0 * cs,
                           y0 + r0 * cs + span * cs // 2))
        parts.append(_text(x0, 16, in_label))
        parts.append(_text(xo, 16, out_label))
        return _svg(xo + max(Fw * cs, _label_w(out_label)) + 10, y0 + max(H, Fh) * cs + 10, parts)
    Ho, Wo = st.output_size
    hang_r = max(0, st.rows.starts[-1] + span - 1 - (H - 1 + p))
    hang_c = max(0, st.cols.starts[-1] + span - 1 - (W - 1 + p))
    in_rows, in_cols = H + 2 * p + hang_r, W + 2 * p + hang_c
    cs = _fit(in_cols + Wo, max(in_rows, Ho))
    in_label = f"input {H}×{W}" + (f", padding {p}" if p else "")
    out_label = f"output {Ho}×{Wo}"
    xo = x0 + max(in_cols * cs, _label_w(in_label)) + gap     # labels never overlap
    xi, yi = x0 + p * cs, y0 + p * cs           # top-left corner of the real input
    i, j = divmod(min(step, st.steps - 1), Wo)
    if p:
        parts.append(_rect(x0, y0, (W + 2 * p) * cs, (H + 2 * p) * cs, PAD_FILL))
    parts.append(_rect(xi, yi, W * cs, H * cs, IN_FILL))
    for r in st.dropped.rows:
        parts.append(_rect(xi, yi + r * cs, W * cs, cs, DROP_FILL))
    for c in st.dropped.cols:
        parts.append(_rect(xi + c * cs, yi, cs, H * cs, DROP_FILL))
    r0, c0 = st.rows.starts[i], st.cols.starts[j]
    for a in range(k):
        for b in range(k):
            parts.append(_rect(xi + (c0 + b * d) * cs, yi + (r0 + a * d) * cs, cs, cs, TAP_FILL,
                               "none", ' fill-opacity="0.85"'))
    parts.append(_grid(x0, y0, W + 2 * p, H + 2 * p, cs))
    if hang_r or hang_c:
        parts.append(_rect(x0, y0, in_cols * cs, in_rows * cs, "none", PAD_STROKE,
                           ' stroke-dasharray="3 3"'))
    parts.append(_rect(xi, yi, W * cs, H * cs, "none", EDGE))
    parts.append(_rect(xi + c0 * cs, yi + r0 * cs, span * cs, span * cs, "none", WIN_STROKE,
                       ' stroke-width="3"'))
    parts.append(_rect(xo, y0, Wo * cs, Ho * cs, OUT_FILL))
    parts.append(_rect(xo + j * cs, y0 + i * cs, cs, cs, TAP_FILL))
    parts.append(_grid(xo, y0, Wo, Ho, cs))
    parts.append(_rect(xo + j * cs, y0 + i * cs, cs, cs, "none", WIN_STROKE, ' stroke-width="3"'))
    parts.append(_line(xi + (c0 + span) * cs, yi + r0 * cs + span * cs // 2, xo + j * cs,
                       y0 + i * cs + cs // 2))
    parts.append(_text(x0, 16, in_label))
    parts.append(_text(xo, 16, out_label))
    return _svg(xo + max(Wo * cs, _label_w(out_label)) + 10, y0 + max(in_rows, Ho) * cs + 10, parts)


GENERAL = {
    "conv": "out = ⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1",
    "pool-floor": "out = ⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1",
    "pool-ceil": "out = ⌈(n + 2p − d(k − 1) − 1) / s⌉ + 1, minus a last window that starts in the padding",
    "transposed": "out = s(n − 1) − 2p + d(k − 1) + 1",
}


def conv_text(st: ConvState) -> str:
    """Formula with the numbers substituted, output shape and the one-line message."""
    shape = "impossible" if st.output_size is None else f"{st.output_size[0]} × {st.output_size[1]}"
    cls = "cl-msg cl-error" if st.output_size is None else "cl-msg"
    return (f'<div class="cl-formula">{_esc(GENERAL[st.mode])}</div>'
            f'<div class="cl-formula">{_esc(st.rows.formula)}</div>'
            f'<div class="cl-formula">{_esc(st.cols.formula)}</div>'
            f'<div class="cl-shape">output shape (H_out × W_out): <b>{shape}</b></div>'
            f'<div class="{cls}">{_esc(st.message)}</div>')


def tracer_svg(st: TracerState) -> str:
    """Input and every layer's grid, with what the chosen last-layer unit depends on."""
    sizes = [st.input_size] + [f.output_size for f in st.fields]
    names = ["input"] + [f.name for f in st.fields]
    spans = list(st.layer_spans) if st.error is None else []
    panels = []
    for level, n in enumerate(sizes):
        ring = 0
        if level < len(spans):
            (r0, r1), (c0, c1) = spans[level]
            ring = max(0, -min(r0, c0), max(r1, c1) - (n - 1))   # padding is on all sides
        panels.append((n, ring))
    total = sum(n + 2 * ring for n, ring in panels)
    biggest = max(n + 2 * ring for n, ring in panels)
    cs = max(2, min(16, (860 - 70 * len(panels)) // max(total, 1), 300 // biggest))
    x, y0 = 10, 26
    parts: List[str] = []
    for level, (n, ring) in enumerate(panels):
        full = (n + 2 * ring) * cs
        if ring:
            parts.append(_rect(x, y0, full, full, PAD_FILL, PAD_STROKE))
        parts.append(_rect(x + ring * cs, y0 + ring * cs, n * cs, n * cs, IN_FILL))
        if cs >= 5:
            parts.append(_grid(x + ring * cs, y0 + ring * cs, n, n, cs, "#d5dade"))
        parts.append(_rect(x + ring * cs, y0 + ring * cs, n * cs, n * cs, "none", EDGE))
        if level < len(spans):
            (r0, r1), (c0, c1) = spans[level]
            parts.append(_rect(x + (c0 + ring) * cs, y0 + (r0 + ring) * cs, (c1 - c0 + 1) * cs,
                               (r1 - r0 + 1) * cs, TAP_FILL, WIN_STROKE,
                               ' fill-opacity="0.75" stroke-width="2"'))
        label = f"{names[level]} {n}×{n}"
        parts.append(_text(x, 16, label))
        x += max(full, _label_w(label)) + 30
    return _svg(x - 20, y0 + biggest * cs + 10, parts)


def tracer_text(st: TracerState) -> str:
    """Table of output sizes and receptive fields, and what the chosen unit sees."""
    head = ("<tr><th>layer</th><th>settings</th><th>output</th><th>receptive field</th>"
            "<th>jump</th><th>start</th></tr>")
    rows = [f"<tr><td>input</td><td></td><td>{st.input_size}×{st.input_size}</td>"
            f"<td>1</td><td>1</td><td>0</td></tr>"]
    for i, layer in enumerate(st.layers):
        desc = (f"{layer.kind} k={layer.kernel_size} s={layer.stride} p={layer.padding}"
                + (f" d={layer.dilation}" if layer.dilation != 1 else "")
                + (" ceil" if layer.ceil_mode else ""))
        if i < len(st.fields):
            f = st.fields[i]
            rows.append(f"<tr><td>{f.name}</td><td>{desc}</td><td>{f.output_size}×{f.output_size}"
                        f"</td><td>{f.size}×{f.size}</td><td>{f.jump}</td><td>{f.start}</td></tr>")
        else:
            rows.append(f"<tr><td>{layer.kind}{i + 1}</td><td>{desc}</td><td>–</td><td>–</td>"
                        f"<td>–</td><td>–</td></tr>")
    table = f'<table class="cl-table">{head}{"".join(rows)}</table>'
    if st.error is not None:
        return table + f'<div class="cl-msg cl-error">Impossible: {_esc(st.error)}</div>'
    if not st.layers:
        return table + '<div class="cl-msg">Add a layer to trace a receptive field.</div>'
    (r0, r1), (c0, c1) = st.span
    n = st.input_size
    inside = (min(r1, n - 1) - max(r0, 0) + 1) * (min(c1, n - 1) - max(c0, 0) + 1)
    pad = (r1 - r0 + 1) * (c1 - c0 + 1) - inside
    last = st.fields[-1]
    msg = (f"Unit ({st.unit[0]}, {st.unit[1]}) of {last.name} sees input rows {r0}…{r1} and "
           f"columns {c0}…{c1}: a {last.size}×{last.size} receptive field"
           + (f", {pad} of its pixels in the padding (blue)." if pad else "."))
    return table + f'<div class="cl-msg">{_esc(msg)}</div>'
