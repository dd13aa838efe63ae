"""batch_norm (forward, running statistics, backward) and its naive twins against torch in float64;
folding batch norm into the layer before it; the chapter's experiment helpers."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from conftest import BAD_DTYPE_ARRAYS, scaled, t64
from course_lib.batchnorm import (StepChunks, batch_norm, batch_norm_backward, batch_norm_backward_naive,
                                  batch_norm_naive, fold_batch_norm, fold_batch_norm_weights, fold_sequential,
                                  small_convnet, steps_to_reach)
from course_lib.training import TensorLoader


@st.composite
def bn_case(draw, max_spatial_dims: int = 3, max_side: int = 5, max_n: int = 5):
    n = draw(st.integers(1, max_n))
    c = draw(st.integers(1, 4))
    spatial = tuple(draw(st.lists(st.integers(1, max_side), min_size=0, max_size=max_spatial_dims)))
    training = draw(st.booleans())
    if training and n * int(np.prod(spatial, dtype=int)) < 2:
        n = 2                                            # torch needs two values per channel to train
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.normal(draw(st.floats(-3, 3)), draw(st.floats(0.1, 5)), size=(n, c) + spatial)
    has_running = (not training) or draw(st.booleans())
    rm = rng.normal(size=c) if has_running else None
    rv = rng.uniform(0.2, 3.0, size=c) if has_running else None
    weight = rng.normal(size=c) if draw(st.booleans()) else None
    bias = rng.normal(size=c) if draw(st.booleans()) else None
    momentum = draw(st.sampled_from([0.0, 0.1, 0.01, 0.5, 0.9, 1.0]) | st.floats(0, 1))
    eps = draw(st.sampled_from([1e-5, 1e-3, 0.1] + ([] if training else [0.0])))   # torch: eps > 0 to train
    return dict(x=x, running_mean=rm, running_var=rv, weight=weight, bias=bias, training=training,
                momentum=momentum, eps=eps)


def torch_bn(case):
    """torch's result and its in-place-updated running statistics."""
    rm = None if case["running_mean"] is None else t64(case["running_mean"]).clone()
    rv = None if case["running_var"] is None else t64(case["running_var"]).clone()
    w = None if case["weight"] is None else t64(case["weight"])
    b = None if case["bias"] is None else t64(case["bias"])
    out = F.batch_norm(t64(case["x"]), rm, rv, w, b, training=case["training"], momentum=case["momentum"],
                       eps=case["eps"])
    return out.numpy(), (None if rm is None else rm.numpy()), (None if rv is None else rv.numpy())


def ours(fn, case):
    rm = None if case["running_mean"] is None else case["running_mean"].copy()
    rv = None if case["running_var"] is None else case["running_var"].copy()
    out = fn(case["x"], rm, rv, case["weight"], case["bias"], case["training"], case["momentum"], case["eps"])
    return out, rm, rv


def assert_same(got, want, tol=1e-10):
    out, rm, rv = got
    t_out, t_rm, t_rv = want
    assert out.shape == t_out.shape and out.dtype == np.float64
    np.testing.assert_allclose(out, t_out, rtol=tol, atol=tol)
    if t_rm is None:
        assert rm is None and rv is None
    else:
        np.testing.assert_allclose(rm, t_rm, rtol=tol, atol=tol)
        np.testing.assert_allclose(rv, t_rv, rtol=tol, atol=tol)


@given(case=bn_case())
@settings(max_examples=scaled(200))
def test_batch_norm_matches_torch_including_running_statistics(case):
    assert_same(ours(batch_norm, case), torch_bn(case))


@given(case=bn_case(max_spatial_dims=2, max_side=3, max_n=3))
@settings(max_examples=scaled(80))
def test_naive_matches_torch_and_vectorised(case):
    want = torch_bn(case)
    assert_same(ours(batch_norm_naive, case), want)
    assert_same(ours(batch_norm, case), want)


def test_running_var_is_unbiased_and_mean_is_ema():
    x = np.array([[0.0], [2.0], [4.0], [6.0]])             # mean 3, biased var 5, unbiased 20/3
    rm, rv = np.array([1.0]), np.array([1.0])
    y = batch_norm(x, rm, rv, training=True, momentum=0.25, eps=1e-5)
    np.testing.assert_allclose(y.ravel(), (x.ravel() - 3) / np.sqrt(5 + 1e-5))    # normalised with the biased var
    np.testing.assert_allclose(rm, [0.75 * 1 + 0.25 * 3])
    np.testing.assert_allclose(rv, [0.75 * 1 + 0.25 * 20 / 3])


def test_statistics_pool_spatial_positions_per_channel():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 2, 4, 5)) * np.array([1.0, 10.0])[None, :, None, None] + 7
    y = batch_norm(x, None, None, training=True, eps=1e-12)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-9)
    assert not np.allclose(y.mean(axis=0), 0)              # per position it is not centred


def test_eval_mode_leaves_running_statistics_alone_and_is_per_example():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 3, 2, 2))
    rm, rv = rng.normal(size=3), rng.uniform(1, 2, size=3)
    rm0, rv0 = rm.copy(), rv.copy()
    y = batch_norm(x, rm, rv)
    np.testing.assert_array_equal(rm, rm0)
    np.testing.assert_array_equal(rv, rv0)
    np.testing.assert_allclose(batch_norm(x[:1], rm, rv), y[:1])          # independent of batch mates


def test_float32_stays_float32_and_ints_become_float64():
    x32 = np.random.default_rng(2).normal(size=(4, 3)).astype(np.float32)
    assert batch_norm(x32, None, None, training=True).dtype == np.float32
    xi = np.arange(12).reshape(4, 3)
    assert batch_norm(xi, None, None, training=True).dtype == np.float64
    assert batch_norm_naive(xi, None, None, training=True).dtype == np.float64


def test_running_statistics_can_be_torch_buffers_viewed_as_numpy():
    bn = nn.BatchNorm2d(3).double()
    x = torch.randn(4, 3, 2, 2, dtype=torch.float64)
    rm, rv = bn.running_mean.clone().numpy(), bn.running_var.clone().numpy()
    bn(x)                                                  # torch updates its buffers
    batch_norm(x.numpy(), rm, rv, training=True)
    np.testing.assert_allclose(rm, bn.running_mean.numpy())
    np.testing.assert_allclose(rv, bn.running_var.numpy())


# ----------------------------------------------------------------------------- argument checks
@pytest.mark.parametrize("fn", [batch_norm, batch_norm_naive])
def test_argument_checks(fn):
    x = np.ones((4, 3))
    rm, rv = np.zeros(3), np.ones(3)
    with pytest.raises(ValueError, match="running_mean"):
        fn(x, None, None, training=False)
    with pytest.raises(ValueError, match="more than one value"):
        fn(np.ones((1, 3)), rm, rv, training=True)
    with pytest.raises(ValueError, match="one value per channel"):
        fn(x, np.zeros(4), rv)
    with pytest.raises(ValueError, match="weight"):
        fn(x, rm, rv, weight=np.ones(2))
    with pytest.raises(ValueError, match="momentum"):
        fn(x, rm, rv, training=True, momentum=1.5)
    with pytest.raises(TypeError, match="momentum"):
        fn(x, rm, rv, training=True, momentum=None)
    with pytest.raises(ValueError, match="eps"):
        fn(x, rm, rv, eps=-1e-5)
    with pytest.raises(ValueError, match="eps must be positive in training"):
        fn(x, rm, rv, training=True, eps=0.0)
    with pytest.raises(TypeError, match="training"):
        fn(x, rm, rv, training="yes")
    with pytest.raises(ValueError, match="batch axis"):
        fn(np.ones(3), rm, rv)
    with pytest.raises(ValueError, match="together"):
        fn(x, rm, None, training=True)
    with pytest.raises(TypeError, match="in place"):
        fn(x, [0.0, 0.0, 0.0], rv)
    with pytest.raises(TypeError, match="torch tensor"):
        fn(x, torch.zeros(3), rv)
    with pytest.raises(TypeError, match="float"):
        fn(x, np.zeros(3, dtype=int), rv)
    with pytest.raises(ValueError, match="empty"):
        fn(np.ones((0, 3)), rm, rv)
    for make in BAD_DTYPE_ARRAYS.values():
        with pytest.raises(TypeError):
            fn(make((4, 3)), rm, rv)


# ----------------------------------------------------------------------------- backward
@st.composite
def backward_case(draw, max_side=4):
    case = draw(bn_case(max_spatial_dims=2, max_side=max_side, max_n=4))
    if case["running_mean"] is None:
        rng = np.random.default_rng(7)
        case["running_mean"], case["running_var"] = rng.normal(size=case["x"].shape[1]), \
            rng.uniform(0.5, 2, size=case["x"].shape[1])
    if case["eps"] == 0.0:
        case["eps"] = 1e-5
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    case["grad"] = rng.normal(size=case["x"].shape)
    return case


def autograd_bn(case):
    x = t64(case["x"]).requires_grad_()
    c = case["x"].shape[1]
    w = t64(case["weight"] if case["weight"] is not None else np.ones(c)).requires_grad_()
    b = t64(case["bias"] if case["bias"] is not None else np.zeros(c)).requires_grad_()
    out = F.batch_norm(x, t64(case["running_mean"]).clone(), t64(case["running_var"]).clone(), w, b,
                       training=case["training"], eps=case["eps"])
    out.backward(t64(case["grad"]))
    return x.grad.numpy(), w.grad.numpy(), b.grad.numpy()


@given(case=backward_case())
@settings(max_examples=scaled(120))
def test_backward_matches_autograd(case):
    want = autograd_bn(case)
    got = batch_norm_backward(case["grad"], case["x"], case["weight"], case["running_mean"],
                              case["running_var"], case["training"], case["eps"])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-9)


@given(case=backward_case(max_side=3))
@settings(max_examples=scaled(40))
def test_naive_backward_matches_vectorised(case):
    args = (case["grad"], case["x"], case["weight"], case["running_mean"], case["running_var"],
            case["training"], case["eps"])
    for a, b in zip(batch_norm_backward_naive(*args), batch_norm_backward(*args)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


def test_training_gradient_sums_to_zero_per_channel():
    rng = np.random.default_rng(3)
    x, g = rng.normal(size=(5, 3, 4, 4)), rng.normal(size=(5, 3, 4, 4))
    gx, _, _ = batch_norm_backward(g, x, rng.normal(size=3))
    np.testing.assert_allclose(gx.sum(axis=(0, 2, 3)), 0, atol=1e-10)    # a shift of x changes nothing


def test_backward_argument_checks():
    x = np.ones((4, 3))
    with pytest.raises(ValueError, match="shape of x"):
        batch_norm_backward(np.ones((4, 2)), x)
    with pytest.raises(ValueError, match="running_mean"):
        batch_norm_backward(x, x, training=False)
    with pytest.raises(ValueError, match="more than one value"):
        batch_norm_backward(np.ones((1, 3)), np.ones((1, 3)))


# ----------------------------------------------------------------------------- folding
def trained_bn(bn, c, shape, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _ in range(3):
            bn.train()(torch.randn((6, c) + shape, generator=g, dtype=torch.float64) * 3 + 1)
        if bn.affine:
            bn.weight.copy_(torch.randn(c, generator=g, dtype=torch.float64))
            bn.bias.copy_(torch.randn(c, generator=g, dtype=torch.float64))
    return bn.eval()


@pytest.mark.parametrize("kind", ["conv1d", "conv2d", "conv3d", "linear"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_fold_batch_norm_matches_eval_mode(kind, bias, affine):
    torch.manual_seed(0)
    if kind == "linear":
        layer, bn, xshape = nn.Linear(5, 4, bias=bias), nn.BatchNorm1d(4, affine=affine), (3, 5)
    elif kind == "conv1d":
        layer, bn, xshape = nn.Conv1d(3, 4, 3, stride=2, bias=bias), nn.BatchNorm1d(4, affine=affine), (3, 3, 9)
    elif kind == "conv2d":
        layer, bn, xshape = (nn.Conv2d(4, 6, 3, padding=1, groups=2, bias=bias), nn.BatchNorm2d(6, affine=affine),
                             (3, 4, 7, 6))
    else:
        layer, bn, xshape = nn.Conv3d(2, 3, 2, bias=bias), nn.BatchNorm3d(3, affine=affine), (2, 2, 4, 4, 4)
    layer, bn = layer.double(), bn.double()
    x = torch.randn(xshape, dtype=torch.float64)
    with torch.no_grad():
        pre = layer(x if kind != "linear" else x)
        trained_bn(bn, pre.shape[1], tuple(pre.shape[2:]), seed=1)
        want = bn(layer(x))
        fused = fold_batch_norm(layer, bn)
        got = fused(x)
    assert type(fused) is type(layer) and fused.bias is not None and not fused.training
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    assert layer.bias is None or layer.bias.shape == (pre.shape[1],)   # the input layer is unchanged
    if not bias:
        assert layer.bias is None


def test_fold_batch_norm_weights_formula():
    rng = np.random.default_rng(4)
    w, b = rng.normal(size=(3, 2, 2, 2)), rng.normal(size=3)
    rm, rv, g, beta = rng.normal(size=3), rng.uniform(0.5, 2, size=3), rng.normal(size=3), rng.normal(size=3)
    fw, fb = fold_batch_norm_weights(w, b, rm, rv, g, beta, eps=1e-3)
    s = g / np.sqrt(rv + 1e-3)
    np.testing.assert_allclose(fw, w * s[:, None, None, None])
    np.testing.assert_allclose(fb, (b - rm) * s + beta)
    fw0, fb0 = fold_batch_norm_weights(w, None, rm, rv, eps=1e-3)
    np.testing.assert_allclose(fb0, -rm / np.sqrt(rv + 1e-3))


def test_fold_argument_checks():
    with pytest.raises(TypeError, match="BatchNorm2d after Conv2d"):
        fold_batch_norm(nn.Conv2d(1, 2, 3), nn.BatchNorm1d(2))
    with pytest.raises(ValueError, match="num_features"):
        fold_batch_norm(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(3))
    with pytest.raises(ValueError, match="running statistics"):
        fold_batch_norm(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2, track_running_stats=False))
    with pytest.raises(TypeError, match="conv"):
        fold_batch_norm(nn.ReLU(), nn.BatchNorm2d(2))
    with pytest.raises(TypeError, match="bn"):
        fold_batch_norm(nn.Conv2d(1, 2, 3), nn.ReLU())
    with pytest.raises(ValueError, match="negative"):
        fold_batch_norm_weights(np.ones((2, 1)), None, np.zeros(2), -np.ones(2))
    with pytest.raises(ValueError, match="one value per channel"):
        fold_batch_norm_weights(np.ones((2, 1)), None, np.zeros(3), np.ones(3))
    with pytest.raises(TypeError):
        fold_sequential(nn.Conv2d(1, 2, 3))


@pytest.mark.parametrize("placement", ["before", "after"])
def test_fold_sequential_on_the_chapter_network(placement):
    torch.manual_seed(0)
    net = small_convnet(batch_norm=True, placement=placement, seed=0).double()
    x = torch.randn(8, 1, 28, 28, dtype=torch.float64)
    with torch.no_grad():
        for _ in range(3):
            net.train()(x + torch.randn_like(x))
        net.eval()
        folded = fold_sequential(net)
        torch.testing.assert_close(folded(x), net(x), rtol=1e-10, atol=1e-10)
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert n_bn == (0 if placement == "before" else 3)       # after the ReLU nothing can be folded


# ----------------------------------------------------------------------------- experiment helpers
def test_small_convnet_variants():
    plain = small_convnet(seed=0)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in plain.modules())
    assert plain.conv1.bias is not None
    bn = small_convnet(batch_norm=True, seed=0)
    assert bn.conv1.bias is None and isinstance(bn[1], nn.BatchNorm2d)
    after = small_convnet(batch_norm=True, placement="after", seed=0)
    assert isinstance(after[1], nn.ReLU) and isinstance(after[2], nn.BatchNorm2d) and after.conv1.bias is not None
    torch.testing.assert_close(small_convnet(seed=3).conv2.weight, small_convnet(seed=3).conv2.weight)
    assert isinstance(small_convnet(dropout=0.3).drop, nn.Dropout)
    with pytest.raises(ValueError, match="placement"):
        small_convnet(placement="middle")
    with pytest.raises(ValueError, match="dropout"):
        small_convnet(dropout=1.0)
    with pytest.raises(TypeError, match="batch_norm"):
        small_convnet(batch_norm=1)
    state = torch.random.get_rng_state()
    small_convnet(seed=5)
    assert torch.equal(state, torch.random.get_rng_state())          # the global generator is untouched


def test_step_chunks_continue_across_epochs():
    x, y = torch.zeros(10, 1, 2, 2), torch.arange(10)
    chunks = StepChunks(TensorLoader(x, y, 3, shuffle=True, device="cpu"), steps=5)
    seen = [yb for _ in range(2) for _, yb in chunks]
    assert len(chunks) == 5 and len(seen) == 10
    assert sorted(torch.cat(seen[:4]).tolist()) == list(range(10))     # 4 batches = one pass
    with pytest.raises(ValueError):
        StepChunks(x, steps=0)
    with pytest.raises(ValueError, match="no batches"):
        list(StepChunks([], steps=1))


def test_steps_to_reach():
    h = {"steps": [50, 100, 150], "val_top1": [0.5, 0.1, 0.02]}
    assert steps_to_reach(h, 0.9) == 100
    assert steps_to_reach(h, 0.98) == 150
    assert steps_to_reach(h, 0.99) is None
    with pytest.raises(ValueError):
        steps_to_reach(h, 1.5)
    with pytest.raises(TypeError):
        steps_to_reach({"steps": [1]}, 0.5)
