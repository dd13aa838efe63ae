"""viz.datasets (chapter 1 figures): each returns a Figure showing what it was given, and rejects bad input."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_lib import viz  # noqa: E402


def test_exported_from_viz():
    for name in viz.datasets.__all__:
        assert name in viz.__all__ and getattr(viz, name) is getattr(viz.datasets, name)


def test_patch_values_prints_every_value_of_the_patch():
    img = np.arange(144, dtype=np.uint8).reshape(12, 12)
    fig = viz.show_patch_values(img, 3, 4, 5)
    texts = [t.get_text() for t in fig.axes[1].texts]
    assert texts == [str(v) for v in img[3:8, 4:9].ravel()]
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), img[3:8, 4:9])


@pytest.mark.parametrize("kw, word", [(dict(top=10, left=0, size=4), "fit"), (dict(top=0, left=0, size=17), "size"),
                                      (dict(top=-1, left=0, size=4), "top")])
def test_patch_values_rejects_bad_patches(kw, word):
    with pytest.raises(ValueError, match=word):
        viz.show_patch_values(np.zeros((12, 12), dtype=np.uint8), **kw)


def test_vision_tasks_draws_one_box_per_object():
    img = np.zeros((20, 20))
    inst = np.zeros((20, 20), dtype=int)
    inst[2:5, 2:5], inst[10:15, 8:12] = 1, 2
    fig = viz.show_vision_tasks(img, [[2, 2, 5, 5], [10, 8, 15, 12]], inst > 0, inst)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    assert len(fig.axes[1].patches) == 2
    with pytest.raises(ValueError, match="columns"):
        viz.show_vision_tasks(img, [[1, 2, 3]], inst > 0, inst)
    with pytest.raises(ValueError, match="shape"):
        viz.show_vision_tasks(img, [[1, 2, 3, 4]], inst[:5] > 0, inst)


def test_class_samples_uses_one_common_stretch_for_the_means():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (30, 3, 4, 4), dtype=np.uint8)
    y = np.arange(30) % 3
    fig = viz.show_class_samples(torch.from_numpy(x), torch.from_numpy(y), ["a", "b", "c"], n_per_class=2)
    mosaic = fig.axes[0].images[0].get_array()
    means = np.stack([x[y == k].mean(0) / 255 for k in range(3)])
    stretched = (means - means.min()) / (means.max() - means.min())
    col = 2 * 6 + 4                                   # n_per_class * (W + 2) + gap
    for k in range(3):
        np.testing.assert_allclose(mosaic[k * 6:k * 6 + 4, col:col + 4], np.moveaxis(stretched[k], 0, -1))
    # every sample tile is one of the images of its class
    tile = mosaic[6:10, 0:4]
    assert any(np.allclose(tile, np.moveaxis(x[i], 0, -1) / 255) for i in np.flatnonzero(y == 1))


def test_class_samples_rejects_bad_input():
    x = np.zeros((6, 3, 4, 4), dtype=np.uint8)
    with pytest.raises(ValueError, match="n_per_class"):
        viz.show_class_samples(x, np.arange(6) % 2, ["a", "b"], n_per_class=4)
    with pytest.raises(ValueError, match="uint8"):
        viz.show_class_samples(x.astype(float), np.arange(6) % 2, ["a", "b"])
    with pytest.raises(ValueError, match="one entry per image"):
        viz.show_class_samples(x, np.arange(5) % 2, ["a", "b"])


def test_grey_grid_has_one_fixed_scale():
    x = np.random.default_rng(0).random((5, 1, 6, 6)) * 0.3       # dim images stay dim
    fig = viz.show_grey_grid(x, list("abcde"), ncols=3, vmin=0, vmax=1)
    ims = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(ims) == 5 and all(im.get_clim() == (0.0, 1.0) for im in ims)
    assert [ax.get_title() for ax in fig.axes if ax.images] == list("abcde")
    with pytest.raises(ValueError, match="vmin"):
        viz.show_grey_grid(x, vmin=1, vmax=1)
    with pytest.raises(ValueError, match="grey"):
        viz.show_grey_grid(np.zeros((2, 3, 4, 4)))


def test_shift_similarity_and_sweeps():
    fig = viz.plot_shift_similarity([0, 1, 2], [1.0, 0.7, 0.4], 0.5, 0.45)
    lines = fig.axes[0].get_lines()
    np.testing.assert_allclose(lines[0].get_ydata(), [1.0, 0.7, 0.4])
    with pytest.raises(ValueError, match="equally long"):
        viz.plot_shift_similarity([0, 1], [1.0], 0.5, 0.4)
    fig = viz.plot_invariance_sweeps({"shift (px)": ([0, 1, 2], [0.1, 0.2, 0.4]), "angle (deg)": ([0, 10], [0.1, 0.1])},
                                     ylabel="held-out error")
    assert [ax.get_xlabel() for ax in fig.axes] == ["shift (px)", "angle (deg)"]
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), [0.1, 0.2, 0.4])
    with pytest.raises(ValueError, match="same non-zero length"):
        viz.plot_invariance_sweeps({"a": ([0, 1], [0.1])})
    with pytest.raises(TypeError, match="dict"):
        viz.plot_invariance_sweeps([])


def test_channels_shows_the_image_and_each_channel_on_one_fixed_scale():
    img = np.random.default_rng(0).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    fig = viz.show_channels(img)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    assert [ax.get_title() for ax in fig.axes] == ["RGB image (H x W x 3)", "channel 0: red", "channel 1: green",
                                                   "channel 2: blue"]
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), img)
    for c in range(3):
        im = fig.axes[c + 1].images[0]
        np.testing.assert_array_equal(im.get_array(), img[:, :, c])
        assert im.get_clim() == (0, 255) and im.get_cmap().name == "gray"
    # (C, H, W) with channel_axis=0 shows the same channels; floats use the range 0..1
    fig = viz.show_channels(np.moveaxis(img, -1, 0) / 255, channel_axis=0, names=("R", "G", "B"))
    np.testing.assert_allclose(fig.axes[2].images[0].get_array(), img[:, :, 1] / 255)
    assert fig.axes[2].images[0].get_clim() == (0, 1.0) and fig.axes[3].get_title() == "channel 2: B"


@pytest.mark.parametrize("call, exc, word", [
    (lambda: viz.show_channels(np.zeros((4, 4), dtype=np.uint8)), ValueError, "image"),
    (lambda: viz.show_channels(np.zeros((3, 4, 4), dtype=np.uint8)), ValueError, "channel_axis=0"),
    (lambda: viz.show_channels(np.zeros((4, 4, 3)), channel_axis=1), ValueError, "channel_axis"),
    (lambda: viz.show_channels(np.full((4, 4, 3), 2.0)), ValueError, "divide"),
    (lambda: viz.show_channels(np.zeros((4, 4, 3)), names=("r", "g")), ValueError, "names"),
    (lambda: viz.show_channels("astronaut"), TypeError, "image"),
])
def test_channels_rejects_bad_input(call, exc, word):
    with pytest.raises(exc, match=word):
        call()


def test_reshape_vs_transpose_shows_channel_of_each_batch():
    hwc = np.random.default_rng(1).integers(0, 256, (3, 5, 5, 3), dtype=np.uint8)
    right, wrong = hwc.transpose(0, 3, 1, 2), hwc.reshape(3, 3, 5, 5)
    fig = viz.show_reshape_vs_transpose(right, wrong, channel=1)
    assert isinstance(fig, Figure) and len(fig.axes) == 6
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == [f"transpose: image {n}, channel 1" for n in range(3)]
    assert titles[3:] == [f"reshape: image {n}, 'channel 1'" for n in range(3)]
    for n in range(3):
        np.testing.assert_array_equal(fig.axes[n].images[0].get_array(), hwc[n, :, :, 1])     # the real green
        np.testing.assert_array_equal(fig.axes[3 + n].images[0].get_array(), wrong[n, 1])
        assert fig.axes[3 + n].images[0].get_clim() == (0, 255)
    assert "transpose (top)" in fig._suptitle.get_text()


@pytest.mark.parametrize("kw, exc, word", [
    (dict(reshaped=np.zeros((2, 3, 5, 4), dtype=np.uint8)), ValueError, "same shape"),
    (dict(channel=3), ValueError, "channel"),
    (dict(channel=-1), ValueError, "channel"),
    (dict(reshaped=np.zeros((2, 3, 4), dtype=np.uint8)), ValueError, "reshaped"),
])
def test_reshape_vs_transpose_rejects_bad_input(kw, exc, word):
    args = dict(transposed=np.zeros((2, 3, 4, 5), dtype=np.uint8), reshaped=np.zeros((2, 3, 4, 5), dtype=np.uint8))
    args.update(kw)
    with pytest.raises(exc, match=word):
        viz.show_reshape_vs_transpose(**args)


def test_image_row_shows_values_unscaled():
    img = np.full((4, 4, 3), 200, dtype=np.uint8)
    wrapped, clipped = img + np.uint8(100), np.clip(img / 255 + 100 / 255, 0, 1)
    fig = viz.show_image_row({"original": img, "wrapped": wrapped, "clipped": clipped}, title="t")
    assert isinstance(fig, Figure) and [ax.get_title() for ax in fig.axes] == ["original", "wrapped", "clipped"]
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), np.full((4, 4, 3), 44))   # (200 + 100) % 256
    np.testing.assert_allclose(fig.axes[2].images[0].get_array(), np.ones((4, 4, 3)))
    with pytest.raises(TypeError, match="dict"):
        viz.show_image_row([img])
    with pytest.raises(ValueError, match=r"images\['big'\]"):
        viz.show_image_row({"big": img * 2.0})
    with pytest.raises(ValueError, match="at most 6"):
        viz.show_image_row({str(i): img for i in range(7)})


def test_margin_losses_plots_each_curve_and_the_mark():
    m = np.linspace(-3, 4, 15)
    hinge, soft = np.maximum(0, 1 - m), np.log1p(np.exp(-m))
    fig = viz.plot_margin_losses(m, {"softmax": soft, "hinge": hinge}, title="two classes")
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert [line.get_label() for line in lines[:2]] == ["softmax", "hinge"]
    np.testing.assert_allclose(lines[1].get_ydata(), hinge)
    np.testing.assert_allclose(lines[2].get_xdata(), [1.0, 1.0])                  # the dotted mark at margin 1
    assert ax.get_title() == "two classes" and ax.get_ylabel() == "loss"
    assert len(viz.plot_margin_losses(m, {"hinge": hinge}, mark=None).axes[0].get_lines()) == 1


@pytest.mark.parametrize("margin, losses, kw, exc, word", [
    (np.array([0.0, 0.0, 1.0]), {"a": np.zeros(3)}, {}, ValueError, "increasing"),
    (np.arange(3.0), {}, {}, TypeError, "losses"),
    (np.arange(3.0), {"a": np.zeros(4)}, {}, ValueError, "one value per margin"),
    (np.arange(3.0), {"a": np.zeros(3)}, {"mark": "1"}, TypeError, "mark"),
    (np.zeros((2, 2)), {"a": np.zeros(2)}, {}, ValueError, "margin"),
])
def test_margin_losses_rejects_bad_input(margin, losses, kw, exc, word):
    with pytest.raises(exc, match=word):
        viz.plot_margin_losses(margin, losses, **kw)
