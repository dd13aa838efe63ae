"""Checks for the exercises of the chapter "Preprocessing and augmentation".

Each check knows the usual mistakes (whitening statistics taken from the test
images, the standard deviation over the wrong axis, dividing by N - 1, epsilon
inside the square root, a vertical flip where a horizontal one was asked for,
crop offsets measured in the unpadded image, ...) and names the mistake when a
wrong answer matches it.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..whitening import PixelWhitener
from .core import (FAIL, NOT_ATTEMPTED, PASS, Case, Result, _short, as_number, check_function, compare_arrays,
                   exercise_check, is_stub, not_attempted, not_yet, passed)

__all__ = ["check_whitened_prediction", "check_hflip", "check_whiten", "check_pad_crop",
           "check_eps_experiment"]


# ----------------------------------------------------------------------------------------------
# expected answers that carry the known wrong answers with them

class _Array(np.ndarray):
    """An ndarray (the right answer) that also carries known wrong answers and what they mean."""
    wrong: Tuple[Tuple[np.ndarray, str], ...] = ()


def _expect(value: np.ndarray, wrong: Iterable[Tuple[Callable[[], np.ndarray], str]]) -> _Array:
    """The right answer plus the wrong variants that can be computed for this case."""
    arr = np.asarray(value, dtype=np.float64).view(_Array)
    variants = []
    with np.errstate(all="ignore"):
        for make, message in wrong:
            try:
                v = np.asarray(make(), dtype=np.float64)
            except (ValueError, IndexError):          # this mistake cannot happen for this case
                continue
            if not _same(v, arr):
                variants.append((v, message))
    arr.wrong = tuple(variants)
    return arr


def _to_numpy(value: Any) -> Any:
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        return value.detach().cpu().numpy()
    return value


def _same(got: np.ndarray, v: np.ndarray) -> bool:
    if got.shape != v.shape:
        return False
    with np.errstate(all="ignore"):
        return bool(np.allclose(got, v, rtol=1e-5, atol=1e-7, equal_nan=True))


def _compare_named(got: Any, expected: Any) -> Optional[str]:
    """compare_arrays, plus the name of the mistake when ``got`` equals a known wrong answer."""
    got = _to_numpy(got)
    if got is not None and got is not Ellipsis and not np.iscomplexobj(got):
        try:
            g = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            g = None
        if g is not None:
            mistakes = list(dict.fromkeys(m for v, m in getattr(expected, "wrong", ()) if _same(g, v)))
            if mistakes:
                return "; or ".join(mistakes)
            if g.shape == np.shape(expected) and not np.isfinite(g).all():
                return ("the result has inf or NaN values: a pixel with S = 0 (constant in the "
                        "training set) was divided by zero; add eps to S")
    return compare_arrays(got, np.asarray(expected), rtol=1e-5, atol=1e-7)


# ----------------------------------------------------------------------------------------------
# Exercise: predict whitened values

@exercise_check("answer", title="Exercise 7.1: predict whitened values (S7.2)")
def check_whitened_prediction(answer: Any, train_values: Sequence[float] = (0.2, 0.4, 0.6, 0.8),
                              test_value: float = 1.0, *,
                              exercise: str = "Exercise 7.1: predict whitened values (S7.2)") -> Result:
    """Check a predicted ``(mean, std, test_whitened)`` for one pixel position, eps = 0.

    The pixel takes the values ``train_values`` in the N training images. After
    Procedure 17.1 (statistics from those values, dividing by N), the whitened
    training values have some mean and standard deviation, and a test image
    whose pixel is ``test_value`` gets some whitened value.

    Examples
    --------
    >>> check_whitened_prediction((0, 1, 5 ** 0.5)).status
    'pass'
    >>> check_whitened_prediction(...).status
    'not attempted'
    >>> "N - 1" in str(check_whitened_prediction((0, 1, 1.9365)))
    True
    """
    if is_stub(answer):
        return not_attempted(exercise, "replace the `...` with your three numbers.")
    seq = _to_numpy(answer)
    if isinstance(seq, np.ndarray) and seq.ndim == 1:
        seq = seq.tolist()
    if not isinstance(seq, (tuple, list)) or len(seq) != 3 or any(is_stub(a) for a in seq):
        return not_yet(exercise, f"expected a tuple (mean, std, test_whitened) of three numbers, "
                       f"got {_short(answer, 80)}.")
    got = [as_number(a) for a in seq]
    if any(g is None for g in got):
        return not_yet(exercise, f"the three entries must be numbers, got {_short(answer, 80)}.")
    v = np.asarray(train_values, dtype=np.float64)
    m, s = v.mean(), v.std()
    right = (0.0, 1.0, (test_value - m) / s)
    # "two decimals are enough": rounding M, S or the result to two decimals moves the test value by
    # up to about 0.04 here (S = 0.22 gives 2.27 instead of 2.236); the known mistakes are much further
    close = lambda a, b: abs(a - b) <= 0.06 * max(1.0, abs(b) / 2.5)
    problems = []
    if not close(got[0], right[0]):
        problems.append("mean: subtracting M, the training mean at this position, makes the whitened "
                        "training values average to exactly 0")
    if not close(got[1], right[1]):
        hint = ("std: dividing the centred values by S, their own standard deviation, makes the "
                "spread exactly 1 (eps = 0 here)")
        if close(got[1], float(np.sqrt((len(v) - 1) / len(v)))):
            hint = "std: that is what you get when S divides by N - 1; Procedure 17.1 divides by N"
        problems.append(hint)
    if not close(got[2], right[2]):
        known = [((test_value - m) / v.std(ddof=1), "S divides by N - 1 in your calculation; "
                  "Procedure 17.1 divides by N"),
                 (test_value - m, "you subtracted M but did not divide by S"),
                 ((test_value - m) / s ** 2, "you divided by the variance S^2 instead of S"),
                 ((test_value - m) / np.abs(v - m).mean(), "that divides by the mean absolute "
                  "deviation; S is the root of the mean *squared* deviation"),
                 ((m - test_value) / s, "the sign is flipped: W = (T - M) / S, so a pixel brighter "
                  "than average is positive"),
                 (test_value / s, "the mean M was not subtracted")]
        hint = ("not right yet: M and S come from the four training values only, and the test pixel is "
                "whitened with those same M and S")
        for value, message in known:
            if close(got[2], value):
                hint = message
                break
        problems.append("test value: " + hint)
    if not problems:
        return passed(exercise, "all three are right: a whitened test pixel is measured in training "
                      "standard deviations from the training mean.")
    return not_yet(exercise, f"{len(problems)} of the 3 numbers {'is' if len(problems) == 1 else 'are'} not "
                   f"right yet.", [f"got:      {_short(answer, 80)}"] + [f"problem:  {p}" for p in problems],
                   ["M is the average of the four training values and S the square root of their mean "
                    "squared deviation from M (divide by N = 4)",
                    "whitened = (value - M) / S for the training values and for the test value alike"])


# ----------------------------------------------------------------------------------------------
# Exercise: horizontal flip of an NCHW batch

def _hflip_cases() -> list:
    rng = np.random.default_rng(70)
    shapes = [("two RGB 4x5 images", (2, 3, 4, 5)), ("one grey 2x3 image", (1, 1, 2, 3)),
              ("a batch of 5 grey 7x4 images", (5, 1, 7, 4)), ("a CIFAR-sized batch", (8, 3, 32, 32)),
              ("one 3x3 image (symmetric sizes)", (1, 3, 3, 3))]
    cases = []
    for name, shape in shapes:
        x = np.round(rng.random(shape), 3)
        wrong = [(lambda x=x: x, "the images came back unchanged"),
                 (lambda x=x: x[:, :, ::-1, :], "that is a *vertical* flip (upside down): reverse the "
                  "last axis, W, not H"),
                 (lambda x=x: x[:, :, ::-1, ::-1], "both H and W are reversed (a 180 degree rotation); "
                  "reverse only W"),
                 (lambda x=x: x[:, ::-1], "the channel axis is reversed (RGB became BGR); reverse W, "
                  "the last axis"),
                 (lambda x=x: x[::-1], "the batch order is reversed, the images are not flipped"),
                 (lambda x=x: np.swapaxes(x, 2, 3), "that transposes each image (swaps H and W); "
                  "a flip reverses the order of the columns"),
                 (lambda x=x: np.rot90(x, 1, axes=(2, 3)), "that rotates the images by 90 degrees")]
        cases.append(Case(name, (x.copy(),), expected=_expect(x[..., ::-1], wrong)))
    return cases


@exercise_check("student_fn", title="Exercise 7.2: a horizontal flip (S7.4)")
def check_hflip(student_fn, *, exercise: str = "Exercise 7.2: a horizontal flip (S7.4)") -> Result:
    """Check ``student_fn(x)``: mirror every image of an (N, C, H, W) batch left to right.

    Examples
    --------
    >>> check_hflip(lambda x: x[..., ::-1]).status
    'pass'
    >>> "vertical" in str(check_hflip(lambda x: x[:, :, ::-1]))
    True
    """
    return check_function(exercise, student_fn, _hflip_cases(), compare=_compare_named,
                          success="Every image is mirrored left to right; course_lib.augment.hflip does "
                                  "the same on torch tensors.",
                          hints=["mirroring left to right changes the order of the columns only; rows, "
                                 "channels and images stay where they are",
                                 "in (N, C, H, W) the columns run along the last axis: reverse that axis "
                                 "and nothing else"],
                          forbid=["course_lib.augment.hflip", "course_lib.augment.random_flip",
                                  "torchvision.transforms.functional.hflip"],
                          forbid_reason="reverse the axis yourself")


# ----------------------------------------------------------------------------------------------
# Exercise: Procedure 17.1

def _whiten_wrong(Xtr: np.ndarray, X: np.ndarray, eps: float) -> list:
    M, S = Xtr.mean(0), Xtr.std(0)
    return [
        (lambda: (X - X.mean(0)) / (X.std(0) + eps),
         "the statistics come from the images being transformed (the test images): compute M and S "
         "on X_train only and apply them unchanged to X (using test statistics is leakage)"),
        (lambda: (X - M) / (Xtr.std(0, ddof=1) + eps),
         "S divides by N - 1 (np.std's ddof=1 or torch's default); Procedure 17.1 divides by N"),
        (lambda: (X - M) / np.sqrt(Xtr.var(0) + eps),
         "eps is inside the square root; Procedure 17.1 adds it to S: (X - M) / (S + eps)"),
        (lambda: (X - M) / (Xtr.var(0) + eps), "that divides by the variance S^2; divide by S"),
        (lambda: (X - M) / S, "eps was left out (S + eps in the denominator)"),
        (lambda: X / (S + eps), "the training mean M was not subtracted"),
        (lambda: X - M, "you subtracted M but did not divide by S + eps"),
        (lambda: (X - Xtr.mean()) / (Xtr.std() + eps),
         "one mean and one standard deviation for all pixels; Procedure 17.1 computes M and S for "
         "every position (channel, row, column) separately: reduce over axis 0 only"),
        (lambda: (X - Xtr.mean(axis=(0, 2, 3), keepdims=True))
         / (Xtr.std(axis=(0, 2, 3), keepdims=True) + eps),
         "per-channel statistics; Procedure 17.1 computes them per position: reduce over axis 0 only"),
        (lambda: (X - M) / (Xtr.std(axis=tuple(range(1, Xtr.ndim)), keepdims=True) + eps),
         "S is taken over the wrong axis (within each image); take it over the images, axis 0"),
        (lambda: (X - Xtr.mean(axis=tuple(range(1, Xtr.ndim)), keepdims=True))
         / (Xtr.std(axis=tuple(range(1, Xtr.ndim)), keepdims=True) + eps),
         "that is per-image standardisation (statistics within each image); Procedure 17.1 averages "
         "over the training images, axis 0"),
        (lambda: (X - M) / (Xtr.std(axis=-1, keepdims=True) + eps),
         "S is taken over the wrong axis (the last one, W); take it over the images, axis 0"),
        (lambda: (X - M) / (Xtr.std(axis=1, keepdims=True) + eps),
         "S is taken over the wrong axis (axis 1); take it over the images, axis 0"),
        (lambda: (X - M) / (np.sqrt(((Xtr - Xtr.mean(axis=tuple(range(1, Xtr.ndim)), keepdims=True)) ** 2)
                                    .mean(0)) + eps),
         "S uses a per-image mean M^(i) (the misprint in Procedure 17.1, erratum E4); S measures the spread "
         "of the training images around the same M that you subtract: no image index on M"),
        (lambda: (X - M) / (np.sqrt(((Xtr - Xtr.mean(axis=(2, 3), keepdims=True)) ** 2).mean(0)) + eps),
         "S uses a per-image, per-channel mean M^(i) (the misprint in Procedure 17.1, erratum E4); S "
         "measures the spread around the same M that you subtract: no image index on M"),
    ]


def _whiten_cases() -> list:
    rng = np.random.default_rng(17)
    settings = []
    Xtr = np.array([[[[0.0, 0.2], [0.5, 0.9]]], [[[0.2, 0.2], [0.1, 0.3]]],
                    [[[0.4, 0.2], [0.9, 0.6]]], [[[0.6, 0.2], [0.3, 0.0]]]])   # (4, 1, 2, 2)
    settings.append(("4 tiny training images, whitened themselves, eps=0.01", Xtr, Xtr, 0.01))
    settings.append(("the same training images, two *test* images, eps=0.01", Xtr,
                     np.array([[[[1.0, 0.5], [0.0, 0.2]]], [[[0.3, 0.2], [0.4, 0.4]]]]), 0.01))
    Xtr = rng.normal(0.5, 0.2, (10, 3, 4, 5)) * rng.uniform(0.2, 2.0, (3, 4, 5))
    settings.append(("10 RGB 4x5 training images, 3 test images, eps=0.1", Xtr,
                     rng.normal(0.7, 0.3, (3, 3, 4, 5)), 0.1))
    Xtr = rng.random((6, 1, 5, 5))
    Xtr[:, :, 0, :] = 0.0                                       # a border that is always paper
    settings.append(("training images with a constant (all-zero) border row, eps=0.01", Xtr,
                     rng.random((4, 1, 5, 5)), 0.01))
    settings.append(("eps=0 (no constant pixels)", Xtr[:, :, 1:], rng.random((2, 1, 4, 5)), 0.0))
    Xtr = rng.normal(0.3, 0.1, (50, 3, 8, 8))
    settings.append(("50 training images, 1 test image, eps=1", Xtr, rng.normal(0.4, 0.2, (1, 3, 8, 8)), 1.0))
    cases = []
    for name, xtr, x, eps in settings:
        right = PixelWhitener(eps=eps).fit(xtr).transform(x)
        cases.append(Case(name, (xtr.copy(), x.copy(), eps),
                          expected=_expect(right, _whiten_wrong(xtr, x, eps))))
    return cases


@exercise_check("student_fn", title="Exercise 7.3: Procedure 17.1 from scratch (S7.2, E4)")
def check_whiten(student_fn, *, exercise: str = "Exercise 7.3: Procedure 17.1 from scratch (S7.2, E4)") -> Result:
    """Check ``student_fn(X_train, X, eps)``: Procedure 17.1 fitted on X_train, applied to X.

    Compared with :class:`course_lib.whitening.PixelWhitener`.

    Examples
    --------
    >>> check_whiten(lambda Xtr, X, eps: (X - Xtr.mean(0)) / (Xtr.std(0) + eps)).status
    'pass'
    >>> from course_lib.whitening import PixelWhitener
    >>> "PixelWhitener" in str(check_whiten(lambda Xtr, X, eps: PixelWhitener(eps).fit(Xtr).transform(X)))
    True
    >>> r = check_whiten(lambda Xtr, X, eps: (X - X.mean(0)) / (X.std(0) + eps))
    >>> "leakage" in str(r)
    True
    """
    return check_function(exercise, student_fn, _whiten_cases(), compare=_compare_named,
                          hints=["M and S are computed once, from the training images only, with one value "
                                 "per position (channel, row, column); then every image in X is whitened "
                                 "with those same M and S",
                                 "reduce over the image axis only; S divides by N (not N - 1), and eps is "
                                 "added to S itself, outside any square root"],
                          forbid=["course_lib.whitening.PixelWhitener.fit",
                                  "course_lib.whitening.PixelWhitener.transform",
                                  "course_lib.whitening.PixelWhitener.fit_transform"],
                          forbid_reason="compute M and S with NumPy",
                          success="Your whitening matches PixelWhitener: M and S from the training images "
                                  "only (S dividing by N and using M, with no superscript (i)), applied "
                                  "unchanged to new images.")


# ----------------------------------------------------------------------------------------------
# Exercise: pad and crop (the deterministic heart of random_crop)

def _pad_crop_cases() -> list:
    rng = np.random.default_rng(75)
    settings = [("one 3x3 image, padding 1, window at the top-left corner", (1, 1, 3, 3), 1, 0, 0),
                ("padding 1, window at (2, 2): the bottom-right shift", (1, 1, 3, 3), 1, 2, 2),
                ("padding 2, no shift at all (dy = dx = padding)", (2, 3, 4, 4), 2, 2, 2),
                ("padding 2, dy != dx on a non-square image", (2, 3, 5, 7), 2, 0, 3),
                ("padding 4 on a CIFAR-sized batch", (3, 3, 32, 32), 4, 1, 6),
                ("padding 0 (the crop is the image itself)", (2, 1, 6, 5), 0, 0, 0)]
    cases = []
    for name, shape, p, dy, dx in settings:
        x = np.round(rng.random(shape) + 0.1, 3)                    # no zeros: padding is visible
        h, w = shape[2:]
        pad = lambda x, mode="constant", before=p, after=p: np.pad(
            x, ((0, 0), (0, 0), (before, after), (before, after)), mode=mode)
        right = pad(x)[:, :, dy:dy + h, dx:dx + w]
        wrong = [(lambda: pad(x)[:, :, dx:dx + h, dy:dy + w],
                  "dy and dx are swapped: dy moves the window down (rows, axis 2), dx right (axis 3)"),
                 (lambda: pad(x, before=0, after=2 * p)[:, :, dy:dy + h, dx:dx + w],
                  "all the padding went to the bottom and right; pad p pixels on every side"),
                 (lambda: pad(x, before=2 * p, after=0)[:, :, dy:dy + h, dx:dx + w],
                  "all the padding went to the top and left; pad p pixels on every side"),
                 (lambda: pad(x, mode="edge")[:, :, dy:dy + h, dx:dx + w],
                  "the border repeats the edge pixels; pad with zeros"),
                 (lambda: pad(x, mode="reflect")[:, :, dy:dy + h, dx:dx + w],
                  "the border mirrors the image; pad with zeros"),
                 (lambda: pad(x)[:, :, dy + p:dy + p + h, dx + p:dx + p + w],
                  "the offsets were counted from the original image's corner; (dy, dx) is the "
                  "window's top-left corner in the *padded* image, so (p, p) means no shift"),
                 (lambda: pad(x)[:, :, dy:dy + h + 2 * p, dx:dx + w + 2 * p],
                  "the window is as large as the padded image; cut out H x W")]
        cases.append(Case(name, (x.copy(), p, dy, dx), expected=_expect(right, wrong)))
    return cases


def _compare_pad_crop(got: Any, expected: Any) -> Optional[str]:
    g = _to_numpy(got)
    try:
        if np.iscomplexobj(g):
            raise TypeError("complex")
        arr = np.asarray(g, dtype=np.float64)
        if arr.shape == np.shape(expected) and np.isnan(arr).any():
            return ("the border is not zero: a buffer from np.empty holds whatever was in memory before "
                    "(the check fills such memory with NaN to make this visible); start from zeros "
                    "(np.zeros or np.pad)")
    except Exception:
        pass
    return _compare_named(got, expected)


@exercise_check("student_fn", title="Exercise 7.4: pad, then crop (S7.4, S7.5)")
def check_pad_crop(student_fn, *, exercise: str = "Exercise 7.4: pad, then crop (S7.4, S7.5)") -> Result:
    """Check ``student_fn(x, padding, dy, dx)``: zero-pad (N, C, H, W), cut the H x W window at (dy, dx).

    Examples
    --------
    >>> f = lambda x, p, dy, dx: np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))[:, :, dy:dy + x.shape[2],
    ...                                                                       dx:dx + x.shape[3]]
    >>> check_pad_crop(f).status
    'pass'
    """
    return check_function(exercise, student_fn, _pad_crop_cases(), compare=_compare_pad_crop,
                          hints=["make a zero image that is 2p rows taller and 2p columns wider, put the "
                                 "image in its middle, then cut out a window as large as the original image",
                                 "the window's top-left corner is at row dy, column dx of the *padded* image, "
                                 "so dy = dx = p gives the original image back"],
                          forbid=["course_lib.augment.random_crop"],
                          forbid_reason="write the padding and the crop yourself",
                          success="This is random_crop with the offsets (dy, dx) fixed; random_crop draws "
                                  "them uniformly from 0..2p for every image.")


# ----------------------------------------------------------------------------------------------
# Exercise: experiment on eps

def _eps_context():
    rng = np.random.default_rng(0)
    Xtr = rng.random((6, 1, 4, 4))
    Xtr[:, :, 0] = 0.0
    return dict(X_train=Xtr, X_test=rng.random((3, 1, 4, 4)), eps_values=(1e-4, 1e-2, 1.0))


@exercise_check("results", context=_eps_context, title="Exercise 7.5: how small should eps be? (S7.2)")
def check_eps_experiment(results: Any, X_train: np.ndarray, X_test: np.ndarray,
                         eps_values: Sequence[float], *,
                         exercise: str = "Exercise 7.5: how small should eps be? (S7.2)") -> Result:
    """Check ``results[eps]`` = the largest |whitened value| over X_test, for each eps.

    Whitening is fitted on X_train with :class:`~course_lib.whitening.PixelWhitener`
    (the check recomputes every value; float32 data are fine). No numbers are
    shown on success.

    Examples
    --------
    >>> from course_lib.whitening import PixelWhitener
    >>> rng = np.random.default_rng(0)
    >>> Xtr, Xte = rng.random((5, 1, 3, 3)), rng.random((2, 1, 3, 3))
    >>> res = {e: float(np.abs(PixelWhitener(e).fit(Xtr).transform(Xte)).max()) for e in (0.1, 1.0)}
    >>> check_eps_experiment(res, Xtr, Xte, (0.1, 1.0)).status
    'pass'
    >>> "the numbers themselves" in str(check_eps_experiment({str(e): v for e, v in res.items()}, Xtr, Xte, (0.1, 1.0)))
    True
    """
    if is_stub(results):
        return not_attempted(exercise, "run your experiment and fill in the results_7_5 dict.")
    if not isinstance(results, Mapping):
        return not_yet(exercise, f"expected a dict {{eps: largest |value|}}, got a {type(results).__name__}.")
    Xtr = np.asarray(_to_numpy(X_train), dtype=np.float64)
    Xte = np.asarray(_to_numpy(X_test), dtype=np.float64)
    missing = [e for e in eps_values if e not in results]
    if missing:
        text_keys = [k for k in results if isinstance(k, str)]
        extra = (" The keys must be the numbers themselves, e.g. results_7_5[1e-08], not text such as "
                 f"{text_keys[0]!r}." if text_keys else "")
        return not_yet(exercise, f"missing results for eps = {missing}.{extra}")
    hints = ["for each eps: fit PixelWhitener(eps) on the training images, transform the test images, and "
             "take the largest absolute value over everything",
             "one number per eps; fitting on the test images, or measuring the training images, gives "
             "different numbers"]
    details = []
    for e in eps_values:
        got = as_number(results[e])
        if got is None:
            return not_yet(exercise, f"results_7_5[{e!r}] must be one number, got {_short(results[e], 60)}.",
                           [], hints)
        with np.errstate(all="ignore"):
            truth = float(np.abs(PixelWhitener(e).fit(Xtr).transform(Xte)).max())
        if np.isclose(got, truth, rtol=1e-3):
            continue
        with np.errstate(all="ignore"):
            leak = float(np.abs(PixelWhitener(e).fit_transform(Xte)).max())
            train = float(np.abs(PixelWhitener(e).fit_transform(Xtr)).max())
        if np.isclose(got, leak, rtol=1e-3):
            why = "that whitener was fitted on the test images; fit on the training images, transform the test images"
        elif np.isclose(got, train, rtol=1e-3):
            why = "that is the largest value over the *training* images; measure the test images"
        elif got < 0:
            why = "take the absolute value before the maximum"
        else:
            why = "does not match the check's own measurement"
        details.append(f"eps = {e:g}: got {got:.4g}: {why}")
    if details:
        return not_yet(exercise, "some measurements do not match.", details, hints)
    return passed(exercise, "every measurement matches. Now answer the question in answer_7_5, then open the "
                  "discussion in the collapsed cell below.")
