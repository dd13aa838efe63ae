"""The Gabor explorer: Bishop's Gabor parameters, the kernel, its response, its tuning.

Uses :func:`course_lib.gabor.gabor_kernel` / :func:`course_lib.gabor.gabor_bank`
(Bishop eq. 10.6-10.8, pixel units) and :func:`course_lib.conv.conv2d`.
"""
from __future__ import annotations

import numbers
from typing import Dict, Tuple

import numpy as np
import ipywidgets as widgets

from .._checks import check_array, check_int
from ..conv import conv2d, correlate2d
from ..gabor import gabor_bank, gabor_kernel
from ._render import centred_limit, new_figure, to_png

__all__ = ["GaborExplorer", "gabor_explorer", "orientation_tuning", "grating"]

N_THETA = 36    # tuning-curve samples over [0, pi)
RANGES = {"theta": (0.0, np.pi), "omega": (0.1, 3.0), "phi": (-np.pi, np.pi),
          "alpha": (1e-3, 1.0), "beta": (1e-3, 1.0)}


def grating(shape: Tuple[int, int], omega: float, theta: float = 0.0) -> np.ndarray:
    """A sinusoidal grating ``sin(omega * x~)`` on ``shape`` pixels (x~ as in Bishop eq. 10.7).

    Examples
    --------
    >>> g = grating((4, 4), np.pi / 2)
    >>> np.round(g[0], 6) + 0.0            # theta = 0 varies along columns only
    array([ 0., -1.,  0.,  1.])
    """
    h, w = (check_int("shape[0]", shape[0], minimum=1), check_int("shape[1]", shape[1], minimum=1))
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    y, x = y - h // 2, x - w // 2
    return np.sin(omega * (x * np.cos(theta) + y * np.sin(theta)))


def orientation_tuning(pattern: np.ndarray, size: int, omega: float, phi: float, alpha: float,
                       beta: float, n_theta: int = N_THETA) -> Tuple[np.ndarray, np.ndarray]:
    """Response energy of Gabor filters at ``n_theta`` orientations on one pattern.

    Energy = mean over positions of the squared (valid) response.

    Parameters
    ----------
    pattern : ndarray, shape (H, W)
    size, omega, phi, alpha, beta
        As in :func:`course_lib.gabor.gabor_kernel`.
    n_theta : int
        Orientations ``theta = pi * i / n_theta``, i = 0..n_theta-1.

    Returns
    -------
    thetas, energies : ndarray, shape (n_theta,)

    Examples
    --------
    >>> t, e = orientation_tuning(grating((32, 32), 1.0), 9, 1.0, 0.0, 0.1, 0.1, n_theta=4)
    >>> np.round(t, 3), int(np.argmax(e))        # peaks at the grating's orientation
    (array([0.   , 0.785, 1.571, 2.356]), 0)
    """
    pattern = check_array("pattern", pattern, ndim=2, shape_hint="(H, W)")
    n_theta = check_int("n_theta", n_theta, minimum=1)
    thetas = np.pi * np.arange(n_theta) / n_theta
    bank = gabor_bank(size, thetas, [omega], phi=phi, alpha=alpha, beta=beta)   # (T, 1, k, k)
    responses = conv2d(pattern[None, None].astype(np.float64), bank)[0]          # (T, H', W')
    return thetas, (responses ** 2).mean(axis=(1, 2))


class GaborExplorer(widgets.VBox):
    """Live Gabor explorer (see :func:`gabor_explorer`).

    Attributes
    ----------
    controls : dict of str -> ipywidgets.Widget
        ``theta, omega, phi`` (FloatSliders), ``alpha, beta`` (FloatLogSliders),
        ``size`` (odd IntSlider) and ``pattern`` (ToggleButtons: tuning on the
        image or on a grating).
    """

    def __init__(self, image: np.ndarray, size: int = 15, **initial: float | str):
        self._img = check_array("image", image, ndim=2, shape_hint="(H, W)").astype(np.float64)
        size = check_int("size", size, minimum=3)
        if size % 2 == 0:
            raise ValueError(f"size must be odd, got size={size}; use size={size + 1}")
        if size > min(self._img.shape):
            raise ValueError(f"size={size} is larger than the image {self._img.shape}; use "
                             f"size <= {min(self._img.shape) - (min(self._img.shape) + 1) % 2}")
        unknown = sorted(set(initial) - {"theta", "omega", "phi", "alpha", "beta", "pattern"})
        if unknown:
            raise TypeError(f"unknown setting {unknown[0]!r}; gabor_explorer accepts theta, "
                            f"omega, phi, alpha, beta, pattern")
        v = {"theta": 0.0, "omega": 0.8, "phi": 0.0, "alpha": 0.05, "beta": 0.05, "pattern": "image"}
        v.update(initial)
        for name, (lo, hi) in RANGES.items():
            value = v[name]
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{name} must be a real number, got {value!r}; e.g. {name}={lo}")
            if not lo <= value <= hi:
                raise ValueError(f"{name} must be between {lo:.3g} and {hi:.3g} (the slider's "
                                 f"range), got {name}={value}; pick a value in that range")
        if v["pattern"] not in ("image", "grating"):
            raise ValueError(f"pattern must be 'image' or 'grating', got pattern={v['pattern']!r}")
        style = {"description_width": "60px"}
        lay = widgets.Layout(width="330px")

        def slider(name, step, symbol, fmt=".2f"):
            lo, hi = RANGES[name]
            return widgets.FloatSlider(value=v[name], min=lo, max=hi, step=step, description=symbol,
                                       readout_format=fmt, style=style, layout=lay)

        def log_slider(name, symbol):      # alpha, beta span three decades: 1e-3 .. 1
            return widgets.FloatLogSlider(value=v[name], base=10, min=-3, max=0, step=0.05,
                                          description=symbol, readout_format=".3f", style=style,
                                          layout=lay)

        self.controls: Dict[str, widgets.Widget] = {
            "theta": slider("theta", np.pi / 36, "θ"),
            "omega": slider("omega", 0.05, "ω"),
            "phi": slider("phi", np.pi / 12, "φ"),
            "alpha": log_slider("alpha", "α"),
            "beta": log_slider("beta", "β"),
            "size": widgets.IntSlider(value=size, min=3, max=max(size, min(31, min(self._img.shape))),
                                      step=2, description="size", style=style, layout=lay),
            "pattern": widgets.ToggleButtons(options=["image", "grating"], value=v["pattern"],
                                             description="tuning on", style=style),
        }
        self._image = widgets.Image(format="png")
        c = self.controls
        for name, w in c.items():
            w.observe(self._on_change, names="value")
        super().__init__([widgets.HBox([widgets.VBox([c["theta"], c["omega"], c["phi"]]),
                                        widgets.VBox([c["alpha"], c["beta"], c["size"]])]),
                          c["pattern"], self._image])
        self._tuning_key = None
        self._fig = None
        self._update()

    def _params(self) -> dict:
        c = self.controls
        return {name: float(c[name].value) for name in ("theta", "omega", "phi", "alpha", "beta")}

    @property
    def image(self) -> np.ndarray:
        """The image the filter is applied to."""
        return self._img

    @property
    def png(self) -> bytes:
        """The current picture as PNG bytes."""
        return self._image.value

    def _on_change(self, change) -> None:
        self._update()

    def _update(self) -> None:
        c, p = self.controls, self._params()
        size = int(c["size"].value)
        self.kernel = gabor_kernel(size, **p)
        self.response = correlate2d(self._img, self.kernel)
        # the tuning curve does not depend on theta: recompute only when something else moved
        key = (size, p["omega"], p["phi"], p["alpha"], p["beta"], c["pattern"].value)
        if key != self._tuning_key:
            pattern = self._img if c["pattern"].value == "image" else grating(self._img.shape, p["omega"])
            self.tuning = orientation_tuning(pattern, size, p["omega"], p["phi"], p["alpha"], p["beta"])
            self._tuning_key = key
        self._draw()

    def _draw(self) -> None:
        p = self._params()
        thetas, energy = self.tuning
        if self._fig is None:
            self._fig = new_figure(12, 3.2)
            axes = self._fig.subplots(1, 4, width_ratios=[1, 1, 1, 1.4])
            self._fig.subplots_adjust(left=0.01, right=0.99, bottom=0.17, top=0.9, wspace=0.12)
            self._art = {"axes": axes,
                         "img": axes[0].imshow(self._img, cmap="gray"),
                         "kernel": axes[1].imshow(self.kernel, cmap="RdBu_r"),
                         "response": axes[2].imshow(self.response, cmap="RdBu_r"),
                         "curve": axes[3].plot([], [], color="#b5530c")[0],
                         "now": axes[3].axvline(0.0, color="#2166ac", linestyle="--")}
            axes[0].set_title("image")
            axes[2].set_title("response (0 = white)")
            for ax in axes[:3]:
                ax.set_xticks([])
                ax.set_yticks([])
            ax = axes[3]
            ax.set_xlabel("θ (degrees)")
            ax.set_xlim(0, 180)
            ax.set_xticks([0, 45, 90, 135, 180])
            ax.set_yticks([])
            ax.set_ylabel("response energy")
        a = self._art
        k, r = self.kernel, self.response
        for name, arr in (("kernel", k), ("response", r)):
            lim = centred_limit(arr)
            a[name].set_data(arr)
            a[name].set_clim(-lim, lim)
            a[name].set_extent((-0.5, arr.shape[1] - 0.5, arr.shape[0] - 0.5, -0.5))
        a["axes"][1].set_title(f"kernel {k.shape[0]}×{k.shape[1]}")
        a["curve"].set_data(np.degrees(np.append(thetas, np.pi)), np.append(energy, energy[0]))
        a["now"].set_xdata([np.degrees(p["theta"])] * 2)
        top = float(energy.max()) if energy.max() > 0 else 1.0
        a["axes"][3].set_ylim(0, 1.08 * top)
        a["axes"][3].set_title(f"tuning on the {self.controls['pattern'].value} (dashed: θ now)")
        self._image.value = to_png(self._fig)


def gabor_explorer(image: np.ndarray, size: int = 15, **initial: float | str) -> GaborExplorer:
    """Sliders for Bishop's Gabor filter: the kernel, its response and its orientation tuning.

    Parameters
    ----------
    image : ndarray, shape (H, W)
        The image to filter (at least ``size`` pixels each way).
    size : int
        Odd kernel size (also a slider).
    **initial
        Starting ``theta, omega, phi, alpha, beta`` (see
        :func:`course_lib.gabor.gabor_kernel`) and ``pattern`` (``'image'`` or
        ``'grating'``: what the tuning curve is measured on).

    Returns
    -------
    GaborExplorer
        An ``ipywidgets.VBox``; read ``.controls``, ``.kernel``, ``.response``
        (valid cross-correlation) and ``.tuning`` (thetas, energies).

    Examples
    --------
    >>> ex = gabor_explorer(grating((40, 40), 0.8), size=11)
    >>> ex.kernel.shape, ex.response.shape
    ((11, 11), (30, 30))
    >>> thetas, energy = ex.tuning
    >>> float(thetas[np.argmax(energy)])       # tuned to the grating's orientation
    0.0
    >>> before = np.abs(ex.response).max()
    >>> ex.controls["theta"].value = np.pi / 2           # orthogonal to the stripes
    >>> bool(np.abs(ex.response).max() < 0.1 * before)
    True
    """
    return GaborExplorer(image, size=size, **initial)
