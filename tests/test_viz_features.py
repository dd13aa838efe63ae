"""viz.features (chapter 2 figures): each returns a Figure showing what it was given, and rejects bad input."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib import viz  # noqa: E402
from course_lib.features import hog_visualization  # noqa: E402
from course_lib.integral_image import haar_rectangles  # noqa: E402


def test_exported_from_viz():
    for name in viz.features.__all__:
        assert name in viz.__all__ and getattr(viz, name) is getattr(viz.features, name)


def test_colour_histograms_draw_each_cell_in_its_colour():
    h = np.random.default_rng(0).random(27)
    fig = viz.plot_colour_histograms({"x": h / h.sum(), "y": np.full(27, 1 / 27)}, bins=3)
    bars = fig.axes[0].patches
    assert len(bars) == 27
    np.testing.assert_allclose([b.get_height() for b in bars], h / h.sum())
    # cell index 9 R + 3 G + B: the last cell is the brightest colour
    np.testing.assert_allclose(bars[-1].get_facecolor()[:3], [5 / 6] * 3)
    np.testing.assert_allclose(bars[1].get_facecolor()[:3], [1 / 6, 1 / 6, 3 / 6])
    with pytest.raises(ValueError, match="bins"):
        viz.plot_colour_histograms({"x": h}, bins=2)


def test_show_hog_matches_the_library_picture():
    img = np.zeros((1, 16, 16))
    img[:, :, 8:] = 1.0
    fig = viz.show_hog([img, (img * 255).astype(np.uint8)], [4, 8], ["a", "b"], enlarge=[1, 2])
    np.testing.assert_allclose(fig.axes[2].images[0].get_array(), hog_visualization(img, pixels_per_cell=4))
    assert fig.axes[3].images[0].get_array().shape == (32, 32)
    with pytest.raises(ValueError, match="titles"):
        viz.show_hog([img], [4], ["a", "b"])


def test_probe_accuracies_bars_are_the_held_out_accuracies():
    res = {"a": {"train": 0.7, "validation": 0.6}, "b": {"train": 0.5, "validation": 0.3}}
    fig = viz.plot_probe_accuracies(res, title="t", held_out="validation")
    np.testing.assert_allclose([p.get_width() for p in fig.axes[0].patches], [0.6, 0.3])
    with pytest.raises(ValueError, match="keys"):
        viz.plot_probe_accuracies(res, title="t")               # no "test" key


def test_haar_responses_mark_the_peak():
    img = np.random.default_rng(0).random((30, 30))
    resp = np.zeros((10, 12))
    resp[4, 7] = 2.0
    rects = {"f": haar_rectangles("type-2-y", 4, 6, 3, 5)}
    fig = viz.show_haar_responses(img, rects, {"f": resp}, {"f": (3, 5)}, crop=(0, 20, 0, 25))
    assert len(fig.axes[0].patches) == 2
    lines = fig.axes[1].get_lines()
    assert (lines[0].get_xdata()[0], lines[0].get_ydata()[0]) == (5, 3)
    assert (lines[1].get_xdata()[0], lines[1].get_ydata()[0]) == (7, 4)
    assert fig.axes[1].images[0].get_clim() == (-2.0, 2.0)
    with pytest.raises(ValueError, match="same non-empty keys"):
        viz.show_haar_responses(img, rects, {"g": resp}, {"f": (3, 5)}, crop=(0, 20, 0, 25))
    with pytest.raises(ValueError, match="crop"):
        viz.show_haar_responses(img, rects, {"f": resp}, {"f": (3, 5)}, crop=(0, 40, 0, 25))


def test_permutation_bars_are_the_seed_means():
    acc = {("FC", "original"): [0.9, 0.8], ("FC", "shuffled"): [0.85], ("CNN", "original"): [0.95, 0.97]}
    fig = viz.plot_permutation_accuracies(acc, title="MNIST subset")
    np.testing.assert_allclose([p.get_height() for p in fig.axes[0].patches], [0.85, 0.85, 0.96])
    assert fig.axes[0].patches[1].get_hatch() == "//" and fig.axes[0].get_title() == "MNIST subset"
    with pytest.raises(ValueError, match="empty"):
        viz.plot_permutation_accuracies({("FC", "original"): []}, title="t")
