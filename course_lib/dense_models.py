"""Networks that predict more than one label per image: window classifiers, grid detectors, FCN, U-Net.

Small on purpose: the detection and segmentation chapters train them on 64 x 64
generated scenes (:mod:`course_lib.scenes`) on a CPU in a few minutes. Builders
take ``seed`` like the other model builders and return fresh networks.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Optional

import torch
from torch import nn

from ._checks import check_int

__all__ = ["crop_classifier", "grid_detector", "fcn", "unet", "UNet"]


def _build(seed: Optional[int], make):
    if seed is not None:
        check_int("seed", seed, minimum=0)
    with torch.random.fork_rng(devices=[], enabled=seed is not None):
        if seed is not None:
            torch.manual_seed(seed)
        return make()


def crop_classifier(num_classes: int = 11, *, seed: Optional[int] = None) -> nn.Sequential:
    """A LeNet-style classifier for 28 x 28 crops (10 digits + background), with a fully connected head.

    conv 5x5 (1 -> 16), ReLU, max pool 2/2, conv 5x5 (16 -> 32), ReLU, max pool
    2/2, flatten (32 x 4 x 4), linear 512 -> 64, ReLU, linear 64 -> num_classes.
    Its total stride is 4 and its receptive field 28 x 28, so after
    :func:`course_lib.detection.convolutionalize` it scores windows 4 pixels apart.
    46,795 parameters for 11 classes.

    Examples
    --------
    >>> sum(p.numel() for p in crop_classifier().parameters())
    46795
    >>> crop_classifier(seed=0)(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 11])
    """
    num_classes = check_int("num_classes", num_classes, minimum=2)
    return _build(seed, lambda: nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(1, 16, 5)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2, 2)),   # 28 -> 24 -> 12
        ("conv2", nn.Conv2d(16, 32, 5)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2, 2)),  # 12 -> 8 -> 4
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(32 * 4 * 4, 64)), ("relu3", nn.ReLU()),
        ("fc2", nn.Linear(64, num_classes)),
    ])))


def _conv_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(inplace=True))


def grid_detector(num_classes: int = 10, *, width: int = 32, seed: Optional[int] = None) -> nn.Sequential:
    """A small one-stage grid detector in the spirit of YOLO, for 64 x 64 scenes.

    Three 3x3 conv-BN-ReLU blocks, each followed by 2x2 max pooling (total
    stride 8: an 8 x 8 grid of cells), two more 3x3 blocks that widen the
    receptive field to 54 pixels, and a 1x1 convolution to ``5 + num_classes``
    channels per cell: objectness, box (t_x, t_y, b_W, b_H) and class logits (see
    :func:`course_lib.detection.encode_grid_targets`). 98,367 parameters with the defaults.

    Examples
    --------
    >>> sum(p.numel() for p in grid_detector().parameters())
    98367
    >>> grid_detector(seed=0)(torch.zeros(1, 1, 64, 64)).shape
    torch.Size([1, 15, 8, 8])
    """
    num_classes = check_int("num_classes", num_classes, minimum=1)
    w = check_int("width", width, minimum=1)
    return _build(seed, lambda: nn.Sequential(
        _conv_block(1, w // 2), nn.MaxPool2d(2),          # 64 -> 32
        _conv_block(w // 2, w), nn.MaxPool2d(2),          # 32 -> 16
        _conv_block(w, 2 * w), nn.MaxPool2d(2),           # 16 -> 8
        _conv_block(2 * w, 2 * w),
        _conv_block(2 * w, 2 * w),
        nn.Conv2d(2 * w, 5 + num_classes, 1)))


class UNet(nn.Module):
    """Encoder-decoder with three poolings; ``skips=True`` concatenates encoder maps into the decoder.

    Encoder: blocks of two 3x3 conv-BN-ReLU at widths w, 2w, 4w with 2x2 max
    pooling between, and a 8w bottleneck at 1/8 of the input size. Decoder: a
    2x2 stride-2 transposed convolution per level, then two 3x3 blocks; with
    skips, the encoder map of the same size is concatenated first (Ronneberger
    et al. 2015). Without skips the decoder is identical except that the
    concatenation is missing: an FCN that must rebuild the detail from the
    bottleneck alone. A final 1x1 convolution gives the class logits.
    """

    def __init__(self, num_classes: int = 11, width: int = 16, skips: bool = True, in_channels: int = 1):
        super().__init__()
        num_classes = check_int("num_classes", num_classes, minimum=2)
        w = check_int("width", width, minimum=1)
        in_channels = check_int("in_channels", in_channels, minimum=1)
        if not isinstance(skips, bool):
            raise TypeError(f"skips must be True or False, got {skips!r}")
        self.skips = skips

        def double(c_in, c_out):
            return nn.Sequential(_conv_block(c_in, c_out), _conv_block(c_out, c_out))

        self.enc = nn.ModuleList([double(in_channels, w), double(w, 2 * w), double(2 * w, 4 * w)])
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = double(4 * w, 8 * w)
        self.up = nn.ModuleList([nn.ConvTranspose2d(8 * w, 4 * w, 2, stride=2),
                                 nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2),
                                 nn.ConvTranspose2d(2 * w, w, 2, stride=2)])
        m = 2 if skips else 1
        self.dec = nn.ModuleList([double(m * 4 * w, 4 * w), double(m * 2 * w, 2 * w), double(m * w, w)])
        self.head = nn.Conv2d(w, num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 8 or x.shape[-2] % 8:
            raise ValueError(f"input height and width must be multiples of 8, got {tuple(x.shape[-2:])}")
        saved = []
        for block in self.enc:
            x = block(x)
            saved.append(x)
            x = self.pool(x)
        x = self.bottleneck(x)
        for up, block, skip in zip(self.up, self.dec, reversed(saved)):
            x = up(x)
            if self.skips:
                x = torch.cat([skip, x], dim=1)
            x = block(x)
        return self.head(x)


def unet(num_classes: int = 11, *, width: int = 16, seed: Optional[int] = None) -> UNet:
    """A small U-Net (with skip connections) for 64 x 64 scenes. 482,619 parameters with the defaults.

    Examples
    --------
    >>> sum(p.numel() for p in unet().parameters())
    482619
    >>> unet(seed=0)(torch.zeros(1, 1, 64, 64)).shape
    torch.Size([1, 11, 64, 64])
    """
    return _build(seed, lambda: UNet(num_classes, width, skips=True))


def fcn(num_classes: int = 11, *, width: int = 16, seed: Optional[int] = None) -> UNet:
    """The same encoder-decoder without skip connections (a fully convolutional network), 434,235 parameters.

    Examples
    --------
    >>> sum(p.numel() for p in fcn().parameters())
    434235
    >>> fcn(seed=0)(torch.zeros(1, 1, 64, 64)).shape
    torch.Size([1, 11, 64, 64])
    """
    return _build(seed, lambda: UNet(num_classes, width, skips=False))
