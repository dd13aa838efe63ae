"""Tests for the chapter-1 exercise checks (course_lib.exercises.images).

Each check must PASS the right answer, say NOT ATTEMPTED for the stub, and FAIL
plausible wrong answers with a message that names the mistake.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course_lib.exercises.images import (check_batch_memory, check_hinge_loss, check_to_nchw,
                                         check_topk_prediction)
from course_lib.linear import multiclass_hinge_loss
from conftest import problem, stub


# ------------------------------------------------------------------------------ HWC uint8 -> NCHW float

def nchw_right(images):
    x = images if images.ndim == 4 else images[:, :, :, None]
    return np.transpose(x, (0, 3, 1, 2)).astype(np.float32) / 255.0


def nchw_torch(images):
    x = torch.from_numpy(images)
    if x.ndim == 3:
        x = x.unsqueeze(-1)
    return x.permute(0, 3, 1, 2).float().div(255)


def nchw_moveaxis_float64(images):
    x = images[..., None] if images.ndim == 3 else images
    return np.moveaxis(x, -1, 1) / 255


@pytest.mark.parametrize("fn", [nchw_right, nchw_torch, nchw_moveaxis_float64])
def test_to_nchw_passes(fn):
    r = check_to_nchw(fn)
    assert r.status == "pass", str(r)


@pytest.mark.parametrize("fn", [stub, ...])
def test_to_nchw_not_attempted(fn):
    r = check_to_nchw(fn)
    assert r.status == "not attempted" and "NOT ATTEMPTED" in str(r)


def _grey_ok(f):
    """Wrap a 4D-only mistake so grey batches are handled right (the mistake shows on RGB cases)."""
    return lambda im: nchw_right(im) if im.ndim == 3 else f(im)


@pytest.mark.parametrize("fn, words", [
    (_grey_ok(lambda im: im.reshape(im.shape[0], im.shape[3], im.shape[1], im.shape[2]) / 255.0), "reshape"),
    (_grey_ok(lambda im: np.transpose(im, (0, 3, 1, 2)).astype(float)), "still in 0..255"),
    (_grey_ok(lambda im: np.transpose(im, (0, 3, 1, 2)) / 256), "divided by 256"),
    (_grey_ok(lambda im: np.transpose(im, (0, 3, 2, 1)) / 255), "height and width are swapped"),
    (_grey_ok(lambda im: im / 255.0), "channels are still last"),
    (_grey_ok(lambda im: np.transpose(im, (3, 0, 1, 2)) / 255), "batch axis must stay first"),
    (lambda im: (im / 255.0) if im.ndim == 3 else nchw_right(im), "channel axis of size 1"),
    (_grey_ok(lambda im: np.transpose(im, (0, 3, 1, 2))), "dtype uint8"),
])
def test_to_nchw_names_the_mistake(fn, words):
    r = check_to_nchw(fn)
    assert r.status == "fail"
    assert words in problem(r), str(r)


def test_to_nchw_student_exception_is_reported_without_traceback():
    r = check_to_nchw(lambda im: np.transpose(im, (0, 3, 1, 2)) / 255)   # fails on grey (3D) input
    assert r.status == "fail" and "ValueError" in r.message and "Traceback" not in str(r)


def test_to_nchw_does_not_let_students_modify_the_cases():
    def in_place(im):
        im[...] = 0          # a destructive student function must not break later checks
        return nchw_right(im)
    assert check_to_nchw(in_place).status == "fail"
    assert check_to_nchw(nchw_right).status == "pass"


# ------------------------------------------------------------------------------ batch memory

def test_batch_memory_passes():
    r = check_batch_memory((64, 3, 32, 32), 64 * 3 * 32 * 32, 4 * 64 * 3 * 32 * 32)
    assert r.status == "pass" and "786,432" not in str(r)
    assert check_batch_memory([64, 3, 32, 32], 196608, 786432.0).status == "pass"
    assert check_batch_memory((8, 1, 28, 28), 6272, 25088, n=8, channels=1, height=28, width=28).status == "pass"


@pytest.mark.parametrize("answer", [(..., 196608, 786432), ((64, 3, 32, 32), ..., 786432),
                                    ((64, 3, 32, 32), 196608, None)])
def test_batch_memory_not_attempted(answer):
    assert check_batch_memory(*answer).status == "not attempted"


@pytest.mark.parametrize("answer, words", [
    (((64, 32, 32, 3), 196608, 786432), "channels are last"),
    (((3, 32, 32), 196608, 786432), "batch axis N is missing"),
    (((3, 64, 32, 32), 196608, 786432), "batch axis comes first"),
    (((64, 3, 32, 32), 196608, 2 * 786432), "float64"),
    (((64, 3, 32, 32), 196608, 196608), "4 bytes, not 1"),
    (((64, 3, 32, 32), 196608, 8 * 786432), "32 *bits*"),
    (((64, 3, 32, 32), 8 * 196608, 786432), "8 *bits*"),
    (((64, 3, 32, 32), 65536, 786432), "channels are missing"),
    (((64, 3, 32, 32), 196608, 12288), "that is one image"),
])
def test_batch_memory_names_the_mistake(answer, words):
    r = check_batch_memory(*answer)
    assert r.status == "fail" and words in str(r), str(r)


def test_batch_memory_non_square_swap():
    r = check_batch_memory((2, 3, 5, 4), 120, 480, n=2, channels=3, height=4, width=5)
    assert r.status == "fail" and "height and width are swapped" in str(r)


# ------------------------------------------------------------------------------ hinge loss

def hinge_loops(scores, labels, margin=1.0):
    total = 0.0
    for i in range(len(labels)):
        for j in range(scores.shape[1]):
            if j != labels[i]:
                total += max(0.0, scores[i, j] - scores[i, labels[i]] + margin)
    return total / len(labels)


def hinge_vectorised(scores, labels, margin=1.0):
    rows = np.arange(len(labels))
    m = np.maximum(0, scores - scores[rows, labels][:, None] + margin)
    m[rows, labels] = 0
    return m.sum(axis=1).mean()


def hinge_torch(scores, labels, margin=1.0):
    s = torch.as_tensor(scores)
    return scores.shape[1] * torch.nn.functional.multi_margin_loss(s, torch.as_tensor(labels), margin=margin)


@pytest.mark.parametrize("fn", [hinge_loops, hinge_vectorised, hinge_torch])
def test_hinge_passes(fn):
    r = check_hinge_loss(fn)
    assert r.status == "pass", str(r)


@pytest.mark.parametrize("fn", [stub, ...])
def test_hinge_not_attempted(fn):
    assert check_hinge_loss(fn).status == "not attempted"


def _rows(s, y):
    return np.arange(len(y)), s[np.arange(len(y)), y][:, None]


def hinge_with_true_class(s, y, margin=1.0):
    _, c = _rows(s, y)
    return np.maximum(0, s - c + margin).sum(1).mean()


def hinge_torch_convention(s, y, margin=1.0):
    return hinge_vectorised(s, y, margin) / s.shape[1]


def hinge_sum(s, y, margin=1.0):
    return hinge_vectorised(s, y, margin) * len(y)


def hinge_max(s, y, margin=1.0):
    rows, c = _rows(s, y)
    m = np.maximum(0, s - c + margin)
    m[rows, y] = 0
    return m.max(1).mean()


def hinge_no_clamp(s, y, margin=1.0):
    rows, c = _rows(s, y)
    m = s - c + margin
    m[rows, y] = 0
    return m.sum(1).mean()


def hinge_margin_ignored(s, y, margin=1.0):
    return hinge_vectorised(s, y, 1.0)


def hinge_flipped(s, y, margin=1.0):
    rows, c = _rows(s, y)
    m = np.maximum(0, c - s + margin)
    m[rows, y] = 0
    return m.sum(1).mean()


def hinge_per_example(s, y, margin=1.0):
    rows, c = _rows(s, y)
    m = np.maximum(0, s - c + margin)
    m[rows, y] = 0
    return m.sum(1)


@pytest.mark.parametrize("fn, words", [
    (hinge_with_true_class, "true class is in the sum"),
    (hinge_torch_convention, "MultiMarginLoss"),
    (hinge_sum, "sum over examples"),
    (hinge_max, "largest violation"),
    (hinge_no_clamp, "max(0, .) is missing"),
    (hinge_margin_ignored, "margin argument is ignored"),
    (hinge_flipped, "sign is flipped"),
    (hinge_per_example, "return one number"),
])
def test_hinge_names_the_mistake(fn, words):
    r = check_hinge_loss(fn)
    assert r.status == "fail"
    assert words in problem(r), str(r)


# ------------------------------------------------------------------------------ top-k prediction

SCORES = np.array([[0.1, 0.9, 0.0, 0.2, 0.3, 0.4, 0.5],     # label 1: top-1 hit
                   [0.1, 0.9, 0.0, 0.2, 0.3, 0.4, 0.5],     # label 2: lowest score -> top-5 miss
                   [0.1, 0.9, 0.0, 0.2, 0.3, 0.4, 0.5],     # label 5: rank 3 -> top-5 hit only
                   [0.1, 0.9, 0.0, 0.2, 0.3, 0.4, 0.5]])    # label 0: rank 6 -> top-5 miss
LABELS = np.array([1, 2, 5, 0])


def test_topk_passes():
    r = check_topk_prediction((3, 2), SCORES, LABELS)
    assert r.status == "pass", str(r)
    assert check_topk_prediction([3, 2], torch.as_tensor(SCORES), torch.as_tensor(LABELS)).status == "pass"


def test_topk_not_attempted():
    assert check_topk_prediction(..., SCORES, LABELS).status == "not attempted"


@pytest.mark.parametrize("answer, words", [
    ((1, 2), "*correct*"),
    ((0.75, 0.5), "error *rates*"),
    ((2, 3), "swapped"),
    ((3, 4), "never exceed"),
    ((3,), "expected a pair"),
    (3, "expected a pair"),
])
def test_topk_names_the_mistake(answer, words):
    r = check_topk_prediction(answer, SCORES, LABELS)
    assert r.status == "fail" and words in str(r), str(r)


def test_topk_lowest_scores_mistake():
    s = np.array([[5.0, 4.0, 3.0, 2.0, 1.0, 0.0, -1.0]] * 3)
    y = np.array([0, 6, 5])          # truth: top-1 errors 2, top-5 errors 2; lowest-first gives (2, 1)
    r = check_topk_prediction((2, 1), s, y)
    assert r.status == "fail" and "*lowest*" in str(r), str(r)


def test_topk_does_not_reveal_the_answer():
    r = check_topk_prediction((0, 0), SCORES, LABELS)
    assert r.status == "fail" and "(3, 2)" not in str(r)
