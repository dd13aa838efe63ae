"""viz: each function returns a Figure (never shows it) with the expected axes and colour limits."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_lib import viz  # noqa: E402
from course_lib.training import History  # noqa: E402


def _images(fig):
    """The first AxesImage of every axes that has one, in order."""
    return [ax.images[0] for ax in fig.axes if ax.images]


def _grid_axes(n, ncols):
    ncols = max(1, min(ncols, n))
    return -(-n // ncols) * ncols


# ----------------------------------------------------------------------------- show_images
@pytest.mark.parametrize("n, ncols", [(1, 8), (3, 8), (5, 2)])
def test_show_images_grid(n, ncols):
    rng = np.random.default_rng(0)
    fig = viz.show_images(rng.random((n, 1, 6, 6)), labels=list(range(n)), ncols=ncols)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == _grid_axes(n, ncols)
    assert len(_images(fig)) == n
    assert [ax.get_title() for ax in fig.axes[:n]] == [str(i) for i in range(n)]
    assert all(im.get_cmap().name == "gray" for im in _images(fig))


def test_show_images_rgb_uint8_tensor_class_names_and_title():
    imgs = torch.randint(0, 256, (3, 3, 5, 5), dtype=torch.uint8)
    fig = viz.show_images(imgs, labels=[0, 2, "x"], class_names=["cat", "dog", "ship"],
                          title="CIFAR")
    assert [ax.get_title() for ax in fig.axes] == ["cat", "ship", "x"]
    assert fig._suptitle.get_text() == "CIFAR"
    assert _images(fig)[0].get_array().shape == (5, 5, 3)          # channels last for imshow
    # float RGB is rescaled to [0, 1]; (N, H, W) grey works too
    fig2 = viz.show_images(np.random.default_rng(1).normal(5, 3, (2, 3, 4, 4)))
    arr = _images(fig2)[0].get_array()
    assert arr.min() >= 0 and arr.max() <= 1
    assert len(viz.show_images(np.zeros((4, 7, 7))).axes) == 4


# ----------------------------------------------------------------------------- signed maps
def test_show_signed_symmetric_limits_each():
    arrays = [np.array([[1.0, -3.0], [0.5, 2.0]]), np.array([[0.2, 0.1], [0.0, 0.05]]),
              np.zeros((2, 2))]
    fig = viz.show_signed(arrays, titles=["a", "b", "c"])
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    ims = _images(fig)
    assert [im.get_clim() for im in ims] == [(-3.0, 3.0), (-0.2, 0.2), (-1.0, 1.0)]
    assert all(im.get_cmap().name == "RdBu_r" for im in ims)
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]


def test_show_signed_shared_scale_and_colorbar():
    arrays = np.stack([np.eye(3) * 4 - 1, -np.eye(3)])          # an (N, H, W) array works
    fig = viz.show_signed(arrays, shared_scale=True, colorbar=True, suptitle="kernels")
    ims = _images(fig)
    assert len(ims) == 2 and all(im.get_clim() == (-3.0, 3.0) for im in ims)
    assert len(fig.axes) == 3                                   # two panels + one shared colour bar
    assert fig._suptitle.get_text() == "kernels"
    fig = viz.show_signed(arrays, colorbar_label="weight")      # own scales: one bar per panel
    assert len(fig.axes) == 4 and fig.axes[2].get_ylabel() == "weight"
    with pytest.raises(TypeError, match="colorbar_label"):
        viz.show_signed(arrays, colorbar_label=1)


def test_number_grid_coverage_and_sweeps():
    fig = viz.number_grid(np.arange(12.0).reshape(3, 4), pad=1, highlight=(0, 1, 3, 3), title="padded")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts[:4] == ["0", "1", "2", "3"] and len(fig.axes[0].patches) == 10 + 1   # 10 ring cells + window
    fig = viz.show_window_coverage(7, 3, strides=(2, 3))
    titles = [ax.get_title() for ax in fig.axes]
    assert "every pixel is read" in titles[0] and "never read" in titles[1]
    counts = [int(t.get_text()) for t in fig.axes[1].texts]
    assert counts.count(0) == 13                                # row 6 and column 6 of 7 x 7, stride 3
    fig = viz.plot_sweeps([0, 1, 2], {"HoG": [0.5, 0.4, 0.3], "pixels": [0.4, 0.2, 0.1]}, xlabel="shift",
                          ylabel="test accuracy", chance=0.1, percent=True)
    assert [l.get_label() for l in fig.axes[0].get_lines()] == ["HoG", "pixels", "chance"]
    with pytest.raises(ValueError, match="has 2 values"):
        viz.plot_sweeps([0, 1, 2], {"a": [1, 2]}, xlabel="x", ylabel="y")
    with pytest.raises(ValueError, match="values"):
        viz.number_grid(np.zeros(3))


@pytest.mark.parametrize("n, ncols", [(4, 10), (12, 5)])
def test_show_filters_grey_is_signed(n, ncols):
    w = np.random.default_rng(0).standard_normal((n, 2, 5, 5))
    fig = viz.show_filters(w, ncols=ncols, title="conv1")
    assert len(fig.axes) == _grid_axes(n, ncols)
    ims = _images(fig)
    assert len(ims) == n
    for im, f in zip(ims, w[:, 0]):
        vmax = float(np.abs(f).max())
        assert im.get_clim() == pytest.approx((-vmax, vmax))
        np.testing.assert_array_equal(im.get_array(), f)       # first input channel shown


def test_show_filters_rgb():
    w = torch.randn(6, 3, 5, 5)
    fig = viz.show_filters(w, ncols=3)
    assert len(fig.axes) == 6
    arr = _images(fig)[0].get_array()
    assert arr.shape == (5, 5, 3) and arr.min() >= 0 and arr.max() <= 1


def test_show_feature_maps():
    maps = np.random.default_rng(0).standard_normal((5, 6, 6))
    fig = viz.show_feature_maps(maps, ncols=4, titles=list("abcde"), title="relu1")
    assert len(fig.axes) == 8 and len(_images(fig)) == 5
    for im, m in zip(_images(fig), maps):
        lo, hi = im.get_clim()
        assert lo == -hi == pytest.approx(-np.abs(m).max())


# ----------------------------------------------------------------------------- history, detections
def test_plot_history_from_history_and_dict():
    h = History(epoch=[1, 2, 3], train_loss=[1.0, 0.6, 0.4], train_top1=[0.4, 0.3, 0.2],
                train_top5=[0.1, 0.05, 0.0], val_loss=[1.1, 0.8, 0.7], val_top1=[0.5, 0.4, 0.35],
                val_top5=[0.2, 0.1, 0.1], steps=[10, 20, 30])
    fig = viz.plot_history(h, title="LeNet")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    ax_loss, ax_err = fig.axes
    assert len(ax_loss.lines) == 2 and len(ax_err.lines) == 4
    np.testing.assert_array_equal(ax_loss.lines[1].get_ydata(), h.val_loss)
    d = {"epoch": [1, 2], "train_loss": [1.0, 0.5], "train_top1": [0.3, 0.2],
         "train_top5": [0.1, 0.05], "val_loss": [], "val_top1": [], "val_top5": []}
    fig2 = viz.plot_history(d)
    assert len(fig2.axes) == 2
    assert len(fig2.axes[0].lines) == 1 and len(fig2.axes[1].lines) == 2


def test_show_detections_marks_mask_pixels():
    mask = np.zeros((6, 6), dtype=bool)
    mask[1, 4] = mask[5, 0] = True
    fig = viz.show_detections(np.random.default_rng(0).random((6, 6)), mask, title="edges")
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    offsets = fig.axes[0].collections[0].get_offsets()
    assert sorted(map(tuple, np.asarray(offsets).tolist())) == [(0.0, 5.0), (4.0, 1.0)]  # (x, y)
    assert fig.axes[0].get_title() == "edges"
    # drawing into an existing axes returns that axes' figure
    fig3, axes = plt.subplots(1, 2)
    assert viz.show_detections(np.zeros((3, 3)), np.eye(3), ax=axes[1]) is fig3


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, exc, match", [
    (lambda: viz.show_images(np.zeros((8, 8))), ValueError, r"^images must be 3D or 4D"),
    (lambda: viz.show_images(np.zeros((2, 1, 4, 4)), labels=[1]), ValueError,
     r"^labels must have one entry per image \(2\)"),
    (lambda: viz.show_images(np.zeros((2, 1, 4, 4)), ncols=0), ValueError, r"^ncols must be >= 1"),
    (lambda: viz.show_images(np.zeros((2, 1, 4, 4)), ncols=True), TypeError, r"^ncols must be"),
    (lambda: viz.show_images(np.full((2, 4, 4), "a")), TypeError, r"^images must hold real"),
    (lambda: viz.show_images(np.ones((2, 4, 4), bool)), TypeError, r"^images must hold real"),
    (lambda: viz.show_signed([np.zeros((2, 2)), np.zeros((2, 2, 2))]), ValueError,
     r"^arrays\[1\] must be 2D"),
    (lambda: viz.show_signed([np.zeros((2, 2))], titles=["a", "b"]), ValueError,
     r"^titles must have 1 entries"),
    (lambda: viz.show_filters(np.zeros((2, 5, 5))), ValueError, r"^weight must be 4D"),
    (lambda: viz.show_filters(np.ones((2, 1, 5, 5), complex)), TypeError, r"^weight must hold"),
    (lambda: viz.show_feature_maps(np.zeros((5, 5))), ValueError, r"^maps must be 3D"),
    (lambda: viz.show_feature_maps(np.full((2, 5, 5), "x")), TypeError, r"^maps must hold real"),
    (lambda: viz.plot_history({"epoch": [1]}), ValueError, r"^history lacks"),
    (lambda: viz.show_detections(np.zeros((3, 3, 3)), np.zeros((3, 3))), ValueError,
     r"^image must be 2D"),
    (lambda: viz.show_detections(np.zeros((3, 3)), np.zeros((3, 4))), ValueError,
     r"^mask must have the image's shape"),
])
def test_rejects_bad_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.parametrize("arrays, exc", [
    ([], ValueError),
    ([np.full((2, 2), "a")], TypeError),
    ([np.ones((2, 2), dtype=bool)], TypeError),
    ([np.ones((2, 2), dtype=complex)], TypeError),
])
def test_show_signed_rejects_non_real_or_empty_input(arrays, exc):
    with pytest.raises(exc, match=r"^arrays"):
        viz.show_signed(arrays)
