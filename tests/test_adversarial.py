"""course_lib.adversarial against independent computations.

* A linear model's input gradient is known in closed form:
  d/dx CE(Wx + b, y) = W^T (softmax(Wx + b) - onehot(y)), so FGSM's result can be
  written down with NumPy and compared.
* The model's parameters, their .grad and its train/eval mode are unchanged.
* Clamping to [0, 1], the direction of targeted and untargeted steps, PGD with
  one step of size eps is FGSM, PGD stays in the eps-ball, random starts are seeded.
* The helpers (sweep, transfer rate and matrix, adversarial loader) against
  direct computations.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from course_lib.adversarial import (AdversarialLoader, TransferResult, adversarial_accuracy, adversarial_fit,
                                    epsilon_sweep, fgsm, input_gradient, pgd, transfer_matrix, transfer_rate)
from course_lib.training import TensorLoader


def _linear(d=12, k=4, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(d, k))


def _numpy_grad(model, x, y):
    """W^T (softmax(Wx + b) - onehot(y)) for each image, float64."""
    w = model[1].weight.detach().double().numpy()
    b = model[1].bias.detach().double().numpy()
    xf = x.reshape(len(x), -1).double().numpy()
    s = xf @ w.T + b
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y.numpy()] -= 1.0
    return (p @ w).reshape(x.shape)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("targeted", [False, True])
def test_fgsm_matches_closed_form_for_a_linear_model(seed, targeted):
    g = torch.Generator().manual_seed(seed)
    model = _linear(seed=seed)
    x = torch.rand(7, 1, 3, 4, generator=g)
    y = torch.randint(0, 4, (7,), generator=g)
    eps = [0.01, 0.1, 0.3, 0.5, 1.0][seed]
    grad = _numpy_grad(model, x, y)
    sign = -1.0 if targeted else 1.0
    expected = np.clip(x.double().numpy() + sign * eps * np.sign(grad), 0, 1)
    got = fgsm(model, x, y, eps, targeted=targeted)
    np.testing.assert_allclose(got.double().numpy(), expected, atol=1e-6)
    np.testing.assert_allclose(input_gradient(model, x, y).double().numpy(), grad, rtol=1e-4, atol=1e-6)


def test_binary_linear_sign_is_the_weight_sign():
    # two classes, score difference w . x: for label 0 the loss grows along sign(w1 - w0)
    model = _linear(d=6, k=2, seed=3)
    w = model[1].weight.detach()
    x = torch.full((1, 1, 2, 3), 0.5)
    got = fgsm(model, x, torch.tensor([0]), 0.1)
    expected = 0.5 + 0.1 * torch.sign(w[1] - w[0]).reshape(1, 1, 2, 3)
    assert torch.allclose(got, expected)


def test_fgsm_raises_the_loss_and_targeted_raises_the_target_probability():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5))
    x = torch.rand(20, 1, 6, 6) * 0.5 + 0.25
    y = torch.randint(0, 5, (20,))
    ce = nn.CrossEntropyLoss(reduction="none")
    with torch.no_grad():
        before = ce(model(x), y)
        after = ce(model(fgsm(model, x, y, 0.02)), y)
        target = (y + 1) % 5
        p0 = model(x).softmax(1)[torch.arange(20), target]
        p1 = model(fgsm(model, x, target, 0.02, targeted=True)).softmax(1)[torch.arange(20), target]
    assert (after > before).float().mean() > 0.9
    assert (p1 > p0).float().mean() > 0.9


def test_clamp_eps_bound_and_dtype():
    model = _linear(d=9, k=3)
    x = torch.tensor([0.0, 1.0, 0.5] * 3).reshape(1, 1, 3, 3).repeat(4, 1, 1, 1)
    y = torch.tensor([0, 1, 2, 0])
    for eps in [0.0, 0.2, 0.7, 2.0]:
        out = fgsm(model, x, y, eps)
        assert out.min() >= 0 and out.max() <= 1
        assert (out - x).abs().max() <= eps + 1e-7
        assert out.dtype == torch.float32 and out.shape == x.shape
    assert torch.equal(fgsm(model, x, y, 0.0), x)
    # uint8 images are read as /255
    u8 = (x * 255).round().to(torch.uint8)
    assert torch.allclose(fgsm(model, u8, y, 0.1), fgsm(model, u8.float() / 255, y, 0.1))


def test_model_state_parameters_and_grads_unchanged():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Dropout(0.5), nn.Flatten(),
                          nn.Linear(2 * 3 * 3, 3))
    x, y = torch.rand(5, 1, 5, 5), torch.randint(0, 3, (5,))
    model(x).sum().backward()                           # some existing .grad that must survive
    for mode in [True, False]:
        model.train(mode)
        state = {k: v.clone() for k, v in model.state_dict().items()}
        grads = [p.grad.clone() for p in model.parameters()]
        fgsm(model, x, y, 0.1)
        pgd(model, x, y, 0.1, steps=3, random_start=True)
        adversarial_accuracy(model, x, y, 0.1)
        assert model.training == mode
        for k, v in model.state_dict().items():
            assert torch.equal(v, state[k]), k            # BN running stats too
        for g, p in zip(grads, model.parameters()):
            assert torch.equal(g, p.grad)


def test_attack_uses_eval_mode():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(8, 8), nn.BatchNorm1d(8), nn.Linear(8, 3))
    model[2].running_mean.normal_()
    x, y = torch.rand(6, 1, 2, 4), torch.randint(0, 3, (6,))
    model.train()
    got = fgsm(model, x, y, 0.1)
    model.eval()
    assert torch.equal(got, fgsm(model, x, y, 0.1))


@pytest.mark.parametrize("seed", range(3))
def test_pgd_one_step_of_eps_is_fgsm(seed):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 3 * 3, 6))
    x, y = torch.rand(9, 3, 5, 5), torch.randint(0, 6, (9,))
    for targeted in [False, True]:
        a = pgd(model, x, y, 0.07, steps=1, step_size=0.07, targeted=targeted)
        b = fgsm(model, x, y, 0.07, targeted=targeted)
        assert torch.equal(a, b)


def test_pgd_stays_in_the_ball_is_stronger_and_seeded():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    x, y = torch.rand(30, 1, 6, 6), torch.randint(0, 3, (30,))
    for eps in [0.05, 0.2]:
        out = pgd(model, x, y, eps, steps=7, random_start=True, seed=3)
        assert (out - x).abs().max() <= eps + 1e-6 and out.min() >= 0 and out.max() <= 1
        assert torch.equal(out, pgd(model, x, y, eps, steps=7, random_start=True, seed=3))
        assert not torch.equal(out, pgd(model, x, y, eps, steps=7, random_start=True, seed=4))
    ce = nn.CrossEntropyLoss()
    with torch.no_grad():
        l_fgsm = ce(model(fgsm(model, x, y, 0.1)), y)
        l_pgd = ce(model(pgd(model, x, y, 0.1, steps=20, step_size=0.01)), y)
    assert l_pgd >= l_fgsm - 1e-6


def test_wong_fast_fgsm_is_pgd_with_random_start():
    """One step from a uniform start, step 1.25 eps, projected: computed by hand."""
    model = _linear(d=16, k=3, seed=2)
    x = torch.rand(5, 1, 4, 4, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 0, 1])
    eps = 0.1
    gen = torch.Generator().manual_seed(7)
    start = (x + (torch.rand(x.shape, generator=gen) * 2 - 1) * eps).clamp(0, 1)
    step = torch.from_numpy(np.sign(_numpy_grad(model, start, y))).float()
    expected = torch.min(torch.max(start + 1.25 * eps * step, x - eps), x + eps).clamp(0, 1)
    got = pgd(model, x, y, eps, steps=1, step_size=1.25 * eps, random_start=True, seed=7)
    assert torch.allclose(got, expected, atol=1e-6)


def test_works_inside_inference_mode():
    model = _linear()
    x, y = torch.rand(3, 1, 3, 4), torch.tensor([0, 1, 2])
    ref = fgsm(model, x, y, 0.1)
    with torch.inference_mode():
        xi = x.clone()                                    # an inference tensor
        got = fgsm(model, xi, y, 0.1)
    assert torch.equal(got, ref)


def test_batching_does_not_change_the_result():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 3 * 3, 4))
    x, y = torch.rand(11, 1, 5, 5), torch.randint(0, 4, (11,))
    assert torch.allclose(fgsm(model, x, y, 0.1, batch_size=3), fgsm(model, x, y, 0.1), atol=1e-7)
    assert torch.allclose(pgd(model, x, y, 0.1, batch_size=4, steps=3), pgd(model, x, y, 0.1, steps=3), atol=1e-6)


def test_accuracy_and_sweep_against_direct_counts():
    model = _linear(seed=5)
    x, y = torch.rand(40, 1, 3, 4), torch.randint(0, 4, (40,))
    with torch.no_grad():
        clean = float((model(x).argmax(1) == y).float().mean())
        adv = float((model(fgsm(model, x, y, 0.2)).argmax(1) == y).float().mean())
    assert adversarial_accuracy(model, x, y, 0.0) == pytest.approx(clean)
    assert adversarial_accuracy(model, x, y, 0.2) == pytest.approx(adv)
    sweep = epsilon_sweep(model, x, y, [0, 0.2, 0.5])
    assert list(sweep) == [0.0, 0.2, 0.5]
    assert sweep[0.0] == pytest.approx(clean) and sweep[0.2] == pytest.approx(adv)
    assert sweep[0.5] <= sweep[0.0]
    pgd_acc = adversarial_accuracy(model, x, y, 0.2, attack="pgd", steps=5)
    assert 0 <= pgd_acc <= 1


def test_transfer_rate_by_hand():
    # qualifying images: 0 and 1 (both right when clean, source fooled); target fooled on 1 only
    assert transfer_rate([0, 1, 2, 3], [0, 1, 2, 0], [5, 5, 2, 5], [0, 1, 2, 3], [0, 5, 2, 3]) == 0.5
    assert np.isnan(transfer_rate([1, 2], [1, 2], [1, 2], [1, 2], [0, 0]))
    assert transfer_rate(torch.tensor([3]), torch.tensor([3]), torch.tensor([1]), torch.tensor([3]),
                         torch.tensor([2])) == 1.0


def test_transfer_matrix_against_direct_computation():
    torch.manual_seed(0)
    nets = {"a": _linear(seed=1), "b": _linear(seed=2),
            "c": nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 2 * 3, 4))}
    x, y = torch.rand(50, 1, 3, 4), torch.randint(0, 4, (50,))
    r = transfer_matrix(nets, x, y, 0.3)
    assert isinstance(r, TransferResult) and r.names == ["a", "b", "c"] and r.n == 50
    with torch.no_grad():
        for i, src in enumerate(nets.values()):
            xa = fgsm(src, x, y, 0.3)
            for j, tgt in enumerate(nets.values()):
                acc = float((tgt(xa).argmax(1) == y).float().mean())
                assert r.accuracy[i, j] == pytest.approx(acc)
                rate = transfer_rate(y, src(x).argmax(1), src(xa).argmax(1), tgt(x).argmax(1), tgt(xa).argmax(1))
                assert (np.isnan(rate) and np.isnan(r.rate[i, j])) or r.rate[i, j] == pytest.approx(rate)
            assert r.clean[i] == pytest.approx(float((src(x).argmax(1) == y).float().mean()))
    assert "made on" in r.table() and "%" in r.table("rate")


def test_adversarial_loader_and_fit():
    torch.manual_seed(0)
    model = _linear(d=16, k=2)
    x = torch.rand(24, 1, 4, 4)
    y = (x.mean(dim=(1, 2, 3)) > 0.5).long()
    base = TensorLoader(x, y, 8, device="cpu")
    loader = AdversarialLoader(base, model, 0.1, seed=3)
    batches = list(loader)
    assert len(batches) == len(loader) == 3
    for (xa, ya), (xb, yb) in zip(batches, base):
        assert torch.equal(ya, yb) and (xa - xb).abs().max() <= 0.1 + 1e-6
    assert torch.equal(batches[0][0], pgd(model, x[:8], y[:8], 0.1, steps=1, step_size=0.125, random_start=True,
                                          seed=3))
    # a second epoch draws new random starts
    assert not torch.equal(next(iter(loader))[0], batches[0][0])
    before = [p.clone() for p in model.parameters()]
    h = adversarial_fit(model, base, base, eps=0.1, epochs=2, device="cpu", progress=False,
                        optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert len(h.train_loss) == 2 and len(h.val_top1) == 2
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


@pytest.mark.parametrize("call,err", [
    (lambda m, x, y: fgsm("model", x, y, 0.1), TypeError),
    (lambda m, x, y: fgsm(m, x.numpy(), y, 0.1), TypeError),
    (lambda m, x, y: fgsm(m, x[0], y, 0.1), ValueError),
    (lambda m, x, y: fgsm(m, x * 255, y, 0.1), ValueError),
    (lambda m, x, y: fgsm(m, x, y[:2], 0.1), ValueError),
    (lambda m, x, y: fgsm(m, x, y.float(), 0.1), TypeError),
    (lambda m, x, y: fgsm(m, x, y, -0.1), ValueError),
    (lambda m, x, y: fgsm(m, x, y, "0.1"), TypeError),
    (lambda m, x, y: fgsm(m, x, y, 0.1, targeted="yes"), TypeError),
    (lambda m, x, y: pgd(m, x, y, 0.1, steps=0), ValueError),
    (lambda m, x, y: adversarial_accuracy(m, x, y, 0.1, attack="cw"), ValueError),
    (lambda m, x, y: epsilon_sweep(m, x, y, []), ValueError),
    (lambda m, x, y: transfer_matrix({"a": m}, x, y, 0.1), ValueError),
    (lambda m, x, y: transfer_rate([0, 1], [0], [0], [0], [0]), ValueError),
    (lambda m, x, y: AdversarialLoader(3, m, 0.1), TypeError),
])
def test_bad_input_is_rejected_with_a_named_parameter(call, err):
    m = _linear()
    x, y = torch.rand(3, 1, 3, 4), torch.tensor([0, 1, 2])
    with pytest.raises(err):
        call(m, x, y)
