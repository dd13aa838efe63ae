"""The static explorers for chapters 2, 3 and 6 (and JupyterLab/layout fixes of all static explorers).

The JS ports (static/image_explorers.js) are compared with course_lib in Node.js; the headless
browser test (tests/test_widgets_browser.py) mounts the pages and moves their sliders.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from course_lib.conv import correlate2d
from course_lib.features import hog_shape
from course_lib.gabor import gabor_kernel
from course_lib.widgets import (conv_arithmetic_explorer_html, gabor_explorer_html, hog_explorer_html,
                                kernel_playground_html, preset_kernels, receptive_field_tracer_html)
from course_lib.widgets._geometry import conv_state
from course_lib.widgets._svg import conv_svg
from course_lib.widgets.static_views import HOG_RANGES, _hog_text

STATIC = Path(__file__).resolve().parents[1] / "course_lib" / "widgets" / "static"
NODE = shutil.which("node") or shutil.which("nodejs")
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js not installed; the browser test checks the JS")


def run_node(script, payload):
    prelude = (f"require({json.dumps(str(STATIC / 'image_explorers.js'))}); "
               f"const E = globalThis.courseLibImageExplorers;\n"
               f"const P = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n")
    done = subprocess.run([NODE, "-e", prelude + script], input=json.dumps(payload), capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(done.stdout)


@needs_node
def test_js_correlate2d_and_threshold_rule_match_python():
    rng = np.random.default_rng(0)
    cases = []
    for _ in range(40):
        h, w, k = int(rng.integers(3, 20)), int(rng.integers(3, 20)), int(rng.integers(1, 6))
        k = min(k, h, w)
        cases.append({"img": np.round(rng.random((h, w)), 4).tolist(),
                      "k": np.round(rng.standard_normal((k, k)), 4).tolist(), "f": float(rng.random())})
    got = run_node("""console.log(JSON.stringify(P.map(c => {
      const H = c.img.length, W = c.img[0].length, K = c.k.length;
      const r = E.correlate2d(c.img.flat(), H, W, c.k.flat(), K, K);
      const d = E.detections(r.data, c.f);
      return [r.height, r.width, r.data, d.threshold, d.mask]; })));""", cases)
    for c, (ho, wo, data, thr, mask) in zip(cases, got):
        want = correlate2d(np.array(c["img"]), np.array(c["k"]))
        assert (ho, wo) == want.shape
        np.testing.assert_allclose(np.array(data).reshape(ho, wo), want, rtol=1e-12, atol=1e-12)
        # the live playground's rule: fraction x max(largest response, 0); fm >= thr and fm > 0
        want_thr = c["f"] * max(float(want.max()), 0.0)
        assert thr == pytest.approx(want_thr, rel=1e-12, abs=1e-12)
        np.testing.assert_array_equal(np.array(mask).reshape(ho, wo), (want >= want_thr) & (want > 0))


@needs_node
def test_js_gabor_kernel_matches_course_lib():
    rng = np.random.default_rng(1)
    cases = [{"size": int(2 * rng.integers(1, 16) + 1), "theta": float(rng.uniform(0, np.pi)),
              "omega": float(rng.uniform(0, 3)), "phi": float(rng.uniform(0, 2 * np.pi)),
              "alpha": float(rng.uniform(0.005, 0.5)), "beta": float(rng.uniform(0.005, 0.5))} for _ in range(60)]
    got = run_node("console.log(JSON.stringify(P.map(c => E.gaborKernel(c.size, c.theta, c.omega, c.phi, "
                   "c.alpha, c.beta))));", cases)
    for c, k in zip(cases, got):
        want = gabor_kernel(c["size"], c["theta"], c["omega"], c["phi"], c["alpha"], c["beta"])
        np.testing.assert_allclose(np.array(k).reshape(want.shape), want, rtol=1e-12, atol=1e-14)


@needs_node
def test_js_hog_arithmetic_and_text_match_python_over_a_grid():
    cases = [(h, w, ppc, bins, cpb) for h in (8, 16, 32, 64, 240, 480) for w in (8, 24, 32, 320, 640)
             for ppc in (2, 5, 8, 16, 32) for bins in (1, 9, 18) for cpb in (1, 2, 3, 4)]
    got = run_node("console.log(JSON.stringify(P.map(c => { const s = E.hogShape(...c); "
                   "return [s.error === null, s.cells, s.cell_values, s.blocks, s.length, "
                   "E.hogText(c[0], c[1], c[2], c[3], c[4], s)]; })));", cases)
    for (h, w, ppc, bins, cpb), (ok, cells, values, blocks, length, text) in zip(cases, got):
        assert text == _hog_text(h, w, ppc, bins, cpb)
        try:
            s = hog_shape(h, w, pixels_per_cell=ppc, orientations=bins, cells_per_block=cpb)
        except ValueError:
            assert not ok
            continue
        assert ok and tuple(cells) == s.cells and values == s.cell_values and tuple(blocks) == s.blocks
        assert length == s.length


def test_pages_are_self_contained_and_prerender_numbers():
    pages = [kernel_playground_html({"digit": np.eye(12)}), gabor_explorer_html(np.zeros((40, 40))),
             hog_explorer_html()]
    for page in pages:
        html = page.data
        assert set(re.findall(r"https?://[^\s\"']+", html)) <= {"http://www.w3.org/2000/svg"}
        assert "<script>" in html and "courseLibImageExplorers" in html
    assert "10,800 numbers" in pages[2].data and "<b>40,716</b>" in pages[2].data
    # two pages on one page get different ids
    assert re.search(r'id="(cl-img-[0-9a-f]+)"', pages[0].data).group(1) != \
        re.search(r'id="(cl-img-[0-9a-f]+)"', kernel_playground_html({"d": np.eye(12)}).data).group(1)


@pytest.mark.parametrize("call, exc, word", [
    (lambda: kernel_playground_html({}), TypeError, "images"),
    (lambda: kernel_playground_html({"a": np.zeros((3, 3))}), ValueError, "between 5 and 64"),
    (lambda: kernel_playground_html({"a": np.zeros((9, 9))}, {"k": np.ones((3, 4))}), ValueError, "square"),
    (lambda: kernel_playground_html({"a": np.zeros((9, 9))}, {"k": np.ones((3, 3)), "j": np.ones((5, 5))}),
     ValueError, "same size"),
    (lambda: kernel_playground_html({"a": np.zeros((9, 9))}, threshold=2), ValueError, "threshold"),
    (lambda: kernel_playground_html({"a": np.zeros((9, 9))}, image="b"), ValueError, "image"),
    (lambda: gabor_explorer_html(np.zeros((20, 20))), ValueError, "between 31 and 96"),
    (lambda: gabor_explorer_html(np.zeros((40, 40)), size=14), ValueError, "odd"),
    (lambda: gabor_explorer_html(np.zeros((40, 40)), omega=5.0), ValueError, "omega"),
    (lambda: gabor_explorer_html(np.zeros((40, 40)), theta="0"), ValueError, "theta"),
    (lambda: hog_explorer_html(height=7), ValueError, "height"),
    (lambda: hog_explorer_html(width=321), ValueError, "width"),
    (lambda: hog_explorer_html(orientations=2.0), TypeError, "orientations"),
])
def test_static_views_argument_checks(call, exc, word):
    with pytest.raises(exc, match=word):
        call()


def test_hog_ranges_hold_the_slides_example():
    lo, hi, step = HOG_RANGES["width"]
    assert lo <= 320 <= hi and (320 - lo) % step == 0
    assert hog_shape(240, 320).cell_values == 10_800
    assert kernel_playground_html({"a": np.eye(9)}, preset_kernels()).data.count("courseLibImageExplorers.mountKernel(") == 1


# -- JupyterLab: every control a static script creates opts out of notebook shortcuts ------------

@pytest.mark.parametrize("name", ["explorers.js", "image_explorers.js"])
def test_every_created_control_suppresses_lab_shortcuts(name):
    """Each script makes its controls through one el() helper that marks input/select/button/textarea."""
    js = (STATIC / name).read_text(encoding="utf-8")
    assert js.count("document.createElement(") == 1            # one place creates elements
    body = js[js.index("function el("):]
    body = body[:body.index("return e;")]
    assert 'setAttribute("data-lm-suppress-shortcuts", "true")' in body
    for tag in ("input", "select", "button"):
        assert re.search(rf"\b{tag}\b", body), tag
    assert "innerHTML = '<input" not in js and '"<input' not in js   # no controls smuggled in via markup


# -- the conv explorer's labels never overlap or leave the picture ---------------------------------

def _labels(svg):
    width = int(re.search(r'<svg[^>]* width="(\d+)"', svg).group(1))
    return width, [(int(x), len(t)) for x, t in re.findall(r'<text x="(\d+)" y="16"[^>]*>([^<]*)</text>', svg)]


@pytest.mark.parametrize("mode", ["conv", "pool-floor", "pool-ceil", "transposed"])
@pytest.mark.parametrize("h, w, k, s, p, d", [(32, 1, 1, 1, 4, 1), (32, 1, 3, 1, 4, 1), (1, 32, 1, 1, 4, 1),
                                              (32, 1, 7, 4, 4, 3), (1, 1, 1, 1, 0, 1), (32, 32, 7, 1, 4, 3),
                                              (5, 1, 7, 1, 0, 1)])
def test_conv_svg_labels_do_not_overlap_or_clip(h, w, k, s, p, d, mode):
    st = conv_state(h, w, k, s, p, d, mode)
    svg = conv_svg(st, 0)
    width, labels = _labels(svg)
    ends = [x + 8 * n for x, n in labels]           # 8 px per character at 13 px is generous
    assert all(e <= width for e in ends), (width, labels)
    for (x1, _), e1, (x2, _) in zip(labels, ends, labels[1:]):
        assert e1 < x2, labels


def test_static_tracer_and_conv_pages_still_build():
    assert "mountConv" in conv_arithmetic_explorer_html(height=32, width=1, padding=4).data
    assert "mountTracer" in receptive_field_tracer_html().data


# -- chapter 1: the digit scores explorer (precomputed frames) ------------------------------------

def _digit_and_model():
    import torch
    from course_lib.linear import linear_classifier
    digit = np.zeros((12, 12))
    digit[2:10, 5:7] = 1.0                                     # a "1"
    digit[2:4, 3:6] = 0.6
    model = linear_classifier((1, 12, 12), 4, seed=3)
    with torch.no_grad():
        model[1].bias.copy_(torch.tensor([0.1, -0.2, 0.3, 0.0]))
    return digit, model


def test_digit_score_grid_holds_the_models_scores_of_affine_image():
    import torch
    from course_lib.augment import affine_image
    from course_lib.widgets import ScoreGrid, digit_score_grid
    digit, model = _digit_and_model()
    g = digit_score_grid(model, torch.from_numpy(digit)[None], shifts=range(-2, 3), angles=[-20, 0, 20])
    assert isinstance(g, ScoreGrid) and g.shifts == (-2, -1, 0, 1, 2) and g.angles == (-20.0, 0.0, 20.0)
    assert g.images.shape == (3, 5, 5, 12, 12) and g.scores.shape == (3, 5, 5, 4) and g.predictions.shape == (3, 5, 5)
    for a, angle in enumerate(g.angles):
        for i, dy in enumerate(g.shifts):
            for j, dx in enumerate(g.shifts):
                moved = affine_image(digit, shift=(dy, dx), angle=angle)
                np.testing.assert_array_equal(g.images[a, i, j], moved)
                with torch.no_grad():
                    want = model(torch.from_numpy(moved)[None, None].float())[0].numpy()
                np.testing.assert_allclose(g.scores[a, i, j], want, rtol=1e-5, atol=1e-6)
                assert g.predictions[a, i, j] == int(want.argmax())
    np.testing.assert_array_equal(g.images[1, 2, 2], digit)                 # the centre frame is the digit
    assert g.index(dy=1, dx=-2, angle=20) == (2, 3, 0)
    with pytest.raises(ValueError, match="not on the grid"):
        g.index(dy=5, dx=0, angle=0)


@pytest.mark.parametrize("kw, exc, word", [
    (dict(model="linear"), TypeError, "model"),
    (dict(image=np.zeros((2, 12, 12))), ValueError, "one grey image"),
    (dict(image=np.full((12, 12), 2.0)), ValueError, "divide"),
    (dict(image=np.zeros((12, 12, 12, 1))), ValueError, "image"),
    (dict(shifts=[-1, 0, 2]), ValueError, "equal steps"),
    (dict(shifts=[0.5, 1.5]), TypeError, "ints"),
    (dict(shifts=range(-12, 13)), ValueError, "below the image size"),
    (dict(angles="0"), TypeError, "angles"),
    (dict(angles=[10, 0]), ValueError, "equal steps"),
])
def test_digit_score_grid_rejects_bad_input(kw, exc, word):
    from course_lib.widgets import digit_score_grid
    digit, model = _digit_and_model()
    args = dict(model=model, image=digit, shifts=range(-1, 2), angles=[0])
    args.update(kw)
    with pytest.raises(exc, match=word):
        digit_score_grid(**args)


def test_digit_scores_page_embeds_every_frame():
    import base64
    from course_lib.widgets import digit_score_grid, digit_scores_explorer_html
    digit, model = _digit_and_model()
    g = digit_score_grid(model, digit, shifts=range(-2, 3), angles=[-15, 0, 15])
    page = digit_scores_explorer_html(g, label=1, class_names=list("abcd"), dy=1, angle=15).data
    assert set(re.findall(r"https?://[^\s\"']+", page)) <= {"http://www.w3.org/2000/svg"}
    assert 'data-explorer="digitscores"' in page and "mountDigitScores(" in page
    cfg = json.loads(re.search(r"mountDigitScores\([^,]+, (\{.*\})\);</script>", page).group(1))
    pixels = np.frombuffer(base64.b64decode(cfg["pixels"]), dtype=np.uint8).reshape(3, 5, 5, 12, 12)
    np.testing.assert_array_equal(pixels, np.round(g.images * 255))
    np.testing.assert_allclose(np.array(cfg["scores"]).reshape(3, 5, 5, 4), g.scores, atol=5e-5)
    assert cfg["predictions"] == g.predictions.ravel().tolist() and cfg["start"] == [2, 3, 2]
    assert cfg["names"] == list("abcd") and cfg["label"] == 1 and cfg["shift_step"] == 1 and cfg["angle_step"] == 15


@pytest.mark.parametrize("kw, exc, word", [
    (dict(grid="frames"), TypeError, "grid"),
    (dict(label=4), ValueError, "label"),
    (dict(class_names=["a"]), ValueError, "class_names"),
    (dict(dx=3), ValueError, "dx"),
    (dict(angle=5), ValueError, "angle"),
])
def test_digit_scores_page_rejects_bad_input(kw, exc, word):
    from course_lib.widgets import digit_score_grid, digit_scores_explorer_html
    digit, model = _digit_and_model()
    args = dict(grid=digit_score_grid(model, digit, shifts=range(-2, 3), angles=[-15, 0, 15]))
    args.update(kw)
    with pytest.raises(exc, match=word):
        digit_scores_explorer_html(**args)
