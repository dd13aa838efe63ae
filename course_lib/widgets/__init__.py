"""Interactive explorers for the book: one line in a notebook each.

Live (ipywidgets, need a running kernel; each returns its container and exposes its state):

* :func:`conv_arithmetic_explorer` -- output size of conv / pooling / transposed conv, drawn;
* :func:`receptive_field_tracer` -- edit a layer stack, see sizes and receptive fields;
* :func:`kernel_playground` -- feature maps and thresholded detections of a small kernel;
* :func:`gabor_explorer` -- Bishop's Gabor parameters, response and orientation tuning.

Static (self-contained HTML + JS for the published book, no kernel):

* :func:`conv_arithmetic_explorer_html`, :func:`receptive_field_tracer_html` (chapters 4, 5);
* :func:`kernel_playground_html` (chapter 3), :func:`gabor_explorer_html` (chapter 6),
  :func:`hog_explorer_html` (chapter 2);
* :func:`digit_scores_explorer_html` (chapter 1): precomputed frames from :func:`digit_score_grid`.
"""
from .conv_arith import (ConvArithmeticExplorer, conv_arithmetic_explorer,
                         conv_arithmetic_explorer_html)
from .gabor_view import GaborExplorer, gabor_explorer, grating, orientation_tuning
from .playground import KernelPlayground, kernel_playground, preset_kernels
from .receptive import ReceptiveFieldTracer, receptive_field_tracer, receptive_field_tracer_html
from ._geometry import Dropped
from .static_views import (ScoreGrid, digit_score_grid, digit_scores_explorer_html, gabor_explorer_html,
                           hog_explorer_html, kernel_playground_html)
from .augment_view import augment_explorer_html

__all__ = [
    "conv_arithmetic_explorer", "conv_arithmetic_explorer_html", "ConvArithmeticExplorer",
    "receptive_field_tracer", "receptive_field_tracer_html", "ReceptiveFieldTracer",
    "kernel_playground", "KernelPlayground", "preset_kernels",
    "gabor_explorer", "GaborExplorer", "orientation_tuning", "grating", "Dropped",
    "kernel_playground_html", "gabor_explorer_html", "hog_explorer_html",
    "augment_explorer_html", "ScoreGrid", "digit_score_grid", "digit_scores_explorer_html",
]
