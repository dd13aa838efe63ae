"""Tests for course_lib.gabor_fit: model cells, orientation tuning and the nearest-Gabor fit."""
from __future__ import annotations

import numpy as np
import pytest

from course_lib.conv import correlate2d
from course_lib.gabor import gabor_kernel
from course_lib.gabor_fit import (GaborFit, complex_cell_response, fit_gabor, gabor_from_params,
                                  gabor_response, grating, orientation_tuning, preferred_orientation,
                                  quadrature_pair, simple_cell_response, tuning_fwhm)


def angle_diff(a: float, b: float, period: float = np.pi) -> float:
    """Smallest distance between two angles modulo ``period``."""
    d = (a - b) % period
    return min(d, period - d)


# ----------------------------------------------------------------------------- fitting

@pytest.mark.parametrize("seed", range(6))
def test_fit_recovers_noisy_synthetic_gabor(seed):
    rng = np.random.default_rng(seed)
    true = dict(amplitude=rng.uniform(0.5, 2.0), theta=rng.uniform(0, np.pi),
                omega=rng.uniform(0.6, 1.8), phi=rng.uniform(-np.pi, np.pi),
                alpha=1 / (2 * rng.uniform(1.5, 3.0) ** 2), beta=1 / (2 * rng.uniform(1.5, 3.0) ** 2),
                x0=rng.uniform(-1, 1), y0=rng.uniform(-1, 1))
    clean = gabor_from_params(13, true)
    noisy = clean + 0.05 * np.abs(clean).max() * rng.standard_normal(clean.shape)
    params, fitted, r2 = fit_gabor(noisy)
    assert angle_diff(params["theta"], true["theta"]) < 0.05
    assert abs(params["omega"] - true["omega"]) < 0.05
    assert angle_diff(params["phi"], true["phi"], 2 * np.pi) < 0.2
    assert abs(params["amplitude"] - true["amplitude"]) < 0.1 * true["amplitude"]
    assert abs(params["alpha"] - true["alpha"]) < 0.25 * true["alpha"]
    assert abs(params["beta"] - true["beta"]) < 0.25 * true["beta"]
    assert abs(params["x0"] - true["x0"]) < 0.3 and abs(params["y0"] - true["y0"]) < 0.3
    assert r2 > 0.9
    # the fit explains the clean signal better than the noise does
    assert np.sum((fitted - clean) ** 2) < np.sum((noisy - clean) ** 2)


def test_fit_exact_on_clean_kernel_and_params_reproduce_fitted():
    k = gabor_kernel(11, theta=2.5, omega=0.9, phi=-1.0, alpha=0.05, beta=0.12, amplitude=3.0)
    fit = fit_gabor(k)
    assert isinstance(fit, GaborFit)
    assert fit.r2 > 1 - 1e-8
    assert np.allclose(fit.fitted, k, atol=1e-6)
    assert np.allclose(gabor_from_params(11, fit.params), fit.fitted, atol=1e-10)
    assert 0 <= fit.params["theta"] < np.pi and -np.pi < fit.params["phi"] <= np.pi
    assert fit.params["amplitude"] >= 0


def test_fit_canonical_theta_for_angle_beyond_pi():
    # theta + pi is the same filter with the opposite phase convention: the fit reports theta in [0, pi)
    k = gabor_kernel(9, theta=np.pi + 0.4, omega=1.1, phi=0.3, alpha=0.08, beta=0.08)
    fit = fit_gabor(k)
    assert abs(fit.params["theta"] - 0.4) < 1e-4
    assert np.allclose(gabor_from_params(9, fit.params), k, atol=1e-6)


def test_fit_grid_only_is_worse_or_equal_to_refined():
    rng = np.random.default_rng(1)
    k = gabor_kernel(9, 0.77, 1.23, 0.4, 0.07, 0.03) + 0.05 * rng.standard_normal((9, 9))
    coarse = fit_gabor(k, refine=False)
    fine = fit_gabor(k)
    assert fine.r2 >= coarse.r2 - 1e-12
    assert coarse.params["x0"] == 0.0 and coarse.params["sigma_x"] == coarse.params["sigma_y"]


def test_fit_colour_kernel_rank_one():
    g = gabor_kernel(7, 0.5, 1.2, 0.0, 0.1, 0.1)
    colour = np.array([0.8, -0.2, 0.4])
    k = colour[:, None, None] * g[None]
    params, fitted, r2 = fit_gabor(k)
    assert fitted.shape == (3, 7, 7)
    assert r2 > 1 - 1e-8
    c = params["colour"]
    assert np.isclose(np.linalg.norm(c), 1.0) and c.sum() > 0
    assert np.allclose(np.abs(c), np.abs(colour) / np.linalg.norm(colour))


def test_fit_noise_has_low_r2():
    rng = np.random.default_rng(0)
    r2 = [fit_gabor(rng.standard_normal((7, 7))).r2 for _ in range(5)]
    assert max(r2) < 0.7          # white noise is not a Gabor
    assert min(r2) >= 0.0         # but the nearest Gabor never does worse than predicting zero-ish


def test_fit_even_sized_kernel():
    p = dict(amplitude=1.0, theta=0.3, omega=1.0, phi=0.5, alpha=0.1, beta=0.1)
    k = gabor_from_params((8, 8), p)
    fit = fit_gabor(k)
    assert fit.r2 > 0.999


@pytest.mark.parametrize("bad, exc, word", [
    (np.ones((5, 5)), ValueError, "constant"),
    (np.zeros((2, 2, 2, 2)), ValueError, "kernel"),
    ("abc", TypeError, "kernel"),
    (np.full((3, 3), np.nan), ValueError, "NaN"),
])
def test_fit_rejects_bad_kernels(bad, exc, word):
    with pytest.raises(exc, match=word):
        fit_gabor(bad)


def test_fit_rejects_bad_grids():
    k = gabor_kernel(7, 0.1, 1.0, 0.0, 0.1, 0.1)
    with pytest.raises(ValueError, match="sigmas"):
        fit_gabor(k, sigmas=[0.0, 1.0])
    with pytest.raises(ValueError, match="omegas"):
        fit_gabor(k, omegas=[-1.0])
    with pytest.raises(ValueError, match="thetas"):
        fit_gabor(k, thetas=[])
    with pytest.raises(TypeError, match="refine"):
        fit_gabor(k, refine="yes")


def test_gabor_from_params_matches_gabor_kernel_and_checks():
    for theta in (0.0, 0.7, 2.0):
        p = dict(amplitude=1.5, theta=theta, omega=0.9, phi=0.2, alpha=0.1, beta=0.05)
        assert np.allclose(gabor_from_params(9, p), gabor_kernel(9, theta, 0.9, 0.2, 0.1, 0.05, 1.5))
    with pytest.raises(ValueError, match="lacks"):
        gabor_from_params(5, {"theta": 0.0})
    with pytest.raises(TypeError, match="params"):
        gabor_from_params(5, [1, 2, 3])


# ----------------------------------------------------------------------------- cells and tuning

def test_grating_orientation_and_centre():
    g = grating(9, theta=np.pi / 2, omega=0.5)
    assert np.allclose(g, g[:, :1])                  # theta = pi/2 varies along rows only
    assert g[4, 4] == 0.0 and g[5, 4] > 0            # sin(0) at the middle, positive below
    assert grating((4, 6), 0.3, 1.0).shape == (4, 6)
    with pytest.raises(ValueError, match="size"):
        grating(0, 0.0, 1.0)


def test_quadrature_pair_is_even_and_odd():
    even, odd = quadrature_pair(11, 0.6, 1.1, 0.05, 0.05)
    assert np.allclose(even, even[::-1, ::-1]) and np.allclose(odd, -odd[::-1, ::-1])
    assert np.allclose(odd, gabor_kernel(11, 0.6, 1.1, 0.0, 0.05, 0.05))


def test_gabor_response_matches_correlate2d(rng):
    img = rng.standard_normal((20, 23))
    k = gabor_kernel(7, 0.4, 1.0, 0.3, 0.1, 0.1)
    assert np.allclose(gabor_response(img, k), correlate2d(img, k))
    assert np.allclose(gabor_response(img, k, mode="same"), correlate2d(img, k, padding=3))
    with pytest.raises(ValueError, match="mode"):
        gabor_response(img, k, mode="full")
    with pytest.raises(ValueError, match="larger"):
        gabor_response(img[:5, :5], k)


def test_simple_cell_is_rectified_and_phase_sensitive():
    k = gabor_kernel(15, 0.0, 0.8, 0.0, 0.02, 0.02)
    phases = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    simple = [float(simple_cell_response(grating(15, 0.0, 0.8, ph), k)[0, 0]) for ph in phases]
    assert min(simple) == 0.0 and max(simple) > 1.0          # silent for half the phases
    assert all(s >= 0 for s in simple)
    assert simple_cell_response(grating(15, 0.0, 0.8), k, threshold=1e9).max() == 0.0


def test_complex_cell_is_nearly_phase_invariant():
    phases = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    energy = np.array([float(complex_cell_response(grating(21, 0.3, 0.9, ph), 0.3, 0.9, size=21,
                                                   alpha=0.02, beta=0.02)[0, 0]) for ph in phases])
    assert energy.std() < 0.01 * energy.mean()


def test_orientation_tuning_peaks_at_grating_orientation():
    thetas = np.linspace(0, np.pi, 12, endpoint=False)
    for k in (0, 3, 7):
        stim = grating(45, thetas[k], 0.8)
        for cell in ("complex", "simple"):
            curve = orientation_tuning(stim, thetas, size=21, omega=0.8, alpha=0.02, beta=0.02,
                                       cell=cell, normalize=True)
            assert int(np.argmax(curve)) == k and np.isclose(curve.max(), 1.0)


def test_orientation_tuning_argument_checks():
    stim = grating(21, 0.0, 0.8)
    with pytest.raises(ValueError, match="cell"):
        orientation_tuning(stim, [0.0], size=9, omega=0.8, alpha=0.1, beta=0.1, cell="hyper")
    with pytest.raises(ValueError, match="size"):
        orientation_tuning(stim, [0.0], size=31, omega=0.8, alpha=0.1, beta=0.1)
    with pytest.raises(ValueError, match="thetas"):
        orientation_tuning(stim, [], size=9, omega=0.8, alpha=0.1, beta=0.1)


def test_tuning_fwhm_matches_theory_for_gaussian_envelope():
    # energy ~ exp(-(2 omega sin(d/2) sigma)^2): half maximum at d = 2 asin(sqrt(ln 2) / (2 omega sigma))
    omega, thetas = 0.8, np.linspace(0, np.pi, 180, endpoint=False)
    stim = grating(101, 0.0, omega)
    for sigma in (2.0, 6.0):
        ab = 1 / (2 * sigma ** 2)
        curve = orientation_tuning(stim, thetas, size=37, omega=omega, alpha=ab, beta=ab)
        theory = 4 * np.arcsin(np.sqrt(np.log(2)) / (2 * omega * sigma))
        assert abs(tuning_fwhm(thetas, curve) - theory) < 0.03


def test_tuning_fwhm_flat_and_bad_input():
    th = np.linspace(0, np.pi, 10, endpoint=False)
    assert tuning_fwhm(th, np.ones(10)) == pytest.approx(np.pi)
    with pytest.raises(ValueError, match="same length"):
        tuning_fwhm(th, np.ones(9))


@pytest.mark.parametrize("theta", [0.0, 0.3, 1.2, 1.9, 2.8])
def test_preferred_orientation_recovers_theta(theta):
    for phi in (0.0, np.pi / 2):
        k = gabor_kernel(15, theta, 1.0, phi, 0.03, 0.03)
        assert angle_diff(preferred_orientation(k), theta) < 0.06


def test_refinement_jacobian_matches_finite_differences():
    from course_lib.gabor_fit import _grid, _model, _model_jac
    grid = _grid((7, 9))
    p = np.array([0.7, -0.3, 0.8, 1.1, 0.5, 0.9, 0.3, -0.4])
    numeric = np.stack([(_model(p + 1e-6 * e, grid) - _model(p - 1e-6 * e, grid)).ravel() / 2e-6
                        for e in np.eye(8)], axis=1)
    assert np.allclose(_model_jac(p, grid), numeric, atol=1e-7)


def test_zero_mean_kernels_ignore_uniform_brightness():
    flat = np.full((31, 31), 0.7)
    e = complex_cell_response(flat, 0.4, 0.5, size=21, alpha=0.03, beta=0.03, zero_mean=True)
    assert np.allclose(e, 0.0, atol=1e-20)
    e_raw = complex_cell_response(flat, 0.4, 0.5, size=21, alpha=0.03, beta=0.03)
    assert e_raw.min() > 1e-3                          # the raw even kernel sees mean brightness
    pair = quadrature_pair(11, 0.2, 0.9, 0.05, 0.05, zero_mean=True)
    assert np.allclose(pair.sum(axis=(1, 2)), 0.0)
    with pytest.raises(TypeError, match="zero_mean"):
        quadrature_pair(11, 0.2, 0.9, 0.05, 0.05, zero_mean=1)


def test_zero_mean_tuning_on_a_photograph_like_stimulus():
    # a grating on a bright background: with zero-sum kernels the background adds nothing
    thetas = np.linspace(0, np.pi, 12, endpoint=False)
    stim = 5.0 + grating(45, thetas[3], 0.8)
    plain = orientation_tuning(stim, thetas, size=21, omega=0.8, alpha=0.02, beta=0.02)
    fixed = orientation_tuning(stim, thetas, size=21, omega=0.8, alpha=0.02, beta=0.02, zero_mean=True)
    simple = orientation_tuning(stim, thetas, size=21, omega=0.8, alpha=0.02, beta=0.02, zero_mean=True,
                                cell="simple", phi=np.pi / 2)
    assert int(np.argmax(fixed)) == 3 and int(np.argmax(simple)) == 3
    assert fixed.max() / fixed.min() > plain.max() / plain.min()
