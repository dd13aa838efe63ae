"""Figures for adversarial examples: epsilon sweeps, clean / perturbation / attacked images,
targeted attacks and transfer matrices.

Images in [0, 1] are shown as they are (no per-image rescaling, so an attacked
image is drawn exactly as the network sees it): grey with ``gray``, colour as
RGB. Perturbations are signed and use ``RdBu_r`` with limits symmetric about
zero (white = unchanged pixel), with a colour bar.
"""
from __future__ import annotations

import base64
import hashlib
import html
import io
from typing import Mapping, Optional, Sequence

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .._checks import check_array
from .images import _to_numpy

__all__ = ["plot_epsilon_sweep", "show_adversarial", "show_targeted", "plot_transfer_matrix",
           "epsilon_explorer_html"]


def _images(name: str, a) -> np.ndarray:
    arr = check_array(name, _to_numpy(a), ndim=4, shape_hint="(N, C, H, W) in [0, 1]").astype(float)
    if arr.shape[1] not in (1, 3):
        raise ValueError(f"{name} must have 1 (grey) or 3 (RGB) channels, got shape {arr.shape}")
    return arr


def _show(ax, img: np.ndarray) -> None:
    """One (C, H, W) image in [0, 1], drawn without rescaling."""
    if img.shape[0] == 1:
        ax.imshow(np.clip(img[0], 0, 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(np.clip(np.moveaxis(img, 0, -1), 0, 1), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def _name(k, class_names) -> str:
    k = int(k)
    return str(class_names[k]) if class_names is not None and 0 <= k < len(class_names) else str(k)


def plot_epsilon_sweep(sweeps: Mapping[str, Mapping[float, float]], *, title: Optional[str] = None,
                       chance: Optional[float] = None, xlabel: str = "epsilon (largest change of a pixel, "
                       "images in [0, 1])", ax=None) -> Figure:
    """Accuracy against epsilon, one line per network.

    Parameters
    ----------
    sweeps : dict name -> {eps: accuracy}
        E.g. from :func:`course_lib.adversarial.epsilon_sweep`.
    chance : float, optional
        Draw the accuracy of guessing (e.g. 0.1 for ten classes) as a dashed line.

    Examples
    --------
    >>> fig = plot_epsilon_sweep({"a": {0.0: 0.99, 0.1: 0.5}, "b": {0.0: 0.9, 0.1: 0.2}}, chance=0.1)
    >>> fig.axes[0].get_ylabel()
    'accuracy under attack'
    """
    if not isinstance(sweeps, Mapping) or not sweeps:
        raise ValueError("sweeps must be a non-empty dict name -> {eps: accuracy}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
    else:
        fig = ax.figure
    for name, sweep in sweeps.items():
        if not isinstance(sweep, Mapping) or not sweep:
            raise ValueError(f"sweeps[{name!r}] must be a non-empty dict {{eps: accuracy}}, got {sweep!r}")
        eps = sorted(float(e) for e in sweep)
        ax.plot(eps, [float(sweep[e]) for e in sorted(sweep, key=float)], marker="o", label=str(name))
    if chance is not None:
        ax.axhline(float(chance), color="grey", linestyle="--", linewidth=1, label="chance")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy under attack")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def show_adversarial(images, adversarial, labels, clean_pred, adv_pred, *,
                     class_names: Optional[Sequence[str]] = None, clean_conf=None, adv_conf=None,
                     title: Optional[str] = None, cell: float = 1.45) -> Figure:
    """Three rows: the clean images, the perturbations (RdBu_r, shared symmetric scale) and the attacked images.

    Parameters
    ----------
    images, adversarial : array or tensor, shape (N, C, H, W), in [0, 1]
    labels, clean_pred, adv_pred : sequences of int, length N
    class_names : sequence of str, optional
    clean_conf, adv_conf : sequences of float, optional
        The probability the network gives its answer, shown under each image.
    title : str, optional

    For colour images the perturbation row shows the mean over the three
    channels.

    Examples
    --------
    >>> x = np.full((2, 1, 4, 4), 0.5); xa = x + 0.1
    >>> fig = show_adversarial(x, xa, [1, 2], [1, 2], [7, 2])
    >>> len(fig.axes)      # 6 images + a colour bar
    7
    """
    x, xa = _images("images", images), _images("adversarial", adversarial)
    if x.shape != xa.shape:
        raise ValueError(f"images and adversarial must have the same shape, got {x.shape} and {xa.shape}")
    n = len(x)
    cols = [list(np.asarray(_to_numpy(v)).reshape(-1)) for v in (labels, clean_pred, adv_pred)]
    if any(len(c) != n for c in cols):
        raise ValueError(f"labels, clean_pred and adv_pred must have {n} entries each, got "
                         f"{[len(c) for c in cols]}")
    labels, clean_pred, adv_pred = cols
    delta = (xa - x).mean(axis=1)                         # (N, H, W); channel mean for RGB
    vmax = float(np.abs(delta).max()) or 1.0
    fig, axes = plt.subplots(3, n, figsize=(cell * n + 1.0, cell * 3 + 0.9), squeeze=False)
    for i in range(n):
        _show(axes[0, i], x[i])
        conf = f" ({float(clean_conf[i]):.0%})" if clean_conf is not None else ""
        axes[0, i].set_title(f"true {_name(labels[i], class_names)}\nsays {_name(clean_pred[i], class_names)}{conf}",
                             fontsize=8)
        im = axes[1, i].imshow(delta[i], cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
        axes[1, i].set_xticks([])
        axes[1, i].set_yticks([])
        _show(axes[2, i], xa[i])
        conf = f" ({float(adv_conf[i]):.0%})" if adv_conf is not None else ""
        wrong = int(adv_pred[i]) != int(labels[i])
        axes[2, i].set_title(f"says {_name(adv_pred[i], class_names)}{conf}", fontsize=8,
                             color="tab:red" if wrong else "black")
    axes[0, 0].set_ylabel("clean", fontsize=9)
    axes[1, 0].set_ylabel("change" + (" (mean\nof RGB)" if x.shape[1] == 3 else ""), fontsize=9)
    axes[2, 0].set_ylabel("attacked", fontsize=9)
    fig.tight_layout(rect=(0, 0, 0.93, 0.95 if title else 1.0))
    cax = fig.add_axes((0.94, 0.38, 0.012, 0.26))
    fig.colorbar(im, cax=cax).set_label("change", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def show_targeted(image, adversarial, target_probs, *, targets: Optional[Sequence[int]] = None,
                  class_names: Optional[Sequence[str]] = None, label: Optional[int] = None,
                  title: Optional[str] = None, cell: float = 1.35) -> Figure:
    """One image and its targeted versions: panel k is the attack aimed at class ``targets[k]``.

    Parameters
    ----------
    image : array or tensor, shape (1, C, H, W) or (C, H, W), in [0, 1]
    adversarial : array or tensor, shape (T, C, H, W)
    target_probs : sequence of float, length T
        P(target | attacked image), shown under each panel.
    targets : sequence of int, optional
        Default 0..T-1.
    label : int, optional
        The true class of the image.

    Examples
    --------
    >>> fig = show_targeted(np.zeros((1, 1, 4, 4)), np.zeros((3, 1, 4, 4)), [0.9, 0.8, 0.95])
    >>> len(fig.axes)
    4
    """
    x = _to_numpy(image)
    x = np.asarray(x, dtype=float)
    if x.ndim == 3:
        x = x[None]
    x = _images("image", x)[:1]
    xa = _images("adversarial", adversarial)
    probs = list(np.asarray(_to_numpy(target_probs), dtype=float).reshape(-1))
    targets = list(range(len(xa))) if targets is None else [int(t) for t in targets]
    if len(probs) != len(xa) or len(targets) != len(xa):
        raise ValueError(f"target_probs and targets must have {len(xa)} entries (one per attacked image), got "
                         f"{len(probs)} and {len(targets)}")
    n = len(xa) + 1
    fig, axes = plt.subplots(1, n, figsize=(cell * n, cell + 0.9), squeeze=False)
    _show(axes[0, 0], x[0])
    axes[0, 0].set_title("original" + (f"\n({_name(label, class_names)})" if label is not None else ""),
                         fontsize=8)
    for k, (img, p, t) in enumerate(zip(xa, probs, targets), start=1):
        _show(axes[0, k], img)
        axes[0, k].set_title(f"aim: {_name(t, class_names)}\nP = {p:.2f}", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_transfer_matrix(matrix, names: Sequence[str], *, title: Optional[str] = None,
                         value_label: str = "accuracy on the attacked images", fmt: str = "{:.0%}") -> Figure:
    """A transfer matrix as a heat map: row i = examples made on network i, column j = tried on network j.

    Examples
    --------
    >>> fig = plot_transfer_matrix(np.array([[0.1, 0.6], [0.5, 0.05]]), ["a", "b"])
    >>> fig.axes[0].get_ylabel()
    'attack made on'
    """
    m = check_array("matrix", _to_numpy(matrix), ndim=2).astype(float)
    names = [str(n) for n in names]
    if m.shape != (len(names), len(names)):
        raise ValueError(f"matrix must be square with one row per name ({len(names)}), got shape {m.shape}")
    size = 1.1 * len(names) + 2.6
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    im = ax.imshow(m, cmap="viridis", vmin=0, vmax=1)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if np.isfinite(m[i, j]):
                ax.text(j, i, fmt.format(m[i, j]), ha="center", va="center", fontsize=9,
                        color="black" if m[i, j] > 0.55 else "white")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlabel("tried on")
    ax.set_ylabel("attack made on")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04).set_label(value_label, fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def _frame_png(x: np.ndarray, xa: np.ndarray, probs: np.ndarray, label: int, eps: float, vmax: float,
               class_names: Optional[Sequence[str]]) -> str:
    """One explorer frame (attacked image, change, class probabilities) as a base64 PNG."""
    fig, axes = plt.subplots(1, 3, figsize=(6.6, 2.1), gridspec_kw={"width_ratios": [1, 1, 1.6]}, dpi=80)
    _show(axes[0], xa)
    axes[0].set_title(f"attacked, eps = {eps:.3f}", fontsize=8)
    axes[1].imshow((xa - x).mean(axis=0), cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
    axes[1].set_xticks([])
    axes[1].set_yticks([])
    axes[1].set_title("change (RdBu_r, fixed scale)", fontsize=8)
    k = len(probs)
    colours = ["tab:green" if i == label else ("tab:red" if i == int(np.argmax(probs)) else "tab:grey")
               for i in range(k)]
    axes[2].bar(range(k), probs, color=colours)
    axes[2].set_ylim(0, 1)
    axes[2].set_xticks(range(k))
    axes[2].set_xticklabels([_name(i, class_names) for i in range(k)], fontsize=6, rotation=45 if class_names else 0)
    axes[2].set_ylabel("probability", fontsize=7)
    axes[2].tick_params(axis="y", labelsize=6)
    axes[2].set_title("green: true class, red: the answer if wrong", fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def epsilon_explorer_html(image, adversarials, probabilities, epsilons: Sequence[float], label: int, *,
                          class_names: Optional[Sequence[str]] = None, title: str = ""):
    """A slider over epsilon for one attacked image, as self-contained HTML (works in the static book).

    Every frame is drawn here, in Python (the attacked image, the change with a
    fixed diverging scale, and the network's class probabilities); the page's
    few lines of JavaScript only switch between the pictures. Without
    JavaScript the first frame shows.

    Parameters
    ----------
    image : array or tensor, shape (C, H, W) or (1, C, H, W), in [0, 1]
    adversarials : array or tensor, shape (E, C, H, W)
        The attacked image for each epsilon.
    probabilities : array or tensor, shape (E, K)
        The network's class probabilities for each attacked image.
    epsilons : sequence of E floats
    label : int
        The true class.
    class_names : sequence of str, optional
    title : str

    Returns
    -------
    IPython.display.HTML

    Examples
    --------
    >>> page = epsilon_explorer_html(np.zeros((1, 4, 4)), np.zeros((2, 1, 4, 4)), np.full((2, 3), 1 / 3),
    ...                              [0.0, 0.1], 1)
    >>> page.data.count("data:image/png;base64") == 2 and 'type="range"' in page.data
    True
    """
    from IPython.display import HTML
    x = np.asarray(_to_numpy(image), dtype=float)
    x = x[0] if x.ndim == 4 else x
    x = _images("image", x[None])[0]
    xa = _images("adversarials", adversarials)
    probs = check_array("probabilities", np.asarray(_to_numpy(probabilities), dtype=float), ndim=2,
                        shape_hint="(E, K)")
    eps = [float(e) for e in epsilons]
    if not (len(xa) == len(probs) == len(eps)) or len(eps) == 0:
        raise ValueError(f"adversarials, probabilities and epsilons must have the same (non-zero) length, got "
                         f"{len(xa)}, {len(probs)} and {len(eps)}")
    if xa.shape[1:] != x.shape:
        raise ValueError(f"adversarials must be images of the shape of image {x.shape}, got {xa.shape[1:]}")
    label = int(label)
    vmax = float(np.abs(xa - x[None]).max()) or 1.0
    frames = [_frame_png(x, a, p, label, e, vmax, class_names) for a, p, e in zip(xa, probs, eps)]
    captions = []
    for e, p in zip(eps, probs):
        top = int(np.argmax(p))
        verdict = "right" if top == label else "wrong"
        captions.append(f"eps = {e:.3f}: the network says {_name(top, class_names)} ({p[top]:.0%}), {verdict}; "
                        f"P(true class {_name(label, class_names)}) = {p[label]:.0%}")
    eid = "cl-eps-" + hashlib.sha1("".join(frames[:1] + captions).encode()).hexdigest()[:10]
    data = "[" + ",".join(f'"{f}"' for f in frames) + "]"
    caps = "[" + ",".join('"' + html.escape(c).replace('"', "&quot;") + '"' for c in captions) + "]"
    return HTML(
        f'<div id="{eid}" style="font-family:sans-serif;font-size:13px;max-width:560px">'
        + (f'<div style="font-weight:bold;margin-bottom:4px">{html.escape(title)}</div>' if title else "")
        + f'<label>epsilon <input type="range" min="0" max="{len(eps) - 1}" step="1" value="0" '
        f'data-lm-suppress-shortcuts="true" style="width:300px;vertical-align:middle"></label> <span class="cl-eps-value">{eps[0]:.3f}</span>'
        f'<div><img alt="attacked image, change and class probabilities" '
        f'src="data:image/png;base64,{frames[0]}" style="max-width:100%"></div>'
        f'<div class="cl-eps-caption">{html.escape(captions[0])}</div>'
        f'<script>(function() {{ var root = document.currentScript ? document.currentScript.parentNode : '
        f'document.getElementById("{eid}"); var frames = {data}; var caps = {caps}; '
        f'var eps = {[round(e, 6) for e in eps]}; var slider = root.querySelector("input"); '
        f'var img = root.querySelector("img"); var cap = root.querySelector(".cl-eps-caption"); '
        f'var val = root.querySelector(".cl-eps-value"); '
        f'slider.addEventListener("input", function() {{ var i = +slider.value; '
        f'img.src = "data:image/png;base64," + frames[i]; '
        f'var t = document.createElement("textarea"); t.innerHTML = caps[i]; cap.textContent = t.value; '
        f'val.textContent = eps[i].toFixed(3); }}); }})();</script></div>')
