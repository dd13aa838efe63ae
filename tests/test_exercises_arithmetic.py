"""Tests for the layer-arithmetic exercise checks (course_lib.exercises.arithmetic).

Each check must PASS the right answer, say NOT ATTEMPTED for the stub, and FAIL
plausible wrong answers with a message that names the mistake.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.exercises.arithmetic import (check_conv_macs, check_dilated_output_size,
                                             check_floor_or_ceiling, check_layer_prediction, check_param_count,
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


# ---------------------------------------------------------------- Exercise 4.7: floor or ceiling?
RIGHT_4_7 = ((14, 7), (13, 6), 1, (14, 7))      # 28 x 28, two 3 x 3 convolutions with stride 2


def test_floor_or_ceiling_truth_matches_torch():
    """The floor sizes and the padded sizes are what torch builds; p = 1 is the smallest that reads every pixel."""
    from course_lib.shapes import window_coverage
    for p, sizes in ((0, RIGHT_4_7[1]), (1, RIGHT_4_7[3])):
        net = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, stride=2, padding=p),
                                  torch.nn.Conv2d(1, 1, 3, stride=2, padding=p))
        x, got = torch.zeros(1, 1, 28, 28), []
        for layer in net:
            x = layer(x)
            got.append(x.shape[-1])
        assert tuple(got) == sizes
    assert (window_coverage(28, 3, 2, 0) == 0).any()          # no padding: the last row and column stay unread
    assert (window_coverage(28, 3, 2, 1) > 0).all() and (window_coverage(14, 3, 2, 1) > 0).all()


@pytest.mark.parametrize("answer", [
    RIGHT_4_7,
    [[14, 7], [13, 6], 1, [14, 7]],
    (np.array([14, 7]), np.array([13, 6]), np.int64(1), torch.Size([14, 7])),
    ((14.0, 7.0), (np.int32(13), 6), 1.0, torch.tensor([14, 7])),
    ((14, 7), (13, 6), (1, 1), (14, 7)),                 # padding for both axes, as Conv2d accepts
    ((14, 7), (13, 6), np.array(1), (14, 7)),
    (14, 7, 13, 6, 1, 14, 7),                            # all seven numbers in a row
    np.array([14, 7, 13, 6, 1, 14, 7]),
])
def test_floor_or_ceiling_passes_every_form(answer):
    r = check_floor_or_ceiling(answer)
    assert r.status == "pass", str(r)
    for value in ("14", "13", " 7", " 6"):
        assert value not in str(r), "the PASSED message must not show the answer"


def test_floor_or_ceiling_other_networks():
    assert check_floor_or_ceiling(((8, 4), (7, 3), 1, (8, 4)), n=16).status == "pass"
    assert check_floor_or_ceiling(((12,), (11,), 1, (12,)), n=24, layers=1).status == "pass"


@pytest.mark.parametrize("stub_value", [..., None])
def test_floor_or_ceiling_not_attempted(stub_value):
    r = check_floor_or_ceiling(stub_value)
    assert r.status == "not attempted" and "NOT ATTEMPTED" in str(r)


@pytest.mark.parametrize("answer, part, words", [
    (((13, 6), (13, 6), 1, (14, 7)), "colleague's sizes", "PyTorch's sizes: the colleague rounds"),
    (((13, 5), (13, 6), 1, (14, 7)), "colleague's sizes", "+ 1 outside the ceiling is missing"),
    (((14, 6), (13, 6), 1, (14, 7)), "colleague's sizes", "ceiling at every layer"),
    (((26, 24), (13, 6), 1, (14, 7)), "colleague's sizes", "stride is missing"),
    (((14, 7), (14, 7), 1, (14, 7)), "PyTorch's sizes", "that is the ceiling"),
    (((14, 7), (12, 4), 1, (14, 7)), "PyTorch's sizes", "forget the + 1"),
    (((14, 7), (13, 5), 1, (14, 7)), "PyTorch's sizes", "forget the + 1 there"),
    (((14, 7), (14, 6), 1, (14, 7)), "PyTorch's sizes", "first size is rounded up"),
    (((14, 7), (13, 6), 0, (14, 7)), "smallest padding", "never read"),
    (((14, 7), (13, 6), 2, (14, 7)), "smallest padding", "not the smallest"),
    (((14, 7), (13, 6), 0.5, (14, 7)), "smallest padding", "whole numbers"),
    (((14, 7), (13, 6), -1, (14, 7)), "smallest padding", "never negative"),
    (((14, 7), (13, 6), 1, (13, 6)), "sizes with that padding", "without padding"),
    (((14, 7), (13, 6), 1, (15, 8)), "sizes with that padding", "ceiling"),
    (((14, 7), (13, 6), 1, (28, 28)), "sizes with that padding", "only when the stride is 1"),
    (((14, 7), (13, 6), 1, (14, 6)), "sizes with that padding", "later convolution is padded too"),
    (((14, 7), (13, 6), 1, (13, 7)), "sizes with that padding", "first convolution is padded too"),
    (((14, 7), (13, 6), 2, (15, 9)), "sizes with that padding", "follow from your padding"),
    (((14, 7), (13, 6), 0, (13, 6)), "sizes with that padding", "follow from your padding"),
    (((14, 7), (12, 5), 1, (14, 7)), "PyTorch's sizes", "follows from your first one"),
    (((14, 8), (13, 6), 1, (14, 7)), "colleague's sizes", "off by one in size 2"),
    (((14, 7), (13, 6), 1, 14), "sizes with that padding", "one after each convolution"),
    (((14, 7), (13, 6), 1, (14, 7, 4)), "sizes with that padding", "got 3 values"),
])
def test_floor_or_ceiling_names_the_mistake(answer, part, words):
    r = check_floor_or_ceiling(answer)
    assert r.status == "fail"
    lines = [d for d in r.details if d.startswith(part)]
    assert len(lines) == 1 and words in lines[0], str(r)
    assert r.message.startswith("1 of 4") or part == "smallest padding" or "follow" in words, str(r)


def test_floor_or_ceiling_swapped_pairs():
    r = check_floor_or_ceiling(((13, 6), (14, 7), 1, (14, 7)))
    assert r.status == "fail" and "wrong order" in r.message and "swapped" in r.details[0]


def test_floor_or_ceiling_reports_every_wrong_part():
    r = check_floor_or_ceiling(((13, 5), (12, 4), 0, (13, 6)))
    assert r.message.startswith("4 of 4")


@pytest.mark.parametrize("answer", [
    "14, 7, 13, 6, 1, 14, 7", None, ..., float("nan"), 14, 1.5, (14, 7), (14, 7, 13), {"ceil": (14, 7)},
    ((14, 7), (13, 6), 1), ((14, 7), (13, 6), 1, (14, 7), 0), ((14, "7"), (13, 6), 1, (14, 7)),
    ((14, 7), (13, float("nan")), 1, (14, 7)), ((14, 7), (13, 6.5), 1, (14, 7)), ((14, 7), (13, 6), None, (14, 7)),
    ((14, 7), (13, 6), float("inf"), (14, 7)), ((14, 7), (13, 6), (1, 2), (14, 7)), np.zeros((2, 7)),
    (np.zeros((2, 2)), (13, 6), 1, (14, 7)), ((True, 7), (13, 6), 1, (14, 7)), ((14, 7), (13, 6), 10 ** 30, (14, 7)),
])
def test_floor_or_ceiling_nonsense_gets_a_message(answer):
    r = check_floor_or_ceiling(answer)
    assert r.status in ("fail", "not attempted") and r.message and "Traceback" not in str(r)
    assert "could not read your answer" not in r.message, str(r)     # handled by the check, not the safety net
    for value in ("(14, 7)", "(13, 6)"):
        assert value not in str(r).replace(repr(answer), "") or value in repr(answer)
