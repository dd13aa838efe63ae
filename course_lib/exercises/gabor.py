"""Checks for the exercises of the chapter "Gabor filters and the visual cortex".

Coordinates as in :mod:`course_lib.gabor`: x is the column offset to the
right, y the row offset downward, theta measured from +x towards +y.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Optional

import numpy as np

from ..gabor import gabor_kernel
from ..gabor_fit import grating, orientation_tuning, tuning_fwhm
from .core import (FAIL, NOT_ATTEMPTED, PASS, Case, Result, _short, as_number, check_function, check_written,
                   compare_arrays, exercise_check, is_stub, not_attempted, not_yet, passed)

__all__ = ["check_rotated_coords", "check_gabor_kernel", "orientation_quiz_stimulus",
           "QUIZ_THETAS", "check_preferred_orientation", "check_simple_vs_complex",
           "tuning_width_truth", "check_tuning_width"]


# ----------------------------------------------------------------------------- 6.1 rotation

def _rotate(x, y, theta, x0=0.0, y0=0.0):
    xs, ys = np.asarray(x, float) - x0, np.asarray(y, float) - y0
    return (xs * np.cos(theta) + ys * np.sin(theta), -xs * np.sin(theta) + ys * np.cos(theta))


def _pair_reason(got: Any, expected) -> Optional[str]:
    """None when ``got`` is a pair of arrays equal to ``expected``, else a reason."""
    if got is None or got is Ellipsis:
        return "nothing came back (did you forget `return`?)"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return (f"expected a pair (x_tilde, y_tilde), got a {type(got).__name__}"
                + (f" of length {len(got)}" if hasattr(got, "__len__") else ""))
    for name, g, e in zip(("x_tilde", "y_tilde"), got, expected):
        reason = compare_arrays(g, e)
        if reason is not None:
            return f"{name}: {reason}"
    return None


@exercise_check("student_fn", title="Exercise 6.1: rotate the coordinates (S6.2)")
def check_rotated_coords(student_fn, *, exercise: str = "Exercise 6.1: rotate the coordinates (S6.2)") -> Result:
    """Check ``student_fn(x, y, theta, x0, y0) -> (x_tilde, y_tilde)``, Bishop eq. 10.7-10.8.

    Examples
    --------
    >>> check_rotated_coords(_rotate).status
    'pass'
    >>> wrong = lambda x, y, t, x0, y0: (x * np.cos(t) - y * np.sin(t), x * np.sin(t) + y * np.cos(t))
    >>> "sign" in check_rotated_coords(wrong).details[3]
    True
    """
    y, x = np.mgrid[-2:3, -2:3].astype(float)
    settings = [("theta = 0 leaves the coordinates alone", 1.0, 2.0, 0.0, 0.0, 0.0),
                ("a quarter turn, theta = pi/2", 1.0, 0.0, np.pi / 2, 0.0, 0.0),
                ("theta = pi/6 on a 5x5 grid of arrays", x, y, np.pi / 6, 0.0, 0.0),
                ("theta = 2.0 with a centre (x0, y0) = (1.5, -0.5)", x, y, 2.0, 1.5, -0.5),
                ("a negative angle, theta = -pi/3", x, y, -np.pi / 3, 0.0, 0.0)]
    cases = [Case(name, (xx, yy, t, x0, y0), expected=_rotate(xx, yy, t, x0, y0))
             for name, xx, yy, t, x0, y0 in settings]
    lookup = {id(c.expected): c for c in cases}

    def compare(got, expected):
        reason = _pair_reason(got, expected)
        if reason is None:
            return None
        xx, yy, t, x0, y0 = lookup[id(expected)].args
        xr, yr = _rotate(xx, yy, -t, x0, y0)
        wrongs = [((xr, yr), "the signs of the sin terms are swapped: that rotates by -theta. "
                             "In eq. 10.7 sin(theta) is added to x~; in eq. 10.8 it is subtracted."),
                  ((expected[1], expected[0]), "x~ and y~ come back in the wrong order: return "
                                               "(x_tilde, y_tilde)."),
                  (_rotate(xx, yy, t), "the centre is ignored: subtract x0 from x and y0 from y "
                                       "before rotating."),
                  (_rotate(xx, yy, t, -x0, -y0), "the centre is added instead of subtracted: use "
                                                 "x - x0 and y - y0."),
                  (_rotate(xx, yy, np.deg2rad(t), x0, y0), "theta is in radians already; do not "
                                                           "convert it from degrees.")]
        for variant, message in wrongs:
            if _pair_reason(got, variant) is None:
                return message
        return reason
    return check_function(exercise, student_fn, cases, compare=compare, success="Eq. 10.7-10.8 are right.",
                          hints=["first move the origin to the centre (x0, y0), then rotate; theta is in "
                                 "radians",
                                 "compare your signs with eq. (10.7)-(10.8) term by term: which of the two "
                                 "sin(theta) terms is subtracted?"])


# ----------------------------------------------------------------------------- 6.2 kernel

def _kernel_from_grid(size, theta, omega, phi, alpha, beta, x, y):
    xt = x * np.cos(theta) + y * np.sin(theta)
    yt = -x * np.sin(theta) + y * np.cos(theta)
    return np.exp(-alpha * xt ** 2 - beta * yt ** 2) * np.sin(omega * xt + phi)


@exercise_check("student_fn", title="Exercise 6.2: a Gabor kernel from the formula (S6.2)")
def check_gabor_kernel(student_fn, *, exercise: str = "Exercise 6.2: a Gabor kernel from the formula (S6.2)") -> Result:
    """Check ``student_fn(size, theta, omega, phi, alpha, beta)`` against :func:`gabor_kernel`.

    Examples
    --------
    >>> def g(size, t, o, p, a, b):
    ...     y, x = np.mgrid[-(size // 2):size // 2 + 1, -(size // 2):size // 2 + 1].astype(float)
    ...     return _kernel_from_grid(size, t, o, p, a, b, x, y)
    >>> check_gabor_kernel(g).status
    'pass'
    >>> r = check_gabor_kernel(lambda *args: g(*args).T)
    >>> "column" in r.details[3]
    True
    """
    settings = [("theta = 0: vertical stripes", 7, 0.0, 1.0, 0.0, 0.1, 0.1),
                ("theta = pi/6, omega = 0.8, phi = 0.3, elongated envelope", 9, np.pi / 6, 0.8, 0.3,
                 0.05, 0.15),
                ("theta = 2.0, even phase phi = pi/2", 11, 2.0, 1.3, np.pi / 2, 0.04, 0.02),
                ("3x3 kernel, theta = -1", 3, -1.0, 2.0, 1.0, 0.3, 0.2)]
    cases = [Case(name, (s, t, o, p, a, b), expected=gabor_kernel(s, t, o, p, a, b))
             for name, s, t, o, p, a, b in settings]
    lookup = {id(c.expected): c for c in cases}

    def compare(got, expected):
        reason = compare_arrays(got, expected)
        if reason is None:
            return None
        s, t, o, p, a, b = lookup[id(expected)].args
        r, c = np.mgrid[0:s, 0:s].astype(float)
        wrongs = [(expected.T, "x and y are swapped: x is the column offset (to the right), y the "
                               "row offset (downward); np.mgrid returns rows first."),
                  (expected[::-1], "your kernel is turned by -theta: either y points up (in this "
                                   "book y is the row offset, which points down the image) or the "
                                   "sin(theta) terms of eq. 10.7-10.8 have the wrong sign; the two "
                                   "slips give the same picture."),
                  (gabor_kernel(s, t, o, p + np.pi / 2, a, b), "that is a cosine carrier: eq. 10.6 "
                                                               "uses sin(omega x~ + phi)."),
                  (gabor_kernel(s, t, o, p, b, a), "alpha and beta are swapped: alpha multiplies "
                                                   "x~^2 (across the stripes), beta y~^2."),
                  (_kernel_from_grid(s, t, o, p, a, b, c, r), "the grid is not centred: measure x "
                                                              "and y from the middle pixel, -size//2 .. size//2.")]
        for variant, message in wrongs:
            if compare_arrays(got, variant) is None:
                return message
        return reason
    return check_function(exercise, student_fn, cases, compare=compare,
                          success="Your kernel matches course_lib.gabor_kernel.",
                          hints=["build a grid of x (column offset, to the right) and y (row offset, "
                                 "downward) measured from the middle pixel, rotate it as in Exercise 6.1, "
                                 "then evaluate eq. (10.6) at every grid point",
                                 "a Gaussian envelope in the rotated coordinates times a sine carrier along "
                                 "x~; np.mgrid returns rows first"],
                          forbid=["course_lib.gabor.gabor_kernel", "course_lib.gabor.gabor_bank"],
                          forbid_reason="sample the formula yourself")


# ----------------------------------------------------------------------------- 6.3 prediction

#: The eight orientations of the quiz bank: theta_k = k pi / 8, k = 0..7.
QUIZ_THETAS = np.arange(8) * np.pi / 8
_QUIZ = dict(size=41, theta=np.pi / 8, omega=0.7)
_QUIZ_FILTER = dict(size=21, omega=0.7, alpha=0.02, beta=0.02)


def orientation_quiz_stimulus() -> np.ndarray:
    """The grating of Exercise 6.3 (41 x 41, values in [-1, 1]); draw it with ``cmap="gray"``.

    Examples
    --------
    >>> orientation_quiz_stimulus().shape
    (41, 41)
    """
    return grating(_QUIZ["size"], _QUIZ["theta"], _QUIZ["omega"])


def _quiz_truth() -> int:
    curve = orientation_tuning(orientation_quiz_stimulus(), QUIZ_THETAS, **_QUIZ_FILTER)
    return int(np.argmax(curve))


@exercise_check("answer", title="Exercise 6.3: predict the preferred orientation (S6.3)")
def check_preferred_orientation(answer, *,
                                exercise: str = "Exercise 6.3: predict the preferred orientation (S6.3)") -> Result:
    """Check the predicted index k (theta_k = k pi / 8) of the filter that responds most to the quiz grating.

    Examples
    --------
    >>> check_preferred_orientation(...).status
    'not attempted'
    >>> check_preferred_orientation(_quiz_truth()).status
    'pass'
    >>> "along the stripes" in str(check_preferred_orientation(5))
    True
    """
    if is_stub(answer):
        return not_attempted(exercise, "replace the `...` with your k (0 to 7).")
    x = as_number(answer)
    if x is None or not float(x).is_integer() or not 0 <= x <= 7:
        return not_yet(exercise, f"the answer must be a whole number k from 0 to 7 (theta_k = k pi/8), "
                       f"got {_short(answer, 40)}. If you found an angle in radians, divide it by pi/8 and "
                       f"round.")
    truth = _quiz_truth()
    answer = int(x)
    if answer == truth:
        return passed(exercise, "right: the filter whose stripes run parallel to the grating's stripes "
                      "(its theta points across them) responds most; plot orientation_tuning for the "
                      "whole curve.")
    deg = 180 * truth / 8       # direction across the stripes, y down
    along = (truth + 4) % 8     # the stripes' own direction
    mirrored = (8 - truth) % 8  # y measured upward
    if answer == along:
        hint = ("you picked the direction along the stripes. Theta is the direction *across* them "
                "(the way the sinusoid oscillates), 90 degrees away.")
    elif answer == mirrored:
        hint = ("that would be right with y pointing up. Here y is the row offset and points down, "
                "so positive angles turn clockwise on the screen.")
    elif answer == (8 - along) % 8:
        hint = ("two slips at once: theta is the direction across the stripes, and y points down "
                "(positive angles turn clockwise on the screen).")
    else:
        hint = ("not this one: find the direction in which brightness changes fastest (across the stripes) "
                "and measure its angle from the +x axis, turning clockwise because y points down.")
    return not_yet(exercise, f"k = {answer} is not the filter that responds most.", [f"problem:  {hint}"],
                   ["theta is the direction across the stripes; k = 0 oscillates along x (vertical stripes), "
                    "and each step of k turns that direction by 22.5 degrees clockwise on screen",
                    "estimate the angle between the +x axis and the direction across the stripes, then divide "
                    "by 22.5 degrees"])


# ----------------------------------------------------------------------------- 6.4 written

@exercise_check("answer", title="Exercise 6.4: simple and complex cells (S6.1, S6.3)")
def check_simple_vs_complex(answer) -> Result:
    """The written question on simple and complex cells: a reminder; the model answer is in a dropdown.

    Examples
    --------
    >>> check_simple_vs_complex("").status
    'not attempted'
    """
    return check_written("Exercise 6.4: simple and complex cells (S6.1, S6.3)", answer, min_words=30)


# ----------------------------------------------------------------------------- 6.5 experiment

_TUNING = dict(omega=0.8, sigmas=(2.0, 6.0), size=37, stimulus=101, n_theta=180)


def tuning_width_truth() -> dict:
    """The experiment of Exercise 6.5 done by the library: FWHM in degrees for sigma = 2 and 6.

    Complex-cell tuning on a grating of orientation 0 (101 x 101 pixels,
    omega = 0.8 rad/pixel) with 37 x 37 quadrature pairs at 180 filter
    orientations; alpha = beta = 1 / (2 sigma^2).

    Examples
    --------
    >>> t = tuning_width_truth()
    >>> sorted(t), t["fwhm_sigma2"] > t["fwhm_sigma6"]
    (['fwhm_sigma2', 'fwhm_sigma6'], True)
    """
    return dict(_tuning_width_truth())


@lru_cache(maxsize=1)
def _tuning_width_truth() -> tuple:
    thetas = np.linspace(0, np.pi, _TUNING["n_theta"], endpoint=False)
    stim = grating(_TUNING["stimulus"], 0.0, _TUNING["omega"])
    out = {}
    for s in _TUNING["sigmas"]:
        ab = 1.0 / (2 * s ** 2)
        curve = orientation_tuning(stim, thetas, size=_TUNING["size"], omega=_TUNING["omega"],
                                   alpha=ab, beta=ab)
        out[f"fwhm_sigma{int(s)}"] = float(np.degrees(tuning_fwhm(thetas, curve)))
    return tuple(out.items())


@exercise_check("results", title="Exercise 6.5: longer windows, sharper tuning (S6.3)")
def check_tuning_width(results, *, exercise: str = "Exercise 6.5: longer windows, sharper tuning (S6.3)") -> Result:
    """Check the measured tuning widths (degrees) against the library's run, within 15%.

    Examples
    --------
    >>> check_tuning_width(...).status
    'not attempted'
    >>> check_tuning_width(tuning_width_truth()).status
    'pass'
    >>> t = tuning_width_truth()
    >>> r = check_tuning_width({"fwhm_sigma2": np.radians(t["fwhm_sigma2"]), "fwhm_sigma6": np.radians(t["fwhm_sigma6"])})
    >>> "radians" in str(r)
    True
    """
    keys = ["fwhm_sigma2", "fwhm_sigma6"]
    if is_stub(results):
        return not_attempted(exercise, "run your experiment and fill in the results_6_5 dict.")
    if not isinstance(results, dict):
        return not_yet(exercise, f"expected a dict of results, got a {type(results).__name__}.")
    missing = [k for k in keys if k not in results or is_stub(results[k])]
    if missing:
        return not_yet(exercise, f"missing results for {missing}.")
    got = {k: as_number(results[k]) for k in keys}
    if any(v is None for v in got.values()):
        return not_yet(exercise, "the results must be numbers (widths in degrees), one per key.")
    if not all(np.isfinite(v) and v > 0 for v in got.values()):
        return not_yet(exercise, "the widths must be positive finite numbers (degrees).")
    truth = tuning_width_truth()
    ok = all(abs(got[k] - truth[k]) <= 0.15 * truth[k] for k in keys)
    if ok:
        return passed(exercise, "both widths agree with the check's own run. Compare them with your "
                      "prediction, then open the discussion below.")
    if all(abs(np.degrees(got[k]) - truth[k]) <= 0.15 * truth[k] for k in keys):
        hint = "these look like radians: report the widths in degrees (np.degrees)."
    elif all(abs(2 * got[k] - truth[k]) <= 0.15 * truth[k] for k in keys):
        hint = "these are half widths: the full width at half maximum spans both sides of the peak."
    elif got["fwhm_sigma2"] < got["fwhm_sigma6"]:
        hint = ("the two numbers look swapped: a wider envelope sees more stripes and should be "
                "*more* selective (narrower tuning).")
    else:
        hint = "the widths do not match the check's own run of the experiment; re-read the settings in the task."
    return not_yet(exercise, "the widths are not right yet.",
                   [f"got:      {got['fwhm_sigma2']:.4g} and {got['fwhm_sigma6']:.4g}", f"problem:  {hint}"],
                   ["use orientation_tuning (complex cells) on the 101 x 101 grating with 37 x 37 kernels, "
                    "omega = 0.8 and alpha = beta = 1/(2 sigma^2), for 180 orientations in [0, pi)",
                    "tuning_fwhm(thetas, curve) gives the width in radians; convert to degrees"])
