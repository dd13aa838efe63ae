"""Checks for the convolution exercises (chapter "Convolution as pattern detection")."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..conv import conv2d, convolve2d, correlate2d
from .core import Case, Result, check_function, named_mistakes


def _same(a, b) -> bool:
    """Same shape and values (never raises on a shape mismatch)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.allclose(a, b))


def _random(rng, *shape):
    return np.round(rng.standard_normal(shape), 2)


def check_correlate2d(student_fn) -> Result:
    """Check ``student_fn(image, kernel)``: valid cross-correlation of 2D arrays, no padding.

    Examples
    --------
    >>> check_correlate2d(correlate2d).status
    'pass'
    >>> check_correlate2d(convolve2d).details[-1]
    'hint:     ...'
    """
    rng = np.random.default_rng(3)
    pairs = [("3x3 ramp, 2x2 ones", np.arange(9.0).reshape(3, 3), np.ones((2, 2))),
             ("4x5 image, asymmetric 2x3 kernel", _random(rng, 4, 5), _random(rng, 2, 3)),
             ("1x1 kernel scales the image", _random(rng, 3, 4), np.array([[2.5]])),
             ("kernel as big as the image", _random(rng, 3, 3), _random(rng, 3, 3)),
             ("MNIST-sized image, 5x5 kernel", _random(rng, 28, 28), _random(rng, 5, 5))]
    cases = [Case(name, (img, ker), expected=correlate2d(img, ker),
                  hint="out[i, j] = sum over u, v of kernel[u, v] * image[i + u, j + v]; the output "
                       "is (H - kH + 1) x (W - kW + 1)") for name, img, ker in pairs]

    def wrong(expected):
        for name, img, ker in pairs:
            if _same(expected, correlate2d(img, ker)):
                yield convolve2d(img, ker), ("this is the *convolution*: your kernel is flipped. "
                                             "Cross-correlation slides the kernel as it is.")
    return check_function("Exercise: cross-correlation from loops (S3.9)", student_fn, cases,
                          compare=named_mistakes(wrong))


def check_convolve2d(student_fn) -> Result:
    """Check ``student_fn(image, kernel)``: true convolution (flipped kernel), no padding.

    Examples
    --------
    >>> check_convolve2d(convolve2d).status
    'pass'
    >>> "not flipped" in check_convolve2d(correlate2d).details[3]
    True
    """
    rng = np.random.default_rng(4)
    pairs = [("4x4 image, asymmetric 2x2 kernel", _random(rng, 4, 4), np.array([[1.0, 2.0], [3.0, 4.0]])),
             ("5x6 image, 3x2 kernel", _random(rng, 5, 6), _random(rng, 3, 2)),
             ("a symmetric kernel gives the same as correlation", _random(rng, 4, 4), np.ones((3, 3)))]
    cases = [Case(name, (img, ker), expected=convolve2d(img, ker),
                  hint="flip the kernel in both axes (kernel[::-1, ::-1]) and then slide it")
             for name, img, ker in pairs]

    def wrong(expected):
        for name, img, ker in pairs:
            if _same(expected, convolve2d(img, ker)):
                yield correlate2d(img, ker), "the kernel was not flipped: that is cross-correlation."
                yield correlate2d(img, ker[::-1]), "only the rows were flipped; flip both axes."
                yield correlate2d(img, ker[:, ::-1]), "only the columns were flipped; flip both axes."
    return check_function("Exercise: true convolution (S3.1)", student_fn, cases, compare=named_mistakes(wrong))


def check_conv2d(student_fn) -> Result:
    """Check ``student_fn(x, weight, bias, stride, padding)`` on NCHW batches against conv2d.

    Examples
    --------
    >>> check_conv2d(lambda x, w, b, stride, padding: conv2d(x, w, b, stride, padding)).status
    'pass'
    >>> r = check_conv2d(lambda x, w, b, stride, padding: conv2d(x, w, None, stride, padding))
    >>> "bias" in r.details[3]
    True
    """
    rng = np.random.default_rng(5)
    settings = [("one channel in and out", (1, 1, 5, 5), (1, 1, 3, 3), 1, 0),
                ("RGB in, 4 maps out", (2, 3, 6, 7), (4, 3, 3, 3), 1, 0),
                ("stride 2", (1, 2, 7, 7), (3, 2, 3, 3), 2, 0),
                ("zero padding 1", (1, 2, 5, 5), (2, 2, 3, 3), 1, 1),
                ("stride 2 and padding 2, 5x5 kernel", (2, 3, 9, 8), (2, 3, 5, 5), 2, 2)]
    data = []
    for name, xs, ws, s, p in settings:
        x, w, b = _random(rng, *xs), _random(rng, *ws), _random(rng, ws[0])
        data.append((name, x, w, b, s, p))
    cases = [Case(name, (x, w, b), dict(stride=s, padding=p), expected=conv2d(x, w, b, s, p),
                  hint="out[n, o, i, j] = b[o] + sum over c, u, v of w[o, c, u, v] * "
                       "xpad[n, c, i*stride + u, j*stride + v]")
             for name, x, w, b, s, p in data]

    def wrong(expected):
        for name, x, w, b, s, p in data:
            if _same(expected, conv2d(x, w, b, s, p)):
                yield conv2d(x, w, None, s, p), "the bias is missing: add b[o] to every value of output channel o."
                yield conv2d(x, w[:, :, ::-1, ::-1], b, s, p), "the kernel is flipped; CNN layers cross-correlate."
    return check_function("Exercise: a multichannel conv layer (S3.7, S3.9)", student_fn, cases,
                          compare=named_mistakes(wrong))
