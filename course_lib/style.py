"""Neural style transfer: content loss, Gram (style) matrices, style loss, and an image optimiser.

The equations are Bishop and Bishop's (*Deep Learning*, section 10.6), with
the two corrections the book makes (errata E15 and E20):

* content loss, eq. 10.14: ``E_content(G, C) = sum_{i,j,k} (a_ijk(G) - a_ijk(C))^2``
  over one layer's feature maps;
* style (Gram) matrix, eq. 10.15: ``F_kk'(G) = sum_{i,j} a_ijk(G) a_ijk'(G)``, a *sum*
  over the I x J positions (the text says "average"; the normalisation sits in 10.16);
* style loss of one layer, eq. 10.16: ``E_style(G, S) = (2 I J K)^-2 sum_{k,k'} (F_kk'(G) - F_kk'(S))^2``
  (Bishop writes ``E_style(G, C)``; the style image is S, E15);
* over several layers, eq. 10.17: ``sum_l lambda_l E_style^(l)``. Buduma's printed form
  of the same loss is garbled; the correct one is
  ``sum_l w_l / (4 k_l^2 m_l^2) sum_{i,j} (A_ij - G_ij)^2`` with ``(2IJK)^2 = 4 k_l^2 m_l^2`` (E20);
* total loss, eq. 10.13: ``E(G) = E_content + E_style`` with the weights folded in.

Tensors are NCHW. Everything is differentiable torch code, so the image ``G``
can be optimised with any torch optimiser (:func:`optimize_image`).

There are no pretrained ImageNet weights on the machines that build this book.
:func:`style_net` builds a small VGG-like network that works with random
weights (Ustyuzhaninov et al. 2016; He, Wang and Hopcroft 2016) or after
training on CIFAR-10.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ._checks import check_int

__all__ = ["gram_matrix", "gram_matrix_naive", "content_loss", "style_loss", "style_loss_naive",
           "total_loss", "FeatureExtractor", "layer_names", "style_net", "image_to_tensor",
           "tensor_to_image", "StyleResult", "optimize_image"]

TensorLike = Union[torch.Tensor, np.ndarray]


def _as_tensor(name: str, value, ndim: Sequence[int]) -> torch.Tensor:
    if isinstance(value, np.ndarray):
        if not np.issubdtype(value.dtype, np.number) or value.dtype == bool:
            raise TypeError(f"{name} must hold real numbers, got dtype {value.dtype}; "
                            f"convert it with {name}.astype(np.float64)")
        value = torch.from_numpy(np.ascontiguousarray(value))
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor or NumPy array, got {type(value).__name__}; "
                        f"convert it with torch.as_tensor({name})")
    if not value.is_floating_point():
        value = value.double()
    if value.ndim not in ndim:
        want = " or ".join(f"{d}D" for d in ndim)
        raise ValueError(f"{name} must be {want}, got shape {tuple(value.shape)}; feature maps are "
                         f"(N, C, H, W) (add a batch axis with {name}[None])")
    return value


def gram_matrix(features: TensorLike) -> torch.Tensor:
    """Style (Gram) matrix of feature maps, Bishop eq. 10.15: a sum over positions.

    Parameters
    ----------
    features : Tensor or ndarray, shape (N, C, H, W) or (C, H, W)
        One layer's feature maps for N images.

    Returns
    -------
    Tensor, shape (N, C, C) (or (C, C) for a 3D input)
        ``F[n, k, k'] = sum_{i,j} features[n, k, i, j] * features[n, k', i, j]``;
        symmetric and positive semi-definite. Differentiable.

    Examples
    --------
    >>> a = torch.tensor([[[[1., 2.]], [[3., 4.]]]])     # N=1, C=2, H=1, W=2
    >>> gram_matrix(a)
    tensor([[[ 5., 11.],
             [11., 25.]]])
    """
    a = _as_tensor("features", features, (3, 4))
    flat = a.flatten(-2)                       # (..., C, H*W)
    return flat @ flat.transpose(-1, -2)       # (..., C, C)


def gram_matrix_naive(features: TensorLike) -> torch.Tensor:
    """Loop twin of :func:`gram_matrix` (same signature), written from eq. 10.15 term by term.

    Examples
    --------
    >>> a = torch.arange(12.).reshape(1, 2, 2, 3)
    >>> torch.equal(gram_matrix_naive(a), gram_matrix(a))
    True
    """
    a = _as_tensor("features", features, (3, 4))
    squeeze = a.ndim == 3
    a = a[None] if squeeze else a
    n, c, h, w = a.shape
    out = torch.zeros(n, c, c, dtype=a.dtype)
    for b in range(n):
        for k in range(c):
            for k2 in range(c):
                total = 0.0
                for i in range(h):
                    for j in range(w):
                        total = total + a[b, k, i, j] * a[b, k2, i, j]
                out[b, k, k2] = total
    return out[0] if squeeze else out


def content_loss(generated: TensorLike, content: TensorLike) -> torch.Tensor:
    """Bishop eq. 10.14: the sum of squared differences of one layer's activations.

    Parameters
    ----------
    generated, content : Tensor, shape (N, C, H, W)
        The layer's activations for the generated image G and the content image C
        (same shape; ``content`` is treated as a constant).

    Returns
    -------
    Tensor (scalar)
        ``sum (a(G) - a(C))^2`` over all positions, channels and images.

    Examples
    --------
    >>> content_loss(torch.ones(1, 2, 2, 2), torch.zeros(1, 2, 2, 2))
    tensor(8.)
    """
    g = _as_tensor("generated", generated, (4,))
    c = _as_tensor("content", content, (4,))
    if g.shape != c.shape:
        raise ValueError(f"generated and content must have the same shape, got {tuple(g.shape)} and "
                         f"{tuple(c.shape)}; take both from the same layer for same-sized images")
    return ((g - c.detach()) ** 2).sum()


def style_loss(generated: TensorLike, style: TensorLike) -> torch.Tensor:
    """Style loss of one layer, Bishop eq. 10.16 (= Buduma's, corrected: E20).

    ``(2 I J K)^-2 * sum_{k,k'} (F_kk'(G) - F_kk'(S))^2`` where F is the Gram matrix
    (:func:`gram_matrix`), K the number of channels and I x J the size of the
    generated image's feature maps. The style image may have a different size:
    only its Gram matrix is compared.

    Parameters
    ----------
    generated : Tensor, shape (N, C, H, W)
        The layer's activations for the generated image(s).
    style : Tensor, shape (N or 1, C, H', W') or (C, C) / (N or 1, C, C)
        The style image's activations, or its precomputed Gram matrix (a constant).

    Returns
    -------
    Tensor (scalar), summed over the N images.

    Examples
    --------
    >>> g = torch.ones(1, 1, 2, 2); s = torch.zeros(1, 1, 2, 2)
    >>> style_loss(g, s)          # F(G) = 4, F(S) = 0: 16 / (2 * 2 * 2 * 1) ** 2
    tensor(0.2500)
    """
    g = _as_tensor("generated", generated, (4,))
    s = _as_tensor("style", style, (2, 3, 4))
    _, k, i, j = g.shape
    target = gram_matrix(s) if s.ndim == 4 else s
    if target.shape[-1] != k or target.shape[-2] != k:
        raise ValueError(f"style must have {k} channels like generated, got a Gram matrix of shape "
                         f"{tuple(target.shape)}; take both from the same layer")
    return ((gram_matrix(g) - target.detach()) ** 2).sum() / (2 * i * j * k) ** 2


def style_loss_naive(generated: TensorLike, style: TensorLike) -> torch.Tensor:
    """Loop twin of :func:`style_loss`, with Buduma's corrected normaliser 1 / (4 k_l^2 m_l^2).

    Examples
    --------
    >>> g = torch.randn(1, 3, 4, 5, dtype=torch.float64); s = torch.randn(1, 3, 6, 2, dtype=torch.float64)
    >>> bool(torch.isclose(style_loss_naive(g, s), style_loss(g, s)))
    True
    """
    g = _as_tensor("generated", generated, (4,))
    s = _as_tensor("style", style, (2, 3, 4))
    n, k, h, w = g.shape
    m = h * w                                      # Buduma's m_l: positions per feature map
    gg = gram_matrix_naive(g)
    a = gram_matrix_naive(s) if s.ndim == 4 else s
    a = a if a.ndim == 3 else a[None]
    total = 0.0
    for b in range(n):
        ab = a[b if a.shape[0] > 1 else 0]
        for r in range(k):
            for c in range(k):
                total = total + (ab[r, c] - gg[b, r, c]) ** 2
    return total / (4 * k ** 2 * m ** 2)


def _check_weights(name: str, weights, names: Sequence[str]) -> Dict[str, float]:
    if isinstance(weights, numbers.Real) and not isinstance(weights, bool):
        return {n: float(weights) for n in names}
    if not isinstance(weights, Mapping):
        raise TypeError(f"{name} must be a number or a dict layer -> weight, got "
                        f"{type(weights).__name__}; e.g. {name}={{'relu1': 1.0}}")
    missing = [n for n in names if n not in weights]
    if missing:
        raise ValueError(f"{name} has no weight for layer(s) {missing}; give one per layer, "
                         f"e.g. {name}={{{missing[0]!r}: 1.0}}")
    out = {}
    for n in names:
        v = weights[n]
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or v < 0:
            raise ValueError(f"{name}[{n!r}] must be a number >= 0, got {v!r}")
        out[n] = float(v)
    return out


def total_loss(features: Mapping[str, torch.Tensor], content_targets: Mapping[str, torch.Tensor],
               style_targets: Mapping[str, torch.Tensor], *, content_weight=1.0,
               style_weights=1.0) -> Dict[str, torch.Tensor]:
    """Bishop eq. 10.13 with weights: ``sum_l alpha_l E_content^(l) + sum_l lambda_l E_style^(l)`` (10.17).

    Parameters
    ----------
    features : dict name -> Tensor (N, C, H, W)
        The generated image's activations at (at least) every layer named in the targets.
    content_targets : dict name -> Tensor
        The content image's activations at the content layers (may be empty).
    style_targets : dict name -> Tensor
        The style image's activations or Gram matrices at the style layers (may be empty).
    content_weight, style_weights : float or dict name -> float
        alpha_l and lambda_l (one number means the same weight for every layer).

    Returns
    -------
    dict with ``"total"``, ``"content"`` and ``"style"`` (weighted sums, scalars) and one
    unweighted entry per layer, ``"content:<name>"`` and ``"style:<name>"``.

    Examples
    --------
    >>> f = {"a": torch.ones(1, 1, 2, 2)}
    >>> parts = total_loss(f, {"a": torch.zeros(1, 1, 2, 2)}, {"a": torch.zeros(1, 1, 2, 2)},
    ...                    content_weight=1.0, style_weights={"a": 4.0})
    >>> [round(float(parts[k]), 3) for k in ("content", "style", "total")]
    [4.0, 1.0, 5.0]
    """
    for nm, d in (("features", features), ("content_targets", content_targets),
                  ("style_targets", style_targets)):
        if not isinstance(d, Mapping):
            raise TypeError(f"{nm} must be a dict layer name -> tensor, got {type(d).__name__}")
    missing = [n for n in list(content_targets) + list(style_targets) if n not in features]
    if missing:
        raise ValueError(f"features has no activations for layer(s) {missing}; extract every layer "
                         f"that the targets name")
    cw = _check_weights("content_weight", content_weight, list(content_targets))
    sw = _check_weights("style_weights", style_weights, list(style_targets))
    parts: Dict[str, torch.Tensor] = {}
    zero = next(iter(features.values())).new_zeros(())
    content = zero
    for n, target in content_targets.items():
        parts[f"content:{n}"] = content_loss(features[n], target)
        content = content + cw[n] * parts[f"content:{n}"]
    style = zero
    for n, target in style_targets.items():
        parts[f"style:{n}"] = style_loss(features[n], target)
        style = style + sw[n] * parts[f"style:{n}"]
    parts.update(total=content + style, content=content, style=style)
    return parts


def layer_names(model: nn.Module) -> List[str]:
    """Names of the top-level layers of a ``nn.Sequential``, in order.

    Examples
    --------
    >>> layer_names(style_net(seed=0))[:4]
    ['conv1_1', 'relu1_1', 'conv1_2', 'relu1_2']
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential, got {type(model).__name__}; "
                        f"wrap its layers with nn.Sequential(...)")
    return [name for name, _ in model.named_children()]


class FeatureExtractor(nn.Module):
    """Run a ``nn.Sequential`` up to its deepest requested layer and return those layers' outputs.

    Parameters
    ----------
    model : nn.Sequential
        Its parameters are frozen (``requires_grad_(False)``) and it is put in eval mode;
        the gradient flows to the *input* image only.
    layers : sequence of str
        Names of top-level layers of ``model`` (see :func:`layer_names`).
    mean, std : sequence of float, optional
        Per-channel normalisation applied to the input first (images are in [0, 1]).

    Examples
    --------
    >>> ext = FeatureExtractor(style_net(seed=0), ["relu1_1", "relu2_1"])
    >>> {k: tuple(v.shape) for k, v in ext(torch.zeros(1, 3, 16, 16)).items()}
    {'relu1_1': (1, 32, 16, 16), 'relu2_1': (1, 64, 8, 8)}
    """

    def __init__(self, model: nn.Module, layers: Sequence[str], *,
                 mean: Optional[Sequence[float]] = None, std: Optional[Sequence[float]] = None):
        super().__init__()
        names = layer_names(model)
        if isinstance(layers, str) or not isinstance(layers, Sequence) or len(layers) == 0:
            raise TypeError(f"layers must be a non-empty list of layer names, got {layers!r}; "
                            f"e.g. layers={names[:2]}")
        unknown = [n for n in layers if n not in names]
        if unknown:
            raise ValueError(f"layers {unknown} are not in the model; its layers are {names}")
        self.layers = list(dict.fromkeys(layers))
        last = max(names.index(n) for n in self.layers)
        self.body = nn.Sequential(*list(model.children())[:last + 1])
        self.names = names[:last + 1]
        self.body.requires_grad_(False).eval()
        m = torch.tensor(mean if mean is not None else [0.0], dtype=torch.float32).view(1, -1, 1, 1)
        s = torch.tensor(std if std is not None else [1.0], dtype=torch.float32).view(1, -1, 1, 1)
        if (s <= 0).any():
            raise ValueError(f"std must be positive, got std={std}")
        self.register_buffer("mean", m)
        self.register_buffer("std", s)

    def train(self, mode: bool = True):          # the wrapped network always stays in eval mode
        super().train(mode)
        self.body.eval()
        return self

    def forward(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        if not isinstance(x, torch.Tensor) or x.ndim != 4:
            raise ValueError(f"x must be an (N, C, H, W) tensor, got {getattr(x, 'shape', type(x))}")
        out, h = {}, (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        for name, layer in zip(self.names, self.body):
            h = layer(h)
            if name in self.layers:
                out[name] = h
        return out


def style_net(*, seed: Optional[int] = None, widths: Sequence[int] = (32, 64, 128, 128),
              num_classes: int = 10, pool: str = "avg") -> nn.Sequential:
    """A small VGG-like network for style transfer, random or trained on CIFAR-10.

    Blocks b = 1..4 of two 3 x 3 convolutions (padding 1) with ReLUs, named like VGG's
    (``conv{b}_1, relu{b}_1, conv{b}_2, relu{b}_2``), each block but the last followed by a
    2 x 2 pool (``pool{b}``; average pooling, as Gatys et al. recommend for image synthesis);
    then ``gap`` (global average pool), ``flatten`` and ``fc`` (``num_classes`` logits), so
    the same network can be trained as a classifier. Convolutions use He initialisation,
    which keeps the activations of a random network at a similar scale from layer to layer.
    With the default widths: 583,466 parameters.

    Parameters
    ----------
    seed : int, optional
        Same seed, same weights.
    widths : sequence of 4 ints
        Channels of the four blocks.
    num_classes : int
    pool : {"avg", "max"}

    Examples
    --------
    >>> from course_lib.training import count_parameters
    >>> count_parameters(style_net(seed=0))
    583466
    >>> tuple(style_net(seed=0)(torch.zeros(2, 3, 32, 32)).shape)
    (2, 10)
    """
    if seed is not None:
        seed = check_int("seed", seed, minimum=0)
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or len(widths) != 4:
        raise ValueError(f"widths must be a sequence of 4 channel counts, got {widths!r}; "
                         f"e.g. widths=(32, 64, 128, 128)")
    widths = [check_int(f"widths[{i}]", w, minimum=1) for i, w in enumerate(widths)]
    num_classes = check_int("num_classes", num_classes, minimum=1)
    if pool not in ("avg", "max"):
        raise ValueError(f"pool must be 'avg' or 'max', got {pool!r}")
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    layers = []
    c_in = 3
    for b, w in enumerate(widths, start=1):
        for i in (1, 2):
            conv = nn.Conv2d(c_in if i == 1 else w, w, 3, padding=1)
            with torch.no_grad():
                fan_in = conv.weight[0].numel()
                conv.weight.normal_(0.0, (2.0 / fan_in) ** 0.5, generator=gen)
                conv.bias.zero_()
            layers += [(f"conv{b}_{i}", conv), (f"relu{b}_{i}", nn.ReLU())]
        c_in = w
        if b < len(widths):
            layers.append((f"pool{b}", nn.AvgPool2d(2) if pool == "avg" else nn.MaxPool2d(2)))
    fc = nn.Linear(c_in, num_classes)
    with torch.no_grad():
        bound = 1.0 / c_in ** 0.5
        fc.weight.uniform_(-bound, bound, generator=gen)
        fc.bias.zero_()
    layers += [("gap", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("fc", fc)]
    from collections import OrderedDict
    return nn.Sequential(OrderedDict(layers))


def image_to_tensor(image: np.ndarray, size: Optional[int] = None) -> torch.Tensor:
    """An (H, W) or (H, W, 3) uint8/float image as a (1, 3, H, W) float32 tensor in [0, 1].

    Grey images are repeated over the three channels. ``size`` resizes (area
    averaging) so that the shorter side has ``size`` pixels, then crops the centre square.

    Examples
    --------
    >>> image_to_tensor(np.zeros((40, 60), np.uint8), size=20).shape
    torch.Size([1, 3, 20, 20])
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a NumPy array (H, W) or (H, W, 3), got {type(image).__name__}")
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.ndim != 3 or image.shape[-1] not in (3, 4):
        raise ValueError(f"image must have shape (H, W) or (H, W, 3), got {image.shape}")
    img = image[..., :3]
    x = torch.from_numpy(img.astype(np.float32) / (255.0 if img.dtype == np.uint8 else 1.0))
    x = x.permute(2, 0, 1)[None].contiguous()
    if size is not None:
        size = check_int("size", size, minimum=1)
        h, w = x.shape[-2:]
        scale = size / min(h, w)
        nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
        x = F.interpolate(x, size=(nh, nw), mode="area" if scale < 1 else "bilinear",
                          **({} if scale < 1 else {"align_corners": False}))
        top, left = (nh - size) // 2, (nw - size) // 2
        x = x[..., top:top + size, left:left + size].contiguous()
    return x.clamp(0, 1)


def tensor_to_image(x: torch.Tensor) -> np.ndarray:
    """A (1, 3, H, W) or (3, H, W) tensor in [0, 1] as an (H, W, 3) float array for plotting.

    Examples
    --------
    >>> tensor_to_image(torch.zeros(1, 3, 4, 5)).shape
    (4, 5, 3)
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch tensor, got {type(x).__name__}")
    if x.ndim == 4:
        if x.shape[0] != 1:
            raise ValueError(f"x must hold one image, got a batch of {x.shape[0]}; pass x[i]")
        x = x[0]
    if x.ndim != 3 or x.shape[0] != 3:
        raise ValueError(f"x must have shape (3, H, W), got {tuple(x.shape)}")
    return x.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy()


@dataclass
class StyleResult:
    """What :func:`optimize_image` returns: the image and the losses after every step."""
    image: torch.Tensor
    history: Dict[str, List[float]] = field(default_factory=dict)
    seconds: float = 0.0
    device: str = "cpu"

    @property
    def final(self) -> Dict[str, float]:
        """The last value of every recorded loss."""
        return {k: v[-1] for k, v in self.history.items() if v}


def optimize_image(extractor: FeatureExtractor, *, content: Optional[torch.Tensor] = None,
                   style: Optional[torch.Tensor] = None, content_layers: Sequence[str] = (),
                   style_layers: Sequence[str] = (), content_weight=1.0, style_weights=1.0,
                   init: Union[str, torch.Tensor] = "noise", steps: int = 200, lr: float = 0.05,
                   optimizer: str = "adam", seed: int = 0, size: Optional[Sequence[int]] = None,
                   progress: bool = True, callback: Optional[Callable[[int, Dict[str, float]], None]] = None,
                   callback_every: int = 25, device=None) -> StyleResult:
    """Optimise an image G to minimise :func:`total_loss` (Bishop eq. 10.13), pixels kept in [0, 1].

    The image is parameterised by unconstrained values ``z`` with ``G = sigmoid(z)``,
    so every step keeps the pixels valid without clipping.

    Parameters
    ----------
    extractor : FeatureExtractor
        Must return every layer named in ``content_layers`` and ``style_layers``.
    content, style : Tensor (1, 3, H, W), optional
        The content image C and the style image S (values in [0, 1]).
    content_layers, style_layers : sequence of str
        Layers for eq. 10.14 and eq. 10.16/10.17 (either may be empty: texture synthesis
        uses style layers only, a reconstruction uses content layers only).
    content_weight, style_weights : float or dict
        alpha_l and lambda_l.
    init : {"noise", "content"} or Tensor
        Start from seeded uniform noise (Bishop: a random image), from the content image,
        or from a given image.
    steps : int
    lr : float
        Adam's learning rate on z (ignored by L-BFGS, which uses 1).
    optimizer : {"adam", "lbfgs"}
    seed : int
        Seed of the noise start.
    size : (H, W), optional
        Size of G when there is no content image (default: the style image's size).
    progress : bool
        A tqdm bar with the current losses.
    callback : callable(step, losses), optional
        Called every ``callback_every`` steps and at the end (e.g. to redraw a live curve).
    device : optional
        Where to run (default: the extractor's device).

    Returns
    -------
    StyleResult
        ``image`` (1, 3, H, W) in [0, 1], ``history`` with one list per loss part, seconds, device.

    Examples
    --------
    >>> ext = FeatureExtractor(style_net(seed=0), ["relu1_1", "relu2_1"])
    >>> target = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    >>> r = optimize_image(ext, content=target, content_layers=["relu1_1"], steps=30, lr=0.1,
    ...                    progress=False)
    >>> r.history["total"][-1] < 0.2 * r.history["total"][0]
    True
    """
    if not isinstance(extractor, FeatureExtractor):
        raise TypeError(f"extractor must be a FeatureExtractor, got {type(extractor).__name__}; "
                        f"build one with FeatureExtractor(model, layers)")
    content_layers, style_layers = list(content_layers), list(style_layers)
    if not content_layers and not style_layers:
        raise ValueError("give at least one of content_layers and style_layers, e.g. "
                         "style_layers=['relu1_1']")
    missing = [n for n in content_layers + style_layers if n not in extractor.layers]
    if missing:
        raise ValueError(f"layers {missing} are not extracted; build the FeatureExtractor with "
                         f"layers={extractor.layers + missing}")
    if content_layers and content is None:
        raise ValueError("content_layers were given but content is None; pass content=<image>")
    if style_layers and style is None:
        raise ValueError("style_layers were given but style is None; pass style=<image>")
    for nm, img in (("content", content), ("style", style)):
        if img is not None and (not isinstance(img, torch.Tensor) or img.ndim != 4 or img.shape[0] != 1):
            raise ValueError(f"{nm} must be a (1, C, H, W) tensor, got {getattr(img, 'shape', type(img))}")
    steps = check_int("steps", steps, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    callback_every = check_int("callback_every", callback_every, minimum=1)
    if optimizer not in ("adam", "lbfgs"):
        raise ValueError(f"optimizer must be 'adam' or 'lbfgs', got {optimizer!r}")
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or lr <= 0:
        raise ValueError(f"lr must be a positive number, got lr={lr!r}; e.g. lr=0.05")
    device = extractor.mean.device if device is None else torch.device(device)
    extractor = extractor.to(device)

    with torch.no_grad():
        c_targets = {}
        if content_layers:
            cf = extractor(content.to(device))
            c_targets = {n: cf[n].detach() for n in content_layers}
        s_targets = {}
        if style_layers:
            sf = extractor(style.to(device))
            s_targets = {n: gram_matrix(sf[n]).detach() for n in style_layers}

    ref = content if content is not None else style
    if isinstance(init, torch.Tensor):
        start = init.detach().to(device, torch.float32)
    elif init == "content":
        if content is None:
            raise ValueError("init='content' needs a content image; use init='noise'")
        start = content.detach().to(device, torch.float32)
    elif init == "noise":
        hw = tuple(size) if size is not None else tuple(ref.shape[-2:])
        g = torch.Generator().manual_seed(seed)
        start = (0.25 + 0.5 * torch.rand(1, 3, *hw, generator=g)).to(device)
    else:
        raise ValueError(f"init must be 'noise', 'content' or an image tensor, got {init!r}")
    z = torch.logit(start.clamp(1e-3, 1 - 1e-3)).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr) if optimizer == "adam" else \
        torch.optim.LBFGS([z], lr=1.0, max_iter=1, history_size=20, line_search_fn="strong_wolfe")

    history: Dict[str, List[float]] = {}
    import time
    t0 = time.perf_counter()

    def closure():
        opt.zero_grad(set_to_none=True)
        parts = total_loss(extractor(torch.sigmoid(z)), c_targets, s_targets,
                           content_weight=content_weight, style_weights=style_weights)
        parts["total"].backward()
        closure.parts = parts
        return parts["total"]

    bar = tqdm(range(1, steps + 1), desc="optimising the image", leave=False, disable=not progress)
    for step in bar:
        opt.step(closure)
        for k, v in closure.parts.items():
            history.setdefault(k, []).append(float(v.detach()))
        bar.set_postfix(total=f"{history['total'][-1]:.3g}")
        if callback is not None and (step % callback_every == 0 or step == steps):
            callback(step, {k: v[-1] for k, v in history.items()})
    with torch.no_grad():
        image = torch.sigmoid(z).detach().cpu()
    return StyleResult(image=image, history=history, seconds=time.perf_counter() - t0, device=str(device))
