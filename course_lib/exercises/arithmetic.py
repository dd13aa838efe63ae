"""Checks for the layer-arithmetic exercises (chapter "Stride, padding and output sizes").

Each check knows the mistakes people usually make with this arithmetic (the
forgotten ``+ 1``, the missing biases, dilation ignored, the convolution
formula used for a transposed convolution, ...) and names the mistake when a
wrong answer matches it.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, List, Optional, Tuple

import numpy as np

from ..shapes import conv_macs, conv_output_size, conv_params, conv_transpose_output_size, window_coverage
from .core import (Case, Result, _plain, _short, as_number, check_function, compare_exact, exercise_check, is_stub,
                   not_attempted, not_yet, passed, same_value)

__all__ = ["check_output_size", "check_param_count", "check_conv_macs", "check_dilated_output_size",
           "check_transposed_output_size", "check_layer_prediction", "check_floor_or_ceiling"]

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


# ------------------------------------------------------------------------------------------
# Exercise 4.7: Buduma's ceiling against PyTorch's floor, and the padding that reads every pixel

_FC_PARTS = ("colleague's sizes (ceiling)", "PyTorch's sizes (floor)", "smallest padding",
             "sizes with that padding")


def _chain(n: int, step, layers: int) -> Tuple[int, ...]:
    """The sizes after each of ``layers`` layers, each computed from the previous one by ``step``."""
    sizes, m = [], n
    for _ in range(layers):
        m = step(m)
        sizes.append(m)
    return tuple(sizes)


def _smallest_full_padding(n: int, k: int, s: int, layers: int) -> Optional[int]:
    """The smallest padding, the same at every layer, that leaves no image pixel unread."""
    for p in range(k + s):
        m, ok = n, True
        for _ in range(layers):
            if m + 2 * p < k or window_coverage(m, k, s, p).min() == 0:
                ok = False
                break
            m = conv_output_size(m, k, s, p)
        if ok:
            return p
    return None


def _one_number(value: Any) -> Tuple[Optional[float], str]:
    """(the number, "") or (None, what is wrong with it); never raises."""
    v = _plain(value)
    if isinstance(v, tuple) and len(v) == 1:
        v = v[0]
    x = as_number(v) if not isinstance(v, tuple) else None
    if x is None:
        return None, f"expected a whole number, got {_short(value, 40)}"
    if not math.isfinite(x):
        return None, f"got {x}, not a number of pixels"
    if not float(x).is_integer():
        return None, "a fraction: sizes and paddings are whole numbers of pixels"
    return x, ""


def _sizes_of(value: Any, layers: int) -> Tuple[Optional[Tuple[int, ...]], str]:
    """A tuple of ``layers`` whole numbers from a tuple/list/array/torch.Size, or (None, why not)."""
    v = _plain(value)
    if not isinstance(v, tuple):
        if as_number(v) is not None:
            return None, (f"one number; give {layers} sizes, one after each convolution (feed each size "
                          "into the next layer)")
        return None, f"expected {layers} sizes in a tuple, got {_short(value, 40)}"
    if len(v) != layers:
        return None, f"expected {layers} sizes (one after each convolution), got {len(v)} values"
    out = []
    for x in v:
        number, why = _one_number(x)
        if number is None:
            return None, why
        out.append(int(number))
    return tuple(out), ""


def _split_answer(answer: Any, layers: int) -> Optional[list]:
    """The four parts of the answer (nested, or all 3 * layers + 1 numbers in a row), or None."""
    got = _plain(answer)
    if not isinstance(got, tuple):
        return None
    if len(got) == 4:
        return list(got)
    flat = 3 * layers + 1
    if len(got) == flat and all(not isinstance(x, (tuple, np.ndarray)) for x in got):
        return [got[:layers], got[layers:2 * layers], got[2 * layers], got[2 * layers + 1:]]
    return None


def _fc_context():
    return {}


@exercise_check("answer", context=_fc_context, title="Exercise 4.7: floor or ceiling? (S4.3, E2)")
def check_floor_or_ceiling(answer: Any, *, n: int = 28, kernel_size: int = 3, stride: int = 2, layers: int = 2,
                           exercise: str = "Exercise 4.7: floor or ceiling? (S4.3, E2)") -> Result:
    """Check ``((ceiling sizes), (floor sizes), smallest padding, (sizes with that padding))``.

    A stack of ``layers`` convolutions (kernel ``kernel_size``, stride ``stride``)
    on an ``n``-pixel axis: the sizes the colleague computes with Buduma's ceiling
    and no padding, the sizes PyTorch produces (floor) without padding, the
    smallest padding (the same at every layer) that leaves no image pixel
    unread, and the sizes PyTorch produces with it. Pairs may be tuples, lists,
    arrays or ``torch.Size``; all ``3 * layers + 1`` numbers in one flat tuple
    are fine too. The right values are never shown.

    Examples
    --------
    >>> check_floor_or_ceiling(((8, 4), (7, 3), 1, (8, 4)), n=16).status
    'pass'
    >>> r = check_floor_or_ceiling(((7, 3), (7, 3), 1, (8, 4)), n=16)
    >>> "floor" in str(r), "(8, 4)" in str(r)
    (True, False)
    >>> check_floor_or_ceiling(...).status
    'not attempted'
    """
    k, s = kernel_size, stride
    if is_stub(answer):
        return not_attempted(exercise, "replace the `...` with your prediction: ((the colleague's two sizes), "
                             "(PyTorch's two sizes), the smallest padding, (the two sizes with it)).")

    def floor_step(p):
        return lambda m: (m + 2 * p - k) // s + 1

    def ceil_step(p):
        return lambda m: -(-(m + 2 * p - k) // s) + 1

    ceil_sizes = _chain(n, ceil_step(0), layers)
    floor_sizes = _chain(n, floor_step(0), layers)
    pad = _smallest_full_padding(n, k, s, layers)
    if pad is None:
        return not_yet(exercise, "the check has no answer for this network (no padding reads every pixel).")
    padded_sizes = _chain(n, floor_step(pad), layers)

    parts = _split_answer(answer, layers)
    if parts is None:
        return not_yet(exercise, f"expected four parts, ((the colleague's {layers} sizes), (PyTorch's {layers} "
                       f"sizes), the smallest padding, (the {layers} sizes with it)), got {_short(answer, 80)}.")

    def no_plus_one(p, ceil=False):
        if ceil:
            return lambda m: -(-(m + 2 * p - k) // s)
        return lambda m: (m + 2 * p - k) // s

    def mixed(first, then):
        """The first layer with step ``first``, the later ones with ``then``."""
        sizes = [first(n)]
        for _ in range(layers - 1):
            sizes.append(then(sizes[-1]))
        return tuple(sizes)

    mistakes = {
        0: [(floor_sizes, "those are PyTorch's sizes: the colleague rounds (n + 2p - k) / s *up* with "
                          "Buduma's ceiling"),
            (_chain(n, no_plus_one(0, ceil=True), layers), "the + 1 outside the ceiling is missing (the first "
                                                           "window, at position 0, counts too)"),
            (mixed(ceil_step(0), floor_step(0)), "the later size is rounded down: the colleague uses the "
                                                 "ceiling at every layer"),
            (_chain(n, lambda m: m - k + 1, layers), "the stride is missing: the window jumps s pixels at a "
                                                     "time")],
        1: [(ceil_sizes, "that is the ceiling; PyTorch rounds (n + 2p - k) / s *down*: a window that does not "
                         "fit is not counted"),
            (_chain(n, no_plus_one(0), layers), "off by one: did you forget the + 1 (the first window counts "
                                                "too)?"),
            (mixed(floor_step(0), no_plus_one(0)), "off by one in the later size: did you forget the + 1 there?"),
            (mixed(ceil_step(0), floor_step(0)), "the first size is rounded up; PyTorch rounds down at every "
                                                 "layer"),
            (_chain(n, lambda m: m - k + 1, layers), "the stride is missing: the window jumps s pixels at a "
                                                     "time")],
        3: [(floor_sizes, "those are the sizes without padding: pad each convolution with your padding"),
            (_chain(n, no_plus_one(pad), layers), "off by one: did you forget the + 1 (the first window counts "
                                                  "too)?"),
            (_chain(n, ceil_step(pad), layers), "that is the ceiling; PyTorch rounds down with padding too"),
            (_chain(n, lambda m: m + 2 * pad - k + 1, layers), "those are the sizes at stride 1: padding keeps "
                                                               "the size only when the stride is 1"),
            (mixed(floor_step(pad), floor_step(0)), "the later convolution is padded too"),
            (mixed(floor_step(0), floor_step(pad)), "the first convolution is padded too")],
    }
    expected = {0: ceil_sizes, 1: floor_sizes, 3: padded_sizes}
    steps = {0: ceil_step(0), 1: floor_step(0), 3: floor_step(pad)}

    details: List[str] = []
    sizes_got = {}
    for i in (0, 1, 3):
        sizes_got[i], _ = _sizes_of(parts[i], layers)
    swapped = sizes_got[0] == floor_sizes and sizes_got[1] == ceil_sizes and ceil_sizes != floor_sizes
    if swapped:
        details.append("order: the first two pairs are swapped: first the sizes the colleague computes with "
                       "the ceiling, then the sizes PyTorch produces")
    padding_got = None
    for i, (name, part) in enumerate(zip(_FC_PARTS, parts)):
        if swapped and i in (0, 1):
            continue
        if i == 2:
            number, why = _one_number(part)
            v = _plain(part)
            if number is None and isinstance(v, tuple) and len(v) == 2 and same_value(v[0], v[1]):
                number, why = _one_number(v[0])              # (p, p): the same padding on both axes
            if number is None:
                details.append(f"{name}: got {_short(part, 40)}: {why}")
                continue
            padding_got = int(number)
            if padding_got == pad:
                continue
            if padding_got < 0:
                problem = "a padding is never negative: it adds pixels around the image"
            elif padding_got > pad:
                problem = ("that pads enough to read every image pixel, but it is not the smallest padding "
                           "that does")
            else:
                problem = ("with that padding the last window still stops before the last image column: the "
                           "stride does not fit, and that column is never read")
            details.append(f"{name}: got {_short(part, 40)}: {problem}")
            continue
        got = sizes_got[i]
        if got is None:
            _, why = _sizes_of(part, layers)
            details.append(f"{name}: got {_short(part, 40)}: {why}")
            continue
        right = expected[i]
        if got == right:
            continue
        named = [m for wrong, m in mistakes[i] if wrong != right and got == wrong]
        if i == 3 and padding_got is not None and padding_got != pad and 0 <= padding_got <= n \
                and got == _chain(n, floor_step(padding_got), layers):
            named = ["these sizes follow from your padding; the padding is what is not right yet"]
        if not named:
            if any(g < 1 for g in got):
                named = ["an output has at least one position; a size below 1 cannot come out"]
            elif got[0] != right[0] and layers > 1 and got[1:] == _chain(got[0], steps[i], layers - 1):
                named = ["the later size follows from your first one; the first size is not right yet"]
            else:
                off = [j + 1 for j, (g, r) in enumerate(zip(got, right)) if abs(g - r) == 1]
                wrong_at = [j + 1 for j, (g, r) in enumerate(zip(got, right)) if g != r]
                if off and off == wrong_at:
                    named = [f"off by one in size {', '.join(map(str, off))}: recount the window positions"]
                else:
                    named = [f"size {', '.join(map(str, wrong_at))} not right yet"]
        details.append(f"{name}: got {_short(part, 40)}: " + "; or ".join(dict.fromkeys(named)))
    if not details:
        return passed(exercise, "all four parts are right: the ceiling counts a window that would hang off the "
                      "edge, PyTorch does not, and the right padding turns the unread column into one of zeros.")
    wrong_parts = len(details) + (1 if swapped else 0)
    message = ("the first two pairs are in the wrong order." if swapped and len(details) == 1 else
               f"{min(wrong_parts, 4)} of 4 parts not right yet.")
    return not_yet(exercise, message, details,
                   ["work one convolution at a time and feed each size into the next; the colleague rounds "
                    "(n + 2p - k) / s up, PyTorch rounds it down; both add 1 for the first window",
                    "for the padding: the image occupies pixels p to p + n - 1 of the padded row, and the "
                    "windows start at 0, s, 2s, ... as long as they fit in n + 2p pixels; try p = 0, 1, 2, ... "
                    "and find the first whose last window reaches the last image pixel, at both layers"])
