"""The kernel playground: pick or edit a small kernel, see its feature map and detections.

A live version of Forsyth's figure 17.3: cross-correlate an image with a
kernel (:func:`course_lib.conv.correlate2d`), show the feature map on a
diverging colour scale centred on 0, and mark where it exceeds a threshold.
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional

import numpy as np
import ipywidgets as widgets

from ..conv import correlate2d
from ..gabor import gabor_kernel
from .._checks import check_array
from ._render import centred_limit, new_figure, to_png

__all__ = ["KernelPlayground", "kernel_playground", "preset_kernels"]

MAX_KERNEL = 9      # largest kernel side the editable grid shows


def preset_kernels() -> Dict[str, np.ndarray]:
    """The playground's preset 5x5 kernels: vertical edge, vertical bar, spot, Gabor.

    Edge, bar and spot sum to zero, so a flat image region gives 0 response.

    Returns
    -------
    dict of str -> ndarray, shape (5, 5)

    Examples
    --------
    >>> ks = preset_kernels()
    >>> list(ks), ks["edge"].shape
    (['edge', 'bar', 'spot', 'Gabor'], (5, 5))
    >>> [float(ks[n].sum()) for n in ("edge", "bar", "spot")]
    [0.0, 0.0, 0.0]
    """
    edge = np.tile([-1.0, -1.0, 0.0, 1.0, 1.0], (5, 1))          # dark left, bright right
    bar = np.tile([-2.0, 1.0, 2.0, 1.0, -2.0], (5, 1))           # bright vertical bar
    spot = -np.ones((5, 5))
    spot[1:4, 1:4] = 1.0
    spot[2, 2] = 8.0                                              # centre-surround, sums to 0
    gabor = np.round(gabor_kernel(5, theta=np.pi / 4, omega=1.2, phi=0.0, alpha=0.15, beta=0.15), 2)
    return {"edge": edge, "bar": bar, "spot": spot, "Gabor": gabor}


def _check_images(images) -> Dict[str, np.ndarray]:
    if not isinstance(images, Mapping) or not images:
        raise TypeError(f"images must be a non-empty dict name -> 2D array, got "
                        f"{type(images).__name__}; pass e.g. images={{'digit': x[0, 0]}}")
    out = {}
    for name, img in images.items():
        arr = check_array(f"images[{name!r}]", img, ndim=2, shape_hint="(H, W)")
        if min(arr.shape) < 3:
            raise ValueError(f"images[{name!r}] must be at least 3x3, got shape {arr.shape}; "
                             f"use a larger image")
        out[str(name)] = arr.astype(np.float64)
    return out


def _check_kernels(kernels, smallest) -> Dict[str, np.ndarray]:
    if kernels is None:
        kernels = preset_kernels()
    if not isinstance(kernels, Mapping) or not kernels:
        raise TypeError(f"kernels must be a non-empty dict name -> 2D array or None, got "
                        f"{type(kernels).__name__}; pass e.g. kernels={{'edge': k}}")
    out = {}
    for name, k in kernels.items():
        if name == "custom":
            raise ValueError("kernels must not use the name 'custom' (it is the edited kernel); "
                             "rename that entry")
        arr = check_array(f"kernels[{name!r}]", k, ndim=2, shape_hint="(kH, kW)")
        if max(arr.shape) > MAX_KERNEL or min(arr.shape) < 1:
            raise ValueError(f"kernels[{name!r}] must be at most {MAX_KERNEL}x{MAX_KERNEL} to edit, "
                             f"got shape {arr.shape}; crop it, e.g. k[:{MAX_KERNEL}, :{MAX_KERNEL}]")
        if arr.shape[0] > smallest[0] or arr.shape[1] > smallest[1]:
            raise ValueError(f"kernels[{name!r}] (shape {arr.shape}) is larger than the smallest "
                             f"image {smallest}; use a smaller kernel or larger images")
        out[str(name)] = arr.astype(np.float64)
    return out


class KernelPlayground(widgets.VBox):
    """Live kernel playground (see :func:`kernel_playground`).

    Attributes
    ----------
    controls : dict of str -> ipywidgets.Widget
        ``preset`` (Dropdown, includes ``'custom'``), ``image`` (Dropdown),
        ``threshold`` (FloatSlider, a fraction of the largest response) and
        ``grid``: a list of rows of FloatText, one per kernel entry.
    """

    def __init__(self, images: Mapping[str, np.ndarray],
                 kernels: Optional[Mapping[str, np.ndarray]] = None):
        self._images = _check_images(images)
        smallest = (min(a.shape[0] for a in self._images.values()),
                    min(a.shape[1] for a in self._images.values()))
        self._kernels = _check_kernels(kernels, smallest)
        first = next(iter(self._kernels))
        self.controls: Dict = {
            "preset": widgets.Dropdown(options=[*self._kernels, "custom"], value=first,
                                       description="kernel"),
            "image": widgets.Dropdown(options=list(self._images), description="image"),
            "threshold": widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.01,
                                             description="threshold", readout_format=".2f",
                                             tooltip="fraction of the largest response",
                                             style={"description_width": "initial"}),
            "grid": [],
        }
        self._grid_box = widgets.GridBox(layout=widgets.Layout(grid_gap="2px"))
        self._image = widgets.Image(format="png")
        self._info = widgets.HTML()
        self._busy = False
        self._fig = None
        self.kernel = self._kernels[first].copy()
        self._build_grid(self.kernel)
        c = self.controls
        c["preset"].observe(self._on_preset, names="value")
        c["image"].observe(lambda _: self._compute(), names="value")
        c["threshold"].observe(lambda _: self._detect(), names="value")
        super().__init__([widgets.HBox([c["preset"], c["image"]]),
                          widgets.HBox([widgets.Label("kernel entries (edit me):"), self._grid_box]),
                          c["threshold"], self._info, self._image])
        self._compute()

    # -- kernel editing ----------------------------------------------------------------------
    def _build_grid(self, kernel: np.ndarray) -> None:
        kh, kw = kernel.shape
        grid = [[widgets.FloatText(value=round(float(kernel[i, j]), 4), step=0.1,
                                   layout=widgets.Layout(width="62px"))
                 for j in range(kw)] for i in range(kh)]
        for row in grid:
            for box in row:
                box.observe(self._on_edit, names="value")
        self.controls["grid"] = grid
        self._grid_box.layout.grid_template_columns = f"repeat({kw}, 64px)"
        self._grid_box.children = [box for row in grid for box in row]

    def _on_preset(self, change) -> None:
        if self._busy or change["new"] == "custom":
            return
        kernel = self._kernels[change["new"]]
        self._busy = True
        try:
            if [len(self.controls["grid"]), len(self.controls["grid"][0])] != list(kernel.shape):
                self._build_grid(kernel)
            else:
                for i, row in enumerate(self.controls["grid"]):
                    for j, box in enumerate(row):
                        box.value = round(float(kernel[i, j]), 4)
        finally:
            self._busy = False
        self.kernel = kernel.copy()
        self._compute()

    def _on_edit(self, change) -> None:
        if self._busy:
            return
        self.kernel = np.array([[box.value for box in row] for row in self.controls["grid"]],
                               dtype=np.float64)
        self._busy = True
        try:
            self.controls["preset"].value = "custom"
        finally:
            self._busy = False
        self._compute()

    def set_kernel(self, kernel) -> None:
        """Type a whole kernel into the grid at once (same shape as the grid).

        Examples
        --------
        >>> pg = kernel_playground({"ramp": np.tile(np.arange(8.0), (8, 1))})
        >>> pg.set_kernel(np.full((5, 5), 0.04))          # a 5x5 box blur
        >>> pg.controls["preset"].value, pg.feature_map.shape
        ('custom', (4, 4))
        """
        arr = check_array("kernel", kernel, ndim=2, shape_hint="(kH, kW)")
        shape = (len(self.controls["grid"]), len(self.controls["grid"][0]))
        if arr.shape != shape:
            raise ValueError(f"kernel must have the grid's shape {shape}, got {arr.shape}; "
                             f"choose a preset of that size first")
        self._busy = True
        try:
            for i, row in enumerate(self.controls["grid"]):
                for j, box in enumerate(row):
                    box.value = float(arr[i, j])
            self.controls["preset"].value = "custom"
        finally:
            self._busy = False
        self.kernel = arr.astype(np.float64)
        self._compute()

    # -- state -------------------------------------------------------------------------------
    @property
    def image(self) -> np.ndarray:
        """The chosen image, shape (H, W)."""
        return self._images[self.controls["image"].value]

    @property
    def threshold(self) -> float:
        """The absolute threshold: slider fraction times the largest response."""
        return float(self.controls["threshold"].value) * max(float(self.feature_map.max()), 0.0)

    @property
    def png(self) -> bytes:
        """The current picture as PNG bytes."""
        return self._image.value

    def _compute(self) -> None:
        # valid cross-correlation: (H - kH + 1, W - kW + 1), no padding artefacts at the border
        self.feature_map = correlate2d(self.image, self.kernel)
        self._detect()

    def _detect(self) -> None:
        fm, thr = self.feature_map, self.threshold
        self.detections = (fm >= thr) & (fm > 0)
        n = int(self.detections.sum())
        self._info.value = (f"feature map {fm.shape[0]}×{fm.shape[1]}, responses "
                            f"{fm.min():.3g} … {fm.max():.3g}; threshold {thr:.3g} → "
                            f"<b>{n}</b> detection{'s' if n != 1 else ''}")
        self._draw()

    def _draw(self) -> None:
        img, fm, det, k = self.image, self.feature_map, self.detections, self.kernel
        if self._fig is None:
            self._fig = new_figure(11, 3.4)
            axes = self._fig.subplots(1, 3)
            self._fig.subplots_adjust(left=0.01, right=0.97, bottom=0.03, top=0.9, wspace=0.08)
            self._art = {"axes": axes,
                         "img": axes[0].imshow(img, cmap="gray"),
                         "fm": axes[1].imshow(fm, cmap="RdBu_r"),
                         "under": axes[2].imshow(img, cmap="gray"),
                         "dots": axes[2].scatter([], [], s=14, c="#e8481e", marker="s", alpha=0.8,
                                                 linewidths=0)}
            self._fig.colorbar(self._art["fm"], ax=axes[1], shrink=0.85, pad=0.02)
            axes[1].set_facecolor("#d9d9d9")      # grey: no full window fits there
            for ax in axes:
                ax.set_xticks([])
                ax.set_yticks([])
        a = self._art
        axes = a["axes"]
        for name in ("img", "under"):
            a[name].set_data(img)
            a[name].set_clim(img.min(), img.max() if img.max() > img.min() else img.min() + 1)
            a[name].set_extent((-0.5, img.shape[1] - 0.5, img.shape[0] - 0.5, -0.5))
        # feature-map pixel (i, j) belongs to the window centred on image pixel (i + ch, j + cw)
        ch, cw = (k.shape[0] - 1) / 2, (k.shape[1] - 1) / 2
        lim = centred_limit(fm)
        a["fm"].set_data(fm)
        a["fm"].set_clim(-lim, lim)
        a["fm"].set_extent((cw - 0.5, cw + fm.shape[1] - 0.5, ch + fm.shape[0] - 0.5, ch - 0.5))
        rows, cols = np.nonzero(det)
        a["dots"].set_offsets(np.column_stack([cols + cw, rows + ch]) if len(rows) else
                              np.empty((0, 2)))
        for ax in axes:
            ax.set_xlim(-0.5, img.shape[1] - 0.5)
            ax.set_ylim(img.shape[0] - 0.5, -0.5)
        axes[0].set_title(f"image ({self.controls['image'].value})")
        axes[1].set_title(f"feature map ({self.controls['preset'].value}), 0 = white")
        axes[2].set_title(f"detections: response ≥ {self.threshold:.3g}")
        self._image.value = to_png(self._fig)


def kernel_playground(images: Mapping[str, np.ndarray],
                      kernels: Optional[Mapping[str, np.ndarray]] = None) -> KernelPlayground:
    """Choose or edit a kernel, see its feature map and the thresholded detections.

    The feature map is the valid cross-correlation of the image with the
    kernel (:func:`course_lib.conv.correlate2d`), shown on a diverging scale
    centred on 0; the detections (feature map >= threshold and > 0) are
    overlaid on the image at the centre of their window, like Forsyth's
    figure 17.3. Editing any kernel entry switches the preset to ``custom``.

    Parameters
    ----------
    images : dict of str -> ndarray, shape (H, W)
        Images to choose from (at least 3x3).
    kernels : dict of str -> ndarray, shape (kH, kW), optional
        Presets (at most 9x9, no larger than the smallest image); default
        :func:`preset_kernels` (edge, bar, spot, Gabor).

    Returns
    -------
    KernelPlayground
        An ``ipywidgets.VBox``; read ``.controls``, ``.kernel``, ``.feature_map``,
        ``.detections`` (bool, the feature map's shape) and ``.threshold``.

    Examples
    --------
    >>> img = np.zeros((12, 12)); img[:, 6:] = 1.0          # a vertical step edge
    >>> pg = kernel_playground({"step": img})
    >>> pg.feature_map.shape, pg.detections.shape
    ((8, 8), (8, 8))
    >>> np.unique(np.nonzero(pg.detections)[1] + 2)         # image columns of the detections
    array([4, 5, 6, 7])
    >>> pg.controls["threshold"].value = 0.9                # keep only the strongest responses
    >>> pg.threshold, np.unique(np.nonzero(pg.detections)[1] + 2)
    (9.0, array([5, 6]))
    >>> pg.controls["grid"][0][0].value = 5.0               # edit one entry
    >>> pg.controls["preset"].value, float(pg.kernel[0, 0])
    ('custom', 5.0)
    """
    return KernelPlayground(images, kernels)
