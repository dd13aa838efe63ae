"""viz.interpret (chapter 12 figures): each returns a Figure showing what it was given, and rejects bad input."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib.viz import interpret as vi  # noqa: E402


def test_rgb_filters_zero_is_grey_and_sign_shows():
    w = np.zeros((2, 3, 3, 3))
    w[0, 0, 1, 1] = 2.0           # strong positive red at the centre
    w[0, 0, 0, 0] = -2.0
    fig = vi.show_rgb_filters(w, ncols=2)
    shown = fig.axes[0].images[0].get_array()
    np.testing.assert_allclose(shown[1, 1], [1.0, 0.5, 0.5])
    np.testing.assert_allclose(shown[0, 0], [0.0, 0.5, 0.5])
    np.testing.assert_allclose(shown[2, 2], [0.5, 0.5, 0.5])
    np.testing.assert_allclose(fig.axes[1].images[0].get_array(), 0.5)      # an all-zero filter: grey
    with pytest.raises(ValueError, match="3 input channels"):
        vi.show_rgb_filters(np.zeros((2, 1, 3, 3)))


def test_patch_rows_one_row_per_unit():
    fig = vi.show_patch_rows({"u1": np.random.rand(4, 3, 5, 5), "u2": np.random.rand(2, 3, 15, 15)}, title="t")
    assert len(fig.axes) == 8
    assert len(fig.axes[4].images) == 1 and len(fig.axes[6].images) == 0
    assert fig.axes[0].get_ylabel() == "u1"
    with pytest.raises(TypeError):
        vi.show_patch_rows({})


def test_cam_overlays():
    imgs = np.random.rand(3, 3, 8, 8)
    cams = np.random.rand(3, 8, 8)
    fig = vi.show_cam_overlays(imgs, cams, titles=list("abc"), ncols=2)
    overlays = [ax for ax in fig.axes if len(ax.images) == 2]
    assert len(overlays) == 3
    np.testing.assert_allclose(overlays[0].images[1].get_array(), cams[0])
    assert overlays[0].images[1].get_clim() == (0.0, 1.0)
    fig = vi.show_cam_overlays(imgs, cams - 0.5, signed=True)
    assert [ax for ax in fig.axes if len(ax.images) == 2][0].images[1].get_clim() == (-1.0, 1.0)
    with pytest.raises(ValueError, match="upsample"):
        vi.show_cam_overlays(imgs, np.random.rand(3, 4, 4))
    with pytest.raises(ValueError, match="titles"):
        vi.show_cam_overlays(imgs, cams, titles=["a"])


def test_score_comparison_and_ascent():
    fig = vi.plot_score_comparison({"a": np.arange(10.0), "b": np.zeros(10)}, [str(i) for i in range(10)], target=3)
    bars = fig.axes[0].patches
    assert len(bars) == 10 and bars[9].get_height() == 9.0
    with pytest.raises(ValueError, match="target"):
        vi.plot_score_comparison({"a": np.zeros(3)}, ["x", "y", "z"], target=3)
    fig = vi.plot_ascent({"x": [1, 2, 4], "y": [0, 1, 1]}, ylabel="F", logy=True)
    assert len(fig.axes[0].lines) == 2 and fig.axes[0].get_yscale() == "log"


def test_embedding_plots():
    rng = np.random.default_rng(0)
    xy = rng.normal(size=(50, 2))
    lab = rng.integers(0, 3, 50)
    fig = vi.plot_embedding(xy, lab, ["a", "b", "c"])
    assert sum(len(c.get_offsets()) for c in fig.axes[0].collections) == 50
    imgs = np.zeros((50, 3, 4, 4))
    imgs[7] = 0.25
    xy[7] = [100.0, 100.0]        # alone in the top-right cell
    fig = vi.plot_embedding_thumbnails(xy, imgs, grid=5)
    canvas = fig.axes[0].images[0].get_array()
    assert canvas.shape == (20, 20, 3)
    np.testing.assert_allclose(canvas[:4, 16:], 0.25)
    with pytest.raises(ValueError, match="xy"):
        vi.plot_embedding_thumbnails(xy[:3], imgs, grid=5)


def test_image_pairs():
    fig = vi.show_image_pairs({"photo": np.zeros((3, 5, 6)), "dream": np.ones((3, 5, 6))}, title="t")
    assert len(fig.axes) == 2 and fig.axes[1].get_title() == "dream"
    with pytest.raises(ValueError):
        vi.show_image_pairs({"x": np.zeros((5, 6))})


def test_picker_html_embeds_every_picture():
    pngs = {"unit <1>": vi.figure_png(plt.figure(figsize=(1, 1))), "unit 2": vi.figure_png(plt.figure())}
    html = vi.picker_html(pngs, label="unit", element_id="ex1")
    assert html.count("<option") == 2 and html.count("data:image/png;base64,") == 2
    assert "unit &lt;1&gt;" in html and "display:block" in html and html.count("display:none") == 1
    with pytest.raises(ValueError, match="element_id"):
        vi.picker_html(pngs, element_id="1 bad")
    with pytest.raises(TypeError, match="PNG"):
        vi.picker_html({"a": b"GIF89a"})
