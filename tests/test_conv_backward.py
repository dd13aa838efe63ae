"""Grouped/depthwise conv2d and the conv2d gradients, against torch (float64, autograd)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import int_or_pair, scaled, t64
from course_lib import conv_macs, conv_output_size, conv_params
from course_lib.conv import (conv2d, conv2d_input_grad, conv2d_input_grad_naive, conv2d_naive,
                             conv2d_weight_grad, conv2d_weight_grad_naive)


@st.composite
def grouped_case(draw, max_hw: int = 9, max_k: int = 4, max_group_c: int = 3):
    """A random conv problem with groups (groups = 1 included), its settings and a dL/dy."""
    g = draw(st.integers(1, 4))
    cig, cog = draw(st.integers(1, max_group_c)), draw(st.integers(1, max_group_c))
    n = draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, max_k)), draw(st.integers(1, max_k))
    stride, (sh, sw) = draw(int_or_pair(1, 3))
    padding, (ph, pw) = draw(int_or_pair(0, 2))
    dilation, (dh, dw) = draw(int_or_pair(1, 2))
    h = max(1, dh * (kh - 1) + 1 - 2 * ph) + draw(st.integers(0, max_hw - 1))
    w = max(1, dw * (kw - 1) + 1 - 2 * pw) + draw(st.integers(0, max_hw - 1))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((n, g * cig, h, w))
    weight = rng.standard_normal((g * cog, cig, kh, kw))
    ho = conv_output_size(h, kh, sh, ph, dh)
    wo = conv_output_size(w, kw, sw, pw, dw)
    grad = rng.standard_normal((n, g * cog, ho, wo))
    return dict(x=x, weight=weight, stride=stride, padding=padding, dilation=dilation, groups=g,
                grad=grad, torch_kw=dict(stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), groups=g))


def settings_of(case):
    return dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"],
                groups=case["groups"])


def torch_grads(case):
    x = t64(case["x"]).requires_grad_(True)
    w = t64(case["weight"]).requires_grad_(True)
    y = F.conv2d(x, w, **case["torch_kw"])
    y.backward(t64(case["grad"]))
    return y.detach().numpy(), x.grad.numpy(), w.grad.numpy()


# -- groups ---------------------------------------------------------------------------------------

@given(grouped_case(max_hw=10))
@settings(max_examples=scaled(100))
def test_grouped_conv2d_matches_torch(case):
    want, _, _ = torch_grads(case)
    got = conv2d(case["x"], case["weight"], **settings_of(case))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@given(grouped_case(max_hw=5, max_k=3, max_group_c=2))
@settings(max_examples=scaled(40))
def test_grouped_conv2d_naive_matches_torch(case):
    want, _, _ = torch_grads(case)
    np.testing.assert_allclose(conv2d_naive(case["x"], case["weight"], **settings_of(case)), want,
                               rtol=1e-10, atol=1e-10)


def test_depthwise_is_one_filter_per_channel(rng):
    x = rng.standard_normal((2, 4, 7, 7))
    w = rng.standard_normal((4, 1, 3, 3))
    out = conv2d(x, w, padding=1, groups=4)
    for c in range(4):
        np.testing.assert_allclose(out[:, c:c + 1], conv2d(x[:, c:c + 1], w[c:c + 1], padding=1),
                                   rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cin, cout, k, groups", [(32, 32, 3, 32), (32, 64, 3, 4), (6, 9, (1, 5), 3),
                                                  (3, 10, 5, 1), (8, 8, 1, 2)])
def test_conv_params_and_macs_with_groups_match_torch(cin, cout, k, groups):
    from torch.utils.flop_counter import FlopCounterMode
    layer = torch.nn.Conv2d(cin, cout, k, groups=groups, padding=1)
    assert conv_params(cin, cout, k, groups=groups) == sum(p.numel() for p in layer.parameters())
    assert conv_params(cin, cout, k, bias=False, groups=groups) == layer.weight.numel()
    x = torch.zeros(1, cin, 12, 12)
    with FlopCounterMode(display=False) as counter:
        y = layer(x)
    assert 2 * conv_macs(cin, cout, k, y.shape[2], y.shape[3], groups=groups) == counter.get_total_flops()


@pytest.mark.parametrize("call, exc, words", [
    (lambda: conv2d(np.zeros((1, 4, 5, 5)), np.zeros((6, 2, 3, 3)), groups=3), ValueError, ["groups", "3"]),
    (lambda: conv2d(np.zeros((1, 4, 5, 5)), np.zeros((6, 3, 3, 3)), groups=2), ValueError, ["per group", "2"]),
    (lambda: conv2d(np.zeros((1, 4, 5, 5)), np.zeros((4, 1, 3, 3)), groups=0), ValueError, ["groups"]),
    (lambda: conv2d(np.zeros((1, 4, 5, 5)), np.zeros((4, 1, 3, 3)), groups=2.0), TypeError, ["groups"]),
    (lambda: conv_params(4, 6, 3, groups=4), ValueError, ["groups", "divide"]),
    (lambda: conv_macs(4, 6, 3, 5, 5, groups=-1), ValueError, ["groups"]),
])
def test_groups_argument_checks(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for w in words:
        assert w in str(info.value)


# -- gradients ------------------------------------------------------------------------------------

@given(grouped_case(max_hw=10))
@settings(max_examples=scaled(100))
def test_input_and_weight_grads_match_torch_autograd(case):
    _, gx, gw = torch_grads(case)
    h, w = case["x"].shape[2:]
    got_x = conv2d_input_grad(case["grad"], case["weight"], (h, w), **settings_of(case))
    got_w = conv2d_weight_grad(case["x"], case["grad"], case["weight"].shape[2:], **settings_of(case))
    np.testing.assert_allclose(got_x, gx, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got_w, gw, rtol=1e-10, atol=1e-10)


@given(grouped_case(max_hw=5, max_k=3, max_group_c=2))
@settings(max_examples=scaled(40))
def test_naive_grads_match_torch_autograd(case):
    _, gx, gw = torch_grads(case)
    h, w = case["x"].shape[2:]
    np.testing.assert_allclose(conv2d_input_grad_naive(case["grad"], case["weight"], (h, w),
                                                       **settings_of(case)), gx, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(conv2d_weight_grad_naive(case["x"], case["grad"], case["weight"].shape[2:],
                                                        **settings_of(case)), gw, rtol=1e-10, atol=1e-10)


def test_input_grad_is_full_convolution_with_flipped_kernel(rng):
    """Stride 1, no padding: dL/dx = scipy's full convolution of dL/dy with the kernel."""
    import scipy.signal
    k = rng.standard_normal((3, 4))
    gy = rng.standard_normal((6, 5))
    gx = conv2d_input_grad(gy[None, None], k[None, None], (8, 8))[0, 0]
    np.testing.assert_allclose(gx, scipy.signal.convolve2d(gy, k, mode="full"), rtol=1e-12, atol=1e-12)
    # and full correlation with the flipped kernel is the same thing
    np.testing.assert_allclose(gx, conv2d(gy[None, None], k[::-1, ::-1][None, None].copy(),
                                          padding=(2, 3))[0, 0], rtol=1e-12, atol=1e-12)


def test_unread_rows_get_zero_gradient():
    # 7 x 7 input, 3 x 3 kernel, stride 3: the last row and column are never read
    gx = conv2d_input_grad(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)), 7, stride=3)[0, 0]
    assert (gx[6] == 0).all() and (gx[:, 6] == 0).all() and (gx[:6, :6] == 1).all()


def test_shared_weight_gradient_is_the_sum_over_positions(rng):
    """E21: a shared weight's gradient is the sum (not the average) of its per-use gradients."""
    x = rng.standard_normal((1, 1, 5, 5))
    gy = rng.standard_normal((1, 1, 3, 3))
    gw = conv2d_weight_grad(x, gy, 3)
    per_use = np.array([[gy[0, 0, i, j] * x[0, 0, i:i + 3, j:j + 3] for j in range(3)] for i in range(3)])
    np.testing.assert_allclose(gw[0, 0], per_use.sum(axis=(0, 1)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("call, exc, words", [
    (lambda: conv2d_input_grad(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 3, 3)), 6), ValueError,
     ["grad_output", "(1, 1, 4, 4)"]),
    (lambda: conv2d_input_grad(np.zeros((1, 1, 3)), np.zeros((1, 1, 3, 3)), 5), ValueError, ["grad_output"]),
    (lambda: conv2d_input_grad(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 3, 3)), 0), ValueError, ["input_size"]),
    (lambda: conv2d_weight_grad(np.zeros((2, 1, 5, 5)), np.zeros((1, 1, 3, 3)), 3), ValueError, ["batch"]),
    (lambda: conv2d_weight_grad(np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 3, 3)), "3"), TypeError,
     ["kernel_size"]),
    (lambda: conv2d_weight_grad(np.zeros((1, 3, 5, 5)), np.zeros((1, 2, 3, 3)), 3, groups=2), ValueError,
     ["groups"]),
])
def test_grad_argument_checks(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for w in words:
        assert w in str(info.value)
