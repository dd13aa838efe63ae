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
           "evaluate", "fit", "count_parameters"]


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


def _autocast(device: torch.device):
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


@torch.no_grad()
def evaluate(model: nn.Module, loader, loss_fn: Optional[nn.Module] = None,
             device=None) -> Dict[str, float]:
    """Loss and top-1/top-5 error of ``model`` over ``loader`` (eval mode).

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
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        with _autocast(device):
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
        on_epoch_end: Optional[Callable[["History"], None]] = None) -> History:
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
    optimizer = torch.optim.Adam(model.parameters(), lr=lr) if optimizer is None else optimizer
    loss_fn = nn.CrossEntropyLoss() if loss_fn is None else loss_fn
    history, step = History(), 0
    for epoch in range(1, epochs + 1):
        model.train()
        tot_loss, tot_n, err = 0.0, 0, {1: 0, 5: 0}
        bar = tqdm(train_loader, desc=f"epoch {epoch}/{epochs}", leave=False, disable=not progress)
        for xb, yb in bar:
            xb, yb = xb.to(device, non_blocking=True), yb.to(device, non_blocking=True)
            with _autocast(device):
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
            r = evaluate(model, val_loader, device=device)
            history.val_loss.append(r["loss"])
            history.val_top1.append(r["top1"])
            history.val_top5.append(r["top5"])
        if on_epoch_end is not None:
            on_epoch_end(history)
        if max_steps is not None and step >= max_steps:
            break
    return history
