"""Per-pixel whitening (Procedure 17.1), per-image standardisation, PCA/ZCA of patches."""
from __future__ import annotations

import numpy as np
import pytest

from course_lib import PatchWhitener, PixelWhitener, extract_patches, standardize_per_image


# ----------------------------------------------------------------------------- PixelWhitener
def _procedure_17_1(X_train: np.ndarray, X: np.ndarray, eps: float) -> np.ndarray:
    """Forsyth's Procedure 17.1 written out with loops over positions."""
    N = X_train.shape[0]
    out = np.empty_like(X, dtype=np.float64)
    for pos in np.ndindex(*X_train.shape[1:]):
        values = [X_train[(i,) + pos] for i in range(N)]
        M = sum(values) / N
        S = np.sqrt(sum((v - M) ** 2 for v in values) / N)          # divide by N, not N - 1
        for i in range(X.shape[0]):
            out[(i,) + pos] = (X[(i,) + pos] - M) / (S + eps)
    return out


@pytest.mark.parametrize("shape", [(7, 2, 3, 4), (5, 4, 3)])
@pytest.mark.parametrize("eps", [0.0, 1e-2])
def test_pixel_whitener_is_procedure_17_1(shape, eps, rng):
    X = rng.normal(3.0, 2.0, shape) * rng.uniform(0.5, 4.0, shape[1:])
    w = PixelWhitener(eps=eps).fit(X)
    assert w.mean_.shape == shape[1:] and w.std_.shape == shape[1:]
    np.testing.assert_allclose(w.mean_, X.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(w.std_, X.std(axis=0, ddof=0), atol=1e-12)
    np.testing.assert_allclose(w.transform(X), _procedure_17_1(X, X, eps), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(w.fit_transform(X), w.transform(X), atol=1e-12)
    if eps == 0.0:
        Z = w.transform(X)
        np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
        np.testing.assert_allclose(Z.std(axis=0), 1.0, rtol=1e-12, atol=1e-12)


def test_pixel_whitener_uses_training_statistics_on_test_images(rng):
    X_train = rng.normal(0.0, 1.0, (50, 1, 4, 4))
    X_test = rng.normal(5.0, 3.0, (20, 1, 4, 4))      # very different statistics
    w = PixelWhitener(eps=0.0).fit(X_train)
    mean, std = w.mean_.copy(), w.std_.copy()
    Z = w.transform(X_test)
    # the fitted statistics do not move, and the test set is NOT mapped to mean 0 / std 1
    np.testing.assert_array_equal(w.mean_, mean)
    np.testing.assert_array_equal(w.std_, std)
    np.testing.assert_allclose(Z, (X_test - mean) / std, atol=1e-12)
    np.testing.assert_allclose(Z, _procedure_17_1(X_train, X_test, 0.0), rtol=1e-12, atol=1e-12)
    assert np.abs(Z.mean(axis=0)).min() > 1.0
    # transforming test images one at a time or all together gives the same answer
    np.testing.assert_allclose(np.concatenate([w.transform(X_test[i:i + 1]) for i in range(20)]), Z, atol=1e-12)


def test_pixel_whitener_constant_pixels_and_ints():
    X = np.zeros((4, 1, 3, 3), dtype=np.uint8)
    X[:, 0, 1, 1] = [0, 10, 20, 30]                    # only the middle pixel varies
    Z = PixelWhitener(eps=1e-2).fit_transform(X)
    assert Z.dtype == np.float64 and np.isfinite(Z).all()
    assert (Z[:, 0, 0, 0] == 0).all()                  # constant border -> 0, no division by zero


def test_pixel_whitener_errors():
    with pytest.raises(ValueError, match="not fitted"):
        PixelWhitener().transform(np.zeros((2, 1, 3, 3)))
    w = PixelWhitener().fit(np.random.default_rng(0).random((3, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"^X has images of shape \(1, 5, 4\)"):
        w.transform(np.zeros((2, 1, 5, 4)))
    with pytest.raises(ValueError, match=r"^X must be 4D"):
        w.transform(np.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match=r"^X must be 3D or 4D"):
        PixelWhitener().fit(np.zeros((4, 16)))
    with pytest.raises(ValueError, match=r"^X must hold at least 2"):
        PixelWhitener().fit(np.zeros((1, 1, 4, 4)))
    for bad in (np.full((3, 1, 2, 2), "a"), np.ones((3, 1, 2, 2), bool),
                np.ones((3, 1, 2, 2), complex)):
        with pytest.raises(TypeError, match=r"^X must hold real numbers"):
            PixelWhitener().fit(bad)
        with pytest.raises(TypeError, match=r"^X must hold real numbers"):
            w.transform(bad)
    for eps in (-1.0, np.nan, "0.1", True):
        with pytest.raises(ValueError, match=r"^eps must be a real number >= 0"):
            PixelWhitener(eps=eps)


# ----------------------------------------------------------------------------- per image
def test_standardize_per_image(rng):
    X = rng.normal(2.0, 5.0, (6, 3, 5, 4))
    Z = standardize_per_image(X)
    np.testing.assert_allclose(Z.mean(axis=(1, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=(1, 2, 3)), 1.0, rtol=1e-12, atol=1e-12)
    # each image on its own: the same as standardising it alone
    np.testing.assert_allclose(standardize_per_image(X[2:3]), Z[2:3], atol=1e-12)
    # (N, H, W) input works too, and eps shrinks the result
    Z3 = standardize_per_image(X[:, 0])
    np.testing.assert_allclose(Z3.std(axis=(1, 2)), 1.0, rtol=1e-12, atol=1e-12)
    assert (np.abs(standardize_per_image(X, eps=1.0)) < np.abs(Z)).all()


def test_standardize_constant_image_does_not_blow_up():
    X = np.full((2, 1, 4, 4), 7, dtype=np.int64)
    Z = standardize_per_image(X)
    assert Z.dtype == np.float64 and np.isfinite(Z).all() and (Z == 0).all()


def test_standardize_errors():
    with pytest.raises(ValueError, match=r"^X must be 3D or 4D"):
        standardize_per_image(np.zeros((4, 4)))
    with pytest.raises(TypeError, match=r"^X must hold real numbers"):
        standardize_per_image(np.ones((2, 4, 4), dtype=bool))
    with pytest.raises(ValueError, match=r"^eps must be"):
        standardize_per_image(np.zeros((2, 4, 4)), eps=-1)


# ----------------------------------------------------------------------------- patches
def test_extract_patches_shapes_content_and_seeding(rng):
    X = rng.random((5, 3, 12, 10))
    P = extract_patches(X, 4, 30, seed=1)
    assert P.shape == (30, 3, 4, 4)
    np.testing.assert_array_equal(P, extract_patches(X, 4, 30, seed=1))   # same seed, same patches
    assert not np.array_equal(P, extract_patches(X, 4, 30, seed=2))
    # every patch really is a window of one of the images
    windows = np.lib.stride_tricks.sliding_window_view(X, (4, 4), axis=(2, 3))
    windows = windows.transpose(0, 2, 3, 1, 4, 5).reshape(-1, 3, 4, 4)
    for p in P:
        assert np.isclose(windows, p).all(axis=(1, 2, 3)).any()
    assert extract_patches(X, 10, 2).shape == (2, 3, 10, 10)   # the largest size that fits


def test_extract_patches_errors():
    X = np.zeros((2, 1, 8, 6))
    with pytest.raises(ValueError, match=r"^size=7 is larger than the images"):
        extract_patches(X, 7, 3)
    with pytest.raises(ValueError, match=r"^size must be >= 1"):
        extract_patches(X, 0, 3)
    with pytest.raises(ValueError, match=r"^n must be >= 1"):
        extract_patches(X, 3, 0)
    with pytest.raises(TypeError, match=r"^n must be an int"):
        extract_patches(X, 3, True)
    with pytest.raises(ValueError, match=r"^X must be 4D"):
        extract_patches(X[0], 3, 2)


@pytest.mark.parametrize("seed, exc", [(True, TypeError), (-1, ValueError), ("a", TypeError)])
def test_extract_patches_checks_seed(seed, exc):
    with pytest.raises(exc, match=r"^seed"):
        extract_patches(np.zeros((2, 1, 8, 8)), 3, 2, seed=seed)


# ----------------------------------------------------------------------------- PCA / ZCA
def _correlated(rng, n=2000, d=6):
    A = rng.standard_normal((d, d))
    return rng.standard_normal((n, d)) @ A + rng.standard_normal(d) * 3


def test_zca_gives_identity_covariance_and_is_symmetric(rng):
    X = _correlated(rng)
    w = PatchWhitener(eps=0.0, kind="zca").fit(X)
    Z = w.transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(np.cov(Z, rowvar=False, bias=True), np.eye(6), atol=1e-8)
    np.testing.assert_allclose(w.matrix_, w.matrix_.T, atol=1e-10)          # ZCA is symmetric
    # it is the inverse square root of the covariance
    C = np.cov(X, rowvar=False, bias=True)
    np.testing.assert_allclose(w.matrix_ @ C @ w.matrix_, np.eye(6), atol=1e-8)
    # of all whitening matrices ZCA changes the data least: closer to X than PCA whitening
    P = PatchWhitener(eps=0.0, kind="pca").fit_transform(X)
    Xc = X - X.mean(axis=0)
    assert np.linalg.norm(Z - Xc) < np.linalg.norm(P - Xc)


def test_pca_decorrelates_with_unit_variance_sorted(rng):
    X = _correlated(rng)
    w = PatchWhitener(eps=0.0, kind="pca").fit(X)
    Z = w.transform(X)
    np.testing.assert_allclose(np.cov(Z, rowvar=False, bias=True), np.eye(6), atol=1e-8)
    assert (np.diff(w.eigenvalues_) <= 0).all()             # largest variance first
    np.testing.assert_allclose(w.eigenvectors_.T @ w.eigenvectors_, np.eye(6), atol=1e-10)
    # with eps > 0 the variances are lam / (lam + eps) < 1, still uncorrelated
    we = PatchWhitener(eps=1.0, kind="pca").fit(X)
    cov = np.cov(we.transform(X), rowvar=False, bias=True)
    lam = we.eigenvalues_
    np.testing.assert_allclose(cov, np.diag(lam / (lam + 1.0)), atol=1e-8)


def test_patch_whitener_uses_training_statistics(rng):
    X = _correlated(rng, n=500)
    w = PatchWhitener(eps=1e-3).fit(X)
    Y = rng.standard_normal((10, 6))
    np.testing.assert_allclose(w.transform(Y), (Y - X.mean(axis=0)) @ w.matrix_.T, atol=1e-12)


def test_patch_whitener_on_patches_docstring_case():
    P = np.random.default_rng(0).standard_normal((500, 3, 3, 3)) * [1, 2, 3]
    Z = PatchWhitener(eps=0.0).fit_transform(P.reshape(500, -1))
    np.testing.assert_allclose(np.cov(Z.T, bias=True), np.eye(27), atol=1e-8)


def test_patch_whitener_errors():
    with pytest.raises(ValueError, match=r"^kind must be 'zca' or 'pca'"):
        PatchWhitener(kind="pcaa")
    with pytest.raises(ValueError, match=r"^eps must be"):
        PatchWhitener(eps=-0.5)
    with pytest.raises(ValueError, match="not fitted"):
        PatchWhitener().transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"^X must be 2D"):
        PatchWhitener().fit(np.zeros((5, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"^X must hold at least 2"):
        PatchWhitener().fit(np.zeros((1, 3)))
    with pytest.raises(TypeError, match=r"^X must hold real numbers"):
        PatchWhitener().fit(np.ones((4, 3), dtype=complex))
    w = PatchWhitener().fit(np.random.default_rng(0).random((10, 3)))
    with pytest.raises(ValueError, match=r"^X has 4 features"):
        w.transform(np.zeros((2, 4)))
