"""The style-transfer exercise checks: right answers in any form pass, stubs are "not attempted",
plausible wrong answers fail and the message names the mistake (without printing the answer)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.exercises import reset_hints
from course_lib.exercises.core import FAIL, NOT_ATTEMPTED, PASS
from course_lib.exercises.style import (check_gram_matrix, check_gram_prediction, check_shift_experiment,
                                        check_style_loss, check_total_loss, shift_experiment_truth)
from course_lib.style import FeatureExtractor, content_loss, gram_matrix, style_loss, style_net


@pytest.fixture(autouse=True)
def _fresh_hints():
    reset_hints()


def _stub(*args, **kwargs):
    raise NotImplementedError("Exercise: replace this line with your code")


def _gram(a):
    n, c, h, w = a.shape
    f = a.reshape(n, c, h * w)
    return f @ f.transpose(0, 2, 1)


def test_gram_matrix_accepts_correct_forms():
    assert check_gram_matrix(_gram).status == PASS
    assert check_gram_matrix(lambda a: torch.einsum("nkij,nlij->nkl", torch.tensor(a), torch.tensor(a))).status == PASS
    assert check_gram_matrix(lambda a: _gram(a.astype(np.float32))).status == PASS
    assert check_gram_matrix(_stub).status == NOT_ATTEMPTED


@pytest.mark.parametrize("wrong,words", [
    (lambda a: _gram(a) / (a.shape[2] * a.shape[3]), "average"),
    (lambda a: np.einsum("nkp,nkq->npq", a.reshape(*a.shape[:2], -1), a.reshape(*a.shape[:2], -1)), "positions"),
    (lambda a: _gram(a)[0], "batch axis"),
])
def test_gram_matrix_names_mistakes(wrong, words):
    r = check_gram_matrix(wrong)
    assert r.status == FAIL and words in str(r)


def test_gram_matrix_forbids_the_library():
    r = check_gram_matrix(lambda a: gram_matrix(a).numpy())
    assert r.status == FAIL and "gram_matrix" in str(r)


def _style(g, s):
    _, k, i, j = g.shape
    return float(((_gram(g) - _gram(s)) ** 2).sum()) / (2 * i * j * k) ** 2


def test_style_loss_passes_and_names_mistakes():
    assert check_style_loss(_style).status == PASS
    assert check_style_loss(lambda g, s: np.float32(_style(g, s))).status == PASS
    assert check_style_loss(lambda g, s: torch.tensor(_style(g, s))).status == PASS
    cases = {
        "missing": lambda g, s: float(((_gram(g) - _gram(s)) ** 2).sum()),
        "the 2 in": lambda g, s: _style(g, s) * 4,
        "not squared": lambda g, s: _style(g, s) * 2 * g[0].size,
        "generated image": lambda g, s: _style(g, s) * (g.shape[2] * g.shape[3]) ** 2 / (s.shape[2] * s.shape[3]) ** 2,
        "garbled": lambda g, s: float(((np.diagonal(_gram(g)[0]) - np.diagonal(_gram(s)[0])) ** 2).sum())
        / (2 * g[0].size) ** 2,
    }
    for words, wrong in cases.items():
        r = check_style_loss(wrong)
        assert r.status == FAIL and words in str(r), (words, str(r))
    r = check_style_loss(lambda g, s: float(style_loss(torch.tensor(g), torch.tensor(s))))
    assert r.status == FAIL and "style_loss" in str(r)


def test_gram_prediction():
    assert check_gram_prediction((1, 64, 64), 2080, channels=64, height=24, width=24).status == PASS
    assert check_gram_prediction(np.array([1, 64, 64]), 2080.0, channels=64, height=24, width=24).status == PASS
    assert check_gram_prediction(..., ..., channels=64, height=24, width=24).status == NOT_ATTEMPTED
    r = check_gram_prediction((1, 64, 64), 4096, channels=64, height=24, width=24)
    assert r.status == FAIL and "symmetric" in str(r) and "2080" not in str(r)
    r = check_gram_prediction((1, 576, 576), 2080, channels=64, height=24, width=24)
    assert r.status == FAIL and "positions" in str(r) and "(1, 64, 64)" not in str(r)
    r = check_gram_prediction((1, 64, 64), 2016, channels=64, height=24, width=24)
    assert "diagonal" in str(r)


def _total(f, c, s, alpha, lambdas):
    return (alpha * sum(content_loss(f[k], c[k]) for k in c)
            + sum(lambdas[k] * style_loss(f[k], s[k]) for k in s))


def test_total_loss():
    assert check_total_loss(_total).status == PASS
    assert check_total_loss(lambda *a: float(_total(*a))).status == PASS
    assert check_total_loss(_stub).status == NOT_ATTEMPTED
    r = check_total_loss(lambda f, c, s, alpha, lam: _total(f, c, s, 1.0, {k: 1.0 for k in lam}))
    assert r.status == FAIL and "weights are missing" in str(r)
    r = check_total_loss(lambda f, c, s, alpha, lam: _total(f, c, s, alpha, {k: 1.0 for k in lam}))
    assert "lambda_l" in str(r)
    r = check_total_loss(lambda f, c, s, alpha, lam: _total(f, {}, s, alpha, lam))
    assert "content loss is missing" in str(r)


def test_shift_experiment():
    ext = FeatureExtractor(style_net(seed=0), ["relu2_1"])
    img = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    truth = shift_experiment_truth(ext, img)
    assert truth["gram"] < truth["features"]
    assert check_shift_experiment(truth, ext, img).status == PASS
    assert check_shift_experiment({"features": np.float32(truth["features"]), "gram": torch.tensor(truth["gram"])},
                                  ext, img).status == PASS
    # the student-edition stub dict: nothing measured yet
    assert check_shift_experiment({"features": ..., "gram": ...}, ext, img).status == NOT_ATTEMPTED
    assert check_shift_experiment({"features": ..., "gram": 0.1}, ext, img).status == FAIL
    assert check_shift_experiment(..., ext, img).status == NOT_ATTEMPTED
    r = check_shift_experiment({"features": truth["gram"], "gram": truth["features"]}, ext, img)
    assert r.status == FAIL and "swapped" in str(r)
    r = check_shift_experiment({"features": 0.5, "gram": 0.5}, ext, img)
    assert r.status == FAIL and "dims=-1" in str(r)
