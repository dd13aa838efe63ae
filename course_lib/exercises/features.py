"""Checks for the exercises of the chapter "Before convolutional networks".

Each check runs the student's answer on several cases and, when it is wrong,
names the likely mistake: a missing zero row in the integral image, an
off-by-one rectangle, forgotten biases or colour channels, an inverted
permutation.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..features import permute_input_weights
from ..integral_image import integral_image, rect_sum
from .core import (FAIL, NOT_ATTEMPTED, PASS, Case, Result, _short, as_number, check_experiment, check_function,
                   compare_arrays, exercise_check, is_stub, not_attempted, not_yet, passed)

__all__ = ["check_integral_image", "check_rect_sum", "check_fc_weight_count", "check_permute_first_layer",
           "check_hog_experiment"]


def _matches(got: Any, variant: Any) -> bool:
    return variant is not None and compare_arrays(got, variant) is None


@exercise_check("student_fn", title="Exercise 2.1: the integral image (S2.2)")
def check_integral_image(student_fn, *, exercise: str = "Exercise 2.1: the integral image (S2.2)") -> Result:
    """Check ``student_fn(image)``: the zero-padded integral image, shape (H + 1, W + 1).

    ``ii[y, x]`` must be the sum of ``image[:y, :x]``, so the first row and column are zero.

    Examples
    --------
    >>> def ii(im):
    ...     out = np.zeros((im.shape[0] + 1, im.shape[1] + 1))
    ...     out[1:, 1:] = np.asarray(im, dtype=float).cumsum(0).cumsum(1)
    ...     return out
    >>> check_integral_image(ii).status
    'pass'
    >>> r = check_integral_image(lambda im: im.cumsum(0).cumsum(1))
    >>> "zero row" in r.details[3]
    True
    """
    rng = np.random.default_rng(21)
    images = [("2 x 2 worked example", np.array([[1, 2], [3, 4]])),
              ("3 x 4 ramp (not square)", np.arange(12).reshape(3, 4)),
              ("random 5 x 7 floats", np.round(rng.standard_normal((5, 7)), 2)),
              ("a single row", np.array([[4.0, -1.0, 2.5, 3.0]])),
              ("uint8 values that would overflow a uint8 sum", np.full((6, 6), 250, dtype=np.uint8))]
    cases = [Case(name, (img,), expected=integral_image(img)) for name, img in images]

    def compare(got, expected):
        reason = compare_arrays(got, expected)
        if reason is None:
            return None
        for _, img in images:
            if np.shape(expected) != (img.shape[0] + 1, img.shape[1] + 1) or \
                    not np.array_equal(integral_image(img), expected):
                continue
            f = img.astype(np.float64)
            inclusive = f.cumsum(0).cumsum(1)
            if _matches(got, inclusive):
                return ("this is the inclusive sum image[:y+1, :x+1] of shape (H, W): add a zero row "
                        "and a zero column in front, so the result is (H + 1, W + 1) and ii[0, :] = ii[:, 0] = 0")
            if _matches(got, expected[1:, 1:]):
                return "the zero row and column are missing: return shape (H + 1, W + 1)"
            for axis in (0, 1):
                one = np.zeros_like(expected, dtype=float)
                one[1:, 1:] = f.cumsum(axis)
                if _matches(got, one):
                    return (f"you summed along axis {axis} only; an integral image sums along both axes "
                            f"(rows and columns)")
            if img.dtype == np.uint8:
                wrapped = np.zeros(expected.shape, dtype=np.uint8)
                wrapped[1:, 1:] = img.cumsum(0, dtype=np.uint8).cumsum(1, dtype=np.uint8)
                if _matches(got, wrapped):
                    return "the sums overflowed uint8: convert first, e.g. image.astype(np.int64)"
        return reason
    return check_function(exercise, student_fn, cases, compare=compare,
                          hints=["ii[y, x] is the sum of everything above and to the left of (y, x), not "
                                 "including row y and column x, so row 0 and column 0 of ii are zero",
                                 "running sums down the rows and then along the columns give the inclusive "
                                 "sums; they go into ii shifted by one row and one column, in a dtype that "
                                 "cannot overflow"],
                          forbid=["course_lib.integral_image.integral_image",
                                  "course_lib.integral_image.integral_image_naive"],
                          forbid_reason="build it with loops or np.cumsum")


@exercise_check("student_fn", title="Exercise 2.2: a rectangle sum in four look-ups (S2.2)")
def check_rect_sum(student_fn, *, exercise: str = "Exercise 2.2: a rectangle sum in four look-ups (S2.2)") -> Result:
    """Check ``student_fn(ii, top, left, height, width)``: a rectangle's sum in four look-ups.

    Examples
    --------
    >>> check_rect_sum(lambda ii, t, l, h, w: ii[t + h, l + w] - ii[t, l + w] - ii[t + h, l] + ii[t, l]).status
    'pass'
    >>> r = check_rect_sum(lambda ii, t, l, h, w: ii[t + h, l + w] - ii[t, l + w] - ii[t + h, l])
    >>> "twice" in r.details[3]
    True
    """
    rng = np.random.default_rng(22)
    image = rng.integers(0, 10, size=(8, 9))
    ii = integral_image(image)
    boxes = [("the whole image", 0, 0, 8, 9), ("one pixel", 3, 4, 1, 1), ("a 2 x 3 block inside", 2, 5, 2, 3),
             ("touching the bottom-right corner", 5, 6, 3, 3), ("a single row", 7, 0, 1, 9),
             ("a tall thin strip", 0, 2, 8, 1)]
    cases = [Case(name, (ii, t, l, h, w), expected=int(image[t:t + h, l:l + w].sum()))
             for name, t, l, h, w in boxes]
    def compare(got, expected):
        reason = compare_arrays(got, expected)
        if reason is None:
            return None
        g = as_number(got)
        if g is None:
            return reason
        for _, t, l, h, w in boxes:
            if image[t:t + h, l:l + w].sum() != expected:
                continue
            if g == -float(expected) and expected != 0:
                return "the sign is flipped: the bottom-right corner ii[t+h, l+w] enters with a plus"
            if g == float(ii[t + h, l + w] - ii[t, l + w] - ii[t + h, l]) and ii[t, l] != 0:
                return ("the top-left corner ii[t, l] is missing: that block was subtracted twice (once "
                        "with each strip), so add it back once")
            if h > 1 and w > 1 and g == float(image[t:t + h - 1, l:l + w - 1].sum()):
                return ("off by one: your rectangle is one row and one column too small. ii[y, x] covers "
                        "image[:y, :x], so use ii[t+h, l+w] (not t+h-1)")
            if t > 0 and l > 0 and g == float(image[t - 1:t + h, l - 1:l + w].sum()):
                return ("off by one: your rectangle is one row and one column too big. ii[t, l] already "
                        "leaves out row t and column l, so subtract ii[t, ...] and ii[..., l] (not t-1, l-1)")
        return reason
    return check_function(exercise, student_fn, cases, compare=compare,
                          hints=["ii at the rectangle's bottom-right corner covers the rectangle plus a strip "
                                 "above it and a strip to its left; take those away with two more look-ups",
                                 "the block above and to the left was taken away twice, once with each strip, "
                                 "so add it back once; ii[y, x] covers rows 0..y-1 and columns 0..x-1"],
                          forbid=["course_lib.integral_image.rect_sum"], forbid_reason="four look-ups of your own")


@exercise_check("answer", context=dict(height=200, width=200, channels=3, hidden=500),
                title="Exercise 2.3: predict a fully connected layer's size (S2.3)")
def check_fc_weight_count(answer: Any, *, height: int, width: int, channels: int, hidden: int,
                          exercise: str = "Exercise 2.3: predict a fully connected layer's size (S2.3)") -> Result:
    """Check a predicted parameter count (weights and biases) of a fully connected layer.

    The layer maps a flattened ``height x width x channels`` image to ``hidden`` units.

    Examples
    --------
    >>> check_fc_weight_count(60_000_500, height=200, width=200, channels=3, hidden=500).status
    'pass'
    >>> r = check_fc_weight_count(60_000_000, height=200, width=200, channels=3, hidden=500)
    >>> "bias" in str(r)
    True
    """
    if is_stub(answer):
        return not_attempted(exercise, "replace the `...` with your prediction (an int).")
    d = height * width * channels
    expected = d * hidden + hidden
    x = as_number(answer)
    if x is None or not np.isfinite(x) or not float(x).is_integer():
        return not_yet(exercise, f"expected a whole number of parameters, got {_short(answer, 60)}.")
    got = int(x)
    if got == expected:
        return passed(exercise, "right: every hidden unit has a weight for every input value (each colour "
                      "channel of each pixel) and one bias. That count is why fully connected layers do "
                      "not scale to large images.")
    known = {d * hidden: "you counted the weights but not the biases: add one bias per hidden unit",
             height * width * hidden + hidden: "every colour channel is a separate input: multiply by the channels",
             height * width * hidden: "count every colour channel as an input, and add one bias per hidden unit",
             d * hidden + d: "there is one bias per hidden unit (output), not one per input",
             d + hidden: "each hidden unit has its own weight for every input: multiply, do not add",
             d: "that is the number of inputs, i.e. the weights of ONE hidden unit; there are `hidden` of them"}
    hint = known.get(got, "not right yet")
    return not_yet(exercise, "your answer is not right yet.", [f"got:      {got:,}", f"problem:  {hint}"],
                   ["count the inputs first: every pixel of every colour channel is one input value",
                    "each hidden unit has one weight per input and one bias"])


@exercise_check("student_fn", title="Exercise 2.4: shuffle the first layer (S2.4)")
def check_permute_first_layer(student_fn, *, exercise: str = "Exercise 2.4: shuffle the first layer (S2.4)") -> Result:
    """Check ``student_fn(weight, perm)``: first-layer weights for pixel-shuffled inputs.

    With ``x_shuffled = x[perm]`` the answer ``W2`` must satisfy ``W2 @ x_shuffled == W @ x``
    for every x, i.e. ``W2 = W[:, perm]``.

    Examples
    --------
    >>> check_permute_first_layer(lambda W, p: W[:, p]).status
    'pass'
    >>> r = check_permute_first_layer(lambda W, p: W[:, np.argsort(p)])
    >>> "inverse" in r.details[3]
    True
    """
    rng = np.random.default_rng(23)
    shapes = [("3 hidden units, 4 pixels", 3, 4), ("4 x 4: as many units as pixels", 4, 4),
              ("8 hidden units, a 3 x 3 image", 8, 9), ("MNIST-sized: 16 units, 784 pixels", 16, 784)]
    data = []
    for name, hidden, d in shapes:
        W = np.round(rng.standard_normal((hidden, d)), 2)
        perm = rng.permutation(d)
        if d > 2 and np.array_equal(perm, np.argsort(perm)):   # an involution would hide the inverse mistake
            perm = np.roll(np.arange(d), 1)
        data.append((name, W, perm))
    cases = [Case(name, (W, perm), expected=permute_input_weights(W, perm)) for name, W, perm in data]

    def compare(got, expected):
        reason = compare_arrays(got, expected)
        if reason is None:
            return None
        for _, W, perm in data:
            if not np.array_equal(expected, W[:, perm]):
                continue
            if _matches(got, W[:, np.argsort(perm)]):
                return ("this is the inverse permutation (W[:, argsort(perm)]): the shuffled input puts "
                        "pixel perm[k] at position k, so column k must be W[:, perm[k]]")
            if _matches(got, W):
                return "the weights are unchanged: they must be shuffled the same way as the pixels"
            if W.shape[0] == W.shape[1] and _matches(got, W[perm]):
                return ("you permuted the rows (hidden units); permute the columns (one per input pixel), "
                        "W[:, perm]")
        return reason
    return check_function(exercise, student_fn, cases, compare=compare,
                          hints=["each column of the weight matrix belongs to one input position; after the "
                                 "shuffle, position k holds the pixel that used to be at position perm[k]",
                                 "so the new column k must be the old column that met that pixel; only the "
                                 "columns move, the rows (hidden units) stay"],
                          forbid=["course_lib.features.permute_input_weights"],
                          forbid_reason="index the weights yourself")


# ----------------------------------------------------------------------------------------------
# Exercise 2.5: does a finer HoG grid help?

def _hog_sizes(image) -> dict:
    from ..features import hog_features
    return {cells: int(hog_features(image, pixels_per_cell=int(cells[0])).shape[1]) for cells in ("4x4", "8x8")}


def _hog_context():
    return dict(sample_image=np.random.default_rng(0).integers(0, 256, (1, 3, 32, 32), dtype=np.uint8))


@exercise_check("results", context=_hog_context, title="Exercise 2.5: does a finer HoG grid help? (S2.1)")
def check_hog_experiment(results: Any, sample_image: Any, *,
                         exercise: str = "Exercise 2.5: does a finer HoG grid help? (S2.1)") -> Result:
    """Check ``results_2_5``: feature sizes D (recomputed on one image), accuracies in [0, 1], the effect.

    Keys: ``"D 4x4"``, ``"D 8x8"``, ``"train 4x4"``, ``"train 8x8"``, ``"test 4x4"``,
    ``"test 8x8"``. ``sample_image`` is one image (1, C, H, W) of the data set used,
    from which the check computes D. The finer grid must fit the training images
    at least as well as the coarser one, and a linear probe on HoG features
    does better than chance (10%) on the test images.

    Examples
    --------
    >>> img = _hog_context()["sample_image"]
    >>> good = {"D 4x4": 1764, "D 8x8": 324, "train 4x4": 1.0, "train 8x8": 0.68,
    ...         "test 4x4": 0.37, "test 8x8": 0.42}
    >>> check_hog_experiment(good, img).status
    'pass'
    >>> check_hog_experiment(dict(good, **{"D 8x8": 1764}), img).status
    'fail'
    """
    keys = ["D 4x4", "D 8x8", "train 4x4", "train 8x8", "test 4x4", "test 8x8"]
    if is_stub(results):
        return not_attempted(exercise, "run your experiment and fill in the results_2_5 dict.")
    sizes = _hog_sizes(sample_image)

    def feature_sizes(v):
        for cells, d in sizes.items():
            if v[f"D {cells}"] != d:
                return (f"results_2_5['D {cells}'] is not the length of a HoG vector with {cells} cells "
                        f"here; it is the number of columns of the feature matrix (features.shape[1])")

    def finer_fits_better(v):
        if v["train 4x4"] + 1e-9 < v["train 8x8"]:
            return ("with more features the linear probe should fit the training images at least as well: "
                    "check that the 'train' keys hold training accuracies and not the other way round")

    def above_chance(v):
        if min(v["test 4x4"], v["test 8x8"]) <= 0.1:
            return ("a test accuracy at or below chance (10 classes: 0.1); are these error rates, or "
                    "percentages? Store accuracies as fractions in [0, 1]")
    return check_experiment(exercise, results, keys,
                            ranges={k: (0.0, 1.0) for k in keys if not k.startswith("D")},
                            rules=[feature_sizes, finer_fits_better, above_chance],
                            hints=["for each cell size: HoG features of the training and of the test images, "
                                   "one probe fitted on the training features, then its accuracy on both",
                                   "probe.score(features, labels) is an accuracy; features.shape[1] is D"],
                            success="Open the discussion below: what does the gap between training and "
                                    "test accuracy say?")
