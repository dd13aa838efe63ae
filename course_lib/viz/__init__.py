"""Figures for the book. Every function returns a matplotlib Figure and never shows it.

Grey images use the ``gray`` colour map; signed quantities (kernels, feature
maps, whitened images) use ``RdBu_r`` with limits symmetric about zero, so
white always means zero, red positive and blue negative.

One module per kind of figure: :mod:`.images` (images, signed maps, filters,
feature maps, training curves) and :mod:`.classification` (what a trained
classifier gets wrong: confusion matrices, misclassified examples).
"""
from .images import *  # noqa: F401,F403
from .images import __all__ as _images_all
from .classification import *  # noqa: F401,F403
from .classification import __all__ as _classification_all
from .style import *  # noqa: F401,F403
from .style import __all__ as _style_all
from .sequences import *  # noqa: F401,F403
from .sequences import __all__ as _sequences_all
from .detection import *  # noqa: F401,F403
from .detection import __all__ as _detection_all

__all__ = list(_images_all) + list(_classification_all) + list(_style_all) + list(_sequences_all) + list(_detection_all)
from .datasets import *; from .datasets import __all__ as _datasets_all; __all__ += _datasets_all  # noqa: E702,F401,F403 (chapter 1 figures)
from .features import *; from .features import __all__ as _features_all; __all__ += _features_all  # noqa: E702,F401,F403 (chapter 2 figures)
from .convolution import *; from .convolution import __all__ as _convolution_all; __all__ += _convolution_all  # noqa: E702,F401,F403 (chapters 3-4 figures)
from .pooling import *; from .pooling import __all__ as _pooling_all; __all__ += _pooling_all  # noqa: E702,F401,F403 (chapter 5 figures)
from .gabor import *; from .gabor import __all__ as _gabor_all; __all__ += _gabor_all  # noqa: E702,F401,F403 (chapter 6 figures)
from .preprocessing import *; from .preprocessing import __all__ as _preprocessing_all; __all__ += _preprocessing_all  # noqa: E702,F401,F403 (chapter 7 figures)
from .speedrun import *; from .speedrun import __all__ as _speedrun_all; __all__ += _speedrun_all  # noqa: E702,F401,F403 (chapter 18 figures)
