"""Hand-crafted features, the linear probe and the pixel-shuffle helpers."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from skimage.feature import hog

from conftest import BAD_DTYPE_ARRAYS
from course_lib.features import (BagOfVisualWords, color_histogram, dense_patches, fit_linear_probe,
                                 hog_features, hog_shape, hog_visualization, permute_input_weights,
                                 pixel_permutation, shuffle_pixels)


def _batch(n=4, c=3, h=16, w=16, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, c, h, w), dtype=np.uint8)


# -- colour histograms --------------------------------------------------------------------------

def _color_histogram_naive(images, bins):
    """One pixel at a time: the definition."""
    n, c, h, w = images.shape
    out = np.zeros((n, bins ** c))
    for i in range(n):
        for y in range(h):
            for x in range(w):
                cell = 0
                for ch in range(c):
                    cell = cell * bins + int(images[i, ch, y, x]) * bins // 256
                out[i, cell] += 1
    return out / (h * w)


@given(st.integers(1, 5), st.sampled_from([1, 3]), st.integers(0, 1000))
def test_color_histogram_matches_definition(bins, c, seed):
    x = _batch(3, c, 5, 6, seed)
    h = color_histogram(x, bins)
    assert h.shape == (3, bins ** c)
    np.testing.assert_allclose(h, _color_histogram_naive(x, bins), atol=1e-12)
    np.testing.assert_allclose(h.sum(axis=1), 1.0, atol=1e-12)


def test_color_histogram_float_input_and_torch():
    x = _batch()
    f = x.astype(np.float64) / 255.0             # floats use floor(v * bins), the last bin closed
    hf = color_histogram(f, 4)
    assert hf.shape == (4, 64)
    np.testing.assert_allclose(hf.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(color_histogram(torch.from_numpy(x), 4), color_histogram(x, 4), atol=1e-12)
    ones = np.ones((1, 3, 2, 2))
    assert color_histogram(ones, 4)[0, -1] == 1.0     # value 1.0 goes to the last bin


def test_color_histogram_is_invariant_to_pixel_shuffles():
    x = _batch()
    perm = pixel_permutation(16, 16, seed=3)
    np.testing.assert_array_equal(color_histogram(x, 8), color_histogram(shuffle_pixels(x, perm), 8))
    np.testing.assert_allclose(color_histogram(x, 4, space="hsv"),
                               color_histogram(shuffle_pixels(x, perm), 4, space="hsv"), atol=1e-12)


def test_color_histogram_hsv_pure_colours():
    x = np.zeros((3, 3, 2, 2), dtype=np.uint8)
    x[0, 0] = 255           # red: hue 0
    x[1, 1] = 255           # green: hue 1/3
    x[2, 2] = 255           # blue: hue 2/3
    h = color_histogram(x, 3, space="hsv")
    hue_bin = h.reshape(3, 3, 3, 3).sum(axis=(2, 3)).argmax(axis=1)
    assert hue_bin.tolist() == [0, 1, 2]


def test_color_histogram_argument_checks():
    with pytest.raises(ValueError, match="lie in \\[0, 1\\]"):
        color_histogram(np.full((1, 3, 2, 2), 2.0))
    with pytest.raises(ValueError, match="space must be"):
        color_histogram(_batch(), space="lab")
    with pytest.raises(ValueError, match="needs RGB"):
        color_histogram(_batch(c=1), space="hsv")
    with pytest.raises(ValueError, match="1 or 3 channels"):
        color_histogram(_batch(c=2))
    with pytest.raises(ValueError, match="bins must be >= 1"):
        color_histogram(_batch(), 0)
    with pytest.raises(TypeError, match="uint8"):
        color_histogram(np.ones((1, 3, 2, 2), dtype=np.int32))
    with pytest.raises(ValueError, match="4D"):
        color_histogram(np.zeros((3, 2, 2), dtype=np.uint8))


@pytest.mark.parametrize("kind", sorted(BAD_DTYPE_ARRAYS))
def test_features_reject_bad_dtypes(kind):
    with pytest.raises(TypeError, match="images"):
        color_histogram(BAD_DTYPE_ARRAYS[kind]((1, 3, 4, 4)))


# -- HoG ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("c", [1, 3])
def test_hog_features_match_skimage_per_image(c):
    x = _batch(3, c, 32, 32)
    got = hog_features(x, orientations=9, pixels_per_cell=8, cells_per_block=2)
    for i in range(3):
        img = x[i, 0] / 255.0 if c == 1 else np.moveaxis(x[i], 0, -1) / 255.0
        want = hog(img, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2), block_norm="L2-Hys",
                   channel_axis=None if c == 1 else -1)
        np.testing.assert_allclose(got[i], want, rtol=1e-5, atol=1e-6)


def test_hog_feature_count_slides_example():
    # the slides: a 320 x 240 image, 8 x 8 cells, 9 bins -> 40 x 30 x 9 = 10,800 numbers
    x = np.zeros((1, 1, 240, 320), dtype=np.uint8)
    assert hog_features(x, cells_per_block=1).shape == (1, 10_800)
    assert hog_features(_batch(2, 3, 32, 32)).shape == (2, 324)


def test_hog_visualization_and_checks():
    assert hog_visualization(_batch(1, 3, 16, 16)[0]).shape == (16, 16)
    assert hog_visualization(_batch(1, 1, 16, 24)[0, 0]).shape == (16, 24)
    with pytest.raises(ValueError, match="fewer than one block"):
        hog_features(_batch(1, 1, 8, 8), pixels_per_cell=8, cells_per_block=2)
    with pytest.raises(ValueError, match="block_norm"):
        hog_features(_batch(), block_norm="L3")


# -- bag of visual words ------------------------------------------------------------------------

def test_dense_patches_layout():
    x = np.arange(2 * 2 * 5 * 5, dtype=np.float64).reshape(2, 2, 5, 5) / 100.0
    p = dense_patches(x, 3, 2)
    assert p.shape == (2, 4, 18)
    # patch 1 of image 1 starts at row 0, column 2 and is flattened in (C, size, size) order
    np.testing.assert_allclose(p[1, 1], x[1, :, 0:3, 2:5].ravel(), rtol=1e-6, atol=1e-12)
    with pytest.raises(ValueError, match="larger than"):
        dense_patches(x, 6, 1)


def test_bag_of_visual_words_histograms_and_determinism():
    x = _batch(12, 3, 16, 16)
    a = BagOfVisualWords(n_words=6, patch_size=4, stride=4, n_fit_patches=150, seed=1).fit(x)
    b = BagOfVisualWords(n_words=6, patch_size=4, stride=4, n_fit_patches=150, seed=1).fit(x)
    ha, hb = a.transform(x), b.transform(x, batch_size=5)
    np.testing.assert_array_equal(ha, hb)
    assert ha.shape == (12, 6) and a.words_.shape == (6, 3, 4, 4)
    np.testing.assert_allclose(ha.sum(axis=1), 1.0, rtol=1e-6, atol=1e-12)
    # each patch is assigned to its nearest word: compare with sklearn's own predict
    from course_lib.features import _normalise_patches
    patches = _normalise_patches(dense_patches(x, 4, 4), 0.01).reshape(-1, 48)
    labels = a.kmeans_.predict(patches.astype(a.kmeans_.cluster_centers_.dtype)).reshape(12, 16)
    counts = np.stack([np.bincount(row, minlength=6) for row in labels]) / 16
    np.testing.assert_allclose(ha, counts, atol=1e-6)


def test_bag_of_visual_words_checks():
    bow = BagOfVisualWords(n_words=3, patch_size=4, stride=4)
    with pytest.raises(RuntimeError, match="fit"):
        bow.transform(_batch())
    with pytest.raises(ValueError, match="n_words"):
        BagOfVisualWords(n_words=0)
    with pytest.raises(ValueError, match="patches for n_words"):
        BagOfVisualWords(n_words=50, patch_size=16, stride=16).fit(_batch(2))
    bow.fit(_batch())
    with pytest.raises(ValueError, match="channels"):
        bow.transform(_batch(c=1))


# -- linear probe -------------------------------------------------------------------------------

def test_linear_probe_matches_sklearn_logistic_regression():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    rng = np.random.default_rng(0)
    n, d, k = 300, 6, 3
    x = rng.standard_normal((n, d)) * [1, 2, 3, 1, 1, 5] + 2
    y = (x[:, :3] @ rng.standard_normal((3, k))).argmax(axis=1)
    l2 = 1e-2
    probe = fit_linear_probe(x, y, l2=l2, max_iter=500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = LogisticRegression(C=1.0 / (l2 * n), max_iter=5000, tol=1e-10).fit(
            StandardScaler().fit_transform(x), y)
    np.testing.assert_allclose(probe.weight, ref.coef_, atol=2e-3)
    np.testing.assert_allclose(probe.bias, ref.intercept_, atol=2e-3)
    assert probe.score(x, y) == pytest.approx(ref.score(StandardScaler().fit_transform(x), y), abs=0.01)
    assert probe.decision_function(x).shape == (n, k) and probe.predict(x).shape == (n,)


def test_linear_probe_checks():
    x = np.zeros((4, 2)); y = np.array([0, 1, 0, 1])
    probe = fit_linear_probe(x, y)                     # constant columns are fine
    assert probe.predict(x).shape == (4,)
    with pytest.raises(ValueError, match="same length"):
        fit_linear_probe(x, y[:3])
    with pytest.raises(TypeError, match="labels must be integers"):
        fit_linear_probe(x, y.astype(float))
    with pytest.raises(ValueError, match="l2"):
        fit_linear_probe(x, y, l2=-1.0)
    with pytest.raises(ValueError, match="columns"):
        probe.predict(np.zeros((2, 3)))


# -- pixel shuffles -----------------------------------------------------------------------------

def test_shuffle_pixels_numpy_and_torch_agree_and_keep_colours():
    x = _batch(2, 3, 5, 4)
    perm = pixel_permutation(5, 4, seed=1)
    a = shuffle_pixels(x, perm)
    b = shuffle_pixels(torch.from_numpy(x), perm)
    assert isinstance(b, torch.Tensor)
    np.testing.assert_array_equal(a, b.numpy())
    # pixel k of the shuffled image is pixel perm[k] of the original, with all three channels
    k = 7
    np.testing.assert_array_equal(a.reshape(2, 3, -1)[:, :, k], x.reshape(2, 3, -1)[:, :, perm[k]])
    # shuffling with the inverse permutation undoes it
    np.testing.assert_array_equal(shuffle_pixels(a, np.argsort(perm)), x)


@pytest.mark.parametrize("channels", [1, 3])
def test_permuted_first_layer_gives_identical_outputs(channels):
    torch.manual_seed(0)
    h, w = 4, 5
    layer = torch.nn.Linear(channels * h * w, 7).double()
    x = torch.rand(6, channels, h, w, dtype=torch.float64)
    perm = pixel_permutation(h, w, seed=2)
    shuffled = torch.nn.Linear(channels * h * w, 7).double()
    with torch.no_grad():
        shuffled.weight.copy_(permute_input_weights(layer.weight, perm, channels))
        shuffled.bias.copy_(layer.bias)
    torch.testing.assert_close(shuffled(shuffle_pixels(x, perm).flatten(1)), layer(x.flatten(1)))
    np.testing.assert_allclose(permute_input_weights(layer.weight.detach().numpy(), perm, channels),
                               permute_input_weights(layer.weight, perm, channels).detach().numpy(), atol=1e-12)


def test_permutation_argument_checks():
    with pytest.raises(ValueError, match="permutation of 0..3"):
        shuffle_pixels(np.zeros((1, 1, 2, 2)), np.array([0, 0, 1, 2]))
    with pytest.raises(ValueError, match="permutation"):
        shuffle_pixels(np.zeros((1, 1, 2, 2)), np.arange(5))
    with pytest.raises(ValueError, match="hidden, C \\* H \\* W"):
        permute_input_weights(np.zeros((3, 10)), np.arange(3), channels=3)
    assert sorted(pixel_permutation(3, 3, seed=5).tolist()) == list(range(9))
    assert not np.array_equal(pixel_permutation(8, 8, seed=0), pixel_permutation(8, 8, seed=1))


# -- HoG arithmetic (S2.6) -------------------------------------------------------------------------


@pytest.mark.parametrize("h, w, ppc, cpb, bins", [(240, 320, 8, 2, 9), (32, 32, 8, 2, 9), (32, 32, 4, 2, 9),
                                                  (37, 29, (6, 5), (3, 2), 7), (16, 24, 8, 1, 12)])
def test_hog_shape_matches_skimage(h, w, ppc, cpb, bins):
    from skimage.feature import hog
    img = np.random.default_rng(0).random((h, w))
    s = hog_shape(h, w, pixels_per_cell=ppc, orientations=bins, cells_per_block=cpb)
    blocks = hog(img, orientations=bins, pixels_per_cell=ppc if isinstance(ppc, tuple) else (ppc, ppc),
                 cells_per_block=cpb if isinstance(cpb, tuple) else (cpb, cpb), feature_vector=False)
    assert blocks.shape[:2] == s.blocks and blocks.size == s.length
    assert s.cell_values == s.cells[0] * s.cells[1] * bins
    # the same length as the library's own descriptor
    if not isinstance(ppc, tuple) and not isinstance(cpb, tuple):
        assert hog_features(np.zeros((1, 1, h, w)), pixels_per_cell=ppc, cells_per_block=cpb,
                            orientations=bins).shape == (1, s.length)


def test_hog_shape_slides_example_and_checks():
    s = hog_shape(240, 320)
    assert s.cells == (30, 40) and s.cell_values == 10_800
    with pytest.raises(ValueError, match="fewer than one block"):
        hog_shape(8, 8, pixels_per_cell=8, cells_per_block=2)
    with pytest.raises(TypeError, match="height"):
        hog_shape(24.0, 24)
    with pytest.raises(ValueError, match="orientations"):
        hog_shape(24, 24, orientations=0)
