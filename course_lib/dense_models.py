"""Networks that predict more than one label per image: window classifiers, grid detectors, FCN, U-Net.

Small on purpose: the detection and segmentation chapters train them on 64 x 64
generated scenes (:mod:`course_lib.scenes`) on a CPU in a few minutes. Builders
take ``seed`` like the other model builders and return fresh networks.
"""
from __future__ import annotations

from collections import OrderedDict
import time
from typing import Callable, Dict, List, Optional, Tuple

import torch
from torch import nn

from ._checks import check_int
from .training import get_device

__all__ = ["crop_classifier", "grid_detector", "fcn", "unet", "UNet", "fit_dense", "predict"]


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


def _as_batch(x: torch.Tensor, device) -> torch.Tensor:
    x = x.to(device, non_blocking=True)
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()


def _check_pair_tensors(name: str, images, targets):
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise TypeError(f"{name} images must be a 4D torch tensor (N, C, H, W), got "
                        f"{type(images).__name__} {tuple(getattr(images, 'shape', ()))}; use torch.from_numpy(array)")
    if not isinstance(targets, torch.Tensor) or len(targets) != len(images):
        raise ValueError(f"{name} targets must be a torch tensor with one entry per image ({len(images)}), got "
                         f"{type(targets).__name__} {tuple(getattr(targets, 'shape', ()))}")


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, *, batch_size: int = 256, device=None) -> torch.Tensor:
    """The model's outputs for all ``images`` (uint8 images are scaled to [0, 1]), in eval mode, on the CPU.

    Examples
    --------
    >>> predict(nn.Conv2d(1, 2, 1), torch.zeros(5, 1, 4, 4, dtype=torch.uint8), batch_size=2).shape
    torch.Size([5, 2, 4, 4])
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise TypeError(f"images must be a 4D torch tensor (N, C, H, W), got {type(images).__name__}")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    device = next(model.parameters()).device if device is None else torch.device(device)
    was = model.training
    model.eval()
    outs = [model(_as_batch(images[i:i + batch_size], device)).float().cpu()
            for i in range(0, len(images), batch_size)]
    model.train(was)
    return torch.cat(outs)


def fit_dense(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, *,
              loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], epochs: int = 1,
              batch_size: int = 64, lr: float = 2e-3, weight_decay: float = 0.0,
              val: Optional[Tuple[torch.Tensor, torch.Tensor]] = None, device=None,
              max_steps: Optional[int] = None, progress: bool = True, seed: int = 0,
              on_epoch_end: Optional[Callable[[Dict[str, List[float]]], None]] = None
              ) -> Dict[str, List[float]]:
    """Train a network whose targets are maps (masks, grid targets) rather than one label per image.

    AdamW with a cosine learning-rate schedule over all steps, mini-batches in a
    seeded random order, a tqdm bar per epoch, and the validation loss after
    every epoch.

    Parameters
    ----------
    model : nn.Module
    images : uint8 or float tensor (N, C, H, W)
    targets : tensor (N, ...)
        Whatever ``loss_fn(model(batch), target_batch)`` expects.
    loss_fn : callable
    epochs, batch_size : int
    lr, weight_decay : float
    val : (images, targets), optional
        Validation data; never used for the gradient.
    device : optional
        Default :func:`course_lib.training.get_device`.
    max_steps : int, optional
        Stop after this many mini-batches (quick mode).
    progress : bool
    seed : int
    on_epoch_end : callable, optional
        Called with the history after every epoch (e.g. live curves).

    Returns
    -------
    dict of lists: ``epoch``, ``train_loss`` (mean over the epoch's batches),
    ``val_loss``, ``seconds`` (cumulative training time) and ``steps``.

    Examples
    --------
    >>> x = torch.rand(16, 1, 8, 8); y = (x[:, 0] > 0.5).long()
    >>> net = nn.Conv2d(1, 2, 1)
    >>> h = fit_dense(net, x, y, loss_fn=nn.functional.cross_entropy, epochs=3, batch_size=8,
    ...               lr=0.1, device="cpu", progress=False)
    >>> len(h["train_loss"]), h["train_loss"][-1] < h["train_loss"][0]
    (3, True)
    """
    from tqdm.auto import tqdm
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    _check_pair_tensors("training", images, targets)
    if val is not None:
        if not (isinstance(val, (tuple, list)) and len(val) == 2):
            raise TypeError("val must be a pair (images, targets)")
        _check_pair_tensors("validation", *val)
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {loss_fn!r}; pass e.g. nn.functional.cross_entropy")
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    if max_steps is not None:
        max_steps = check_int("max_steps", max_steps, minimum=1)
    for name, v in (("lr", lr), ("weight_decay", weight_decay)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise ValueError(f"{name} must be a number >= 0, got {name}={v!r}")
    device = get_device() if device is None else torch.device(device)
    model.to(device)
    n = len(images)
    per_epoch = -(-n // batch_size)
    total = per_epoch * epochs if max_steps is None else min(max_steps, per_epoch * epochs)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(total, 1), pct_start=0.15)
    hist: Dict[str, List[float]] = {"epoch": [], "train_loss": [], "val_loss": [], "seconds": [], "steps": []}
    g = torch.Generator().manual_seed(seed)
    step, elapsed = 0, 0.0
    for epoch in range(1, epochs + 1):
        model.train()
        t0 = time.perf_counter()
        order = torch.randperm(n, generator=g)
        tot, cnt = 0.0, 0
        bar = tqdm(range(0, n, batch_size), desc=f"epoch {epoch}/{epochs}", leave=False, disable=not progress)
        for start in bar:
            idx = order[start:start + batch_size]
            xb = _as_batch(images[idx], device)
            yb = targets[idx].to(device)
            loss = loss_fn(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if step < total:
                sched.step()
            tot += float(loss.detach()) * len(idx)
            cnt += len(idx)
            bar.set_postfix(loss=f"{tot / cnt:.3f}")
            if step >= total:
                break
        elapsed += time.perf_counter() - t0
        hist["epoch"].append(epoch)
        hist["train_loss"].append(tot / cnt)
        hist["seconds"].append(elapsed)
        hist["steps"].append(step)
        if val is not None:
            model.eval()
            with torch.no_grad():
                vx, vy = val
                vl = sum(float(loss_fn(model(_as_batch(vx[i:i + 256], device)), vy[i:i + 256].to(device)))
                         * len(vx[i:i + 256]) for i in range(0, len(vx), 256)) / len(vx)
            hist["val_loss"].append(vl)
        if on_epoch_end is not None:
            on_epoch_end(hist)
        if step >= total:
            break
    model.eval()
    return hist
