"""Tests for the preprocessing-chapter exercise checks (course_lib.exercises.preprocessing).

Each check must PASS the right answer, say NOT ATTEMPTED for the stub, and FAIL
plausible wrong answers with a message that names the mistake.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.exercises.preprocessing import (check_eps_experiment, check_hflip, check_pad_crop,
                                                check_whiten, check_whitened_prediction)
from course_lib.whitening import PixelWhitener
from conftest import problem, stub


# ------------------------------------------------------------------------------ predict whitened values

@pytest.mark.parametrize("answer", [(0, 1, 5 ** 0.5), (0.0, 1.0, 2.236), [0, 1.0, 2.24],
                                    (np.float64(0), 1, np.sqrt(5))])
def test_prediction_passes(answer):
    r = check_whitened_prediction(answer)
    assert r.status == "pass" and "2.2361" not in str(r), str(r)      # no spoiler in the book


@pytest.mark.parametrize("answer", [..., None, (..., 1, 2.236)])
def test_prediction_not_attempted_or_incomplete(answer):
    r = check_whitened_prediction(answer)
    assert r.status in ("not attempted", "fail")
    if answer is ... or answer is None:
        assert r.status == "not attempted"


@pytest.mark.parametrize("answer, words", [
    ((0, 1, 0.5 / np.std([0.2, 0.4, 0.6, 0.8], ddof=1)), "N - 1"),
    ((0, 1, 0.5), "did not divide by S"),
    ((0, 1, 10.0), "variance"),
    ((0, 1, 2.5), "mean absolute"),
    ((0, 1, -2.236), "sign is flipped"),
    ((0, 1, 4.472), "M was not subtracted"),
    ((0.5, 1, 2.236), "average to exactly 0"),
    ((0, 0.866, 2.236), "N - 1"),
    ((0, 0.5, 2.236), "spread exactly 1"),
    ((0, 1), "three numbers"),
    ("zero", "three numbers"),
    (("a", "b", "c"), "must be numbers"),
])
def test_prediction_names_the_mistake(answer, words):
    r = check_whitened_prediction(answer)
    assert r.status == "fail" and words in str(r), str(r)


def test_prediction_does_not_reveal_the_answer():
    assert "2.236" not in str(check_whitened_prediction((0, 1, 3.0)))


# ------------------------------------------------------------------------------ horizontal flip

@pytest.mark.parametrize("fn", [lambda x: x[..., ::-1], lambda x: np.flip(x, axis=3),
                                lambda x: torch.as_tensor(x.copy()).flip(-1),
                                lambda x: np.stack([img[:, :, ::-1] for img in x])])
def test_hflip_passes(fn):
    r = check_hflip(fn)
    assert r.status == "pass", str(r)


@pytest.mark.parametrize("fn", [stub, ...])
def test_hflip_not_attempted(fn):
    assert check_hflip(fn).status == "not attempted"


@pytest.mark.parametrize("fn, words", [
    (lambda x: x[:, :, ::-1], "vertical"),
    (lambda x: np.flip(x, axis=2), "vertical"),
    (lambda x: x[:, :, ::-1, ::-1], "180 degree"),
    (lambda x: x[:, ::-1], "BGR"),
    (lambda x: x[::-1], "batch order"),
    (lambda x: np.swapaxes(x, 2, 3), "transposes"),
    (lambda x: np.rot90(x, 1, axes=(2, 3)), "90 degrees"),
])
def test_hflip_names_the_mistake(fn, words):
    r = check_hflip(fn)
    assert r.status == "fail" and words in problem(r), str(r)


def test_hflip_reports_exceptions_without_traceback():
    r = check_hflip(lambda x: x.flip(-1))          # NumPy arrays have no .flip method
    assert r.status == "fail" and "AttributeError" in r.message and "Traceback" not in str(r)


# ------------------------------------------------------------------------------ Procedure 17.1

def whiten_right(X_train, X, eps):
    M = X_train.mean(axis=0)
    S = np.sqrt(((X_train - M) ** 2).mean(axis=0))
    return (X - M) / (S + eps)


def whiten_loops(X_train, X, eps):
    out = np.empty_like(X, dtype=float)
    for pos in np.ndindex(*X_train.shape[1:]):
        vals = X_train[(slice(None),) + pos]
        m = vals.sum() / len(vals)
        s = np.sqrt(((vals - m) ** 2).sum() / len(vals))
        out[(slice(None),) + pos] = (X[(slice(None),) + pos] - m) / (s + eps)
    return out


def whiten_torch(X_train, X, eps):
    t = torch.as_tensor(X_train)
    return (torch.as_tensor(X) - t.mean(0)) / (t.std(0, unbiased=False) + eps)


@pytest.mark.parametrize("fn", [whiten_right, whiten_loops, whiten_torch,
                                lambda Xtr, X, eps: (X - Xtr.mean(0)) / (Xtr.std(0) + eps)])
def test_whiten_passes(fn):
    r = check_whiten(fn)
    assert r.status == "pass", str(r)


@pytest.mark.parametrize("fn", [stub, ...])
def test_whiten_not_attempted(fn):
    assert check_whiten(fn).status == "not attempted"


@pytest.mark.parametrize("fn, words", [
    (lambda Xtr, X, eps: (X - X.mean(0)) / (X.std(0) + eps), "leakage"),
    (lambda Xtr, X, eps: (X - X.mean(0)) / (X.std(0) + eps), "leakage"),
    (lambda Xtr, X, eps: (X - Xtr.mean(0)) / (Xtr.std(0, ddof=1) + eps), "N - 1"),
    (lambda Xtr, X, eps: (X - torch.as_tensor(Xtr).mean(0).numpy())
     / (torch.as_tensor(Xtr).std(0).numpy() + eps), "N - 1"),
    (lambda Xtr, X, eps: (X - Xtr.mean(0)) / np.sqrt(Xtr.var(0) + eps), "eps is inside the square root"),
    (lambda Xtr, X, eps: (X - Xtr.mean(0)) / (Xtr.var(0) + eps), "variance"),
    (lambda Xtr, X, eps: X / (Xtr.std(0) + eps), "mean M was not subtracted"),
    (lambda Xtr, X, eps: X - Xtr.mean(0), "did not divide"),
    (lambda Xtr, X, eps: (X - Xtr.mean()) / (Xtr.std() + eps), "one mean and one standard deviation"),
    (lambda Xtr, X, eps: (X - Xtr.mean((0, 2, 3), keepdims=True)) / (Xtr.std((0, 2, 3), keepdims=True) + eps),
     "per-channel"),
    (lambda Xtr, X, eps: (X - Xtr.mean(0)) / (Xtr.std((1, 2, 3), keepdims=True) + eps), "wrong axis"),
    (lambda Xtr, X, eps: (X - Xtr.mean((1, 2, 3), keepdims=True)) / (Xtr.std((1, 2, 3), keepdims=True) + eps),
     "per-image standardisation"),
    (lambda Xtr, X, eps: (X - Xtr.mean(0)) / (Xtr.std(-1, keepdims=True) + eps), "wrong axis"),
    (lambda Xtr, X, eps: (X - Xtr.mean(0)) / (Xtr.std(1, keepdims=True) + eps), "wrong axis"),
])
def test_whiten_names_the_mistake(fn, words):
    r = check_whiten(fn)
    assert r.status == "fail" and words in problem(r), str(r)


def test_whiten_without_eps_is_caught():
    with np.errstate(all="ignore"):
        r = check_whiten(lambda Xtr, X, eps: (X - Xtr.mean(0)) / Xtr.std(0))
    assert r.status == "fail" and "eps" in problem(r), str(r)


def test_whiten_cannot_cheat_by_modifying_the_training_images():
    def in_place(Xtr, X, eps):
        Xtr[...] = 0.0
        return whiten_right(X, X, eps)
    assert check_whiten(in_place).status == "fail"
    assert check_whiten(whiten_right).status == "pass"


# ------------------------------------------------------------------------------ pad and crop

def pad_crop_right(x, p, dy, dx):
    h, w = x.shape[2:]
    return np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))[:, :, dy:dy + h, dx:dx + w]


def pad_crop_torch(x, p, dy, dx):
    t = torch.nn.functional.pad(torch.as_tensor(x), (p, p, p, p))
    return t[:, :, dy:dy + x.shape[2], dx:dx + x.shape[3]]


def pad_crop_shift(x, p, dy, dx):
    # shift the image by (p - dy, p - dx) and fill with zeros: the same thing, without padding
    out = np.zeros_like(x)
    h, w = x.shape[2:]
    sy, sx = p - dy, p - dx
    out[:, :, max(sy, 0):h + min(sy, 0), max(sx, 0):w + min(sx, 0)] = \
        x[:, :, max(-sy, 0):h - max(sy, 0), max(-sx, 0):w - max(sx, 0)]
    return out


@pytest.mark.parametrize("fn", [pad_crop_right, pad_crop_torch, pad_crop_shift])
def test_pad_crop_passes(fn):
    r = check_pad_crop(fn)
    assert r.status == "pass", str(r)


@pytest.mark.parametrize("fn", [stub, ...])
def test_pad_crop_not_attempted(fn):
    assert check_pad_crop(fn).status == "not attempted"


def _pad(x, before, after, mode="constant"):
    return np.pad(x, ((0, 0), (0, 0), (before, after), (before, after)), mode=mode)


@pytest.mark.parametrize("fn, words", [
    (lambda x, p, dy, dx: _pad(x, p, p)[:, :, dx:dx + x.shape[2], dy:dy + x.shape[3]], "swapped"),
    (lambda x, p, dy, dx: _pad(x, 0, 2 * p)[:, :, dy:dy + x.shape[2], dx:dx + x.shape[3]], "bottom and right"),
    (lambda x, p, dy, dx: _pad(x, 2 * p, 0)[:, :, dy:dy + x.shape[2], dx:dx + x.shape[3]], "top and left"),
    (lambda x, p, dy, dx: _pad(x, p, p, "edge")[:, :, dy:dy + x.shape[2], dx:dx + x.shape[3]], "edge"),
    (lambda x, p, dy, dx: _pad(x, p, p, "reflect")[:, :, dy:dy + x.shape[2], dx:dx + x.shape[3]], "mirrors"),
    (lambda x, p, dy, dx: _pad(x, p, p)[:, :, dy + p:dy + p + x.shape[2], dx + p:dx + p + x.shape[3]],
     "*padded* image"),
    (lambda x, p, dy, dx: _pad(x, p, p)[:, :, dy:, dx:], "as large as the padded image"),
])
def test_pad_crop_names_the_mistake(fn, words):
    r = check_pad_crop(fn)
    assert r.status == "fail" and words in problem(r), str(r)


def test_pad_crop_forgetting_to_pad_fails():
    r = check_pad_crop(lambda x, p, dy, dx: x[:, :, dy:dy + x.shape[2], dx:dx + x.shape[3]])
    assert r.status == "fail"


# ------------------------------------------------------------------------------ eps experiment

@pytest.fixture
def eps_data():
    rng = np.random.default_rng(1)
    Xtr = rng.random((30, 1, 6, 6))
    Xtr[:, :, 0] = 0.0                             # constant border in training ...
    Xte = rng.random((10, 1, 6, 6))                # ... but not in the test images
    return Xtr, Xte, (1e-8, 1e-2, 1.0)


def _measure(Xtr, Xte, eps_values, fit_on=None):
    fit_on = Xtr if fit_on is None else fit_on
    return {e: float(np.abs(PixelWhitener(e).fit(fit_on).transform(Xte)).max()) for e in eps_values}


def test_eps_experiment_passes(eps_data):
    Xtr, Xte, eps = eps_data
    r = check_eps_experiment(_measure(Xtr, Xte, eps), Xtr, Xte, eps)
    assert r.status == "pass" and "1e+08" not in str(r), str(r)
    r = check_eps_experiment(_measure(Xtr, Xte, eps), torch.as_tensor(Xtr), torch.as_tensor(Xte), eps)
    assert r.status == "pass"


def test_eps_experiment_not_attempted(eps_data):
    assert check_eps_experiment(..., *eps_data).status == "not attempted"


def test_eps_experiment_names_the_mistakes(eps_data):
    Xtr, Xte, eps = eps_data
    leak = check_eps_experiment(_measure(Xtr, Xte, eps, fit_on=Xte), Xtr, Xte, eps)
    assert leak.status == "fail" and "fitted on the test images" in str(leak), str(leak)
    train = {e: float(np.abs(PixelWhitener(e).fit_transform(Xtr)).max()) for e in eps}
    r = check_eps_experiment(train, Xtr, Xte, eps)
    assert r.status == "fail" and "*training* images" in str(r), str(r)
    partial = _measure(Xtr, Xte, eps[:2])
    r = check_eps_experiment(partial, Xtr, Xte, eps)
    assert r.status == "fail" and "missing" in str(r)
    assert check_eps_experiment([1, 2, 3], Xtr, Xte, eps).status == "fail"
    wrong = {**_measure(Xtr, Xte, eps), 1.0: 123.0}
    r = check_eps_experiment(wrong, Xtr, Xte, eps)
    assert r.status == "fail" and "eps = 1" in str(r)
