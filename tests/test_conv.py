"""conv2d / conv2d_naive / correlate2d / convolve2d against torch and scipy, in float64."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import BAD_DTYPE_ARRAYS, int_or_pair, t64, scaled
from course_lib import (conv2d, conv2d_naive, convolve2d, correlate2d, correlate2d_naive)


# ----------------------------------------------------------------------------- strategies
@st.composite
def conv_case(draw, max_hw: int = 9, max_c: int = 3, max_k: int = 4):
    """A random conv2d problem whose (dilated) kernel fits the padded input."""
    n = draw(st.integers(1, 2))
    c_in, c_out = draw(st.integers(1, max_c)), draw(st.integers(1, max_c))
    kh, kw = draw(st.integers(1, max_k)), draw(st.integers(1, max_k))
    stride, (sh, sw) = draw(int_or_pair(1, 3))
    padding, (ph, pw) = draw(int_or_pair(0, 2))
    dilation, (dh, dw) = draw(int_or_pair(1, 2))
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    # smallest input that still fits one window, plus some slack (odd and even sizes)
    h = max(1, span_h - 2 * ph) + draw(st.integers(0, max_hw - 1))
    w = max(1, span_w - 2 * pw) + draw(st.integers(0, max_hw - 1))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in, h, w))
    weight = rng.standard_normal((c_out, c_in, kh, kw))
    bias = rng.standard_normal(c_out) if draw(st.booleans()) else None
    return dict(x=x, weight=weight, bias=bias, stride=stride, padding=padding, dilation=dilation,
                pairs=((sh, sw), (ph, pw), (dh, dw)))


def torch_conv(case):
    (sh, sw), (ph, pw), (dh, dw) = case["pairs"]
    bias = None if case["bias"] is None else t64(case["bias"])
    return F.conv2d(t64(case["x"]), t64(case["weight"]), bias, stride=(sh, sw),
                    padding=(ph, pw), dilation=(dh, dw)).numpy()


def call(fn, case):
    return fn(case["x"], case["weight"], case["bias"], stride=case["stride"],
              padding=case["padding"], dilation=case["dilation"])


# ----------------------------------------------------------------------------- vs torch
@given(conv_case(max_hw=12, max_c=4, max_k=5))
@settings(max_examples=scaled(150))
def test_conv2d_matches_torch(case):
    got, want = call(conv2d, case), torch_conv(case)
    assert got.dtype == np.float64
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@given(conv_case(max_hw=6, max_c=2, max_k=3))
@settings(max_examples=scaled(60))
def test_conv2d_naive_matches_torch_and_vectorised(case):
    got, want = call(conv2d_naive, case), torch_conv(case)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got, call(conv2d, case), rtol=1e-12, atol=1e-12)


def test_conv2d_with_and_without_bias_differ_by_bias(rng):
    x, w = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2))
    b = rng.standard_normal(4)
    for fn in (conv2d, conv2d_naive):
        diff = fn(x, w, b, stride=(2, 1), padding=(1, 0)) - fn(x, w, stride=(2, 1), padding=(1, 0))
        np.testing.assert_allclose(diff, np.broadcast_to(b[None, :, None, None], diff.shape), atol=1e-12)


def test_conv2d_docstring_example_and_torch_tensor_input():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    want = np.array([[[[10.0, 18.0], [42.0, 50.0]]]])
    np.testing.assert_array_equal(conv2d(x, np.ones((1, 1, 2, 2)), stride=2), want)
    # torch tensors are accepted and give NumPy back
    got = conv2d(torch.from_numpy(x), torch.ones(1, 1, 2, 2, dtype=torch.float64), stride=2)
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, want)


def test_conv2d_int_and_pair_arguments_are_equivalent(rng):
    x, w = rng.standard_normal((1, 2, 9, 9)), rng.standard_normal((3, 2, 3, 3))
    for fn in (conv2d, conv2d_naive):
        a = fn(x, w, stride=2, padding=1, dilation=2)
        b = fn(x, w, stride=(2, 2), padding=[1, 1], dilation=(2, 2))
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("fn", [conv2d, conv2d_naive])
def test_float32_stays_float32(fn, rng):
    x = rng.standard_normal((1, 2, 6, 5)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    for bias in (None, b):
        out = fn(x, w, bias, padding=1)
        assert out.dtype == np.float32
        want = F.conv2d(torch.from_numpy(x), torch.from_numpy(w),
                        None if bias is None else torch.from_numpy(bias), padding=1).numpy()
        np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("fn", [conv2d, conv2d_naive])
def test_int_input_gives_float64(fn):
    x = np.arange(2 * 5 * 5).reshape(1, 2, 5, 5)             # int64
    w = np.ones((1, 2, 2, 2), dtype=np.int32)
    out = fn(x, w)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, F.conv2d(t64(x), t64(w)).numpy())
    for fn2d in (correlate2d, correlate2d_naive, convolve2d):
        assert fn2d(np.arange(12).reshape(3, 4), np.ones((2, 2), dtype=int)).dtype == np.float64


# ----------------------------------------------------------------------------- 2D helpers
@st.composite
def image_kernel(draw, max_hw=10, max_k=4):
    kh, kw = draw(st.integers(1, max_k)), draw(st.integers(1, max_k))
    padding, (ph, pw) = draw(int_or_pair(0, 3))
    stride, (sh, sw) = draw(int_or_pair(1, 3))
    h = max(1, kh - 2 * ph) + draw(st.integers(0, max_hw))
    w = max(1, kw - 2 * pw) + draw(st.integers(0, max_hw))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return (rng.standard_normal((h, w)), rng.standard_normal((kh, kw)), padding, stride,
            (ph, pw), (sh, sw))


@given(image_kernel())
@settings(max_examples=scaled(100))
def test_correlate2d_is_conv2d_on_one_image_one_channel(case):
    image, kernel, padding, stride, (ph, pw), (sh, sw) = case
    want = F.conv2d(t64(image)[None, None], t64(kernel)[None, None], stride=(sh, sw),
                    padding=(ph, pw)).numpy()[0, 0]
    got = correlate2d(image, kernel, padding=padding, stride=stride)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(
        got, conv2d(image[None, None], kernel[None, None], stride=stride, padding=padding)[0, 0],
        rtol=1e-12, atol=1e-12)


@given(image_kernel(max_hw=6, max_k=3))
@settings(max_examples=scaled(60))
def test_correlate2d_naive_matches_vectorised(case):
    image, kernel, padding, stride, *_ = case
    np.testing.assert_allclose(correlate2d_naive(image, kernel, padding=padding, stride=stride),
                               correlate2d(image, kernel, padding=padding, stride=stride),
                               rtol=1e-12, atol=1e-12)


@given(image_kernel(max_k=5))
@settings(max_examples=scaled(100))
def test_convolve2d_matches_scipy_valid_and_full(case):
    image, kernel, *_ = case
    kh, kw = kernel.shape
    if image.shape[0] >= kh and image.shape[1] >= kw:
        np.testing.assert_allclose(convolve2d(image, kernel),
                                   scipy.signal.convolve2d(image, kernel, mode="valid"),
                                   rtol=1e-10, atol=1e-10)
    full = scipy.signal.convolve2d(image, kernel, mode="full")
    np.testing.assert_allclose(convolve2d(image, kernel, padding=(kh - 1, kw - 1)), full,
                               rtol=1e-10, atol=1e-10)
    if kh == kw:   # the int form of the same padding
        np.testing.assert_allclose(convolve2d(image, kernel, padding=kh - 1), full,
                                   rtol=1e-10, atol=1e-10)


@given(image_kernel())
@settings(max_examples=scaled(60))
def test_convolve2d_with_stride_subsamples_the_stride1_result(case):
    image, kernel, padding, _stride, _p, (sh, sw) = case
    dense = convolve2d(image, kernel, padding=padding)
    np.testing.assert_allclose(convolve2d(image, kernel, padding=padding, stride=(sh, sw)),
                               dense[::sh, ::sw], rtol=1e-12, atol=1e-12)


def test_convolve2d_flips_the_kernel():
    image = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    kernel = np.array([[1.0, -1.0]])
    np.testing.assert_array_equal(correlate2d(image, kernel), [[-1.0, -1.0], [-1.0, -1.0]])
    np.testing.assert_array_equal(convolve2d(image, kernel), [[1.0, 1.0], [1.0, 1.0]])
    # an impulse reproduces the kernel under convolution, the flipped kernel under correlation
    impulse = np.zeros((5, 5)); impulse[2, 2] = 1.0
    k = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(convolve2d(impulse, k, padding=1)[1:4, 1:4], k)
    np.testing.assert_array_equal(correlate2d(impulse, k, padding=1)[1:4, 1:4], k[::-1, ::-1])


# ----------------------------------------------------------------------------- bad input
X4 = np.zeros((1, 2, 5, 5))
W4 = np.zeros((3, 2, 3, 3))


@pytest.mark.parametrize("fn", [conv2d, conv2d_naive])
@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(x=np.zeros((2, 5, 5))), ValueError, r"^x must be 4D"),
    (dict(x=np.zeros((1, 1, 2, 5, 5))), ValueError, r"^x must be 4D"),
    (dict(weight=np.zeros((2, 3, 3))), ValueError, r"^weight must be 4D"),
    (dict(weight=np.zeros((3, 1, 3, 3))), ValueError, r"weight has 1 input channels but x has 2"),
    (dict(x=np.zeros((1, 2, 0, 5))), ValueError, r"empty"),
    (dict(bias=np.zeros(2)), ValueError, r"^bias must have C_out=3"),
    (dict(bias=np.zeros((3, 1))), ValueError, r"^bias must be 1D"),
    (dict(stride=0), ValueError, r"^stride must be >= 1"),
    (dict(stride=-2), ValueError, r"^stride must be >= 1"),
    (dict(stride=(1, 0)), ValueError, r"^stride\[1\] must be >= 1"),
    (dict(stride=(1, 1, 1)), ValueError, r"^stride must be an int or a pair"),
    (dict(stride=1.0), TypeError, r"^stride must be an int"),
    (dict(stride=True), TypeError, r"^stride must be an int"),
    (dict(padding=-1), ValueError, r"^padding must be >= 0"),
    (dict(padding=(0, -1)), ValueError, r"^padding\[1\] must be >= 0"),
    (dict(padding=False), TypeError, r"^padding must be an int"),
    (dict(dilation=0), ValueError, r"^dilation must be >= 1"),
    (dict(dilation=True), TypeError, r"^dilation must be an int"),
    (dict(weight=np.zeros((3, 2, 6, 3))), ValueError, r"weight height.*kernel_size=6"),
    (dict(weight=np.zeros((3, 2, 3, 4)), dilation=(1, 2)), ValueError,
     r"weight width.*kernel_size=4.*dilation=2"),
    (dict(x="not an array"), TypeError, r"^x must be a NumPy array"),
])
def test_conv2d_rejects_bad_arguments(fn, kwargs, exc, match):
    args = dict(x=X4, weight=W4, bias=None)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        fn(**args)


def test_conv2d_kernel_fits_only_with_padding():
    w = np.ones((1, 2, 7, 7))
    with pytest.raises(ValueError, match="kernel_size=7"):
        conv2d(X4, w)
    assert conv2d(X4, w, padding=1).shape == (1, 1, 1, 1)


@pytest.mark.parametrize("fn", [conv2d, conv2d_naive])
@pytest.mark.parametrize("kind", sorted(BAD_DTYPE_ARRAYS))
@pytest.mark.parametrize("param", ["x", "weight", "bias"])
def test_conv2d_rejects_non_real_dtypes(fn, kind, param):
    shapes = dict(x=X4.shape, weight=W4.shape, bias=(3,))
    args = dict(x=X4, weight=W4, bias=np.zeros(3))
    args[param] = BAD_DTYPE_ARRAYS[kind](shapes[param])
    with pytest.raises(TypeError, match=rf"^{param} must hold real numbers"):
        fn(**args)


@pytest.mark.parametrize("fn", [correlate2d, correlate2d_naive, convolve2d])
@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(image=np.zeros((1, 5, 5))), ValueError, r"^image must be 2D"),
    (dict(image=np.zeros(5)), ValueError, r"^image must be 2D"),
    (dict(kernel=np.zeros((1, 3, 3))), ValueError, r"^kernel must be 2D"),
    (dict(image=np.full((5, 5), "a")), TypeError, r"^image must hold real numbers"),
    (dict(kernel=np.ones((3, 3), dtype=bool)), TypeError, r"^kernel must hold real numbers"),
    (dict(kernel=np.ones((3, 3), dtype=complex)), TypeError, r"^kernel must hold real numbers"),
    (dict(padding=-1), ValueError, r"^padding must be >= 0"),
    (dict(stride=0), ValueError, r"^stride must be >= 1"),
    (dict(stride=True), TypeError, r"^stride must be an int"),
    (dict(kernel=np.zeros((6, 2))), ValueError, r"kernel_size=6"),
])
def test_2d_helpers_reject_bad_arguments(fn, kwargs, exc, match):
    args = dict(image=np.zeros((5, 5)), kernel=np.zeros((3, 3)))
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        fn(**args)
