/* course_lib image explorers for the static book: kernel playground, Gabor explorer, HoG arithmetic,
   digit scores. No CDN, no fetch. The numeric functions are JS ports of course_lib (conv.correlate2d,
   gabor.gabor_kernel, features.hog_shape, the playground's threshold rule), tested against the
   Python versions in tests/test_widgets_static.py (Node) and tests/test_widgets_browser.py. The digit
   scores explorer computes nothing: it looks up frames precomputed by static_views.digit_score_grid. */
(function (root) {
  "use strict";
  if (root.courseLibImageExplorers) { return; }   /* several explorers on one page share this */

  /* ---- numbers ---- */
  /* valid cross-correlation of an H x W image (flat, row-major) with a kh x kw kernel */
  function correlate2d(img, H, W, k, kh, kw) {
    var Ho = H - kh + 1, Wo = W - kw + 1, out = new Array(Math.max(Ho, 0) * Math.max(Wo, 0)), i, j, u, v, s;
    if (Ho < 1 || Wo < 1) { return { data: [], height: 0, width: 0 }; }
    for (i = 0; i < Ho; i++) {
      for (j = 0; j < Wo; j++) {
        s = 0;
        for (u = 0; u < kh; u++) { for (v = 0; v < kw; v++) { s += k[u * kw + v] * img[(i + u) * W + j + v]; } }
        out[i * Wo + j] = s;
      }
    }
    return { data: out, height: Ho, width: Wo };
  }
  /* course_lib.gabor.gabor_kernel: A exp(-alpha x~^2 - beta y~^2) sin(omega x~ + phi), x right, y down */
  function gaborKernel(size, theta, omega, phi, alpha, beta) {
    var h = (size - 1) / 2, out = new Array(size * size), r, c, x, y, xt, yt;
    var ct = Math.cos(theta), st = Math.sin(theta);
    for (r = 0; r < size; r++) {
      for (c = 0; c < size; c++) {
        x = c - h; y = r - h;
        xt = x * ct + y * st; yt = -x * st + y * ct;
        out[r * size + c] = Math.exp(-alpha * xt * xt - beta * yt * yt) * Math.sin(omega * xt + phi);
      }
    }
    return out;
  }
  function maxOf(a) { var m = -Infinity; for (var i = 0; i < a.length; i++) { if (a[i] > m) { m = a[i]; } } return m; }
  function minOf(a) { var m = Infinity; for (var i = 0; i < a.length; i++) { if (a[i] < m) { m = a[i]; } } return m; }
  /* the playground's rule: threshold = fraction x max(largest response, 0); detect fm >= thr and fm > 0 */
  function detections(fm, fraction) {
    var thr = fraction * Math.max(maxOf(fm), 0), det = fm.map(function (v) { return v >= thr && v > 0; });
    return { threshold: thr, mask: det, count: det.filter(Boolean).length };
  }
  /* course_lib.features.hog_shape */
  function hogShape(h, w, ppc, bins, cpb) {
    var cells = [Math.floor(h / ppc), Math.floor(w / ppc)];
    if (cells[0] < cpb || cells[1] < cpb) {
      return { error: "a " + h + " × " + w + " image has only " + cells[0] + " × " + cells[1] + " cells of " + ppc + " × " + ppc +
        " pixels, fewer than one block of " + cpb + " × " + cpb + " cells", cells: cells };
    }
    var blocks = [cells[0] - cpb + 1, cells[1] - cpb + 1];
    return { error: null, cells: cells, cell_values: cells[0] * cells[1] * bins, blocks: blocks,
             length: blocks[0] * blocks[1] * cpb * cpb * bins };
  }
  function fmt(v) { return String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ","); }
  function g3(v) { return Number(v.toPrecision(3)).toString(); }

  /* ---- drawing ---- */
  function esc(t) { return String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }
  /* a canvas with one pixel per value, scaled up by CSS (crisp); signed: red +, white 0, blue - */
  /* fixed: optional [lo, hi] grey range (default: the data's own min and max) */
  function paint(canvas, data, H, W, signed, marks, fixed) {
    canvas.width = Math.max(W, 1); canvas.height = Math.max(H, 1);
    var ctx = canvas.getContext("2d"); if (!ctx) { return; }
    var im = ctx.createImageData(canvas.width, canvas.height), lo = fixed ? fixed[0] : minOf(data), hi = fixed ? fixed[1] : maxOf(data);
    var m = Math.max(Math.abs(lo), Math.abs(hi)) || 1, i, v, t;
    for (i = 0; i < H * W; i++) {
      v = data[i];
      if (signed) {
        t = Math.min(Math.abs(v) / m, 1);
        im.data[4 * i] = v >= 0 ? 255 : Math.round(255 * (1 - t));
        im.data[4 * i + 1] = Math.round(255 * (1 - t));
        im.data[4 * i + 2] = v >= 0 ? Math.round(255 * (1 - t)) : 255;
      } else {
        t = hi > lo ? Math.round(255 * Math.min(Math.max((v - lo) / (hi - lo), 0), 1)) : 0;
        im.data[4 * i] = im.data[4 * i + 1] = im.data[4 * i + 2] = t;
      }
      if (marks && marks[i]) { im.data[4 * i] = 230; im.data[4 * i + 1] = 30; im.data[4 * i + 2] = 30; }
      im.data[4 * i + 3] = 255;
    }
    ctx.putImageData(im, 0, 0);
  }

  /* ---- controls (every control opts out of JupyterLab's notebook shortcuts itself) ---- */
  function el(tag, attrs, html) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (a) { e.setAttribute(a, attrs[a]); });
    if (tag === "input" || tag === "select" || tag === "button" || tag === "textarea") {
      e.setAttribute("data-lm-suppress-shortcuts", "true");
    }
    if (html !== undefined) { e.innerHTML = html; }
    return e;
  }
  function slider(parent, name, label, lo, hi, step, value, onchange, show) {
    var lab = el("label", { "class": "cl-slider" }), out = el("output", {});
    var inp = el("input", { type: "range", name: name, min: lo, max: hi, step: step, value: value, "aria-label": name });
    var text = function () { out.textContent = show ? show(+inp.value) : inp.value; };
    lab.appendChild(el("span", {}, esc(label))); lab.appendChild(inp); lab.appendChild(out); text();
    inp.addEventListener("input", function () { text(); onchange(); });
    parent.appendChild(lab);
    return inp;
  }
  function select(parent, name, label, options, value, onchange) {
    var lab = el("label", { "class": "cl-slider" }), s = el("select", { name: name, "aria-label": name });
    options.forEach(function (o) { var op = el("option", { value: o }, esc(o)); if (o === value) { op.selected = true; } s.appendChild(op); });
    lab.appendChild(el("span", {}, esc(label))); lab.appendChild(s);
    s.addEventListener("change", onchange);
    parent.appendChild(lab);
    return s;
  }
  function panel(parent, title) {
    var fig = el("figure", { "class": "cl-panel" }), c = el("canvas", { "class": "cl-canvas" });
    fig.appendChild(c); fig.appendChild(el("figcaption", {}, esc(title)));
    parent.appendChild(fig);
    return { canvas: c, caption: fig.querySelector("figcaption") };
  }
  function rootOf(r) { return typeof r === "string" ? document.getElementById(r) : r; }

  /* ---- kernel playground (chapter 3) ---- */
  function mountKernel(rootArg, cfg) {
    var rootEl = rootOf(rootArg), ctl = rootEl.querySelector(".cl-controls"), pic = rootEl.querySelector(".cl-picture");
    var txt = rootEl.querySelector(".cl-text"), row = el("div", { "class": "cl-row" }), kgrid = el("div", { "class": "cl-kernel" });
    ctl.appendChild(row); ctl.appendChild(kgrid);
    var names = Object.keys(cfg.images), presets = Object.keys(cfg.presets);
    var imgSel = select(row, "image", "image", names, cfg.image, update);
    var preSel = select(row, "preset", "kernel", presets.concat(["(edited)"]), cfg.preset, function () {
      if (preSel.value !== "(edited)") { setKernel(cfg.presets[preSel.value]); } update();
    });
    var thr = slider(row, "threshold", "threshold × max", 0, 1, 0.05, cfg.threshold, update, function (v) { return v.toFixed(2); });
    var K = cfg.presets[cfg.preset].length, cells = [], r, c;
    kgrid.style.gridTemplateColumns = "repeat(" + K + ", 3.6em)";
    for (r = 0; r < K; r++) {
      for (c = 0; c < K; c++) {
        var inp = el("input", { type: "number", step: "0.5", name: "k" + r + c, "aria-label": "kernel row " + r + " column " + c });
        inp.addEventListener("input", function () { preSel.value = "(edited)"; update(); });
        kgrid.appendChild(inp); cells.push(inp);
      }
    }
    function setKernel(k2) { for (var i = 0; i < K * K; i++) { cells[i].value = k2[Math.floor(i / K)][i % K]; } }
    setKernel(cfg.presets[cfg.preset]);
    var panels = el("div", { "class": "cl-row" }); pic.innerHTML = ""; pic.appendChild(panels);
    var pImg = panel(panels, "image"), pMap = panel(panels, "feature map (red +, blue −)"), pDet = panel(panels, "detections (red)");
    var state = null;
    function update() {
      var im = cfg.images[imgSel.value], k = cells.map(function (e) { return +e.value || 0; });
      var fm = correlate2d(im.data, im.height, im.width, k, K, K), det = detections(fm.data, +thr.value);
      /* detections sit at the centre of their window on the image */
      var marks = new Array(im.height * im.width).fill(false), h = Math.floor(K / 2);
      for (var i = 0; i < fm.height; i++) { for (var j = 0; j < fm.width; j++) { if (det.mask[i * fm.width + j]) { marks[(i + h) * im.width + j + h] = true; } } }
      paint(pImg.canvas, im.data, im.height, im.width, false);
      paint(pMap.canvas, fm.data, fm.height, fm.width, true);
      paint(pDet.canvas, im.data, im.height, im.width, false, marks);
      state = { kernel: k, feature_map: fm.data, shape: [fm.height, fm.width], threshold: det.threshold, count: det.count };
      txt.innerHTML = '<div class="cl-msg">feature map ' + fm.height + "×" + fm.width + ", responses " + esc(g3(minOf(fm.data))) +
        " … " + esc(g3(maxOf(fm.data))) + "; threshold " + esc(g3(det.threshold)) + " → " + det.count + " detections</div>";
      rootEl.setAttribute("data-detections", String(det.count));
    }
    update();
    return { state: function () { return state; } };
  }

  /* ---- Gabor explorer (chapter 6) ---- */
  function mountGabor(rootArg, cfg) {
    var rootEl = rootOf(rootArg), ctl = rootEl.querySelector(".cl-controls"), pic = rootEl.querySelector(".cl-picture");
    var txt = rootEl.querySelector(".cl-text"), grid = el("div", { "class": "cl-grid" }), R = cfg.ranges, inputs = {};
    ctl.appendChild(grid);
    var deg = function (v) { return Math.round(v * 180 / Math.PI) + "°"; };
    var shows = { theta: deg, phi: deg, omega: function (v) { return v.toFixed(2); }, alpha: function (v) { return v.toFixed(3); },
      beta: function (v) { return v.toFixed(3); }, size: String };
    ["theta", "omega", "phi", "alpha", "beta", "size"].forEach(function (nm) {
      inputs[nm] = slider(grid, nm, nm === "theta" ? "θ" : nm === "omega" ? "ω" : nm === "phi" ? "φ" : nm === "alpha" ? "α" : nm === "beta" ? "β" : "size",
        R[nm][0], R[nm][1], R[nm][2], cfg[nm], update, shows[nm]);
    });
    var panels = el("div", { "class": "cl-row" }); pic.innerHTML = ""; pic.appendChild(panels);
    var pK = panel(panels, "kernel (red +, blue −)"), pI = panel(panels, "image"), pR = panel(panels, "response (red +, blue −)");
    var state = null;
    function update() {
      var v = {}; Object.keys(inputs).forEach(function (nm) { v[nm] = +inputs[nm].value; });
      var size = v.size, im = cfg.image;
      var k = gaborKernel(size, v.theta, v.omega, v.phi, v.alpha, v.beta);
      var resp = correlate2d(im.data, im.height, im.width, k, size, size);
      paint(pK.canvas, k, size, size, true);
      paint(pI.canvas, im.data, im.height, im.width, false);
      paint(pR.canvas, resp.data, resp.height, resp.width, true);
      var wavelength = v.omega > 0 ? (2 * Math.PI / v.omega).toFixed(1) + " px" : "∞";
      state = { values: v, kernel: k, response: resp.data, shape: [resp.height, resp.width] };
      txt.innerHTML = '<div class="cl-msg">θ = ' + deg(v.theta) + ", ω = " + v.omega.toFixed(2) + " rad/px (wavelength " + wavelength +
        "), φ = " + deg(v.phi) + ", α = " + v.alpha.toFixed(3) + ", β = " + v.beta.toFixed(3) + "; response " + resp.height + "×" + resp.width +
        ", strongest " + esc(g3(maxOf(resp.data))) + ", weakest " + esc(g3(minOf(resp.data))) + "</div>";
    }
    update();
    return { state: function () { return state; } };
  }

  /* ---- HoG arithmetic (chapter 2) ---- */
  function hogSvg(h, w, ppc, cpb, sh) {
    var scale = Math.min(560 / w, 320 / h), W = Math.round(w * scale), H = Math.round(h * scale), parts = [], t, x0 = 10, y0 = 10;
    parts.push('<rect x="' + x0 + '" y="' + y0 + '" width="' + W + '" height="' + H + '" fill="#ffffff" stroke="#444444"/>');
    if (!sh.error) {
      var cw = ppc * scale, d = "";
      var gw = sh.cells[1] * cw, gh = sh.cells[0] * cw;
      if (cw >= 3) {
        for (t = 0; t <= sh.cells[1]; t++) { d += "M" + (x0 + t * cw).toFixed(1) + " " + y0 + "V" + (y0 + gh).toFixed(1); }
        for (t = 0; t <= sh.cells[0]; t++) { d += "M" + x0 + " " + (y0 + t * cw).toFixed(1) + "H" + (x0 + gw).toFixed(1); }
        parts.push('<path d="' + d + '" stroke="#9aa3ad" stroke-width="1" fill="none"/>');
      }
      if (gw < W - 0.5) { parts.push('<rect x="' + (x0 + gw).toFixed(1) + '" y="' + y0 + '" width="' + (W - gw).toFixed(1) + '" height="' + H + '" fill="#bdbdbd"/>'); }
      if (gh < H - 0.5) { parts.push('<rect x="' + x0 + '" y="' + (y0 + gh).toFixed(1) + '" width="' + gw.toFixed(1) + '" height="' + (H - gh).toFixed(1) + '" fill="#bdbdbd"/>'); }
      parts.push('<rect x="' + x0 + '" y="' + y0 + '" width="' + (cpb * cw).toFixed(1) + '" height="' + (cpb * cw).toFixed(1) +
        '" fill="#f2a144" fill-opacity="0.6" stroke="#b5530c" stroke-width="2"/>');
      if (sh.blocks[1] > 1) {
        parts.push('<rect x="' + (x0 + cw).toFixed(1) + '" y="' + y0 + '" width="' + (cpb * cw).toFixed(1) + '" height="' + (cpb * cw).toFixed(1) +
          '" fill="none" stroke="#b5530c" stroke-width="2" stroke-dasharray="4 3"/>');
      }
    }
    return '<svg xmlns="http://www.w3.org/2000/svg" width="' + (W + 20) + '" height="' + (H + 20) + '" viewBox="0 0 ' + (W + 20) + " " + (H + 20) +
      '" font-family="sans-serif">' + parts.join("") + "</svg>";
  }
  function hogText(h, w, ppc, bins, cpb, sh) {
    if (sh.error) { return '<div class="cl-msg cl-error">Impossible: ' + esc(sh.error) + "</div>"; }
    return '<div class="cl-formula">cells: ⌊' + h + " / " + ppc + "⌋ × ⌊" + w + " / " + ppc + "⌋ = " + sh.cells[0] + " × " + sh.cells[1] +
      '</div><div class="cl-formula">cell histograms: ' + sh.cells[0] + " × " + sh.cells[1] + " × " + bins + " bins = " + fmt(sh.cell_values) +
      ' numbers</div><div class="cl-formula">blocks of ' + cpb + " × " + cpb + " cells, one cell apart: " + sh.blocks[0] + " × " + sh.blocks[1] +
      '</div><div class="cl-shape">feature length D = ' + sh.blocks[0] + " × " + sh.blocks[1] + " × " + cpb + " × " + cpb + " × " + bins + " = <b>" +
      fmt(sh.length) + "</b></div>";
  }
  function mountHog(rootArg, cfg) {
    var rootEl = rootOf(rootArg), ctl = rootEl.querySelector(".cl-controls"), pic = rootEl.querySelector(".cl-picture");
    var txt = rootEl.querySelector(".cl-text"), grid = el("div", { "class": "cl-grid" }), R = cfg.ranges, inputs = {};
    ctl.appendChild(grid);
    ["height", "width", "pixels_per_cell", "orientations", "cells_per_block"].forEach(function (nm) {
      inputs[nm] = slider(grid, nm, nm.replace(/_/g, " "), R[nm][0], R[nm][1], R[nm][2], cfg[nm], update);
    });
    var state = null;
    function update() {
      var v = {}; Object.keys(inputs).forEach(function (nm) { v[nm] = +inputs[nm].value; });
      var sh = hogShape(v.height, v.width, v.pixels_per_cell, v.orientations, v.cells_per_block);
      pic.innerHTML = hogSvg(v.height, v.width, v.pixels_per_cell, v.cells_per_block, sh);
      txt.innerHTML = hogText(v.height, v.width, v.pixels_per_cell, v.orientations, v.cells_per_block, sh);
      state = sh;
      rootEl.setAttribute("data-length", sh.error ? "none" : String(sh.length));
    }
    update();
    return { state: function () { return state; } };
  }

  /* ---- digit scores (chapter 1): precomputed frames, looked up by three sliders ---- */
  /* one bar per class on a fixed axis [lo, hi] (lo <= 0 <= hi); the arg max is marked */
  function scoreBarsSvg(scores, names, pred, label, lo, hi) {
    var K = scores.length, bw = 34, x0 = 46, y0 = 14, ph = 200, W = x0 + K * bw + 10, parts = [], k;
    var y = function (v) { return y0 + ph * (hi - v) / (hi - lo); };
    var ticks = [], t, tstep = Math.pow(10, Math.floor(Math.log(Math.max(hi - lo, 1e-9) / 2) / Math.LN10));
    if ((hi - lo) / tstep > 10) { tstep *= 5; } else if ((hi - lo) / tstep > 5) { tstep *= 2; }
    for (t = Math.ceil(lo / tstep) * tstep; t <= hi + 1e-9; t += tstep) { ticks.push(Math.round(t / tstep) * tstep); }
    ticks.forEach(function (v) {
      parts.push('<line x1="' + x0 + '" x2="' + (W - 10) + '" y1="' + y(v).toFixed(1) + '" y2="' + y(v).toFixed(1) +
        '" stroke="' + (v === 0 ? "#444444" : "#e3e6e9") + '"/>');
      parts.push('<text x="' + (x0 - 4) + '" y="' + (y(v) + 4).toFixed(1) + '" font-size="11" text-anchor="end" fill="#555555">' +
        esc(g3(v)) + "</text>");
    });
    for (k = 0; k < K; k++) {
      var v = scores[k], top = Math.min(y(v), y(0)), h = Math.abs(y(v) - y(0)), x = x0 + k * bw + 4;
      var fill = k === label ? "#2ca02c" : (k === pred ? "#d62728" : "#9aa3ad");
      parts.push('<rect class="cl-bar" data-class="' + k + '" x="' + x + '" y="' + top.toFixed(1) + '" width="' + (bw - 8) +
        '" height="' + Math.max(h, 0.5).toFixed(1) + '" fill="' + fill + '"' + (k === pred ? ' stroke="#000000" stroke-width="2"' : "") + "/>");
      parts.push('<text x="' + (x + (bw - 8) / 2) + '" y="' + (y0 + ph + 16) + '" font-size="12" text-anchor="middle"' +
        (k === pred ? ' font-weight="bold"' : "") + ">" + esc(names[k]) + "</text>");
      if (k === pred) {
        parts.push('<text class="cl-argmax" x="' + (x + (bw - 8) / 2) + '" y="' + (Math.min(y(v), y(0)) - 4).toFixed(1) +
          '" font-size="12" text-anchor="middle">▼</text>');
      }
    }
    parts.push('<text x="' + x0 + '" y="' + (y0 + ph + 32) + '" font-size="11" fill="#555555">class (▼ and bold: the arg max, the answer)</text>');
    parts.push('<text x="12" y="' + (y0 + ph / 2) + '" font-size="11" fill="#555555" text-anchor="middle" transform="rotate(-90 12 ' +
      (y0 + ph / 2) + ')">score</text>');
    return '<svg xmlns="http://www.w3.org/2000/svg" width="' + W + '" height="' + (y0 + ph + 40) + '" viewBox="0 0 ' + W + " " +
      (y0 + ph + 40) + '" font-family="sans-serif">' + parts.join("") + "</svg>";
  }
  function mountDigitScores(rootArg, cfg) {
    var rootEl = rootOf(rootArg), ctl = rootEl.querySelector(".cl-controls"), pic = rootEl.querySelector(".cl-picture");
    var txt = rootEl.querySelector(".cl-text"), grid = el("div", { "class": "cl-grid" }), S = cfg.shifts, A = cfg.angles;
    var H = cfg.height, W = cfg.width, K = cfg.classes, raw = atob(cfg.pixels), i;
    var pixels = new Uint8Array(raw.length);
    for (i = 0; i < raw.length; i++) { pixels[i] = raw.charCodeAt(i); }
    var lo = Math.min(0, minOf(cfg.scores)), hi = Math.max(0, maxOf(cfg.scores)), pad = 0.05 * (hi - lo || 1);
    lo -= lo < 0 ? pad : 0; hi += pad;
    var px = function (v) { return (v > 0 ? "+" : "") + v; };
    ctl.appendChild(grid);
    var inputs = {
      dx: slider(grid, "dx", "right (px)", S[0], S[S.length - 1], cfg.shift_step, S[cfg.start[2]], update, px),
      dy: slider(grid, "dy", "down (px)", S[0], S[S.length - 1], cfg.shift_step, S[cfg.start[1]], update, px),
      angle: slider(grid, "angle", "angle (°)", A[0], A[A.length - 1], cfg.angle_step, A[cfg.start[0]], update,
        function (v) { return px(Math.round(v * 100) / 100) + "°"; })
    };
    var panels = el("div", { "class": "cl-row" }); pic.innerHTML = ""; pic.appendChild(panels);
    var pDigit = panel(panels, "the moved digit");
    var bars = el("figure", { "class": "cl-panel" }), barPic = el("div", {});
    bars.appendChild(barPic); bars.appendChild(el("figcaption", {}, "class scores" + (cfg.label === null ? "" : " (green: the true class, red: a wrong answer)")));
    panels.appendChild(bars);
    var state = null;
    var nearest = function (list, v) { var b = 0; for (var j = 1; j < list.length; j++) { if (Math.abs(list[j] - v) < Math.abs(list[b] - v)) { b = j; } } return b; };
    function update() {
      var a = nearest(A, +inputs.angle.value), r = nearest(S, +inputs.dy.value), c = nearest(S, +inputs.dx.value);
      var f = (a * S.length + r) * S.length + c, img = new Array(H * W), j;
      for (j = 0; j < H * W; j++) { img[j] = pixels[f * H * W + j] / 255; }
      var scores = cfg.scores.slice(f * K, (f + 1) * K), pred = cfg.predictions[f];
      paint(pDigit.canvas, img, H, W, false, null, [0, 1]);
      barPic.innerHTML = scoreBarsSvg(scores, cfg.names, pred, cfg.label, lo, hi);
      state = { dy: S[r], dx: S[c], angle: A[a], index: [a, r, c], scores: scores, argmax: pred, image: img };
      var verdict = cfg.label === null ? "" : (pred === cfg.label ? ", right" : ", wrong: the digit is " + esc(cfg.names[cfg.label]));
      txt.innerHTML = '<div class="cl-msg">moved ' + px(S[r]) + " px down, " + px(S[c]) + " px right, turned " + px(A[a]) +
        '°: the classifier says <b class="cl-answer">' + esc(cfg.names[pred]) + "</b> (score " + scores[pred].toFixed(2) + ")" + verdict +
        '</div><div class="cl-formula cl-scores">scores: ' + scores.map(function (v, k) { return esc(cfg.names[k]) + " " + v.toFixed(2); }).join(", ") + "</div>";
      rootEl.setAttribute("data-argmax", String(pred));
    }
    update();
    return { state: function () { return state; } };
  }

  root.courseLibImageExplorers = {
    correlate2d: correlate2d, gaborKernel: gaborKernel, detections: detections, hogShape: hogShape, hogText: hogText,
    hogSvg: hogSvg, mountKernel: mountKernel, mountGabor: mountGabor, mountHog: mountHog, scoreBarsSvg: scoreBarsSvg,
    mountDigitScores: mountDigitScores, instances: {}
  };
})(typeof window !== "undefined" ? window : globalThis);
