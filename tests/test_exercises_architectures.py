"""Chapter 11's checks: right answers in every form pass, the usual mistakes are named, nothing is spoiled."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from course_lib.costs import layer_costs
from course_lib.exercises.architectures import (check_bottleneck, check_conv_macs, check_stack_vs_single,
                                                check_vgg_counts, check_wider_layer)
from course_lib.models import forsyth_cifar
from course_lib.resources import activation_bytes
from course_lib.training import count_parameters

VGG = (102_764_544, 86_704_128, 1_849_688_064)


def test_vgg_counts():
    assert check_vgg_counts(VGG).status == "pass"
    assert check_vgg_counts(np.array(VGG)).status == "pass"
    assert check_vgg_counts([float(v) for v in VGG]).status == "pass"
    r = check_vgg_counts((102_760_448, VGG[1], VGG[2]))
    assert r.status == "fail" and "biases" in str(r) and "102,764,544" not in str(r) and "102764544" not in str(r)
    assert "FLOPs" in str(check_vgg_counts((VGG[0], 2 * VGG[1], 2 * VGG[2])))
    assert "conv1_2 reads" in str(check_vgg_counts((VGG[0], VGG[1], VGG[1])))
    assert check_vgg_counts(...).status == "not attempted"


def test_stack_vs_single():
    assert check_stack_vs_single((73_728, 102_400, 5)).status == "pass"
    assert "biases" in str(check_stack_vs_single((73_856, 102_464, 5)))
    assert "k - 1" in str(check_stack_vs_single((73_728, 102_400, 6)))
    assert "per pair" in str(check_stack_vs_single((18, 25, 5)))
    assert check_stack_vs_single("5").status == "fail"


def test_conv_macs():
    good = lambda c_in, c_out, k, h_out, w_out, groups=1: c_out * h_out * w_out * (c_in // groups) * k * k
    assert check_conv_macs(good).status == "pass"
    as_float = lambda a, b, k, h, w, g=1: float(good(a, b, k, h, w, g))
    assert check_conv_macs(as_float).status == "pass"                     # any parameter names
    no_groups = lambda c_in, c_out, k, h_out, w_out, groups=1: c_out * h_out * w_out * c_in * k * k
    assert "groups is ignored" in str(check_conv_macs(no_groups))
    flops = lambda c_in, c_out, k, h_out, w_out, groups=1: 2 * good(c_in, c_out, k, h_out, w_out, groups)
    assert "FLOPs" in str(check_conv_macs(flops))

    def shortcut(c_in, c_out, k, h_out, w_out, groups=1):
        import course_lib
        return course_lib.conv_macs(c_in, c_out, k, h_out, w_out, groups)
    assert check_conv_macs(shortcut).status == "fail"


def test_bottleneck():
    b = 56 * 56 * (64 * 256 + 64 * 64 * 9 + 256 * 64)
    p = 2 * 56 * 56 * 256 * 256 * 9
    assert check_bottleneck((b, p)).status == "pass"
    assert "only the 3 x 3" in str(check_bottleneck((56 * 56 * 64 * 64 * 9, p)))
    assert "two 3 x 3" in str(check_bottleneck((b, p // 2)))
    assert str(b) not in str(check_bottleneck((1, 2)))


def test_wider_layer():
    wide = forsyth_cifar()
    wide.conv1 = nn.Conv2d(3, 64, 5, padding=2)
    wide.conv2 = nn.Conv2d(64, 32, 5, padding=2)
    right = {"parameters": count_parameters(wide), "macs": layer_costs(wide, (3, 32, 32)).total("macs"),
             "train_bytes": activation_bytes(wide, (3, 32, 32), batch_size=8) / 8}
    assert check_wider_layer(right).status == "pass"
    assert check_wider_layer({k: torch.tensor(float(v)) for k, v in right.items()}).status == "pass"
    base = forsyth_cifar()
    assert "original network" in str(check_wider_layer({**right, "parameters": count_parameters(base)}))
    assert "whole batch" in str(check_wider_layer({**right, "train_bytes": 8 * right["train_bytes"]}))
    assert "FLOPs" in str(check_wider_layer({**right, "macs": 2 * right["macs"]}))
    assert check_wider_layer({"parameters": ..., "macs": ..., "train_bytes": ...}).status == "not attempted"
