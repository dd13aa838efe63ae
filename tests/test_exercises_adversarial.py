"""The adversarial-examples exercise checks: right answers in any form pass, stubs are "not attempted",
plausible wrong answers fail and the message names the mistake (without printing a prediction's answer)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.adversarial import epsilon_sweep, fgsm, transfer_rate
from course_lib.exercises import reset_hints
from course_lib.exercises.adversarial import (_transfer_cases, check_fgsm, check_linear_change, check_projection,
                                              check_sweep_experiment, check_transfer_rate, sweep_truth)
from course_lib.exercises.core import FAIL, NOT_ATTEMPTED, PASS


@pytest.fixture(autouse=True)
def _fresh_hints():
    reset_hints()


def _stub(*args, **kwargs):
    raise NotImplementedError("Exercise: replace this line with your code")


def _grad(model, x, y, train=False, reduction="mean"):
    was = model.training
    model.train(train)
    x = x.clone().requires_grad_(True)
    loss = F.cross_entropy(model(x), y, reduction=reduction)
    (g,) = torch.autograd.grad(loss, x)
    model.train(was)
    return g


def good_fgsm(model, x, y, eps):
    return (x + eps * _grad(model, x, y).sign()).clamp(0, 1)


def good_fgsm_numpy_float64(model, x, y, eps):
    g = _grad(model, x, y, reduction="sum").double().numpy()
    return np.clip(x.double().numpy() + eps * np.sign(g), 0.0, 1.0)


def good_fgsm_backward(model, x, y, eps):
    was = model.training
    model.eval()
    x = x.clone().requires_grad_(True)
    F.cross_entropy(model(x), y).backward()
    model.zero_grad(set_to_none=True)         # the parameters had no .grad before
    model.train(was)
    return torch.clamp(x + eps * x.grad.sign(), 0.0, 1.0).detach()


def test_fgsm_accepts_correct_forms():
    for fn in (good_fgsm, good_fgsm_numpy_float64, good_fgsm_backward):
        r = check_fgsm(fn)
        assert r.status == PASS, str(r)
    assert check_fgsm(_stub).status == NOT_ATTEMPTED
    assert check_fgsm(...).status == NOT_ATTEMPTED


@pytest.mark.parametrize("wrong,words", [
    (lambda m, x, y, e: (x - e * _grad(m, x, y).sign()).clamp(0, 1), "wrong way"),
    (lambda m, x, y, e: x + e * _grad(m, x, y).sign(), "clamped"),
    (lambda m, x, y, e: (x + e * _grad(m, x, y)).clamp(0, 1), "sign"),
    (lambda m, x, y, e: (x + e * _grad(m, x, y, train=m.training).sign()).clamp(0, 1), "training mode"),
    (lambda m, x, y, e: (m.eval(), good_fgsm(m, x, y, e))[1], "mode"),
])
def test_fgsm_names_mistakes(wrong, words):
    r = check_fgsm(wrong)
    assert r.status == FAIL and words in str(r), str(r)


def test_fgsm_parameter_grads_must_be_left_alone():
    def leaves_grads(m, x, y, e):
        was = m.training
        m.eval()
        x = x.clone().requires_grad_(True)
        F.cross_entropy(m(x), y).backward()
        m.train(was)
        return (x + e * x.grad.sign()).clamp(0, 1).detach()
    r = check_fgsm(leaves_grads)
    assert r.status == FAIL and ".grad" in str(r)


def test_fgsm_forbids_the_library():
    r = check_fgsm(lambda m, x, y, e: fgsm(m, x, y, e))
    assert r.status == FAIL and "fgsm" in str(r)


def test_linear_change_prediction():
    assert check_linear_change((0.784, 3.072)).status == PASS
    assert check_linear_change([0.784, 3.0720001]).status == PASS
    assert check_linear_change(np.array([0.784, 3.072])).status == PASS
    assert check_linear_change(...).status == NOT_ATTEMPTED
    for wrong, words in [((0.028, 0.1 * 0.01 * 3072 ** 0.5), "L2"), ((0.001, 0.001), "one pixel"),
                         ((78.4, 307.2), "weights are missing"), ((0.0, 0.0), "cancel")]:
        r = check_linear_change(wrong)
        assert r.status == FAIL and words in str(r), str(r)
        assert "0.784" not in str(r) and "3.072" not in str(r)
    assert "0.784" not in str(check_linear_change((0.784, 3.072)))


def good_rate(y, sc, sa, tc, ta):
    keep = (sc == y) & (tc == y) & (sa != y)
    return float((ta[keep] != y[keep]).mean()) if keep.any() else float("nan")


def test_transfer_rate_passes_and_names_mistakes():
    assert check_transfer_rate(good_rate).status == PASS
    assert check_transfer_rate(lambda y, sc, sa, tc, ta: np.mean(ta[(sc == y) & (tc == y) & (sa != y)] !=
                                                              y[(sc == y) & (tc == y) & (sa != y)])).status == PASS
    assert check_transfer_rate(lambda *a: torch.tensor(good_rate(*a))).status == PASS
    assert check_transfer_rate(_stub).status == NOT_ATTEMPTED
    cases = [(lambda y, sc, sa, tc, ta: float((ta != y).mean()), "all the attacked images"),
             (lambda y, sc, sa, tc, ta: float((ta[(sc == y) & (tc == y)] != y[(sc == y) & (tc == y)]).mean()),
              "did not fool the source"),
             (lambda y, sc, sa, tc, ta: 1 - good_rate(y, sc, sa, tc, ta), "still gets right"),
             (lambda y, sc, sa, tc, ta: good_rate(y, sc, sa, tc, ta) if not np.isnan(good_rate(y, sc, sa, tc, ta))
              else 0.0, "nan")]
    for fn, words in cases:
        r = check_transfer_rate(fn)
        assert r.status == FAIL and words in str(r), str(r)
    r = check_transfer_rate(lambda y, sc, sa, tc, ta: transfer_rate(y, sc, sa, tc, ta))
    assert r.status == FAIL and "transfer_rate" in str(r)


def test_transfer_cases_have_distinct_expected_values():
    cases = _transfer_cases()
    assert len({np.asarray(c.expected, dtype=np.float64).tobytes() for c in cases}) == len(cases)


def _sweep_setup():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))
    x = torch.rand(60, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    y = model(x).argmax(1).detach()
    y[:10] = (y[:10] + 1) % 3
    return model, x, y


def test_sweep_experiment():
    model, x, y = _sweep_setup()
    truth = sweep_truth(model, x, y)
    assert check_sweep_experiment(truth, model, x, y).status == PASS
    as_np = {k: np.float32(v) for k, v in truth.items()}
    assert check_sweep_experiment(as_np, model, x, y).status == PASS
    assert check_sweep_experiment({0.0: ..., 0.05: ..., 0.1: ..., 0.2: ...}, model, x, y).status == NOT_ATTEMPTED
    r = check_sweep_experiment({k: 1 - v for k, v in truth.items()}, model, x, y)
    assert r.status == FAIL and "error rates" in str(r)
    r = check_sweep_experiment({k: 100 * v for k, v in truth.items()}, model, x, y)
    assert r.status == FAIL and "percent" in str(r)
    wrong_way = {e: a for e, a in epsilon_sweep(model, x, y, [0.0, 0.05, 0.1, 0.2],
                                                attack=lambda m, i, l, e, **k: fgsm(m, i, l, e, targeted=True)).items()}
    r = check_sweep_experiment(wrong_way, model, x, y)
    assert r.status == FAIL
    r = check_sweep_experiment({"0.0": 1, "0.05": 1, "0.1": 1, "0.2": 1}, model, x, y)
    assert r.status == FAIL and "keys" in str(r)
    passed = str(check_sweep_experiment(truth, model, x, y))
    assert f"{truth[0.1]:.3f}" not in passed


def good_projection(xa, x, eps):
    return torch.clamp(torch.min(torch.max(xa, x - eps), x + eps), 0, 1)


def test_projection_passes_and_names_mistakes():
    assert check_projection(good_projection).status == PASS
    assert check_projection(lambda xa, x, eps: np.clip(np.clip(xa.numpy(), x.numpy() - eps, x.numpy() + eps),
                                                       0, 1)).status == PASS
    assert check_projection(lambda xa, x, eps: torch.clamp(xa, x - eps, x + eps).clamp(0, 1)).status == PASS
    assert check_projection(_stub).status == NOT_ATTEMPTED
    for fn, words in [(lambda xa, x, eps: torch.min(torch.max(xa, x - eps), x + eps), "[0, 1]"),
                      (lambda xa, x, eps: xa.clamp(0, 1), "within eps"),
                      (lambda xa, x, eps: (x + eps * torch.sign(xa - x)).clamp(0, 1), "edge of the box"),
                      (lambda xa, x, eps: torch.min(torch.max(x, xa - eps), xa + eps).clamp(0, 1), "centred")]:
        r = check_projection(fn)
        assert r.status == FAIL and words in str(r), str(r)
