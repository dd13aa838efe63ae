"""Input normalisation: per-pixel whitening (Forsyth's Procedure 17.1),
per-image standardisation and PCA/ZCA whitening of patches.

All fitted transforms learn their statistics from the *training* images only
and are then applied unchanged to test images.
"""
from __future__ import annotations

import numbers
from typing import Optional

import numpy as np

from ._checks import as_float, check_array, check_int

__all__ = ["PixelWhitener", "standardize_per_image", "extract_patches", "PatchWhitener"]


def _check_eps(eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps >= 0:
        raise ValueError(f"eps must be a real number >= 0, got eps={eps!r}; a small value such "
                         f"as eps=1e-2 avoids dividing by zero")
    return float(eps)


class PixelWhitener:
    """Per-pixel whitening, Forsyth's Procedure 17.1.

    ``fit`` computes, over the N training images and for every position
    (channel, row, column) separately, the mean M and standard deviation S
    (dividing by N). ``transform`` maps an image I to (I - M) / (S + eps).

    Parameters
    ----------
    eps : float
        Added to S so constant pixels (MNIST's border) do not divide by zero.

    Attributes
    ----------
    mean_, std_ : ndarray, shape (C, H, W)
        Set by :meth:`fit`.

    Examples
    --------
    >>> X = np.arange(24.0).reshape(3, 2, 2, 2)       # 3 images, 2 channels, 2x2
    >>> w = PixelWhitener(eps=0.0).fit(X)
    >>> w.mean_.shape, round(float(w.transform(X)[:, 0, 0, 0].std()), 6)
    ((2, 2, 2), 1.0)
    """

    def __init__(self, eps: float = 1e-2):
        self.eps = _check_eps(eps)
        self.mean_: Optional[np.ndarray] = None
        self.std_: Optional[np.ndarray] = None

    def fit(self, X: np.ndarray) -> "PixelWhitener":
        """Learn M and S from training images X of shape (N, C, H, W) (or (N, H, W))."""
        X = as_float(check_array("X", X, ndim=(3, 4), shape_hint="(N, C, H, W)"))
        if X.shape[0] < 2:
            raise ValueError(f"X must hold at least 2 training images, got {X.shape[0]}; fit on "
                             f"the whole training split")
        self.mean_ = X.mean(axis=0)
        self.std_ = np.sqrt(((X - self.mean_) ** 2).mean(axis=0))  # Forsyth divides by N
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Whiten images of the fitted shape with the training statistics."""
        if self.mean_ is None:
            raise ValueError("this PixelWhitener is not fitted yet; call fit(X_train) first")
        X = as_float(check_array("X", X, ndim=self.mean_.ndim + 1))
        if X.shape[1:] != self.mean_.shape:
            raise ValueError(f"X has images of shape {X.shape[1:]} but the whitener was fitted on "
                             f"{self.mean_.shape}; transform images of the same size")
        return (X - self.mean_) / (self.std_ + self.eps)

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)


def standardize_per_image(X: np.ndarray, eps: float = 0.0) -> np.ndarray:
    """Give every image zero mean and unit standard deviation (over its own C, H, W).

    Like ``tf.image.per_image_standardization``, the deviation is floored at
    1/sqrt(number of values) so a constant image does not blow up.

    Parameters
    ----------
    X : ndarray, shape (N, C, H, W) or (N, H, W)

    Returns
    -------
    ndarray, same shape, float

    Examples
    --------
    >>> Z = standardize_per_image(np.random.default_rng(0).random((4, 3, 8, 8)))
    >>> np.allclose(Z.mean(axis=(1, 2, 3)), 0), np.allclose(Z.std(axis=(1, 2, 3)), 1)
    (True, True)
    """
    X = as_float(check_array("X", X, ndim=(3, 4), shape_hint="(N, C, H, W)"))
    eps = _check_eps(eps)
    axes = tuple(range(1, X.ndim))
    n_values = int(np.prod(X.shape[1:]))
    mean = X.mean(axis=axes, keepdims=True)
    std = np.maximum(X.std(axis=axes, keepdims=True), 1.0 / np.sqrt(n_values))
    return (X - mean) / (std + eps)


def extract_patches(X: np.ndarray, size: int, n: int, *, seed: int = 0) -> np.ndarray:
    """Cut ``n`` random ``size x size`` patches out of images X (N, C, H, W).

    Returns
    -------
    ndarray, shape (n, C, size, size)

    Examples
    --------
    >>> extract_patches(np.zeros((5, 3, 32, 32)), 6, 10).shape
    (10, 3, 6, 6)
    """
    X = check_array("X", X, ndim=4, shape_hint="(N, C, H, W)")
    size = check_int("size", size, minimum=1)
    n = check_int("n", n, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    if size > min(X.shape[2:]):
        raise ValueError(f"size={size} is larger than the images ({X.shape[2]}x{X.shape[3]}); "
                         f"use size <= {min(X.shape[2:])}")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, X.shape[0], n)
    rows = rng.integers(0, X.shape[2] - size + 1, n)
    cols = rng.integers(0, X.shape[3] - size + 1, n)
    return np.stack([X[i, :, r:r + size, c:c + size] for i, r, c in zip(idx, rows, cols)])


class PatchWhitener:
    """PCA or ZCA whitening of flattened patches (or whole small images).

    ``fit`` estimates the mean m and covariance C = U diag(lam) U^T of the
    training vectors. PCA whitening maps x to diag(lam + eps)^(-1/2) U^T (x - m)
    (decorrelated, unit variance, rotated); ZCA rotates back,
    U diag(lam + eps)^(-1/2) U^T (x - m), so the result still looks like an
    image with edges enhanced. Used again for fast CIFAR-10 training, where the
    ZCA matrix of 2x2 or 3x3 patches initialises the first layer.

    Parameters
    ----------
    eps : float
        Added to the eigenvalues; larger values whiten less (keep noise down).
    kind : {"zca", "pca"}

    Examples
    --------
    >>> P = np.random.default_rng(0).standard_normal((500, 3, 3, 3)) * [1, 2, 3]
    >>> Z = PatchWhitener(eps=0.0).fit_transform(P.reshape(500, -1))
    >>> np.allclose(np.cov(Z.T, bias=True), np.eye(27), atol=1e-8)
    True
    """

    def __init__(self, eps: float = 1e-2, kind: str = "zca"):
        self.eps = _check_eps(eps)
        if kind not in ("zca", "pca"):
            raise ValueError(f"kind must be 'zca' or 'pca', got {kind!r}")
        self.kind = kind
        self.mean_: Optional[np.ndarray] = None
        self.eigenvalues_: Optional[np.ndarray] = None
        self.eigenvectors_: Optional[np.ndarray] = None
        self.matrix_: Optional[np.ndarray] = None

    def fit(self, X: np.ndarray) -> "PatchWhitener":
        """Fit on training vectors X of shape (N, D) (flatten patches first)."""
        X = as_float(check_array("X", X, ndim=2, shape_hint="(N, D); flatten patches with "
                                 "P.reshape(len(P), -1)"))
        if X.shape[0] < 2:
            raise ValueError(f"X must hold at least 2 vectors, got {X.shape[0]}")
        self.mean_ = X.mean(axis=0)
        cov = np.cov(X - self.mean_, rowvar=False, bias=True)
        lam, U = np.linalg.eigh(np.atleast_2d(cov))
        order = np.argsort(lam)[::-1]                # largest variance first
        lam, U = np.clip(lam[order], 0.0, None), U[:, order]
        scale = 1.0 / np.sqrt(lam + self.eps) if self.eps > 0 else 1.0 / np.sqrt(np.maximum(lam, 1e-12))
        self.eigenvalues_, self.eigenvectors_ = lam, U
        W = scale[:, None] * U.T                     # (D, D): PCA whitening
        self.matrix_ = U @ W if self.kind == "zca" else W
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Whiten vectors X (N, D) with the fitted matrix; returns (N, D)."""
        if self.matrix_ is None:
            raise ValueError("this PatchWhitener is not fitted yet; call fit(X_train) first")
        X = as_float(check_array("X", X, ndim=2, shape_hint="(N, D)"))
        if X.shape[1] != self.mean_.shape[0]:
            raise ValueError(f"X has {X.shape[1]} features but the whitener was fitted on "
                             f"{self.mean_.shape[0]}; flatten patches of the same size")
        return (X - self.mean_) @ self.matrix_.T

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)
