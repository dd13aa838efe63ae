"""Input normalisation: per-pixel whitening (Forsyth's Procedure 17.1),
per-image standardisation and PCA/ZCA whitening of patches.

All fitted transforms learn their statistics from the *training* images only
and are then applied unchanged to test images.
"""
from __future__ import annotations

import numbers
from typing import NamedTuple, Optional

import numpy as np

from ._checks import as_float, check_array, check_int

__all__ = ["PixelWhitener", "standardize_per_image", "extract_patches", "PatchWhitener", "ICAResult",
           "fast_ica"]


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

    def _patch_geometry(self, channels: int) -> int:
        if self.matrix_ is None:
            raise ValueError("this PatchWhitener is not fitted yet; call fit(X_train) first")
        channels = check_int("channels", channels, minimum=1)
        if self.kind != "zca":
            raise ValueError("only a ZCA whitener acts like a convolution (PCA rotates the axes); "
                             "fit PatchWhitener(kind='zca')")
        d = self.mean_.shape[0]
        k = int(round(np.sqrt(d / channels)))
        if channels * k * k != d or k % 2 == 0:
            raise ValueError(f"the whitener was fitted on {d} features, which is not channels x k x k "
                             f"with odd k for channels={channels}; fit it on flattened (C, k, k) "
                             f"patches with odd k")
        return k

    def centre_filters(self, channels: int = 3) -> np.ndarray:
        """The rows of the ZCA matrix that compute each channel's centre pixel, as conv filters.

        The fitted patches must be flattened (C, k, k) patches with odd k (as
        :func:`extract_patches` makes them). Row ``c*k*k + (k//2)*k + k//2`` of the
        matrix whitens the centre pixel of channel c; reshaped to (C, k, k) it is
        a filter, so sliding it over an image whitens every pixel (see
        :meth:`transform_images`).

        Returns
        -------
        ndarray, shape (C, C, k, k)
            ``[out channel, in channel, row, col]``, a conv2d weight.

        Examples
        --------
        >>> P = np.random.default_rng(0).standard_normal((2000, 3, 3, 3))
        >>> pw = PatchWhitener(eps=1e-3).fit(P.reshape(2000, -1))
        >>> pw.centre_filters(3).shape
        (3, 3, 3, 3)
        """
        k = self._patch_geometry(channels)
        c = k // 2
        rows = [ch * k * k + c * k + c for ch in range(channels)]
        return self.matrix_[rows].reshape(channels, channels, k, k).copy()

    def transform_images(self, images: np.ndarray) -> np.ndarray:
        """ZCA-whiten whole images (N, C, H, W) by sliding :meth:`centre_filters` over them.

        The mean patch value of each channel is subtracted first; zero padding of
        k // 2 keeps the size (pixels near the border see zeros, unlike the patches).

        Returns
        -------
        ndarray, shape (N, C, H, W), float64

        Examples
        --------
        >>> P = np.random.default_rng(0).standard_normal((2000, 3, 3, 3))
        >>> pw = PatchWhitener(eps=1e-3).fit(P.reshape(2000, -1))
        >>> pw.transform_images(np.zeros((2, 3, 8, 8))).shape
        (2, 3, 8, 8)
        """
        images = as_float(check_array("images", images, ndim=4, shape_hint="(N, C, H, W)"))
        k = self._patch_geometry(images.shape[1])
        from .conv import conv2d
        mean = self.mean_.reshape(images.shape[1], k, k).mean(axis=(1, 2))
        return conv2d(images - mean[None, :, None, None], self.centre_filters(images.shape[1]),
                      padding=k // 2)


class ICAResult(NamedTuple):
    """What :func:`fast_ica` found."""

    filters: np.ndarray     #: (K, D): each row, dotted with a centred vector, gives one component
    mixing: np.ndarray      #: (D, K): each column is the pattern that component adds to a vector
    mean: np.ndarray        #: (D,): the training mean that was subtracted
    n_iter: int             #: iterations used
    converged: bool         #: whether the update changed less than ``tol``


def fast_ica(X: np.ndarray, n_components: int, *, seed: int = 0, max_iter: int = 200,
             tol: float = 1e-5, eps: float = 1e-8) -> ICAResult:
    """Independent component analysis of vectors (flattened patches): symmetric FastICA.

    PCA whitening keeps the ``n_components`` directions of largest variance; then
    an orthogonal rotation W of the whitened data is sought that makes each output
    as non-Gaussian as possible (Hyvarinen's fixed point with the log-cosh
    contrast, all rows at once, re-orthogonalised each step). On natural image
    patches the rows of ``filters`` look like localised, oriented Gabor-like
    edges. The result is unique up to the order and sign of the components.

    Parameters
    ----------
    X : ndarray, shape (N, D)
        Training vectors (N > D is best).
    n_components : int
        K, 1..D.
    seed : int
        Seed of the random initial rotation.
    max_iter : int
    tol : float
        Stop when every row of W turns by less than this (``1 - |cos| < tol``).
    eps : float
        Added to the PCA eigenvalues before whitening.

    Returns
    -------
    ICAResult
        ``filters`` (K, D), ``mixing`` (D, K), ``mean``, ``n_iter``, ``converged``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> S = rng.laplace(size=(5000, 2))                  # two independent, peaky sources
    >>> A = np.array([[1.0, 0.6], [0.4, 1.0]])
    >>> res = fast_ica(S @ A.T, 2, seed=0)
    >>> recovered = (S @ A.T - res.mean) @ res.filters.T
    >>> corr = np.corrcoef(recovered.T, S.T)[:2, 2:]
    >>> bool(np.allclose(np.sort(np.abs(corr).max(axis=1)), 1.0, atol=0.01))
    True
    """
    X = as_float(check_array("X", X, ndim=2, shape_hint="(N, D); flatten patches first"))
    n, d = X.shape
    k = check_int("n_components", n_components, minimum=1)
    if k > d:
        raise ValueError(f"n_components must be at most the dimension D={d}, got {k}")
    if n < 2:
        raise ValueError(f"X must hold at least 2 vectors, got {n}")
    seed = check_int("seed", seed, minimum=0)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    tol, eps = float(tol), _check_eps(eps)
    if not tol > 0:
        raise ValueError(f"tol must be > 0, got tol={tol}")

    mean = X.mean(axis=0)
    Xc = X - mean
    lam, U = np.linalg.eigh(np.cov(Xc, rowvar=False, bias=True).reshape(d, d))
    order = np.argsort(lam)[::-1][:k]
    K = (U[:, order] / np.sqrt(np.clip(lam[order], 0, None) + eps)).T      # (K, D) PCA whitening
    Z = Xc @ K.T                                                            # (N, K), cov = I

    def decorrelate(W):
        # W <- (W W^T)^(-1/2) W: the nearest orthogonal matrix, all rows treated alike
        s, V = np.linalg.eigh(W @ W.T)
        return (V / np.sqrt(np.maximum(s, 1e-300))) @ V.T @ W

    W = decorrelate(np.random.default_rng(seed).standard_normal((k, k)))
    converged = False
    for it in range(1, max_iter + 1):
        Y = Z @ W.T                                          # (N, K)
        G = np.tanh(Y)                                       # derivative of log cosh
        W_new = decorrelate(G.T @ Z / n - (1.0 - G ** 2).mean(axis=0)[:, None] * W)
        change = float(np.max(1.0 - np.abs(np.sum(W_new * W, axis=1))))
        W = W_new
        if change < tol:
            converged = True
            break
    filters = W @ K                                          # (K, D) in the original space
    return ICAResult(filters=filters, mixing=np.linalg.pinv(filters), mean=mean, n_iter=it,
                     converged=converged)
