"""Figures of the adversarial-examples chapter: they return figures, draw images unscaled, and reject bad input."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_lib.viz.adversarial import (plot_epsilon_sweep, plot_transfer_matrix, show_adversarial,  # noqa: E402
                                        show_targeted)


def test_epsilon_sweep_lines_and_chance():
    fig = plot_epsilon_sweep({"a": {0.0: 0.9, 0.1: 0.4, 0.05: 0.6}, "b": {0.0: 0.8, 0.1: 0.1}}, chance=0.1,
                             title="t")
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 3                                    # two networks + chance
    np.testing.assert_allclose(lines[0].get_xdata(), [0.0, 0.05, 0.1])   # sorted by eps
    np.testing.assert_allclose(lines[0].get_ydata(), [0.9, 0.6, 0.4])
    assert ax.get_title() == "t"
    plt.close(fig)
    with pytest.raises(ValueError):
        plot_epsilon_sweep({})
    with pytest.raises(ValueError):
        plot_epsilon_sweep({"a": {}})


def test_show_adversarial_grey_and_rgb():
    x = torch.full((3, 1, 5, 5), 0.5)
    xa = x.clone()
    xa[:, :, 0, 0] += 0.1
    fig = show_adversarial(x, xa, [1, 2, 3], [1, 2, 3], [1, 7, 3], clean_conf=[0.9, 0.8, 0.7],
                           adv_conf=[0.6, 0.5, 0.4], title="demo")
    assert len(fig.axes) == 3 * 3 + 1
    im = fig.axes[0].get_images()[0]
    assert im.get_clim() == (0, 1)                            # images are not rescaled
    delta = fig.axes[3].get_images()[0]
    lo, hi = delta.get_clim()
    assert lo == pytest.approx(-hi) and hi == pytest.approx(0.1 / 1, rel=1e-5)
    assert "7" in fig.axes[2 * 3 + 1].get_title()
    plt.close(fig)
    rgb = np.random.default_rng(0).random((2, 3, 4, 4))
    fig = show_adversarial(rgb, np.clip(rgb + 0.02, 0, 1), [0, 1], [0, 1], [1, 1], class_names=["cat", "dog"])
    assert "cat" in fig.axes[0].get_title()
    plt.close(fig)
    with pytest.raises(ValueError):
        show_adversarial(x, xa[:2], [1, 2, 3], [1, 2, 3], [1, 2, 3])
    with pytest.raises(ValueError):
        show_adversarial(x, xa, [1, 2], [1, 2, 3], [1, 2, 3])


def test_show_targeted():
    fig = show_targeted(np.zeros((1, 1, 4, 4)), np.zeros((3, 1, 4, 4)), [0.9, 0.5, 0.99], targets=[2, 5, 7], label=1)
    assert len(fig.axes) == 4
    assert "5" in fig.axes[2].get_title() and "0.50" in fig.axes[2].get_title()
    plt.close(fig)
    with pytest.raises(ValueError):
        show_targeted(np.zeros((1, 1, 4, 4)), np.zeros((3, 1, 4, 4)), [0.9])


def test_transfer_matrix_figure():
    m = np.array([[0.1, 0.7, np.nan], [0.5, 0.05, 0.6], [0.4, 0.3, 0.2]])
    fig = plot_transfer_matrix(m, ["a", "b", "c"], title="T")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert len(ax.texts) == 8                                # NaN cell left empty
    plt.close(fig)
    with pytest.raises(ValueError):
        plot_transfer_matrix(m, ["a", "b"])


def test_epsilon_explorer_html():
    from course_lib.viz.adversarial import epsilon_explorer_html
    x = np.full((1, 5, 5), 0.5)
    adv = np.stack([x, np.clip(x + 0.1, 0, 1), np.clip(x - 0.2, 0, 1)])
    probs = np.array([[0.1, 0.8, 0.1], [0.3, 0.4, 0.3], [0.7, 0.2, 0.1]])
    page = epsilon_explorer_html(x, adv, probs, [0.0, 0.1, 0.2], 1, class_names=["a", "b", "c"], title="demo")
    text = page.data
    assert text.count("data:image/png;base64,") == 2          # the first frame inline, the rest in the script
    assert text.count('"iVBOR') == 3                           # three PNG frames in the script's list
    assert 'type="range"' in text and 'max="2"' in text
    assert "says b (80%), right" in text                      # caption of the first frame, no JavaScript needed
    assert "http" not in text                                  # nothing loaded from the network
    with pytest.raises(ValueError):
        epsilon_explorer_html(x, adv, probs[:2], [0.0, 0.1, 0.2], 1)
