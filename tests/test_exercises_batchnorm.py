"""Exercise checks of the batch-norm chapter: right answers in every form pass, plausible wrong ones are named,
and predictions are never given away."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import stub
from course_lib.exercises import core
from course_lib.exercises.batchnorm import (check_batch_mean_spread, check_bias_shift, check_bn_forward,
                                            check_bn_statistics_count, check_fold, check_running_update)


@pytest.fixture(autouse=True)
def fresh_hints():
    core.reset_hints()


def text(r) -> str:
    return str(r)


# ----------------------------------------------------------------------------- 10.1
@pytest.mark.parametrize("answer", [(16, 6272), [16, 6272.0], np.array([16, 6272]), (np.int64(16), 32 * 196)])
def test_statistics_count_accepts_every_form(answer):
    assert check_bn_statistics_count(answer).passed


@pytest.mark.parametrize("answer, words", [((16, 32), "spatial positions"), ((3136, 32), "fully connected"),
                                           ((512, 196), "instance"), ((32, 3136), "layer normalisation"),
                                           ((1, 100352), "single mean")])
def test_statistics_count_names_mistakes_without_the_answer(answer, words):
    r = check_bn_statistics_count(answer)
    assert r.status == core.FAIL and words in text(r)
    assert "6272" not in text(r) and "6,272" not in text(r)


# ----------------------------------------------------------------------------- 10.2
def good_forward(x, gamma, beta, eps):
    m = x.mean(axis=(0, 2, 3), keepdims=True)
    v = ((x - m) ** 2).mean(axis=(0, 2, 3), keepdims=True)
    return (x - m) / np.sqrt(v + eps) * gamma[None, :, None, None] + beta[None, :, None, None]


def torch_forward(x, gamma, beta, eps):
    t = torch.from_numpy(x).float()
    m = t.mean(dim=(0, 2, 3), keepdim=True)
    v = t.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    return ((t - m) / torch.sqrt(v + eps)) * torch.from_numpy(gamma).float().view(1, -1, 1, 1) \
        + torch.from_numpy(beta).float().view(1, -1, 1, 1)


def loop_forward(x, gamma, beta, eps):
    out = np.zeros_like(x, dtype=np.float32)
    for c in range(x.shape[1]):
        vals = x[:, c].ravel()
        mean = sum(vals) / len(vals)
        var = sum((v - mean) ** 2 for v in vals) / len(vals)
        out[:, c] = (x[:, c] - mean) / (var + eps) ** 0.5 * gamma[c] + beta[c]
    return out


@pytest.mark.parametrize("fn", [good_forward, torch_forward, loop_forward])
def test_bn_forward_accepts_correct_versions(fn):
    assert check_bn_forward(fn).passed


def per_position(x, g, b, eps):
    m, v = x.mean(axis=0, keepdims=True), x.var(axis=0, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * g[None, :, None, None] + b[None, :, None, None]


def unbiased(x, g, b, eps):
    m, v = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), ddof=1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * g[None, :, None, None] + b[None, :, None, None]


def eps_outside(x, g, b, eps):
    m, s = x.mean(axis=(0, 2, 3), keepdims=True), x.std(axis=(0, 2, 3), keepdims=True)
    return (x - m) / (s + eps) * g[None, :, None, None] + b[None, :, None, None]


def instance(x, g, b, eps):
    m, v = x.mean(axis=(2, 3), keepdims=True), x.var(axis=(2, 3), keepdims=True)
    return (x - m) / np.sqrt(v + eps) * g[None, :, None, None] + b[None, :, None, None]


def no_affine(x, g, b, eps):
    m, v = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
    return (x - m) / np.sqrt(v + eps)


def calls_torch(x, g, b, eps):
    return torch.nn.functional.batch_norm(torch.from_numpy(x), None, None, torch.from_numpy(g),
                                          torch.from_numpy(b), training=True, eps=eps).numpy()


def calls_library(x, g, b, eps):
    from course_lib.batchnorm import batch_norm
    return batch_norm(x, None, None, g, b, training=True, eps=eps)


@pytest.mark.parametrize("fn, words", [(per_position, "per position"), (unbiased, "m - 1"),
                                       (eps_outside, "under the square root"), (instance, "instance"),
                                       (no_affine, "gamma and beta are not applied"),
                                       (calls_torch, "batch_norm"), (calls_library, "batch_norm")])
def test_bn_forward_names_mistakes(fn, words):
    r = check_bn_forward(fn)
    assert r.status == core.FAIL and words in text(r), text(r)


# ----------------------------------------------------------------------------- 10.3
def good_update(rm, rv, x, mom):
    m = x.size // x.shape[1]
    bm = x.mean(axis=(0, 2, 3))
    bv = x.var(axis=(0, 2, 3)) * m / (m - 1)
    return (1 - mom) * rm + mom * bm, (1 - mom) * rv + mom * bv


def in_place_update(rm, rv, x, mom):
    bm, bv = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3), ddof=1)
    rm *= 1 - mom
    rm += mom * bm
    rv *= 1 - mom
    rv += mom * bv
    return [torch.from_numpy(rm), rv]


@pytest.mark.parametrize("fn", [good_update, in_place_update])
def test_running_update_accepts_correct_versions(fn):
    assert check_running_update(fn).passed


def biased_update(rm, rv, x, mom):
    return (1 - mom) * rm + mom * x.mean(axis=(0, 2, 3)), (1 - mom) * rv + mom * x.var(axis=(0, 2, 3))


def decay_update(rm, rv, x, mom):
    return mom * rm + (1 - mom) * x.mean(axis=(0, 2, 3)), mom * rv + (1 - mom) * x.var(axis=(0, 2, 3), ddof=1)


@pytest.mark.parametrize("fn, words", [(biased_update, "unbiased"), (decay_update, "momentum weighs the new batch"),
                                       (lambda rm, rv, x, m: rm, "pair")])
def test_running_update_names_mistakes(fn, words):
    r = check_running_update(fn)
    assert r.status == core.FAIL and words in text(r), text(r)


# ----------------------------------------------------------------------------- 10.4
def good_fold(w, b, rm, rv, g, beta, eps):
    s = g / np.sqrt(rv + eps)
    return w * s[:, None, None, None], (b - rm) * s + beta


def einsum_fold(w, b, rm, rv, g, beta, eps):
    s = torch.from_numpy(g / np.sqrt(rv + eps)).float()
    return torch.einsum("oihw,o->oihw", torch.from_numpy(w).float(), s), torch.from_numpy(b - rm).float() * s \
        + torch.from_numpy(beta).float()


@pytest.mark.parametrize("fn", [good_fold, einsum_fold])
def test_fold_accepts_correct_versions(fn):
    assert check_fold(fn).passed


@pytest.mark.parametrize("fn, words", [
    (lambda w, b, rm, rv, g, beta, eps: (w * (g / np.sqrt(rv + eps))[:, None, None, None],
                                         b * g / np.sqrt(rv + eps) + beta), "running mean"),
    (lambda w, b, rm, rv, g, beta, eps: (w * (g / np.sqrt(rv + eps))[:, None, None, None],
                                         (b - rm) * g / np.sqrt(rv + eps)), "beta is missing"),
    (lambda w, b, rm, rv, g, beta, eps: (w * (g / (rv + eps))[:, None, None, None],
                                         (b - rm) * g / (rv + eps) + beta), "standard deviation"),
    (lambda w, b, rm, rv, g, beta, eps: (w * (g / np.sqrt(rv))[:, None, None, None],
                                         (b - rm) * g / np.sqrt(rv) + beta), "eps is left out"),
    (lambda w, b, rm, rv, g, beta, eps: w, "pair"),
])
def test_fold_names_mistakes(fn, words):
    r = check_fold(fn)
    assert r.status == core.FAIL and words in text(r), text(r)


def test_fold_forbids_the_library():
    from course_lib.batchnorm import fold_batch_norm_weights
    r = check_fold(lambda *a: fold_batch_norm_weights(*a[:6], eps=a[6]))
    assert r.status == core.FAIL and "fold_batch_norm_weights" in text(r)


# ----------------------------------------------------------------------------- 10.5
@pytest.mark.parametrize("answer", [(0, 3), (0.0, 3.0), np.array([0, 3]), [1e-9, 3.0000001]])
def test_bias_shift_accepts_every_form(answer):
    assert check_bias_shift(answer).passed


@pytest.mark.parametrize("answer, words", [((3, 3), "training mode"), ((0, 0), "evaluation mode"),
                                           ((0, 1.5), "sqrt"), ((0, 6), "sqrt(running_var)")])
def test_bias_shift_names_mistakes_without_the_answer(answer, words):
    r = check_bias_shift(answer)
    assert r.status == core.FAIL and words in text(r), text(r)
    assert "(0, 3)" not in text(r) and "3.0)" not in text(r)


# ----------------------------------------------------------------------------- 10.6
def measured(values, sizes=(2, 8, 32), draws=3000, seed=0):
    rng = np.random.default_rng(seed)
    return {b: float(np.std([rng.choice(values, b, replace=False).mean() for _ in range(draws)])) for b in sizes}


def test_batch_mean_spread_accepts_a_real_measurement():
    values = np.random.default_rng(1).exponential(2.0, size=4000)
    assert check_batch_mean_spread(measured(values), values).passed
    assert check_batch_mean_spread({**measured(values), "note": "extra"}, torch.from_numpy(values)).passed


def test_batch_mean_spread_rejects_wrong_measurements():
    values = np.random.default_rng(1).normal(0, 2.0, size=4000)
    good = measured(values)
    assert "variance" in text(check_batch_mean_spread({b: v ** 2 for b, v in good.items()}, values))
    assert "single values" in text(check_batch_mean_spread({2: 2.0 / np.sqrt(2), 8: 2.01, 32: 1.99}, values))
    assert "larger batches" in text(check_batch_mean_spread({2: 0.1, 8: 0.3, 32: 0.9}, values))
    assert "off by more" in text(check_batch_mean_spread({2: 0.5, 8: 0.25, 32: 0.1}, values))
    assert check_batch_mean_spread({2: ..., 8: ..., 32: ...}, values).status == core.NOT_ATTEMPTED


def test_stubs_are_not_attempted():
    for check in (check_bn_statistics_count, check_bias_shift):
        assert check(...).status == core.NOT_ATTEMPTED
    for check in (check_bn_forward, check_running_update, check_fold):
        assert check(stub).status == core.NOT_ATTEMPTED
