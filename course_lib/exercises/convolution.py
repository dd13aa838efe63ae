"""Checks for the convolution exercises (chapter "Convolution as pattern detection")."""
from __future__ import annotations

from typing import Any, List, Optional

import numpy as np

from ..conv import conv2d, convolve2d, correlate2d
from ..shapes import conv_macs, conv_output_size, conv_params
from .core import (Case, Result, _short, check_function, compare_arrays, exercise_check, is_stub,
                   not_attempted, not_yet, passed, same_value)

__all__ = ["check_correlate2d", "check_convolve2d", "check_conv2d", "check_layer_shapes"]

#: Library convolutions a "write it yourself" exercise must not call.
LIBRARY_CONVOLUTIONS = ["course_lib.conv.correlate2d", "course_lib.conv.correlate2d_naive",
                        "course_lib.conv.convolve2d", "course_lib.conv.conv2d", "course_lib.conv.conv2d_naive",
                        "scipy.signal.correlate2d", "scipy.signal.convolve2d", "scipy.signal.correlate",
                        "scipy.signal.convolve", "scipy.signal.fftconvolve", "scipy.signal.oaconvolve",
                        "scipy.ndimage.correlate", "scipy.ndimage.convolve",
                        "torch.nn.functional.conv2d", "torch.conv2d"]


def _same(a, b) -> bool:
    """Same shape and values (never raises on a shape mismatch)."""
    return compare_arrays(a, b) is None


def _random(rng, *shape):
    return np.round(rng.standard_normal(shape), 2)


def _shape_of(got: Any):
    try:
        return tuple(np.shape(got.detach().cpu().numpy() if hasattr(got, "detach") else got))
    except Exception:
        return None


def _valid_shape_reason(got: Any, image: np.ndarray, kernel: np.ndarray) -> Optional[str]:
    """Name the usual size mistakes of a valid 2D correlation."""
    shape = _shape_of(got)
    (h, w), (kh, kw) = image.shape, kernel.shape
    right = (h - kh + 1, w - kw + 1)
    if shape is None or shape == right:
        return None
    if shape == (h - kh, w - kw):
        return ("off by one: one position too few on each axis; the last window starts at "
                "row H - kH (and column W - kW), and that position counts too")
    if shape == (h - kh + 2, w - kw + 2):
        return "off by one: one position too many on each axis; the window must fit inside the image"
    if shape == (h, w):
        return "the output has the image's size; without padding it shrinks by the kernel size minus 1"
    if kh != kw and shape in ((h - kh + 1, w - kh + 1), (h - kw + 1, w - kw + 1)):
        return ("the kernel is not square here (kH != kW): use the kernel's height for the rows "
                "and its width for the columns")
    if shape == right[::-1]:
        return "the output is transposed: rows and columns are swapped"
    return None


def _correlate2d_cases():
    rng = np.random.default_rng(3)
    return [("3x3 ramp, 2x2 ones", np.arange(9.0).reshape(3, 3), np.ones((2, 2))),
            ("4x5 image, asymmetric 2x3 kernel", _random(rng, 4, 5), _random(rng, 2, 3)),
            ("1x1 kernel scales the image", _random(rng, 3, 4), np.array([[2.5]])),
            ("kernel as big as the image", _random(rng, 3, 3), _random(rng, 3, 3)),
            ("6x4 image, tall 3x1 kernel", _random(rng, 6, 4), _random(rng, 3, 1)),
            ("MNIST-sized image, 5x5 kernel", _random(rng, 28, 28), _random(rng, 5, 5))]


@exercise_check("student_fn", title="Exercise 3.1: cross-correlation from loops (S3.9)")
def check_correlate2d(student_fn, *, exercise: str = "Exercise 3.1: cross-correlation from loops (S3.9)") -> Result:
    """Check ``student_fn(image, kernel)``: valid cross-correlation of 2D arrays, no padding.

    The library's convolutions (course_lib, scipy.signal, torch) are switched off
    while the student's function runs: the task is to write the loops.

    Examples
    --------
    >>> def loops(image, kernel):
    ...     kh, kw = kernel.shape
    ...     out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    ...     for i in range(out.shape[0]):
    ...         for j in range(out.shape[1]):
    ...             out[i, j] = (image[i:i + kh, j:j + kw] * kernel).sum()
    ...     return out
    >>> check_correlate2d(loops).status
    'pass'
    >>> "flipped" in str(check_correlate2d(lambda im, k: loops(im, k[::-1, ::-1])))
    True
    >>> "calls course_lib.correlate2d" in str(check_correlate2d(correlate2d))
    True
    """
    pairs = _correlate2d_cases()
    cases = [Case(name, (img, ker), expected=correlate2d(img, ker)) for name, img, ker in pairs]
    by_id = {id(c.expected): (img, ker) for c, (_, img, ker) in zip(cases, pairs)}

    def compare(got, expected):
        img, ker = by_id[id(expected)]
        shape_reason = _valid_shape_reason(got, img, ker)
        if shape_reason:
            return shape_reason
        reason = compare_arrays(got, expected)
        if reason is None:
            return None
        if _same(got, convolve2d(img, ker)):
            return ("this is the *convolution*: your kernel is flipped. Cross-correlation slides the "
                    "kernel as it is.")
        if img.shape[0] == img.shape[1] and _same(got, np.asarray(expected).T):
            return "the output is transposed: out[i, j] belongs to row i and column j"
        return reason
    return check_function(exercise, student_fn, cases, compare=compare,
                          hints=["each output value is the dot product of the kernel with the image patch "
                                 "under it, and there is one output value for every position where the "
                                 "whole kernel fits inside the image",
                                 "for output (i, j) the patch starts at row i and column j and is as tall "
                                 "and as wide as the kernel (which need not be square); multiply it "
                                 "element by element with the kernel and add everything up"],
                          forbid=LIBRARY_CONVOLUTIONS, forbid_reason="use plain Python loops")


@exercise_check("student_fn", title="Exercise 3.2: the true convolution (S3.1)")
def check_convolve2d(student_fn, *, exercise: str = "Exercise 3.2: the true convolution (S3.1)") -> Result:
    """Check ``student_fn(image, kernel)``: true convolution (flipped kernel), no padding.

    ``cl.correlate2d`` is allowed; library convolutions are not.

    Examples
    --------
    >>> check_convolve2d(lambda im, k: correlate2d(im, k[::-1, ::-1])).status
    'pass'
    >>> "not flipped" in str(check_convolve2d(correlate2d))
    True
    """
    rng = np.random.default_rng(4)
    pairs = [("4x4 image, asymmetric 2x2 kernel", _random(rng, 4, 4), np.array([[1.0, 2.0], [3.0, 4.0]])),
             ("5x6 image, 3x2 kernel", _random(rng, 5, 6), _random(rng, 3, 2)),
             ("3x5 image, 1x3 kernel", _random(rng, 3, 5), np.array([[1.0, 0.0, -2.0]])),
             ("a symmetric kernel gives the same as correlation", _random(rng, 4, 4), np.ones((3, 3)))]
    cases = [Case(name, (img, ker), expected=convolve2d(img, ker)) for name, img, ker in pairs]
    by_id = {id(c.expected): (img, ker) for c, (_, img, ker) in zip(cases, pairs)}

    def compare(got, expected):
        img, ker = by_id[id(expected)]
        shape_reason = _valid_shape_reason(got, img, ker)
        if shape_reason:
            return shape_reason
        reason = compare_arrays(got, expected)
        if reason is None:
            return None
        for variant, message in [(correlate2d(img, ker), "the kernel was not flipped: that is cross-correlation."),
                                 (correlate2d(img, ker[::-1]), "only the rows were flipped; flip both axes."),
                                 (correlate2d(img, ker[:, ::-1]), "only the columns were flipped; flip both axes."),
                                 (correlate2d(img, ker.T), "the kernel was transposed, not flipped: a flip "
                                                           "reverses the order along an axis.")]:
            if _same(got, variant):
                return message
        return reason
    return check_function(exercise, student_fn, cases, compare=compare,
                          hints=["convolution turns the kernel around before sliding it over the image: "
                                 "the kernel's last row meets the first row of the patch",
                                 "turning around means both axes, rows and columns (a rotation by 180 "
                                 "degrees); after that it is an ordinary cross-correlation, which you may "
                                 "compute with cl.correlate2d"],
                          forbid=["course_lib.conv.convolve2d", "scipy.signal.convolve2d", "scipy.signal.convolve",
                                  "scipy.signal.fftconvolve", "scipy.signal.oaconvolve", "scipy.ndimage.convolve"],
                          forbid_reason="a library convolution flips the kernel for you")


def _conv_shape(x_shape, w_shape, kh, kw, s, p):
    n, _, h, w = x_shape
    return (n, w_shape[0], conv_output_size(h, kh, s, p), conv_output_size(w, kw, s, p))


@exercise_check("student_fn", title="Exercise 3.4: a whole convolutional layer (S3.7, S3.9)")
def check_conv2d(student_fn, *, exercise: str = "Exercise 3.4: a whole convolutional layer (S3.7, S3.9)") -> Result:
    """Check ``student_fn(x, weight, bias, stride, padding)`` on NCHW batches against conv2d.

    All five arguments are passed positionally (the names are the student's
    choice); kernels may be non-square; the library's convolutions are
    switched off while the student's function runs.

    Examples
    --------
    >>> def layer(x, w, b, s, p):
    ...     xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    ...     kh, kw = w.shape[2:]
    ...     ho, wo = (xp.shape[2] - kh) // s + 1, (xp.shape[3] - kw) // s + 1
    ...     out = np.zeros((x.shape[0], w.shape[0], ho, wo))
    ...     for i in range(ho):
    ...         for j in range(wo):
    ...             patch = xp[:, :, i * s:i * s + kh, j * s:j * s + kw]
    ...             out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    ...     return out
    >>> check_conv2d(layer).status
    'pass'
    >>> r = check_conv2d(lambda x, w, b, s, p: conv2d(x, w, b, s, p))
    >>> "calls course_lib.conv2d" in str(r)
    True
    """
    rng = np.random.default_rng(5)
    settings = [("one channel in and out", (1, 1, 5, 5), (1, 1, 3, 3), 1, 0),
                ("RGB in, 4 maps out", (2, 3, 6, 7), (4, 3, 3, 3), 1, 0),
                ("a non-square 2x3 kernel", (2, 3, 6, 7), (4, 3, 2, 3), 1, 0),
                ("stride 2", (1, 2, 7, 7), (3, 2, 3, 3), 2, 0),
                ("zero padding 1", (1, 2, 5, 5), (2, 2, 3, 3), 1, 1),
                ("a tall 3x1 kernel, stride 2, padding 1", (1, 2, 7, 8), (3, 2, 3, 1), 2, 1),
                ("stride 2 and padding 2, 5x5 kernel", (2, 3, 9, 8), (2, 3, 5, 5), 2, 2)]
    data = []
    for name, xs, ws, s, p in settings:
        x, w, b = _random(rng, *xs), _random(rng, *ws), _random(rng, ws[0])
        data.append((name, x, w, b, s, p))
    cases = [Case(name, (x, w, b, s, p), expected=conv2d(x, w, b, s, p)) for name, x, w, b, s, p in data]
    by_id = {id(c.expected): d for c, d in zip(cases, data)}

    def compare(got, expected):
        _, x, w, b, s, p = by_id[id(expected)]
        kh, kw = w.shape[2:]
        shape = _shape_of(got)
        right = tuple(np.shape(expected))
        if shape is not None and shape != right:
            named = [(_conv_shape(x.shape, w.shape, kw, kw, s, p), "the kernel is not square here: use "
                      "weight.shape[2] for the rows and weight.shape[3] for the columns"),
                     (_conv_shape(x.shape, w.shape, kh, kh, s, p), "the kernel is not square here: use "
                      "weight.shape[2] for the rows and weight.shape[3] for the columns"),
                     (_conv_shape(x.shape, w.shape, kh, kw, 1, p), "the stride is ignored: the window "
                      "moves `stride` pixels at a time"),
                     (_conv_shape(x.shape, w.shape, kh, kw, s, 0), "the padding is missing: pad H and W "
                      "with `padding` zeros on both sides first"),
                     ((x.shape[0], x.shape[1]) + right[2:], "the output has C_in channels; it has one "
                      "channel per filter, weight.shape[0]")]
            for variant, message in named:
                if shape == variant and variant != right:
                    return f"shape {shape}, expected shape {right}: {message}"
        reason = compare_arrays(got, expected)
        if reason is None:
            return None
        for variant, message in [
                (conv2d(x, w, None, s, p), "the bias is missing: add b[o] to every value of output channel o."),
                (conv2d(x, w[:, :, ::-1, ::-1], b, s, p), "the kernel is flipped; CNN layers cross-correlate."),
                (conv2d(x, w, b[::-1].copy(), s, p), "the biases are in the wrong order: b[o] belongs to "
                                                     "output channel o.")]:
            if _same(got, variant):
                return message
        return reason
    return check_function(exercise, student_fn, cases, compare=compare,
                          hints=["pad H and W with zeros first; then every output value is the dot product "
                                 "of one filter (C_in x kH x kW) with the block of the padded input under "
                                 "the window, plus that filter's bias",
                                 "output (n, o, i, j) uses filter o and the rows i*stride ... i*stride + "
                                 "kH - 1 and columns j*stride ... j*stride + kW - 1 of the padded image n, "
                                 "over all input channels; the kernel can be non-square"],
                          forbid=LIBRARY_CONVOLUTIONS, forbid_reason="loops or NumPy, not a library convolution")


# ------------------------------------------------------------------------------------------ 3.3

@exercise_check("predicted_shape", "predicted_params", title="Exercise 3.3: predict the shapes of a layer (S3.7)")
def check_layer_shapes(predicted_shape: Any, predicted_params: Any, *, batch: int = 8, in_channels: int = 3,
                       height: int = 32, width: int = 32, out_channels: int = 16, kernel_size: int = 5,
                       exercise: str = "Exercise 3.3: predict the shapes of a layer (S3.7)") -> Result:
    """Check a predicted NCHW output shape and parameter count of one conv layer (stride 1, no padding).

    Never shows the right numbers; names the usual mistakes.

    Examples
    --------
    >>> check_layer_shapes((8, 16, 28, 28), 1216).status
    'pass'
    >>> check_layer_shapes(np.array([8, 16, 28, 28]), np.int64(1216)).status
    'pass'
    >>> r = check_layer_shapes((8, 28, 28, 16), 1200)
    >>> "(N, C, H, W)" in str(r) and "bias" in str(r) and "1216" not in str(r)
    True
    """
    if is_stub(predicted_shape) and is_stub(predicted_params):
        return not_attempted(exercise, "replace the two `...` with your predictions.")
    k, n, cin, cout = kernel_size, batch, in_channels, out_channels
    ho, wo = conv_output_size(height, k), conv_output_size(width, k)
    shape, params = (n, cout, ho, wo), conv_params(cin, cout, k)
    shape_mistakes = [((n, ho, wo, cout), "the channels are last (N, H, W, C); PyTorch's order is (N, C, H, W)"),
                      ((n, cout, height - k, width - k), "off by one in H and W: count the positions where the "
                                                          "kernel fits, the first one included"),
                      ((n, cout, height, width), "without padding the maps shrink: H and W lose k - 1"),
                      ((n, cin, ho, wo), "the output has one channel per kernel block, not C_in"),
                      ((cout, ho, wo), "the batch axis N is missing: the output is 4D"),
                      ((n, cout, height - k - 1, width - k - 1), "the maps shrink by k - 1, not k + 1")]
    param_mistakes = [(k * k * cin * cout, "the biases are missing: one per output channel"),
                      (k * k * cout + cout, "each kernel block spans all C_in input channels"),
                      (k * k * cout, "each kernel block spans all C_in input channels, and each output "
                                     "channel has a bias"),
                      (k * k * cin + 1, "that is one block; the layer has one per output channel"),
                      (k * k * cin * cout + cin, "one bias per *output* channel, not per input channel"),
                      (conv_macs(cin, cout, k, ho, wo), "that is the multiply-add count; parameters do not "
                                                        "depend on the image size")]
    details: List[str] = []
    for what, answer, right, mistakes in (("shape", predicted_shape, shape, shape_mistakes),
                                          ("parameters", predicted_params, params, param_mistakes)):
        if is_stub(answer):
            details.append(f"{what}: still `...`")
        elif not same_value(answer, right):
            problem = next((m for v, m in mistakes if v != right and same_value(answer, v)), None)
            if problem is None:
                if what == "shape" and len(np.shape(answer) if not isinstance(answer, (tuple, list)) else answer) != 4:
                    problem = "give four numbers (N, C, H, W)"
                else:
                    problem = "not right yet"
            details.append(f"{what}: got {_short(answer, 60)}: {problem}")
    if not details:
        return passed(exercise, "the shape and the parameter count are right: a 3D block per output "
                      "channel, a bias each, and maps that shrink by k - 1 without padding.")
    return not_yet(exercise, f"{len(details)} of 2 predictions not right yet.", details,
                   ["each output channel comes from one kernel block that spans all input channels; the "
                    "batch size does not change; without padding a k x k kernel fits at H - k + 1 rows",
                    "parameters: every block has k x k x C_in weights, and every output channel adds one "
                    "bias"])
