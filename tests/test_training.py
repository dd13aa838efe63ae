"""Training helpers: device, seeding, TensorLoader, top-k errors, fit and evaluate (CPU, tiny)."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch import nn

from course_lib import (History, TensorLoader, count_parameters, evaluate, fit, get_device,
                        seed_everything, topk_errors)


def assert_same(a: torch.Tensor, b: torch.Tensor, **kw) -> None:
    """Values and shape equal (np.testing: torch.testing drags in torch._dynamo, seconds)."""
    assert a.shape == b.shape
    np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().cpu().numpy(), **kw)


def test_get_device_is_cpu_here():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert get_device() == torch.device("cpu") or get_device().type == "mps"
    assert get_device("cpu") == torch.device("cpu")
    with pytest.raises(TypeError, match=r"^prefer must be a device name"):
        get_device(0)


def test_seed_everything_makes_everything_reproducible():
    def draw():
        g = seed_everything(123)
        return (random.random(), np.random.rand(), torch.rand(3).tolist(),
                torch.rand(2, generator=g).tolist(), nn.Linear(3, 2).weight.tolist())
    a, b = draw(), draw()
    assert a == b
    seed_everything(124)
    assert torch.rand(3).tolist() != a[2]
    g = seed_everything(5)
    assert isinstance(g, torch.Generator) and g.initial_seed() == 5


@pytest.mark.parametrize("seed, exc, match", [(-1, ValueError, r"^seed must be >= 0"),
                                              (True, TypeError, r"^seed must be an int"),
                                              (1.5, TypeError, r"^seed must be an int")])
def test_seed_everything_rejects_bad_seed(seed, exc, match):
    with pytest.raises(exc, match=match):
        seed_everything(seed)


# ----------------------------------------------------------------------------- TensorLoader
def test_loader_batches_in_order_and_scales_uint8():
    x = torch.arange(10 * 4, dtype=torch.uint8).reshape(10, 1, 2, 2)
    y = torch.arange(10)
    loader = TensorLoader(x, y, batch_size=4, device="cpu")
    assert len(loader) == 3
    batches = list(loader)
    assert [len(yb) for _, yb in batches] == [4, 4, 2]
    xs = torch.cat([xb for xb, _ in batches])
    assert xs.dtype == torch.float32
    assert_same(xs, x.float() / 255.0)
    assert_same(torch.cat([yb for _, yb in batches]), y)
    assert x.dtype == torch.uint8 and int(x.max()) == 39     # the stored data is not modified
    # float images pass through unscaled
    xf = torch.randn(5, 1, 2, 2, dtype=torch.float64)
    (xb, _), = list(TensorLoader(xf, torch.zeros(5), batch_size=8, device="cpu"))
    assert xb.dtype == torch.float32
    assert_same(xb, xf.float())


def test_loader_shuffle_is_a_deterministic_permutation_per_epoch():
    x = torch.arange(20, dtype=torch.float32).reshape(20, 1, 1, 1)
    y = torch.arange(20)

    def epochs(seed, n=3):
        loader = TensorLoader(x, y, batch_size=6, shuffle=True, device="cpu", seed=seed)
        return [torch.cat([yb for _, yb in loader]).tolist() for _ in range(n)]

    a, b = epochs(0), epochs(0)
    assert a == b                                              # same seed, same orders
    for order in a:
        assert sorted(order) == list(range(20))               # every example once per epoch
    assert a[0] != a[1] != a[2]                               # reshuffled every epoch
    assert a[0] != list(range(20))
    assert epochs(1)[0] != a[0]
    assert epochs(1)[0] == a[1]                               # epoch e uses seed + e
    # images and labels stay paired
    loader = TensorLoader(x, y, batch_size=6, shuffle=True, device="cpu")
    for xb, yb in loader:
        assert_same(xb.flatten(), yb.float())


def test_loader_transform_gets_float_batches_and_generator():
    seen = []

    def transform(xb, g):
        seen.append((xb.dtype, isinstance(g, torch.Generator)))
        return xb * 2
    x = torch.full((4, 1, 2, 2), 255, dtype=torch.uint8)
    out = [xb for xb, _ in TensorLoader(x, torch.zeros(4), 2, device="cpu", transform=transform)]
    assert seen == [(torch.float32, True)] * 2
    assert all(torch.all(xb == 2.0) for xb in out)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(images=torch.zeros(4, 2, 2)), ValueError, r"^images must be a 4D torch tensor"),
    (dict(images=np.zeros((4, 1, 2, 2))), ValueError, r"^images must be a 4D torch tensor"),
    (dict(labels=torch.zeros(3)), ValueError, r"^labels must be a 1D torch tensor with 4"),
    (dict(labels=torch.zeros(4, 1)), ValueError, r"^labels must be a 1D"),
    (dict(batch_size=0), ValueError, r"^batch_size must be >= 1"),
    (dict(batch_size=True), TypeError, r"^batch_size must be an int"),
    (dict(batch_size=2.0), TypeError, r"^batch_size must be an int"),
    (dict(seed=-1), ValueError, r"^seed must be >= 0"),
])
def test_loader_rejects_bad_arguments(kwargs, exc, match):
    args = dict(images=torch.zeros(4, 1, 2, 2), labels=torch.zeros(4), batch_size=2, device="cpu")
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        TensorLoader(**args)


# ----------------------------------------------------------------------------- top-k
def _manual_topk(logits: np.ndarray, labels: np.ndarray, k: int) -> int:
    errors = 0
    for row, label in zip(logits, labels):
        # rank of the true class: how many scores beat it (distinct random scores, no ties)
        rank = int((row > row[label]).sum())
        errors += rank >= k
    return errors


def test_topk_errors_matches_a_manual_count():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((200, 10))
    labels = rng.integers(0, 10, 200)
    got = topk_errors(torch.from_numpy(logits), torch.from_numpy(labels), ks=(1, 2, 5, 10, 20))
    assert got == {k: _manual_topk(logits, labels, min(k, 10)) for k in (1, 2, 5, 10, 20)}
    assert got[10] == 0 and got[20] == 0                   # k >= number of classes: never wrong
    assert got[1] >= got[2] >= got[5]
    assert topk_errors(torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.3]]), torch.tensor([1, 2]),
                       ks=(1, 2)) == {1: 1, 2: 0}


def test_topk_errors_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"^logits must be \(N, K\) and labels \(N,\)"):
        topk_errors(torch.zeros(4), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"^logits must be \(N, K\) and labels \(N,\)"):
        topk_errors(torch.zeros(4, 3), torch.zeros(5, dtype=torch.long))


# ----------------------------------------------------------------------------- fit / evaluate
def _separable(n=128, seed=0):
    """Two classes told apart, with a margin, by one pixel: dark (class 0) or bright (class 1)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, 1, 4, 4), dtype=torch.uint8, generator=g)
    y = torch.randint(0, 2, (n,), generator=g)
    x[:, 0, 1, 2] = torch.where(y == 1, 230, 25).to(torch.uint8)
    return x, y


def test_fit_learns_a_separable_problem_and_evaluate_agrees():
    seed_everything(0)
    x, y = _separable()
    train = TensorLoader(x, y, batch_size=16, shuffle=True, device="cpu")
    val = TensorLoader(x, y, batch_size=50, device="cpu")
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    before = evaluate(model, val, device="cpu")
    assert before["n"] == 128 and set(before) == {"loss", "top1", "top5", "n"}
    calls = []
    h = fit(model, train, val, epochs=15, lr=0.05, device="cpu", progress=False,
            on_epoch_end=lambda hist: calls.append(len(hist.epoch)))
    after = evaluate(model, val, device="cpu")
    assert isinstance(h, History)
    assert h.epoch == list(range(1, 16)) and calls == list(range(1, 16))
    assert h.steps == [8 * e for e in range(1, 16)]
    assert len(h.train_loss) == len(h.val_loss) == 15
    assert h.train_loss[-1] < h.train_loss[0]
    assert h.train_top1[-1] < h.train_top1[0]
    assert after["loss"] < before["loss"] and after["top1"] < before["top1"]
    assert after["top1"] == 0.0                                  # it is separable
    assert h.val_top1[-1] == pytest.approx(after["top1"])
    assert h.val_loss[-1] == pytest.approx(after["loss"], rel=1e-5)
    assert all(v == 0 for v in h.train_top5)                    # 2 classes: top-5 never wrong
    assert set(h.as_dict()) == {"epoch", "train_loss", "train_top1", "train_top5", "val_loss",
                                "val_top1", "val_top5", "steps"}


def test_evaluate_loss_is_the_mean_cross_entropy():
    seed_everything(1)
    x, y = _separable(40)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    r = evaluate(model, TensorLoader(x, y, batch_size=7, device="cpu"))
    with torch.no_grad():
        logits = model(x.float() / 255)
    assert r["loss"] == pytest.approx(float(nn.functional.cross_entropy(logits, y)), rel=1e-6)
    assert r["top1"] == pytest.approx(topk_errors(logits, y, ks=(1,))[1] / 40)
    # a mean-reduced loss function gives the same number
    r2 = evaluate(model, TensorLoader(x, y, batch_size=7, device="cpu"), nn.CrossEntropyLoss())
    assert r2["loss"] == pytest.approx(r["loss"], rel=1e-6)
    assert model.training                                          # train mode restored


def test_fit_max_steps_and_reproducibility():
    def run():
        seed_everything(3)
        x, y = _separable(64)
        model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
        h = fit(model, TensorLoader(x, y, 8, shuffle=True, device="cpu"), epochs=5, max_steps=11,
                device="cpu", progress=False)
        return h, model[1].weight.detach().clone()
    (h1, w1), (h2, w2) = run(), run()
    assert h1.steps == [8, 11] and h1.epoch == [1, 2]
    assert h1.train_loss == h2.train_loss
    assert_same(w1, w2, rtol=0, atol=0)


def test_count_parameters():
    model = nn.Sequential(nn.Conv2d(3, 10, 5), nn.Flatten(), nn.Linear(10, 4))
    assert count_parameters(model) == 760 + 44
    model[0].weight.requires_grad_(False)                      # frozen weights do not count
    assert count_parameters(model) == 10 + 44


@pytest.mark.parametrize("call", [
    lambda: count_parameters("model"),
    lambda: evaluate(object(), []),
    lambda: fit(lambda x: x, []),
])
def test_model_must_be_a_module(call):
    with pytest.raises(TypeError, match=r"^model must be a torch.nn.Module"):
        call()


def test_fit_and_evaluate_reject_bad_arguments():
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"^epochs must be >= 1"):
        fit(model, [], epochs=0, device="cpu")
    with pytest.raises(TypeError, match=r"^epochs must be an int"):
        fit(model, [], epochs=True, device="cpu")
    with pytest.raises(ValueError, match=r"^max_steps must be >= 1"):
        fit(model, [], max_steps=0, device="cpu")
    with pytest.raises(ValueError, match=r"loader yielded no batches"):
        evaluate(model, [], device="cpu")


# ----------------------------------------------------------------------------- speed options, predict, checkpoints
from course_lib.training import (BestCheckpoint, SpeedSettings, fastest_settings, predict,  # noqa: E402
                                 train_step_throughput)


def _tiny_conv():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))


def test_channels_last_gives_the_same_training():
    x = torch.randint(0, 256, (16, 1, 8, 8), dtype=torch.uint8)
    y = torch.randint(0, 3, (16,))
    runs = []
    for cl in (False, True):
        model = _tiny_conv()
        h = fit(model, TensorLoader(x, y, 8, shuffle=True, device="cpu"), TensorLoader(x, y, 8, device="cpu"),
                epochs=2, device="cpu", progress=False, channels_last=cl,
                optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
        runs.append((h, model))
    (h1, m1), (h2, m2) = runs
    np.testing.assert_allclose(h1.train_loss, h2.train_loss, rtol=1e-5)
    np.testing.assert_allclose(h1.val_loss, h2.val_loss, rtol=1e-5)
    for a, b in zip(m1.parameters(), m2.parameters()):
        assert_same(a, b, rtol=1e-5, atol=1e-6)


def test_bf16_autocast_runs_and_stays_close():
    x = torch.randint(0, 256, (8, 1, 8, 8), dtype=torch.uint8)
    model = _tiny_conv().eval()
    full = predict(model, x)
    half = predict(model, x, bf16=True)
    assert half.dtype == torch.float32 and half.shape == (8, 3)
    assert_same(full, half, rtol=0.05, atol=0.05)


def test_predict_matches_model_and_restores_mode():
    x = torch.randint(0, 256, (7, 1, 8, 8), dtype=torch.uint8)
    model = _tiny_conv().train()
    out = predict(model, x, batch_size=3)
    assert model.training
    assert_same(out, model.eval()(x.float() / 255), rtol=1e-6, atol=1e-6)
    assert_same(predict(model, x.float() / 255, channels_last=True), out, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="^images must be a 4D torch tensor"):
        predict(model, x[0])
    with pytest.raises(ValueError, match="^batch_size must be >= 1"):
        predict(model, x, batch_size=0)


def test_evaluate_uses_inference_mode():
    seen = []
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 10))
    model.register_forward_hook(lambda m, i, o: seen.append(torch.is_inference_mode_enabled()))
    x = torch.zeros(4, 1, 2, 2, dtype=torch.uint8)
    evaluate(model, TensorLoader(x, torch.zeros(4, dtype=torch.long), 2, device="cpu"), device="cpu")
    assert seen and all(seen)


def test_throughput_and_fastest_settings():
    rate = train_step_throughput(_tiny_conv(), (1, 8, 8), batch_size=4, steps=2, warmup=1, device="cpu",
                                 channels_last=True)
    assert rate > 0
    best, rates = fastest_settings(_tiny_conv, (1, 8, 8), batch_size=4, steps=1, device="cpu",
                                   candidates=[SpeedSettings(False, False), SpeedSettings(True, False)])
    assert set(rates) == {SpeedSettings(False, False), SpeedSettings(True, False)}
    assert rates[best] == max(rates.values())
    assert best.kwargs() == {"channels_last": best.channels_last, "bf16": best.bf16}
    assert str(SpeedSettings(True, True)) == "channels-last, bfloat16 autocast"
    with pytest.raises(TypeError, match="^build must be a function"):
        fastest_settings(3, (1, 8, 8))
    with pytest.raises(ValueError, match="^optimizer must be 'sgd' or 'adam'"):
        train_step_throughput(_tiny_conv(), (1, 8, 8), optimizer="rmsprop")


def test_best_checkpoint_keeps_the_lowest_validation_error():
    model = nn.Linear(2, 2)
    best = BestCheckpoint(model)
    with pytest.raises(ValueError, match="no checkpoint yet"):
        best.restore()
    with torch.no_grad():
        model.weight.fill_(1.0)
    best({"epoch": [1], "val_top1": [0.3]})
    with torch.no_grad():
        model.weight.fill_(2.0)
    best({"epoch": [1, 2], "val_top1": [0.3, 0.4]})
    assert best.epoch == 1 and best.val_top1 == 0.3
    best.restore()
    assert float(model.weight[0, 0]) == 1.0
    with pytest.raises(ValueError, match="needs validation errors"):
        best({"epoch": [1], "val_top1": []})
    with pytest.raises(TypeError, match="^model must be"):
        BestCheckpoint("m")
