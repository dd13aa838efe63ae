"""Checks for output-size arithmetic exercises."""
from __future__ import annotations

from ..shapes import conv_output_size
from .core import Case, Result, check_function, compare_exact


def check_output_size(student_fn) -> Result:
    """Check ``student_fn(n, k, s, p)``: output size of a convolution (floor), like torch.

    Examples
    --------
    >>> check_output_size(lambda n, k, s, p: (n + 2 * p - k) // s + 1).status
    'pass'
    >>> r = check_output_size(lambda n, k, s, p: (n + 2 * p - k) // s)
    >>> "off by one" in r.details[3]
    True
    """
    settings = [("28x28 MNIST, 5x5 kernel", 28, 5, 1, 0),
                ("32x32, 5x5, padding 2 ('same')", 32, 5, 1, 2),
                ("5x5 input, 3x3, stride 2, padding 1", 5, 3, 2, 1),
                ("7x7, 3x3, stride 3: the stride does not fit", 7, 3, 3, 0),
                ("224x224, 11x11, stride 4, padding 2 (AlexNet-like)", 224, 11, 4, 2),
                ("1x1 kernel", 13, 1, 1, 0)]
    cases = [Case(name, (n, k, s, p), expected=conv_output_size(n, k, s, p),
                  hint="count where the window can start: 0, s, 2s, ... while it still fits in "
                       "n + 2p pixels; floor((n + 2p - k) / s) + 1")
             for name, n, k, s, p in settings]

    def compare(got, expected):
        reason = compare_exact(got, expected)
        if reason is None:
            return None
        if isinstance(got, (int, float)) and abs(got - expected) == 1:
            return reason + " (off by one: did you forget the + 1, or count the last window twice?)"
        if isinstance(got, float):
            return reason + " (a fraction: round down with // as torch does)"
        return reason
    return check_function("Exercise: output size (S4.3)", student_fn, cases, compare=compare)
