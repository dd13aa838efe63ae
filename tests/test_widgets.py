"""The interactive explorers (course_lib.widgets), driven through their controls.

Every number an explorer shows is checked against course_lib's own arithmetic and
against torch (shapes of ``conv2d`` / ``max_pool2d`` / ``conv_transpose2d`` on
zeros), the pixels it greys out against torch too, and the static (JS) versions
against the Python ones with Node.js when it is installed. The real-browser
tests live in ``test_widgets_browser.py``.
"""
from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import Layer, conv_output_size, conv_transpose_output_size, receptive_fields
from course_lib.conv import correlate2d
from course_lib.gabor import gabor_kernel
from course_lib.widgets import (Dropped, conv_arithmetic_explorer, conv_arithmetic_explorer_html,
                                gabor_explorer, grating, kernel_playground, preset_kernels,
                                receptive_field_tracer, receptive_field_tracer_html)
from course_lib.widgets._geometry import CONV_RANGES, MODES, conv_state, tracer_state
from course_lib.widgets._svg import conv_svg, conv_text, tracer_svg, tracer_text
from conftest import torch_shape

NUMERIC = ("height", "width", "kernel_size", "stride", "padding", "dilation")
STATIC_JS = Path(__file__).resolve().parents[1] / "course_lib" / "widgets" / "static" / "explorers.js"


# -- independent references ------------------------------------------------------------------


def course_lib_size(n, k, s, p, d, mode):
    """One axis from course_lib.shapes (plus torch's padding <= k/2 rule for pooling)."""
    try:
        if mode == "transposed":
            return conv_transpose_output_size(n, k, s, p, d)
        if mode != "conv" and 2 * p > k:
            return None
        return conv_output_size(n, k, s, p, d, ceil_mode=mode == "pool-ceil")
    except ValueError:
        return None


def course_lib_shape(H, W, k, s, p, d, mode):
    """(H_out, W_out) from course_lib, None when either axis is impossible."""
    out = (course_lib_size(H, k, s, p, d, mode), course_lib_size(W, k, s, p, d, mode))
    return None if None in out else out


def torch_unreached(H, W, k, s, p, d, mode):
    """Rows and cols torch never reads (conv/pool) or never writes (transposed).

    Each axis on its own, with torch's 1D ops: channel r of the input is one-hot at r,
    so r is read iff some output of that channel sees the 1.
    """
    out = []
    for n in (H, W):
        eye = torch.eye(n, dtype=torch.float64)[None]                 # (1, n channels, n)
        if mode == "transposed":
            y = F.conv_transpose1d(torch.ones(1, 1, n, dtype=torch.float64),
                                   torch.ones(1, 1, k, dtype=torch.float64), stride=s, padding=p,
                                   dilation=d)[0, 0]
            out.append(tuple(int(r) for r in torch.nonzero(y == 0).flatten()))
            continue
        if mode == "conv":
            y = F.conv1d(eye, torch.ones(n, 1, k, dtype=torch.float64), stride=s, padding=p,
                         dilation=d, groups=n)
        else:
            y = F.max_pool1d(eye, k, stride=s, padding=p, dilation=d, ceil_mode=mode == "pool-ceil")
        seen = y.amax(2)[0] > 0
        out.append(tuple(r for r in range(n) if not seen[r]))
    return Dropped(*out)


NAMED = [  # (H, W, k, s, p, d, mode), expected output size
    ((7, 7, 3, 3, 0, 1, "conv"), (2, 2)),            # the stride does not fit: floor
    ((7, 7, 3, 3, 0, 1, "pool-floor"), (2, 2)),
    ((7, 7, 3, 3, 0, 1, "pool-ceil"), (3, 3)),
    ((32, 32, 3, 2, 0, 1, "pool-ceil"), (16, 16)),    # Forsyth's 32 -> 16 pooling
    ((32, 32, 3, 2, 0, 1, "pool-floor"), (15, 15)),
    ((5, 5, 2, 2, 1, 1, "pool-ceil"), (3, 3)),        # torch drops a window starting in padding
    ((4, 4, 4, 4, 0, 2, "pool-ceil"), (1, 1)),        # ceil_mode: a first window may overhang
    ((9, 9, 3, 2, 1, 2, "conv"), (4, 4)),             # dilation
    ((28, 28, 5, 1, 2, 1, "conv"), (28, 28)),         # "same" padding
    ((16, 16, 4, 2, 1, 1, "transposed"), (32, 32)),
    ((2, 2, 3, 2, 0, 1, "transposed"), (5, 5)),
    ((3, 3, 1, 2, 0, 1, "transposed"), (5, 5)),       # holes in the output
    ((3, 3, 5, 1, 0, 1, "conv"), None),               # kernel larger than the padded input
    ((5, 5, 3, 1, 2, 1, "pool-floor"), None),         # pooling padding > k/2
    ((2, 2, 1, 1, 1, 1, "transposed"), None),         # padding crops everything
    ((4, 9, 5, 1, 0, 1, "conv"), None),               # impossible along the height only
]


def random_settings(n, seed):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        cfg = {name: rng.randint(*CONV_RANGES[name]) for name in NUMERIC}
        cfg["height"] = rng.randint(1, 12)      # small: keeps the torch checks cheap
        cfg["width"] = rng.randint(1, 12)
        out.append(tuple(cfg[n] for n in NUMERIC) + (rng.choice(MODES),))
    return out


def set_controls(ex, setting):
    for name, value in zip(NUMERIC + ("mode",), setting):
        ex.controls[name].value = value


# -- conv-arithmetic explorer ------------------------------------------------------------------
@pytest.mark.parametrize("setting, want", NAMED)
def test_named_settings(setting, want):
    ex = conv_arithmetic_explorer()
    set_controls(ex, setting)
    assert ex.output_size == want == course_lib_shape(*setting) == torch_shape(*setting)
    assert ex.message.startswith("Impossible") == (want is None)
    assert ex.state.steps == (0 if want is None else
                              setting[0] * setting[1] if setting[-1] == "transposed" else want[0] * want[1])
    if want is not None:
        assert ex.dropped == torch_unreached(*setting)
        assert "<svg" in ex.svg and "Traceback" not in ex.svg


def test_floor_case_explains_and_greys():
    ex = conv_arithmetic_explorer(height=7, width=7, kernel_size=3, stride=3)
    assert ex.output_size == (2, 2)
    assert ex.dropped == Dropped(rows=(6,), cols=(6,))
    assert "stride does not fit" in ex.message and "row 6" in ex.message
    assert ex.formula[0] == "H_out = ⌊(7 + 2·0 − 1·(3 − 1) − 1) / 3⌋ + 1 = ⌊4 / 3⌋ + 1 = 2"
    assert ex.svg.count('fill="#bdbdbd"') == 2            # one grey row, one grey column
    assert "output 2×2" in ex.svg


def test_many_settings_against_course_lib_and_torch():
    ex = conv_arithmetic_explorer()
    for setting in random_settings(150, seed=7):
        set_controls(ex, setting)
        want = course_lib_shape(*setting)
        assert ex.output_size == want == torch_shape(*setting), setting
        assert ex.message.startswith("Impossible") == (want is None), setting
        if want is not None:
            assert ex.dropped == torch_unreached(*setting), setting
            last = ex.state.steps - 1
            assert ex.controls["step"].max == ex.controls["play"].max == last
            assert ex.svg == conv_svg(ex.state, ex.controls["step"].value)


def test_step_walks_every_output_position():
    ex = conv_arithmetic_explorer(height=5, width=6, kernel_size=3, stride=2, padding=1)
    assert ex.output_size == (3, 3) and ex.controls["step"].max == 8
    pictures = set()
    for step in range(9):
        ex.controls["step"].value = step
        pictures.add(ex.svg)
    assert len(pictures) == 9
    ex.controls["stride"].value = 3          # fewer positions: the step is clipped
    assert ex.controls["step"].max == ex.state.steps - 1 and ex.controls["step"].value <= 3


def test_ceil_mode_formula_mentions_dropped_window():
    ex = conv_arithmetic_explorer(height=5, width=5, kernel_size=2, stride=2, padding=1,
                                  mode="pool-ceil")
    assert ex.output_size == (3, 3)
    assert "⌈5 / 2⌉ + 1 = 4 → 3" in ex.formula[0]


def test_transposed_mode():
    ex = conv_arithmetic_explorer(height=3, width=3, kernel_size=1, stride=2, mode="transposed")
    assert ex.output_size == (5, 5)
    assert ex.formula[0] == "H_out = 2·(3 − 1) − 2·0 + 1·(1 − 1) + 1 = 5"
    assert ex.dropped == Dropped((1, 3), (1, 3)) and "no contribution" in ex.message
    assert ex.controls["step"].max == 8       # walks the 3x3 input cells


def test_impossible_settings_never_raise():
    ex = conv_arithmetic_explorer(height=3, width=3)
    ex.controls["kernel_size"].value = 7
    assert ex.output_size is None and ex.message.startswith("Impossible (height)")
    assert "no window fits" in ex.formula[0]
    assert "impossible" in conv_text(ex.state) and "<svg" in ex.svg
    assert ex.controls["step"].disabled
    ex.controls["padding"].value = 2          # 3 + 4 >= 7: fits again, one position
    assert ex.output_size == (1, 1) and ex.controls["step"].disabled
    ex.controls["padding"].value = 4
    assert ex.output_size == (5, 5) and not ex.controls["step"].disabled


def test_explorer_is_a_vbox_with_its_controls():
    import ipywidgets as widgets
    ex = conv_arithmetic_explorer()
    assert isinstance(ex, widgets.VBox)
    assert set(ex.controls) == {*NUMERIC, "mode", "step", "play"}
    assert isinstance(ex.controls["play"], widgets.Play)
    assert isinstance(ex.controls["mode"], widgets.ToggleButtons)


@pytest.mark.parametrize("kwargs, exc, words", [
    ({"kernel": 3}, TypeError, "kernel"),
    ({"stride": 0}, ValueError, "stride"),
    ({"height": 99}, ValueError, "height"),
    ({"padding": 1.5}, TypeError, "padding"),
    ({"mode": "max"}, ValueError, "mode"),
    ({"step": -1}, ValueError, "step"),
])
def test_bad_settings(kwargs, exc, words):
    for make in (conv_arithmetic_explorer, conv_arithmetic_explorer_html):
        with pytest.raises(exc, match=words):
            make(**kwargs)


# -- static HTML -----------------------------------------------------------------------------
def _mount_config(html):
    m = re.search(r'\.mount(?:Conv|Tracer)\(document\.currentScript \? '
                  r'document\.currentScript\.parentNode : "([^"]+)", (\{.*\})\);</script>', html)
    return m.group(1), json.loads(m.group(2))


def test_static_html_is_self_contained():
    pages = [conv_arithmetic_explorer_html(stride=3).data, conv_arithmetic_explorer_html().data,
             receptive_field_tracer_html().data]
    ids = [_mount_config(p)[0] for p in pages]
    assert len(set(ids)) == 3
    for page in pages:
        assert "<script>" in page and "<style>" in page
        lowered = page.lower()
        for bad in ("<script src", "<link", "require(", "requirejs", "fetch(", "xmlhttprequest",
                    "import(", "cdn", "https://"):
            assert bad not in lowered, bad
        # the only URL is the SVG namespace
        assert set(re.findall(r"https?://[^\s\"']+", page)) <= {"http://www.w3.org/2000/svg"}


def test_static_html_prerenders_the_python_picture():
    page = conv_arithmetic_explorer_html(height=7, width=7, stride=3, step=3).data
    st = conv_state(7, 7, 3, 3, 0, 1, "conv")
    assert conv_svg(st, 3) in page and conv_text(st) in page
    eid, cfg = _mount_config(page)
    assert cfg["stride"] == 3 and cfg["ranges"]["height"] == list(CONV_RANGES["height"])
    assert f'id="{eid}"' in page


# -- receptive-field tracer --------------------------------------------------------------------
def test_tracer_mnist_stack():
    tr = receptive_field_tracer(input_size=28)
    assert tr.layers == (Layer("conv", 5), Layer("pool", 2, stride=2))
    assert tr.output_sizes == (24, 12)
    assert [f.size for f in tr.fields] == [5, 6] and tr.receptive_field == 6
    tr.controls["unit_row"].value = 3
    assert tr.span == ((6, 11), (0, 5))
    assert tr.controls["unit_row"].max == 11


def test_tracer_forsyth_cifar_start():
    tr = receptive_field_tracer([Layer("conv", 5, padding=2),
                                 Layer("pool", 3, stride=2, ceil_mode=True)], input_size=32)
    assert tr.output_sizes == (32, 16) and tr.receptive_field == 7
    assert tr.span == ((-2, 4), (-2, 4))
    assert "7×7 receptive field" in tracer_text(tr.state)


def test_tracer_built_through_the_controls():
    tr = receptive_field_tracer(input_size=28)
    c = tr.controls
    c["input_size"].value = 32
    c["layers"][0]["padding"].value = 2
    c["layers"][1]["kernel_size"].value = 3
    assert c["layers"][1]["ceil_mode"].disabled is False
    c["layers"][1]["ceil_mode"].value = True
    assert tr.output_sizes == (32, 16) and tr.receptive_field == 7
    c["add"].click()                                      # + conv 3x3 pad 1
    assert len(tr.layers) == 3 and tr.output_sizes == (32, 16, 16) and tr.receptive_field == 11
    c["layers"][2]["kind"].value = "pool"
    assert tr.layers[2].kind == "pool" and not c["layers"][2]["ceil_mode"].disabled
    c["layers"][0]["remove"].click()
    assert tr.layers == (Layer("pool", 3, stride=2, ceil_mode=True), Layer("pool", 3, padding=1))
    assert tr.output_sizes == (16, 16)


def test_tracer_impossible_stack_shows_message():
    tr = receptive_field_tracer([Layer("conv", 5)], input_size=28)
    tr.controls["input_size"].value = 3
    assert tr.receptive_field is None and tr.span is None
    assert tr.output_sizes == (None,) and "layer 1" in tr.message      # counted from 1, like the table
    assert "Impossible" in tracer_text(tr.state) and "<svg" in tr.svg
    tr.controls["layers"][0]["kind"].value = "pool"
    tr.controls["input_size"].value = 10
    tr.controls["layers"][0]["padding"].value = 3          # 2p > k: torch refuses
    assert tr.receptive_field is None and "kernel_size // 2" in tr.message


def _torch_stack(layers, n):
    """Output sizes from running the stack in torch, None from the first refusal on."""
    x, sizes = torch.zeros(1, 1, n, n, dtype=torch.float64), []
    for L in layers:
        try:
            if L.kind == "conv":
                x = F.conv2d(x, torch.zeros(1, 1, L.kernel_size, L.kernel_size, dtype=torch.float64),
                             stride=L.stride, padding=L.padding, dilation=L.dilation)
            else:
                x = F.max_pool2d(x, L.kernel_size, L.stride, L.padding, L.dilation,
                                 ceil_mode=L.ceil_mode)
            assert x.shape[-1] > 0
        except (RuntimeError, AssertionError):
            return tuple(sizes) + (None,) * (len(layers) - len(sizes))
        sizes.append(x.shape[-1])
    return tuple(sizes)


def random_stacks(count, seed, holes=True):
    rng = random.Random(seed)
    stacks = []
    while len(stacks) < count:
        layers = []
        for _ in range(rng.randint(1, 4)):
            kind = rng.choice(["conv", "pool"])
            k = rng.randint(1, 7)
            s = rng.randint(1, 3) if holes else rng.randint(1, k)
            layers.append(Layer(kind, k, s, rng.randint(0, 3), rng.choice([1, 1, 2]) if holes else 1,
                                ceil_mode=kind == "pool" and rng.random() < 0.5))
        stacks.append((layers, rng.randint(4, 40)))
    return stacks


def test_tracer_against_torch_and_receptive_fields():
    tr = receptive_field_tracer([], input_size=28)
    for layers, n in random_stacks(40, seed=3):
        while tr.controls["layers"]:
            tr.remove_layer(0)
        tr.controls["input_size"].value = n
        for L in layers:
            tr.add_layer(L)
        assert tr.layers == tuple(layers)
        assert tr.output_sizes == _torch_stack(layers, n), (layers, n)
        if None not in tr.output_sizes:
            assert tr.receptive_field == receptive_fields(layers, n)[-1].size
            last = tr.output_sizes[-1] - 1
            assert tr.controls["unit_row"].max == tr.controls["unit_col"].max == last


def test_tracer_span_is_what_torch_gradients_see():
    # no holes (dilation 1, stride <= kernel): the pixels with a nonzero gradient form exactly
    # the receptive field, clipped to the image
    checked = 0
    for layers, n in random_stacks(80, seed=11, holes=False):
        st = tracer_state(layers, n, (10 ** 6, 1))        # unit row clipped to the last one
        if st.error is not None or any(L.kind == "pool" and 2 * L.padding > L.kernel_size
                                       for L in layers):
            continue
        x = torch.ones(1, 1, n, n, dtype=torch.float64, requires_grad=True)
        y = x
        for L in layers:
            if L.kind == "conv":
                y = F.conv2d(y, torch.ones(1, 1, L.kernel_size, L.kernel_size, dtype=torch.float64),
                             stride=L.stride, padding=L.padding)
            else:
                y = F.avg_pool2d(y, L.kernel_size, L.stride, L.padding, ceil_mode=L.ceil_mode)
        r, c = st.unit
        y[0, 0, r, c].backward()
        rows = torch.nonzero(x.grad[0, 0].abs().sum(1)).flatten()
        cols = torch.nonzero(x.grad[0, 0].abs().sum(0)).flatten()
        # intermediate layers' padding can cut paths, so exact equality needs the unit's spans
        # in every intermediate grid to stay inside that grid
        inner = all(0 <= a and b < size for level, size in enumerate(st.output_sizes[:-1], 1)
                    for a, b in st.layer_spans[level])
        if len(rows) == 0:
            assert not inner or any(b < 0 or a > n - 1 for a, b in st.span), (layers, n)
            continue
        for seen, (first, last) in ((rows, st.span[0]), (cols, st.span[1])):
            box = (int(seen.min()), int(seen.max()))
            assert first <= box[0] <= box[1] <= last, (layers, n)    # never outside the field
            if inner:
                assert box == (max(first, 0), min(last, n - 1)), (layers, n)
        checked += inner
    assert checked >= 10


@pytest.mark.parametrize("kwargs, exc, words", [
    ({"layers": Layer("conv", 3)}, TypeError, "layers"),
    ({"layers": [("conv", 3)]}, TypeError, r"layers\[0\]"),
    ({"layers": [Layer("conv", 13)]}, ValueError, "kernel_size"),
    ({"layers": [Layer("conv", 3, ceil_mode=True)]}, ValueError, "ceil_mode"),
    ({"input_size": 0}, ValueError, "input_size"),
    ({"unit": 3}, TypeError, "unit"),
])
def test_tracer_bad_arguments(kwargs, exc, words):
    for make in (receptive_field_tracer, receptive_field_tracer_html):
        with pytest.raises(exc, match=words):
            make(**kwargs)


def test_tracer_remove_layer_checks_index():
    tr = receptive_field_tracer()
    with pytest.raises(ValueError, match="index"):
        tr.remove_layer(5)


# -- JS port agrees with Python (Node.js; the browser test repeats this in Chromium) -----------
NODE = shutil.which("node") or shutil.which("nodejs")


def run_node(script, payload):
    prelude = f"require({json.dumps(str(STATIC_JS))}); const E = globalThis.courseLibExplorers;\n"
    done = subprocess.run([NODE, "-e", prelude + script], input=json.dumps(payload),
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


# Every per-axis setting the sliders reach: n, k, s, p, d, mode.
AXIS_LOOPS = """
const out = [];
for (let n = 1; n <= 32; n++) for (let k = 1; k < 8; k++) for (let s = 1; s < 5; s++)
  for (let p = 0; p < 5; p++) for (let d = 1; d < 4; d++)
    for (const m of ["conv", "pool-floor", "pool-ceil", "transposed"]) {
      const a = E.axisGeometry(n, k, s, p, d, m, "H");
      out.push(a.error ? -1 : a.out);
    }
"""


def all_axis_sizes():
    """course_lib's answer for every setting of AXIS_LOOPS, in the same order (-1: impossible)."""
    assert CONV_RANGES["height"] == (1, 32) and CONV_RANGES["kernel_size"] == (1, 7)
    return [-1 if (v := course_lib_size(n, k, s, p, d, m)) is None else v
            for n in range(1, 33) for k in range(1, 8) for s in range(1, 5) for p in range(5)
            for d in range(1, 4) for m in MODES]


@pytest.mark.skipif(NODE is None, reason="Node.js not installed; tests/test_widgets_browser.py "
                                         "checks the JS in Chromium instead")
def test_js_axis_arithmetic_matches_course_lib_exhaustively():
    got = run_node(AXIS_LOOPS + "console.log(JSON.stringify(out));", None)
    want = all_axis_sizes()
    assert len(got) == len(want) == 32 * 7 * 4 * 5 * 3 * 4
    bad = [i for i, (a, b) in enumerate(zip(got, want)) if a != b]
    assert not bad, f"{len(bad)} settings disagree"


@pytest.mark.skipif(NODE is None, reason="Node.js not installed")
def test_js_states_pictures_and_text_match_python():
    cases = [dict(zip(NUMERIC + ("mode",), s)) for s, _ in NAMED] + \
            [dict(zip(NUMERIC + ("mode",), s)) for s in random_settings(120, seed=5)]
    rng = random.Random(2)
    for c in cases:
        c["step"] = rng.randint(0, 60)
    got = run_node("""
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(cases.map(c => { const st = E.convState(c);
  return [st.output_size, st.dropped, st.message, st.rows.formula, st.cols.formula,
          E.convSvg(st, c.step), E.convText(st)]; })));""", cases)
    for c, (size, dropped, message, f_rows, f_cols, svg, text) in zip(cases, got):
        st = conv_state(*(c[n] for n in NUMERIC), c["mode"])
        assert size == (list(st.output_size) if st.output_size else None), c
        assert dropped == {"rows": list(st.dropped.rows), "cols": list(st.dropped.cols)}, c
        assert (message, f_rows, f_cols) == (st.message, st.rows.formula, st.cols.formula), c
        assert svg == conv_svg(st, c["step"]) and text == conv_text(st), c


@pytest.mark.skipif(NODE is None, reason="Node.js not installed")
def test_js_tracer_matches_python():
    stacks = random_stacks(80, seed=9) + [([Layer("conv", 5), Layer("pool", 2, 2)], 28),
                                          ([Layer("conv", 5, 1, 2), Layer("pool", 3, 2, ceil_mode=True)], 32),
                                          ([], 10)]
    rng = random.Random(4)
    cases = [{"layers": [L.__dict__ for L in layers], "n": n,
              "unit": [rng.randint(0, 30), rng.randint(0, 30)]} for layers, n in stacks]
    got = run_node("""
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(cases.map(c => { const st = E.tracerState(c.layers, c.n, c.unit);
  return [st.output_sizes, st.receptive_field, st.span, E.tracerSvg(st), E.tracerText(st)]; })));""",
                   cases)
    for (layers, n), c, (sizes, rf, span, svg, text) in zip(stacks, cases, got):
        st = tracer_state(layers, n, tuple(c["unit"]))
        assert sizes == list(st.output_sizes) and rf == st.receptive_field, (layers, n)
        assert span == (None if st.span is None else [list(a) for a in st.span])
        assert svg == tracer_svg(st) and text == tracer_text(st), (layers, n)


# -- kernel playground -------------------------------------------------------------------------
@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    step = np.zeros((16, 16))
    step[:, 8:] = 1.0
    bar = np.zeros((16, 16))
    bar[:, 7] = 1.0
    return {"step": step, "bar": bar, "noise": rng.normal(size=(12, 14))}


def test_playground_feature_map_and_detections(images):
    pg = kernel_playground(images)
    assert list(pg.controls["preset"].options) == ["edge", "bar", "spot", "Gabor", "custom"]
    np.testing.assert_array_equal(pg.kernel, preset_kernels()["edge"])
    want = F.conv2d(torch.as_tensor(images["step"])[None, None],
                    torch.as_tensor(pg.kernel)[None, None])[0, 0].numpy()
    np.testing.assert_allclose(pg.feature_map, want, atol=1e-12)
    assert pg.threshold == pytest.approx(0.5 * want.max())
    np.testing.assert_array_equal(pg.detections, (want >= pg.threshold) & (want > 0))
    pg.controls["threshold"].value = 1.0
    assert pg.detections.sum() == (want == want.max()).sum()
    pg.controls["image"].value = "bar"
    pg.controls["preset"].value = "bar"
    np.testing.assert_allclose(pg.feature_map, correlate2d(images["bar"], preset_kernels()["bar"]), atol=1e-12)
    # the strongest bar response is centred on the bar (column 7)
    assert set(np.nonzero(pg.detections)[1] + 2) == {7}
    assert pg.png[:8] == b"\x89PNG\r\n\x1a\n"


def test_playground_editing_the_grid(images):
    pg = kernel_playground(images)
    grid = pg.controls["grid"]
    assert (len(grid), len(grid[0])) == (5, 5)
    grid[2][2].value = 7.0
    assert pg.controls["preset"].value == "custom" and pg.kernel[2, 2] == 7.0
    np.testing.assert_allclose(pg.feature_map, correlate2d(pg.image, pg.kernel), atol=1e-12)
    pg.set_kernel(np.eye(5))
    np.testing.assert_array_equal(pg.kernel, np.eye(5))
    pg.controls["preset"].value = "spot"
    assert [[b.value for b in row] for row in pg.controls["grid"]] == preset_kernels()["spot"].tolist()
    with pytest.raises(ValueError, match="kernel"):
        pg.set_kernel(np.eye(3))


def test_playground_custom_kernels_of_other_sizes(images):
    pg = kernel_playground(images, {"sobel": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], "dot": [[1.0]]})
    assert (len(pg.controls["grid"]), len(pg.controls["grid"][0])) == (3, 3)
    pg.controls["preset"].value = "dot"
    assert (len(pg.controls["grid"]), len(pg.controls["grid"][0])) == (1, 1)
    np.testing.assert_array_equal(pg.feature_map, images["step"])


@pytest.mark.parametrize("images_arg, kernels, exc, words", [
    ({}, None, TypeError, "images"),
    ({"a": np.zeros(5)}, None, ValueError, "images"),
    ({"a": np.zeros((2, 9))}, None, ValueError, "3x3"),
    ({"a": np.zeros((9, 9))}, {"big": np.zeros((10, 10))}, ValueError, "big"),
    ({"a": np.zeros((4, 4))}, {"k": np.zeros((5, 5))}, ValueError, "smallest image"),
    ({"a": np.zeros((9, 9))}, {"custom": np.ones((3, 3))}, ValueError, "custom"),
    ({"a": np.zeros((9, 9))}, {"s": np.array([["x"]])}, TypeError, "kernels"),
])
def test_playground_bad_arguments(images_arg, kernels, exc, words):
    with pytest.raises(exc, match=words):
        kernel_playground(images_arg, kernels)


# -- Gabor explorer ----------------------------------------------------------------------------
def test_gabor_explorer_follows_its_sliders():
    img = grating((32, 32), 0.8) + 0.3 * grating((32, 32), 1.3, np.pi / 2)
    ex = gabor_explorer(img, size=9)
    c = ex.controls
    c["theta"].value, c["omega"].value, c["phi"].value = np.pi / 3, 1.1, 0.5
    c["alpha"].value, c["beta"].value = 0.1, 0.02
    want = gabor_kernel(9, theta=c["theta"].value, omega=c["omega"].value, phi=c["phi"].value,
                        alpha=c["alpha"].value, beta=c["beta"].value)
    np.testing.assert_allclose(ex.kernel, want, atol=1e-12)
    np.testing.assert_allclose(ex.response, correlate2d(img, want), atol=1e-12)
    thetas, energy = ex.tuning
    assert len(thetas) == 36
    ref = [np.mean(correlate2d(img, gabor_kernel(9, t, c["omega"].value, c["phi"].value,
                                                 c["alpha"].value, c["beta"].value)) ** 2)
           for t in thetas]
    np.testing.assert_allclose(energy, ref, rtol=1e-10, atol=1e-12)
    before = ex.tuning
    c["theta"].value = 0.0                      # theta moves the kernel, not the tuning curve
    assert ex.tuning is before
    c["size"].value = 11
    assert ex.kernel.shape == (11, 11) and ex.response.shape == (22, 22)
    assert ex.png[:8] == b"\x89PNG\r\n\x1a\n"


def test_gabor_tuning_on_a_grating_peaks_at_its_orientation():
    img = np.random.default_rng(0).normal(size=(32, 32))
    ex = gabor_explorer(img, size=11, pattern="grating", omega=0.9, alpha=0.03, beta=0.03)
    thetas, energy = ex.tuning
    assert thetas[np.argmax(energy)] == 0.0
    assert energy[len(thetas) // 2] < 0.01 * energy.max()      # orthogonal: almost silent
    ex.controls["pattern"].value = "image"
    assert not np.allclose(ex.tuning[1], energy)


@pytest.mark.parametrize("kwargs, exc, words", [
    ({"size": 8}, ValueError, "odd"),
    ({"size": 41}, ValueError, "size"),
    ({"sigma": 2.0}, TypeError, "sigma"),
    ({"pattern": "noise"}, ValueError, "pattern"),
    ({"alpha": 5.0}, ValueError, "alpha"),
    ({"theta": "0"}, TypeError, "theta"),
])
def test_gabor_bad_arguments(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        gabor_explorer(np.zeros((32, 32)), **kwargs)


def test_gabor_rejects_non_2d_image():
    with pytest.raises(ValueError, match="image"):
        gabor_explorer(np.zeros((3, 32, 32)))
