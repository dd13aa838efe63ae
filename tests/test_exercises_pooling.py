"""The pooling exercise checks: right answers pass, stubs are "not attempted", and
plausible wrong answers fail with a message that names the mistake."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import avg_pool2d, max_pool2d
from course_lib.exercises import reset_hints


@pytest.fixture(autouse=True)
def _fresh_hints():
    reset_hints()


def _np_pool(x, stride=2, ceil=False, reduce=np.max):
    """2 x 2 pooling in NumPy (the library's pooling is switched off during the check)."""
    n, c, h, w = x.shape
    if ceil:
        x = np.pad(x, ((0, 0), (0, 0), (0, h % 2), (0, w % 2)), constant_values=-np.inf)
        h, w = x.shape[2:]
    rows = range(0, h - 1, stride)
    cols = range(0, w - 1, stride)
    return np.array([[[[reduce(x[a, b, i:i + 2, j:j + 2]) for j in cols] for i in rows]
                      for b in range(c)] for a in range(n)])
from course_lib.exercises.core import FAIL, NOT_ATTEMPTED, PASS
from course_lib.exercises.pooling import (_rf_ignore_stride, _rf_no_one, _rf_product,
                                          _rf_stride_too_early, check_forsyth_pool_sizes,
                                          check_max_pool_2x2, check_receptive_field)


def _stub(*args, **kwargs):
    raise NotImplementedError("Exercise: replace this line with your code")


def _text(result) -> str:
    return str(result)


# -- 2 x 2 max pooling ------------------------------------------------------------------------

def test_max_pool_right_answers_pass():
    loops = lambda x: np.array([[[[x[n, c, 2 * i:2 * i + 2, 2 * j:2 * j + 2].max()
                                   for j in range(x.shape[3] // 2)]
                                  for i in range(x.shape[2] // 2)]
                                 for c in range(x.shape[1])] for n in range(x.shape[0])])
    for fn in (lambda x: _np_pool(x),
               lambda x: torch.from_numpy(_np_pool(x)),                   # a tensor is accepted
               loops):
        assert check_max_pool_2x2(fn).status == PASS


@pytest.mark.parametrize("stub", [..., None, _stub])
def test_max_pool_stub_not_attempted(stub):
    r = check_max_pool_2x2(stub)
    assert r.status == NOT_ATTEMPTED
    assert "Traceback" not in _text(r)


@pytest.mark.parametrize("wrong, words", [
    (lambda x: _np_pool(x, reduce=np.mean), "average"),
    (lambda x: _np_pool(x, stride=1), "stride 1"),
    (lambda x: _np_pool(x, ceil=True), "odd edge"),
    (lambda x: np.maximum(_np_pool(x), 0.0), "-inf"),
    (lambda x: max_pool2d(x, 2), "calls course_lib.max_pool2d"),
    (lambda x: F.max_pool2d(torch.from_numpy(x), 2), "torch.nn.functional.max_pool2d"),
    (lambda x: x[:, :, : 2 * (x.shape[2] // 2): 2, : 2 * (x.shape[3] // 2): 2], "subsampling"),
])
def test_max_pool_wrong_answers_named(wrong, words):
    r = check_max_pool_2x2(wrong)
    assert r.status == FAIL
    assert words in _text(r)


def test_max_pool_crash_reported_without_traceback():
    r = check_max_pool_2x2(lambda x: x.no_such_method())
    assert r.status == FAIL and "raised AttributeError" in r.message


def test_max_pool_unknown_mistake_gives_values_differ():
    r = check_max_pool_2x2(lambda x: _np_pool(x) + 1.0)
    assert r.status == FAIL and "values differ" in _text(r)


# -- Forsyth's sizes --------------------------------------------------------------------------

def test_forsyth_right_answer_passes():
    assert check_forsyth_pool_sizes((15, 7, 3)).status == PASS
    assert check_forsyth_pool_sizes([15, 7, 3]).status == PASS
    assert check_forsyth_pool_sizes((np.int64(15), 7.0, 3)).status == PASS


@pytest.mark.parametrize("stub", [..., None])
def test_forsyth_stub_not_attempted(stub):
    assert check_forsyth_pool_sizes(stub).status == NOT_ATTEMPTED


@pytest.mark.parametrize("wrong, words", [
    ((16, 8, 4), "ceil rounding"),
    ((14, 5, 1), "+ 1"),
    ((15, 15, 15), "previous one's output"),
    ((15.5, 7, 3), "whole number"),
    (15, "three sizes"),
    ((15, 7), "three sizes"),
    ((15, 7, 2), "hint"),
])
def test_forsyth_wrong_answers_named(wrong, words):
    r = check_forsyth_pool_sizes(wrong)
    assert r.status == FAIL
    assert words in _text(r)


def test_forsyth_halving_named():
    # n // 2 gives (16, 8, 4) too, which is the ceil answer: the ceil message wins, and it is right
    r = check_forsyth_pool_sizes((16, 8, 4))
    assert "without them torch rounds down" in _text(r)


# -- receptive field of a stack --------------------------------------------------------------

def _rf_right(layers):
    r, j = 1, 1
    for k, s in layers:
        r += (k - 1) * j
        j *= s
    return r


def test_receptive_field_right_answer_passes():
    assert check_receptive_field(_rf_right).status == PASS


@pytest.mark.parametrize("stub", [..., None, _stub])
def test_receptive_field_stub_not_attempted(stub):
    assert check_receptive_field(stub).status == NOT_ATTEMPTED


@pytest.mark.parametrize("wrong, words", [
    (_rf_ignore_stride, "strides were ignored"),
    (_rf_stride_too_early, "after"),
    (_rf_no_one, "off by one"),
    (_rf_product, "not by multiplying"),
])
def test_receptive_field_wrong_answers_named(wrong, words):
    r = check_receptive_field(wrong)
    assert r.status == FAIL
    assert words in _text(r)


def test_receptive_field_known_values():
    # the cases the notebook quotes, computed independently of the library
    assert _rf_right([(5, 1), (2, 2)]) == 6
    assert _rf_right([(5, 1), (3, 2)]) == 7
    assert _rf_right([(5, 1), (2, 2), (5, 1), (2, 2), (4, 1)]) == 28
    from course_lib.exercises.pooling import VGG16_TO_POOL5
    assert _rf_right(VGG16_TO_POOL5) == 212
