"""Receptive-field bookkeeping, checked by brute force against torch's gradient support."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from conftest import scaled
from course_lib import Layer, conv_output_size, receptive_fields, stack_receptive_field
from course_lib.receptive_field import field_table, measured_receptive_field, probe_model


def test_conv5_then_pool2():
    info = receptive_fields([Layer("conv", 5), Layer("pool", 2, stride=2)], 28)
    assert [(i.output_size, i.size, i.jump) for i in info] == [(24, 5, 1), (12, 6, 2)]
    assert [i.name for i in info] == ["conv1", "pool2"]
    assert info[1].span(0) == (0, 5) and info[1].span(3) == (6, 11)


@pytest.mark.parametrize("num_layers", range(0, 7))
@pytest.mark.parametrize("k", [1, 3, 5])
def test_stack_of_stride1_convs(num_layers, k):
    want = 1 + num_layers * (k - 1)
    assert stack_receptive_field(num_layers, k) == want
    info = receptive_fields([Layer("conv", k, padding=k // 2)] * num_layers, 32)
    assert (info[-1].size if info else 1) == want
    if info:
        assert info[-1].output_size == 32          # "same" padding keeps the size
        assert info[-1].jump == 1


def test_forsyth_cifar_start():
    # conv 5x5 pad 2 on 32x32, then 3x3 stride-2 max pooling with ceil_mode
    info = receptive_fields([Layer("conv", 5, padding=2),
                             Layer("pool", 3, stride=2, ceil_mode=True)], 32)
    assert info[0].output_size == 32 and info[0].size == 5
    assert info[1].output_size == 16 and info[1].size == 7 and info[1].jump == 2
    assert info[1].span(0) == (-2, 4)               # reaches into the padding
    assert info[1].start == -2


def test_dilation_and_padding_bookkeeping():
    info = receptive_fields([Layer("conv", 3, dilation=2, padding=2), Layer("conv", 3, stride=2),
                             Layer("pool", 2, stride=2)], 16)
    # sizes: 1 + 2*2 = 5, 5 + 2 = 7, 7 + 1*2 = 9; jumps 1, 2, 4; start -2 throughout
    assert [(i.size, i.jump, i.start) for i in info] == [(5, 1, -2), (7, 2, -2), (9, 4, -2)]
    assert [i.output_size for i in info] == [16, 7, 3]


# ----------------------------------------------------------------------------- brute force
def _torch_stack(x: torch.Tensor, layers, two_d: bool = True) -> torch.Tensor:
    """The stack with all-ones conv kernels and average pools: positive weights everywhere,
    so an input pixel influences a unit exactly when some path connects them.

    ``two_d=False`` applies the layers along the last axis only (x is (1, 1, 1, n))."""
    def pair(v, neutral):
        return (v, v) if two_d else (neutral, v)

    for layer in layers:
        k = pair(layer.kernel_size, 1)
        if layer.kind == "conv":
            x = F.conv2d(x, torch.ones(1, 1, *k, dtype=x.dtype), stride=pair(layer.stride, 1),
                         padding=pair(layer.padding, 0), dilation=pair(layer.dilation, 1))
        else:
            x = F.avg_pool2d(x, k, pair(layer.stride, 1), pair(layer.padding, 0),
                             ceil_mode=layer.ceil_mode, count_include_pad=True)
    return x


def _support_1d(layers, n, unit) -> np.ndarray:
    """Indices of the input pixels whose value changes output ``unit`` (1D brute force)."""
    x = torch.ones(1, 1, 1, n, dtype=torch.float64, requires_grad=True)
    y = _torch_stack(x, layers, two_d=False)
    (grad,) = torch.autograd.grad(y[0, 0, 0, unit], x)
    return np.nonzero(grad[0, 0, 0].numpy())[0]


def _gap_free(layers) -> bool:
    """Every pixel between the first and last one in a field matters (no stride/dilation gaps)."""
    return all(layer.dilation == 1 and layer.kernel_size >= layer.stride for layer in layers)


@st.composite
def layer_strategy(draw):
    kind = draw(st.sampled_from(["conv", "pool"]))
    k = draw(st.integers(1, 4))
    if kind == "conv":
        return Layer("conv", k, stride=draw(st.integers(1, 2)), padding=draw(st.integers(0, 2)),
                     dilation=draw(st.integers(1, 2)))
    return Layer("pool", k, stride=draw(st.integers(1, 3)), padding=draw(st.integers(0, k // 2)),
                 ceil_mode=draw(st.booleans()))


@given(layers=st.lists(layer_strategy(), min_size=1, max_size=4), n=st.integers(5, 20),
       data=st.data())
@settings(max_examples=scaled(120))
def test_span_is_the_set_of_pixels_that_change_the_unit(layers, n, data):
    try:
        info = receptive_fields(layers, n)
    except ValueError:
        assume(False)
    last = info[-1]
    i = data.draw(st.integers(0, last.output_size - 1), label="row unit")
    j = data.draw(st.integers(0, last.output_size - 1), label="col unit")
    for unit in (i, j):
        hit = _support_1d(layers, n, unit)
        first, last_px = last.span(unit)
        assert last_px - first + 1 == last.size
        # never outside the field (padding and dropped pixels only remove pixels)
        assert ((hit >= first) & (hit <= last_px)).all()
        if 0 <= first and last_px <= n - 1:
            # a field entirely inside the image: its two ends always matter ...
            assert hit.min() == first and hit.max() == last_px
            event("field inside the image")
            if _gap_free(layers):
                event("field inside the image, gap-free stack")
                # ... and without stride/dilation gaps every pixel in between does too
                np.testing.assert_array_equal(hit, np.arange(first, last_px + 1))
    # the real 2D stack: same output size, and its support is the product of the 1D ones
    x = torch.ones(1, 1, n, n, dtype=torch.float64, requires_grad=True)
    y = _torch_stack(x, layers)
    assert tuple(y.shape[-2:]) == (last.output_size, last.output_size)
    (grad,) = torch.autograd.grad(y[0, 0, i, j], x)
    want = np.zeros((n, n), dtype=bool)
    want[np.ix_(_support_1d(layers, n, i), _support_1d(layers, n, j))] = True
    np.testing.assert_array_equal(grad[0, 0].numpy() != 0, want)


def test_brute_force_on_a_lenet_like_stack():
    layers = [Layer("conv", 5), Layer("pool", 2, stride=2), Layer("conv", 5),
              Layer("pool", 2, stride=2)]
    info = receptive_fields(layers, 32)
    assert [(i.output_size, i.size) for i in info] == [(28, 5), (14, 6), (10, 14), (5, 16)]
    x = torch.ones(1, 1, 32, 32, dtype=torch.float64, requires_grad=True)
    y = _torch_stack(x, layers)
    for unit in range(5):
        (grad,) = torch.autograd.grad(y[0, 0, unit, unit], x, retain_graph=True)
        rows = np.nonzero(grad[0, 0].numpy().any(axis=1))[0]
        first, last = info[-1].span(unit)
        np.testing.assert_array_equal(rows, np.arange(first, last + 1))


def test_output_sizes_match_conv_output_size():
    layers = [Layer("conv", 3, stride=2, padding=1), Layer("pool", 3, stride=2, padding=1,
                                                           ceil_mode=True)]
    n = 17
    info = receptive_fields(layers, n)
    n1 = conv_output_size(n, 3, 2, 1)
    assert info[0].output_size == n1
    assert info[1].output_size == conv_output_size(n1, 3, 2, 1, ceil_mode=True)
    y = _torch_stack(torch.zeros(1, 1, n, n, dtype=torch.float64), layers)
    assert y.shape[-1] == info[1].output_size


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("args, kwargs, exc, match", [
    (("fc", 3), {}, ValueError, r"^kind must be 'conv' or 'pool'"),
    (("conv", 0), {}, ValueError, r"^kernel_size must be >= 1"),
    (("conv", True), {}, TypeError, r"^kernel_size must be an int"),
    (("conv", 3.0), {}, TypeError, r"^kernel_size must be an int"),
    (("conv", 3), dict(stride=0), ValueError, r"^stride must be >= 1"),
    (("conv", 3), dict(stride=True), TypeError, r"^stride must be an int"),
    (("conv", 3), dict(padding=-1), ValueError, r"^padding must be >= 0"),
    (("pool", 3), dict(dilation=0), ValueError, r"^dilation must be >= 1"),
])
def test_layer_rejects_bad_arguments(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        Layer(*args, **kwargs)


def test_receptive_fields_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"^input_size must be >= 1"):
        receptive_fields([Layer("conv", 3)], 0)
    with pytest.raises(TypeError, match=r"^input_size must be an int"):
        receptive_fields([Layer("conv", 3)], True)
    with pytest.raises(TypeError, match=r"^layers\[1\] must be a Layer"):
        receptive_fields([Layer("conv", 3), ("conv", 3)], 8)
    with pytest.raises(ValueError, match=r"^layer 2 \(conv 5\): kernel_size=5"):   # counted from 1, like conv2
        receptive_fields([Layer("conv", 3), Layer("conv", 5)], 6)
    with pytest.raises(TypeError, match=r"ceil_mode must be True or False"):
        receptive_fields([Layer("pool", 2, ceil_mode="yes")], 6)
    with pytest.raises(ValueError, match=r"^num_layers must be >= 0"):
        stack_receptive_field(-1, 3)
    with pytest.raises(TypeError, match=r"^num_layers must be an int"):
        stack_receptive_field(False, 3)
    with pytest.raises(ValueError, match=r"^kernel_size must be >= 1"):
        stack_receptive_field(2, 0)


# -- measured fields, tables, coverage -------------------------------------------------------------

FORSYTH_MNIST = [Layer("conv", 5), Layer("pool", 2, stride=2), Layer("conv", 5), Layer("pool", 2, stride=2)]
FORSYTH_CIFAR = [Layer("conv", 5, padding=2), Layer("pool", 3, stride=2, ceil_mode=True),
                 Layer("conv", 5, padding=2), Layer("pool", 3, stride=2, ceil_mode=True),
                 Layer("conv", 5, padding=2), Layer("pool", 3, stride=2, ceil_mode=True)]


@pytest.mark.parametrize("layers, n", [([Layer("conv", 3)] * 3, 28), (FORSYTH_MNIST, 28),
                                       ([Layer("conv", 3, dilation=2), Layer("pool", 2, stride=2)], 20)])
def test_measured_field_matches_the_bookkeeping_for_every_unit(layers, n):
    info = receptive_fields(layers, n)[-1]
    for i in range(info.output_size):
        m = measured_receptive_field(layers, n, unit=(i, i))
        first, last = info.span(i)
        assert m.rows == (max(first, 0), min(last, n - 1)) == m.cols
        assert (m.gradient > 0).sum() > 0 and m.unit == (i, i)


def test_e10_forsyth_mnist_block_sees_16_pixels_and_no_unit_sees_everything():
    """E10: each unit of the 4 x 4 x 50 block sees 16 x 16 pixels, not the whole 28 x 28 image."""
    info = receptive_fields(FORSYTH_MNIST, 28)[-1]
    assert info.output_size == 4 and info.size == 16 and info.units_covering(28) == []
    m = measured_receptive_field(FORSYTH_MNIST, 28, unit=(0, 0))
    assert m.size == (16, 16)


def test_forsyth_cifar_last_pool_covers_with_one_unit_of_four_per_axis():
    info = receptive_fields(FORSYTH_CIFAR, 32)[-1]
    assert info.output_size == 4 and info.size == 43
    assert [info.span(i) for i in range(4)] == [(-14, 28), (-6, 36), (2, 44), (10, 52)]
    assert info.units_covering(32) == [1]          # 1 of 4 per axis: 1 of the 16 units


def test_field_table_and_probe_model_checks():
    table = field_table([("conv 5x5", Layer("conv", 5)), ("pool", Layer("pool", 2, stride=2))], 28,
                        title="MNIST")
    assert table.splitlines()[0] == "MNIST" and table.splitlines()[-1].split()[-4:] == ["12", "6", "2", "0"]
    with pytest.raises(TypeError, match="named_layers"):
        field_table([Layer("conv", 5)], 28)
    with pytest.raises(TypeError, match="layers"):
        probe_model([("conv", 3)])
    with pytest.raises(ValueError, match="unit"):
        measured_receptive_field([Layer("conv", 3)], 8, unit=(6, 0))
    with pytest.raises(TypeError, match="unit"):
        measured_receptive_field([Layer("conv", 3)], 8, unit=3)
