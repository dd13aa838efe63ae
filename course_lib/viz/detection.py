"""Figures for detection and segmentation: boxes on scenes, masks, window scores, PR curves, up-sampling.

Every function returns a matplotlib Figure and never shows it. Scenes are drawn
in ``gray``; class masks use one fixed colour per class (background black), so
the same digit has the same colour in every figure. :class:`LiveCurves` redraws
training curves in place while a network trains and leaves the final curves in
the stored notebook.
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .._checks import check_array, check_int

__all__ = ["CLASS_COLOURS", "mask_colormap", "draw_boxes", "show_scenes", "show_masks", "show_iou",
           "show_window_scores", "show_layer_grids", "plot_precision_recall", "show_upsampling",
           "LiveCurves"]

# background black, then ten well-separated colours for the digits 0-9
CLASS_COLOURS = ["#000000", "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4",
                 "#46f0f0", "#f032e6", "#bcf60c", "#fabebe"]


def mask_colormap() -> ListedColormap:
    """The colour map of class masks: index 0 (background) black, ``c + 1`` the colour of digit ``c``.

    Examples
    --------
    >>> mask_colormap().N
    11
    """
    return ListedColormap(CLASS_COLOURS, name="classes")


def _np(a):
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a)


def _image2d(name, img) -> np.ndarray:
    a = check_array(name, _np(img), ndim=(2, 3), shape_hint="(H, W) or (1, H, W)")
    if a.ndim == 3:
        if a.shape[0] != 1:
            raise ValueError(f"{name} must be a grey image (1, H, W), got shape {a.shape}")
        a = a[0]
    return a


def draw_boxes(ax, boxes, labels=None, scores=None, *, colour: Optional[str] = None, lw: float = 1.5,
               linestyle: str = "-", fontsize: float = 7) -> None:
    """Draw corner boxes (x1, y1, x2, y2) on ``ax``, each labelled with its class and score.

    Boxes take the colour of their class unless ``colour`` is given.

    Examples
    --------
    >>> fig, ax = plt.subplots()
    >>> draw_boxes(ax, np.array([[1, 1, 5, 5]]), [3], [0.9])
    >>> len(ax.patches)
    1
    >>> plt.close(fig)
    """
    b = check_array("boxes", _np(boxes), ndim=2, shape_hint="(K, 4)") if len(boxes) else np.zeros((0, 4))
    if b.shape[1] != 4:
        raise ValueError(f"boxes must be (K, 4) corners, got shape {b.shape}")
    labels = None if labels is None else [int(v) for v in _np(labels).ravel()]
    scores = None if scores is None else [float(v) for v in _np(scores).ravel()]
    for k, (x1, y1, x2, y2) in enumerate(b):
        c = colour or (CLASS_COLOURS[labels[k] + 1] if labels is not None else "#ffe119")
        ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, ec=c, lw=lw,
                               ls=linestyle))
        text = []
        if labels is not None:
            text.append(str(labels[k]))
        if scores is not None:
            text.append(f"{scores[k]:.2f}")
        if text:
            ax.text(x1 - 0.5, y1 - 1, " ".join(text), color="black", fontsize=fontsize, va="bottom",
                    bbox=dict(fc=c, ec="none", pad=0.5, alpha=0.9))


def show_scenes(images, boxes=None, labels=None, *, scores=None, truth_boxes=None, masks=None,
                titles: Optional[Sequence[str]] = None, ncols: int = 6, cell: float = 2.0,
                suptitle: Optional[str] = None) -> Figure:
    """Scenes with their boxes (solid, class colours) and optionally true boxes (dashed white) or masks.

    Parameters
    ----------
    images : (N, 1, H, W) or (N, H, W)
    boxes, labels, scores : lists with one array per image, optional
    truth_boxes : list of (k, 4) arrays, optional
        Drawn dashed in white under the predicted boxes.
    masks : (N, H, W) class masks, optional
        Shown as a second row per image when given.

    Examples
    --------
    >>> fig = show_scenes(np.zeros((2, 1, 8, 8)), [np.array([[1, 1, 4, 4]]), np.zeros((0, 4))], [[1], []])
    >>> len(fig.axes)
    2
    """
    imgs = check_array("images", _np(images), ndim=(3, 4), shape_hint="(N, 1, H, W)")
    if imgs.ndim == 4:
        imgs = imgs[:, 0]
    n = len(imgs)
    ncols = check_int("ncols", ncols, minimum=1)
    ncols = min(ncols, n)
    rows = -(-n // ncols)
    per = 2 if masks is not None else 1
    fig, axes = plt.subplots(rows * per, ncols, figsize=(cell * ncols, cell * rows * per), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for i in range(n):
        r, c = divmod(i, ncols)
        ax = axes[r * per, c]
        ax.imshow(imgs[i], cmap="gray", vmin=0, vmax=255 if imgs.max() > 1.5 else 1, interpolation="nearest")
        if truth_boxes is not None:
            draw_boxes(ax, truth_boxes[i], colour="white", linestyle="--", lw=1.0)
        if boxes is not None:
            draw_boxes(ax, boxes[i], None if labels is None else labels[i],
                       None if scores is None else scores[i])
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
        if masks is not None:
            axes[r * per + 1, c].imshow(_np(masks[i]), cmap=mask_colormap(), vmin=0, vmax=10,
                                        interpolation="nearest")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_masks(images, masks: Mapping[str, object], *, cell: float = 1.8, suptitle: Optional[str] = None
               ) -> Figure:
    """One row per image: the image, then each named class mask (e.g. truth, FCN, U-Net).

    Examples
    --------
    >>> m = np.zeros((2, 8, 8), int)
    >>> len(show_masks(np.zeros((2, 1, 8, 8)), {"truth": m, "model": m}).axes)
    6
    """
    imgs = check_array("images", _np(images), ndim=(3, 4), shape_hint="(N, 1, H, W)")
    if imgs.ndim == 4:
        imgs = imgs[:, 0]
    if not isinstance(masks, Mapping) or not masks:
        raise TypeError("masks must be a non-empty dict {name: (N, H, W) class masks}")
    n, k = len(imgs), len(masks)
    fig, axes = plt.subplots(n, k + 1, figsize=(cell * (k + 1), cell * n), squeeze=False)
    for i in range(n):
        axes[i, 0].imshow(imgs[i], cmap="gray", interpolation="nearest")
        for j, (name, m) in enumerate(masks.items(), start=1):
            axes[i, j].imshow(_np(m)[i], cmap=mask_colormap(), vmin=0, vmax=10, interpolation="nearest")
            if i == 0:
                axes[i, j].set_title(name, fontsize=9)
        if i == 0:
            axes[i, 0].set_title("image", fontsize=9)
    for ax in axes.ravel():
        ax.set_axis_off()
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_iou(box_a, box_b, *, size: int = 12, iou: Optional[float] = None) -> Figure:
    """Two boxes on a small pixel grid, their intersection shaded, with the IoU in the title.

    Examples
    --------
    >>> len(show_iou([1, 1, 6, 6], [3, 3, 9, 8]).axes)
    1
    """
    a = np.asarray(box_a, float)
    b = np.asarray(box_b, float)
    fig, ax = plt.subplots(figsize=(3, 3))
    ax.set_xlim(0, size)
    ax.set_ylim(size, 0)
    ax.set_xticks(range(size + 1))
    ax.set_yticks(range(size + 1))
    ax.tick_params(labelsize=6)
    ax.grid(alpha=0.3)
    for box, col, name in ((a, "#4363d8", "A"), (b, "#e6194b", "B")):
        ax.add_patch(Rectangle(box[:2], box[2] - box[0], box[3] - box[1], fill=False, ec=col, lw=2))
        ax.text(box[0] + 0.2, box[1] + 0.8, name, color=col, fontsize=10, weight="bold")
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    if x2 > x1 and y2 > y1:
        ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fc="#911eb4", alpha=0.35))
    ax.set_aspect("equal")
    ax.set(xlabel="x (pixels)", ylabel="y (pixels)")
    if iou is not None:
        ax.set_title(f"IoU = {iou:.3f}", fontsize=10)
    fig.tight_layout()
    return fig


def show_window_scores(image, score_maps: Mapping[str, object], *, suptitle: Optional[str] = None
                       ) -> Figure:
    """The image, then one heat map per named score map (values 0..1, ``viridis``), each with a colour bar.

    Examples
    --------
    >>> len(show_window_scores(np.zeros((8, 8)), {"p(digit)": np.zeros((3, 3))}).axes)
    3
    """
    img = _image2d("image", image)
    k = len(score_maps)
    fig, axes = plt.subplots(1, k + 1, figsize=(2.8 * (k + 1), 2.8), squeeze=False)
    axes = axes[0]
    axes[0].imshow(img, cmap="gray", interpolation="nearest")
    axes[0].set_title("image", fontsize=9)
    axes[0].set_axis_off()
    for ax, (name, m) in zip(axes[1:], score_maps.items()):
        im = ax.imshow(_np(m), cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.set(xlabel="window column", ylabel="window row")
        fig.colorbar(im, ax=ax, fraction=0.046)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_layer_grids(stages: Sequence[tuple], *, title: Optional[str] = None, highlight: int = 0) -> Figure:
    """Feature-map grids of a network drawn side by side, one panel per stage (Bishop fig. 10.22 style).

    Parameters
    ----------
    stages : sequence of (name, size) or (name, size, cells)
        ``size`` is the side of the map; ``cells`` (optional) is the list of
        (row, col) cells to shade, e.g. the cells that one output unit sees.
    highlight : int
        Not used by the drawing except as the colour index of shaded cells.

    Examples
    --------
    >>> len(show_layer_grids([("input", 6), ("conv", 4), ("pool", 2), ("fc", 1)]).axes)
    4
    """
    if not stages:
        raise ValueError("stages must list at least one (name, size) pair")
    fig, axes = plt.subplots(1, len(stages), figsize=(2.0 * len(stages), 2.3), squeeze=False)
    big = max(int(s[1]) for s in stages)
    for ax, st in zip(axes[0], stages):
        name, n = st[0], int(st[1])
        cells = set(map(tuple, st[2])) if len(st) > 2 else set()
        for i in range(n):
            for j in range(n):
                fc = CLASS_COLOURS[1 + highlight % 10] if (i, j) in cells else "#dddddd"
                ax.add_patch(Rectangle((j, i), 1, 1, fc=fc, ec="white", lw=1.5))
        ax.set_xlim(-0.2, big + 0.2)
        ax.set_ylim(big + 0.2, -0.2)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(f"{name}\n{n} x {n}", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_precision_recall(curves: Mapping[str, tuple], *, title: Optional[str] = None) -> Figure:
    """Precision-recall curves, one per name: ``{name: (precision, recall)}``.

    Examples
    --------
    >>> len(plot_precision_recall({"a": (np.array([1.0, 0.5]), np.array([0.5, 0.5]))}).axes)
    1
    """
    fig, ax = plt.subplots(figsize=(4.2, 3.4))
    for name, (p, r) in curves.items():
        p, r = np.asarray(p, float), np.asarray(r, float)
        ax.step(np.concatenate([[0], r]), np.concatenate([[1 if len(p) else 0], p]), where="pre", label=name)
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def show_upsampling(panels: Mapping[str, object], *, cmap: str = "gray", signed: bool = False,
                    cell: float = 2.2, suptitle: Optional[str] = None, annotate: bool = False) -> Figure:
    """Named 2D arrays side by side at their own resolution (e.g. an input and its up-sampled versions).

    ``signed=True`` uses ``RdBu_r`` with limits symmetric about zero; ``annotate``
    writes each value in its pixel (for small arrays).

    Examples
    --------
    >>> len(show_upsampling({"in": np.eye(2), "out": np.eye(4)}).axes)
    2
    """
    if not isinstance(panels, Mapping) or not panels:
        raise TypeError("panels must be a non-empty dict {name: 2D array}")
    k = len(panels)
    fig, axes = plt.subplots(1, k, figsize=(cell * k, cell + 0.4), squeeze=False)
    for ax, (name, arr) in zip(axes[0], panels.items()):
        a = _image2d(name, arr)
        if signed:
            lim = float(np.abs(a).max()) or 1.0
            ax.imshow(a, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        else:
            ax.imshow(a, cmap=cmap, interpolation="nearest")
        if annotate:
            for (i, j), v in np.ndenumerate(a):
                ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=7,
                        color="black" if signed else ("white" if v < (a.max() + a.min()) / 2 else "black"))
        ax.set_title(f"{name}\n{a.shape[0]} x {a.shape[1]}", fontsize=9)
        ax.set_axis_off()
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


class LiveCurves:
    """Training curves that redraw in place in Jupyter while a network trains.

    Call :meth:`update` with the values of an epoch; in a notebook the figure is
    replaced through a display handle, so the stored notebook (and the book)
    keeps the final curves. Outside IPython nothing is displayed; :attr:`fig`
    is always up to date.

    Parameters
    ----------
    panels : mapping of panel title -> list of series names
        e.g. ``{"loss": ["train loss", "val loss"], "mean IoU": ["val mIoU"]}``.
    title : str, optional

    Examples
    --------
    >>> live = LiveCurves({"loss": ["train"]}, display=False)
    >>> live.update(train=1.0); live.update(train=0.5)
    >>> live.data["train"]
    [1.0, 0.5]
    >>> plt.close(live.fig)
    """

    def __init__(self, panels: Mapping[str, Sequence[str]], *, title: Optional[str] = None,
                 display: bool = True, xlabel: str = "epoch"):
        if not isinstance(panels, Mapping) or not panels:
            raise TypeError("panels must be a non-empty dict {panel title: [series names]}")
        self.panels = {k: list(v) for k, v in panels.items()}
        self.data: Dict[str, list] = {s: [] for v in self.panels.values() for s in v}
        self.title, self.xlabel = title, xlabel
        self.fig, axes = plt.subplots(1, len(self.panels), figsize=(4.2 * len(self.panels), 3.0), squeeze=False)
        self.axes = axes[0]
        plt.close(self.fig)               # drawn only through the display handle
        self._handle = None
        if display:
            try:
                from IPython import get_ipython
                from IPython.display import display as _display
                if get_ipython() is not None:
                    self._handle = _display(self.fig, display_id=True)
            except ImportError:   # pragma: no cover - IPython ships with Jupyter
                self._handle = None
        self._draw()

    def update(self, **values: float) -> None:
        """Append one value per named series (missing series keep their length) and redraw."""
        for k, v in values.items():
            if k not in self.data:
                raise ValueError(f"unknown series {k!r}; the panels define {sorted(self.data)}")
            self.data[k].append(float(v))
        self._draw()

    def _draw(self) -> None:
        for ax, (name, series) in zip(self.axes, self.panels.items()):
            ax.clear()
            for s in series:
                ys = self.data[s]
                if ys:
                    ax.plot(range(1, len(ys) + 1), ys, "o-", ms=3, label=s)
            ax.set(title=name, xlabel=self.xlabel)
            ax.grid(alpha=0.3)
            if any(self.data[s] for s in series):
                ax.legend(fontsize=8)
        if self.title:
            self.fig.suptitle(self.title, fontsize=10)
        self.fig.tight_layout()
        if self._handle is not None:
            self._handle.update(self.fig)
