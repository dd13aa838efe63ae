"""Segmentation metrics on hand-computed cases and against a direct per-class count."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import scaled
from course_lib import segmentation as seg
from course_lib.dense_models import fcn, unet, grid_detector


def test_hand_case():
    target = np.array([[0, 0, 1], [1, 2, 2]])
    pred = np.array([[0, 1, 1], [1, 2, 0]])
    assert seg.pixel_accuracy(pred, target) == pytest.approx(4 / 6)
    # class 0: inter 1, union 3; class 1: inter 2, union 3; class 2: inter 1, union 2
    np.testing.assert_allclose(seg.per_class_iou(pred, target, 3), [1 / 3, 2 / 3, 1 / 2])
    assert seg.mean_iou(pred, target, 3) == pytest.approx((1 / 3 + 2 / 3 + 1 / 2) / 3)
    np.testing.assert_allclose(seg.dice(pred, target, 3), [2 / 4, 4 / 5, 2 / 3])


@settings(max_examples=scaled(60))
@given(st.integers(0, 2**32 - 1), st.integers(2, 6))
def test_metrics_match_direct_counts(seed, k):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, k, (2, 7, 9))
    pred = np.where(rng.random(target.shape) < 0.6, target, rng.integers(0, k, target.shape))
    iou = seg.per_class_iou(torch.from_numpy(pred), target, k + 1)
    for c in range(k + 1):
        a, b = pred == c, target == c
        if (a | b).sum() == 0:
            assert np.isnan(iou[c])
        else:
            assert iou[c] == pytest.approx((a & b).sum() / (a | b).sum())
    d = seg.dice(pred, target, k + 1)
    ok = np.isfinite(iou)
    np.testing.assert_allclose(d[ok], 2 * iou[ok] / (1 + iou[ok]), rtol=1e-12)
    assert seg.pixel_accuracy(pred, target) == pytest.approx((pred == target).mean())
    assert seg.confusion_matrix(pred, target, k).sum() == target.size


def test_ignore_index_and_errors():
    target = np.array([0, 1, 255])
    pred = np.array([0, 0, 1])
    assert seg.pixel_accuracy(pred, target, ignore_index=255) == 0.5
    with pytest.raises(ValueError, match="same shape"):
        seg.mean_iou(np.zeros((2, 3), int), np.zeros((3, 2), int), 2)
    with pytest.raises(TypeError, match="integer"):
        seg.mean_iou(np.zeros(3), np.zeros(3, int), 2)
    with pytest.raises(ValueError, match="num_classes"):
        seg.mean_iou(np.array([0, 5]), np.array([0, 1]), 3)


def test_dense_models_shapes_and_skip_difference():
    x = torch.zeros(2, 1, 64, 64)
    assert unet(seed=0)(x).shape == fcn(seed=0)(x).shape == (2, 11, 64, 64)
    assert grid_detector(seed=0)(x).shape == (2, 15, 8, 8)
    assert unet(seed=0).skips and not fcn(seed=0).skips
    with pytest.raises(ValueError, match="multiples of 8"):
        unet()(torch.zeros(1, 1, 60, 60))
    # seeded builders are reproducible
    a, b = unet(seed=3), unet(seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
