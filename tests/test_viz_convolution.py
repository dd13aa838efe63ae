"""Figures of chapters 3-4 (course_lib.viz.convolution): what they draw, and bad input rejected."""
from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_lib import viz
from course_lib.viz import convolution as vc

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_exported_from_viz():
    for name in vc.__all__:
        assert getattr(viz, name) is getattr(vc, name)


def test_template_match_marks_the_patch_corner():
    rng = np.random.default_rng(0)
    img = rng.random((12, 12))
    fig = vc.show_template_match(img, img[3:8, 4:9], (3, 4))
    assert len(fig.axes) == 4                       # three panels + colour bar
    cross = fig.axes[2].lines[0]
    assert (cross.get_xdata()[0], cross.get_ydata()[0]) == (4, 3)   # the cosine peaks at the cut
    assert fig.axes[3].get_ylabel() == "cosine similarity"
    assert fig.axes[2].images[0].get_clim() == (-1, 1)


@pytest.mark.parametrize("kwargs, err", [
    (dict(image=np.zeros((4, 4)), template=np.zeros((5, 5)), corner=(0, 0)), ValueError),
    (dict(image=np.zeros((6, 6)), template=np.zeros((3, 3)), corner=(0.5, 0)), TypeError),
    (dict(image=np.zeros((2, 6, 6)), template=np.zeros((3, 3)), corner=(0, 0)), ValueError),
])
def test_template_match_rejects_bad_input(kwargs, err):
    with pytest.raises(err):
        vc.show_template_match(kwargs["image"], kwargs["template"], kwargs["corner"])


def test_detector_responses_threshold_and_layout():
    img = np.zeros((9, 9))
    img[4, :] = 1.0                                  # one bright horizontal line
    kernels = {"bar": np.array([[-1.0], [2.0], [-1.0]]), "spot": np.pad(np.ones((1, 1)), 1) - 1 / 9}
    fig = vc.show_detector_responses([img, img.T], kernels, threshold_fraction=0.5)
    assert len(fig.axes) == 2 * 2 * 2 + 2             # panels + one colour bar per kernel row
    # detections of the bar kernel on the horizontal line: row 4 only
    det = fig.axes[1].collections[0].get_offsets()
    assert len(det) == 9 and set(np.asarray(det)[:, 1]) == {4.0}
    # the row shares a symmetric scale
    lo, hi = fig.axes[0].images[0].get_clim()
    assert lo == -hi == -2.0


@pytest.mark.parametrize("kernels, frac, err", [
    ({"even": np.ones((2, 2))}, 0.5, ValueError),
    ({}, 0.5, TypeError),
    ({"k": np.ones((3, 3))}, 0.0, ValueError),
    ({"k": np.ones((3, 3))}, "half", TypeError),
])
def test_detector_responses_rejects_bad_input(kernels, frac, err):
    with pytest.raises(err):
        vc.show_detector_responses([np.zeros((5, 5))], kernels, threshold_fraction=frac)


def test_kernel_learning_draws_numbers_on_one_scale():
    target = np.array([[-1.0, 0.0, 1.0]] * 3)
    fig = vc.show_kernel_learning([1.0, 0.5, 0.01], target * 0.5, target)
    assert len(fig.axes) == 4
    assert fig.axes[0].get_yscale() == "log"
    assert fig.axes[1].images[0].get_clim() == fig.axes[2].images[0].get_clim() == (-1.0, 1.0)
    assert [t.get_text() for t in fig.axes[2].texts][:3] == ["-0.50", "0.00", "0.50"]


@pytest.mark.parametrize("losses, learned, target, err", [
    ([], np.eye(3), np.eye(3), ValueError),
    ([1.0, np.nan], np.eye(3), np.eye(3), ValueError),
    ([1.0], np.eye(3), np.eye(2), ValueError),
])
def test_kernel_learning_rejects_bad_input(losses, learned, target, err):
    with pytest.raises(err):
        vc.show_kernel_learning(losses, learned, target)


def test_dilation_taps():
    fig = vc.show_dilation(3, (1, 2, 3))
    assert len(fig.axes) == 3
    grid = fig.axes[2].images[0].get_array()
    assert grid.shape == (7, 7) and int(grid.sum()) == 9 and grid[6, 6] == 1
    with pytest.raises(ValueError):
        vc.show_dilation(3, ())
    with pytest.raises(ValueError):
        vc.show_dilation(0)


def test_padding_frames_output_sizes():
    fig = vc.show_padding_frames(np.ones((12, 12)), 5, {"valid": 0, "same": 2, "full": 4})
    sizes = [ax.images[0].get_array().shape for ax in fig.axes[1:]]
    assert sizes == [(8, 8), (12, 12), (16, 16)]
    with pytest.raises(ValueError):
        vc.show_padding_frames(np.ones((12, 12)), 3, {"too much": 3})
    with pytest.raises(TypeError):
        vc.show_padding_frames(np.ones((12, 12)), 3, [0, 1])


def test_transposed_stamps_match_torch_and_name_axes():
    import torch
    import torch.nn.functional as F
    fig = vc.show_transposed_stamps(3, 3, 2)
    got = fig.axes[1].images[0].get_array()
    want = F.conv_transpose2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), stride=2)[0, 0].numpy()
    np.testing.assert_array_equal(got, want)
    assert fig.axes[0].get_xlabel() == "input column" and fig.axes[1].get_ylabel() == "output row"
    with pytest.raises(ValueError):
        vc.show_transposed_stamps(1)


def test_aliasing_panels():
    rng = np.random.default_rng(1)
    img = rng.random((40, 40))
    fig = vc.show_aliasing(img, 4)
    plain = fig.axes[1].images[0].get_array()
    np.testing.assert_array_equal(plain[::4, ::4], img[::4, ::4])
    blurred = fig.axes[2].images[0].get_array()
    assert blurred.std() < plain.std()                # the blur removed the fine detail first
    crop = vc.show_aliasing(img, 4, crop=(8, 8, 16))
    assert crop.axes[0].images[0].get_array().shape == (16, 16)
    for bad, err in [(dict(stride=1), ValueError), (dict(stride=4, sigma=-1.0), ValueError),
                     (dict(stride=4, crop=(30, 30, 16)), ValueError), (dict(stride=4, crop=5), TypeError)]:
        with pytest.raises(err):
            vc.show_aliasing(img, **bad)
