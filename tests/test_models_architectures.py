"""LeNet-1989 and the 2012 AlexNet: the papers' counts, shapes, grouping, untied biases, bad input."""
from __future__ import annotations

import pytest
import torch

from course_lib.costs import layer_costs
from course_lib.models import LECUN_1989_H2_TABLE, UntiedConv2d, alexnet2012, lenet1989
from course_lib.training import count_parameters


def test_lenet1989_matches_the_paper():
    net = lenet1989(seed=0)
    assert count_parameters(net) == 9_760
    table = layer_costs(net, (1, 16, 16))
    assert table.total("connections") == 64_660
    assert 16 * 16 + sum(r.units for r in table if r.kind != "pad") == 1_256
    assert [r.output_shape for r in table if r.kind != "pad"] == [(12, 8, 8), (12, 4, 4), (30,), (10,)]
    assert all(len(maps) == 8 for maps in LECUN_1989_H2_TABLE)
    assert tuple(net(torch.zeros(3, 1, 16, 16)).shape) == (3, 10)


def test_untied_bias_is_per_unit_and_partial_connections_are_zero():
    layer = UntiedConv2d(3, 2, 3, stride=1, output_size=4, table=[[0], [1, 2]])
    assert layer.bias.shape == (2, 4, 4) and layer.weight.shape == (3, 3, 3)
    full = layer.full_weight()
    assert torch.all(full[0, 1:] == 0) and torch.all(full[1, 0] == 0)
    x = torch.randn(2, 3, 6, 6)
    ref = torch.nn.functional.conv2d(x, full) + layer.bias
    assert torch.allclose(layer(x), ref)
    with pytest.raises(ValueError, match="untied bias"):
        layer(torch.zeros(1, 3, 7, 7))
    with pytest.raises(ValueError, match=r"^table\[1\]"):
        UntiedConv2d(3, 2, 3, output_size=4, table=[[0], [5]])
    with pytest.raises(ValueError, match="^table must list"):
        UntiedConv2d(3, 2, 3, output_size=4, table=[[0]])


def test_alexnet2012_counts_and_grouping():
    net = alexnet2012()
    assert count_parameters(net) == 60_965_224
    assert net.conv1.out_channels == 96 and [net.conv2.groups, net.conv3.groups, net.conv4.groups,
                                            net.conv5.groups] == [2, 1, 2, 2]
    table = layer_costs(net, (3, 227, 227))
    assert table["conv1"].output_shape == (96, 55, 55) and table["pool5"].output_shape == (256, 6, 6)
    assert sum(r.units for r in table if r.kind in ("conv", "linear")) == 659_272
    assert table.total("macs") == 724_406_816
    assert count_parameters(alexnet2012(num_classes=10)) == 60_965_224 - 4096 * 990 - 990
    with pytest.raises(ValueError, match="num_classes"):
        alexnet2012(num_classes=0)
    with pytest.raises(ValueError, match="dropout"):
        alexnet2012(dropout=1.0)


def test_builders_are_seeded():
    a, b = lenet1989(seed=3), lenet1989(seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(lenet1989(seed=4).H1.weight, a.H1.weight)
