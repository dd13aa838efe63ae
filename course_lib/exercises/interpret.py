"""Checks for the exercises of the chapter "What networks learn".

The truths are computed here (receptive fields from :mod:`course_lib.receptive_field`,
Grad-CAM maps and softmax derivatives from their formulas), and each check knows
the usual mistakes: Bishop's map without the ReLU, a sum where the mean belongs,
the derivative of the log-probability instead of the probability, a field that
forgets the pooling strides, a crop that ignores the padding.
"""
from __future__ import annotations

from typing import Any, List

import numpy as np

from ..models import forsyth_cifar
from ..interpret import field_layers
from ..receptive_field import receptive_fields
from .core import (Case, Result, check_function, check_value, compare_arrays, exercise_check, named_mistakes)

__all__ = ["check_grad_cam_map", "check_gap_factor", "check_softmax_gradient", "check_field_sizes",
           "check_crop_field"]


# ----------------------------------------------------------------------------------------------
# 12.1 the Grad-CAM map from activations and gradients

def _gc(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    return np.maximum(np.einsum("k,khw->hw", g.mean(axis=(1, 2)), a), 0)


def _grad_cam_cases() -> List[Case]:
    rng = np.random.default_rng(12)
    cases = []
    for k, h, w in [(3, 4, 4), (5, 6, 3), (1, 2, 2), (8, 7, 7)]:
        a = np.maximum(rng.normal(size=(k, h, w)), 0)          # post-ReLU activations
        g = rng.normal(size=(k, h, w))
        cases.append(Case(f"K={k}, H={h}, W={w}", (a, g), expected=_gc(a, g)))
    return cases


@exercise_check("grad_cam_map")
def check_grad_cam_map(grad_cam_map: Any) -> Result:
    """Exercise 12.1: ``grad_cam_map(activations, gradients)``, both (K, H, W): ReLU(sum_k alpha_k A^k).

    Examples
    --------
    >>> check_grad_cam_map(lambda a, g: np.maximum((g.mean(axis=(1, 2))[:, None, None] * a).sum(0), 0)).status
    'pass'
    >>> "ReLU" in str(check_grad_cam_map(lambda a, g: (g.mean(axis=(1, 2))[:, None, None] * a).sum(0)))
    True
    """
    cases = _grad_cam_cases()

    def variants(expected):
        for case in cases:
            if expected is case.expected:
                a, g = case.args
                alpha = g.mean(axis=(1, 2))
                signed = np.einsum("k,khw->hw", alpha, a)
                hw = a.shape[1] * a.shape[2]
                yield signed, ("that is Bishop's eq. 10.10 as printed: the ReLU of Selvaraju et al. is "
                               "missing, so negative evidence shows up in the map")
                yield np.maximum(signed * hw, 0), ("alpha_k is the MEAN of the gradients over the map; you "
                                                   "summed them (off by a factor H W)")
                yield np.maximum(np.einsum("k,khw->hw", np.maximum(g, 0).mean(axis=(1, 2)), a), 0), \
                    "the ReLU goes on the weighted sum, not on the gradients"
                yield np.maximum((g * a).sum(0), 0), ("that weights each position by its own gradient; "
                                                      "Grad-CAM averages the gradient over the whole map first")
                yield np.maximum(np.einsum("k,khw->hw", a.mean(axis=(1, 2)), g), 0), \
                    "activations and gradients are swapped: alpha_k comes from the gradients"

    def compare(got, expected):
        return compare_arrays(got, expected, rtol=1e-6, atol=1e-9)

    return check_function("Exercise 12.1: the Grad-CAM map (S12.4)", grad_cam_map, cases,
                          compare=named_mistakes(variants, compare),
                          hints=["first one number per channel: the average of that channel's gradient "
                                 "over all H x W positions",
                                 "then weight each activation map by its number, add the K maps, and set "
                                 "negative values to zero"],
                          forbid=["course_lib.interpret.grad_cam", "course_lib.interpret.grad_cam_parts"],
                          forbid_reason="write the formula from the arrays")


# ----------------------------------------------------------------------------------------------
# 12.2 Grad-CAM weight on a global-average-pool network

@exercise_check("answer")
def check_gap_factor(answer: Any) -> Result:
    """Exercise 12.2: for features 8 x 8 x 64 -> global average pool -> linear (w_ck), alpha_k / w_ck.

    Examples
    --------
    >>> check_gap_factor(1 / 64).status
    'pass'
    """
    h = w = 8
    expected = 1 / (h * w)
    mistakes = [(1.0, "the global average pool divides every feature by the number of positions: "
                      "d score / d A^k_ij is not w_ck"),
                (float(h * w), "the average divides, it does not multiply"),
                (1 / h, "the map has H x W = 8 x 8 positions, not 8"),
                (1 / 64 ** 2, "alpha_k averages the gradient once; each gradient is w_ck / (H W) already "
                              "the same at every position, and the mean of equal numbers is that number")]
    return check_value("Exercise 12.2: a Grad-CAM weight (S12.4)", answer, expected, rtol=1e-9,
                       mistakes=mistakes, what="your factor",
                       hint="write the score as sum_k w_ck (1 / (H W)) sum_ij A^k_ij + b_c and differentiate "
                            "by one A^k_ij",
                       hints=["that derivative is the same at every position, so its mean over the map "
                              "is itself"],
                       success="So on such a network Grad-CAM is class activation mapping, scaled by a "
                               "positive constant and passed through a ReLU.")


# ----------------------------------------------------------------------------------------------
# 12.3 why not maximise the probability

def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _softmax_cases() -> List[Case]:
    rng = np.random.default_rng(4)
    cases = []
    for k, c, scale in [(3, 0, 1.0), (10, 7, 2.0), (5, 4, 0.5), (10, 2, 5.0)]:
        z = rng.normal(size=k) * scale
        p = _softmax(z)
        cases.append(Case(f"{k} classes, class {c}", (z, c), expected=p[c] * (np.eye(k)[c] - p)))
    return cases


@exercise_check("probability_gradient")
def check_softmax_gradient(probability_gradient: Any) -> Result:
    """Exercise 12.3: ``probability_gradient(z, c)``: d softmax(z)_c / d z_j for every j, shape (K,).

    Examples
    --------
    >>> def good(z, c):
    ...     p = np.exp(z - z.max()); p = p / p.sum()
    ...     return p[c] * (np.eye(len(z))[c] - p)
    >>> check_softmax_gradient(good).status
    'pass'
    """
    cases = _softmax_cases()

    def variants(expected):
        for case in cases:
            if expected is case.expected:
                z, c = case.args
                p = _softmax(z)
                e = np.eye(len(z))[c]
                yield e - p, "that is the gradient of log p_c; the task asks for p_c itself (multiply by p_c)"
                yield p[c] * (1 - p[c]) * e, ("the other classes matter too: p_c depends on every score "
                                               "through the softmax denominator")
                yield p[c] * np.abs(e - p), "the derivative by another class's score is negative"
                yield p[c] * (p - e), "the sign is flipped"
                yield e.astype(float), "that is the derivative of the score z_c, not of the probability"

    return check_function("Exercise 12.3: the gradient of a probability (S12.3)", probability_gradient, cases,
                          compare=named_mistakes(variants, lambda g, e: compare_arrays(g, e, rtol=1e-6,
                                                                                        atol=1e-12)),
                          hints=["p_c = exp(z_c) / sum_j exp(z_j): differentiate by z_c and, separately, by "
                                 "a z_j with j != c",
                                 "both cases fit one formula with p_c, the vector p and the one-hot vector of c"],
                          forbid=["torch.autograd.grad", "torch.autograd.functional.jacobian",
                                  "torch.func.jacrev"],
                          forbid_reason="derive it by hand")


# ----------------------------------------------------------------------------------------------
# 12.4 how much of the image a unit sees

def _field_sizes():
    net = forsyth_cifar()
    out = []
    for layer in ("conv2", "conv3"):
        out.append(receptive_fields([g for _, g in field_layers(net, layer)], 32)[-1].size)
    return tuple(out)


@exercise_check("answer")
def check_field_sizes(answer: Any) -> Result:
    """Exercise 12.4: receptive-field sizes (pixels, one side) of a conv2 and a conv3 unit of Forsyth's
    CIFAR network.

    Examples
    --------
    >>> check_field_sizes(...).status
    'not attempted'
    """
    expected = _field_sizes()
    mistakes = [((9, 13), "the pooling layers widen the field too (3 x 3 windows) and their stride "
                          "spreads the later kernels"),
                ((11, 17), "each stride-2 pool doubles the spacing (the jump) of the next layer's taps: a "
                           "5 x 5 kernel after one pool covers 4 x 2 more pixels, not 4"),
                ((13, 29), "the 3 x 3 pools add (3 - 1) x jump pixels each"),
                ((15, 31), "the second pool adds (3 - 1) x 2 pixels too, before the jump becomes 4")]
    return check_value("Exercise 12.4: how much a unit sees (S12.2)", answer, expected, mistakes=mistakes,
                       what="your answer",
                       hint="track two numbers layer by layer: the field size r and the jump j; a layer with "
                            "kernel k and stride s does r += (k - 1) j, then j *= s",
                       hints=["conv1: r = 5, j = 1; pool1: r = 7, j = 2; continue from there"])


# ----------------------------------------------------------------------------------------------
# 12.5 cropping a receptive field

def _crop(image, row, col, size, jump, start, fill):
    c, h, w = image.shape
    out = np.full((c, size, size), fill, dtype=float)
    r0, c0 = start + row * jump, start + col * jump
    rs, re = max(r0, 0), min(r0 + size, h)
    cs, ce = max(c0, 0), min(c0 + size, w)
    out[:, rs - r0:re - r0, cs - c0:ce - c0] = image[:, rs:re, cs:ce]
    return out


def _crop_cases() -> List[Case]:
    rng = np.random.default_rng(5)
    img = rng.random((3, 32, 32))
    grey = rng.random((1, 12, 12))
    specs = [("a unit in the middle", img, 5, 6, 15, 2, -6, 1.0),
             ("a unit at the top-left border", img, 0, 1, 15, 2, -6, 1.0),
             ("a unit at the bottom-right border", img, 15, 15, 15, 2, -6, 0.0),
             ("a field larger than the image", grey, 1, 0, 19, 4, -6, -1.0),
             ("no padding, stride 1", grey, 3, 4, 5, 1, 0, 0.5)]
    return [Case(name, (im, r, c, s, j, st, f), expected=_crop(im, r, c, s, j, st, f))
            for name, im, r, c, s, j, st, f in specs]


@exercise_check("crop_field")
def check_crop_field(crop_field: Any) -> Result:
    """Exercise 12.5: ``crop_field(image, row, col, size, jump, start, fill)``: the size x size receptive
    field of unit (row, col) cut out of ``image`` (C, H, W); pixels outside the image get ``fill``.

    Examples
    --------
    >>> from course_lib.exercises.interpret import _crop
    >>> check_crop_field(_crop).status
    'pass'
    """
    cases = _crop_cases()

    def variants(expected):
        for case in cases:
            if expected is case.expected:
                im, r, c, s, j, st, f = case.args
                yield _crop(im, r, c, s, j, 0, f), ("the field of unit 0 starts at `start` (negative when it "
                                                    "reaches into the padding), not at 0")
                yield _crop(im, r, c, s, 1, st, f), "neighbouring units' fields are `jump` pixels apart"
                yield _crop(im, c, r, s, j, st, f), "row and column are swapped"
                yield _crop(im, r, c, s, j, st, 0.0) if f != 0 else None, \
                    "pixels outside the image must get the value `fill`"

    return check_function("Exercise 12.5: cut out a receptive field (S12.2)", crop_field, cases,
                          compare=named_mistakes(variants, lambda g, e: compare_arrays(g, e, rtol=0, atol=1e-12)),
                          hints=["unit (row, col) sees rows start + row * jump ... start + row * jump + size - 1, "
                                 "and the same for columns",
                                 "start from an array full of `fill` of shape (C, size, size) and copy in only "
                                 "the rows and columns that lie inside the image"],
                          forbid=["course_lib.interpret.top_patches"],
                          forbid_reason="write the crop yourself")
