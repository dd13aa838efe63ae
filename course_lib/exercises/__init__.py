"""Self-checking exercises.

Every exercise in the book is three cells: the task (Markdown, with its
syllabus id), a cell the student edits, and a check cell that calls one of
these functions and shows a :class:`Result`. A check never raises, accepts
every correct form of an answer, names the mistake of a wrong one without
giving away the answer, and gives more specific hints on repeated failures
(or at once with ``hint("4.3")``). See :mod:`course_lib.exercises.core` for how
to write a new check, and the book page "How the exercises work".
"""
from .core import (FAIL, NOT_ATTEMPTED, PASS, Case, ForbiddenCall, Result, as_number, check_experiment,
                   check_function, check_value, check_written, compare_arrays, compare_exact, exercise_check,
                   hint, is_stub, named_mistakes, not_attempted, not_yet, passed, reset_hints, same_value)
from .convolution import check_conv2d, check_convolve2d, check_correlate2d, check_layer_shapes
from .arithmetic import check_output_size

__all__ = ["Case", "Result", "check_function", "check_value", "check_written", "check_experiment",
           "compare_arrays", "compare_exact", "same_value", "as_number", "named_mistakes", "is_stub",
           "exercise_check", "passed", "not_yet", "not_attempted", "hint", "reset_hints", "ForbiddenCall",
           "PASS", "FAIL", "NOT_ATTEMPTED",
           "check_correlate2d", "check_convolve2d", "check_conv2d", "check_layer_shapes", "check_output_size"]
