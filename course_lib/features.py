"""Hand-crafted image features, the way image classification was done before CNNs.

Each extractor maps a batch of images (N, C, H, W) to one feature vector per
image, shape (N, D); a linear classifier is then trained on the vectors
(:func:`fit_linear_probe`). The lecture slides' three examples are here:

* :func:`color_histogram`: how often each (quantised) colour occurs, ignoring where;
* :func:`hog_features`: histograms of oriented gradients (Dalal and Triggs, CVPR 2005),
  ``skimage.feature.hog`` applied to every image of a batch;
* :class:`BagOfVisualWords`: a codebook of small patches learned with k-means, and
  per image the histogram of which codebook entry ("visual word") each patch is closest to.

The pixel-shuffle helpers (:func:`pixel_permutation`, :func:`shuffle_pixels`,
:func:`permute_input_weights`) support the permutation experiment: a fixed
shuffle of the pixels changes nothing for a fully connected layer whose input
weights are shuffled the same way.

Images may be uint8 (0..255) or floats in [0, 1]; torch tensors are accepted.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional, Tuple

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from tqdm.auto import tqdm

from ._checks import IntPair, check_array, check_int, check_pair

__all__ = ["color_histogram", "hog_features", "hog_visualization", "HogShape", "hog_shape", "dense_patches",
           "BagOfVisualWords", "LinearProbe", "fit_linear_probe", "pixel_permutation",
           "shuffle_pixels", "permute_input_weights"]


# ----------------------------------------------------------------------------------------------
# argument checks

def _check_images(images, *, name: str = "images", channels: Optional[Tuple[int, ...]] = None) -> np.ndarray:
    """(N, C, H, W) uint8 or floats in [0, 1] -> float64 array in [0, 1] (uint8 divided by 255)."""
    arr = check_array(name, images, ndim=4, shape_hint="(N, C, H, W)")
    if 0 in arr.shape:
        raise ValueError(f"{name} must not have empty axes, got shape {arr.shape}")
    if channels is not None and arr.shape[1] not in channels:
        raise ValueError(f"{name} must have {' or '.join(map(str, channels))} channels on axis 1 "
                         f"(N, C, H, W), got shape {arr.shape}; for H x W x C images use "
                         f"np.moveaxis(x, -1, 1)")
    if arr.dtype == np.uint8:
        return arr.astype(np.float64) / 255.0
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(f"{name} must be uint8 (0..255) or floats in [0, 1], got dtype {arr.dtype}; "
                        f"convert with {name}.astype(np.uint8) or {name} / 255.0")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < -1e-6 or hi > 1 + 1e-6:
        raise ValueError(f"float {name} must lie in [0, 1], got values from {lo:.3g} to {hi:.3g}; "
                         f"divide uint8 data by 255 (or pass the uint8 array itself)")
    return np.clip(arr.astype(np.float64), 0.0, 1.0)


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}; pass {name}=True or {name}=False")
    return value


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {name}={value!r}; pass e.g. {name}=1e-3")
    return float(value)


# ----------------------------------------------------------------------------------------------
# colour histograms

def color_histogram(images, bins: int = 8, *, space: str = "rgb") -> np.ndarray:
    """Joint colour histogram of each image, normalised to sum to 1.

    Every channel value is quantised into ``bins`` equal intervals; the C
    quantised values of a pixel pick one of ``bins ** C`` colour cells, and the
    feature is the fraction of pixels in each cell. Where a colour occurs does
    not matter: shuffling the pixels leaves the histogram unchanged.

    Parameters
    ----------
    images : array or tensor, shape (N, C, H, W)
        uint8 or floats in [0, 1]; C = 1 (grey) or 3 (RGB).
    bins : int
        Intervals per channel, >= 1. uint8 values v go to bin ``v * bins // 256``.
    space : {"rgb", "hsv"}
        Quantise the RGB values directly, or first convert to hue, saturation,
        value (``skimage.color.rgb2hsv``; needs C = 3).

    Returns
    -------
    ndarray, shape (N, bins ** C), float64
        Rows sum to 1. Cell index ``sum_c q_c * bins ** (C - 1 - c)`` (channel 0 slowest).

    Examples
    --------
    >>> red = np.zeros((1, 3, 2, 2), dtype=np.uint8); red[:, 0] = 255
    >>> h = color_histogram(red, bins=2)
    >>> h.shape, int(h[0].argmax()), float(h[0].max())     # cell (1, 0, 0) = 1 * 2**2
    ((1, 8), 4, 1.0)
    """
    raw = check_array("images", images, ndim=4, shape_hint="(N, C, H, W)")
    bins = check_int("bins", bins, minimum=1)
    if space not in ("rgb", "hsv"):
        raise ValueError(f"space must be 'rgb' or 'hsv', got space={space!r}")
    x = _check_images(raw, channels=(1, 3))
    n, c, h, w = x.shape
    if space == "hsv":
        if c != 3:
            raise ValueError(f"space='hsv' needs RGB images (C = 3), got shape {x.shape}; use space='rgb'")
        from skimage.color import rgb2hsv
        x = np.moveaxis(rgb2hsv(np.moveaxis(x, 1, -1)), -1, 1)
    if raw.dtype == np.uint8 and space == "rgb":
        q = (raw.astype(np.int64) * bins) // 256                 # exact equal-width bins of uint8 values
    else:
        q = np.minimum((x * bins).astype(np.int64), bins - 1)    # value 1.0 goes to the last bin
    code = np.zeros((n, h * w), dtype=np.int64)
    for ch in range(c):                                          # mixed-radix cell index per pixel
        code = code * bins + q[:, ch].reshape(n, -1)
    cells = bins ** c
    counts = np.bincount((code + cells * np.arange(n)[:, None]).ravel(), minlength=n * cells)
    return counts.reshape(n, cells) / float(h * w)


# ----------------------------------------------------------------------------------------------
# histograms of oriented gradients

def _hog_args(orientations, pixels_per_cell, cells_per_block, block_norm):
    orientations = check_int("orientations", orientations, minimum=1)
    ppc = check_pair("pixels_per_cell", pixels_per_cell, minimum=1)
    cpb = check_pair("cells_per_block", cells_per_block, minimum=1)
    norms = ("L1", "L1-sqrt", "L2", "L2-Hys")
    if block_norm not in norms:
        raise ValueError(f"block_norm must be one of {list(norms)}, got block_norm={block_norm!r}; "
                         f"Dalal and Triggs recommend 'L2-Hys'")
    return orientations, ppc, cpb, block_norm


def _hog_one(img_chw: np.ndarray, orientations, ppc, cpb, block_norm, visualize=False):
    from skimage.feature import hog
    if img_chw.shape[0] == 1:
        return hog(img_chw[0], orientations=orientations, pixels_per_cell=ppc, cells_per_block=cpb,
                   block_norm=block_norm, visualize=visualize, feature_vector=True)
    # colour: at every pixel skimage keeps the channel with the largest gradient (Dalal and Triggs)
    return hog(np.moveaxis(img_chw, 0, -1), orientations=orientations, pixels_per_cell=ppc,
               cells_per_block=cpb, block_norm=block_norm, visualize=visualize, feature_vector=True,
               channel_axis=-1)


def hog_features(images, *, orientations: int = 9, pixels_per_cell: IntPair = 8,
                 cells_per_block: IntPair = 2, block_norm: str = "L2-Hys",
                 progress: bool = False) -> np.ndarray:
    """Histogram-of-oriented-gradients vectors for a batch (``skimage.feature.hog`` per image).

    Each image is cut into cells of ``pixels_per_cell`` pixels; in each cell the
    gradient directions (0 to 180 degrees, unsigned) are binned into
    ``orientations`` bins, weighted by gradient magnitude; each block of
    ``cells_per_block`` cells is normalised (``block_norm``), and all block
    vectors are concatenated.

    Parameters
    ----------
    images : array or tensor, shape (N, C, H, W)
        uint8 or floats in [0, 1], C = 1 or 3 (for RGB the strongest channel's
        gradient is used at each pixel).
    orientations : int
    pixels_per_cell, cells_per_block : int or (int, int)
    block_norm : {"L1", "L1-sqrt", "L2", "L2-Hys"}
    progress : bool
        Show a tqdm bar over the images.

    Returns
    -------
    ndarray, shape (N, D), float32
        D = blocks_y * blocks_x * cells_per_block_y * cells_per_block_x * orientations,
        with blocks_y = H // ppc_y - cpb_y + 1 (the same across x).

    Examples
    --------
    >>> x = np.random.default_rng(0).integers(0, 256, (2, 3, 32, 32), dtype=np.uint8)
    >>> hog_features(x).shape      # 3 x 3 blocks of 2 x 2 cells, 9 orientations each
    (2, 324)
    """
    x = _check_images(images, channels=(1, 3))
    orientations, ppc, cpb, block_norm = _hog_args(orientations, pixels_per_cell, cells_per_block, block_norm)
    progress = _check_bool("progress", progress)
    cells = (x.shape[2] // ppc[0], x.shape[3] // ppc[1])
    if cells[0] < cpb[0] or cells[1] < cpb[1]:
        raise ValueError(f"the {x.shape[2]} x {x.shape[3]} images have only {cells[0]} x {cells[1]} cells of "
                         f"{ppc[0]} x {ppc[1]} pixels, fewer than one block of {cpb[0]} x {cpb[1]} cells; "
                         f"use smaller pixels_per_cell or cells_per_block")
    out = [_hog_one(img, orientations, ppc, cpb, block_norm)
           for img in tqdm(x, desc="HoG", disable=not progress, leave=False)]
    return np.stack(out).astype(np.float32)


class HogShape(NamedTuple):
    """The sizes in a HoG descriptor, see :func:`hog_shape`."""

    cells: Tuple[int, int]            #: (rows, columns) of whole cells
    cell_values: int                  #: cells * orientations: the cell histograms' numbers
    blocks: Tuple[int, int]           #: (rows, columns) of block positions (stride one cell)
    length: int                       #: the feature vector's length D


def hog_shape(height: int, width: int, *, pixels_per_cell: IntPair = 8, orientations: int = 9,
              cells_per_block: IntPair = 2) -> HogShape:
    """HoG arithmetic: how many cells, histogram numbers, blocks and features an image gives.

    An H x W image holds floor(H / ppc_y) x floor(W / ppc_x) whole cells (pixels
    left over at the bottom and right are ignored); each cell has one histogram of
    ``orientations`` bins. Blocks of ``cells_per_block`` cells slide one cell at a
    time, and every block contributes its cells' histograms again, normalised, so
    D = blocks_y * blocks_x * cpb_y * cpb_x * orientations. Agrees with
    ``skimage.feature.hog``.

    Parameters
    ----------
    height, width : int
        Image size in pixels.
    pixels_per_cell, cells_per_block : int or (int, int)
    orientations : int

    Returns
    -------
    HogShape
        ``cells``, ``cell_values``, ``blocks``, ``length``.

    Examples
    --------
    >>> s = hog_shape(240, 320)          # the slides' 320 x 240 image, 8 x 8 cells, 9 bins
    >>> s.cells, s.cell_values
    ((30, 40), 10800)
    >>> hog_shape(32, 32).length         # a CIFAR-10 image: 3 x 3 blocks of 2 x 2 cells
    324
    """
    h = check_int("height", height, minimum=1)
    w = check_int("width", width, minimum=1)
    orientations, ppc, cpb, _ = _hog_args(orientations, pixels_per_cell, cells_per_block, "L2-Hys")
    cells = (h // ppc[0], w // ppc[1])
    if cells[0] < cpb[0] or cells[1] < cpb[1]:
        raise ValueError(f"a {h} x {w} image has only {cells[0]} x {cells[1]} cells of {ppc[0]} x {ppc[1]} "
                         f"pixels, fewer than one block of {cpb[0]} x {cpb[1]} cells; use smaller "
                         f"pixels_per_cell or cells_per_block")
    blocks = (cells[0] - cpb[0] + 1, cells[1] - cpb[1] + 1)
    return HogShape(cells=cells, cell_values=cells[0] * cells[1] * orientations, blocks=blocks,
                    length=blocks[0] * blocks[1] * cpb[0] * cpb[1] * orientations)


def hog_visualization(image, *, orientations: int = 9, pixels_per_cell: IntPair = 8) -> np.ndarray:
    """skimage's picture of the cell histograms: one star of oriented strokes per cell.

    Parameters
    ----------
    image : array, shape (C, H, W) or (H, W)
        uint8 or floats in [0, 1].
    orientations : int
    pixels_per_cell : int or (int, int)

    Returns
    -------
    ndarray, shape (H, W), float64
        Brighter strokes mean more gradient energy in that direction (draw it with ``gray``).

    Examples
    --------
    >>> hog_visualization(np.zeros((1, 16, 16), dtype=np.uint8)).shape
    (16, 16)
    """
    arr = check_array("image", image, ndim=(2, 3), shape_hint="(C, H, W) or (H, W)")
    x = _check_images(arr[None, None] if arr.ndim == 2 else arr[None], name="image", channels=(1, 3))[0]
    orientations, ppc, _, _ = _hog_args(orientations, pixels_per_cell, 1, "L2-Hys")
    _, vis = _hog_one(x, orientations, ppc, (1, 1), "L2-Hys", visualize=True)
    return np.asarray(vis, dtype=np.float64)


# ----------------------------------------------------------------------------------------------
# bag of visual words

def dense_patches(images, size: int, stride: int) -> np.ndarray:
    """All ``size x size`` patches on a grid with step ``stride``, flattened.

    Parameters
    ----------
    images : array or tensor, shape (N, C, H, W)
        uint8 or floats in [0, 1].
    size, stride : int

    Returns
    -------
    ndarray, shape (N, P, C * size * size), float32
        P = ((H - size) // stride + 1) * ((W - size) // stride + 1); each patch is
        flattened in (C, size, size) order.

    Examples
    --------
    >>> dense_patches(np.zeros((2, 3, 32, 32), dtype=np.uint8), 6, 2).shape
    (2, 196, 108)
    """
    x = _check_images(images)
    size = check_int("size", size, minimum=1)
    stride = check_int("stride", stride, minimum=1)
    if size > min(x.shape[2:]):
        raise ValueError(f"size={size} is larger than the {x.shape[2]} x {x.shape[3]} images; "
                         f"use size <= {min(x.shape[2:])}")
    win = sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]  # (N, C, gy, gx, s, s)
    n, c, gy, gx = win.shape[:4]
    return np.ascontiguousarray(win.transpose(0, 2, 3, 1, 4, 5)).reshape(n, gy * gx, c * size * size) \
        .astype(np.float32)


def _normalise_patches(p: np.ndarray, eps: float) -> np.ndarray:
    """Per-patch contrast normalisation: zero mean, unit spread (eps keeps flat patches small)."""
    p = p - p.mean(axis=-1, keepdims=True)
    return p / np.sqrt(p.var(axis=-1, keepdims=True) + eps)


class BagOfVisualWords:
    """Bag-of-visual-words features: a k-means codebook of patches, then word histograms.

    ``fit`` cuts dense patches out of the training images, contrast-normalises
    them, draws ``n_fit_patches`` of them at random and clusters them with
    ``sklearn.cluster.KMeans`` into ``n_words`` centres, the *visual words*.
    ``transform`` assigns every patch of an image to its nearest word and
    returns the normalised histogram of word counts.

    Parameters
    ----------
    n_words : int
        Codebook size (k of k-means).
    patch_size, stride : int
        Patches of ``patch_size x patch_size`` pixels every ``stride`` pixels.
    n_fit_patches : int
        How many patches k-means sees.
    contrast_eps : float
        Added to each patch's variance before dividing by its square root
        (on the [0, 1] scale); keeps nearly flat patches from becoming noise.
    max_iter : int
        k-means iterations.
    seed : int
        Seeds the patch draw and k-means.

    Attributes
    ----------
    kmeans_ : sklearn.cluster.KMeans
    words_ : ndarray, shape (n_words, C, patch_size, patch_size)
        The codebook as patches (contrast-normalised; show them with a signed map).

    Examples
    --------
    >>> x = np.random.default_rng(0).integers(0, 256, (20, 3, 16, 16), dtype=np.uint8)
    >>> bow = BagOfVisualWords(n_words=5, patch_size=4, stride=4, n_fit_patches=100).fit(x)
    >>> h = bow.transform(x)
    >>> h.shape, bool(np.allclose(h.sum(axis=1), 1)), bow.words_.shape
    ((20, 5), True, (5, 3, 4, 4))
    """

    def __init__(self, n_words: int = 100, *, patch_size: int = 6, stride: int = 2,
                 n_fit_patches: int = 20000, contrast_eps: float = 0.01, max_iter: int = 100,
                 seed: int = 0):
        self.n_words = check_int("n_words", n_words, minimum=1)
        self.patch_size = check_int("patch_size", patch_size, minimum=1)
        self.stride = check_int("stride", stride, minimum=1)
        self.n_fit_patches = check_int("n_fit_patches", n_fit_patches, minimum=1)
        self.contrast_eps = _check_positive("contrast_eps", contrast_eps)
        self.max_iter = check_int("max_iter", max_iter, minimum=1)
        self.seed = check_int("seed", seed, minimum=0)
        self.kmeans_ = None
        self.words_: Optional[np.ndarray] = None
        self._channels: Optional[int] = None

    def _patches(self, images) -> np.ndarray:
        return _normalise_patches(dense_patches(images, self.patch_size, self.stride), self.contrast_eps)

    def fit(self, images) -> "BagOfVisualWords":
        """Learn the codebook from training images (N, C, H, W)."""
        from sklearn.cluster import KMeans
        x = _check_images(images)
        if self.patch_size > min(x.shape[2:]):
            raise ValueError(f"patch_size={self.patch_size} is larger than the {x.shape[2]} x {x.shape[3]} "
                             f"images; use patch_size <= {min(x.shape[2:])}")
        per_image = (((x.shape[2] - self.patch_size) // self.stride + 1)
                     * ((x.shape[3] - self.patch_size) // self.stride + 1))
        total = len(x) * per_image
        if total < self.n_words:
            raise ValueError(f"only {total} patches for n_words={self.n_words}; pass more images "
                             f"or a smaller n_words")
        # draw the patches first, then cut out only those (all patches of a big set would not fit in memory)
        rng = np.random.default_rng(self.seed)
        take = np.sort(rng.choice(total, size=min(self.n_fit_patches, total), replace=False))
        chosen, chunk = [], 1000
        for start in range(0, len(x), chunk):
            sel = take[(take >= start * per_image) & (take < (start + chunk) * per_image)] - start * per_image
            if len(sel):
                p = self._patches(x[start:start + chunk]).reshape(-1, x.shape[1] * self.patch_size ** 2)
                chosen.append(p[sel])
        self.kmeans_ = KMeans(n_clusters=self.n_words, n_init=1, max_iter=self.max_iter,
                              random_state=self.seed).fit(np.concatenate(chosen))
        self._channels = x.shape[1]
        self.words_ = self.kmeans_.cluster_centers_.reshape(
            self.n_words, x.shape[1], self.patch_size, self.patch_size)
        return self

    def transform(self, images, *, batch_size: int = 500, progress: bool = False) -> np.ndarray:
        """Word histograms, shape (N, n_words), float32, rows summing to 1."""
        if self.kmeans_ is None:
            raise RuntimeError("call fit(train_images) before transform(images)")
        x = _check_images(images)
        if x.shape[1] != self._channels:
            raise ValueError(f"images have {x.shape[1]} channels, the codebook was fitted on "
                             f"{self._channels}; pass images like the training images")
        batch_size = check_int("batch_size", batch_size, minimum=1)
        centres = self.kmeans_.cluster_centers_.astype(np.float32)        # (K, D)
        c2 = (centres ** 2).sum(axis=1)
        out = []
        for start in tqdm(range(0, len(x), batch_size), desc="visual words", disable=not progress,
                          leave=False):
            p = self._patches(x[start:start + batch_size])                 # (n, P, D)
            # nearest centre by squared distance |p|^2 - 2 p.c + |c|^2 (|p|^2 is the same for all c)
            nearest = np.argmin(c2 - 2.0 * (p @ centres.T), axis=-1)      # (n, P)
            n, per_image = nearest.shape
            counts = np.bincount((nearest + self.n_words * np.arange(n)[:, None]).ravel(),
                                 minlength=n * self.n_words).reshape(n, self.n_words)
            out.append(counts / per_image)
        return np.concatenate(out).astype(np.float32)

    def fit_transform(self, images, **kwargs) -> np.ndarray:
        """``fit(images)`` then ``transform(images)``."""
        return self.fit(images).transform(images, **kwargs)


# ----------------------------------------------------------------------------------------------
# a linear classifier on feature vectors

@dataclass
class LinearProbe:
    """A trained multinomial logistic-regression classifier on standardised features.

    Scores are ``((x - mean) / scale) @ weight.T + bias``. Built by :func:`fit_linear_probe`.

    Examples
    --------
    >>> probe = LinearProbe(mean=np.zeros(2), scale=np.ones(2), weight=np.array([[1.0, 0.0], [0.0, 1.0]]),
    ...                     bias=np.zeros(2), n_iter=0)
    >>> probe.predict(np.array([[2.0, 1.0], [0.0, 3.0]])), probe.score(np.array([[2.0, 1.0]]), np.array([0]))
    (array([0, 1]), 1.0)
    """
    mean: np.ndarray
    scale: np.ndarray
    weight: np.ndarray      # (K, D)
    bias: np.ndarray        # (K,)
    n_iter: int

    def decision_function(self, features) -> np.ndarray:
        """Class scores, shape (N, K)."""
        f = check_array("features", features, ndim=2, shape_hint="(N, D)")
        if f.shape[1] != self.weight.shape[1]:
            raise ValueError(f"features have {f.shape[1]} columns, the classifier was trained on "
                             f"{self.weight.shape[1]}; extract them the same way as the training features")
        return ((f - self.mean) / self.scale) @ self.weight.T + self.bias

    def predict(self, features) -> np.ndarray:
        """Predicted labels, shape (N,)."""
        return self.decision_function(features).argmax(axis=1)

    def score(self, features, labels) -> float:
        """Accuracy (fraction of correct predictions)."""
        y = check_array("labels", labels, ndim=1)
        return float((self.predict(features) == y).mean())


def fit_linear_probe(features, labels, *, l2: float = 1e-3, max_iter: int = 100) -> LinearProbe:
    """Train a linear softmax classifier (multinomial logistic regression) on feature vectors.

    The features are standardised (zero mean, unit variance per column, as
    ``sklearn.preprocessing.StandardScaler``), then the weights minimise

        mean cross-entropy + (l2 / 2) * ||W||^2

    with full-batch L-BFGS in float32 (torch). This is the model of
    ``sklearn.linear_model.LogisticRegression(C=1 / (l2 * N))`` (the tests compare
    them), but several times faster on the few thousand-dimensional raw pixels.
    Deterministic: the weights start at zero.

    Parameters
    ----------
    features : array, shape (N, D)
    labels : array of ints, shape (N,)
        Classes 0..K-1.
    l2 : float
        Weight decay, >= 0.
    max_iter : int
        L-BFGS iterations.

    Returns
    -------
    LinearProbe

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((200, 5)); y = (x[:, 0] > 0).astype(int)
    >>> fit_linear_probe(x, y).score(x, y) > 0.95
    True
    """
    f = check_array("features", features, ndim=2, shape_hint="(N, D)")
    y = check_array("labels", labels, ndim=1, shape_hint="(N,)")
    if len(f) != len(y):
        raise ValueError(f"features and labels must have the same length, got {len(f)} and {len(y)}")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise TypeError(f"labels must be integers 0..K-1, got dtype {y.dtype} with minimum {y.min()}; "
                        f"convert with labels.astype(np.int64)")
    l2 = _check_positive("l2", l2)
    max_iter = check_int("max_iter", max_iter, minimum=1)
    mean = f.mean(axis=0)
    scale = f.std(axis=0)
    scale = np.where(scale > 1e-8, scale, 1.0)           # constant columns stay 0 after centring
    X = torch.from_numpy(((f - mean) / scale).astype(np.float32))
    Y = torch.from_numpy(y.astype(np.int64))
    k = int(y.max()) + 1
    W = torch.zeros(k, X.shape[1], requires_grad=True)
    b = torch.zeros(k, requires_grad=True)
    opt = torch.optim.LBFGS([W, b], lr=1.0, max_iter=max_iter, history_size=20,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-6, tolerance_change=1e-9)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(X @ W.T + b, Y) + 0.5 * l2 * (W * W).sum()
        loss.backward()
        return loss

    opt.step(closure)
    n_iter = int(opt.state[W].get("n_iter", max_iter))
    return LinearProbe(mean=mean, scale=scale, weight=W.detach().numpy().astype(np.float64),
                       bias=b.detach().numpy().astype(np.float64), n_iter=n_iter)


# ----------------------------------------------------------------------------------------------
# pixel shuffles (the permutation experiment)

def pixel_permutation(height: int, width: int, *, seed: int = 0) -> np.ndarray:
    """A seeded random permutation of the ``height * width`` pixel positions.

    Examples
    --------
    >>> p = pixel_permutation(2, 3, seed=0)
    >>> sorted(p.tolist())
    [0, 1, 2, 3, 4, 5]
    """
    height = check_int("height", height, minimum=1)
    width = check_int("width", width, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    return np.random.default_rng(seed).permutation(height * width)


def _check_perm(perm, n: int) -> np.ndarray:
    perm = check_array("perm", perm, ndim=1, shape_hint="(H * W,)")
    if not np.issubdtype(perm.dtype, np.integer) or len(perm) != n \
            or not np.array_equal(np.sort(perm), np.arange(n)):
        raise ValueError(f"perm must be a permutation of 0..{n - 1} (one entry per pixel position), "
                         f"got {len(perm)} entries of dtype {perm.dtype}; make one with "
                         f"pixel_permutation(H, W, seed=...)")
    return perm.astype(np.int64)


def shuffle_pixels(images, perm):
    """Move the pixels of every image by the same permutation: ``out.flat[k] = in.flat[perm[k]]``.

    The permutation acts on the H * W positions; all channels of a pixel move
    together, so a pixel keeps its colour.

    Parameters
    ----------
    images : ndarray or torch.Tensor, shape (N, C, H, W)
    perm : ndarray of ints, shape (H * W,)

    Returns
    -------
    the same type and shape as ``images``

    Examples
    --------
    >>> x = np.arange(4).reshape(1, 1, 2, 2)
    >>> shuffle_pixels(x, np.array([3, 2, 1, 0]))[0, 0]
    array([[3, 2],
           [1, 0]])
    """
    if isinstance(images, torch.Tensor):
        if images.ndim != 4:
            raise ValueError(f"images must be (N, C, H, W), got shape {tuple(images.shape)}")
        n, c, h, w = images.shape
        p = torch.from_numpy(_check_perm(perm, h * w)).to(images.device)
        return images.reshape(n, c, h * w)[:, :, p].reshape(n, c, h, w)
    x = check_array("images", images, ndim=4, shape_hint="(N, C, H, W)")
    n, c, h, w = x.shape
    return x.reshape(n, c, h * w)[:, :, _check_perm(perm, h * w)].reshape(n, c, h, w)


def permute_input_weights(weight, perm, channels: int = 1):
    """First-layer weights for shuffled inputs: ``W' x_shuffled = W x`` for every image.

    A fully connected layer sees the flattened (C, H, W) image. If the inputs
    are shuffled with :func:`shuffle_pixels` (``x'[k] = x[perm[k]]`` within each
    channel), the weight that pixel k' now meets must be the one pixel perm[k']
    met before: ``W'[:, k] = W[:, perm[k]]`` (columns permuted, the same way as the pixels).

    Parameters
    ----------
    weight : ndarray or torch.Tensor, shape (hidden, C * H * W)
    perm : ndarray of ints, shape (H * W,)
    channels : int
        C.

    Returns
    -------
    the same type and shape as ``weight``

    Examples
    --------
    >>> W = np.arange(8.0).reshape(2, 4); x = np.array([1.0, 2.0, 3.0, 4.0]); p = np.array([2, 0, 3, 1])
    >>> bool(np.allclose(permute_input_weights(W, p) @ x[p], W @ x))
    True
    """
    channels = check_int("channels", channels, minimum=1)
    shape = tuple(weight.shape)
    if len(shape) != 2 or shape[1] % channels:
        raise ValueError(f"weight must be (hidden, C * H * W) with C = channels = {channels}, got shape "
                         f"{shape}; pass the first Linear layer's .weight")
    hw = shape[1] // channels
    if isinstance(weight, torch.Tensor):
        p = torch.from_numpy(_check_perm(perm, hw)).to(weight.device)
        return weight.reshape(shape[0], channels, hw)[:, :, p].reshape(shape)
    w = check_array("weight", weight, ndim=2)
    return w.reshape(shape[0], channels, hw)[:, :, _check_perm(perm, hw)].reshape(shape)
