"""The machinery behind every exercise check.

A check runs the student's answer on several cases and returns a
:class:`Result` whose text says what passed, or which case failed, what was
expected, what came back and a hint. An unfinished stub (``...``, ``None`` or
a function that raises ``NotImplementedError``) gives "not attempted yet",
never a traceback. Checks never show solution code.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple

import numpy as np

PASS, FAIL, NOT_ATTEMPTED = "pass", "fail", "not attempted"


@dataclass
class Result:
    """Outcome of one check; its text is what the notebook shows."""
    exercise: str
    status: str
    message: str
    details: List[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def attempted(self) -> bool:
        return self.status != NOT_ATTEMPTED

    def __str__(self) -> str:
        icon = {PASS: "PASSED", FAIL: "NOT YET", NOT_ATTEMPTED: "NOT ATTEMPTED YET"}[self.status]
        lines = [f"[{icon}] {self.exercise}: {self.message}"] + [f"  {d}" for d in self.details]
        return "\n".join(lines)

    __repr__ = __str__


@dataclass
class Case:
    """One test case: the arguments to call with and the expected answer."""
    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expected: Any = None
    hint: str = ""


def is_stub(value: Any) -> bool:
    """True for the placeholders a stub cell starts with: ``...`` and ``None``."""
    return value is Ellipsis or value is None


def _short(value: Any, limit: int = 300) -> str:
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=4, suppress=True, threshold=40):
            text = f"array of shape {value.shape}:\n{value}"
    else:
        text = repr(value)
    text = text if len(text) <= limit else text[:limit] + " ..."
    return text.replace("\n", "\n      ")


def _format_call(case: Case) -> str:
    parts = [_short(a, 60) if not isinstance(a, np.ndarray) else f"<array {a.shape}>"
             for a in case.args]
    parts += [f"{k}={v!r}" for k, v in case.kwargs.items()]
    return "(" + ", ".join(parts) + ")"


def compare_arrays(got: Any, expected: np.ndarray, *, rtol: float = 1e-6, atol: float = 1e-8) -> Optional[str]:
    """None when ``got`` matches ``expected`` (shape and values), else a short reason."""
    if hasattr(got, "detach"):
        got = got.detach().cpu().numpy()
    if got is None or got is Ellipsis:
        return "nothing came back (did you forget `return`?)"
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return f"the result is a {type(got).__name__}, not an array of numbers"
    expected = np.asarray(expected, dtype=float)
    if got.shape != expected.shape:
        return f"shape {got.shape}, expected shape {expected.shape}"
    if not np.allclose(got, expected, rtol=rtol, atol=atol):
        err = np.abs(got - expected)
        where = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
        return (f"values differ, largest difference {float(err.max()):.3g} at index "
                f"{tuple(int(i) for i in where)}")
    return None


def compare_exact(got: Any, expected: Any) -> Optional[str]:
    """None when ``got == expected`` (ints, tuples, strings), else a short reason."""
    if got is None or got is Ellipsis:
        return "nothing came back (did you forget `return`?)"
    if isinstance(expected, tuple) and isinstance(got, list):
        got = tuple(got)
    if hasattr(got, "item") and np.ndim(got) == 0:
        got = got.item()
    if isinstance(expected, int) and isinstance(got, float) and got.is_integer():
        got = int(got)
    if type(got) is bool and type(expected) is not bool:
        return f"got the bool {got!r}, expected {expected!r}"
    return None if got == expected else f"got {got!r}, expected {expected!r}"


def named_mistakes(variants: Callable[[Any], Iterable[Tuple[Any, str]]],
                   base: Callable[[Any, Any], Optional[str]] = compare_arrays):
    """A comparer that, when ``got`` is wrong, names the known mistake it matches (if any).

    ``variants(expected)`` yields ``(wrong_answer, message)`` pairs for the case at
    hand, e.g. the result of a flipped kernel with "the kernel is flipped".

    Examples
    --------
    >>> cmp = named_mistakes(lambda e: [(-e, "the sign is flipped")])
    >>> cmp(np.array([-1.0]), np.array([1.0]))
    'the sign is flipped'
    """
    def compare(got: Any, expected: Any) -> Optional[str]:
        reason = base(got, expected)
        if reason is None:
            return None
        for variant, message in variants(expected):
            if variant is not None and base(got, variant) is None:
                return message
        return reason
    return compare


def check_function(exercise: str, student_fn: Any, cases: Sequence[Case],
                   compare: Callable[[Any, Any], Optional[str]] = compare_arrays,
                   success: str = "") -> Result:
    """Call ``student_fn`` on every case; stop at the first failing case.

    Parameters
    ----------
    exercise : str
        Shown in the message, e.g. "Exercise 3.2 (S3.9)".
    student_fn : callable
        The student's function (a stub that raises NotImplementedError counts
        as not attempted).
    cases : sequence of Case
    compare : callable(got, expected) -> None or reason

    Examples
    --------
    >>> r = check_function("demo", lambda a: a + 1, [Case("one", (1,), expected=2)], compare_exact)
    >>> r.status
    'pass'
    """
    if is_stub(student_fn):
        return Result(exercise, NOT_ATTEMPTED, "replace the `...` with your function.")
    if not callable(student_fn):
        return Result(exercise, FAIL, f"expected a function, got a {type(student_fn).__name__}.")
    for i, case in enumerate(cases, 1):
        try:
            got = student_fn(*case.args, **case.kwargs)
        except NotImplementedError:
            return Result(exercise, NOT_ATTEMPTED,
                          "the function still raises NotImplementedError: write your code in "
                          "place of the `raise` line, then run this check again.")
        except Exception as err:  # the student's bug, shown without a traceback
            return Result(exercise, FAIL, f"case {i}/{len(cases)} ({case.name}) raised "
                          f"{type(err).__name__}: {err}",
                          [f"call: f{_format_call(case)}"] + ([f"hint: {case.hint}"] if case.hint else []))
        reason = compare(got, case.expected)
        if reason is not None:
            details = [f"call:     f{_format_call(case)}", f"expected: {_short(case.expected)}",
                       f"got:      {_short(got)}", f"problem:  {reason}"]
            if case.hint:
                details.append(f"hint:     {case.hint}")
            return Result(exercise, FAIL, f"case {i}/{len(cases)} ({case.name}) is wrong.", details)
    return Result(exercise, PASS, f"all {len(cases)} cases agree. {success}".strip())


def check_value(exercise: str, answer: Any, expected: Any, *, hint: str = "",
                rtol: float = 0.0, what: str = "your answer") -> Result:
    """Check a predicted number (or tuple of numbers) against the computed truth.

    Examples
    --------
    >>> check_value("demo", ..., 760).status
    'not attempted'
    >>> check_value("demo", 761, 760, hint="count the biases").status
    'fail'
    """
    if is_stub(answer):
        return Result(exercise, NOT_ATTEMPTED, "replace the `...` with your prediction.")
    if rtol > 0:
        try:
            ok = bool(np.allclose(np.asarray(answer, float), np.asarray(expected, float), rtol=rtol, atol=0))
        except (TypeError, ValueError):
            ok = False
        reason = None if ok else f"got {answer!r}, expected {expected!r} (within {rtol:.0%})"
    else:
        reason = compare_exact(answer, expected)
    if reason is None:
        return Result(exercise, PASS, f"{what} {answer!r} is right.")
    details = [f"expected: {_short(expected)}", f"got:      {_short(answer)}"]
    if hint:
        details.append(f"hint:     {hint}")
    return Result(exercise, FAIL, f"{what} is not right yet.", details)


def check_written(exercise: str, answer: Any, *, min_words: int = 15) -> Result:
    """Written questions: the check only reminds; the model answer is in the dropdown below.

    Examples
    --------
    >>> check_written("demo", "").status
    'not attempted'
    """
    text = answer if isinstance(answer, str) else ""
    words = len(text.split())
    if is_stub(answer) or words == 0:
        return Result(exercise, NOT_ATTEMPTED, "write your answer in the string (or a Markdown "
                      "cell), then compare it with the model answer below.")
    if words < min_words:
        return Result(exercise, FAIL, f"{words} words is short: say why, not only what "
                      f"(aim for {min_words}+ words).")
    return Result(exercise, PASS, "answer written; now compare it with the model answer below.")


def check_experiment(exercise: str, results: Any, required: Iterable[str]) -> Result:
    """Short experiments: the student's dict of measured numbers must have every required key.

    Examples
    --------
    >>> check_experiment("demo", {"with": 0.1}, ["with", "without"]).status
    'fail'
    """
    if is_stub(results):
        return Result(exercise, NOT_ATTEMPTED, "run your experiment and fill in the results dict.")
    if not isinstance(results, dict):
        return Result(exercise, FAIL, f"expected a dict of results, got {type(results).__name__}.")
    required = list(required)
    missing = [k for k in required if k not in results or is_stub(results[k])]
    if missing:
        return Result(exercise, FAIL, f"missing results for {missing}.")
    bad = [k for k in required if not np.isfinite(np.asarray(results[k], float)).all()]
    if bad:
        return Result(exercise, FAIL, f"results for {bad} are not finite numbers.")
    shown = ", ".join(f"{k} = {results[k]:.4g}" if isinstance(results[k], float) else f"{k} = {results[k]}"
                      for k in required)
    return Result(exercise, PASS, f"measured {shown}. Compare with the discussion below.")
