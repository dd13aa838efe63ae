"""The machinery behind every exercise check.

What a check promises (book page "How the exercises work")
-----------------------------------------------------------
* It never raises. Whatever the answer is (an array of any shape or dtype, a
  tuple, a string, ``None``, NaN, a function that raises, a function with
  renamed parameters, a dict with extra keys), the check returns a
  :class:`Result` whose status is PASSED, NOT YET or NOT ATTEMPTED YET. Every
  public check is wrapped by :func:`exercise_check`, which turns an unexpected
  error *inside the check* into a NOT YET result instead of a traceback.
* It accepts every correct form: ints, NumPy ints, 0-d arrays and integral
  floats for a count; tuples, lists, arrays and ``torch.Size`` for a shape;
  float32 results within float32 tolerance; torch tensors for arrays.
* It rejects plausible wrong answers and names the mistake ("off by one",
  "that is the ceiling", "your kernel is flipped"); it never prints the
  expected value of a *prediction* and never prints solution code. Function
  exercises show the failing case, what came back and, because test data are
  not the answer, what was expected for that case.
* Hints are graded: the first failure names the case and the kind of
  mistake; each further failure of the same exercise shows a more specific
  hint; ``hint("4.3")`` (or ``result.hint()``) asks for the next hint at once.
* Calls the task forbids (``cl.correlate2d`` in "write it from loops") are
  detected by running the student's function with those functions patched to
  raise (:data:`FORBID` paths), and reported kindly. ``np.empty`` and
  ``torch.empty`` hand out NaN-filled (or, for ints, huge-valued) memory while
  the student's code runs, so a buffer that is never filled fails every time,
  not by chance.

How to write a check for a new chapter
--------------------------------------
Put it in a module of ``course_lib/exercises/`` named after the topic, and
decorate the public function with :func:`exercise_check` (the fuzz test in
``tests/test_exercise_fuzz.py`` finds every ``check_*`` function and refuses
undecorated ones). Title every result ``"Exercise <n.m>: <what> (S<id>)"``.

* A function the student writes::

      @exercise_check("student_fn")
      def check_relu(student_fn) -> Result:
          xs = [np.array([-1.0, 0.0, 2.0]), np.random.default_rng(0).normal(size=(2, 3))]
          cases = [Case("mixed signs", (x,), expected=np.maximum(x, 0)) for x in xs]
          wrong = lambda e: [(np.abs(...), "that is the absolute value")]   # optional
          return check_function("Exercise 8.1: ReLU (S8.1)", student_fn, cases,
                                compare=named_mistakes(wrong),
                                hints=["a ReLU keeps positive values and ...",
                                       "compare each value with 0 ..."],
                                forbid=["torch.relu", "torch.nn.functional.relu"])

  Cases are called positionally (``Case.kwargs`` are passed by keyword only
  when the student's signature accepts those names). ``compare(got,
  expected)`` returns ``None`` or a short reason; :func:`compare_arrays` and
  :func:`compare_exact` never raise and accept every equivalent type.
* A predicted number or tuple: :func:`check_value` with ``mistakes=[(wrong,
  "what that wrong number means"), ...]``; it never shows the expected value.
* A short experiment: :func:`check_experiment` with ``ranges`` and ``rules``
  (direction of an effect, monotonicity, a value recomputed by the check).
  Recompute the truth wherever the inputs are in scope.
* A written question: :func:`check_written`; the model answer goes in a
  Markdown cell between ``<!-- BEGIN MODEL ANSWER -->`` and ``<!-- END MODEL
  ANSWER -->`` right below, which the student edition keeps collapsed.

Lower-level helpers: :func:`passed`, :func:`not_yet` and
:func:`not_attempted` build results with the graded hints; :func:`is_stub`
recognises ``...`` and ``None``.
"""
from __future__ import annotations

import copy
import functools
import importlib
import inspect
import math
import re
import types
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

PASS, FAIL, NOT_ATTEMPTED = "pass", "fail", "not attempted"

__all__ = ["PASS", "FAIL", "NOT_ATTEMPTED", "Result", "Case", "is_stub", "exercise_check", "passed",
           "not_yet", "not_attempted", "hint", "reset_hints", "compare_arrays", "compare_exact",
           "same_value", "named_mistakes", "check_function", "check_value", "check_written",
           "check_experiment", "ForbiddenCall", "forbidden_calls", "as_number"]


# ------------------------------------------------------------------------------------------
# graded hints: how often each exercise has failed in this kernel

_FAILS: Dict[str, int] = {}
_HINTS: Dict[str, List[str]] = {}
_TITLES: Dict[str, str] = {}


def _key(exercise: str) -> str:
    """"Exercise 4.3: output size (S4.3)" -> "4.3" (the id students type in ``hint``)."""
    m = re.search(r"Exercise\s+(\d+\.\d+[a-z]?)", str(exercise))
    return m.group(1) if m else str(exercise)


def reset_hints() -> None:
    """Forget every failure count (a fresh kernel; used by the tests)."""
    _FAILS.clear()
    _HINTS.clear()
    _TITLES.clear()


def hint(exercise: str) -> str:
    """Show the next, more specific hint for an exercise, e.g. ``hint("4.3")``.

    Run the exercise's check first: the hints belong to the check. Each call
    goes one step further, up to the most specific hint (which still is not
    the solution).

    Examples
    --------
    >>> reset_hints()
    >>> print(hint("9.9"))
    No hints yet for Exercise 9.9: run its check cell first.
    """
    key = _key(exercise)
    hints = _HINTS.get(key)
    if not hints:
        return f"No hints yet for Exercise {key}: run its check cell first."
    level = max(1, min(_FAILS.get(key, 0), len(hints)))
    _FAILS[key] = level + 1
    more = " (that is the last hint)" if level >= len(hints) else ""
    return f"Hint {level} of {len(hints)} for Exercise {key}{more}: {hints[level - 1]}"


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

    def hint(self) -> "_Text":
        """The next, more specific hint for this exercise (see :func:`hint`)."""
        return _Text(hint(self.exercise))

    def __str__(self) -> str:
        try:
            icon = {PASS: "PASSED", FAIL: "NOT YET", NOT_ATTEMPTED: "NOT ATTEMPTED YET"}.get(self.status, "NOT YET")
            lines = [f"[{icon}] {self.exercise}: {self.message}"] + [f"  {d}" for d in self.details]
            return "\n".join(lines)
        except Exception:                                   # never let printing fail
            return f"[NOT YET] {self.exercise!r}"

    __repr__ = __str__


class _Text(str):
    """A string that shows without quotes in a notebook."""
    def __repr__(self) -> str:
        return str(self)


@dataclass
class Case:
    """One test case: the arguments to call with and the expected answer.

    ``hint`` is an optional case-specific hint, shown from the second failure on.
    """
    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expected: Any = None
    hint: str = ""


def is_stub(value: Any) -> bool:
    """True for the placeholders a stub cell starts with: ``...`` and ``None``."""
    return value is Ellipsis or value is None


def passed(exercise: str, message: str, details: Sequence[str] = ()) -> Result:
    """A PASSED result; resets the exercise's failure count."""
    _FAILS[_key(exercise)] = 0
    return Result(exercise, PASS, message, list(details))


def not_attempted(exercise: str, message: str) -> Result:
    return Result(exercise, NOT_ATTEMPTED, message)


def not_yet(exercise: str, message: str, details: Sequence[str] = (), hints: Sequence[str] = ()) -> Result:
    """A NOT YET result with graded hints.

    The first failure of an exercise shows no hint (the details should name the
    mistake); the n-th failure shows ``hints[n - 2]`` (the last one once they run
    out), and a line says how to get the next one.
    """
    key = _key(exercise)
    hints = [h for h in hints if h]
    _FAILS[key] = _FAILS.get(key, 0) + 1
    details = list(details)
    if hints:
        _HINTS[key] = hints
        level = min(_FAILS[key] - 1, len(hints))
        if level >= 1:
            details.append(f"hint:     {hints[level - 1]}")
        if level < len(hints):
            details.append(f"more:     run the check again after your next change for "
                           f"{'a' if level == 0 else 'a more specific'} hint, or call "
                           f"hint(\"{key}\") (from course_lib.exercises import hint)")
    return Result(exercise, FAIL, message, details)


# ------------------------------------------------------------------------------------------
# never raise

def exercise_check(*answers: str, context: Any = None, title: str = "Exercise check"):
    """Decorator for every public check: it never raises, and the fuzz test knows how to call it.

    Parameters
    ----------
    *answers : str
        Names of the parameters that hold the student's answers (what the fuzz
        test replaces by malformed values).
    context : dict or callable returning a dict, optional
        Valid values for the other required parameters, for the fuzz test.
    title : str
        The title used if the check itself fails unexpectedly.

    Examples
    --------
    >>> @exercise_check("answer", title="Exercise 0.1: demo")
    ... def check_demo(answer):
    ...     return check_value("Exercise 0.1: demo", answer, 1 / answer)
    >>> check_demo(0).status        # the ZeroDivisionError inside the check becomes NOT YET
    'fail'
    """
    def deco(fn: Callable[..., Result]) -> Callable[..., Result]:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs) -> Result:
            try:
                result = fn(*args, **kwargs)
                if isinstance(result, Result):
                    return result
                raise TypeError(f"the check returned {type(result).__name__}")
            except Exception as err:                       # a gap in the check: no traceback
                name = kwargs.get("exercise") if isinstance(kwargs.get("exercise"), str) else title
                if fn.__name__ in ("check_function", "check_value", "check_written", "check_experiment") \
                        and args and isinstance(args[0], str):
                    name = args[0]
                return Result(name, FAIL, "the check could not read your answer "
                              f"({type(err).__name__}: {_safe_str(err, 120)}). Make sure it has the form "
                              "the task asks for (see the comment in your cell).")
        wrapper.__fuzz__ = {"answers": answers, "context": context}
        return wrapper
    return deco


def _safe_str(value: Any, limit: int = 300) -> str:
    try:
        text = str(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + " ..."


def _to_numpy(value: Any) -> Any:
    """torch tensors (any device, with grad) to NumPy; everything else unchanged."""
    try:
        if hasattr(value, "detach") and hasattr(value, "cpu"):
            return value.detach().cpu().numpy()
    except Exception:
        pass
    return value


def _short(value: Any, limit: int = 300) -> str:
    """A readable, bounded description of a value (never raises)."""
    try:
        value = _to_numpy(value)
        if isinstance(value, np.ndarray):
            with np.printoptions(precision=4, suppress=True, threshold=40):
                text = f"array of shape {value.shape}, dtype {value.dtype}:\n{value}"
        else:
            text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    text = text if len(text) <= limit else text[:limit] + " ..."
    return text.replace("\n", "\n          ")


def _arg_text(a: Any) -> str:
    try:
        if isinstance(a, np.ndarray):
            if a.size <= 30:
                with np.printoptions(precision=4, suppress=True):
                    return "np." + repr(a).replace("\n", "").replace("       ", " ")
            return f"<array of shape {a.shape}>"
        if isinstance(a, (list, tuple)) and len(repr(a)) > 120:
            return f"<{type(a).__name__} of {len(a)} items>"
        return _short(a, 120)
    except Exception:
        return f"<{type(a).__name__}>"


def _format_call(case: Case) -> str:
    parts = [_arg_text(a) for a in case.args] + [f"{k}={_arg_text(v)}" for k, v in case.kwargs.items()]
    return "(" + ", ".join(parts) + ")"


def as_number(value: Any) -> Optional[float]:
    """A real number from int/float/NumPy scalar/0-d or 1-element array/tensor; None otherwise.

    Examples
    --------
    >>> as_number(np.array(3)), as_number("3"), as_number(True), as_number([2.5])
    (3.0, None, None, 2.5)
    """
    value = _to_numpy(value)
    if isinstance(value, (bool, np.bool_)) or value is None or isinstance(value, (str, bytes)):
        return None
    if isinstance(value, (list, tuple)) and len(value) == 1:
        return as_number(value[0])
    try:
        arr = np.asarray(value)
        if arr.size != 1 or arr.dtype.kind not in "iuf":
            return None
        return float(arr.reshape(-1)[0])
    except Exception:
        return None


# ------------------------------------------------------------------------------------------
# comparisons (never raise)

def _numeric_array(got: Any) -> Tuple[Optional[np.ndarray], Optional[str]]:
    """(array of floats, None) or (None, reason it is not an array of numbers)."""
    got = _to_numpy(got)
    if got is None or got is Ellipsis:
        return None, "nothing came back (did you forget `return`?)"
    if isinstance(got, (str, bytes)):
        return None, f"the result is a string ({_short(got, 40)}), not an array of numbers"
    if isinstance(got, dict):
        return None, "the result is a dict, not an array of numbers"
    if isinstance(got, (tuple, list)) and got and any(
            isinstance(_to_numpy(g), np.ndarray) and np.ndim(_to_numpy(g)) > 0 for g in got):
        return None, (f"the result is a {type(got).__name__} of {len(got)} items, not one array; "
                      f"return a single array")
    try:
        arr = np.asarray(got)
    except Exception:
        return None, f"the result is a {type(got).__name__}, not an array of numbers"
    if arr.dtype.kind == "c":
        return None, "the result has complex numbers; the answer is real"
    if arr.dtype.kind not in "biuf":
        return None, f"the result is a {type(got).__name__} that does not hold plain numbers " \
                     f"(dtype {arr.dtype})"
    return arr.astype(np.float64), None


def compare_arrays(got: Any, expected: Any, *, rtol: float = 1e-5, atol: Optional[float] = None) -> Optional[str]:
    """None when ``got`` matches ``expected`` (shape and values), else a short reason.

    The default tolerance accepts float32 arithmetic: ``rtol=1e-5`` and an
    absolute tolerance of ``1e-5`` times the largest expected magnitude.

    Examples
    --------
    >>> compare_arrays(np.ones(3, dtype=np.float32) / 3, np.ones(3) / 3) is None
    True
    >>> compare_arrays(np.ones((2, 3)), np.ones((3, 2)))
    'shape (2, 3), expected shape (3, 2) (the axes are swapped: is it transposed?)'
    """
    arr, reason = _numeric_array(got)
    if reason:
        return reason
    try:
        exp = np.asarray(_to_numpy(expected), dtype=np.float64)
    except Exception:
        return "the check could not read its own expected value"
    if arr.shape != exp.shape:
        if exp.ndim == 0:
            return f"got {arr.size} numbers (shape {arr.shape}); expected one number"
        extra = ""
        if arr.ndim == exp.ndim and sorted(arr.shape) == sorted(exp.shape):
            extra = " (the axes are swapped: is it transposed?)"
        elif arr.size == exp.size:
            extra = " (the same number of values in another shape)"
        return f"shape {arr.shape}, expected shape {exp.shape}{extra}"
    if arr.size == 0:
        return None
    finite = np.isfinite(exp)
    scale = float(np.max(np.abs(exp[finite]))) if finite.any() else 1.0
    atol = 1e-5 * scale + 1e-12 if atol is None else atol
    with np.errstate(all="ignore"):
        bad_nan = np.isnan(arr) & ~np.isnan(exp)
        if bad_nan.any():
            where = tuple(int(i) for i in np.argwhere(bad_nan)[0])
            return (f"the result has NaN values (the first at index {where}): an uninitialised "
                    f"buffer (np.empty), a 0/0, or a value never written")
        if np.allclose(arr, exp, rtol=rtol, atol=atol, equal_nan=True):
            return None
        err = np.where(np.isnan(arr) & np.isnan(exp), 0.0, np.abs(arr - exp))
        err = np.nan_to_num(err, nan=np.inf)
        where = np.unravel_index(int(np.argmax(err)), err.shape) if err.ndim else ()
        big = float(err.max())
    text = f"values differ, largest difference {big:.3g} at index {tuple(int(i) for i in where)}"
    try:
        kind = np.asarray(_to_numpy(got)).dtype.kind
    except Exception:
        kind = "f"
    if kind in "iu" and not np.allclose(exp[finite], np.round(exp[finite])):
        return text + (" (your result holds integers: a buffer made with an integer dtype, e.g. "
                       "np.zeros(..., dtype=int) or zeros_like of an int array, cuts off the fractions)")
    if big <= 1e-2 * max(scale, 1e-12):
        text += (" (small: are you rounding, or computing in float16? float32 and float64 both "
                 "pass)")
    return text


def _plain(value: Any) -> Any:
    """Python ints/floats/tuples from NumPy/torch scalars, 0-d arrays, 1-d arrays and torch.Size."""
    value = _to_numpy(value)
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return _plain(value.item())
        if value.ndim == 1 and value.dtype.kind in "biuf":
            return tuple(_plain(v) for v in value.tolist())
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):              # also torch.Size
        return tuple(_plain(v) for v in value)
    return value


def same_value(got: Any, expected: Any, *, rtol: float = 0.0, atol: float = 0.0) -> bool:
    """True when ``got`` equals ``expected`` in any equivalent form (never raises).

    Ints equal NumPy ints, integral floats and 0-d arrays; tuples equal lists,
    arrays and ``torch.Size``; bools are not numbers. With ``rtol``/``atol``,
    numbers compare within that tolerance.

    Examples
    --------
    >>> same_value(np.array([8, 16, 28, 28]), (8, 16, 28, 28)), same_value(32.0, 32), same_value(True, 1)
    (True, True, False)
    """
    try:
        g, e = _plain(got), _plain(expected)
        if isinstance(e, tuple):
            return isinstance(g, tuple) and len(g) == len(e) and all(
                same_value(a, b, rtol=rtol, atol=atol) for a, b in zip(g, e))
        if isinstance(e, bool) or isinstance(g, bool):
            return type(g) is type(e) and g == e
        if isinstance(e, (int, float)):
            if not isinstance(g, (int, float)):
                return False
            if rtol or atol:
                return bool(math.isfinite(g) and abs(g - e) <= atol + rtol * abs(e))
            return bool(g == e)
        if isinstance(e, str):
            return isinstance(g, str) and g == e
        if isinstance(e, np.ndarray):
            return compare_arrays(g, e) is None
        return bool(g == e)
    except Exception:
        return False


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    value = _plain(value)
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"


def compare_exact(got: Any, expected: Any) -> Optional[str]:
    """None when ``got`` equals ``expected`` (see :func:`same_value`), else a short reason.

    The reason includes the expected value: use it for test cases of function
    exercises, never for predictions (see :func:`check_value`).

    Examples
    --------
    >>> compare_exact(np.array([2, 2]), 2)
    'got 2 numbers (2, 2); expected one number'
    >>> compare_exact(3.0, 3) is None
    True
    """
    if got is None or got is Ellipsis:
        return "nothing came back (did you forget `return`?)"
    if same_value(got, expected):
        return None
    g, e = _plain(got), _plain(expected)
    if isinstance(g, bool) and not isinstance(e, bool):
        return f"got the bool {g!r}, expected a number"
    if isinstance(e, (int, float)) and isinstance(g, tuple):
        return f"got {len(g)} numbers {_short(g, 60)}; expected one number"
    if isinstance(e, (int, float)) and isinstance(g, np.ndarray):
        return f"got an array of shape {g.shape}; expected one number"
    if isinstance(e, (int, float)) and isinstance(g, str):
        return f"got the string {_short(g, 40)}; expected a number"
    if isinstance(e, tuple) and isinstance(g, tuple) and len(g) != len(e):
        return f"got {len(g)} values, expected {len(e)}"
    if isinstance(e, tuple) and not isinstance(g, tuple):
        return f"got {_kind(g)}, expected a tuple of {len(e)} values"
    return f"got {_short(g, 80)}, expected {_short(e, 80)}"


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
        try:
            for variant, message in variants(expected):
                if variant is not None and base(got, variant) is None:
                    return message
        except Exception:
            pass
        return reason
    return compare


# ------------------------------------------------------------------------------------------
# running the student's code: forbidden calls and garbage in uninitialised memory

class ForbiddenCall(Exception):
    """Raised inside the student's code when it calls a function the task forbids."""
    def __init__(self, name: str):
        super().__init__(f"{name} is not allowed in this exercise")
        self.name = name


_CALLED: List[str] = []


def forbidden_calls() -> List[str]:
    """The forbidden functions called during the last student call (for checks)."""
    return list(_CALLED)


def _forbidden_called(name: str):
    _CALLED.append(name)
    raise ForbiddenCall(name)


def _label(path: str) -> str:
    """How a forbidden function is named to the student: course_lib.correlate2d, PixelWhitener, ..."""
    parts = path.split(".")
    if parts[0] == "course_lib":
        classes = [p for p in parts[1:] if p[:1].isupper()]
        return classes[0] if classes else "course_lib." + parts[-1]
    return path


def _resolve(path: str):
    """(owner, attribute name, object) for a dotted path, or None when it does not exist."""
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:i]))
        except Exception:
            continue
        try:
            for p in parts[i:-1]:
                owner = getattr(owner, p)
            return owner, parts[-1], getattr(owner, parts[-1])
        except AttributeError:
            return None
    return None


def _raiser(name: str) -> types.FunctionType:
    # a function whose code refers only to builtins and constants, so that its __code__ can
    # replace the code of any closure-free function (every reference to it then raises)
    src = ("def _forbidden(*args, **kwargs):\n"
           f"    __import__('course_lib.exercises.core', fromlist=['_'])._forbidden_called({name!r})\n")
    ns: dict = {}
    exec(src, {"__builtins__": __builtins__}, ns)
    return ns["_forbidden"]


def _fill_garbage(obj: Any) -> Any:
    try:
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind in "fc":
                obj.fill(np.nan)
            elif obj.dtype.kind in "iu":
                obj.fill(np.iinfo(obj.dtype).max // 3)
            elif obj.dtype.kind == "b":
                obj.fill(True)
        elif hasattr(obj, "is_floating_point"):
            if obj.is_floating_point() or obj.is_complex():
                obj.fill_(float("nan"))
            elif obj.dtype.__str__() != "torch.bool":
                obj.fill_(77)
    except Exception:
        pass
    return obj


@contextmanager
def _student_sandbox(forbid: Sequence[str] = ()) -> Iterator[None]:
    """Patch forbidden functions to raise, and make uninitialised memory hold garbage."""
    patched: List[Tuple[Any, str, Any, Any]] = []   # (owner, attr, original, original code or None)
    _CALLED.clear()

    def wrap_empty(original):
        @functools.wraps(original)
        def empty(*args, **kwargs):
            return _fill_garbage(original(*args, **kwargs))
        return empty

    try:
        import torch
    except Exception:                                   # pragma: no cover - torch is a dependency
        torch = None
    try:
        for owner, name in [(np, "empty"), (np, "empty_like")] + (
                [(torch, "empty"), (torch, "empty_like")] if torch is not None else []):
            original = getattr(owner, name)
            setattr(owner, name, wrap_empty(original))
            patched.append((owner, name, original, None))
        for path in forbid:
            found = _resolve(path)
            if found is None:
                continue
            owner, name, obj = found
            raiser = _raiser(_label(path))
            if isinstance(obj, types.FunctionType) and not obj.__code__.co_freevars:
                patched.append((obj, "__code__", obj.__code__, True))
                obj.__code__ = raiser.__code__
            else:
                patched.append((owner, name, obj, None))
                setattr(owner, name, raiser)
        yield
    finally:
        for owner, name, original, _ in reversed(patched):
            try:
                setattr(owner, name, original)
            except Exception:                           # pragma: no cover
                pass


def _copy_args(args: tuple, kwargs: dict) -> Tuple[tuple, dict]:
    """Fresh copies, so a student's in-place edit cannot change the cases."""
    try:
        return copy.deepcopy(args), copy.deepcopy(kwargs)
    except Exception:
        return args, dict(kwargs)


def _call(fn: Callable, args: tuple, kwargs: dict) -> Any:
    """Call with keywords when the signature takes those names, else positionally."""
    if kwargs:
        try:
            inspect.signature(fn).bind(*args, **kwargs)
        except TypeError:
            return fn(*args, *kwargs.values())
        except ValueError:                              # no signature (a builtin)
            pass
    return fn(*args, **kwargs)


def _forbid_message(names: Sequence[str], why: str) -> str:
    names = list(dict.fromkeys(names))
    text = " and ".join(names)
    return (f"your function calls {text}, and this exercise is about writing that part yourself"
            f"{' (' + why + ')' if why else ''}. Good to know it exists: once your own version passes, "
            f"you can use it to compare.")


def _signature_text(fn: Any) -> str:
    try:
        return str(inspect.signature(fn))
    except Exception:
        return "(...)"


def _check_function_impl(exercise: str, student_fn: Any, cases: Sequence[Case],
                        compare: Callable[[Any, Any], Optional[str]] = compare_arrays,
                        success: str = "", *, hints: Sequence[str] = (), forbid: Sequence[str] = (),
                        forbid_reason: str = "", show_expected: bool = True) -> Result:
    if is_stub(student_fn):
        return not_attempted(exercise, "replace the `...` with your function.")
    if not callable(student_fn):
        return not_yet(exercise, f"expected a function, got {_kind(student_fn)}: define it with "
                       f"`def` and put the function's name here.")
    for i, case in enumerate(cases, 1):
        args, kwargs = _copy_args(case.args, case.kwargs)
        case_hints = list(hints) + ([case.hint] if case.hint else [])
        where = f"case {i}/{len(cases)} ({case.name})"
        try:
            with _student_sandbox(forbid):
                got = _call(student_fn, args, kwargs)
            error = None
        except NotImplementedError:
            return not_attempted(exercise, "the function still raises NotImplementedError: write your "
                                 "code in place of the `raise` line, then run this check again.")
        except ForbiddenCall:
            error = "forbidden"
        except RecursionError:
            error = "RecursionError: your function calls itself without end"
        except (Exception, SystemExit) as err:        # the student's bug, shown without a traceback
            error = f"{type(err).__name__}: {_safe_str(err, 200)}"
            if isinstance(err, TypeError) and ("positional argument" in str(err) or
                                               "unexpected keyword" in str(err)):
                error += (f" (the check calls your function with {len(case.args) + len(case.kwargs)} "
                          f"arguments; yours takes {_signature_text(student_fn)})")
        called = forbidden_calls()
        _CALLED.clear()
        if called:
            return not_yet(exercise, f"{where}: {_forbid_message(called, forbid_reason)}", [],
                           ["write the computation with your own loops or NumPy code, as the task asks"])
        if error is not None:
            return not_yet(exercise, f"{where} raised {error}", [f"call:     f{_format_call(case)}"],
                           case_hints)
        try:
            reason = compare(got, case.expected)
        except Exception as err:
            reason = f"the check could not compare your result ({_kind(got)}): {type(err).__name__}"
        if reason is not None:
            details = [f"call:     f{_format_call(case)}"]
            if show_expected:
                details.append(f"expected: {_short(case.expected)}")
            details += [f"got:      {_short(got)}", f"problem:  {reason}"]
            return not_yet(exercise, f"{where} is wrong.", details, case_hints)
    return passed(exercise, f"all {len(cases)} cases agree. {success}".strip())


@exercise_check("student_fn", context=lambda: dict(exercise="Exercise 0.1: demo",
                                                   cases=[Case("one", (1,), expected=2)]))
def check_function(exercise: str, student_fn: Any, cases: Sequence[Case],
                   compare: Callable[[Any, Any], Optional[str]] = compare_arrays,
                   success: str = "", *, hints: Sequence[str] = (), forbid: Sequence[str] = (),
                   forbid_reason: str = "", show_expected: bool = True) -> Result:
    """Call ``student_fn`` on every case; stop at the first failing case.

    Parameters
    ----------
    exercise : str
        The title, e.g. "Exercise 3.2: true convolution (S3.1)".
    student_fn : callable
        The student's function (a stub that raises NotImplementedError counts
        as not attempted).
    cases : sequence of Case
        Called positionally; ``Case.kwargs`` go by keyword when the student's
        signature has those names, else positionally after ``args``. Every call
        gets fresh copies of the arguments.
    compare : callable(got, expected) -> None or reason
        Must not raise (if it does, the case fails with a short message).
    success : str
        Added to the PASSED message.
    hints : sequence of str
        Graded hints, general to specific, shown from the second failure on;
        never solution code. A case's own ``hint`` comes after them.
    forbid : sequence of str
        Dotted paths of functions the student must not call (e.g.
        ``"course_lib.conv.correlate2d"``, ``"scipy.signal.correlate2d"``,
        ``"torch.nn.functional.conv2d"``); they raise while the student's code
        runs and the check says so kindly.
    forbid_reason : str
        Why, in a few words, for that message.
    show_expected : bool
        Show the case's expected value on failure (test data, not the answer).

    Examples
    --------
    >>> r = check_function("Exercise 0.1: demo", lambda a: a + 1, [Case("one", (1,), expected=2)],
    ...                    compare_exact)
    >>> r.status
    'pass'
    """
    return _check_function_impl(exercise, student_fn, cases, compare, success, hints=hints, forbid=forbid,
                               forbid_reason=forbid_reason, show_expected=show_expected)


# ------------------------------------------------------------------------------------------
# predictions, written answers, experiments

def _difference_kind(got: Any, expected: Any) -> str:
    """What kind of mistake a wrong number looks like, without saying the right number."""
    g, e = as_number(got), as_number(expected)
    if g is None or e is None:
        return ""
    if not float(g).is_integer() and float(e).is_integer():
        return "a fraction: a count is a whole number"
    if abs(g - e) == 1:
        return "off by one"
    if e and g and (g / e) in (2.0, 0.5):
        return "off by a factor of 2"
    if e and g == -e:
        return "the sign is flipped"
    return ""


@exercise_check("answer", context=lambda: dict(exercise="Exercise 0.1: demo", expected=(8, 16, 28, 28)))
def check_value(exercise: str, answer: Any, expected: Any, *, hint: str = "", rtol: float = 0.0,
                atol: float = 0.0, what: str = "your answer",
                mistakes: Iterable[Tuple[Any, str]] = (), hints: Sequence[str] = (),
                success: str = "") -> Result:
    """Check a predicted number (or tuple of numbers) against the computed truth.

    The expected value is never shown: a failure says which known mistake the
    answer matches (``mistakes``: pairs of a wrong value and what it means), or
    what kind of difference it is (off by one, a factor of 2, a fraction), and
    the graded hints (``hint`` is the first, ``hints`` follow). The PASSED
    message shows no numbers either, so the published book does not spoil the
    prediction.

    Examples
    --------
    >>> reset_hints()
    >>> check_value("Exercise 0.1: demo", ..., 760).status
    'not attempted'
    >>> r = check_value("Exercise 0.1: demo", 750, 760, mistakes=[(750, "the biases are missing")])
    >>> r.status, "biases" in str(r), "760" in str(r)
    ('fail', True, False)
    """
    if is_stub(answer):
        return not_attempted(exercise, "replace the `...` with your prediction.")
    if same_value(answer, expected, rtol=rtol, atol=atol):
        return passed(exercise, f"{what} is right. {success}".strip())
    details = [f"got:      {_short(answer, 120)}"]
    problem = ""
    for wrong, message in mistakes:
        if not same_value(wrong, expected, rtol=rtol, atol=atol) and same_value(answer, wrong, rtol=rtol, atol=atol):
            problem = message
            break
    if not problem:
        g, e = _plain(answer), _plain(expected)
        if isinstance(e, tuple) and not isinstance(g, tuple):
            problem = f"expected a tuple of {len(e)} values, got {_kind(answer)}"
        elif isinstance(e, tuple) and len(g) != len(e):
            problem = f"expected {len(e)} values, got {len(g)}"
        elif isinstance(e, tuple):
            wrong_at = [i + 1 for i, (a, b) in enumerate(zip(g, e)) if not same_value(a, b, rtol=rtol, atol=atol)]
            kinds = list(dict.fromkeys(_difference_kind(g[i - 1], e[i - 1]) for i in wrong_at))
            problem = (f"value{'s' if len(wrong_at) > 1 else ''} number {', '.join(map(str, wrong_at))} "
                       f"{'are' if len(wrong_at) > 1 else 'is'} not right yet"
                       + (f" ({'; '.join(k for k in kinds if k)})" if any(kinds) else ""))
        elif isinstance(e, (int, float)) and as_number(answer) is None:
            problem = f"expected a number, got {_kind(answer)}"
        else:
            problem = _difference_kind(answer, expected) or "not right yet"
    details.append(f"problem:  {problem}")
    return not_yet(exercise, f"{what} is not right yet.", details, [hint, *hints])


_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


@exercise_check("answer", context=lambda: dict(exercise="Exercise 0.1: demo"))
def check_written(exercise: str, answer: Any, *, min_words: int = 15) -> Result:
    """Written questions: checks that an answer is written, then points to the model answer.

    The model answer sits in a collapsed cell right below the check (a dropdown
    in the book, a ``<details>`` block in the student edition): open it after
    writing your own. The check cannot judge the content; it only refuses
    empty, very short or repetitive answers.

    Examples
    --------
    >>> check_written("Exercise 0.1: demo", "").status
    'not attempted'
    >>> check_written("Exercise 0.1: demo", "banana " * 20).status
    'fail'
    """
    if is_stub(answer) or (isinstance(answer, str) and not answer.strip()):
        return not_attempted(exercise, "write your answer in the string of your cell (between the "
                             "quotes), run it, then run this check.")
    if not isinstance(answer, str):
        return not_yet(exercise, f"the answer should be one string of text (between triple quotes), "
                       f"got {_kind(answer)}.")
    words = _WORD.findall(answer)
    if len(words) < min_words:
        return not_yet(exercise, f"{len(words)} words is short: say why, not only what (aim for "
                       f"{min_words} words or more).")
    if len({w.lower() for w in words}) < max(5, min_words // 3):
        return not_yet(exercise, "the answer repeats the same few words; write it in your own sentences.")
    return passed(exercise, f"answer written ({len(words)} words). Now open the model answer in the "
                  "collapsed cell right below this check and compare: did you give the same reasons?")


def _value_problem(key: str, value: Any) -> Optional[str]:
    v = _to_numpy(value)
    if is_stub(v):
        return f"results[{key!r}] is still `...`: run the experiment and store the number"
    if isinstance(v, (str, bytes)):
        return f"results[{key!r}] is the string {_short(v, 40)}; store the measured number"
    if isinstance(v, (bool, np.bool_)):
        return f"results[{key!r}] is a bool; store the measured number"
    if isinstance(v, (tuple, list, np.ndarray)) and np.size(v) != 1:
        return (f"results[{key!r}] holds {np.size(v) if not isinstance(v, (tuple, list)) else len(v)} "
                f"values; store one number per key (the one the task asks for)")
    x = as_number(v)
    if x is None:
        return f"results[{key!r}] is {_kind(v)}, not a number"
    if not math.isfinite(x):
        return f"results[{key!r}] is {x}, not a finite number"
    return None


@exercise_check("results", context=lambda: dict(exercise="Exercise 0.1: demo", required=["a", "b"]))
def check_experiment(exercise: str, results: Any, required: Iterable[Any], *,
                     ranges: Optional[Mapping[Any, Tuple[float, float]]] = None,
                     rules: Sequence[Callable[[Dict[Any, float]], Optional[str]]] = (),
                     hints: Sequence[str] = (), success: str = "") -> Result:
    """Short experiments: a dict of measured numbers, checked for completeness and plausibility.

    Parameters
    ----------
    results : dict
        The student's measurements; extra keys are ignored.
    required : iterable
        The keys the task asks for.
    ranges : dict key -> (low, high), optional
        Bounds every honest measurement lies in (e.g. an error rate in [0, 1]).
    rules : sequence of callables
        Each gets ``{key: float}`` and returns None or a problem: a value
        recomputed by the check, the direction of an effect, monotonicity.
    hints, success : as in :func:`check_function`.

    The PASSED message shows no numbers (the book must not spoil the result).

    Examples
    --------
    >>> reset_hints()
    >>> check_experiment("Exercise 0.1: demo", {"with": 0.1}, ["with", "without"]).status
    'fail'
    >>> check_experiment("Exercise 0.1: demo", {"with": ..., "without": ...}, ["with", "without"]).status
    'not attempted'
    >>> check_experiment("Exercise 0.1: demo", {"a": 0.2, "b": 1.5}, ["a", "b"],
    ...                  ranges={"b": (0, 1)}).status
    'fail'
    """
    if is_stub(results):
        return not_attempted(exercise, "run your experiment and fill in the results dict.")
    if not isinstance(results, Mapping):
        return not_yet(exercise, f"expected a dict {{key: measured number}}, got {_kind(results)}.")
    required = list(required)
    if required and all(k in results and is_stub(results[k]) for k in required):
        # the stub dict of the student edition ({"features": ..., "gram": ...}): nothing measured yet
        return not_attempted(exercise, "run your experiment and fill in the results dict.")
    missing = [k for k in required if k not in results]
    if missing:
        have = list(results.keys())[:8]
        extra = ""
        if any(str(k) == str(m) or _safe_str(k) == repr(m) for k in have for m in missing):
            extra = " (the keys must be the values themselves, not their text)"
        return not_yet(exercise, f"missing results for {missing}{extra}; your dict has the keys "
                       f"{_short(have, 160)}.")
    for k in required:
        problem = _value_problem(k, results[k])
        if problem:
            return not_yet(exercise, problem + ".")
    values = {k: float(as_number(results[k])) for k in required}
    problems = []
    for k, (lo, hi) in (ranges or {}).items():
        if k in values and not lo <= values[k] <= hi:
            problems.append(f"results[{k!r}] = {values[k]:.4g} is outside [{lo:g}, {hi:g}], where "
                            f"every honest measurement lies")
    if not problems:
        for rule in rules:
            try:
                problem = rule(values)
            except Exception as err:
                problem = f"the check could not evaluate your numbers ({type(err).__name__})"
            if problem:
                problems.append(problem)
                break
    if problems:
        return not_yet(exercise, "the measurements are not right yet.",
                       [f"problem:  {p}" for p in problems], hints)
    ignored = [k for k in results if k not in required]
    details = [f"(extra keys ignored: {_short(ignored, 100)})"] if ignored else []
    return passed(exercise, f"your measurements are consistent. {success}".strip(), details)
