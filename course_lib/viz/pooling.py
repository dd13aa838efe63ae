"""Figures for pooling and receptive fields (chapter 5). Every function returns a Figure and never shows it.

Grey images use ``gray`` (black = 0); signed differences use ``RdBu_r`` with limits
symmetric about zero (white = no change).
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence, Tuple

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .._checks import check_array, check_int

__all__ = ["show_pooling_windows", "show_pooled_maps", "show_shift_differences", "plot_invariance",
           "plot_channel_tuning", "show_field_gradients", "show_adaptive_windows", "show_gradient_routing"]

_WINDOW_COLOURS = ["#f4a582", "#92c5de", "#b8e186", "#fdb863", "#c2a5cf", "#a6dba0", "#fddbc7", "#d1e5f0"]


def _np(a) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=float)


def _plane(name: str, a) -> np.ndarray:
    """(H, W), (1, H, W) or (1, 1, H, W) -> (H, W)."""
    a = _np(a)
    while a.ndim > 2 and a.shape[0] == 1:
        a = a[0]
    return check_array(name, a, ndim=2, shape_hint="(H, W), or (1, 1, H, W) for one image")


def _check_mapping(name: str, value) -> None:
    if not isinstance(value, Mapping) or not value:
        raise TypeError(f"{name} must be a non-empty dict name -> values, got {type(value).__name__}")


def show_pooling_windows(x, pooled: Mapping[str, object], *, kernel_size: int = 2,
                         title: Optional[str] = None) -> Figure:
    """A small input with its non-overlapping windows coloured, next to its pooled versions.

    Each output cell is drawn as large as the window it summarises, in that window's colour;
    black boxes on the input mark the values max pooling keeps.

    Parameters
    ----------
    x : array, shape (H, W) or (1, 1, H, W)
        H and W divisible by ``kernel_size`` (windows of stride ``kernel_size``).
    pooled : dict of str -> array (H / k, W / k)
        One panel each (e.g. ``{"max pooled": mp, "average pooled": ap}``).
    kernel_size : int
        The window size k (stride k).

    Examples
    --------
    >>> x = np.arange(16.0).reshape(4, 4)
    >>> fig = show_pooling_windows(x, {"max": x.reshape(2, 2, 2, 2).max(axis=(1, 3))})
    >>> [ax.get_title() for ax in fig.axes]
    ['input, 4 x 4', 'max, 2 x 2']
    """
    x = _plane("x", x)
    k = check_int("kernel_size", kernel_size, minimum=1)
    h, w = x.shape
    if h % k or w % k:
        raise ValueError(f"x has shape {x.shape}, not a multiple of kernel_size={k}; crop it first")
    _check_mapping("pooled", pooled)
    outs = {name: _plane(f"pooled[{name!r}]", v) for name, v in pooled.items()}
    for name, v in outs.items():
        if v.shape != (h // k, w // k):
            raise ValueError(f"pooled[{name!r}] has shape {v.shape}, expected {(h // k, w // k)} for "
                             f"{h} x {w} windows of {k}")
    panels = {f"input, {h} x {w}": (x, 1)}
    panels.update({f"{name}, {v.shape[0]} x {v.shape[1]}": (v, k) for name, v in outs.items()})
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.6), squeeze=False)
    axes = axes[0]
    for ax, (name, (a, cell)) in zip(axes, panels.items()):
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                win = (i * cell // k) * (w // k) + j * cell // k
                ax.add_patch(plt.Rectangle((j * cell, i * cell), cell, cell, ec="white", lw=2,
                                           fc=_WINDOW_COLOURS[win % len(_WINDOW_COLOURS)]))
                ax.text((j + 0.5) * cell, (i + 0.5) * cell, f"{a[i, j]:g}", ha="center", va="center",
                        fontsize=13)
        ax.set_xlim(0, w); ax.set_ylim(h, 0); ax.set_aspect("equal"); ax.set_axis_off(); ax.set_title(name)
    for wi in range(h // k):                        # the winner of each window
        for wj in range(w // k):
            win = x[wi * k:(wi + 1) * k, wj * k:(wj + 1) * k]
            u, v = np.unravel_index(np.argmax(win), win.shape)
            axes[0].add_patch(plt.Rectangle((wj * k + v + 0.08, wi * k + u + 0.08), 0.84, 0.84,
                                            fill=False, ec="black", lw=2))
    fig.suptitle(title or f"each colour is one {k} x {k} window (stride {k}); black boxes mark the "
                 "values max pooling keeps")
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    return fig


def show_pooled_maps(results: Mapping[str, Sequence], *, row_labels: Sequence[str] = ("photo", "edge map"),
                     title: Optional[str] = None) -> Figure:
    """Several pooled versions of the same images, one column per setting, one row per image.

    Rows share one grey scale each (black = 0), so brightness can be compared across columns.

    Parameters
    ----------
    results : dict of str -> sequence of arrays
        ``{setting: (image for row 0, image for row 1, ...)}``, each (H, W) or (1, 1, H, W).
    row_labels : sequence of str
        One label per row.

    Examples
    --------
    >>> a = np.ones((4, 4))
    >>> fig = show_pooled_maps({"input": (a, a), "pooled": (a[:2, :2], a[:2, :2])})
    >>> len(fig.axes), fig.axes[0].get_title()
    (4, 'input\\n4 x 4')
    """
    _check_mapping("results", results)
    rows = len(row_labels)
    cols = {name: [_plane(f"results[{name!r}][{r}]", a) for r, a in enumerate(v)] for name, v in results.items()}
    for name, v in cols.items():
        if len(v) != rows:
            raise ValueError(f"results[{name!r}] has {len(v)} images, expected {rows} (one per row label)")
    vmax = [max(float(c[r].max()) for c in cols.values()) or 1.0 for r in range(rows)]
    fig, axes = plt.subplots(rows, len(cols), figsize=(2.75 * len(cols), 2.9 * rows), squeeze=False)
    for c, (name, images) in enumerate(cols.items()):
        for r, img in enumerate(images):
            axes[r, c].imshow(img, cmap="gray", vmin=0, vmax=vmax[r], interpolation="nearest")
            axes[r, c].set_axis_off()
        axes[0, c].set_title(f"{name}\n{images[0].shape[0]} x {images[0].shape[1]}", fontsize=10)
    for r, label in enumerate(row_labels):
        axes[r, 0].text(-0.05, 0.5, label, rotation=90, va="center", ha="right", transform=axes[r, 0].transAxes)
    fig.suptitle(title or "pooled versions (grey scale, black = 0)")
    fig.tight_layout()
    return fig


def show_shift_differences(rows: Sequence[Tuple[object, object, str]], *, title: Optional[str] = None,
                           shift_label: str = "shifted one pixel right") -> Figure:
    """For each row: a map, its shifted version and their difference (``RdBu_r``, limits -1..1).

    Parameters
    ----------
    rows : sequence of (before, after, label)
        Maps in [0, 1], each (H, W) or (1, 1, H, W).

    Examples
    --------
    >>> a = np.zeros((4, 4)); a[1, 1] = 1
    >>> fig = show_shift_differences([(a, np.roll(a, 1, axis=1), "pixels")])
    >>> fig.axes[2].images[0].get_clim()
    (-1.0, 1.0)
    """
    rows = list(rows)
    if not rows:
        raise ValueError("rows must hold at least one (before, after, label) triple, got none")
    fig, axes = plt.subplots(len(rows), 3, figsize=(8, 2.8 * len(rows)), squeeze=False)
    for r, row in enumerate(rows):
        if len(row) != 3:
            raise ValueError(f"rows[{r}] must be (before, after, label), got {len(row)} items")
        a, b, label = _plane(f"rows[{r}][0]", row[0]), _plane(f"rows[{r}][1]", row[1]), str(row[2])
        axes[r, 0].imshow(a, cmap="gray", vmin=0, vmax=1)
        axes[r, 1].imshow(b, cmap="gray", vmin=0, vmax=1)
        axes[r, 2].imshow(b - a, cmap="RdBu_r", vmin=-1, vmax=1)
        axes[r, 0].set_title(f"{label}: before", fontsize=9)
        axes[r, 1].set_title(shift_label, fontsize=9)
        axes[r, 2].set_title("difference (red +, blue -)", fontsize=9)
    for ax in axes.flat:
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_invariance(invariance: Mapping[Tuple[str, str], Tuple[float, float]], *,
                    title: Optional[str] = None) -> Figure:
    """Two bar charts: fraction of active positions unchanged, and relative change, per pooling setting.

    Parameters
    ----------
    invariance : dict (representation, pooling) -> (fraction unchanged, relative change)

    Examples
    --------
    >>> inv = {("pixels", "none"): (0.2, 0.5), ("pixels", "max"): (0.4, 0.3)}
    >>> fig = plot_invariance(inv)
    >>> fig.axes[0].get_ylabel()
    'fraction of active positions unchanged'
    """
    _check_mapping("invariance", invariance)
    reps = list(dict.fromkeys(k[0] for k in invariance))
    pools = list(dict.fromkeys(k[1] for k in invariance))
    colours = ["0.55", "#d6604d", "#4393c3", "#92c5de"]
    width = 0.8 / len(reps)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    xpos = np.arange(len(pools))
    for n, rep in enumerate(reps):
        offset = (n - (len(reps) - 1) / 2) * width
        for m, ax in enumerate(axes):
            ax.bar(xpos + offset, [invariance.get((rep, p), (np.nan, np.nan))[m] for p in pools], width,
                   label=rep, color=colours[n % len(colours)])
    axes[0].set_ylabel("fraction of active positions unchanged"); axes[0].set_title("higher = more invariant")
    axes[1].set_ylabel("relative change of the map"); axes[1].set_title("lower = more invariant")
    for ax in axes:
        ax.set_xticks(xpos, pools); ax.legend(); ax.set_xlabel("what follows the (shifted) input")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_channel_tuning(angles: Sequence[float], responses, *, highlight: int = 0,
                        highlight_label: Optional[str] = None, title: Optional[str] = None) -> Figure:
    """Responses of several orientation channels against the stimulus angle, and their maximum.

    Parameters
    ----------
    angles : sequence of float, length A
        Stimulus angles in degrees.
    responses : array, shape (A, C)
        Response of each of the C channels at each angle.
    highlight : int
        The channel drawn in blue (the others in light grey); the max over channels in red.

    Examples
    --------
    >>> fig = plot_channel_tuning([0, 90], np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> [l.get_label() for l in fig.axes[0].get_lines()][-1]
    'max over the 2 channels'
    """
    r = _np(responses)
    angles = np.asarray(angles, dtype=float)
    check_array("responses", r, ndim=2, shape_hint="(angles, channels)")
    if len(angles) != r.shape[0]:
        raise ValueError(f"responses has {r.shape[0]} rows but angles has {len(angles)} values")
    h = check_int("highlight", highlight, minimum=0)
    if h >= r.shape[1]:
        raise ValueError(f"highlight={h} but there are only {r.shape[1]} channels")
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    others = [c for c in range(r.shape[1]) if c != h]
    if others:
        ax.plot(angles, r[:, others], color="0.8", lw=1)
    ax.plot(angles, r[:, h], color="#2166ac", lw=2, label=highlight_label or f"channel {h}")
    ax.plot(angles, r.max(axis=1), color="#b2182b", lw=2.5, label=f"max over the {r.shape[1]} channels")
    ax.set_xlabel("angle of the line (degrees)"); ax.set_ylabel("response at the centre")
    ax.set_title(title or "pooling across orientation channels")
    ax.legend()
    fig.tight_layout()
    return fig


def show_field_gradients(gradients: Mapping[str, object], *, margin: int = 4,
                         title: Optional[str] = None) -> Figure:
    """Measured receptive fields: the gradient of one unit with respect to every input pixel, zoomed.

    Parameters
    ----------
    gradients : dict of str -> array (H, W)
        Non-negative gradients (e.g. ``measured_receptive_field(...).gradient``); grey level = size,
        black = 0.
    margin : int
        Pixels shown around the non-zero part.

    Examples
    --------
    >>> g = np.zeros((9, 9)); g[3:6, 3:6] = 1
    >>> fig = show_field_gradients({"3x3 conv": g})
    >>> fig.axes[0].get_title()
    '3x3 conv'
    """
    _check_mapping("gradients", gradients)
    m = check_int("margin", margin, minimum=0)
    fig, axes = plt.subplots(1, len(gradients), figsize=(3 * len(gradients), 3.4), squeeze=False)
    for ax, (name, g) in zip(axes[0], gradients.items()):
        g = _plane(f"gradients[{name!r}]", g)
        ax.imshow(g, cmap="gray", interpolation="nearest")
        rows, cols = np.nonzero(g.sum(1))[0], np.nonzero(g.sum(0))[0]
        if len(rows):
            ax.set_xlim(cols.min() - m - 0.5, cols.max() + m + 0.5)
            ax.set_ylim(rows.max() + m + 0.5, rows.min() - m - 0.5)
        ax.set_title(name.replace(", max", ",\nmax"), fontsize=9)
        ax.set_xticks([]); ax.set_yticks([])
    fig.suptitle(title or "input pixels that reach one unit (grey level = gradient size, black = 0; zoomed)")
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    return fig


def show_adaptive_windows(windows: Mapping[str, Tuple[np.ndarray, np.ndarray]], *,
                          title: Optional[str] = None) -> Figure:
    """The windows of adaptive pooling drawn over inputs of several sizes, one panel per input.

    Parameters
    ----------
    windows : dict of str -> (row windows, column windows)
        Each an int array (out, 2) of ``[start, end)`` pairs as returned by
        :func:`course_lib.pooling.adaptive_windows`; the input size is the last ``end``.

    Examples
    --------
    >>> from course_lib.pooling import adaptive_windows
    >>> w = adaptive_windows(7, 3)
    >>> fig = show_adaptive_windows({"7 x 7": (w, w)})
    >>> len(fig.axes[0].patches)        # the input, then 3 x 3 windows
    10
    """
    _check_mapping("windows", windows)
    fig, axes = plt.subplots(1, len(windows), figsize=(3.2 * len(windows), 3.5), squeeze=False)
    for ax, (name, pair) in zip(axes[0], windows.items()):
        if len(pair) != 2:
            raise ValueError(f"windows[{name!r}] must be (row windows, column windows)")
        rw, cw = (check_array(f"windows[{name!r}]", np.asarray(p), ndim=2, shape_hint="(out, 2)") for p in pair)
        h, w = int(rw[:, 1].max()), int(cw[:, 1].max())
        ax.add_patch(plt.Rectangle((0, 0), w, h, fc="0.95", ec="0.6"))
        for i, (r0, r1) in enumerate(rw):
            for j, (c0, c1) in enumerate(cw):
                colour = _WINDOW_COLOURS[(i * len(cw) + j) % len(_WINDOW_COLOURS)]
                inset = 0.08 * ((i + j) % 2)          # overlapping windows stay visible
                ax.add_patch(plt.Rectangle((c0 + inset, r0 + inset), c1 - c0 - 2 * inset, r1 - r0 - 2 * inset,
                                           fc=colour, ec="black", lw=1, alpha=0.55))
        ax.set_xlim(-0.2, w + 0.2); ax.set_ylim(h + 0.2, -0.2); ax.set_aspect("equal")
        ax.set_xticks(range(0, w + 1, max(1, w // 4))); ax.set_yticks(range(0, h + 1, max(1, h // 4)))
        ax.set_title(f"{name}: {len(rw)} x {len(cw)} windows", fontsize=10)
    fig.suptitle(title or "adaptive pooling: the windows stretch with the input, the output size stays")
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    return fig


def show_gradient_routing(x, grad_out, grad_in, *, title: Optional[str] = None) -> Figure:
    """Max pooling backward: input values, the output gradient and where it lands in the input.

    Parameters
    ----------
    x : array (H, W)
        The pooled input.
    grad_out : array (H', W')
        The gradient arriving at the pooled output.
    grad_in : array (H, W)
        The gradient with respect to the input (non-zero only at each window's maximum).

    Examples
    --------
    >>> x = np.arange(16.0).reshape(4, 4); g = np.zeros((4, 4)); g[1::2, 1::2] = 1
    >>> fig = show_gradient_routing(x, np.ones((2, 2)), g)
    >>> [ax.get_title() for ax in fig.axes]
    ['input x', 'gradient at the output', 'gradient at the input']
    """
    panels = [("input x", _plane("x", x)), ("gradient at the output", _plane("grad_out", grad_out)),
              ("gradient at the input", _plane("grad_in", grad_in))]
    if panels[0][1].shape != panels[2][1].shape:
        raise ValueError(f"grad_in has shape {panels[2][1].shape}, x has {panels[0][1].shape}: they must match")
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.6))
    for ax, (name, a) in zip(axes, panels):
        vmax = float(np.abs(a).max()) or 1.0
        cmap = "gray_r" if name == "input x" else "RdBu_r"
        ax.imshow(a, cmap=cmap, vmin=0 if name == "input x" else -vmax, vmax=vmax * (2 if name == "input x" else 1))
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                ax.text(j, i, f"{a[i, j]:g}", ha="center", va="center", fontsize=12)
        ax.set_title(name); ax.set_xticks([]); ax.set_yticks([])
    fig.suptitle(title or "max pooling sends each output's gradient to the one input that won its window")
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    return fig
