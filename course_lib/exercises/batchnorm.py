"""Checks for the exercises of the chapter "Batch normalisation".

The truths come from :mod:`course_lib.batchnorm` (itself tested against torch),
and each check knows the usual mistakes: statistics per position instead of per
channel (or per example, which is instance norm), the unbiased variance in the
normalisation, eps outside the square root, TensorFlow's decay read as torch's
momentum, the biased variance in the running average, a fold that forgets the
running mean or scales the wrong axis, the variance where the standard
deviation belongs.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

import numpy as np

from ..batchnorm import batch_norm, fold_batch_norm_weights
from .core import (Case, Result, as_number, check_experiment, check_function, check_value, compare_arrays,
                   exercise_check, is_stub, named_mistakes, not_attempted)

__all__ = ["check_bn_statistics_count", "check_bn_forward", "check_running_update", "check_fold",
           "check_bias_shift", "check_batch_mean_spread"]

_FORBID_BN = ["course_lib.batchnorm.batch_norm", "course_lib.batchnorm.batch_norm_naive",
              "torch.nn.functional.batch_norm", "torch.batch_norm"]


# ----------------------------------------------------------------------------------------------
# Exercise 10.1: how many statistics, over how many values

@exercise_check("answer")
def check_bn_statistics_count(answer: Any) -> Result:
    """Exercise 10.1: (number of means, values per mean) that BatchNorm2d computes for a (32, 16, 14, 14) batch.

    Examples
    --------
    >>> check_bn_statistics_count(...).status
    'not attempted'
    >>> check_bn_statistics_count((16, 32)).status
    'fail'
    """
    title = "Exercise 10.1: how many statistics (S10.1)"
    if is_stub(answer):
        return not_attempted(title, "replace the `...` with a tuple (number of means, values per mean).")
    n, c, h, w = 32, 16, 14, 14
    truth = (c, n * h * w)
    mistakes = [((c, n), "the spatial positions are missing: for a convolutional layer every position of a "
                 "channel's map shares that channel's mean"),
                ((c * h * w, n), "that is one mean per channel *and position*, the fully connected rule; in a "
                 "conv layer the positions of a map share one mean and variance"),
                ((n * c, h * w), "one mean per image and channel is instance normalisation, not batch norm: "
                 "batch norm averages across the batch"),
                ((n, c * h * w), "one mean per image (over its channels and positions) is layer normalisation"),
                ((1, n * c * h * w), "a single mean for the whole batch would mix channels that measure "
                 "different things"),
                ((c, n * h * w - 1), "a count of values, not a divisor: the unbiased variance divides by one "
                 "less, but the mean averages all of them")]
    return check_value(title, answer, truth, what="your count", mistakes=mistakes,
                       hint="which axes of (N, C, H, W) does one channel's mean run over?",
                       hints=["one mean per channel; it averages every value that channel has in the batch"])


# ----------------------------------------------------------------------------------------------
# Exercise 10.2: the training-mode forward pass

def _bn_cases():
    rng = np.random.default_rng(10)
    small = np.array([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [0.0, 8.0]]],
                      [[[5.0, 6.0], [7.0, 8.0]], [[4.0, 0.0], [0.0, 0.0]]]])       # (2, 2, 2, 2)
    cases = [("2 images, 2 channels of 2 x 2, gamma 1, beta 0", small, np.ones(2), np.zeros(2), 1e-5),
             ("4 x 3 x 5 x 2 random, random gamma and beta", rng.normal(3, 2, (4, 3, 5, 2)), rng.normal(size=3),
              rng.normal(size=3), 1e-5),
             ("1 image, 2 channels of 3 x 4, large eps", rng.normal(0, 0.3, (1, 2, 3, 4)), np.array([2.0, -1.0]),
              np.array([0.5, 0.0]), 0.1),
             ("8 x 5 x 1 x 1 (a fully connected layer seen as 1 x 1 maps)", rng.normal(1, 4, (8, 5, 1, 1)),
              rng.uniform(0.5, 2, 5), rng.normal(size=5), 1e-5)]
    return [Case(name, (x, g, b, eps), expected=batch_norm(x, None, None, g, b, training=True, eps=eps))
            for name, x, g, b, eps in cases]


def _bn_variants(x, g, b, eps):
    shape = (1, -1, 1, 1)
    g4, b4 = g.reshape(shape), b.reshape(shape)
    out = []
    mean_pos, var_pos = x.mean(axis=0, keepdims=True), x.var(axis=0, keepdims=True)
    if x.shape[0] > 1:
        out.append(((x - mean_pos) / np.sqrt(var_pos + eps) * g4 + b4,
                    "the statistics are taken per position (over N only); in a conv layer they run over N, H "
                    "and W together"))
    mean_inst, var_inst = x.mean(axis=(2, 3), keepdims=True), x.var(axis=(2, 3), keepdims=True)
    if x.shape[2] * x.shape[3] > 1:
        out.append(((x - mean_inst) / np.sqrt(var_inst + eps) * g4 + b4,
                    "the statistics are taken per image (over H and W only): that is instance "
                    "normalisation; batch norm also averages over the batch"))
    m, v = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
    n = x.size // x.shape[1]
    if n > 1:
        out.append(((x - m) / np.sqrt(v * n / (n - 1) + eps) * g4 + b4,
                    "the variance is divided by m - 1 (unbiased); the normalisation uses the batch variance "
                    "divided by m (torch keeps the unbiased one only for the running average)"))
    out.append(((x - m) / (np.sqrt(v) + eps) * g4 + b4, "eps is added to the standard deviation; it belongs "
                "under the square root, with the variance"))
    out.append(((x - m) / np.sqrt(v + eps), "gamma and beta are not applied"))
    out.append(((x - m) / np.sqrt(v + eps) * b4 + g4, "gamma and beta are swapped: gamma scales, beta shifts"))
    out.append(((x - x.mean()) / np.sqrt(x.var() + eps) * g4 + b4,
                "one mean and variance for the whole batch: each channel needs its own"))
    return out


@exercise_check("student_fn")
def check_bn_forward(student_fn: Any) -> Result:
    """Exercise 10.2: ``bn_forward(x, gamma, beta, eps)`` in training mode for x of shape (N, C, H, W).

    Examples
    --------
    >>> import numpy as np
    >>> def good(x, g, b, eps):
    ...     m, v = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
    ...     return (x - m) / np.sqrt(v + eps) * g[None, :, None, None] + b[None, :, None, None]
    >>> check_bn_forward(good).status
    'pass'
    """
    cases = _bn_cases()

    def compare(got, expected):
        reason = compare_arrays(got, expected)
        if reason is None:
            return None
        case = next((c for c in cases if c.expected is expected), None)
        if case is not None:
            for wrong, message in _bn_variants(*case.args):
                if compare_arrays(got, wrong) is None:
                    return message
        return reason

    return check_function(
        "Exercise 10.2: batch norm in training mode (S10.2)", student_fn, cases, compare=compare,
        hints=["one mean and one variance per channel, over the N x H x W values of that channel",
               "reshape per-channel vectors to (1, C, 1, 1) so that they broadcast against (N, C, H, W)"],
        forbid=_FORBID_BN, forbid_reason="write the normalisation yourself")


# ----------------------------------------------------------------------------------------------
# Exercise 10.3: the running statistics

def _pair(value):
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value
    return None


def _running_cases():
    rng = np.random.default_rng(11)
    out = []
    for name, shape, mom in [("a (4, 2, 3, 3) batch, momentum 0.1", (4, 2, 3, 3), 0.1),
                             ("a (2, 3, 2, 5) batch, momentum 0.3", (2, 3, 2, 5), 0.3),
                             ("a (6, 4, 1, 1) batch, momentum 0.5", (6, 4, 1, 1), 0.5)]:
        x = rng.normal(2, 3, shape)
        c = shape[1]
        rm, rv = rng.normal(size=c), rng.uniform(0.5, 2, c)
        new_m, new_v = rm.copy(), rv.copy()
        batch_norm(x, new_m, new_v, training=True, momentum=mom)
        out.append(Case(name, (rm, rv, x, mom), expected=(new_m, new_v)))
    return out


def _running_variants(rm, rv, x, mom):
    axes = (0, 2, 3)
    m = x.size // x.shape[1]
    bm, bv = x.mean(axis=axes), x.var(axis=axes)
    ub = bv * m / (m - 1)
    return [(((1 - mom) * rm + mom * bm, (1 - mom) * rv + mom * bv),
             "the running variance gets the biased batch variance (divided by m); torch puts the unbiased "
             "one (divided by m - 1) into the running average"),
            ((mom * rm + (1 - mom) * bm, mom * rv + (1 - mom) * ub),
             "momentum weighs the new batch in torch: running = (1 - momentum) * running + momentum * batch. "
             "A TensorFlow-style decay of 0.9 is torch's momentum 0.1"),
            ((bm, ub), "the old running values are dropped: it is an average over many batches"),
            ((rm + mom * bm, rv + mom * ub), "the old value must also be scaled, by (1 - momentum)")]


@exercise_check("student_fn")
def check_running_update(student_fn: Any) -> Result:
    """Exercise 10.3: ``update_running(running_mean, running_var, x, momentum)`` -> (new mean, new var).

    Examples
    --------
    >>> import numpy as np
    >>> def good(rm, rv, x, mom):
    ...     m = x.size // x.shape[1]
    ...     bm, bv = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3)) * m / (m - 1)
    ...     return (1 - mom) * rm + mom * bm, (1 - mom) * rv + mom * bv
    >>> check_running_update(good).status
    'pass'
    """
    cases = _running_cases()

    def both(got, expected):
        g = _pair(got)
        if g is None:
            return "return a pair (new running_mean, new running_var)"
        for part, (a, b) in zip(("running_mean", "running_var"), zip(g, expected)):
            reason = compare_arrays(a, b)
            if reason is not None:
                return f"{part}: {reason}"
        return None

    def compare(got, expected):
        reason = both(got, expected)
        if reason is None:
            return None
        case = next((c for c in cases if c.expected is expected), None)
        if case is not None and _pair(got) is not None:
            for wrong, message in _running_variants(*case.args):
                if both(got, wrong) is None:
                    return message
        return reason

    return check_function(
        "Exercise 10.3: running statistics (S10.1)", student_fn, cases, compare=compare,
        hints=["new = (1 - momentum) * old + momentum * (this batch's statistic), per channel",
               "the batch variance that goes into the running average is divided by m - 1, m = N * H * W"],
        forbid=_FORBID_BN, forbid_reason="write the update yourself")


# ----------------------------------------------------------------------------------------------
# Exercise 10.4: folding batch norm into the convolution

def _fold_cases():
    rng = np.random.default_rng(12)
    out = []
    for name, wshape, eps in [("3 output channels, 2 input channels, 3 x 3 kernels, eps 1e-5", (3, 2, 3, 3), 1e-5),
                              ("4 output channels, 1 input channel, 1 x 2 kernels, eps 0.1", (4, 1, 1, 2), 0.1),
                              ("2 output channels, 5 input channels, 2 x 2 kernels, eps 0.5", (2, 5, 2, 2), 0.5)]:
        c = wshape[0]
        args = (rng.normal(size=wshape), rng.normal(size=c), rng.normal(size=c), rng.uniform(0.3, 3, c),
                rng.normal(1, 0.5, c), rng.normal(size=c), eps)
        out.append(Case(name, args, expected=fold_batch_norm_weights(*args[:6], eps=eps)))
    return out


def _fold_variants(w, b, rm, rv, g, beta, eps):
    c = w.shape[0]
    s = g / np.sqrt(rv + eps)
    col = (c,) + (1,) * (w.ndim - 1)
    good_w = w * s.reshape(col)
    out = [((good_w, b * s + beta), "the running mean is not subtracted: bias' = (bias - running_mean) * scale "
            "+ beta"),
           ((good_w, (b - rm) * s), "beta is missing from the new bias"),
           ((good_w, b - rm + beta), "the bias is not scaled along with the weights"),
           ((w * (g / (rv + eps)).reshape(col), (b - rm) * g / (rv + eps) + beta),
            "divided by the variance; batch norm divides by the standard deviation sqrt(var + eps)"),
           ((w * (g / np.sqrt(rv)).reshape(col), (b - rm) * g / np.sqrt(rv) + beta), "eps is left out")]
    if w.shape[1] == c:
        out.append(((w * s.reshape((1, c) + (1,) * (w.ndim - 2)), (b - rm) * s + beta),
                    "the input-channel axis is scaled; batch norm scales each *output* channel"))
    return out


@exercise_check("student_fn")
def check_fold(student_fn: Any) -> Result:
    """Exercise 10.4: ``fold(weight, bias, running_mean, running_var, gamma, beta, eps)`` -> (weight', bias').

    Examples
    --------
    >>> import numpy as np
    >>> def good(w, b, rm, rv, g, beta, eps):
    ...     s = g / np.sqrt(rv + eps)
    ...     return w * s[:, None, None, None], (b - rm) * s + beta
    >>> check_fold(good).status
    'pass'
    """
    cases = _fold_cases()

    def both(got, expected):
        g = _pair(got)
        if g is None:
            return "return a pair (new weight, new bias)"
        for part, (a, b) in zip(("weight", "bias"), zip(g, expected)):
            reason = compare_arrays(a, b)
            if reason is not None:
                return f"{part}: {reason}"
        return None

    def compare(got, expected):
        reason = both(got, expected)
        if reason is None:
            return None
        case = next((c for c in cases if c.expected is expected), None)
        if case is not None and _pair(got) is not None:
            for wrong, message in _fold_variants(*case.args):
                if both(got, wrong) is None:
                    return message
        return reason

    return check_function(
        "Exercise 10.4: folding batch norm into the convolution (S10.4)", student_fn, cases, compare=compare,
        hints=["in evaluation mode batch norm is y = (z - running_mean) / sqrt(running_var + eps) * gamma + beta, "
               "and z = conv(x) + bias: substitute and collect what multiplies x",
               "each output channel c gets one scale s_c; its whole kernel weight[c] is multiplied by s_c"],
        forbid=["course_lib.batchnorm.fold_batch_norm_weights", "course_lib.batchnorm.fold_batch_norm"],
        forbid_reason="derive the fold yourself")


# ----------------------------------------------------------------------------------------------
# Exercise 10.5: what a bias in front of batch norm does

@exercise_check("answer")
def check_bias_shift(answer: Any) -> Result:
    """Exercise 10.5: how much BN's output moves when the conv bias goes from 0 to 3, (training, evaluation).

    Examples
    --------
    >>> check_bias_shift(...).status
    'not attempted'
    >>> check_bias_shift((3, 3)).status
    'fail'
    """
    title = "Exercise 10.5: a bias in front of batch norm (S10.4)"
    if is_stub(answer):
        return not_attempted(title, "replace the `...` with a pair (change in training mode, change in "
                             "evaluation mode).")
    rng = np.random.default_rng(13)
    z = rng.normal(size=(8, 1, 4, 4))
    gamma, rm, rv = np.array([2.0]), np.array([0.5]), np.array([4.0])
    train = [batch_norm(z + b, None, None, gamma, None, training=True, eps=1e-12) for b in (0.0, 3.0)]
    evals = [batch_norm(z + b, rm, rv, gamma, None, training=False, eps=0.0) for b in (0.0, 3.0)]
    truth = (float(np.round(np.mean(train[1] - train[0]), 9)) + 0.0, float(np.mean(evals[1] - evals[0])))
    mistakes = [((3.0, truth[1]), "in training mode the batch mean moves up by the same 3, and subtracting it "
                 "removes the shift"),
                ((truth[0], 0.0), "in evaluation mode the running mean is fixed: the shift goes through, "
                 "scaled like everything else"),
                ((truth[0], 1.5), "the scale is gamma / sqrt(running_var), not gamma / running_var"),
                ((truth[0], 6.0), "the shift is also divided by sqrt(running_var)"),
                ((3.0, 3.0), "in training mode the batch mean moves with the bias, so the normalisation "
                 "cancels it"),
                ((0.0, 0.0), "in evaluation mode the running statistics do not move with the bias")]
    return check_value(title, answer, truth, what="your pair", mistakes=mistakes, atol=1e-6,
                       hint="a constant added to every value of a channel moves its batch mean by the same "
                            "constant; the running mean does not move",
                       hints=["evaluation mode: y = (z + bias - running_mean) / sqrt(running_var) * gamma"])


# ----------------------------------------------------------------------------------------------
# Exercise 10.6: how noisy a small batch's mean is

@exercise_check("results", context=lambda: dict(values=np.random.default_rng(0).normal(size=2000)))
def check_batch_mean_spread(results: Any, values: Any) -> Result:
    """Exercise 10.6: the standard deviation of the batch mean for batch sizes 2, 8 and 32.

    ``values`` is the array the student drew batches from; the check recomputes
    the expected spread, the values' standard deviation / sqrt(B) (within 15%).

    Examples
    --------
    >>> import numpy as np
    >>> v = np.random.default_rng(0).normal(2, 3, 5000)
    >>> check_batch_mean_spread({2: 3 / 2 ** 0.5, 8: 3 / 8 ** 0.5, 32: 3 / 32 ** 0.5}, v).status
    'pass'
    """
    title = "Exercise 10.6: the noise of a batch mean (S10.3)"
    try:
        vals = np.asarray(values, dtype=np.float64).ravel()
        sigma = float(vals.std())
    except Exception:
        sigma = float("nan")
    sizes = [2, 8, 32]

    def rule(v: Mapping[Any, float]) -> Optional[str]:
        if not np.isfinite(sigma) or sigma <= 0:
            return None
        for b in sizes:
            want = sigma / np.sqrt(b)
            if abs(v[b] - sigma ** 2 / b) < 0.15 * sigma ** 2 / b and abs(v[b] - want) > 0.15 * want:
                return (f"results[{b}] looks like the *variance* of the batch mean; the task asks for its "
                        f"standard deviation")
            if abs(v[b] - sigma) < 0.1 * sigma and b > 2:
                return (f"results[{b}] is about the spread of single values; measure the spread of the "
                        f"*means* of many batches of {b}")
        return None

    def close(v: Mapping[Any, float]) -> Optional[str]:
        if not np.isfinite(sigma) or sigma <= 0:
            return None
        for b in sizes:
            want = sigma / np.sqrt(b)
            if abs(v[b] - want) > 0.15 * want:
                return (f"results[{b}] is off by more than 15% from what random batches of {b} of these "
                        f"values give; draw many batches (a thousand or more) and take the standard "
                        f"deviation of their means")
        return None

    def shrinking(v: Mapping[Any, float]) -> Optional[str]:
        if not v[2] > v[8] > v[32]:
            return "larger batches must give less noisy means: results[2] > results[8] > results[32]"
        return None

    return check_experiment(title, results, sizes, ranges={b: (0.0, np.inf) for b in sizes},
                            rules=[rule, shrinking, close],
                            hints=["for each B: draw many random batches of B values, take each batch's mean, "
                                   "then the standard deviation of those means"])
