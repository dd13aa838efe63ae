"""Figures for style transfer, and live curves for anything that optimises step by step.

Every function returns a matplotlib Figure and never shows it; :class:`LivePlot`
redraws one figure in place while a loop runs (in Jupyter) and leaves the final
curves as the cell's output.
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional, Sequence

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

__all__ = ["show_rgb", "plot_style_losses", "show_gram", "LivePlot"]


def _rgb(img) -> np.ndarray:
    if hasattr(img, "detach"):
        img = img.detach().float().cpu().numpy()
    img = np.asarray(img, dtype=np.float64)
    if img.ndim == 4:
        if img.shape[0] != 1:
            raise ValueError(f"each image must be one image (1, 3, H, W), got shape {img.shape}")
        img = img[0]
    if img.ndim == 3 and img.shape[0] in (1, 3):
        img = np.moveaxis(img, 0, -1)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim not in (2, 3):
        raise ValueError(f"an image must be (H, W), (H, W, 3), (3, H, W) or (1, 3, H, W), got {img.shape}")
    return np.clip(img, 0.0, 1.0)


def show_rgb(images: Mapping[str, object], *, ncols: int = 4, size: float = 2.4,
             title: Optional[str] = None) -> Figure:
    """A grid of titled images with values in [0, 1] (tensors (1, 3, H, W) or arrays (H, W, 3)).

    Examples
    --------
    >>> import torch
    >>> fig = show_rgb({"a": torch.zeros(1, 3, 8, 8), "b": np.ones((8, 8, 3))}, ncols=2)
    >>> len(fig.axes)
    2
    """
    if not isinstance(images, Mapping) or not images:
        raise TypeError(f"images must be a non-empty dict title -> image, got {type(images).__name__}")
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be an int >= 1, got ncols={ncols!r}")
    n = len(images)
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if title else 0)),
                             squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, (name, img) in zip(axes.flat, images.items()):
        arr = _rgb(img)
        ax.imshow(arr, cmap="gray" if arr.ndim == 2 else None, vmin=0, vmax=1)
        ax.set_title(str(name), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_style_losses(histories: Mapping[str, Mapping[str, Sequence[float]]], *,
                      keys: Sequence[str] = ("content", "style"), title: Optional[str] = None) -> Figure:
    """Loss per optimisation step, one panel per loss part, one line per run (log scale).

    Parameters
    ----------
    histories : dict run name -> history (dict part -> list of values per step)
        E.g. ``{name: result.history}`` from :func:`course_lib.style.optimize_image`.
    keys : parts to plot; a run without a part (or with only zeros) is skipped in that panel.

    Examples
    --------
    >>> fig = plot_style_losses({"run": {"content": [4.0, 2.0], "style": [1.0, 0.5]}})
    >>> [ax.get_title() for ax in fig.axes]
    ['content loss', 'style loss']
    """
    if not isinstance(histories, Mapping) or not histories:
        raise TypeError("histories must be a non-empty dict run name -> history dict")
    keys = list(keys)
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.2), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        for name, h in histories.items():
            vals = np.asarray(h.get(key, []), dtype=float)
            if vals.size and np.any(vals > 0):
                ax.plot(np.arange(1, vals.size + 1), vals, label=str(name))
        ax.set_yscale("log")
        ax.set(xlabel="optimisation step", ylabel=f"{key} loss (log scale)", title=f"{key} loss")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_gram(grams: Mapping[str, object], *, title: Optional[str] = None) -> Figure:
    """Gram (style) matrices side by side, each with its own colour bar (``viridis``: they are >= 0).

    Examples
    --------
    >>> fig = show_gram({"a": np.eye(3), "b": np.ones((3, 3))})
    >>> len(fig.axes)        # two panels and two colour bars
    4
    """
    if not isinstance(grams, Mapping) or not grams:
        raise TypeError("grams must be a non-empty dict title -> (C, C) matrix")
    fig, axes = plt.subplots(1, len(grams), figsize=(3.4 * len(grams), 3.0), squeeze=False)
    for ax, (name, g) in zip(axes.flat, grams.items()):
        g = g.detach().cpu().numpy() if hasattr(g, "detach") else np.asarray(g)
        g = np.squeeze(g)
        if g.ndim != 2 or g.shape[0] != g.shape[1]:
            raise ValueError(f"grams[{name!r}] must be a square (C, C) matrix, got shape {g.shape}")
        im = ax.imshow(g, cmap="viridis")
        ax.set(title=str(name), xlabel="channel k'", ylabel="channel k")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


class LivePlot:
    """Curves that redraw in place while a loop runs; the final figure stays as the output.

    In Jupyter the figure is displayed once and updated through a display id (at most
    every ``every`` calls); outside Jupyter nothing is shown until :meth:`figure`.

    Parameters
    ----------
    panels : dict panel title -> y-axis label
    xlabel : str
    logy : bool
        Log scale on the y axes.
    every : int
        Redraw every ``every`` updates (redrawing costs time).

    Examples
    --------
    >>> live = LivePlot({"loss": "cross-entropy"}, xlabel="epoch", display=False)
    >>> live.update(1, loss={"train": 0.9, "validation": 1.0})
    >>> live.update(2, loss={"train": 0.5, "validation": 0.7})
    >>> [line.get_label() for line in live.figure().axes[0].get_lines()]
    ['train', 'validation']
    """

    def __init__(self, panels: Mapping[str, str], *, xlabel: str = "step", logy: bool = False,
                 every: int = 1, title: Optional[str] = None, display: bool = True):
        if not isinstance(panels, Mapping) or not panels:
            raise TypeError("panels must be a non-empty dict panel title -> y-axis label, e.g. "
                            "{'loss': 'cross-entropy'}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be an int >= 1, got every={every!r}")
        self.panels = dict(panels)
        self.xlabel, self.logy, self.every, self.title = xlabel, bool(logy), every, title
        self.data: Dict[str, Dict[str, list]] = {p: {} for p in self.panels}
        self._calls = 0
        self._fig = Figure(figsize=(4.4 * len(self.panels), 3.2))
        self._axes = self._fig.subplots(1, len(self.panels), squeeze=False)[0]
        self._handle = None
        if display:
            try:
                from IPython import get_ipython
                from IPython.display import display as _display
                if get_ipython() is not None:
                    self._draw()
                    self._handle = _display(self._fig, display_id=True)
            except ImportError:       # no IPython: just collect the data
                self._handle = None

    @classmethod
    def for_training(cls, title: Optional[str] = None, *, val_label: str = "validation",
                     display: bool = True) -> "LivePlot":
        """Loss and top-1 error per epoch; pass :meth:`from_history` as ``fit(..., on_epoch_end=...)``.

        Examples
        --------
        >>> live = LivePlot.for_training(display=False)
        >>> live.from_history({"epoch": [1], "train_loss": [0.9], "val_loss": [1.0],
        ...                    "train_top1": [0.3], "val_top1": [0.35]})
        >>> sorted(live.data["error"])
        ['train', 'validation']
        """
        live = cls({"loss": "cross-entropy", "error": "top-1 error"}, xlabel="epoch", title=title,
                   display=display)
        live.val_label = val_label
        return live

    def from_history(self, history) -> None:
        """Add the last epoch of a :class:`course_lib.training.History` (or its dict)."""
        h = history.as_dict() if hasattr(history, "as_dict") else dict(history)
        label = getattr(self, "val_label", "validation")
        loss, err = {"train": h["train_loss"][-1]}, {"train": h["train_top1"][-1]}
        if h.get("val_loss"):
            loss[label], err[label] = h["val_loss"][-1], h["val_top1"][-1]
        self.update(h["epoch"][-1], loss=loss, error=err)

    def update(self, x: float, **panels: Mapping[str, float]) -> None:
        """Append one point per named curve: ``update(step, loss={"train": 0.4})``."""
        for panel, curves in panels.items():
            if panel not in self.data:
                raise ValueError(f"unknown panel {panel!r}; the panels are {list(self.data)}")
            for name, y in curves.items():
                xs, ys = self.data[panel].setdefault(name, ([], []))
                xs.append(float(x))
                ys.append(float(y))
        self._calls += 1
        if self._handle is not None and self._calls % self.every == 0:
            self._draw()
            self._handle.update(self._fig)

    def _draw(self) -> None:
        for ax, (panel, ylabel) in zip(self._axes, self.panels.items()):
            ax.clear()
            for name, (xs, ys) in self.data[panel].items():
                ax.plot(xs, ys, "o-" if len(xs) < 30 else "-", ms=3, label=name)
            if self.logy:
                ax.set_yscale("log")
            ax.set(xlabel=self.xlabel, ylabel=ylabel, title=panel)
            ax.grid(alpha=0.3)
            if self.data[panel]:
                ax.legend(fontsize=8)
        if self.title:
            self._fig.suptitle(self.title)
        self._fig.tight_layout()

    def figure(self) -> Figure:
        """The final figure, drawn with all the data so far."""
        self._draw()
        return self._fig

    def close(self) -> None:
        """Redraw the live display one last time: the final curves stay as the cell's output."""
        self._draw()
        if self._handle is not None:
            self._handle.update(self._fig)
