"""Object detection: boxes, IoU, non-maximum suppression, sliding windows, grid detectors and mAP.

Boxes follow torchvision: corners ``(x1, y1, x2, y2)`` in pixels with
``x1 <= x2`` and ``y1 <= y2``. Bishop's normalised form ``(b_x, b_y, b_W, b_H)``
(the centre and the size as fractions of the image width and height) converts
with :func:`corners_to_normalized` and :func:`normalized_to_corners`. Every
function takes NumPy arrays or torch tensors and returns the same kind.
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from ._checks import check_array, check_int

__all__ = ["box_iou", "box_area", "nms", "batched_nms", "corners_to_normalized",
           "normalized_to_corners", "convolutionalize", "window_boxes", "sliding_windows",
           "sliding_window_detect", "filter_detections", "encode_grid_targets", "decode_grid", "grid_detection_loss",
           "match_detections", "precision_recall", "average_precision", "mean_average_precision"]


def _boxes(name: str, value) -> Tuple[np.ndarray, bool]:
    """(K, 4) float64 corner boxes; remembers whether the input was a torch tensor."""
    was_torch = isinstance(value, torch.Tensor)
    arr = check_array(name, value, ndim=(1, 2), shape_hint="(K, 4)")
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 4)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(f"{name} must have shape (K, 4) with corners (x1, y1, x2, y2), got shape "
                         f"{arr.shape}; stack boxes as rows, e.g. np.array([[x1, y1, x2, y2]])")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must hold finite numbers, got NaN or inf; remove those boxes")
    bad = (arr[:, 2] < arr[:, 0]) | (arr[:, 3] < arr[:, 1])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}[{i}] = {arr[i].tolist()} has x2 < x1 or y2 < y1; boxes are corners "
                         "(x1, y1, x2, y2); convert (x, y, w, h) boxes with x2 = x + w, y2 = y + h")
    return arr, was_torch


def _out(arr: np.ndarray, as_torch: bool, dtype=None):
    if as_torch:
        return torch.from_numpy(np.ascontiguousarray(arr))
    return arr if dtype is None else arr.astype(dtype)


def box_area(boxes):
    """Areas (x2 - x1) * (y2 - y1) of (K, 4) corner boxes.

    Examples
    --------
    >>> box_area(np.array([[0, 0, 2, 3], [1, 1, 1, 5]]))
    array([6., 0.])
    """
    b, t = _boxes("boxes", boxes)
    return _out((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]), t)


def box_iou(boxes1, boxes2):
    """Intersection over union of every pair of boxes, as ``torchvision.ops.box_iou``.

    Parameters
    ----------
    boxes1 : array or tensor, (N, 4)
        Corners (x1, y1, x2, y2).
    boxes2 : array or tensor, (M, 4)

    Returns
    -------
    (N, M) array (float64) or tensor, like ``boxes1``
        IoU in [0, 1]. Two zero-area boxes give 0 here (torchvision gives NaN).

    Examples
    --------
    >>> box_iou(np.array([[0, 0, 2, 2]]), np.array([[1, 1, 3, 3], [0, 0, 2, 2], [5, 5, 6, 6]]))
    array([[0.14285714, 1.        , 0.        ]])
    """
    a, t = _boxes("boxes1", boxes1)
    b, _ = _boxes("boxes2", boxes2)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return _out(iou, t)


def _scores(name: str, value, n: int) -> np.ndarray:
    s = check_array(name, value, ndim=1, shape_hint="(K,)").astype(np.float64)
    if len(s) != n:
        raise ValueError(f"{name} must have one entry per box ({n}), got {len(s)}; pass one score per row")
    if np.isnan(s).any():
        raise ValueError(f"{name} must not hold NaN; drop those boxes first")
    return s


def _threshold(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number in [0, 1], got {value!r}; pass e.g. {name}=0.5")
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {name}={value}; pass e.g. {name}=0.5")
    return value


def nms(boxes, scores, iou_threshold: float):
    """Greedy non-maximum suppression, as ``torchvision.ops.nms``.

    Take the highest-scoring box, drop every remaining box whose IoU with it is
    greater than ``iou_threshold``, repeat with the next survivor.

    Parameters
    ----------
    boxes : (K, 4) corners
    scores : (K,)
    iou_threshold : float in [0, 1]
        Boxes overlapping a kept box by *more* than this are discarded.

    Returns
    -------
    keep : int64 array or tensor
        Indices of the kept boxes in decreasing order of score (ties: lower index first).

    Examples
    --------
    >>> b = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]])
    >>> nms(b, np.array([0.9, 0.8, 0.7]), 0.5)
    array([0, 2])
    """
    b, t = _boxes("boxes", boxes)
    s = _scores("scores", scores, len(b))
    thr = _threshold("iou_threshold", iou_threshold)
    order = np.argsort(-s, kind="stable")
    keep = []
    iou = box_iou(b, b)
    suppressed = np.zeros(len(b), bool)
    for i in order:
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > thr
    return _out(np.array(keep, np.int64), t)


def batched_nms(boxes, scores, labels, iou_threshold: float):
    """NMS within each class separately (``torchvision.ops.batched_nms``).

    Examples
    --------
    >>> b = np.array([[0, 0, 10, 10], [1, 1, 11, 11]])
    >>> batched_nms(b, np.array([0.9, 0.8]), np.array([0, 1]), 0.5)
    array([0, 1])
    """
    b, t = _boxes("boxes", boxes)
    s = _scores("scores", scores, len(b))
    lab = check_array("labels", labels, ndim=1, shape_hint="(K,)")
    if len(lab) != len(b):
        raise ValueError(f"labels must have one entry per box ({len(b)}), got {len(lab)}")
    thr = _threshold("iou_threshold", iou_threshold)
    keep = []
    for c in np.unique(lab):
        idx = np.flatnonzero(lab == c)
        keep.extend(idx[nms(b[idx], s[idx], thr)].tolist())
    keep = np.array(keep, np.int64)
    keep = keep[np.argsort(-s[keep], kind="stable")] if len(keep) else keep
    return _out(keep, t)


def _fast_batched_nms(b: np.ndarray, s: np.ndarray, lab: np.ndarray, thr: float) -> np.ndarray:
    """torchvision's compiled batched NMS on validated arrays; the same rule as :func:`batched_nms`
    (the tests check that they agree), used inside the detection pipelines for speed."""
    import torchvision.ops
    if len(b) == 0:
        return np.zeros(0, np.int64)
    return torchvision.ops.batched_nms(torch.from_numpy(b), torch.from_numpy(s), torch.from_numpy(lab),
                                       thr).numpy()


def _size(name: str, value) -> Tuple[int, int]:
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return check_int(f"{name}[0]", value[0], minimum=1), check_int(f"{name}[1]", value[1], minimum=1)
    raise TypeError(f"{name} must be a pair (height, width) of the image, got {value!r}; "
                    f"pass e.g. {name}=(64, 64)")


def corners_to_normalized(boxes, image_size):
    """Corner boxes in pixels to Bishop's ``(b_x, b_y, b_W, b_H)``: centre and size as fractions.

    Parameters
    ----------
    boxes : (K, 4) corners (x1, y1, x2, y2) in pixels
    image_size : (H, W)

    Examples
    --------
    >>> corners_to_normalized(np.array([[16, 8, 48, 24]]), (32, 64))
    array([[0.5, 0.5, 0.5, 0.5]])
    """
    b, t = _boxes("boxes", boxes)
    H, W = _size("image_size", image_size)
    out = np.stack([(b[:, 0] + b[:, 2]) / 2 / W, (b[:, 1] + b[:, 3]) / 2 / H,
                    (b[:, 2] - b[:, 0]) / W, (b[:, 3] - b[:, 1]) / H], axis=1)
    return _out(out, t)


def normalized_to_corners(boxes, image_size):
    """Bishop's normalised ``(b_x, b_y, b_W, b_H)`` to corner boxes in pixels.

    Examples
    --------
    >>> normalized_to_corners(np.array([[0.5, 0.5, 0.5, 0.5]]), (32, 64))
    array([[16.,  8., 48., 24.]])
    """
    t = isinstance(boxes, torch.Tensor)
    b = check_array("boxes", boxes, ndim=2, shape_hint="(K, 4)").astype(np.float64)
    if b.shape[1] != 4:
        raise ValueError(f"boxes must have shape (K, 4) = (b_x, b_y, b_W, b_H), got {b.shape}")
    if (b[:, 2:] < 0).any():
        raise ValueError("boxes must have b_W >= 0 and b_H >= 0; a negative size is not a box")
    H, W = _size("image_size", image_size)
    out = np.stack([(b[:, 0] - b[:, 2] / 2) * W, (b[:, 1] - b[:, 3] / 2) * H,
                    (b[:, 0] + b[:, 2] / 2) * W, (b[:, 1] + b[:, 3] / 2) * H], axis=1)
    return _out(out, t)


# ------------------------------------------------------------------------------------------------
# sliding windows

def sliding_windows(image_size, window, stride):
    """Every window position of a ``window`` x ``window`` scan with ``stride``, as corner boxes.

    Returns (n_rows * n_cols, 4) float64 corners in row-major order, with
    ``n = (size - window) // stride + 1`` per axis (the conv output size).

    Examples
    --------
    >>> sliding_windows((6, 8), 4, 2)
    array([[0., 0., 4., 4.],
           [2., 0., 6., 4.],
           [4., 0., 8., 4.],
           [0., 2., 4., 6.],
           [2., 2., 6., 6.],
           [4., 2., 8., 6.]])
    """
    H, W = _size("image_size", image_size)
    window = check_int("window", window, minimum=1)
    stride = check_int("stride", stride, minimum=1)
    if window > min(H, W):
        raise ValueError(f"window must fit the image {H} x {W}, got window={window}; use a smaller window")
    return window_boxes(((H - window) // stride + 1, (W - window) // stride + 1), window, stride)


def window_boxes(grid_size, window, stride, *, offset: float = 0.0, scale=(1.0, 1.0)):
    """Corner boxes of the windows behind each cell of a score map.

    Cell (i, j) of a map from a network with total stride ``stride`` and a
    ``window``-pixel receptive field covers ``[j s, i s, j s + window, i s + window]``
    in the input. ``offset`` shrinks each window by that many pixels on every side
    (e.g. 4 to keep the 20 x 20 core of a 28 x 28 window), and the result is
    divided by ``scale = (sy, sx)``, the factors the image was resized by.

    Examples
    --------
    >>> window_boxes((1, 2), 28, 4, offset=4)
    array([[ 4.,  4., 24., 24.],
           [ 8.,  4., 28., 24.]])
    """
    gh, gw = _size("grid_size", grid_size)
    window = check_int("window", window, minimum=1)
    stride = check_int("stride", stride, minimum=1)
    if isinstance(scale, (int, float)):
        scale = (scale, scale)
    sy, sx = float(scale[0]), float(scale[1])
    if sy <= 0 or sx <= 0:
        raise ValueError(f"scale must be positive, got scale={scale}; pass the resize factors (sy, sx)")
    ii, jj = np.meshgrid(np.arange(gh), np.arange(gw), indexing="ij")
    x1 = jj.ravel() * stride + offset
    y1 = ii.ravel() * stride + offset
    side = window - 2 * offset
    return np.stack([x1 / sx, y1 / sy, (x1 + side) / sx, (y1 + side) / sy], axis=1).astype(np.float64)


def convolutionalize(model: nn.Sequential, input_size) -> nn.Sequential:
    """The same network with its fully connected head rewritten as convolutions.

    The first ``nn.Linear`` after the ``nn.Flatten`` becomes a convolution whose
    kernel covers the whole feature map that the classifier sees for an input of
    ``input_size``; later ``nn.Linear`` layers become 1 x 1 convolutions. The
    weights are copied, so on an input of ``input_size`` the new network gives
    the same scores (as a 1 x 1 map), and on a larger image it scores every
    window in one pass (Bishop fig. 10.22-10.23).

    Parameters
    ----------
    model : nn.Sequential
        Convolution and pooling layers, an ``nn.Flatten``, then ``nn.Linear``
        layers with element-wise layers (ReLU, Dropout) in between.
    input_size : (C, H, W)
        The input the classifier was trained on.

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    >>> conv = convolutionalize(net, (1, 6, 6))
    >>> x = torch.randn(1, 1, 6, 6)
    >>> torch.allclose(conv(x).flatten(1), net(x), atol=1e-6), conv(torch.randn(1, 1, 9, 9)).shape
    (True, torch.Size([1, 3, 4, 4]))
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be an nn.Sequential, got {type(model).__name__}; "
                        "wrap the layers in nn.Sequential(...)")
    if not (isinstance(input_size, (tuple, list)) and len(input_size) == 3):
        raise TypeError(f"input_size must be (C, H, W), got {input_size!r}; pass e.g. input_size=(1, 28, 28)")
    layers = list(model)
    flat = [i for i, m in enumerate(layers) if isinstance(m, nn.Flatten)]
    if len(flat) != 1:
        raise ValueError(f"model must contain exactly one nn.Flatten, found {len(flat)}; the layers "
                         "before it are kept and the Linear layers after it are converted")
    body = nn.Sequential(*layers[:flat[0]])
    p = next(model.parameters())
    with torch.no_grad():
        fmap = body(torch.zeros(1, *[int(v) for v in input_size], dtype=p.dtype, device=p.device))
    c, h, w = fmap.shape[1:]
    out, first = list(layers[:flat[0]]), True
    for m in layers[flat[0] + 1:]:
        if isinstance(m, nn.Linear):
            if first:
                if m.in_features != c * h * w:
                    raise ValueError(f"the first Linear expects {m.in_features} inputs but the feature "
                                     f"map for input_size={tuple(input_size)} has {c}x{h}x{w}; pass the "
                                     "size the classifier was trained on")
                conv = nn.Conv2d(c, m.out_features, (h, w))
                conv.weight.data.copy_(m.weight.data.view(m.out_features, c, h, w))
                first = False
            else:
                conv = nn.Conv2d(m.in_features, m.out_features, 1)
                conv.weight.data.copy_(m.weight.data.view(m.out_features, m.in_features, 1, 1))
            conv.bias.data.copy_(m.bias.data if m.bias is not None else torch.zeros(m.out_features))
            out.append(conv.to(device=p.device, dtype=p.dtype))
        elif isinstance(m, (nn.ReLU, nn.Dropout, nn.Tanh, nn.Sigmoid, nn.Identity, nn.LeakyReLU, nn.GELU)):
            out.append(m)
        else:
            raise ValueError(f"cannot convert layer {m} after Flatten; only Linear and element-wise "
                             "layers are supported there")
    return nn.Sequential(*out)


def _check_scales(name, value):
    if not isinstance(value, (list, tuple)) or len(value) == 0:
        raise TypeError(f"{name} must be a non-empty list of (sy, sx) resize factors, got {value!r}; "
                        f"pass e.g. {name}=[(1.0, 1.0), (0.8, 1.0)]")
    out = []
    for v in value:
        pair = (v, v) if isinstance(v, (int, float)) else tuple(v)
        if len(pair) != 2 or min(pair) <= 0:
            raise ValueError(f"{name} entries must be positive factors or (sy, sx) pairs, got {v!r}")
        out.append((float(pair[0]), float(pair[1])))
    return out


@torch.no_grad()
def sliding_window_detect(conv_model: nn.Module, image, *, window: int = 28, stride: int = 4,
                          offset: int = 4, scales=((1.0, 1.0),), background: int = 10,
                          score_threshold: float = 0.5, iou_threshold: float = 0.3,
                          max_detections: int = 100) -> Dict[str, np.ndarray]:
    """Detect objects with a convolutionalised window classifier at several scales and aspect ratios.

    For each ``(sy, sx)`` the image is resized by those factors (bilinear), the
    network scores every window in one pass, each window gets its most likely
    non-background class and that class's softmax probability, windows above
    ``score_threshold`` become boxes (the window minus ``offset`` pixels per side,
    mapped back to the original image) and class-wise NMS removes duplicates.

    Parameters
    ----------
    conv_model : nn.Module
        Maps (1, C, H, W) to class logits (1, K, h, w); see :func:`convolutionalize`.
    image : array or tensor, (C, H, W), values 0..1 (uint8 is divided by 255)
    window, stride, offset : int
        The classifier's input size, the network's total stride, the margin.
    scales : sequence of (sy, sx)
    background : int
        Index of the background class.
    score_threshold, iou_threshold : float
    max_detections : int
        Keep at most this many (the best-scoring ones).

    Returns
    -------
    dict with ``boxes`` (D, 4), ``scores`` (D,), ``labels`` (D,) as NumPy arrays,
    in decreasing order of score. ``iou_threshold=1.0`` skips NMS (use
    :func:`filter_detections` later to try several thresholds).

    Examples
    --------
    >>> net = nn.Sequential(nn.Conv2d(1, 3, 28))      # a toy 3-class "classifier", class 2 = background
    >>> out = sliding_window_detect(net, np.zeros((1, 40, 40)), background=2, score_threshold=0.0)
    >>> sorted(out), out["boxes"].shape[1]
    (['boxes', 'labels', 'scores'], 4)
    """
    if not isinstance(conv_model, nn.Module):
        raise TypeError(f"conv_model must be an nn.Module, got {type(conv_model).__name__}")
    img = image if isinstance(image, torch.Tensor) else torch.from_numpy(np.asarray(image))
    if img.ndim != 3:
        raise ValueError(f"image must be (C, H, W), got shape {tuple(img.shape)}; index one image, e.g. images[0]")
    img = img.float() / 255.0 if img.dtype == torch.uint8 else img.float()
    scales = _check_scales("scales", scales)
    score_threshold = _threshold("score_threshold", score_threshold)
    iou_threshold = _threshold("iou_threshold", iou_threshold)
    max_detections = check_int("max_detections", max_detections, minimum=1)
    p = next(conv_model.parameters())
    H, W = img.shape[1:]
    boxes, scores, labels = [], [], []
    for sy, sx in scales:
        h, w = max(window, round(H * sy)), max(window, round(W * sx))
        x = F.interpolate(img[None], size=(h, w), mode="bilinear", align_corners=False) \
            if (h, w) != (H, W) else img[None]
        logits = conv_model(x.to(p.device, p.dtype)).float().cpu()[0]      # (K, gh, gw)
        prob = logits.softmax(0)
        prob[background] = -1
        best, cls = prob.max(0)
        bx = window_boxes(tuple(best.shape), window, stride, offset=offset, scale=(h / H, w / W))
        keep = (best.ravel() >= score_threshold).numpy()
        boxes.append(bx[keep])
        scores.append(best.ravel().numpy()[keep])
        labels.append(cls.ravel().numpy()[keep])
    b = np.concatenate(boxes).reshape(-1, 4)
    s = np.concatenate(scores).astype(np.float64)
    lab = np.concatenate(labels).astype(np.int64)
    if iou_threshold >= 1.0:              # no suppression asked for: just rank by score
        keep = np.argsort(-s, kind="stable")[:max_detections]
    else:
        keep = _fast_batched_nms(b, s, lab, iou_threshold)[:max_detections]
    return {"boxes": b[keep], "scores": s[keep], "labels": lab[keep]}


def filter_detections(detections: Dict[str, np.ndarray], *, score_threshold: float,
                      iou_threshold: float) -> Dict[str, np.ndarray]:
    """Keep the detections scoring at least ``score_threshold``, then class-wise NMS at ``iou_threshold``.

    Lets a notebook run the expensive scan once (low threshold, no NMS:
    ``iou_threshold=1.0``) and try several thresholds on the result.

    Examples
    --------
    >>> d = {"boxes": np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]]),
    ...      "scores": np.array([0.9, 0.8, 0.3]), "labels": np.array([1, 1, 1])}
    >>> filter_detections(d, score_threshold=0.5, iou_threshold=0.5)["scores"]
    array([0.9])
    """
    if not isinstance(detections, dict) or not {"boxes", "scores", "labels"} <= set(detections):
        raise TypeError("detections must be a dict with 'boxes', 'scores' and 'labels', as returned by "
                        "sliding_window_detect or decode_grid")
    st = _threshold("score_threshold", score_threshold)
    it = _threshold("iou_threshold", iou_threshold)
    b, _ = _boxes("detections['boxes']", detections["boxes"])
    s = _scores("detections['scores']", detections["scores"], len(b))
    lab = np.asarray(detections["labels"]).astype(np.int64).reshape(-1)
    keep = np.flatnonzero(s >= st)
    if len(keep) and it < 1.0:
        keep = keep[_fast_batched_nms(b[keep], s[keep], lab[keep], it)]
    return {"boxes": b[keep], "scores": s[keep], "labels": lab[keep]}


# ------------------------------------------------------------------------------------------------
# grid (YOLO-style) detector: each cell predicts objectness, a box and a class

def encode_grid_targets(boxes_list: Sequence, labels_list: Sequence, *, grid: int, image_size: int
                        ) -> torch.Tensor:
    """Training targets of a one-box-per-cell grid detector.

    The cell that holds a box's centre is responsible for it (a later box in the
    same cell replaces an earlier one). Channels per cell: objectness (1 or 0),
    the centre's offset inside the cell (t_x, t_y in [0, 1)), the box size as a
    fraction of the image (b_W, b_H) and the class; cells without an object
    have zeros and class -1.

    Returns
    -------
    Tensor (N, 6, grid, grid), float32.

    Examples
    --------
    >>> t = encode_grid_targets([np.array([[8., 8., 40., 40.]])], [np.array([3])], grid=4, image_size=64)
    >>> t[0, :, 1, 1].tolist()
    [1.0, 0.5, 0.5, 0.5, 0.5, 3.0]
    """
    grid = check_int("grid", grid, minimum=1)
    image_size = check_int("image_size", image_size, minimum=1)
    if len(boxes_list) != len(labels_list):
        raise ValueError(f"boxes_list and labels_list must have one entry per image, got "
                         f"{len(boxes_list)} and {len(labels_list)}")
    n = len(boxes_list)
    t = torch.zeros(n, 6, grid, grid)
    t[:, 5] = -1
    cell = image_size / grid
    for i, (b, lab) in enumerate(zip(boxes_list, labels_list)):
        b, _ = _boxes(f"boxes_list[{i}]", b)
        for (x1, y1, x2, y2), c in zip(b, np.asarray(lab)):
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            gj, gi = min(int(cx // cell), grid - 1), min(int(cy // cell), grid - 1)
            t[i, :, gi, gj] = torch.tensor([1.0, cx / cell - gj, cy / cell - gi,
                                            (x2 - x1) / image_size, (y2 - y1) / image_size, float(c)])
    return t


def grid_detection_loss(output: torch.Tensor, target: torch.Tensor, *, box_weight: float = 5.0,
                        noobj_weight: float = 0.5) -> torch.Tensor:
    """A YOLO-style loss for (N, 5 + K, G, G) outputs and :func:`encode_grid_targets` targets.

    Objectness: binary cross-entropy on every cell (cells without an object
    weighted by ``noobj_weight``). Box: squared error of sigmoid(t_x, t_y) and of
    the square roots of the sizes (as YOLO, so small boxes count) on cells with
    an object, weighted by ``box_weight``. Class: cross-entropy on cells with an
    object. Averaged over images.

    Examples
    --------
    >>> out = torch.zeros(1, 15, 4, 4)
    >>> t = encode_grid_targets([np.array([[8., 8., 40., 40.]])], [np.array([3])], grid=4, image_size=64)
    >>> round(float(grid_detection_loss(out, t)), 3)
    8.194
    """
    if not isinstance(output, torch.Tensor) or output.ndim != 4 or output.shape[1] < 6:
        raise ValueError(f"output must be a tensor (N, 5 + K, G, G), got "
                         f"{getattr(output, 'shape', type(output).__name__)}")
    if not isinstance(target, torch.Tensor) or target.shape[0] != output.shape[0] or target.shape[1] != 6 \
            or target.shape[2:] != output.shape[2:]:
        raise ValueError(f"target must be (N, 6, G, G) from encode_grid_targets matching output "
                         f"{tuple(output.shape)}, got {getattr(target, 'shape', None)}")
    n = output.shape[0]
    obj = target[:, 0]
    pos = obj > 0.5
    w = torch.where(pos, torch.ones_like(obj), torch.full_like(obj, noobj_weight))
    loss = (F.binary_cross_entropy_with_logits(output[:, 0], obj, reduction="none") * w).sum()
    if pos.any():
        xy = torch.sigmoid(output[:, 1:3]).permute(0, 2, 3, 1)[pos]
        wh = torch.sigmoid(output[:, 3:5]).permute(0, 2, 3, 1)[pos]
        txy = target[:, 1:3].permute(0, 2, 3, 1)[pos]
        twh = target[:, 3:5].permute(0, 2, 3, 1)[pos]
        loss = loss + box_weight * (((xy - txy) ** 2).sum() +
                                    ((wh.clamp_min(1e-6).sqrt() - twh.sqrt()) ** 2).sum())
        cls_logits = output[:, 5:].permute(0, 2, 3, 1)[pos]
        loss = loss + F.cross_entropy(cls_logits, target[:, 5][pos].long(), reduction="sum")
    return loss / n


@torch.no_grad()
def decode_grid(output, *, image_size: int, score_threshold: float = 0.5, iou_threshold: float = 0.5
                ) -> List[Dict[str, np.ndarray]]:
    """Boxes from a grid detector's (N, 5 + K, G, G) output; score = objectness x class probability.

    Returns one dict per image with ``boxes`` (corners in pixels), ``scores``
    and ``labels`` after class-wise NMS.

    Examples
    --------
    >>> out = torch.full((1, 15, 4, 4), -9.0)
    >>> out[0, 0, 1, 1] = 9; out[0, 1:3, 1, 1] = 0; out[0, 5 + 3, 1, 1] = 9
    >>> d = decode_grid(out, image_size=64)[0]
    >>> d["labels"].tolist(), d["boxes"].round(1).tolist()
    ([3], [[24.0, 24.0, 24.0, 24.0]])
    """
    if not isinstance(output, torch.Tensor) or output.ndim != 4 or output.shape[1] < 6:
        raise ValueError(f"output must be a tensor (N, 5 + K, G, G), got "
                         f"{getattr(output, 'shape', type(output).__name__)}")
    image_size = check_int("image_size", image_size, minimum=1)
    score_threshold = _threshold("score_threshold", score_threshold)
    iou_threshold = _threshold("iou_threshold", iou_threshold)
    out = output.float().cpu()
    n, _, G, _ = out.shape
    cell = image_size / G
    obj = torch.sigmoid(out[:, 0])
    cls_p, cls = out[:, 5:].softmax(1).max(1)
    score = obj * cls_p
    xy = torch.sigmoid(out[:, 1:3])
    wh = torch.sigmoid(out[:, 3:5]) * image_size
    gi, gj = torch.meshgrid(torch.arange(G), torch.arange(G), indexing="ij")
    cx = (gj + xy[:, 0]) * cell
    cy = (gi + xy[:, 1]) * cell
    boxes = torch.stack([cx - wh[:, 0] / 2, cy - wh[:, 1] / 2, cx + wh[:, 0] / 2, cy + wh[:, 1] / 2], 1)
    results = []
    for i in range(n):
        keep = score[i].ravel() >= score_threshold
        b = boxes[i].reshape(4, -1).T[keep].double().numpy()
        s = score[i].ravel()[keep].double().numpy()
        lab = cls[i].ravel()[keep].numpy().astype(np.int64)
        k = _fast_batched_nms(b, s, lab, iou_threshold)
        results.append({"boxes": b[k], "scores": s[k], "labels": lab[k]})
    return results


# ------------------------------------------------------------------------------------------------
# evaluation: precision, recall, average precision, mAP

def match_detections(pred_boxes, pred_scores, gt_boxes, *, iou_threshold: float = 0.5) -> np.ndarray:
    """Mark each detection of one class in one image as true (1) or false (0) positive.

    Detections are taken in decreasing score; each one is matched to the
    unmatched ground-truth box it overlaps most, if that IoU is at least
    ``iou_threshold`` (PASCAL VOC's rule). A second detection of an already
    matched object is a false positive.

    Returns
    -------
    np.ndarray of int64, (D,), in the order of the input detections.

    Examples
    --------
    >>> gt = np.array([[0, 0, 10, 10]])
    >>> match_detections(np.array([[0, 0, 10, 10], [1, 0, 11, 10]]), np.array([0.6, 0.9]), gt)
    array([0, 1])
    """
    p, _ = _boxes("pred_boxes", pred_boxes)
    s = _scores("pred_scores", pred_scores, len(p))
    g, _ = _boxes("gt_boxes", gt_boxes)
    thr = _threshold("iou_threshold", iou_threshold)
    tp = np.zeros(len(p), np.int64)
    if len(p) == 0 or len(g) == 0:
        return tp
    iou = box_iou(p, g)
    used = np.zeros(len(g), bool)
    for i in np.argsort(-s, kind="stable"):
        cand = np.where(used, -1.0, iou[i])
        j = int(np.argmax(cand))
        if cand[j] >= thr:
            used[j] = True
            tp[i] = 1
    return tp


def precision_recall(tp, scores, n_gt: int) -> Tuple[np.ndarray, np.ndarray]:
    """Precision and recall after each detection, detections sorted by decreasing score.

    Parameters
    ----------
    tp : (D,) 0/1 flags from :func:`match_detections` (all images pooled)
    scores : (D,)
    n_gt : int
        Number of ground-truth objects of the class.

    Examples
    --------
    >>> p, r = precision_recall(np.array([1, 0, 1]), np.array([0.9, 0.8, 0.7]), 4)
    >>> p.round(3).tolist(), r.tolist()
    ([1.0, 0.5, 0.667], [0.25, 0.25, 0.5])
    """
    tp = check_array("tp", tp, ndim=1, shape_hint="(D,)")
    if not np.isin(tp, (0, 1)).all():
        raise ValueError("tp must hold only 0 (false positive) and 1 (true positive)")
    s = _scores("scores", scores, len(tp))
    n_gt = check_int("n_gt", n_gt, minimum=0)
    if tp.sum() > n_gt:
        raise ValueError(f"tp has {int(tp.sum())} true positives but n_gt={n_gt}; each object is matched once")
    order = np.argsort(-s, kind="stable")
    ctp = np.cumsum(tp[order])
    precision = ctp / np.arange(1, len(tp) + 1)
    recall = ctp / n_gt if n_gt > 0 else np.zeros(len(tp))
    return precision.astype(np.float64), recall.astype(np.float64)


def average_precision(precision, recall) -> float:
    """Area under the precision-recall curve with all-point interpolation (PASCAL VOC 2010+).

    Precision is first made non-increasing from the right (the best precision at
    this recall or any higher one), then summed over the recall steps.

    Examples
    --------
    >>> average_precision(np.array([1.0, 0.5, 2 / 3]), np.array([0.25, 0.25, 0.5]))
    0.41666666666666663
    """
    p = check_array("precision", precision, ndim=1).astype(np.float64)
    r = check_array("recall", recall, ndim=1).astype(np.float64)
    if len(p) != len(r):
        raise ValueError(f"precision and recall must have the same length, got {len(p)} and {len(r)}")
    if len(p) == 0:
        return 0.0
    if np.any(np.diff(r) < -1e-12):
        raise ValueError("recall must be non-decreasing (detections sorted by decreasing score)")
    mrec = np.concatenate([[0.0], r, [1.0]])
    mpre = np.concatenate([[0.0], p, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    steps = np.flatnonzero(mrec[1:] != mrec[:-1]) + 1
    return float(np.sum((mrec[steps] - mrec[steps - 1]) * mpre[steps]))


def mean_average_precision(detections: Sequence[Dict], ground_truth: Sequence[Dict], *,
                           num_classes: int, iou_threshold: float = 0.5) -> Dict[str, object]:
    """mAP at one IoU threshold over a set of images (PASCAL VOC style).

    Parameters
    ----------
    detections : list of dicts with ``boxes`` (D, 4), ``scores`` (D,), ``labels`` (D,), one per image
    ground_truth : list of dicts with ``boxes`` (G, 4), ``labels`` (G,), one per image
    num_classes : int
    iou_threshold : float

    Returns
    -------
    dict with ``map`` (mean AP over the classes that have ground truth), ``ap``
    (per-class AP, NaN for classes without ground truth), ``precision`` and
    ``recall`` (per-class curves) and ``n_gt`` (objects per class).

    Examples
    --------
    >>> gt = [{"boxes": np.array([[0, 0, 10, 10]]), "labels": np.array([0])}]
    >>> det = [{"boxes": np.array([[0, 0, 10, 10], [20, 20, 30, 30]]), "scores": np.array([0.9, 0.95]),
    ...         "labels": np.array([0, 0])}]
    >>> mean_average_precision(det, gt, num_classes=1)["map"]
    0.5
    """
    num_classes = check_int("num_classes", num_classes, minimum=1)
    thr = _threshold("iou_threshold", iou_threshold)
    if not isinstance(detections, (list, tuple)) or not isinstance(ground_truth, (list, tuple)):
        raise TypeError("detections and ground_truth must be lists with one dict per image")
    if len(detections) != len(ground_truth):
        raise ValueError(f"detections and ground_truth must cover the same images, got "
                         f"{len(detections)} and {len(ground_truth)} entries")
    tps = [[] for _ in range(num_classes)]
    scs = [[] for _ in range(num_classes)]
    n_gt = np.zeros(num_classes, np.int64)
    for i, (d, g) in enumerate(zip(detections, ground_truth)):
        for key, src in (("boxes", d), ("scores", d), ("labels", d), ("boxes", g), ("labels", g)):
            if key not in src:
                raise ValueError(f"entry {i} lacks {key!r}; detections need boxes, scores, labels and "
                                 "ground truth boxes and labels")
        db, _ = _boxes(f"detections[{i}]['boxes']", d["boxes"])
        ds = _scores(f"detections[{i}]['scores']", d["scores"], len(db))
        dl = np.asarray(d["labels"]).astype(np.int64).reshape(-1)
        gb, _ = _boxes(f"ground_truth[{i}]['boxes']", g["boxes"])
        gl = np.asarray(g["labels"]).astype(np.int64).reshape(-1)
        if len(dl) != len(db) or len(gl) != len(gb):
            raise ValueError(f"entry {i}: labels must have one entry per box")
        for lab_arr, name in ((dl, "detections"), (gl, "ground_truth")):
            if len(lab_arr) and (lab_arr.min() < 0 or lab_arr.max() >= num_classes):
                raise ValueError(f"{name}[{i}] has labels outside 0..{num_classes - 1}; "
                                 "check num_classes")
        for c in range(num_classes):
            dm, gm = dl == c, gl == c
            n_gt[c] += int(gm.sum())
            if dm.any():
                tps[c].append(match_detections(db[dm], ds[dm], gb[gm], iou_threshold=thr))
                scs[c].append(ds[dm])
    ap = np.full(num_classes, np.nan)
    precisions, recalls = [], []
    for c in range(num_classes):
        tp = np.concatenate(tps[c]) if tps[c] else np.zeros(0, np.int64)
        sc = np.concatenate(scs[c]) if scs[c] else np.zeros(0)
        p, r = precision_recall(tp, sc, int(n_gt[c]))
        precisions.append(p)
        recalls.append(r)
        if n_gt[c] > 0:
            ap[c] = average_precision(p, r)
    valid = n_gt > 0
    m = float(np.mean(ap[valid])) if valid.any() else float("nan")
    return {"map": m, "ap": ap, "precision": precisions, "recall": recalls, "n_gt": n_gt}
