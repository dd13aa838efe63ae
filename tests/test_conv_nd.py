"""conv1d / causal_conv1d / conv3d (vectorised and loop twins) against torch in float64; size and field arithmetic."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import BAD_DTYPE_ARRAYS, scaled, t64
from course_lib.conv_nd import (FieldLayer, causal_conv1d, causal_conv1d_naive, causal_receptive_field,
                                conv1d, conv1d_naive, conv3d, conv3d_naive, conv_nd_macs, conv_nd_params,
                                conv_output_shape, receptive_field_1d)
from course_lib.models_nd import CausalConv1d
from course_lib.shapes import conv_output_size


@st.composite
def case1d(draw):
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k, s, p, d = draw(st.integers(1, 5)), draw(st.integers(1, 3)), draw(st.integers(0, 3)), draw(st.integers(1, 3))
    span = d * (k - 1) + 1
    L = max(1, span - 2 * p) + draw(st.integers(0, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    bias = rng.standard_normal(c_out) if draw(st.booleans()) else None
    return (rng.standard_normal((n, c_in, L)), rng.standard_normal((c_out, c_in, k)), bias, s, p, d)


@st.composite
def case3d(draw):
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    k = [draw(st.integers(1, 3)) for _ in range(3)]
    s = [draw(st.integers(1, 2)) for _ in range(3)]
    p = [draw(st.integers(0, 1)) for _ in range(3)]
    d = [draw(st.integers(1, 2)) for _ in range(3)]
    size = [max(1, di * (ki - 1) + 1 - 2 * pi) + draw(st.integers(0, 4)) for ki, pi, di in zip(k, p, d)]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    bias = rng.standard_normal(c_out) if draw(st.booleans()) else None
    return (rng.standard_normal((n, c_in, *size)), rng.standard_normal((c_out, c_in, *k)), bias,
            tuple(s), tuple(p), tuple(d))


@settings(max_examples=scaled(120))
@given(case1d())
def test_conv1d_and_naive_match_torch(case):
    x, w, b, s, p, d = case
    want = F.conv1d(t64(x), t64(w), None if b is None else t64(b), stride=s, padding=p, dilation=d).numpy()
    for fn in (conv1d, conv1d_naive):
        got = fn(x, w, b, stride=s, padding=p, dilation=d)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@settings(max_examples=scaled(60))
@given(case3d())
def test_conv3d_and_naive_match_torch(case):
    x, w, b, s, p, d = case
    want = F.conv3d(t64(x), t64(w), None if b is None else t64(b), stride=s, padding=p, dilation=d).numpy()
    for fn in (conv3d, conv3d_naive):
        got = fn(x, w, b, stride=s, padding=p, dilation=d)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@settings(max_examples=scaled(80))
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 20), st.integers(0, 2**32 - 1))
def test_causal_conv1d_matches_torch_module_and_never_reads_the_future(c, k, d, L, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((2, c, L)), rng.standard_normal((2, c, k)), rng.standard_normal(2)
    mod = CausalConv1d(c, 2, k, dilation=d).double()
    with torch.no_grad():
        mod.weight.copy_(t64(w))
        mod.bias.copy_(t64(b))
        want = mod(t64(x)).numpy()
    for fn in (causal_conv1d, causal_conv1d_naive):
        got = fn(x, w, b, dilation=d)
        assert got.shape == (2, 2, L)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    # changing the input from step t on leaves every output before t unchanged
    t = L // 2
    x2 = x.copy()
    x2[..., t:] += 1.0
    np.testing.assert_allclose(causal_conv1d(x2, w, b, dilation=d)[..., :t], want[..., :t], atol=1e-12)


@settings(max_examples=scaled(80))
@given(st.lists(st.tuples(st.integers(1, 30), st.integers(1, 4), st.integers(1, 2), st.integers(0, 1),
                          st.integers(1, 2)), min_size=1, max_size=3))
def test_conv_output_shape_is_conv_output_size_per_axis_and_matches_torch(axes):
    size, k, s, p, d = (tuple(a[i] for a in axes) for i in range(5))
    k = tuple(min(ki, 1 + (si + 2 * pi - 1) // di) for ki, si, pi, di in zip(k, size, p, d))
    got = conv_output_shape(size, k, s, p, d)
    assert got == tuple(conv_output_size(*a) for a in zip(size, k, s, p, d))
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[len(size)]
    out = conv(torch.zeros(1, 1, *size), torch.zeros(1, 1, *k), stride=s, padding=p, dilation=d)
    assert tuple(out.shape[2:]) == got


@pytest.mark.parametrize("c_in,c_out,k", [(1, 16, (5,)), (16, 32, (3, 3, 3)), (3, 8, (3, 3)), (8, 8, (1, 3, 3))])
def test_params_and_macs_match_torch(c_in, c_out, k):
    cls = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[len(k)]
    layer = cls(c_in, c_out, k)
    assert conv_nd_params(c_in, c_out, k) == sum(p.numel() for p in layer.parameters())
    assert conv_nd_params(c_in, c_out, k, bias=False) == layer.weight.numel()
    out = tuple(range(5, 5 + len(k)))
    from torch.utils.flop_counter import FlopCounterMode
    x = torch.zeros(1, c_in, *(o + ki - 1 for o, ki in zip(out, k)))
    with FlopCounterMode(display=False) as counter:
        layer(x)
    assert 2 * conv_nd_macs(c_in, c_out, k, out) == counter.get_total_flops()


def test_factorised_kernel_costs():
    # a full 3 x 3 x 3 kernel versus 1 x 3 x 3 followed by 3 x 1 x 1 (bias-free weights)
    full = conv_nd_params(16, 16, (3, 3, 3), bias=False)
    split = conv_nd_params(16, 16, (1, 3, 3), bias=False) + conv_nd_params(16, 16, (3, 1, 1), bias=False)
    assert (full, split) == (27 * 256, 12 * 256)


@settings(max_examples=scaled(60))
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 2), st.integers(1, 3)), min_size=1, max_size=4))
def test_receptive_field_1d_matches_a_gradient_probe(stack):
    layers = [FieldLayer(k, s, d) for k, s, d in stack]
    sizes = receptive_field_1d(layers)
    # probe: the span of input positions with a nonzero gradient of the first output of the stack
    need = 1
    for k, s, d in reversed(stack):
        need = (need - 1) * s + d * (k - 1) + 1
    x = torch.zeros(1, 1, need + 3, dtype=torch.float64, requires_grad=True)
    h = x
    for k, s, d in stack:
        h = F.conv1d(h, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    h[0, 0, 0].backward()
    read = torch.nonzero(x.grad[0, 0]).ravel()      # a dilated field may have holes: compare the span
    assert int(read.max() - read.min()) + 1 == sizes[-1]


def test_causal_receptive_field():
    assert causal_receptive_field(2, [1, 2, 4, 8, 16]) == 32
    assert causal_receptive_field(2, [1] * 5) == 6
    assert causal_receptive_field(3, [1, 2, 4]) == receptive_field_1d([FieldLayer(3, dilation=d) for d in (1, 2, 4)])[-1]


@pytest.mark.parametrize("fn", [conv1d, conv1d_naive])
def test_conv1d_rejects_bad_input(fn):
    x, w = np.zeros((1, 2, 8)), np.zeros((3, 2, 3))
    with pytest.raises(ValueError, match="x must be 3D"):
        fn(np.zeros((2, 8)), w)
    with pytest.raises(ValueError, match="input channels"):
        fn(x, np.zeros((3, 1, 3)))
    with pytest.raises(ValueError, match="bias must have C_out=3"):
        fn(x, w, np.zeros(2))
    with pytest.raises(ValueError, match="stride must be >= 1"):
        fn(x, w, stride=0)
    with pytest.raises(TypeError, match="padding must be an int"):
        fn(x, w, padding=1.5)
    with pytest.raises(ValueError, match="does not fit"):
        fn(x, np.zeros((3, 2, 9)))
    for make in BAD_DTYPE_ARRAYS.values():
        with pytest.raises(TypeError, match="x must"):
            fn(make((1, 2, 8)), w)


@pytest.mark.parametrize("fn", [conv3d, conv3d_naive])
def test_conv3d_rejects_bad_input(fn):
    x, w = np.zeros((1, 1, 4, 5, 5)), np.zeros((2, 1, 3, 3, 3))
    with pytest.raises(ValueError, match="x must be 5D"):
        fn(np.zeros((1, 4, 5, 5)), w)
    with pytest.raises(ValueError, match="stride must be an int or 3 ints"):
        fn(x, w, stride=(1, 1))
    with pytest.raises(ValueError, match="does not fit"):
        fn(x, np.zeros((2, 1, 5, 3, 3)))


def test_other_functions_reject_bad_input():
    with pytest.raises(TypeError, match="input_shape"):
        conv_output_shape(28, 3)
    with pytest.raises(ValueError, match="kernel_size must be an int or 2 ints"):
        conv_output_shape((28, 28), (3, 3, 3))
    with pytest.raises(TypeError, match="kernel_size must be a tuple"):
        conv_nd_params(1, 2, 3)
    with pytest.raises(TypeError, match="output_shape"):
        conv_nd_macs(1, 2, (3, 3), (5,))
    with pytest.raises(ValueError, match="dilation must be >= 1"):
        FieldLayer(3, dilation=0)
    with pytest.raises(TypeError, match="layers\\[0\\] must be a FieldLayer"):
        receptive_field_1d([(3, 1, 1)])
    with pytest.raises(TypeError, match="dilations"):
        causal_receptive_field(2, 4)
    with pytest.raises(ValueError, match="dilation must be >= 1"):
        causal_conv1d(np.zeros((1, 1, 5)), np.zeros((1, 1, 2)), dilation=0)
