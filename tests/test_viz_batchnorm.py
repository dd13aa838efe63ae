"""viz.batchnorm (batch-norm chapter figures): each returns a Figure with the expected panels and rejects bad input."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_lib.training import History  # noqa: E402
from course_lib.viz.batchnorm import (LiveConvergence, plot_batch_size_effect, plot_channel_histograms,  # noqa: E402
                                      plot_convergence, plot_lr_sweep)


def test_channel_histograms():
    x = torch.randn(4, 3, 5, 5) * 3 + 1
    fig = plot_channel_histograms(x, (x - 1) / 3, channels=[0, 2], title="t")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert len(fig.axes[0].get_legend().get_texts()) == 2
    with pytest.raises(ValueError, match="same shape"):
        plot_channel_histograms(x, x[:2])
    with pytest.raises(ValueError, match="channels"):
        plot_channel_histograms(x, x, channels=[3])


def test_convergence_marks_the_first_crossing():
    h = History(steps=[10, 20, 30], val_top1=[0.5, 0.05, 0.02])
    fig = plot_convergence({"bn": h, "plain": {"steps": [10, 20], "val_top1": [0.6, 0.4]}}, 0.9)
    ax = fig.axes[0]
    marks = [ln for ln in ax.lines if ln.get_marker() == "o"]
    assert len(marks) == 1 and marks[0].get_xdata()[0] == 20          # only "bn" crosses, at step 20
    assert ax.get_ylabel() == "validation accuracy"
    with pytest.raises(ValueError):
        plot_convergence({})


def test_lr_sweep_and_batch_size_effect():
    fig = plot_lr_sweep({"plain": {0.1: 0.9, 0.01: 0.8}})
    assert list(fig.axes[0].lines[0].get_xdata()) == [0.01, 0.1]
    with pytest.raises(ValueError):
        plot_lr_sweep({})
    fig = plot_batch_size_effect([2, 4], [1.0, 0.7], [0.3, 0.6], 0.9)
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="same length"):
        plot_batch_size_effect([2, 4], [1.0], [0.3, 0.6], 0.9)


def test_live_convergence_keeps_the_latest_history():
    live = LiveConvergence(0.9)
    live("a", {"steps": [1], "val_top1": [0.5]})
    live("a", History(steps=[1, 2], val_top1=[0.5, 0.2]))
    assert live.histories["a"]["steps"] == [1, 2]
