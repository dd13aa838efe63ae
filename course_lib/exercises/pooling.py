"""Checks for the pooling and receptive-field exercises (chapter "Pooling and receptive fields").

Each check knows the usual mistakes (averaging instead of taking the max,
overlapping windows with stride 1, keeping a half window at an odd edge,
ignoring the stride in receptive-field bookkeeping, ...) and names the mistake
when a wrong answer matches it.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..pooling import avg_pool2d, max_pool2d
from ..receptive_field import Layer, receptive_fields
from ..shapes import conv_output_size
from .core import FAIL, NOT_ATTEMPTED, PASS, Case, Result, check_function, compare_arrays, \
    compare_exact, is_stub, named_mistakes

__all__ = ["check_max_pool_2x2", "check_forsyth_pool_sizes", "check_receptive_field"]


# --------------------------------------------------------------------------------------------
# Exercise: 2 x 2 max pooling with stride 2 on NCHW arrays
# --------------------------------------------------------------------------------------------

def check_max_pool_2x2(student_fn) -> Result:
    """Check ``student_fn(x)``: 2 x 2 max pooling with stride 2 on an (N, C, H, W) array.

    The reference is :func:`course_lib.max_pool2d` (``kernel_size=2``, ``stride=2``,
    floor rounding as in torch: an odd last row or column is dropped).

    Examples
    --------
    >>> check_max_pool_2x2(lambda x: max_pool2d(x, 2)).status
    'pass'
    >>> r = check_max_pool_2x2(lambda x: avg_pool2d(x, 2))
    >>> "average" in r.details[3]
    True
    >>> r = check_max_pool_2x2(lambda x: max_pool2d(x, 2, stride=1))
    >>> "stride 1" in r.details[3]
    True
    """
    rng = np.random.default_rng(7)
    slides = np.array([[1., 1., 2., 4.], [5., 6., 7., 8.], [3., 2., 1., 0.], [1., 2., 3., 4.]])
    inputs = [("the slides' 4 x 4 example", slides[None, None]),
              ("a batch of 2 images with 3 channels, 6 x 8", np.round(rng.standard_normal((2, 3, 6, 8)), 2)),
              ("all values negative (the max is below zero)", -np.abs(np.round(rng.standard_normal((1, 2, 4, 4)), 2)) - 0.1),
              ("odd size 5 x 7: the last row and column are left out", np.round(rng.standard_normal((1, 2, 5, 7)), 2)),
              ("a 2 x 2 input gives one value per channel", np.round(rng.standard_normal((3, 1, 2, 2)), 2))]
    cases = [Case(name, (x,), expected=max_pool2d(x, 2),
                  hint="out[n, c, i, j] = max of x[n, c, 2i:2i+2, 2j:2j+2]; the output is "
                       "(N, C, H // 2, W // 2)") for name, x in inputs]

    def variants(expected):
        for _, x in inputs:
            truth = max_pool2d(x, 2)
            if truth.shape != np.shape(expected) or not np.array_equal(truth, expected):
                continue
            yield avg_pool2d(x, 2), ("these are window *averages* (average pooling); max pooling "
                                     "keeps the largest value of each window.")
            yield max_pool2d(x, 2, stride=1), ("the windows overlap: this is stride 1 (the mistake in "
                                               "Bishop's fig. 10.22 caption). Non-overlapping 2 x 2 "
                                               "windows move 2 pixels at a time: stride 2.")
            if x.shape[2] % 2 or x.shape[3] % 2:
                yield max_pool2d(x, 2, ceil_mode=True), (
                    "a half window at the odd edge was kept (ceil rounding); torch's default, like "
                    "this exercise, drops it: the output is H // 2 x W // 2.")
            yield np.maximum(max_pool2d(x, 2), 0.0), (
                "negative maxima came back as 0: start the running max at -inf (or the first value "
                "of the window), not at 0.")
            yield x[:, :, : 2 * (x.shape[2] // 2): 2, : 2 * (x.shape[3] // 2): 2], (
                "this is every second pixel (subsampling), not the max over each window.")
    return check_function("Exercise: 2 x 2 max pooling, stride 2 (S5.1, E3)", student_fn, cases,
                          compare=named_mistakes(variants, compare_arrays))


# --------------------------------------------------------------------------------------------
# Exercise: predict Forsyth's pooled sizes
# --------------------------------------------------------------------------------------------

def _chain(n: int, step) -> Tuple[Any, ...]:
    """Apply ``step`` three times (three pooling layers with size-keeping convs in between)."""
    out = []
    for _ in range(3):
        n = step(n)
        out.append(n)
    return tuple(out)


def check_forsyth_pool_sizes(answer: Any) -> Result:
    """Check the prediction of the three pooled sizes of Forsyth's CIFAR-10 net without padding.

    The net pools a 32 x 32 block three times with 3 x 3 windows and stride 2
    ("same" convolutions in between). With one extra bottom row and right
    column (``ceil_mode=True``) the sizes are (16, 8, 4); with torch's default
    (no padding, floor) they are (15, 7, 3), the expected answer.

    Examples
    --------
    >>> check_forsyth_pool_sizes((15, 7, 3)).status
    'pass'
    >>> check_forsyth_pool_sizes(...).status
    'not attempted'
    >>> "ceil" in str(check_forsyth_pool_sizes((16, 8, 4)))
    True
    """
    name = "Exercise: Forsyth's pooling without the extra padding (S5.2)"
    expected = _chain(32, lambda n: conv_output_size(n, 3, 2))
    if is_stub(answer):
        return Result(name, NOT_ATTEMPTED, "replace the `...` with a tuple of three sizes.")
    if not isinstance(answer, (tuple, list)) or len(answer) != 3:
        return Result(name, FAIL, f"expected a tuple of three sizes, one per pooling layer, e.g. "
                      f"(20, 10, 5); got {answer!r}.")
    got = tuple(answer)
    if any(isinstance(v, float) and not float(v).is_integer() for v in got):
        return Result(name, FAIL, f"got {got!r}: a size counts window positions, so it is a whole "
                      f"number; round down as torch does.")
    if compare_exact(got, expected) is None:
        return Result(name, PASS, f"{got!r} is right: each pooling loses the row and column that only "
                      f"a partial window would read.")
    mistakes = [
        (_chain(32, lambda n: conv_output_size(n, 3, 2, ceil_mode=True)),
         "these are the sizes *with* the extra row and column (ceil rounding); without them torch "
         "rounds down: a window must fit entirely."),
        (_chain(32, lambda n: (n - 3) // 2),
         "every size is one too small: the count of window positions is floor((n - k) / s) + 1; "
         "did you forget the + 1?"),
        (tuple(conv_output_size(32, 3, 2) for _ in range(3)),
         "each pooling layer starts from the previous one's output, not from 32 again."),
    ]
    details = ["expected: three sizes, one per pooling layer", f"got:      {got!r}"]
    for wrong, message in mistakes:
        if compare_exact(got, wrong) is None:
            details.append(f"problem:  {message}")
            break
    else:
        details.append("hint:     apply floor((n - 3) / 2) + 1 three times, starting from n = 32")
    return Result(name, FAIL, "the prediction is not right yet.", details)


# --------------------------------------------------------------------------------------------
# Exercise: receptive field of a stack of (kernel_size, stride) layers
# --------------------------------------------------------------------------------------------

def _rf_true(stack: Sequence[Tuple[int, int]]) -> int:
    layers = [Layer("conv", k, stride=s) for k, s in stack]
    # a long input so that every layer fits; the receptive field does not depend on it
    return receptive_fields(layers, 4096)[-1].size if layers else 1


def _rf_ignore_stride(stack):
    return 1 + sum(k - 1 for k, _ in stack)


def _rf_stride_too_early(stack):
    r, j = 1, 1
    for k, s in stack:
        j *= s
        r += (k - 1) * j
    return r


def _rf_no_one(stack):
    r, j = 0, 1
    for k, s in stack:
        r += (k - 1) * j
        j *= s
    return r


def _rf_product(stack):
    return int(np.prod([k for k, _ in stack])) if stack else 1


VGG16_TO_POOL5 = ([(3, 1)] * 2 + [(2, 2)]) * 2 + ([(3, 1)] * 3 + [(2, 2)]) * 3


def check_receptive_field(student_fn) -> Result:
    """Check ``student_fn(layers)``: receptive field (pixels per axis) of a stack of layers.

    ``layers`` is a list of ``(kernel_size, stride)`` pairs, input first; the
    answer is the size of the last layer's receptive field in input pixels
    (padding does not change it). An empty stack gives 1 (a unit is a pixel).

    Examples
    --------
    >>> check_receptive_field(_rf_true).status
    'pass'
    >>> r = check_receptive_field(_rf_ignore_stride)
    >>> "stride" in r.details[3]
    True
    """
    stacks = [("three 3 x 3 convs, stride 1 (1 + L(k - 1))", [(3, 1)] * 3),
              ("conv 5 x 5 then 2 x 2 pooling, stride 2 (Forsyth's MNIST net)", [(5, 1), (2, 2)]),
              ("conv 5 x 5 then 3 x 3 pooling, stride 2 (Forsyth's CIFAR net)", [(5, 1), (3, 2)]),
              ("Forsyth's whole MNIST net: conv5, pool2, conv5, pool2, conv4",
               [(5, 1), (2, 2), (5, 1), (2, 2), (4, 1)]),
              ("AlexNet's start: conv 11 stride 4, pool 3 stride 2, conv 5, pool 3 stride 2",
               [(11, 4), (3, 2), (5, 1), (3, 2)]),
              ("VGG-16 up to its last pooling layer", VGG16_TO_POOL5),
              ("an empty stack: one pixel", [])]
    cases = [Case(name, (list(stack),), expected=_rf_true(stack),
                  hint="keep a size r (start 1) and a jump j (start 1); for each layer "
                       "r += (k - 1) * j, then j *= s")
             for name, stack in stacks]
    by_expected = {}
    for _, stack in stacks:
        by_expected.setdefault(_rf_true(stack), stack)

    def variants(expected):
        stack = by_expected.get(int(expected))
        if stack is None:
            return
        yield _rf_ignore_stride(stack), ("the strides were ignored: after a layer with stride s, "
                                         "one step in its output is s steps in the input, so later "
                                         "kernels add (k - 1) times the product of earlier strides.")
        yield _rf_stride_too_early(stack), ("a layer's own stride was applied to its own kernel: "
                                            "multiply the jump by s *after* adding (k - 1) * jump.")
        yield _rf_no_one(stack), "off by one: a unit with no layers sees 1 pixel, so start at r = 1."
        yield _rf_product(stack), "receptive fields grow by adding (k - 1) * jump, not by multiplying kernel sizes."
    return check_function("Exercise: receptive field of a stack (S5.5)", student_fn, cases,
                          compare=named_mistakes(variants, compare_exact))
