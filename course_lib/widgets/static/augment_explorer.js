/* course_lib augmentation explorer for the static book (chapter 7). No CDN, no fetch.
   The numeric functions are JS ports of course_lib.augment (random_crop's window for a given
   offset, hflip, adjust_brightness, adjust_contrast, adjust_saturation, in augmenter's order) and
   of course_lib.whitening.PixelWhitener.transform; tests/test_augment_view.py runs them in Node
   and compares them with the Python functions. Images are flat arrays in (C, H, W) order. */
(function (root) {
  "use strict";
  if (root.courseLibAugmentExplorer) { return; }

  var LUMA = [0.2989, 0.587, 0.114];          /* course_lib.augment.LUMA_WEIGHTS (torchvision's) */

  /* ---- numbers ---- */
  function clamp01(v) { return v < 0 ? 0 : (v > 1 ? 1 : v); }
  /* pad by p on every side with fill[c], then the H x W window whose top-left corner is (dy, dx) */
  function padCrop(img, C, H, W, p, dy, dx, fill) {
    var out = new Array(C * H * W), c, i, j, r, s;
    for (c = 0; c < C; c++) {
      for (i = 0; i < H; i++) {
        for (j = 0; j < W; j++) {
          r = i + dy - p; s = j + dx - p;           /* the source pixel in the unpadded image */
          out[(c * H + i) * W + j] = (r >= 0 && r < H && s >= 0 && s < W) ? img[(c * H + r) * W + s] : fill[c];
        }
      }
    }
    return out;
  }
  function hflip(img, C, H, W) {
    var out = new Array(C * H * W), c, i, j;
    for (c = 0; c < C; c++) { for (i = 0; i < H; i++) { for (j = 0; j < W; j++) { out[(c * H + i) * W + j] = img[(c * H + i) * W + W - 1 - j]; } } }
    return out;
  }
  /* grey value of every pixel (C = 3: luma weights; C = 1: the pixel itself) */
  function grey(img, C, H, W) {
    var n = H * W, out = new Array(n), i;
    for (i = 0; i < n; i++) { out[i] = C === 3 ? LUMA[0] * img[i] + LUMA[1] * img[n + i] + LUMA[2] * img[2 * n + i] : img[i]; }
    return out;
  }
  /* f x + (1 - f) other, clipped; other is per pixel (length H W, shared by channels) or a number */
  function blend(img, C, H, W, f, other) {
    var n = H * W, out = new Array(C * n), c, i, o;
    for (c = 0; c < C; c++) {
      for (i = 0; i < n; i++) {
        o = typeof other === "number" ? other : other[i];
        out[c * n + i] = clamp01(f * img[c * n + i] + (1 - f) * o);
      }
    }
    return out;
  }
  function brightness(img, C, H, W, f) { return blend(img, C, H, W, f, 0); }
  function contrast(img, C, H, W, f) {
    var g = grey(img, C, H, W), m = 0, i;
    for (i = 0; i < g.length; i++) { m += g[i]; }
    return blend(img, C, H, W, f, m / g.length);
  }
  function saturation(img, C, H, W, f) { return C === 1 ? img.slice() : blend(img, C, H, W, f, grey(img, C, H, W)); }
  /* one augmented image for fixed parameters, in augmenter's order: crop, flip, brightness, contrast, saturation */
  function augment(img, C, H, W, q) {
    var x = padCrop(img, C, H, W, q.padding, q.dy, q.dx, q.fill);
    if (q.flip) { x = hflip(x, C, H, W); }
    if (q.brightness !== 1) { x = brightness(x, C, H, W, q.brightness); }
    if (q.contrast !== 1) { x = contrast(x, C, H, W, q.contrast); }
    if (q.saturation !== 1) { x = saturation(x, C, H, W, q.saturation); }
    return x;
  }
  /* PixelWhitener.transform: (x - M) / (S + eps), M and S per (channel, row, column) */
  function whiten(img, M, S, eps) {
    var out = new Array(img.length), i;
    for (i = 0; i < img.length; i++) { out[i] = (img[i] - M[i]) / (S[i] + eps); }
    return out;
  }
  /* a small seeded generator (mulberry32); the page's draws, not torch's */
  function rng(seed) {
    var a = seed >>> 0;
    return function () {
      a = (a + 0x6D2B79F5) >>> 0;
      var t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  /* n random parameter sets with color_jitter's ranges: factor uniform in [max(0, 1 - s), 1 + s] */
  function drawParams(n, seed, padding, flip, strengths, fill) {
    var u = rng(seed), out = [], k;
    var factor = function (s) { if (s <= 0) { return 1; } var lo = Math.max(0, 1 - s), hi = 1 + s; return lo + (hi - lo) * u(); };
    for (k = 0; k < n; k++) {
      var q = { padding: padding, fill: fill };
      q.dy = Math.floor(u() * (2 * padding + 1)); q.dx = Math.floor(u() * (2 * padding + 1));
      q.flip = flip ? u() < 0.5 : false;
      q.brightness = factor(strengths[0]); q.contrast = factor(strengths[1]); q.saturation = factor(strengths[2]);
      out.push(q);
    }
    return out;
  }
  function minMax(a) { var lo = Infinity, hi = -Infinity; for (var i = 0; i < a.length; i++) { if (a[i] < lo) { lo = a[i]; } if (a[i] > hi) { hi = a[i]; } } return [lo, hi]; }

  /* ---- drawing ---- */
  function esc(t) { return String(t).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }
  function paintRGB(canvas, img, C, H, W) {
    canvas.width = W; canvas.height = H;
    var ctx = canvas.getContext("2d"); if (!ctx) { return; }
    var im = ctx.createImageData(W, H), n = H * W, i, c;
    for (i = 0; i < n; i++) {
      for (c = 0; c < 3; c++) { im.data[4 * i + c] = Math.round(255 * clamp01(img[(C === 3 ? c : 0) * n + i])); }
      im.data[4 * i + 3] = 255;
    }
    ctx.putImageData(im, 0, 0);
  }
  /* the channel average of a signed image: red +, white 0, blue -, symmetric scale m */
  function paintSigned(canvas, img, C, H, W, m) {
    canvas.width = W; canvas.height = H;
    var ctx = canvas.getContext("2d"); if (!ctx) { return; }
    var im = ctx.createImageData(W, H), n = H * W, i, c, v, t;
    for (i = 0; i < n; i++) {
      v = 0; for (c = 0; c < C; c++) { v += img[c * n + i] / C; }
      t = Math.min(Math.abs(v) / (m || 1), 1);
      im.data[4 * i] = v >= 0 ? 255 : Math.round(255 * (1 - t));
      im.data[4 * i + 1] = Math.round(255 * (1 - t));
      im.data[4 * i + 2] = v >= 0 ? Math.round(255 * (1 - t)) : 255;
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
  function checkbox(parent, name, label, value, onchange) {
    var lab = el("label", { "class": "cl-slider" }), inp = el("input", { type: "checkbox", name: name, "aria-label": name });
    inp.checked = !!value;
    lab.appendChild(el("span", {}, esc(label))); lab.appendChild(inp);
    inp.addEventListener("change", onchange);
    parent.appendChild(lab);
    return inp;
  }
  function select(parent, name, label, options, value, onchange) {
    var lab = el("label", { "class": "cl-slider" }), s = el("select", { name: name, "aria-label": name });
    options.forEach(function (o) { var op = el("option", { value: o }, esc(o)); if (o === value) { op.selected = true; } s.appendChild(op); });
    lab.appendChild(el("span", {}, esc(label))); lab.appendChild(s);
    s.value = value;
    s.addEventListener("change", onchange);
    parent.appendChild(lab);
    return s;
  }
  function panel(parent, title, small) {
    var fig = el("figure", { "class": "cl-panel" }), c = el("canvas", { "class": "cl-canvas" });
    if (small) { c.style.width = "84px"; c.style.height = "84px"; }
    fig.appendChild(c); fig.appendChild(el("figcaption", {}, esc(title)));
    parent.appendChild(fig);
    return { canvas: c, caption: fig.querySelector("figcaption") };
  }
  function rootOf(r) { return typeof r === "string" ? document.getElementById(r) : r; }
  var two = function (v) { return v.toFixed(2); };

  function mountAugment(rootArg, cfg) {
    var rootEl = rootOf(rootArg), ctl = rootEl.querySelector(".cl-controls"), pic = rootEl.querySelector(".cl-picture");
    var txt = rootEl.querySelector(".cl-text"), im = cfg.image, C = im.channels, H = im.height, W = im.width, P = cfg.max_padding;
    var h1 = el("div", { "class": "cl-msg" }, "<b>One augmented copy, set by hand</b>"), g1 = el("div", { "class": "cl-grid" });
    var h2 = el("div", { "class": "cl-msg" }, "<b>Random draws</b> (each factor uniform in [max(0, 1 − s), 1 + s], offsets uniform in 0 … 2p)");
    var g2 = el("div", { "class": "cl-grid" });
    ctl.appendChild(h1); ctl.appendChild(g1);
    var inp = {};
    inp.padding = slider(g1, "padding", "padding p", 0, P, 1, cfg.padding, function () { syncOffsets(); update(); });
    inp.dy = slider(g1, "dy", "offset dy", 0, 2 * P, 1, cfg.dy, update);
    inp.dx = slider(g1, "dx", "offset dx", 0, 2 * P, 1, cfg.dx, update);
    inp.flip = checkbox(g1, "flip", "mirror (hflip)", cfg.flip, update);
    inp.brightness = slider(g1, "brightness", "brightness f", 0, 2, 0.05, cfg.brightness, update, two);
    inp.contrast = slider(g1, "contrast", "contrast f", 0, 2, 0.05, cfg.contrast, update, two);
    inp.saturation = slider(g1, "saturation", "saturation f", 0, 2, 0.05, cfg.saturation, update, two);
    var fills = Object.keys(cfg.fills);
    inp.fill = select(g1, "fill", "padding fill", fills, cfg.fill, update);
    if (cfg.whitening) {
      inp.eps = slider(g1, "log10_eps", "ε (Procedure 17.1)", -3, 0, 0.1, Math.log10(cfg.eps), update,
        function (v) { return Math.pow(10, v).toPrecision(2); });
    }
    ctl.appendChild(h2); ctl.appendChild(g2);
    inp.s_brightness = slider(g2, "s_brightness", "brightness s", 0, 1, 0.05, cfg.strengths[0], update, two);
    inp.s_contrast = slider(g2, "s_contrast", "contrast s", 0, 1, 0.05, cfg.strengths[1], update, two);
    inp.s_saturation = slider(g2, "s_saturation", "saturation s", 0, 1, 0.05, cfg.strengths[2], update, two);
    inp.random_flip = checkbox(g2, "random_flip", "random flip (p = ½)", true, update);
    inp.seed = slider(g2, "seed", "seed", 0, 99, 1, cfg.seed, update);

    var top = el("div", { "class": "cl-row" }), grid = el("div", { "class": "cl-row" });
    pic.innerHTML = ""; pic.appendChild(top); pic.appendChild(grid);
    var pOrig = panel(top, "original"), pAug = panel(top, "augmented"), pWh = cfg.whitening ? panel(top, "standardised per pixel (channel mean; red +, blue −)") : null;
    var pDraws = [], k;
    for (k = 0; k < cfg.draws; k++) { pDraws.push(panel(grid, "draw " + (k + 1), true)); }
    paintRGB(pOrig.canvas, im.data, C, H, W);
    function syncOffsets() {           /* offsets live in 0 .. 2p; p itself leaves the image in place */
      var p = +inp.padding.value;
      [inp.dy, inp.dx].forEach(function (s) { s.max = 2 * p; if (+s.value > 2 * p) { s.value = p; } s.dispatchEvent(new Event("input")); });
    }
    var state = null;
    function update() {
      var p = +inp.padding.value, fill = cfg.fills[inp.fill.value];
      var q = { padding: p, dy: Math.min(+inp.dy.value, 2 * p), dx: Math.min(+inp.dx.value, 2 * p), flip: inp.flip.checked,
        brightness: +inp.brightness.value, contrast: +inp.contrast.value, saturation: +inp.saturation.value, fill: fill };
      var x = augment(im.data, C, H, W, q);
      paintRGB(pAug.canvas, x, C, H, W);
      var msg = "augmented: shift by (" + (p - q.dy) + ", " + (p - q.dx) + ") pixels (down, right)" + (q.flip ? ", mirrored" : "") +
        "; brightness " + two(q.brightness) + ", contrast " + two(q.contrast) + ", saturation " + two(q.saturation);
      state = { params: q, augmented: x };
      if (cfg.whitening) {
        var eps = Math.pow(10, +inp.eps.value), w = whiten(x, cfg.whitening.mean, cfg.whitening.std, eps), r = minMax(w);
        var m = Math.max(Math.abs(r[0]), Math.abs(r[1]));
        paintSigned(pWh.canvas, w, C, H, W, m);
        msg += "<br>standardised per pixel with the training M and S, ε = " + eps.toPrecision(2) + ": values from " + r[0].toFixed(2) + " to " + r[1].toFixed(2);
        state.eps = eps; state.whitened_range = r;
      }
      var draws = drawParams(cfg.draws, +inp.seed.value, p, inp.random_flip.checked,
        [+inp.s_brightness.value, +inp.s_contrast.value, +inp.s_saturation.value], fill);
      draws.forEach(function (d, i) {
        paintRGB(pDraws[i].canvas, augment(im.data, C, H, W, d), C, H, W);
        pDraws[i].caption.textContent = "(" + (p - d.dy) + "," + (p - d.dx) + ")" + (d.flip ? " ⇆" : "") + " b" + two(d.brightness);
      });
      state.draws = draws;
      txt.innerHTML = '<div class="cl-msg">' + msg + "</div>";
    }
    update();
    return { state: function () { return state; } };
  }

  root.courseLibAugmentExplorer = {
    padCrop: padCrop, hflip: hflip, grey: grey, brightness: brightness, contrast: contrast, saturation: saturation,
    augment: augment, whiten: whiten, rng: rng, drawParams: drawParams, mountAugment: mountAugment, instances: {}
  };
})(typeof window !== "undefined" ? window : globalThis);
