"""Integral images and Haar-like features: vectorised == loops == direct sums == scikit-image."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from skimage.feature import haar_like_feature
from skimage.transform import integral_image as sk_integral_image

from conftest import BAD_DTYPE_ARRAYS
from course_lib.integral_image import (HAAR_KINDS, haar_feature, haar_feature_naive, haar_rectangles,
                                       integral_image, integral_image_naive, rect_sum)

SPLITS = {"type-2-x": (1, 2), "type-2-y": (2, 1), "type-3-x": (1, 3), "type-3-y": (3, 1), "type-4": (2, 2)}


@st.composite
def images(draw, max_side=9, batch=False):
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    lead = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) if batch else ()
    seed = draw(st.integers(0, 2 ** 31))
    rng = np.random.default_rng(seed)
    if draw(st.booleans()):
        return rng.integers(0, 256, size=lead + (h, w)).astype(np.uint8)
    return np.round(rng.standard_normal(lead + (h, w)), 3)


# -- integral image -----------------------------------------------------------------------------

@given(images(batch=True))
def test_integral_image_matches_naive_and_definition(img):
    ii = integral_image(img)
    assert ii.shape == img.shape[:-2] + (img.shape[-2] + 1, img.shape[-1] + 1)
    np.testing.assert_allclose(ii, integral_image_naive(img), atol=1e-12)
    assert np.all(ii[..., 0, :] == 0) and np.all(ii[..., :, 0] == 0)
    y, x = img.shape[-2] // 2 + 1, img.shape[-1] // 2 + 1
    np.testing.assert_allclose(ii[..., y, x], img[..., :y, :x].astype(np.float64).sum(axis=(-2, -1)), atol=1e-12)


def test_integral_image_matches_skimage():
    img = np.random.default_rng(0).standard_normal((13, 17))
    np.testing.assert_allclose(integral_image(img)[1:, 1:], sk_integral_image(img), atol=1e-12)


def test_integral_image_dtypes_exact_and_no_uint8_overflow():
    img = np.full((40, 40), 255, dtype=np.uint8)
    ii = integral_image(img)
    assert ii.dtype == np.int64 and ii[-1, -1] == 255 * 1600
    assert integral_image(np.ones((2, 2), dtype=np.float32)).dtype == np.float64


def test_integral_image_worked_example():
    np.testing.assert_array_equal(integral_image(np.array([[1, 2], [3, 4]])),
                                  [[0, 0, 0], [0, 1, 3], [0, 4, 10]])


@pytest.mark.parametrize("bad", [np.zeros(5), np.zeros((0, 3)), 3.0])
def test_integral_image_rejects_bad_shapes(bad):
    with pytest.raises(ValueError, match="image"):
        integral_image(bad)


@pytest.mark.parametrize("kind", sorted(BAD_DTYPE_ARRAYS))
def test_integral_image_rejects_bad_dtypes(kind):
    with pytest.raises(TypeError, match="image"):
        integral_image(BAD_DTYPE_ARRAYS[kind]((3, 3)))


# -- rectangle sums -----------------------------------------------------------------------------

@given(images(max_side=10, batch=True), st.data())
def test_rect_sum_equals_direct_sum(img, data):
    h, w = img.shape[-2:]
    top, left = data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, w - 1))
    height, width = data.draw(st.integers(1, h - top)), data.draw(st.integers(1, w - left))
    got = rect_sum(integral_image(img), top, left, height, width)
    want = img[..., top:top + height, left:left + width].astype(np.float64).sum(axis=(-2, -1))
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_rect_sum_argument_checks():
    ii = integral_image(np.ones((4, 5)))
    with pytest.raises(ValueError, match="leaves the 4 x 5 image"):
        rect_sum(ii, 2, 0, 3, 1)
    with pytest.raises(ValueError, match="height must be >= 1"):
        rect_sum(ii, 0, 0, 0, 1)
    with pytest.raises(TypeError, match="top must be an int"):
        rect_sum(ii, 1.5, 0, 1, 1)
    with pytest.raises(ValueError, match="integral image"):
        rect_sum(np.ones(3), 0, 0, 1, 1)


# -- Haar-like features -------------------------------------------------------------------------

@st.composite
def feature_setup(draw):
    kind = draw(st.sampled_from(HAAR_KINDS))
    rows, cols = SPLITS[kind]
    height = rows * draw(st.integers(1, 3))
    width = cols * draw(st.integers(1, 3))
    img = draw(images(max_side=12, batch=draw(st.booleans())))
    h, w = img.shape[-2:]
    pad_h, pad_w = max(0, height - h), max(0, width - w)
    if pad_h or pad_w:                       # make the window fit
        img = np.pad(img, [(0, 0)] * (img.ndim - 2) + [(0, pad_h), (0, pad_w)])
    return img, kind, height, width


@given(feature_setup(), st.booleans())
def test_haar_feature_matches_naive(setup, normalize):
    img, kind, height, width = setup
    fast = haar_feature(img, kind, height, width, normalize=normalize)
    slow = haar_feature_naive(img, kind, height, width, normalize=normalize)
    assert fast.shape == img.shape[:-2] + (img.shape[-2] - height + 1, img.shape[-1] - width + 1)
    np.testing.assert_allclose(fast, slow, atol=1e-9)


@pytest.mark.parametrize("kind", HAAR_KINDS)
def test_normalized_features_vanish_on_flat_windows_and_rescale(kind):
    rows, cols = SPLITS[kind]
    flat = np.full((12, 12), 0.7)
    np.testing.assert_allclose(haar_feature(flat, kind, 2 * rows, 2 * cols, normalize=True), 0.0, atol=1e-12)
    img = np.random.default_rng(4).standard_normal((10, 11))
    raw = haar_feature(img, kind, 2 * rows, 2 * cols)
    norm = haar_feature(img, kind, 2 * rows, 2 * cols, normalize=True)
    if kind != "type-3-x" and kind != "type-3-y":      # equal + and - areas: just a rescaling
        np.testing.assert_allclose(norm, raw / (2 * rows * 2 * cols / 2), atol=1e-12)
    else:                                              # mean(middle) - mean(outer strips)
        h, w = 2 * rows, 2 * cols
        ii = integral_image(img)
        total = np.array([[rect_sum(ii, i, j, h, w) for j in range(raw.shape[1])] for i in range(raw.shape[0])])
        middle, outer = (total + raw) / 2, (total - raw) / 2
        np.testing.assert_allclose(norm, middle / (h * w / 3) - outer / (2 * h * w / 3), atol=1e-12)


@pytest.mark.parametrize("kind", HAAR_KINDS)
def test_haar_feature_matches_skimage(kind):
    # skimage's haar_like_feature evaluates given rectangles inside a window; we evaluate the window
    # cut out at several positions (r = c = 0 inside the crop) and compare with our response map.
    rng = np.random.default_rng(1)
    img = rng.standard_normal((14, 15))
    rows, cols = SPLITS[kind]
    height, width = 2 * rows, 2 * cols
    ours = haar_feature(img, kind, height, width)
    rects = haar_rectangles(kind, height, width)
    coords = [[(t, l), (t + h - 1, l + w - 1)] for _, t, l, h, w in rects]
    if kind == "type-4":                     # skimage lists the checkerboard clockwise: TL, TR, BR, BL
        coords = [coords[0], coords[1], coords[3], coords[2]]
    feature_coord = np.empty(1, dtype=object)
    feature_coord[0] = coords
    for r, c in [(0, 0), (3, 5), (14 - height, 15 - width)]:
        crop = img[r:r + height, c:c + width]
        sk = haar_like_feature(sk_integral_image(crop), 0, 0, width, height,
                               feature_type=np.array([kind], dtype=object), feature_coord=feature_coord)
        np.testing.assert_allclose(ours[r, c], sk[0], rtol=1e-10, atol=1e-10)


def test_haar_feature_signs():
    # a dark top half over a bright bottom half: type-2-y (bottom minus top) is positive
    img = np.vstack([np.zeros((2, 4)), np.ones((2, 4))])
    assert haar_feature(img, "type-2-y", 4, 4)[0, 0] == 8.0
    assert haar_feature(img, "type-2-x", 4, 4)[0, 0] == 0.0
    # a bright middle column between dark ones: type-3-x (middle minus outer) is positive
    bar = np.zeros((3, 3)); bar[:, 1] = 1.0
    assert haar_feature(bar, "type-3-x", 3, 3)[0, 0] == 3.0
    checker = np.array([[0, 1], [1, 0]])
    assert haar_feature(checker, "type-4", 2, 2)[0, 0] == 2


def test_haar_rectangles_cover_the_window_once():
    for kind in HAAR_KINDS:
        rows, cols = SPLITS[kind]
        cover = np.zeros((6, 6), dtype=int)
        for sign, t, l, h, w in haar_rectangles(kind, 6, 6, top=0, left=0):
            assert sign in (-1, 1)
            cover[t:t + h, l:l + w] += 1
        assert np.all(cover == 1)
        assert len(haar_rectangles(kind, 6, 6)) == rows * cols


def test_haar_argument_checks():
    img = np.zeros((8, 8))
    with pytest.raises(ValueError, match="kind must be one of"):
        haar_feature(img, "type-5", 2, 2)
    with pytest.raises(ValueError, match="width must be a multiple of 3"):
        haar_feature(img, "type-3-x", 3, 4)
    with pytest.raises(ValueError, match="height must be a multiple of 2"):
        haar_feature_naive(img, "type-2-y", 3, 2)
    with pytest.raises(ValueError, match="does not fit"):
        haar_feature(img, "type-2-x", 4, 10)


@pytest.mark.parametrize("kind", sorted(SPLITS))
def test_haar_mask_correlation_equals_the_feature(kind):
    from course_lib.conv import correlate2d
    from course_lib.integral_image import haar_mask
    rows, cols = SPLITS[kind]
    mask = haar_mask(kind, 2 * rows, 2 * cols)
    assert set(np.unique(mask)) == {-1.0, 1.0} and mask.shape == (2 * rows, 2 * cols)
    img = np.random.default_rng(5).standard_normal((9, 10))
    np.testing.assert_allclose(correlate2d(img, mask), haar_feature(img, kind, 2 * rows, 2 * cols),
                               rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError):
        haar_mask(kind, 2 * rows + 1 if rows > 1 else 3 * rows + 1, 2 * cols + (1 if cols > 1 else 0) or 1)
