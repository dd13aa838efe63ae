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
from .core import FAIL, NOT_ATTEMPTED, PASS, Case, Result, _short, check_function, compare_arrays, is_stub

__all__ = ["check_integral_image", "check_rect_sum", "check_fc_weight_count", "check_permute_first_layer"]


def _matches(got: Any, variant: Any) -> bool:
    return variant is not None and compare_arrays(got, variant) is None


def check_integral_image(student_fn) -> Result:
    """Check ``student_fn(image)``: the zero-padded integral image, shape (H + 1, W + 1).

    ``ii[y, x]`` must be the sum of ``image[:y, :x]``, so the first row and column are zero.

    Examples
    --------
    >>> check_integral_image(integral_image).status
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
    cases = [Case(name, (img,), expected=integral_image(img),
                  hint="ii has one more row and column than the image; ii[y, x] = image[:y, :x].sum(), "
                       "e.g. two cumsums written into ii[1:, 1:]")
             for name, img in images]

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
    return check_function("Exercise 2.1: the integral image (S2.2)", student_fn, cases, compare=compare)


def check_rect_sum(student_fn) -> Result:
    """Check ``student_fn(ii, top, left, height, width)``: a rectangle's sum in four look-ups.

    Examples
    --------
    >>> check_rect_sum(rect_sum).status
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
    cases = [Case(name, (ii, t, l, h, w), expected=int(image[t:t + h, l:l + w].sum()),
                  hint="ii[t+h, l+w] - ii[t, l+w] - ii[t+h, l] + ii[t, l]: ii[y, x] covers image[:y, :x]")
             for name, t, l, h, w in boxes]
    def compare(got, expected):
        reason = compare_arrays(got, expected)
        if reason is None:
            return None
        try:
            g = float(np.asarray(got, dtype=float).reshape(-1)[0]) if np.size(got) == 1 else None
        except (TypeError, ValueError):
            g = None
        if g is None:
            return reason if np.size(got) == 1 else f"expected one number, got {_short(got, 80)}"
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
    return check_function("Exercise 2.2: a rectangle sum in four look-ups (S2.2)", student_fn, cases,
                          compare=compare)


def check_fc_weight_count(answer: Any, *, height: int, width: int, channels: int, hidden: int) -> Result:
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
    exercise = "Exercise 2.3: weights of a fully connected layer (S2.3)"
    if is_stub(answer):
        return Result(exercise, NOT_ATTEMPTED, "replace the `...` with your prediction (an int).")
    d = height * width * channels
    expected = d * hidden + hidden
    try:
        got = int(answer) if float(answer) == int(answer) else float(answer)
    except (TypeError, ValueError, OverflowError):
        return Result(exercise, FAIL, f"expected a whole number, got {_short(answer)}.")
    if got == expected:
        return Result(exercise, PASS, f"{expected:,} parameters: {d:,} inputs x {hidden:,} units "
                      f"+ {hidden:,} biases.")
    known = {d * hidden: "you counted the weights but not the biases: add one bias per hidden unit",
             height * width * hidden + hidden: "every colour channel is a separate input: multiply by the channels",
             height * width * hidden: "count every colour channel as an input, and add one bias per hidden unit",
             d * hidden + d: "there is one bias per hidden unit (output), not one per input",
             d + hidden: "each hidden unit has its own weight for every input: multiply, do not add",
             d: "that is the number of inputs, i.e. the weights of ONE hidden unit; there are `hidden` of them"}
    hint = known.get(got, "inputs = height * width * channels; each hidden unit has one weight per input "
                          "and one bias")
    return Result(exercise, FAIL, "your answer is not right yet.",
                  [f"expected: {expected:,}", f"got:      {got:,}" if isinstance(got, int)
                   else f"got:      {got}", f"hint:     {hint}"])


def check_permute_first_layer(student_fn) -> Result:
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
    cases = [Case(name, (W, perm), expected=permute_input_weights(W, perm),
                  hint="the weight column that pixel position k meets must be the one that pixel perm[k] met "
                       "before: W_new[:, k] = W[:, perm[k]]")
             for name, W, perm in data]

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
    return check_function("Exercise 2.4: shuffle the first layer (S2.4)", student_fn, cases, compare=compare)
