"""Adversarial examples: the fast gradient sign method, projected gradient descent, and what they do.

Every attack here works on images in [0, 1] (NCHW float tensors) and on a model
that takes such images and returns logits (N, K), with its preprocessing inside,
as :func:`course_lib.trained.load_trained` delivers them. An attack

* uses the cross-entropy loss of the model's logits;
* runs the model in eval mode and puts it back in the mode it was in;
* never changes the model's parameters, nor their ``.grad`` (the gradient is
  taken with respect to the images only, with ``torch.autograd.grad``);
* returns new images in [0, 1], on the device of the input images.

Functions
---------
fgsm
    One step of Bishop's eq. 10.11 (Goodfellow et al. 2015):
    ``clamp(x + eps * sign(grad_x loss(x, y)), 0, 1)``; targeted: a step *down*
    the loss of the target class.
pgd
    Projected gradient descent in the L-infinity ball (Madry et al. 2018):
    repeated small signed steps, each followed by a projection back into
    ``[x - eps, x + eps]`` and ``[0, 1]``; optional random start. With one step,
    ``step_size=eps`` and no random start it is :func:`fgsm`.
adversarial_accuracy, epsilon_sweep
    Accuracy on attacked images, for one or several epsilons.
transfer_rate, transfer_matrix
    Adversarial examples made on one network, tried on others.
AdversarialLoader, adversarial_fit
    Adversarial training by reusing :func:`course_lib.training.fit`: the loader
    replaces every batch by its attacked version, made with the current model
    ("fast" FGSM with a random start, Wong et al. 2020, by default).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ._checks import check_int

__all__ = ["fgsm", "pgd", "adversarial_accuracy", "epsilon_sweep", "transfer_rate", "transfer_matrix",
           "TransferResult", "AdversarialLoader", "adversarial_fit", "input_gradient"]


# ----------------------------------------------------------------------------------------------
# argument checks

def _check_model(model) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module that maps images in [0, 1] to logits, got "
                        f"{type(model).__name__}")
    return model


def _check_images(images, name: str = "images") -> torch.Tensor:
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor (N, C, H, W) in [0, 1], got {type(images).__name__}; "
                        f"use torch.as_tensor(array)")
    if images.ndim != 4:
        raise ValueError(f"{name} must have shape (N, C, H, W), got shape {tuple(images.shape)}; add the "
                         f"missing axes, e.g. images[None] for one image")
    if images.dtype == torch.uint8:
        return images.float() / 255.0
    if not images.is_floating_point():
        raise TypeError(f"{name} must be float in [0, 1] (or uint8 in 0..255), got dtype {images.dtype}")
    if images.numel() and (float(images.min()) < 0.0 or float(images.max()) > 1.0):
        raise ValueError(f"{name} must lie in [0, 1], got values in [{float(images.min()):.3g}, "
                         f"{float(images.max()):.3g}]; the attacks work on plain images, with the "
                         f"normalisation inside the model (divide uint8 images by 255)")
    return images


def _check_labels(labels, n: int, name: str = "labels") -> torch.Tensor:
    if not isinstance(labels, torch.Tensor):
        raise TypeError(f"{name} must be a 1D torch tensor of class indices, got {type(labels).__name__}")
    if labels.ndim != 1 or len(labels) != n:
        raise ValueError(f"{name} must have shape ({n},) (one class index per image), got "
                         f"{tuple(labels.shape)}")
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer class indices, got dtype {labels.dtype}; use labels.long()")
    return labels.long()


def _check_eps(eps, name: str = "eps") -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number (the largest change of one pixel, e.g. 0.1), got {eps!r}")
    eps = float(eps)
    if not math.isfinite(eps) or eps < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {name}={eps}; images live in [0, 1], so "
                         f"useful values lie between 0 and 1")
    return eps


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _device_of(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _dtype_of(model: nn.Module) -> torch.dtype:
    """The float dtype the model computes in (float32 for the book's networks)."""
    p = next((q for q in model.parameters() if q.is_floating_point()), None)
    return p.dtype if p is not None else torch.float32


# ----------------------------------------------------------------------------------------------
# the gradient with respect to the input

def input_gradient(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Gradient of the summed cross-entropy loss with respect to the images (model in eval mode).

    The model's mode is restored and its parameters' ``.grad`` are left alone.

    Parameters
    ----------
    model : nn.Module
        Images in [0, 1] -> logits (N, K).
    images : Tensor, shape (N, C, H, W)
    labels : Tensor, shape (N,)

    Returns
    -------
    Tensor, shape (N, C, H, W), float32, on the images' device.

    Examples
    --------
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    >>> g = input_gradient(model, torch.rand(3, 1, 2, 2), torch.tensor([0, 1, 0]))
    >>> tuple(g.shape)
    (3, 1, 2, 2)
    """
    model = _check_model(model)
    x = _check_images(images)
    y = _check_labels(labels, len(x))
    return _grad(model, x, y)


def _grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """d/dx of sum_i CE(model(x_i), y_i); eval mode; inference mode switched off for the call."""
    device = _device_of(model)
    was_training = model.training
    try:
        model.eval()
        # works inside torch.inference_mode / no_grad blocks too (fit's evaluate runs loaders there)
        with torch.inference_mode(False), torch.enable_grad():
            xg = x.detach().to(device, _dtype_of(model)).clone().requires_grad_(True)
            logits = model(xg)
            logits = logits if logits.dtype == torch.float64 else logits.float()
            loss = F.cross_entropy(logits, y.detach().to(device).clone(), reduction="sum")
            (grad,) = torch.autograd.grad(loss, xg)
    finally:
        model.train(was_training)
    return grad.detach().to(x.device)


# ----------------------------------------------------------------------------------------------
# the attacks

def fgsm(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, eps: float, *,
         targeted: bool = False, batch_size: int = 500) -> torch.Tensor:
    """The fast gradient sign method (Bishop eq. 10.11; Goodfellow et al. 2015).

    Untargeted (``labels`` are the true classes): a step of size ``eps`` per pixel
    *up* the loss, ``clamp(x + eps * sign(grad_x L(x, labels)), 0, 1)``.
    Targeted (``labels`` are the classes you want): a step *down* the loss of the
    target, ``clamp(x - eps * sign(grad_x L(x, targets)), 0, 1)``, which makes
    P(target | x') larger. L is the cross-entropy of the model's logits; the
    model runs in eval mode and is left as it was (mode and parameters).

    Parameters
    ----------
    model : nn.Module
        Images in [0, 1] -> logits (N, K), preprocessing inside.
    images : Tensor, shape (N, C, H, W)
        Float in [0, 1] (uint8 is divided by 255).
    labels : Tensor, shape (N,)
        True classes, or target classes when ``targeted``.
    eps : float
        Largest change of a pixel (L-infinity size of the perturbation), >= 0.
    targeted : bool
    batch_size : int
        Images per forward/backward pass (memory only; the result is the same).

    Returns
    -------
    Tensor, shape (N, C, H, W), in [0, 1], in the model's float dtype (float32 for
    the book's networks), on the images' device. Each
    pixel differs from the input by at most ``eps`` (exactly ``eps`` unless the
    gradient is zero there or the clamp to [0, 1] cut the step).

    Examples
    --------
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    >>> x = torch.full((1, 1, 2, 2), 0.5)
    >>> x_adv = fgsm(model, x, torch.tensor([0]), eps=0.1)
    >>> round(float((x_adv - x).abs().max()), 4)
    0.1
    """
    model = _check_model(model)
    x = _check_images(images)
    y = _check_labels(labels, len(x))
    eps = _check_eps(eps)
    targeted = _check_bool("targeted", targeted)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    direction = -1.0 if targeted else 1.0
    out = []
    for start in range(0, len(x), batch_size):
        xb, yb = x[start:start + batch_size].to(_dtype_of(model)), y[start:start + batch_size]
        g = _grad(model, xb, yb)
        out.append((xb + direction * eps * g.sign()).clamp(0.0, 1.0))
    return torch.cat(out) if out else x.to(_dtype_of(model)).clone()


def pgd(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, eps: float, *,
        steps: int = 10, step_size: Optional[float] = None, targeted: bool = False,
        random_start: bool = False, seed: int = 0, batch_size: int = 500) -> torch.Tensor:
    """Projected gradient descent in the L-infinity ball of radius ``eps`` (Madry et al. 2018).

    Starting from ``x`` (or, with ``random_start``, from ``x`` plus uniform noise
    in ``[-eps, eps]``), repeat ``steps`` times: a signed gradient step of size
    ``step_size`` (up the loss, or down the target's loss when ``targeted``),
    then the projection back into the box ``[x - eps, x + eps]`` and into
    ``[0, 1]``. One step with ``step_size=eps`` and no random start is exactly
    :func:`fgsm`; one step with a random start and ``step_size=1.25 * eps`` is the
    "fast" FGSM of Wong et al. (2020).

    Parameters
    ----------
    model, images, labels, eps, targeted, batch_size
        As in :func:`fgsm`.
    steps : int
        Number of gradient steps, >= 1.
    step_size : float, optional
        Size of each step; default ``2.5 * eps / steps`` (Madry et al.'s choice,
        enough to cross the ball from one side to the other).
    random_start : bool
        Start at a uniformly random point of the ball.
    seed : int
        Seed of the random start (the global random state is not touched).

    Returns
    -------
    Tensor, shape (N, C, H, W), float32 in [0, 1], within ``eps`` of ``images``
    in every pixel.

    Examples
    --------
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    >>> x = torch.rand(3, 1, 2, 2); y = torch.tensor([0, 1, 1])
    >>> bool(torch.equal(pgd(model, x, y, 0.1, steps=1, step_size=0.1), fgsm(model, x, y, 0.1)))
    True
    """
    model = _check_model(model)
    x = _check_images(images)
    y = _check_labels(labels, len(x))
    eps = _check_eps(eps)
    steps = check_int("steps", steps, minimum=1)
    step_size = 2.5 * eps / steps if step_size is None else _check_eps(step_size, "step_size")
    targeted = _check_bool("targeted", targeted)
    random_start = _check_bool("random_start", random_start)
    seed = check_int("seed", seed, minimum=0)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    direction = -1.0 if targeted else 1.0
    gen = torch.Generator().manual_seed(seed)
    out = []
    for start in range(0, len(x), batch_size):
        x0, yb = x[start:start + batch_size].to(_dtype_of(model)), y[start:start + batch_size]
        lo, hi = (x0 - eps).clamp(0.0, 1.0), (x0 + eps).clamp(0.0, 1.0)
        if random_start:
            noise = (torch.rand(x0.shape, generator=gen, dtype=x0.dtype) * 2 - 1).to(x0.device) * eps
            xa = torch.min(torch.max(x0 + noise, lo), hi)
        else:
            xa = x0.clone()
        for _ in range(steps):
            g = _grad(model, xa, yb)
            xa = torch.min(torch.max(xa + direction * step_size * g.sign(), lo), hi)
        out.append(xa)
    return torch.cat(out) if out else x.to(_dtype_of(model)).clone()


_ATTACKS = {"fgsm": fgsm, "pgd": pgd}


def _attack_fn(attack) -> Callable:
    if callable(attack):
        return attack
    if not isinstance(attack, str) or attack not in _ATTACKS:
        raise ValueError(f"attack must be one of {sorted(_ATTACKS)} or a function "
                         f"(model, images, labels, eps) -> images, got attack={attack!r}")
    return _ATTACKS[attack]


def _predict(model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    device = _device_of(model)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            preds = [model(x[i:i + batch_size].to(device, _dtype_of(model))).argmax(dim=1).cpu()
                     for i in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(preds) if preds else torch.empty(0, dtype=torch.long)


# ----------------------------------------------------------------------------------------------
# measuring

def adversarial_accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, eps: float, *,
                         attack="fgsm", batch_size: int = 500, **attack_kwargs) -> float:
    """Top-1 accuracy of ``model`` on the attacked images (eps = 0: the clean accuracy).

    Parameters
    ----------
    model, images, labels, eps
        As in :func:`fgsm`; ``labels`` are the true classes.
    attack : "fgsm", "pgd" or callable
        A callable is called as ``attack(model, images, labels, eps, **attack_kwargs)``.
    **attack_kwargs
        Passed to the attack (e.g. ``steps=10`` for PGD).

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    >>> acc = adversarial_accuracy(model, torch.rand(8, 1, 2, 2), torch.zeros(8, dtype=torch.long), 0.0)
    >>> 0.0 <= acc <= 1.0
    True
    """
    model = _check_model(model)
    x = _check_images(images)
    y = _check_labels(labels, len(x))
    eps = _check_eps(eps)
    fn = _attack_fn(attack)
    if len(x) == 0:
        raise ValueError("images is empty; pass at least one image")
    x_adv = x if eps == 0 else fn(model, x, y, eps, batch_size=batch_size, **attack_kwargs)
    return float((_predict(model, x_adv) == y.cpu()).float().mean())


def epsilon_sweep(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, epsilons: Sequence[float], *,
                  attack="fgsm", progress: bool = False, desc: str = "epsilon sweep",
                  batch_size: int = 500, **attack_kwargs) -> Dict[float, float]:
    """Accuracy under attack for several epsilons: ``{eps: accuracy}`` (eps 0 is the clean accuracy).

    Examples
    --------
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    >>> sweep = epsilon_sweep(model, torch.rand(8, 1, 2, 2), torch.zeros(8, dtype=torch.long), [0, 0.1])
    >>> sorted(sweep)
    [0.0, 0.1]
    """
    if isinstance(epsilons, (str, bytes)) or not isinstance(epsilons, Iterable):
        raise TypeError(f"epsilons must be a list of numbers such as [0, 0.05, 0.1], got {epsilons!r}")
    eps_list = [_check_eps(e, "epsilons entries") for e in epsilons]
    if not eps_list:
        raise ValueError("epsilons is empty; pass e.g. [0, 0.05, 0.1]")
    out = {}
    for e in tqdm(eps_list, desc=desc, leave=False, disable=not progress):
        out[e] = adversarial_accuracy(model, images, labels, e, attack=attack, batch_size=batch_size,
                                      **attack_kwargs)
    return out


def transfer_rate(labels, source_clean, source_adv, target_clean, target_adv) -> float:
    """How often an attack that fools the source network also fools the target network.

    Counted over the images that *both* networks classify correctly when clean
    and whose adversarial version (made on the source) fools the source: the
    fraction of those that the target gets wrong too. NaN when there are none.

    Parameters
    ----------
    labels : array-like of int, shape (N,)
        True classes.
    source_clean, source_adv : array-like of int, shape (N,)
        The source network's predictions on the clean and the adversarial images.
    target_clean, target_adv : array-like of int, shape (N,)
        The target network's predictions on the same clean and adversarial images.

    Examples
    --------
    >>> transfer_rate([0, 1, 2, 3], [0, 1, 2, 0], [5, 5, 2, 5], [0, 1, 2, 3], [0, 5, 2, 3])
    0.5
    """
    arrays = []
    for name, a in [("labels", labels), ("source_clean", source_clean), ("source_adv", source_adv),
                    ("target_clean", target_clean), ("target_adv", target_adv)]:
        a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
        if a.ndim != 1 or a.dtype.kind not in "iu":
            raise ValueError(f"{name} must be a 1D array of integer class indices, got dtype {a.dtype} "
                             f"and shape {a.shape}")
        arrays.append(a)
    if len({len(a) for a in arrays}) != 1:
        raise ValueError(f"labels and the four prediction arrays must have the same length, got "
                         f"{[len(a) for a in arrays]}")
    y, sc, sa, tc, ta = arrays
    fooled_source = (sc == y) & (tc == y) & (sa != y)
    if not fooled_source.any():
        return float("nan")
    return float((ta[fooled_source] != y[fooled_source]).mean())


@dataclass
class TransferResult:
    """Adversarial examples made on each network (rows), tried on each network (columns).

    Attributes
    ----------
    names : list of str
    accuracy : ndarray, shape (S, S)
        ``accuracy[i, j]``: accuracy of network j on the examples made on network i
        (the diagonal is the white-box accuracy).
    rate : ndarray, shape (S, S)
        ``rate[i, j]``: :func:`transfer_rate` from source i to target j (1 on the
        diagonal by definition, wherever defined).
    clean : ndarray, shape (S,)
        Clean accuracy of each network.
    eps : float
    n : int
        Number of images.
    """
    names: List[str]
    accuracy: np.ndarray
    rate: np.ndarray
    clean: np.ndarray
    eps: float
    n: int

    def table(self, what: str = "accuracy") -> str:
        """The matrix as text: rows "made on", columns "tried on"."""
        m = {"accuracy": self.accuracy, "rate": self.rate}[what]
        width = max(12, max(len(n) for n in self.names) + 2)
        corner = "made on / tried on"
        head = f"{corner:<{width + 4}}" + "".join(f"{n:>{width}}" for n in self.names)
        rows = [head]
        for name, row in zip(self.names, m):
            rows.append(f"{name:<{width + 4}}" + "".join(f"{v:>{width}.1%}" for v in row))
        return "\n".join(rows)


def transfer_matrix(models: Mapping[str, nn.Module], images: torch.Tensor, labels: torch.Tensor, eps: float, *,
                    attack="fgsm", progress: bool = False, batch_size: int = 500,
                    **attack_kwargs) -> TransferResult:
    """Make adversarial examples on every network and try them on every network.

    Parameters
    ----------
    models : dict name -> nn.Module
        At least two networks for the same images and classes.
    images, labels, eps, attack, **attack_kwargs
        As in :func:`adversarial_accuracy`.

    Returns
    -------
    TransferResult

    Examples
    --------
    >>> torch.manual_seed(0) and None
    >>> nets = {"a": nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), "b": nn.Sequential(nn.Flatten(), nn.Linear(4, 2))}
    >>> r = transfer_matrix(nets, torch.rand(6, 1, 2, 2), torch.zeros(6, dtype=torch.long), 0.2)
    >>> r.accuracy.shape, r.names
    ((2, 2), ['a', 'b'])
    """
    if not isinstance(models, Mapping) or len(models) < 2:
        raise ValueError(f"models must be a dict name -> network with at least two networks, got "
                         f"{type(models).__name__} of {len(models) if hasattr(models, '__len__') else '?'}")
    names = [str(k) for k in models]
    nets = [_check_model(m) for m in models.values()]
    x = _check_images(images)
    y = _check_labels(labels, len(x))
    eps = _check_eps(eps)
    fn = _attack_fn(attack)
    yc = y.cpu()
    clean_pred = [_predict(m, x) for m in nets]
    s = len(nets)
    acc, rate = np.zeros((s, s)), np.zeros((s, s))
    for i in tqdm(range(s), desc=f"transfer (eps={eps:g})", leave=False, disable=not progress):
        x_adv = fn(nets[i], x, y, eps, batch_size=batch_size, **attack_kwargs)
        adv_pred = [_predict(m, x_adv) for m in nets]
        for j in range(s):
            acc[i, j] = float((adv_pred[j] == yc).float().mean())
            rate[i, j] = transfer_rate(yc, clean_pred[i], adv_pred[i], clean_pred[j], adv_pred[j])
    clean = np.array([float((p == yc).float().mean()) for p in clean_pred])
    return TransferResult(names, acc, rate, clean, eps, len(x))


# ----------------------------------------------------------------------------------------------
# adversarial training, by reusing course_lib.training.fit

class AdversarialLoader:
    """Wrap a loader of (images, labels) so that it yields attacked images made with ``model``.

    Give it to :func:`course_lib.training.fit` as the training loader and fit
    trains on adversarial examples of the *current* model (adversarial
    training); give it as the validation loader and the validation error fit
    records is the error under attack (so ``BestCheckpoint`` picks the most
    robust epoch). The default attack is the "fast" FGSM of Wong et al. (2020):
    a uniformly random start in the eps-ball, then one signed step of
    ``step_size = 1.25 * eps`` and the projection back into the ball and [0, 1].

    Parameters
    ----------
    loader : iterable of (images, labels)
        Float images in [0, 1] (e.g. a :class:`course_lib.training.TensorLoader`).
    model : nn.Module
        The network being trained (the attack always uses its current weights).
    eps : float
    steps : int
        Gradient steps of the attack (1: FGSM-type; more: PGD).
    step_size : float, optional
        Default ``1.25 * eps`` for one step, else ``2.5 * eps / steps``.
    random_start : bool
    seed : int
        Batch b of epoch e uses seed ``seed + 100003 * e + b`` for its random start.

    Examples
    --------
    >>> from course_lib.training import TensorLoader
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    >>> base = TensorLoader(torch.rand(6, 1, 2, 2), torch.zeros(6, dtype=torch.long), 4, device="cpu")
    >>> [tuple(xb.shape) for xb, yb in AdversarialLoader(base, model, 0.1)]
    [(4, 1, 2, 2), (2, 1, 2, 2)]
    """

    def __init__(self, loader: Iterable, model: nn.Module, eps: float, *, steps: int = 1,
                 step_size: Optional[float] = None, random_start: bool = True, seed: int = 0):
        if not isinstance(loader, Iterable):
            raise TypeError(f"loader must be an iterable of (images, labels) batches, got {type(loader).__name__}")
        self.loader = loader
        self.model = _check_model(model)
        self.eps = _check_eps(eps)
        self.steps = check_int("steps", steps, minimum=1)
        default = 1.25 * self.eps if self.steps == 1 else 2.5 * self.eps / self.steps
        self.step_size = default if step_size is None else _check_eps(step_size, "step_size")
        self.random_start = _check_bool("random_start", random_start)
        self.seed = check_int("seed", seed, minimum=0)
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
        epoch, self.epoch = self.epoch, self.epoch + 1
        for b, (xb, yb) in enumerate(self.loader):
            x_adv = pgd(self.model, xb.clamp(0.0, 1.0), yb, self.eps, steps=self.steps, step_size=self.step_size,
                        random_start=self.random_start, seed=self.seed + 100003 * epoch + b,
                        batch_size=max(1, len(xb)))
            yield x_adv, yb


def adversarial_fit(model: nn.Module, train_loader: Iterable, val_loader: Optional[Iterable] = None, *,
                    eps: float, steps: int = 1, step_size: Optional[float] = None, random_start: bool = True,
                    seed: int = 0, robust_validation: bool = True, **fit_kwargs):
    """Adversarial training: :func:`course_lib.training.fit` on attacked batches.

    Every training batch is replaced by its attacked version (see
    :class:`AdversarialLoader`: by default the fast FGSM with a random start of
    Wong et al. 2020). With ``robust_validation`` the validation batches are
    attacked too (same eps, fixed seed), so the recorded validation error is the
    robust error. Other keyword arguments (``epochs``, ``optimizer``,
    ``on_epoch_end``, ...) go to ``fit``.

    Returns
    -------
    History (as :func:`course_lib.training.fit`).

    Examples
    --------
    >>> from course_lib.training import TensorLoader
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    >>> data = TensorLoader(torch.rand(8, 1, 2, 2), torch.zeros(8, dtype=torch.long), 4, device="cpu")
    >>> h = adversarial_fit(model, data, data, eps=0.1, epochs=1, device="cpu", progress=False)
    >>> len(h.val_top1)
    1
    """
    from .training import fit
    model = _check_model(model)
    train = AdversarialLoader(train_loader, model, eps, steps=steps, step_size=step_size,
                              random_start=random_start, seed=seed)
    val = val_loader
    if val_loader is not None and robust_validation:
        val = _FixedSeedLoader(AdversarialLoader(val_loader, model, eps, steps=steps, step_size=step_size,
                                                 random_start=random_start, seed=seed + 1))
    return fit(model, train, val, **fit_kwargs)


class _FixedSeedLoader:
    """The same random starts in every epoch (validation must not change with the epoch counter)."""

    def __init__(self, adv: AdversarialLoader):
        self.adv = adv

    def __len__(self) -> int:
        return len(self.adv)

    def __iter__(self):
        self.adv.epoch = 0
        return iter(self.adv)
