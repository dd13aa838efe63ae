"""Exercise checks of the speedrun chapter: right answers in every form pass, plausible wrong ones are named,
and the prediction is never given away."""
from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
import torch

from conftest import stub
from course_lib.exercises import core
from course_lib.exercises import speedrun as ex
from course_lib.exercises.speedrun import (check_alternating_flips, check_lr_multiplier, check_seed_spread,
                                           check_steps_per_run, check_whitening_matrix)


@pytest.fixture(autouse=True)
def fresh_hints():
    core.reset_hints()


def text(r) -> str:
    return str(r)


def all_hints(check, answer, n=4) -> str:
    """Every graded hint the check gives for a wrong answer (fail repeatedly, then ask for more)."""
    out = [line for _ in range(n) for line in check(answer).details if line.startswith("hint:")]
    out.append(core.hint(core._key(check(answer).exercise)))
    return "\n".join(out)


# ----------------------------------------------------------------------------- 18.1
def _centred_cov(p, ddof=0):
    x = p - p.mean(axis=0)
    return x.T @ x / (len(x) - ddof)


def pca(p):
    lam, u = np.linalg.eigh(_centred_cov(p))
    return u.T / np.sqrt(lam)[:, None]


def zca(p):
    lam, u = np.linalg.eigh(np.cov(p, rowvar=False))                 # unbiased covariance: also accepted
    return u @ np.diag(lam ** -0.5) @ u.T


def rotated_pca(p):
    q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(p.shape[1], p.shape[1])))
    return q @ pca(p)


def cholesky(p):
    return np.linalg.inv(np.linalg.cholesky(_centred_cov(p)))


def torch_float32(p):
    t = torch.from_numpy(p).float()
    x = t - t.mean(0)
    lam, u = torch.linalg.eigh(x.T @ x / len(x))
    return (u / lam.sqrt()).T


def nested_list_float32(p):
    x = p.astype(np.float32)
    x = x - x.mean(0)
    lam, u = np.linalg.eigh(x.T @ x / np.float32(len(x)))
    return (u.T / np.sqrt(lam)[:, None]).tolist()


@pytest.mark.parametrize("fn", [pca, zca, rotated_pca, cholesky, torch_float32, nested_list_float32])
def test_whitening_accepts_every_whitening_matrix(fn):
    r = check_whitening_matrix(fn)
    assert r.passed, text(r)


def _eig(p, second_moment=False):
    c = p.T @ p / len(p) if second_moment else _centred_cov(p)
    return np.linalg.eigh(c)


def no_mean(p):
    lam, u = _eig(p, second_moment=True)
    return u.T / np.sqrt(lam)[:, None]


def one_over_lambda(p):
    lam, u = _eig(p)
    return u.T / lam[:, None]


def one_over_lambda_zca(p):
    lam, u = _eig(p)
    return u @ np.diag(1 / lam) @ u.T


def transposed(p):
    lam, u = _eig(p)
    return u / np.sqrt(lam)[None, :]


def per_patch_mean(p):
    x = p - p.mean(axis=1, keepdims=True)
    lam, u = np.linalg.eigh(x.T @ x / len(x))
    with np.errstate(all="ignore"):
        return u.T / np.sqrt(lam)[:, None]


def standardise(p):
    return np.diag(1 / p.std(axis=0))


def rotation_only(p):
    return _eig(p)[1].T


def with_eps(p):
    lam, u = _eig(p)
    return u.T / np.sqrt(lam + 5e-4)[:, None]


def not_averaged(p):
    x = p - p.mean(axis=0)
    lam, u = np.linalg.eigh(x.T @ x)
    return u.T / np.sqrt(lam)[:, None]


def calls_patch_whitener(p):
    from course_lib.whitening import PatchWhitener
    return PatchWhitener(eps=0.0, kind="pca").fit(p).matrix_


@pytest.mark.parametrize("fn, words", [
    (no_mean, "subtract the mean"), (one_over_lambda, "divided by its variance"),
    (one_over_lambda_zca, "inverse covariance"), (transposed, "transposed"),
    (lambda p: np.cov(p, rowvar=False), "covariance matrix C itself"),
    (lambda p: np.linalg.inv(np.cov(p, rowvar=False)), "inverse covariance"),
    (per_patch_mean, "NaN or inf"), (standardise, "still correlated"), (rotation_only, "does not rescale"),
    (with_eps, "eps = 0"), (not_averaged, "normalised"),
    (lambda p: (p - p.mean(0)) @ pca(p).T, "whitened patches themselves"),
    (lambda p: np.cov(p), "between *patches*"), (lambda p: np.eye(p.shape[1] + 1), "expected"),
    (lambda p: None, "return"), (calls_patch_whitener, "PatchWhitener"),
])
def test_whitening_names_mistakes(fn, words):
    r = check_whitening_matrix(fn)
    assert r.status == core.FAIL and words in text(r), text(r)


def test_whitening_forbids_the_library_filters():
    from course_lib.speedrun import whitening_filters

    def via_filters(p):
        w, _ = whitening_filters(torch.from_numpy(p.reshape(len(p), -1, 1, 1)), 1, eps=0.0)
        return w[:p.shape[1]].reshape(p.shape[1], -1).double()
    r = check_whitening_matrix(via_filters)
    assert r.status == core.FAIL and "whitening_filters" in text(r), text(r)


def test_whitening_tolerance_separates_the_mistakes_on_every_case():
    """Each named mistake is far outside the tolerance on every case, and the n - 1 covariance well inside it."""
    for case in ex._whitening_cases():
        data, p = case.expected, case.args[0]
        assert ex._whitening_problem(pca(p), data) is None
        w = np.linalg.inv(np.linalg.cholesky(_centred_cov(p, ddof=1)))
        assert ex._deviation(w @ data.cov @ w.T)[0] < ex._WHITE_TOL / 5
        for wrong in (no_mean, one_over_lambda, transposed, standardise):
            m = np.asarray(wrong(p)) @ data.cov @ np.asarray(wrong(p)).T
            assert ex._deviation(m)[0] > 10 * ex._WHITE_TOL, (case.name, wrong.__name__)


# ----------------------------------------------------------------------------- 18.2
@pytest.mark.parametrize("answer", [476, np.int64(476), np.array(476), 476.0, torch.tensor(476), [476],
                                    math.ceil((50_000 // 1024) * 9.9)])
def test_steps_accepts_every_form(answer):
    assert check_steps_per_run(answer).passed


@pytest.mark.parametrize("answer, words", [
    (486, "incomplete last batch"), (485, "incomplete last batch"), (485.1, "incomplete last batch"),
    (475, "rounded down"), (475.2, "rounds the total up"), (480, "10 full epochs"), (490, "10 full epochs"),
    (432, "9 full epochs"), (484, "at once"), (483, "at once"), (483.4, "at once"), (495_000, "counts images"),
    (477, "count the full batches"), ("476", "number"), (True, "number")])
def test_steps_names_mistakes_without_the_answer(answer, words):
    r = check_steps_per_run(answer)
    assert r.status == core.FAIL and words in text(r), text(r)
    assert "476" not in text(r).replace(f"got:      {answer!r}", "")


def test_steps_never_shows_the_answer_in_hints_or_success():
    assert "476" not in text(check_steps_per_run(476))
    assert "476" not in all_hints(check_steps_per_run, 480)
    assert all("476" not in text(check_steps_per_run(480)) for _ in range(4))


def test_steps_truth_is_the_library_rule():
    from course_lib.speedrun import AugmentedLoader
    x = torch.zeros(2050, 1, 4, 4)
    loader = AugmentedLoader(x, torch.zeros(2050, dtype=torch.long), 1024, flip="none", translate=0)
    assert len(loader) == ex._batches_per_epoch(2050, 1024, True) == 2
    assert ex._batches_per_epoch(2050, 1024, False) == 3


# ----------------------------------------------------------------------------- 18.3
def good_schedule(step, total_steps):
    warm = max(1, int(0.23 * total_steps))
    if step < warm:
        return 0.2 + 0.8 * step / warm
    return 1.0 - 0.93 * (step - warm) / (total_steps - warm)


def interp_schedule(step, total_steps):
    warm = max(1, int(0.23 * total_steps))
    return np.interp(step, [0, warm, total_steps], [0.2, 1.0, 0.07])


def make_schedule(start=0.2, end=0.07, warm=lambda t: max(1, int(0.23 * t)), top=lambda w: w,
                  decay_len=lambda t, w: t - w, shift=0):
    def f(step, total):
        s = step + shift
        w = warm(total)
        if s < w:
            return start + (1 - start) * s / top(w)
        return 1 + (end - 1) * (s - w) / decay_len(total, w)
    return f


@pytest.mark.parametrize("fn", [good_schedule, interp_schedule,
                                lambda s, t: np.float32(good_schedule(s, t)),
                                lambda s, t: torch.tensor(good_schedule(s, t), dtype=torch.float32)])
def test_schedule_accepts_correct_versions(fn):
    r = check_lr_multiplier(fn)
    assert r.passed, text(r)


@pytest.mark.parametrize("fn, words", [
    (make_schedule(start=0.0), "starts at 0"), (make_schedule(end=0.0), "goes down to 0"),
    (lambda s, t: 1 - 0.93 * s / t, "no warm-up"),
    (make_schedule(warm=lambda t: max(1, math.ceil(0.23 * t))), "lasts 3 steps"),
    (make_schedule(warm=lambda t: max(1, round(0.23 * t))), "lasts 12 steps"),
    (make_schedule(warm=lambda t: 0.23 * t), "not a whole number"),
    (make_schedule(warm=lambda t: int(0.23 * t)), "at least one step"),
    (make_schedule(top=lambda w: max(1, w - 1)), "one step early"),
    (make_schedule(decay_len=lambda t, w: max(1, t - w - 1)), "at the last step"),
    (make_schedule(shift=1), "one step ahead"),
    (lambda s, t: 0.0014648 * good_schedule(s, t), "learning rate itself"),
    (lambda s, t: 1.0, "no schedule"), (lambda s, t: None, "return"), (lambda s, t: "0.2", "one number"),
])
def test_schedule_names_mistakes(fn, words):
    r = check_lr_multiplier(fn)
    assert r.status == core.FAIL and words in text(r), text(r)


def test_schedule_points_at_the_first_differing_step():
    r = check_lr_multiplier(make_schedule(warm=lambda t: max(1, math.ceil(0.23 * t))))
    assert "step 1 of a 10-step run" in text(r) and "f(1, 10)" in text(r), text(r)
    unknown = lambda s, t: good_schedule(s, t) + (0.01 if (s, t) == (300, 476) else 0.0)   # noqa: E731
    r = check_lr_multiplier(unknown)
    assert "step 300 of a 476-step run" in text(r) and "first step where" in text(r), text(r)


def test_schedule_forbids_the_library():
    from course_lib.speedrun import _lr_multiplier
    r = check_lr_multiplier(lambda s, t: _lr_multiplier("warmup_decay", s, t))
    assert r.status == core.FAIL and "_lr_multiplier" in text(r), text(r)


def test_schedule_cases_follow_the_library_on_every_step():
    from course_lib.speedrun import _lr_multiplier
    cases = ex._schedule_cases()
    assert len(cases) == sum(ex._TOTALS)
    for c in cases:
        assert float(c.expected) == _lr_multiplier("warmup_decay", *c.args)


# ----------------------------------------------------------------------------- 18.4
def good_flips(first, epoch):
    return np.asarray(first, dtype=bool) ^ (epoch % 2 == 1)


@pytest.mark.parametrize("fn", [good_flips, lambda f, e: (np.asarray(f).astype(int) + e) % 2,
                                lambda f, e: [bool(x) != bool(e % 2) for x in f],
                                lambda f, e: torch.from_numpy(f) ^ bool(e % 2),
                                lambda f, e: np.where(e % 2 == 1, ~f, f),
                                lambda f, e: np.logical_xor(f, e % 2).astype(np.float32)])
def test_flips_accepts_every_form(fn):
    r = check_alternating_flips(fn)
    assert r.passed, text(r)


def in_place(first, epoch):
    first ^= (epoch % 2 == 1)
    return first


@pytest.mark.parametrize("fn, words", [
    (lambda f, e: f, "same flips in every epoch"), (lambda f, e: np.ones_like(f) if e % 2 else f, "every image"),
    (lambda f, e: f ^ (e % 2 == 0), "swapped"), (lambda f, e: f ^ ((e + 1) % 2 == 1), "swapped"),
    (in_place, "in place"), (lambda f, e: np.random.random(len(f)) < 0.5, "different flips"),
    (lambda f, e: np.random.default_rng(e).random(len(f)) < 0.5, "images are right"),
    (lambda f, e: np.zeros_like(f), "no image"), (lambda f, e: good_flips(f, e)[None], "shape"),
    (lambda f, e: good_flips(f, e) * 2, "True/False"),
])
def test_flips_names_mistakes(fn, words):
    r = check_alternating_flips(fn)
    assert r.status == core.FAIL and words in text(r), text(r)


def test_flips_forbids_the_loader_and_matches_it():
    from course_lib.speedrun import AugmentedLoader
    r = check_alternating_flips(lambda f, e: ex._library_flips(f, e))
    assert r.status == core.FAIL and "AugmentedLoader" in text(r), text(r)
    # the truth is the loader's own sequence of flips over its epochs
    x = torch.zeros(6, 1, 4, 4)
    loader = AugmentedLoader(x, torch.arange(6), 3, flip="alternating", translate=0, seed=2)
    first = loader._first_flip.numpy().copy()
    for epoch in range(4):
        assert np.array_equal(loader._flips().numpy(), ex._library_flips(first, epoch))
        assert np.array_equal(ex._library_flips(first, epoch), good_flips(first, epoch))
        list(loader)


# ----------------------------------------------------------------------------- 18.5
ACC = [93.12, 93.47, 92.98, 93.3, 93.21]
M, S1, S0 = statistics.mean(ACC), statistics.stdev(ACC), statistics.pstdev(ACC)


@pytest.mark.parametrize("mean, std, acc", [
    (M, S1, ACC), (round(M, 2), round(S1, 2), ACC), (np.float32(M), torch.tensor(S1), ACC),
    (np.array(M), np.array(S1), np.array(ACC)), (np.mean(ACC[:3]), np.std(ACC[:3], ddof=1), ACC[:3]),
    (M / 100, S1 / 100, [a / 100 for a in ACC]), (M, S1, torch.tensor(ACC))])
def test_seed_spread_accepts_every_form(mean, std, acc):
    r = check_seed_spread(mean, std, acc)
    assert r.passed, text(r)


@pytest.mark.parametrize("mean, std, words", [
    (M, S0, "n - 1"), (M, S1 ** 2, "variance"), (S1, M, "swapped"), (93.0, 0.5, "another list"),
    (float(np.median(ACC)), S1, "median"), (M, S1 / math.sqrt(5), "standard error"), (M / 100, S1 / 100, "percent"),
    (round(M, 1), round(S1, 1), "rounded too much"), (M, "0.18", "one number"), (M, float("nan"), "finite"),
    (M, np.ptp(ACC), "range")])
def test_seed_spread_names_mistakes(mean, std, words):
    r = check_seed_spread(mean, std, ACC)
    assert r.status == core.FAIL and words in text(r), text(r)
    for value in (M, S1):
        assert f"{value:.2f}" not in text(r).replace(f"{mean}", "").replace(f"{std}", "")


@pytest.mark.parametrize("acc", [None, "seed_accuracies", [93.1], [], {"a": 1}, [[93.1, 93.2]],
                                 [93.1, float("nan")], ["93.1", "93.2"]])
def test_seed_spread_needs_the_notebook_list(acc):
    r = check_seed_spread(M, S1, acc)
    assert r.status == core.FAIL and "seed_accuracies" in text(r), text(r)


def test_seed_spread_passed_message_shows_no_numbers():
    r = check_seed_spread(M, S1, ACC)
    assert f"{M:.2f}" not in text(r) and f"{S1:.2f}" not in text(r)


# ----------------------------------------------------------------------------- all
def test_stubs_are_not_attempted():
    assert check_steps_per_run(...).status == core.NOT_ATTEMPTED
    for check in (check_whitening_matrix, check_lr_multiplier, check_alternating_flips):
        assert check(stub).status == core.NOT_ATTEMPTED
        assert check(...).status == core.NOT_ATTEMPTED
    assert check_seed_spread(..., ..., ACC).status == core.NOT_ATTEMPTED
    assert check_seed_spread(M, ..., ACC).status == core.NOT_ATTEMPTED


@pytest.mark.parametrize("check, answer, number", [
    (check_whitening_matrix, stub, "18.1"), (check_steps_per_run, ..., "18.2"), (check_lr_multiplier, stub, "18.3"),
    (check_alternating_flips, stub, "18.4")])
def test_titles_follow_the_convention(check, answer, number):
    assert text(check(answer)).startswith(f"[NOT ATTEMPTED YET] Exercise {number}: ")
    assert "(S18." in text(check(answer))
    assert text(check_seed_spread(..., ..., ACC)).startswith("[NOT ATTEMPTED YET] Exercise 18.5: ")


@pytest.mark.parametrize("check, wrong", [(check_whitening_matrix, transposed), (check_lr_multiplier, lambda s, t: 1.0),
                                          (check_alternating_flips, lambda f, e: f),
                                          (check_steps_per_run, 480)])
def test_hints_hold_no_solution_code(check, wrong):
    hints = all_hints(check, wrong)
    assert "hint:" in hints
    for code in ("np.", "torch.", "lambda", "return ", "eigh(", "** -0.5", "^ (", "math.ceil", "// 1024"):
        assert code not in hints, code


def test_every_check_is_decorated_for_the_fuzz_test():
    for name in ex.__all__:
        assert getattr(ex, name).__fuzz__["answers"], name
