"""Exercise checks of chapter 12: right answers in every form pass, plausible wrong ones are named."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import problem, stub
from course_lib.exercises import core
from course_lib.exercises.interpret import (_crop, check_crop_field, check_field_sizes, check_gap_factor,
                                            check_grad_cam_map, check_softmax_gradient)
from course_lib.interpret import grad_cam


@pytest.fixture(autouse=True)
def fresh_hints():
    core.reset_hints()


# ----------------------------------------------------------------------------- 12.1
def gc_numpy(a, g):
    alpha = g.mean(axis=(1, 2))
    return np.maximum(np.tensordot(alpha, a, axes=1), 0)


def gc_torch(a, g):
    a, g = torch.as_tensor(a), torch.as_tensor(g)
    return torch.relu((g.mean(dim=(1, 2))[:, None, None] * a).sum(0))


def gc_loops(a, g):
    k, h, w = a.shape
    out = np.zeros((h, w))
    for c in range(k):
        alpha = sum(g[c, i, j] for i in range(h) for j in range(w)) / (h * w)
        out += alpha * a[c]
    return np.where(out > 0, out, 0.0)


@pytest.mark.parametrize("fn", [gc_numpy, gc_torch, gc_loops])
def test_grad_cam_map_accepts_every_form(fn):
    assert check_grad_cam_map(fn).passed


@pytest.mark.parametrize("fn, words", [
    (lambda a, g: np.tensordot(g.mean(axis=(1, 2)), a, axes=1), "Bishop"),
    (lambda a, g: np.maximum(np.tensordot(g.sum(axis=(1, 2)), a, axes=1), 0), "MEAN"),
    (lambda a, g: np.maximum(np.tensordot(np.maximum(g, 0).mean(axis=(1, 2)), a, axes=1), 0), "not on the gradients"),
    (lambda a, g: np.maximum((g * a).sum(0), 0), "averages the gradient"),
    (lambda a, g: np.maximum(np.tensordot(a.mean(axis=(1, 2)), g, axes=1), 0), "swapped"),
])
def test_grad_cam_map_names_mistakes(fn, words):
    r = check_grad_cam_map(fn)
    assert r.status == core.FAIL and words in problem(r)


def test_grad_cam_map_forbids_the_library():
    from course_lib import interpret

    def cheat(a, g):
        interpret.grad_cam(None, "x", None)
    r = check_grad_cam_map(cheat)
    assert r.status == core.FAIL


# ----------------------------------------------------------------------------- 12.2
@pytest.mark.parametrize("answer", [1 / 64, 0.015625, np.float32(1 / 64), torch.tensor(1 / 64)])
def test_gap_factor_accepts(answer):
    assert check_gap_factor(answer).passed


@pytest.mark.parametrize("answer, words", [(1, "average pool divides"), (64, "divides, it does not"),
                                           (1 / 8, "8 x 8"), (1 / 4096, "once")])
def test_gap_factor_names_mistakes(answer, words):
    r = check_gap_factor(answer)
    assert r.status == core.FAIL and words in str(r) and "0.0156" not in str(r)


def test_gap_factor_matches_the_library():
    # the truth the check uses is what grad_cam computes on a GAP network
    from collections import OrderedDict
    from torch import nn
    torch.manual_seed(0)
    net = nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 4, 3, padding=1), relu=nn.ReLU(),
                                    gap=nn.AdaptiveAvgPool2d(1), flat=nn.Flatten(), fc=nn.Linear(4, 3))).double()
    from course_lib.interpret import grad_cam_parts
    parts = grad_cam_parts(net, "relu", torch.rand(1, 3, 8, 8, dtype=torch.float64), target=2)
    np.testing.assert_allclose(parts.weights[0] / net.fc.weight[2].detach().numpy(), 1 / 64, rtol=1e-10)
    assert check_gap_factor(float(parts.weights[0, 0] / net.fc.weight[2, 0].detach())).passed


# ----------------------------------------------------------------------------- 12.3
def sg_numpy(z, c):
    p = np.exp(z - z.max())
    p /= p.sum()
    return p[c] * (np.eye(len(z))[c] - p)


def sg_loops(z, c):
    e = [np.exp(v) for v in z]
    s = sum(e)
    p = [v / s for v in e]
    return [p[c] * (1 - p[c]) if j == c else -p[c] * p[j] for j in range(len(z))]


def sg_torch(z, c):
    p = torch.softmax(torch.as_tensor(z), 0)
    return -p[c] * p + p[c] * torch.nn.functional.one_hot(torch.tensor(c), len(z))


@pytest.mark.parametrize("fn", [sg_numpy, sg_loops, sg_torch])
def test_softmax_gradient_accepts(fn):
    assert check_softmax_gradient(fn).passed


def test_softmax_gradient_matches_autograd():
    z = torch.tensor([0.3, -1.2, 2.0, 0.1], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(torch.softmax(z, 0)[2], z)
    np.testing.assert_allclose(sg_numpy(z.detach().numpy(), 2), g.numpy(), rtol=1e-12)


@pytest.mark.parametrize("fn, words", [
    (lambda z, c: np.eye(len(z))[c] - np.exp(z) / np.exp(z).sum(), "log p_c"),
    (lambda z, c: (lambda p: p[c] * (1 - p[c]) * np.eye(len(z))[c])(np.exp(z) / np.exp(z).sum()), "denominator"),
    (lambda z, c: (lambda p: p[c] * np.abs(np.eye(len(z))[c] - p))(np.exp(z) / np.exp(z).sum()), "negative"),
    (lambda z, c: -sg_numpy(z, c), "sign"),
    (lambda z, c: np.eye(len(z))[c], "score z_c"),
])
def test_softmax_gradient_names_mistakes(fn, words):
    r = check_softmax_gradient(fn)
    assert r.status == core.FAIL and words in problem(r)


def test_softmax_gradient_forbids_autograd():
    def cheat(z, c):
        zt = torch.tensor(z, requires_grad=True)
        return torch.autograd.grad(torch.softmax(zt, 0)[c], zt)[0]
    assert check_softmax_gradient(cheat).status == core.FAIL


# ----------------------------------------------------------------------------- 12.4
@pytest.mark.parametrize("answer", [(15, 35), [15, 35], np.array([15, 35]), (15.0, 35.0)])
def test_field_sizes_accepts(answer):
    assert check_field_sizes(answer).passed


@pytest.mark.parametrize("answer, words", [((9, 13), "pooling layers widen"), ((11, 17), "jump"),
                                           ((13, 29), "(3 - 1) x jump"), ((15, 31), "second pool"),
                                           ((15, 34), "not right yet")])
def test_field_sizes_names_mistakes(answer, words):
    r = check_field_sizes(answer)
    assert r.status == core.FAIL and words in str(r) and "35" not in str(r).replace(str(answer), "")


# ----------------------------------------------------------------------------- 12.5
def crop_loops(image, row, col, size, jump, start, fill):
    c, h, w = image.shape
    out = np.full((c, size, size), float(fill))
    for i in range(size):
        for j in range(size):
            y, x = start + row * jump + i, start + col * jump + j
            if 0 <= y < h and 0 <= x < w:
                out[:, i, j] = image[:, y, x]
    return out


def crop_torch(image, row, col, size, jump, start, fill):
    img = torch.as_tensor(image)
    pad = size + abs(start) + 64
    padded = torch.nn.functional.pad(img, (pad, pad, pad, pad), value=fill)
    r0, c0 = start + row * jump + pad, start + col * jump + pad
    return padded[:, r0:r0 + size, c0:c0 + size]


@pytest.mark.parametrize("fn", [_crop, crop_loops, crop_torch])
def test_crop_field_accepts(fn):
    assert check_crop_field(fn).passed


@pytest.mark.parametrize("fn, words", [
    (lambda im, r, c, s, j, st, f: _crop(im, r, c, s, j, 0, f), "start"),
    (lambda im, r, c, s, j, st, f: _crop(im, r, c, s, 1, st, f), "jump"),
    (lambda im, r, c, s, j, st, f: _crop(im, c, r, s, j, st, f), "swapped"),
    (lambda im, r, c, s, j, st, f: _crop(im, r, c, s, j, st, 0.0), "fill"),
])
def test_crop_field_names_mistakes(fn, words):
    r = check_crop_field(fn)
    assert r.status == core.FAIL and words in problem(r)


def test_crop_matches_top_patches():
    # the exercise's crop is the library's patch
    from course_lib.interpret import field_layers, top_patches
    from course_lib.models import forsyth_cifar
    from course_lib.receptive_field import receptive_fields
    net = forsyth_cifar(seed=0)
    x = torch.rand(6, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    tp = top_patches(net, "conv2", x, channel=0, k=3, fill=0.25)
    info = receptive_fields([g for _, g in field_layers(net, "conv2")], 32)[-1]
    for j in range(3):
        expect = _crop(x[tp.index[j]].numpy(), *tp.unit[j], info.size, info.jump, info.start, 0.25)
        np.testing.assert_allclose(tp.patches[j], expect, rtol=0, atol=1e-7)


def test_stubs_are_not_attempted():
    for check in (check_grad_cam_map, check_softmax_gradient, check_crop_field):
        assert check(stub).status == core.NOT_ATTEMPTED
    for check in (check_gap_factor, check_field_sizes):
        assert check(...).status == core.NOT_ATTEMPTED
