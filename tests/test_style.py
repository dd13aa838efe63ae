"""Style-transfer losses: Gram matrix properties, loss values against the formulas, gradients, the optimiser."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import scaled
from course_lib.style import (FeatureExtractor, content_loss, gram_matrix, gram_matrix_naive, image_to_tensor,
                              layer_names, optimize_image, style_loss, style_loss_naive, style_net,
                              tensor_to_image, total_loss)


@st.composite
def feats(draw, max_c=4, max_hw=5):
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, max_c))
    h, w = draw(st.integers(1, max_hw)), draw(st.integers(1, max_hw))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    return torch.randn(n, c, h, w, generator=g, dtype=torch.float64)


@settings(max_examples=scaled(80))
@given(feats(), st.floats(-3, 3).filter(lambda a: abs(a) > 1e-3))
def test_gram_is_symmetric_psd_scales_quadratically_and_matches_loops(a, alpha):
    g = gram_matrix(a)
    assert g.shape == (a.shape[0], a.shape[1], a.shape[1])
    torch.testing.assert_close(g, g.transpose(-1, -2), rtol=1e-12, atol=1e-12)   # BLAS need not be exactly symmetric
    assert torch.linalg.eigvalsh(g).min() > -1e-9 * max(1.0, float(g.abs().max()))
    torch.testing.assert_close(gram_matrix(alpha * a), alpha ** 2 * g, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(gram_matrix_naive(a), g, rtol=1e-10, atol=1e-10)
    # a sum over positions (eq. 10.15): the diagonal is the squared norm of each channel
    torch.testing.assert_close(torch.diagonal(g, dim1=-2, dim2=-1), (a ** 2).sum(dim=(-1, -2)))
    # the Gram matrix forgets where things are: shuffling the positions changes nothing
    perm = torch.randperm(a.shape[-1] * a.shape[-2], generator=torch.Generator().manual_seed(0))
    shuffled = a.flatten(-2)[..., perm].reshape(a.shape)
    torch.testing.assert_close(gram_matrix(shuffled), g, rtol=1e-10, atol=1e-10)


@settings(max_examples=scaled(60))
@given(feats(), st.integers(0, 2**31 - 1), st.integers(1, 6), st.integers(1, 6))
def test_losses_match_the_formulas(g, seed, hs, ws):
    gen = torch.Generator().manual_seed(seed)
    c = torch.randn(g.shape, generator=gen, dtype=torch.float64)
    s = torch.randn(1, g.shape[1], hs, ws, generator=gen, dtype=torch.float64)
    assert torch.isclose(content_loss(g, c), ((g - c) ** 2).sum())
    _, k, i, j = g.shape
    direct = sum(((gram_matrix(g[n]) - gram_matrix(s[0])) ** 2).sum() for n in range(g.shape[0])) / (2 * i * j * k) ** 2
    torch.testing.assert_close(style_loss(g, s), direct, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(style_loss(g, gram_matrix(s)), direct, rtol=1e-10, atol=1e-12)
    # Buduma's normaliser written out as 1 / (4 k_l^2 m_l^2) agrees (E20)
    torch.testing.assert_close(style_loss_naive(g, s), direct, rtol=1e-10, atol=1e-12)


def test_style_loss_is_zero_for_the_same_image_and_ignores_the_style_image_size():
    a = torch.randn(1, 3, 6, 6, dtype=torch.float64)
    assert float(style_loss(a, a)) == 0.0
    tiled = a.repeat(1, 1, 2, 2)              # 4 copies: every Gram entry x 4
    torch.testing.assert_close(style_loss(a, tiled / 2), torch.zeros((), dtype=torch.float64), atol=1e-12, rtol=0)


def test_gradients_match_finite_differences():
    gen = torch.Generator().manual_seed(0)
    g = torch.randn(1, 3, 4, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    c = torch.randn(1, 3, 4, 5, generator=gen, dtype=torch.float64)
    s = torch.randn(1, 3, 3, 3, generator=gen, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: content_loss(x, c), (g,))
    assert torch.autograd.gradcheck(lambda x: style_loss(x, s), (g,))
    assert torch.autograd.gradcheck(lambda x: total_loss({"a": x}, {"a": c}, {"a": s}, content_weight=0.5,
                                                         style_weights={"a": 3.0})["total"], (g,))
    # the analytic gradients: 2 (G - C) for the content loss, 4 (F(G) - F(S)) a / (2IJK)^2 for the style loss
    content_loss(g, c).backward()
    torch.testing.assert_close(g.grad, 2 * (g - c).detach())
    g.grad = None
    style_loss(g, s).backward()
    k, m = 3, 20
    diff = gram_matrix(g.detach())[0] - gram_matrix(s)[0]
    want = 4 * (diff @ g.detach()[0].reshape(k, m)).reshape(1, k, 4, 5) / (2 * m * k) ** 2
    torch.testing.assert_close(g.grad, want)


def test_total_loss_weights_and_parts():
    f = {"a": torch.ones(1, 2, 2, 2), "b": torch.zeros(1, 2, 1, 1)}
    parts = total_loss(f, {"a": torch.zeros(1, 2, 2, 2)}, {"a": torch.zeros(1, 2, 2, 2), "b": torch.ones(1, 2, 1, 1)},
                       content_weight=0.5, style_weights={"a": 1.0, "b": 2.0})
    assert float(parts["content:a"]) == 8.0 and float(parts["content"]) == 4.0
    assert float(parts["total"]) == pytest.approx(float(parts["content"] + parts["style"]))
    assert float(parts["style"]) == pytest.approx(float(parts["style:a"] + 2 * parts["style:b"]))
    only_style = total_loss(f, {}, {"b": torch.ones(1, 2, 1, 1)})
    assert float(only_style["content"]) == 0.0


def test_feature_extractor_returns_the_named_layers_and_freezes_the_network():
    net = style_net(seed=0)
    assert layer_names(net)[-3:] == ["gap", "flatten", "fc"]
    ext = FeatureExtractor(net, ["relu2_1", "conv1_1"], mean=[0.5] * 3, std=[0.25] * 3)
    x = torch.rand(1, 3, 16, 16, requires_grad=True)
    out = ext(x)
    assert list(out) == ["conv1_1", "relu2_1"]
    torch.testing.assert_close(out["conv1_1"], net.conv1_1((x - 0.5) / 0.25))
    assert not any(p.requires_grad for p in ext.parameters())
    out["relu2_1"].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    ext.train()
    assert not ext.body.training


def test_style_net_is_seeded_and_he_scaled():
    a, b = style_net(seed=3), style_net(seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    x = torch.rand(4, 3, 32, 32)
    with torch.no_grad():
        stds = [float(v.std()) for v in FeatureExtractor(a, ["relu1_2", "relu2_2", "relu3_2", "relu4_2"])(x).values()]
    assert max(stds) / min(stds) < 10          # no explosion or collapse with depth


def test_optimize_image_reduces_the_loss_and_is_seeded():
    ext = FeatureExtractor(style_net(seed=0), ["relu1_1", "relu2_1"])
    gen = torch.Generator().manual_seed(1)
    style = torch.rand(1, 3, 16, 16, generator=gen)
    content = torch.rand(1, 3, 16, 16, generator=gen)
    kw = dict(content=content, style=style, content_layers=["relu2_1"], style_layers=["relu1_1", "relu2_1"],
              content_weight=1e-2, style_weights=1e2, steps=15, lr=0.1, progress=False)
    r1, r2 = optimize_image(ext, **kw), optimize_image(ext, **kw)
    assert r1.history["total"][-1] < r1.history["total"][0]
    torch.testing.assert_close(r1.image, r2.image)
    assert r1.image.shape == (1, 3, 16, 16) and 0 <= float(r1.image.min()) and float(r1.image.max()) <= 1
    calls = []
    r3 = optimize_image(ext, style=style, style_layers=["relu1_1"], steps=4, optimizer="lbfgs", progress=False,
                        callback=lambda step, losses: calls.append(step), callback_every=2)
    assert calls == [2, 4] and set(r3.history) >= {"total", "style", "style:relu1_1"}


def test_image_helpers():
    img = (np.arange(40 * 60 * 3) % 256).astype(np.uint8).reshape(40, 60, 3)
    x = image_to_tensor(img)
    assert x.shape == (1, 3, 40, 60) and float(x.max()) <= 1.0
    np.testing.assert_allclose(tensor_to_image(x), img / 255.0, atol=1e-6)
    assert image_to_tensor(img, size=16).shape == (1, 3, 16, 16)


def test_bad_input_is_rejected_with_helpful_messages():
    a = torch.zeros(1, 2, 3, 3)
    with pytest.raises(ValueError, match="features must be 3D or 4D"):
        gram_matrix(torch.zeros(3, 3))
    with pytest.raises(TypeError, match="features must be a torch tensor"):
        gram_matrix([[1.0]])
    with pytest.raises(ValueError, match="same shape"):
        content_loss(a, torch.zeros(1, 2, 2, 2))
    with pytest.raises(ValueError, match="2 channels"):
        style_loss(a, torch.zeros(1, 3, 3, 3))
    with pytest.raises(ValueError, match="no activations for layer"):
        total_loss({"a": a}, {"b": a}, {})
    with pytest.raises(ValueError, match="style_weights has no weight"):
        total_loss({"a": a, "b": a}, {}, {"a": a, "b": a}, style_weights={"a": 1.0})
    net = style_net(seed=0)
    with pytest.raises(ValueError, match="not in the model"):
        FeatureExtractor(net, ["relu9_9"])
    with pytest.raises(TypeError, match="nn.Sequential"):
        FeatureExtractor(torch.nn.Linear(2, 2), ["x"])
    ext = FeatureExtractor(net, ["relu1_1"])
    with pytest.raises(ValueError, match="not extracted"):
        optimize_image(ext, content=torch.zeros(1, 3, 8, 8), content_layers=["relu2_1"], progress=False)
    with pytest.raises(ValueError, match="content is None"):
        optimize_image(ext, content_layers=["relu1_1"], progress=False)
    with pytest.raises(ValueError, match="optimizer must be"):
        optimize_image(ext, style=torch.zeros(1, 3, 8, 8), style_layers=["relu1_1"], optimizer="sgd")
    with pytest.raises(ValueError, match="widths must be"):
        style_net(widths=(8, 8))
