"""Tests of course_lib.interpret: Grad-CAM against independent computations, the regularised ascents,
top patches against the receptive-field arithmetic."""
from collections import OrderedDict

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn

from course_lib.interpret import (activation_maximisation, channel_maxima, neighbour_agreement, class_activation_map, deepdream, field_layers,
                                  find_layer, gaussian_blur, grad_cam, grad_cam_parts, layer_output,
                                  top_patches, upsample_cam, with_channel_statistics)
from course_lib.models import PaddedPool2d, forsyth_cifar
from course_lib.receptive_field import Layer, receptive_fields
from course_lib.trained import PixelWhiten


def gap_net(k=6, classes=4, seed=0, dtype=torch.float64):
    """conv features -> global average pool -> linear: the network of class activation mapping."""
    torch.manual_seed(seed)
    net = nn.Sequential(OrderedDict(
        conv1=nn.Conv2d(3, 5, 3, padding=1), relu1=nn.ReLU(),
        conv2=nn.Conv2d(5, k, 3, padding=1), relu2=nn.ReLU(),
        gap=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(), fc=nn.Linear(k, classes)))
    return net.to(dtype)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.integers(4, 12), k=st.integers(1, 8), classes=st.integers(2, 6),
       n=st.integers(1, 4))
def test_grad_cam_equals_cam_on_gap_network(seed, size, k, classes, n):
    # alpha_k = w_ck / (H W) exactly, so Grad-CAM = ReLU(CAM) / (H W): CAM up to a positive factor
    net = gap_net(k, classes, seed)
    x = torch.rand(n, 3, size, size, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    target = np.random.default_rng(seed).integers(0, classes, n)
    feats = layer_output(net, "relu2", x)
    cam = class_activation_map(feats, net.fc.weight, target)
    gc = grad_cam(net, "relu2", x, target)
    np.testing.assert_allclose(gc, np.maximum(cam, 0) / size ** 2, rtol=1e-10, atol=1e-12)
    signed = grad_cam(net, "relu2", x, target, relu=False)
    np.testing.assert_allclose(signed, cam / size ** 2, rtol=1e-10, atol=1e-12)
    # CAM's spatial mean is the class score minus the bias
    logits = net(x).detach().numpy()
    np.testing.assert_allclose(cam.mean(axis=(1, 2)) + net.fc.bias.detach().numpy()[target],
                               logits[np.arange(n), target], rtol=1e-10, atol=1e-10)


def test_grad_cam_matches_finite_differences_and_manual_formula():
    # an independent computation: alpha from central finite differences on the layer's output
    torch.manual_seed(1)
    body = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Tanh()).double()
    head = nn.Sequential(nn.Conv2d(4, 3, 3), nn.Tanh(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5)).double()
    net = nn.Sequential(OrderedDict(body=body, head=head))
    x = torch.rand(2, 3, 6, 6, dtype=torch.float64)
    parts = grad_cam_parts(net, "body", x, target=[2, 4])
    a = body(x).detach()
    h = 1e-6
    for n, t in enumerate([2, 4]):
        grads = np.zeros(a.shape[1:])
        for idx in np.ndindex(*a.shape[1:]):
            plus, minus = a[n:n + 1].clone(), a[n:n + 1].clone()
            plus[(0,) + idx] += h
            minus[(0,) + idx] -= h
            with torch.no_grad():
                grads[idx] = float(head(plus)[0, t] - head(minus)[0, t]) / (2 * h)
        np.testing.assert_allclose(parts.gradients[n], grads, rtol=1e-6, atol=1e-8)
        alpha = grads.mean(axis=(1, 2))
        np.testing.assert_allclose(parts.weights[n], alpha, rtol=1e-6, atol=1e-8)
        manual = np.maximum((alpha[:, None, None] * a[n].numpy()).sum(0), 0)
        np.testing.assert_allclose(grad_cam(net, "body", x, [2, 4])[n], manual, rtol=1e-6, atol=1e-8)


def test_grad_cam_default_target_is_prediction_and_batches_are_independent():
    net = forsyth_cifar(seed=0).double()
    x = torch.rand(5, 3, 32, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    parts = grad_cam_parts(net, "relu3", x)
    np.testing.assert_array_equal(parts.target, net(x).argmax(1).numpy())
    one_by_one = np.stack([grad_cam(net, "relu3", x[i:i + 1])[0] for i in range(5)])
    np.testing.assert_allclose(grad_cam(net, "relu3", x), one_by_one, rtol=1e-10, atol=1e-12)
    assert (grad_cam(net, "relu3", x) >= 0).all()


def test_grad_cam_restores_training_mode_and_uses_eval():
    net = forsyth_cifar(seed=0, dropout=0.5)
    net.train()
    x = torch.rand(2, 3, 32, 32)
    a, b = grad_cam(net, "relu3", x), grad_cam(net, "relu3", x)
    np.testing.assert_array_equal(a, b)         # dropout off while the map is computed
    assert net.training and net.drop1.training


def test_grad_cam_bad_input():
    net = forsyth_cifar(seed=0)
    x = torch.rand(2, 3, 32, 32)
    with pytest.raises(ValueError, match="layer"):
        grad_cam(net, "conv9", x)
    with pytest.raises(ValueError, match="Grad-CAM needs a convolutional"):
        grad_cam(net, "flatten", x)
    with pytest.raises(ValueError, match="target"):
        grad_cam(net, "relu3", x, target=10)
    with pytest.raises(ValueError, match="target"):
        grad_cam(net, "relu3", x, target=[1, 2, 3])
    with pytest.raises(TypeError, match="target"):
        grad_cam(net, "relu3", x, target=1.5)
    with pytest.raises(ValueError, match="images"):
        grad_cam(net, "relu3", x[0])
    with pytest.raises(TypeError, match="model"):
        grad_cam("net", "relu3", x)
    with pytest.raises(TypeError, match="relu"):
        grad_cam(net, "relu3", x, relu=1)


def test_find_layer():
    net = nn.Sequential(OrderedDict(net=forsyth_cifar()))
    assert find_layer(net, "conv3")[0] == "net.conv3"
    assert find_layer(net, "net.conv3")[0] == "net.conv3"
    with pytest.raises(ValueError, match="not a module"):
        find_layer(net, "conv7")
    with pytest.raises(TypeError):
        find_layer(net, 3)


def test_upsample_cam():
    cam = np.array([[[1.0, 3.0], [0.0, 2.0]]])
    up = upsample_cam(cam, 4, mode="nearest")
    assert up.shape == (1, 4, 4) and up.max() == 1.0
    np.testing.assert_allclose(up[0, :2, 2:], 1.0)
    raw = upsample_cam(cam, (2, 2), normalise=False)
    np.testing.assert_allclose(raw, cam)               # same size: unchanged
    assert upsample_cam(np.zeros((3, 3)), 6).max() == 0
    with pytest.raises(ValueError, match="mode"):
        upsample_cam(cam, 4, mode="area")
    with pytest.raises(ValueError, match="cam"):
        upsample_cam(np.zeros(3), 4)


def test_gaussian_blur_matches_separable_reference():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(2, 3, 11, 13)))
    sigma = 1.3
    y = gaussian_blur(x, sigma).numpy()
    r = int(np.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    pad = np.pad(x.numpy(), ((0, 0), (0, 0), (r, r), (r, r)), mode="reflect")
    ref = np.zeros_like(x.numpy())
    for i in range(11):
        for j in range(13):
            ref[:, :, i, j] = np.einsum("ncij,i,j->nc", pad[:, :, i:i + 2 * r + 1, j:j + 2 * r + 1], k, k)
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(gaussian_blur(x, 0.0).numpy(), x.numpy())
    with pytest.raises(ValueError, match="sigma"):
        gaussian_blur(x, -1.0)


def test_activation_maximisation_raises_the_objective_and_respects_bounds():
    net = forsyth_cifar(seed=0)
    res = activation_maximisation(net, 2, steps=30, lr=0.02, l2=0.01, blur_sigma=0.5, clip=0.2)
    assert res.image.shape == (3, 32, 32)
    assert res.image.min() >= 0 and res.image.max() <= 1
    assert res.history[-1] > res.history[0]
    with torch.no_grad():
        logits = net(torch.from_numpy(res.image)[None]).numpy()[0]
    np.testing.assert_allclose(res.logits, logits, rtol=1e-5, atol=1e-5)
    prob = activation_maximisation(net, 2, steps=30, objective="probability")
    assert 0 <= prob.history[0] <= 1 and prob.history[-1] > prob.history[0]
    hidden = activation_maximisation(net, 7, layer="conv2", steps=20)
    assert hidden.history[-1] > hidden.history[0]
    at = activation_maximisation(net, 7, layer="conv2", steps=5, position=(3, 4))
    assert at.history[-1] > at.history[0]


def test_activation_maximisation_batch_equals_one_by_one():
    net = forsyth_cifar(seed=0).double()
    init = torch.rand(3, 32, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    kw = dict(steps=6, l2=0.01, blur_sigma=0.6, blur_every=2, clip=0.3, init=init)
    both = activation_maximisation(net, [1, 5], **kw)
    assert both.image.shape == (2, 3, 32, 32) and both.history.shape == (6, 2)
    for j, u in enumerate([1, 5]):
        one = activation_maximisation(net, u, **kw)
        np.testing.assert_allclose(both.image[j], one.image, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(both.history[:, j], one.history, rtol=1e-9)
        np.testing.assert_allclose(both.start_logits[j], one.start_logits, rtol=1e-9)
    hidden = activation_maximisation(net, [0, 3], layer="conv2", steps=3)
    assert hidden.image.shape == (2, 3, 32, 32)


def test_activation_maximisation_regularisers():
    net = forsyth_cifar(seed=0)
    # full L2 decay each step: the image is grey after any step
    grey = activation_maximisation(net, 1, steps=3, l2=1.0)
    np.testing.assert_allclose(grey.image, 0.5)
    # clipping keeps at most the top (1 - clip) fraction of pixels away from grey
    clipped = activation_maximisation(net, 1, steps=10, clip=0.75)
    moved = (np.abs(clipped.image - 0.5).sum(axis=0) > 0).mean()
    assert moved <= 0.25 + 1e-9
    # blurring smooths: neighbouring pixels differ less
    sharp = activation_maximisation(net, 1, steps=40)
    smooth = activation_maximisation(net, 1, steps=40, blur_sigma=1.0, blur_every=1)
    tv = lambda im: np.abs(np.diff(im, axis=-1)).mean()
    assert tv(smooth.image) < tv(sharp.image)


def test_activation_maximisation_is_seeded_and_checks_input():
    net = forsyth_cifar(seed=0)
    a = activation_maximisation(net, 4, steps=5, seed=3)
    b = activation_maximisation(net, 4, steps=5, seed=3)
    np.testing.assert_array_equal(a.image, b.image)
    with pytest.raises(ValueError, match="objective"):
        activation_maximisation(net, 4, objective="logit")
    with pytest.raises(ValueError, match="unit"):
        activation_maximisation(net, 10, steps=1)
    with pytest.raises(ValueError, match="probability"):
        activation_maximisation(net, 4, layer="conv2", objective="probability")
    with pytest.raises(ValueError, match="l2"):
        activation_maximisation(net, 4, l2=2.0)
    with pytest.raises(ValueError, match="channel"):
        activation_maximisation(net, 32, layer="conv2", steps=1)
    with pytest.raises(ValueError, match="position"):
        activation_maximisation(net, 3, layer="conv2", position=(16, 0), steps=1)
    with pytest.raises(TypeError, match="steps"):
        activation_maximisation(net, 4, steps=2.5)


def test_deepdream_gradient_is_the_activation():
    # Bishop: set the backprop deltas of the layer to its pre-activations. For a linear layer a = W x
    # the ascent direction is W^T a = W^T W x; one step with lr must move along it (normalised).
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, bias=False).double()
    net = nn.Sequential(OrderedDict(conv=conv, flatten=nn.Flatten()))
    x = torch.rand(3, 8, 8, dtype=torch.float64) * 0.5 + 0.25
    dream = deepdream(net, "conv", x, steps=1, lr=1e-3)
    a = conv(x[None])
    g = torch.nn.grad.conv2d_input((1, 3, 8, 8), conv.weight, a)[0]
    expect = (x + 1e-3 * g / g.abs().mean()).clamp(0, 1)
    np.testing.assert_allclose(dream.image, expect.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dream.history[0], 0.5 * float((a.detach() ** 2).sum()), rtol=1e-12)


def test_deepdream_raises_F_and_keeps_size():
    net = forsyth_cifar(seed=0)
    img = torch.rand(3, 30, 44, generator=torch.Generator().manual_seed(0))
    dream = deepdream(net, "conv2", img, steps=4, octaves=2, jitter=2, blur_sigma=0.5, channels=[1, 2])
    assert dream.image.shape == (3, 30, 44) and len(dream.history) == 8
    assert dream.image.min() >= 0 and dream.image.max() <= 1
    assert dream.history[3] > dream.history[0]
    with pytest.raises(ValueError, match="channels"):
        deepdream(net, "conv2", img, steps=1, channels=[99])
    with pytest.raises(ValueError, match="image"):
        deepdream(net, "conv2", img[None], steps=1)


def test_with_channel_statistics():
    pre = PixelWhiten((3, 4, 4)).fit(torch.rand(10, 3, 4, 4))
    model = nn.Sequential(OrderedDict(preprocess=pre, net=nn.Conv2d(3, 2, 3)))
    flat = with_channel_statistics(model)
    x = torch.rand(2, 3, 4, 4)
    mean = pre.mean.mean(dim=(2, 3), keepdim=True)
    scale = (pre.std + pre.eps).mean(dim=(2, 3), keepdim=True)
    torch.testing.assert_close(flat(x), model.net((x - mean) / scale))
    assert isinstance(model.preprocess, PixelWhiten)        # the original is untouched
    assert flat(torch.rand(1, 3, 17, 9)).shape == (1, 2, 15, 7)
    with pytest.raises(ValueError, match="PixelWhiten"):
        with_channel_statistics(nn.Conv2d(1, 1, 1))


def test_field_layers_match_model_geometry():
    net = forsyth_cifar()
    names = [n for n, _ in field_layers(net, "conv4")]
    assert names == ["conv1", "pool1", "conv2", "pool2", "conv3", "pool3", "conv4"]
    x = torch.zeros(1, 3, 32, 32)
    for layer in ["conv1", "pool1", "conv2", "pool2", "conv3", "pool3", "conv4"]:
        geo = [g for _, g in field_layers(net, layer)]
        assert receptive_fields(geo, 32)[-1].output_size == layer_output(net, layer, x).shape[-1]
    with pytest.raises(ValueError, match="not a convolution"):
        field_layers(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), "1")


@pytest.mark.parametrize("pad", [(0, 1, 0, 1), (0, 0, 0, 0)])
def test_padded_pool_as_ceil_mode_has_the_same_fields(pad):
    # every output unit of PaddedPool2d reads exactly the pixels its Layer field says (autograd on ones)
    pool = PaddedPool2d("avg", 3, 2, pad=pad)
    net = nn.Sequential(OrderedDict(conv=nn.Conv2d(1, 1, 5, padding=2, bias=False), pool=pool)).double()
    with torch.no_grad():
        net.conv.weight.fill_(1.0)
    geo = [g for _, g in field_layers(net, "pool")]
    info = receptive_fields(geo, 16)[-1]
    x = torch.rand(1, 1, 16, 16, dtype=torch.float64, requires_grad=True)
    y = net(x)
    assert y.shape[-1] == info.output_size
    for r in range(info.output_size):
        (g,) = torch.autograd.grad(y[0, 0, r, 0], x, retain_graph=True)
        rows = np.flatnonzero(g[0, 0].sum(1).numpy())
        first, last = info.span(r)
        assert rows[0] == max(first, 0) and rows[-1] == min(last, 15)


def test_top_patches_against_brute_force():
    net = forsyth_cifar(seed=0)
    x = torch.rand(30, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    tp = top_patches(net, "conv2", x, channel=3, k=5, fill=-1.0)
    again = top_patches(net, "conv2", x, channel=3, k=5, fill=-1.0, maxima=channel_maxima(net, "conv2", x,
                                                                                          batch_size=7))
    np.testing.assert_array_equal(tp.patches, again.patches)
    acts = layer_output(net, "conv2", x)[:, 3]
    best = acts.reshape(30, -1).max(1).values.numpy()
    order = np.argsort(-best, kind="stable")[:5]
    np.testing.assert_array_equal(tp.index, order)
    np.testing.assert_allclose(tp.value, best[order], rtol=1e-6)
    info = receptive_fields([g for _, g in field_layers(net, "conv2")], 32)[-1]
    assert info.size == 15 and tp.patches.shape == (5, 3, 15, 15)
    for j, i in enumerate(tp.index):
        r, c = tp.unit[j]
        assert acts[i, r, c] == acts[i].max()
        r0, r1 = max(info.span(r)[0], 0), min(info.span(r)[1], 31)
        c0, c1 = max(info.span(c)[0], 0), min(info.span(c)[1], 31)
        np.testing.assert_array_equal(tp.box[j], [r0, r1, c0, c1])
        inside = tp.patches[j][:, r0 - info.span(r)[0]:r1 - info.span(r)[0] + 1,
                               c0 - info.span(c)[0]:c1 - info.span(c)[0] + 1]
        np.testing.assert_array_equal(inside, x[i, :, r0:r1 + 1, c0:c1 + 1].numpy())
        assert (tp.patches[j] == -1.0).sum() == 3 * (15 * 15 - (r1 - r0 + 1) * (c1 - c0 + 1))


def test_top_patches_checks_input():
    net = forsyth_cifar(seed=0)
    x = torch.rand(4, 3, 32, 32)
    with pytest.raises(ValueError, match="k="):
        top_patches(net, "conv2", x, 0, k=5)
    with pytest.raises(ValueError, match="channel"):
        top_patches(net, "conv2", x, 32, k=2)
    with pytest.raises(ValueError, match="square"):
        top_patches(net, "conv2", torch.rand(4, 3, 32, 30), 0, k=2)


def test_layer_output_batches():
    net = forsyth_cifar(seed=0)
    x = torch.rand(7, 3, 32, 32)
    a = layer_output(net, "relu4", x, batch_size=3)
    with torch.no_grad():
        b = net[:11](x)
    torch.testing.assert_close(a, b)
    u8 = (x * 255).round().to(torch.uint8)
    torch.testing.assert_close(layer_output(net, "conv1", u8), layer_output(net, "conv1", u8.float() / 255))


def test_neighbour_agreement_against_brute_force():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    y = rng.integers(0, 3, 40)
    for k in (1, 3, 4):
        right = 0
        for i in range(40):
            d = np.linalg.norm(x - x[i], axis=1)
            d[i] = np.inf
            idx = np.argsort(d, kind="stable")[:k]
            right += (y[idx] == y[i]).sum() * 2 > k
        assert neighbour_agreement(x, y, k) == right / 40
    with pytest.raises(ValueError, match="k must be smaller"):
        neighbour_agreement(x, y, 40)
    with pytest.raises(ValueError, match="labels"):
        neighbour_agreement(x, y[:3], 1)
