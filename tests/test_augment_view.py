"""The chapter 7 augmentation explorer: Python twin, HTML, and its JavaScript against course_lib (Node)."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from course_lib import augment as A
from course_lib.whitening import PixelWhitener
from course_lib.widgets import augment_explorer_html
from course_lib.widgets.augment_view import augment_fixed

JS = Path(__file__).resolve().parents[1] / "course_lib" / "widgets" / "static" / "augment_explorer.js"
NODE = shutil.which("node") or shutil.which("nodejs")
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js not installed")


def images(seed=0):
    rng = np.random.default_rng(seed)
    out = [rng.random((3, 9, 11)), rng.random((1, 7, 7)), np.full((3, 6, 6), 0.5)]
    smooth = np.clip(np.linspace(0, 1, 12)[None, :, None] * np.ones((3, 12, 10)) * [[[1.0]], [[0.6]], [[0.2]]], 0, 1)
    out.append(smooth)
    return out


def run_node(script, payload):
    prelude = f"require({json.dumps(str(JS))}); const E = globalThis.courseLibAugmentExplorer;\n"
    done = subprocess.run([NODE, "-e", prelude + script], input=json.dumps(payload),
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


# -- the Python twin agrees with course_lib.augment -------------------------------------------
def test_augment_fixed_crop_is_random_crop_for_the_drawn_offset():
    x = torch.rand(1, 3, 10, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for seed in range(12):
        for p in (0, 1, 3):
            g = torch.Generator().manual_seed(seed)
            dy = int(torch.randint(0, 2 * p + 1, (1,), generator=g))
            dx = int(torch.randint(0, 2 * p + 1, (1,), generator=g))
            want = A.random_crop(x, seed, padding=p, fill=[0.1, 0.2, 0.3])[0].numpy()
            got = augment_fixed(x[0], padding=p, dy=dy, dx=dx, fill=[0.1, 0.2, 0.3])
            np.testing.assert_array_equal(got, want)


def test_augment_fixed_colour_steps_are_the_library_ops():
    x = torch.from_numpy(images()[0])[None]
    got = augment_fixed(x[0], flip=True, brightness=1.3, contrast=0.6, saturation=1.7)
    want = A.adjust_saturation(A.adjust_contrast(A.adjust_brightness(A.hflip(x), 1.3), 0.6), 1.7)[0]
    np.testing.assert_allclose(got, want.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(augment_fixed(x[0]), x[0].numpy())            # defaults: identity


def test_augment_fixed_example_and_shift_direction():
    img = np.zeros((1, 5, 5))
    img[0, 2, 2] = 1.0
    out = augment_fixed(img, padding=2, dy=0, dx=4)                  # window up-right: content down-left
    assert out[0, 4, 0] == 1.0 and out.sum() == 1.0


@pytest.mark.parametrize("kwargs, match", [
    ({"padding": -1}, "padding"), ({"padding": 1, "dy": 3}, "dy"), ({"brightness": 2.5}, "brightness"),
    ({"contrast": -0.1}, "contrast"), ({"flip": 1}, "flip"), ({"fill": [0.1, 0.2]}, "fill"),
])
def test_augment_fixed_rejects_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        augment_fixed(np.zeros((3, 4, 4)), **kwargs)


def test_augment_fixed_rejects_bad_images():
    with pytest.raises(ValueError, match="channels"):
        augment_fixed(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        augment_fixed(np.full((3, 4, 4), 255.0))
    with pytest.raises(ValueError, match="image"):
        augment_fixed(np.zeros((4, 4)))


# -- the HTML ----------------------------------------------------------------------------------
def test_html_is_self_contained_and_configured():
    img = images()[0]
    page = augment_explorer_html(img, mean=np.full(img.shape, 0.4), std=np.full(img.shape, 0.2),
                                 channel_mean=[0.5, 0.4, 0.3], padding=3, seed=5).data
    assert 'data-explorer="augment"' in page and "mountAugment" in page
    assert not re.search(r"(src|href)=[\"']https?:", page) and "<script src" not in page and "import(" not in page
    assert "<script>" in page and "<style>" in page
    cfg = json.loads(re.search(r"parentNode : \"[^\"]+\", (\{.*\})\);</script>", page).group(1))
    assert cfg["padding"] == 3 and cfg["dy"] == cfg["dx"] == 3 and cfg["seed"] == 5
    assert cfg["fill"] == "channel mean" and cfg["fills"]["channel mean"] == [0.5, 0.4, 0.3]
    assert len(cfg["image"]["data"]) == img.size and len(cfg["whitening"]["mean"]) == img.size


@pytest.mark.parametrize("kwargs, match", [
    ({"padding": 9}, "padding"), ({"eps": 0.0}, "eps"), ({"seed": 100}, "seed"), ({"draws": 0}, "draws"),
    ({"strengths": (0.2, 0.2)}, "strengths"), ({"strengths": (0.2, 0.2, 1.5)}, "strengths"),
    ({"mean": np.zeros((3, 9, 11))}, "both"), ({"mean": np.zeros((3, 2, 2)), "std": np.ones((3, 2, 2))}, "shape"),
])
def test_html_rejects_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        augment_explorer_html(images()[0], **kwargs)


def test_html_rejects_large_images():
    with pytest.raises(ValueError, match="64"):
        augment_explorer_html(np.zeros((3, 65, 32)))


# -- the JavaScript against Python (Node) ------------------------------------------------------
def cases():
    out = []
    rng = np.random.default_rng(3)
    for i, img in enumerate(images()):
        C = img.shape[0]
        for _ in range(6):
            p = int(rng.integers(0, 5))
            out.append({"img": img.round(4).ravel().tolist(), "shape": list(img.shape),
                        "q": {"padding": p, "dy": int(rng.integers(0, 2 * p + 1)), "dx": int(rng.integers(0, 2 * p + 1)),
                              "flip": bool(rng.integers(0, 2)), "brightness": round(float(rng.uniform(0, 2)), 2),
                              "contrast": round(float(rng.uniform(0, 2)), 2),
                              "saturation": round(float(rng.uniform(0, 2)), 2),
                              "fill": [round(float(v), 3) for v in rng.random(C)]}})
    return out


@needs_node
def test_js_augment_matches_python():
    cs = cases()
    got = run_node("""
const cs = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(cs.map(c => { const [C, H, W] = c.shape;
  return [E.augment(c.img, C, H, W, c.q), E.brightness(c.img, C, H, W, c.q.brightness),
          E.contrast(c.img, C, H, W, c.q.contrast), E.saturation(c.img, C, H, W, c.q.saturation),
          E.hflip(c.img, C, H, W), E.padCrop(c.img, C, H, W, c.q.padding, c.q.dy, c.q.dx, c.q.fill)]; })));""", cs)
    assert len(got) == len(cs) == 24
    for c, (aug, bri, con, sat, flp, crop) in zip(cs, got):
        img = np.array(c["img"]).reshape(c["shape"])
        q = c["q"]
        x = torch.from_numpy(img)[None]
        want = augment_fixed(img, **q)
        np.testing.assert_allclose(np.reshape(aug, img.shape), want, rtol=0, atol=1e-12, err_msg=str(q))
        np.testing.assert_allclose(np.reshape(bri, img.shape), A.adjust_brightness(x, q["brightness"])[0], atol=1e-12)
        np.testing.assert_allclose(np.reshape(con, img.shape), A.adjust_contrast(x, q["contrast"])[0], atol=1e-12)
        np.testing.assert_allclose(np.reshape(sat, img.shape), A.adjust_saturation(x, q["saturation"])[0], atol=1e-12)
        np.testing.assert_array_equal(np.reshape(flp, img.shape), A.hflip(x)[0].numpy())
        np.testing.assert_array_equal(np.reshape(crop, img.shape),
                                      augment_fixed(img, padding=q["padding"], dy=q["dy"], dx=q["dx"], fill=q["fill"]))


@needs_node
def test_js_whitening_matches_pixel_whitener():
    rng = np.random.default_rng(0)
    train = rng.random((50, 3, 6, 5))
    train[:, :, 0, 0] = 0.0                                        # a pixel with S = 0
    test = rng.random((3, 3, 6, 5))
    payload = []
    for eps in (1e-3, 0.1, 1.0):
        pw = PixelWhitener(eps=eps).fit(train)
        payload.append({"eps": eps, "M": pw.mean_.ravel().tolist(), "S": pw.std_.ravel().tolist(),
                        "x": [t.ravel().tolist() for t in test], "want": pw.transform(test).tolist()})
    got = run_node("""
const ps = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(ps.map(p => p.x.map(x => E.whiten(x, p.M, p.S, p.eps)))));""", payload)
    for p, g in zip(payload, got):
        np.testing.assert_allclose(np.reshape(g, (3, 3, 6, 5)), np.array(p["want"]), rtol=1e-12, atol=1e-12)


@needs_node
def test_js_random_draws_are_seeded_and_in_range():
    got = run_node("""
const a = E.drawParams(400, 7, 3, true, [0.2, 0.5, 1.0], [0, 0, 0]);
const b = E.drawParams(400, 7, 3, true, [0.2, 0.5, 1.0], [0, 0, 0]);
const c = E.drawParams(400, 8, 3, true, [0.2, 0.5, 1.0], [0, 0, 0]);
const off = E.drawParams(50, 1, 2, false, [0, 0, 0], [0, 0, 0]);
console.log(JSON.stringify([a, JSON.stringify(a) === JSON.stringify(b), JSON.stringify(a) === JSON.stringify(c), off]));""", None)
    draws, same, same_other_seed, off = got
    assert same and not same_other_seed
    dys = {d["dy"] for d in draws} | {d["dx"] for d in draws}
    assert dys == set(range(7))                                   # every offset 0..2p occurs
    assert 0.3 < np.mean([d["flip"] for d in draws]) < 0.7
    for key, s in (("brightness", 0.2), ("contrast", 0.5), ("saturation", 1.0)):
        v = np.array([d[key] for d in draws])
        assert v.min() >= max(0, 1 - s) and v.max() <= 1 + s and v.max() - v.min() > s
    assert all(d["flip"] is False and d["brightness"] == 1 for d in off)


# A minimal DOM, enough to mount the explorer in Node and inspect the controls it creates.
FAKE_DOM = r"""
class Node_ { constructor(tag) { this.tagName = tag.toUpperCase(); this.attrs = {}; this.children = []; this.style = {};
    this.listeners = {}; this.value = ""; this.checked = false; this._html = ""; this.textContent = ""; }
  setAttribute(k, v) { this.attrs[k] = String(v); if (k === "value") this.value = String(v); }
  getAttribute(k) { return k in this.attrs ? this.attrs[k] : null; }
  appendChild(c) { this.children.push(c); c.parentNode = this; return c; }
  addEventListener(t, f) { (this.listeners[t] = this.listeners[t] || []).push(f); }
  dispatchEvent(e) { (this.listeners[e.type] || []).forEach(f => f(e)); }
  set innerHTML(h) { this._html = h; if (h === "") this.children = []; } get innerHTML() { return this._html; }
  getContext() { return null; }
  all() { return [this].concat(...this.children.map(c => c.all())); }
  querySelector(sel) { const cls = sel.replace(/^[a-z]*\.?/, ""); const tag = sel.match(/^[a-z]+/);
    return this.all().slice(1).find(n => tag ? n.tagName === tag[0].toUpperCase()
                                          : (n.attrs["class"] || "").split(" ").includes(cls)) || null; } }
globalThis.Event = class { constructor(t) { this.type = t; } };
globalThis.document = { createElement: t => new Node_(t), getElementById: () => null };
const rootEl = new Node_("div");
["cl-controls", "cl-picture", "cl-text"].forEach(c => { const d = new Node_("div"); d.setAttribute("class", c); rootEl.appendChild(d); });
"""


@needs_node
def test_mounted_explorer_controls_suppress_lab_shortcuts_and_move_the_picture():
    img = images()[0]
    page = augment_explorer_html(img, mean=np.full(img.shape, 0.4), std=np.full(img.shape, 0.2),
                                 channel_mean=[0.5, 0.4, 0.3], padding=2, draws=6).data
    cfg = json.loads(re.search(r"parentNode : \"[^\"]+\", (\{.*\})\);</script>", page).group(1))
    got = run_node(FAKE_DOM + """
const cfg = JSON.parse(require("fs").readFileSync(0, "utf8"));
const ex = E.mountAugment(rootEl, cfg);
const controls = rootEl.all().filter(n => ["INPUT", "SELECT", "BUTTON", "TEXTAREA"].includes(n.tagName));
const before = ex.state();
const b = controls.find(n => n.attrs.name === "brightness"); b.value = "1.5"; b.dispatchEvent(new Event("input"));
const dy = controls.find(n => n.attrs.name === "dy"); dy.value = "0"; dy.dispatchEvent(new Event("input"));
const after = ex.state();
console.log(JSON.stringify({names: controls.map(n => n.attrs.name),
  suppressed: controls.map(n => n.attrs["data-lm-suppress-shortcuts"]),
  before: before.params, after: after.params, augmented: after.augmented, eps: after.eps,
  ndraws: after.draws.length, text: rootEl.querySelector(".cl-text").innerHTML}));""", cfg)
    assert set(got["names"]) >= {"padding", "dy", "dx", "flip", "brightness", "contrast", "saturation", "fill",
                                 "log10_eps", "s_brightness", "s_contrast", "s_saturation", "random_flip", "seed"}
    assert got["suppressed"] == ["true"] * len(got["names"])
    assert got["before"]["brightness"] == 1 and got["after"]["brightness"] == 1.5 and got["after"]["dy"] == 0
    assert got["ndraws"] == 6 and got["eps"] == pytest.approx(0.1)
    want = augment_fixed(np.array(cfg["image"]["data"]).reshape(img.shape), padding=2, dy=0, dx=2,
                         brightness=1.5, fill=[0.5, 0.4, 0.3])
    np.testing.assert_allclose(np.reshape(got["augmented"], img.shape), want, atol=1e-12)
    assert "shift by (2, 0)" in got["text"] and "ε = 0.10" in got["text"]


def test_every_created_control_goes_through_the_suppressing_helper():
    """Like the other static scripts: one el() helper creates every element and marks the controls."""
    js = JS.read_text(encoding="utf-8")
    assert js.count("document.createElement(") == 1
    body = js[js.index("function el("):]
    body = body[:body.index("return e;")]
    assert 'setAttribute("data-lm-suppress-shortcuts", "true")' in body
    assert "innerHTML = '<input" not in js and '"<input' not in js and "<select" not in js
