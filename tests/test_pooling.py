"""max_pool2d / avg_pool2d and their naive twins against torch, in float64."""
from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import BAD_DTYPE_ARRAYS, int_or_pair, t64, scaled
from course_lib import avg_pool2d, avg_pool2d_naive, max_pool2d, max_pool2d_naive
from course_lib.pooling import (adaptive_avg_pool2d, adaptive_avg_pool2d_naive, adaptive_max_pool2d,
                                adaptive_max_pool2d_naive, adaptive_windows)

POOLS = {"max": (max_pool2d, max_pool2d_naive), "avg": (avg_pool2d, avg_pool2d_naive)}


def torch_pool(kind, x, k, s, p, ceil_mode):
    if kind == "max":
        return F.max_pool2d(t64(x), k, s, p, ceil_mode=ceil_mode).numpy()
    return F.avg_pool2d(t64(x), k, s, p, ceil_mode=ceil_mode, count_include_pad=True).numpy()


@st.composite
def pool_case(draw, max_hw: int = 10, max_k: int = 4):
    kernel, (kh, kw) = draw(int_or_pair(1, max_k))
    if draw(st.booleans()):
        stride, (sh, sw) = None, (kh, kw)              # stride None = kernel_size
    else:
        stride, (sh, sw) = draw(int_or_pair(1, 3))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    padding = ph if (ph == pw and draw(st.booleans())) else (ph, pw)
    ceil_mode = draw(st.booleans())
    h = max(1, kh - 2 * ph) + draw(st.integers(0, max_hw))
    w = max(1, kw - 2 * pw) + draw(st.integers(0, max_hw))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    # negative values too, so max pooling must never pick the (-inf) padding
    x = rng.standard_normal((n, c, h, w)) - 2.0
    return dict(x=x, kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                torch_args=((kh, kw), (sh, sw), (ph, pw), ceil_mode))


@pytest.mark.parametrize("kind", ["max", "avg"])
@given(case=pool_case(max_hw=14, max_k=5))
@settings(max_examples=scaled(120))
def test_vectorised_pool_matches_torch(kind, case):
    fast, _ = POOLS[kind]
    want = torch_pool(kind, case["x"], *case["torch_args"])
    got = fast(case["x"], case["kernel_size"], case["stride"], case["padding"], case["ceil_mode"])
    assert got.dtype == np.float64
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["max", "avg"])
@given(case=pool_case(max_hw=7, max_k=3))
@settings(max_examples=scaled(60))
def test_naive_pool_matches_torch_and_vectorised(kind, case):
    fast, naive = POOLS[kind]
    args = (case["x"], case["kernel_size"], case["stride"], case["padding"], case["ceil_mode"])
    got = naive(*args)
    want = torch_pool(kind, case["x"], *case["torch_args"])
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, fast(*args), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_ceil_mode_window_hanging_over_the_edge(kind):
    # 5 -> ceil((5 - 2) / 2) + 1 = 3 windows; the last covers one real pixel only
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    for fn in POOLS[kind]:
        got = fn(x, 2, ceil_mode=True)
        assert got.shape == (1, 1, 3, 3)
        np.testing.assert_array_equal(got, torch_pool(kind, x, 2, 2, 0, True))
    if kind == "avg":    # the overhang is not counted: the corner is just x[4, 4]
        assert avg_pool2d(x, 2, ceil_mode=True)[0, 0, 2, 2] == 24.0


def test_avg_pool_counts_padding_but_max_pool_ignores_it():
    x = -np.ones((1, 1, 2, 2))
    assert max_pool2d(x, 2, stride=1, padding=1)[0, 0, 0, 0] == -1.0   # -inf padding never wins
    assert avg_pool2d(x, 2, stride=1, padding=1)[0, 0, 0, 0] == -0.25  # zeros count in the divisor


def test_docstring_examples():
    x = np.array([[[[1., 1., 2., 4.], [5., 6., 7., 8.], [3., 2., 1., 0.], [1., 2., 3., 4.]]]])
    for fn in POOLS["max"]:
        np.testing.assert_array_equal(fn(x, 2), [[[[6., 8.], [3., 4.]]]])
    for fn in POOLS["avg"]:
        np.testing.assert_array_equal(fn(np.arange(16.0).reshape(1, 1, 4, 4), 2),
                                      [[[[2.5, 4.5], [10.5, 12.5]]]])


def test_forsyth_pooling_32_to_16():
    x = np.random.default_rng(0).standard_normal((1, 2, 32, 32))
    for fn in (max_pool2d, avg_pool2d):
        assert fn(x, 3, stride=2, ceil_mode=True).shape == (1, 2, 16, 16)
        assert fn(x, 3, stride=2).shape == (1, 2, 15, 15)


# ----------------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("fn", [max_pool2d, max_pool2d_naive, avg_pool2d_naive])
def test_float32_stays_float32(fn):
    x = np.random.default_rng(1).standard_normal((1, 2, 6, 6)).astype(np.float32)
    assert fn(x, 3, stride=2, padding=1, ceil_mode=True).dtype == np.float32


def test_avg_pool2d_float32_stays_float32():
    x = np.random.default_rng(1).standard_normal((1, 2, 6, 6)).astype(np.float32)
    assert avg_pool2d(x, 2).dtype == np.float32


@pytest.mark.parametrize("fn", [f for pair in POOLS.values() for f in pair])
def test_int_input_gives_float64(fn):
    x = np.arange(2 * 5 * 5).reshape(1, 2, 5, 5)
    out = fn(x, 2, ceil_mode=True)
    assert out.dtype == np.float64
    kind = "max" if "max" in fn.__name__ else "avg"
    np.testing.assert_array_equal(out, torch_pool(kind, x, 2, 2, 0, True))


# ----------------------------------------------------------------------------- bad input
X = np.zeros((1, 2, 6, 6))


@pytest.mark.parametrize("fn", [f for pair in POOLS.values() for f in pair])
@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(x=np.zeros((2, 6, 6))), ValueError, r"^x must be 4D"),
    (dict(x=np.zeros((1, 2, 0, 6))), ValueError, r"^x must not have empty axes"),
    (dict(kernel_size=0), ValueError, r"^kernel_size must be >= 1"),
    (dict(kernel_size=(2, 0)), ValueError, r"^kernel_size\[1\] must be >= 1"),
    (dict(kernel_size=True), TypeError, r"^kernel_size must be an int"),
    (dict(kernel_size=2.0), TypeError, r"^kernel_size must be an int"),
    (dict(stride=0), ValueError, r"^stride must be >= 1"),
    (dict(stride=(2, -1)), ValueError, r"^stride\[1\] must be >= 1"),
    (dict(stride=True), TypeError, r"^stride must be an int"),
    (dict(padding=-1), ValueError, r"^padding must be >= 0"),
    (dict(padding=2), ValueError, r"^padding must be at most half of kernel_size"),
    (dict(kernel_size=(4, 3), padding=(1, 2)), ValueError, r"^padding must be at most half"),
    (dict(padding=True), TypeError, r"^padding must be an int"),
    (dict(ceil_mode=1), TypeError, r"^ceil_mode must be True or False"),
    (dict(kernel_size=7), ValueError, r"does not fit the input height: kernel_size=7"),
    (dict(kernel_size=(3, 7)), ValueError, r"does not fit the input width: kernel_size=7"),
    (dict(x=[[1, 2]]), ValueError, r"^x must be 4D"),
    (dict(x="abc"), TypeError, r"^x must be a NumPy array"),
])
def test_pool_rejects_bad_arguments(fn, kwargs, exc, match):
    args = dict(x=X, kernel_size=3, stride=None, padding=0, ceil_mode=False)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        fn(**args)


@pytest.mark.parametrize("fn", [f for pair in POOLS.values() for f in pair])
@pytest.mark.parametrize("kind", sorted(BAD_DTYPE_ARRAYS))
def test_pool_rejects_non_real_dtypes(fn, kind):
    with pytest.raises(TypeError, match=r"^x must hold real numbers"):
        fn(BAD_DTYPE_ARRAYS[kind](X.shape), 2)


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_padding_limit_is_torchs(kind):
    # padding == kernel // 2 is allowed (also for odd kernels), one more is not, in both libraries
    x = np.ones((1, 1, 5, 5))
    for k in (2, 3, 4, 5):
        fast, _ = POOLS[kind]
        np.testing.assert_allclose(fast(x, k, 1, k // 2), torch_pool(kind, x, k, 1, k // 2, False), atol=1e-12)
        with pytest.raises(ValueError, match="padding"):
            fast(x, k, 1, k // 2 + 1)
        with pytest.raises(RuntimeError):
            torch_pool(kind, x, k, 1, k // 2 + 1, False)


# -- adaptive pooling ------------------------------------------------------------------------------


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 17), st.integers(1, 17),
       int_or_pair(1, 7), st.integers(0, 2**32 - 1))
@settings(max_examples=scaled(120))
def test_adaptive_pooling_matches_torch(n, c, h, w, out, seed):
    size, (mh, mw) = out
    x = np.random.default_rng(seed).standard_normal((n, c, h, w))
    want_avg = F.adaptive_avg_pool2d(t64(x), (mh, mw)).numpy()
    want_max = F.adaptive_max_pool2d(t64(x), (mh, mw)).numpy()
    np.testing.assert_allclose(adaptive_avg_pool2d(x, size), want_avg, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(adaptive_max_pool2d(x, size), want_max, rtol=0, atol=0)


@given(st.integers(1, 7), st.integers(1, 7), int_or_pair(1, 4), st.integers(0, 2**32 - 1))
@settings(max_examples=scaled(60))
def test_adaptive_pooling_naive_twins(h, w, out, seed):
    size, _ = out
    x = np.random.default_rng(seed).standard_normal((1, 2, h, w))
    np.testing.assert_allclose(adaptive_avg_pool2d_naive(x, size), adaptive_avg_pool2d(x, size),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(adaptive_max_pool2d_naive(x, size), adaptive_max_pool2d(x, size))


def test_adaptive_pooling_fixed_output_for_any_input_and_windows():
    for n in (7, 28, 32, 45):
        assert adaptive_avg_pool2d(np.zeros((1, 3, n, n + 3)), (4, 4)).shape == (1, 3, 4, 4)
    win = adaptive_windows(10, 3)
    assert win[0, 0] == 0 and win[-1, 1] == 10 and (np.diff(win[:, 0]) > 0).all()
    np.testing.assert_array_equal(adaptive_windows(8, 4), [[0, 2], [2, 4], [4, 6], [6, 8]])
    # m divides n: plain pooling with kernel = stride = n / m
    x = np.random.default_rng(1).standard_normal((2, 1, 12, 12))
    np.testing.assert_allclose(adaptive_avg_pool2d(x, 3), avg_pool2d(x, 4), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("call, exc, words", [
    (lambda: adaptive_avg_pool2d(np.zeros((1, 1, 4)), 2), ValueError, ["x", "4D"]),
    (lambda: adaptive_max_pool2d(np.zeros((1, 1, 4, 4)), 0), ValueError, ["output_size"]),
    (lambda: adaptive_max_pool2d(np.zeros((1, 1, 4, 4)), (2, 2, 2)), ValueError, ["output_size"]),
    (lambda: adaptive_windows(0, 2), ValueError, ["n"]),
    (lambda: adaptive_windows(4, 1.5), TypeError, ["out_size"]),
])
def test_adaptive_argument_checks(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for w in words:
        assert w in str(info.value)
