"""What a network needs to run: parameter memory, activation memory and time, measured.

Grosse's resource model (CSC321 lecture 5): the weights are stored once, the
activations of every layer are stored *per image* while training (the backward
pass needs them) but can be thrown away layer by layer at test time, and a
backward pass costs about two forward passes. The functions here measure those
quantities on the machine at hand instead of estimating them:

* :func:`parameter_bytes`: the bytes of the parameters (and optionally buffers);
* :func:`activation_bytes`: the bytes of the tensors a forward pass creates,
  counted by a ``TorchDispatchMode`` that sees every tensor PyTorch allocates.
  In ``"train"`` mode it is what is still alive when the forward pass ends
  (what autograd keeps for the backward pass, plus the input); in ``"eval"``
  mode, without autograd, it is the *peak* of what is alive at once;
* :func:`forward_backward_time`: median wall time of the forward and the
  backward pass;
* :func:`checkpoint_comparison`: gradient checkpointing
  (``torch.utils.checkpoint``) against plain training: activation bytes, time,
  and the largest gradient difference (zero up to rounding).

Numbers are counted in bytes of tensor *storage*: a view (reshape, flatten)
shares its storage and costs nothing, an in-place ReLU writes into its input.
The allocator's own overhead is not counted. Timing depends on the machine and
its load: the functions return numbers, benchmarks and notebooks interpret them.
"""
from __future__ import annotations

import statistics
import time
import weakref
from typing import Dict, Optional, Sequence, Tuple

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from ._checks import check_int

__all__ = ["parameter_bytes", "activation_bytes", "forward_backward_time", "checkpoint_comparison"]


def _check_model(model) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}; pass e.g. "
                        f"course_lib.models.forsyth_cifar()")
    return model


def _check_shape(input_shape) -> Tuple[int, ...]:
    if not isinstance(input_shape, (tuple, list, torch.Size)):
        raise TypeError(f"input_shape must be a tuple (C, H, W), got {input_shape!r} of type "
                        f"{type(input_shape).__name__}; pass e.g. input_shape=(3, 32, 32)")
    shape = tuple(check_int(f"input_shape[{i}]", v, minimum=1) for i, v in enumerate(input_shape))
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W) of one image, got input_shape={shape}; the batch "
                         f"size is a separate argument, e.g. input_shape=(3, 32, 32), batch_size=8")
    return shape


def _device_dtype(model: nn.Module):
    p = next(model.parameters(), None)
    if p is None:
        return torch.device("cpu"), torch.float32
    return p.device, (p.dtype if p.is_floating_point() else torch.float32)


def parameter_bytes(model: nn.Module, *, buffers: bool = False) -> int:
    """Bytes of the model's parameters (each storage once), optionally with its buffers.

    Parameters
    ----------
    model : nn.Module
    buffers : bool
        Also count buffers (batch norm's running statistics, ...).

    Returns
    -------
    int
        Bytes: parameters x bytes per value (4 for float32).

    Examples
    --------
    >>> parameter_bytes(nn.Linear(10, 5))          # (50 + 5) float32 values
    220
    >>> parameter_bytes(nn.BatchNorm1d(3), buffers=True)   # 6 parameters + 2 x 3 statistics + 1 counter
    56
    """
    _check_model(model)
    if not isinstance(buffers, bool):
        raise TypeError(f"buffers must be True or False, got {buffers!r}")
    tensors = list(model.parameters()) + (list(model.buffers()) if buffers else [])
    seen, total = set(), 0
    for t in tensors:
        key = t.untyped_storage().data_ptr()
        if key not in seen:
            seen.add(key)
            total += t.numel() * t.element_size()
    return int(total)


class _LiveTensors(TorchDispatchMode):
    """Counts the bytes of the tensor storages created under it that are still alive, and their peak."""

    def __init__(self, exclude=()):
        super().__init__()
        self.exclude = set(exclude)
        self.live: Dict[int, int] = {}
        self.current = 0
        self.peak = 0

    def add(self, t: torch.Tensor) -> None:
        storage = t.untyped_storage()
        key, n = storage.data_ptr(), storage.nbytes()
        if n == 0 or key in self.live or key in self.exclude:
            return
        self.live[key] = n
        self.current += n
        self.peak = max(self.peak, self.current)
        weakref.finalize(storage, self._free, key)

    def _free(self, key: int) -> None:
        self.current -= self.live.pop(key, 0)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and t.layout == torch.strided and t.device.type != "meta":
                self.add(t)
        return out


def _weight_keys(model: nn.Module) -> set:
    return {t.untyped_storage().data_ptr() for t in list(model.parameters()) + list(model.buffers())}


def activation_bytes(model: nn.Module, input_shape: Sequence[int], *, batch_size: int = 1,
                     mode: str = "train", checkpoint_segments: Optional[int] = None) -> int:
    """Bytes of activations a forward pass needs, measured, for a batch of ``batch_size`` images.

    ``mode="train"``: the model in training mode with autograd on; the bytes of
    the tensors still alive when the forward pass ends (the input, the
    activations autograd saved for the backward pass, the output). This is the
    memory that grows with the batch while training. ``mode="eval"``: the model
    in eval mode under ``torch.no_grad()``; the *peak* bytes alive at once
    during the pass (the input included), since each layer's output can be
    freed once the next layer has read it. Parameters and buffers are never
    counted (see :func:`parameter_bytes`). The model's mode is restored.

    Parameters
    ----------
    model : nn.Module
    input_shape : (C, H, W)
    batch_size : int
    mode : {"train", "eval"}
    checkpoint_segments : int, optional
        Only with ``mode="train"`` and an ``nn.Sequential`` model: run it with
        gradient checkpointing in this many segments
        (``torch.utils.checkpoint.checkpoint_sequential``).

    Returns
    -------
    int
        Bytes.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(100, 100), nn.ReLU(), nn.Linear(100, 10))
    >>> activation_bytes(net, (1, 1, 100))    # input 400 B + ReLU output (saved) 400 B + output 40 B
    840
    >>> activation_bytes(net, (1, 1, 100), mode="eval")   # input, first output and ReLU output at once
    1200
    >>> activation_bytes(net, (1, 1, 100), batch_size=4)
    3360
    """
    _check_model(model)
    shape = _check_shape(input_shape)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    if mode not in ("train", "eval"):
        raise ValueError(f"mode must be 'train' or 'eval', got mode={mode!r}")
    if checkpoint_segments is not None:
        checkpoint_segments = check_int("checkpoint_segments", checkpoint_segments, minimum=1)
        if mode != "train":
            raise ValueError("checkpoint_segments only applies to mode='train' (there is no backward pass "
                             "to recompute for in eval mode); leave it None")
        if not isinstance(model, nn.Sequential):
            raise TypeError(f"checkpoint_segments needs an nn.Sequential model, got "
                            f"{type(model).__name__}; wrap the layers in nn.Sequential")
    device, dtype = _device_dtype(model)
    x = torch.zeros(batch_size, *shape, device=device, dtype=dtype)
    was_training = model.training
    tracker = _LiveTensors(exclude=_weight_keys(model))
    tracker.add(x)
    try:
        if mode == "eval":
            model.eval()
            with torch.no_grad(), tracker:
                y = model(x)
            return int(tracker.peak)
        model.train()
        y, live = _train_forward_bytes(model, x, tracker, checkpoint_segments)
        del y
        return live
    except RuntimeError as err:
        raise ValueError(f"the model cannot run on input of shape {(batch_size, *shape)}: {err}") from err
    finally:
        model.train(was_training)


def _train_forward_bytes(model, x, tracker, checkpoint_segments):
    with tracker:
        if checkpoint_segments is None:
            y = model(x)
        else:
            from torch.utils.checkpoint import checkpoint_sequential
            y = checkpoint_sequential(model, min(checkpoint_segments, len(model)), x, use_reentrant=False)
    return y, int(tracker.current)


def forward_backward_time(model: nn.Module, input_shape: Sequence[int], *, batch_size: int = 32,
                          repeats: int = 3, warmup: int = 1,
                          checkpoint_segments: Optional[int] = None) -> Dict[str, float]:
    """Median wall time of a training forward pass and of its backward pass.

    The loss is the sum of the outputs (its own cost is negligible). The model
    runs in training mode; gradients are cleared between repeats.

    Parameters
    ----------
    model : nn.Module
    input_shape : (C, H, W)
    batch_size, repeats, warmup : int
        ``warmup`` untimed runs first, then ``repeats`` timed ones.
    checkpoint_segments : int, optional
        Time gradient checkpointing (``nn.Sequential`` models only).

    Returns
    -------
    dict
        ``forward_s``, ``backward_s`` (medians, seconds) and ``ratio`` =
        backward / forward.

    Examples
    --------
    >>> t = forward_backward_time(nn.Linear(8, 4), (1, 1, 8), batch_size=2, repeats=1, warmup=0)
    >>> sorted(t), t["forward_s"] > 0
    (['backward_s', 'forward_s', 'ratio'], True)
    """
    _check_model(model)
    shape = _check_shape(input_shape)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    repeats = check_int("repeats", repeats, minimum=1)
    warmup = check_int("warmup", warmup, minimum=0)
    if checkpoint_segments is not None:
        checkpoint_segments = check_int("checkpoint_segments", checkpoint_segments, minimum=1)
        if not isinstance(model, nn.Sequential):
            raise TypeError(f"checkpoint_segments needs an nn.Sequential model, got {type(model).__name__}")
    device, dtype = _device_dtype(model)
    x = torch.randn(batch_size, *shape, generator=torch.Generator().manual_seed(0)).to(device, dtype)
    was_training = model.training
    model.train()
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    fwd, bwd = [], []
    try:
        for i in range(warmup + repeats):
            model.zero_grad(set_to_none=True)
            sync()
            t0 = time.perf_counter()
            if checkpoint_segments is None:
                y = model(x)
            else:
                from torch.utils.checkpoint import checkpoint_sequential
                y = checkpoint_sequential(model, min(checkpoint_segments, len(model)), x, use_reentrant=False)
            loss = y.float().sum()
            sync()
            t1 = time.perf_counter()
            loss.backward()
            sync()
            t2 = time.perf_counter()
            if i >= warmup:
                fwd.append(t1 - t0)
                bwd.append(t2 - t1)
    except RuntimeError as err:
        raise ValueError(f"the model cannot run on input of shape {(batch_size, *shape)}: {err}") from err
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    f, b = statistics.median(fwd), statistics.median(bwd)
    return {"forward_s": float(f), "backward_s": float(b), "ratio": float(b / f) if f > 0 else float("nan")}


def checkpoint_comparison(model: nn.Sequential, input_shape: Sequence[int], *, batch_size: int = 8,
                          segments: int = 2, repeats: int = 3) -> Dict[str, float]:
    """Gradient checkpointing against plain training: memory, time, and the same gradients.

    Checkpointing keeps only the activations at the borders of ``segments``
    pieces of the network and recomputes the rest during the backward pass
    (Grosse's footnote on storing fewer activations; Chen et al. 2016).

    Parameters
    ----------
    model : nn.Sequential
    input_shape : (C, H, W)
    batch_size, segments, repeats : int

    Returns
    -------
    dict
        ``plain_bytes``, ``checkpoint_bytes`` (activation bytes alive after
        the forward pass), ``plain_s``, ``checkpoint_s`` (median forward +
        backward seconds) and ``max_grad_difference`` (the largest absolute
        difference between the two runs' gradients).

    Examples
    --------
    >>> net = nn.Sequential(*[nn.Sequential(nn.Linear(64, 64), nn.Tanh()) for _ in range(4)])
    >>> r = checkpoint_comparison(net, (1, 1, 64), batch_size=4, segments=2, repeats=1)
    >>> r["checkpoint_bytes"] < r["plain_bytes"], r["max_grad_difference"] < 1e-6
    (True, True)
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be an nn.Sequential (checkpointing cuts it into segments), got "
                        f"{type(model).__name__}")
    shape = _check_shape(input_shape)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    segments = check_int("segments", segments, minimum=1)
    repeats = check_int("repeats", repeats, minimum=1)
    device, dtype = _device_dtype(model)
    x = torch.randn(batch_size, *shape, generator=torch.Generator().manual_seed(0)).to(device, dtype)
    was_training = model.training
    model.train()               # both runs draw the same dropout masks: the seed is reset before each
    grads = {}
    try:
        for name, segs in (("plain", None), ("checkpoint", segments)):
            model.zero_grad(set_to_none=True)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                tracker = _LiveTensors(exclude=_weight_keys(model))
                tracker.add(x)
                y, live = _train_forward_bytes(model, x, tracker, segs)
                y.float().sum().backward()
            grads[name] = [p.grad.detach().clone() for p in model.parameters() if p.grad is not None]
            grads[name + "_bytes"] = live
            del y
        diff = max((float((a - b).abs().max()) for a, b in zip(grads["plain"], grads["checkpoint"])),
                   default=0.0)
        t_plain = forward_backward_time(model, shape, batch_size=batch_size, repeats=repeats)
        t_ckpt = forward_backward_time(model, shape, batch_size=batch_size, repeats=repeats,
                                       checkpoint_segments=segments)
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return {"plain_bytes": int(grads["plain_bytes"]), "checkpoint_bytes": int(grads["checkpoint_bytes"]),
            "plain_s": t_plain["forward_s"] + t_plain["backward_s"],
            "checkpoint_s": t_ckpt["forward_s"] + t_ckpt["backward_s"],
            "max_grad_difference": diff}
