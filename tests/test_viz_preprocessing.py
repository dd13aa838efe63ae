"""viz.preprocessing (chapter 7 figures): each returns a Figure showing what it was given, and rejects bad input."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_lib import viz  # noqa: E402
from course_lib.training import History  # noqa: E402


def test_exported_from_viz():
    for name in viz.preprocessing.__all__:
        assert name in viz.__all__ and getattr(viz, name) is getattr(viz.preprocessing, name)


def test_mean_image_parts_draws_positive_and_negative_parts():
    mean = np.full((5, 5), 0.5)
    digit = np.zeros((5, 5))
    digit[2, 2] = 1.0
    fig = viz.show_mean_image_parts(mean, digit[None])
    assert len(fig.axes) == 4
    pos, neg = fig.axes[2].images[0].get_array(), fig.axes[3].images[0].get_array()
    assert pos[2, 2] == 0.5 and pos.sum() == 0.5                # ink above the mean
    assert neg[0, 0] == 0.5 and neg[2, 2] == 0                  # no ink where the mean has some


@pytest.mark.parametrize("mean, digits, match", [
    (np.zeros((4, 4)), np.zeros((2, 5, 5)), "size"), (np.zeros((4, 4, 1)), np.zeros((2, 4, 4)), "mean"),
    (np.zeros((4, 4)), np.zeros((13, 4, 4)), "12"),
])
def test_mean_image_parts_rejects_bad_input(mean, digits, match):
    with pytest.raises((ValueError, TypeError), match=match):
        viz.show_mean_image_parts(mean, digits)


def test_spectrum_is_log_scaled_and_in_order():
    fig = viz.plot_spectrum(np.array([8.0, 2.0, 0.5]), title="t")
    line = fig.axes[0].get_lines()[0]
    assert list(line.get_xdata()) == [1, 2, 3] and list(line.get_ydata()) == [8.0, 2.0, 0.5]
    assert fig.axes[0].get_yscale() == "log" and fig.axes[0].get_title() == "t"
    with pytest.raises(ValueError, match="positive"):
        viz.plot_spectrum([1.0, 0.0])


def test_augmentation_rows_draw_images_and_gaps():
    img = torch.rand(1, 3, 6, 6)
    fig = viz.show_augmentation_rows({"crop": [img, img, img], "flip": [img[0], None]}, title="aug")
    axes = np.array(fig.axes).reshape(2, 3)
    assert [len(ax.images) for ax in axes[0]] == [1, 1, 1] and [len(ax.images) for ax in axes[1]] == [1, 0, 0]
    np.testing.assert_allclose(axes[1, 0].images[0].get_array(), img[0].permute(1, 2, 0).numpy())
    assert axes[1, 0].get_ylabel() == "flip" and fig._suptitle.get_text() == "aug"
    with pytest.raises(ValueError, match="shape"):
        viz.show_augmentation_rows({"x": [np.zeros((2, 4, 4))]})
    with pytest.raises(TypeError, match="dict"):
        viz.show_augmentation_rows([])


def test_seed_curves_average_the_seeds_and_shade_their_range():
    hs = [History(epoch=[1, 2], train_top1=[0.5, 0.3], val_top1=[0.6, 0.5]),
          History(epoch=[1, 2], train_top1=[0.7, 0.5], val_top1=[0.6, 0.7])]
    fig = viz.plot_seed_curves({"plain": hs, "aug": hs[:1]}, val_label="validation", title="t")
    lines = fig.axes[0].get_lines()
    assert [l.get_label() for l in lines] == ["plain: training", "plain: validation", "aug: training", "aug: validation"]
    np.testing.assert_allclose(lines[0].get_ydata(), [0.6, 0.4])
    np.testing.assert_allclose(lines[1].get_ydata(), [0.6, 0.6])
    assert len(fig.axes[0].collections) == 2                    # a band per curve of the 2-seed arm only
    with pytest.raises(ValueError, match="epochs"):
        viz.plot_seed_curves({"x": [hs[0], History(epoch=[1], train_top1=[0.1], val_top1=[0.1])]})
    with pytest.raises(TypeError, match="History"):
        viz.plot_seed_curves({"x": []})
