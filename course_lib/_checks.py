"""Argument checks shared by the public functions.

Every public function starts with a block of these calls, so a wrong argument
fails early with a message that names the parameter, shows the bad value and
says how to fix it.
"""
from __future__ import annotations

import math
import numbers
from typing import Tuple, Union

import numpy as np

IntPair = Union[int, Tuple[int, int]]


def check_int(name: str, value, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int, or raise TypeError/ValueError naming ``name``."""
    if type(value) is int:   # fast path: skips the slow ABC check for the common case
        if minimum is not None and value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {name}={value}; "
                             f"use a value of at least {minimum}")
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} of type {type(value).__name__}; "
                        f"pass a whole number such as {name}=1")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {name}={value}; "
                         f"use a value of at least {minimum}")
    return value


def check_real(name: str, value, *, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a finite float in a range, or raise TypeError/ValueError naming ``name``.

    ``low``/``high`` bound the range (None: unbounded); ``low_open``/``high_open``
    exclude the bound itself. Booleans are not numbers here.

    >>> check_real("momentum", 0.9, low=0, high=1, high_open=True)
    0.9
    >>> check_real("momentum", 1.0, low=0, high=1, high_open=True)
    Traceback (most recent call last):
    ...
    ValueError: momentum must be a finite number in [0, 1), got momentum=1.0; pass e.g. momentum=0.5
    """
    if low is not None and high is not None:
        example = (low + high) / 2
    elif low is not None:
        example = low + 1
    else:
        example = 0 if high is None or high > 0 else high - 1
    interval = (("(" if low_open else "[") + ("-inf" if low is None else f"{low:g}") + ", "
                + ("inf" if high is None else f"{high:g}") + (")" if high_open or high is None else "]"))
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in {interval}, got {value!r} of type "
                        f"{type(value).__name__}; pass e.g. {name}={example:g}")
    v = float(value)
    if (not math.isfinite(v) or (low is not None and (v < low or (low_open and v == low)))
            or (high is not None and (v > high or (high_open and v == high)))):
        raise ValueError(f"{name} must be a finite number in {interval}, got {name}={value!r}; "
                         f"pass e.g. {name}={example:g}")
    return v


def check_pair(name: str, value, *, minimum: int | None = None) -> Tuple[int, int]:
    """Accept an int or an (h, w) pair of ints, like torch; return a pair."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (h, w), got {value!r} with "
                             f"{len(value)} entries; pass e.g. {name}=(1, 1)")
        return (check_int(f"{name}[0]", value[0], minimum=minimum),
                check_int(f"{name}[1]", value[1], minimum=minimum))
    v = check_int(name, value, minimum=minimum)
    return (v, v)


def check_array(name: str, value, *, ndim: int | tuple[int, ...] | None = None,
                shape_hint: str = "") -> np.ndarray:
    """Return ``value`` as a numeric NumPy array with the required ndim."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if not isinstance(value, (np.ndarray, list, tuple, numbers.Number)):
        raise TypeError(f"{name} must be a NumPy array, got {type(value).__name__}; "
                        f"convert it with np.asarray({name})")
    arr = np.asarray(value)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}; "
                        f"convert it with {name}.astype(np.float64)")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}D" for d in allowed)
            hint = f" with shape {shape_hint}" if shape_hint else ""
            raise ValueError(f"{name} must be {want}{hint}, got shape {arr.shape} ({arr.ndim}D); "
                             f"add or remove axes, e.g. {name}[None] adds a batch axis")
    return arr


def as_float(arr: np.ndarray) -> np.ndarray:
    """Integers become float64; float32/float64 stay as they are."""
    return arr if np.issubdtype(arr.dtype, np.floating) else arr.astype(np.float64)
