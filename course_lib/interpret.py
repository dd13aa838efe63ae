"""What a trained network has learned: Grad-CAM, activation maximisation, DeepDream, top patches.

Every function takes a trained ``nn.Module`` that maps float images in [0, 1]
(NCHW) to logits, like the networks of :func:`course_lib.trained.load_trained`,
and names an inner layer by its dotted module name (``"net.conv3"``) or by
its last component when that is unique (``"conv3"``).

* :func:`grad_cam` (Selvaraju et al. 2017): the map ReLU(sum_k alpha_k A^k),
  alpha_k the spatial mean of d(score)/dA^k; ``relu=False`` gives the signed
  map of Bishop's eq. 10.10. :func:`class_activation_map` is the CAM of Zhou
  et al. (2016), which Grad-CAM generalises; :func:`upsample_cam` lays a map
  over the image.
* :func:`activation_maximisation`: gradient ascent on the input with the L2,
  blur and clipping regularisers of Yosinski et al. (2015), on a class's
  pre-softmax score, its probability, or a hidden channel.
* :func:`deepdream` (Mordvintsev, Olah and Tyka 2015; Bishop eq. 10.12):
  ascent on F = 1/2 sum a^2 of one layer's pre-activations.
* :func:`top_patches` (Zeiler and Fergus 2014): the images that excite a
  channel most, each cropped to the receptive field of its strongest unit,
  found with the receptive-field tracer of chapter 5
  (:func:`course_lib.receptive_field.measured_receptive_field`).
* :func:`layer_output`: any layer's activations, e.g. the penultimate features
  for a t-SNE map.

All models are run in eval mode (and put back in the mode they were in).
"""
from __future__ import annotations

import contextlib
import copy
import math
from typing import Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_int
from .receptive_field import Layer, measured_receptive_field, receptive_fields

__all__ = ["find_layer", "layer_output", "GradCAMParts", "grad_cam_parts", "grad_cam", "class_activation_map",
           "upsample_cam", "gaussian_blur", "Maximised", "activation_maximisation", "Dream", "deepdream",
           "neighbour_agreement", "field_layers", "ChannelMaxima", "channel_maxima", "TopPatches", "top_patches", "with_channel_statistics"]

Images = Union[torch.Tensor, np.ndarray]


# ----------------------------------------------------------------------------------------------
# helpers

def _check_model(model) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module (e.g. load_trained('forsyth_cifar')), "
                        f"got {type(model).__name__}")
    return model


def _device_dtype(model: nn.Module) -> Tuple[torch.device, torch.dtype]:
    for p in model.parameters():
        return p.device, p.dtype
    for b in model.buffers():
        if b.is_floating_point():
            return b.device, b.dtype
    return torch.device("cpu"), torch.float32


def _as_images(name: str, images, model: nn.Module, *, ndim: int = 4) -> torch.Tensor:
    """float images (N, C, H, W) on the model's device and dtype; uint8 becomes [0, 1]."""
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor or NumPy array of shape (N, C, H, W), "
                        f"got {type(images).__name__}")
    if images.ndim != ndim:
        shape = "(N, C, H, W)" if ndim == 4 else "(C, H, W)"
        raise ValueError(f"{name} must be {ndim}D {shape}, got shape {tuple(images.shape)}; "
                         f"{'add a batch axis with images[None]' if images.ndim == ndim - 1 else 'reshape it'}")
    if images.dtype == torch.bool or images.is_complex():
        raise TypeError(f"{name} must hold real numbers, got dtype {images.dtype}")
    device, dtype = _device_dtype(model)
    x = images.to(device)
    x = x.to(dtype) / 255.0 if x.dtype == torch.uint8 else x.to(dtype)
    if x.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(images.shape)}); pass at least one image")
    return x


@contextlib.contextmanager
def _eval(model: nn.Module) -> Iterator[None]:
    """Eval mode for the duration, then the modes the modules had."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, mode in modes:
            m.train(mode)


def find_layer(model: nn.Module, layer: str) -> Tuple[str, nn.Module]:
    """Resolve a layer name: a dotted module name or its unique last component.

    Returns
    -------
    (str, nn.Module)
        The full dotted name and the module.

    Examples
    --------
    >>> from course_lib.models import forsyth_cifar
    >>> find_layer(nn.Sequential(forsyth_cifar()), "conv3")[0]
    '0.conv3'
    """
    _check_model(model)
    if not isinstance(layer, str) or not layer:
        raise TypeError(f"layer must be a module name such as 'net.conv3' or 'conv3', got {layer!r}")
    named = dict(model.named_modules())
    if layer in named and layer != "":
        return layer, named[layer]
    hits = [n for n in named if n.split(".")[-1] == layer]
    if len(hits) == 1:
        return hits[0], named[hits[0]]
    children = [n for n in named if n][:12]
    if not hits:
        raise ValueError(f"layer={layer!r} is not a module of the model; use one of {children}"
                         + (" ..." if len(named) > 13 else ""))
    raise ValueError(f"layer={layer!r} is ambiguous ({hits}); pass the full dotted name")


def _layer_and_logits(model: nn.Module, layer: str, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """One forward pass that also returns the named layer's output (the tensor in the graph)."""
    _, module = find_layer(model, layer)
    store = {}

    def hook(_m, _inp, out):
        store["a"] = out

    handle = module.register_forward_hook(hook)
    try:
        logits = model(x)
    finally:
        handle.remove()
    if "a" not in store:
        raise ValueError(f"layer={layer!r} was not called in the model's forward pass")
    return store["a"], logits


class _Stop(Exception):
    """Raised by a forward hook to end the forward pass at the layer of interest."""


def _layer_only(model: nn.Module, layer: str, x: torch.Tensor) -> torch.Tensor:
    """The named layer's output; the forward pass stops there (later layers may not fit the size)."""
    _, module = find_layer(model, layer)
    store = {}

    def hook(_m, _inp, out):
        store["a"] = out
        raise _Stop

    handle = module.register_forward_hook(hook)
    try:
        model(x)
    except _Stop:
        pass
    finally:
        handle.remove()
    if "a" not in store:
        raise ValueError(f"layer={layer!r} was not called in the model's forward pass")
    return store["a"]


def _check_batch_size(batch_size) -> int:
    return check_int("batch_size", batch_size, minimum=1)


def layer_output(model: nn.Module, layer: str, images: Images, *, batch_size: int = 500) -> torch.Tensor:
    """The output of ``layer`` for every image, computed in batches without gradients.

    Parameters
    ----------
    model : nn.Module
        Images in [0, 1] in, logits out.
    layer : str
        Dotted module name or its unique last component.
    images : tensor or array, shape (N, C, H, W)
        Floats in [0, 1] or uint8.
    batch_size : int

    Returns
    -------
    torch.Tensor
        On the CPU, shape (N, ...) of the layer (e.g. (N, 64, 1, 1) for
        ``forsyth_cifar``'s ``relu4``: flatten it for the 64-d features).

    Examples
    --------
    >>> from course_lib.models import forsyth_cifar
    >>> tuple(layer_output(forsyth_cifar(seed=0), "relu3", torch.rand(3, 3, 32, 32)).shape)
    (3, 64, 8, 8)
    """
    _check_model(model)
    batch_size = _check_batch_size(batch_size)
    find_layer(model, layer)
    x = _as_images("images", images, model)
    outs = []
    with _eval(model), torch.no_grad():
        for i in range(0, len(x), batch_size):
            a = _layer_only(model, layer, x[i:i + batch_size])
            outs.append(a.detach().cpu())
    return torch.cat(outs)


# ----------------------------------------------------------------------------------------------
# Grad-CAM and CAM

class GradCAMParts(NamedTuple):
    """The pieces of a Grad-CAM map, see :func:`grad_cam_parts`."""

    activations: np.ndarray   #: (N, K, H, W): A^k, the layer's output
    gradients: np.ndarray     #: (N, K, H, W): d(score_target)/dA^k
    weights: np.ndarray       #: (N, K): alpha_k, the spatial mean of the gradients
    target: np.ndarray        #: (N,): the class whose score was differentiated
    logits: np.ndarray        #: (N, classes): the pre-softmax scores


def _check_target(target, n: int, classes: int) -> Optional[torch.Tensor]:
    if target is None:
        return None
    if isinstance(target, torch.Tensor):
        target = target.detach().cpu().numpy()
    if isinstance(target, (bool, np.bool_)):
        raise TypeError(f"target must be a class index or one per image, got {target!r}")
    arr = np.asarray(target)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"target must be integer class indices, got {target!r} (dtype {arr.dtype}); "
                        f"pass e.g. target=3 or one int per image")
    if arr.ndim == 0:
        arr = np.full(n, int(arr))
    if arr.shape != (n,):
        raise ValueError(f"target must be one int or {n} ints (one per image), got shape {arr.shape}")
    if arr.min() < 0 or arr.max() >= classes:
        raise ValueError(f"target must lie in 0..{classes - 1}, got values {np.unique(arr).tolist()[:10]}")
    return torch.as_tensor(arr, dtype=torch.long)


def grad_cam_parts(model: nn.Module, layer: str, images: Images, target=None) -> GradCAMParts:
    """Activations A^k of ``layer``, the gradients of the target's pre-softmax score, and alpha_k.

    Parameters
    ----------
    model : nn.Module
        Images in [0, 1] in, logits (N, classes) out.
    layer : str
        A layer with output (N, K, H, W), usually the last convolutional block.
    images : tensor or array, shape (N, C, H, W)
    target : int or sequence of int, optional
        The class of each map; default the predicted class of each image.

    Returns
    -------
    GradCAMParts
        ``weights[n, k]`` is alpha_k = (1 / (H W)) sum_ij d score / d A^k_ij.

    Examples
    --------
    >>> from course_lib.models import forsyth_cifar
    >>> parts = grad_cam_parts(forsyth_cifar(seed=0), "relu3", torch.rand(2, 3, 32, 32), target=1)
    >>> parts.activations.shape, parts.weights.shape, parts.target.tolist()
    ((2, 64, 8, 8), (2, 64), [1, 1])
    """
    _check_model(model)
    find_layer(model, layer)
    x = _as_images("images", images, model)
    with _eval(model), torch.enable_grad():
        a, logits = _layer_and_logits(model, layer, x)
        if a.ndim != 4:
            raise ValueError(f"layer={layer!r} gives outputs of shape {tuple(a.shape)}; Grad-CAM needs a "
                             f"convolutional layer with outputs (N, K, H, W)")
        if logits.ndim != 2:
            raise ValueError(f"the model must return logits (N, classes), got shape {tuple(logits.shape)}")
        tgt = _check_target(target, len(x), logits.shape[1])
        if tgt is None:
            tgt = logits.argmax(dim=1)
        tgt = tgt.to(logits.device)
        # the images are independent in eval mode, so one backward pass of the summed scores
        # gives every image's gradient
        score = logits.gather(1, tgt[:, None]).sum()
        (grad,) = torch.autograd.grad(score, a)
    alpha = grad.mean(dim=(2, 3))
    return GradCAMParts(a.detach().cpu().numpy(), grad.detach().cpu().numpy(), alpha.detach().cpu().numpy(),
                        tgt.cpu().numpy(), logits.detach().cpu().numpy())


def grad_cam(model: nn.Module, layer: str, images: Images, target=None, *, relu: bool = True) -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017): ReLU(sum_k alpha_k A^k) at the resolution of ``layer``.

    alpha_k is the spatial mean of d(score_target)/dA^k, the score is the
    pre-softmax logit and the target is the predicted class by default.
    ``relu=False`` returns the signed map sum_k alpha_k A^k: Bishop's
    eq. 10.10, which drops the ReLU of the original method (erratum E15).

    Parameters
    ----------
    model : nn.Module
    layer : str
        Layer with output (N, K, H, W), e.g. ``"relu3"`` of ``forsyth_cifar``.
    images : tensor or array, shape (N, C, H, W)
    target : int or sequence of int, optional
    relu : bool
        Apply the ReLU of the original method (default).

    Returns
    -------
    np.ndarray, shape (N, H_layer, W_layer)
        Use :func:`upsample_cam` to lay it over the image.

    Examples
    --------
    >>> from course_lib.models import forsyth_cifar
    >>> cam = grad_cam(forsyth_cifar(seed=0), "relu3", torch.rand(2, 3, 32, 32))
    >>> cam.shape, bool((cam >= 0).all())
    ((2, 8, 8), True)
    """
    if not isinstance(relu, bool):
        raise TypeError(f"relu must be True or False, got relu={relu!r}")
    parts = grad_cam_parts(model, layer, images, target)
    cam = np.einsum("nk,nkhw->nhw", parts.weights, parts.activations)
    return np.maximum(cam, 0) if relu else cam


def class_activation_map(features, weight, target) -> np.ndarray:
    """Class activation mapping (Zhou et al. 2016) for a global-average-pool + linear classifier.

    The network ends in features A (N, K, H, W) -> global average pool ->
    linear layer with ``weight`` (classes, K). The map of class c is
    sum_k w_ck A^k; its spatial mean is the class score minus the bias.

    Parameters
    ----------
    features : array, shape (N, K, H, W)
    weight : array, shape (classes, K)
    target : int or sequence of int (one per image)

    Returns
    -------
    np.ndarray, shape (N, H, W)

    Examples
    --------
    >>> a = np.ones((1, 2, 2, 2)); w = np.array([[1.0, -3.0], [2.0, 0.5]])
    >>> class_activation_map(a, w, 1)[0].tolist()
    [[2.5, 2.5], [2.5, 2.5]]
    """
    a = features.detach().cpu().numpy() if isinstance(features, torch.Tensor) else np.asarray(features)
    w = weight.detach().cpu().numpy() if isinstance(weight, torch.Tensor) else np.asarray(weight)
    if a.ndim != 4:
        raise ValueError(f"features must be 4D (N, K, H, W), got shape {a.shape}")
    if w.ndim != 2 or w.shape[1] != a.shape[1]:
        raise ValueError(f"weight must have shape (classes, K={a.shape[1]}), got {w.shape}")
    t = _check_target(target, a.shape[0], w.shape[0]).numpy()
    return np.einsum("nk,nkhw->nhw", w[t], a)


def upsample_cam(cam, size: Union[int, Tuple[int, int]], *, normalise: bool = True,
                 mode: str = "bilinear") -> np.ndarray:
    """Resize maps (N, h, w) to the image size, for an overlay.

    Parameters
    ----------
    cam : array, shape (N, h, w) or (h, w)
    size : int or (H, W)
    normalise : bool
        Divide each map by its maximum absolute value (a map of zeros stays
        zero), so that overlays share one colour scale.
    mode : {"bilinear", "nearest", "bicubic"}
        torch's interpolation (``align_corners=False``). Bilinear is smooth;
        nearest shows the layer's cells.

    Returns
    -------
    np.ndarray, shape (N, H, W) (or (H, W) for a single map)

    Examples
    --------
    >>> upsample_cam(np.array([[0.0, 2.0]]), (2, 4), mode="nearest").tolist()
    [[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]]
    """
    arr = cam.detach().cpu().numpy() if isinstance(cam, torch.Tensor) else np.asarray(cam)
    if arr.ndim not in (2, 3) or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"cam must be a numeric array (N, h, w) or (h, w), got shape {arr.shape}")
    if isinstance(size, (tuple, list)):
        size = (check_int("size[0]", size[0], minimum=1), check_int("size[1]", size[1], minimum=1))
    else:
        s = check_int("size", size, minimum=1)
        size = (s, s)
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"mode must be 'bilinear', 'nearest' or 'bicubic', got mode={mode!r}")
    if not isinstance(normalise, bool):
        raise TypeError(f"normalise must be True or False, got {normalise!r}")
    single = arr.ndim == 2
    t = torch.from_numpy(np.asarray(arr, dtype=np.float64))[None] if single else \
        torch.from_numpy(np.asarray(arr, dtype=np.float64))
    kw = {} if mode == "nearest" else {"align_corners": False}
    up = F.interpolate(t[:, None], size=size, mode=mode, **kw)[:, 0].numpy()
    if normalise:
        peak = np.abs(up).reshape(len(up), -1).max(axis=1)
        up = up / np.where(peak > 0, peak, 1.0)[:, None, None]
    return up[0] if single else up


# ----------------------------------------------------------------------------------------------
# activation maximisation

def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur images (N, C, H, W) with a Gaussian of standard deviation ``sigma`` pixels (reflected edges).

    The kernel is separable, truncated at 3 sigma and normalised to sum 1; sigma 0
    returns the input.

    Examples
    --------
    >>> x = torch.zeros(1, 1, 9, 9); x[0, 0, 4, 4] = 1
    >>> y = gaussian_blur(x, 1.0)
    >>> round(float(y.sum()), 6), bool(y[0, 0, 4, 4] < 1)
    (1.0, True)
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise ValueError(f"x must be a torch tensor (N, C, H, W), got "
                         f"{tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not math.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a number >= 0 (pixels), got sigma={sigma!r}")
    if sigma == 0:
        return x
    radius = max(1, int(math.ceil(3 * sigma)))
    radius = min(radius, min(x.shape[-2:]) - 1) if min(x.shape[-2:]) > 1 else 0
    if radius == 0:
        return x
    r = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    k = torch.exp(-0.5 * (r / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    y = F.pad(x, (radius, radius, 0, 0), mode="reflect")
    y = F.conv2d(y, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    y = F.pad(y, (0, 0, radius, radius), mode="reflect")
    return F.conv2d(y, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


class Maximised(NamedTuple):
    """The result of :func:`activation_maximisation` (leading axis B when several units were asked for)."""

    image: np.ndarray         #: (C, H, W) or (B, C, H, W), in [0, 1]
    history: np.ndarray       #: (steps,) or (steps, B): the objective before each step
    logits: np.ndarray        #: (classes,) or (B, classes): the pre-softmax scores of the final image
    start_logits: np.ndarray  #: the same for the start image


def _check_float(name: str, value, *, minimum: float = 0.0, maximum: Optional[float] = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < minimum or (maximum is not None and v > maximum):
        rng = f">= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
        raise ValueError(f"{name} must be {rng}, got {name}={value!r}")
    return v


def _objective(model, x, units, layer, objective, position):
    rows = torch.arange(len(x), device=x.device)
    if layer is None:
        logits = model(x)
        if objective == "score":
            return logits[rows, units], logits
        return F.softmax(logits, dim=1)[rows, units], logits
    a, logits = _layer_and_logits(model, layer, x)
    if a.ndim == 4:
        a = a[rows, units]                                   # (B, H, W)
        val = a.mean(dim=(1, 2)) if position is None else a[:, position[0], position[1]]
    else:
        val = a.reshape(len(a), -1)[rows, units]
    return val, logits


def activation_maximisation(model: nn.Module, unit: Union[int, Sequence[int]], *, layer: Optional[str] = None,
                            objective: str = "score", steps: int = 200, lr: float = 0.02,
                            l2: float = 0.0, blur_sigma: float = 0.0, blur_every: int = 4,
                            clip: float = 0.0, image_shape: Tuple[int, int, int] = (3, 32, 32),
                            init: Optional[Images] = None, position: Optional[Tuple[int, int]] = None,
                            seed: int = 0) -> Maximised:
    """Gradient ascent on the input image to excite one unit, with Yosinski et al.'s regularisers.

    The image is x = 0.5 + d (grey plus an offset d). Each step adds
    ``lr`` times the gradient divided by its root mean square (so ``lr`` is the
    typical change of a pixel per step), then applies the regularisers of
    Yosinski et al. (2015):

    * L2 decay: d <- (1 - l2) d, pulling the image towards grey;
    * blur: every ``blur_every`` steps d is blurred with a Gaussian of
      ``blur_sigma`` pixels, removing high frequencies;
    * clipping: pixels whose offset norm (over the channels) lies in the
      lowest ``clip`` fraction are set to grey;

    and finally keeps x inside [0, 1]. Several units are optimised together
    (one image each, in one batch: much faster than one at a time).

    Parameters
    ----------
    model : nn.Module
        Images in [0, 1] in, logits out.
    unit : int or sequence of int
        A class (``layer=None``) or a channel of ``layer``; a sequence gives one
        image per unit.
    layer : str, optional
        None: maximise an output unit. A layer name: maximise the mean of
        channel ``unit`` over positions (or the unit at ``position``).
    objective : {"score", "probability"}
        For output units: the pre-softmax score (what Bishop 10.3.2 recommends)
        or the softmax probability.
    steps, lr, l2, blur_sigma, blur_every, clip
        Number of steps, step size, decay per step, blur width (pixels, 0
        off), blur period, clipped fraction (0 off).
    image_shape : (C, H, W)
        Used when ``init`` is None: the start is grey plus small noise.
    init : array (C, H, W), optional
        Start image in [0, 1] (the same for every unit).
    position : (int, int), optional
        One spatial unit of a convolutional layer instead of the channel mean.
    seed : int

    Returns
    -------
    Maximised
        ``image`` (C, H, W) in [0, 1] (or (B, C, H, W) for a sequence of
        units), ``history`` of the objective, final and start ``logits``.

    Examples
    --------
    >>> from course_lib.models import forsyth_cifar
    >>> res = activation_maximisation(forsyth_cifar(seed=0), 3, steps=5)
    >>> res.image.shape, bool(res.history[-1] > res.history[0])
    ((3, 32, 32), True)
    >>> activation_maximisation(forsyth_cifar(seed=0), [0, 1, 2], steps=2).image.shape
    (3, 3, 32, 32)
    """
    _check_model(model)
    single = not isinstance(unit, (list, tuple, np.ndarray, torch.Tensor))
    if single:
        units_list = [check_int("unit", unit, minimum=0)]
    else:
        units_list = [check_int(f"unit[{i}]", u, minimum=0) for i, u in enumerate(list(unit))]
        if not units_list:
            raise ValueError("unit must hold at least one unit index")
    steps = check_int("steps", steps, minimum=1)
    blur_every = check_int("blur_every", blur_every, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    lr = _check_float("lr", lr)
    l2 = _check_float("l2", l2, maximum=1.0)
    blur_sigma = _check_float("blur_sigma", blur_sigma)
    clip = _check_float("clip", clip, maximum=1.0)
    if objective not in ("score", "probability"):
        raise ValueError(f"objective must be 'score' or 'probability', got objective={objective!r}")
    if layer is not None:
        find_layer(model, layer)
        if objective != "score":
            raise ValueError("objective='probability' needs an output unit: leave layer=None for it")
    if position is not None:
        if layer is None:
            raise ValueError("position selects a unit of a convolutional layer: give layer= as well")
        if not (isinstance(position, (tuple, list)) and len(position) == 2):
            raise TypeError(f"position must be a pair (row, col) of ints, got {position!r}")
        position = (check_int("position[0]", position[0], minimum=0),
                    check_int("position[1]", position[1], minimum=0))
    device, dtype = _device_dtype(model)
    b = len(units_list)
    if init is None:
        if not (isinstance(image_shape, (tuple, list)) and len(image_shape) == 3):
            raise TypeError(f"image_shape must be (C, H, W), got {image_shape!r}")
        shape = tuple(check_int(f"image_shape[{i}]", s, minimum=1) for i, s in enumerate(image_shape))
        gen = torch.Generator().manual_seed(seed)
        d = 0.01 * torch.randn(b, *shape, generator=gen, dtype=torch.float64)
    else:
        x0 = _as_images("init", init, model, ndim=3).cpu().double()
        d = (x0[None] - 0.5).repeat(b, 1, 1, 1)
    d = d.to(device=device, dtype=dtype)
    units = torch.tensor(units_list, dtype=torch.long, device=device)
    history = []
    with _eval(model), torch.enable_grad():
        with torch.no_grad():
            start_logits = model(0.5 + d)
            if layer is None:
                if max(units_list) >= start_logits.shape[1]:
                    raise ValueError(f"unit must be a class index in 0..{start_logits.shape[1] - 1}, "
                                     f"got unit={unit}")
            else:
                a, _ = _layer_and_logits(model, layer, 0.5 + d)
                if max(units_list) >= a.shape[1]:
                    raise ValueError(f"unit must be a channel of layer={layer!r} in 0..{a.shape[1] - 1}, "
                                     f"got unit={unit}")
                if position is not None and (a.ndim != 4 or position[0] >= a.shape[2]
                                             or position[1] >= a.shape[3]):
                    raise ValueError(f"position must lie in the layer's map of shape {tuple(a.shape[2:])}, "
                                     f"got position={position}")
        for step in range(steps):
            d = d.detach().requires_grad_(True)
            val, _ = _objective(model, 0.5 + d, units, layer, objective, position)
            history.append(val.detach().cpu().double().numpy())
            # the images are independent in eval mode: one backward pass gives every image's gradient
            (g,) = torch.autograd.grad(val.sum(), d)
            with torch.no_grad():
                rms = g.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt()
                d = d + lr * g / (rms + 1e-12)
                if l2 > 0:
                    d = d * (1 - l2)
                if blur_sigma > 0 and (step + 1) % blur_every == 0:
                    d = gaussian_blur(d, blur_sigma)
                if clip > 0:
                    norms = d.pow(2).sum(dim=1, keepdim=True).sqrt()                  # (B, 1, H, W)
                    cut = torch.quantile(norms.flatten(1).double(), clip, dim=1).to(d.dtype)
                    d = torch.where(norms <= cut[:, None, None, None], torch.zeros_like(d), d)
                d = d.clamp(-0.5, 0.5)
        with torch.no_grad():
            logits = model(0.5 + d)
    image = (0.5 + d).detach().cpu().numpy()
    hist = np.stack(history)
    logits, start = logits.cpu().numpy(), start_logits.cpu().numpy()
    if single:
        return Maximised(image[0], hist[:, 0], logits[0], start[0])
    return Maximised(image, hist, logits, start)


# ----------------------------------------------------------------------------------------------
# DeepDream

class _ChannelStats(nn.Module):
    """Per-pixel preprocessing turned into per-channel (x - m) / s, so the model takes any image size."""

    def __init__(self, mean: torch.Tensor, scale: torch.Tensor):
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("scale", scale)

    def forward(self, x):
        return (x - self.mean) / self.scale


def with_channel_statistics(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose per-pixel preprocessing uses per-channel statistics (any image size).

    :class:`course_lib.trained.PixelWhiten` subtracts a mean image and divides
    by a standard-deviation image of 32 x 32 pixels, so the trained CIFAR-10
    networks only take 32 x 32 inputs. This copy replaces both images by their
    spatial means per channel (``MeanSubtract`` likewise), so the convolutional
    part runs on a photograph of any size. It is an approximation of the
    trained network: measure how often it agrees with the original.

    Examples
    --------
    >>> from course_lib.trained import PixelWhiten
    >>> m = nn.Sequential(PixelWhiten((3, 4, 4)), nn.Conv2d(3, 2, 3))
    >>> tuple(with_channel_statistics(m)(torch.rand(1, 3, 9, 9)).shape)
    (1, 2, 7, 7)
    """
    from .trained import MeanSubtract, PixelWhiten
    _check_model(model)
    new = copy.deepcopy(model)
    replaced = 0
    for name, module in list(new.named_modules()):
        if isinstance(module, (PixelWhiten, MeanSubtract)):
            mean = module.mean.mean(dim=(2, 3), keepdim=True)
            if isinstance(module, PixelWhiten):
                scale = (module.std + module.eps).mean(dim=(2, 3), keepdim=True)
            else:
                scale = torch.ones_like(mean)
            parent = new.get_submodule(name.rsplit(".", 1)[0]) if "." in name else new
            setattr(parent, name.rsplit(".", 1)[-1], _ChannelStats(mean, scale))
            replaced += 1
    if replaced == 0:
        raise ValueError("the model has no PixelWhiten or MeanSubtract module to replace; it may already "
                         "take any image size")
    return new


class Dream(NamedTuple):
    """The result of :func:`deepdream`."""

    image: np.ndarray     #: (C, H, W) in [0, 1]
    history: np.ndarray   #: (steps * octaves,): F = 1/2 sum a^2 before each step


def deepdream(model: nn.Module, layer: str, image: Images, *, steps: int = 20, lr: float = 0.01,
              octaves: int = 1, octave_scale: float = 1.4, jitter: int = 0, blur_sigma: float = 0.0,
              channels: Optional[Sequence[int]] = None, seed: int = 0) -> Dream:
    """DeepDream: gradient ascent on F(I) = 1/2 sum_ijk a_ijk(I)^2 of one layer (Bishop eq. 10.12).

    The gradient of F with respect to the layer is the layer's own activation:
    Bishop's "set the backpropagation delta variables equal to the
    pre-activations". Each step adds ``lr`` times the gradient divided by its
    mean absolute value, keeps the image in [0, 1], and (optionally) blurs the
    step. With ``octaves`` > 1 it starts on a smaller copy of the image and
    carries the added detail up, scale by scale (Mordvintsev et al.'s octaves);
    ``jitter`` rolls the image by a random shift of up to that many pixels
    before each step, so no pixel grid is favoured.

    Parameters
    ----------
    model : nn.Module
        Must accept the image's size up to ``layer`` (see
        :func:`with_channel_statistics` for the CIFAR-10 networks).
    layer : str
        The layer whose (pre-)activations are amplified, e.g. ``"conv3"``.
    image : array (C, H, W) in [0, 1]
    steps : int
        Steps per octave.
    lr : float
    octaves : int
    octave_scale : float
        Size ratio between octaves, > 1.
    jitter : int
    blur_sigma : float
        Gaussian blur of each step (pixels), 0 for none.
    channels : sequence of int, optional
        Amplify only these channels (default: all, as eq. 10.12).
    seed : int

    Returns
    -------
    Dream

    Examples
    --------
    >>> from course_lib.models import forsyth_cifar
    >>> dream = deepdream(forsyth_cifar(seed=0), "conv2", torch.rand(3, 40, 48), steps=3)
    >>> dream.image.shape, bool(dream.history[-1] > dream.history[0])
    ((3, 40, 48), True)
    """
    _check_model(model)
    find_layer(model, layer)
    steps = check_int("steps", steps, minimum=1)
    octaves = check_int("octaves", octaves, minimum=1)
    jitter = check_int("jitter", jitter, minimum=0)
    seed = check_int("seed", seed, minimum=0)
    lr = _check_float("lr", lr)
    blur_sigma = _check_float("blur_sigma", blur_sigma)
    octave_scale = _check_float("octave_scale", octave_scale, minimum=1.0)
    x = _as_images("image", image, model, ndim=3)[None]
    if channels is not None:
        channels = [check_int("channels[i]", c, minimum=0) for c in channels]
        if not channels:
            raise ValueError("channels must hold at least one channel index, or be None for all")
    h, w = x.shape[-2:]
    sizes = [(max(1, round(h / octave_scale ** o)), max(1, round(w / octave_scale ** o)))
             for o in reversed(range(octaves))]
    base = [F.interpolate(x, size=s, mode="bilinear", align_corners=False) if s != (h, w) else x for s in sizes]
    rng = np.random.default_rng(seed)
    history: List[float] = []
    detail = torch.zeros_like(base[0])
    with _eval(model), torch.enable_grad():
        for o, (size, b) in enumerate(zip(sizes, base)):
            if o > 0:
                detail = F.interpolate(detail, size=size, mode="bilinear", align_corners=False)
            img = (b + detail).clamp(0, 1)
            for _ in range(steps):
                dy, dx = (rng.integers(-jitter, jitter + 1, size=2) if jitter else (0, 0))
                shifted = torch.roll(img, shifts=(int(dy), int(dx)), dims=(2, 3)).detach().requires_grad_(True)
                a = _layer_only(model, layer, shifted)
                if channels is not None:
                    if max(channels) >= a.shape[1]:
                        raise ValueError(f"channels must lie in 0..{a.shape[1] - 1} for layer={layer!r}, "
                                         f"got {channels}")
                    a = a[:, channels]
                f = 0.5 * a.pow(2).sum()
                history.append(float(f.detach()))
                (g,) = torch.autograd.grad(f, shifted)
                with torch.no_grad():
                    g = torch.roll(g, shifts=(-int(dy), -int(dx)), dims=(2, 3))
                    g = g / (g.abs().mean() + 1e-12)
                    if blur_sigma > 0:
                        g = gaussian_blur(g, blur_sigma)
                    img = (img + lr * g).clamp(0, 1)
            detail = img - b
    return Dream(img[0].detach().cpu().numpy(), np.asarray(history))


# ----------------------------------------------------------------------------------------------
# top patches, cropped to receptive fields

def field_layers(model: nn.Module, layer: str) -> List[Tuple[str, Layer]]:
    """The geometry of the model up to ``layer`` as receptive-field :class:`Layer` s (chapter 5).

    Convolutions and pooling layers become ``Layer("conv"/"pool", ...)``;
    element-wise modules (ReLU, batch norm, dropout, the preprocessing) do not
    move pixels and are left out. Forsyth's :class:`PaddedPool2d` (one extra
    row and column at the bottom and right before a 3 x 3, stride-2 pool) is a
    pool with ``ceil_mode=True``: the extra row only lets the last window fit,
    it does not move any field. Modules that change the geometry in other ways
    (a crop, a flatten before the layer, a linear layer) raise a ``ValueError``.

    Returns
    -------
    list of (str, Layer)
        Module name and its geometry, in order, ending with ``layer``'s last
        geometric predecessor.

    Examples
    --------
    >>> from course_lib.models import forsyth_cifar
    >>> [n for n, _ in field_layers(forsyth_cifar(), "relu3")]
    ['conv1', 'pool1', 'conv2', 'pool2', 'conv3']
    """
    from .models import PaddedPool2d
    from .trained import MeanSubtract, PixelWhiten
    full, target = find_layer(model, layer)
    elementwise = (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.ELU, nn.GELU, nn.Identity,
                   nn.BatchNorm2d, nn.Dropout, nn.Dropout2d, PixelWhiten, MeanSubtract, _ChannelStats)
    out: List[Tuple[str, Layer]] = []
    for name, m in model.named_modules():
        if len(list(m.children())) > 0 and name != full:
            continue                              # containers: look at their leaves
        short = name.split(".")[-1]
        if isinstance(m, nn.Conv2d):
            k, s, p, dil = m.kernel_size, m.stride, m.padding, m.dilation
            if isinstance(p, str) or len({k[0], k[1]}) > 1 or len({s[0], s[1]}) > 1 \
                    or len({p[0], p[1]}) > 1 or len({dil[0], dil[1]}) > 1:
                raise ValueError(f"module {name!r} is not square (kernel {k}, stride {s}, padding {p}); "
                                 f"field_layers handles square convolutions only")
            out.append((short, Layer("conv", k[0], s[0], p[0], dil[0])))
        elif isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
            k, s, p = (m.kernel_size, m.stride, m.padding)
            k, s, p = [v if isinstance(v, int) else v[0] for v in (k, s, p)]
            out.append((short, Layer("pool", k, s, p, ceil_mode=bool(m.ceil_mode))))
        elif isinstance(m, PaddedPool2d):
            top, bottom, left, right = m.pad
            if top or left or bottom != right or bottom > m.stride - 1:
                raise ValueError(f"module {name!r} pads {m.pad}; only extra rows/columns at the bottom "
                                 f"and right that only let the last window fit are supported")
            out.append((short, Layer("pool", m.kernel_size, m.stride, 0, ceil_mode=bool(bottom))))
        elif isinstance(m, elementwise) or len(list(m.children())) > 0:
            pass
        else:
            raise ValueError(f"module {name!r} ({type(m).__name__}) comes before layer={layer!r} and is not "
                             f"a convolution, a pooling layer or element-wise; choose a convolutional layer")
        if name == full:
            break
    if not out:
        raise ValueError(f"no convolution or pooling layer up to layer={layer!r}")
    return out


class ChannelMaxima(NamedTuple):
    """The strongest unit of every channel in every image, see :func:`channel_maxima`."""

    values: torch.Tensor      #: (N, K): max over positions of channel k in image n
    positions: torch.Tensor   #: (N, K): where (flat index row * W + col)
    map_size: Tuple[int, int]  #: (H, W) of the layer's maps


def channel_maxima(model: nn.Module, layer: str, images: Images, *, batch_size: int = 250) -> ChannelMaxima:
    """Max over positions of every channel of ``layer``, per image, without keeping the whole maps.

    Parameters
    ----------
    model : nn.Module
    layer : str
        A layer with output (N, K, H, W).
    images : array (N, C, H, W)
    batch_size : int

    Returns
    -------
    ChannelMaxima

    Examples
    --------
    >>> from course_lib.models import forsyth_cifar
    >>> m = channel_maxima(forsyth_cifar(seed=0), "conv1", torch.rand(3, 3, 32, 32))
    >>> tuple(m.values.shape), m.map_size
    ((3, 32), (32, 32))
    """
    _check_model(model)
    batch_size = _check_batch_size(batch_size)
    find_layer(model, layer)
    x = _as_images("images", images, model)
    vals, poss, size = [], [], None
    with _eval(model), torch.no_grad():
        for i in range(0, len(x), batch_size):
            a = _layer_only(model, layer, x[i:i + batch_size])
            if a.ndim != 4:
                raise ValueError(f"layer={layer!r} gives outputs of shape {tuple(a.shape)}; it must be "
                                 f"convolutional, (N, K, H, W)")
            size = (int(a.shape[2]), int(a.shape[3]))
            v, p = a.flatten(2).max(dim=2)
            vals.append(v.cpu())
            poss.append(p.cpu())
    return ChannelMaxima(torch.cat(vals), torch.cat(poss), size)


class TopPatches(NamedTuple):
    """The result of :func:`top_patches`."""

    patches: np.ndarray   #: (k, C, S, S): the receptive field of each unit, outside the image = ``fill``
    index: np.ndarray     #: (k,): which image
    unit: np.ndarray      #: (k, 2): (row, col) of the strongest unit in the layer's map
    value: np.ndarray     #: (k,): its activation
    box: np.ndarray       #: (k, 4): first and last row, first and last column inside the image


def top_patches(model: nn.Module, layer: str, images: Images, channel: int, k: int = 9, *,
                maxima: Optional[ChannelMaxima] = None, fill: float = 1.0,
                batch_size: int = 250) -> TopPatches:
    """The k images that excite ``channel`` of ``layer`` most, cropped to the strongest unit's field.

    For every image the strongest unit of the channel is found (the maximum
    over positions); the k images with the largest maxima win (one patch per
    image, as Zeiler and Fergus). Each patch is the unit's receptive field,
    measured with autograd by the tracer of chapter 5
    (:func:`course_lib.receptive_field.measured_receptive_field` on
    :func:`field_layers`); the part of a field that hangs over the image
    border is filled with ``fill``.

    Parameters
    ----------
    model : nn.Module
    layer : str
        A convolutional layer (output (N, K, H, W)).
    images : array (N, C, H, W) in [0, 1] (square images)
    channel : int
    k : int
    maxima : ChannelMaxima, optional
        :func:`channel_maxima` of ``layer`` for ``images`` if already
        computed; saves a pass over the images (and memory: the maps of the
        first layers of thousands of images take hundreds of megabytes).
    fill : float
        Value of the pixels outside the image.
    batch_size : int

    Returns
    -------
    TopPatches

    Examples
    --------
    >>> from course_lib.models import forsyth_cifar
    >>> tp = top_patches(forsyth_cifar(seed=0), "conv2", torch.rand(20, 3, 32, 32), channel=5, k=4)
    >>> tp.patches.shape, tp.index.shape
    ((4, 3, 15, 15), (4,))
    """
    _check_model(model)
    channel = check_int("channel", channel, minimum=0)
    k = check_int("k", k, minimum=1)
    fill = _check_float("fill", fill, minimum=-math.inf)
    x = _as_images("images", images, model)
    if x.shape[-1] != x.shape[-2]:
        raise ValueError(f"images must be square, got {tuple(x.shape[-2:])}")
    if k > len(x):
        raise ValueError(f"k={k} is more than the {len(x)} images; use k <= {len(x)}")
    if maxima is None:
        maxima = channel_maxima(model, layer, x, batch_size=batch_size)
    if not isinstance(maxima, ChannelMaxima) or len(maxima.values) != len(x):
        raise ValueError(f"maxima must be channel_maxima(model, {layer!r}, images) for these {len(x)} images")
    if channel >= maxima.values.shape[1]:
        raise ValueError(f"channel must lie in 0..{maxima.values.shape[1] - 1} for layer={layer!r}, "
                         f"got channel={channel}")
    geometry = [g for _, g in field_layers(model, layer)]
    n = x.shape[-1]
    info = receptive_fields(geometry, n)[-1]
    if info.output_size != maxima.map_size[1]:
        raise ValueError(f"the receptive-field bookkeeping gives a {info.output_size}-wide map for "
                         f"layer={layer!r} but the layer outputs {maxima.map_size[1]}; a module changes "
                         f"the geometry in a way field_layers does not know")
    best, pos = maxima.values[:, channel].double(), maxima.positions[:, channel]
    order = torch.argsort(-best, stable=True)[:k]
    w = maxima.map_size[1]
    S = info.size
    xs = x.detach().cpu().numpy()
    patches = np.full((k, xs.shape[1], S, S), fill, dtype=xs.dtype)
    units, boxes = [], []
    for j, i in enumerate(order.tolist()):
        r, c = divmod(int(pos[i]), w)
        field = measured_receptive_field(geometry, n, unit=(r, c))     # the tracer: autograd support
        (r0, r1), (c0, c1) = field.rows, field.cols
        # where the field would start if the image went on: place the crop inside the S x S patch
        fr, fc = info.span(r)[0], info.span(c)[0]
        patches[j, :, r0 - fr:r1 - fr + 1, c0 - fc:c1 - fc + 1] = xs[i, :, r0:r1 + 1, c0:c1 + 1]
        units.append((r, c))
        boxes.append((r0, r1, c0, c1))
    return TopPatches(patches, order.numpy(), np.array(units, dtype=int).reshape(-1, 2),
                      best[order].numpy(), np.array(boxes, dtype=int).reshape(-1, 4))


# ----------------------------------------------------------------------------------------------
# how well an embedding keeps the classes together

def neighbour_agreement(features, labels, k: int = 5) -> float:
    """Share of the points whose k nearest other points (Euclidean) hold a majority of their own class.

    A leave-one-out k-nearest-neighbour classifier's accuracy (ties count as
    wrong): a number for "the classes form clusters" in raw pixels, in a
    network's features, or in a 2-D t-SNE map.

    Parameters
    ----------
    features : array (N, D)
    labels : array (N,) of int
    k : int
        1 <= k < N.

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> neighbour_agreement(np.array([[0.0], [0.1], [5.0], [5.1]]), np.array([0, 0, 1, 1]), k=1)
    1.0
    """
    x = features.detach().cpu().numpy() if isinstance(features, torch.Tensor) else np.asarray(features)
    y = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"features must be a numeric array (N, D), got shape {x.shape}")
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be {len(x)} integers, got shape {y.shape} dtype {y.dtype}")
    k = check_int("k", k, minimum=1)
    if k >= len(x):
        raise ValueError(f"k must be smaller than the number of points ({len(x)}), got k={k}")
    x = x.astype(np.float64)
    sq = (x ** 2).sum(1)
    right = 0
    for i in range(0, len(x), 1000):                    # blocks of rows keep the distance matrix small
        d = sq[i:i + 1000, None] - 2 * x[i:i + 1000] @ x.T + sq[None]
        d[np.arange(len(d)), np.arange(i, i + len(d))] = np.inf          # leave the point itself out
        nn_idx = np.argpartition(d, k - 1, axis=1)[:, :k]
        votes = (y[nn_idx] == y[i:i + 1000, None]).sum(1)
        right += int((votes * 2 > k).sum())
    return right / len(x)
