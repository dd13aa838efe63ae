"""Gabor kernels: formula, sign conventions, and the documented mapping to scikit-image."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.filters import gabor_kernel as sk_gabor_kernel

from conftest import scaled
from course_lib import bishop_gabor_bank, gabor_bank, gabor_kernel


def test_shape_dtype_and_centre_value():
    for size in (1, 3, 7, 15):
        for phi in (0.0, 0.4, np.pi / 2, -1.0):
            k = gabor_kernel(size, theta=0.3, omega=0.7, phi=phi, alpha=0.2, beta=0.1,
                             amplitude=2.5)
            assert k.shape == (size, size) and k.dtype == np.float64
            c = size // 2
            assert k[c, c] == pytest.approx(2.5 * np.sin(phi), abs=1e-15)   # A sin(phi)


def test_matches_the_formula_pointwise():
    size, theta, omega, phi, alpha, beta, amp = 9, 0.7, 1.3, 0.25, 0.08, 0.3, 1.7
    k = gabor_kernel(size, theta, omega, phi, alpha, beta, amp)
    half = size // 2
    for row in range(size):
        for col in range(size):
            x, y = col - half, row - half           # x to the right, y downward
            xt = x * np.cos(theta) + y * np.sin(theta)
            yt = -x * np.sin(theta) + y * np.cos(theta)
            want = amp * np.exp(-alpha * xt**2 - beta * yt**2) * np.sin(omega * xt + phi)
            assert k[row, col] == pytest.approx(want, abs=1e-14)


def test_theta_zero_varies_along_columns_and_is_odd():
    k = gabor_kernel(9, theta=0.0, omega=0.8, alpha=0.05, beta=0.05)
    c = 4
    assert k[c, c + 1] > 0 > k[c, c - 1]         # positive to the right of the centre
    np.testing.assert_allclose(k, -k[:, ::-1], atol=1e-15)   # odd in x (phi = 0)
    np.testing.assert_allclose(k, k[::-1, :], atol=1e-15)    # even in y
    even = gabor_kernel(9, theta=0.0, omega=0.8, phi=np.pi / 2, alpha=0.05, beta=0.05)
    np.testing.assert_allclose(even, even[:, ::-1], atol=1e-15)  # phi = pi/2: even, bar-like


@given(size=st.sampled_from([1, 3, 5, 9, 13]), omega=st.floats(0.1, 3.0),
       phi=st.floats(-np.pi, np.pi), alpha=st.floats(0.01, 2.0), beta=st.floats(0.01, 2.0),
       amplitude=st.floats(-3.0, 3.0))
@settings(max_examples=scaled(80))
def test_theta_pi_over_2_is_the_transpose_of_theta_0(size, omega, phi, alpha, beta, amplitude):
    # theta = pi/2: x~ = y (down), y~ = -x; the theta = 0 kernel with rows and columns swapped
    k0 = gabor_kernel(size, 0.0, omega, phi, alpha, beta, amplitude)
    k90 = gabor_kernel(size, np.pi / 2, omega, phi, alpha, beta, amplitude)
    np.testing.assert_allclose(k90, k0.T, atol=1e-12)
    # and theta = pi flips the oscillation direction: x~ -> -x~, y~ -> -y~
    k180 = gabor_kernel(size, np.pi, omega, phi, alpha, beta, amplitude)
    np.testing.assert_allclose(k180, k0[::-1, ::-1], atol=1e-12)


def test_theta_pi_over_2_varies_downward():
    k = gabor_kernel(9, theta=np.pi / 2, omega=0.8, alpha=0.05, beta=0.05)
    assert k[5, 4] > 0 > k[3, 4]                 # positive below the centre (rows point down)


def _centre_crop(a: np.ndarray, shape) -> np.ndarray:
    (H, W), (h, w) = a.shape, shape
    r, c = (H - h) // 2, (W - w) // 2
    return a[r:r + h, c:c + w]


@pytest.mark.parametrize("frequency, theta, sigma_x, sigma_y, offset", [
    (0.1, 0.0, 2.0, 2.0, 0.0),
    (0.1, 0.3, 2.0, 3.0, 0.5),
    (0.25, -1.0, 1.5, 1.5, 0.0),
    (0.05, 2.0, 3.0, 1.0, 1.2),
    (0.2, np.pi / 2, 2.0, 4.0, -0.7),
    (0.15, np.pi / 4, 1.0, 2.5, np.pi / 2),
])
def test_documented_mapping_to_skimage(frequency, theta, sigma_x, sigma_y, offset):
    sk = sk_gabor_kernel(frequency, theta=theta, sigma_x=sigma_x, sigma_y=sigma_y, offset=offset)
    # skimage's grid is (2 y0 + 1, 2 x0 + 1), not always square: compute ours on a square grid
    # large enough for both axes and crop the middle (both grids are centred on the middle pixel)
    size = max(sk.shape) | 1
    ours = gabor_kernel(size, theta=theta, omega=2 * np.pi * frequency, phi=offset,
                        alpha=1 / (2 * sigma_x**2), beta=1 / (2 * sigma_y**2),
                        amplitude=1 / (2 * np.pi * sigma_x * sigma_y))
    ours = _centre_crop(ours, sk.shape)
    assert np.abs(sk.imag).max() > 1e-3                      # not a vacuous comparison
    np.testing.assert_allclose(ours, sk.imag, atol=1e-12)
    # and the real part is the cosine version (phi shifted by pi/2)
    cos = gabor_kernel(size, theta=theta, omega=2 * np.pi * frequency, phi=offset + np.pi / 2,
                       alpha=1 / (2 * sigma_x**2), beta=1 / (2 * sigma_y**2),
                       amplitude=1 / (2 * np.pi * sigma_x * sigma_y))
    np.testing.assert_allclose(_centre_crop(cos, sk.shape), sk.real, atol=1e-12)


def test_bank_shapes_and_entries():
    thetas, omegas = [0.0, np.pi / 4, np.pi / 2], [0.5, 1.0]
    bank = gabor_bank(7, thetas, omegas, phi=0.3, alpha=0.1, beta=0.2)
    assert bank.shape == (3, 2, 7, 7)
    np.testing.assert_array_equal(bank[1, 0], gabor_kernel(7, np.pi / 4, 0.5, phi=0.3, alpha=0.1,
                                                            beta=0.2))
    assert bishop_gabor_bank().shape == (5, 10, 65, 65)
    b = bishop_gabor_bank(size=33, n_theta=3, omegas=[1, 2])
    assert b.shape == (3, 2, 33, 33)
    half = 16
    np.testing.assert_allclose(b[2, 1], gabor_kernel(33, np.pi / 2, 2 / half, alpha=4 / half**2,
                                                     beta=4 / half**2), atol=1e-12)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(size=4), ValueError, r"^size must be odd"),
    (dict(size=0), ValueError, r"^size must be >= 1"),
    (dict(size=True), TypeError, r"^size must be an int"),
    (dict(size=5.0), TypeError, r"^size must be an int"),
    (dict(theta="0"), TypeError, r"^theta must be a finite real number"),
    (dict(theta=True), TypeError, r"^theta must be a finite real number"),
    (dict(omega=np.nan), TypeError, r"^omega must be a finite real number"),
    (dict(phi=np.inf), TypeError, r"^phi must be a finite real number"),
    (dict(phi=1j), TypeError, r"^phi must be a finite real number"),
    (dict(alpha=0.0), ValueError, r"^alpha must be > 0"),
    (dict(beta=-1.0), ValueError, r"^beta must be > 0"),
    (dict(amplitude=None), TypeError, r"^amplitude must be a finite real number"),
])
def test_gabor_kernel_rejects_bad_arguments(kwargs, exc, match):
    args = dict(size=5)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        gabor_kernel(**args)


def test_banks_reject_bad_arguments():
    with pytest.raises(ValueError, match=r"thetas and omegas must be non-empty"):
        gabor_bank(5, [], [1.0])
    with pytest.raises(ValueError, match=r"^size must be odd"):
        gabor_bank(6, [0.0], [1.0])
    with pytest.raises(ValueError, match=r"^size must be odd"):
        bishop_gabor_bank(size=64)
    with pytest.raises(ValueError, match=r"^size must be >= 3"):
        bishop_gabor_bank(size=1)
    with pytest.raises(ValueError, match=r"^n_theta must be >= 1"):
        bishop_gabor_bank(size=9, n_theta=0)
    with pytest.raises(TypeError, match=r"^n_theta must be an int"):
        bishop_gabor_bank(size=9, n_theta=True)
