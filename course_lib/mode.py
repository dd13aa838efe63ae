"""The one place that reads ``COURSE_MODE``.

``full`` (the default) runs the real datasets and epochs that the published
book shows; ``quick`` runs the same code on small subsets with few steps so
that every notebook finishes in CI in well under a minute and a half.
"""
from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")
MODES = ("quick", "full")


def get_mode() -> str:
    """Return ``"quick"`` or ``"full"`` from the ``COURSE_MODE`` environment variable.

    Examples
    --------
    >>> get_mode() in ("quick", "full")
    True
    """
    mode = os.environ.get("COURSE_MODE", "full").strip().lower() or "full"
    if mode not in MODES:
        raise ValueError(f"COURSE_MODE must be 'quick' or 'full', got {mode!r}; "
                         "run e.g. COURSE_MODE=quick make test")
    return mode


def is_quick() -> bool:
    """True when ``COURSE_MODE=quick``.

    Examples
    --------
    >>> isinstance(is_quick(), bool)
    True
    """
    return get_mode() == "quick"


def pick(*, quick: T, full: T) -> T:
    """Return ``quick`` in quick mode and ``full`` otherwise.

    Notebooks use it for every size that differs between the modes, so the
    code path stays the same and only the numbers change.

    Examples
    --------
    >>> pick(quick=2, full=20) in (2, 20)
    True
    """
    return quick if is_quick() else full
