"""Checks for the object-detection exercises (chapter "Object detection").

Each check knows the usual mistakes: forgetting to clip a negative overlap, the
old "+1 pixel" box convention, a union that counts the intersection twice,
mixing up height and width or corners and centres, NMS that suppresses with
boxes it already removed or with ">=" instead of ">", window counts without the
"+ 1" or with the pooling's stride taken as 1 (erratum E3), and average
precision without interpolation.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..detection import average_precision, box_iou, nms, precision_recall
from ..shapes import conv_output_size
from .core import (as_number, Case, Result, check_function, check_value, compare_arrays, exercise_check,
                   is_stub, named_mistakes, not_attempted, not_yet, passed, same_value, _short)

__all__ = ["check_iou", "check_normalized_box", "check_nms", "check_window_count", "check_ap_by_hand"]


# --------------------------------------------------------------------------------------------
# Exercise 14.1: IoU of two boxes

_IOU_CASES = [
    ("two overlapping boxes", (0, 0, 4, 4), (2, 2, 6, 6)),
    ("one box inside the other", (0, 0, 10, 10), (2, 3, 5, 7)),
    ("boxes that touch along an edge (no overlap)", (0, 0, 3, 3), (3, 0, 6, 3)),
    ("far apart: the overlap would be negative in both directions", (0, 0, 2, 2), (5, 6, 9, 9)),
    ("apart along x only (negative width, positive height)", (0, 0, 2, 5), (4, 1, 7, 4)),
    ("identical boxes", (1.5, 2.0, 7.5, 4.0), (1.5, 2.0, 7.5, 4.0)),
    ("a wide and a tall box crossing", (0, 4, 12, 6), (5, 0, 7, 12)),
]


def _iou_variants(a, b):
    ax1, ay1, ax2, ay2 = map(float, a)
    bx1, by1, bx2, by2 = map(float, b)
    w = min(ax2, bx2) - max(ax1, bx1)
    h = min(ay2, by2) - max(ay1, by1)
    area_a, area_b = (ax2 - ax1) * (ay2 - ay1), (bx2 - bx1) * (by2 - by1)
    out = []
    inter_noclip = w * h
    out.append((inter_noclip / (area_a + area_b - inter_noclip) if area_a + area_b - inter_noclip else None,
                "the overlap must be clipped at zero: when the boxes do not overlap along an axis, "
                "min(x2) - max(x1) is negative (and two negatives multiply to a positive 'overlap')"))
    inter = max(w, 0) * max(h, 0)
    out.append((inter / (area_a + area_b) if area_a + area_b else None,
                "the union counts the intersection twice: subtract it once from the sum of the two areas"))
    out.append((inter / min(area_a, area_b) if min(area_a, area_b) else None,
                "that divides by the smaller box's area, not by the union"))
    w1, h1 = min(ax2, bx2) - max(ax1, bx1) + 1, min(ay2, by2) - max(ay1, by1) + 1
    i1 = max(w1, 0) * max(h1, 0)
    a1, b1 = (ax2 - ax1 + 1) * (ay2 - ay1 + 1), (bx2 - bx1 + 1) * (by2 - by1 + 1)
    out.append((i1 / (a1 + b1 - i1), "that is the old '+ 1 pixel' convention (x2 counted as inside); "
                                     "here, as in torchvision, a box from x1 to x2 is x2 - x1 wide"))
    return [(v, m) for v, m in out if v is not None and np.isfinite(v)]


def _compare_number(got: Any, expected: Any):
    """compare_arrays for one number, also accepting a one-element array, list or tensor."""
    x = as_number(got)
    return compare_arrays(x if x is not None else got, expected)


class _Expected(float):
    """A float that carries the wrong answers of its own test case (shown as a plain float)."""
    variants: list = []

    def __repr__(self) -> str:
        return repr(float(self))


@exercise_check("student_fn", title="Exercise 14.1: intersection over union (S14.1)")
def check_iou(student_fn: Any) -> Result:
    """Check ``student_fn(box_a, box_b)`` -> IoU of two corner boxes (x1, y1, x2, y2).

    Examples
    --------
    >>> def iou(a, b):
    ...     w = max(0, min(a[2], b[2]) - max(a[0], b[0])); h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    ...     return w * h / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h)
    >>> check_iou(iou).status
    'pass'
    >>> def no_clip(a, b):
    ...     i = (min(a[2], b[2]) - max(a[0], b[0])) * (min(a[3], b[3]) - max(a[1], b[1]))
    ...     return i / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i)
    >>> "clipped" in str(check_iou(no_clip))
    True
    """
    cases = []
    for name, a, b in _IOU_CASES:
        truth = _Expected(box_iou(np.array([a], float), np.array([b], float))[0, 0])
        truth.variants = _iou_variants(a, b)       # the known mistakes, worked out for this case
        cases.append(Case(name, (a, b), expected=truth))

    def variants(expected):
        return getattr(expected, "variants", [])

    return check_function("Exercise 14.1: intersection over union (S14.1)", student_fn, cases,
                          compare=named_mistakes(variants, base=_compare_number),
                          hints=["the intersection of two boxes is itself a box (or nothing): its left edge is "
                                 "the larger of the two left edges, its right edge the smaller right edge",
                                 "a width or height that comes out negative means no overlap along that axis; "
                                 "the union is area A + area B minus what they share"],
                          forbid=["course_lib.detection.box_iou", "torchvision.ops.box_iou"],
                          forbid_reason="the exercise is to write IoU yourself")


# --------------------------------------------------------------------------------------------
# Exercise 14.2: corners in pixels -> Bishop's normalised (b_x, b_y, b_W, b_H)

_NORM_CASES = [("a box in a square image", (16, 8, 48, 40), 64, 64),
                ("a box in a wide image (H = 32, W = 96)", (12, 4, 36, 20), 32, 96),
                ("a box in a tall image (H = 100, W = 50)", (10, 30, 20, 90), 100, 50),
                ("the whole image", (0, 0, 80, 60), 60, 80)]


def _norm(box, H, W):
    x1, y1, x2, y2 = map(float, box)
    return np.array([(x1 + x2) / 2 / W, (y1 + y2) / 2 / H, (x2 - x1) / W, (y2 - y1) / H])


@exercise_check("student_fn", title="Exercise 14.2: normalised box coordinates (S14.1)")
def check_normalized_box(student_fn: Any) -> Result:
    """Check ``student_fn(box, H, W)`` -> (b_x, b_y, b_W, b_H) for a corner box in an H x W image.

    Examples
    --------
    >>> check_normalized_box(lambda b, H, W: ((b[0] + b[2]) / 2 / W, (b[1] + b[3]) / 2 / H,
    ...                                       (b[2] - b[0]) / W, (b[3] - b[1]) / H)).status
    'pass'
    >>> r = check_normalized_box(lambda b, H, W: (b[0] / W, b[1] / H, (b[2] - b[0]) / W, (b[3] - b[1]) / H))
    >>> "corner" in str(r)
    True
    """
    cases = [Case(name, (box, H, W), expected=_norm(box, H, W)) for name, box, H, W in _NORM_CASES]

    def variants(expected):
        for _, box, H, W in _NORM_CASES:
            if np.allclose(_norm(box, H, W), expected):
                x1, y1, x2, y2 = map(float, box)
                yield np.array([(x1 + x2) / 2 / H, (y1 + y2) / 2 / W, (x2 - x1) / H, (y2 - y1) / W]), \
                    "height and width are swapped: x is divided by the image width W, y by the height H"
                yield np.array([x1 / W, y1 / H, (x2 - x1) / W, (y2 - y1) / H]), \
                    "(b_x, b_y) is the box's centre, not its top-left corner"
                yield np.array([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]), \
                    "these are pixels: normalised coordinates are fractions of the image size"
                yield np.array([(x1 + x2) / 2 / W, (y1 + y2) / 2 / H, x2 / W, y2 / H]), \
                    "b_W and b_H are the box's width and height, not its far corner"

    return check_function("Exercise 14.2: normalised box coordinates (S14.1)", student_fn, cases,
                          compare=named_mistakes(variants),
                          hints=["Bishop's box is (centre x, centre y, width, height), each divided by the "
                                 "matching image size, so the image spans 0 to 1 on both axes",
                                 "x quantities go with the width W, y quantities with the height H"],
                          forbid=["course_lib.detection.corners_to_normalized"],
                          forbid_reason="the exercise is to write the conversion yourself")


# --------------------------------------------------------------------------------------------
# Exercise 14.3: non-maximum suppression

def _nms_cases():
    rng = np.random.default_rng(14)
    xy = rng.uniform(0, 40, (25, 2))
    wh = rng.uniform(8, 20, (25, 2))
    many = np.round(np.concatenate([xy, xy + wh], 1), 1)
    many_scores = np.round(rng.permutation(25) / 25 + 0.02, 3)
    return [
        ("three boxes, two of them duplicates", np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30.]]),
         np.array([0.9, 0.8, 0.7]), 0.5),
        ("scores not in order: the best box comes last", np.array([[1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10.]]),
         np.array([0.6, 0.7, 0.95]), 0.5),
        ("a chain: A overlaps B, B overlaps C, A and C are apart",
         np.array([[0, 0, 10, 10], [5, 0, 15, 10], [10, 0, 20, 10.]]), np.array([0.9, 0.8, 0.7]), 0.3),
        ("IoU exactly at the threshold (0.5) is kept", np.array([[0, 0, 3, 1], [1, 0, 4, 1.]]),
         np.array([0.9, 0.8]), 0.5),
        ("25 random boxes, threshold 0.3", many, many_scores, 0.3),
        ("no boxes at all", np.zeros((0, 4)), np.zeros(0), 0.5),
    ]


def _greedy(b, s, thr, *, strict: bool = True):
    """Greedy NMS written out (a box removes others only once kept); ``strict=False`` uses >=."""
    order = np.argsort(-np.asarray(s), kind="stable")
    iou = box_iou(b, b) if len(b) else np.zeros((0, 0))
    removed = np.zeros(len(b), bool)
    keep = []
    for i in order:
        if not removed[i]:
            keep.append(i)
            removed |= (iou[i] > thr) if strict else (iou[i] >= thr)
    return np.array(keep, np.int64)


def _nms_wrong_all_suppress(b, s, thr):
    """Suppression by every higher-scoring box, kept or not."""
    order = np.argsort(-s, kind="stable")
    iou = box_iou(b, b) if len(b) else np.zeros((0, 0))
    return np.array([i for k, i in enumerate(order) if not any(iou[i, j] > thr for j in order[:k])], np.int64)


def _compare_indices(got, expected):
    arr = np.asarray(got.detach().cpu().numpy() if hasattr(got, "detach") else got, dtype=object) \
        if got is not None else None
    if got is None:
        return "nothing came back (did you forget `return`?)"
    try:
        g = np.asarray(got.detach().cpu().numpy() if hasattr(got, "detach") else got).reshape(-1)
        if g.size and (g.dtype.kind not in "iuf" or not np.all(np.mod(g, 1) == 0)):
            return f"expected whole-number indices, got {_short(got, 60)}"
        g = g.astype(np.int64)
    except Exception:
        return f"expected a list or array of indices, got {_short(arr, 60)}"
    e = np.asarray(expected, np.int64)
    if np.array_equal(g, e):
        return None
    if sorted(g.tolist()) == sorted(e.tolist()):
        return "the right boxes, in the wrong order: return them in decreasing order of score"
    return compare_arrays(g, e)


@exercise_check("student_fn", title="Exercise 14.3: non-maximum suppression (S14.5)")
def check_nms(student_fn: Any) -> Result:
    """Check ``student_fn(boxes, scores, iou_threshold)`` -> kept indices, as ``torchvision.ops.nms``.

    Examples
    --------
    >>> check_nms(lambda b, s, t: _greedy(b, s, t, strict=True)).status
    'pass'
    >>> r = check_nms(lambda b, s, t: _nms_wrong_all_suppress(b, s, t))
    >>> "already removed" in str(r)
    True
    """
    cases_raw = _nms_cases()
    cases = [Case(name, (b, s, t), expected=nms(b, s, t) if len(b) else np.zeros(0, np.int64))
             for name, b, s, t in cases_raw]

    def variants(expected):
        for _, b, s, t in cases_raw:
            truth = nms(b, s, t) if len(b) else np.zeros(0, np.int64)
            if len(truth) != len(expected) or not np.array_equal(truth, expected):
                continue
            yield _nms_wrong_all_suppress(b, s, t), ("a box that was already removed still removes others: "
                                                     "only boxes you keep should suppress")
            yield _greedy(b, s, t, strict=False), ("a box whose IoU equals the threshold was removed: torchvision "
                                           "removes only IoU *greater* than the threshold")
            yield np.sort(truth), "the right boxes, but return them in decreasing order of score"

    def compare(got, expected):
        reason = _compare_indices(got, expected)
        if reason is None:
            return None
        for v, message in variants(expected):
            if _compare_indices(got, v) is None and not np.array_equal(np.asarray(v), np.asarray(expected)):
                return message
        return reason

    return check_function("Exercise 14.3: non-maximum suppression (S14.5)", student_fn, cases, compare=compare,
                          hints=["greedy: take the best remaining box, keep it, throw away the boxes that "
                                 "overlap it too much, and repeat with what is left",
                                 "sort the indices by score first; a box can only be removed by a box you kept"],
                          forbid=["course_lib.detection.nms", "course_lib.detection.batched_nms",
                                  "torchvision.ops.nms", "torchvision.ops.batched_nms"],
                          forbid_reason="the exercise is to write NMS yourself")


# --------------------------------------------------------------------------------------------
# Exercise 14.4: how many windows does the convolutional version score?

@exercise_check("answer", title="Exercise 14.4: windows scored in one pass (S14.3, E3)")
def check_window_count(answer: Any, *, height: int = 96, width: int = 80, window: int = 28,
                       stride: int = 4) -> Result:
    """Check the predicted score-map size (rows, cols) of the convolutionalised crop classifier.

    Examples
    --------
    >>> check_window_count((18, 14)).status
    'pass'
    >>> "stride" in str(check_window_count((69, 53)))
    True
    """
    ex = "Exercise 14.4: windows scored in one pass (S14.3, E3)"
    expected = (conv_output_size(height, window, stride), conv_output_size(width, window, stride))
    mistakes = [
        (((height - window) // stride, (width - window) // stride),
         "off by one along both axes: the window at position 0 counts too"),
        ((height - window + 1, width - window + 1),
         "that is the count for stride 1; two 2 x 2 poolings with stride 2 make the windows 4 pixels apart "
         "(Bishop's 'stride 1' for non-overlapping pooling is the erratum E3)"),
        ((height // stride, width // stride), "dividing the image by the stride ignores that a whole "
                                              "28 x 28 window must fit"),
        ((expected[1], expected[0]), "rows and columns are swapped: rows follow the height"),
        ((-(-(height - window) // stride) + 1, -(-(width - window) // stride) + 1),
         "that rounds up; a window must fit entirely, so round down"),
    ]
    return check_value(ex, answer, expected, mistakes=mistakes, what="your score-map size",
                       hint="follow the sizes layer by layer (conv 5, pool 2/2, conv 5, pool 2/2, then the "
                            "head as a 4 x 4 convolution), or count window positions 4 pixels apart",
                       hints=["a window of 28 fits at 0, 4, 8, ... as long as it ends inside the image"])


# --------------------------------------------------------------------------------------------
# Exercise 14.5: average precision by hand

AP_FLAGS = np.array([1, 0, 0, 1, 1, 0, 1, 0])          # true/false positives, best score first
AP_N_GT = 5


def _ap_truth() -> float:
    scores = np.linspace(0.95, 0.25, len(AP_FLAGS))
    p, r = precision_recall(AP_FLAGS, scores, AP_N_GT)
    return average_precision(p, r)


@exercise_check("answer", title="Exercise 14.5: average precision by hand (S14.5)")
def check_ap_by_hand(answer: Any) -> Result:
    """Check the hand-computed AP (all-point interpolation) of the ranked list in the task.

    Examples
    --------
    >>> check_ap_by_hand(round(_ap_truth(), 3)).status
    'pass'
    >>> "interpolat" in str(check_ap_by_hand(0.534))
    True
    """
    ex = "Exercise 14.5: average precision by hand (S14.5)"
    truth = _ap_truth()
    flags = AP_FLAGS
    ctp = np.cumsum(flags)
    prec = ctp / np.arange(1, len(flags) + 1)
    rec = ctp / AP_N_GT
    raw = float(np.sum(prec[flags == 1]) / AP_N_GT)                 # no interpolation (sum at each TP)
    by_found = float(np.sum(prec[flags == 1]) / flags.sum())        # divided by the found objects
    final_p = float(prec[-1])
    eleven = float(np.mean([prec[rec >= t].max() if (rec >= t).any() else 0 for t in np.linspace(0, 1, 11)]))
    mistakes = [(round(raw, 3), "no interpolation: at each recall step use the best precision reached at "
                                "that recall *or any higher one*"),
                (round(by_found, 3), "that divides by the objects found; AP divides by all the objects there "
                                     "are (the misses count)"),
                (round(final_p, 3), "that is the precision of the whole list, not the area under the curve"),
                (round(eleven, 3), "that is the 11-point average of PASCAL VOC 2007; use every recall step")]
    if is_stub(answer):
        return not_attempted(ex, "replace the `...` with your number.")
    return check_value(ex, answer, truth, rtol=0, atol=0.006, mistakes=[(w, m) for w, m in mistakes
                                                                        if abs(w - truth) > 0.006],
                       what="your AP",
                       hint="write down precision and recall after each detection in the list",
                       hints=["interpolate: replace each precision by the largest precision at that recall or "
                              "further down the list, then add (recall step) x (that precision)"])
