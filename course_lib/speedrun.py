"""A fast CIFAR-10 recipe rebuilt from the book's parts (chapter 18).

The recipe follows the ingredients of airbench94 (Jordan, 2024, "94% on
CIFAR-10 in 3.29 seconds on a single GPU"): a frozen first layer made of
whitening filters of 2 x 2 patches (chapter 7's :class:`PatchWhitener`), three
conv-pool-batch-norm blocks, Nesterov SGD with a warm-up and a linear decay,
label smoothing, flip and translate augmentation with alternating flips, an
exponential moving average of the weights, and test-time augmentation. Every
ingredient is a field of :class:`SpeedrunConfig`, so that chapter 18 can remove
one at a time and measure what it was worth.

Shapes: images are NCHW, ``(N, 3, 32, 32)``, uint8 or float in [0, 1]; the
trained model (``Sequential(preprocess=ChannelNormalize, net=speedrun_net)``)
takes float images in [0, 1] and returns logits ``(N, 10)``.
"""
from __future__ import annotations

import dataclasses
import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ._checks import check_int, check_real
from .training import _cpu_native_bf16, get_device
from .whitening import PatchWhitener

__all__ = ["SpeedrunConfig", "ChannelNormalize", "ConvGroup", "speedrun_net", "whitening_filters",
           "init_whitening_", "AugmentedLoader", "SpeedrunResult", "train_speedrun", "predict_tta",
           "tta_accuracy", "default_speed_settings"]

_FLIPS = ("alternating", "random", "none")
_SCHEDULES = ("warmup_decay", "decay", "constant")
_OPTIMIZERS = ("nesterov", "momentum")
_WHITEN = ("pca", "zca", "learned")


def _check_widths(widths) -> Tuple[int, int, int]:
    """The three block widths as a tuple of positive ints (config and builder share this check)."""
    if (not isinstance(widths, (tuple, list)) or len(widths) != 3
            or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths)):
        raise ValueError(f"widths must be three positive ints, got widths={widths!r}; pass e.g. "
                         f"widths=(64, 256, 256)")
    return tuple(widths)


@dataclass(frozen=True)
class SpeedrunConfig:
    """Every choice of the recipe; the defaults are airbench94's hyperparameters.

    Learning rate and weight decay are given per 1,024 examples and decoupled
    from the momentum, as in airbench: the optimiser's own values are
    ``lr / (1024 (1 + 1/(1 - momentum)))`` and so on (see :func:`train_speedrun`).

    Attributes
    ----------
    epochs : float
        Passes over the training images (fractional: the last one stops early).
    batch_size : int
    lr, momentum, weight_decay : float
    bias_scaler : float
        Learning-rate multiplier for the batch-norm biases.
    label_smoothing : float
        In [0, 1).
    whiten : {"pca", "zca", "learned"}
        Frozen whitening filters (PCA or ZCA of 2 x 2 patches, each with its
        negative) or an ordinary learned first layer of the same shape.
    whiten_eps : float
        Added to the patch-covariance eigenvalues.
    whiten_images : int
        Training images whose patches estimate the covariance.
    whiten_bias_epochs : int
        Epochs during which the first layer's bias is trained.
    widths : (int, int, int)
        Channels of the three blocks.
    batch_norm : bool
    batchnorm_momentum : float
        airbench's convention: the running statistics keep this share of the
        old value (torch's ``momentum`` is ``1 - batchnorm_momentum``).
    optimizer : {"nesterov", "momentum"}
    schedule : {"warmup_decay", "decay", "constant"}
        Learning-rate multiplier over the steps: 0.2 -> 1 over the first 23%,
        then 1 -> 0.07 (``warmup_decay``); 1 -> 0.07 (``decay``); 1 (``constant``).
    lookahead : bool
        Exponential moving average of the weights, copied back every 5 steps.
    flip : {"alternating", "random", "none"}
    translate : int
        Random shifts of up to this many pixels (reflection padding).
    tta_level : {0, 1, 2}
        Test-time augmentation: none, flip, flip and one-pixel shifts.
    """
    epochs: float = 9.9
    batch_size: int = 1024
    lr: float = 11.5
    momentum: float = 0.85
    weight_decay: float = 0.0153
    bias_scaler: float = 64.0
    label_smoothing: float = 0.2
    whiten: str = "pca"
    whiten_eps: float = 5e-4
    whiten_images: int = 5000
    whiten_bias_epochs: int = 3
    widths: Tuple[int, int, int] = (64, 256, 256)
    batch_norm: bool = True
    batchnorm_momentum: float = 0.6
    optimizer: str = "nesterov"
    schedule: str = "warmup_decay"
    lookahead: bool = True
    flip: str = "alternating"
    translate: int = 2
    tta_level: int = 2

    def __post_init__(self):
        check_real("epochs", self.epochs, low=0, low_open=True)
        check_int("batch_size", self.batch_size, minimum=1)
        for name in ("lr", "weight_decay", "bias_scaler", "whiten_eps"):
            check_real(name, getattr(self, name), low=0)
        for name in ("momentum", "label_smoothing", "batchnorm_momentum"):
            check_real(name, getattr(self, name), low=0, high=1, high_open=True)
        for name, value, choices in (("whiten", self.whiten, _WHITEN), ("optimizer", self.optimizer, _OPTIMIZERS),
                                     ("schedule", self.schedule, _SCHEDULES), ("flip", self.flip, _FLIPS)):
            if value not in choices:
                raise ValueError(f"{name} must be one of {choices}, got {name}={value!r}")
        check_int("whiten_images", self.whiten_images, minimum=1)
        check_int("whiten_bias_epochs", self.whiten_bias_epochs, minimum=0)
        check_int("translate", self.translate, minimum=0)
        if self.tta_level not in (0, 1, 2) or isinstance(self.tta_level, bool):
            raise ValueError(f"tta_level must be 0, 1 or 2, got tta_level={self.tta_level!r}")
        object.__setattr__(self, "widths", _check_widths(self.widths))

    def replace(self, **changes) -> "SpeedrunConfig":
        """A copy with some fields changed (unknown names raise a ``TypeError``).

        Examples
        --------
        >>> SpeedrunConfig().replace(label_smoothing=0.0).label_smoothing
        0.0
        """
        return dataclasses.replace(self, **changes)


class ChannelNormalize(nn.Module):
    """Subtract a per-channel mean and divide by a per-channel standard deviation.

    ``fit`` estimates both from training images in [0, 1]; the values are
    buffers, so they travel with the saved weights.

    Examples
    --------
    >>> norm = ChannelNormalize(3).fit(torch.rand(10, 3, 8, 8))
    >>> torch.allclose(norm(torch.rand(10, 3, 8, 8)).mean(), torch.tensor(0.0), atol=0.1)
    True
    """

    def __init__(self, channels: int = 3):
        super().__init__()
        channels = check_int("channels", channels, minimum=1)
        self.register_buffer("mean", torch.zeros(1, channels, 1, 1))
        self.register_buffer("std", torch.ones(1, channels, 1, 1))

    @torch.no_grad()
    def fit(self, images: torch.Tensor) -> "ChannelNormalize":
        """Estimate the statistics from images (N, C, H, W), float in [0, 1] or uint8."""
        x = _unit_float(images, "images")
        self.mean.copy_(x.mean(dim=(0, 2, 3), keepdim=True))
        self.std.copy_(x.std(dim=(0, 2, 3), keepdim=True))
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class _Scale(nn.Module):
    def __init__(self, factor: float):
        super().__init__()
        self.factor = float(factor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.factor

    def extra_repr(self) -> str:
        return f"factor={self.factor:.4g}"


def _batch_norm(channels: int, momentum: float, enabled: bool) -> nn.Module:
    if not enabled:
        return nn.Identity()
    # The scale is frozen at 1 (only the shift learns): the next conv can absorb any scale.
    bn = nn.BatchNorm2d(channels, eps=1e-12, momentum=1.0 - momentum)
    bn.weight.requires_grad_(False)
    return bn


def _conv3x3(c_in: int, c_out: int, batch_norm: bool) -> nn.Conv2d:
    conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=not batch_norm)
    # Identity ("dirac") start for the first c_in filters: the block begins by passing its input on.
    with torch.no_grad():
        nn.init.dirac_(conv.weight[:min(c_in, c_out)])
        if conv.bias is not None:
            conv.bias.zero_()
    return conv


class ConvGroup(nn.Module):
    """conv 3x3 -> max-pool 2 -> batch norm -> GELU -> conv 3x3 -> batch norm -> GELU.

    (N, c_in, H, W) -> (N, c_out, H // 2, W // 2). Pooling before the normalisation
    saves three quarters of its work.
    """

    def __init__(self, c_in: int, c_out: int, *, batch_norm: bool = True, batchnorm_momentum: float = 0.6):
        super().__init__()
        self.conv1 = _conv3x3(c_in, c_out, batch_norm)
        self.pool = nn.MaxPool2d(2)
        self.norm1 = _batch_norm(c_out, batchnorm_momentum, batch_norm)
        self.conv2 = _conv3x3(c_out, c_out, batch_norm)
        self.norm2 = _batch_norm(c_out, batchnorm_momentum, batch_norm)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.norm1(self.pool(self.conv1(x))))
        return self.act(self.norm2(self.conv2(x)))


def speedrun_net(*, widths: Sequence[int] = (64, 256, 256), whiten_kernel: int = 2, batch_norm: bool = True,
                 batchnorm_momentum: float = 0.6, scaling: float = 1 / 9,
                 seed: Optional[int] = None) -> nn.Sequential:
    """The airbench94-sized CIFAR-10 network (Jordan 2024), built from the book's layers.

    ``whiten`` (conv k x k, 3 -> 2 * 3k^2 filters, bias; frozen after
    :func:`init_whitening_`) -> GELU -> three :class:`ConvGroup` blocks
    (the 2 x 2 layer makes 31 x 31 maps; the blocks pool them to 15, 7 and 3)
    -> max-pool 3 (3 -> 1) -> flatten -> linear (no bias)
    -> scale by ``scaling``. 1,972,792 parameters with the default widths
    (1,971,352 trainable once the whitening weights and the batch-norm scales are frozen).

    Parameters
    ----------
    widths : three ints
        Channels of the blocks.
    whiten_kernel : int
        Patch size of the whitening layer (2 in airbench94).
    batch_norm : bool
        Without it the 3x3 convolutions get biases instead.
    batchnorm_momentum : float
        Share of the old running statistics kept at each step.
    scaling : float
        Multiplies the logits (a fixed temperature).
    seed : int, optional
        Seeds the initialisation.

    Returns
    -------
    nn.Sequential
        (N, 3, 32, 32) normalised images -> logits (N, 10).

    Examples
    --------
    >>> net = speedrun_net(seed=0)
    >>> sum(p.numel() for p in net.parameters())
    1972792
    >>> tuple(net(torch.zeros(2, 3, 32, 32)).shape)
    (2, 10)
    """
    widths = _check_widths(widths)
    whiten_kernel = check_int("whiten_kernel", whiten_kernel, minimum=1)
    check_real("batchnorm_momentum", batchnorm_momentum, low=0, high=1, high_open=True)
    check_real("scaling", scaling, low=0, low_open=True)
    if seed is not None:
        torch.manual_seed(check_int("seed", seed, minimum=0))
    w1, w2, w3 = widths
    n_whiten = 2 * 3 * whiten_kernel ** 2
    kw = dict(batch_norm=bool(batch_norm), batchnorm_momentum=batchnorm_momentum)
    return nn.Sequential(OrderedDict(
        whiten=nn.Conv2d(3, n_whiten, whiten_kernel, padding=0, bias=True),
        act=nn.GELU(),
        block1=ConvGroup(n_whiten, w1, **kw),
        block2=ConvGroup(w1, w2, **kw),
        block3=ConvGroup(w2, w3, **kw),
        pool=nn.MaxPool2d(3),
        flatten=nn.Flatten(),
        fc=nn.Linear(w3, 10, bias=False),
        scale=_Scale(scaling),
    ))


def _unit_float(images, name: str) -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(f"{name} must be a 4D torch tensor (N, C, H, W), got {type(images).__name__} "
                         f"{tuple(getattr(images, 'shape', ()))}; use torch.as_tensor(array)")
    if images.dtype == torch.uint8:
        return images.float().div_(255.0)
    if not images.is_floating_point():
        raise TypeError(f"{name} must be uint8 or float in [0, 1], got dtype {images.dtype}")
    return images.float()


def whitening_filters(images: torch.Tensor, kernel_size: int = 2, *, kind: str = "pca", eps: float = 5e-4,
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Convolution filters that whiten every k x k patch of normalised images, and their negatives.

    Fits chapter 7's :class:`PatchWhitener` on all ``k x k`` patches of
    ``images`` and turns its matrix into a conv layer: row i of the matrix,
    reshaped to (C, k, k), is filter i, and the bias subtracts the whitened
    mean, so the layer's outputs over all patches have zero mean and identity
    covariance (up to ``eps``). Each filter comes twice, as ``+f`` and ``-f``,
    so that the GELU after it keeps both signs of every component.

    Parameters
    ----------
    images : Tensor, shape (N, C, H, W)
        Normalised training images (float).
    kernel_size : int
    kind : {"pca", "zca"}
        PCA filters are the covariance's eigenvectors, largest variance first;
        ZCA filters are rotated back to look like centre-surround detectors.
    eps : float
        Added to the eigenvalues.

    Returns
    -------
    weight : Tensor, shape (2 C k^2, C, k, k)
    bias : Tensor, shape (2 C k^2,)

    Examples
    --------
    >>> x = torch.randn(20, 3, 8, 8) * torch.tensor([1.0, 2.0, 3.0]).view(1, 3, 1, 1)
    >>> w, b = whitening_filters(x, 2, eps=0.0)
    >>> y = F.conv2d(x, w[:12], b[:12]).permute(0, 2, 3, 1).reshape(-1, 12)
    >>> bool(torch.allclose(torch.cov(y.T, correction=0), torch.eye(12), atol=1e-4))
    True
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or not images.is_floating_point():
        raise ValueError(f"images must be a float tensor (N, C, H, W), got {type(images).__name__} "
                         f"{tuple(getattr(images, 'shape', ()))} {getattr(images, 'dtype', '')}")
    k = check_int("kernel_size", kernel_size, minimum=1)
    if k > min(images.shape[2:]):
        raise ValueError(f"kernel_size={k} is larger than the images {tuple(images.shape[2:])}")
    if kind not in ("pca", "zca"):
        raise ValueError(f"kind must be 'pca' or 'zca', got kind={kind!r}")
    c = images.shape[1]
    # (N, C, H, W) -> every k x k patch, flattened in (C, k, k) order: (N * H' * W', C k^2)
    patches = F.unfold(images.detach().cpu().double(), k).transpose(1, 2).reshape(-1, c * k * k)
    whitener = PatchWhitener(eps=eps, kind=kind).fit(patches.numpy())
    matrix = torch.from_numpy(whitener.matrix_)                      # (D, D): output i = row i . (x - mean)
    bias = -(matrix @ torch.from_numpy(whitener.mean_))
    weight = matrix.reshape(c * k * k, c, k, k)
    return torch.cat([weight, -weight]).float(), torch.cat([bias, -bias]).float()


@torch.no_grad()
def init_whitening_(net: nn.Module, images: torch.Tensor, *, kind: str = "pca", eps: float = 5e-4) -> nn.Module:
    """Set ``net.whiten`` to :func:`whitening_filters` of ``images`` and freeze its weight (not its bias).

    Returns the network.

    Examples
    --------
    >>> net = init_whitening_(speedrun_net(seed=0), torch.randn(8, 3, 32, 32))
    >>> net.whiten.weight.requires_grad, net.whiten.bias.requires_grad
    (False, True)
    """
    layer = getattr(net, "whiten", None)
    if not isinstance(layer, nn.Conv2d):
        raise ValueError("net must have a conv layer named 'whiten' (build it with speedrun_net)")
    weight, bias = whitening_filters(images.cpu(), layer.kernel_size[0], kind=kind, eps=eps)
    if weight.shape != layer.weight.shape:
        raise ValueError(f"the whitening layer has weight shape {tuple(layer.weight.shape)} but "
                         f"{tuple(images.shape[1:2])}-channel images give {tuple(weight.shape)}")
    layer.weight.copy_(weight)
    layer.bias.copy_(bias)
    layer.weight.requires_grad_(False)
    return net


class AugmentedLoader:
    """Shuffled mini-batches of normalised images with flips and shifts, made on the device.

    Flipping ``"alternating"`` flips a random half of the images in the first
    epoch and then flips every image in every other epoch, so each image is
    seen both ways in any two consecutive epochs (airbench's alternating flip);
    ``"random"`` draws a fresh coin per image and epoch. A translation of up to
    ``translate`` pixels reads a shifted window of the reflection-padded image.
    One gather does both: output pixel (i, j) of an image shifted by (dy, dx)
    reads padded pixel (i + r + dy, j' + r + dx), with j' = W - 1 - j if flipped.

    Parameters
    ----------
    images : Tensor (N, C, H, W), float, already normalised
    labels : Tensor (N,)
    batch_size : int
    flip : {"alternating", "random", "none"}
    translate : int
    drop_last : bool
    seed : int

    Examples
    --------
    >>> x = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).view(2, 1, 4, 4)
    >>> loader = AugmentedLoader(x, torch.tensor([0, 1]), 2, flip="none", translate=0)
    >>> xb, yb = next(iter(loader))
    >>> sorted(yb.tolist()), bool(torch.equal(xb[yb.argsort()], x))
    ([0, 1], True)
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, *,
                 flip: str = "alternating", translate: int = 2, drop_last: bool = True, seed: int = 0):
        if not isinstance(images, torch.Tensor) or images.ndim != 4 or not images.is_floating_point():
            raise ValueError("images must be a float tensor (N, C, H, W) of normalised images")
        if not isinstance(labels, torch.Tensor) or labels.shape != (len(images),):
            raise ValueError(f"labels must be a tensor of shape ({len(images)},), got "
                             f"{tuple(getattr(labels, 'shape', ()))}")
        if flip not in _FLIPS:
            raise ValueError(f"flip must be one of {_FLIPS}, got flip={flip!r}")
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.translate = check_int("translate", translate, minimum=0)
        self.seed = check_int("seed", seed, minimum=0)
        if self.translate >= min(images.shape[2:]):
            raise ValueError(f"translate={translate} must be smaller than the image size")
        self.flip, self.drop_last = flip, bool(drop_last)
        self.labels = labels
        r = self.translate
        self.padded = F.pad(images, (r, r, r, r), mode="reflect") if r else images
        self.size = tuple(images.shape[2:])
        self.epoch = 0
        self._g = torch.Generator().manual_seed(self.seed)
        self._first_flip = torch.rand(len(images), generator=self._g) < 0.5

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _flips(self) -> torch.Tensor:
        if self.flip == "none":
            return torch.zeros(len(self.labels), dtype=torch.bool)
        if self.flip == "random":
            return torch.rand(len(self.labels), generator=self._g) < 0.5
        return self._first_flip ^ bool(self.epoch % 2)

    def batch(self, idx: torch.Tensor, flips: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
        """Images ``idx`` (B,) flipped where ``flips`` (B,) and shifted by ``shifts`` (B, 2): (B, C, H, W)."""
        h, w = self.size
        r = self.translate
        dev = self.padded.device
        rows = torch.arange(h)[None, :] + r + shifts[:, :1]                          # (B, H)
        base = torch.arange(w)[None, :].expand(len(idx), w)
        cols = torch.where(flips[:, None], w - 1 - base, base) + r + shifts[:, 1:]   # (B, W)
        src = self.padded[idx.to(dev)]                                               # (B, C, H+2r, W+2r)
        src = src.gather(2, rows.to(dev)[:, None, :, None].expand(-1, src.shape[1], -1, src.shape[3]))
        return src.gather(3, cols.to(dev)[:, None, None, :].expand(-1, src.shape[1], h, -1))

    def __iter__(self):
        n = len(self.labels)
        order = torch.randperm(n, generator=self._g)
        flips = self._flips()
        r = self.translate
        shifts = (torch.randint(-r, r + 1, (n, 2), generator=self._g) if r
                  else torch.zeros(n, 2, dtype=torch.long))
        self.epoch += 1
        for i in range(len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            yield self.batch(idx, flips[idx], shifts[idx]), self.labels[idx.to(self.labels.device)]


def default_speed_settings(device: torch.device) -> Tuple[bool, bool]:
    """``(bf16, channels_last)`` for the speedrun network on ``device``.

    bfloat16 autocast wherever the hardware computes in it natively (CUDA, CPUs
    with the AVX-512 BF16 or AMX instructions; elsewhere it is emulated and was
    measured about 4x slower); channels-last everywhere, which was measured
    faster for this network on the book's CPU (``benchmarks/speedrun.py
    --compare-settings`` measures both on yours).

    Examples
    --------
    >>> default_speed_settings(torch.device("cuda"))
    (True, True)
    """
    if device.type == "cuda":
        return True, True
    if device.type == "cpu":
        return _cpu_native_bf16(), True
    return False, False


@dataclass
class SpeedrunResult:
    """What :func:`train_speedrun` returns.

    Attributes
    ----------
    model : nn.Sequential
        ``Sequential(preprocess=ChannelNormalize, net=speedrun_net)`` in eval
        mode, float32, on the CPU: float images in [0, 1] in, logits out.
    history : list of dict
        One entry per epoch: ``epoch``, ``seconds`` (training wall time so far,
        evaluation excluded), ``train_loss``, ``train_acc`` (on the augmented
        batches) and ``val_acc`` when validation images were given.
    train_seconds : float
        Wall time from normalised data to the end of training (whitening
        included, validation excluded).
    config : SpeedrunConfig
    seed : int
    settings : dict
        ``device``, ``bf16``, ``channels_last``, ``threads``.
    """
    model: nn.Module
    history: List[Dict[str, float]]
    train_seconds: float
    config: SpeedrunConfig
    seed: int
    settings: Dict[str, object] = field(default_factory=dict)


def _lr_multiplier(schedule: str, step: int, total: int) -> float:
    if schedule == "constant":
        return 1.0
    if schedule == "decay":
        return 1.0 + (0.07 - 1.0) * step / total
    warm = max(1, int(0.23 * total))
    if step < warm:
        return 0.2 + 0.8 * step / warm
    return 1.0 + (0.07 - 1.0) * (step - warm) / max(1, total - warm)


class _Lookahead:
    """Exponential moving average of every float tensor of the state, copied back into the model."""

    def __init__(self, model: nn.Module):
        self.ema = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: nn.Module, decay: float) -> None:
        for k, v in model.state_dict().items():
            if v.is_floating_point():
                self.ema[k].lerp_(v, 1.0 - decay)
                v.copy_(self.ema[k])


def train_speedrun(images: torch.Tensor, labels: torch.Tensor, *, config: Optional[SpeedrunConfig] = None,
                   val_images: Optional[torch.Tensor] = None, val_labels: Optional[torch.Tensor] = None,
                   seed: int = 0, device=None, bf16: Optional[bool] = None, channels_last: Optional[bool] = None,
                   progress: bool = True,
                   on_epoch_end: Optional[Callable[[Dict[str, float]], None]] = None) -> SpeedrunResult:
    """Train the speedrun network on CIFAR-10-like images with the recipe in ``config``.

    Parameters
    ----------
    images : Tensor (N, 3, H, W)
        Training images, uint8 or float in [0, 1].
    labels : Tensor (N,)
        Integer labels 0..9.
    config : SpeedrunConfig, optional
        Default: airbench94's recipe.
    val_images, val_labels : Tensor, optional
        Held-out images scored (without test-time augmentation) after every epoch;
        the time this takes is not counted.
    seed : int
        Seeds the initialisation, the shuffling and the augmentation.
    device : str or torch.device, optional
        Default :func:`course_lib.get_device`.
    bf16, channels_last : bool, optional
        Default :func:`default_speed_settings`.
    progress : bool
        A tqdm bar over the training steps.
    on_epoch_end : callable, optional
        Called with each new history entry (live curves).

    Returns
    -------
    SpeedrunResult

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randint(0, 256, (64, 3, 32, 32), generator=g, dtype=torch.uint8)
    >>> y = torch.arange(64) % 10
    >>> cfg = SpeedrunConfig(epochs=1, batch_size=32, widths=(8, 8, 8), whiten_images=16)
    >>> res = train_speedrun(x, y, config=cfg, device="cpu", progress=False)
    >>> len(res.history), tuple(res.model(torch.rand(2, 3, 32, 32)).shape)
    (1, (2, 10))
    """
    config = SpeedrunConfig() if config is None else config
    if not isinstance(config, SpeedrunConfig):
        raise TypeError(f"config must be a SpeedrunConfig, got {type(config).__name__}")
    x = _unit_float(images, "images")
    if not isinstance(labels, torch.Tensor) or labels.shape != (len(x),):
        raise ValueError(f"labels must be a tensor of shape ({len(x)},), got "
                         f"{tuple(getattr(labels, 'shape', ()))}")
    if (val_images is None) != (val_labels is None):
        raise ValueError("give both val_images and val_labels, or neither")
    seed = check_int("seed", seed, minimum=0)
    if len(x) < config.batch_size:
        raise ValueError(f"batch_size={config.batch_size} is larger than the {len(x)} training images; "
                         f"use a smaller batch_size")
    device = get_device() if device is None else torch.device(device)
    auto_bf16, auto_cl = default_speed_settings(device)
    bf16 = auto_bf16 if bf16 is None else bool(bf16)
    channels_last = auto_cl if channels_last is None else bool(channels_last)
    cfg = config

    t0 = time.perf_counter()
    torch.manual_seed(seed)
    norm = ChannelNormalize(x.shape[1]).fit(x)
    xn = norm(x)
    net = speedrun_net(widths=cfg.widths, batch_norm=cfg.batch_norm, batchnorm_momentum=cfg.batchnorm_momentum,
                       seed=seed)
    if cfg.whiten != "learned":
        perm = torch.randperm(len(xn), generator=torch.Generator().manual_seed(seed))
        init_whitening_(net, xn[perm[:cfg.whiten_images]], kind=cfg.whiten, eps=cfg.whiten_eps)
    net = net.to(device)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    loader = AugmentedLoader(xn.to(device), labels.to(device), cfg.batch_size, flip=cfg.flip,
                             translate=cfg.translate, seed=seed)
    total_steps = math.ceil(len(loader) * cfg.epochs)

    # Decoupled hyperparameters (airbench): per-1024-example values, independent of the momentum.
    kilostep = 1024 * (1 + 1 / (1 - cfg.momentum))
    lr = cfg.lr / kilostep
    wd = cfg.weight_decay * cfg.batch_size / kilostep
    lr_bias = lr * cfg.bias_scaler
    named = [(n, p) for n, p in net.named_parameters() if p.requires_grad]
    norm_biases = [p for n, p in named if ".norm" in n]
    others = [p for n, p in named if ".norm" not in n]
    groups = [dict(params=others, lr=lr, weight_decay=wd / lr if lr else 0.0)]
    if norm_biases:
        groups.append(dict(params=norm_biases, lr=lr_bias, weight_decay=wd / lr_bias if lr_bias else 0.0))
    base_lrs = [g["lr"] for g in groups]
    opt = torch.optim.SGD(groups, momentum=cfg.momentum, nesterov=cfg.optimizer == "nesterov")
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing, reduction="sum")
    lookahead = _Lookahead(net) if cfg.lookahead else None

    history: List[Dict[str, float]] = []
    train_seconds = time.perf_counter() - t0
    step = 0
    bar = tqdm(total=total_steps, desc="speedrun", unit="step", disable=not progress)
    epoch = 0
    while step < total_steps:
        t_epoch = time.perf_counter()
        if cfg.whiten != "learned":
            net.whiten.bias.requires_grad_(epoch < cfg.whiten_bias_epochs)
        net.train()
        loss_sum, correct, seen = 0.0, 0, 0
        for xb, yb in loader:
            if channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type if device.type in ("cpu", "cuda") else "cpu",
                                dtype=torch.bfloat16, enabled=bf16):
                out = net(xb)
            loss = loss_fn(out.float(), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            mult = _lr_multiplier(cfg.schedule, step, total_steps)
            for g, base in zip(opt.param_groups, base_lrs):
                g["lr"] = base * mult
            opt.step()
            step += 1
            if lookahead is not None and step % 5 == 0:
                lookahead.update(net, 0.95 ** 5 * (step / total_steps) ** 3)
            loss_sum += float(loss.detach())
            correct += int((out.detach().argmax(1) == yb).sum())
            seen += len(yb)
            bar.update(1)
            if step >= total_steps:
                break
        if step >= total_steps and lookahead is not None:
            if step % 5:    # fold in the last steps since the previous update, then end on the average
                lookahead.update(net, 0.95 ** 5 * (step / total_steps) ** 3)
            lookahead.update(net, 1.0)
        if device.type == "cuda":
            torch.cuda.synchronize()
        train_seconds += time.perf_counter() - t_epoch
        epoch += 1
        entry = {"epoch": epoch, "seconds": train_seconds, "train_loss": loss_sum / max(seen, 1),
                 "train_acc": correct / max(seen, 1)}
        if val_images is not None:
            model = nn.Sequential(OrderedDict(preprocess=norm.to(device), net=net))
            entry["val_acc"] = tta_accuracy(model, val_images, val_labels, level=0, device=device,
                                            bf16=bf16, channels_last=channels_last)
        history.append(entry)
        bar.set_postfix({k: round(v, 4) for k, v in entry.items() if k in ("train_loss", "val_acc")})
        if on_epoch_end is not None:
            on_epoch_end(entry)
    bar.close()
    model = nn.Sequential(OrderedDict(preprocess=norm.cpu(), net=net.cpu().to(memory_format=torch.contiguous_format)))
    model.eval()
    return SpeedrunResult(model=model, history=history, train_seconds=train_seconds, config=cfg, seed=seed,
                          settings={"device": str(device), "bf16": bf16, "channels_last": channels_last,
                                    "threads": torch.get_num_threads()})


def _tta_logits(model: nn.Module, xb: torch.Tensor, level: int) -> torch.Tensor:
    logits = model(xb)
    if level == 0:
        return logits
    logits = 0.5 * logits + 0.5 * model(xb.flip(-1))
    if level == 1:
        return logits
    # Shift by one pixel up-left and down-right (reflection padding), each with its mirror image.
    padded = F.pad(xb, (1, 1, 1, 1), mode="reflect")
    h, w = xb.shape[2:]
    shifted = [padded[:, :, :h, :w], padded[:, :, 2:, 2:]]
    moved = torch.stack([0.5 * model(s) + 0.5 * model(s.flip(-1)) for s in shifted]).mean(0)
    return 0.5 * logits + 0.5 * moved


@torch.no_grad()
def predict_tta(model: nn.Module, images: torch.Tensor, *, level: int = 2, batch_size: int = 1000, device=None,
                bf16: Optional[bool] = None, channels_last: Optional[bool] = None) -> torch.Tensor:
    """Logits with test-time augmentation: the average over flipped and shifted copies of each image.

    Level 0 scores the image as it is; level 1 averages it with its mirror
    image; level 2 gives half the weight to those two and half to the mirror
    pairs of the image shifted one pixel up-left and one pixel down-right (6
    forward passes per image).

    Parameters
    ----------
    model : nn.Module
        Float images in [0, 1] (N, C, H, W) -> logits (N, K).
    images : Tensor (N, C, H, W), uint8 or float in [0, 1]
    level : {0, 1, 2}
    batch_size : int
    device : optional
        Default: the device of the model's parameters.
    bf16, channels_last : bool, optional
        Default :func:`default_speed_settings`.

    Returns
    -------
    Tensor (N, K), float32, on the CPU.

    Examples
    --------
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 10))
    >>> predict_tta(net, torch.rand(5, 3, 4, 4), level=2, device="cpu").shape
    torch.Size([5, 10])
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if level not in (0, 1, 2) or isinstance(level, bool):
        raise ValueError(f"level must be 0, 1 or 2, got level={level!r}")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(f"images must be a 4D torch tensor (N, C, H, W), got {type(images).__name__}")
    if images.dtype != torch.uint8 and not images.is_floating_point():
        raise TypeError(f"images must be uint8 or float in [0, 1], got dtype {images.dtype}")
    x = images
    if device is None:
        p = next(model.parameters(), None)
        device = p.device if p is not None else torch.device("cpu")
    device = torch.device(device)
    auto_bf16, auto_cl = default_speed_settings(device)
    bf16 = auto_bf16 if bf16 is None else bool(bf16)
    channels_last = auto_cl if channels_last is None else bool(channels_last)
    was_training = model.training
    home = next(model.parameters(), torch.empty(0)).device
    model.eval().to(device)
    out = []
    for start in range(0, len(x), batch_size):
        xb = _unit_float(x[start:start + batch_size], "images").to(device)
        if channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type if device.type in ("cpu", "cuda") else "cpu", dtype=torch.bfloat16,
                            enabled=bf16):
            out.append(_tta_logits(model, xb, level).float().cpu())
    model.train(was_training).to(home)    # leave the caller's model where it was
    return torch.cat(out)


def tta_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, level: int = 2,
                 batch_size: int = 1000, device=None, bf16: Optional[bool] = None,
                 channels_last: Optional[bool] = None) -> float:
    """Top-1 accuracy of :func:`predict_tta` on ``images`` with integer ``labels`` (N,).

    Examples
    --------
    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 10))
    >>> 0.0 <= tta_accuracy(net, torch.rand(5, 3, 4, 4), torch.zeros(5, dtype=torch.long), device="cpu") <= 1.0
    True
    """
    if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"labels must be a 1D tensor with {len(images)} entries, got "
                         f"{tuple(getattr(labels, 'shape', ()))}")
    logits = predict_tta(model, images, level=level, batch_size=batch_size, device=device, bf16=bf16,
                         channels_last=channels_last)
    return float((logits.argmax(1) == labels.cpu()).float().mean())
