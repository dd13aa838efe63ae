"""Checks for the exercises of the chapter "Architectures and their costs".

Every truth is computed here from the networks themselves (torchvision's VGG-16,
:func:`course_lib.costs.layer_costs`, :func:`course_lib.resources.activation_bytes`),
never typed in, and each check names the usual mistakes: biases left out or
counted twice, FLOPs reported as multiply-adds, ``groups`` ignored, receptive
fields added instead of grown by k - 1.
"""
from __future__ import annotations

import functools
from typing import Any, Dict

import torch
from torch import nn

from ..costs import layer_costs
from ..models import forsyth_cifar
from ..resources import activation_bytes
from ..training import count_parameters
from .core import (Case, Result, as_number, check_experiment, check_function, check_value, compare_arrays,
                   exercise_check, is_stub, named_mistakes, not_attempted, not_yet)

__all__ = ["check_vgg_counts", "check_stack_vs_single", "check_conv_macs", "check_bottleneck",
           "check_wider_layer"]


@functools.lru_cache(maxsize=1)
def _vgg_truth():
    import torchvision
    table = layer_costs(torchvision.models.vgg16(weights=None), (3, 224, 224))
    convs = [r for r in table if r.kind == "conv"]
    fcs = [r for r in table if r.kind == "linear"]
    return fcs[0].weights, convs[0].macs, convs[1].macs, fcs[0].weights - fcs[0].output_shape[0]


@exercise_check("answer")
def check_vgg_counts(answer: Any) -> Result:
    """Exercise 11.1: VGG-16 on a 224 x 224 image: (weights of the first fully connected layer,
    multiply-adds of conv1_1, multiply-adds of conv1_2).

    Examples
    --------
    >>> check_vgg_counts(...).status
    'not attempted'
    >>> check_vgg_counts((1, 2, 3)).status
    'fail'
    """
    title = "Exercise 11.1: VGG-16 by hand (S11.2, E14)"
    if is_stub(answer):
        return not_attempted(title, "replace the `...` with (fc6 weights, conv1_1 MACs, conv1_2 MACs).")
    fc6, m11, m12, fc6_nobias = _vgg_truth()
    expected = (fc6, m11, m12)
    mistakes = [((fc6_nobias, m11, m12), "the first number leaves out the 4,096 biases"),
                ((fc6, 2 * m11, 2 * m12), "those are FLOPs (2 per multiply-add); count multiply-adds"),
                ((fc6_nobias, 2 * m11, 2 * m12), "biases left out of fc6, and FLOPs instead of multiply-adds"),
                ((fc6, m11 // 3, m12), "conv1_1 reads all 3 colour channels: each output value takes "
                 "3 x 3 x 3 multiply-adds"),
                ((fc6, m11, m11), "conv1_2 reads the 64 maps of conv1_1, not the 3 colour channels")]
    return check_value(title, answer, expected, mistakes=mistakes, what="your prediction",
                       hints=["fc6 reads the 7 x 7 x 512 block and has 4,096 outputs, each with a bias",
                              "a convolution's multiply-adds: output values x (k * k * C_in); conv1_1 and "
                              "conv1_2 both output 64 x 224 x 224 values"],
                       success="conv1_2 needs far more multiply-adds than conv1_1 for the same output size: "
                               "what a layer costs depends on what it reads.")


@exercise_check("answer")
def check_stack_vs_single(answer: Any) -> Result:
    """Exercise 11.2: with 64 channels in and out and no biases: (weights of two stacked 3 x 3
    layers, weights of one 5 x 5 layer, receptive field of the two 3 x 3 layers).

    Examples
    --------
    >>> check_stack_vs_single(...).status
    'not attempted'
    >>> check_stack_vs_single((73728, 102400, 6)).status
    'fail'
    """
    title = "Exercise 11.2: two 3 x 3 or one 5 x 5 (S11.5)"
    if is_stub(answer):
        return not_attempted(title, "replace the `...` with (two 3x3 weights, one 5x5 weights, receptive field).")
    c = 64
    two = sum(p.numel() for p in nn.Sequential(nn.Conv2d(c, c, 3, bias=False),
                                               nn.Conv2d(c, c, 3, bias=False)).parameters())
    one = nn.Conv2d(c, c, 5, bias=False).weight.numel()
    x = torch.zeros(1, 1, 11, 11, requires_grad=True)
    y = nn.functional.conv2d(nn.functional.conv2d(x, torch.ones(1, 1, 3, 3)), torch.ones(1, 1, 3, 3))
    y[0, 0, 3, 3].backward()
    rows = torch.nonzero(x.grad[0, 0].sum(dim=1)).flatten()
    field = int(rows.max() - rows.min() + 1)                 # measured: the pixels one output reads
    expected = (two, one, field)
    mistakes = [((two + 2 * c, one + c, field), "those counts include biases; the task says no biases"),
                ((18, 25, field), "those are per pair of channels; multiply by 64 x 64"),
                ((two, one, 6), "the receptive field grows by k - 1 per layer: 3 + (3 - 1)"),
                ((two, one, 9), "receptive fields do not multiply: each extra 3 x 3 layer adds 2 pixels"),
                ((two, one, 3), "that is the field of one layer; the second layer reads 3 x 3 outputs of "
                 "the first")]
    return check_value(title, answer, expected, mistakes=mistakes, what="your prediction",
                       hints=["a layer without bias has k * k * C_in * C_out weights",
                              "a stack of L layers of k x k (stride 1) sees 1 + L(k - 1) pixels"],
                       success="Same reach, fewer weights, and one more nonlinearity in between: the VGG "
                               "argument.")


def _macs_truth(c_in, c_out, k, h_out, w_out, groups=1):
    conv = nn.Conv2d(c_in, c_out, k, padding=k // 2, groups=groups, bias=False)
    return layer_costs(nn.Sequential(conv), (c_in, h_out, w_out))[0].macs


def _macs_cases():
    settings = [("plain 3 x 3", (3, 8, 3, 5, 5), {}), ("1 x 1, non-square map", (16, 4, 1, 6, 9), {}),
                ("grouped, groups=2", (8, 6, 3, 7, 7), {"groups": 2}),
                ("depthwise, groups=C_in=C_out", (12, 12, 3, 5, 4), {"groups": 12}),
                ("grouped 5 x 5, groups=4", (16, 32, 5, 3, 3), {"groups": 4})]
    return [Case(name, args, kw, expected=_macs_truth(*args, **kw)) for name, args, kw in settings]


@exercise_check("conv_macs")
def check_conv_macs(conv_macs: Any) -> Result:
    """Exercise 11.3: ``my_conv_macs(c_in, c_out, k, h_out, w_out, groups=1)``: the multiply-adds of a
    (grouped) k x k convolution per image, bias not counted.

    Examples
    --------
    >>> check_conv_macs(lambda c_in, c_out, k, h_out, w_out, groups=1:
    ...                 c_out * h_out * w_out * (c_in // groups) * k * k).status
    'pass'
    >>> "groups" in str(check_conv_macs(lambda c_in, c_out, k, h_out, w_out, groups=1:
    ...                 c_out * h_out * w_out * c_in * k * k))
    True
    """
    cases = _macs_cases()

    def variants(expected):
        for case in cases:
            if case.expected == expected:
                c_in, c_out, k, h, w = case.args
                g = case.kwargs.get("groups", 1)
                if g > 1:
                    yield c_out * h * w * c_in * k * k, "groups is ignored: each output map reads only " \
                        "C_in / groups input maps"
                    yield c_out * h * w * c_in * k * k // (g * g), "divided by groups twice"
                yield 2 * expected, "that is FLOPs (2 per multiply-add)"
                yield c_out * h * w * k * k, "the input channels are missing"
                yield c_out * h * w * (c_in // g * k * k + 1), "the bias is counted; leave it out"
    return check_function("Exercise 11.3: multiply-adds of a grouped convolution (S11.5)", conv_macs, cases,
                          compare=named_mistakes(variants, lambda g, e: compare_arrays(g, e, rtol=0, atol=0.5)),
                          hints=["every output value is one dot product: how many inputs does it read?",
                                 "with groups=g, an output map reads C_in / g input maps"],
                          forbid=["course_lib.shapes.conv_macs", "course_lib.conv_macs",
                                  "course_lib.costs.layer_costs"],
                          forbid_reason="the exercise is to derive the count yourself",
                          success="With groups = C_in (depthwise) a 3 x 3 layer costs C_in times less than "
                                  "the full convolution.")


def _bottleneck_truth():
    c, m, s = 256, 64, 56
    bottleneck = nn.Sequential(nn.Conv2d(c, m, 1, bias=False), nn.Conv2d(m, m, 3, padding=1, bias=False),
                               nn.Conv2d(m, c, 1, bias=False))
    plain = nn.Sequential(nn.Conv2d(c, c, 3, padding=1, bias=False), nn.Conv2d(c, c, 3, padding=1, bias=False))
    tb, tp = layer_costs(bottleneck, (c, s, s)), layer_costs(plain, (c, s, s))
    return (tb.total("macs"), tp.total("macs")), tb, tp


@exercise_check("answer")
def check_bottleneck(answer: Any) -> Result:
    """Exercise 11.4: on a 256 x 56 x 56 block: (multiply-adds of ResNet-50's bottleneck 1 x 1
    256->64, 3 x 3 64->64, 1 x 1 64->256; multiply-adds of two 3 x 3 256->256 layers), no biases.

    Examples
    --------
    >>> check_bottleneck(...).status
    'not attempted'
    >>> check_bottleneck((1, 2)).status
    'fail'
    """
    title = "Exercise 11.4: the 1 x 1 bottleneck (S11.5)"
    if is_stub(answer):
        return not_attempted(title, "replace the `...` with (bottleneck MACs, plain MACs).")
    (b, p), tb, tp = _bottleneck_truth()
    mid = tb[1].macs
    mistakes = [((mid, p), "the first number is only the 3 x 3 layer; add the two 1 x 1 layers"),
                ((b, p // 2), "the plain block has two 3 x 3 layers"),
                ((2 * b, 2 * p), "those are FLOPs; count multiply-adds"),
                ((b // (56 * 56), p // (56 * 56)), "those are per position; multiply by 56 x 56")]
    return check_value(title, answer, expected=(b, p), mistakes=mistakes, what="your prediction",
                       hints=["a k x k layer: H_out x W_out x C_out x (k * k * C_in) multiply-adds",
                              "padding 1 keeps all three layers at 56 x 56"],
                       success="The 1 x 1 layers shrink the 3 x 3 layer's input and output to 64 maps, which "
                               "is where the saving comes from.")


@functools.lru_cache(maxsize=1)
def _wider_truth() -> Dict[str, float]:
    net = forsyth_cifar()
    net.conv1 = nn.Conv2d(3, 64, 5, padding=2)
    net.conv2 = nn.Conv2d(64, 32, 5, padding=2)
    table = layer_costs(net, (3, 32, 32))
    return {"parameters": float(count_parameters(net)), "macs": float(table.total("macs")),
            "train_bytes": float(activation_bytes(net, (3, 32, 32), batch_size=8)) / 8}


@exercise_check("results")
def check_wider_layer(results: Any) -> Result:
    """Exercise 11.5: Grosse's "grow a layer": Forsyth's CIFAR-10 net with conv1 widened to 64 maps
    (conv2 then reads 64). Measure ``parameters``, ``macs`` (per image) and ``train_bytes`` (training
    activation bytes per image, from a batch of 8).

    Examples
    --------
    >>> check_wider_layer({"parameters": ..., "macs": ..., "train_bytes": ...}).status
    'not attempted'
    >>> check_wider_layer({"parameters": 1, "macs": 1, "train_bytes": 1}).status
    'fail'
    """
    title = "Exercise 11.5: grow a layer (S11.7)"
    keys = ["parameters", "macs", "train_bytes"]

    def rule(values):
        t = _wider_truth()
        base = forsyth_cifar()
        if values["parameters"] == count_parameters(base):
            return "that is the parameter count of the original network: widen conv1 (and conv2's input)"
        if abs(values["parameters"] - t["parameters"]) > 0.5:
            return "the parameter count is not that of the widened network (conv1 with 64 maps, conv2 reading 64)"
        if abs(values["macs"] - 2 * t["macs"]) < 1:
            return "the multiply-adds look like FLOPs (twice as many)"
        if abs(values["macs"] - t["macs"]) > 0.5:
            return "the multiply-adds are not those of the widened network per image"
        if abs(values["train_bytes"] - 8 * t["train_bytes"]) < 0.02 * 8 * t["train_bytes"]:
            return "train_bytes is for the whole batch of 8; divide by the batch size"
        if abs(values["train_bytes"] - t["train_bytes"]) > 0.02 * t["train_bytes"]:
            return "train_bytes does not match activation_bytes(net, (3, 32, 32), batch_size=8) / 8"
        return None
    return check_experiment(title, results, keys,
                            ranges={"parameters": (1, 1e9), "macs": (1, 1e12), "train_bytes": (1, 1e12)},
                            rules=[rule],
                            hints=["replace net.conv1 and net.conv2 of forsyth_cifar() by wider nn.Conv2d layers",
                                   "layer_costs(net, (3, 32, 32)).total('macs') and activation_bytes(...) / 8"],
                            success="Compare with the original network: which of the three grew the most?")
