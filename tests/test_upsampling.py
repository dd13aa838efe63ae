"""Up-sampling ops and the transposed convolution against torch in float64."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import BAD_DTYPE_ARRAYS, int_or_pair, scaled, t64
from course_lib import upsampling as up
from course_lib import conv2d


@settings(max_examples=scaled(80))
@given(st.integers(0, 2**32 - 1), int_or_pair(1, 4), st.booleans())
def test_interpolation_matches_torch(seed, scale, align):
    sf, (sh, sw) = scale
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rng.integers(1, 3), rng.integers(1, 3), rng.integers(1, 6), rng.integers(1, 6)))
    ref = F.interpolate(t64(x), scale_factor=(float(sh), float(sw)), mode="nearest").numpy()
    np.testing.assert_array_equal(up.upsample_nearest(x, sf), ref)
    np.testing.assert_array_equal(up.upsample_nearest_naive(x, sf), ref)
    if align and min(x.shape[2:]) == 1:
        return                                    # torch divides by (n_out - 1) differently for size 1
    ref = F.interpolate(t64(x), size=(x.shape[2] * sh, x.shape[3] * sw), mode="bilinear",
                        align_corners=align).numpy()
    np.testing.assert_allclose(up.upsample_bilinear(x, sf, align_corners=align), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(up.upsample_bilinear_naive(x, sf, align_corners=align), ref, rtol=1e-10, atol=1e-12)


@settings(max_examples=scaled(100))
@given(st.integers(0, 2**32 - 1), int_or_pair(1, 3), st.one_of(st.none(), int_or_pair(1, 3)), st.booleans())
def test_max_pool_indices_and_unpool_match_torch(seed, kernel, stride, ties):
    k, (kh, kw) = kernel
    s, (sh, sw) = (None, (kh, kw)) if stride is None else stride
    rng = np.random.default_rng(seed)
    shape = (rng.integers(1, 3), rng.integers(1, 3), kh + rng.integers(0, 6), kw + rng.integers(0, 6))
    x = rng.integers(-2, 3, shape).astype(float) if ties else rng.standard_normal(shape)
    out, idx = up.max_pool2d_with_indices(x, k, s)
    t_out, t_idx = F.max_pool2d(t64(x), k, s, return_indices=True)
    np.testing.assert_array_equal(out, t_out.numpy())
    np.testing.assert_array_equal(idx, t_idx.numpy())
    size = x.shape[2:]
    ref = F.max_unpool2d(t_out, t_idx, k, s, output_size=size).numpy()
    if s is None or (sh >= kh and sw >= kw):
        # non-overlapping windows: every index is distinct, so the scatter is unambiguous
        np.testing.assert_array_equal(up.max_unpool2d(out, idx, k, s, output_size=size), ref)
        np.testing.assert_array_equal(up.max_unpool2d_naive(out, idx, k, s, output_size=size), ref)
    else:
        # overlapping windows may send two copies of one maximum to the same place (same value)
        np.testing.assert_array_equal(up.max_unpool2d(out, idx, k, s, output_size=size), ref)


def test_max_unpool_module_default_size():
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 8))
    out, idx = up.max_pool2d_with_indices(x, 2)
    ref = torch.nn.MaxUnpool2d(2)(t64(out), torch.from_numpy(idx)).numpy()
    np.testing.assert_array_equal(up.max_unpool2d(out, idx, 2), ref)


@st.composite
def ct_case(draw):
    kernel, (kh, kw) = draw(int_or_pair(1, 4))
    stride, (sh, sw) = draw(int_or_pair(1, 3))
    dil, (dh, dw) = draw(int_or_pair(1, 2))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    oph = draw(st.integers(0, max(sh, dh) - 1))
    opw = draw(st.integers(0, max(sw, dw) - 1))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    ci, co = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x = rng.standard_normal((draw(st.integers(1, 2)), ci, h, w))
    weight = rng.standard_normal((ci, co, kh, kw))
    bias = rng.standard_normal(co) if draw(st.booleans()) else None
    return x, weight, bias, dict(stride=stride, padding=(ph, pw), output_padding=(oph, opw), dilation=dil)


@settings(max_examples=scaled(150))
@given(ct_case())
def test_conv_transpose2d_matches_torch(case):
    x, weight, bias, kw = case
    try:
        ref = F.conv_transpose2d(t64(x), t64(weight), None if bias is None else t64(bias), **kw).numpy()
    except RuntimeError:
        with pytest.raises(ValueError):
            up.conv_transpose2d(x, weight, bias, **kw)
        return
    np.testing.assert_allclose(up.conv_transpose2d(x, weight, bias, **kw), ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(up.conv_transpose2d_naive(x, weight, bias, **kw), ref, rtol=1e-10, atol=1e-10)


@settings(max_examples=scaled(60))
@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(1, 3), st.integers(0, 1))
def test_transposed_conv_is_transpose_of_conv_matrix(seed, k, s, p):
    rng = np.random.default_rng(seed)
    ci, co = rng.integers(1, 3), rng.integers(1, 3)
    h, w = k + rng.integers(0, 5), k + rng.integers(0, 5)
    weight = rng.standard_normal((co, ci, k, k))
    x = rng.standard_normal((1, ci, h, w))
    m = up.conv_matrix(weight, (ci, h, w), stride=s, padding=p)
    y = conv2d(x, weight, stride=s, padding=p)
    np.testing.assert_allclose(m @ x.ravel(), y.ravel(), rtol=1e-10, atol=1e-10)
    # the transposed convolution with the same weight multiplies by M^T; output_padding restores the size
    op = (h + 2 * p - k) % s, (w + 2 * p - k) % s
    g = rng.standard_normal(y.shape)
    ct = up.conv_transpose2d(g, weight, stride=s, padding=p, output_padding=op)
    assert ct.shape == x.shape
    np.testing.assert_allclose(ct.ravel(), m.T @ g.ravel(), rtol=1e-10, atol=1e-10)
    # and it is the gradient of the convolution (what autograd computes)
    xt = t64(x).requires_grad_(True)
    F.conv2d(xt, t64(weight), stride=s, padding=p).backward(t64(g))
    np.testing.assert_allclose(xt.grad.numpy(), ct, rtol=1e-10, atol=1e-10)


def test_overlap_count_checkerboard():
    c3 = up.overlap_count((4, 4), 3, 2)
    c4 = up.overlap_count((4, 4), 4, 2, padding=1)
    assert set(np.unique(c3[1:-1, 1:-1])) == {1.0, 2.0, 4.0}      # uneven: the checkerboard
    assert set(np.unique(c4[1:-1, 1:-1])) == {4.0}                 # even interior coverage


def test_bad_arguments():
    x = np.zeros((1, 1, 2, 2))
    with pytest.raises(ValueError, match="C_in"):
        up.conv_transpose2d(x, np.zeros((2, 1, 3, 3)))
    with pytest.raises(ValueError, match="output_padding"):
        up.conv_transpose2d(x, np.zeros((1, 1, 3, 3)), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="x must be 4D"):
        up.upsample_nearest(np.zeros((2, 2)))
    with pytest.raises(TypeError, match="x must hold real numbers"):
        up.upsample_bilinear(BAD_DTYPE_ARRAYS["bool"]((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="scale_factor"):
        up.upsample_nearest(x, 0)
    with pytest.raises(ValueError, match="indices"):
        up.max_unpool2d(x, np.zeros((1, 1, 1, 1), int), 2)
    with pytest.raises(ValueError, match="indices must lie"):
        up.max_unpool2d(x, np.full((1, 1, 2, 2), 99), 2)
    with pytest.raises(TypeError, match="input_size"):
        up.conv_matrix(np.zeros((1, 1, 2, 2)), 4)
