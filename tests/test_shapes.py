"""Output-size and cost arithmetic against what torch actually produces."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from conftest import scaled

from course_lib import conv_macs, conv_output_size, conv_params, conv_transpose_output_size
from course_lib.shapes import window_coverage, window_coverage_naive


def _torch_size(fn):
    """torch's output size along W, or None when torch refuses the setting."""
    try:
        return int(fn().shape[-1])
    except RuntimeError:
        return None


def _ours(fn):
    try:
        return fn()
    except ValueError as err:
        assert "kernel_size" in str(err) or "padding" in str(err), err
        return None


# ----------------------------------------------------------------------------- exhaustive grids
def test_conv_output_size_matches_torch_conv2d_exhaustively():
    x_cache = {}
    checked = refused = 0
    for n, k, s, p, d in itertools.product(range(1, 10), range(1, 6), range(1, 4), range(0, 3),
                                           range(1, 3)):
        x = x_cache.setdefault(n, torch.zeros(1, 1, 1, n))
        w = torch.zeros(1, 1, 1, k)
        want = _torch_size(lambda: F.conv2d(x, w, stride=(1, s), padding=(0, p), dilation=(1, d)))
        got = _ours(lambda: conv_output_size(n, k, s, p, d))
        assert got == want, dict(n=n, k=k, s=s, p=p, d=d, ours=got, torch=want)
        checked += 1
        refused += want is None
    assert checked == 9 * 5 * 3 * 3 * 2 and refused > 0   # the grid does reach "no window fits"


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_conv_output_size_matches_torch_max_pool2d_exhaustively(ceil_mode):
    refused = 0
    for n, k, s, d in itertools.product(range(1, 10), range(1, 6), range(1, 4), range(1, 3)):
        x = torch.zeros(1, 1, 1, n)
        for p in range(0, k // 2 + 1):          # torch's limit: padding <= kernel / 2
            want = _torch_size(lambda: F.max_pool2d(x, (1, k), (1, s), (0, p), dilation=(1, d),
                                                    ceil_mode=ceil_mode))
            got = _ours(lambda: conv_output_size(n, k, s, p, d, ceil_mode=ceil_mode))
            assert got == want, dict(n=n, k=k, s=s, p=p, d=d, ceil_mode=ceil_mode, ours=got,
                                     torch=want)
            if d == 1:   # the same numbers for average pooling
                assert got == _torch_size(lambda: F.avg_pool2d(x, (1, k), (1, s), (0, p),
                                                               ceil_mode=ceil_mode))
            refused += want is None
    assert refused > 0


def test_conv_transpose_output_size_matches_torch_exhaustively():
    refused = 0
    for n, k, s, p, d, op in itertools.product(range(1, 6), range(1, 5), range(1, 4), range(0, 4),
                                               range(1, 3), range(0, 3)):
        x = torch.zeros(1, 1, 1, n)
        w = torch.zeros(1, 1, 1, k)
        want = _torch_size(lambda: F.conv_transpose2d(x, w, stride=(1, s), padding=(0, p),
                                                      output_padding=(0, op), dilation=(1, d)))
        try:
            got = conv_transpose_output_size(n, k, s, p, d, op)
        except ValueError as err:
            assert "padding" in str(err)     # output_padding or padding, both named
            got = None
        assert got == want, dict(n=n, k=k, s=s, p=p, d=d, op=op, ours=got, torch=want)
        refused += want is None
    assert refused > 0


def test_transpose_inverts_conv_size():
    for n, k, s, p in itertools.product(range(4, 20), range(1, 5), range(1, 4), range(0, 3)):
        try:
            m = conv_output_size(n, k, s, p)
        except ValueError:
            continue
        back = conv_transpose_output_size(m, k, s, p)
        # the conv drops up to s - 1 pixels; output_padding puts them back
        assert n - (s - 1) <= back <= n
        if n - back < max(s, 1):
            assert conv_transpose_output_size(m, k, s, p, output_padding=n - back) == n


# ----------------------------------------------------------------------------- params / MACs
@pytest.mark.parametrize("cin, cout, k, bias", [
    (3, 10, 5, True), (1, 20, 5, True), (1, 6, 5, True), (6, 16, 5, False), (64, 64, 3, True),
    (3, 32, (5, 3), True), (16, 8, (1, 7), False), (2, 3, 1, True)])
def test_conv_params_matches_nn_conv2d(cin, cout, k, bias):
    layer = nn.Conv2d(cin, cout, k, bias=bias)
    assert conv_params(cin, cout, k, bias=bias) == sum(p.numel() for p in layer.parameters())


@pytest.mark.parametrize("cin, cout, k, h, w, s, p", [
    (3, 10, 5, 32, 32, 1, 2), (1, 20, 5, 28, 28, 1, 0), (16, 32, 3, 32, 32, 2, 1),
    (3, 4, (3, 5), 9, 11, 1, 0)])
def test_conv_macs_counts_one_multiply_add_per_weight_per_output(cin, cout, k, h, w, s, p):
    kh, kw = (k, k) if isinstance(k, int) else k
    ho, wo = conv_output_size(h, kh, s, p), conv_output_size(w, kw, s, p)
    # brute force: a conv with all-ones weights on an all-ones input (no padding effect when p=0)
    # counts the products per output; summing over outputs and output channels gives the MACs
    macs = conv_macs(cin, cout, k, ho, wo)
    assert macs == kh * kw * cin * cout * ho * wo
    assert macs == conv_params(cin, cout, k, bias=False) * ho * wo
    if p == 0:
        ones = F.conv2d(torch.ones(1, cin, h, w, dtype=torch.float64),
                        torch.ones(cout, cin, kh, kw, dtype=torch.float64), stride=s)
        assert ones.shape[-2:] == (ho, wo)
        assert int(ones.sum()) == macs


# ----------------------------------------------------------------------------- the book's examples
def test_book_worked_examples():
    # 32x32x3 input, ten 5x5 filters, stride 1, pad 2 -> 32x32x10 and 760 parameters
    assert conv_output_size(32, 5, stride=1, padding=2) == 32
    assert conv_params(3, 10, 5) == 760 == (5 * 5 * 3) * 10 + 10
    # 5x5 input, pad 1, 3x3 filter, stride 2 -> 3x3
    assert conv_output_size(5, 3, stride=2, padding=1) == 3
    # MNIST: 28 -> 24 with twenty 5x5 filters, (5*5*1)*20 + 20 = 520 parameters
    assert conv_output_size(28, 5) == 24
    assert conv_params(1, 20, 5) == (5 * 5 * 1) * 20 + 20 == 520
    # 7x7 input, 3x3 filter, stride 3: the stride does not fit, torch floors -> 2
    assert conv_output_size(7, 3, stride=3) == 2
    # Forsyth's pooling: 32 with 3x3 stride 2 and ceil_mode -> 16 (15 without)
    assert conv_output_size(32, 3, stride=2, ceil_mode=True) == 16
    assert conv_output_size(32, 3, stride=2) == 15
    assert conv_macs(3, 10, 5, 32, 32) == 768_000
    # the same numbers from torch itself
    assert nn.Conv2d(3, 10, 5, padding=2)(torch.zeros(1, 3, 32, 32)).shape == (1, 10, 32, 32)
    assert nn.MaxPool2d(3, 2, ceil_mode=True)(torch.zeros(1, 1, 32, 32)).shape[-1] == 16
    assert conv_transpose_output_size(16, 4, stride=2, padding=1) == 32
    assert conv_transpose_output_size(2, 3, stride=2) == 5


def test_kernel_too_large_names_kernel_size_and_padding():
    with pytest.raises(ValueError, match=r"kernel_size=5 .*padded input n \+ 2\*padding = 4"):
        conv_output_size(2, 5, padding=1)
    with pytest.raises(ValueError, match=r"kernel_size=3 \(spanning 5 pixels with dilation=2\)"):
        conv_output_size(4, 3, dilation=2)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("fn, kwargs, exc, match", [
    (conv_output_size, dict(n=0, kernel_size=1), ValueError, r"^n must be >= 1"),
    (conv_output_size, dict(n=5.0, kernel_size=1), TypeError, r"^n must be an int"),
    (conv_output_size, dict(n=5, kernel_size=0), ValueError, r"^kernel_size must be >= 1"),
    (conv_output_size, dict(n=5, kernel_size=True), TypeError, r"^kernel_size must be an int"),
    (conv_output_size, dict(n=5, kernel_size=(3, 3)), TypeError, r"^kernel_size must be an int"),
    (conv_output_size, dict(n=5, kernel_size=3, stride=0), ValueError, r"^stride must be >= 1"),
    (conv_output_size, dict(n=5, kernel_size=3, stride=True), TypeError, r"^stride must be an int"),
    (conv_output_size, dict(n=5, kernel_size=3, padding=-1), ValueError, r"^padding must be >= 0"),
    (conv_output_size, dict(n=5, kernel_size=3, dilation=0), ValueError, r"^dilation must be >= 1"),
    (conv_output_size, dict(n=5, kernel_size=3, ceil_mode=1), TypeError, r"^ceil_mode must be"),
    (conv_output_size, dict(n=5, kernel_size=3, ceil_mode="yes"), TypeError, r"^ceil_mode"),
    (conv_output_size, dict(n="5", kernel_size=3), TypeError, r"^n must be an int"),
    (conv_transpose_output_size, dict(n=0, kernel_size=3), ValueError, r"^n must be >= 1"),
    (conv_transpose_output_size, dict(n=3, kernel_size=3, output_padding=-1), ValueError,
     r"^output_padding must be >= 0"),
    (conv_transpose_output_size, dict(n=3, kernel_size=3, stride=2, output_padding=2), ValueError,
     r"^output_padding must be smaller than stride or dilation"),
    (conv_transpose_output_size, dict(n=3, kernel_size=3, output_padding=True), TypeError,
     r"^output_padding must be an int"),
    (conv_transpose_output_size, dict(n=1, kernel_size=1, padding=1), ValueError, r"^padding=1"),
    (conv_params, dict(in_channels=0, out_channels=1, kernel_size=3), ValueError, r"^in_channels"),
    (conv_params, dict(in_channels=1, out_channels=-1, kernel_size=3), ValueError,
     r"^out_channels"),
    (conv_params, dict(in_channels=True, out_channels=1, kernel_size=3), TypeError,
     r"^in_channels"),
    (conv_params, dict(in_channels=1, out_channels=1, kernel_size=(3,)), ValueError,
     r"^kernel_size must be an int or a pair"),
    (conv_params, dict(in_channels=1, out_channels=1, kernel_size=(3, 0)), ValueError,
     r"^kernel_size\[1\] must be >= 1"),
    (conv_params, dict(in_channels=1, out_channels=1, kernel_size=2.5), TypeError, r"^kernel_size"),
    (conv_macs, dict(in_channels=1, out_channels=1, kernel_size=3, out_height=0, out_width=1),
     ValueError, r"^out_height must be >= 1"),
    (conv_macs, dict(in_channels=1, out_channels=1, kernel_size=3, out_height=1, out_width=False),
     TypeError, r"^out_width must be an int"),
    (conv_macs, dict(in_channels=1, out_channels=0, kernel_size=3, out_height=1, out_width=1),
     ValueError, r"^out_channels"),
])
def test_rejects_bad_arguments(fn, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fn(**kwargs)


def test_numpy_integers_are_accepted():
    assert conv_output_size(np.int64(32), np.int32(5), padding=np.int16(2)) == 32
    assert conv_params(np.int64(3), 10, (np.int64(5), 5)) == 760


# -- window coverage: how many windows read each pixel ---------------------------------------------

@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2),
       st.integers(1, 2), st.booleans())
@settings(max_examples=scaled(150))
def test_window_coverage_is_torch_gradient_of_an_all_ones_window(h, w, k, s, p, d, ceil):
    assume(d * (k - 1) + 1 <= min(h, w) + 2 * p)
    x = torch.zeros(1, 1, h, w, dtype=torch.float64, requires_grad=True)
    if ceil:   # pooling: sum pooling (divisor 1) with torch's ceil_mode
        assume(d == 1 and 2 * p <= k)
        F.avg_pool2d(x, k, s, p, ceil_mode=True, divisor_override=1).sum().backward()
    else:
        F.conv2d(x, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s, padding=p, dilation=d).sum().backward()
    want = x.grad[0, 0].round().long().numpy()
    got = window_coverage((h, w), k, s, p, d, ceil_mode=ceil)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got, window_coverage_naive((h, w), k, s, p, d, ceil_mode=ceil))


def test_window_coverage_examples_and_checks():
    assert (window_coverage(7, 3, stride=3)[6] == 0).all()
    assert window_coverage(5, 3, stride=2)[2, 2] == 4
    assert window_coverage((4, 6), (2, 3), stride=(2, 3)).tolist() == [[1] * 6] * 4
    with pytest.raises(ValueError, match="kernel_size"):
        window_coverage(3, 5)
    with pytest.raises(TypeError, match="ceil_mode"):
        window_coverage(5, 3, ceil_mode=1)
