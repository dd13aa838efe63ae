"""The source networks: parameter counts, block sizes, seeds, LeNet's Table I, input checks."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from course_lib.models import (LECUN_C3_TABLE, MODEL_BUILDERS, PaddedPool2d, PartialConv2d, ScaledTanh,
                               Subsampling2d, buduma_cifar, buduma_mnist, forsyth_cifar, forsyth_mnist,
                               he_init_, lenet5)
from course_lib.training import count_parameters


@pytest.mark.parametrize("build, count", [
    (forsyth_mnist, 431_080), (forsyth_cifar, 145_578), (buduma_mnist, 3_274_634),
    (buduma_cifar, 1_068_298), (lambda **kw: buduma_cifar(batch_norm=True, **kw), 1_068_298 + 1_408),
    (lenet5, 60_840), (lambda **kw: lenet5("dense_c3", **kw), 61_696)])
def test_parameter_counts(build, count):
    assert count_parameters(build()) == count


def test_lenet5_has_60000_trainable_parameters_up_to_f6():
    net = lenet5()
    per_layer = {name: count_parameters(m) for name, m in net.named_children() if count_parameters(m)}
    assert per_layer == {"C1": 156, "S2": 12, "C3": 1516, "S4": 32, "C5": 48_120, "F6": 10_164,
                         "output": 840}
    assert sum(v for k, v in per_layer.items() if k != "output") == 60_000


def block_sizes(model, shape):
    sizes, x = [], torch.zeros(1, *shape)
    for m in model:
        x = m(x)
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, PaddedPool2d)):
            sizes.append(tuple(x.shape[1:]))
    return sizes


def test_forsyth_mnist_blocks_match_fig_17_9():
    assert block_sizes(forsyth_mnist(), (1, 28, 28)) == [
        (20, 24, 24), (20, 12, 12), (50, 8, 8), (50, 4, 4), (500, 1, 1), (10, 1, 1)]


def test_forsyth_cifar_blocks_are_32_16_16_8_8_4_1():
    sizes = block_sizes(forsyth_cifar(), (3, 32, 32))
    assert [s[1] for s in sizes] == [32, 16, 16, 8, 8, 4, 1, 1]
    assert [s[0] for s in sizes] == [32, 32, 32, 32, 64, 64, 64, 10]


def test_forsyth_cifar_built_literally_does_not_fit():
    # the figure's literal reading: unpadded 5x5 convs 2 and 3, pools without the extra row/column
    literal = nn.Sequential(nn.Conv2d(3, 32, 5, padding=2), nn.MaxPool2d(3, 2), nn.ReLU(),
                            nn.Conv2d(32, 32, 5), nn.ReLU(), nn.AvgPool2d(3, 2),
                            nn.Conv2d(32, 64, 5), nn.ReLU(), nn.AvgPool2d(3, 2),
                            nn.Conv2d(64, 64, 4))
    with pytest.raises(RuntimeError):
        literal(torch.zeros(1, 3, 32, 32))


def test_buduma_blocks():
    assert [s[1] for s in block_sizes(buduma_mnist(), (1, 28, 28))] == [28, 14, 14, 7]
    assert [s[1] for s in block_sizes(buduma_cifar(), (3, 24, 24))] == [24, 12, 12, 6]


def test_buduma_cifar_dropout_defaults_follow_buduma():
    drops = lambda m: [x.p for x in m.modules() if isinstance(x, nn.Dropout)]
    assert drops(buduma_cifar()) == [0.5, 0.5]
    assert drops(buduma_cifar(batch_norm=True)) == []
    assert drops(buduma_cifar(batch_norm=True, dropout=0.3)) == [0.3, 0.3]
    bns = [m for m in buduma_cifar(batch_norm=True).modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert [m.num_features for m in bns] == [64, 64, 384, 192]           # none on the logits (E18)


@pytest.mark.parametrize("build", [forsyth_mnist, forsyth_cifar, lenet5, buduma_mnist, buduma_cifar])
def test_seed_gives_same_weights_and_leaves_global_rng_alone(build):
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = build(seed=7), build(seed=7)
    assert torch.equal(torch.rand(1), before)                           # the global stream is untouched
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    c = build(seed=8)
    assert any(not torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters()))


@pytest.mark.parametrize("name", sorted(MODEL_BUILDERS))
def test_every_builder_gives_logits(name):
    build, shape = MODEL_BUILDERS[name]
    model = build(seed=0).eval()
    out = model(torch.rand(3, *shape))
    assert out.shape == (3, 10) and torch.isfinite(out).all()


def test_he_init_statistics():
    torch.manual_seed(0)
    net = buduma_mnist()
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()
            std = float(m.weight.detach().std())
            assert abs(std / (2 / fan_in) ** 0.5 - 1) < 0.15, (m, std)
            assert float(m.bias.detach().abs().max()) == 0.0
    with pytest.raises(TypeError, match="^model must be"):
        he_init_("net")


def test_lecun_table_i():
    # LeCun et al. 1998, Table I, rows = S2 maps, columns = C3 maps with an X
    rows = {0: [0, 4, 5, 6, 9, 10, 11, 12, 14, 15], 1: [0, 1, 5, 6, 7, 10, 11, 12, 13, 15],
            2: [0, 1, 2, 6, 7, 8, 11, 13, 14, 15], 3: [1, 2, 3, 6, 7, 8, 9, 12, 14, 15],
            4: [2, 3, 4, 7, 8, 9, 10, 12, 13, 15], 5: [3, 4, 5, 8, 9, 10, 11, 13, 14, 15]}
    for s2, cols in rows.items():
        assert [j for j, maps in enumerate(LECUN_C3_TABLE) if s2 in maps] == cols
    assert sum(len(m) for m in LECUN_C3_TABLE) == 60


def test_partial_conv_equals_masked_full_conv():
    torch.manual_seed(0)
    layer = PartialConv2d(6, LECUN_C3_TABLE, 5)
    x = torch.randn(2, 6, 14, 14)
    full = layer.full_weight()
    mask = torch.zeros(16, 6)
    for j, maps in enumerate(LECUN_C3_TABLE):
        mask[j, list(maps)] = 1
    assert torch.equal((full.abs().sum(dim=(2, 3)) > 0).float(), mask)
    ref = torch.nn.functional.conv2d(x, full, layer.bias)
    torch.testing.assert_close(layer(x), ref)
    # an input map that a C3 map does not read cannot change it
    x2 = x.clone()
    x2[:, 5] += 10.0
    changed = (layer(x2) - layer(x)).abs().amax(dim=(0, 2, 3)) > 0
    assert changed.tolist() == [5 in maps for maps in LECUN_C3_TABLE]
    # gradients reach only the existing kernels
    layer(x).sum().backward()
    assert layer.weight.grad.shape == (60, 5, 5)


def test_subsampling_is_sum_times_coefficient_plus_bias():
    s = Subsampling2d(2)
    with torch.no_grad():
        s.weight.copy_(torch.tensor([2.0, -1.0]))
        s.bias.copy_(torch.tensor([0.5, 1.0]))
    x = torch.arange(32.0).reshape(1, 2, 4, 4)
    out = s(x)
    assert out[0, 0, 0, 0] == 2.0 * (0 + 1 + 4 + 5) + 0.5
    assert out[0, 1, 1, 1] == -1.0 * (26 + 27 + 30 + 31) + 1.0


def test_padded_pool_pads_right_and_bottom_only():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    mx = PaddedPool2d("max", 3, 2)(x)
    assert mx.shape == (1, 1, 2, 2) and mx[0, 0, 1, 1] == 15.0             # -inf pad never wins
    av = PaddedPool2d("avg", 3, 2)(x)
    assert av[0, 0, 1, 1] == (10 + 11 + 14 + 15) / 9                       # zero pad is averaged in
    assert float(ScaledTanh()(torch.tensor(1.0))) == pytest.approx(1.0, abs=2e-4)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: lenet5("lenet"), ValueError, r"^variant must be 'lecun1998' or 'dense_c3'"),
    (lambda: forsyth_mnist(seed=-1), ValueError, r"^seed must be >= 0"),
    (lambda: forsyth_cifar(seed=1.5), TypeError, r"^seed must be an int"),
    (lambda: forsyth_cifar(dropout=1.0), ValueError, r"^dropout must be in \[0, 1\)"),
    (lambda: buduma_mnist(dropout="half"), TypeError, r"^dropout must be a number"),
    (lambda: buduma_cifar(batch_norm=1), TypeError, r"^batch_norm must be True or False"),
    (lambda: PartialConv2d(6, [[0, 6]], 5), ValueError, r"^table\[0\] must list distinct input maps"),
    (lambda: PartialConv2d(6, [], 5), TypeError, r"^table must be a non-empty sequence"),
    (lambda: PaddedPool2d("min", 3, 2), ValueError, r"^mode must be 'max' or 'avg'"),
    (lambda: PaddedPool2d("max", 3, 2, pad=(1, 1)), ValueError, r"^pad must be 4 ints"),
])
def test_bad_arguments(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
