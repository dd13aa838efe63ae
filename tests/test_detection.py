"""box_iou, nms and friends against torchvision.ops; mAP on hand-computed cases."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.ops as tvops
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from conftest import BAD_DTYPE_ARRAYS, scaled
from course_lib import detection as det
from course_lib.dense_models import crop_classifier


@st.composite
def boxes(draw, max_n: int = 12, integer: bool = False):
    n = draw(st.integers(0, max_n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    xy = rng.uniform(0, 50, (n, 2))
    wh = rng.uniform(0.5, 30, (n, 2))
    b = np.concatenate([xy, xy + wh], axis=1)
    return np.round(b) if integer else b


@settings(max_examples=scaled(150))
@given(boxes(), boxes(), st.booleans())
def test_box_iou_matches_torchvision(a, b, as_torch):
    expected = tvops.box_iou(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    got = det.box_iou(torch.from_numpy(a) if as_torch else a, b)
    assert isinstance(got, torch.Tensor) == as_torch
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=scaled(150))
@given(boxes(max_n=30), st.floats(0.0, 1.0), st.integers(0, 2**32 - 1), st.booleans())
def test_nms_matches_torchvision(b, thr, seed, as_torch):
    scores = np.random.default_rng(seed).permutation(len(b)) / max(1, len(b)) + 0.01  # distinct scores
    expected = tvops.nms(torch.from_numpy(b), torch.from_numpy(scores), thr).numpy()
    got = det.nms(torch.from_numpy(b) if as_torch else b, scores, thr)
    assert isinstance(got, torch.Tensor) == as_torch
    np.testing.assert_array_equal(np.asarray(got), expected)


@settings(max_examples=scaled(100))
@given(boxes(max_n=30, integer=True), st.floats(0.0, 1.0), st.integers(0, 2**32 - 1))
def test_batched_nms_matches_torchvision(b, thr, seed):
    rng = np.random.default_rng(seed)
    scores = rng.permutation(len(b)) / max(1, len(b)) + 0.01
    labels = rng.integers(0, 3, len(b))
    expected = tvops.batched_nms(torch.from_numpy(b), torch.from_numpy(scores), torch.from_numpy(labels),
                                 thr).numpy()
    np.testing.assert_array_equal(det.batched_nms(b, scores, labels, thr), expected)


def test_nms_threshold_is_strict():
    # IoU exactly 0.5: torchvision keeps both (only IoU > threshold suppresses)
    b = np.array([[0, 0, 3, 1], [1, 0, 4, 1.]])          # overlap 2, union 4
    assert det.box_iou(b[:1], b[1:])[0, 0] == 0.5
    assert det.nms(b, np.array([0.9, 0.8]), 0.5).tolist() == tvops.nms(
        torch.from_numpy(b), torch.tensor([0.9, 0.8], dtype=torch.float64), 0.5).tolist() == [0, 1]


@settings(max_examples=scaled(80))
@given(boxes(max_n=10), st.integers(1, 200), st.integers(1, 200))
def test_normalized_roundtrip(b, H, W):
    norm = det.corners_to_normalized(b, (H, W))
    back = det.normalized_to_corners(norm, (H, W))
    np.testing.assert_allclose(back, b, rtol=1e-12, atol=1e-9)
    if len(b):
        np.testing.assert_allclose(norm[:, 2], (b[:, 2] - b[:, 0]) / W, rtol=1e-12)
        exp = tvops.box_convert(torch.from_numpy(b), "xyxy", "cxcywh").numpy()
        np.testing.assert_allclose(norm * [W, H, W, H], exp, rtol=1e-12, atol=1e-9)


def test_bad_boxes_rejected():
    with pytest.raises(ValueError, match="boxes1"):
        det.box_iou(np.zeros((2, 3)), np.zeros((1, 4)))
    with pytest.raises(ValueError, match=r"x2 < x1"):
        det.box_iou(np.array([[5, 0, 1, 1]]), np.zeros((1, 4)))
    with pytest.raises(TypeError, match="boxes2"):
        det.box_iou(np.zeros((1, 4)), BAD_DTYPE_ARRAYS["strings"]((1, 4)))
    with pytest.raises(ValueError, match="scores"):
        det.nms(np.zeros((2, 4)), np.zeros(3), 0.5)
    with pytest.raises(ValueError, match="iou_threshold"):
        det.nms(np.zeros((2, 4)), np.zeros(2), 1.5)
    with pytest.raises(TypeError, match="iou_threshold"):
        det.nms(np.zeros((2, 4)), np.zeros(2), "0.5")
    with pytest.raises(TypeError, match="image_size"):
        det.corners_to_normalized(np.zeros((1, 4)), 64)


def test_sliding_windows_count_is_conv_output_size():
    from course_lib import conv_output_size
    w = det.sliding_windows((64, 48), 28, 4)
    assert len(w) == conv_output_size(64, 28, 4) * conv_output_size(48, 28, 4)
    assert (w[:, 2] - w[:, 0] == 28).all() and w[:, 2].max() <= 48 and w[:, 3].max() <= 64


def test_convolutionalize_scores_equal_window_scores():
    torch.manual_seed(0)
    clf = crop_classifier(seed=0).double().eval()
    conv = det.convolutionalize(clf, (1, 28, 28)).eval()
    img = torch.rand(1, 1, 44, 52, dtype=torch.float64)
    dense = conv(img)[0]                                   # (11, 5, 7)
    assert dense.shape == (11, 5, 7)
    for i in range(5):
        for j in range(7):
            crop = img[:, :, 4 * i:4 * i + 28, 4 * j:4 * j + 28]
            torch.testing.assert_close(dense[:, i, j], clf(crop)[0], rtol=1e-10, atol=1e-12)


def test_convolutionalize_rejects_bad_models():
    with pytest.raises(TypeError, match="model"):
        det.convolutionalize(nn.Linear(3, 3), (1, 2, 2))
    with pytest.raises(ValueError, match="Flatten"):
        det.convolutionalize(nn.Sequential(nn.Conv2d(1, 1, 3)), (1, 3, 3))
    with pytest.raises(ValueError, match="input_size"):
        det.convolutionalize(nn.Sequential(nn.Flatten(), nn.Linear(8, 2)), (1, 3, 3))


def test_sliding_window_detect_finds_planted_window():
    # a stride-1 "classifier" whose class-0 logit grows with the window's mean brightness: the bright square fires
    net = nn.Sequential(nn.Conv2d(1, 2, 28))
    with torch.no_grad():
        net[0].weight.zero_()
        net[0].weight[0] = 200.0 / 28**2
        net[0].bias[:] = torch.tensor([-190.0, 0.0])
    img = np.zeros((1, 64, 64), np.float32)
    img[0, 12:40, 20:48] = 1.0
    out = det.sliding_window_detect(net, img, stride=1, background=1, score_threshold=0.9, iou_threshold=0.3)
    assert out["labels"].tolist() == [0]
    np.testing.assert_allclose(out["boxes"][0], [24, 16, 44, 36])


def test_grid_targets_roundtrip():
    gt_boxes = [np.array([[4., 6., 30., 40.], [40., 40., 60., 62.]]), np.zeros((0, 4))]
    gt_labels = [np.array([2, 7]), np.zeros(0, np.int64)]
    t = det.encode_grid_targets(gt_boxes, gt_labels, grid=8, image_size=64)
    assert t.shape == (2, 6, 8, 8) and int(t[:, 0].sum()) == 2
    # build the logits a perfect detector would output and decode them
    out = torch.full((2, 15, 8, 8), -20.0)
    pos = t[:, 0] > 0
    out[:, 0][pos] = 20.0
    for ch in range(1, 5):
        out[:, ch][pos] = torch.logit(t[:, ch][pos].clamp(1e-6, 1 - 1e-6))
    n_idx, gi, gj = torch.nonzero(pos, as_tuple=True)
    out[n_idx, 5 + t[n_idx, 5, gi, gj].long(), gi, gj] = 20.0
    dec = det.decode_grid(out, image_size=64, score_threshold=0.5)
    assert len(dec[1]["boxes"]) == 0
    order = np.argsort(dec[0]["labels"])
    np.testing.assert_allclose(dec[0]["boxes"][order], gt_boxes[0], atol=1e-3)
    assert dec[0]["labels"][order].tolist() == [2, 7]
    assert float(det.grid_detection_loss(out, t)) < 1e-3


def test_match_and_precision_recall_by_hand():
    gt = np.array([[0, 0, 10, 10], [20, 0, 30, 10]])
    pred = np.array([[0, 0, 10, 10],      # 0.9: TP (gt 0)
                     [1, 1, 11, 11],      # 0.8: duplicate of gt 0 -> FP
                     [50, 50, 60, 60],    # 0.7: FP
                     [20, 0, 30, 11]])    # 0.6: IoU 10/11 with gt 1 -> TP
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    tp = det.match_detections(pred, scores, gt)
    assert tp.tolist() == [1, 0, 0, 1]
    p, r = det.precision_recall(tp, scores, 2)
    np.testing.assert_allclose(p, [1, 1 / 2, 1 / 3, 1 / 2])
    np.testing.assert_allclose(r, [0.5, 0.5, 0.5, 1.0])
    # interpolated precision: 1 up to recall 0.5, then 0.5 up to recall 1 -> AP = 0.5 + 0.25
    assert det.average_precision(p, r) == pytest.approx(0.75)


def test_map_two_classes_two_images_by_hand():
    gt = [{"boxes": np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), "labels": np.array([0, 1])},
          {"boxes": np.array([[0, 0, 10, 10]]), "labels": np.array([0])}]
    dets = [{"boxes": np.array([[0, 0, 10, 10], [20, 20, 30, 30], [40, 40, 50, 50]]),
             "scores": np.array([0.5, 0.9, 0.8]), "labels": np.array([0, 1, 0])},
            {"boxes": np.array([[0, 0, 9, 10]]), "scores": np.array([0.6]), "labels": np.array([0])}]
    r = det.mean_average_precision(dets, gt, num_classes=3)
    # class 0, sorted: 0.8 FP, 0.6 TP, 0.5 TP -> precision 0, 1/2, 2/3 at recall 0, 1/2, 1 -> AP = 2/3
    # class 1: one TP -> AP 1; class 2 has no ground truth -> NaN, left out of the mean
    np.testing.assert_allclose(r["ap"][:2], [2 / 3, 1.0])
    assert np.isnan(r["ap"][2]) and r["map"] == pytest.approx((2 / 3 + 1) / 2)
    assert r["n_gt"].tolist() == [2, 1, 0]
    # wrong class labels never match; IoU just below 0.5 does not count at 0.5 but does at 0.3
    half = [{"boxes": np.array([[0, 0, 10, 10]]), "labels": np.array([0])}]
    d = [{"boxes": np.array([[0, 0, 10, 4.9]]), "scores": np.array([1.0]), "labels": np.array([0])}]
    assert det.mean_average_precision(d, half, num_classes=1)["map"] == 0.0
    assert det.mean_average_precision(d, half, num_classes=1, iou_threshold=0.3)["map"] == 1.0


def test_map_perfect_and_empty():
    gt = [{"boxes": np.array([[0, 0, 5, 5]]), "labels": np.array([1])}]
    perfect = [{"boxes": np.array([[0, 0, 5, 5]]), "scores": np.array([0.3]), "labels": np.array([1])}]
    assert det.mean_average_precision(perfect, gt, num_classes=2)["map"] == 1.0
    none = [{"boxes": np.zeros((0, 4)), "scores": np.zeros(0), "labels": np.zeros(0, int)}]
    assert det.mean_average_precision(none, gt, num_classes=2)["map"] == 0.0
    with pytest.raises(ValueError, match="labels outside"):
        det.mean_average_precision(perfect, gt, num_classes=1)
    with pytest.raises(ValueError, match="same images"):
        det.mean_average_precision(perfect, gt + gt, num_classes=2)


@settings(max_examples=scaled(60))
@given(boxes(max_n=40), st.floats(0.0, 0.99), st.integers(0, 2**32 - 1))
def test_pipeline_nms_equals_ours(b, thr, seed):
    rng = np.random.default_rng(seed)
    scores = rng.permutation(len(b)) / max(1, len(b)) + 0.01
    labels = rng.integers(0, 3, len(b))
    d = det.filter_detections({"boxes": b, "scores": scores, "labels": labels}, score_threshold=0.0,
                              iou_threshold=thr)
    keep = det.batched_nms(b, scores, labels, thr)
    np.testing.assert_array_equal(d["scores"], scores[keep])
