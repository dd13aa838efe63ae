"""Gabor filters (Bishop & Bishop, eq. 10.6-10.8), the model of V1 simple cells.

    G(x, y) = A exp(-alpha x~^2 - beta y~^2) sin(omega x~ + phi)
    x~ =  (x - x0) cos(theta) + (y - y0) sin(theta)
    y~ = -(x - x0) sin(theta) + (y - y0) cos(theta)

:func:`gabor_kernel` samples G on a size x size grid in *pixel units*: x is the
column offset from the middle pixel (to the right), y the row offset
(downward), x0 = y0 = 0. So theta = 0 gives stripes that vary along x
(vertical bars, a vertical-edge detector), and omega is in radians per pixel.

Other libraries' parameterisations
----------------------------------
* scikit-image, ``skimage.filters.gabor_kernel(frequency, theta, sigma_x=sx, sigma_y=sy, offset)``
  returns a complex kernel on the same grid (rows down, columns right); its
  imaginary part equals ``gabor_kernel(size, theta, omega=2*pi*frequency, phi=offset,
  alpha=1/(2 sx^2), beta=1/(2 sy^2), amplitude=1/(2 pi sx sy))`` (tested).
* OpenCV, ``cv2.getGaborKernel(ksize, sigma, theta, lambd, gamma, psi)`` uses a
  cosine and stores the kernel rotated by 180 degrees, which amounts to
  omega = 2 pi / lambd, alpha = 1 / (2 sigma^2), beta = gamma^2 / (2 sigma^2),
  phi = pi/2 - psi, amplitude = 1.
"""
from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np

from ._checks import check_int

__all__ = ["gabor_kernel", "gabor_bank", "bishop_gabor_bank"]


def _check_real(name: str, value, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise TypeError(f"{name} must be a finite real number, got {value!r}; e.g. {name}=1.0")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {name}={value}; a positive decay rate keeps "
                         f"the envelope local")
    return float(value)


def gabor_kernel(size: int, theta: float = 0.0, omega: float = 1.0, phi: float = 0.0,
                 alpha: float = 1.0, beta: float = 1.0, amplitude: float = 1.0) -> np.ndarray:
    """Sample Bishop's Gabor function (eq. 10.6-10.8) on a ``size x size`` pixel grid.

    Parameters
    ----------
    size : int
        Odd grid size, so there is a middle pixel (x0 = y0 = 0 there).
    theta : float
        Orientation in radians: the direction (from the +x axis, rows pointing
        down) along which the sinusoid oscillates.
    omega : float
        Angular frequency in radians per pixel.
    phi : float
        Phase; 0 gives an odd (edge-like) filter, pi/2 an even (bar-like) one.
    alpha, beta : float
        Envelope decay along x~ and y~ (> 0, in 1/pixel^2).
    amplitude : float
        A in eq. 10.6.

    Returns
    -------
    ndarray, shape (size, size), float64

    Examples
    --------
    >>> k = gabor_kernel(5, theta=0.0, omega=1.0, alpha=0.1, beta=0.1)
    >>> k.shape, float(k[2, 2])
    ((5, 5), 0.0)
    >>> bool(k[2, 3] > 0 > k[2, 1])      # odd along x: positive right of the centre
    True
    """
    size = check_int("size", size, minimum=1)
    if size % 2 == 0:
        raise ValueError(f"size must be odd so the grid has a middle pixel, got size={size}; "
                         f"use size={size + 1}")
    theta = _check_real("theta", theta)
    omega = _check_real("omega", omega)
    phi = _check_real("phi", phi)
    alpha = _check_real("alpha", alpha, positive=True)
    beta = _check_real("beta", beta, positive=True)
    amplitude = _check_real("amplitude", amplitude)

    half = size // 2
    y, x = np.mgrid[-half:half + 1, -half:half + 1].astype(np.float64)  # rows down, cols right
    xt = x * np.cos(theta) + y * np.sin(theta)      # eq. 10.7
    yt = -x * np.sin(theta) + y * np.cos(theta)     # eq. 10.8
    return amplitude * np.exp(-alpha * xt ** 2 - beta * yt ** 2) * np.sin(omega * xt + phi)


def gabor_bank(size: int, thetas: Sequence[float], omegas: Sequence[float], **kwargs) -> np.ndarray:
    """A grid of Gabor kernels, one row per theta and one column per omega.

    Parameters
    ----------
    size : int
        Odd kernel size.
    thetas, omegas : sequence of float
        Orientations (rows) and frequencies (columns).
    **kwargs
        Passed on to :func:`gabor_kernel` (phi, alpha, beta, amplitude).

    Returns
    -------
    ndarray, shape (len(thetas), len(omegas), size, size)

    Examples
    --------
    >>> gabor_bank(7, [0, np.pi / 2], [0.5, 1.0, 2.0]).shape
    (2, 3, 7, 7)
    """
    thetas, omegas = list(thetas), list(omegas)
    if not thetas or not omegas:
        raise ValueError(f"thetas and omegas must be non-empty, got {len(thetas)} thetas and "
                         f"{len(omegas)} omegas; pass e.g. thetas=[0, np.pi/4]")
    return np.stack([np.stack([gabor_kernel(size, t, o, **kwargs) for o in omegas])
                     for t in thetas])


def bishop_gabor_bank(size: int = 65, n_theta: int = 5, omegas: Sequence[float] = range(1, 11),
                      alpha: float = 4.0, beta: float = 4.0) -> np.ndarray:
    """The bank of Bishop fig. 10.11: theta from 0 to pi/2 (rows), omega = 1..10 (columns).

    Bishop's figure draws the function on a unit-scale grid ([-1, 1] across the
    picture), where omega = 1..10 are radians per unit. This helper keeps that
    meaning by rescaling to pixels: omega_pixel = omega / half and
    alpha_pixel = alpha / half^2 with half = size // 2 (the grid's half-width).

    Returns
    -------
    ndarray, shape (n_theta, len(omegas), size, size)

    Examples
    --------
    >>> bishop_gabor_bank(size=33).shape
    (5, 10, 33, 33)
    """
    size = check_int("size", size, minimum=3)
    n_theta = check_int("n_theta", n_theta, minimum=1)
    half = size // 2
    thetas = np.linspace(0.0, np.pi / 2, n_theta)
    return gabor_bank(size, thetas, [o / half for o in omegas],
                      alpha=alpha / half ** 2, beta=beta / half ** 2)
