"""viz.gabor (chapter 6 figures): each returns a Figure with the expected panels and rejects bad input."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_lib import viz  # noqa: E402
from course_lib.gabor import gabor_kernel  # noqa: E402


def test_exported_from_viz():
    for name in viz.gabor.__all__:
        assert getattr(viz, name) is getattr(viz.gabor, name)
        assert name in viz.__all__


def test_signed_rgb_maps_zero_to_grey_and_clips():
    f = np.zeros((3, 2, 2)); f[0, 0, 0] = 2.0; f[1, 1, 1] = -1.0
    img = signed = viz.signed_rgb(f)
    assert img.shape == (2, 2, 3)
    assert signed[0, 0, 0] == 1.0 and signed[1, 1, 1] == 0.25 and signed[0, 1, 2] == 0.5
    assert viz.signed_rgb(f, scale=1.0)[1, 1, 1] == 0.0 and viz.signed_rgb(f, scale=1.0).max() == 1.0
    assert np.all(viz.signed_rgb(np.zeros((3, 2, 2))) == 0.5)
    with pytest.raises(ValueError, match="3 colour channels"):
        viz.signed_rgb(np.zeros((2, 3, 3)))


def test_kernel_grid_fixed_limits_and_labels():
    k = np.stack([np.stack([gabor_kernel(9, t, 0.8, 0, 0.05, 0.05) for t in (0, 1, 2)])] * 2)
    fig = viz.show_kernel_grid(k, row_labels=["a", "b"], col_labels=["x", "y", "z"])
    assert isinstance(fig, Figure) and len(fig.axes) == 6
    assert all(ax.images[0].get_clim() == (-1.0, 1.0) for ax in fig.axes)
    assert [fig.axes[i].get_ylabel() for i in (0, 3)] == ["a", "b"] and fig.axes[2].get_title() == "z"
    fig = viz.show_kernel_grid(k, titles=[["1", "2", "3"], ["4", "5", "6"]])
    assert fig.axes[4].get_title() == "5"
    with pytest.raises(ValueError, match="col_labels"):
        viz.show_kernel_grid(k, col_labels=["x"])
    with pytest.raises(ValueError):
        viz.show_kernel_grid(np.zeros((3, 3)))


def test_kernels_and_responses_symmetric_response_scale():
    fig = viz.show_kernels_and_responses([np.eye(3)] * 2, [np.array([[1.0, -3.0]]), np.ones((2, 2))])
    assert fig.axes[2].images[0].get_clim() == (-3.0, 3.0)       # axes: row 0 then row 1 (2 columns)
    with pytest.raises(ValueError, match="as many responses"):
        viz.show_kernels_and_responses([np.eye(3)], [])


def test_cell_maps_rows_and_scales():
    img = np.ones((5, 5))
    fig = viz.show_cell_maps([img, img], [[img, 3 * img], [img, img]], row_titles=["r0", "r1"],
                             col_titles=["a", "b"])
    assert len(fig.axes) == 6
    assert fig.axes[1].images[0].get_clim() == (0.0, 3.0)        # one scale per row
    assert fig.axes[3].get_title() == "r1"
    fig = viz.show_cell_maps([img], [[img, 3 * img]], shared_rows=False)
    assert fig.axes[1].images[0].get_clim() == (0.0, 1.0)
    with pytest.raises(ValueError, match="col_titles"):
        viz.show_cell_maps([img], [[img]], col_titles=["a", "b"])


def test_tuning_curves_normalisation():
    t = np.linspace(0, np.pi, 6, endpoint=False)
    c = np.array([1.0, 2.0, 4.0, 2.0, 1.0, 2.0])
    fig = viz.plot_tuning_curves(t, {"c": c}, stimuli={"s": np.eye(5)}, normalise="mean")
    np.testing.assert_allclose(fig.axes[-1].get_lines()[0].get_ydata(), c / c.mean())
    np.testing.assert_allclose(fig.axes[-1].get_lines()[0].get_xdata(), np.degrees(t))
    fig = viz.plot_tuning_curves(t, {"c": c})
    assert fig.axes[-1].get_lines()[0].get_ydata().max() == 1.0
    with pytest.raises(ValueError, match="normalise"):
        viz.plot_tuning_curves(t, {"c": c}, normalise="max")
    with pytest.raises(ValueError, match="thetas"):
        viz.plot_tuning_curves(t[:3], {"c": c})


def test_filter_fits_best_first_and_r2_groups():
    f = np.random.default_rng(0).standard_normal((3, 3, 5, 5))
    fig = viz.show_filter_fits(f, f * 0.5, [0.2, 0.9, 0.5], ncols=2)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:6] == ["R²=0.90", "fit", "R²=0.50", "fit", "R²=0.20", "fit"]
    with pytest.raises(ValueError, match="same filters"):
        viz.show_filter_fits(f, f, [0.1])
    fig = viz.plot_r2_groups({"a": [0.1, 0.5, 0.95], "b": []})
    assert sum(p.get_height() for p in fig.axes[0].patches) == 3
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["a (3)", "b (0)"]
