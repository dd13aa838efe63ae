"""layer_costs: Grosse's Table 1 and LeCun's 1998 counts row by row, totals, views, bad input."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from course_lib.costs import CostTable, layer_costs
from course_lib.models import MODEL_BUILDERS, buduma_cifar, forsyth_cifar, forsyth_mnist, lenet5
from course_lib.training import count_parameters

# Grosse, CSC321 lecture 5, Table 1: (units, connections, weights); fully connected C3, no biases
GROSSE_TABLE_1 = {"C1": (4_704, 117_600, 150), "S2": (1_176, 4_704, 0), "C3": (1_600, 240_000, 2_400),
                  "S4": (400, 1_600, 0), "C5": (120, 48_000, 48_000), "F6": (84, 10_080, 10_080),
                  "output": (10, 840, 840)}
# LeCun et al. 1998, section II.B: (trainable parameters, connections), biases included
LECUN_1998 = {"C1": (156, 122_304), "S2": (12, 5_880), "C3": (1_516, 151_600), "S4": (32, 2_000),
              "C5": (48_120, 48_120), "F6": (10_164, 10_164)}


def test_reproduces_grosse_table_1_row_by_row():
    table = layer_costs(lenet5("dense_c3"), (1, 32, 32), count_bias=False)
    got = {r.name: (r.units, r.connections, r.weights) for r in table}
    assert got == GROSSE_TABLE_1
    assert [r.name for r in table] == list(GROSSE_TABLE_1)                 # forward order
    assert (table.total("units"), table.total("connections"), table.total("weights")) == \
        (8_094, 422_824, 61_470)


def test_reproduces_lecun_1998_counts():
    table = layer_costs(lenet5(), (1, 32, 32))
    got = {r.name: (r.weights, r.connections) for r in table if r.name != "output"}
    assert got == LECUN_1998
    upto_f6 = table[:-1]
    assert (upto_f6.total("weights"), upto_f6.total("connections")) == (60_000, 340_068)
    assert table.total("connections") == 340_908               # with the 840 output connections
    assert table.total("units") - table["output"].units == 8_084   # Grosse's Table 2 units
    assert [r.kind for r in table][:4] == ["conv", "subsampling", "partial conv", "subsampling"]
    no_bias = layer_costs(lenet5(), (1, 32, 32), count_bias=False)
    assert no_bias["C3"].connections == 150_000 and no_bias["C3"].weights == 1_500


@pytest.mark.parametrize("name", sorted(MODEL_BUILDERS))
def test_weights_sum_to_parameter_count(name):
    build, shape = MODEL_BUILDERS[name]
    model = build()
    assert layer_costs(model, shape).total("weights") == count_parameters(model)
    assert layer_costs(model, shape, count_bias=False).total("weights") < count_parameters(model)


def test_batch_norm_rows_and_totals():
    model = buduma_cifar(batch_norm=True)
    table = layer_costs(model, (3, 24, 24))
    assert table.total("weights") == count_parameters(model) == 1_069_706
    assert [r.name for r in table if r.kind == "batch norm"] == ["bn1", "bn2", "bn3", "bn4"]
    assert table["bn3"].weights == 768 and table["bn3"].units == 384


def test_padding_is_not_a_connection_but_is_a_mac():
    conv = nn.Conv2d(1, 1, 3, padding=1, bias=False)
    row = layer_costs(nn.Sequential(conv), (1, 4, 4))[0]
    # a 4x4 image: corner outputs read 4 pixels, edge outputs 6, inner 9 -> 4*4 + 8*6 + 4*9
    assert row.connections == 4 * 4 + 8 * 6 + 4 * 9
    assert row.macs == 16 * 9
    same = layer_costs(nn.Sequential(nn.Conv2d(1, 1, 3, padding="same", bias=False)), (1, 4, 4))[0]
    assert same.connections == row.connections


def test_forsyth_cifar_rows():
    table = layer_costs(forsyth_cifar(), (3, 32, 32))
    assert [r.output_shape[1:] for r in table if r.kind != "linear"][:3] == [(32, 32), (16, 16), (16, 16)]
    assert table["conv1"].weights == 2_432
    # the pad column/row on the right and bottom holds no pixels: 16x16 windows of 3x3, minus pad taps
    assert table["pool1"].connections == 32 * (16 * 16 * 9 - (16 * 3 + 16 * 3 - 1))


def test_matches_conv_and_linear_arithmetic():
    table = layer_costs(forsyth_mnist(), (1, 28, 28))
    assert [(r.name, r.output_shape) for r in table] == [
        ("conv1", (20, 24, 24)), ("pool1", (20, 12, 12)), ("conv2", (50, 8, 8)),
        ("pool2", (50, 4, 4)), ("conv3", (500, 1, 1)), ("conv4", (10, 1, 1))]
    assert table["conv2"].macs == 50 * 8 * 8 * 20 * 25
    lin = layer_costs(nn.Sequential(nn.Flatten(), nn.Linear(12, 5)), (3, 2, 2))
    assert (lin[0].connections, lin[0].weights, lin[0].macs) == (65, 65, 60)


def test_unknown_layers_still_count_their_weights():
    class Scale(nn.Module):
        def __init__(self):
            super().__init__()
            self.s = nn.Parameter(torch.ones(3))

        def forward(self, x):
            return x * self.s.view(1, 3, 1, 1)

    table = layer_costs(nn.Sequential(Scale(), nn.Conv2d(3, 2, 1)), (3, 4, 4))
    assert table[0].kind == "Scale" and table[0].weights == 3 and table[0].connections is None
    assert table.total("connections") is None and table.total("weights") == 11


def test_views_and_mode_restored():
    model = lenet5().train()
    table = layer_costs(model, (1, 1, 32, 32))
    assert model.training
    assert isinstance(table, CostTable)
    text = str(table)
    assert "C3" in text and "151,600" in text and "340,908" in text
    html = table._repr_html_()
    assert html.startswith("<table>") and "partial conv" in html and "biases counted" in html
    assert table.rows()[0]["name"] == "C1"
    with pytest.raises(KeyError, match="no layer named 'C7'"):
        table["C7"]
    with pytest.raises(ValueError, match="^column must be one of"):
        table.total("bias")
    try:
        import pandas  # noqa: F401
    except ImportError:
        return
    frame = table.to_dataframe()
    assert list(frame.columns) == ["kind", "output_shape", "units", "connections", "weights", "macs"]
    assert frame.loc["C3", "connections"] == 151_600


@pytest.mark.parametrize("args, kwargs, exc, match", [
    (("net", (1, 32, 32)), {}, TypeError, r"^model must be a torch.nn.Module"),
    ((lenet5(), 32), {}, TypeError, r"^input_shape must be a tuple"),
    ((lenet5(), (32, 32)), {}, ValueError, r"^input_shape must be \(C, H, W\)"),
    ((lenet5(), (2, 1, 32, 32)), {}, ValueError, r"^input_shape must describe one image"),
    ((lenet5(), (1, 0, 32)), {}, ValueError, r"^input_shape\[1\] must be >= 1"),
    ((lenet5(), (1, 32.0, 32)), {}, TypeError, r"^input_shape\[1\] must be an int"),
    ((lenet5(), (1, 32, 32)), {"count_bias": 1}, TypeError, r"^count_bias must be True or False"),
    ((lenet5(), (3, 32, 32)), {}, ValueError, r"^the model cannot run on an input of shape"),
])
def test_bad_input(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        layer_costs(*args, **kwargs)


# ----------------------------------------------------------------------------------------------
# torchvision's ImageNet networks (weights=None: built offline, random weights)

TORCHVISION = {
    "alexnet": lambda tv: tv.alexnet(weights=None),
    "vgg16": lambda tv: tv.vgg16(weights=None),
    "googlenet": lambda tv: tv.googlenet(weights=None, aux_logits=False, init_weights=False),
    "resnet18": lambda tv: tv.resnet18(weights=None),
    "resnet50": lambda tv: tv.resnet50(weights=None),
}


@pytest.fixture(scope="module")
def zoo():
    tv = pytest.importorskip("torchvision").models
    out = {}
    for name, build in TORCHVISION.items():
        model = build(tv)
        out[name] = (model, layer_costs(model, (3, 224, 224)))
    return out


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_torchvision_weights_and_macs_agree_with_torch(zoo, name):
    from course_lib.costs import flop_counter_macs

    model, table = zoo[name]
    assert table.total("weights") == count_parameters(model)
    weighted = sum(r.macs for r in table if r.kind in ("conv", "linear"))
    counted = flop_counter_macs(model, (3, 224, 224))
    assert weighted == counted["total"] == counted["conv"] + counted["linear"]
    assert all(r.connections is not None for r in table)          # ceil-mode and adaptive pools counted too


def test_torchvision_known_counts(zoo):
    vgg = zoo["vgg16"][1]
    convs = [r for r in vgg if r.kind == "conv"]
    assert vgg.total("weights") == 138_357_544
    assert [r for r in vgg if r.kind == "linear"][0].weights == 102_764_544
    assert convs[0].macs == 86_704_128 == min(r.macs for r in convs)
    assert sum(r.macs == 1_849_688_064 for r in convs) == 6
    assert 3 * 224 * 224 + sum(r.units for r in vgg if r.kind in ("conv", "max pool", "linear")) == 15_237_608
    assert zoo["googlenet"][1].total("weights") == 6_624_904
    assert zoo["alexnet"][1].total("macs") == 714_188_480


def test_ceil_mode_and_adaptive_pool_connections():
    # 5 x 5 input, 2 x 2 stride-2 ceil-mode pool -> 3 x 3; the last row and column of windows hang over the edge
    row = layer_costs(nn.Sequential(nn.MaxPool2d(2, 2, ceil_mode=True)), (1, 5, 5))[0]
    assert row.output_shape == (1, 3, 3) and row.connections == 25
    # adaptive 5 -> 2: windows rows 0..2 and 2..4 (3 each), so 3 x 3 per output
    row = layer_costs(nn.Sequential(nn.AdaptiveAvgPool2d(2)), (2, 5, 5))[0]
    assert row.connections == 2 * 4 * 9


def test_group_costs_and_letters(zoo):
    from course_lib.costs import group_costs, is_chain, layer_letters

    model, table = zoo["googlenet"]
    grouped = group_costs(table, model=model)
    assert grouped["inception3a"].output_shape == (256, 28, 28)        # the concatenated branches
    assert grouped.total("weights") == table.total("weights") and grouped.total("macs") == table.total("macs")
    assert not is_chain(model, (3, 224, 224)) and not is_chain(zoo["resnet18"][0], (3, 224, 224))
    assert is_chain(zoo["vgg16"][0], (3, 224, 224))
    assert layer_letters(zoo["vgg16"][1]) == "CCPCCPCCCPCCCPCCCPFFF"   # the size-keeping adaptive pool is skipped
    with pytest.raises(TypeError, match="^table must be a CostTable"):
        group_costs([], 1)
    with pytest.raises(ValueError, match="^depth must be >= 1"):
        group_costs(table, 0)
