"""Checks for the layer-arithmetic exercises (chapter "Stride, padding and output sizes").

Each check knows the mistakes people usually make with this arithmetic (the
forgotten ``+ 1``, the missing biases, dilation ignored, the convolution
formula used for a transposed convolution, ...) and names the mistake when a
wrong answer matches it.
"""
from __future__ import annotations

from typing import Any, Iterable, List, Optional, Tuple

from ..shapes import conv_macs, conv_output_size, conv_params, conv_transpose_output_size
from .core import FAIL, NOT_ATTEMPTED, PASS, Case, Result, check_function, compare_exact, is_stub

__all__ = ["check_param_count", "check_conv_macs", "check_dilated_output_size",
           "check_transposed_output_size", "check_layer_prediction"]


class _Answer(int):
    """An int (the right answer) that also carries known wrong answers and what they mean.

    It prints like a plain int, so the check's "expected:" line stays readable.
    """
    wrong: Tuple[Tuple[int, str], ...]

    def __new__(cls, value: int, wrong: Iterable[Tuple[Any, str]] = ()):
        obj = super().__new__(cls, value)
        # a "mistake" that happens to give the right number here is no mistake
        obj.wrong = tuple((v, m) for v, m in wrong if v is not None and v != value)
        return obj


def _diagnosing_compare(got: Any, expected: Any) -> Optional[str]:
    """compare_exact, plus a named mistake when ``got`` equals one of ``expected.wrong``."""
    reason = compare_exact(got, expected)
    if reason is None:
        return None
    if isinstance(got, float) and not got.is_integer():
        return reason + " (a fraction: a count of positions is a whole number; round down with //)"
    # several mistakes can give the same number here: name them all
    messages = [m for v, m in getattr(expected, "wrong", ()) if compare_exact(got, v) is None]
    return f"{reason}: " + "; or ".join(dict.fromkeys(messages)) if messages else reason


def check_param_count(student_fn) -> Result:
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
        cases.append(Case(name, (k, cin, cout), expected=_Answer(conv_params(cin, cout, k), wrong),
                          hint="each of the C_out filters is a k x k x C_in block of weights, "
                               "plus one bias each: (k * k * C_in + 1) * C_out"))
    return check_function("Exercise: parameters of a conv layer (S4.6)", student_fn, cases,
                          compare=_diagnosing_compare)


def check_conv_macs(student_fn) -> Result:
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
        cases.append(Case(name, (k, cin, cout, ho, wo), expected=_Answer(right, wrong),
                          hint="one multiply-add per weight per output position: "
                               "k * k * C_in * C_out * H_out * W_out"))
    return check_function("Exercise: multiply-adds of a conv layer (S4.6)", student_fn, cases,
                          compare=_diagnosing_compare)


def check_dilated_output_size(student_fn) -> Result:
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
                ("3x3 kernel, dilation 2 (spans 5 pixels)", 10, 3, 1, 0, 2),
                ("dilation 2 with padding 2 keeps the size", 16, 3, 1, 2, 2),
                ("dilation 3, stride 2", 20, 3, 2, 1, 3),
                ("dilation 2, stride 3, the stride does not fit", 15, 2, 3, 0, 2),
                ("1x1 kernel: dilation changes nothing", 9, 1, 2, 0, 3)]
    cases = []
    for name, n, k, s, p, d in settings:
        right = conv_output_size(n, k, s, p, d)
        wrong = [((n + 2 * p - k) // s + 1, "dilation is ignored: a dilated kernel spans "
                                                      "d(k - 1) + 1 pixels, not k"),
                 ((n + 2 * p - d * k) // s + 1, "the span of a dilated kernel is d(k - 1) + 1, "
                                                          "not d * k"),
                 (right - 1, "off by one: did you forget the + 1?"),
                 (right + 1, "off by one: the first window already counts once")]
        cases.append(Case(name, (n, k, s, p, d), expected=_Answer(right, wrong),
                          hint="the window spans d(k - 1) + 1 pixels; floor((n + 2p - span) / s) + 1"))
    return check_function("Exercise: output size with dilation (S4.3)", student_fn, cases,
                          compare=_diagnosing_compare)


def check_transposed_output_size(student_fn) -> Result:
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
                 (right + 4 * p, "the padding sign is flipped: in a transposed convolution padding "
                                 "*removes* p rows from each side"),
                 (right + 2 * p, "the padding is missing: it removes p rows from each side"),
                 (n * s, "n * s is the size of nearest-neighbour up-sampling, not this layer"),
                 (right - 1, "off by one: (n - 1) steps of s, plus the k rows of the last stamp"),
                 (right + 1, "off by one: (n - 1) steps of s, plus the k rows of the last stamp")]
        cases.append(Case(name, (n, k, s, p, op), expected=_Answer(right, wrong),
                          hint="each input pixel stamps a k-wide kernel, stamps start s apart: "
                               "(n - 1) * s + k, then minus 2p, plus output_padding"))
    return check_function("Exercise: transposed convolution output size (S4.7)", student_fn, cases,
                          compare=_diagnosing_compare)


_PARTS = ("H_out", "W_out", "C_out", "parameters")


def check_layer_prediction(answer: Any, *, height: int, width: int, in_channels: int,
                           out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                           exercise: str = "Exercise: predict the layer (S4.5)") -> Result:
    """Check a predicted ``(H_out, W_out, C_out, parameters)`` for one conv layer with biases.

    Parameters
    ----------
    answer : tuple of 4 ints
        The student's prediction, or ``...`` while not attempted.
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
    >>> "bias" in str(r)
    True
    >>> check_layer_prediction(..., height=5, width=5, in_channels=3, out_channels=2,
    ...                        kernel_size=3).status
    'not attempted'
    """
    k, s, p, cin, cout = kernel_size, stride, padding, in_channels, out_channels
    h_out, w_out = conv_output_size(height, k, s, p), conv_output_size(width, k, s, p)
    params = conv_params(cin, cout, k)
    if is_stub(answer):
        return Result(exercise, NOT_ATTEMPTED, "replace the `...` with your prediction "
                      "(H_out, W_out, C_out, parameters).")
    if not isinstance(answer, (tuple, list)) or len(answer) != 4:
        return Result(exercise, FAIL, f"expected a tuple of four numbers (H_out, W_out, C_out, "
                      f"parameters), got {answer!r}.")

    def size_mistakes(n: int, right: int) -> List[Tuple[Any, str]]:
        return [((n - k) // s + 1, "the padding is missing: add 2p to n"),
                (n + 2 * p - k + 1, "the stride is missing: divide by s"),
                (-(-(n + 2 * p - k) // s) + 1, "that is the ceiling; torch rounds (n + 2p - k) / s down"),
                (right - 1, "off by one: did you forget the + 1?"),
                (right + 1, "off by one: the first window counts once, not twice")]

    expected = (_Answer(h_out, size_mistakes(height, h_out)),
                _Answer(w_out, size_mistakes(width, w_out)),
                _Answer(cout, [(cin, "the depth of the output is the number of filters, C_out, "
                                     "not C_in"), (h_out, "the channels come third here")]),
                _Answer(params, [(params - cout, "the biases are missing: one per filter"),
                                 (k * k * cout + cout, "each filter is k x k x C_in; the input "
                                                       "channels are missing"),
                                 (k * k * cin + 1, "that is one filter; there are C_out of them"),
                                 (conv_macs(cin, cout, k, h_out, w_out), "that is the multiply-add "
                                  "count; parameters do not depend on the image size")]))
    details = []
    for name, got, want in zip(_PARTS, answer, expected):
        reason = _diagnosing_compare(got, want)
        if reason is not None:
            details.append(f"{name}: {reason}")
    if not details:
        return Result(exercise, PASS, f"your answer {tuple(answer)!r} is right.")
    details.append(f"hint: n_out = floor((n + 2p - k) / s) + 1 on each axis; parameters = "
                   f"(k * k * C_in + 1) * C_out")
    return Result(exercise, FAIL, f"{len(details) - 1} of 4 numbers not right yet.", details)
