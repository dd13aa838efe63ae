"""The book's trained networks: built with their preprocessing inside, saved small, loaded offline.

Chapters 8 and 9 train the source networks and save them here with
:func:`save_trained`; later chapters call :func:`load_trained` and get the
network instantly, without data or internet. Every trained network

* takes float images in [0, 1], NCHW (1 x 28 x 28 for MNIST, 3 x 32 x 32 for
  CIFAR-10) and returns logits (N, 10);
* carries its preprocessing as a first module (``model.preprocess``): mean
  subtraction, Procedure 17.1's per-pixel whitening, LeCun's 32 x 32 frame, or
  Buduma's crop and per-image standardisation. Gradient-based methods
  (visualisation, adversarial examples) therefore work on plain images;
* is stored in ``course_lib/weights/<name>.pt`` with an entry in
  ``manifest.json``: the file's sha256, the command and seed that produced it,
  the device, the training wall time and the metrics it reached.

Large weight tensors are stored as bfloat16 (8 significant bits; the byte planes
are zlib-compressed), so the folder stays a few megabytes. The model is rounded
to that precision *before* its test metrics are measured (:func:`round_weights_`),
so the recorded metrics are those of the shipped file, and ``verify_trained``
re-measures them.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import os
import pathlib
import platform
import zlib
from collections import OrderedDict
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._checks import check_int
from .models import buduma_cifar, buduma_mnist, forsyth_cifar, forsyth_mnist, lenet5
from .speedrun import ChannelNormalize, speedrun_net

__all__ = ["TRAINED_NAMES", "WEIGHTS_DIR", "TrainedWeightsError", "MeanSubtract", "PixelWhiten",
           "LeCunFrame", "BudumaCrop", "trainable", "round_weights_", "save_trained", "load_trained",
           "trained_info", "verify_trained", "evaluation_split"]

WEIGHTS_DIR = pathlib.Path(__file__).resolve().parent / "weights"
MANIFEST_NAME = "manifest.json"
_FORMAT = "course_lib-weights-v1"
_BF16_MIN = 1024          # parameters with at least this many values are stored as bfloat16

#: name -> (chapter notebook that trains it, dataset, input shape (C, H, W))
TRAINED_NAMES: Dict[str, Tuple[str, str, Tuple[int, int, int]]] = {
    "forsyth_mnist": ("notebooks/08_mnist.ipynb", "mnist", (1, 28, 28)),
    "lenet5": ("notebooks/08_mnist.ipynb", "mnist", (1, 28, 28)),
    "buduma_mnist": ("notebooks/08_mnist.ipynb", "mnist", (1, 28, 28)),
    "forsyth_cifar": ("notebooks/09_cifar10.ipynb", "cifar10", (3, 32, 32)),
    "buduma_cifar": ("notebooks/09_cifar10.ipynb", "cifar10", (3, 32, 32)),
    "buduma_cifar_bn": ("notebooks/09_cifar10.ipynb", "cifar10", (3, 32, 32)),
    "speedrun": ("notebooks/18_speedrun.ipynb", "cifar10", (3, 32, 32)),
}


class TrainedWeightsError(FileNotFoundError):
    """A trained network's file is missing, corrupted or does not match the manifest.

    The message says which file and how to produce it again (run the chapter
    that trains it in full mode).
    """


# ----------------------------------------------------------------------------------------------
# preprocessing modules (buffers are fitted on training data and saved with the weights)

class MeanSubtract(nn.Module):
    """Subtract the mean training image (Forsyth's MNIST preprocessing, fig. 17.8).

    Examples
    --------
    >>> m = MeanSubtract((1, 2, 2)).fit(torch.tensor([[[[0, 255], [0, 0]]]], dtype=torch.uint8))
    >>> m(torch.ones(1, 1, 2, 2)).tolist()
    [[[[1.0, 0.0], [1.0, 1.0]]]]
    """

    def __init__(self, shape: Tuple[int, int, int]):
        super().__init__()
        self.register_buffer("mean", torch.zeros(1, *shape))

    def fit(self, images: torch.Tensor) -> "MeanSubtract":
        """Fit on training images (uint8 or float in [0, 1]), shape (N, C, H, W)."""
        x = _as_unit_float(images, "images")
        self.mean.copy_(x.mean(dim=0, keepdim=True))
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - self.mean


class PixelWhiten(nn.Module):
    """Procedure 17.1 (Forsyth): per-pixel (x - M) / (S + eps) with M, S from the training images.

    Examples
    --------
    >>> w = PixelWhiten((1, 1, 2), eps=0.0).fit(torch.tensor([[[[0.0, 0.2]]], [[[1.0, 0.6]]]]))
    >>> w(torch.tensor([[[[1.0, 0.6]]]])).tolist()
    [[[[1.0, 1.0]]]]
    """

    def __init__(self, shape: Tuple[int, int, int], eps: float = 0.1):
        super().__init__()
        self.register_buffer("mean", torch.zeros(1, *shape))
        self.register_buffer("std", torch.ones(1, *shape))
        self.register_buffer("eps", torch.tensor(float(eps)))

    def fit(self, images: torch.Tensor) -> "PixelWhiten":
        """Fit M and S (dividing by N) on training images, shape (N, C, H, W)."""
        x = _as_unit_float(images, "images")
        self.mean.copy_(x.mean(dim=0, keepdim=True))
        self.std.copy_(x.std(dim=0, keepdim=True, unbiased=False))
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / (self.std + self.eps)


class LeCunFrame(nn.Module):
    """Centre 28 x 28 digits in LeCun's 32 x 32 field and scale so paper is -0.1 and ink 1.175.

    Examples
    --------
    >>> out = LeCunFrame()(torch.ones(1, 1, 28, 28))
    >>> tuple(out.shape), round(float(out[0, 0, 0, 0]), 3), round(float(out[0, 0, 2, 2]), 3)
    ((1, 1, 32, 32), -0.1, 1.175)
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x * 1.275 - 0.1, (2, 2, 2, 2), value=-0.1)


class BudumaCrop(nn.Module):
    """Buduma's CIFAR-10 input: a 24 x 24 crop, distorted in training, then per-image standardisation.

    In training mode every image gets a random 24 x 24 crop, a random left-right
    flip, a random brightness shift (up to 63/255) and a random contrast factor
    in [0.2, 1.8], as in Buduma's (TensorFlow tutorial) code; in eval mode the
    centre crop. Then each image is standardised on its own to mean 0 and
    standard deviation 1 (TensorFlow's ``per_image_standardization``, which
    Buduma calls whitening; erratum E16).

    Examples
    --------
    >>> crop = BudumaCrop().eval()
    >>> tuple(crop(torch.rand(2, 3, 32, 32)).shape)
    (2, 3, 24, 24)
    """

    def __init__(self, size: int = 24, distort: bool = True):
        super().__init__()
        self.size = check_int("size", size, minimum=1)
        self.distort = bool(distort)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        s = self.size
        if self.training and self.distort:
            dev = x.device
            top = torch.randint(0, h - s + 1, (n,), device=dev)
            left = torch.randint(0, w - s + 1, (n,), device=dev)
            rows = (top[:, None] + torch.arange(s, device=dev))[:, None, :, None]       # (n,1,s,1)
            cols = (left[:, None] + torch.arange(s, device=dev))                       # (n,s)
            flip = torch.rand(n, device=dev) < 0.5
            cols = torch.where(flip[:, None], cols.flip(1), cols)[:, None, None, :]    # (n,1,1,s)
            x = x[torch.arange(n, device=dev)[:, None, None, None],
                  torch.arange(c, device=dev)[None, :, None, None], rows, cols]
            x = x + (torch.rand(n, 1, 1, 1, device=dev) * 2 - 1) * (63 / 255)
            mean = x.mean(dim=(2, 3), keepdim=True)
            x = (x - mean) * (0.2 + 1.6 * torch.rand(n, 1, 1, 1, device=dev)) + mean
        else:
            t, l = (h - s) // 2, (w - s) // 2
            x = x[:, :, t:t + s, l:l + s]
        flat = x.reshape(n, -1)
        mean = flat.mean(dim=1).view(n, 1, 1, 1)
        std = flat.std(dim=1, unbiased=False).clamp_min(1.0 / flat.shape[1] ** 0.5).view(n, 1, 1, 1)
        return (x - mean) / std

    def extra_repr(self) -> str:
        return f"size={self.size}, distort={self.distort}"


def _as_unit_float(images, name: str) -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(f"{name} must be a 4D torch tensor (N, C, H, W), got "
                         f"{type(images).__name__} {tuple(getattr(images, 'shape', ()))}")
    return images.double() / 255.0 if images.dtype == torch.uint8 else images.double()


# ----------------------------------------------------------------------------------------------
# building, rounding, saving, loading

def trainable(name: str, *, seed: Optional[int] = None, **kwargs) -> nn.Sequential:
    """A fresh network with its preprocessing in front: ``Sequential(preprocess=..., net=...)``.

    Fit the preprocessing on the training images before training where it has
    statistics (``model.preprocess.fit(train_images)`` for ``forsyth_mnist`` and
    ``forsyth_cifar``). Extra keyword arguments go to the builder (e.g.
    ``dropout``).

    Examples
    --------
    >>> model = trainable("lenet5", seed=0)
    >>> tuple(model(torch.zeros(2, 1, 28, 28)).shape), type(model.preprocess).__name__
    ((2, 10), 'LeCunFrame')
    """
    _check_name(name)
    builders = {
        "forsyth_mnist": (lambda: MeanSubtract((1, 28, 28)), forsyth_mnist),
        "lenet5": (LeCunFrame, lenet5),
        "buduma_mnist": (nn.Identity, buduma_mnist),
        "forsyth_cifar": (lambda: PixelWhiten((3, 32, 32)), forsyth_cifar),
        "buduma_cifar": (BudumaCrop, lambda **kw: buduma_cifar(batch_norm=False, **kw)),
        "buduma_cifar_bn": (BudumaCrop, lambda **kw: buduma_cifar(batch_norm=True, **kw)),
        "speedrun": (lambda: ChannelNormalize(3), _speedrun_net),
    }
    make_pre, build = builders[name]
    return nn.Sequential(OrderedDict(preprocess=make_pre(), net=build(seed=seed, **kwargs)))


def _speedrun_net(seed=None, widths=(64, 256, 256), **kwargs):
    return speedrun_net(widths=tuple(widths), seed=seed, **kwargs)


def _stored_as_bf16(key: str, tensor: torch.Tensor, param_keys) -> bool:
    return key in param_keys and tensor.is_floating_point() and tensor.numel() >= _BF16_MIN


def round_weights_(model: nn.Module) -> nn.Module:
    """Round the weights that are stored as bfloat16 to that precision, in place.

    Call it after training and *before* measuring the metrics you record, so the
    metrics are those of the file that ships.

    Examples
    --------
    >>> layer = round_weights_(nn.Linear(100, 20))
    >>> bool((layer.weight == layer.weight.bfloat16().float()).all())
    True
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    with torch.no_grad():
        for p in model.parameters():
            if p.is_floating_point() and p.numel() >= _BF16_MIN:
                p.copy_(p.bfloat16().float())
    return model


def _encode(state: Mapping[str, torch.Tensor], param_keys) -> Dict[str, Any]:
    tensors = {}
    for key, t in state.items():
        t = t.detach().cpu().contiguous()
        if _stored_as_bf16(key, t, param_keys):
            if not torch.equal(t.float(), t.bfloat16().float()):
                raise ValueError(f"parameter {key!r} is not rounded to bfloat16: call "
                                 f"round_weights_(model) before measuring and saving, so the "
                                 f"recorded metrics are those of the stored weights")
            raw = t.bfloat16().view(torch.int16).numpy().view(np.uint8).reshape(-1, 2)
            planes = np.ascontiguousarray(raw.T)          # all high bytes, then all low bytes
            dtype = "bfloat16"
        else:
            arr = (t.float().numpy() if t.is_floating_point() else t.numpy()).reshape(-1)
            planes = arr.view(np.uint8)
            dtype = str(arr.dtype)
        data = zlib.compress(planes.tobytes(), 6)
        tensors[key] = {"shape": list(t.shape), "dtype": dtype,
                        "data": torch.frombuffer(bytearray(data), dtype=torch.uint8)}
    return {"format": _FORMAT, "tensors": tensors}


def _decode(blob: Mapping[str, Any]) -> Dict[str, torch.Tensor]:
    if not isinstance(blob, Mapping) or blob.get("format") != _FORMAT:
        raise ValueError("not a course_lib weights file")
    state = {}
    for key, entry in blob["tensors"].items():
        raw = np.frombuffer(zlib.decompress(entry["data"].numpy().tobytes()), dtype=np.uint8)
        shape = tuple(entry["shape"])
        if entry["dtype"] == "bfloat16":
            pairs = np.ascontiguousarray(raw.reshape(2, -1).T)
            t = torch.from_numpy(pairs.view(np.int16).reshape(shape).copy()).view(torch.bfloat16).float()
        else:
            t = torch.from_numpy(raw.view(np.dtype(entry["dtype"])).reshape(shape).copy())
        state[key] = t
    return state


def _sha256(path: pathlib.Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _folder(folder) -> pathlib.Path:
    if folder is None:
        return WEIGHTS_DIR
    if not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"folder must be a path or None (the package's weights folder), got "
                        f"{type(folder).__name__}")
    return pathlib.Path(folder)


def _read_manifest(folder: pathlib.Path) -> Dict[str, Any]:
    path = folder / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise TrainedWeightsError(f"{path} is not valid JSON ({err}); restore it with "
                                  f"`git checkout -- {path.name}` or retrain (see load_trained)") from err


def _check_name(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, one of {sorted(TRAINED_NAMES)}, got {name!r}")
    if name not in TRAINED_NAMES:
        raise ValueError(f"name must be one of {sorted(TRAINED_NAMES)}, got name={name!r}")
    return name


def _retrain_hint(name: str) -> str:
    notebook = TRAINED_NAMES[name][0]
    return (f"To produce it again, run the chapter that trains it in full mode: "
            f"`COURSE_MODE=full python scripts/execute_notebooks.py {notebook}` "
            f"(or `git checkout -- course_lib/weights/` to restore the shipped files).")


def save_trained(name: str, model: nn.Module, *, metrics: Mapping[str, Any], seed: int,
                 wall_time_s: float, device: Union[str, torch.device], data: Mapping[str, Any],
                 command: Optional[str] = None, notes: str = "", build_kwargs: Optional[Mapping] = None,
                 folder=None) -> pathlib.Path:
    """Store a trained network and record how it was made in the folder's ``manifest.json``.

    Parameters
    ----------
    name : str
        One of :data:`TRAINED_NAMES`.
    model : nn.Module
        The network from :func:`trainable`, trained and rounded with :func:`round_weights_`.
    metrics : mapping
        What it reached, measured with the rounded weights; must include
        ``test_errors`` and ``test_n`` (count of wrong top-1 predictions on the
        test images described by ``data``).
    seed : int
        The seed of the training run.
    wall_time_s : float
        Training wall time in seconds.
    device : str or torch.device
        Where it was trained.
    data : mapping
        Which data it was trained and tested on, e.g. ``{"dataset": "mnist",
        "test_size": 2000, "split_seed": 0, "note": ...}``.
    command : str, optional
        The command that produced it (default: the chapter's full-mode command).
    build_kwargs : mapping, optional
        Keyword arguments of :func:`trainable` that rebuild the same network
        (e.g. ``{"dropout": 0.5}``).
    folder : path, optional
        Default: the package's ``weights`` folder. Quick mode passes a temporary
        folder so that the shipped files are never replaced by a quick run.

    Returns
    -------
    pathlib.Path of the written file.
    """
    _check_name(name)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(metrics, Mapping) or "test_errors" not in metrics or "test_n" not in metrics:
        raise ValueError(f"metrics must be a mapping with 'test_errors' and 'test_n', got {metrics!r}")
    if not isinstance(data, Mapping) or "dataset" not in data:
        raise ValueError(f"data must be a mapping with at least 'dataset', got {data!r}")
    seed = check_int("seed", seed, minimum=0)
    folder = _folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    param_keys = {k for k, _ in model.named_parameters()}
    blob = _encode(model.state_dict(), param_keys)
    path = folder / f"{name}.pt"
    tmp = path.with_suffix(".pt.tmp")
    torch.save(blob, tmp)
    os.replace(tmp, path)
    entry = {
        "file": path.name,
        "sha256": _sha256(path),
        "bytes": path.stat().st_size,
        "parameters": sum(p.numel() for p in model.parameters()),
        "input_shape": list(TRAINED_NAMES[name][2]),
        "command": command or f"COURSE_MODE=full python scripts/execute_notebooks.py {TRAINED_NAMES[name][0]}",
        "seed": seed,
        "device": str(device),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}",
        "wall_time_s": round(float(wall_time_s), 1),
        "metrics": {k: (float(v) if isinstance(v, float) else v) for k, v in metrics.items()},
        "data": dict(data),
        "build_kwargs": dict(build_kwargs or {}),
        "notes": notes,
        "saved": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    manifest = _read_manifest(folder)
    manifest[name] = entry
    (folder / MANIFEST_NAME).write_text(json.dumps(dict(sorted(manifest.items())), indent=2) + "\n")
    return path


def trained_info(name: str, *, folder=None) -> Dict[str, Any]:
    """The manifest entry of a trained network (how it was made, what it reached).

    Examples
    --------
    >>> info = trained_info("forsyth_cifar")  # doctest: +SKIP
    >>> info["metrics"]["test_errors"], info["seed"]  # doctest: +SKIP
    """
    _check_name(name)
    folder = _folder(folder)
    manifest = _read_manifest(folder)
    if name not in manifest:
        raise TrainedWeightsError(f"no trained network {name!r} in {folder / MANIFEST_NAME}. "
                                  + _retrain_hint(name))
    return manifest[name]


def load_trained(name: str, *, folder=None, device: Union[str, torch.device] = "cpu") -> nn.Module:
    """The trained network ``name`` in eval mode: float images in [0, 1], NCHW, in; logits (N, 10) out.

    Names: ``forsyth_mnist``, ``lenet5``, ``buduma_mnist`` (1 x 28 x 28 input,
    trained in chapter 8 on part of the MNIST test split; see ``trained_info``),
    ``forsyth_cifar``, ``buduma_cifar``, ``buduma_cifar_bn`` (3 x 32 x 32 input,
    chapter 9), ``speedrun`` (3 x 32 x 32, chapter 18; its recorded
    ``test_acc_tta`` is measured with :func:`course_lib.speedrun.tta_accuracy`).
    Works offline: the weights ship with the package. The file's
    sha256 is checked against the manifest.

    Raises
    ------
    TrainedWeightsError
        When the file is missing, corrupted or does not match its manifest
        entry; the message says how to retrain it.

    Examples
    --------
    >>> model = load_trained("forsyth_cifar")  # doctest: +SKIP
    >>> model(torch.rand(2, 3, 32, 32)).shape  # doctest: +SKIP
    torch.Size([2, 10])
    """
    _check_name(name)
    info = trained_info(name, folder=folder)
    path = _folder(folder) / info["file"]
    if not path.exists():
        raise TrainedWeightsError(f"the weights file {path} of {name!r} is missing. " + _retrain_hint(name))
    digest = _sha256(path)
    if digest != info["sha256"]:
        raise TrainedWeightsError(f"the weights file {path} of {name!r} is corrupted or was changed: its "
                                  f"sha256 is {digest[:12]}..., the manifest says {info['sha256'][:12]}.... "
                                  + _retrain_hint(name))
    try:
        state = _decode(torch.load(path, map_location="cpu", weights_only=True))
    except Exception as err:  # any unreadable file is the same problem for the reader
        raise TrainedWeightsError(f"the weights file {path} of {name!r} cannot be read ({err}). "
                                  + _retrain_hint(name)) from err
    kwargs = info.get("build_kwargs", {}) or {}
    model = trainable(name, **kwargs)
    model.load_state_dict(state)
    return model.to(device).eval()


def evaluation_split(name: str, *, folder=None):
    """The test images and labels a trained network's recorded metrics were measured on.

    MNIST networks: the held-out part of ``mnist_train_test`` with the recorded
    ``test_size`` and ``split_seed``; CIFAR-10 networks: the official test split.
    Raises ``DataNotFoundError`` when the data is not available.
    """
    from .datasets import cifar10_train_test, mnist_train_test
    info = trained_info(name, folder=folder)
    data = info["data"]
    if data["dataset"] == "mnist":
        split = mnist_train_test(test_size=data["test_size"], seed=data["split_seed"])
    else:
        split = cifar10_train_test()
    return split.test_images, split.test_labels


def verify_trained(name: str, *, folder=None, batch_size: int = 500) -> Dict[str, Any]:
    """Reload a trained network and re-measure its recorded test errors.

    Returns ``{"recorded": int, "measured": int, "n": int}``.
    """
    from .training import predict
    info = trained_info(name, folder=folder)
    images, labels = evaluation_split(name, folder=folder)
    model = load_trained(name, folder=folder)
    logits = predict(model, images, batch_size=batch_size)
    measured = int((logits.argmax(dim=1) != labels).sum())
    return {"recorded": int(info["metrics"]["test_errors"]), "measured": measured, "n": len(labels)}
