"""plot_architecture: one box and one bar group per row, labels from the table, bad input."""
from __future__ import annotations

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from torch import nn  # noqa: E402

from course_lib.costs import CostTable, group_costs, layer_costs  # noqa: E402
from course_lib.models import alexnet2012, lenet5  # noqa: E402
from course_lib.viz.architecture import plot_architecture  # noqa: E402


def test_one_box_per_layer_with_names_and_shapes():
    table = layer_costs(lenet5(), (1, 32, 32))
    fig = plot_architecture(table, title="LeNet-5")
    blocks, bars = fig.axes
    boxes = [p for p in blocks.patches if isinstance(p, Rectangle)]
    assert len(boxes) == len(table)
    texts = {t.get_text() for t in blocks.texts}
    assert {r.name for r in table} <= texts and "6 x 28 x 28" in texts
    assert blocks.get_title() == "LeNet-5"
    assert [t.get_text() for t in bars.get_xticklabels()] == [r.name for r in table]
    assert bars.get_yscale() == "log"
    # three bar series (units, weights, multiply-adds), one bar per layer each
    assert len(bars.containers) == 3 and all(len(c) == len(table) for c in bars.containers)
    heights = [b.get_height() for b in bars.containers[1]]
    assert heights[0] == table[0].weights
    plt.close(fig)


def test_taller_boxes_for_larger_maps():
    table = layer_costs(alexnet2012(), (3, 227, 227))
    fig = plot_architecture(table)
    boxes = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert boxes[0].get_height() > boxes[2].get_height() > boxes[4].get_height()   # 55 > 27 > 13
    plt.close(fig)


def test_grouped_tables_and_limits():
    net = nn.Sequential(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 3)), nn.Flatten(),
                        nn.Linear(8, 3))
    table = group_costs(layer_costs(net, (1, 6, 6)), model=net)
    fig = plot_architecture(table)
    assert "block" in {t.get_text() for t in fig.axes[0].get_legend().get_texts()}
    plt.close(fig)
    with pytest.raises(ValueError, match="max_layers"):
        plot_architecture(layer_costs(lenet5(), (1, 32, 32)), max_layers=3)
    with pytest.raises(TypeError, match="^table must be a CostTable"):
        plot_architecture([1, 2])
    with pytest.raises(ValueError, match="no rows"):
        plot_architecture(CostTable([]))
