"""Checks for the style-transfer exercises (chapter "Style transfer").

They know the usual mistakes: averaging instead of summing over positions in
the Gram matrix (Bishop's text says "average", his eq. 10.15 sums), the
position-by-position product F^T F instead of F F^T, a missing factor in the
normaliser (2IJK)^2, Buduma's garbled one-index sum (E20), the style and content
weights swapped.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np
import torch

from ..style import FeatureExtractor, content_loss, gram_matrix, style_loss, total_loss
from .core import (Case, Result, check_experiment, check_function, check_value, compare_arrays,
                   exercise_check, named_mistakes, passed)

__all__ = ["check_gram_matrix", "check_style_loss", "check_gram_prediction", "check_total_loss",
           "check_shift_experiment", "shift_experiment_truth", "LIBRARY_STYLE"]

#: Library functions a "write it yourself" exercise must not call.
LIBRARY_STYLE = ["course_lib.style.gram_matrix", "course_lib.style.gram_matrix_naive",
                 "course_lib.style.style_loss", "course_lib.style.style_loss_naive",
                 "course_lib.style.content_loss", "course_lib.style.total_loss"]


def _np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _feature_cases(seed: int):
    rng = np.random.default_rng(seed)
    return [("one image, 2 channels, 1 x 2 positions", np.array([[[[1.0, 2.0]], [[3.0, 4.0]]]])),
            ("one image, 3 channels, 4 x 5 (not square)", np.round(rng.standard_normal((1, 3, 4, 5)), 2)),
            ("a batch of 2 images, 4 channels, 3 x 3", np.round(rng.standard_normal((2, 4, 3, 3)), 2)),
            ("one channel only (a 1 x 1 Gram matrix)", np.round(rng.standard_normal((1, 1, 6, 2)), 2)),
            ("8 channels, 2 x 7, non-negative like ReLU outputs",
             np.round(np.maximum(rng.standard_normal((1, 8, 2, 7)), 0), 2))]


@exercise_check("student_fn", title="Exercise 16.1: the Gram matrix (S16.1)")
def check_gram_matrix(student_fn: Any, *, exercise: str = "Exercise 16.1: the Gram matrix (S16.1)") -> Result:
    """Check ``student_fn(features)``: (N, C, H, W) -> (N, C, C), a sum over positions (eq. 10.15).

    Examples
    --------
    >>> check_gram_matrix(lambda a: np.einsum("nkij,nlij->nkl", a, a)).status
    'pass'
    >>> r = check_gram_matrix(lambda a: np.einsum("nkij,nlij->nkl", a, a) / (a.shape[2] * a.shape[3]))
    >>> "average" in str(r)
    True
    >>> check_gram_matrix(...).status
    'not attempted'
    """
    inputs = _feature_cases(16)
    cases = [Case(name, (x,), expected=_np(gram_matrix(torch.from_numpy(x)))) for name, x in inputs]
    by_key = {c.expected.tobytes(): x for c, (_, x) in zip(cases, inputs)}

    def variants(expected):
        x = by_key.get(np.asarray(expected).tobytes())
        if x is None:
            return
        n, c, h, w = x.shape
        flat = x.reshape(n, c, h * w)
        yield expected / (h * w), ("these are averages over the positions: Bishop's text says "
                                   "\"average\", but eq. 10.15 is a sum (the normalisation comes in eq. 10.16).")
        yield expected / (h * w * c), "the sum over positions was divided by something: eq. 10.15 is a plain sum."
        yield np.einsum("nkp,nkq->npq", flat, flat), ("this compares *positions* with each other "
                                                      "(F^T F, shape (N, HW, HW)); the Gram matrix compares "
                                                      "*channels*: (N, C, C).")
        yield np.sqrt(np.abs(expected)), "the entries look square-rooted; F_kk' is a sum of products."
        yield expected[0], "the batch axis is missing: return one C x C matrix per image, (N, C, C)."

    return check_function(exercise, student_fn, cases, compare=named_mistakes(variants),
                          hints=["channel k and channel k' are compared at the same position (i, j); the "
                                 "products are added up over all H x W positions",
                                 "reshape each image's maps to a C x (H W) matrix F; the Gram matrix is then one "
                                 "matrix product of F with its transpose, in the right order"],
                          forbid=LIBRARY_STYLE, forbid_reason="the exercise is the Gram matrix itself")


@exercise_check("student_fn", title="Exercise 16.2: the style loss of one layer (S16.1, E20)")
def check_style_loss(student_fn: Any, *,
                     exercise: str = "Exercise 16.2: the style loss of one layer (S16.1, E20)") -> Result:
    """Check ``student_fn(generated, style)``: one-layer style loss, eq. 10.16, for (1, C, H, W) feature maps.

    Examples
    --------
    >>> def mine(g, s):
    ...     k, i, j = g.shape[1:]
    ...     diff = gram_matrix(torch.tensor(g)) - gram_matrix(torch.tensor(s))
    ...     return float((diff ** 2).sum()) / (2 * i * j * k) ** 2
    >>> check_style_loss(mine).status
    'pass'
    >>> "not squared" in str(check_style_loss(lambda g, s: mine(g, s) * 2 * g[0].size))
    True
    """
    rng = np.random.default_rng(162)
    pairs = [("1 channel, 1 x 3 vs zeros", np.array([[[[1.0, 1.0, 1.0]]]]), np.zeros((1, 1, 1, 3))),
             ("3 channels, 4 x 4 vs 4 x 4", rng.standard_normal((1, 3, 4, 4)), rng.standard_normal((1, 3, 4, 4))),
             ("5 channels, 3 x 6 vs a bigger style map 8 x 8", np.abs(rng.standard_normal((1, 5, 3, 6))),
              np.abs(rng.standard_normal((1, 5, 8, 8))))]
    same = rng.standard_normal((1, 2, 3, 3))
    pairs.append(("the same maps: zero loss", same, same.copy()))
    cases = [Case(name, (g, s), expected=np.float64(float(style_loss(torch.from_numpy(g), torch.from_numpy(s)))))
             for name, g, s in pairs]
    info = {c.expected.tobytes(): (g, s) for c, (_, g, s) in zip(cases, pairs)}

    def variants(expected):
        gs = info.get(np.asarray(expected).tobytes())
        if gs is None:
            return
        g, s = (torch.from_numpy(a) for a in gs)
        _, k, i, j = g.shape
        diff2 = ((gram_matrix(g) - gram_matrix(s)) ** 2).sum()
        yield float(diff2), "the normaliser 1 / (2 I J K)^2 is missing."
        yield float(diff2 / (i * j * k) ** 2), "the 2 in (2 I J K)^2 is missing: the normaliser is 1 / (4 K^2 (IJ)^2)."
        yield float(diff2 / (2 * i * j * k)), "the normaliser is not squared: it is 1 / (2 I J K)^2."
        _, _, h2, w2 = s.shape
        if (h2, w2) != (i, j):
            yield float(diff2 / (2 * h2 * w2 * k) ** 2), ("I and J are the sizes of the *generated* image's "
                                                          "feature maps, not the style image's.")
        yield float(((gram_matrix(g) - gram_matrix(s)).abs()).sum() / (2 * i * j * k) ** 2), \
            "the differences must be squared, not taken as absolute values."
        garbled = ((gram_matrix(g)[0].diagonal() - gram_matrix(s)[0].diagonal()) ** 2).sum() / (2 * i * j * k) ** 2
        yield float(garbled), ("only one index of the Gram matrix is summed (the diagonal): this is the garbled "
                               "form printed in Buduma (E20); sum over both k and k'.")

    return check_function(exercise, student_fn, cases,
                          compare=named_mistakes(variants, base=lambda got, exp: compare_arrays(got, exp, rtol=1e-5)),
                          hints=["compute both Gram matrices, subtract, square every entry and add them all up; then "
                                 "divide by the normaliser of eq. 10.16",
                                 "I, J: the height and width of the generated image's maps; K: the channels; the "
                                 "whole product 2 I J K is squared"],
                          forbid=LIBRARY_STYLE[2:], forbid_reason="the exercise is the loss itself (gram_matrix is fine)")


@exercise_check("shape", "distinct", context=lambda: dict(channels=64, height=24, width=24),
                title="Exercise 16.3: predict a style matrix (S16.1)")
def check_gram_prediction(shape: Any, distinct: Any, *, channels: int, height: int, width: int,
                          batch: int = 1, exercise: str = "Exercise 16.3: predict a style matrix (S16.1)") -> Result:
    """Check a predicted Gram-matrix shape (N, C, C) and number of distinct entries C (C + 1) / 2.

    Examples
    --------
    >>> r = check_gram_prediction((1, 4, 4), 10, channels=4, height=8, width=8)
    >>> r.status
    'pass'
    >>> "positions" in str(check_gram_prediction((1, 64, 64), 10, channels=4, height=8, width=8))
    True
    """
    c, hw = channels, height * width
    a = check_value(exercise + " shape", shape, (batch, c, c), what="the shape",
                    mistakes=[((batch, hw, hw), "that compares positions with positions; the style matrix "
                                                "compares channels"),
                              ((batch, c, hw), "that is the reshaped feature map F, before the product"),
                              ((c, c), "keep the batch axis: one matrix per image")],
                    hint="one row and one column per channel")
    b = check_value(exercise + " distinct entries", distinct, c * (c + 1) // 2, what="the number of distinct entries",
                    mistakes=[(c * c, "that counts every entry; F_kk' = F_k'k, so the matrix is symmetric"),
                              (c * (c - 1) // 2, "the diagonal entries (each channel with itself) count too"),
                              (hw, "that is the number of positions")],
                    hint="is F_kk' the same number as F_k'k?")
    if a.passed and b.passed:
        return passed(exercise, "both predictions are right.")
    return a if not a.passed else b


@exercise_check("student_fn", title="Exercise 16.5: the total loss (S16.1)")
def check_total_loss(student_fn: Any, *, exercise: str = "Exercise 16.5: the total loss (S16.1)") -> Result:
    """Check ``student_fn(features, content_targets, style_targets, alpha, lambdas)`` against eq. 10.13/10.17.

    ``features``, ``content_targets`` and ``style_targets`` are dicts layer -> (1, C, H, W) tensors;
    ``alpha`` is one number (the content weight), ``lambdas`` a dict layer -> style weight.

    Examples
    --------
    >>> def mine(f, c, s, alpha, lambdas):
    ...     return (alpha * sum(content_loss(f[k], c[k]) for k in c)
    ...             + sum(lambdas[k] * style_loss(f[k], s[k]) for k in s))
    >>> check_total_loss(mine).status
    'pass'
    >>> def unweighted(f, c, s, alpha, lambdas):
    ...     return sum(content_loss(f[k], c[k]) for k in c) + sum(style_loss(f[k], s[k]) for k in s)
    >>> "weights are missing" in str(check_total_loss(unweighted))
    True
    """
    gen = torch.Generator().manual_seed(165)

    def t(*shape):
        return torch.rand(*shape, generator=gen, dtype=torch.float64)

    setups = [("one content layer, one style layer", {"a": t(1, 2, 3, 3)}, {"a": t(1, 2, 3, 3)}, {"a": t(1, 2, 4, 4)},
               0.5, {"a": 10.0}),
              ("content at b, style at a and b with different weights",
               {"a": t(1, 3, 4, 4), "b": t(1, 4, 2, 2)}, {"b": t(1, 4, 2, 2)},
               {"a": t(1, 3, 5, 5), "b": t(1, 4, 3, 3)}, 0.01, {"a": 100.0, "b": 1000.0}),
              ("style only (no content layer)", {"a": t(1, 2, 2, 2)}, {}, {"a": t(1, 2, 2, 2)}, 1.0, {"a": 3.0})]
    cases = []
    for name, f, c, s, alpha, lam in setups:
        truth = float(total_loss(f, c, s, content_weight=alpha, style_weights=lam)["total"])
        cases.append(Case(name, (f, c, s, alpha, lam), expected=np.float64(truth)))
    info = {c.expected.tobytes(): st for c, st in zip(cases, setups)}

    def variants(expected):
        st = info.get(np.asarray(expected).tobytes())
        if st is None:
            return
        _, f, c, s, alpha, lam = st
        cl = sum((float(content_loss(f[k], c[k])) for k in c), 0.0)
        sl = {k: float(style_loss(f[k], s[k])) for k in s}
        yield cl + sum(sl.values()), "the weights are missing: alpha multiplies the content loss, lambda_l each style layer."
        yield alpha * cl + sum(sl.values()), "the style layers are not weighted by their lambda_l."
        yield cl + sum(lam[k] * v for k, v in sl.items()), "the content loss is not multiplied by alpha."
        yield alpha * cl, "the style loss is missing."
        yield sum(lam[k] * v for k, v in sl.items()), "the content loss is missing."

    return check_function(exercise, student_fn, cases,
                          compare=named_mistakes(variants, base=lambda got, exp: compare_arrays(got, exp, rtol=1e-5)),
                          hints=["loop over the content layers and over the style layers separately; each layer's "
                                 "loss is multiplied by its own weight",
                                 "content_loss and style_loss from course_lib.style are allowed here"],
                          forbid=["course_lib.style.total_loss"], forbid_reason="the exercise is to combine the parts")


@exercise_check("results", context=lambda: dict(extractor=None, image=None),
                title="Exercise 16.4: what a shift does to content and style (S16.2)")
def check_shift_experiment(results: Any, extractor: Optional[FeatureExtractor], image: Optional[torch.Tensor], *,
                           layer: str = "relu2_1", shift: int = 8,
                           exercise: str = "Exercise 16.4: what a shift does to content and style (S16.2)") -> Result:
    """Check the measured relative changes of the feature maps and of the Gram matrix under a circular shift.

    ``results = {"features": ..., "gram": ...}``, each ``||after - before|| / ||before||`` (Frobenius norms) at
    ``layer`` when ``image`` is rolled by ``shift`` pixels to the right (``torch.roll`` along the width).
    The check recomputes both with the same extractor and image.

    Examples
    --------
    >>> from course_lib.style import style_net
    >>> ext = FeatureExtractor(style_net(seed=0), ["relu2_1"])
    >>> img = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    >>> truth = shift_experiment_truth(ext, img)
    >>> check_shift_experiment(truth, ext, img).status
    'pass'
    >>> check_shift_experiment({"features": 0.1, "gram": 0.9}, ext, img).status
    'fail'
    """
    truth = shift_experiment_truth(extractor, image, layer=layer, shift=shift) if extractor is not None else None

    def close(key):
        def rule(v: Dict[str, float]) -> Optional[str]:
            if truth is None:
                return None
            if abs(v[key] - truth[key]) > 0.02 + 0.05 * truth[key]:
                other = "features" if key == "gram" else "gram"
                if abs(v[key] - truth[other]) <= 0.02 + 0.05 * truth[other]:
                    return f"results[{key!r}] looks like the value for {other!r}: are the two swapped?"
                return (f"results[{key!r}] does not match what the check measures with the same image, layer "
                        f"{layer!r} and shift {shift}: did you roll along the width (dims=-1), compare with the "
                        f"unshifted image, and divide by the norm *before* the shift?")
            return None
        return rule

    return check_experiment(exercise, results, ["features", "gram"],
                            ranges={"features": (0.0, 3.0), "gram": (0.0, 3.0)},
                            rules=[close("features"), close("gram")],
                            hints=["torch.roll(image, shifts=8, dims=-1) moves the picture 8 pixels to the right",
                                   "relative change: (after - before).norm() / before.norm()"])


def shift_experiment_truth(extractor: FeatureExtractor, image: torch.Tensor, *, layer: str = "relu2_1",
                           shift: int = 8) -> Dict[str, float]:
    """The two numbers of :func:`check_shift_experiment`, computed by the check itself.

    Examples
    --------
    >>> from course_lib.style import style_net
    >>> ext = FeatureExtractor(style_net(seed=0), ["relu2_1"])
    >>> t = shift_experiment_truth(ext, torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0)))
    >>> t["gram"] < t["features"]
    True
    """
    with torch.no_grad():
        a = extractor(image)[layer]
        b = extractor(torch.roll(image, shifts=shift, dims=-1))[layer]
        ga, gb = gram_matrix(a), gram_matrix(b)
    return {"features": float((b - a).norm() / a.norm()), "gram": float((gb - ga).norm() / ga.norm())}
