"""The segmentation exercise checks: right answers in several forms pass, stubs are "not attempted",
and plausible wrong answers fail with a message that names the mistake (never the answer)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import stub
from course_lib.exercises import reset_hints
from course_lib.exercises.core import FAIL, NOT_ATTEMPTED, PASS
from course_lib.exercises.segmentation import (IMB_CM, _imbalanced_truth, _iou_cm, check_imbalanced_scores,
                                               check_iou_from_confusion, check_max_unpool, check_transposed_size)


@pytest.fixture(autouse=True)
def _fresh_hints():
    reset_hints()


def test_transposed_size_agrees_with_torch_and_accepts_every_form():
    out = torch.nn.ConvTranspose2d(1, 1, 5, stride=3, padding=2, output_padding=1)(torch.zeros(1, 1, 13, 10))
    truth = tuple(out.shape[-2:])
    assert truth == (38, 29)
    for right in [truth, list(truth), np.array(truth), torch.Size(truth), (38.0, 29.0)]:
        assert check_transposed_size(right).status == PASS
    assert check_transposed_size(...).status == NOT_ATTEMPTED


@pytest.mark.parametrize("wrong, words", [
    ((37, 28), "output_padding"), ((42, 33), "not subtracted"), ((40, 31), "once"), ((46, 37), "added"),
    ((41, 32), "(H - 1)"), ((39, 30), "stride x input"), ((5, 4), "ordinary"), ((29, 38), "swapped"),
    ((38, 30), "wrong"),
])
def test_transposed_size_mistakes_are_named(wrong, words):
    r = check_transposed_size(wrong)
    assert r.status == FAIL
    if words != "wrong":
        assert words in str(r)
    shown = "\n".join(line for line in str(r).splitlines() if "got:" not in line)   # the answer is echoed
    assert "38" not in shown and "29" not in shown


def _unpool_torch(values, indices, size):
    v = torch.as_tensor(np.asarray(values, float))[None, None]
    i = torch.as_tensor(np.asarray(indices))[None, None]
    return F.max_unpool2d(v, i, 2, output_size=size)[0, 0].numpy()


def _unpool_loops(values, indices, size):
    H, W = size
    out = [[0.0] * W for _ in range(H)]
    for v, n in zip(np.ravel(values), np.ravel(indices)):
        out[int(n) // W][int(n) % W] = float(v)
    return out


def test_max_unpool_right_answers():
    assert check_max_unpool(_unpool_loops).status == PASS
    assert check_max_unpool(lambda v, i, s: torch.tensor(_unpool_loops(v, i, s), dtype=torch.float32)).status == PASS
    assert check_max_unpool(stub).status == NOT_ATTEMPTED
    # the library's unpooling is switched off while the student's code runs
    assert check_max_unpool(_unpool_torch).status == FAIL


def test_max_unpool_mistakes_are_named():
    def column_major(values, indices, size):
        H, W = size
        out = np.zeros(size)
        for v, n in zip(np.ravel(values), np.ravel(indices)):
            out[n % H, n // H] = v
        return out

    def nearest(values, indices, size):
        out = np.zeros(size)
        h, w = np.shape(values)
        out[:2 * h, :2 * w] = np.kron(values, np.ones((2, 2)))
        return out

    def corner(values, indices, size):
        out = np.zeros(size)
        h, w = np.shape(values)
        out[:2 * h:2, :2 * w:2] = values
        return out

    for wrong, words in [(column_major, "row-major"), (nearest, "nearest"), (corner, "top-left")]:
        r = check_max_unpool(wrong)
        assert r.status == FAIL and words in str(r), str(r)


def test_iou_from_confusion():
    assert check_iou_from_confusion(_iou_cm).status == PASS

    def loops(cm):
        cm = np.asarray(cm)
        out = []
        for c in range(len(cm)):
            union = cm[c, :].sum() + cm[:, c].sum() - cm[c, c]
            out.append(cm[c, c] / union if union else float("nan"))
        return out
    assert check_iou_from_confusion(loops).status == PASS
    assert check_iou_from_confusion(lambda cm: torch.tensor(_iou_cm(cm), dtype=torch.float32)).status == PASS
    assert check_iou_from_confusion(stub).status == NOT_ATTEMPTED

    def ratio(n, d):
        return np.divide(n, d, out=np.full(len(n), np.nan), where=d > 0)

    d = lambda cm: np.diag(np.asarray(cm, float))
    rows = lambda cm: np.asarray(cm, float).sum(1)
    cols = lambda cm: np.asarray(cm, float).sum(0)
    for wrong, words in [(lambda cm: ratio(d(cm), rows(cm)), "recall"),
                         (lambda cm: ratio(d(cm), cols(cm)), "precision"),
                         (lambda cm: ratio(2 * d(cm), rows(cm) + cols(cm)), "Dice"),
                         (lambda cm: ratio(d(cm), rows(cm) + cols(cm)), "twice"),
                         (lambda cm: np.nan_to_num(_iou_cm(cm)), "NaN")]:
        r = check_iou_from_confusion(wrong)
        assert r.status == FAIL and words in str(r), str(r)
    from course_lib.segmentation import per_class_iou
    lib = lambda cm: per_class_iou(np.repeat(np.arange(len(cm)), 1), np.arange(len(cm)), len(cm))
    assert check_iou_from_confusion(lib).status == FAIL


def test_imbalanced_scores():
    pa, miou, dice_digit = _imbalanced_truth()
    assert IMB_CM.sum() == 10_000
    assert abs(pa - 0.98) < 1e-12 and abs(dice_digit - 0.75) < 1e-12
    assert abs(miou - (9500 / 9700 + 300 / 500) / 2) < 1e-12
    for right in [(pa, miou, dice_digit), (0.98, round(miou, 3), 0.75), [0.98, round(miou, 2), 0.75],
                  np.array([pa, miou, dice_digit], np.float32), torch.tensor([pa, miou, dice_digit])]:
        assert check_imbalanced_scores(right).status == PASS, right
    assert check_imbalanced_scores(...).status == NOT_ATTEMPTED
    for wrong, words in [((0.98, 0.6, 0.75), "digit's IoU alone"), ((0.98, 0.979, 0.75), "background"),
                         ((0.98, (9500 / 9600 + 0.75) / 2, 0.75), "per-class accuracy"),
                         ((0.98, round(miou, 3), 0.6), "Dice"), ((0.75, round(miou, 3), 0.75), "pixel accuracy"),
                         ((0.98, 0.79), "three numbers"), ("0.98, 0.79, 0.75", "")]:
        r = check_imbalanced_scores(wrong)
        assert r.status == FAIL and words in str(r), (wrong, str(r))
        assert f"{miou:.3f}" not in str(r) and "0.790" not in str(r)
