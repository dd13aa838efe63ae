"""JPEG re-encoding: which quality a file was saved at, and what one more encoding changes.

The book's CIFAR-10 copy is a JPEG re-encoding of the original images. Without
the originals, the accuracy that re-encoding cost cannot be measured; what can
be measured is the quality setting (from the quantisation table stored in
every file) and how much a *further* encoding changes pixels and predictions.

Shapes: image batches are NCHW uint8, ``(N, C, H, W)`` with C = 1 or 3.
"""
from __future__ import annotations

import io
import os
from typing import Tuple, Union

import numpy as np
import torch

from ._checks import check_int

__all__ = ["IJG_LUMINANCE", "ijg_table", "jpeg_quality", "jpeg_roundtrip", "psnr"]

#: The example luminance quantisation table of the JPEG standard (Annex K), natural (row-major) order;
#: libjpeg scales it for a quality setting (see :func:`ijg_table`).
IJG_LUMINANCE = np.array([
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99], dtype=np.int64)


def ijg_table(quality: int) -> np.ndarray:
    """libjpeg's luminance table for ``quality`` in 1..100 (64 values, natural order).

    The scale is 5000 / quality below 50 and 200 - 2 quality from 50 on; each
    entry becomes (base * scale + 50) // 100, clipped to 1..255.

    Examples
    --------
    >>> ijg_table(75)[:8].tolist()
    [8, 6, 5, 8, 12, 20, 26, 31]
    >>> int(ijg_table(100).max())
    1
    """
    quality = check_int("quality", quality, minimum=1)
    if quality > 100:
        raise ValueError(f"quality must be in 1..100, got quality={quality}")
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return np.clip((IJG_LUMINANCE * scale + 50) // 100, 1, 255)


def jpeg_quality(path: Union[str, os.PathLike]) -> Tuple[int, int]:
    """Estimate the quality a JPEG file was saved at from its luminance quantisation table.

    Returns ``(quality, mismatch)``: the libjpeg quality whose table is closest
    to the file's (sum of absolute differences) and that distance; 0 means the
    file was written by libjpeg (or Pillow) at exactly that quality.

    Examples
    --------
    >>> import tempfile, PIL.Image
    >>> f = os.path.join(tempfile.mkdtemp(), "x.jpg")
    >>> PIL.Image.new("RGB", (8, 8)).save(f, quality=62)
    >>> jpeg_quality(f)
    (62, 0)
    """
    from PIL import Image
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path, got {type(path).__name__}")
    with Image.open(path) as im:
        tables = getattr(im, "quantization", None)
        if not tables:
            raise ValueError(f"{path} is not a JPEG file with quantisation tables (format {im.format})")
        table = np.asarray(tables[0], dtype=np.int64)
    dist = [int(np.abs(ijg_table(q) - table).sum()) for q in range(1, 101)]
    best = int(np.argmin(dist))
    return best + 1, dist[best]


def _check_uint8_batch(images) -> np.ndarray:
    arr = images.numpy() if isinstance(images, torch.Tensor) else images
    if not isinstance(arr, np.ndarray) or arr.ndim != 4 or arr.dtype != np.uint8 or arr.shape[1] not in (1, 3):
        raise ValueError(f"images must be uint8 (N, C, H, W) with C = 1 or 3, got {type(images).__name__} "
                         f"{getattr(images, 'dtype', '')} {tuple(getattr(images, 'shape', ()))}; convert float "
                         f"images with (x * 255).round().to(torch.uint8)")
    return arr


def jpeg_roundtrip(images, quality: int = 75, *, subsampling: int = 2) -> torch.Tensor:
    """Encode every image as a JPEG in memory and decode it again (Pillow).

    Parameters
    ----------
    images : Tensor or ndarray, uint8, (N, C, H, W)
    quality : int
        1..100 (Pillow's and libjpeg's scale; 75 is Pillow's default).
    subsampling : {0, 1, 2}
        Chroma subsampling 4:4:4, 4:2:2 or 4:2:0 (Pillow's default for colour).

    Returns
    -------
    Tensor, uint8, same shape.

    Examples
    --------
    >>> x = torch.full((2, 3, 8, 8), 128, dtype=torch.uint8)
    >>> jpeg_roundtrip(x, 90).shape
    torch.Size([2, 3, 8, 8])
    """
    from PIL import Image
    arr = _check_uint8_batch(images)
    quality = check_int("quality", quality, minimum=1)
    if quality > 100:
        raise ValueError(f"quality must be in 1..100, got quality={quality}")
    if subsampling not in (0, 1, 2) or isinstance(subsampling, bool):
        raise ValueError(f"subsampling must be 0 (4:4:4), 1 (4:2:2) or 2 (4:2:0), got {subsampling!r}")
    out = np.empty_like(arr)
    for i, img in enumerate(arr):
        hwc = img.transpose(1, 2, 0)
        pil = Image.fromarray(hwc[:, :, 0] if hwc.shape[2] == 1 else hwc)
        buf = io.BytesIO()
        pil.save(buf, format="JPEG", quality=quality, subsampling=subsampling)
        buf.seek(0)
        dec = np.asarray(Image.open(buf).convert(pil.mode))
        out[i] = dec.reshape(hwc.shape).transpose(2, 0, 1)
    return torch.from_numpy(out)


def psnr(a, b) -> float:
    """Peak signal-to-noise ratio in dB between two uint8 batches of the same shape (inf when equal).

    Examples
    --------
    >>> a = torch.zeros(1, 1, 2, 2, dtype=torch.uint8)
    >>> round(psnr(a, a + 1), 2)
    48.13
    """
    x, y = _check_uint8_batch(a), _check_uint8_batch(b)
    if x.shape != y.shape:
        raise ValueError(f"a and b must have the same shape, got {x.shape} and {y.shape}")
    mse = float(np.mean((x.astype(np.float64) - y.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))
