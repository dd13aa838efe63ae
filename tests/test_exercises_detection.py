"""The detection exercise checks: right answers in several forms pass, stubs are "not attempted",
and plausible wrong answers fail with a message that names the mistake (never the answer)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import stub
from course_lib.exercises import reset_hints
from course_lib.exercises.core import FAIL, NOT_ATTEMPTED, PASS
from course_lib.exercises.detection import (_ap_truth, _greedy, _nms_wrong_all_suppress, check_ap_by_hand,
                                            check_iou, check_nms, check_normalized_box, check_window_count)


@pytest.fixture(autouse=True)
def _fresh_hints():
    reset_hints()


def _iou(a, b, *, clip=True, plus_one=0, twice=False):
    w = min(a[2], b[2]) - max(a[0], b[0]) + plus_one
    h = min(a[3], b[3]) - max(a[1], b[1]) + plus_one
    if clip:
        w, h = max(w, 0), max(h, 0)
    area = lambda z: (z[2] - z[0] + plus_one) * (z[3] - z[1] + plus_one)
    return w * h / (area(a) + area(b) - (0 if twice else w * h))


def test_iou_right_answers_in_several_forms():
    assert check_iou(_iou).status == PASS
    assert check_iou(lambda a, b: np.float32(_iou(a, b))).status == PASS
    assert check_iou(lambda a, b: torch.tensor([_iou(a, b)])).status == PASS
    assert check_iou(stub).status == NOT_ATTEMPTED
    assert check_iou(...).status == NOT_ATTEMPTED


@pytest.mark.parametrize("wrong, words", [
    (lambda a, b: _iou(a, b, clip=False), "clipped"),
    (lambda a, b: _iou(a, b, twice=True), "twice"),
    (lambda a, b: _iou(a, b, plus_one=1), "+ 1"),
    (lambda a, b: 0.5, "wrong"),
])
def test_iou_mistakes_are_named(wrong, words):
    r = check_iou(wrong)
    assert r.status == FAIL and words in str(r)


def test_iou_forbids_the_library():
    from course_lib.detection import box_iou
    r = check_iou(lambda a, b: float(box_iou(np.array([a], float), np.array([b], float))[0, 0]))
    assert r.status == FAIL


def _norm(box, H, W):
    x1, y1, x2, y2 = box
    return ((x1 + x2) / 2 / W, (y1 + y2) / 2 / H, (x2 - x1) / W, (y2 - y1) / H)


def test_normalized_box():
    assert check_normalized_box(_norm).status == PASS
    assert check_normalized_box(lambda b, H, W: list(_norm(b, H, W))).status == PASS
    assert check_normalized_box(lambda b, H, W: torch.tensor(_norm(b, H, W))).status == PASS
    swapped = check_normalized_box(lambda b, H, W: _norm(b, W, H))
    assert swapped.status == FAIL and "swapped" in str(swapped)
    corner = check_normalized_box(lambda b, H, W: (b[0] / W, b[1] / H, (b[2] - b[0]) / W, (b[3] - b[1]) / H))
    assert "centre" in str(corner)
    pixels = check_normalized_box(lambda b, H, W: ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0], b[3] - b[1]))
    assert "fractions" in str(pixels)


def test_nms_right_answers_and_mistakes():
    assert check_nms(lambda b, s, t: _greedy(b, s, t)).status == PASS
    assert check_nms(lambda b, s, t: _greedy(b, s, t).tolist()).status == PASS
    assert check_nms(lambda b, s, t: torch.from_numpy(_greedy(b, s, t))).status == PASS
    assert check_nms(stub).status == NOT_ATTEMPTED
    r = check_nms(lambda b, s, t: _greedy(b, s, t, strict=False))
    assert r.status == FAIL and "greater" in str(r)
    r = check_nms(_nms_wrong_all_suppress)
    assert r.status == FAIL and "already removed" in str(r)
    r = check_nms(lambda b, s, t: np.sort(_greedy(b, s, t)))
    assert r.status == FAIL and "decreasing order" in str(r)
    import torchvision.ops
    r = check_nms(lambda b, s, t: torchvision.ops.nms(torch.from_numpy(np.asarray(b, float)),
                                                       torch.from_numpy(np.asarray(s, float)), t))
    assert r.status == FAIL


def test_window_count():
    for right in [(18, 14), [18, 14], np.array([18, 14]), torch.Size([18, 14])]:
        assert check_window_count(right).status == PASS
    assert check_window_count(...).status == NOT_ATTEMPTED
    for wrong, words in [((17, 13), "off by one"), ((69, 53), "stride 1"), ((14, 18), "swapped"),
                         ((24, 20), "fit")]:
        r = check_window_count(wrong)
        assert r.status == FAIL and words in str(r)
        assert "(18, 14)" not in str(r)


def test_ap_by_hand():
    truth = _ap_truth()
    assert abs(truth - (0.2 * 1 + 0.2 * 0.6 + 0.2 * 0.6 + 0.2 * 4 / 7)) < 1e-12
    assert check_ap_by_hand(truth).status == PASS
    assert check_ap_by_hand(round(truth, 3)).status == PASS
    assert check_ap_by_hand(np.float32(truth)).status == PASS
    assert check_ap_by_hand(...).status == NOT_ATTEMPTED
    raw = (1 + 0.5 + 0.6 + 4 / 7) / 5
    r = check_ap_by_hand(raw)
    assert r.status == FAIL and "interpolation" in str(r) and f"{truth:.3f}" not in str(r)
    assert "objects found" in str(check_ap_by_hand((1 + 0.5 + 0.6 + 4 / 7) / 4))
    assert check_ap_by_hand("0.55").status == FAIL
