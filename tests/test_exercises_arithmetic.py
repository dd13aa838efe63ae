"""Tests for the layer-arithmetic exercise checks (course_lib.exercises.arithmetic).

Each check must PASS the right answer, say NOT ATTEMPTED for the stub, and FAIL
plausible wrong answers with a message that names the mistake.
"""
from __future__ import annotations

import pytest
import torch

from course_lib.exercises.arithmetic import (check_conv_macs, check_dilated_output_size,
                                             check_layer_prediction, check_param_count,
                                             check_transposed_output_size)
from conftest import problem, stub


# ---------------------------------------------------------------- parameter count
def params_right(k, c_in, c_out):
    return (k * k * c_in + 1) * c_out


@pytest.mark.parametrize("fn", [params_right, lambda k, ci, co: k ** 2 * ci * co + co])
def test_param_count_passes(fn):
    assert check_param_count(fn).status == "pass"


@pytest.mark.parametrize("fn", [stub, ...])
def test_param_count_not_attempted(fn):
    r = check_param_count(fn)
    assert r.status == "not attempted" and "NOT ATTEMPTED" in str(r)


@pytest.mark.parametrize("fn, words", [
    (lambda k, ci, co: k * k * ci * co, "biases are missing"),
    (lambda k, ci, co: k * k * co + co, "input channels are missing"),
    (lambda k, ci, co: k * ci * co + co, "k * k"),
    (lambda k, ci, co: k * k * ci + 1, "one filter"),
    (lambda k, ci, co: k * k * ci * co + ci, "per *output* channel"),
    (lambda k, ci, co: (k * k + 1) * ci * co, "one bias per filter"),
])
def test_param_count_names_the_mistake(fn, words):
    r = check_param_count(fn)
    assert r.status == "fail"
    assert words in problem(r)


def test_param_count_student_exception_is_reported_without_traceback():
    r = check_param_count(lambda k, ci, co: 1 / 0)
    assert r.status == "fail" and "ZeroDivisionError" in r.message and "Traceback" not in str(r)


# ---------------------------------------------------------------- multiply-adds
def test_macs_passes():
    assert check_conv_macs(lambda k, ci, co, h, w: k * k * ci * co * h * w).status == "pass"


def test_macs_not_attempted():
    assert check_conv_macs(stub).status == "not attempted"


@pytest.mark.parametrize("fn, words", [
    (lambda k, ci, co, h, w: 2 * k * k * ci * co * h * w, "FLOPs"),
    (lambda k, ci, co, h, w: k * k * co * h * w, "input channels are missing"),
    (lambda k, ci, co, h, w: k * k * ci * h * w, "output channels are missing"),
    (lambda k, ci, co, h, w: k * k * ci * co, "one output position"),
    (lambda k, ci, co, h, w: k * k * ci * co * h * w + co * h * w, "biases are additions"),
    (lambda k, ci, co, h, w: (k * k * ci + 1) * co, "parameter count"),
    (lambda k, ci, co, h, w: k * ci * co * h * w, "k * k"),
])
def test_macs_names_the_mistake(fn, words):
    r = check_conv_macs(fn)
    assert r.status == "fail"
    assert words in problem(r)


def test_macs_agree_with_torch_flop_counter():
    """The reference count is what torch's flop counter reports, halved (it counts FLOPs)."""
    from torch.utils.flop_counter import FlopCounterMode
    conv = torch.nn.Conv2d(3, 10, 5, padding=2)
    with FlopCounterMode(display=False) as counter:
        conv(torch.zeros(1, 3, 32, 32))
    assert counter.get_total_flops() == 2 * (5 * 5 * 3 * 10 * 32 * 32)


# ---------------------------------------------------------------- dilation
def dilated_right(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def test_dilated_passes():
    assert check_dilated_output_size(dilated_right).status == "pass"


def test_dilated_not_attempted():
    assert check_dilated_output_size(stub).status == "not attempted"


@pytest.mark.parametrize("fn, words", [
    (lambda n, k, s, p, d: (n + 2 * p - k) // s + 1, "dilation is ignored"),
    (lambda n, k, s, p, d: (n + 2 * p - d * k) // s + 1, "d * k"),
    (lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s, "forget the + 1"),
    (lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s + 2, "one pixel short"),
    (lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) / s + 1, "fraction"),
])
def test_dilated_names_the_mistake(fn, words):
    r = check_dilated_output_size(fn)
    assert r.status == "fail"
    assert words in problem(r)


# ---------------------------------------------------------------- transposed convolution
def transposed_right(n, k, s, p, op):
    return (n - 1) * s - 2 * p + k + op


def test_transposed_passes():
    assert check_transposed_output_size(transposed_right).status == "pass"


def test_transposed_not_attempted():
    assert check_transposed_output_size(stub).status == "not attempted"
    assert check_transposed_output_size(...).status == "not attempted"


@pytest.mark.parametrize("fn, words", [
    (lambda n, k, s, p, op: (n + 2 * p - k) // s + 1, "ordinary (down-sampling)"),
    (lambda n, k, s, p, op: (n - 1) * s - 2 * p + k, "output_padding is missing"),
    (lambda n, k, s, p, op: (n - 1) * s + 2 * p + k + op, "sign is flipped"),
    (lambda n, k, s, p, op: (n - 1) * s + k + op, "padding is missing"),
    (lambda n, k, s, p, op: n * s, "nearest-neighbour"),
    (lambda n, k, s, p, op: (n - 1) * s - 2 * p + k + op + 1, "off by one"),
])
def test_transposed_names_the_mistake(fn, words):
    r = check_transposed_output_size(fn)
    assert r.status == "fail"
    assert words in problem(r)


@pytest.mark.parametrize("n, k, s, p, op", [(2, 3, 2, 0, 0), (3, 3, 2, 0, 0), (16, 4, 2, 1, 0),
                                            (9, 3, 1, 1, 0), (3, 3, 2, 0, 1), (5, 5, 3, 2, 2)])
def test_transposed_cases_match_torch(n, k, s, p, op):
    layer = torch.nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=op)
    assert layer(torch.zeros(1, 1, n, n)).shape[-1] == transposed_right(n, k, s, p, op)


# ---------------------------------------------------------------- predicting a layer
LAYER = dict(height=32, width=32, in_channels=3, out_channels=10, kernel_size=5, padding=2)
BUDUMA = dict(height=5, width=5, in_channels=3, out_channels=2, kernel_size=3, stride=2, padding=1)


def test_prediction_passes():
    assert check_layer_prediction((32, 32, 10, 760), **LAYER).status == "pass"
    assert check_layer_prediction([3, 3, 2, 56], **BUDUMA).status == "pass"
    assert check_layer_prediction((24, 24, 20, 520), height=28, width=28, in_channels=1,
                                  out_channels=20, kernel_size=5).status == "pass"


def test_prediction_not_attempted():
    r = check_layer_prediction(..., **LAYER)
    assert r.status == "not attempted" and "NOT ATTEMPTED" in str(r)


@pytest.mark.parametrize("answer", [760, (32, 32, 10), "32x32x10"])
def test_prediction_wrong_type(answer):
    r = check_layer_prediction(answer, **LAYER)
    assert r.status == "fail" and "four numbers" in r.message


@pytest.mark.parametrize("answer, layer, words", [
    ((32, 32, 10, 750), LAYER, "biases are missing"),
    ((32, 32, 10, 260), LAYER, "input channels are missing"),
    ((32, 32, 10, 76), LAYER, "one filter"),
    ((32, 32, 10, 7680000 // 10), LAYER, "multiply-add"),
    ((28, 28, 10, 760), LAYER, "padding is missing"),
    ((31, 31, 10, 760), LAYER, "forget the + 1"),
    ((32, 32, 3, 760), LAYER, "not C_in"),
    ((5, 5, 2, 56), BUDUMA, "stride is missing"),
    ((2, 2, 2, 56), BUDUMA, "forget the + 1"),
    ((4, 4, 2, 56), dict(BUDUMA, height=6, width=6), "ceiling"),
])
def test_prediction_names_the_mistake(answer, layer, words):
    r = check_layer_prediction(answer, **layer)
    assert r.status == "fail"
    assert words in str(r), str(r)


def test_prediction_reports_every_wrong_part():
    r = check_layer_prediction((31, 33, 10, 750), **LAYER)
    assert r.message.startswith("3 of 4")
    assert sum(d.startswith(("H_out", "W_out", "parameters")) for d in r.details) == 3
