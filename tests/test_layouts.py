"""NHWC/NCHW and TensorFlow/PyTorch filter layouts: round trips and agreeing outputs."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import scaled, t64
from course_lib.conv import conv2d
from course_lib.layouts import (conv2d_nhwc, nchw_to_nhwc, nhwc_to_nchw, tf_to_torch_weight,
                                torch_to_tf_weight)


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 9), st.integers(1, 9), st.integers(1, 4),
       st.integers(1, 4), st.integers(1, 2), st.integers(0, 2), st.integers(0, 2**32 - 1))
@settings(max_examples=scaled(80))
def test_converted_weights_give_the_same_outputs(n, c_in, h, w, c_out, k, s, p, seed):
    if k > min(h, w) + 2 * p:
        k = min(h, w) + 2 * p
    rng = np.random.default_rng(seed)
    x_nhwc = rng.standard_normal((n, h, w, c_in))
    w_tf = rng.standard_normal((k, k, c_in, c_out))
    tf_out = conv2d_nhwc(x_nhwc, w_tf, stride=s, padding=p)                     # TensorFlow layouts
    torch_out = F.conv2d(t64(nhwc_to_nchw(x_nhwc)), t64(tf_to_torch_weight(w_tf)), stride=s, padding=p)
    np.testing.assert_allclose(nhwc_to_nchw(tf_out), torch_out.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(conv2d(nhwc_to_nchw(x_nhwc), tf_to_torch_weight(w_tf), stride=s, padding=p),
                               torch_out.numpy(), rtol=1e-10, atol=1e-10)
    # and back: a PyTorch weight in TensorFlow's layout
    np.testing.assert_array_equal(torch_to_tf_weight(tf_to_torch_weight(w_tf)), w_tf)


def test_round_trips_and_torch_tensors():
    x = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    np.testing.assert_array_equal(nchw_to_nhwc(nhwc_to_nchw(x)), x)
    np.testing.assert_array_equal(nhwc_to_nchw(x)[1, 4, 2, 3], x[1, 2, 3, 4])        # a transpose
    t = torch.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    out = nhwc_to_nchw(t)
    assert isinstance(out, torch.Tensor) and out.shape == (2, 5, 3, 4) and out.is_contiguous()
    assert torch.equal(nchw_to_nhwc(out), t)
    wt = torch.zeros(32, 3, 5, 5)
    assert torch_to_tf_weight(wt).shape == (5, 5, 3, 32)


def test_a_reshape_is_not_a_layout_change():
    x = np.random.default_rng(0).standard_normal((1, 4, 4, 3))
    assert not np.array_equal(x.reshape(1, 3, 4, 4), nhwc_to_nchw(x))


@pytest.mark.parametrize("call, exc, words", [
    (lambda: nhwc_to_nchw(np.zeros((3, 4, 5))), ValueError, ["x", "(N, H, W, C)"]),
    (lambda: nchw_to_nhwc(torch.zeros(3, 4, 5)), ValueError, ["x", "4D"]),
    (lambda: tf_to_torch_weight("w"), TypeError, ["weight"]),
    (lambda: conv2d_nhwc(np.zeros((1, 5, 5, 3)), np.zeros((3, 3, 1, 2))), ValueError,
     ["input channels", "torch_to_tf_weight"]),
    (lambda: conv2d_nhwc(np.zeros((1, 5, 5, 1)), np.zeros((3, 3, 1, 2)), stride=0), ValueError, ["stride"]),
])
def test_argument_checks(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for w in words:
        assert w in str(info.value)
