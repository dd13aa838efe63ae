"""The scene generator: determinism, consistency of images, boxes and masks, argument checks."""
from __future__ import annotations

import numpy as np
import pytest

from course_lib.scenes import Scenes, make_scenes, object_crops, split_digits


@pytest.fixture(scope="module")
def pool():
    rng = np.random.default_rng(0)
    digits = np.zeros((40, 28, 28), np.uint8)
    digits[:, 6:22, 10:18] = rng.integers(150, 256, (40, 16, 8))       # a bright bar inside the core
    return digits, np.arange(40) % 10


def test_deterministic_and_seed_dependent(pool):
    a = make_scenes(20, *pool, seed=3)
    b = make_scenes(20, *pool, seed=3)
    c = make_scenes(20, *pool, seed=4)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.masks, b.masks)
    assert all(np.array_equal(x, y) for x, y in zip(a.boxes, b.boxes))
    assert not np.array_equal(a.images, c.images)


def test_boxes_masks_and_labels_agree(pool):
    s = make_scenes(60, *pool, size=64, objects=(1, 4), scale=(14, 30), max_overlap=0.25, seed=1)
    assert s.images.shape == (60, 1, 64, 64) and s.images.dtype == np.uint8
    for i in range(len(s)):
        b, lab = s.boxes[i], s.labels[i]
        assert 1 <= len(b) <= 4 and b.dtype == np.float32 and lab.dtype == np.int64
        assert (b[:, :2] >= 0).all() and (b[:, 2:] <= 64).all()
        h = b[:, 3] - b[:, 1]
        assert ((h >= 14) & (h <= 30)).all()
        if len(b) > 1:
            from course_lib.detection import box_iou
            iou = box_iou(b, b)
            assert iou[~np.eye(len(b), dtype=bool)].max() <= 0.25 + 1e-6
        for k in range(len(b)):
            pix = s.instances[i] == k + 1
            # mask pixels of an object lie inside its box and carry its class (+1)
            ys, xs = np.nonzero(pix)
            if len(ys):
                assert xs.min() >= b[k, 0] and xs.max() < b[k, 2] and ys.min() >= b[k, 1] and ys.max() < b[k, 3]
            assert (s.masks[i][pix] == lab[k] + 1).all()
        assert ((s.masks[i] > 0) == (s.instances[i] > 0)).all()


def test_no_clutter_no_noise_background_is_dark(pool):
    s = make_scenes(5, *pool, clutter=(0, 0), noise=0.0, objects=(0, 0), seed=0)
    assert s.images.max() <= int(0.12 * 255) + 1 and s.masks.max() == 0
    assert all(len(b) == 0 for b in s.boxes)


def test_split_digits_disjoint_and_stratified():
    labels = np.repeat(np.arange(10), 50)
    parts = split_digits(labels, (0.7, 0.1, 0.2), seed=0)
    assert [len(p) for p in parts] == [350, 50, 100]
    assert len(np.intersect1d(parts[0], parts[1])) == len(np.intersect1d(parts[1], parts[2])) == 0
    assert np.bincount(labels[parts[2]]).tolist() == [10] * 10


def test_object_crops(pool):
    s = make_scenes(10, *pool, seed=2)
    x, y = object_crops(s, background_per_scene=3, seed=0)
    assert x.dtype == np.uint8 and x.shape[1:] == (1, 28, 28)
    assert (y == 10).sum() <= 30 and (y < 10).sum() == sum(len(b) for b in s.boxes)
    assert isinstance(s.subset([0, 2]), Scenes) and len(s.subset(slice(0, 4))) == 4


def test_argument_checks(pool):
    with pytest.raises(ValueError, match="n must be >= 1"):
        make_scenes(0, *pool)
    with pytest.raises(ValueError, match="28 x 28"):
        make_scenes(1, np.zeros((3, 20, 20)), np.arange(3))
    with pytest.raises(ValueError, match="labels"):
        make_scenes(1, pool[0], pool[1][:5])
    with pytest.raises(ValueError, match="scale"):
        make_scenes(1, *pool, scale=(30, 10))
    with pytest.raises(TypeError, match="objects"):
        make_scenes(1, *pool, objects=3)
    with pytest.raises(ValueError, match="noise"):
        make_scenes(1, *pool, noise=-1)
    with pytest.raises(ValueError, match="fractions"):
        split_digits(np.arange(10), (0.8, 0.5))
    with pytest.raises(TypeError, match="scenes"):
        object_crops("scenes")
