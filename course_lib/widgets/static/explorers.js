/* course_lib explorers for the static book: no Python kernel, plain JS + SVG.
 * A port of course_lib/widgets/_geometry.py (the arithmetic of course_lib.shapes and
 * course_lib.receptive_field) and of _svg.py (the pictures). tests/test_widgets.py and
 * tests/test_widgets_browser.py check that both give the same numbers and the same SVG. */
(function (root) {
  "use strict";
  if (root.courseLibExplorers) { return; }
  var PAD_FILL = "#d6e6f5", PAD_STROKE = "#8fb0d3", IN_FILL = "#ffffff",
    DROP_FILL = "#bdbdbd", TAP_FILL = "#f2a144", WIN_STROKE = "#b5530c", OUT_FILL = "#f4f4f4",
    GRID = "#9aa3ad", EDGE = "#444444", TEXT = "#333333";
  var fl = Math.floor;

  function esc(t) { return String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }
  function range(a, b) { var r = []; for (var i = a; i < b; i++) { r.push(i); } return r; }

  /* course_lib.shapes.conv_output_size: {out} or {error} */
  function convOutputSize(n, k, s, p, d, ceil) {
    var span = d * (k - 1) + 1, room = n + 2 * p - span, out;
    if (ceil) {
      out = -fl(-room / s) + 1;   // ceil; a first window may overhang, as in torch
      if ((out - 1) * s >= n + p) { out -= 1; }  // the last window must start inside input or left padding
    } else {
      out = fl(room / s) + 1;
    }
    if (out < 1) {
      return { error: "kernel_size=" + k + " (spanning " + span + " pixels with dilation=" + d +
        ") is larger than the padded input n + 2*padding = " + (n + 2 * p) +
        "; no window fits. Use a smaller kernel or dilation, or more padding" };
    }
    return { out: out };
  }

  /* course_lib.shapes.conv_transpose_output_size (output_padding = 0) */
  function convTransposeOutputSize(n, k, s, p, d) {
    var out = (n - 1) * s - 2 * p + d * (k - 1) + 1;
    if (out < 1) { return { error: "padding=" + p + " removes the whole output (size " + out + "); use less padding" }; }
    return { out: out };
  }

  function poolPaddingError(k, p) {
    if (2 * p > k) {
      return "padding=" + p + " is more than half of kernel_size=" + k + "; torch's pooling layers " +
        "need padding <= kernel_size // 2 = " + fl(k / 2) + ". Use less padding or a larger kernel";
    }
    return null;
  }

  function axisGeometry(n, k, s, p, d, mode, label) {
    var span = d * (k - 1) + 1, starts = [], hit = {}, dropped = [], i, j, r, res;
    if (mode === "transposed") {
      var head = label + "_out = " + s + "·(" + n + " − 1) − 2·" + p + " + " + d + "·(" + k + " − 1) + 1";
      res = convTransposeOutputSize(n, k, s, p, d);
      if (res.error) {
        return { n: n, out: null, starts: [], dropped: [], error: res.error,
          formula: head + " = " + ((n - 1) * s - 2 * p + d * (k - 1) + 1) };
      }
      for (i = 0; i < n; i++) { starts.push(i * s); for (j = 0; j < k; j++) { hit[i * s + j * d - p] = 1; } }
      for (r = 0; r < res.out; r++) { if (!hit[r]) { dropped.push(r); } }
      return { n: n, out: res.out, starts: starts, dropped: dropped, error: null, formula: head + " = " + res.out };
    }
    var room = n + 2 * p - span, body = "(" + n + " + 2·" + p + " − " + d + "·(" + k + " − 1) − 1) / " + s;
    var ceil = mode === "pool-ceil", error = mode !== "conv" ? poolPaddingError(k, p) : null, formula;
    res = convOutputSize(n, k, s, p, d, ceil);
    if (res.error) { error = error || res.error; }
    if (ceil) {
      var raw = -fl(-room / s) + 1;
      formula = label + "_out = ⌈" + body + "⌉ + 1 = ⌈" + room + " / " + s + "⌉ + 1 = " + raw;
      if (!res.error && res.out !== raw) {
        formula += " → " + res.out + ": torch drops the last window, which would start in the padding";
      }
    } else {
      formula = label + "_out = ⌊" + body + "⌋ + 1 = ⌊" + room + " / " + s + "⌋ + 1 = " + (fl(room / s) + 1);
    }
    if (res.error && (fl(room / s) + 1 < 1 || (ceil && -fl(-room / s) + 1 < 1))) { formula += " < 1: no window fits"; }
    if (error) { return { n: n, out: null, starts: [], dropped: [], formula: formula, error: error }; }
    for (i = 0; i < res.out; i++) { starts.push(i * s - p); for (j = 0; j < k; j++) { hit[i * s - p + j * d] = 1; } }
    for (r = 0; r < n; r++) { if (!hit[r]) { dropped.push(r); } }
    return { n: n, out: res.out, starts: starts, dropped: dropped, formula: formula, error: null };
  }

  function list(items, one, many) {
    var shown = items.slice(0, 6).join(", ") + (items.length > 6 ? ", …" : "");
    return (items.length === 1 ? one : many) + " " + shown;
  }

  function convState(c) {
    var k = c.kernel_size, s = c.stride, p = c.padding, d = c.dilation, mode = c.mode;
    var rows = axisGeometry(c.height, k, s, p, d, mode, "H"), cols = axisGeometry(c.width, k, s, p, d, mode, "W");
    var st = { height: c.height, width: c.width, kernel_size: k, stride: s, padding: p, dilation: d, mode: mode,
      rows: rows, cols: cols, dropped: { rows: rows.dropped, cols: cols.dropped } };
    if (rows.error || cols.error) {
      st.output_size = null; st.steps = 0;
      st.message = "Impossible (" + (rows.error ? "height" : "width") + "): " + (rows.error || cols.error);
      return st;
    }
    st.output_size = [rows.out, cols.out];
    if (mode === "transposed") {
      st.message = "Each input pixel scatters a " + k + "×" + k + " copy of the kernel (taps " + d +
        " apart) into the output, " + s + " apart; padding " + p + " crops " + p + " from every side.";
      if (rows.dropped.length || cols.dropped.length) {
        var tp = [];
        if (rows.dropped.length) { tp.push(list(rows.dropped, "row", "rows")); }
        if (cols.dropped.length) { tp.push(list(cols.dropped, "column", "columns")); }
        st.message += " Output " + tp.join(" and ") + " get no contribution (grey).";
      }
      st.steps = c.height * c.width;
      return st;
    }
    var parts = [], stride = false, gap = false;
    [[rows, "row", "rows"], [cols, "column", "columns"]].forEach(function (t) {
      var ax = t[0];
      if (ax.dropped.length) {
        parts.push(list(ax.dropped, t[1], t[2]));
        var lastTap = ax.starts[ax.starts.length - 1] + d * (k - 1);
        ax.dropped.forEach(function (r) { if (r > lastTap) { stride = true; } else { gap = true; } });
      }
    });
    if (parts.length) {
      var why = [];
      if (stride) { why.push("the stride does not fit, so the size is floored like torch"); }
      if (gap) { why.push("they fall between the strided, dilated kernel taps"); }
      st.message = "Never read (grey): input " + parts.join(" and ") + "; " + why.join(" and ") + ".";
    } else {
      st.message = "Every input pixel is read by at least one window.";
    }
    if (mode === "pool-ceil") {
      var hang = [rows, cols].some(function (ax) { return ax.starts[ax.starts.length - 1] + d * (k - 1) > ax.n - 1 + p; });
      if (hang) { st.message += " ceil_mode lets the last window hang past the padding (those cells are ignored)."; }
    }
    st.steps = rows.out * cols.out;
    return st;
  }

  /* course_lib.receptive_field.receptive_fields; stops at the first impossible layer */
  function receptiveFields(layers, n) {
    var size = 1, jump = 1, start = 0, out = [];
    for (var i = 0; i < layers.length; i++) {
      var L = layers[i], res = convOutputSize(n, L.kernel_size, L.stride, L.padding, L.dilation, L.ceil_mode);
      if (res.error) { return { fields: out, error: "layer " + (i + 1) + " (" + L.kind + " " + L.kernel_size + "): " + res.error }; }
      n = res.out; start -= L.padding * jump; size += L.dilation * (L.kernel_size - 1) * jump; jump *= L.stride;
      out.push({ name: L.kind + (i + 1), output_size: n, size: size, jump: jump, start: start });
    }
    return { fields: out, error: null };
  }
  function span(f, idx) { var a = f.start + idx * f.jump; return [a, a + f.size - 1]; }
  function clip(u, n) { return Math.min(Math.max(u, 0), n - 1); }

  function tracerState(layers, inputSize, unit) {
    var fields = [], error = null, i;
    for (i = 0; i < layers.length; i++) {
      if (layers[i].kind === "pool") {
        var bad = poolPaddingError(layers[i].kernel_size, layers[i].padding);
        if (bad) { error = "layer " + (i + 1) + " (pool " + layers[i].kernel_size + "): " + bad; break; }
      }
      var res = receptiveFields(layers.slice(0, i + 1), inputSize);
      if (res.error) { error = res.error; break; }
      fields = res.fields;
    }
    var sizes = fields.map(function (f) { return f.output_size; });
    while (sizes.length < layers.length) { sizes.push(null); }
    var st = { layers: layers, input_size: inputSize, fields: fields, output_sizes: sizes, error: error };
    var n = fields.length ? fields[fields.length - 1].output_size : inputSize;
    var r = clip(unit[0], n), c = clip(unit[1], n);
    st.unit = [r, c];
    if (error !== null || !layers.length) {
      st.span = error ? null : [[r, r], [c, c]];
      st.layer_spans = error ? [] : [[[r, r], [c, c]]];
      st.receptive_field = null;
      return st;
    }
    st.layer_spans = [];
    for (var level = 0; level <= layers.length; level++) {
      if (level === layers.length) { st.layer_spans.push([[r, r], [c, c]]); continue; }
      var nHere = level === 0 ? inputSize : fields[level - 1].output_size;
      var top = receptiveFields(layers.slice(level), nHere).fields;
      top = top[top.length - 1];
      st.layer_spans.push([span(top, r), span(top, c)]);
    }
    st.span = st.layer_spans[0];
    st.receptive_field = fields[fields.length - 1].size;
    return st;
  }

  /* ---- pictures: the same markup as course_lib/widgets/_svg.py ---- */
  function rect(x, y, w, h, fill, stroke, extra) {
    return '<rect x="' + x + '" y="' + y + '" width="' + w + '" height="' + h + '" fill="' + fill +
      '" stroke="' + (stroke || "none") + '"' + (extra || "") + "/>";
  }
  function text(x, y, label) { return '<text x="' + x + '" y="' + y + '" font-size="13" fill="' + TEXT + '">' + esc(label) + "</text>"; }
  function labelW(label) { return 8 * label.length; }  /* _svg._label_w */
  function fit(cols, rows) { return Math.max(4, Math.min(28, fl(560 / Math.max(cols, 1)), fl(320 / Math.max(rows, 1)))); }
  function grid(x, y, cols, rows, cs, colour) {
    var d = "", t;
    for (t = 0; t <= cols; t++) { d += "M" + (x + t * cs) + " " + y + "V" + (y + rows * cs); }
    for (t = 0; t <= rows; t++) { d += "M" + x + " " + (y + t * cs) + "H" + (x + cols * cs); }
    return '<path d="' + d + '" stroke="' + (colour || GRID) + '" stroke-width="1" fill="none"/>';
  }
  function line(x1, y1, x2, y2) {
    return '<line x1="' + x1 + '" y1="' + y1 + '" x2="' + x2 + '" y2="' + y2 + '" stroke="' + WIN_STROKE + '" stroke-dasharray="4 3"/>';
  }
  function svg(w, h, parts) {
    return '<svg xmlns="http://www.w3.org/2000/svg" width="' + w + '" height="' + h + '" viewBox="0 0 ' + w + " " + h +
      '" font-family="sans-serif">' + parts.join("") + "</svg>";
  }

  function convSvg(st, step) {
    var H = st.height, W = st.width, k = st.kernel_size, s = st.stride, p = st.padding, d = st.dilation;
    var span = d * (k - 1) + 1, x0 = 10, y0 = 26, gap = 60, parts = [], cs, i, j, xo, r0, c0, a, b, Ho, Wo;
    var taps = function (x, y) {
      for (a = 0; a < k; a++) {
        for (b = 0; b < k; b++) { parts.push(rect(x + (c0 + b * d) * cs, y + (r0 + a * d) * cs, cs, cs, TAP_FILL, "none", ' fill-opacity="0.85"')); }
      }
    };
    if (st.output_size === null) {
      var pr = st.mode !== "transposed" ? p : 0;
      cs = fit(W + 2 * pr, H + 2 * pr);
      if (pr) { parts.push(rect(x0, y0, (W + 2 * pr) * cs, (H + 2 * pr) * cs, PAD_FILL)); }
      parts.push(rect(x0 + pr * cs, y0 + pr * cs, W * cs, H * cs, IN_FILL));
      parts.push(grid(x0, y0, W + 2 * pr, H + 2 * pr, cs));
      parts.push(rect(x0 + pr * cs, y0 + pr * cs, W * cs, H * cs, "none", EDGE));
      var label = "input " + H + "×" + W + (pr ? ", padding " + pr : "");
      parts.push(text(x0, 16, label));
      return svg(x0 + Math.max((W + 2 * pr) * cs, labelW(label)) + 10, y0 + (H + 2 * pr) * cs + 10, parts);
    }
    Ho = st.output_size[0]; Wo = st.output_size[1];
    if (st.mode === "transposed") {
      var Fh = Ho + 2 * p, Fw = Wo + 2 * p;
      cs = fit(W + Fw, Math.max(H, Fh));
      step = Math.min(step, st.steps - 1); i = fl(step / W); j = step % W;
      var inT = "input " + H + "×" + W, outT = "output " + Ho + "×" + Wo + (p ? ", blue ring cropped (padding " + p + ")" : "");
      xo = x0 + Math.max(W * cs, labelW(inT)) + gap;
      parts.push(rect(x0, y0, W * cs, H * cs, IN_FILL));
      parts.push(rect(x0 + j * cs, y0 + i * cs, cs, cs, TAP_FILL));
      parts.push(grid(x0, y0, W, H, cs));
      parts.push(rect(x0, y0, W * cs, H * cs, "none", EDGE));
      if (p) { parts.push(rect(xo, y0, Fw * cs, Fh * cs, PAD_FILL)); }
      parts.push(rect(xo + p * cs, y0 + p * cs, Wo * cs, Ho * cs, OUT_FILL));
      st.dropped.rows.forEach(function (r) { parts.push(rect(xo + p * cs, y0 + (r + p) * cs, Wo * cs, cs, DROP_FILL)); });
      st.dropped.cols.forEach(function (c) { parts.push(rect(xo + (c + p) * cs, y0 + p * cs, cs, Ho * cs, DROP_FILL)); });
      r0 = st.rows.starts[i]; c0 = st.cols.starts[j];
      taps(xo, y0);
      parts.push(grid(xo, y0, Fw, Fh, cs));
      parts.push(rect(xo + p * cs, y0 + p * cs, Wo * cs, Ho * cs, "none", EDGE));
      parts.push(rect(x0 + j * cs, y0 + i * cs, cs, cs, "none", WIN_STROKE, ' stroke-width="3"'));
      parts.push(rect(xo + c0 * cs, y0 + r0 * cs, span * cs, span * cs, "none", WIN_STROKE, ' stroke-width="3"'));
      parts.push(line(x0 + (j + 1) * cs, y0 + i * cs + fl(cs / 2), xo + c0 * cs, y0 + r0 * cs + fl(span * cs / 2)));
      parts.push(text(x0, 16, inT));
      parts.push(text(xo, 16, outT));
      return svg(xo + Math.max(Fw * cs, labelW(outT)) + 10, y0 + Math.max(H, Fh) * cs + 10, parts);
    }
    var hangR = Math.max(0, st.rows.starts[st.rows.starts.length - 1] + span - 1 - (H - 1 + p));
    var hangC = Math.max(0, st.cols.starts[st.cols.starts.length - 1] + span - 1 - (W - 1 + p));
    var inRows = H + 2 * p + hangR, inCols = W + 2 * p + hangC;
    cs = fit(inCols + Wo, Math.max(inRows, Ho));
    var inL = "input " + H + "×" + W + (p ? ", padding " + p : ""), outL = "output " + Ho + "×" + Wo;
    xo = x0 + Math.max(inCols * cs, labelW(inL)) + gap;
    var xi = x0 + p * cs, yi = y0 + p * cs;
    step = Math.min(step, st.steps - 1); i = fl(step / Wo); j = step % Wo;
    if (p) { parts.push(rect(x0, y0, (W + 2 * p) * cs, (H + 2 * p) * cs, PAD_FILL)); }
    parts.push(rect(xi, yi, W * cs, H * cs, IN_FILL));
    st.dropped.rows.forEach(function (r) { parts.push(rect(xi, yi + r * cs, W * cs, cs, DROP_FILL)); });
    st.dropped.cols.forEach(function (c) { parts.push(rect(xi + c * cs, yi, cs, H * cs, DROP_FILL)); });
    r0 = st.rows.starts[i]; c0 = st.cols.starts[j];
    taps(xi, yi);
    parts.push(grid(x0, y0, W + 2 * p, H + 2 * p, cs));
    if (hangR || hangC) { parts.push(rect(x0, y0, inCols * cs, inRows * cs, "none", PAD_STROKE, ' stroke-dasharray="3 3"')); }
    parts.push(rect(xi, yi, W * cs, H * cs, "none", EDGE));
    parts.push(rect(xi + c0 * cs, yi + r0 * cs, span * cs, span * cs, "none", WIN_STROKE, ' stroke-width="3"'));
    parts.push(rect(xo, y0, Wo * cs, Ho * cs, OUT_FILL));
    parts.push(rect(xo + j * cs, y0 + i * cs, cs, cs, TAP_FILL));
    parts.push(grid(xo, y0, Wo, Ho, cs));
    parts.push(rect(xo + j * cs, y0 + i * cs, cs, cs, "none", WIN_STROKE, ' stroke-width="3"'));
    parts.push(line(xi + (c0 + span) * cs, yi + r0 * cs + fl(span * cs / 2), xo + j * cs, y0 + i * cs + fl(cs / 2)));
    parts.push(text(x0, 16, inL));
    parts.push(text(xo, 16, outL));
    return svg(xo + Math.max(Wo * cs, labelW(outL)) + 10, y0 + Math.max(inRows, Ho) * cs + 10, parts);
  }

  var GENERAL = {
    "conv": "out = ⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1",
    "pool-floor": "out = ⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1",
    "pool-ceil": "out = ⌈(n + 2p − d(k − 1) − 1) / s⌉ + 1, minus a last window that starts in the padding",
    "transposed": "out = s(n − 1) − 2p + d(k − 1) + 1"
  };
  function convText(st) {
    var shape = st.output_size === null ? "impossible" : st.output_size[0] + " × " + st.output_size[1];
    return '<div class="cl-formula">' + esc(GENERAL[st.mode]) + '</div><div class="cl-formula">' + esc(st.rows.formula) +
      '</div><div class="cl-formula">' + esc(st.cols.formula) + '</div><div class="cl-shape">output shape (H_out × W_out): <b>' +
      shape + '</b></div><div class="' + (st.output_size === null ? "cl-msg cl-error" : "cl-msg") + '">' + esc(st.message) + "</div>";
  }

  function tracerSvg(st) {
    var sizes = [st.input_size].concat(st.fields.map(function (f) { return f.output_size; }));
    var names = ["input"].concat(st.fields.map(function (f) { return f.name; }));
    var spans = st.error === null ? st.layer_spans : [], panels = [], total = 0, biggest = 0;
    sizes.forEach(function (n, level) {
      var ring = 0;
      if (level < spans.length) {
        var sp = spans[level];
        ring = Math.max(0, -Math.min(sp[0][0], sp[1][0]), Math.max(sp[0][1], sp[1][1]) - (n - 1));
      }
      panels.push([n, ring]); total += n + 2 * ring; biggest = Math.max(biggest, n + 2 * ring);
    });
    var cs = Math.max(2, Math.min(16, fl((860 - 70 * panels.length) / Math.max(total, 1)), fl(300 / biggest)));
    var x = 10, y0 = 26, parts = [];
    panels.forEach(function (pn, level) {
      var n = pn[0], ring = pn[1], full = (n + 2 * ring) * cs;
      if (ring) { parts.push(rect(x, y0, full, full, PAD_FILL, PAD_STROKE)); }
      parts.push(rect(x + ring * cs, y0 + ring * cs, n * cs, n * cs, IN_FILL));
      if (cs >= 5) { parts.push(grid(x + ring * cs, y0 + ring * cs, n, n, cs, "#d5dade")); }
      parts.push(rect(x + ring * cs, y0 + ring * cs, n * cs, n * cs, "none", EDGE));
      if (level < spans.length) {
        var sp = spans[level];
        parts.push(rect(x + (sp[1][0] + ring) * cs, y0 + (sp[0][0] + ring) * cs, (sp[1][1] - sp[1][0] + 1) * cs,
          (sp[0][1] - sp[0][0] + 1) * cs, TAP_FILL, WIN_STROKE, ' fill-opacity="0.75" stroke-width="2"'));
      }
      var label = names[level] + " " + n + "×" + n;
      parts.push(text(x, 16, label));
      x += Math.max(full, labelW(label)) + 30;
    });
    return svg(x - 20, y0 + biggest * cs + 10, parts);
  }

  function tracerText(st) {
    var rows = ["<tr><td>input</td><td></td><td>" + st.input_size + "×" + st.input_size + "</td><td>1</td><td>1</td><td>0</td></tr>"];
    st.layers.forEach(function (L, i) {
      var desc = L.kind + " k=" + L.kernel_size + " s=" + L.stride + " p=" + L.padding +
        (L.dilation !== 1 ? " d=" + L.dilation : "") + (L.ceil_mode ? " ceil" : "");
      if (i < st.fields.length) {
        var f = st.fields[i];
        rows.push("<tr><td>" + f.name + "</td><td>" + desc + "</td><td>" + f.output_size + "×" + f.output_size + "</td><td>" +
          f.size + "×" + f.size + "</td><td>" + f.jump + "</td><td>" + f.start + "</td></tr>");
      } else {
        rows.push("<tr><td>" + L.kind + (i + 1) + "</td><td>" + desc + "</td><td>–</td><td>–</td><td>–</td><td>–</td></tr>");
      }
    });
    var table = '<table class="cl-table"><tr><th>layer</th><th>settings</th><th>output</th><th>receptive field</th>' +
      "<th>jump</th><th>start</th></tr>" + rows.join("") + "</table>";
    if (st.error !== null) { return table + '<div class="cl-msg cl-error">Impossible: ' + esc(st.error) + "</div>"; }
    if (!st.layers.length) { return table + '<div class="cl-msg">Add a layer to trace a receptive field.</div>'; }
    var r0 = st.span[0][0], r1 = st.span[0][1], c0 = st.span[1][0], c1 = st.span[1][1], n = st.input_size;
    var inside = (Math.min(r1, n - 1) - Math.max(r0, 0) + 1) * (Math.min(c1, n - 1) - Math.max(c0, 0) + 1);
    var pad = (r1 - r0 + 1) * (c1 - c0 + 1) - inside, last = st.fields[st.fields.length - 1];
    var msg = "Unit (" + st.unit[0] + ", " + st.unit[1] + ") of " + last.name + " sees input rows " + r0 + "…" + r1 +
      " and columns " + c0 + "…" + c1 + ": a " + last.size + "×" + last.size + " receptive field" +
      (pad ? ", " + pad + " of its pixels in the padding (blue)." : ".");
    return table + '<div class="cl-msg">' + esc(msg) + "</div>";
  }

  /* ---- controls ---- */
  function el(tag, attrs, html) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (a) { e.setAttribute(a, attrs[a]); });
    /* JupyterLab's notebook shortcuts take arrow keys unless each control opts out itself */
    if (tag === "input" || tag === "select" || tag === "button" || tag === "textarea") {
      e.setAttribute("data-lm-suppress-shortcuts", "true");
    }
    if (html !== undefined) { e.innerHTML = html; }
    return e;
  }
  function slider(parent, name, label, lo, hi, value, onchange) {
    var lab = el("label", { "class": "cl-slider" }), out = el("output", {}, String(value));
    var inp = el("input", { type: "range", name: name, min: lo, max: hi, step: 1, value: value, "aria-label": name });
    lab.appendChild(el("span", {}, esc(label))); lab.appendChild(inp); lab.appendChild(out);
    inp.addEventListener("input", function () { out.textContent = inp.value; onchange(); });
    parent.appendChild(lab);
    return inp;
  }
  function setRange(inp, hi) {
    inp.max = hi;
    if (+inp.value > hi) { inp.value = hi; }
    inp.parentNode.querySelector("output").textContent = inp.value;
  }

  /* root: the explorer's element (or its id); group: a name unique to this copy on the page */
  function rootOf(root) { return typeof root === "string" ? document.getElementById(root) : root; }
  function mountConv(root, cfg) {
    var rootEl = rootOf(root), ctl = rootEl.querySelector(".cl-controls"), inputs = {}, timer = null;
    var group = rootEl.id + "-mode-" + Math.random().toString(36).slice(2, 8);
    var pic = rootEl.querySelector(".cl-picture"), txt = rootEl.querySelector(".cl-text");
    var sliders = el("div", { "class": "cl-grid" }), row3 = el("div", { "class": "cl-row" });
    ctl.appendChild(sliders); ctl.appendChild(row3);
    ["height", "width", "kernel_size", "stride", "padding", "dilation"].forEach(function (nm) {
      var rg = cfg.ranges[nm];
      inputs[nm] = slider(sliders, nm, nm, rg[0], rg[1], cfg[nm], update);
    });
    var modes = el("span", { "class": "cl-modes", role: "radiogroup" });
    ["conv", "pool-floor", "pool-ceil", "transposed"].forEach(function (m) {
      var lab = el("label", { "class": "cl-mode" });
      var r = el("input", { type: "radio", name: group, value: m });
      if (m === cfg.mode) { r.checked = true; }
      r.addEventListener("change", update);
      lab.appendChild(r); lab.appendChild(document.createTextNode(" " + m)); modes.appendChild(lab);
    });
    row3.appendChild(modes);
    inputs.step = slider(row3, "step", "position", 0, 0, 0, draw);
    var play = el("button", { type: "button", "class": "cl-play" }, "▶ play");
    row3.appendChild(play);
    play.addEventListener("click", function () {
      if (timer) { clearInterval(timer); timer = null; play.innerHTML = "▶ play"; return; }
      play.innerHTML = "❚❚ pause";
      timer = setInterval(function () {
        if (!rootEl.isConnected) { clearInterval(timer); timer = null; return; }  // output was cleared
        var s = inputs.step;
        s.value = +s.value >= +s.max ? 0 : +s.value + 1;
        s.dispatchEvent(new Event("input"));
      }, 700);
    });
    var state = null;
    function settings() {
      var c = {};
      ["height", "width", "kernel_size", "stride", "padding", "dilation"].forEach(function (nm) { c[nm] = +inputs[nm].value; });
      c.mode = rootEl.querySelector('input[type=radio]:checked').value;
      return c;
    }
    function update() {
      state = convState(settings());
      setRange(inputs.step, Math.max(state.steps - 1, 0));
      inputs.step.disabled = state.steps <= 1;
      draw();
    }
    function draw() {
      pic.innerHTML = convSvg(state, +inputs.step.value);
      txt.innerHTML = convText(state);
      rootEl.setAttribute("data-output-size", state.output_size === null ? "none" : state.output_size.join("x"));
    }
    update();
    inputs.step.value = Math.min(cfg.step, Math.max(state.steps - 1, 0));
    inputs.step.parentNode.querySelector("output").textContent = inputs.step.value;
    draw();
    return { state: function () { return state; } };
  }

  function mountTracer(root, cfg) {
    var rootEl = rootOf(root), ctl = rootEl.querySelector(".cl-controls");
    var pic = rootEl.querySelector(".cl-picture"), txt = rootEl.querySelector(".cl-text"), R = cfg.ranges;
    var top = el("div", { "class": "cl-row" }), stack = el("div", { "class": "cl-stack" }), bottom = el("div", { "class": "cl-row" });
    ctl.appendChild(top); ctl.appendChild(stack); ctl.appendChild(bottom);
    var size = slider(top, "input_size", "input size", R.input_size[0], R.input_size[1], cfg.input_size, update);
    var add = el("button", { type: "button", "class": "cl-add" }, "+ add layer");
    top.appendChild(add);
    var unitR = slider(bottom, "unit_row", "unit row", 0, 0, cfg.unit[0], update);
    var unitC = slider(bottom, "unit_col", "unit col", 0, 0, cfg.unit[1], update);
    var state = null;
    function addRow(L) {
      var row = el("div", { "class": "cl-layer cl-row" });
      var kind = el("select", { name: "kind", "aria-label": "kind" }, '<option value="conv">conv</option><option value="pool">pool</option>');
      kind.value = L.kind; row.appendChild(kind);
      ["kernel_size", "stride", "padding", "dilation"].forEach(function (nm) {
        slider(row, nm, nm.charAt(0), R[nm][0], R[nm][1], L[nm], update).parentNode.title = nm;
      });
      var cl = el("label", { "class": "cl-check" }), ceil = el("input", { type: "checkbox", name: "ceil_mode" });
      ceil.checked = !!L.ceil_mode; cl.appendChild(ceil); cl.appendChild(document.createTextNode(" ceil_mode")); row.appendChild(cl);
      var rm = el("button", { type: "button", "class": "cl-remove", title: "remove this layer" }, "✕");
      row.appendChild(rm);
      kind.addEventListener("change", update); ceil.addEventListener("change", update);
      rm.addEventListener("click", function () { stack.removeChild(row); update(); });
      stack.appendChild(row);
    }
    add.addEventListener("click", function () { addRow({ kind: "conv", kernel_size: 3, stride: 1, padding: 1, dilation: 1, ceil_mode: false }); update(); });
    function layers() {
      return Array.prototype.map.call(stack.querySelectorAll(".cl-layer"), function (row) {
        var g = function (nm) { return +row.querySelector('input[name="' + nm + '"]').value; };
        var kind = row.querySelector("select").value, ceil = row.querySelector('input[name="ceil_mode"]');
        ceil.disabled = kind !== "pool";
        return { kind: kind, kernel_size: g("kernel_size"), stride: g("stride"), padding: g("padding"), dilation: g("dilation"),
          ceil_mode: kind === "pool" && ceil.checked };
      });
    }
    function update() {
      var ls = layers(), n = +size.value;
      state = tracerState(ls, n, [+unitR.value, +unitC.value]);
      var nl = state.fields.length ? state.fields[state.fields.length - 1].output_size : n;
      setRange(unitR, nl - 1); setRange(unitC, nl - 1);
      state = tracerState(ls, n, [+unitR.value, +unitC.value]);
      pic.innerHTML = tracerSvg(state);
      txt.innerHTML = tracerText(state);
      rootEl.setAttribute("data-receptive-field", state.receptive_field === null ? "none" : String(state.receptive_field));
    }
    cfg.layers.forEach(addRow);
    setRange(unitR, R.input_size[1]); setRange(unitC, R.input_size[1]);
    unitR.value = cfg.unit[0]; unitC.value = cfg.unit[1];
    update();
    return { state: function () { return state; } };
  }

  root.courseLibExplorers = {
    convOutputSize: convOutputSize, convTransposeOutputSize: convTransposeOutputSize, axisGeometry: axisGeometry,
    convState: convState, receptiveFields: receptiveFields, tracerState: tracerState, convSvg: convSvg,
    convText: convText, tracerSvg: tracerSvg, tracerText: tracerText, mountConv: mountConv, mountTracer: mountTracer,
    instances: {}
  };
})(typeof window !== "undefined" ? window : globalThis);
