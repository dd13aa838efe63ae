"""course_lib: the code behind the interactive textbook on CNNs for image classification.

NumPy operations use NCHW arrays and torch's keyword names; each vectorised op
has a loop-based ``*_naive`` twin with the same signature.
"""
from .shapes import conv_output_size, conv_transpose_output_size, conv_params, conv_macs
from .receptive_field import Layer, receptive_fields, stack_receptive_field
from .conv import conv2d, conv2d_naive, correlate2d, correlate2d_naive, convolve2d
from .pooling import max_pool2d, max_pool2d_naive, avg_pool2d, avg_pool2d_naive
from .gabor import gabor_kernel, gabor_bank, bishop_gabor_bank
from .whitening import PixelWhitener, PatchWhitener, standardize_per_image, extract_patches
from .mode import get_mode, is_quick, pick
from .datasets import (CIFAR10_CLASSES, DataNotFoundError, DataSplit, load_cifar10, load_mnist,
                       mnist_train_test, resolve_data_root, subset, train_val_split, subsample,
                       cifar10_train_test)
from .training import (get_device, seed_everything, TensorLoader, History, fit, evaluate,
                       topk_errors, count_parameters)
from .training import predict, fastest_settings, SpeedSettings
from .costs import layer_costs
from .trained import load_trained, trained_info
from .detection import box_iou, nms
from .batchnorm import batch_norm, batch_norm_naive
from .resources import parameter_bytes, activation_bytes
from .interpret import grad_cam, upsample_cam
from .adversarial import fgsm, pgd
from .speedrun import speedrun_net, train_speedrun, tta_accuracy

__version__ = "0.1.0"

__all__ = [
    "conv_output_size", "conv_transpose_output_size", "conv_params", "conv_macs",
    "Layer", "receptive_fields", "stack_receptive_field",
    "conv2d", "conv2d_naive", "correlate2d", "correlate2d_naive", "convolve2d",
    "max_pool2d", "max_pool2d_naive", "avg_pool2d", "avg_pool2d_naive",
    "gabor_kernel", "gabor_bank", "bishop_gabor_bank",
    "PixelWhitener", "PatchWhitener", "standardize_per_image", "extract_patches",
    "get_mode", "is_quick", "pick",
    "CIFAR10_CLASSES", "DataNotFoundError", "DataSplit", "load_cifar10", "load_mnist", "mnist_train_test",
    "resolve_data_root", "subset", "train_val_split", "subsample", "cifar10_train_test",
    "get_device", "seed_everything", "TensorLoader", "History", "fit", "evaluate", "topk_errors",
    "count_parameters",
    "predict", "fastest_settings", "SpeedSettings", "layer_costs", "load_trained", "trained_info",
    "box_iou", "nms",
    "batch_norm", "batch_norm_naive", "parameter_bytes", "activation_bytes", "grad_cam", "upsample_cam",
    "fgsm", "pgd", "speedrun_net", "train_speedrun", "tta_accuracy",
]
