"""Self-checking exercises.

Every exercise in the book is three cells: the task (Markdown, with its
syllabus id), a stub the student edits, and a check cell that calls one of
these functions and shows a :class:`Result`. See the book page "How the
exercises work" for the authors' convention.
"""
from .core import (Case, Result, check_experiment, check_function, check_value, check_written,
                   compare_arrays, compare_exact, is_stub)
from .convolution import check_conv2d, check_convolve2d, check_correlate2d
from .sizes import check_output_size

__all__ = ["Case", "Result", "check_function", "check_value", "check_written", "check_experiment",
           "compare_arrays", "compare_exact", "is_stub", "check_correlate2d", "check_convolve2d",
           "check_conv2d", "check_output_size"]
