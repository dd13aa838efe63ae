"""viz.pooling (chapter 5 figures): each returns a Figure with the expected panels and rejects bad input."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_lib import viz  # noqa: E402
from course_lib.pooling import adaptive_windows  # noqa: E402


def test_exported_from_viz():
    for name in viz.pooling.__all__:
        assert getattr(viz, name) is getattr(viz.pooling, name)
        assert name in viz.__all__


def test_pooling_windows_marks_each_window_maximum():
    x = np.array([[1., 1., 2., 4.], [5., 6., 7., 8.], [3., 2., 1., 0.], [1., 2., 3., 4.]])
    mp = x.reshape(2, 2, 2, 2).max(axis=(1, 3))
    fig = viz.show_pooling_windows(x[None, None], {"max": mp, "avg": x.reshape(2, 2, 2, 2).mean(axis=(1, 3))})
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    boxes = [p for p in fig.axes[0].patches if not p.get_fill()]
    corners = sorted((round(p.get_y()), round(p.get_x())) for p in boxes)      # (row, col) of each winner
    assert corners == [(1, 1), (1, 3), (2, 0), (3, 3)]
    texts = sorted(t.get_text() for t in fig.axes[1].texts)
    assert texts == sorted(f"{v:g}" for v in mp.ravel())


def test_pooling_windows_rejects_bad_shapes():
    with pytest.raises(ValueError, match="kernel_size"):
        viz.show_pooling_windows(np.zeros((5, 4)), {"max": np.zeros((2, 2))})
    with pytest.raises(ValueError, match="expected"):
        viz.show_pooling_windows(np.zeros((4, 4)), {"max": np.zeros((3, 3))})
    with pytest.raises(TypeError, match="pooled"):
        viz.show_pooling_windows(np.zeros((4, 4)), [np.zeros((2, 2))])


def test_pooled_maps_share_one_scale_per_row():
    a, b = np.full((4, 4), 2.0), np.ones((2, 2))
    fig = viz.show_pooled_maps({"input": (a, a * 3), "pooled": (b, b)})
    lims = [ax.images[0].get_clim() for ax in fig.axes]
    assert lims[0] == lims[1] == (0.0, 2.0) and lims[2] == lims[3] == (0.0, 6.0)      # row-major axes
    with pytest.raises(ValueError, match="one per row"):
        viz.show_pooled_maps({"input": (a,)})


def test_shift_differences_and_invariance_bars():
    a = np.zeros((1, 1, 6, 6)); a[..., 2, 2] = 1
    fig = viz.show_shift_differences([(a, np.roll(a, 1, -1), "pixels"), (a, a, "same")])
    assert len(fig.axes) == 6 and fig.axes[2].images[0].get_clim() == (-1.0, 1.0)
    np.testing.assert_array_equal(fig.axes[2].images[0].get_array(), np.roll(a, 1, -1)[0, 0] - a[0, 0])
    with pytest.raises(ValueError, match="at least one"):
        viz.show_shift_differences([])
    inv = {("pixels", "none"): (0.1, 0.6), ("pixels", "max"): (0.3, 0.4), ("edges", "none"): (0.0, 0.7)}
    fig = viz.plot_invariance(inv)
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights[:2] == [0.1, 0.3] and np.isnan(heights[3])
    with pytest.raises(TypeError):
        viz.plot_invariance({})


def test_channel_tuning_draws_the_maximum():
    r = np.random.default_rng(0).random((5, 3))
    fig = viz.plot_channel_tuning(np.arange(5) * 10, r, highlight=2)
    lines = fig.axes[0].get_lines()
    np.testing.assert_allclose(lines[-1].get_ydata(), r.max(axis=1))
    np.testing.assert_allclose(lines[-2].get_ydata(), r[:, 2])
    with pytest.raises(ValueError, match="highlight"):
        viz.plot_channel_tuning(np.arange(5), r, highlight=3)
    with pytest.raises(ValueError, match="angles"):
        viz.plot_channel_tuning(np.arange(4), r)


def test_field_gradients_zoom_on_the_field():
    g = np.zeros((20, 20)); g[5:10, 8:11] = 1
    fig = viz.show_field_gradients({"field": g}, margin=2)
    assert fig.axes[0].get_xlim() == (5.5, 12.5) and fig.axes[0].get_ylim() == (11.5, 2.5)


def test_adaptive_windows_one_patch_per_window():
    w9, w4 = adaptive_windows(9, 4), adaptive_windows(28, 3)
    fig = viz.show_adaptive_windows({"9 x 28": (w9, w4)})
    assert len(fig.axes[0].patches) == 1 + 4 * 3
    assert fig.axes[0].patches[0].get_width() == 28 and fig.axes[0].patches[0].get_height() == 9
    with pytest.raises(ValueError, match="row windows"):
        viz.show_adaptive_windows({"bad": (w9,)})


def test_gradient_routing_matches_autograd():
    x = torch.tensor([[[[1., 1., 2., 4.], [5., 6., 7., 8.], [3., 2., 1., 0.], [1., 2., 3., 4.]]]],
                     dtype=torch.float64, requires_grad=True)
    g = torch.tensor([[[[1., 2.], [3., 4.]]]], dtype=torch.float64)
    F.max_pool2d(x, 2).backward(g)
    fig = viz.show_gradient_routing(x.detach(), g, x.grad)
    shown = np.asarray(fig.axes[2].images[0].get_array())
    np.testing.assert_array_equal(shown, x.grad[0, 0].numpy())
    assert sorted(float(t.get_text()) for t in fig.axes[2].texts if t.get_text() != "0") == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="must match"):
        viz.show_gradient_routing(np.zeros((4, 4)), np.zeros((2, 2)), np.zeros((3, 3)))
