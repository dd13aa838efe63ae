"""Batch augmentation (course_lib.augment): exact flips and crops, torchvision's colour ops, seeds."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision.transforms.v2.functional as TF

from course_lib.augment import (Augmenter, adjust_brightness, adjust_contrast, adjust_hue,
                                adjust_saturation, augmenter, color_jitter, hflip, normalize,
                                random_crop, random_flip, rgb_to_grayscale, vflip)
from course_lib.training import TensorLoader
from course_lib.augment import affine_image, shift_image


def images(n=6, c=3, h=9, w=11, seed=0, dtype=torch.float32):
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- flips

def test_hflip_vflip_are_exact_reversals():
    x = images()
    assert torch.equal(hflip(x)[..., 0], x[..., -1])
    assert torch.equal(hflip(x), x[..., torch.arange(x.shape[-1] - 1, -1, -1)])
    assert torch.equal(vflip(x), x[:, :, torch.arange(x.shape[-2] - 1, -1, -1)])
    assert torch.equal(hflip(hflip(x)), x)


def test_random_flip_flips_whole_images_horizontally():
    x = images(n=200)
    y = random_flip(x, gen(1))
    flipped = torch.tensor([torch.equal(a, b.flip(-1)) for a, b in zip(y, x)])
    kept = torch.tensor([torch.equal(a, b) for a, b in zip(y, x)])
    assert bool((flipped ^ kept).all())                  # each image: exactly one of the two
    assert 60 < int(flipped.sum()) < 140                  # p = 0.5
    assert not any(torch.equal(a, b.flip(-2)) for a, b in zip(y, x))   # never upside down


@pytest.mark.parametrize("p, n_flipped", [(0.0, 0), (1.0, 7)])
def test_random_flip_probability_extremes(p, n_flipped):
    x = images(n=7)
    y = random_flip(x, 3, p=p)
    assert sum(torch.equal(a, b.flip(-1)) for a, b in zip(y, x)) == n_flipped


def test_random_flip_vertical():
    x = images(n=5)
    assert torch.equal(random_flip(x, 0, p=1.0, direction="vertical"), x.flip(-2))


# ----------------------------------------------------------------------------- crops

def _find_offset(window, padded):
    """All (dy, dx) at which ``window`` equals a window of ``padded`` (C, H, W)."""
    h, w = window.shape[-2:]
    return [(dy, dx) for dy in range(padded.shape[-2] - h + 1) for dx in range(padded.shape[-1] - w + 1)
            if torch.equal(padded[:, dy:dy + h, dx:dx + w], window)]


@pytest.mark.parametrize("padding, size", [(4, None), (2, (7, 5)), (0, 6), (3, (15, 17))])
def test_random_crop_is_an_exact_window_of_the_padded_image(padding, size):
    x = images(n=12)
    y = random_crop(x, gen(2), padding=padding, size=size)
    h, w = (x.shape[-2], x.shape[-1]) if size is None else ((size, size) if isinstance(size, int) else size)
    assert y.shape == (12, 3, h, w)
    padded = torch.nn.functional.pad(x, (padding,) * 4)
    for a, p in zip(y, padded):
        assert len(_find_offset(a, p)) == 1               # random values: exactly one matching window


def test_random_crop_offsets_cover_all_shifts():
    x = images(n=400, h=5, w=5)
    y = random_crop(x, gen(4), padding=1)
    padded = torch.nn.functional.pad(x, (1,) * 4)
    offsets = {_find_offset(a, p)[0] for a, p in zip(y, padded)}
    assert offsets == {(dy, dx) for dy in range(3) for dx in range(3)}


def test_random_crop_fill_per_channel():
    x = torch.zeros(50, 3, 4, 4)
    y = random_crop(x, gen(0), padding=2, fill=(0.1, 0.5, 0.9))
    for c, v in enumerate((0.1, 0.5, 0.9)):
        values = torch.unique(y[:, c])
        assert all(float(u) == 0.0 or abs(float(u) - v) < 1e-6 for u in values)
    assert torch.isclose(y[:, 2], torch.tensor(0.9)).any()


def test_random_crop_padding_zero_full_size_is_identity():
    x = images()
    assert torch.equal(random_crop(x, gen(0), padding=0), x)


# ----------------------------------------------------------------------------- colour vs torchvision

FACTORS = [0.0, 0.3, 0.8, 1.0, 1.4, 2.5]


@pytest.mark.parametrize("ours, theirs", [(adjust_brightness, TF.adjust_brightness),
                                          (adjust_contrast, TF.adjust_contrast),
                                          (adjust_saturation, TF.adjust_saturation)])
@pytest.mark.parametrize("c", [1, 3])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_colour_ops_match_torchvision(ours, theirs, c, dtype):
    x = images(n=len(FACTORS), c=c, dtype=dtype)
    factors = torch.tensor(FACTORS, dtype=dtype)
    y = ours(x, factors)                                  # one factor per image, one call
    for i, f in enumerate(FACTORS):
        torch.testing.assert_close(y[i], theirs(x[i], f), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(ours(x[i:i + 1], f)[0], theirs(x[i], f), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_adjust_hue_matches_torchvision(dtype):
    hues = [-0.5, -0.31, -0.1, 0.0, 0.05, 0.25, 1 / 3, 0.5]
    x = images(n=len(hues), h=16, w=16, dtype=dtype)
    x[0, :, :4, :4] = 0.5                                 # grey pixels: no hue at all
    x[1, :, :4, :4] = 0.0                                 # black pixels
    x[2, 0, :4, :4] = 1.0                                 # ties between the largest channels
    x[2, 1, :4, :4] = 1.0
    y = adjust_hue(x, torch.tensor(hues, dtype=dtype))
    for i, h in enumerate(hues):
        torch.testing.assert_close(y[i], TF.adjust_hue(x[i], h).to(dtype), rtol=1e-5, atol=2e-6)


def test_adjust_hue_and_saturation_leave_grey_images_alone():
    x = images(c=1)
    assert torch.equal(adjust_hue(x, 0.3), x) and torch.equal(adjust_saturation(x, 0.0), x)


def test_rgb_to_grayscale_matches_torchvision():
    x = images()
    torch.testing.assert_close(rgb_to_grayscale(x), TF.rgb_to_grayscale(x))


def test_color_jitter_is_torchvision_ops_with_the_drawn_factors():
    x = images(n=5)
    s = dict(brightness=0.4, contrast=0.3, saturation=0.5, hue=0.1)
    y = color_jitter(x, gen(9), **s)
    g = gen(9)                                            # replay the draws: N per operation, in order
    draw = lambda lo, hi: (lo + (hi - lo) * torch.rand(5, generator=g, dtype=torch.float64)).tolist()
    fb, fc, fs, fh = draw(0.6, 1.4), draw(0.7, 1.3), draw(0.5, 1.5), draw(-0.1, 0.1)
    for i in range(5):
        ref = TF.adjust_hue(TF.adjust_saturation(TF.adjust_contrast(
            TF.adjust_brightness(x[i], fb[i]), fc[i]), fs[i]), fh[i])
        torch.testing.assert_close(y[i], ref, rtol=1e-5, atol=2e-6)


# ----------------------------------------------------------------------------- range, seeds, devices

def test_values_stay_in_unit_interval():
    x = images(n=64, h=8, w=8)
    x[:8] = 1.0
    x[8:16] = 0.0
    aug = augmenter(padding=3, flip=True, brightness=0.9, contrast=0.9, saturation=0.9, hue=0.5)
    for seed in range(5):
        y = aug(x, gen(seed))
        assert y.min() >= 0.0 and y.max() <= 1.0 and torch.isfinite(y).all()
    for op in (adjust_brightness, adjust_contrast, adjust_saturation):
        y = op(x, 3.0)
        assert y.min() >= 0.0 and y.max() <= 1.0


def test_same_seed_same_batch_different_seed_different_batch():
    x = images(n=16)
    aug = augmenter(padding=2, flip=True, brightness=0.3, contrast=0.3, saturation=0.3, hue=0.05)
    a, b, c = aug(x, gen(5)), aug(x, gen(5)), aug(x, gen(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(aug(x, 5), a)                      # an int seed is the same generator
    g = gen(5)
    first, second = aug(x, g), aug(x, g)                  # one generator: successive batches differ
    assert torch.equal(first, a) and not torch.equal(second, a)


def test_input_is_not_modified():
    x = images()
    before = x.clone()
    augmenter(padding=2, flip=True, brightness=0.5, contrast=0.5, saturation=0.5, hue=0.2,
              mean=[0.5] * 3, std=[0.2] * 3)(x, gen(0))
    assert torch.equal(x, before)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_batch_gives_the_cpu_result():
    x = images(n=8)
    aug = augmenter(padding=2, flip=True, brightness=0.3, contrast=0.3, saturation=0.3, hue=0.05)
    torch.testing.assert_close(aug(x.cuda(), gen(1)).cpu(), aug(x, gen(1)), rtol=1e-5, atol=1e-5)


def test_augmenter_as_tensorloader_transform():
    x = (torch.rand(20, 3, 8, 8, generator=gen(0)) * 255).to(torch.uint8)
    y = torch.arange(20)
    aug = augmenter(padding=1, flip=True, mean=[0.5] * 3, std=[0.25] * 3)
    runs = [[xb for xb, _ in TensorLoader(x, y, 8, shuffle=True, device="cpu", transform=aug, seed=3)]
            for _ in range(2)]
    assert [b.shape[0] for b in runs[0]] == [8, 8, 4]
    assert all(torch.equal(a, b) for a, b in zip(*runs))


def test_augmenter_steps_and_normaliser():
    assert augmenter().names == []
    assert augmenter(mean=[0.5], std=[0.5]).names == ["normalize"]
    assert augmenter(size=24).names == ["crop"]
    aug = augmenter(padding=4, flip=True, hue=0.1, mean=[0.1, 0.2, 0.3])
    assert repr(aug) == "Augmenter(crop -> flip -> color_jitter -> normalize)"
    x = images()
    torch.testing.assert_close(augmenter(mean=[0.5] * 3, std=[0.25] * 3)(x, 0), (x - 0.5) / 0.25)
    torch.testing.assert_close(normalize(x, [0.5] * 3, [0.25] * 3), (x - 0.5) / 0.25)


def test_crop_fill_mean_becomes_zero_after_normalising():
    x = images(n=20)
    mean = [0.4, 0.5, 0.6]
    y = augmenter(padding=4, fill=mean, mean=mean, std=[0.2] * 3)(x, gen(0))
    # the same draws on an all-zero batch padded with ones mark where the padding landed
    marks = random_crop(torch.zeros_like(x), gen(0), padding=4, fill=1.0)
    assert marks.sum() > 0
    torch.testing.assert_close(y[marks.bool()], torch.zeros(int(marks.sum())), atol=1e-6, rtol=0)


# ----------------------------------------------------------------------------- argument checks

@pytest.mark.parametrize("call, exc, words", [
    (lambda: hflip(torch.zeros(3, 4, 4)), ValueError, "x must be 4D"),
    (lambda: hflip(torch.zeros(1, 3, 4, 4, dtype=torch.uint8)), TypeError, "x.float() / 255"),
    (lambda: hflip([[1.0]]), TypeError, "torch.as_tensor"),
    (lambda: random_flip(images(), "seed"), TypeError, "generator"),
    (lambda: random_flip(images(), 0, p=1.5), ValueError, "p must"),
    (lambda: random_flip(images(), 0, direction="diagonal"), ValueError, "direction"),
    (lambda: random_crop(images(), 0, padding=-1), ValueError, "padding must be >= 0"),
    (lambda: random_crop(images(), 0, padding=1, size=20), ValueError, "does not fit"),
    (lambda: random_crop(images(), 0, fill=(0.1, 0.2)), ValueError, "fill"),
    (lambda: adjust_brightness(images(), -0.5), ValueError, "factor must lie in"),
    (lambda: adjust_brightness(images(), torch.ones(2)), ValueError, "one entry per image"),
    (lambda: adjust_hue(images(), 0.7), ValueError, "[-0.5, 0.5]"),
    (lambda: adjust_contrast(images(c=4), 1.0), ValueError, "C=4"),
    (lambda: color_jitter(images(), 0, hue=0.6), ValueError, "hue must"),
    (lambda: color_jitter(images(), 0, brightness=-1), ValueError, "brightness must"),
    (lambda: normalize(images(), [0.5], [0.2]), ValueError, "one entry per channel"),
    (lambda: normalize(images(), [0.5] * 3, [0.2, 0.0, 0.2]), ValueError, "std must be > 0"),
    (lambda: augmenter(flip=1), TypeError, "flip must be True or False"),
    (lambda: augmenter(std=[1.0]), ValueError, "without mean"),
    (lambda: Augmenter([lambda x, g: x]), TypeError, "(name, callable)"),
])
def test_bad_arguments_are_explained(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert words in str(info.value)


# -- shift_image, affine_image ---------------------------------------------------------------------

@pytest.mark.parametrize("dy, dx", [(0, 0), (3, 5), (-2, 1), (0, -4), (27, 0), (-28, 3), (40, -40)])
def test_shift_image_numpy_and_torch_agree_with_a_padded_crop(dy, dx):
    rng = np.random.default_rng(0)
    x = rng.random((2, 1, 28, 28))
    h, w = x.shape[-2:]
    pad = np.pad(x, ((0, 0), (0, 0), (max(dy, 0) + 40, 40), (max(dx, 0) + 40, 40)))
    # the padded copy holds the content at offset (40 + max(dy, 0), ...); read the window moved by (dy, dx)
    r0, c0 = 40 + max(dy, 0) - dy, 40 + max(dx, 0) - dx
    want = pad[..., r0:r0 + h, c0:c0 + w]
    got = shift_image(x, dy, dx)
    np.testing.assert_array_equal(got, want)
    t = shift_image(torch.from_numpy(x), dy, dx)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float64
    np.testing.assert_array_equal(t.numpy(), want)
    assert got.shape == x.shape and (abs(dy) >= h or abs(dx) >= w) == (not got.any())


def test_shift_image_is_what_conv_commutes_with():
    from course_lib.conv import correlate2d
    img = np.random.default_rng(1).random((12, 12))
    k = np.random.default_rng(2).standard_normal((3, 3))
    lhs = correlate2d(shift_image(img, 2, 3), k)
    rhs = shift_image(correlate2d(img, k), 2, 3)
    np.testing.assert_allclose(lhs[2:, 3:], rhs[2:, 3:], rtol=1e-12, atol=1e-12)


def test_shift_image_checks():
    with pytest.raises(TypeError, match="dy"):
        shift_image(np.zeros((3, 3)), 1.5, 0)
    with pytest.raises(TypeError, match="x must be"):
        shift_image([[1, 2], [3, 4]], 1, 0)
    with pytest.raises(ValueError, match="at least 2 axes"):
        shift_image(np.zeros(3), 1, 0)


def test_affine_image_identity_shift_rotation_and_brightness():
    img = np.zeros((28, 28))
    img[8:20, 12:15] = 1.0                                   # a vertical bar
    np.testing.assert_allclose(affine_image(img), img, atol=1e-12)
    np.testing.assert_allclose(affine_image(img, shift=(2, -3)), shift_image(img, 2, -3), atol=1e-12)
    np.testing.assert_allclose(affine_image(img, angle=180), img[::-1, ::-1], atol=1e-12)
    np.testing.assert_allclose(affine_image(img, angle=90), np.rot90(img), atol=1e-12)   # counter-clockwise
    np.testing.assert_allclose(affine_image(img, brightness=0.5), 0.5 * img, atol=1e-12)
    assert affine_image(img, scale=1.5).sum() > 1.5 * img.sum()
    assert affine_image(torch.from_numpy(img), brightness=3.0).max() == 1.0          # clipped


@pytest.mark.parametrize("kwargs, exc", [(dict(scale=0), ValueError), (dict(brightness=-1), ValueError),
                                         (dict(angle="5"), TypeError), (dict(shift=(1,)), TypeError)])
def test_affine_image_checks(kwargs, exc):
    with pytest.raises(exc):
        affine_image(np.zeros((5, 5)), **kwargs)
