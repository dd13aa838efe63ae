"""ZCA filters as convolutions, and FastICA (S6.5): recovery, determinism, non-Gaussianity."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from conftest import t64
from course_lib.whitening import PatchWhitener, extract_patches, fast_ica


def _rgb_patches(k=3, n=3000, seed=0):
    rng = np.random.default_rng(seed)
    # correlated channels and neighbours: smooth random images, then patches
    base = rng.standard_normal((40, 1, 24, 24))
    smooth = F.avg_pool2d(t64(base), 3, stride=1, padding=1).numpy()
    images = np.concatenate([smooth, 0.7 * smooth + 0.3 * rng.standard_normal(smooth.shape),
                             0.5 * smooth + 0.5 * rng.standard_normal(smooth.shape)], axis=1)
    return images, extract_patches(images, k, n, seed=seed)


def test_centre_filters_are_the_centre_rows_and_transform_images_matches_patches():
    images, patches = _rgb_patches()
    pw = PatchWhitener(eps=1e-3, kind="zca").fit(patches.reshape(len(patches), -1))
    f = pw.centre_filters(3)
    assert f.shape == (3, 3, 3, 3)
    for ch in range(3):
        np.testing.assert_array_equal(f[ch].ravel(), pw.matrix_[ch * 9 + 4])
    out = pw.transform_images(images[:2])
    assert out.shape == (2, 3, 24, 24)
    # an interior pixel equals the centre entries of the whitened patch around it
    i, j = 10, 7
    patch = images[1, :, i - 1:i + 2, j - 1:j + 2].reshape(1, -1)
    want = pw.transform(patch).reshape(3, 3, 3)[:, 1, 1]
    mean_shift = pw.matrix_[[4, 13, 22]] @ (pw.mean_ - np.repeat(pw.mean_.reshape(3, 9).mean(1), 9))
    np.testing.assert_allclose(out[1, :, i, j], want + mean_shift, rtol=1e-10, atol=1e-10)


def test_centre_filters_argument_checks():
    with pytest.raises(ValueError, match="not fitted"):
        PatchWhitener().centre_filters(3)
    pw = PatchWhitener(kind="pca").fit(np.random.default_rng(0).standard_normal((100, 27)))
    with pytest.raises(ValueError, match="ZCA"):
        pw.centre_filters(3)
    pw = PatchWhitener().fit(np.random.default_rng(0).standard_normal((100, 12)))
    with pytest.raises(ValueError, match="channels x k x k"):
        pw.centre_filters(3)


def test_fast_ica_recovers_independent_sources_up_to_order_and_sign():
    rng = np.random.default_rng(1)
    S = np.column_stack([rng.laplace(size=8000), rng.uniform(-1, 1, 8000), rng.laplace(size=8000) ** 3])
    A = rng.standard_normal((3, 3))
    X = S @ A.T + 5.0
    res = fast_ica(X, 3, seed=0)
    assert res.converged and res.filters.shape == (3, 3) and res.mixing.shape == (3, 3)
    Y = (X - res.mean) @ res.filters.T
    corr = np.abs(np.corrcoef(Y.T, S.T)[:3, 3:])
    assert (corr.max(axis=1) > 0.98).all() and sorted(corr.argmax(axis=1)) == [0, 1, 2]
    np.testing.assert_allclose(res.filters @ res.mixing, np.eye(3), atol=1e-8)
    np.testing.assert_allclose(np.cov(Y.T, bias=True), np.eye(3), atol=1e-6)   # unit, uncorrelated


def test_fast_ica_is_seeded():
    X = np.random.default_rng(2).laplace(size=(2000, 4))
    a, b = fast_ica(X, 4, seed=3), fast_ica(X, 4, seed=3)
    np.testing.assert_array_equal(a.filters, b.filters)


def test_ica_on_natural_patches_is_less_gaussian_than_pca():
    """S6.5: on photograph patches, ICA finds sparser (heavier-tailed) components than PCA."""
    from skimage.data import camera
    img = camera().astype(np.float64)[None, None] / 255.0
    patches = extract_patches(img, 8, 6000, seed=0).reshape(6000, -1)
    res = fast_ica(patches, 16, seed=0, max_iter=300)
    pca = PatchWhitener(eps=1e-8, kind="pca").fit(patches)
    def kurtosis(Y):
        Y = (Y - Y.mean(0)) / Y.std(0)
        return (Y ** 4).mean(0) - 3.0
    ica_k = kurtosis((patches - res.mean) @ res.filters.T)
    pca_k = kurtosis(pca.transform(patches)[:, :16])
    # the same 16-dimensional subspace, rotated: ICA's rotation is the more non-Gaussian one
    assert ica_k.mean() > 1.2 * pca_k.mean() and np.median(ica_k) > 3


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(n_components=5), ValueError, "n_components"),
    (dict(n_components=0), ValueError, "n_components"),
    (dict(n_components=2, seed=-1), ValueError, "seed"),
    (dict(n_components=2, tol=0.0), ValueError, "tol"),
    (dict(n_components=2.0), TypeError, "n_components"),
])
def test_fast_ica_argument_checks(kwargs, exc, word):
    with pytest.raises(exc, match=word):
        fast_ica(np.random.default_rng(0).standard_normal((50, 4)), **kwargs)
