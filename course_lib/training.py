"""Training helpers: device choice, seeding, GPU-resident batches, fit/evaluate with history.

The same code runs on a CUDA GPU (with bfloat16 autocast), Apple's MPS or the
CPU. Small datasets (MNIST, CIFAR-10) are moved to the device once, as uint8,
and converted batch by batch, which is much faster than a DataLoader there.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ._checks import check_int

__all__ = ["get_device", "seed_everything", "TensorLoader", "History", "topk_errors",
           "evaluate", "fit", "count_parameters", "predict", "train_step_throughput",
           "fastest_settings", "SpeedSettings", "BestCheckpoint"]


def get_device(prefer: Optional[str] = None) -> torch.device:
    """The best available device: CUDA, then Apple MPS, then CPU.

    Parameters
    ----------
    prefer : str, optional
        Force a device name ("cpu", "cuda", "cuda:1", "mps").

    Examples
    --------
    >>> get_device("cpu")
    device(type='cpu')
    """
    if prefer is not None:
        if not isinstance(prefer, str):
            raise TypeError(f"prefer must be a device name such as 'cpu', got {prefer!r}")
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA); return a torch generator with that seed.

    Examples
    --------
    >>> g = seed_everything(0)
    >>> isinstance(g, torch.Generator)
    True
    """
    seed = check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters.

    Examples
    --------
    >>> count_parameters(nn.Conv2d(3, 10, 5))
    760
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class TensorLoader:
    """Mini-batches from tensors that live on the training device.

    Parameters
    ----------
    images : Tensor, shape (N, C, H, W)
        uint8 (scaled to [0, 1] batch by batch) or float.
    labels : Tensor, shape (N,)
    batch_size : int
    shuffle : bool
        Reshuffle every epoch with ``seed`` (epoch e uses seed + e).
    device : torch.device, optional
        Where to keep the data (default: :func:`get_device`).
    transform : callable, optional
        Applied to each float batch (N, C, H, W) on the device, e.g. normalisation
        or augmentation; receives ``(batch, generator)``.
    seed : int

    Examples
    --------
    >>> x = torch.zeros(10, 1, 4, 4, dtype=torch.uint8); y = torch.arange(10)
    >>> [xb.shape[0] for xb, yb in TensorLoader(x, y, 4, device="cpu")]
    [4, 4, 2]
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 128,
                 shuffle: bool = False, device=None,
                 transform: Optional[Callable[[torch.Tensor, torch.Generator], torch.Tensor]] = None,
                 seed: int = 0):
        if not isinstance(images, torch.Tensor) or images.ndim != 4:
            raise ValueError(f"images must be a 4D torch tensor (N, C, H, W), got "
                             f"{type(images).__name__} {getattr(images, 'shape', '')}; use "
                             f"torch.as_tensor(array)")
        if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(f"labels must be a 1D torch tensor with {len(images)} entries, got "
                             f"{getattr(labels, 'shape', type(labels).__name__)}")
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.seed = check_int("seed", seed, minimum=0)
        self.device = get_device() if device is None else torch.device(device)
        self.images = images.to(self.device)
        self.labels = labels.to(self.device)
        self.shuffle = bool(shuffle)
        self.transform = transform
        self.epoch = 0

    def __len__(self) -> int:
        return -(-len(self.images) // self.batch_size)

    def __iter__(self) -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        self.epoch += 1
        n = len(self.images)
        order = torch.randperm(n, generator=g).to(self.device) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            idx = slice(start, start + self.batch_size) if order is None else order[start:start + self.batch_size]
            xb, yb = self.images[idx], self.labels[idx]
            xb = xb.float().div_(255.0) if xb.dtype == torch.uint8 else xb.float()
            if self.transform is not None:
                xb = self.transform(xb, g)
            yield xb, yb


def topk_errors(logits: torch.Tensor, labels: torch.Tensor, ks=(1, 5)) -> Dict[int, int]:
    """Count of examples whose true label is not among the k highest scores, per k.

    Examples
    --------
    >>> logits = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.3]])
    >>> topk_errors(logits, torch.tensor([1, 2]), ks=(1, 2))
    {1: 1, 2: 0}
    """
    if logits.ndim != 2 or labels.ndim != 1 or len(labels) != len(logits):
        raise ValueError(f"logits must be (N, K) and labels (N,), got {tuple(logits.shape)} and "
                         f"{tuple(labels.shape)}")
    ks = tuple(ks)
    for k in ks:
        check_int("ks entries", k, minimum=1)
    out = {}
    for k in ks:
        k_eff = min(int(k), logits.shape[1])
        top = logits.topk(k_eff, dim=1).indices
        out[int(k)] = int((top != labels[:, None]).all(dim=1).sum())
    return out


@dataclass
class History:
    """Per-epoch loss and top-1/top-5 error (fractions) for train and validation.

    Train numbers are running averages over the epoch's mini-batches (the
    model changes during the epoch); validation numbers use the model at the
    end of the epoch.
    """
    epoch: List[int] = field(default_factory=list)
    train_loss: List[float] = field(default_factory=list)
    train_top1: List[float] = field(default_factory=list)
    train_top5: List[float] = field(default_factory=list)
    val_loss: List[float] = field(default_factory=list)
    val_top1: List[float] = field(default_factory=list)
    val_top5: List[float] = field(default_factory=list)
    steps: List[int] = field(default_factory=list)

    def as_dict(self) -> Dict[str, List[float]]:
        return {k: list(v) for k, v in self.__dict__.items()}


def _autocast(device: torch.device, bf16: Optional[bool] = None):
    """bfloat16 autocast: on by default on CUDA, off by default on the CPU (where it is measured)."""
    if bf16 is None:
        bf16 = device.type == "cuda"
    if device.type not in ("cuda", "cpu"):
        return torch.autocast("cpu", enabled=False)
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=bool(bf16))


def _format(x: torch.Tensor, channels_last: bool) -> torch.Tensor:
    return x.contiguous(memory_format=torch.channels_last) if channels_last and x.ndim == 4 else x


@dataclass(frozen=True)
class SpeedSettings:
    """How to run a network fast: NHWC memory layout and/or bfloat16 autocast.

    Both are pure speed choices: the maths is the same up to bfloat16 rounding.
    Pass them on to :func:`fit`, :func:`evaluate` and :func:`predict` with
    ``**settings.kwargs()``.
    """
    channels_last: bool = False
    bf16: bool = False

    def kwargs(self) -> Dict[str, bool]:
        return {"channels_last": self.channels_last, "bf16": self.bf16}

    def __str__(self) -> str:
        return (f"{'channels-last' if self.channels_last else 'NCHW'}, "
                f"{'bfloat16 autocast' if self.bf16 else 'float32'}")


def evaluate(model: nn.Module, loader, loss_fn: Optional[nn.Module] = None,
             device=None, *, channels_last: bool = False, bf16: Optional[bool] = None) -> Dict[str, float]:
    """Loss and top-1/top-5 error of ``model`` over ``loader`` (eval mode, under ``torch.inference_mode``).

    ``channels_last`` and ``bf16`` as in :func:`fit`.

    Returns
    -------
    dict with ``loss``, ``top1``, ``top5`` (error fractions) and ``n``.

    Examples
    --------
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(16, 10))
    >>> x = torch.zeros(8, 1, 4, 4, dtype=torch.uint8); y = torch.zeros(8, dtype=torch.long)
    >>> r = evaluate(model, TensorLoader(x, y, 4, device="cpu"), device="cpu")
    >>> sorted(r), r["n"]
    (['loss', 'n', 'top1', 'top5'], 8)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    device = next(model.parameters()).device if device is None else torch.device(device)
    loss_fn = nn.CrossEntropyLoss(reduction="sum") if loss_fn is None else loss_fn
    was_training = model.training
    model.eval()
    total_loss, n, err = 0.0, 0, {1: 0, 5: 0}
    with torch.inference_mode():
        for xb, yb in loader:
            xb, yb = _format(xb.to(device), channels_last), yb.to(device)
            with _autocast(device, bf16):
                logits = model(xb)
            logits = logits.float()
            total_loss += float(loss_fn(logits, yb)) if getattr(loss_fn, "reduction", "sum") == "sum" \
                else float(loss_fn(logits, yb)) * len(yb)
            for k, v in topk_errors(logits, yb).items():
                err[k] += v
            n += len(yb)
    model.train(was_training)
    if n == 0:
        raise ValueError("loader yielded no batches; check the dataset is not empty")
    return {"loss": total_loss / n, "top1": err[1] / n, "top5": err[5] / n, "n": n}


def fit(model: nn.Module, train_loader, val_loader=None, *, epochs: int = 1,
        optimizer: Optional[torch.optim.Optimizer] = None, lr: float = 1e-3,
        scheduler=None, loss_fn: Optional[nn.Module] = None, device=None,
        max_steps: Optional[int] = None, progress: bool = True,
        on_epoch_end: Optional[Callable[["History"], None]] = None,
        channels_last: bool = False, bf16: Optional[bool] = None) -> History:
    """Train ``model`` with mini-batch gradient descent; return the :class:`History`.

    Parameters
    ----------
    model : nn.Module
        Moved to ``device``.
    train_loader, val_loader : iterables of (images, labels)
        E.g. :class:`TensorLoader` or a torch DataLoader.
    epochs : int
    optimizer : torch.optim.Optimizer, optional
        Default: Adam with learning rate ``lr``.
    scheduler : optional
        Stepped once per mini-batch.
    max_steps : int, optional
        Stop after this many mini-batches in total (quick mode).
    progress : bool
        Show a tqdm bar over mini-batches with the running loss and error.
    on_epoch_end : callable, optional
        Called with the history after every epoch (e.g. to redraw live curves).
    channels_last : bool
        Keep the model and the batches in NHWC memory layout (faster for some
        networks, much slower for others: measure with :func:`fastest_settings`).
    bf16 : bool, optional
        bfloat16 autocast for the forward pass (weights and the optimiser stay
        float32). Default: on for CUDA, off on the CPU.

    Examples
    --------
    >>> _ = seed_everything(0)
    >>> x = torch.randint(0, 256, (32, 1, 4, 4), dtype=torch.uint8); y = (x[:, 0, 0, 0] > 127).long()
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    >>> h = fit(model, TensorLoader(x, y, 8, shuffle=True, device="cpu"), epochs=2, device="cpu",
    ...         progress=False)
    >>> len(h.train_loss), h.steps[-1]
    (2, 8)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    epochs = check_int("epochs", epochs, minimum=1)
    if max_steps is not None:
        max_steps = check_int("max_steps", max_steps, minimum=1)
    device = get_device() if device is None else torch.device(device)
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr) if optimizer is None else optimizer
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    history, step = History(), 0
    for epoch in range(1, epochs + 1):
        model.train()
        tot_loss, tot_n, err = 0.0, 0, {1: 0, 5: 0}
        bar = tqdm(train_loader, desc=f"epoch {epoch}/{epochs}", leave=False, disable=not progress)
        for xb, yb in bar:
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            xb = _format(xb, channels_last)
            with _autocast(device, bf16):
                logits = model(xb)
                loss = loss_fn(logits.float(), yb)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            step += 1
            with torch.no_grad():
                tot_loss += float(loss) * len(yb)
                tot_n += len(yb)
                for k, v in topk_errors(logits.float(), yb).items():
                    err[k] += v
            bar.set_postfix(loss=f"{tot_loss / tot_n:.3f}", err=f"{err[1] / tot_n:.3f}")
            if max_steps is not None and step >= max_steps:
                break
        history.epoch.append(epoch)
        history.steps.append(step)
        history.train_loss.append(tot_loss / tot_n)
        history.train_top1.append(err[1] / tot_n)
        history.train_top5.append(err[5] / tot_n)
        if val_loader is not None:
            r = evaluate(model, val_loader, device=device, channels_last=channels_last, bf16=bf16)
            history.val_loss.append(r["loss"])
            history.val_top1.append(r["top1"])
            history.val_top5.append(r["top5"])
        if on_epoch_end is not None:
            on_epoch_end(history)
        if max_steps is not None and step >= max_steps:
            break
    return history


def predict(model: nn.Module, images: torch.Tensor, *, batch_size: int = 1000, device=None,
            channels_last: bool = False, bf16: Optional[bool] = None) -> torch.Tensor:
    """Logits of ``model`` (eval mode, ``torch.inference_mode``) for a stack of images, on the CPU.

    Parameters
    ----------
    model : nn.Module
    images : Tensor, shape (N, C, H, W)
        uint8 (divided by 255) or float.
    batch_size : int
    device : optional
        Default: the device of the model's parameters.

    Returns
    -------
    Tensor, float32, shape (N, K)

    Examples
    --------
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    >>> tuple(predict(model, torch.zeros(5, 1, 2, 2, dtype=torch.uint8), batch_size=2).shape)
    (5, 3)
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(f"images must be a 4D torch tensor (N, C, H, W), got {type(images).__name__} "
                         f"{tuple(getattr(images, 'shape', ()))}; use torch.as_tensor(array)")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    param = next(model.parameters(), None)
    device = (param.device if param is not None else torch.device("cpu")) if device is None \
        else torch.device(device)
    was_training = model.training
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            xb = images[start:start + batch_size].to(device)
            xb = xb.float().div_(255.0) if xb.dtype == torch.uint8 else xb.float()
            with _autocast(device, bf16):
                out.append(model(_format(xb, channels_last)).float().cpu())
    model.train(was_training)
    return torch.cat(out) if out else torch.empty(0)


def train_step_throughput(model: nn.Module, input_shape: Tuple[int, int, int], *, batch_size: int = 128,
                          channels_last: bool = False, bf16: bool = False, steps: int = 10,
                          warmup: int = 2, device=None, optimizer: str = "sgd") -> float:
    """Images per second of full training steps (forward, loss, backward, optimiser step).

    Runs ``warmup`` untimed steps, then ``steps`` timed ones, on random images
    and labels. The model is trained in place by these steps: pass a fresh or
    throw-away copy.

    Examples
    --------
    >>> rate = train_step_throughput(nn.Sequential(nn.Flatten(), nn.Linear(4, 10)), (1, 2, 2),
    ...                              batch_size=8, steps=2, warmup=1, device="cpu")
    >>> rate > 0
    True
    """
    import time
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    steps = check_int("steps", steps, minimum=1)
    warmup = check_int("warmup", warmup, minimum=0)
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got optimizer={optimizer!r}")
    device = get_device() if device is None else torch.device(device)
    model.to(device).train()
    if channels_last:
        model.to(memory_format=torch.channels_last)
    opt = (torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9) if optimizer == "sgd"
           else torch.optim.Adam(model.parameters(), lr=1e-4))
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (batch_size, *input_shape), generator=g, dtype=torch.uint8).to(device)
    with torch.no_grad():
        model.eval()                         # batch norm cannot train on the one-image probe
        n_classes = model(_format(x[:1].float(), channels_last)).shape[1]
        model.train()
    y = torch.randint(0, n_classes, (batch_size,), generator=g).to(device)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        xb = _format(x.float().div_(255.0), channels_last)
        with _autocast(device, bf16):
            logits = model(xb)
        loss = loss_fn(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return batch_size * steps / (time.perf_counter() - t0)


def fastest_settings(build: Callable[[], nn.Module], input_shape: Tuple[int, int, int], *,
                     batch_size: int = 128, steps: int = 5, device=None,
                     candidates: Optional[List[SpeedSettings]] = None,
                     ) -> Tuple[SpeedSettings, Dict[SpeedSettings, float]]:
    """Measure training-step throughput under each setting and return the fastest.

    Which memory layout and precision is fastest depends on the network and the
    machine (on a 2-core AVX-512 CPU, bfloat16 helps convolution-heavy networks,
    and channels-last made a batch-norm network several times slower), so it is
    measured, not assumed. bfloat16 is only tried where the device supports it.

    Parameters
    ----------
    build : callable
        Returns a fresh model (each candidate trains its own copy for a few steps).
    input_shape : (C, H, W)
    batch_size, steps : int
    candidates : list of SpeedSettings, optional
        Default: all four combinations.

    Returns
    -------
    best : SpeedSettings
    rates : dict SpeedSettings -> images per second

    Examples
    --------
    >>> best, rates = fastest_settings(lambda: nn.Sequential(nn.Flatten(), nn.Linear(4, 10)), (1, 2, 2),
    ...                                batch_size=8, steps=1, device="cpu")
    >>> len(rates) in (2, 4), best in rates
    (True, True)
    """
    if not callable(build):
        raise TypeError(f"build must be a function that returns a fresh model, got {type(build).__name__}")
    device = get_device() if device is None else torch.device(device)
    if candidates is None:
        bf16_ok = device.type == "cuda" or (device.type == "cpu" and _cpu_has_bf16())
        candidates = [SpeedSettings(cl, bf) for bf in ((False, True) if bf16_ok else (False,))
                      for cl in (False, True)]
    rates = {}
    for c in candidates:
        rates[c] = train_step_throughput(build(), input_shape, batch_size=batch_size,
                                         channels_last=c.channels_last, bf16=c.bf16, steps=steps,
                                         warmup=1, device=device)
    best = max(rates, key=rates.get)
    return best, rates


def _cpu_has_bf16() -> bool:
    """True when the CPU has native bfloat16 arithmetic (AVX-512 BF16 or AMX), where autocast pays."""
    try:
        return bool(torch.backends.mkldnn.is_available()
                    and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _cpu_native_bf16() -> bool:
    """True when the CPU computes in bfloat16 natively (``avx512_bf16`` or ``amx_bf16`` flags, Linux).

    oneDNN's own test (:func:`_cpu_has_bf16`) also says yes on AVX-512 CPUs without
    these instructions, where bfloat16 convolutions are emulated and measured
    about 4x slower than float32 (chapter 18). Unknown (non-Linux) CPUs count as no.
    """
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


class BestCheckpoint:
    """An ``on_epoch_end`` callback that keeps a copy of the weights at the lowest validation error.

    Model selection and early stopping on the validation split: after training,
    ``best.restore(model)`` loads the weights of the best epoch (``best.epoch``).

    Examples
    --------
    >>> model = nn.Linear(2, 2)
    >>> best = BestCheckpoint(model)
    >>> best({"epoch": [1], "val_top1": [0.3]}); best({"epoch": [1, 2], "val_top1": [0.3, 0.4]})
    >>> best.epoch, best.val_top1
    (1, 0.3)
    """

    def __init__(self, model: nn.Module):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        self.epoch: Optional[int] = None
        self.val_top1 = float("inf")
        self.state: Optional[Dict[str, torch.Tensor]] = None

    def __call__(self, history) -> None:
        h = history.as_dict() if hasattr(history, "as_dict") else history
        if not h.get("val_top1"):
            raise ValueError("BestCheckpoint needs validation errors: pass a val_loader to fit()")
        if h["val_top1"][-1] < self.val_top1:
            self.val_top1 = float(h["val_top1"][-1])
            self.epoch = int(h["epoch"][-1])
            self.state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def restore(self, model: Optional[nn.Module] = None) -> nn.Module:
        """Load the best weights into ``model`` (default: the watched model) and return it."""
        if self.state is None:
            raise ValueError("no checkpoint yet: train with on_epoch_end=this callback first")
        model = self.model if model is None else model
        model.load_state_dict(self.state)
        return model
