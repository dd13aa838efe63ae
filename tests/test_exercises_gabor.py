"""The Gabor chapter's checks pass right answers, say NOT ATTEMPTED for stubs and name plausible mistakes."""
from __future__ import annotations

import numpy as np
import pytest

from course_lib.exercises.gabor import (QUIZ_THETAS, check_gabor_kernel, check_preferred_orientation,
                                        check_rotated_coords, check_simple_vs_complex,
                                        check_tuning_width, orientation_quiz_stimulus,
                                        tuning_width_truth)
from course_lib.gabor import gabor_kernel
from course_lib.gabor_fit import orientation_tuning


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise: replace this line with your code")


def problem(result) -> str:
    """All of a result's text, to search for the diagnosis."""
    return str(result)


# ----------------------------------------------------------------------------- 6.1

def rotate_right(x, y, theta, x0=0.0, y0=0.0):
    xs, ys = np.asarray(x) - x0, np.asarray(y) - y0
    return xs * np.cos(theta) + ys * np.sin(theta), -xs * np.sin(theta) + ys * np.cos(theta)


def test_rotation_right_answer_passes():
    r = check_rotated_coords(rotate_right)
    assert r.passed, str(r)


def test_rotation_list_answer_passes():
    r = check_rotated_coords(lambda x, y, t, x0, y0: list(rotate_right(x, y, t, x0, y0)))
    assert r.passed, str(r)


def test_rotation_stub_not_attempted():
    assert check_rotated_coords(stub).status == "not attempted"
    assert check_rotated_coords(...).status == "not attempted"


def test_rotation_swapped_sin_sign_fails_with_message():
    def wrong(x, y, theta, x0=0.0, y0=0.0):
        xs, ys = np.asarray(x) - x0, np.asarray(y) - y0
        return xs * np.cos(theta) - ys * np.sin(theta), xs * np.sin(theta) + ys * np.cos(theta)
    r = check_rotated_coords(wrong)
    assert r.status == "fail"
    assert "signs of the sin terms are swapped" in problem(r)
    assert "quarter turn" in r.message          # caught at the first case it can differ


@pytest.mark.parametrize("wrong, words", [
    (lambda x, y, t, x0, y0: rotate_right(x, y, t, x0, y0)[::-1], "wrong order"),
    (lambda x, y, t, x0, y0: rotate_right(x, y, t), "centre is ignored"),
    (lambda x, y, t, x0, y0: rotate_right(x, y, t, -x0, -y0), "added instead of subtracted"),
    (lambda x, y, t, x0, y0: rotate_right(x, y, np.deg2rad(t), x0, y0), "radians"),
    (lambda x, y, t, x0, y0: rotate_right(x, y, t, x0, y0)[0], "pair"),
])
def test_rotation_other_mistakes(wrong, words):
    r = check_rotated_coords(wrong)
    assert r.status == "fail" and words in problem(r), str(r)


def test_rotation_crash_reported_without_traceback():
    r = check_rotated_coords(lambda x, y, t, x0, y0: 1 / 0)
    assert r.status == "fail" and "ZeroDivisionError" in r.message


# ----------------------------------------------------------------------------- 6.2

def kernel_right(size, theta, omega, phi, alpha, beta):
    half = size // 2
    y, x = np.mgrid[-half:half + 1, -half:half + 1].astype(float)
    xt = x * np.cos(theta) + y * np.sin(theta)
    yt = -x * np.sin(theta) + y * np.cos(theta)
    return np.exp(-alpha * xt ** 2 - beta * yt ** 2) * np.sin(omega * xt + phi)


def test_kernel_right_answer_passes():
    r = check_gabor_kernel(kernel_right)
    assert r.passed, str(r)


def test_kernel_stub_not_attempted():
    assert check_gabor_kernel(stub).status == "not attempted"


@pytest.mark.parametrize("wrong, words", [
    (lambda s, t, o, p, a, b: kernel_right(s, t, o, p, a, b).T, "x and y are swapped"),
    (lambda s, t, o, p, a, b: kernel_right(s, t, o, p, a, b)[::-1], "y points up"),
    (lambda s, t, o, p, a, b: kernel_right(s, -t, o, p, a, b), "sin(theta) terms"),
    (lambda s, t, o, p, a, b: kernel_right(s, t, o, p + np.pi / 2, a, b), "cosine carrier"),
    (lambda s, t, o, p, a, b: kernel_right(s, t, o, p, b, a), "alpha and beta are swapped"),
    (lambda s, t, o, p, a, b: kernel_right(s, t, o, p, a, b)[:-1], "shape"),
])
def test_kernel_plausible_mistakes(wrong, words):
    r = check_gabor_kernel(wrong)
    assert r.status == "fail" and words in problem(r), str(r)


def test_kernel_uncentred_grid_named():
    def uncentred(size, theta, omega, phi, alpha, beta):
        y, x = np.mgrid[0:size, 0:size].astype(float)
        xt = x * np.cos(theta) + y * np.sin(theta)
        yt = -x * np.sin(theta) + y * np.cos(theta)
        return np.exp(-alpha * xt ** 2 - beta * yt ** 2) * np.sin(omega * xt + phi)
    r = check_gabor_kernel(uncentred)
    assert r.status == "fail" and "not centred" in problem(r), str(r)


# ----------------------------------------------------------------------------- 6.3

def test_quiz_truth_is_k1_and_stimulus_shape():
    stim = orientation_quiz_stimulus()
    assert stim.shape == (41, 41)
    curve = orientation_tuning(stim, QUIZ_THETAS, size=21, omega=0.7, alpha=0.02, beta=0.02)
    assert int(np.argmax(curve)) == 1


def test_preferred_orientation_right_wrong_and_stub():
    assert check_preferred_orientation(1).passed
    assert check_preferred_orientation(np.int64(1)).passed
    assert check_preferred_orientation(1.0).passed
    assert check_preferred_orientation(...).status == "not attempted"
    assert check_preferred_orientation(None).status == "not attempted"


@pytest.mark.parametrize("answer, words", [
    (5, "along the stripes"),
    (7, "y pointing up"),
    (3, "two slips"),
    (0, "across the stripes"),
    (9, "from 0 to 7"),
    (0.39, "from 0 to 7"),
    (True, "from 0 to 7"),
])
def test_preferred_orientation_mistakes(answer, words):
    r = check_preferred_orientation(answer)
    assert r.status == "fail" and words in problem(r), str(r)


# ----------------------------------------------------------------------------- 6.4

def test_written_question():
    assert check_simple_vs_complex("").status == "not attempted"
    assert check_simple_vs_complex(...).status == "not attempted"
    assert check_simple_vs_complex("complex cells pool").status == "fail"
    long = ("The energy adds the squares of two responses whose phases differ by a quarter period, so "
            "where one is small the other is large; pooling over positions plays the same role in CNNs and "
            "costs the exact position of each feature.")
    assert check_simple_vs_complex(long).passed


# ----------------------------------------------------------------------------- 6.5

def test_tuning_width_truth_matches_theory():
    t = tuning_width_truth()
    for sigma, key in ((2.0, "fwhm_sigma2"), (6.0, "fwhm_sigma6")):
        theory = np.degrees(4 * np.arcsin(np.sqrt(np.log(2)) / (2 * 0.8 * sigma)))
        assert abs(t[key] - theory) < 2.0


def test_tuning_width_right_and_stub():
    t = tuning_width_truth()
    assert check_tuning_width(t).passed
    assert check_tuning_width({k: v * 1.05 for k, v in t.items()}).passed
    assert check_tuning_width(...).status == "not attempted"


@pytest.mark.parametrize("transform, words", [
    (lambda t: {k: np.radians(v) for k, v in t.items()}, "radians"),
    (lambda t: {k: v / 2 for k, v in t.items()}, "half widths"),
    (lambda t: {"fwhm_sigma2": t["fwhm_sigma6"], "fwhm_sigma6": t["fwhm_sigma2"]}, "swapped"),
    (lambda t: {"fwhm_sigma2": t["fwhm_sigma2"]}, "missing"),
    (lambda t: {"fwhm_sigma2": "wide", "fwhm_sigma6": 1.0}, "numbers"),
    (lambda t: {"fwhm_sigma2": -1.0, "fwhm_sigma6": 1.0}, "positive"),
    (lambda t: [1, 2], "dict"),
])
def test_tuning_width_mistakes(transform, words):
    r = check_tuning_width(transform(tuning_width_truth()))
    assert r.status == "fail" and words in problem(r), str(r)
