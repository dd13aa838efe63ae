"""viz.speedrun (chapter 18 figures): each returns a Figure that shows what it was given, and rejects bad input."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_lib import viz  # noqa: E402
from course_lib.speedrun import whitening_filters  # noqa: E402
from course_lib.viz.speedrun import (plot_ablation, plot_patch_spectrum, plot_seed_spread,  # noqa: E402
                                     plot_time_accuracy, plot_whitening_filters)


def test_exported_from_viz():
    for name in viz.speedrun.__all__:
        assert name in viz.__all__ and getattr(viz, name) is getattr(viz.speedrun, name)


# ----------------------------------------------------------------------------- plot_whitening_filters
@pytest.mark.parametrize("c, k", [(3, 2), (3, 3), (1, 2), (3, 1)])
def test_whitening_filters_one_tile_per_positive_filter(c, k):
    x = torch.randn(6, c, 8, 8)
    w, _ = whitening_filters(x, k)
    n = c * k * k
    fig = plot_whitening_filters(w)
    assert isinstance(fig, Figure) and len(fig.axes) == n
    assert [ax.get_title() for ax in fig.axes] == [str(i) for i in range(n)]
    for i, ax in enumerate(fig.axes):
        img = ax.images[0]
        assert img.get_interpolation() == "nearest"
        arr = np.asarray(img.get_array(), dtype=float)
        assert arr.shape == ((k, k, 3) if c == 3 else (k, k))
        # grey is zero and each filter is scaled by its own largest |weight|: 0.5 + w / (2 max|w|)
        wi = w[i].numpy().astype(float)
        want = 0.5 + wi / (2 * np.abs(wi).max())
        want = want.transpose(1, 2, 0) if c == 3 else want[0]
        np.testing.assert_allclose(arr, want, atol=1e-6)
        assert arr.min() >= 0 and arr.max() <= 1 and np.isclose(np.abs(arr - 0.5).max(), 0.5)


def test_whitening_filters_title_and_zero_filter():
    w = np.zeros((4, 3, 2, 2))
    w[0, 0, 0, 0] = -2.0                                    # one negative weight in the first filter
    fig = plot_whitening_filters(w, title="my filters")
    assert fig._suptitle.get_text() == "my filters" and len(fig.axes) == 2
    first = np.asarray(fig.axes[0].images[0].get_array(), dtype=float)
    assert first[0, 0, 0] == 0.0 and np.allclose(first.reshape(-1)[1:], 0.5)     # darkest where negative
    np.testing.assert_allclose(np.asarray(fig.axes[1].images[0].get_array(), dtype=float), 0.5)  # all-zero: grey


@pytest.mark.parametrize("weight, kwargs, err, match", [
    (np.zeros((4, 2, 2, 2)), {}, ValueError, "weight"),             # 2 channels
    (np.zeros((4, 3, 2, 3)), {}, ValueError, "weight"),             # not square
    (np.zeros((3, 3, 2, 2)), {}, ValueError, "weight"),             # odd number of filters
    (np.zeros((4, 3, 2)), {}, ValueError, "weight"),
    (np.full((2, 3, 2, 2), np.nan), {}, ValueError, "weight"),
    (np.full((2, 3, 2, 2), "a"), {}, TypeError, "weight"),
    ("weights", {}, TypeError, "weight"),
    (np.zeros((2, 3, 2, 2)), {"title": 3}, TypeError, "title"),
])
def test_whitening_filters_reject_bad_input(weight, kwargs, err, match):
    with pytest.raises(err, match=match):
        plot_whitening_filters(weight, **kwargs)


# ----------------------------------------------------------------------------- plot_patch_spectrum
def test_patch_spectrum_sorted_on_a_log_axis_with_eps():
    lam = torch.tensor([0.01, 2.0, 1e-5, 0.3])
    fig = plot_patch_spectrum(lam, eps=5e-4)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [2.0, 0.3, 0.01, 1e-5], rtol=1e-6)
    assert list(ax.lines[1].get_ydata()) == [5e-4, 5e-4]
    assert "eps = 0.0005" in ax.get_legend().get_texts()[1].get_text()
    assert len(plot_patch_spectrum([1.0, 0.5]).axes[0].lines) == 1                # no eps: no line


@pytest.mark.parametrize("lam, eps, err, match", [
    ([], None, ValueError, "eigenvalues"), ([[1.0, 2.0]], None, ValueError, "eigenvalues"),
    ([1.0, 0.0], None, ValueError, "eigenvalues"), ([1.0, np.inf], None, ValueError, "eigenvalues"),
    (["a", "b"], None, TypeError, "eigenvalues"), ([1.0, 0.1], 0.0, ValueError, "eps"),
    ([1.0, 0.1], -1e-3, ValueError, "eps"), ([1.0, 0.1], "1e-3", ValueError, "eps"),
])
def test_patch_spectrum_rejects_bad_input(lam, eps, err, match):
    with pytest.raises(err, match=match):
        plot_patch_spectrum(lam, eps=eps)


# ----------------------------------------------------------------------------- plot_ablation
ROWS = [{"label": "full recipe", "val_acc": 0.9402, "seconds": 31.0},
        {"label": "no whitening", "val_acc": 0.9315, "seconds": 30.2},
        {"label": "no TTA", "val_acc": 0.9361, "seconds": 31.0}]


def test_ablation_bars_values_and_baseline():
    fig = plot_ablation(ROWS, baseline_label="full recipe")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    acc_ax, sec_ax = fig.axes
    bars = acc_ax.patches
    assert len(bars) == 3 and len(sec_ax.patches) == 3
    # bars end at the accuracy in percent; the axis starts below the lowest value but well above 0
    np.testing.assert_allclose([b.get_x() + b.get_width() for b in bars], [94.02, 93.15, 93.61])
    lo = acc_ax.get_xlim()[0]
    assert 90 < lo < 93.15
    np.testing.assert_allclose([b.get_width() for b in sec_ax.patches], [31.0, 30.2, 31.0])
    texts = [t.get_text().strip() for t in acc_ax.texts]
    assert texts == ["94.02%", "93.15%", "93.61%"]
    # only the baseline has its own colour, and its label is bold
    colours = [tuple(b.get_facecolor()) for b in bars]
    assert colours[1] == colours[2] != colours[0]
    assert [tuple(b.get_facecolor()) for b in sec_ax.patches] == colours
    assert [t.get_fontweight() for t in acc_ax.get_yticklabels()] == ["bold", "normal", "normal"]
    assert acc_ax.get_xlabel() == "val_acc (%)"


def test_ablation_other_metric_and_equal_values():
    rows = [{"label": "a", "test_acc": 0.5, "seconds": 0.0}, {"label": "b", "test_acc": 0.5, "seconds": 0.0}]
    fig = plot_ablation(rows, baseline_label="b", metric="test_acc")
    assert len(fig.axes[0].patches) == 2 and fig.axes[0].get_xlim()[0] < 50 < fig.axes[0].get_xlim()[1]


@pytest.mark.parametrize("rows, kwargs, err, match", [
    ([], {}, ValueError, "rows"), ("rows", {}, ValueError, "rows"),
    ([{"label": "a", "seconds": 1.0}], {}, ValueError, r"rows\[0\]"),
    ([{"label": "a", "val_acc": 94.0, "seconds": 1.0}], {}, ValueError, "val_acc"),
    ([{"label": "a", "val_acc": 0.9, "seconds": -1.0}], {}, ValueError, "seconds"),
    ([{"label": 1, "val_acc": 0.9, "seconds": 1.0}], {}, TypeError, "label"),
    (ROWS + ROWS[:1], {}, ValueError, "distinct"),
    (ROWS, {"baseline_label": "nope"}, ValueError, "baseline_label"),
    (ROWS, {"metric": "test_acc"}, ValueError, "test_acc"),
    (ROWS, {"metric": 0}, TypeError, "metric"),
])
def test_ablation_rejects_bad_input(rows, kwargs, err, match):
    kw = {"baseline_label": "a" if rows and isinstance(rows, list) and rows[0].get("label") == "a"
          else "full recipe"}
    kw.update(kwargs)
    with pytest.raises(err, match=match):
        plot_ablation(rows, **kw)


# ----------------------------------------------------------------------------- plot_time_accuracy
def test_time_accuracy_minutes_percent_and_target():
    curves = {"recipe": ([30, 60, 90], [0.8, 0.9, 0.941]), "no lookahead": (np.array([30.0, 60.0]), [0.7, 0.85])}
    fig = plot_time_accuracy(curves, target=0.94)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(ax.lines) == 3
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0.5, 1.0, 1.5])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [80.0, 90.0, 94.1])
    assert ax.lines[0].get_marker() == "o" and ax.lines[1].get_marker() == "o"
    assert list(ax.lines[2].get_ydata()) == [94.0, 94.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["recipe", "no lookahead", "target 94%"]
    assert len(plot_time_accuracy({"a": ([1.0], [0.5])}).axes[0].lines) == 1


@pytest.mark.parametrize("curves, target, err, match", [
    ({}, None, ValueError, "curves"), ([([1], [0.5])], None, ValueError, "curves"),
    ({"a": ([1, 2], [0.5])}, None, ValueError, "same length"),
    ({"a": [1, 2, 3]}, None, ValueError, "pair"),
    ({"a": ([1, 2], [0.5, 90.0])}, None, ValueError, "accuracies"),
    ({"a": ([-1, 2], [0.5, 0.6])}, None, ValueError, "seconds"),
    ({"a": (["x"], [0.5])}, None, TypeError, "seconds"),
    ({"a": ([1], [0.5])}, 94, ValueError, "target"),
])
def test_time_accuracy_rejects_bad_input(curves, target, err, match):
    with pytest.raises(err, match=match):
        plot_time_accuracy(curves, target=target)


# ----------------------------------------------------------------------------- plot_seed_spread
def test_seed_spread_dots_mean_and_band():
    acc = [0.938, 0.941, 0.944, 0.940, 0.941]
    fig = plot_seed_spread(torch.tensor(acc, dtype=torch.float64), label="full recipe")
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    dots = ax.collections[0].get_offsets()
    np.testing.assert_allclose(np.asarray(dots)[:, 0], 100 * np.array(acc))
    mean, std = 100 * np.mean(acc), 100 * np.std(acc, ddof=1)
    mean_line = [ln for ln in ax.lines if np.allclose(ln.get_xdata(), mean)]
    assert len(mean_line) == 1
    band = ax.patches[0].get_extents().transformed(ax.transData.inverted())
    np.testing.assert_allclose([band.x0, band.x1], [mean - std, mean + std], atol=1e-6)
    assert ax.get_yticklabels()[0].get_text() == "full recipe"
    # the jitter is fixed: the same figure twice
    again = plot_seed_spread(acc, label="full recipe").axes[0].collections[0].get_offsets()
    np.testing.assert_array_equal(np.asarray(dots), np.asarray(again))


@pytest.mark.parametrize("acc, label, err, match", [
    ([0.9], "x", ValueError, "accuracies"), ([[0.9, 0.8]], "x", ValueError, "accuracies"),
    ([0.9, 94.0], "x", ValueError, "accuracies"), ([0.9, np.nan], "x", ValueError, "accuracies"),
    ("0.9", "x", TypeError, "accuracies"), ([0.9, 0.8], 3, TypeError, "label"),
])
def test_seed_spread_rejects_bad_input(acc, label, err, match):
    with pytest.raises(err, match=match):
        plot_seed_spread(acc, label=label)


def test_speedrun_history_converts_accuracies_to_errors():
    from course_lib.viz.speedrun import speedrun_history
    h = speedrun_history([{"epoch": 1, "train_loss": 2.0, "train_acc": 0.25, "val_acc": 0.5},
                          {"epoch": 2, "train_loss": 1.0, "train_acc": 0.75, "val_acc": 0.8}])
    assert h["epoch"] == [1, 2] and h["train_top1"] == [0.75, 0.25]
    assert h["val_top1"] == pytest.approx([0.5, 0.2])
    assert speedrun_history([{"epoch": 1, "train_loss": 2.0, "train_acc": 0.25}])["val_top1"] == []
    with pytest.raises(ValueError, match="train_acc"):
        speedrun_history([{"epoch": 1}])
    with pytest.raises(TypeError, match="entries"):
        speedrun_history({"epoch": 1})


def test_live_speedrun_collects_entries():
    from course_lib.viz.speedrun import LiveSpeedrun
    live = LiveSpeedrun("t")
    for e in range(3):
        live({"epoch": e + 1, "train_loss": 1.0, "train_acc": 0.5, "val_acc": 0.6})
    assert [e["epoch"] for e in live.entries] == [1, 2, 3]
