"""course_lib.speedrun (chapter 18): whitening filters, the augmenting loader, test-time augmentation,
the learning-rate schedule, the configuration, the network and tiny deterministic training runs.

Every vectorised piece is compared with a loop-based reference written here from the docstrings
(patches gathered position by position, images padded with NumPy and cut with slices).
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from conftest import scaled
from course_lib.speedrun import (AugmentedLoader, ChannelNormalize, ConvGroup, SpeedrunConfig, SpeedrunResult,
                                 _lr_multiplier, init_whitening_, predict_tta, speedrun_net, train_speedrun,
                                 tta_accuracy, whitening_filters)


# ============================================================================ whitening_filters
def _patches_loop(images: torch.Tensor, k: int) -> torch.Tensor:
    """Every k x k patch, flattened in (C, k, k) order, one patch position at a time: (P, C k^2)."""
    n, c, h, w = images.shape
    rows = []
    for i in range(h - k + 1):
        for j in range(w - k + 1):
            rows.append(images[:, :, i:i + k, j:j + k].reshape(n, c * k * k))
    return torch.cat(rows).double()


def _whitening_reference(images: torch.Tensor, k: int, kind: str, eps: float):
    """Mean, covariance, eigenvalues (largest first) and whitening matrix, straight from the definition."""
    p = _patches_loop(images, k)
    mean = p.mean(0)
    cov = (p - mean).T @ (p - mean) / len(p)
    lam, u = torch.linalg.eigh(cov)
    lam, u = lam.flip(0), u.flip(1)                          # largest variance first
    pca = torch.diag(1.0 / torch.sqrt(lam + eps)) @ u.T
    matrix = u @ pca if kind == "zca" else pca
    return mean, cov, lam, matrix


def _images(n, c, h, w, seed):
    """Correlated, differently scaled channels (distinct covariance eigenvalues)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, h, w, generator=g, dtype=torch.float64)
    x = x + 0.6 * x.roll(1, dims=3) + 0.3 * x.roll(1, dims=2)          # neighbouring pixels correlate
    mix = torch.randn(c, c, generator=g, dtype=torch.float64) + 2 * torch.eye(c, dtype=torch.float64)
    return torch.einsum("dc,nchw->ndhw", mix, x) + torch.arange(c, dtype=torch.float64).view(1, c, 1, 1)


def _whitened(images, w, b):
    d = w.shape[0] // 2
    y = F.conv2d(images.double(), w[:d].double(), b[:d].double())     # (N, D, H', W')
    return y.permute(0, 2, 3, 1).reshape(-1, d)


@pytest.mark.parametrize("kind", ["pca", "zca"])
@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("c", [1, 3])
def test_whitening_filters_whiten_every_patch(kind, k, c):
    x = _images(12, c, 7, 8, seed=10 * k + c)
    w, b = whitening_filters(x.float(), k, kind=kind, eps=0.0)
    d = c * k * k
    assert w.shape == (2 * d, c, k, k) and b.shape == (2 * d,)
    assert w.dtype == torch.float32 and b.dtype == torch.float32
    y = _whitened(x.float(), w, b)
    np.testing.assert_allclose(y.mean(0).numpy(), 0.0, atol=1e-4)
    np.testing.assert_allclose(torch.cov(y.T, correction=0).reshape(d, d).numpy(), np.eye(d), atol=2e-4)
    # the second half is exactly the negative of the first
    assert torch.equal(w[d:], -w[:d]) and torch.equal(b[d:], -b[:d])


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("c", [1, 3])
@pytest.mark.parametrize("eps", [0.0, 0.05])
def test_whitening_filters_agree_with_the_definition(k, c, eps):
    x = _images(10, c, 6, 7, seed=100 + k + c).float()
    d = c * k * k
    for kind in ("pca", "zca"):
        mean, cov, lam, matrix = _whitening_reference(x, k, kind, eps)
        w, b = whitening_filters(x, k, kind=kind, eps=eps)
        got = w[:d].reshape(d, d).double()
        if kind == "pca":
            # eigenvectors are defined up to sign: align each row with the reference first
            sign = torch.sign((got * matrix).sum(1))
            assert (sign != 0).all()
            got, bias = got * sign[:, None], b[:d].double() * sign
            # PCA filters come largest variance first: the variance along filter i decreases with i
            u = got / got.norm(dim=1, keepdim=True)
            var = torch.einsum("id,de,ie->i", u, cov, u)
            assert (var[1:] <= var[:-1] * (1 + 1e-5)).all()
            np.testing.assert_allclose(var.numpy(), lam.numpy(), rtol=1e-4, atol=1e-7)
        else:
            bias = b[:d].double()
            np.testing.assert_allclose(got.numpy(), got.T.numpy(), atol=1e-5 * float(got.abs().max()))
        scale = float(matrix.abs().max())
        np.testing.assert_allclose(got.numpy(), matrix.numpy(), atol=1e-5 * scale)
        np.testing.assert_allclose(bias.numpy(), (-(matrix @ mean)).numpy(), atol=1e-5 * scale * (1 + c))


@settings(max_examples=scaled(25))
@given(n=st.integers(2, 8), c=st.sampled_from([1, 2, 3]), h=st.integers(3, 9), w=st.integers(3, 9),
       k=st.integers(1, 3), kind=st.sampled_from(["pca", "zca"]), seed=st.integers(0, 2 ** 16))
def test_whitening_filters_random_shapes(n, c, h, w, k, kind, seed):
    x = _images(n, c, h, w, seed).float()
    d = c * k * k
    assume(n * (h - k + 1) * (w - k + 1) >= 4 * d)   # enough patches for a well-conditioned covariance
    wt, b = whitening_filters(x, k, kind=kind, eps=0.0)
    y = _whitened(x, wt, b)
    _, _, lam, _ = _whitening_reference(x, k, kind, 0.0)
    tol = 2e-4 * float(lam[0] / lam[-1]) ** 0.5      # float32 filters: the error grows with the condition
    np.testing.assert_allclose(y.mean(0).numpy(), 0.0, atol=tol)
    np.testing.assert_allclose(torch.cov(y.T, correction=0).reshape(d, d).numpy(), np.eye(d), atol=tol)


def test_whitening_filters_eps_shrinks_the_small_directions():
    x = _images(10, 3, 8, 8, seed=1).float()
    y0 = _whitened(x, *whitening_filters(x, 2, eps=0.0))
    y1 = _whitened(x, *whitening_filters(x, 2, eps=1.0))
    _, _, lam, _ = _whitening_reference(x, 2, "pca", 1.0)
    v0, v1 = y0.var(0, unbiased=False), y1.var(0, unbiased=False)
    np.testing.assert_allclose(v0.numpy(), 1.0, atol=1e-3)
    np.testing.assert_allclose(v1.numpy(), (lam / (lam + 1.0)).numpy(), rtol=1e-3)


@pytest.mark.parametrize("images, kwargs, err, match", [
    (torch.zeros(2, 3, 8, 8, dtype=torch.int64), {}, ValueError, "images"),
    (torch.zeros(2, 3, 8, 8, dtype=torch.uint8), {}, ValueError, "images"),
    (torch.zeros(3, 8, 8), {}, ValueError, "images"),
    (np.zeros((2, 3, 8, 8)), {}, ValueError, "images"),
    (torch.randn(2, 3, 4, 5), {"kernel_size": 5}, ValueError, "kernel_size"),
    (torch.randn(2, 3, 4, 5), {"kernel_size": 0}, ValueError, "kernel_size"),
    (torch.randn(2, 3, 4, 5), {"kernel_size": 2.0}, TypeError, "kernel_size"),
    (torch.randn(2, 3, 4, 5), {"kind": "foo"}, ValueError, "kind"),
    (torch.randn(2, 3, 4, 5), {"eps": -1.0}, ValueError, "eps"),
])
def test_whitening_filters_reject_bad_input(images, kwargs, err, match):
    with pytest.raises(err, match=match):
        whitening_filters(images, **kwargs)


# ============================================================================ AugmentedLoader
def _augment_reference(images: torch.Tensor, idx, flips, shifts, r: int) -> torch.Tensor:
    """Per image: reflection-pad by r (NumPy), cut the window at the shift, mirror it if asked.

    This is the docstring's rule: output pixel (i, j) reads padded pixel (i + r + dy, j' + r + dx),
    j' = W - 1 - j when flipped, i.e. the shifted window is mirrored (shift, then flip).
    """
    h, w = images.shape[2:]
    out = []
    for b in range(len(idx)):
        img = images[int(idx[b])].numpy()
        padded = np.pad(img, ((0, 0), (r, r), (r, r)), mode="reflect")
        dy, dx = int(shifts[b, 0]), int(shifts[b, 1])
        window = torch.from_numpy(padded[:, r + dy:r + dy + h, r + dx:r + dx + w].copy())
        out.append(torch.flip(window, dims=[-1]) if bool(flips[b]) else window)
    return torch.stack(out)


@settings(max_examples=scaled(40))
@given(n=st.integers(1, 6), c=st.integers(1, 3), h=st.integers(2, 9), w=st.integers(2, 9),
       b=st.integers(1, 8), r_frac=st.floats(0, 1), seed=st.integers(0, 2 ** 16))
def test_loader_batch_matches_the_loop_reference(n, c, h, w, b, r_frac, seed):
    r = int(r_frac * (min(h, w) - 1))          # 0 <= r < min(h, w)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, h, w, generator=g)
    loader = AugmentedLoader(x, torch.arange(n), 1, flip="random", translate=r, seed=seed)
    idx = torch.randint(0, n, (b,), generator=g)
    flips = torch.rand(b, generator=g) < 0.5
    shifts = torch.randint(-r, r + 1, (b, 2), generator=g)
    got = loader.batch(idx, flips, shifts)
    assert got.shape == (b, c, h, w)
    assert torch.equal(got, _augment_reference(x, idx, flips, shifts, r))


def _recover(images, batch, label, r):
    """(flipped, dy, dx) of the single augmentation of image ``label`` that reproduces ``batch``."""
    hits = [(f, dy, dx) for f in (False, True) for dy in range(-r, r + 1) for dx in range(-r, r + 1)
            if torch.equal(batch, _augment_reference(images, [label], [f], torch.tensor([[dy, dx]]), r)[0])]
    assert len(hits) == 1, f"image {label}: {len(hits)} augmentations match the batch"
    return hits[0]


def _epoch(loader, images, r):
    """Run one epoch; check each image appears once with its own label; return its flip and shift per label."""
    seen = {}
    for xb, yb in loader:
        assert len(xb) == len(yb)
        for img, lab in zip(xb, yb.tolist()):
            assert lab not in seen, f"image {lab} appears twice in one epoch"
            seen[lab] = _recover(images, img, lab, r)   # the labels travel with their own images
    return seen


def test_alternating_flips_are_first_coin_xor_odd_epoch():
    n, r = 23, 1
    x = torch.randn(n, 2, 5, 6, generator=torch.Generator().manual_seed(3))
    loader = AugmentedLoader(x, torch.arange(n), 5, flip="alternating", translate=r, drop_last=False, seed=7)
    epochs = [_epoch(loader, x, r) for _ in range(4)]
    for e in epochs:
        assert sorted(e) == list(range(n))              # every image exactly once with drop_last=False
    first = {i: epochs[0][i][0] for i in range(n)}
    assert 0 < sum(first.values()) < n                  # a random half, not all or none
    for e, seen in enumerate(epochs):
        for i in range(n):
            assert seen[i][0] == (first[i] ^ (e % 2 == 1)), f"image {i}, epoch {e}"
    # the shifts are fresh each epoch and use the whole range
    shifts = {(s[1], s[2]) for seen in epochs for s in seen.values()}
    assert len(shifts) == 9


def test_no_flips_and_random_flips():
    n, r = 40, 1
    x = torch.randn(n, 1, 4, 5, generator=torch.Generator().manual_seed(4))
    loader = AugmentedLoader(x, torch.arange(n), 8, flip="none", translate=r, seed=1)
    for _ in range(3):
        assert not any(s[0] for s in _epoch(loader, x, r).values())
    n = 200
    x = torch.randn(n, 1, 3, 4, generator=torch.Generator().manual_seed(5))
    loader = AugmentedLoader(x, torch.arange(n), 50, flip="random", translate=0, seed=2)
    flips = [np.array([s[0] for _, s in sorted(_epoch(loader, x, 0).items())]) for _ in range(3)]
    for f in flips:
        assert 0.35 < f.mean() < 0.65
    # fresh coins: neither the same as the first epoch nor its complement (alternating's pattern)
    assert 0.25 < (flips[0] != flips[1]).mean() < 0.75
    assert 0.25 < (flips[1] != flips[2]).mean() < 0.75


def test_loader_length_drop_last_and_seed():
    x = torch.randn(13, 1, 4, 4)
    for drop_last, n_batches, sizes in [(True, 2, [5, 5]), (False, 3, [5, 5, 3])]:
        loader = AugmentedLoader(x, torch.arange(13), 5, drop_last=drop_last, translate=1)
        assert len(loader) == n_batches
        for _ in range(2):
            assert [len(yb) for _, yb in loader] == sizes
    # the same seed gives the same batches, another seed different ones
    runs = [[xb for xb, _ in AugmentedLoader(x, torch.arange(13), 5, seed=s, translate=1)] for s in (0, 0, 1)]
    assert all(torch.equal(a, b) for a, b in zip(runs[0], runs[1]))
    assert not all(torch.equal(a, b) for a, b in zip(runs[0], runs[2]))


def test_loader_labels_stay_aligned():
    # image i is the constant i (no flip or shift can change it), label 1000 + i
    n = 17
    x = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 2, 6, 6).contiguous()
    loader = AugmentedLoader(x, 1000 + torch.arange(n), 4, translate=2, drop_last=False, seed=3)
    for _ in range(2):
        for xb, yb in loader:
            assert torch.equal(xb[:, 0, 0, 0].long() + 1000, yb)
            assert (xb == xb[:, :1, :1, :1]).all()


@pytest.mark.parametrize("args, kwargs, match", [
    ((torch.zeros(4, 1, 5, 5, dtype=torch.uint8), torch.arange(4), 2), {}, "images"),
    ((torch.zeros(4, 5, 5), torch.arange(4), 2), {}, "images"),
    ((torch.zeros(4, 1, 5, 5), torch.arange(3), 2), {}, "labels"),
    ((torch.zeros(4, 1, 5, 5), torch.arange(4), 0), {}, "batch_size"),
    ((torch.zeros(4, 1, 5, 5), torch.arange(4), 2), {"flip": "sideways"}, "flip"),
    ((torch.zeros(4, 1, 5, 5), torch.arange(4), 2), {"translate": 5}, "translate"),
    ((torch.zeros(4, 1, 5, 5), torch.arange(4), 2), {"translate": -1}, "translate"),
    ((torch.zeros(4, 1, 5, 5), torch.arange(4), 2), {"seed": -1}, "seed"),
])
def test_loader_rejects_bad_arguments(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        AugmentedLoader(*args, **kwargs)


# ============================================================================ predict_tta
def _small_net(seed=0, bn=False):
    torch.manual_seed(seed)
    layers = [nn.Conv2d(3, 4, 3)] + ([nn.BatchNorm2d(4)] if bn else []) + [nn.ReLU(), nn.Flatten(),
                                                                               nn.Linear(4 * 4 * 5, 6)]
    return nn.Sequential(*layers)


def _reflect_shift(x, dy, dx):
    """Pixel (i, j) of the result is pixel (i + dy, j + dx) of x, reflected at the borders (NumPy)."""
    h, w = x.shape[2:]
    p = np.pad(x.numpy(), ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect")
    return torch.from_numpy(p[:, :, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w].copy())


@pytest.mark.parametrize("channels_last", [False, True])
def test_predict_tta_levels(channels_last):
    net = _small_net()
    x = torch.rand(7, 3, 6, 7, generator=torch.Generator().manual_seed(0))
    kw = dict(device="cpu", bf16=False, channels_last=channels_last, batch_size=3)
    with torch.no_grad():
        m = lambda t: net(t)  # noqa: E731
        level0 = m(x)
        level1 = 0.5 * (m(x) + m(x.flip(-1)))
        up_left, down_right = _reflect_shift(x, -1, -1), _reflect_shift(x, 1, 1)
        level2 = (0.25 * m(x) + 0.25 * m(x.flip(-1))
                  + 0.125 * (m(up_left) + m(up_left.flip(-1)) + m(down_right) + m(down_right.flip(-1))))
    for level, want in [(0, level0), (1, level1), (2, level2)]:
        got = predict_tta(net, x, level=level, **kw)
        assert got.shape == (7, 6) and got.dtype == torch.float32 and got.device.type == "cpu"
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
    assert not torch.allclose(level1, level0) and not torch.allclose(level2, level1)


def test_predict_tta_flip_invariant_model_and_uint8():
    torch.manual_seed(1)
    net = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 5))
    x = torch.rand(6, 3, 5, 5)
    kw = dict(device="cpu", bf16=False, channels_last=False)
    np.testing.assert_allclose(predict_tta(net, x, level=1, **kw).numpy(), predict_tta(net, x, level=0, **kw).numpy(),
                               rtol=1e-6, atol=1e-6)
    # uint8 images are divided by 255
    xu = torch.randint(0, 256, (6, 3, 5, 5), dtype=torch.uint8)
    np.testing.assert_allclose(predict_tta(net, xu, level=2, **kw).numpy(),
                               predict_tta(net, xu.float() / 255, level=2, **kw).numpy(), rtol=1e-6, atol=1e-6)


def test_predict_tta_uses_eval_mode_and_restores_it():
    net = _small_net(bn=True)
    x = torch.rand(5, 3, 6, 7)
    net.train()
    net(torch.rand(16, 3, 6, 7) * 3)              # move the running statistics away from the batch's
    got = predict_tta(net, x, level=0, device="cpu", bf16=False, channels_last=False)
    assert net.training
    with torch.no_grad():
        np.testing.assert_allclose(got.numpy(), net.eval()(x).numpy(), rtol=1e-5, atol=1e-6)


def test_tta_accuracy_counts_correct_argmaxes():
    net = _small_net()
    x = torch.rand(9, 3, 6, 7)
    pred = predict_tta(net, x, level=1, device="cpu", bf16=False, channels_last=False).argmax(1)
    labels = pred.clone()
    labels[:3] = (labels[:3] + 1) % 6
    acc = tta_accuracy(net, x, labels, level=1, device="cpu", bf16=False, channels_last=False)
    assert acc == pytest.approx(6 / 9)
    with pytest.raises(ValueError, match="labels"):
        tta_accuracy(net, x, labels[:4], device="cpu")


@pytest.mark.parametrize("kwargs, err, match", [
    ({"level": 3}, ValueError, "level"),
    ({"level": -1}, ValueError, "level"),
    ({"level": True}, ValueError, "level"),
    ({"level": 1.5}, ValueError, "level"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"images": torch.zeros(3, 6, 7)}, ValueError, "images"),
    ({"images": torch.zeros(2, 3, 6, 7, dtype=torch.int32)}, TypeError, "images"),
    ({"model": lambda t: t}, TypeError, "model"),
])
def test_predict_tta_rejects_bad_arguments(kwargs, err, match):
    args = dict(model=_small_net(), images=torch.rand(2, 3, 6, 7), device="cpu")
    args.update(kwargs)
    with pytest.raises(err, match=match):
        predict_tta(args.pop("model"), args.pop("images"), **args)


# ============================================================================ learning-rate schedule
@pytest.mark.parametrize("total", [5, 10, 37, 100, 1000])
def test_lr_schedules(total):
    steps = np.arange(total + 1)
    const = np.array([_lr_multiplier("constant", s, total) for s in steps])
    assert (const == 1.0).all()
    decay = np.array([_lr_multiplier("decay", s, total) for s in steps])
    assert decay[0] == 1.0 and decay[-1] == pytest.approx(0.07)
    assert decay[total - 1] == pytest.approx(1 - 0.93 * (total - 1) / total)
    assert (np.diff(decay) < 0).all()
    warm = int(0.23 * total)
    wd = np.array([_lr_multiplier("warmup_decay", s, total) for s in steps])
    assert wd[0] == pytest.approx(0.2) and wd[warm] == pytest.approx(1.0) and wd[-1] == pytest.approx(0.07)
    assert (np.diff(wd[:warm + 1]) > 0).all() and (np.diff(wd[warm:]) < 0).all()
    # airbench94's schedule: linear interpolation through (0, 0.2), (0.23 T, 1), (T, 0.07)
    np.testing.assert_allclose(wd, np.interp(steps, [0, warm, total], [0.2, 1.0, 0.07]), atol=1e-12)
    assert wd[total - 1] == pytest.approx(1 - 0.93 * (total - 1 - warm) / (total - warm))


@pytest.mark.parametrize("total", [1, 2, 3, 4])
def test_lr_schedule_short_runs_stay_in_range(total):
    for schedule in ("warmup_decay", "decay", "constant"):
        vals = [_lr_multiplier(schedule, s, total) for s in range(total + 1)]
        assert all(0.07 - 1e-12 <= v <= 1.0 + 1e-12 for v in vals)
        assert all(math.isfinite(v) for v in vals)


# ============================================================================ SpeedrunConfig
def test_config_defaults_and_replace():
    cfg = SpeedrunConfig()
    assert (cfg.epochs, cfg.batch_size, cfg.lr, cfg.widths, cfg.tta_level) == (9.9, 1024, 11.5, (64, 256, 256), 2)
    new = cfg.replace(label_smoothing=0.0, widths=[8, 8, 8])
    assert new.label_smoothing == 0.0 and new.widths == (8, 8, 8) and cfg.label_smoothing == 0.2
    assert dataclasses.replace(new, label_smoothing=0.2, widths=(64, 256, 256)) == cfg
    with pytest.raises(TypeError):
        cfg.replace(learning_rate=1.0)
    with pytest.raises(ValueError, match="lr"):
        cfg.replace(lr=-1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.lr = 1.0


@pytest.mark.parametrize("field_name, value, err", [
    ("epochs", 0, ValueError), ("epochs", -1.5, ValueError), ("epochs", "9", TypeError),
    ("epochs", True, TypeError), ("epochs", float("inf"), ValueError), ("batch_size", 0, ValueError),
    ("batch_size", 2.5, TypeError), ("lr", -1.0, ValueError), ("lr", float("nan"), ValueError),
    ("weight_decay", -0.1, ValueError), ("bias_scaler", "x", TypeError),
    ("whiten_eps", -1e-3, ValueError), ("momentum", 1.0, ValueError), ("momentum", -0.1, ValueError),
    ("label_smoothing", 1.0, ValueError), ("batchnorm_momentum", 1.5, ValueError),
    ("whiten", "zca2", ValueError), ("optimizer", "adam", ValueError), ("schedule", "cosine", ValueError),
    ("flip", "vertical", ValueError), ("whiten_images", 0, ValueError), ("whiten_bias_epochs", -1, ValueError),
    ("translate", -1, ValueError), ("tta_level", 3, ValueError), ("tta_level", True, ValueError),
    ("widths", (8, 8), ValueError), ("widths", (8, 0, 8), ValueError), ("widths", (8, 8.0, 8), ValueError),
])
def test_config_errors_name_the_field(field_name, value, err):
    with pytest.raises(err, match=field_name):
        SpeedrunConfig(**{field_name: value})


# ============================================================================ network
def test_speedrun_net_parameter_count_and_shapes():
    net = speedrun_net(seed=0)
    assert sum(p.numel() for p in net.parameters()) == 1_972_792
    init_whitening_(net, torch.randn(4, 3, 32, 32))
    assert sum(p.numel() for p in net.parameters() if p.requires_grad) == 1_971_352
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    small = speedrun_net(widths=(8, 8, 8), seed=0)
    assert small.whiten.weight.shape == (24, 3, 2, 2)
    assert small(torch.randn(3, 3, 32, 32)).shape == (3, 10)
    # feature-map sizes: 32 -> 31 (2x2 whitening) -> 15 -> 7 -> 3 -> 1
    x = torch.randn(1, 3, 32, 32)
    sizes = []
    for name, layer in small.named_children():
        x = layer(x)
        if name.startswith("block") or name in ("whiten", "pool"):
            sizes.append(x.shape[-1])
    assert sizes == [31, 15, 7, 3, 1]
    assert speedrun_net(widths=(8, 8, 8), whiten_kernel=3, seed=0).whiten.weight.shape == (54, 3, 3, 3)


def test_speedrun_net_seed_and_identity_init():
    a, b = speedrun_net(widths=(8, 8, 8), seed=3), speedrun_net(widths=(8, 8, 8), seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = speedrun_net(widths=(8, 8, 8), seed=4)
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))
    # the first c_in filters of each block's first conv are the identity ("dirac") filters
    conv = a.block2.conv1.weight
    eye = torch.zeros(8, 8, 3, 3)
    eye[torch.arange(8), torch.arange(8), 1, 1] = 1
    assert torch.equal(conv[:8], eye)


def test_speedrun_net_batch_norm_switch():
    with_bn = speedrun_net(widths=(8, 8, 8), seed=0)
    bns = [m for m in with_bn.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(bns) == 6 and all(not m.weight.requires_grad and m.bias.requires_grad for m in bns)
    assert all(m.momentum == pytest.approx(0.4) for m in bns)          # keeps 0.6 of the old statistics
    groups = [m for m in with_bn.modules() if isinstance(m, ConvGroup)]
    assert all(g.conv1.bias is None and g.conv2.bias is None for g in groups)
    plain = speedrun_net(widths=(8, 8, 8), batch_norm=False, seed=0)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    groups = [m for m in plain.modules() if isinstance(m, ConvGroup)]
    assert len(groups) == 3 and all(g.conv1.bias is not None and g.conv2.bias is not None for g in groups)
    assert plain(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_init_whitening_freezes_the_weight_only():
    net = speedrun_net(widths=(8, 8, 8), seed=0)
    x = torch.randn(6, 3, 32, 32)
    assert init_whitening_(net, x, kind="zca", eps=1e-3) is net
    w, b = whitening_filters(x, 2, kind="zca", eps=1e-3)
    assert torch.equal(net.whiten.weight, w) and torch.equal(net.whiten.bias, b)
    assert not net.whiten.weight.requires_grad and net.whiten.bias.requires_grad
    with pytest.raises(ValueError, match="whiten"):
        init_whitening_(nn.Sequential(nn.Conv2d(3, 4, 2)), x)
    with pytest.raises(ValueError, match="shape"):
        init_whitening_(net, torch.randn(6, 1, 32, 32))


@pytest.mark.parametrize("kwargs, err, match", [
    ({"widths": (8, 8)}, ValueError, "widths"), ({"widths": (8, -1, 8)}, ValueError, "widths"),
    ({"whiten_kernel": 0}, ValueError, "whiten_kernel"), ({"scaling": 0}, ValueError, "scaling"),
    ({"batchnorm_momentum": 1.0}, ValueError, "batchnorm_momentum"), ({"seed": -1}, ValueError, "seed"),
])
def test_speedrun_net_rejects_bad_arguments(kwargs, err, match):
    with pytest.raises(err, match=match):
        speedrun_net(**kwargs)


# ============================================================================ ChannelNormalize
def test_channel_normalize():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(20, 3, 8, 8, generator=g) * torch.tensor([0.2, 0.5, 1.0]).view(1, 3, 1, 1) + 0.1
    norm = ChannelNormalize(3).fit(x)
    y = norm(x)
    np.testing.assert_allclose(y.mean(dim=(0, 2, 3)).numpy(), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(dim=(0, 2, 3)).numpy(), 1.0, atol=1e-5)
    assert set(dict(norm.named_buffers())) == {"mean", "std"}
    xu = (x * 255).round().to(torch.uint8)
    np.testing.assert_allclose(ChannelNormalize(3).fit(xu).mean.flatten().numpy(),
                               (xu.double() / 255).mean(dim=(0, 2, 3)).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="channels"):
        ChannelNormalize(0)
    with pytest.raises(ValueError, match="images"):
        ChannelNormalize(3).fit(torch.rand(3, 8, 8))
    with pytest.raises(TypeError, match="images"):
        ChannelNormalize(3).fit(torch.zeros(2, 3, 8, 8, dtype=torch.int32))


# ============================================================================ train_speedrun
# 80 images in batches of 16: 5 steps per epoch, 10 in all, so the lookahead (every 5 steps) takes part
TINY = SpeedrunConfig(epochs=2, batch_size=16, widths=(8, 8, 8), whiten_images=32)


def _random_data(n=80, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 3, 32, 32), generator=g, dtype=torch.uint8), torch.arange(n) % 10


def _train(config=TINY, seed=0, **kwargs):
    x, y = _random_data()
    return train_speedrun(x, y, config=config, seed=seed, device="cpu", bf16=False, progress=False, **kwargs)


PROBE = torch.rand(5, 3, 32, 32, generator=torch.Generator().manual_seed(99))


@pytest.fixture(scope="module")
def tiny_run():
    return _train()


def _logits(res):
    with torch.no_grad():
        return res.model(PROBE)


def test_train_speedrun_is_deterministic(tiny_run):
    again = _train()
    assert torch.equal(_logits(tiny_run), _logits(again))
    other = _train(seed=1)
    assert not torch.allclose(_logits(tiny_run), _logits(other))


def test_train_speedrun_result(tiny_run):
    res = tiny_run
    assert isinstance(res, SpeedrunResult) and res.seed == 0 and res.config == TINY
    assert [h["epoch"] for h in res.history] == [1, 2]
    secs = [h["seconds"] for h in res.history]
    assert 0 < secs[0] < secs[1] <= res.train_seconds
    for h in res.history:
        assert set(h) == {"epoch", "seconds", "train_loss", "train_acc"}
        assert math.isfinite(h["train_loss"]) and 0 <= h["train_acc"] <= 1
    assert res.settings["device"] == "cpu" and res.settings["bf16"] is False
    model = res.model
    assert not model.training and isinstance(model.preprocess, ChannelNormalize)
    assert all(p.device.type == "cpu" and p.dtype == torch.float32 for p in model.parameters())
    x, _ = _random_data()
    np.testing.assert_allclose(model.preprocess.mean.flatten().numpy(),
                               (x.double() / 255).mean(dim=(0, 2, 3)).numpy(), atol=1e-5)
    # the whitening weight stayed frozen (still +f / -f pairs) while its bias trained
    w, b = model.net.whiten.weight, model.net.whiten.bias
    assert torch.equal(w[12:], -w[:12]) and not w.requires_grad
    assert not torch.equal(b[12:], -b[:12])


def test_train_speedrun_validation_and_callback():
    x, y = _random_data(32, seed=5)
    entries = []
    res = _train(val_images=x, val_labels=y, on_epoch_end=entries.append)
    assert entries == res.history and len(entries) == 2
    for h in res.history:
        assert 0.0 <= h["val_acc"] <= 1.0
    # the last entry scores the final (averaged) weights
    assert res.history[-1]["val_acc"] == pytest.approx(tta_accuracy(res.model, x, y, level=0, device="cpu",
                                                                    bf16=False))


def test_train_speedrun_fractional_epochs():
    res = _train(TINY.replace(epochs=1.5))              # 5 steps per epoch -> 8 steps
    assert [h["epoch"] for h in res.history] == [1, 2]
    res = _train(TINY.replace(epochs=0.4))              # 2 steps: one short epoch
    assert [h["epoch"] for h in res.history] == [1]


def test_whiten_bias_epochs_zero_keeps_the_bias():
    res = _train(TINY.replace(whiten_bias_epochs=0))
    b = res.model.net.whiten.bias
    assert torch.equal(b[12:], -b[:12])                  # never trained: still the exact +/- pairs


def test_learned_whitening_stays_trainable():
    res = _train(TINY.replace(whiten="learned"))
    w = res.model.net.whiten.weight
    assert w.requires_grad
    assert not torch.equal(w, speedrun_net(widths=(8, 8, 8), seed=0).whiten.weight)   # it moved
    assert not torch.allclose(w[12:], -w[:12])


def _init_logits(seed=0):
    """Logits of the untrained network that train_speedrun starts from (same normalisation and whitening)."""
    x, _ = _random_data()
    xf = x.float() / 255
    norm = ChannelNormalize(3).fit(xf)
    xn = norm(xf)
    torch.manual_seed(seed)
    net = speedrun_net(widths=TINY.widths, seed=seed)
    perm = torch.randperm(len(xn), generator=torch.Generator().manual_seed(seed))
    init_whitening_(net, xn[perm[:TINY.whiten_images]], eps=TINY.whiten_eps)
    with torch.no_grad():
        return nn.Sequential(norm, net).eval()(PROBE)


def test_training_moves_the_weights(tiny_run):
    assert not torch.allclose(_logits(tiny_run), _init_logits(), atol=1e-4)


def test_lookahead_keeps_the_last_steps():
    res = _train(TINY.replace(epochs=0.8))              # 4 steps, none of them a multiple of 5
    assert not torch.allclose(_logits(res), _init_logits(), atol=1e-4)


def test_lookahead_changes_the_weights(tiny_run):
    res = _train(TINY.replace(lookahead=False))
    assert torch.isfinite(_logits(res)).all()
    assert not torch.allclose(_logits(res), _logits(tiny_run))


@pytest.mark.parametrize("changes", [
    dict(schedule="decay", optimizer="momentum"), dict(schedule="constant", flip="random", translate=0),
    dict(batch_norm=False, label_smoothing=0.0, flip="none"), dict(whiten="zca", epochs=1),
])
def test_train_speedrun_variants_run(changes):
    res = _train(TINY.replace(**changes))
    assert all(math.isfinite(h["train_loss"]) for h in res.history)
    assert _logits(res).shape == (5, 10)


def _colour_classes(n, seed):
    """Class c in {0, 1, 2} has channel c brighter than the others: learnable at any position, flipped or not."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    x = torch.rand(n, 3, 32, 32, generator=g) * 0.5
    x[torch.arange(n), y] += 0.4
    return (x * 255).round().to(torch.uint8), y


def test_train_speedrun_learns_a_learnable_problem():
    x, y = _colour_classes(256, seed=0)
    xv, yv = _colour_classes(96, seed=1)
    cfg = SpeedrunConfig(epochs=5, batch_size=32, widths=(16, 16, 16), whiten_images=64)
    res = train_speedrun(x, y, config=cfg, val_images=xv, val_labels=yv, seed=0, device="cpu", bf16=False,
                         progress=False)
    # chance is 1/3
    assert res.history[-1]["train_acc"] > 0.8
    assert res.history[-1]["val_acc"] > 0.85
    assert res.history[-1]["train_loss"] < res.history[0]["train_loss"]


@pytest.mark.parametrize("kwargs, err, match", [
    ({"config": {"epochs": 1}}, TypeError, "config"),
    ({"images": torch.zeros(64, 32, 32, dtype=torch.uint8)}, ValueError, "images"),
    ({"images": torch.zeros(64, 3, 32, 32, dtype=torch.int32)}, TypeError, "images"),
    ({"labels": torch.zeros(79, dtype=torch.long)}, ValueError, "labels"),
    ({"val_images": torch.zeros(4, 3, 32, 32)}, ValueError, "val_images"),
    ({"val_labels": torch.zeros(4, dtype=torch.long)}, ValueError, "val_images"),
    ({"seed": -1}, ValueError, "seed"),
    ({"config": TINY.replace(batch_size=81)}, ValueError, "batch_size"),
])
def test_train_speedrun_rejects_bad_arguments(kwargs, err, match):
    x, y = _random_data()
    args = dict(images=x, labels=y, config=TINY, device="cpu", bf16=False, progress=False)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        train_speedrun(args.pop("images"), args.pop("labels"), **args)
