"""Model cells built from Gabor kernels, orientation tuning, and fitting a Gabor to a filter.

Everything here uses the coordinates of :mod:`course_lib.gabor`: x is the
column offset to the right, y the row offset downward, theta is measured from
the +x axis towards +y (clockwise on the screen, because rows point down) and
omega is in radians per pixel.

* Model cells. A *simple cell* is a linear Gabor filter followed by half-wave
  rectification, so it depends on where the stimulus' stripes fall (its
  phase). A *complex cell* is modelled by the energy of a quadrature pair, an
  even (cosine, phi = pi/2) and an odd (sine, phi = 0) Gabor with the same
  envelope: ``even**2 + odd**2`` hardly changes when the stimulus shifts
  (Adelson and Bergen's energy model).
* :func:`orientation_tuning` gives the mean response over the image as a
  function of the filter orientation theta: the orientation tuning curve.
* :func:`fit_gabor` finds the Gabor function closest (least squares) to a
  filter, e.g. a learned first-layer kernel: a grid search over theta, omega
  and the envelope width, with the phase and amplitude solved exactly for each
  grid point, then a refinement of all parameters (including anisotropic
  widths and the centre) with :func:`scipy.optimize.least_squares`. The
  quality of the fit is the fraction of variance explained, R^2.

Responses are cross-correlations (what CNN layers compute) evaluated with
FFTs by :func:`scipy.signal.correlate`; they agree with
:func:`course_lib.conv.correlate2d` (tested).
"""
from __future__ import annotations

import numbers
from typing import Dict, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
from scipy import optimize, signal

from ._checks import as_float, check_array, check_int, check_pair
from .gabor import gabor_kernel

__all__ = ["grating", "quadrature_pair", "gabor_response", "simple_cell_response",
           "complex_cell_response", "orientation_tuning", "tuning_fwhm", "preferred_orientation",
           "gabor_from_params", "GaborFit", "fit_gabor"]

_MODES = ("valid", "same")
_CELLS = ("complex", "simple")


def _real(name: str, value, *, positive: bool = False, nonneg: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"{name} must be a finite real number, got {value!r}; e.g. {name}=1.0")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {name}={value}; pass a positive number")
    if nonneg and value < 0:
        raise ValueError(f"{name} must be >= 0, got {name}={value}; pass a number >= 0")
    return float(value)


def _choice(name: str, value, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {name}={value!r}; "
                         f"e.g. {name}={choices[0]!r}")
    return value


def _image(name: str, image) -> np.ndarray:
    return as_float(check_array(name, image, ndim=2, shape_hint="(H, W)")).astype(np.float64)


def _grid(shape: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (x right, y down) measured from the middle of an (H, W) grid."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    return x - (w - 1) / 2.0, y - (h - 1) / 2.0


def grating(size, theta: float, omega: float, phase: float = 0.0, *,
            contrast: float = 1.0) -> np.ndarray:
    """A sinusoidal grating ``contrast * sin(omega * x~ + phase)``, with x~ from eq. 10.7.

    It is the Gabor function without its envelope, so a Gabor kernel with the
    same theta and omega responds to it most strongly.

    Parameters
    ----------
    size : int or (int, int)
        Height and width in pixels; coordinates are measured from the middle.
    theta : float
        Direction across the stripes (the wave vector), radians from +x towards +y (down).
    omega : float
        Radians per pixel.
    phase : float
        Shifts the stripes; a phase of pi swaps bright and dark.
    contrast : float
        Amplitude of the sinusoid.

    Returns
    -------
    ndarray, shape (H, W), float64

    Examples
    --------
    >>> g = grating(5, theta=0.0, omega=np.pi / 2)
    >>> np.round(g[0], 3)           # varies along x (columns) only
    array([-0., -1.,  0.,  1.,  0.])
    >>> bool(np.allclose(g, g[0]))  # every row is the same: vertical stripes
    True
    """
    h, w = check_pair("size", size, minimum=1)
    theta, omega = _real("theta", theta), _real("omega", omega)
    phase, contrast = _real("phase", phase), _real("contrast", contrast)
    x, y = _grid((h, w))
    xt = x * np.cos(theta) + y * np.sin(theta)
    return contrast * np.sin(omega * xt + phase)


def _envelope(size: int, theta: float, alpha: float, beta: float) -> np.ndarray:
    """The Gaussian window of eq. 10.6 on the kernel grid (peak 1)."""
    x, y = _grid((size, size))
    xt = x * np.cos(theta) + y * np.sin(theta)
    yt = -x * np.sin(theta) + y * np.cos(theta)
    return np.exp(-alpha * xt ** 2 - beta * yt ** 2)


def _remove_mean(kernel: np.ndarray, envelope: np.ndarray) -> np.ndarray:
    """Subtract the multiple of the window that makes the kernel sum to zero.

    Subtracting a multiple of the smooth window (rather than a constant over
    the square) keeps the kernel local, so its response to stripes barely
    changes (the usual correction of Gabor wavelets).
    """
    return kernel - (kernel.sum() / envelope.sum()) * envelope


def quadrature_pair(size: int, theta: float, omega: float, alpha: float, beta: float,
                    amplitude: float = 1.0, *, zero_mean: bool = False) -> np.ndarray:
    """An even (cosine, phi = pi/2) and an odd (sine, phi = 0) Gabor kernel with one envelope.

    Parameters
    ----------
    size : int
        Odd kernel size.
    theta, omega, alpha, beta, amplitude : float
        As in :func:`course_lib.gabor.gabor_kernel`.
    zero_mean : bool
        Make each kernel sum to zero by subtracting a multiple of its Gaussian
        window. The even kernel's positive and negative parts do not cancel
        exactly, so without this it also responds to the mean brightness of
        the patch, not only to its stripes. (The odd kernel sums to zero anyway.)

    Returns
    -------
    ndarray, shape (2, size, size)
        ``[even, odd]``.

    Examples
    --------
    >>> even, odd = quadrature_pair(9, 0.0, 1.0, 0.1, 0.1)
    >>> bool(np.allclose(even, even[:, ::-1])), bool(np.allclose(odd, -odd[:, ::-1]))
    (True, True)
    >>> bool(even.sum() > 1.0)           # the even kernel also sums up brightness...
    True
    >>> abs(float(quadrature_pair(9, 0.0, 1.0, 0.1, 0.1, zero_mean=True)[0].sum())) < 1e-12
    True
    """
    if not isinstance(zero_mean, bool):
        raise TypeError(f"zero_mean must be True or False, got {zero_mean!r}")
    kw = dict(theta=theta, omega=omega, alpha=alpha, beta=beta, amplitude=amplitude)
    pair = np.stack([gabor_kernel(size, phi=np.pi / 2, **kw), gabor_kernel(size, phi=0.0, **kw)])
    if zero_mean:
        env = _envelope(size, theta, alpha, beta)
        pair = np.stack([_remove_mean(k, env) for k in pair])
    return pair


def gabor_response(image, kernel, *, mode: str = "valid") -> np.ndarray:
    """Cross-correlate a 2D image with a 2D kernel (a linear "simple cell" before rectification).

    Parameters
    ----------
    image : array, shape (H, W)
    kernel : array, shape (kH, kW)
    mode : {"valid", "same"}
        ``"valid"``: only positions where the kernel fits, shape (H - kH + 1, W - kW + 1);
        ``"same"``: zero padding, shape (H, W).

    Returns
    -------
    ndarray, float64

    Examples
    --------
    >>> img = np.zeros((5, 5)); img[:, 3:] = 1.0          # a vertical edge
    >>> gabor_response(img, np.array([[-1.0, 1.0]]))[0]   # big where the edge is
    array([0., 0., 1., 0.])
    """
    image, kernel = _image("image", image), _image("kernel", kernel)
    mode = _choice("mode", mode, _MODES)
    if mode == "valid" and (kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]):
        raise ValueError(f"kernel {kernel.shape} is larger than image {image.shape}, so no valid "
                         f"position exists; use mode='same' or a smaller kernel")
    return signal.correlate(image, kernel, mode=mode, method="auto")


def simple_cell_response(image, kernel, *, mode: str = "valid", threshold: float = 0.0) -> np.ndarray:
    """Model simple cell: the linear Gabor response, half-wave rectified, ``max(r - threshold, 0)``.

    Parameters
    ----------
    image : array, shape (H, W)
    kernel : array, shape (kH, kW)
    mode : {"valid", "same"}
    threshold : float
        Responses below it are set to zero (a negative bias followed by ReLU).

    Returns
    -------
    ndarray, float64, >= 0

    Examples
    --------
    >>> img = np.zeros((5, 5)); img[:, 3:] = 1.0
    >>> simple_cell_response(img, np.array([[1.0, -1.0]]))[0]   # wrong polarity: silent
    array([0., 0., 0., 0.])
    """
    threshold = _real("threshold", threshold)
    return np.maximum(gabor_response(image, kernel, mode=mode) - threshold, 0.0)


def complex_cell_response(image, theta: float, omega: float, *, size: int, alpha: float,
                          beta: float, mode: str = "valid", zero_mean: bool = False) -> np.ndarray:
    """Model complex cell: energy ``even**2 + odd**2`` of a quadrature pair of Gabor kernels.

    Parameters
    ----------
    image : array, shape (H, W)
    theta, omega : float
        Orientation and frequency of the pair.
    size : int
        Odd kernel size.
    alpha, beta : float
        Envelope decay rates.
    mode : {"valid", "same"}
    zero_mean : bool
        Use zero-sum kernels, so the cell responds to contrast and not to the
        mean brightness (use it on photographs); see :func:`quadrature_pair`.
        The correction shrinks the even kernel's gain a little when
        omega * sigma is small, so the energy is then less phase invariant.

    Returns
    -------
    ndarray, float64, >= 0

    Examples
    --------
    >>> img = grating(41, 0.0, 0.8)
    >>> e = complex_cell_response(img, 0.0, 0.8, size=21, alpha=0.02, beta=0.02)
    >>> e.shape, bool(e.std() < 0.02 * e.mean())     # nearly flat: position does not matter
    ((21, 21), True)
    """
    even, odd = quadrature_pair(size, theta, omega, alpha, beta, zero_mean=zero_mean)
    return gabor_response(image, even, mode=mode) ** 2 + gabor_response(image, odd, mode=mode) ** 2


def orientation_tuning(stimulus, thetas: Sequence[float], *, size: int, omega: float,
                       alpha: float, beta: float, cell: str = "complex", phi: float = 0.0,
                       normalize: bool = False, zero_mean: bool = False) -> np.ndarray:
    """Mean response of a model cell over the stimulus, for each filter orientation theta.

    Parameters
    ----------
    stimulus : array, shape (H, W)
        A grating, a photograph, a digit... at least ``size x size``. With
        exactly ``size x size`` the cell looks at one position (the middle).
    thetas : sequence of float
        Filter orientations to try (radians).
    size : int
        Odd kernel size.
    omega, alpha, beta : float
        Frequency and envelope of the Gabor kernels.
    cell : {"complex", "simple"}
        ``"complex"``: mean quadrature energy (:func:`complex_cell_response`);
        ``"simple"``: mean squared rectified response of the kernel with phase ``phi``.
    phi : float
        Phase of the simple cell's kernel (ignored for complex cells).
    normalize : bool
        Divide by the largest value so the curve peaks at 1.
    zero_mean : bool
        Make every kernel sum to zero (see :func:`quadrature_pair`), so mean
        brightness, which is the same for every theta, does not flatten the
        curve of a photograph. Off by default: the pure Gabor of eq. 10.6.

    Returns
    -------
    ndarray, shape (len(thetas),)

    Examples
    --------
    >>> stim = grating(41, theta=np.pi / 4, omega=0.8)
    >>> thetas = np.linspace(0, np.pi, 8, endpoint=False)
    >>> curve = orientation_tuning(stim, thetas, size=21, omega=0.8, alpha=0.02, beta=0.02)
    >>> int(np.argmax(curve)), float(thetas[np.argmax(curve)])   # pi / 4 wins
    (2, 0.7853981633974483)
    """
    stimulus = _image("stimulus", stimulus)
    thetas = np.asarray(check_array("thetas", thetas, ndim=1), dtype=np.float64)
    if thetas.size == 0:
        raise ValueError("thetas must hold at least one angle, got an empty sequence; "
                         "pass e.g. thetas=np.linspace(0, np.pi, 16, endpoint=False)")
    size = check_int("size", size, minimum=1)
    if size > min(stimulus.shape):
        raise ValueError(f"size must be at most the stimulus' smaller side {min(stimulus.shape)}, "
                         f"got size={size}; use a smaller kernel or a larger stimulus")
    cell = _choice("cell", cell, _CELLS)
    omega, phi = _real("omega", omega), _real("phi", phi)
    if not isinstance(zero_mean, bool):
        raise TypeError(f"zero_mean must be True or False, got {zero_mean!r}")
    out = np.empty(len(thetas))
    for i, t in enumerate(thetas):
        if cell == "complex":
            r = complex_cell_response(stimulus, float(t), omega, size=size, alpha=alpha, beta=beta,
                                      zero_mean=zero_mean)
        else:
            k = gabor_kernel(size, float(t), omega, phi, alpha, beta)
            k = _remove_mean(k, _envelope(size, float(t), alpha, beta)) if zero_mean else k
            r = simple_cell_response(stimulus, k) ** 2
        out[i] = r.mean()
    if normalize:
        top = out.max()
        out = out / top if top > 0 else out
    return out


def tuning_fwhm(thetas: Sequence[float], curve: Sequence[float], *, period: float = np.pi) -> float:
    """Full width at half maximum of a periodic tuning curve, in the units of ``thetas``.

    The curve is sampled at increasing, evenly spaced ``thetas`` covering one
    period; the width is measured around the peak with linear interpolation.

    Parameters
    ----------
    thetas : sequence of float, shape (n,)
    curve : sequence of float, shape (n,)
        Responses (>= 0), e.g. from :func:`orientation_tuning`.
    period : float
        pi for orientation (theta and theta + pi are the same stripes).

    Returns
    -------
    float
        ``period`` when the curve never falls below half its maximum.

    Examples
    --------
    >>> th = np.linspace(0, np.pi, 180, endpoint=False)
    >>> curve = np.exp(-0.5 * ((th - 1.0) / 0.1) ** 2)     # Gaussian, sd 0.1
    >>> round(tuning_fwhm(th, curve), 2)                   # 2 sqrt(2 ln 2) * 0.1 = 0.235
    0.24
    """
    th = np.asarray(check_array("thetas", thetas, ndim=1), dtype=np.float64)
    c = np.asarray(check_array("curve", curve, ndim=1), dtype=np.float64)
    if th.shape != c.shape or th.size < 3:
        raise ValueError(f"thetas and curve must have the same length (>= 3), got {th.size} and "
                         f"{c.size}; pass the angles and the responses measured at them")
    period = _real("period", period, positive=True)
    step = period / th.size
    top = int(np.argmax(c))
    half = c[top] / 2.0
    n = th.size

    def walk(direction: int) -> float:
        for j in range(1, n):
            i0, i1 = (top + (j - 1) * direction) % n, (top + j * direction) % n
            if c[i1] < half:    # crossed between i0 and i1
                frac = (c[i0] - half) / (c[i0] - c[i1])
                return (j - 1 + frac) * step
        return period / 2.0
    return float(min(walk(+1) + walk(-1), period))


def preferred_orientation(kernel) -> float:
    """Orientation theta in [0, pi) of a filter's strongest Fourier component (not the mean).

    The kernel is zero-padded to 64 x 64 before the FFT for a finer answer.
    Blob-like kernels (a strong mean and little oscillation) have no clear
    orientation; the answer is then the direction of their elongation at best.

    Parameters
    ----------
    kernel : array, shape (kH, kW)

    Returns
    -------
    float

    Examples
    --------
    >>> k = gabor_kernel(11, theta=0.6, omega=1.2, alpha=0.05, beta=0.05)
    >>> round(preferred_orientation(k), 1)
    0.6
    """
    kernel = _image("kernel", kernel)
    n = max(64, 4 * max(kernel.shape))
    spec = np.abs(np.fft.fft2(kernel - kernel.mean(), s=(n, n)))
    spec[0, 0] = 0.0
    ky_i, kx_i = np.unravel_index(int(np.argmax(spec)), spec.shape)
    freqs = 2 * np.pi * np.fft.fftfreq(n)
    return float(np.arctan2(freqs[ky_i], freqs[kx_i]) % np.pi)


# ----------------------------------------------------------------------------- fitting

_PARAM_KEYS = ("amplitude", "theta", "omega", "phi", "alpha", "beta", "x0", "y0")


def gabor_from_params(shape, params: Dict[str, float]) -> np.ndarray:
    """Evaluate eq. 10.6-10.8 on an (H, W) pixel grid, centre (x0, y0) measured from the middle.

    Parameters
    ----------
    shape : int or (int, int)
        Grid size; even sizes are allowed (the middle then falls between pixels).
    params : dict
        ``amplitude, theta, omega, phi, alpha, beta`` and optionally ``x0, y0``
        (default 0), e.g. the ``params`` of a :class:`GaborFit`.

    Returns
    -------
    ndarray, shape (H, W)

    Examples
    --------
    >>> p = dict(amplitude=1.0, theta=0.3, omega=0.9, phi=0.2, alpha=0.1, beta=0.05)
    >>> bool(np.allclose(gabor_from_params(7, p), gabor_kernel(7, 0.3, 0.9, 0.2, 0.1, 0.05)))
    True
    """
    h, w = check_pair("shape", shape, minimum=1)
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict, got {type(params).__name__}; pass e.g. "
                        f"dict(amplitude=1, theta=0, omega=1, phi=0, alpha=0.1, beta=0.1)")
    missing = [k for k in _PARAM_KEYS[:6] if k not in params]
    if missing:
        raise ValueError(f"params lacks {missing}; it needs amplitude, theta, omega, phi, alpha, "
                         f"beta (and optionally x0, y0)")
    p = {k: _real(f"params['{k}']", params.get(k, 0.0)) for k in _PARAM_KEYS}
    return _gabor_eval(_grid((h, w)), p["amplitude"], p["theta"], p["omega"], p["phi"],
                       p["alpha"], p["beta"], p["x0"], p["y0"])


def _gabor_eval(grid, amplitude, theta, omega, phi, alpha, beta, x0, y0) -> np.ndarray:
    x, y = grid
    xs, ys = x - x0, y - y0
    xt = xs * np.cos(theta) + ys * np.sin(theta)      # eq. 10.7
    yt = -xs * np.sin(theta) + ys * np.cos(theta)     # eq. 10.8
    return amplitude * np.exp(-alpha * xt ** 2 - beta * yt ** 2) * np.sin(omega * xt + phi)


class GaborFit(NamedTuple):
    """Result of :func:`fit_gabor`; unpack as ``params, fitted, r2 = fit``.

    Attributes
    ----------
    params : dict
        ``amplitude`` (>= 0), ``theta`` in [0, pi), ``omega`` (rad/pixel, >= 0),
        ``phi`` in (-pi, pi], ``alpha``, ``beta``, ``sigma_x``, ``sigma_y``
        (alpha = 1 / (2 sigma_x^2)), ``x0``, ``y0`` (centre offset in pixels from
        the middle) and, for multichannel kernels, ``colour`` (unit vector, shape (C,)).
    fitted : ndarray
        The fitted Gabor, same shape as the kernel.
    r2 : float
        Fraction of the kernel's variance explained, 1 - SSE / sum((k - mean k)^2).
    """
    params: Dict[str, Union[float, np.ndarray]]
    fitted: np.ndarray
    r2: float


def _default_grid(kh: int, kw: int):
    side = max(kh, kw)
    thetas = np.arange(16) * np.pi / 16
    omegas = np.linspace(0.0, np.pi, 13)
    sigmas = np.geomspace(0.5, max(1.0, side), 8)
    return thetas, omegas, sigmas


def _grid_search(v: np.ndarray, grid, thetas, omegas, sigmas):
    """Best (theta, omega, sigma) with a, b solved exactly: v ~ env * (a sin + b cos)."""
    x, y = grid
    T, O, S = np.meshgrid(thetas, omegas, sigmas, indexing="ij")
    T, O, S = T.ravel()[:, None, None], O.ravel()[:, None, None], S.ravel()[:, None, None]
    xt = x * np.cos(T) + y * np.sin(T)
    yt = -x * np.sin(T) + y * np.cos(T)
    env = np.exp(-(xt ** 2 + yt ** 2) / (2 * S ** 2))
    gs = (env * np.sin(O * xt)).reshape(len(T), -1)
    gc = (env * np.cos(O * xt)).reshape(len(T), -1)
    vv = v.ravel()
    ss, cc, sc = (gs * gs).sum(1), (gc * gc).sum(1), (gs * gc).sum(1)
    vs, vc = gs @ vv, gc @ vv
    det = ss * cc - sc ** 2
    ok = det > 1e-10 * (ss * cc + 1e-300)
    a = np.where(ok, (cc * vs - sc * vc) / np.where(ok, det, 1.0), 0.0)
    b = np.where(ok, (ss * vc - sc * vs) / np.where(ok, det, 1.0), vc / np.maximum(cc, 1e-300))
    explained = a * vs + b * vc      # reduction of the squared error
    best = int(np.argmax(explained))
    return dict(theta=float(T.ravel()[best]), omega=float(O.ravel()[best]),
                sigma=float(S.ravel()[best]), a=float(a[best]), b=float(b[best]))


def _model(p, grid):
    a, b, theta, omega, lsx, lsy, x0, y0 = p
    x, y = grid
    xs, ys = x - x0, y - y0
    xt = xs * np.cos(theta) + ys * np.sin(theta)
    yt = -xs * np.sin(theta) + ys * np.cos(theta)
    env = np.exp(-xt ** 2 / (2 * np.exp(2 * lsx)) - yt ** 2 / (2 * np.exp(2 * lsy)))
    return env * (a * np.sin(omega * xt) + b * np.cos(omega * xt))


def _model_jac(p, grid):
    """Analytic Jacobian of :func:`_model` with respect to its 8 parameters, shape (H*W, 8)."""
    a, b, theta, omega, lsx, lsy, x0, y0 = p
    x, y = grid
    c, s = np.cos(theta), np.sin(theta)
    xs, ys = x - x0, y - y0
    xt, yt = xs * c + ys * s, -xs * s + ys * c
    isx2, isy2 = np.exp(-2 * lsx), np.exp(-2 * lsy)
    env = np.exp(-0.5 * xt ** 2 * isx2 - 0.5 * yt ** 2 * isy2)
    sn, cs = np.sin(omega * xt), np.cos(omega * xt)
    carr = a * sn + b * cs
    dcarr = a * cs - b * sn                                  # d carr / d(omega xt)
    d_xt = env * (omega * dcarr - carr * xt * isx2)          # dM / d xt
    d_yt = -env * carr * yt * isy2                           # dM / d yt
    cols = [env * sn, env * cs,
            d_xt * yt - d_yt * xt,                           # theta: d xt = yt, d yt = -xt
            env * xt * dcarr,                                # omega
            env * carr * xt ** 2 * isx2,                     # log sigma_x
            env * carr * yt ** 2 * isy2,                     # log sigma_y
            -d_xt * c + d_yt * s,                            # x0
            -d_xt * s - d_yt * c]                            # y0
    return np.stack([col.ravel() for col in cols], axis=1)


def _check_grid_values(name: str, values, *, nonneg: bool = False, positive: bool = False):
    arr = np.asarray(check_array(name, values, ndim=1), dtype=np.float64)
    if arr.size == 0 or not np.isfinite(arr).all():
        raise ValueError(f"{name} must be a non-empty sequence of finite numbers, got {values!r}")
    if positive and (arr <= 0).any():
        raise ValueError(f"{name} must all be > 0, got {arr}; widths are in pixels")
    if nonneg and (arr < 0).any():
        raise ValueError(f"{name} must all be >= 0, got {arr}")
    return arr


def fit_gabor(kernel, *, thetas: Optional[Sequence[float]] = None,
              omegas: Optional[Sequence[float]] = None, sigmas: Optional[Sequence[float]] = None,
              refine: bool = True) -> GaborFit:
    """The Gabor function nearest (least squares) to a filter, and how much of it that explains.

    Step 1, a grid search over orientation ``thetas``, frequency ``omegas`` and
    isotropic envelope width ``sigmas`` (alpha = beta = 1 / (2 sigma^2)). For
    each grid point the phase and amplitude are solved exactly, because
    ``A sin(w x~ + phi) = a sin(w x~) + b cos(w x~)`` is linear in (a, b).
    Step 2 (``refine=True``), :func:`scipy.optimize.least_squares` refines all
    parameters from the best grid point, with separate widths along and across
    the stripes and a free centre (x0, y0).

    A multichannel kernel (C, kH, kW), e.g. an RGB first-layer filter, is
    first split into a colour vector times one spatial map (its best rank-one
    approximation, from the SVD of the C x (kH kW) matrix); the Gabor is fitted
    to the spatial map and ``fitted`` is the colour vector times that Gabor, so
    R^2 counts the colour part too.

    Parameters
    ----------
    kernel : array, shape (kH, kW) or (C, kH, kW)
        Not constant (there would be no variance to explain).
    thetas, omegas, sigmas : sequence of float, optional
        Grid values. Defaults: 16 orientations in [0, pi), 13 frequencies from 0
        to pi rad/pixel, 8 widths from 0.5 to max(kH, kW) pixels (geometric).
    refine : bool
        Run step 2 (on by default).

    Returns
    -------
    GaborFit
        ``params, fitted, r2``.

    Examples
    --------
    >>> true = gabor_kernel(9, theta=1.0, omega=1.2, phi=0.5, alpha=0.08, beta=0.08)
    >>> params, fitted, r2 = fit_gabor(true)
    >>> round(params["theta"], 3), round(params["omega"], 3), round(params["phi"], 3), round(r2, 6)
    (1.0, 1.2, 0.5, 1.0)
    """
    k = as_float(check_array("kernel", kernel, ndim=(2, 3), shape_hint="(kH, kW) or (C, kH, kW)"))
    k = np.asarray(k, dtype=np.float64)
    if not np.isfinite(k).all():
        raise ValueError("kernel holds NaN or infinite values; fit a finite filter")
    sst = float(((k - k.mean()) ** 2).sum())
    if sst <= 1e-300:
        raise ValueError(f"kernel is constant (every value {float(k.flat[0])!r}), so there is no "
                         f"variance to explain; pass a filter with some structure")
    if not isinstance(refine, bool):
        raise TypeError(f"refine must be True or False, got {refine!r}")
    kh, kw = k.shape[-2:]
    d_t, d_o, d_s = _default_grid(kh, kw)
    thetas = d_t if thetas is None else _check_grid_values("thetas", thetas)
    omegas = d_o if omegas is None else _check_grid_values("omegas", omegas, nonneg=True)
    sigmas = d_s if sigmas is None else _check_grid_values("sigmas", sigmas, positive=True)

    colour = None
    if k.ndim == 3:
        c = k.shape[0]
        u, s, vt = np.linalg.svd(k.reshape(c, -1), full_matrices=False)
        colour, spatial = u[:, 0], s[0] * vt[0].reshape(kh, kw)
        if colour.sum() < 0:         # resolve the SVD's sign: colour mostly positive
            colour, spatial = -colour, -spatial
    else:
        spatial = k
    grid = _grid((kh, kw))
    g = _grid_search(spatial, grid, thetas, omegas, sigmas)
    lsig = np.log(g["sigma"])
    p0 = np.array([g["a"], g["b"], g["theta"], g["omega"], lsig, lsig, 0.0, 0.0])
    p = p0
    if refine:
        side = max(kh, kw)
        lo = np.array([-np.inf, -np.inf, -np.inf, 0.0, np.log(0.3), np.log(0.3), -kw / 2, -kh / 2])
        hi = np.array([np.inf, np.inf, np.inf, np.pi, np.log(3.0 * side), np.log(3.0 * side),
                       kw / 2, kh / 2])
        p0c = np.clip(p0, lo + 1e-9, hi - 1e-9)
        res = optimize.least_squares(lambda q: (_model(q, grid) - spatial).ravel(), p0c,
                                     jac=lambda q: _model_jac(q, grid), bounds=(lo, hi),
                                     method="trf", x_scale="jac", max_nfev=200, ftol=1e-7, xtol=1e-7)
        sse0 = float(((_model(p0, grid) - spatial) ** 2).sum())
        if float((res.fun ** 2).sum()) <= sse0:
            p = res.x
    a, b, theta, omega, lsx, lsy, x0, y0 = (float(v) for v in p)
    # Canonical form: theta in [0, pi); theta + pi is the same filter with x~ -> -x~ (a -> -a).
    turns = int(np.floor(theta / np.pi))
    theta -= turns * np.pi
    if turns % 2:
        a = -a
    amplitude, phi = float(np.hypot(a, b)), float(np.arctan2(b, a))
    sx, sy = float(np.exp(lsx)), float(np.exp(lsy))
    params: Dict[str, Union[float, np.ndarray]] = dict(
        amplitude=amplitude, theta=theta, omega=omega, phi=phi,
        alpha=1.0 / (2 * sx ** 2), beta=1.0 / (2 * sy ** 2), sigma_x=sx, sigma_y=sy, x0=x0, y0=y0)
    fitted = _model(p, grid)
    if colour is not None:
        params["colour"] = colour
        fitted = colour[:, None, None] * fitted[None]
    r2 = 1.0 - float(((k - fitted) ** 2).sum()) / sst
    return GaborFit(params, fitted, r2)
