"""The checks of the "Before convolutional networks" exercises: right answers pass, stubs are
"not attempted", and plausible wrong answers fail with a message that names the mistake."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.exercises.core import FAIL, NOT_ATTEMPTED, PASS
from course_lib.exercises.features import (check_fc_weight_count, check_integral_image,
                                           check_permute_first_layer, check_rect_sum)
from course_lib.integral_image import integral_image, integral_image_naive, rect_sum


def _stub(*args, **kwargs):
    raise NotImplementedError("Exercise: replace this line with your code")


# -- Exercise 2.1: integral image ---------------------------------------------------------------

def _padded_cumsum(im):
    ii = np.zeros((im.shape[0] + 1, im.shape[1] + 1))
    ii[1:, 1:] = np.asarray(im, dtype=np.float64).cumsum(0).cumsum(1)
    return ii


@pytest.mark.parametrize("fn", [_padded_cumsum,
                                lambda im: np.pad(np.cumsum(np.cumsum(np.asarray(im, dtype=float), 1), 0), ((1, 0), (1, 0)))])
def test_integral_image_right_answers_pass(fn):
    assert check_integral_image(fn).status == PASS


@pytest.mark.parametrize("stub", [..., None, _stub])
def test_integral_image_stub_not_attempted(stub):
    r = check_integral_image(stub)
    assert r.status == NOT_ATTEMPTED and "Traceback" not in str(r)


def _uint8_overflow(im):
    ii = np.zeros((im.shape[0] + 1, im.shape[1] + 1), dtype=im.dtype)
    ii[1:, 1:] = im.cumsum(0).cumsum(1)          # written into a uint8 array: wraps around
    return ii


def _rows_only(im):
    ii = np.zeros((im.shape[0] + 1, im.shape[1] + 1))
    ii[1:, 1:] = np.asarray(im, dtype=np.float64).cumsum(0)
    return ii


@pytest.mark.parametrize("wrong, words", [
    (lambda im: np.asarray(im, dtype=float).cumsum(0).cumsum(1), "zero row"),
    (_rows_only, "axis 0 only"),
    (lambda im: _padded_cumsum(im) + 1.0, "values differ"),
    (_uint8_overflow, "overflowed uint8"),
])
def test_integral_image_wrong_answers_named(wrong, words):
    r = check_integral_image(wrong)
    assert r.status == FAIL
    assert words in str(r)


def test_integral_image_crash_is_reported_without_traceback():
    r = check_integral_image(lambda im: im.no_such_method())
    assert r.status == FAIL and "raised AttributeError" in r.message


# -- Exercise 2.2: rectangle sum ----------------------------------------------------------------

def test_rect_sum_right_answers_pass():
    assert check_rect_sum(lambda ii, t, l, h, w: ii[t + h, l + w] - ii[t, l + w] - ii[t + h, l] + ii[t, l]).status == PASS
    assert check_rect_sum(rect_sum).status == FAIL          # the library's rect_sum is the shortcut
    assert check_integral_image(integral_image).status == FAIL
    assert check_rect_sum(lambda ii, t, l, h, w: ii[t + h, l + w] + ii[t, l] - ii[t, l + w] - ii[t + h, l]).status == PASS


@pytest.mark.parametrize("stub", [..., None, _stub])
def test_rect_sum_stub_not_attempted(stub):
    assert check_rect_sum(stub).status == NOT_ATTEMPTED


@pytest.mark.parametrize("wrong, words", [
    (lambda ii, t, l, h, w: ii[t + h, l + w] - ii[t, l + w] - ii[t + h, l], "subtracted twice"),
    (lambda ii, t, l, h, w: -(ii[t + h, l + w] - ii[t, l + w] - ii[t + h, l] + ii[t, l]), "sign is flipped"),
    (lambda ii, t, l, h, w: ii[t + h - 1, l + w - 1] - ii[t, l + w - 1] - ii[t + h - 1, l] + ii[t, l],
     "too small"),
    (lambda ii, t, l, h, w: (ii[t + h, l + w] - ii[max(t - 1, 0), l + w] - ii[t + h, max(l - 1, 0)]
                             + ii[max(t - 1, 0), max(l - 1, 0)]), "too big"),
    (lambda ii, t, l, h, w: np.array([1.0, 2.0]), "expected one number"),
    (lambda ii, t, l, h, w: ii[t + h, l + w], "values differ"),
])
def test_rect_sum_wrong_answers_named(wrong, words):
    r = check_rect_sum(wrong)
    assert r.status == FAIL
    assert words in str(r)


# -- Exercise 2.3: weight count -----------------------------------------------------------------

def test_fc_weight_count_right_answer_passes_and_agrees_with_torch():
    layer = torch.nn.Linear(200 * 200 * 3, 500, device="meta")
    truth = sum(p.numel() for p in layer.parameters())
    r = check_fc_weight_count(truth, height=200, width=200, channels=3, hidden=500)
    assert r.status == PASS and "60,000,500" not in str(r)      # the book must not spoil the prediction
    assert check_fc_weight_count(float(truth), height=200, width=200, channels=3, hidden=500).status == PASS
    assert check_fc_weight_count(np.int64(truth), height=200, width=200, channels=3, hidden=500).status == PASS


def test_fc_weight_count_stub_not_attempted():
    assert check_fc_weight_count(..., height=28, width=28, channels=1, hidden=100).status == NOT_ATTEMPTED


@pytest.mark.parametrize("wrong, words", [
    (60_000_000, "biases"),
    (200 * 200 * 500 + 500, "multiply by the channels"),
    (200 * 200 * 500, "colour channel"),
    (60_000_000 + 120_000, "one bias per hidden unit"),
    (120_000, "ONE hidden unit"),
    (120_500, "multiply, do not add"),
    (12345, "one weight per input"),
    ("many", "whole number"),
])
def test_fc_weight_count_wrong_answers_named(wrong, words):
    r = check_fc_weight_count(wrong, height=200, width=200, channels=3, hidden=500)
    assert r.status == FAIL
    assert words in str(r)


# -- Exercise 2.4: permute the first layer ------------------------------------------------------

@pytest.mark.parametrize("fn", [lambda W, p: W[:, p], lambda W, p: np.take(W, p, axis=1),
                                lambda W, p: torch.as_tensor(W)[:, torch.as_tensor(p)]])
def test_permute_right_answers_pass(fn):
    assert check_permute_first_layer(fn).status == PASS


@pytest.mark.parametrize("stub", [..., None, _stub])
def test_permute_stub_not_attempted(stub):
    assert check_permute_first_layer(stub).status == NOT_ATTEMPTED


@pytest.mark.parametrize("wrong, words", [
    (lambda W, p: W[:, np.argsort(p)], "inverse permutation"),
    (lambda W, p: W.copy(), "unchanged"),
    (lambda W, p: W[p] if W.shape[0] == W.shape[1] else W[:, p], "rows"),
    (lambda W, p: W[:, p].T, "shape"),
])
def test_permute_wrong_answers_named(wrong, words):
    r = check_permute_first_layer(wrong)
    assert r.status == FAIL
    assert words in str(r)
