"""Checks for the layer-arithmetic exercises (chapter "Stride, padding and output sizes").

Each check knows the mistakes people usually make with this arithmetic (the
forgotten ``+ 1``, the missing biases, dilation ignored, the convolution
formula used for a transposed convolution, ...) and names the mistake when a
wrong answer matches it.
"""
from __future__ import annotations

from typing import Any, Iterable, List, Optional, Tuple

import numpy as np

from ..shapes import conv_macs, conv_output_size, conv_params, conv_transpose_output_size
from .core import (Case, Result, _short, as_number, check_function, compare_exact, exercise_check, is_stub,
                   not_attempted, not_yet, passed, same_value)

__all__ = ["check_output_size", "check_param_count", "check_conv_macs", "check_dilated_output_size",
           "check_transposed_output_size", "check_layer_prediction"]

#: Library size arithmetic the size exercises must not call (computing a size by running torch counts too).
SIZE_FUNCTIONS = ["course_lib.shapes.conv_output_size", "torch.nn.functional.conv2d", "torch.conv2d",
                  "torch.nn.functional.max_pool2d", "torch.nn.functional.avg_pool2d"]


class _Answer(int):
    """An int (the right answer) that also carries known wrong answers and what they mean.

    It prints like a plain int, so the check's "expected:" line stays readable.
    ``wrong`` lists specific mistakes first; ``fallback`` (e.g. a bare "off by
    one") is only named when no specific mistake matches.
    """
    wrong: Tuple[Tuple[int, str], ...]
    fallback: Tuple[Tuple[int, str], ...]

    def __new__(cls, value: int, wrong: Iterable[Tuple[Any, str]] = (),
                fallback: Iterable[Tuple[Any, str]] = ()):
        obj = super().__new__(cls, value)
        # a "mistake" that happens to give the right number here is no mistake
        obj.wrong = tuple((v, m) for v, m in wrong if v is not None and v != value)
        obj.fallback = tuple((v, m) for v, m in fallback if v is not None and v != value)
        return obj


def _diagnose(got: Any, expected: Any) -> Optional[str]:
    """The named mistake(s) ``got`` matches, or a kind of difference, or None."""
    x = as_number(got)
    if x is not None and not float(x).is_integer():
        return "a fraction: a count of positions is a whole number; round down as torch does"
    messages = [m for v, m in getattr(expected, "wrong", ()) if same_value(got, v)]
    if not messages:
        messages = [m for v, m in getattr(expected, "fallback", ()) if same_value(got, v)]
    return "; or ".join(dict.fromkeys(messages)) if messages else None


def _diagnosing_compare(got: Any, expected: Any) -> Optional[str]:
    """compare_exact, plus a named mistake when ``got`` equals one of ``expected.wrong``."""
    reason = compare_exact(got, expected)
    if reason is None:
        return None
    named = _diagnose(got, expected)
    return f"{reason}: {named}" if named else reason


@exercise_check("student_fn", title="Exercise 4.3: the output-size formula (S4.3)")
def check_output_size(student_fn, *, exercise: str = "Exercise 4.3: the output-size formula (S4.3)") -> Result:
    """Check ``student_fn(n, k, s, p)``: output size of a convolution (floor), like torch.

    Examples
    --------
    >>> check_output_size(lambda n, k, s, p: (n + 2 * p - k) // s + 1).status
    'pass'
    >>> r = check_output_size(lambda n, k, s, p: (n + 2 * p - k) // s)
    >>> "+ 1" in str(r)
    True
    >>> import math
    >>> "ceiling" in str(check_output_size(lambda n, k, s, p: math.ceil((n + 2 * p - k) / s) + 1))
    True
    """
    settings = [("28x28 MNIST, 5x5 kernel", 28, 5, 1, 0),
                ("32x32, 5x5, padding 2 ('same')", 32, 5, 1, 2),
                ("5x5 input, 3x3, stride 2, padding 1", 5, 3, 2, 1),
                ("7x7, 3x3, stride 3: the stride does not fit", 7, 3, 3, 0),
                ("224x224, 11x11, stride 4, padding 2 (AlexNet-like)", 224, 11, 4, 2),
                ("28x28, 3x3, stride 2: the stride does not fit", 28, 3, 2, 0),
                ("1x1 kernel", 13, 1, 1, 0)]
    cases = []
    for name, n, k, s, p in settings:
        right = conv_output_size(n, k, s, p)
        wrong = [(-(-(n + 2 * p - k) // s) + 1, "that is the ceiling; torch rounds (n + 2p - k) / s *down*: "
                                                "a window that does not fit is not counted"),
                 (int(round((n + 2 * p - k) / s)) + 1, "that rounds to the nearest whole number; torch "
                                                       "rounds down"),
                 ((n + p - k) // s + 1, "the padding was counted once; it is added on both sides (2p)"),
                 ((n - k) // s + 1, "the padding is missing: it adds p pixels on each side"),
                 (n + 2 * p - k + 1, "the stride is ignored: the window jumps s pixels at a time"),
                 ((n + 2 * p - k) // s, "off by one: did you forget the + 1 (the first window, at "
                                         "position 0, counts too)?")]
        cases.append(Case(name, (n, k, s, p), expected=_Answer(right, wrong, [
            (right + 1, "off by one: one window too many; the last window must fit entirely"),
            (right - 1, "off by one: one window too few")])))
    return check_function(exercise, student_fn, cases, compare=_diagnosing_compare,
                          hints=["count the positions where the window can start: the first is 0, each "
                                 "next one is s further on, and the k-pixel window must end inside the "
                                 "padded input of n + 2p pixels",
                                 "the last possible start is n + 2p - k; count the multiples of s from 0 up "
                                 "to that number, both ends included (whole-number division rounds down)"],
                          forbid=SIZE_FUNCTIONS, forbid_reason="derive the formula yourself")


@exercise_check("student_fn", title="Exercise 4.5: parameters of a conv layer (S4.6)")
def check_param_count(student_fn, *, exercise: str = "Exercise 4.5: parameters of a conv layer (S4.6)") -> Result:
    """Check ``student_fn(k, c_in, c_out)``: learnable parameters of a k x k conv layer with biases.

    Examples
    --------
    >>> check_param_count(lambda k, c_in, c_out: k * k * c_in * c_out + c_out).status
    'pass'
    >>> r = check_param_count(lambda k, c_in, c_out: k * k * c_in * c_out)
    >>> "bias" in r.details[3]
    True
    """
    settings = [("ten 5x5 filters on RGB (the 760 example)", 5, 3, 10),
                ("MNIST first layer: twenty 5x5 filters on grey", 5, 1, 20),
                ("VGG-16 first layer: 64 3x3 filters on RGB", 3, 3, 64),
                ("1x1 convolution, 64 -> 32 channels", 1, 64, 32),
                ("7x7 kernel, 2 -> 5 channels", 7, 2, 5)]
    cases = []
    for name, k, cin, cout in settings:
        wrong = [(k * k * cin * cout, "the biases are missing: every output channel has one bias"),
                 (k * k * cout + cout, "the input channels are missing: each filter is k x k x C_in"),
                 (k * cin * cout + cout, "k appears once; a k x k kernel has k * k weights per channel"),
                 (k * k * cin + 1, "that is one filter; the layer has C_out of them"),
                 (k * k * cin * cout + cin, "one bias per *output* channel, not per input channel"),
                 ((k * k + 1) * cin * cout, "one bias per filter, not one per kernel slice")]
        cases.append(Case(name, (k, cin, cout), expected=_Answer(conv_params(cin, cout, k), wrong)))
    return check_function(exercise, student_fn, cases, compare=_diagnosing_compare,
                          hints=["count what one filter holds, then how many filters there are",
                                 "a filter is a block of k x k weights for every input channel, and each "
                                 "filter has its own bias"],
                          forbid=["course_lib.shapes.conv_params", "course_lib.training.count_parameters"],
                          forbid_reason="count the parameters yourself")


@exercise_check("student_fn", title="Exercise 4.5: multiply-adds of a conv layer (S4.6)")
def check_conv_macs(student_fn, *, exercise: str = "Exercise 4.5: multiply-adds of a conv layer (S4.6)") -> Result:
    """Check ``student_fn(k, c_in, c_out, h_out, w_out)``: multiply-adds of a conv layer, one image.

    Every one of the ``C_out x H_out x W_out`` output values is a dot product of
    length ``k * k * C_in``. Biases are additions only and are not counted.

    Examples
    --------
    >>> check_conv_macs(lambda k, ci, co, h, w: k * k * ci * co * h * w).status
    'pass'
    >>> r = check_conv_macs(lambda k, ci, co, h, w: 2 * k * k * ci * co * h * w)
    >>> "FLOPs" in r.details[3]
    True
    """
    settings = [("ten 5x5 filters, RGB in, 32x32 out", 5, 3, 10, 32, 32),
                ("MNIST first layer, 24x24 out", 5, 1, 20, 24, 24),
                ("1x1 convolution, 16 -> 8 channels, 7x7 out", 1, 16, 8, 7, 7),
                ("non-square output 3x5", 3, 4, 6, 3, 5)]
    cases = []
    for name, k, cin, cout, ho, wo in settings:
        right = conv_macs(cin, cout, k, ho, wo)
        wrong = [(2 * right, "that counts FLOPs (a multiply and an add each); count multiply-adds once"),
                 (right // cin, "the input channels are missing: each dot product runs over k x k x C_in"),
                 (right // cout, "the output channels are missing: every output channel repeats the work"),
                 (right // (ho * wo), "that is the work at one output position; multiply by H_out x W_out"),
                 (right + cout * ho * wo, "biases are additions only; do not count them as multiply-adds"),
                 (conv_params(cin, cout, k), "that is the parameter count; each weight is used at every "
                                             "output position"),
                 (k * cin * cout * ho * wo, "k appears once; a k x k kernel has k * k taps")]
        cases.append(Case(name, (k, cin, cout, ho, wo), expected=_Answer(right, wrong)))
    return check_function(exercise, student_fn, cases, compare=_diagnosing_compare,
                          hints=["count the multiply-adds for one output value first, then how many output "
                                 "values there are",
                                 "one output value is a dot product over a k x k x C_in block; there is one "
                                 "output value per output channel and per output position"],
                          forbid=["course_lib.shapes.conv_macs"], forbid_reason="count them yourself")


@exercise_check("student_fn", title="Exercise 4.4: add dilation (S4.3)")
def check_dilated_output_size(student_fn, *, exercise: str = "Exercise 4.4: add dilation (S4.3)") -> Result:
    """Check ``student_fn(n, k, s, p, d)``: output size with dilation, as torch computes it.

    Examples
    --------
    >>> check_dilated_output_size(lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s + 1).status
    'pass'
    >>> r = check_dilated_output_size(lambda n, k, s, p, d: (n + 2 * p - k) // s + 1)
    >>> "dilation" in r.details[3]
    True
    """
    settings = [("no dilation: 28x28, 5x5", 28, 5, 1, 0, 1),
                ("3x3 kernel, dilation 3 (spans 7 pixels)", 12, 3, 1, 0, 3),
                ("3x3 kernel, dilation 2 (spans 5 pixels)", 10, 3, 1, 0, 2),
                ("dilation 2 with padding 2 keeps the size", 16, 3, 1, 2, 2),
                ("dilation 3, stride 2", 20, 3, 2, 1, 3),
                ("dilation 2, stride 3, the stride does not fit", 15, 2, 3, 0, 2),
                ("1x1 kernel: dilation changes nothing", 9, 1, 2, 0, 3)]
    cases = []
    for name, n, k, s, p, d in settings:
        right = conv_output_size(n, k, s, p, d)
        span = d * (k - 1) + 1
        wrong = [((n + 2 * p - k) // s + 1, "dilation is ignored: a dilated kernel spans more pixels "
                                             "than k"),
                 ((n + 2 * p - d * k) // s + 1, "the span is too long: d * k counts a gap after the last "
                                                "tap; k taps have k - 1 gaps between them"),
                 ((n + 2 * p - d * (k - 1)) // s + 1, "the span is one pixel short: (k - 1) gaps of d "
                                                      "pixels, plus the pixel of the first tap"),
                 ((n + 2 * p - (k + d - 1)) // s + 1, "the span is wrong: each of the k - 1 gaps between "
                                                      "taps is d pixels wide, so the span grows with d "
                                                      "times (k - 1)"),
                 (-(-(n + 2 * p - span) // s) + 1, "that is the ceiling; torch rounds down"),
                 ((n + 2 * p - span) // s, "off by one: did you forget the + 1 (the first window counts "
                                           "too)?")]
        cases.append(Case(name, (n, k, s, p, d), expected=_Answer(right, wrong, [
            (right + 1, "off by one: one window too many"), (right - 1, "off by one: one window too few")])))
    return check_function(exercise, student_fn, cases, compare=_diagnosing_compare,
                          hints=["a dilated kernel still has k taps, with d - 1 skipped pixels between "
                                 "neighbouring taps: first work out how many pixels it spans from its first "
                                 "tap to its last, both included",
                                 "the span is made of k - 1 gaps of d pixels plus the first pixel; then "
                                 "count window positions as in Exercise 4.3 with the span in place of k"],
                          forbid=SIZE_FUNCTIONS, forbid_reason="derive the formula yourself")


@exercise_check("student_fn", title="Exercise 4.6: transposed convolution sizes (S4.7)")
def check_transposed_output_size(student_fn, *,
                                 exercise: str = "Exercise 4.6: transposed convolution sizes (S4.7)") -> Result:
    """Check ``student_fn(n, k, s, p, output_padding)``: output size of ``ConvTranspose2d`` (d = 1).

    Examples
    --------
    >>> check_transposed_output_size(lambda n, k, s, p, op: (n - 1) * s - 2 * p + k + op).status
    'pass'
    >>> r = check_transposed_output_size(lambda n, k, s, p, op: (n + 2 * p - k) // s + 1)
    >>> "transposed" in r.details[3]
    True
    """
    settings = [("2 -> ?, 3x3, stride 2 (Bishop fig 10.30)", 2, 3, 2, 0, 0),
                ("3 -> 7: undoes a 7 -> 3 convolution", 3, 3, 2, 0, 0),
                ("doubling: 16, 4x4, stride 2, padding 1", 16, 4, 2, 1, 0),
                ("stride 1, padding 1 keeps the size", 9, 3, 1, 1, 0),
                ("output_padding 1 picks the larger of two sizes", 3, 3, 2, 0, 1),
                ("stride 3, padding 2, output_padding 2", 5, 5, 3, 2, 2)]
    cases = []
    for name, n, k, s, p, op in settings:
        right = conv_transpose_output_size(n, k, s, p, output_padding=op)
        wrong = [((n + 2 * p - k) // s + 1, "that is the ordinary (down-sampling) convolution "
                                                      "formula; a transposed convolution runs it backwards"),
                 (right - op, "output_padding is missing: it adds that many rows at the end"),
                 (right + op, "output_padding was added twice; it adds its rows once, at one end"),
                 (right + 4 * p, "the padding sign is flipped: in a transposed convolution padding "
                                 "*removes* p rows from each side"),
                 (right + 2 * p, "the padding is missing: it removes p rows from each side"),
                 (right + p, "the padding was subtracted once; it trims p rows from *each* side"),
                 (right + s, "n stamps are n - 1 strides apart, not n"),
                 (n * s, "n * s is the size of nearest-neighbour up-sampling, not this layer")]
        cases.append(Case(name, (n, k, s, p, op), expected=_Answer(right, wrong, [
            (right - 1, "off by one: one row too few; count the rows from the first row of the first stamp "
                        "to the last row of the last stamp"),
            (right + 1, "off by one: one row too many; count the rows from the first row of the first "
                        "stamp to the last row of the last stamp")])))
    return check_function(exercise, student_fn, cases, compare=_diagnosing_compare,
                          hints=["in the stamp picture each of the n input pixels stamps a k x k copy of the "
                                 "kernel into the output, and neighbouring stamps start s rows apart: how "
                                 "many rows do the stamps cover, from the first row of the first stamp to "
                                 "the last row of the last one?",
                                 "then padding p trims p rows from each end of that, and output_padding adds "
                                 "rows at one end only"],
                          forbid=["course_lib.shapes.conv_transpose_output_size",
                                  "torch.nn.functional.conv_transpose2d", "torch.conv_transpose2d"],
                          forbid_reason="derive it from the stamp picture")


_PARTS = ("H_out", "W_out", "C_out", "parameters")


def _layer_context():
    return dict(height=40, width=64, in_channels=3, out_channels=32, kernel_size=5, stride=1, padding=2)


@exercise_check("answer", context=_layer_context, title="Exercise 4.1: predict a layer (S4.5)")
def check_layer_prediction(answer: Any, *, height: int, width: int, in_channels: int,
                           out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                           exercise: str = "Exercise 4.1: predict a layer (S4.5)") -> Result:
    """Check a predicted ``(H_out, W_out, C_out, parameters)`` for one conv layer with biases.

    The right numbers are never shown (on success either): a wrong number is
    reported with the mistake it matches.

    Parameters
    ----------
    answer : tuple of 4 ints
        The student's prediction, or ``...`` while not attempted. Lists, arrays
        and NumPy ints are fine.
    height, width, in_channels, out_channels, kernel_size, stride, padding : int
        The layer (square kernel, same stride and padding on both axes).
    exercise : str
        The title shown in the result.

    Examples
    --------
    >>> check_layer_prediction((32, 32, 10, 760), height=32, width=32, in_channels=3,
    ...                        out_channels=10, kernel_size=5, padding=2).status
    'pass'
    >>> r = check_layer_prediction((32, 32, 10, 750), height=32, width=32, in_channels=3,
    ...                            out_channels=10, kernel_size=5, padding=2)
    >>> "bias" in str(r), "760" in str(r)
    (True, False)
    >>> check_layer_prediction(..., height=5, width=5, in_channels=3, out_channels=2,
    ...                        kernel_size=3).status
    'not attempted'
    """
    k, s, p, cin, cout = kernel_size, stride, padding, in_channels, out_channels
    h_out, w_out = conv_output_size(height, k, s, p), conv_output_size(width, k, s, p)
    params = conv_params(cin, cout, k)
    if is_stub(answer):
        return not_attempted(exercise, "replace the `...` with your prediction (H_out, W_out, C_out, "
                             "parameters).")
    got = answer.detach().cpu().numpy() if hasattr(answer, "detach") else answer
    try:
        got = tuple(np.asarray(got).reshape(-1).tolist()) if isinstance(got, np.ndarray) else got
    except Exception:
        pass
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        return not_yet(exercise, f"expected four numbers (H_out, W_out, C_out, parameters) in a tuple, "
                       f"got {_short(answer, 80)}.")
    got = tuple(got)

    def size_mistakes(n: int, right: int) -> List[Tuple[Any, str]]:
        return [(-(-(n + 2 * p - k) // s) + 1, "that is the ceiling; torch rounds (n + 2p - k) / s down"),
                ((n - k) // s + 1, "the padding is missing: it adds p pixels on each side"),
                ((n + p - k) // s + 1, "the padding was counted once; it is added on both sides"),
                (n + 2 * p - k + 1, "the stride is missing: the window jumps s pixels at a time"),
                ((n + 2 * p - k) // s, "off by one: did you forget the + 1 (the first window counts too)?")]

    def size_fallback(right: int) -> List[Tuple[Any, str]]:
        return [(right - 1, "off by one: did you forget the + 1 (the first window counts too)?"),
                (right + 1, "off by one: one window too many; the last one must fit entirely")]

    expected = (_Answer(h_out, size_mistakes(height, h_out) + [(w_out, "that is the width; H comes first")],
                        size_fallback(h_out)),
                _Answer(w_out, size_mistakes(width, w_out) + [(h_out, "that is the height; W comes second")],
                        size_fallback(w_out)),
                _Answer(cout, [(cin, "the depth of the output is the number of filters, C_out, not C_in"),
                               (h_out, "the channels come third here: (H_out, W_out, C_out, ...)")]),
                _Answer(params, [(params - cout, "the biases are missing: one per filter"),
                                 (k * k * cout + cout, "each filter is k x k x C_in; the input channels "
                                                       "are missing"),
                                 (k * k * cin + 1, "that is one filter; there are C_out of them"),
                                 (conv_macs(cin, cout, k, h_out, w_out), "that is the multiply-add count; "
                                  "parameters do not depend on the image size"),
                                 (params - cout + 1, "one bias per filter, not one for the whole layer")]))
    details = []
    if same_value(got, (cout, h_out, w_out, params)) and cout != h_out:
        details.append("order: the numbers are in PyTorch's (C, H, W) order; this exercise asks for "
                       "(H_out, W_out, C_out, parameters)")
    else:
        for name, g, want in zip(_PARTS, got, expected):
            if not same_value(g, want):
                named = _diagnose(g, want)
                if named is None and as_number(g) is None:
                    named = f"expected a whole number, got {_short(g, 40)}"
                details.append(f"{name}: got {_short(g, 40)}" + (f": {named}" if named else ""))
    if not details:
        return passed(exercise, "all four numbers are right: sizes from the window positions, depth "
                      "from the number of filters, and a k x k x C_in block plus a bias per filter.")
    return not_yet(exercise, f"{len(details)} of 4 numbers not right yet." if not details[0].startswith("order")
                   else "the numbers are in the wrong order.", details,
                   ["H_out and W_out count the positions of the window along each axis (section 4); C_out "
                    "is the number of filters; each filter has weights for all input channels plus a bias",
                    "for the sizes: pad, then count window starts 0, s, 2s, ... while the k-pixel window "
                    "still fits; for the parameters: (weights in one filter + its bias) times the number "
                    "of filters"])
