"""Every exercise check, fed malformed answers: it never raises and never passes.

The checks are discovered, not listed: every public ``check_*`` function of every
module in ``course_lib.exercises`` is fuzzed, so a new check is covered the moment
it exists (and must be decorated with ``exercise_check``, which tells this test
which parameters are answers and what valid context to give the others).
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import numpy as np
import pytest
import torch

import course_lib.exercises as ex
from course_lib.exercises.core import FAIL, NOT_ATTEMPTED, PASS, Result, reset_hints


def _all_checks():
    found = {}
    for info in pkgutil.iter_modules(ex.__path__):
        module = importlib.import_module(f"course_lib.exercises.{info.name}")
        for name, obj in vars(module).items():
            if name.startswith("check_") and callable(obj) and getattr(obj, "__module__", "").startswith(
                    "course_lib.exercises"):
                found[f"{obj.__module__}.{name}"] = obj
    return found


CHECKS = _all_checks()


def _raises(err):
    def f(*args, **kwargs):
        raise err
    return f


def _returns(value):
    return lambda *args, **kwargs: value


class _Weird:
    """An object whose repr, float, len and comparisons all raise."""
    def __repr__(self):
        raise RuntimeError("repr")

    def __float__(self):
        raise RuntimeError("float")

    def __eq__(self, other):
        raise RuntimeError("eq")

    __hash__ = object.__hash__


VALUES = {
    "zero": 0, "minus one": -1, "big int": 10 ** 30, "fraction": 1.5, "nan": float("nan"), "inf": float("inf"),
    "True": True, "empty string": "", "text": "not run yet", "number as text": "3",
    "empty list": [], "short list": [1, 2], "long tuple": (1, 2, 3, 4, 5, 6, 7), "nested": [[1, 2], [3]],
    "tuple of arrays": (np.zeros(2), np.ones(3)), "empty dict": {}, "dict": {"a": 1, 2: "b"},
    "empty array": np.array([]), "2x3 array": np.zeros((2, 3)), "nan array": np.full((2, 2), np.nan),
    "string array": np.array(["a", "b"]), "complex array": np.array([1 + 2j]),
    "object array": np.array([None, 1], dtype=object), "bool array": np.ones((2, 2), dtype=bool),
    "5d array": np.zeros((1, 1, 1, 1, 1)), "tensor": torch.zeros(3), "tensor with grad": torch.ones(2, requires_grad=True),
    "set": {1, 2}, "weird object": _Weird(), "type": int, "generator": (i for i in range(3)),
}
FUNCTIONS = {
    "raises ValueError": _raises(ValueError("bad")), "raises ZeroDivisionError": _raises(ZeroDivisionError()),
    "raises KeyError": _raises(KeyError("k")), "raises TypeError": _raises(TypeError("t")),
    "no arguments": lambda: 1, "one argument": lambda a: a,
    "recursion": None,                                     # filled below
    **{f"returns {k}": _returns(v) for k, v in VALUES.items() if k not in ("generator",)},
}


def _recurse(*args, **kwargs):
    return _recurse(*args, **kwargs)


FUNCTIONS["recursion"] = _recurse
MALFORMED = {**VALUES, **FUNCTIONS}


def _context(check):
    ctx = check.__fuzz__["context"]
    return dict(ctx() if callable(ctx) else (ctx or {}))


def test_every_check_is_decorated():
    missing = [name for name, check in CHECKS.items() if not hasattr(check, "__fuzz__")]
    assert not missing, f"decorate these checks with exercise_check: {missing}"
    assert len(CHECKS) >= 30


def _assert_safe(check, kwargs, label):
    inner = inspect.unwrap(check)
    try:
        r = inner(**kwargs)                     # the check itself, without the safety net
    except Exception as err:                    # pragma: no cover - this is the failure being tested
        pytest.fail(f"{label}: raised {type(err).__name__}: {err}")
    assert isinstance(r, Result), label
    assert r.status in (FAIL, NOT_ATTEMPTED), f"{label}: {r}"
    text = str(r)
    assert "Traceback" not in text and text.startswith("["), label


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_malformed_answers_never_raise_and_never_pass(name):
    reset_hints()
    check = CHECKS[name]
    answers = check.__fuzz__["answers"]
    assert answers, name
    for label, value in MALFORMED.items():
        for ans in answers:
            kwargs = _context(check)
            # the other answers stay malformed too (the stub value), so nothing can pass by accident
            kwargs.update({a: ... for a in answers})
            kwargs[ans] = value
            _assert_safe(check, kwargs, f"{name}({ans}={label})")
        # every answer malformed at once
        kwargs = _context(check)
        kwargs.update({a: value for a in answers})
        _assert_safe(check, kwargs, f"{name}(all={label})")


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_stubs_are_not_attempted(name):
    check = CHECKS[name]
    answers = check.__fuzz__["answers"]
    for stub in (..., None):
        kwargs = _context(check)
        kwargs.update({a: stub for a in answers})
        r = check(**kwargs)
        assert r.status == NOT_ATTEMPTED, f"{name}: {r}"
        assert "NOT ATTEMPTED YET" in str(r)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_the_safety_net_turns_an_error_inside_a_check_into_not_yet(name, monkeypatch):
    check = CHECKS[name]
    module = inspect.getmodule(inspect.unwrap(check))
    # make every result constructor fail: the decorated check must still return a Result
    import course_lib.exercises.core as core

    def boom(*args, **kwargs):
        raise RuntimeError("a bug in the check")
    for fn in ("passed", "not_yet"):
        monkeypatch.setattr(core, fn, boom)
        if hasattr(module, fn):
            monkeypatch.setattr(module, fn, boom)
    kwargs = _context(check)
    kwargs.update({a: 1 for a in check.__fuzz__["answers"]})
    r = check(**kwargs)
    assert isinstance(r, Result) and r.status != PASS
