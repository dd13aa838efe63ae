"""The static (no-kernel) explorers in a real headless Chromium.

Chromium is driven over the Chrome DevTools Protocol (websocket-client): the
tests move sliders with real key presses (``Input.dispatchKeyEvent`` on a
focused ``<input type=range>``, so the browser itself fires the input events),
click buttons and radio labels with real mouse events, then read the output
size, table and picture back from the DOM and compare them with course_lib and
torch. The whole JS arithmetic is also compared with course_lib over every
setting the sliders reach. If the book is built, its stride/padding chapter is
opened too. Skipped when no Chromium binary is installed.
"""
from __future__ import annotations

import html
import os
import re
import time
from pathlib import Path

import pytest
import torch

from course_lib import Layer, conv_output_size, conv_transpose_output_size
from course_lib.widgets import conv_arithmetic_explorer_html, receptive_field_tracer_html
from course_lib.widgets._geometry import CONV_RANGES, MODES, conv_state, tracer_state
from course_lib.widgets._svg import conv_svg, conv_text, tracer_svg, tracer_text
from conftest import torch_shape
from _browser import Chromium, skip_without_browser

REPO = Path(__file__).resolve().parents[1]
# the built chapter page (COURSE_BOOK_PAGE overrides, e.g. for a book built elsewhere)
BOOK_PAGE = Path(os.environ.get("COURSE_BOOK_PAGE",
                                REPO / "_build" / "html" / "notebooks" / "04_stride_padding.html"))


pytestmark = skip_without_browser


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chrome = Chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield chrome
    chrome.close()


def write_page(path: Path, *parts: str) -> str:
    path.write_text("<!doctype html><html><head><meta charset='utf-8'><title>explorers</title>"
                    "</head><body style='max-width: 900px'>" + "\n".join(parts) +
                    "</body></html>", encoding="utf-8")
    return path.as_uri()


def shown_shape(text):
    return None if text == "impossible" else tuple(int(v) for v in text.split(" × "))


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory):
    html = [conv_arithmetic_explorer_html(height=7, width=7, kernel_size=3).data,
            conv_arithmetic_explorer_html(height=5, width=5, mode="transposed").data,
            receptive_field_tracer_html(input_size=28).data]
    url = write_page(tmp_path_factory.mktemp("page") / "explorers.html", *html)
    browser.open(url)
    ids = browser.js("Array.from(document.querySelectorAll('.cl-explorer')).map(e => e.id)")
    return {"url": url, "conv": ids[0], "conv2": ids[1], "tracer": ids[2], "all": ids}


def read_conv(browser, eid):
    """Settings, shown output shape and the JS state of one conv explorer, from the DOM."""
    return browser.js(f"""(() => {{
        const root = document.getElementById("{eid}"), v = n => +root.querySelector(`input[name="${{n}}"]`).value;
        const st = window.courseLibExplorers.instances["{eid}"].state();
        return {{settings: ["height", "width", "kernel_size", "stride", "padding", "dilation"].map(v)
                  .concat([root.querySelector('input[type=radio]:checked').value]),
                step: v("step"), stepMax: +root.querySelector('input[name="step"]').max,
                shape: root.querySelector(".cl-shape b").textContent,
                attr: root.getAttribute("data-output-size"),
                message: root.querySelector(".cl-msg").textContent,
                text: root.querySelector(".cl-text").innerHTML,
                svg: window.courseLibExplorers.convSvg(st, v("step")),
                greyRects: root.querySelectorAll('.cl-picture rect[fill="#bdbdbd"]').length}};
    }})()""")


def set_conv(browser, eid, setting):
    names = ("height", "width", "kernel_size", "stride", "padding", "dilation")
    for name, value in zip(names, setting):
        browser.slide(f'#{eid} input[name="{name}"]', value)
    mode = setting[6]
    if browser.js(f"document.querySelector('#{eid} input[type=radio]:checked').value") != mode:
        browser.click(f'#{eid} input[type=radio][value="{mode}"]')


def test_page_loads_without_errors(browser, page):
    assert len(set(page["all"])) == 3                     # unique element ids
    assert browser.exceptions() == []
    assert browser.js("document.querySelectorAll('.cl-explorer input[type=range]').length") >= 20
    assert browser.text(f"#{page['conv']} .cl-shape b") == "5 × 5"
    assert browser.text(f"#{page['conv2']} .cl-shape b") == "7 × 7"
    # the initial JS rendering is what Python pre-rendered
    st = conv_state(7, 7, 3, 1, 0, 1, "conv")
    got = read_conv(browser, page["conv"])
    assert got["svg"] == conv_svg(st, 0)


def test_slider_keys_change_the_output_size(browser, page):
    eid = page["conv"]
    browser.slide(f'#{eid} input[name="stride"]', 3)           # 7x7, k3, s3: floors
    got = read_conv(browser, eid)
    assert got["shape"] == "2 × 2" and got["attr"] == "2x2"
    assert "row 6" in got["message"] and "stride does not fit" in got["message"]
    assert got["greyRects"] == 2 and got["stepMax"] == 3
    browser.slide(f'#{eid} input[name="step"]', 3)
    st = conv_state(7, 7, 3, 3, 0, 1, "conv")
    got = read_conv(browser, eid)
    assert got["svg"] == conv_svg(st, 3) and got["text"] == conv_text(st)


SETTINGS = [  # (H, W, k, s, p, d, mode)
    (7, 7, 3, 3, 0, 1, "pool-floor"),
    (7, 7, 3, 3, 0, 1, "pool-ceil"),
    (32, 32, 3, 2, 0, 1, "pool-ceil"),      # Forsyth: 32 -> 16
    (32, 32, 3, 2, 0, 1, "pool-floor"),
    (5, 5, 2, 2, 1, 1, "pool-ceil"),        # torch drops a window that starts in the padding
    (4, 4, 4, 4, 0, 2, "pool-ceil"),        # an overhanging first window
    (9, 9, 3, 2, 1, 2, "conv"),             # dilation
    (9, 9, 3, 2, 3, 2, "pool-floor"),       # pooling padding > k/2: impossible
    (3, 3, 5, 1, 0, 1, "conv"),             # kernel larger than the input: impossible
    (3, 3, 5, 1, 1, 1, "conv"),
    (16, 16, 4, 2, 1, 1, "transposed"),
    (2, 2, 1, 1, 1, 1, "transposed"),       # padding crops everything: impossible
    (3, 5, 3, 2, 0, 3, "transposed"),
    (12, 6, 7, 4, 4, 3, "pool-ceil"),
    (28, 28, 5, 1, 2, 1, "conv"),
]


def test_many_settings_through_the_ui(browser, page):
    eid = page["conv"]
    for setting in SETTINGS:
        set_conv(browser, eid, setting)
        got = read_conv(browser, eid)
        assert got["settings"] == list(setting)
        st = conv_state(*setting)
        want = torch_shape(*setting)
        assert shown_shape(got["shape"]) == st.output_size == want, setting
        if want is not None:
            assert want == tuple(
                conv_transpose_output_size(n, *setting[2:6]) if setting[6] == "transposed" else
                conv_output_size(n, *setting[2:6], ceil_mode=setting[6] == "pool-ceil")
                for n in setting[:2])
            assert got["stepMax"] == st.steps - 1
        else:
            assert got["message"].startswith("Impossible")
        assert got["message"] == st.message or want is None
        assert got["text"] == conv_text(st) and got["svg"] == conv_svg(st, got["step"]), setting
    assert browser.exceptions() == []


def test_play_button_walks_the_window(browser, page):
    eid = page["conv2"]
    set_conv(browser, eid, (4, 4, 3, 1, 1, 1, "conv"))
    browser.slide(f'#{eid} input[name="step"]', 0)
    browser.click(f"#{eid} .cl-play")
    time.sleep(2.0)
    browser.click(f"#{eid} .cl-play")                          # pause
    step = browser.js(f"+document.querySelector('#{eid} input[name=\"step\"]').value")
    assert step >= 1
    assert browser.text(f"#{eid} .cl-play").endswith("play")


def test_js_arithmetic_matches_course_lib_for_every_slider_setting(browser, page):
    got = browser.js("""(() => { const E = window.courseLibExplorers, out = [];
      for (let n = 1; n <= 32; n++) for (let k = 1; k < 8; k++) for (let s = 1; s < 5; s++)
        for (let p = 0; p < 5; p++) for (let d = 1; d < 4; d++)
          for (const m of ["conv", "pool-floor", "pool-ceil", "transposed"]) {
            const a = E.axisGeometry(n, k, s, p, d, m, "H"); out.push(a.error ? -1 : a.out); }
      return out.join(","); })()""")
    assert CONV_RANGES["height"] == (1, 32) and CONV_RANGES["kernel_size"] == (1, 7)
    want = []
    for n in range(1, 33):
        for k in range(1, 8):
            for s in range(1, 5):
                for p in range(5):
                    for d in range(1, 4):
                        for m in MODES:
                            try:
                                if m == "transposed":
                                    v = conv_transpose_output_size(n, k, s, p, d)
                                elif m != "conv" and 2 * p > k:
                                    v = -1
                                else:
                                    v = conv_output_size(n, k, s, p, d, ceil_mode=m == "pool-ceil")
                            except ValueError:
                                v = -1
                            want.append(v)
    assert got == ",".join(map(str, want))


def read_tracer(browser, eid):
    return browser.js(f"""(() => {{
        const root = document.getElementById("{eid}"), st = window.courseLibExplorers.instances["{eid}"].state();
        return {{rf: root.getAttribute("data-receptive-field"),
                table: Array.from(root.querySelectorAll(".cl-table tr")).map(r => Array.from(r.cells).map(c => c.textContent)),
                message: root.querySelector(".cl-msg").textContent, layers: st.layers, n: st.input_size,
                unit: st.unit, svg: window.courseLibExplorers.tracerSvg(st),
                text: window.courseLibExplorers.tracerText(st),
                shown: root.querySelector(".cl-text").textContent}};
    }})()""")


def check_tracer(got):
    layers = [Layer(**L) for L in got["layers"]]
    st = tracer_state(layers, got["n"], tuple(got["unit"]))
    assert got["rf"] == ("none" if st.receptive_field is None else str(st.receptive_field))
    assert got["svg"] == tracer_svg(st) and got["text"] == tracer_text(st)
    assert got["shown"] == html.unescape(re.sub(r"<[^>]+>", "", tracer_text(st)))   # on screen
    return st


def test_tracer_mnist_then_forsyth_through_the_ui(browser, page):
    eid = page["tracer"]
    got = read_tracer(browser, eid)
    assert got["rf"] == "6"
    assert [row[2:4] for row in got["table"][1:]] == [["28×28", "1"], ["24×24", "5×5"],
                                                      ["12×12", "6×6"]]
    check_tracer(got)
    # build Forsyth's CIFAR start: conv 5x5 pad 2 on 32, then 3x3/2 max pooling with ceil_mode
    browser.slide(f'#{eid} input[name="input_size"]', 32)
    browser.slide(f'#{eid} .cl-layer:nth-child(1) input[name="padding"]', 2)
    browser.slide(f'#{eid} .cl-layer:nth-child(2) input[name="kernel_size"]', 3)
    browser.click(f'#{eid} .cl-layer:nth-child(2) input[name="ceil_mode"]')
    got = read_tracer(browser, eid)
    assert got["rf"] == "7"
    assert [row[2:4] for row in got["table"][2:]] == [["32×32", "5×5"], ["16×16", "7×7"]]
    st = check_tracer(got)
    assert st.output_sizes == (32, 16)
    # choose the last unit: its field reaches into the padding
    browser.slide(f'#{eid} input[name="unit_row"]', 15)
    got = read_tracer(browser, eid)
    assert got["unit"] == [15, 0] and "rows 28…34" in got["message"] and "padding" in got["message"]
    check_tracer(got)
    # add a layer, then remove the first one
    browser.click(f"#{eid} .cl-add")
    got = read_tracer(browser, eid)
    assert len(got["layers"]) == 3 and got["rf"] == "11"
    check_tracer(got)
    browser.click(f"#{eid} .cl-layer:nth-child(1) .cl-remove")
    got = read_tracer(browser, eid)
    assert [L["kind"] for L in got["layers"]] == ["pool", "conv"]
    check_tracer(got)
    # an impossible stack shows a message, not an exception
    browser.slide(f'#{eid} .cl-layer:nth-child(1) input[name="padding"]', 2)   # 2p > k = 3
    got = read_tracer(browser, eid)
    assert got["rf"] == "none" and got["message"].startswith("Impossible")
    check_tracer(got)
    assert browser.exceptions() == []


def test_screenshot(browser, page, tmp_path):
    browser.js("window.scrollTo(0, 0)")
    png = __import__("base64").b64decode(browser.send("Page.captureScreenshot", format="png")["data"])
    (tmp_path / "explorers.png").write_bytes(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_an_output_shown_twice_gives_two_working_copies(browser, tmp_path):
    # a front end may show one output twice (same ids): each copy drives its own picture
    html = conv_arithmetic_explorer_html(height=7, width=7).data
    browser.open(write_page(tmp_path / "twice.html", html, html))
    assert browser.js("document.querySelectorAll('.cl-explorer').length") == 2
    browser.js("document.querySelectorAll('.cl-explorer').forEach((e, i) => e.id = 'copy' + i)")
    browser.slide('#copy1 input[name="stride"]', 3)
    assert browser.text("#copy1 .cl-shape b") == "2 × 2"           # floor(4 / 3) + 1
    browser.click('#copy1 input[type=radio][value="pool-ceil"]')
    assert browser.text("#copy1 .cl-shape b") == "3 × 3"           # ceil(4 / 3) + 1
    assert browser.text("#copy0 .cl-shape b") == "5 × 5"           # untouched
    assert browser.js("document.querySelector('#copy0 input[type=radio]:checked').value") == "conv"
    assert browser.exceptions() == []


@pytest.mark.skipif(not BOOK_PAGE.exists(), reason=f"book not built ({BOOK_PAGE} missing; "
                                                   "run `make book`)")
def test_built_book_page(browser):
    browser.open(BOOK_PAGE.as_uri())
    ids = browser.js("Array.from(document.querySelectorAll('.cl-explorer[data-explorer=conv]'))"
                     ".map(e => e.id)")
    if not ids:
        pytest.skip(f"{BOOK_PAGE.name} has no static conv explorer")
    for eid in ids:
        assert browser.js(f"!!window.courseLibExplorers.instances['{eid}']"), "script did not run"
        before = read_conv(browser, eid)
        assert shown_shape(before["shape"]) == conv_state(*before["settings"]).output_size
        stride = before["settings"][3]
        target = stride + 1 if stride < CONV_RANGES["stride"][1] else stride - 1
        browser.slide(f'#{eid} input[name="stride"]', target)
        after = read_conv(browser, eid)
        assert after["settings"][3] == target
        st = conv_state(*after["settings"])
        assert shown_shape(after["shape"]) == st.output_size == torch_shape(*after["settings"])
        assert after["text"] == conv_text(st)


# -- the image explorers (chapters 2, 3, 6) and JupyterLab's shortcut opt-out -----------------------

def test_every_control_opts_out_of_lab_shortcuts(browser, page):
    browser.open(page["url"])
    missing = browser.js("Array.from(document.querySelectorAll('.cl-explorer input, .cl-explorer select, "
                         ".cl-explorer button')).filter(e => e.getAttribute('data-lm-suppress-shortcuts') "
                         "!== 'true').length")
    total = browser.js("document.querySelectorAll('.cl-explorer input, .cl-explorer select, .cl-explorer button').length")
    assert total > 20 and missing == 0


def test_image_explorers_follow_their_sliders(browser, tmp_path):
    import numpy as np
    from course_lib.conv import correlate2d
    from course_lib.features import hog_shape
    from course_lib.gabor import gabor_kernel
    from course_lib.widgets import gabor_explorer_html, hog_explorer_html, kernel_playground_html, preset_kernels
    from course_lib.widgets.static_views import GABOR_RANGES
    digit = np.zeros((20, 20))
    digit[4:16, 9:12] = 1.0                                   # a vertical bar
    image = np.round(np.random.default_rng(0).random((40, 40)), 4)
    pages = [kernel_playground_html({"bar": digit}, threshold=0.5).data, gabor_explorer_html(image, size=11).data,
             hog_explorer_html().data]
    browser.open(write_page(tmp_path / "images.html", *pages))
    ids = browser.js("Array.from(document.querySelectorAll('.cl-explorer')).map(e => e.id)")
    kern, gab, hog = ids
    # kernel playground: the bar preset finds the bar; raising the threshold leaves fewer detections
    browser.js(f"(() => {{ const s = document.querySelector('#{kern} select[name=preset]'); s.value = 'bar'; "
               f"s.dispatchEvent(new Event('change')); }})()")
    fm = correlate2d(digit, preset_kernels()["bar"])
    want = int(((fm >= 0.5 * fm.max()) & (fm > 0)).sum())
    assert int(browser.js(f"document.getElementById('{kern}').getAttribute('data-detections')")) == want
    browser.js(f"document.querySelector('#{kern} input[name=threshold]').focus()")
    browser.key("ArrowRight", 8)                              # 0.5 + 8 x 0.05
    assert browser.js(f"+document.querySelector('#{kern} input[name=threshold]').value") == pytest.approx(0.9)
    want9 = int(((fm >= 0.9 * fm.max()) & (fm > 0)).sum())
    assert int(browser.js(f"document.getElementById('{kern}').getAttribute('data-detections')")) == want9 < want
    # gabor: move theta with keys; the page's kernel equals course_lib's
    step = GABOR_RANGES["theta"][2]
    browser.js(f"document.querySelector('#{gab} input[name=theta]').focus()")
    browser.key("ArrowRight", 6)
    got = browser.js(f"window.courseLibImageExplorers.instances['{gab}'].state()")
    theta = got["values"]["theta"]
    assert theta == pytest.approx(6 * step, abs=1e-9)
    want_k = gabor_kernel(11, theta, 0.6, 0.0, 0.02, 0.02)
    np.testing.assert_allclose(np.array(got["kernel"]).reshape(11, 11), want_k, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.array(got["response"]).reshape(got["shape"]), correlate2d(image, want_k),
                               rtol=1e-9, atol=1e-9)
    # HoG: 8 x 8 cells -> 16 x 16 cells on the slides' image
    assert browser.js(f"document.getElementById('{hog}').getAttribute('data-length')") == str(hog_shape(240, 320).length)
    browser.slide(f'#{hog} input[name="pixels_per_cell"]', 16)
    assert browser.js(f"document.getElementById('{hog}').getAttribute('data-length')") == \
        str(hog_shape(240, 320, pixels_per_cell=16).length)
    assert "15 × 20 × 9 bins = 2,700 numbers" in browser.text(f"#{hog} .cl-text")
    assert browser.exceptions() == []


# -- chapter 1: move or rotate a digit, the page looks up the precomputed scores --------------------

def read_digit(browser, eid):
    return browser.js(f"""(() => {{
        const root = document.getElementById("{eid}"), st = window.courseLibImageExplorers.instances["{eid}"].state();
        const c = root.querySelector("canvas"), px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        return {{argmax: root.getAttribute("data-argmax"), answer: root.querySelector(".cl-answer").textContent,
                scoresText: root.querySelector(".cl-scores").textContent, message: root.querySelector(".cl-msg").textContent,
                marked: Array.from(root.querySelectorAll(".cl-bar[stroke]")).map(b => +b.getAttribute("data-class")),
                arrows: root.querySelectorAll(".cl-argmax").length, state: st,
                red: Array.from(px).filter((v, i) => i % 4 === 0),
                sliders: ["dy", "dx", "angle"].map(n => +root.querySelector(`input[name="${{n}}"]`).value)}};
    }})()""")


def test_digit_scores_explorer_follows_arrow_keys(browser, tmp_path):
    import numpy as np
    from course_lib.augment import affine_image
    from course_lib.linear import linear_classifier
    from course_lib.widgets import digit_score_grid, digit_scores_explorer_html
    digit = np.zeros((16, 16))
    digit[3:13, 7:9] = 1.0
    digit[3:5, 5:8] = 0.7
    # templates: the digit where it is, moved right by 3, turned by 20 degrees, and nothing (bias only)
    templates = [digit, affine_image(digit, shift=(0, 3)), affine_image(digit, angle=20), np.zeros((16, 16))]
    model = linear_classifier((1, 16, 16), 4, zero_init=True)
    with torch.no_grad():
        model[1].weight.copy_(torch.from_numpy(np.stack([t.ravel() for t in templates])).float())
        model[1].bias.copy_(torch.tensor([0.0, 0.0, 0.0, 4.0]))
    g = digit_score_grid(model, digit, shifts=range(-4, 5), angles=range(-30, 31, 10))
    assert len(set(g.predictions.ravel().tolist())) == 4                   # every class wins somewhere
    browser.open(write_page(tmp_path / "digit.html", digit_scores_explorer_html(g, label=0).data))
    eid = browser.js("document.querySelector('.cl-explorer[data-explorer=digitscores]').id")
    names = browser.js(f"Array.from(document.querySelectorAll('#{eid} input, #{eid} select, #{eid} button'))"
                       ".map(e => e.getAttribute('data-lm-suppress-shortcuts'))")
    assert names == ["true"] * 3

    def check(dy, dx, angle):
        got = read_digit(browser, eid)
        a, i, j = g.index(dy, dx, angle)
        assert got["sliders"] == [dy, dx, angle] and got["state"]["index"] == [a, i, j]
        want = g.scores[a, i, j]
        np.testing.assert_allclose(got["state"]["scores"], want, atol=5e-5)
        pred = int(g.predictions[a, i, j])
        assert int(got["argmax"]) == pred == got["state"]["argmax"] and got["answer"] == str(pred)
        assert got["marked"] == [pred] and got["arrows"] == 1
        shown = [float(v.split()[1]) for v in got["scoresText"].removeprefix("scores: ").split(", ")]
        np.testing.assert_allclose(shown, want, atol=0.005 + 1e-9)
        np.testing.assert_array_equal(got["red"], np.round(g.images[a, i, j] * 255).ravel())   # the moved digit
        assert (", right" in got["message"]) == (pred == 0)
        return pred

    assert check(0, 0, 0) == 0
    browser.slide(f'#{eid} input[name="dx"]', 3)                            # three presses of ArrowRight
    assert check(0, 3, 0) == 1
    browser.js(f"document.querySelector('#{eid} input[name=\"angle\"]').focus()")
    browser.key("ArrowRight", 2)                                            # 0 -> 20 degrees, step 10
    check(0, 3, 20)
    browser.slide(f'#{eid} input[name="dx"]', 0)
    assert check(0, 0, 20) == 2
    browser.slide(f'#{eid} input[name="dy"]', -4)
    browser.key("ArrowLeft", 5)                                             # still on the dy slider
    browser.js(f"document.querySelector('#{eid} input[name=\"angle\"]').focus()")
    browser.key("ArrowLeft", 9)                                             # stops at -30
    check(-4, 0, -30)
    for dy, dx in [(4, 4), (-1, -4), (2, -3)]:
        browser.slide(f'#{eid} input[name="dy"]', dy)
        browser.slide(f'#{eid} input[name="dx"]', dx)
        check(dy, dx, -30)
    assert browser.exceptions() == []
