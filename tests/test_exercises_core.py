"""The exercise checks: pass the right answer, say "not attempted" for stubs, and fail
plausible wrong answers with a message that names the mistake."""
from __future__ import annotations

import numpy as np
import pytest

import course_lib as cl
from course_lib.exercises import (Case, check_conv2d, check_convolve2d, check_correlate2d,
                                  check_experiment, check_function, check_output_size,
                                  check_value, check_written, reset_hints)


@pytest.fixture(autouse=True)
def _fresh_hints():
    reset_hints()


def loops(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = (image[i:i + kh, j:j + kw] * kernel).sum()
    return out


def layer(x, w, b, stride, padding):
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    kh, kw = w.shape[2:]
    ho, wo = (xp.shape[2] - kh) // stride + 1, (xp.shape[3] - kw) // stride + 1
    out = np.zeros((x.shape[0], w.shape[0], ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + (0 if b is None else b)
    return out


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise: replace this line with your code")


# ---------------------------------------------------------------- generic machinery
def test_stub_function_is_not_attempted_and_shows_no_traceback():
    for check in (check_correlate2d, check_convolve2d, check_conv2d, check_output_size):
        r = check(stub)
        assert r.status == "not attempted"
        assert "Traceback" not in str(r) and "NOT ATTEMPTED YET" in str(r)


@pytest.mark.parametrize("placeholder", [..., None])
def test_placeholders_are_not_attempted(placeholder):
    assert check_correlate2d(placeholder).status == "not attempted"
    assert check_value("x", placeholder, 3).status == "not attempted"
    assert check_experiment("x", placeholder, ["a"]).status == "not attempted"


def test_student_exception_is_reported_as_a_failure_with_the_case():
    def buggy(image, kernel):
        return image[100, 100]           # IndexError on small images
    r = check_correlate2d(buggy)
    assert r.status == "fail"
    assert "IndexError" in r.message and "case 1/" in r.message
    assert "Traceback" not in str(r)


def test_missing_return_is_named():
    r = check_correlate2d(lambda image, kernel: None)
    assert r.status == "fail" and "forget `return`" in str(r)


def test_messages_never_contain_solution_code():
    r = check_correlate2d(lambda image, kernel: np.zeros((1, 1)))
    text = str(r)
    assert "def " not in text and "tensordot" not in text and "sliding_window" not in text


def test_check_function_stops_at_first_failing_case():
    cases = [Case("ok", (1,), expected=2), Case("bad", (5,), expected=7, hint="add two")]
    r = check_function("demo", lambda a: a + 1, cases, compare=lambda g, e: None if g == e else "no")
    assert r.status == "fail" and "case 2/2 (bad)" in r.message
    assert not any("add two" in d for d in r.details), "no hint on the first failure"
    r = check_function("demo", lambda a: a + 1, cases, compare=lambda g, e: None if g == e else "no")
    assert any("add two" in d for d in r.details), "the case's hint on the second"


# ---------------------------------------------------------------- plausible wrong answers
def test_flipped_kernel_is_diagnosed_in_correlate2d():
    r = check_correlate2d(lambda im, k: loops(im, k[::-1, ::-1]))
    assert r.status == "fail"
    assert "kernel is flipped" in str(r)


def test_unflipped_kernel_is_diagnosed_in_convolve2d():
    r = check_convolve2d(loops)
    assert r.status == "fail" and "not flipped" in str(r)
    r = check_convolve2d(lambda img, k: cl.correlate2d(img, k[::-1]))
    assert r.status == "fail" and "only the rows" in str(r)


def test_missing_bias_is_diagnosed_in_conv2d():
    r = check_conv2d(lambda x, w, b, stride, padding: layer(x, w, None, stride, padding))
    assert r.status == "fail" and "bias is missing" in str(r)


def test_ignored_padding_gives_a_shape_message():
    r = check_conv2d(lambda x, w, b, stride, padding: layer(x, w, b, stride, 0))
    assert r.status == "fail" and "padding is missing" in str(r) and "zero padding 1" in r.message


def test_off_by_one_output_size_is_diagnosed():
    r = check_output_size(lambda n, k, s, p: (n + 2 * p - k) // s)
    assert r.status == "fail" and "off by one" in str(r)
    r = check_output_size(lambda n, k, s, p: (n + 2 * p - k) / s + 1)      # no floor
    assert r.status == "fail" and "round down" in str(r)


def test_right_answers_pass():
    assert check_correlate2d(loops).passed
    assert check_convolve2d(lambda im, k: loops(im, k[::-1, ::-1])).passed
    assert check_convolve2d(lambda im, k: cl.correlate2d(im, k[::-1, ::-1])).passed    # allowed in 3.2
    assert check_conv2d(layer).passed
    assert check_output_size(lambda n, k, s, p: (n + 2 * p - k) // s + 1).passed


def test_check_value_exact_and_tolerance():
    assert check_value("q", 760, 760).passed
    r = check_value("q", 770, 760, hint="count the biases once per filter")
    assert r.status == "fail" and "760" not in str(r), "a prediction's answer is never shown"
    r = check_value("q", 770, 760, hint="count the biases once per filter")
    assert "count the biases" in str(r), "the hint comes on the second try"
    r = check_value("q", 750, 760, mistakes=[(750, "the biases are missing")])
    assert "biases are missing" in str(r)
    assert check_value("q", (8, 16, 28, 28), (8, 16, 28, 28)).passed
    assert check_value("q", [8, 16, 28, 28], (8, 16, 28, 28)).passed
    assert not check_value("q", True, 1).passed          # a bool is not a count
    assert check_value("q", 0.101, 0.1, rtol=0.05).passed
    assert not check_value("q", 0.2, 0.1, rtol=0.05).passed


def test_written_and_experiment_checks():
    assert check_written("w", "").status == "not attempted"
    assert check_written("w", "too short").status == "fail"
    assert check_written("w", " ".join(f"word{i}" if i % 2 else "text" for i in range(20)) +
                         " and several different words").passed
    assert not check_written("w", " ".join(["word"] * 20)).passed        # repetition is not an answer
    assert not check_written("w", ["a", "list"]).passed
    assert check_experiment("e", {"a": 1.0}, ["a", "b"]).status == "fail"
    assert check_experiment("e", {"a": 1.0, "b": float("nan")}, ["a", "b"]).status == "fail"
    assert check_experiment("e", {"a": 1.0, "b": 2.0}, ["a", "b"]).passed
