"""Checks for the exercises of the chapter "Fast training: from whitening to a speedrun".

The truths come from :mod:`course_lib.speedrun` itself (the loader's length and
flip rule, the learning-rate schedule), and each check knows the usual
mistakes: a whitening matrix built from the second moment instead of the
covariance, scaled by 1/lambda instead of 1/sqrt(lambda) or transposed; a step
count that keeps the incomplete batch or forgets to round up; a schedule that
warms up from 0 or decays to 0; flips that are drawn afresh or change their
input; a standard deviation divided by n instead of n - 1.

Whitening matrices are not unique (PCA, ZCA and every rotation of them whiten),
so exercise 18.1 tests the defining property, ``W C W^T = I``, instead of
comparing with one matrix.
"""
from __future__ import annotations

import functools
import math
import types
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from ..speedrun import AugmentedLoader, _lr_multiplier
from .core import (Case, Result, _kind, _numeric_array, _short, _to_numpy, as_number, check_function,
                   check_value, exercise_check, is_stub, not_attempted, not_yet, passed)

__all__ = ["check_whitening_matrix", "check_steps_per_run", "check_lr_multiplier", "check_alternating_flips",
           "check_seed_spread"]


# ----------------------------------------------------------------------------------------------
# Exercise 18.1: a whitening matrix from the covariance of patches

_WHITE_TOL = 5e-3     # on W C W^T - I: float32 arithmetic and the n vs n - 1 covariance (N >= 2000) both fit


class _Patches:
    """What the check knows about one set of patches (the case's 'expected')."""

    def __init__(self, x: np.ndarray):
        self.x = x
        n = len(x)
        centred = x - x.mean(axis=0)
        self.cov = centred.T @ centred / n                          # (D, D), biased
        self.cov_unbiased = self.cov * n / (n - 1)
        self.second = x.T @ x / n                                   # (D, D): the mean not subtracted
        self.lam = np.linalg.eigvalsh(self.cov)                     # ascending, all > 0 here
        self.inv_cov = np.linalg.inv(self.cov)
        self.d = x.shape[1]

    def __repr__(self) -> str:
        return f"a ({self.d}, {self.d}) whitening matrix of these patches"


def _rotation(rng: np.random.Generator, d: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def _make_patches(rng: np.random.Generator, n: int, stds: Sequence[float], mean: Sequence[float]) -> np.ndarray:
    """n correlated vectors: independent coordinates with these spreads, rotated, shifted by ``mean``."""
    stds = np.asarray(stds, dtype=np.float64)
    z = rng.standard_normal((n, len(stds))) * stds
    return z @ _rotation(rng, len(stds)).T + np.asarray(mean, dtype=np.float64)


@functools.lru_cache(maxsize=1)
def _whitening_cases() -> Tuple[Case, ...]:
    rng = np.random.default_rng(181)
    angle = np.deg2rad(30)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    ellipse = (rng.standard_normal((2000, 2)) * [3.0, 0.5]) @ rot.T + [3.0, -1.0]
    sets = [
        ("2,000 points of a tilted ellipse, spreads 3 and 0.5, mean (3, -1)", ellipse),
        ("3,000 vectors of 4 numbers, spreads from 4 down to 0.08, mean (1, -2, 0.5, 3)",
         _make_patches(rng, 3000, [4.0, 1.0, 0.3, 0.08], [1.0, -2.0, 0.5, 3.0])),
        ("4,000 flattened 2 x 2 x 3 patches (12 numbers), strongly correlated, mean about 0.45",
         _make_patches(rng, 4000, np.logspace(-0.5, -2.0, 12), 0.45 + 0.05 * rng.standard_normal(12))),
        ("2,000 vectors of 3 numbers around a large mean (100, 50, -80)",
         _make_patches(rng, 2000, [2.0, 1.0, 0.5], [100.0, 50.0, -80.0])),
    ]
    return tuple(Case(name, (x,), expected=_Patches(x)) for name, x in sets)


def _deviation(m: np.ndarray) -> Tuple[float, Tuple[int, int]]:
    err = np.abs(m - np.eye(len(m)))
    where = np.unravel_index(int(np.argmax(err)), err.shape)
    return float(err.max()), (int(where[0]), int(where[1]))


def _close(a: np.ndarray, b: np.ndarray, rtol: float = 2e-3) -> bool:
    scale = float(np.max(np.abs(b))) if b.size else 1.0
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=rtol * scale))


def _same_spectrum(mu: np.ndarray, target: np.ndarray, rtol: float = 1e-2) -> bool:
    mu, target = np.sort(mu), np.sort(target)
    return bool(np.all(np.abs(mu - target) <= rtol * np.abs(target) + 1e-12))


def _whitening_problem(got: Any, data: _Patches) -> Optional[str]:
    arr, reason = _numeric_array(got)
    if reason:
        return reason
    d, n = data.d, len(data.x)
    if arr.shape != (d, d):
        if arr.shape == (n, d):
            return (f"shape {arr.shape}: one row per patch looks like the whitened patches themselves; return "
                    f"the ({d}, {d}) matrix W that whitens them")
        if arr.shape == (n, n):
            return (f"shape {arr.shape}: that is a covariance between *patches*; the covariance needed is "
                    f"between the {d} dimensions, ({d}, {d}) (np.cov treats every row as one variable unless "
                    f"told otherwise)")
        return f"shape {arr.shape}, expected ({d}, {d}): one row and one column per dimension of a patch"
    if not np.isfinite(arr).all():
        return ("the matrix has NaN or inf values: a square root of a slightly negative eigenvalue or a division "
                "by a zero one. The covariance of these patches has no zero eigenvalue; a mean taken over the "
                "wrong axis (each patch's own mean instead of each dimension's mean over all patches) makes one")
    with np.errstate(all="ignore"):
        m = arr @ data.cov @ arr.T
        if not np.isfinite(m).all() or np.abs(arr).max() > 1e6 / math.sqrt(data.lam[0]):
            return ("some entries are enormous: a division by an eigenvalue that is (nearly) zero. Was the mean "
                    "taken over the wrong axis (each patch's own mean instead of each dimension's mean over "
                    "all patches)?")
        dev, where = _deviation(m)
        if dev <= _WHITE_TOL:
            return None
        if _close(arr, data.cov) or _close(arr, data.cov_unbiased):
            return ("that is the covariance matrix C itself; W must undo it, so that W C W^T is the identity")
        if _close(arr, data.inv_cov) or _close(arr, data.inv_cov * (n - 1) / n):
            return ("that is the inverse covariance C^-1: each eigen-direction is divided by its variance lambda "
                    "instead of its standard deviation, and W C W^T is C^-1 again, not the identity")
        if _deviation(arr.T @ data.cov @ arr)[0] <= _WHITE_TOL:
            return ("your matrix is transposed: it whitens as (x - mean) @ W, with patches as rows, while the task "
                    "applies it as W (x - mean). The eigenvectors sit in the columns of what np.linalg.eigh "
                    "returns; in W each one must be a row")
        for second in (data.second, data.second * n / (n - 1)):
            if _deviation(arr @ second @ arr.T)[0] <= _WHITE_TOL:
                return ("your W whitens the second moment, the average of x x^T, instead of the covariance: "
                        "subtract the mean patch before computing it")
        mu = np.linalg.eigvalsh((m + m.T) / 2)
        lam = data.lam
        if np.all(mu > 0) and np.all(mu < 1 + _WHITE_TOL):
            # W = (Lambda + eps)^(-1/2) U^T gives eigenvalues lam / (lam + eps): estimate eps from the smallest
            eps = float(lam[0] * (1 / np.min(mu) - 1))
            if eps > 0 and _same_spectrum(mu, lam / (lam + eps), rtol=2e-2):
                return (f"the directions of small variance come out with variance below 1, as if about "
                        f"{eps:.2g} were added to every eigenvalue; this exercise uses eps = 0")
        for target, message in ((1 / lam, "each direction is divided by its variance lambda; whitening divides "
                                          "by the standard deviation, the square root of lambda"),
                                (lam, "W C W^T still has the variances lambda of the patches: the matrix rotates "
                                      "(or keeps) the directions but does not rescale them; divide each by its "
                                      "standard deviation"),
                                (lam ** 2, "each direction is multiplied by its standard deviation; whitening "
                                           "divides by it")):
            if not _same_spectrum(np.ones_like(lam), target) and _same_spectrum(mu, target):
                return message
        diag = np.diag(m)
        off = m - np.diag(diag)
        if np.all(np.abs(diag - 1) <= _WHITE_TOL) and d > 1:
            return ("every dimension gets variance 1, but the dimensions are still correlated (largest "
                    f"covariance {float(np.abs(off).max()):.3g}): dividing each dimension by its own standard "
                    "deviation standardises; whitening must also remove the correlations")
        c = float(np.mean(diag))
        if np.abs(off).max() <= _WHITE_TOL * max(1.0, abs(c)) and np.all(np.abs(diag - c) <= _WHITE_TOL * max(1, c)):
            return (f"the whitened patches are uncorrelated, but every variance is {c:.4g} instead of 1: check how "
                    f"the covariance is normalised (an average over the N patches)")
        if np.abs(off).max() <= _WHITE_TOL * max(1.0, float(np.abs(diag).max())):
            return ("the whitened patches are uncorrelated, but their variances are not all 1: check the scale "
                    "given to each direction")
    return (f"W C W^T should be the identity (C: the covariance of the patches) but differs from it by up to "
            f"{dev:.3g}, at row {where[0]}, column {where[1]}")


@exercise_check("student_fn")
def check_whitening_matrix(student_fn: Any) -> Result:
    """Exercise 18.1: ``whitening_matrix(patches)`` -> (D, D) matrix W with ``W (x - mean)`` white (eps = 0).

    Any whitening matrix passes (PCA, ZCA or any rotation of them): the check
    computes ``W C W^T`` for the covariance C of each set of patches (divided by
    N; N >= 2000, so dividing by N - 1 passes too) and tests that it is the
    identity within 5e-3.

    Examples
    --------
    >>> import numpy as np
    >>> def zca(patches):
    ...     x = patches - patches.mean(axis=0)
    ...     lam, u = np.linalg.eigh(x.T @ x / len(x))
    ...     return u @ np.diag(lam ** -0.5) @ u.T
    >>> check_whitening_matrix(zca).status
    'pass'
    >>> check_whitening_matrix(lambda p: np.cov(p, rowvar=False)).status
    'fail'
    """
    return check_function(
        "Exercise 18.1: a whitening matrix (S18.1)", student_fn, list(_whitening_cases()),
        compare=_whitening_problem, show_expected=False,
        success="On every set, W C W^T is the identity: the whitened patches are uncorrelated with variance 1.",
        hints=["compute the (D, D) covariance C of the centred patches; W must turn it into the identity: "
               "W C W^T = I",
               "split the symmetric C into orthogonal directions and the variance along each (an "
               "eigen-decomposition); project a patch on the directions and divide each coordinate by the "
               "standard deviation along it"],
        forbid=["course_lib.whitening.PatchWhitener.fit", "course_lib.speedrun.whitening_filters"],
        forbid_reason="build W from the covariance yourself")


# ----------------------------------------------------------------------------------------------
# Exercise 18.2: how many optimiser steps one run takes (a prediction)

_N_TRAIN, _BATCH, _EPOCHS = 50_000, 1024, 9.9


def _batches_per_epoch(n: int, batch_size: int, drop_last: bool) -> int:
    """The loader's own length rule (AugmentedLoader.__len__), without building a loader."""
    fake = types.SimpleNamespace(labels=range(n), batch_size=batch_size, drop_last=drop_last)
    return int(AugmentedLoader.__len__(fake))


@exercise_check("answer")
def check_steps_per_run(answer: Any) -> Result:
    """Exercise 18.2: optimiser steps of one run (50,000 images, batches of 1,024, last one dropped, 9.9 epochs).

    The truth is the library's rule: ``math.ceil(len(loader) * epochs)``. The
    check never shows it.

    Examples
    --------
    >>> check_steps_per_run(...).status
    'not attempted'
    >>> r = check_steps_per_run(480)
    >>> r.status, "full epochs" in str(r)
    ('fail', True)
    """
    title = "Exercise 18.2: steps in one run (S18.3)"
    if is_stub(answer):
        return not_attempted(title, "replace the `...` with your prediction (a whole number of steps).")
    per_epoch = _batches_per_epoch(_N_TRAIN, _BATCH, drop_last=True)
    kept = _batches_per_epoch(_N_TRAIN, _BATCH, drop_last=False)
    truth = math.ceil(per_epoch * _EPOCHS)
    unfloored = _N_TRAIN * _EPOCHS / _BATCH
    mistakes = [
        (math.ceil(kept * _EPOCHS), "that counts the incomplete last batch of every epoch; the loader drops it"),
        (math.floor(kept * _EPOCHS), "that counts the incomplete last batch of every epoch (the loader drops it), "
                                     "and rounds the total down"),
        (kept * _EPOCHS, "that counts the incomplete last batch (the loader drops it), and a step count is a "
                         "whole number"),
        (math.floor(per_epoch * _EPOCHS), "the total is rounded down; the recipe rounds it up, so the last, "
                                          "partial epoch is not cut short by a fraction of a step"),
        (per_epoch * _EPOCHS, "a fraction of a step: the recipe rounds the total up to a whole number"),
        (per_epoch * 10, "that is 10 full epochs; the run stops part-way through the tenth"),
        (kept * 10, "that is 10 full epochs, counting the incomplete batch too; the run stops part-way through "
                    "the tenth, and the loader drops the incomplete batch"),
        (per_epoch * 9, "that is only the 9 full epochs; the run goes on for part of a tenth"),
        (math.ceil(unfloored), "that divides all images by the batch size at once; the loader drops the "
                               "incomplete batch in *every* epoch, so count whole batches per epoch first"),
        (math.floor(unfloored), "that divides all images by the batch size at once; the loader drops the "
                                "incomplete batch in *every* epoch, so count whole batches per epoch first"),
        (_N_TRAIN * _EPOCHS, "that counts images, not steps: one step processes a whole batch"),
    ]
    # the unrounded value of dividing all images at once, exact or as a student may have typed it
    all_at_once = ("that divides all images by the batch size at once; the loader drops the incomplete batch in "
                   "*every* epoch, and a step count is a whole number")
    mistakes += [(v, all_at_once) for v in (unfloored, round(unfloored, 1), round(unfloored, 2))]
    # near misses get no "off by one" that would point at the answer
    mistakes += [(truth + 1, "not right yet: count the full batches of one epoch, then the steps of 9.9 epochs, "
                             "then round as the task says")]
    value = as_number(answer)
    if value is not None and isinstance(_to_numpy(answer), (list, tuple, np.ndarray)):
        answer = value                                     # [476] or np.array([476]): one number in a box
    return check_value(title, answer, truth, what="your step count", mistakes=mistakes, atol=1e-9,
                       hint="first: how many *full* batches of 1,024 fit in 50,000 images? That is one epoch",
                       hints=["then multiply by the number of epochs, and round the way train_speedrun does: "
                              "up, to a whole step"],
                       success="Steps, not epochs, are what the schedule and the clock count.")


# ----------------------------------------------------------------------------------------------
# Exercise 18.3: the learning-rate multiplier

_SCHEDULE_TOL = 1e-6    # every plausible mistake differs by >= 1e-3; float32 arithmetic stays within 1e-7
_TOTALS = (10, 50, 97, 476, 1000, 3, 1)


class _Step(float):
    """The expected multiplier of one step, remembering the step and the run length."""
    step: int = 0
    total: int = 1


def _step(value: float, step: int, total: int) -> _Step:
    out = _Step(value)
    out.step, out.total = step, total
    return out


def _step_label(step: int, total: int) -> str:
    warm = max(1, int(0.23 * total))
    notes = []
    if step == 0:
        notes.append("the first step")
    if step == warm - 1 and step > 0:
        notes.append("the last warm-up step")
    if step == warm:
        notes.append("the first step after the warm-up")
    if step == total - 1 and step > 0:
        notes.append("the last step")
    return f"step {step} of a {total}-step run" + (f": {', '.join(notes)}" if notes else "")


@functools.lru_cache(maxsize=1)
def _schedule_cases() -> Tuple[Case, ...]:
    out = []
    for total in _TOTALS:
        for s in range(total):
            out.append(Case(_step_label(s, total), (s, total),
                            expected=_step(_lr_multiplier("warmup_decay", s, total), s, total),
                            hint=("for very short runs int(0.23 * total_steps) is 0; the warm-up still lasts at "
                                  "least one step" if total < 5 else "")))
    return tuple(out)


def _line_schedule(total: int, *, start: float = 0.2, end: float = 0.07, warm: Optional[float] = None,
                   warm_top: Optional[float] = None, decay_len: Optional[float] = None,
                   decay_from: Optional[float] = None, shift: int = 0) -> np.ndarray:
    """A warm-up/decay schedule with one knob turned (the known mistakes)."""
    w = max(1, int(0.23 * total)) if warm is None else warm
    top = w if warm_top is None else warm_top
    length = (total - w) if decay_len is None else decay_len
    origin = w if decay_from is None else decay_from
    out = []
    for s in range(shift, total + shift):
        if s < w:
            out.append(start + (1.0 - start) * s / top)
        else:
            out.append(1.0 + (end - 1.0) * (s - origin) / max(length, 1e-12))
    return np.asarray(out)


def _schedule_variants(total: int) -> List[Tuple[np.ndarray, str]]:
    warm = max(1, int(0.23 * total))
    out = []
    if int(0.23 * total) == 0:
        out.append((_line_schedule(total, warm=0), f"for a {total}-step run int(0.23 * total_steps) is 0, and your "
                    f"schedule skips the warm-up; it still lasts at least one step"))
    out += [(_line_schedule(total, start=0.0), "the warm-up starts at 0; in the recipe the first step already "
            "uses 0.2 of the peak"),
           (_line_schedule(total, end=0.0), "the decay goes down to 0; the recipe's line ends at 0.07 of the peak"),
           (_line_schedule(total, start=0.0, end=0.0), "the warm-up starts at 0 and the decay ends at 0; the recipe "
            "goes from 0.2 up to 1 and back down to 0.07"),
           (np.asarray([_lr_multiplier("decay", s, total) for s in range(total)]),
            "there is no warm-up: the recipe's first steps rise from 0.2 to 1 before the decay"),
           (np.ones(total), "the multiplier is always 1: that is no schedule at all"),
           (_line_schedule(total, decay_from=0, decay_len=total), "the decay is measured from step 0; it starts "
            "at the end of the warm-up, at 1, and reaches 0.07 at step total_steps"),
           (_line_schedule(total, shift=1), "your schedule is one step ahead: steps are counted from 0, and step 0 "
            "gives 0.2"),
           (_line_schedule(total, shift=-1), "your schedule is one step behind: steps are counted from 0, and step "
            "0 gives 0.2")]
    if warm > 1:
        out.append((_line_schedule(total, warm_top=warm - 1), "the warm-up reaches 1 one step early; it reaches 1 "
                    "at step warm, the first step of the decay"))
    if total - warm > 1:
        out.append((_line_schedule(total, decay_len=total - warm - 1), "the decay reaches 0.07 at the last step; "
                    "in the recipe its line would reach 0.07 at step total_steps, one step after the last"))
    for w in sorted({math.ceil(0.23 * total), round(0.23 * total), warm - 1, warm + 1, 0.23 * total}):
        if w != warm and 0 < w < total:
            what = "is not a whole number of steps" if w != int(w) else f"lasts {int(w)} steps here"
            out.append((_line_schedule(total, warm=w),
                        f"the warm-up {what}; it lasts int(0.23 * total_steps) steps (at least 1), "
                        f"which is {warm} for a {total}-step run"))
    return out


def _schedule_problem(student_fn: Any, expected: _Step) -> Optional[str]:
    """Name the mistake by running the student's function over the whole run (never raises)."""
    total = expected.total
    try:
        got = np.asarray([as_number(student_fn(s, total)) for s in range(total)], dtype=np.float64)
    except Exception:
        return None
    truth = np.asarray([_lr_multiplier("warmup_decay", s, total) for s in range(total)])
    if got.shape != truth.shape or not np.isfinite(got).all():
        return None
    for variant, message in _schedule_variants(total):
        if variant.shape == got.shape and np.allclose(got, variant, rtol=0, atol=_SCHEDULE_TOL) \
                and not np.allclose(variant, truth, rtol=0, atol=_SCHEDULE_TOL):
            return message
    ratio = got / truth
    c = float(np.median(ratio))
    if c != 0 and abs(c - 1) > 1e-3 and np.allclose(ratio, c, rtol=1e-4, atol=0):
        if c < 0.05:
            return (f"every value is {c:.3g} times the multiplier: that looks like the learning rate itself; "
                    f"return the multiplier, which the training loop multiplies by the base learning rate")
        return f"every value is {c:.4g} times the multiplier: the peak is 1, reached at the end of the warm-up"
    return None


@exercise_check("student_fn")
def check_lr_multiplier(student_fn: Any) -> Result:
    """Exercise 18.3: ``lr_multiplier(step, total_steps)``, the recipe's warm-up and decay of the learning rate.

    Every step of runs of 1, 3, 10, 50, 97, 476 and 1,000 steps is compared with
    the library's schedule (within 1e-6); the first step that differs is shown,
    and a known mistake is named.

    Examples
    --------
    >>> def good(step, total):
    ...     warm = max(1, int(0.23 * total))
    ...     if step < warm:
    ...         return 0.2 + 0.8 * step / warm
    ...     return 1 - 0.93 * (step - warm) / (total - warm)
    >>> check_lr_multiplier(good).status
    'pass'
    >>> r = check_lr_multiplier(lambda step, total: 1.0)
    >>> r.status, "no schedule" in str(r)
    ('fail', True)
    """
    title = "Exercise 18.3: the learning-rate schedule (S18.2)"

    def compare(got: Any, expected: _Step) -> Optional[str]:
        value = as_number(_to_numpy(got))
        if got is None or got is Ellipsis:
            return "nothing came back (did you forget `return`?)"
        if value is None:
            return f"got {_kind(got)}; return one number, the multiplier for this step"
        if not math.isfinite(value):
            return f"got {value}: a division by zero? (for short runs int(0.23 * total_steps) can be 0)"
        if abs(value - float(expected)) <= _SCHEDULE_TOL:
            return None
        named = _schedule_problem(student_fn, expected)
        return named or (f"this is the first step where your schedule differs (by "
                         f"{abs(value - float(expected)):.3g}); the earlier steps agree")

    return check_function(
        title, student_fn, list(_schedule_cases()), compare=compare,
        success="Your schedule is the recipe's, step for step.",
        hints=["two straight lines: from 0.2 at step 0 up towards 1 during the warm-up, then from 1 at step warm "
               "down towards 0.07, which that line would reach at step total_steps",
               "check the corners by hand for a 10-step run: warm = int(2.3) = 2, so steps 0, 1 are the warm-up "
               "and step 2 is the first step of the decay"],
        forbid=["course_lib.speedrun._lr_multiplier"], forbid_reason="write the schedule yourself")


# ----------------------------------------------------------------------------------------------
# Exercise 18.4: alternating flips

class _Flips(np.ndarray):
    """The expected flips of one case, remembering ``first`` and ``epoch``."""
    first: np.ndarray
    epoch: int


class _ChangedInput:
    """What the wrapped student function returns when it modified ``first`` in place."""

    def __init__(self, result: Any):
        self.result = result

    def __repr__(self) -> str:
        return _short(self.result).replace("\n          ", "\n")      # _short indents it again when shown


def _library_flips(first: np.ndarray, epoch: int) -> np.ndarray:
    """AugmentedLoader's own rule for epoch ``epoch`` (0-based), from its first-epoch coins."""
    import torch
    coins = torch.as_tensor(first, dtype=torch.bool)
    loader = types.SimpleNamespace(flip="alternating", labels=coins, _first_flip=coins, epoch=epoch)
    return AugmentedLoader._flips(loader).numpy().astype(bool)


@functools.lru_cache(maxsize=1)
def _flip_cases() -> Tuple[Case, ...]:
    rng = np.random.default_rng(184)
    eight = np.array([True, False, False, True, True, False, True, False])
    many = rng.random(1000) < 0.5
    sets = [("8 images, epoch 0", eight, 0), ("the same 8 images, epoch 1", eight, 1),
            ("the same 8 images, epoch 2", eight, 2), ("the same 8 images, epoch 3", eight, 3),
            ("1,000 images, epoch 7", many, 7), ("1,000 images, epoch 10", many, 10),
            ("one image, flipped at first, epoch 5", np.array([True]), 5),
            ("5 images, none flipped at first, epoch 1", np.zeros(5, dtype=bool), 1),
            ("5 images, all flipped at first, epoch 4", np.ones(5, dtype=bool), 4)]
    out = []
    for name, first, epoch in sets:
        expected = _library_flips(first, epoch).view(_Flips)
        expected.first, expected.epoch = first.copy(), epoch
        out.append(Case(name, (first.copy(), epoch), expected=expected))
    return tuple(out)


def _as_flags(got: Any, n: int) -> Tuple[Optional[np.ndarray], Optional[str]]:
    arr, reason = _numeric_array(got)
    if reason:
        return None, reason
    if arr.shape != (n,):
        extra = " (one value per image, in the order of first)" if arr.size != n else " (return a 1-d array)"
        return None, f"shape {arr.shape}, expected ({n},){extra}"
    if not np.all((arr == 0) | (arr == 1)):
        return None, "the values must be True/False (or 1/0), one per image: is this image flipped in this epoch?"
    return arr.astype(bool), None


@exercise_check("student_fn")
def check_alternating_flips(student_fn: Any) -> Result:
    """Exercise 18.4: ``alternating_flips(first, epoch)`` -> which images are flipped in that epoch (0-based).

    The truth is :class:`course_lib.speedrun.AugmentedLoader`'s rule. Boolean
    arrays, 0/1 arrays, lists and torch tensors all pass; ``first`` must not be
    changed.

    Examples
    --------
    >>> import numpy as np
    >>> check_alternating_flips(lambda first, epoch: np.asarray(first) ^ (epoch % 2 == 1)).status
    'pass'
    >>> r = check_alternating_flips(lambda first, epoch: first)
    >>> r.status, "every epoch" in str(r)
    ('fail', True)
    """
    title = "Exercise 18.4: alternating flips (S18.2)"
    if is_stub(student_fn) or not callable(student_fn):
        return check_function(title, student_fn, [])

    @functools.wraps(student_fn)
    def watched(first, epoch):
        before = np.array(first, copy=True)
        result = student_fn(first, epoch)
        try:
            changed = not np.array_equal(np.asarray(_to_numpy(first)), before)
        except Exception:
            changed = False
        return _ChangedInput(result) if changed else result

    def compare(got: Any, expected: _Flips) -> Optional[str]:
        if isinstance(got, _ChangedInput):
            return ("your function changed `first`, the array it was given, in place; the loader needs the "
                    "first epoch's coins unchanged for every later epoch: build a new array instead")
        first, epoch = expected.first, expected.epoch
        flags, reason = _as_flags(got, len(first))
        if reason:
            return reason
        truth = np.asarray(expected, dtype=bool)
        if np.array_equal(flags, truth):
            return None
        try:
            again, _ = _as_flags(student_fn(first.copy(), epoch), len(first))
        except Exception:
            again = None
        if again is not None and not np.array_equal(again, flags):
            return ("two calls with the same first and epoch gave different flips: the coins are drawn once, "
                    "before epoch 0 (that is first); after that the flips follow from first and the epoch alone")
        if epoch % 2 == 1 and np.array_equal(flags, first):
            return ("that is first itself: the same flips in every epoch. In odd epochs every image is shown the "
                    "other way round from epoch 0")
        if epoch % 2 == 1 and flags.all():
            return ("every image is flipped in this odd epoch; the images that epoch 0 flipped must now be shown "
                    "unflipped, the others flipped")
        if np.array_equal(flags, ~truth):
            return ("even and odd epochs are swapped: epochs are counted from 0, and epoch 0 (even) shows the "
                    "images exactly as first says")
        if not flags.any():
            return "no image is flipped in this epoch"
        agree = float(np.mean(flags == truth))
        return (f"{agree:.0%} of the images are right: the flips of an epoch depend only on first and on "
                f"whether the epoch is even or odd")

    return check_function(
        title, watched, list(_flip_cases()), compare=compare,
        success="Over any two consecutive epochs every image is seen once as it is and once mirrored.",
        hints=["in even epochs the flips are exactly first; in odd epochs each one is the opposite",
               "flip every entry of a boolean array with its logical negation, and choose by the epoch's parity"],
        forbid=["course_lib.speedrun.AugmentedLoader._flips"], forbid_reason="write the rule yourself")


# ----------------------------------------------------------------------------------------------
# Exercise 18.5: mean and standard deviation over seeds

_ROUNDING = 0.005 + 1e-9     # "two decimals are enough", in percentage points


def _accuracy_list(accuracies: Any) -> Optional[np.ndarray]:
    """The notebook's list as a 1-d float array, or None when it is not one (never raises)."""
    value = _to_numpy(accuracies)
    if isinstance(value, (str, bytes, dict)) or value is None or value is Ellipsis:
        return None
    try:
        arr = np.asarray(value)
        if arr.dtype.kind not in "iuf" or arr.ndim != 1 or arr.size < 2:
            return None
        arr = arr.astype(np.float64)
    except Exception:
        return None
    return arr if np.isfinite(arr).all() else None


def _rounded_too_much(x: float, truth: float) -> bool:
    return any(abs(x - round(truth, k)) <= 1e-9 * max(1.0, abs(truth)) for k in (0, 1))


def _mean_problem(m: float, acc: np.ndarray, tol: float, to_list_units: float, unit: str) -> Optional[str]:
    truth = float(np.mean(acc))
    if abs(m - truth) <= tol:
        return None
    if abs(m * to_list_units - truth) <= 10 * tol:
        return f"your mean is not in {unit}: give it in the same units as the list"
    if _rounded_too_much(m, truth):
        return "rounded too much: keep two decimals (or more)"
    if abs(m - float(np.median(acc))) <= tol:
        return "that is the median of the list; the task asks for the mean"
    if len(acc) > 2 and any(abs(m - float(np.mean(np.delete(acc, i)))) <= tol for i in range(len(acc))):
        return "that is the mean of all seeds but one: use every entry of the list"
    if abs(m - truth) <= 10 * tol:
        return "close, but not within the rounding the task allows: keep two decimals (or more)"
    return ("your mean is not the mean of the list the check was given (seed_accuracies): did you average "
            "another list, such as the ablation results, or type the values in by hand?")


def _std_problem(s: float, acc: np.ndarray, tol: float, to_list_units: float, unit: str) -> Optional[str]:
    n = len(acc)
    s1, s0 = float(np.std(acc, ddof=1)), float(np.std(acc))
    if abs(s - s1) <= tol:
        return None
    if abs(s - s0) <= tol:
        return ("that is the population standard deviation, which divides by n; with a handful of seeds it is "
                "too small. The task asks for the sample standard deviation, which divides by n - 1")
    if abs(s * to_list_units - s1) <= 10 * tol:
        return f"your standard deviation is not in {unit}: give it in the same units as the list"
    if _rounded_too_much(s, s1):
        return "rounded too much: keep two decimals (or more)"
    for var in (s1 ** 2, s0 ** 2):
        if abs(var - s1) > tol and abs(s - var) <= max(tol, 1e-3 * var):
            return "that is the variance, the square of the standard deviation: take its square root"
    if abs(s - s1 / math.sqrt(n)) <= tol:
        return ("that is the standard error of the mean (the standard deviation divided by sqrt(n)): how uncertain "
                "the mean is. The task asks for the spread of single runs")
    if abs(s - float(np.ptp(acc))) <= tol:
        return "that is the range (largest minus smallest); the task asks for the standard deviation"
    if n > 2 and any(abs(s - float(np.std(np.delete(acc, i), ddof=1))) <= tol for i in range(n)):
        return "that is the standard deviation of all seeds but one: use every entry of the list"
    if abs(s - s1) <= 10 * tol:
        return "close, but not within the rounding the task allows: keep two decimals (or more)"
    return ("your standard deviation is not that of the list the check was given (seed_accuracies): did you use "
            "another list?")


@exercise_check("mean", "std", context=lambda: dict(accuracies=[93.12, 93.47, 92.98, 93.3, 93.21]))
def check_seed_spread(mean: Any, std: Any, accuracies: Any) -> Result:
    """Exercise 18.5: the mean and the sample standard deviation (n - 1) of the per-seed accuracies.

    ``accuracies`` is the notebook's list (``seed_accuracies``, in percent); the
    answers are expected in the same units, within the rounding to two decimals.
    The check prints neither value.

    Examples
    --------
    >>> acc = [93.12, 93.47, 92.98, 93.3, 93.21]
    >>> import numpy as np
    >>> check_seed_spread(np.mean(acc), np.std(acc, ddof=1), acc).status
    'pass'
    >>> r = check_seed_spread(np.mean(acc), np.std(acc), acc)
    >>> r.status, "n - 1" in str(r)
    ('fail', True)
    """
    title = "Exercise 18.5: mean and spread over seeds (S18.4)"
    if is_stub(mean) or is_stub(std):
        return not_attempted(title, "replace both `...` with your numbers: the mean and the standard deviation "
                             "of seed_accuracies.")
    acc = _accuracy_list(accuracies)
    if acc is None:
        return not_yet(title, "the check needs the notebook's list of per-seed accuracies as its third argument, "
                       f"check_seed_spread(mean, std, seed_accuracies); it got {_short(accuracies, 80)}. Run "
                       "section 7 first, and pass seed_accuracies unchanged.")
    numbers = {}
    for name, value in (("mean", mean), ("std", std)):
        x = as_number(value)
        if x is None:
            return not_yet(title, f"{name} should be one number, got {_kind(value)} ({_short(value, 60)}).")
        if not math.isfinite(x):
            return not_yet(title, f"{name} is {x}, not a finite number.")
        numbers[name] = x
    m, s = numbers["mean"], numbers["std"]
    percent = float(np.max(np.abs(acc))) > 1.0
    unit = "percent" if percent else "fractions (like the list)"
    tol = _ROUNDING if percent else _ROUNDING / 100
    to_list_units = 100.0 if percent else 0.01      # turns an answer given in the other unit into the list's
    hints = ["the mean adds the accuracies and divides by how many there are; the sample standard deviation "
             "averages the squared deviations from the mean with n - 1 in the denominator, then takes the root",
             "use the list exactly as the check gets it, every seed, in the same units"]
    s1, m1 = float(np.std(acc, ddof=1)), float(np.mean(acc))
    if abs(m - s1) <= tol and abs(s - m1) <= tol and abs(m1 - s1) > tol:
        return not_yet(title, "the two numbers are swapped: the mean comes first, then the standard deviation.",
                       hints=hints)
    problems = [(what, p) for what, p in (("mean", _mean_problem(m, acc, tol, to_list_units, unit)),
                                          ("standard deviation", _std_problem(s, acc, tol, to_list_units, unit)))
                if p is not None]
    if not problems:
        return passed(title, f"both numbers match the {len(acc)} accuracies of the list. A difference between two "
                      "recipes that is not clearly larger than this spread could come from the seed alone.")
    wrong = [what for what, _ in problems]
    if wrong == ["mean"]:
        message = "the standard deviation is right; the mean is not right yet."
    elif wrong == ["standard deviation"]:
        message = "the mean is right; the standard deviation is not right yet."
    else:
        message = "the mean and the standard deviation are not right yet."
    return not_yet(title, message, [f"problem:  {what}: {p}" for what, p in problems], hints)
