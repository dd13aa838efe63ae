"""Scenes the book makes itself: digits on larger canvases, with boxes and per-pixel masks.

No detection or segmentation dataset ships with the book, so chapters on
detection and segmentation build their own. :func:`make_scenes` pastes MNIST
digits (the objects, classes 0-9) onto a dark canvas at several sizes and aspect
ratios, lets later digits partly cover earlier ones (occlusion), adds unlabelled
clutter (strokes, rings, rectangles and digit fragments, all background) and
pixel noise, and returns

* the images, uint8 (N, 1, S, S),
* one box array per scene, (k, 4) float32 corners (x1, y1, x2, y2) in pixels,
  ``x2``/``y2`` exclusive, as torchvision uses them,
* one label array per scene, (k,) int64 digit classes,
* a class mask, uint8 (N, S, S): 0 for background, ``c + 1`` for a pixel of digit ``c``,
* an instance mask, int16 (N, S, S): 0 for background, ``i + 1`` for object ``i`` of the scene.

A digit's box is the rectangle its 20 x 20 MNIST core (rows and columns 4-23 of
the 28 x 28 image) was resized into, so thin digits such as a "1" have boxes
wider than their ink, exactly as the core box of the original data. Its mask
is the ink of the digit (intensity above ``ink_threshold``) that no later digit
covers. Everything is seeded; the same arguments give the same scenes.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ._checks import check_array, check_int

__all__ = ["Scenes", "make_scenes", "split_digits", "object_crops"]


@dataclass
class Scenes:
    """A batch of generated scenes (see the module docstring for the fields).

    Attributes
    ----------
    images : np.ndarray, uint8, (N, 1, S, S)
    boxes : list of np.ndarray, float32, (k_i, 4)
    labels : list of np.ndarray, int64, (k_i,)
    masks : np.ndarray, uint8, (N, S, S)
        Class map: 0 background, ``c + 1`` digit ``c``.
    instances : np.ndarray, int16, (N, S, S)
        Instance map: 0 background, ``i + 1`` object ``i``.
    seed : int
    note : str
        Where the digits came from; print it next to results.
    """

    images: np.ndarray
    boxes: List[np.ndarray]
    labels: List[np.ndarray]
    masks: np.ndarray
    instances: np.ndarray
    seed: int
    note: str = ""

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        k = sum(len(b) for b in self.boxes)
        return (f"Scenes(n={len(self)}, size={self.images.shape[-1]}, objects={k}, seed={self.seed})")

    def subset(self, idx) -> "Scenes":
        """The scenes at positions ``idx`` (a slice, or a sequence of ints)."""
        if isinstance(idx, slice):
            idx = range(*idx.indices(len(self)))
        idx = [int(i) for i in idx]
        return Scenes(self.images[idx], [self.boxes[i] for i in idx], [self.labels[i] for i in idx],
                      self.masks[idx], self.instances[idx], self.seed, self.note)


def _resize_bilinear(img: np.ndarray, h: int, w: int) -> np.ndarray:
    """Resize a 2D float array to (h, w) with half-pixel-centred bilinear sampling."""
    H, W = img.shape
    ys = np.clip((np.arange(h) + 0.5) * H / h - 0.5, 0, H - 1)
    xs = np.clip((np.arange(w) + 0.5) * W / w - 0.5, 0, W - 1)
    y0 = np.floor(ys).astype(int)
    x0 = np.floor(xs).astype(int)
    y1 = np.minimum(y0 + 1, H - 1)
    x1 = np.minimum(x0 + 1, W - 1)
    wy = (ys - y0)[:, None]
    wx = (xs - x0)[None, :]
    top = img[y0][:, x0] * (1 - wx) + img[y0][:, x1] * wx
    bot = img[y1][:, x0] * (1 - wx) + img[y1][:, x1] * wx
    return top * (1 - wy) + bot * wy


def _check_range(name: str, value, lo: float, hi: float, *, integer: bool = False):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (low, high), got {value!r}; pass e.g. {name}=({lo}, {hi})")
    a, b = value
    for v in (a, b):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must hold numbers, got {value!r}; pass e.g. {name}=({lo}, {hi})")
        if integer and int(v) != v:
            raise TypeError(f"{name} must hold whole numbers, got {value!r}; pass e.g. {name}=({int(lo)}, {int(hi)})")
    if not (lo <= a <= b <= hi):
        raise ValueError(f"{name} must satisfy {lo} <= low <= high <= {hi}, got {name}={value!r}; "
                         f"pass e.g. {name}=({lo}, {hi})")
    return (int(a), int(b)) if integer else (float(a), float(b))


def _check_float(name: str, value, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {value!r}; pass e.g. {name}={lo}")
    value = float(value)
    if not (lo <= value <= hi):
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {name}={value}; pick a value in that range")
    return value


def _digit_arrays(digits, labels) -> Tuple[np.ndarray, np.ndarray]:
    d = check_array("digits", digits, ndim=(3, 4), shape_hint="(N, 1, 28, 28) or (N, 28, 28)")
    if d.ndim == 4:
        if d.shape[1] != 1:
            raise ValueError(f"digits must have one channel, got shape {d.shape}; pass grey images")
        d = d[:, 0]
    if d.shape[1:] != (28, 28):
        raise ValueError(f"digits must be 28 x 28 MNIST images, got shape {d.shape}; "
                         "pass cl.load_mnist('test')[0] or a subset of it")
    lab = check_array("labels", labels, ndim=1, shape_hint="(N,)")
    if len(lab) != len(d) or len(d) == 0:
        raise ValueError(f"labels must have one entry per digit ({len(d)}), got {len(lab)}; "
                         "pass the labels that come with the digits")
    if not np.issubdtype(lab.dtype, np.integer):
        raise TypeError(f"labels must be integers, got dtype {lab.dtype}; use labels.astype(int)")
    d = d.astype(np.float32)
    if d.max() > 1.0:
        d = d / 255.0
    return d, lab.astype(np.int64)


def _clutter(canvas: np.ndarray, rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray,
             cores: np.ndarray) -> None:
    """Paint one unlabelled distractor, dimmer than the digits, onto ``canvas`` in place."""
    S = canvas.shape[0]
    kind = rng.integers(4)
    level = rng.uniform(0.25, 0.55)
    if kind == 0:     # a straight stroke
        x0, y0 = rng.uniform(0, S, 2)
        ang = rng.uniform(0, np.pi)
        length = rng.uniform(6, 18)
        dx, dy = np.cos(ang), np.sin(ang)
        t = np.clip((xx - x0) * dx + (yy - y0) * dy, 0, length)
        dist = np.hypot(xx - (x0 + t * dx), yy - (y0 + t * dy))
        shape = np.clip(1.5 - dist, 0, 1)
    elif kind == 1:   # a ring
        cx, cy = rng.uniform(0, S, 2)
        r = rng.uniform(3, 8)
        shape = np.clip(1.2 - np.abs(np.hypot(xx - cx, yy - cy) - r), 0, 1)
    elif kind == 2:   # a rectangle outline
        x0, y0 = rng.uniform(-4, S - 4, 2)
        w, h = rng.uniform(5, 14, 2)
        inside = (xx >= x0) & (xx <= x0 + w) & (yy >= y0) & (yy <= y0 + h)
        inner = (xx >= x0 + 1.5) & (xx <= x0 + w - 1.5) & (yy >= y0 + 1.5) & (yy <= y0 + h - 1.5)
        shape = (inside & ~inner).astype(np.float32)
    else:             # a fragment of a digit: a corner of its core, so it never shows a whole digit
        core = cores[rng.integers(len(cores))]
        q = rng.integers(4)
        frag = core[(q // 2) * 10:(q // 2) * 10 + 10, (q % 2) * 10:(q % 2) * 10 + 10]
        size = int(rng.integers(8, 15))
        frag = _resize_bilinear(frag, size, size)
        y0, x0 = rng.integers(0, S - size + 1, 2)
        shape = np.zeros_like(canvas)
        shape[y0:y0 + size, x0:x0 + size] = frag
    np.maximum(canvas, level * shape, out=canvas)


def _iou_one(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    if len(boxes) == 0:
        return np.zeros(0)
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    a = (box[2] - box[0]) * (box[3] - box[1])
    b = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / (a + b - inter)


def make_scenes(n: int, digits, labels, *, size: int = 64, objects: Tuple[int, int] = (1, 4),
                scale: Tuple[int, int] = (14, 30), aspect: Tuple[float, float] = (0.7, 1.4),
                max_overlap: float = 0.25, clutter: Tuple[int, int] = (1, 4), noise: float = 0.06,
                ink_threshold: float = 0.35, seed: int = 0, note: str = "") -> Scenes:
    """Generate ``n`` seeded scenes of MNIST digits with boxes and masks.

    Parameters
    ----------
    n : int
        Number of scenes, >= 1.
    digits : array, (N, 1, 28, 28) or (N, 28, 28)
        The pool of digit images (uint8 0..255 or float 0..1). Give different
        pools to training, validation and test scenes so that no test digit was
        ever seen in training.
    labels : array, (N,)
        Their classes, 0..9.
    size : int
        Canvas side S in pixels, 32..256.
    objects : (int, int)
        Fewest and most digits per scene (inclusive).
    scale : (int, int)
        Smallest and largest box height in pixels.
    aspect : (float, float)
        Range of box width / height, drawn log-uniformly.
    max_overlap : float
        Largest IoU a new box may have with an earlier one, in [0, 1); later
        digits cover earlier ones where they overlap (occlusion). A digit that
        does not fit after 30 tries is skipped, so a scene may hold fewer digits.
    clutter : (int, int)
        Fewest and most unlabelled distractors (strokes, rings, rectangles,
        digit fragments).
    noise : float
        Standard deviation of the Gaussian pixel noise, on the 0..1 scale.
    ink_threshold : float
        A digit pixel belongs to the mask where its pasted intensity exceeds this.
    seed : int
    note : str
        Stored on the result, e.g. which digits were used.

    Returns
    -------
    Scenes

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> digits = (rng.random((20, 28, 28)) > 0.7).astype(np.float32)
    >>> s = make_scenes(3, digits, np.arange(20) % 10, seed=1)
    >>> s.images.shape, s.images.dtype, s.masks.shape
    ((3, 1, 64, 64), dtype('uint8'), (3, 64, 64))
    >>> all(b.shape[1] == 4 and len(b) == len(l) for b, l in zip(s.boxes, s.labels))
    True
    >>> np.array_equal(make_scenes(3, digits, np.arange(20) % 10, seed=1).images, s.images)
    True
    """
    n = check_int("n", n, minimum=1)
    size = check_int("size", size, minimum=32)
    if size > 256:
        raise ValueError(f"size must be <= 256, got size={size}; use e.g. size=64")
    seed = check_int("seed", seed, minimum=0)
    d, lab = _digit_arrays(digits, labels)
    objects = _check_range("objects", objects, 0, 20, integer=True)
    scale = _check_range("scale", scale, 4, size, integer=True)
    aspect = _check_range("aspect", aspect, 0.2, 5.0)
    clutter = _check_range("clutter", clutter, 0, 50, integer=True)
    max_overlap = _check_float("max_overlap", max_overlap, 0.0, 0.99)
    noise = _check_float("noise", noise, 0.0, 1.0)
    ink_threshold = _check_float("ink_threshold", ink_threshold, 0.0, 0.99)
    if not isinstance(note, str):
        raise TypeError(f"note must be a str, got {type(note).__name__}; pass e.g. note='test digits'")

    rng = np.random.default_rng(seed)
    cores = d[:, 4:24, 4:24]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    images = np.empty((n, 1, size, size), np.uint8)
    masks = np.zeros((n, size, size), np.uint8)
    instances = np.zeros((n, size, size), np.int16)
    all_boxes, all_labels = [], []
    for s in range(n):
        canvas = np.zeros((size, size), np.float32)
        # a faint background gradient, so "dark" is not one constant value
        g = rng.uniform(0, 0.12)
        ang = rng.uniform(0, 2 * np.pi)
        canvas += g * (0.5 + 0.5 * ((xx * np.cos(ang) + yy * np.sin(ang)) / size))
        for _ in range(int(rng.integers(clutter[0], clutter[1] + 1))):
            _clutter(canvas, rng, yy, xx, cores)
        boxes, labs = [], []
        inst = instances[s]
        for _ in range(int(rng.integers(objects[0], objects[1] + 1))):
            for _try in range(30):
                h = int(rng.integers(scale[0], scale[1] + 1))
                w = int(np.clip(round(h * np.exp(rng.uniform(np.log(aspect[0]), np.log(aspect[1])))),
                                4, size))
                y0 = int(rng.integers(0, size - h + 1))
                x0 = int(rng.integers(0, size - w + 1))
                box = np.array([x0, y0, x0 + w, y0 + h], np.float32)
                if len(boxes) == 0 or _iou_one(box, np.array(boxes)).max() <= max_overlap:
                    break
            else:
                continue
            k = int(rng.integers(len(d)))
            patch = _resize_bilinear(cores[k], h, w) * rng.uniform(0.7, 1.0)
            region = canvas[y0:y0 + h, x0:x0 + w]
            # alpha compositing with the digit's own intensity as opacity: it covers what lies below
            np.copyto(region, region * (1 - np.clip(patch * 1.4, 0, 1)) + patch)
            ink = patch > ink_threshold
            inst[y0:y0 + h, x0:x0 + w][ink] = len(boxes) + 1
            boxes.append(box)
            labs.append(int(lab[k]))
        canvas += rng.normal(0, noise, canvas.shape).astype(np.float32) if noise > 0 else 0
        images[s, 0] = np.clip(canvas * 255 + 0.5, 0, 255).astype(np.uint8)
        labs_arr = np.array(labs, np.int64)
        masks[s] = np.where(inst > 0, np.concatenate([[0], labs_arr + 1])[inst], 0)
        all_boxes.append(np.array(boxes, np.float32).reshape(-1, 4))
        all_labels.append(labs_arr)
    return Scenes(images, all_boxes, all_labels, masks, instances, seed, note)


def split_digits(labels, fractions: Sequence[float] = (0.7, 0.1, 0.2), *, seed: int = 0
                 ) -> List[np.ndarray]:
    """Disjoint, class-stratified index sets into a digit pool, one per fraction.

    Use one set per split of scenes (training, validation, test), so that test
    scenes are made of digits never seen in training.

    Parameters
    ----------
    labels : array, (N,)
    fractions : sequence of float
        Positive shares that add up to at most 1.
    seed : int

    Returns
    -------
    list of np.ndarray of int64 indices, sorted

    Examples
    --------
    >>> parts = split_digits(np.arange(100) % 10, (0.7, 0.1, 0.2))
    >>> [len(p) for p in parts], len(np.intersect1d(parts[0], parts[2]))
    ([70, 10, 20], 0)
    """
    lab = check_array("labels", labels, ndim=1, shape_hint="(N,)")
    seed = check_int("seed", seed, minimum=0)
    if not isinstance(fractions, (list, tuple)) or len(fractions) == 0:
        raise TypeError(f"fractions must be a non-empty list or tuple of shares, got {fractions!r}; "
                        "pass e.g. fractions=(0.7, 0.1, 0.2)")
    fr = np.array([_check_float("fractions entries", f, 0.0, 1.0) for f in fractions])
    if (fr <= 0).any() or fr.sum() > 1 + 1e-9:
        raise ValueError(f"fractions must be positive and add up to at most 1, got {fractions!r}; "
                         "pass e.g. fractions=(0.7, 0.1, 0.2)")
    rng = np.random.default_rng(seed)
    parts: List[list] = [[] for _ in fr]
    for c in np.unique(lab):
        members = rng.permutation(np.flatnonzero(lab == c))
        edges = np.floor(np.cumsum(np.concatenate([[0], fr])) * len(members) + 1e-9).astype(int)
        for i in range(len(fr)):
            parts[i].extend(members[edges[i]:edges[i + 1]].tolist())
    return [np.sort(np.array(p, np.int64)) for p in parts]


def object_crops(scenes: Scenes, *, size: int = 28, background_per_scene: int = 2,
                 jitter: float = 0.1, seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """Crops for a window classifier: every object, and background windows, resized to ``size``.

    An object's window is its box enlarged by ``size / 20`` along each axis, so
    that after resizing to ``size`` x ``size`` the box fills the central 20 x 20
    pixels, as a digit fills MNIST's 28 x 28 frame (boxes that are not square are
    stretched, which is what a scan over aspect ratios does too). Each window
    moves by up to ``jitter`` of its size. Background crops are random windows
    (14 to 50 pixels, aspect 0.7 to 1.4) whose IoU with every object's window is
    below 0.2; they get class 10.

    Parameters
    ----------
    scenes : Scenes
    size : int
        Side of the returned crops.
    background_per_scene : int
    jitter : float
        Largest shift of an object window, as a fraction of its size, in [0, 0.5].
    seed : int

    Returns
    -------
    crops : np.ndarray, uint8, (M, 1, size, size)
    labels : np.ndarray, int64, (M,)
        0..9 for digits, 10 for background.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = make_scenes(4, (rng.random((10, 28, 28)) > 0.7).astype(float), np.arange(10), seed=0)
    >>> x, y = object_crops(s, seed=0)
    >>> x.shape[1:], int((y == 10).sum())
    ((1, 28, 28), 8)
    """
    if not isinstance(scenes, Scenes):
        raise TypeError(f"scenes must be a Scenes from make_scenes, got {type(scenes).__name__}")
    size = check_int("size", size, minimum=4)
    background_per_scene = check_int("background_per_scene", background_per_scene, minimum=0)
    jitter = _check_float("jitter", jitter, 0.0, 0.5)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    S = scenes.images.shape[-1]
    crops, labs = [], []

    def crop(img, x0, y0, w, h):
        # windows may stick out of the canvas: pad with zeros (the dark background)
        pad = int(np.ceil(max(w, h))) + 2
        big = np.pad(img, pad)
        x0i, y0i = int(round(x0)) + pad, int(round(y0)) + pad
        wi, hi = max(1, int(round(w))), max(1, int(round(h)))
        return _resize_bilinear(big[y0i:y0i + hi, x0i:x0i + wi], size, size)

    for i in range(len(scenes)):
        img = scenes.images[i, 0].astype(np.float32)
        windows = []
        for box, c in zip(scenes.boxes[i], scenes.labels[i]):
            w = (box[2] - box[0]) * size / 20.0
            h = (box[3] - box[1]) * size / 20.0
            cx = (box[0] + box[2]) / 2 + rng.uniform(-jitter, jitter) * w
            cy = (box[1] + box[3]) / 2 + rng.uniform(-jitter, jitter) * h
            windows.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
            crops.append(crop(img, cx - w / 2, cy - h / 2, w, h))
            labs.append(int(c))
        windows = np.array(windows, np.float32).reshape(-1, 4)
        made = 0
        for _try in range(50 * max(1, background_per_scene)):
            if made == background_per_scene:
                break
            h = rng.uniform(14, 50)
            w = h * np.exp(rng.uniform(np.log(0.7), np.log(1.4)))
            x0 = rng.uniform(-w / 4, S - 3 * w / 4)
            y0 = rng.uniform(-h / 4, S - 3 * h / 4)
            win = np.array([x0, y0, x0 + w, y0 + h], np.float32)
            if len(windows) and _iou_one(win, windows).max() >= 0.2:
                continue
            crops.append(crop(img, x0, y0, w, h))
            labs.append(10)
            made += 1
    x = np.clip(np.array(crops, np.float32) + 0.5, 0, 255).astype(np.uint8)[:, None]
    return x.reshape(-1, 1, size, size), np.array(labs, np.int64)
