"""resources: parameter and activation bytes (exact on small nets), timing structure, checkpointing."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from course_lib.models import forsyth_cifar
from course_lib.resources import activation_bytes, checkpoint_comparison, forward_backward_time, parameter_bytes


def mlp():
    return nn.Sequential(nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10))


def test_parameter_bytes():
    net = mlp()
    assert parameter_bytes(net) == 4 * sum(p.numel() for p in net.parameters())
    assert parameter_bytes(net.double()) == 8 * sum(p.numel() for p in net.parameters())
    shared = nn.Linear(4, 4)
    assert parameter_bytes(nn.Sequential(shared, shared)) == parameter_bytes(shared)   # counted once
    bn = nn.BatchNorm2d(3)
    assert parameter_bytes(bn, buffers=True) == 4 * (6 + 6) + 8


def test_activation_bytes_exact_on_a_small_net():
    net = mlp()
    # training: input 400 B, the ReLU output autograd saves 400 B, the output 40 B (linear 1's output is freed)
    assert activation_bytes(net, (1, 1, 100)) == 840
    # eval: the peak is the input, linear 1's output and the ReLU output at once
    assert activation_bytes(net, (1, 1, 100), mode="eval") == 1200
    assert net.training                                     # mode restored


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_activation_bytes_grow_linearly_with_the_batch(mode):
    net = forsyth_cifar(seed=0)
    one = activation_bytes(net, (3, 32, 32), batch_size=1, mode=mode)
    four = activation_bytes(net, (3, 32, 32), batch_size=4, mode=mode)
    assert four == 4 * one


def test_training_keeps_more_than_test_time_for_a_conv_net():
    net = forsyth_cifar(seed=0)
    train = activation_bytes(net, (3, 32, 32), batch_size=2)
    test = activation_bytes(net, (3, 32, 32), batch_size=2, mode="eval")
    conv1_out = 2 * 32 * 32 * 32 * 4
    assert test >= conv1_out + 2 * 3 * 32 * 32 * 4      # input and conv1's output are alive together
    assert train > 2 * conv1_out


def test_checkpointing_keeps_less_and_gives_the_same_gradients():
    net = nn.Sequential(*[nn.Sequential(nn.Linear(64, 64), nn.Tanh()) for _ in range(6)])
    plain = activation_bytes(net, (1, 1, 64), batch_size=8)
    ckpt = activation_bytes(net, (1, 1, 64), batch_size=8, checkpoint_segments=3)
    assert ckpt < plain
    r = checkpoint_comparison(net, (1, 1, 64), batch_size=8, segments=3, repeats=1)
    assert r["plain_bytes"] == plain and r["checkpoint_bytes"] == ckpt
    assert r["max_grad_difference"] < 1e-6
    assert r["plain_s"] > 0 and r["checkpoint_s"] > 0


def test_forward_backward_time_structure():
    net = mlp()
    before = [p.detach().clone() for p in net.parameters()]
    t = forward_backward_time(net, (1, 1, 100), batch_size=4, repeats=2, warmup=0)
    assert set(t) == {"forward_s", "backward_s", "ratio"}
    assert t["forward_s"] > 0 and t["backward_s"] > 0
    assert math.isclose(t["ratio"], t["backward_s"] / t["forward_s"])
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))   # timing never updates weights
    assert all(p.grad is None for p in net.parameters())


@pytest.mark.parametrize("call, exc, match", [
    (lambda: parameter_bytes("net"), TypeError, "^model must be"),
    (lambda: parameter_bytes(mlp(), buffers=1), TypeError, "^buffers must be"),
    (lambda: activation_bytes(mlp(), (100,)), ValueError, r"^input_shape must be \(C, H, W\)"),
    (lambda: activation_bytes(mlp(), 100), TypeError, "^input_shape must be a tuple"),
    (lambda: activation_bytes(mlp(), (1, 1, 100), batch_size=0), ValueError, "^batch_size must be >= 1"),
    (lambda: activation_bytes(mlp(), (1, 1, 100), mode="test"), ValueError, "^mode must be"),
    (lambda: activation_bytes(mlp(), (1, 1, 100), mode="eval", checkpoint_segments=2), ValueError,
     "^checkpoint_segments only applies"),
    (lambda: activation_bytes(mlp(), (1, 1, 7)), ValueError, "^the model cannot run"),
    (lambda: forward_backward_time(mlp(), (1, 1, 100), repeats=0), ValueError, "^repeats must be >= 1"),
    (lambda: checkpoint_comparison(nn.Linear(3, 3), (1, 1, 3)), TypeError, "^model must be an nn.Sequential"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
