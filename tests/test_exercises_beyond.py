"""Checks of the chapter "Convolutions beyond images": correct forms pass, stubs are not attempted,
plausible wrong answers fail with the mistake named, predictions are never revealed."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.exercises import reset_hints
from course_lib.exercises.beyond import (check_causal_dilated, check_causal_field_prediction, check_conv1d_loops,
                                         check_conv3d_costs, check_rows_as_sequence)
from course_lib.exercises.core import FAIL, NOT_ATTEMPTED, PASS


@pytest.fixture(autouse=True)
def _fresh_hints():
    reset_hints()


def _stub(*args, **kwargs):
    raise NotImplementedError("Exercise: replace this line with your code")


def _conv(x, w):
    k = len(w)
    return np.array([sum(x[t + u] * w[u] for u in range(k)) for t in range(len(x) - k + 1)])


def test_conv1d_loops():
    assert check_conv1d_loops(_conv).status == PASS
    assert check_conv1d_loops(lambda x, w: list(_conv(x, w))).status == PASS
    assert check_conv1d_loops(lambda x, w: torch.tensor(_conv(x, w), dtype=torch.float32)).status == PASS
    assert check_conv1d_loops(_stub).status == NOT_ATTEMPTED
    for wrong, words in [(lambda x, w: _conv(x, w[::-1]), "flipped"),
                         (lambda x, w: _conv(np.pad(x, (len(w) - 1, len(w) - 1)), w), "full"),
                         (lambda x, w: _conv(x, w)[:-1] if len(x) > len(w) else _conv(x, w), "last position")]:
        r = check_conv1d_loops(wrong)
        assert r.status == FAIL and words in str(r), str(r)
    r = check_conv1d_loops(lambda x, w: np.correlate(x, w, mode="valid"))
    assert r.status == FAIL and "correlate" in str(r)


def _causal(x, w, dilation):
    k, pad = len(w), dilation * (len(w) - 1)
    xp = np.concatenate([np.zeros(pad), x])
    return np.array([sum(w[u] * xp[t + u * dilation] for u in range(k)) for t in range(len(x))])


def test_causal_dilated():
    assert check_causal_dilated(_causal).status == PASS
    assert check_causal_dilated(_stub).status == NOT_ATTEMPTED
    future = lambda x, w, d: _causal(x[::-1], w[::-1], d)[::-1]
    for wrong, words in [(future, "future"), (lambda x, w, d: _causal(x, w, 1), "dilation is ignored"),
                         (lambda x, w, d: _causal(x, w[::-1], d), "reversed")]:
        r = check_causal_dilated(wrong)
        assert r.status == FAIL and words in str(r), str(r)


def test_causal_field_prediction_never_reveals_the_answer():
    assert check_causal_field_prediction(31).status == PASS
    assert check_causal_field_prediction(np.int64(31)).status == PASS
    assert check_causal_field_prediction(31.0).status == PASS
    assert check_causal_field_prediction(...).status == NOT_ATTEMPTED
    for wrong, words in [(16, "(k - 1)"), (9, "ignores the dilations"), (30, "off by one"), (45, "starts at 1")]:
        r = check_causal_field_prediction(wrong)
        assert r.status == FAIL and words in str(r) and "31" not in str(r), str(r)
    assert check_causal_field_prediction(1024, kernel_size=2, dilations=[2 ** i for i in range(10)]).status == PASS


def test_conv3d_costs():
    assert check_conv3d_costs(13856, 21676032).status == PASS
    assert check_conv3d_costs(np.int64(13856), 21676032.0).status == PASS
    assert check_conv3d_costs(..., ...).status == NOT_ATTEMPTED
    r = check_conv3d_costs(13824, 21676032)
    assert r.status == FAIL and "bias" in str(r) and "13856" not in str(r)
    r = check_conv3d_costs(13856, 16 * 32 * 9 * 8 * 14 * 14)
    assert r.status == FAIL and "2D kernel" in str(r)
    r = check_conv3d_costs(13856, 21676032 + 32 * 8 * 14 * 14)
    assert "biases are additions" in str(r)


def test_rows_as_sequence():
    assert check_rows_as_sequence(lambda im: im[:, 0].transpose(0, 2, 1)).status == PASS
    assert check_rows_as_sequence(lambda im: np.swapaxes(im[:, 0], 1, 2).copy()).status == PASS
    assert check_rows_as_sequence(lambda im: torch.tensor(im)[:, 0].transpose(1, 2)).status == PASS
    assert check_rows_as_sequence(_stub).status == NOT_ATTEMPTED
    r = check_rows_as_sequence(lambda im: im[:, 0])
    assert r.status == FAIL and "column by column" in str(r)
    r = check_rows_as_sequence(lambda im: im[:, 0].reshape(im.shape[0], im.shape[3], im.shape[2]))
    assert r.status == FAIL and "reshape" in str(r)
