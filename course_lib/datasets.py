"""Loading the book's datasets: MNIST and CIFAR-10, online or from local copies.

Every loader reads from one *data root* (``root=`` argument, else the
``COURSE_DATA_ROOT`` environment variable, else ``<cache_dir()>/data``) in
torchvision's layout, so the same code runs on a laptop that downloads the data
and on a machine without internet that has a local copy:

* MNIST: ``<root>/MNIST/raw/*-idx?-ubyte[.gz]`` (torchvision's raw files). A
  folder with only the official *test* split is supported: ``load_mnist`` reads
  it and ``mnist_train_test`` splits it into training and held-out images, with
  a ``note`` that says so plainly.
* CIFAR-10: ``<root>/cifar-10-batches-py`` (torchvision's pickled batches) or
  ``<root>/cifar10-jpeg/{train,test}/<class>/*.jpg`` (the same split as JPEG
  files in ImageFolder layout).

The data root may be read-only: decoded arrays are cached as ``.npz`` files in
``cache_dir()`` (``COURSE_CACHE_DIR``, else ``$XDG_CACHE_HOME/course_lib``,
else ``~/.cache/course_lib``), keyed by the source files' sizes and
modification times, so a second load takes well under a second.

Arrays are torch tensors in NCHW layout: images ``uint8`` of shape
(N, C, H, W), labels ``int64`` of shape (N,).
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import numbers
import os
import pathlib
import sys
import warnings
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch.utils.data import Dataset

from ._checks import check_int, check_pair

__all__ = [
    "CIFAR10_CLASSES", "CIFAR10_JPEG_MD5", "MNIST_CLASSES",
    "DataNotFoundError", "DataSplit", "ImageTensorDataset",
    "resolve_data_root", "cache_dir",
    "load_mnist", "mnist_train_test", "mnist_dataset",
    "load_cifar10", "cifar10_dataset", "cifar10_jpeg_checksum", "verify_cifar10_jpeg",
    "load_image_folder", "subset",
    "cifar10_train_test", "train_val_split", "subsample",
]

PathArg = Union[str, "os.PathLike[str]"]

#: CIFAR-10's classes in the standard label order (label ``i`` is ``CIFAR10_CLASSES[i]``).
CIFAR10_CLASSES: Tuple[str, ...] = ("airplane", "automobile", "bird", "cat", "deer",
                                    "dog", "frog", "horse", "ship", "truck")
#: MNIST's classes: label ``i`` is the digit ``str(i)``.
MNIST_CLASSES: Tuple[str, ...] = tuple(str(d) for d in range(10))
#: md5 of the sorted list of image md5s of the ``cifar10-jpeg`` folder (its README's value).
CIFAR10_JPEG_MD5 = "a00e7ef3d4e75693acf4229e8780b460"

SPLITS = ("train", "test")
_MNIST_FILES = {  # split -> (images file, labels file), torchvision's names without .gz
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_CACHE_VERSION = 1
_FIX_HINT = ("To fix it: set the COURSE_DATA_ROOT environment variable to a folder that holds "
             "the data, pass root=<that folder>, or connect to the internet and pass download=True "
             "or set COURSE_DOWNLOAD=1 (the files are then downloaded into the data root, which "
             "must be writable).")
#: values of ``COURSE_DOWNLOAD`` that switch downloading on (anything else leaves it off)
_DOWNLOAD_ON = ("1", "true", "yes", "on")


class DataNotFoundError(FileNotFoundError):
    """A dataset is not where the loaders looked for it.

    The message says what is missing, lists every place that was looked at and
    how to fix it (set ``COURSE_DATA_ROOT``, pass ``root=``, or pass
    ``download=True`` with internet access). It is a ``FileNotFoundError``, so
    code that already catches that keeps working.

    Examples
    --------
    >>> issubclass(DataNotFoundError, FileNotFoundError)
    True
    """


@dataclass(frozen=True, eq=False, repr=False)
class DataSplit:
    """A train/test split of one dataset, plus a note on where it came from.

    Attributes
    ----------
    train_images : torch.Tensor
        uint8, shape (N_train, C, H, W).
    train_labels : torch.Tensor
        int64, shape (N_train,).
    test_images : torch.Tensor
        uint8, shape (N_test, C, H, W).
    test_labels : torch.Tensor
        int64, shape (N_test,).
    note : str
        One sentence on the split (official or not, what it was carved from);
        notebooks print it next to every result that uses the split.
    classes : tuple of str
        Class names; label ``i`` is ``classes[i]``.
    test_name : str
        What the held-out part is: ``"test"`` (default) or ``"validation"`` for a
        split made by :func:`train_val_split`. Use it in legends and printouts.

    Examples
    --------
    >>> s = DataSplit(torch.zeros(3, 1, 2, 2, dtype=torch.uint8), torch.zeros(3, dtype=torch.int64),
    ...               torch.zeros(1, 1, 2, 2, dtype=torch.uint8), torch.zeros(1, dtype=torch.int64),
    ...               note="toy split", classes=("a",))
    >>> s
    DataSplit(train=(3, 1, 2, 2), test=(1, 1, 2, 2), classes=1, note='toy split')
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    note: str
    classes: Tuple[str, ...]
    test_name: str = "test"

    def __repr__(self) -> str:
        held = "" if self.test_name == "test" else f", test_name={self.test_name!r}"
        return (f"DataSplit(train={tuple(self.train_images.shape)}, "
                f"test={tuple(self.test_images.shape)}, classes={len(self.classes)}, "
                f"note={self.note!r}{held})")


# ----------------------------------------------------------------------------------------------
# argument checks (datasets-specific; the generic ones live in _checks.py)

def _check_choice(name: str, value, choices: Sequence[str]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {list(choices)}, got {value!r} of type "
                        f"{type(value).__name__}; pass e.g. {name}={choices[0]!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {name}={value!r}; "
                         f"pass e.g. {name}={choices[0]!r}")
    return value


def _check_bool(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r} of type "
                        f"{type(value).__name__}; pass {name}=True or {name}=False")
    return value


def _resolve_download(download) -> bool:
    """``download`` as a bool: None reads the ``COURSE_DOWNLOAD`` environment variable.

    Hosted kernels (Colab, Binder) set ``COURSE_DOWNLOAD=1`` so that the notebooks'
    plain ``load_mnist()`` calls fetch the data there; everywhere else nothing is
    downloaded unless asked for.
    """
    if download is None:
        return os.environ.get("COURSE_DOWNLOAD", "").strip().lower() in _DOWNLOAD_ON
    if not isinstance(download, bool):
        raise TypeError(f"download must be True, False or None, got {download!r} of type "
                        f"{type(download).__name__}; pass download=True to fetch missing files, "
                        f"or leave it out (None reads the COURSE_DOWNLOAD environment variable)")
    return download


def _check_path(name: str, value, *, allow_none: bool = False) -> Optional[pathlib.Path]:
    if value is None and allow_none:
        return None
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        none = " or None" if allow_none else ""
        raise TypeError(f"{name} must be a path (str or pathlib.Path){none}, got {value!r} of type "
                        f"{type(value).__name__}; pass e.g. {name}='/path/to/data'")
    if str(value).strip() == "":
        raise ValueError(f"{name} must be a non-empty path, got {name}={value!r}; pass the folder "
                         f"that holds the data, e.g. {name}='/path/to/data'")
    return pathlib.Path(value).expanduser().absolute()


def _check_transform(name: str, value) -> Optional[Callable]:
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be a callable (e.g. torchvision.transforms.ToTensor()) or None, "
                        f"got {value!r} of type {type(value).__name__}")
    return value


# ----------------------------------------------------------------------------------------------
# where the data and the caches live

def cache_dir() -> pathlib.Path:
    """The folder for the library's caches, created on demand.

    ``COURSE_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/course_lib``, else
    ``~/.cache/course_lib``. Decoded datasets are cached here and never in the
    data root, which may be read-only.

    Returns
    -------
    pathlib.Path
        An existing, absolute directory.

    Raises
    ------
    OSError
        When the folder cannot be created; the message says which variable to set.

    Examples
    --------
    >>> import os, tempfile
    >>> from unittest import mock
    >>> with tempfile.TemporaryDirectory() as d, mock.patch.dict(os.environ, {"COURSE_CACHE_DIR": d}):
    ...     print(cache_dir() == pathlib.Path(d).absolute(), cache_dir().is_dir())
    True True
    """
    env = os.environ.get("COURSE_CACHE_DIR", "").strip()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if env:
        path = pathlib.Path(env).expanduser()
    elif xdg:
        path = pathlib.Path(xdg).expanduser() / "course_lib"
    else:
        path = pathlib.Path.home() / ".cache" / "course_lib"
    path = path.absolute()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(f"cannot create the cache folder {path} ({err}); set the COURSE_CACHE_DIR "
                      f"environment variable to a writable folder") from err
    return path


def _resolve_root(root) -> Tuple[pathlib.Path, str]:
    """The data root and a few words on where it came from (for error messages)."""
    path = _check_path("root", root, allow_none=True)
    if path is not None:
        return path, "the root= argument"
    env = os.environ.get("COURSE_DATA_ROOT", "").strip()
    if env:
        return pathlib.Path(env).expanduser().absolute(), "the COURSE_DATA_ROOT environment variable"
    return cache_dir() / "data", "the default <cache_dir()>/data (COURSE_DATA_ROOT is not set)"


def resolve_data_root(root: Optional[PathArg] = None) -> pathlib.Path:
    """The folder the loaders read datasets from.

    The ``root`` argument wins, then the ``COURSE_DATA_ROOT`` environment
    variable, then ``<cache_dir()>/data``. The folder need not exist.

    Parameters
    ----------
    root : str, os.PathLike or None
        An explicit data root; ``~`` is expanded.

    Returns
    -------
    pathlib.Path
        The absolute data root.

    Examples
    --------
    >>> resolve_data_root("/srv/course-data")
    PosixPath('/srv/course-data')
    >>> resolve_data_root(pathlib.Path("/srv/course-data")) / "MNIST" / "raw"
    PosixPath('/srv/course-data/MNIST/raw')
    """
    return _resolve_root(root)[0]


def _not_found(what: str, looked: Sequence[str], origin: str, extra: str = "") -> DataNotFoundError:
    places = "\n".join(f"  - {p}" for p in looked)
    msg = f"{what}\nLooked in (data root from {origin}):\n{places}\n"
    if extra:
        msg += extra.rstrip() + "\n"
    return DataNotFoundError(msg + _FIX_HINT)


# ----------------------------------------------------------------------------------------------
# the .npz cache

def _cache_key(*parts) -> str:
    blob = json.dumps([_CACHE_VERSION, *parts], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _cache_path(prefix: str, key: str) -> pathlib.Path:
    return cache_dir() / "datasets" / f"{prefix}-{key}.npz"


def _cache_load(path: pathlib.Path) -> Optional[Tuple[np.ndarray, np.ndarray, dict]]:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return z["images"], z["labels"], json.loads(str(z["meta"]))
    except Exception:  # a truncated or foreign file: rebuild it
        return None


def _cache_save(path: pathlib.Path, images: np.ndarray, labels: np.ndarray, meta: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix = path.name.rsplit("-", 1)[0]
    # write-then-rename so that a concurrent reader never sees half a file
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
    try:
        np.savez(tmp, images=images, labels=labels, meta=np.array(json.dumps(meta)))
        os.replace(tmp, path)
    except OSError as err:  # a full or read-only cache is not fatal: the data was decoded
        warnings.warn(f"could not write the cache file {path} ({err}); set COURSE_CACHE_DIR to a "
                      f"writable folder to make later loads fast", stacklevel=3)
        with contextlib.suppress(OSError):
            tmp.unlink()
        return
    for old in path.parent.glob(f"{prefix}-*.npz"):  # stale versions of the same dataset
        if old != path:
            with contextlib.suppress(OSError):
                old.unlink()


def _file_stamp(path: pathlib.Path) -> Tuple[str, int, int]:
    st = path.stat()
    return str(path), st.st_size, st.st_mtime_ns


# ----------------------------------------------------------------------------------------------
# MNIST

def _md5(path: pathlib.Path, chunk: int = 1 << 20) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _mnist_raw(root: pathlib.Path) -> pathlib.Path:
    return root / "MNIST" / "raw"


def _mnist_file(raw: pathlib.Path, name: str) -> Optional[pathlib.Path]:
    """The .gz file if present (it has an md5 to check), else the uncompressed one."""
    for candidate in (raw / f"{name}.gz", raw / name):
        if candidate.is_file():
            return candidate
    return None


def _mnist_split_files(raw: pathlib.Path, split: str) -> Optional[Tuple[pathlib.Path, pathlib.Path]]:
    found = [_mnist_file(raw, name) for name in _MNIST_FILES[split]]
    return (found[0], found[1]) if found[0] is not None and found[1] is not None else None


def _torchvision_mnist_ready(root: pathlib.Path) -> bool:
    """True when ``torchvision.datasets.MNIST(root, download=False)`` can load both splits:
    it needs all four *uncompressed* raw files."""
    raw = _mnist_raw(root)
    return all((raw / name).is_file() for pair in _MNIST_FILES.values() for name in pair)


def _read_idx(path: pathlib.Path, *, expect_ndim: int) -> np.ndarray:
    """Decode one IDX file (gzip or not), checking the md5 of a .gz against torchvision's."""
    if path.suffix == ".gz":
        from torchvision.datasets import MNIST
        expected = dict(MNIST.resources).get(path.name)
        if expected is not None:
            got = _md5(path)
            if got != expected:
                raise ValueError(f"{path} is corrupt: its md5 is {got}, torchvision.datasets.MNIST."
                                 f"resources expects {expected}; delete it and download it again "
                                 f"(load_mnist(..., download=True))")
        with gzip.open(path, "rb") as f:
            data = f.read()
    else:
        data = path.read_bytes()
    if len(data) < 4:
        raise ValueError(f"{path} is not an IDX file: it has only {len(data)} bytes")
    # magic: two zero bytes, a type code (0x08 = unsigned byte) and the number of dimensions
    zero, dtype_code, ndim = int.from_bytes(data[0:2], "big"), data[2], data[3]
    if zero != 0 or dtype_code != 0x08 or ndim != expect_ndim:
        raise ValueError(f"{path} has the wrong magic number 0x{data[:4].hex()}; an MNIST "
                         f"{'image' if expect_ndim == 3 else 'label'} file starts with "
                         f"0x0000080{expect_ndim}. Delete it and download it again")
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    if len(data) != header + int(np.prod(dims)):
        raise ValueError(f"{path} is truncated or padded: its header says shape {dims} "
                         f"({header + int(np.prod(dims))} bytes), the file has {len(data)} bytes. "
                         f"Delete it and download it again")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _decode_mnist(images_path: pathlib.Path, labels_path: pathlib.Path) -> Tuple[np.ndarray, np.ndarray]:
    images = _read_idx(images_path, expect_ndim=3)
    labels = _read_idx(labels_path, expect_ndim=1)
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
        raise ValueError(f"{images_path} and {labels_path} do not match: images {images.shape}, "
                         f"labels {labels.shape}; expected (N, 28, 28) and (N,)")
    if labels.max(initial=0) > 9:
        raise ValueError(f"{labels_path} holds labels outside 0..9 (max {labels.max()})")
    return images[:, None].copy(), labels.astype(np.int64)


def _load_mnist_files(split: str, files: Tuple[pathlib.Path, pathlib.Path]):
    key = _cache_key("mnist", split, *(_file_stamp(p) for p in files))
    path = _cache_path(f"mnist-{split}", key)
    cached = _cache_load(path)
    if cached is not None:
        return torch.from_numpy(cached[0]), torch.from_numpy(cached[1])
    images, labels = _decode_mnist(*files)
    _cache_save(path, images, labels, {"source": [str(p) for p in files], "split": split})
    return torch.from_numpy(images), torch.from_numpy(labels)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    # torchvision's downloaders print progress to stdout; notebook output stays for results
    with contextlib.redirect_stdout(sys.stderr):
        yield


def _download_mnist(root: pathlib.Path) -> None:
    from torchvision.datasets import MNIST
    try:
        with _stdout_to_stderr():
            MNIST(str(root), train=True, download=True)
    except (OSError, RuntimeError) as err:
        raise _not_found(
            f"MNIST could not be downloaded into {_mnist_raw(root)}.",
            [f"{_mnist_raw(root)} (download=True failed: {type(err).__name__}: "
             f"{str(err).strip().splitlines()[0] if str(err).strip() else ''})"],
            "the download attempt",
            "Check the internet connection and that the data root is writable.") from err


def _mnist_missing_error(split: str, root: pathlib.Path, origin: str) -> DataNotFoundError:
    raw = _mnist_raw(root)
    looked = [f"{raw / name}.gz or {raw / name}: "
              f"{'found' if _mnist_file(raw, name) else 'missing'}" for name in _MNIST_FILES[split]]
    if split == "train" and _mnist_split_files(raw, "test") is not None:
        return _not_found(
            "MNIST training split not found: only the official test split is present "
            f"in {raw}.", looked, origin,
            "To train without the training split, use course_lib.datasets.mnist_train_test(), "
            "which splits the 10,000 test images into training and held-out images and says so in "
            "its .note.")
    return _not_found(f"MNIST {split} split not found.", looked, origin)


def load_mnist(split: str = "test", root: Optional[PathArg] = None,
               download: Optional[bool] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """Load one split of MNIST as uint8 images and int64 labels.

    Looks in ``<root>/MNIST/raw`` (torchvision's layout). With all four raw
    files uncompressed there, ``torchvision.datasets.MNIST`` reads them. Otherwise
    the gzip (or plain) IDX files of the requested split are decoded here, after
    checking their magic numbers and, for ``.gz`` files, their md5 against
    ``torchvision.datasets.MNIST.resources``; the decoded arrays are cached as an
    ``.npz`` in ``cache_dir()``, so later loads are instant. A folder with only
    the test split loads ``split="test"``; ``split="train"`` then raises
    ``DataNotFoundError`` pointing to ``mnist_train_test``.

    Parameters
    ----------
    split : {"test", "train"}
        Which official split (10,000 / 60,000 images).
    root : str, os.PathLike or None
        Data root, see ``resolve_data_root``.
    download : bool or None
        Download the missing files with torchvision (md5-checked) into the data root.
        None (the default) downloads when the ``COURSE_DOWNLOAD`` environment
        variable is ``1`` (hosted kernels set it) and not otherwise.

    Returns
    -------
    images : torch.Tensor
        uint8, shape (N, 1, 28, 28), values 0..255.
    labels : torch.Tensor
        int64, shape (N,), digits 0..9.

    Raises
    ------
    DataNotFoundError
        When the split's files are not there (and ``download`` is False or failed).
    ValueError
        On a bad ``split``, or a corrupt file (wrong md5, magic number or length).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     try:
    ...         load_mnist("test", root=empty)
    ...     except DataNotFoundError as err:
    ...         print(str(err).splitlines()[0])
    MNIST test split not found.
    >>> images, labels = load_mnist("test")  # doctest: +SKIP
    >>> images.shape, images.dtype, labels.shape, labels.dtype  # doctest: +SKIP
    (torch.Size([10000, 1, 28, 28]), torch.uint8, torch.Size([10000]), torch.int64)
    """
    split = _check_choice("split", split, SPLITS)
    download = _resolve_download(download)
    root_path, origin = _resolve_root(root)

    if not _torchvision_mnist_ready(root_path):
        files = _mnist_split_files(_mnist_raw(root_path), split)
        if files is not None:
            return _load_mnist_files(split, files)
        if not download:
            raise _mnist_missing_error(split, root_path, origin)
        _download_mnist(root_path)
    from torchvision.datasets import MNIST
    ds = MNIST(str(root_path), train=(split == "train"), download=False)
    return ds.data[:, None].to(torch.uint8).contiguous(), ds.targets.to(torch.int64)


def _balanced_order(labels: np.ndarray, seed: int) -> np.ndarray:
    """All indices, ordered so that every prefix is as class-balanced as possible.

    Each sample gets its rank within its class under a seeded shuffle; sorting by
    (rank, random tie-break) interleaves the classes. A prefix of length n holds
    floor(n / K) or ceil(n / K) samples of each of the K classes (classes that run
    out of samples leave their share to the others).
    """
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(labels))
    rank = np.empty(len(labels), dtype=np.int64)
    shuffled = labels[perm]
    for c in np.unique(labels):
        members = perm[shuffled == c]
        rank[members] = np.arange(len(members))
    tie = rng.random(len(labels))
    return np.lexsort((tie, rank))


def mnist_train_test(root: Optional[PathArg] = None, *, test_size: int = 2000, seed: int = 0,
                     download: Optional[bool] = None) -> DataSplit:
    """MNIST's training and test images, or an honest substitute when only the test split exists.

    With the full dataset this is the official split, and ``test_size`` and
    ``seed`` are not used. With only the official test split (10,000 images), it
    is split with a seeded, class-stratified draw into ``10000 - test_size``
    training and ``test_size`` held-out images, and ``note`` says so: such
    numbers are not comparable with published MNIST results. Nothing is printed;
    notebooks print ``note`` themselves.

    Parameters
    ----------
    root : str, os.PathLike or None
        Data root, see ``resolve_data_root``.
    test_size : int
        Held-out images in the test-only case, 1..9999.
    seed : int
        Seed of the stratified draw, >= 0.
    download : bool or None
        Try to download the missing training split first; if that fails while the
        test split is present, fall back to splitting it (with a warning).
        None (the default) downloads when the ``COURSE_DOWNLOAD`` environment
        variable is ``1`` (hosted kernels set it) and not otherwise.

    Returns
    -------
    DataSplit
        Images uint8 (N, 1, 28, 28), labels int64 (N,), ``classes`` = ``MNIST_CLASSES``.

    Raises
    ------
    DataNotFoundError
        When not even the test split is available.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     try:
    ...         mnist_train_test(root=empty)
    ...     except DataNotFoundError as err:
    ...         print(str(err).splitlines()[0])
    MNIST test split not found.
    >>> data = mnist_train_test(test_size=2000)  # doctest: +SKIP
    >>> print(data.note)  # doctest: +SKIP
    MNIST training split not available here: training on 8,000 of the official 10,000 test images ...
    """
    test_size = check_int("test_size", test_size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    download = _resolve_download(download)
    root_path, origin = _resolve_root(root)

    raw = _mnist_raw(root_path)
    have_train = _torchvision_mnist_ready(root_path) or _mnist_split_files(raw, "train") is not None
    if not have_train and download:
        try:
            _download_mnist(root_path)
            have_train = True
        except DataNotFoundError as err:
            if _mnist_split_files(raw, "test") is None:
                raise
            warnings.warn(f"downloading the MNIST training split failed, so the test split is "
                          f"split instead: {str(err).splitlines()[1:3]}", stacklevel=2)
    if have_train:
        tr_x, tr_y = load_mnist("train", root_path)
        te_x, te_y = load_mnist("test", root_path)
        return DataSplit(tr_x, tr_y, te_x, te_y,
                         note=(f"official MNIST split: {len(tr_y):,} training / "
                               f"{len(te_y):,} test images"),
                         classes=MNIST_CLASSES)

    images, labels = load_mnist("test", root_path)  # DataNotFoundError when missing
    n = len(labels)
    if test_size >= n:
        raise ValueError(f"test_size must be smaller than the {n:,} available images, got "
                         f"test_size={test_size}; use e.g. test_size={max(1, n // 5)}")
    order = _balanced_order(labels.numpy(), seed)
    held = np.sort(order[:test_size])
    train = np.sort(order[test_size:])
    note = (f"MNIST training split not available here: training on {len(train):,} of the "
            f"official {n:,} test images and evaluating on the other {len(held):,} "
            f"(class-stratified, seed={seed}); numbers are not comparable with published MNIST "
            f"results")
    held_t, train_t = torch.from_numpy(held), torch.from_numpy(train)
    return DataSplit(images[train_t], labels[train_t], images[held_t], labels[held_t],
                     note=note, classes=MNIST_CLASSES)


class ImageTensorDataset(Dataset):
    """A torch ``Dataset`` over uint8 NCHW images that behaves like torchvision's.

    Item ``i`` is ``(image, label)``: the image as a PIL image (mode ``"L"``
    for one channel, ``"RGB"`` for three) passed through ``transform`` if given,
    the label as an int passed through ``target_transform`` if given. Used for
    MNIST when only its test split is present, where ``torchvision.datasets.MNIST``
    refuses to load.

    Parameters
    ----------
    images : torch.Tensor
        uint8, shape (N, 1, H, W) or (N, 3, H, W).
    labels : torch.Tensor
        Integer labels, shape (N,).
    classes : sequence of str
        Class names; label ``i`` is ``classes[i]``.
    transform, target_transform : callable or None
        Applied to the PIL image and to the int label.

    Examples
    --------
    >>> ds = ImageTensorDataset(torch.zeros(2, 1, 28, 28, dtype=torch.uint8),
    ...                         torch.tensor([3, 7]), classes=MNIST_CLASSES)
    >>> img, label = ds[1]
    >>> len(ds), img.size, img.mode, label
    (2, (28, 28), 'L', 7)
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, classes: Sequence[str],
                 transform: Optional[Callable] = None,
                 target_transform: Optional[Callable] = None) -> None:
        if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 4 \
                or images.shape[1] not in (1, 3):
            raise TypeError(f"images must be a uint8 torch.Tensor of shape (N, 1 or 3, H, W), got "
                            f"{type(images).__name__} {getattr(images, 'dtype', '')} "
                            f"{tuple(getattr(images, 'shape', ()))}; convert with "
                            f"torch.as_tensor(images, dtype=torch.uint8)")
        if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(f"labels must be a 1D torch.Tensor with one label per image "
                             f"({len(images)}), got {type(labels).__name__} of shape "
                             f"{tuple(getattr(labels, 'shape', ()))}")
        self.data = images
        self.targets = labels.to(torch.int64)
        self.classes = list(classes)
        self.transform = _check_transform("transform", transform)
        self.target_transform = _check_transform("target_transform", target_transform)

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int):
        from PIL import Image
        img = self.data[index].numpy()
        img = Image.fromarray(img[0] if img.shape[0] == 1 else np.ascontiguousarray(img.transpose(1, 2, 0)))
        target = int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self) -> str:
        return (f"ImageTensorDataset(n={len(self)}, image_shape={tuple(self.data.shape[1:])}, "
                f"classes={len(self.classes)})")


def mnist_dataset(split: str = "test", root: Optional[PathArg] = None,
                  transform: Optional[Callable] = None) -> Dataset:
    """MNIST as a torch ``Dataset`` of ``(PIL image or transform(image), int label)``.

    ``torchvision.datasets.MNIST`` when its raw files are all there; with only
    the test split, an ``ImageTensorDataset`` over ``load_mnist("test")`` that
    yields the same items. Nothing is downloaded.

    Parameters
    ----------
    split : {"test", "train"}
        Which official split.
    root : str, os.PathLike or None
        Data root, see ``resolve_data_root``.
    transform : callable or None
        Applied to each PIL image (mode ``"L"``, 28x28), e.g. ``transforms.ToTensor()``.

    Returns
    -------
    torch.utils.data.Dataset
        Items ``(image, label)``; ``.classes`` names the labels.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     try:
    ...         mnist_dataset("test", root=empty)
    ...     except DataNotFoundError:
    ...         print("not found")
    not found
    >>> ds = mnist_dataset("test")  # doctest: +SKIP
    >>> len(ds), ds[0][1]  # doctest: +SKIP
    (10000, 7)
    """
    split = _check_choice("split", split, SPLITS)
    transform = _check_transform("transform", transform)
    root_path, _ = _resolve_root(root)
    if _torchvision_mnist_ready(root_path):
        from torchvision.datasets import MNIST
        return MNIST(str(root_path), train=(split == "train"), transform=transform, download=False)
    images, labels = load_mnist(split, root_path)
    return ImageTensorDataset(images, labels, MNIST_CLASSES, transform=transform)


# ----------------------------------------------------------------------------------------------
# image folders (CIFAR-10 as JPEG, and any ImageFolder)

def _image_extensions() -> Tuple[str, ...]:
    from torchvision.datasets.folder import IMG_EXTENSIONS
    return tuple(IMG_EXTENSIONS)


def _scan_image_folder(path: pathlib.Path, *, stat: bool = False):
    """Classes and files of an ImageFolder, in torchvision's order.

    Returns (classes, [(file, label), ...], newest mtime_ns or 0). The order is
    ``ImageFolder``'s: classes sorted, then ``sorted(os.walk(...))`` and sorted
    file names within each class folder.
    """
    exts = _image_extensions()
    classes = sorted(e.name for e in os.scandir(path) if e.is_dir())
    samples, newest = [], 0
    for label, cls in enumerate(classes):
        for dirpath, _, fnames in sorted(os.walk(path / cls, followlinks=True)):
            for fname in sorted(fnames):
                if fname.lower().endswith(exts):
                    fpath = os.path.join(dirpath, fname)
                    samples.append((fpath, label))
                    if stat:
                        newest = max(newest, os.stat(fpath).st_mtime_ns)
    return tuple(classes), samples, newest


def _decode_images(files: Sequence[str], size: Optional[Tuple[int, int]] = None,
                   desc: str = "decoding images") -> np.ndarray:
    """Decode image files with PIL into a uint8 array of shape (N, 3, H, W).

    Without ``size`` all images must have the size of the first; with it, each is
    resized to (height, width) with bilinear filtering. A plain loop: for tiny
    images PIL's per-file Python overhead dominates, and threads only add GIL
    contention (measured: 2-8 threads were slower than the loop).
    """
    from PIL import Image
    from tqdm.auto import tqdm

    out: Optional[np.ndarray] = None
    first_shape: Tuple[int, ...] = ()
    for i, fpath in enumerate(tqdm(files, desc=desc, unit="img", leave=False,
                                   disable=len(files) < 5000, mininterval=0.5)):
        with Image.open(fpath) as im:
            if im.mode != "RGB":
                im = im.convert("RGB")
            if size is not None and im.size != (size[1], size[0]):
                im = im.resize((size[1], size[0]), Image.BILINEAR)
            arr = np.asarray(im)  # (H, W, 3)
        if out is None:
            first_shape = arr.shape
            out = np.empty((len(files), 3) + arr.shape[:2], dtype=np.uint8)
        elif arr.shape != first_shape:
            raise ValueError(f"{fpath} is {arr.shape[1]}x{arr.shape[0]} pixels but {files[0]} is "
                             f"{first_shape[1]}x{first_shape[0]}; pass size=(height, width) to "
                             f"resize every image to one size")
        out[i] = arr.transpose(2, 0, 1)
    assert out is not None, "called with no files"
    return out


def load_image_folder(path: PathArg, *, size: Optional[Tuple[int, int]] = None
                      ) -> Tuple[torch.Tensor, torch.Tensor, Tuple[str, ...]]:
    """Load every image of an ImageFolder (``<path>/<class>/<file>``) into memory.

    Classes, labels and image order are those of ``torchvision.datasets.ImageFolder``
    (class folders sorted by name; files sorted within each). Images are
    converted to RGB. Nothing is cached.

    Parameters
    ----------
    path : str or os.PathLike
        The folder holding one sub-folder per class.
    size : (int, int), int or None
        Resize every image to (height, width) (bilinear; an int means a square).
        ``None`` keeps the size, which must then be the same for all images.

    Returns
    -------
    images : torch.Tensor
        uint8, shape (N, 3, H, W).
    labels : torch.Tensor
        int64, shape (N,); label ``i`` is ``classes[i]``.
    classes : tuple of str
        The class folder names, sorted.

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> with tempfile.TemporaryDirectory() as d:
    ...     for cls, colour in [("cat", "red"), ("dog", "blue")]:
    ...         os.makedirs(os.path.join(d, cls))
    ...         Image.new("RGB", (8, 6), colour).save(os.path.join(d, cls, "0.png"))
    ...     images, labels, classes = load_image_folder(d, size=(4, 4))
    >>> images.shape, images.dtype, labels.tolist(), classes
    (torch.Size([2, 3, 4, 4]), torch.uint8, [0, 1], ('cat', 'dog'))
    >>> images[1, :, 0, 0].tolist()  # blue
    [0, 0, 255]
    """
    folder = _check_path("path", path)
    if size is not None:
        size = check_pair("size", size, minimum=1)
    if not folder.is_dir():
        raise DataNotFoundError(f"path={str(path)!r} is not a folder (looked at {folder}); pass a "
                                f"folder with one sub-folder of images per class")
    classes, samples, _ = _scan_image_folder(folder)
    if not samples:
        raise DataNotFoundError(f"no images found in {folder}: expected <class>/<image> files with "
                                f"one of the extensions {', '.join(_image_extensions())}; "
                                f"found class folders {list(classes)}")
    images = _decode_images([f for f, _ in samples], size, desc=f"decoding {folder.name}")
    labels = np.fromiter((lab for _, lab in samples), dtype=np.int64, count=len(samples))
    return torch.from_numpy(images), torch.from_numpy(labels), classes


def _md5sum_line(digest: str, relpath: str) -> str:
    # GNU md5sum escapes names holding a backslash or newline and marks the line with '\'
    if "\\" in relpath or "\n" in relpath:
        return "\\" + digest + "  " + relpath.replace("\\", "\\\\").replace("\n", "\\n") + "\n"
    return f"{digest}  {relpath}\n"


def cifar10_jpeg_checksum(folder: PathArg) -> str:
    """md5 of the sorted list of image md5s of a ``cifar10-jpeg`` folder.

    Reproduces ``cd folder && find . -name "*.jpg" | sort | xargs md5sum | md5sum``:
    the md5 of the text made of one line ``"<md5>  ./<relative path>\\n"`` per
    ``*.jpg`` file, sorted by path in byte (C locale) order.

    Parameters
    ----------
    folder : str or os.PathLike
        The ``cifar10-jpeg`` folder (holding ``train/`` and ``test/``).

    Returns
    -------
    str
        32 lowercase hex digits.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     os.makedirs(os.path.join(d, "test", "cat"))
    ...     with open(os.path.join(d, "test", "cat", "0000.jpg"), "wb") as f:
    ...         _ = f.write(b"not really a jpeg")
    ...     cifar10_jpeg_checksum(d)
    '1f89907b7c3baaf86550d5ed7abb72e9'
    """
    root = _check_path("folder", folder)
    if not root.is_dir():
        raise DataNotFoundError(f"folder={str(folder)!r} is not a folder (looked at {root}); pass "
                                f"the cifar10-jpeg folder that holds train/ and test/")
    rel = []
    for dirpath, _, fnames in os.walk(root):
        for fname in fnames:
            if fname.endswith(".jpg"):
                rel.append("./" + os.path.relpath(os.path.join(dirpath, fname), root).replace(os.sep, "/"))
    rel.sort(key=lambda s: s.encode("utf-8", "surrogateescape"))

    # a plain loop: threads were slower on these ~60,000 small files
    text = "".join(_md5sum_line(_md5(root / r[2:]), r) for r in rel)
    return hashlib.md5(text.encode("utf-8", "surrogateescape")).hexdigest()


def verify_cifar10_jpeg(folder: PathArg, *, expected: Optional[str] = None) -> None:
    """Check a ``cifar10-jpeg`` folder against its published checksum.

    Parameters
    ----------
    folder : str or os.PathLike
        The ``cifar10-jpeg`` folder (holding ``train/`` and ``test/``).
    expected : str or None
        The md5 to compare with; ``None`` uses ``CIFAR10_JPEG_MD5`` (the data README's value).

    Raises
    ------
    ValueError
        When ``cifar10_jpeg_checksum(folder)`` differs from ``expected``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     try:
    ...         verify_cifar10_jpeg(d)
    ...     except ValueError as err:
    ...         print(str(err)[:40])
    checksum mismatch for the CIFAR-10 JPEG
    """
    if expected is None:
        expected = CIFAR10_JPEG_MD5
    if not isinstance(expected, str) or len(expected) != 32:
        raise TypeError(f"expected must be a 32-digit md5 hex string or None, got {expected!r}; "
                        f"leave it out to use CIFAR10_JPEG_MD5")
    got = cifar10_jpeg_checksum(folder)
    if got != expected.lower():
        raise ValueError(f"checksum mismatch for the CIFAR-10 JPEG folder {folder}: got {got}, "
                         f"expected {expected}. Some files are missing, extra or changed; copy the "
                         f"folder again, or download the original with load_cifar10(download=True)")


# ----------------------------------------------------------------------------------------------
# CIFAR-10

def _cifar_batches(root: pathlib.Path, split: str, transform: Optional[Callable] = None):
    """torchvision's CIFAR10 over ``<root>/cifar-10-batches-py``, or the reason it cannot be used."""
    from torchvision.datasets import CIFAR10
    folder = root / CIFAR10.base_folder
    if not folder.is_dir():
        return None, f"{folder}: missing"
    try:
        return CIFAR10(str(root), train=(split == "train"), transform=transform, download=False), None
    except RuntimeError as err:  # torchvision's "Dataset not found or corrupted"
        return None, f"{folder}: present but fails torchvision's md5 check ({err})"


def _cifar_jpeg_dir(root: pathlib.Path, split: str) -> Tuple[Optional[pathlib.Path], str]:
    folder = root / "cifar10-jpeg" / split
    if not folder.is_dir():
        return None, f"{folder}: missing"
    classes = tuple(sorted(e.name for e in os.scandir(folder) if e.is_dir()))
    if classes != tuple(sorted(CIFAR10_CLASSES)):
        return None, (f"{folder}: present but its class folders {list(classes)} are not "
                      f"CIFAR-10's {list(CIFAR10_CLASSES)}")
    return folder, ""


def _load_cifar_jpeg(folder: pathlib.Path, split: str) -> Tuple[torch.Tensor, torch.Tensor]:
    classes, samples, newest = _scan_image_folder(folder, stat=True)
    key = _cache_key("cifar10-jpeg", str(folder), len(samples), newest, CIFAR10_JPEG_MD5)
    path = _cache_path(f"cifar10-jpeg-{split}", key)
    cached = _cache_load(path)
    if cached is None:
        images = _decode_images([f for f, _ in samples], desc=f"decoding CIFAR-10 {split} JPEGs")
        if images.shape[2:] != (32, 32):
            raise ValueError(f"the images in {folder} are {images.shape[3]}x{images.shape[2]} "
                             f"pixels; CIFAR-10 images are 32x32")
        # folder name -> standard label (sorted names happen to be the standard order; do not rely on it)
        remap = np.array([CIFAR10_CLASSES.index(c) for c in classes], dtype=np.int64)
        labels = remap[np.fromiter((lab for _, lab in samples), dtype=np.int64, count=len(samples))]
        # the checksum covers the whole cifar10-jpeg folder; computed once per cache build
        checksum = cifar10_jpeg_checksum(folder.parent)
        meta = {"source": str(folder), "split": split, "files": len(samples),
                "checksum": checksum, "checksum_expected": CIFAR10_JPEG_MD5,
                "verified": checksum == CIFAR10_JPEG_MD5}
        _cache_save(path, images, labels, meta)
    else:
        images, labels, meta = cached
    if not meta.get("verified", False):
        warnings.warn(f"the CIFAR-10 JPEG folder {folder.parent} has checksum {meta.get('checksum')}, "
                      f"not {meta.get('checksum_expected')}: files are missing, extra or changed, so "
                      f"results may differ from the book's (see verify_cifar10_jpeg)", stacklevel=3)
    return torch.from_numpy(images), torch.from_numpy(labels)


def _cifar_not_found(split: str, root: pathlib.Path, origin: str, looked: Sequence[str]):
    return _not_found(
        f"CIFAR-10 {split} split not found.", looked, origin,
        "Either layout works: torchvision's cifar-10-batches-py/ folder, or "
        f"cifar10-jpeg/{split}/<class>/*.jpg with the class folders {', '.join(CIFAR10_CLASSES)}.")


def _download_cifar(root: pathlib.Path, split: str):
    from torchvision.datasets import CIFAR10
    try:
        with _stdout_to_stderr():
            return CIFAR10(str(root), train=(split == "train"), download=True)
    except (OSError, RuntimeError) as err:
        raise _not_found(
            f"CIFAR-10 could not be downloaded into {root / CIFAR10.base_folder}.",
            [f"{root} (download=True failed: {type(err).__name__}: "
             f"{str(err).strip().splitlines()[0] if str(err).strip() else ''})"],
            "the download attempt",
            "Check the internet connection and that the data root is writable.") from err


def load_cifar10(split: str = "train", root: Optional[PathArg] = None,
                 download: Optional[bool] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """Load one split of CIFAR-10 as uint8 images and int64 labels.

    Sources, in order: ``<root>/cifar-10-batches-py`` through
    ``torchvision.datasets.CIFAR10`` (md5-checked), then
    ``<root>/cifar10-jpeg/<split>/<class>/*.jpg`` (class folders must be
    ``CIFAR10_CLASSES``). JPEGs are decoded once and cached as an ``.npz`` in
    ``cache_dir()`` keyed by the folder's path, file count and newest
    modification time; the folder's checksum (``cifar10_jpeg_checksum``) is
    computed when the cache is built and a mismatch gives a warning on each load.
    With ``download=True`` and neither source present, torchvision downloads the
    original into the data root.

    Parameters
    ----------
    split : {"train", "test"}
        Which official split (50,000 / 10,000 images).
    root : str, os.PathLike or None
        Data root, see ``resolve_data_root``.
    download : bool or None
        Download with torchvision when no local copy is found.
        None (the default) downloads when the ``COURSE_DOWNLOAD`` environment
        variable is ``1`` (hosted kernels set it) and not otherwise.

    Returns
    -------
    images : torch.Tensor
        uint8, shape (N, 3, 32, 32), RGB.
    labels : torch.Tensor
        int64, shape (N,); label ``i`` is ``CIFAR10_CLASSES[i]``.

    Raises
    ------
    DataNotFoundError
        When no source is found (and ``download`` is False or failed).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     try:
    ...         load_cifar10("train", root=empty)
    ...     except DataNotFoundError as err:
    ...         print(str(err).splitlines()[0])
    CIFAR-10 train split not found.
    >>> images, labels = load_cifar10("test")  # doctest: +SKIP
    >>> images.shape, CIFAR10_CLASSES[labels[0]]  # doctest: +SKIP
    (torch.Size([10000, 3, 32, 32]), 'cat')
    """
    split = _check_choice("split", split, SPLITS)
    download = _resolve_download(download)
    images, labels, _ = _load_cifar10_source(split, root, download)
    return images, labels


def _load_cifar10_source(split: str, root, download: bool):
    """load_cifar10's work, plus "batches" or "jpeg": which copy the images came from."""
    root_path, origin = _resolve_root(root)
    ds, why_not_batches = _cifar_batches(root_path, split)
    if ds is None:
        folder, why_not_jpeg = _cifar_jpeg_dir(root_path, split)
        if folder is not None:
            if "md5" in why_not_batches:
                warnings.warn(f"{why_not_batches}; using {folder} instead", stacklevel=3)
            return (*_load_cifar_jpeg(folder, split), "jpeg")
        if not download:
            raise _cifar_not_found(split, root_path, origin, [why_not_batches, why_not_jpeg])
        ds = _download_cifar(root_path, split)
    images = torch.from_numpy(np.ascontiguousarray(ds.data.transpose(0, 3, 1, 2)))
    return images, torch.as_tensor(ds.targets, dtype=torch.int64), "batches"


def cifar10_train_test(root: Optional[PathArg] = None, download: Optional[bool] = None) -> DataSplit:
    """CIFAR-10's official split (50,000 training / 10,000 test images) as a :class:`DataSplit`.

    Same sources as :func:`load_cifar10`; the ``note`` says which copy was read,
    and when it is the JPEG copy, that the images were re-encoded (lossy), so
    accuracies can differ slightly from those on the original PNG-derived batches.

    Parameters
    ----------
    root : str, os.PathLike or None
        Data root, see ``resolve_data_root``.
    download : bool or None
        Download with torchvision when no local copy is found.
        None (the default) downloads when the ``COURSE_DOWNLOAD`` environment
        variable is ``1`` (hosted kernels set it) and not otherwise.

    Returns
    -------
    DataSplit
        uint8 images (N, 3, 32, 32), int64 labels, ``classes`` = ``CIFAR10_CLASSES``.

    Examples
    --------
    >>> data = cifar10_train_test()  # doctest: +SKIP
    >>> print(data.note)  # doctest: +SKIP
    official CIFAR-10 split: 50,000 training / 10,000 test images, read from the JPEG copy ...
    """
    download = _resolve_download(download)
    tr_x, tr_y, src = _load_cifar10_source("train", root, download)
    te_x, te_y, src_te = _load_cifar10_source("test", root, download)
    copies = {src, src_te}
    note = f"official CIFAR-10 split: {len(tr_y):,} training / {len(te_y):,} test images"
    if "jpeg" in copies:
        note += (", read from the JPEG copy (each image re-encoded as JPEG, so pixel values and "
                 "accuracies can differ slightly from the original dataset)")
    return DataSplit(tr_x, tr_y, te_x, te_y, note=note, classes=CIFAR10_CLASSES)


def cifar10_dataset(split: str = "train", root: Optional[PathArg] = None,
                    transform: Optional[Callable] = None) -> Dataset:
    """CIFAR-10 as a torch ``Dataset`` of ``(PIL image or transform(image), int label)``.

    ``torchvision.datasets.CIFAR10`` over ``cifar-10-batches-py`` when present,
    else ``torchvision.datasets.ImageFolder`` over ``cifar10-jpeg/<split>``
    (whose sorted class folders give the standard labels). Nothing is downloaded.
    Images are decoded on access, so ``transform`` can augment them.

    Parameters
    ----------
    split : {"train", "test"}
        Which official split.
    root : str, os.PathLike or None
        Data root, see ``resolve_data_root``.
    transform : callable or None
        Applied to each 32x32 RGB PIL image.

    Returns
    -------
    torch.utils.data.Dataset
        Items ``(image, label)``; ``.classes`` equals ``list(CIFAR10_CLASSES)``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     try:
    ...         cifar10_dataset("test", root=empty)
    ...     except DataNotFoundError:
    ...         print("not found")
    not found
    >>> ds = cifar10_dataset("test")  # doctest: +SKIP
    >>> len(ds), ds.classes[ds[0][1]]  # doctest: +SKIP
    (10000, 'cat')
    """
    split = _check_choice("split", split, SPLITS)
    transform = _check_transform("transform", transform)
    root_path, origin = _resolve_root(root)
    from torchvision.datasets import ImageFolder
    ds, why_not_batches = _cifar_batches(root_path, split, transform)
    if ds is not None:
        return ds
    folder, why_not_jpeg = _cifar_jpeg_dir(root_path, split)
    if folder is None:
        raise _cifar_not_found(split, root_path, origin, [why_not_batches, why_not_jpeg])
    ds = ImageFolder(str(folder), transform=transform)
    assert tuple(ds.classes) == CIFAR10_CLASSES, ds.classes  # sorted names are the standard order
    return ds


# ----------------------------------------------------------------------------------------------
# subsets for quick mode

def _check_images_labels(images, labels) -> np.ndarray:
    """The shared argument checks of subset and friends; returns the labels as a NumPy array."""
    for name, value in (("images", images), ("labels", labels)):
        if not isinstance(value, (torch.Tensor, np.ndarray)):
            raise TypeError(f"{name} must be a torch.Tensor or np.ndarray, got {type(value).__name__}; "
                            f"convert it with torch.as_tensor({name})")
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1D with shape (N,), got shape {tuple(labels.shape)}; "
                         f"pass one integer label per image")
    if images.ndim < 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"images and labels must have the same length N, got images of shape "
                         f"{tuple(images.shape)} and labels of shape {tuple(labels.shape)}")
    lab = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else labels
    if not np.issubdtype(lab.dtype, np.integer):
        raise TypeError(f"labels must hold integers, got dtype {lab.dtype}; convert them with "
                        f"labels.long() or labels.astype(np.int64)")
    return lab


def _take(arr, idx: np.ndarray):
    return arr[torch.from_numpy(idx).to(arr.device)] if isinstance(arr, torch.Tensor) else arr[idx]


def _draw(lab: np.ndarray, n: int, seed: int, stratified: bool) -> np.ndarray:
    """n distinct indices: class-balanced (or uniform), in a seeded random order."""
    rng = np.random.default_rng(seed)
    if stratified:
        idx = _balanced_order(lab, seed)[:n]
    else:
        idx = rng.choice(len(lab), size=n, replace=False)
    return rng.permutation(np.sort(idx))     # the order depends on the seed only, not on the draw


def subset(images, labels, n: int, *, seed: int = 0, stratified: bool = True,
           shuffle: bool = True):
    """A seeded random subset of ``n`` samples, class-balanced by default, in random order.

    With ``stratified=True`` every class gets ``n // K`` or ``n // K + 1`` of the
    ``n`` samples (K classes), as far as it has them. With ``shuffle=True`` (the
    default) the samples come in a seeded random order, so a dataset stored sorted
    by class (the JPEG copy of CIFAR-10 is) needs no extra shuffle before a
    training loop or a prefix such as ``x[:100]``; ``shuffle=False`` keeps the
    dataset's order.

    Parameters
    ----------
    images : torch.Tensor or np.ndarray
        Shape (N, ...).
    labels : torch.Tensor or np.ndarray
        Integer labels, shape (N,).
    n : int
        Subset size, 1..N.
    seed : int
        Seed of the draw and of the order, >= 0.
    stratified : bool
        Balance the classes (True) or draw uniformly (False).
    shuffle : bool
        Random order (True) or the dataset's order (False).

    Returns
    -------
    images, labels
        Shapes (n, ...) and (n,), same types as the inputs.

    Examples
    --------
    >>> images = torch.arange(12).reshape(12, 1, 1, 1)
    >>> labels = torch.tensor([0] * 8 + [1] * 4)
    >>> x, y = subset(images, labels, 4, seed=0)
    >>> x.shape, sorted(y.tolist())
    (torch.Size([4, 1, 1, 1]), [0, 0, 1, 1])
    >>> x, y = subset(images, labels, 4, seed=0, shuffle=False)
    >>> bool((x.flatten().diff() > 0).all())          # the dataset's order
    True
    """
    lab = _check_images_labels(images, labels)
    n = check_int("n", n, minimum=1)
    if n > len(lab):
        raise ValueError(f"n must be at most the number of samples ({len(lab)}), got n={n}; "
                         f"use n <= {len(lab)}")
    seed = check_int("seed", seed, minimum=0)
    stratified = _check_bool("stratified", stratified)
    shuffle = _check_bool("shuffle", shuffle)
    idx = _draw(lab, n, seed, stratified)
    if not shuffle:
        idx = np.sort(idx)
    return _take(images, idx), _take(labels, idx)


def _check_split(name: str, value) -> DataSplit:
    if not isinstance(value, DataSplit):
        raise TypeError(f"{name} must be a DataSplit (e.g. from mnist_train_test() or "
                        f"cifar10_train_test()), got {type(value).__name__}; build one with "
                        f"DataSplit(train_x, train_y, test_x, test_y, note=..., classes=...)")
    return value


def train_val_split(split: DataSplit, *, n_val: Optional[int] = None,
                    val_fraction: Optional[float] = None, seed: int = 0,
                    stratified: bool = True) -> Tuple[DataSplit, DataSplit]:
    """Carve a seeded validation split out of the *training* images of ``split``.

    Choices (learning rate, weight decay, epochs, features) are made on the
    validation images; the test images are used once, at the end. Both results
    train on the same images (the training images minus the validation ones), so
    a model fitted while tuning can be tested without retraining.

    Parameters
    ----------
    split : DataSplit
        The split to carve from; its test images are not touched.
    n_val : int, optional
        Validation images, 1..N_train - 1. Give exactly one of ``n_val`` and ``val_fraction``.
    val_fraction : float, optional
        Validation share of the training images, in (0, 1); rounded to whole images.
    seed : int
        Seed of the draw, >= 0.
    stratified : bool
        Class-balanced draw (every class gives its share) or uniform.

    Returns
    -------
    tuning : DataSplit
        ``train_*`` = training images minus the validation ones, ``test_*`` = the
        validation images, ``test_name == "validation"``.
    final : DataSplit
        The same training images, and the original test images.
    The notes of both say what they were carved from and repeat the original note.
    Within each part the samples come in a seeded random order.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> data = DataSplit(torch.zeros(100, 1, 2, 2, dtype=torch.uint8), torch.arange(100) % 10,
    ...                  torch.zeros(20, 1, 2, 2, dtype=torch.uint8), torch.arange(20) % 10,
    ...                  note="toy split", classes=tuple("0123456789"))
    >>> tuning, final = train_val_split(data, n_val=20, seed=0)
    >>> len(tuning.train_labels), len(tuning.test_labels), tuning.test_name
    (80, 20, 'validation')
    >>> len(final.train_labels), len(final.test_labels), final.test_name
    (80, 20, 'test')
    >>> print(tuning.note)
    training on 80 of the 100 training images, validating on the other 20 (class-stratified, seed=0); carved from: toy split
    """
    split = _check_split("split", split)
    lab = _check_images_labels(split.train_images, split.train_labels)
    n_total = len(lab)
    if (n_val is None) == (val_fraction is None):
        raise ValueError(f"give exactly one of n_val and val_fraction, got n_val={n_val!r}, "
                         f"val_fraction={val_fraction!r}; e.g. n_val=1000 or val_fraction=0.1")
    if val_fraction is not None:
        if isinstance(val_fraction, bool) or not isinstance(val_fraction, numbers.Real):
            raise TypeError(f"val_fraction must be a number in (0, 1), got {val_fraction!r}")
        if not 0.0 < float(val_fraction) < 1.0:
            raise ValueError(f"val_fraction must lie strictly between 0 and 1, got "
                             f"val_fraction={val_fraction}; e.g. val_fraction=0.1")
        n_val = int(round(float(val_fraction) * n_total))
        if not 1 <= n_val < n_total:
            raise ValueError(f"val_fraction={val_fraction} of {n_total} training images gives "
                             f"{n_val} validation images; choose a fraction that leaves at least one "
                             f"image on each side")
    n_val = check_int("n_val", n_val, minimum=1)
    if n_val >= n_total:
        raise ValueError(f"n_val must be smaller than the {n_total:,} training images, got "
                         f"n_val={n_val}; use e.g. n_val={max(1, n_total // 10)}")
    seed = check_int("seed", seed, minimum=0)
    stratified = _check_bool("stratified", stratified)

    val_idx = _draw(lab, n_val, seed, stratified)
    rest = np.setdiff1d(np.arange(n_total), val_idx)
    train_idx = np.random.default_rng([seed, 1]).permutation(rest)
    how = "class-stratified" if stratified else "uniform draw"
    tr_x, tr_y = _take(split.train_images, train_idx), _take(split.train_labels, train_idx)
    va_x, va_y = _take(split.train_images, val_idx), _take(split.train_labels, val_idx)
    base = (f"training on {len(train_idx):,} of the {n_total:,} training images, validating on "
            f"the other {n_val:,} ({how}, seed={seed})")
    tuning = DataSplit(tr_x, tr_y, va_x, va_y, note=f"{base}; carved from: {split.note}",
                       classes=split.classes, test_name="validation")
    final = DataSplit(tr_x, tr_y, split.test_images, split.test_labels,
                      note=(f"training on {len(train_idx):,} of the {n_total:,} training images "
                            f"({n_val:,} held out for validation, seed={seed}), testing on the "
                            f"{len(split.test_labels):,} {split.test_name} images; carved from: "
                            f"{split.note}"),
                      classes=split.classes, test_name=split.test_name)
    return tuning, final


def subsample(split: DataSplit, n_train: Optional[int] = None, n_test: Optional[int] = None, *,
              seed: int = 0, stratified: bool = True) -> DataSplit:
    """A smaller :class:`DataSplit` (quick mode, or a cheap experiment), with an honest note.

    Each part is drawn with :func:`subset` (seeded, class-balanced, random order);
    ``None`` keeps a part whole (and in its order).

    Parameters
    ----------
    split : DataSplit
    n_train, n_test : int or None
        How many training / held-out images to keep.
    seed : int
    stratified : bool

    Returns
    -------
    DataSplit
        Its ``note`` says how many of how many images each part keeps.

    Examples
    --------
    >>> data = DataSplit(torch.zeros(100, 1, 2, 2, dtype=torch.uint8), torch.arange(100) % 10,
    ...                  torch.zeros(20, 1, 2, 2, dtype=torch.uint8), torch.arange(20) % 10,
    ...                  note="toy split", classes=tuple("0123456789"))
    >>> small = subsample(data, n_train=30)
    >>> print(small.note)
    a class-balanced subset: 30 of the 100 training images, all 20 test images (seed=0); from: toy split
    """
    split = _check_split("split", split)
    seed = check_int("seed", seed, minimum=0)
    stratified = _check_bool("stratified", stratified)
    tr_x, tr_y, te_x, te_y = split.train_images, split.train_labels, split.test_images, split.test_labels
    parts = []
    if n_train is not None:
        parts.append(f"{check_int('n_train', n_train, minimum=1):,} of the {len(tr_y):,} training images")
        tr_x, tr_y = subset(tr_x, tr_y, n_train, seed=seed, stratified=stratified)
    else:
        parts.append(f"all {len(tr_y):,} training images")
    if n_test is not None:
        parts.append(f"{check_int('n_test', n_test, minimum=1):,} of the {len(te_y):,} "
                     f"{split.test_name} images")
        te_x, te_y = subset(te_x, te_y, n_test, seed=seed, stratified=stratified)
    else:
        parts.append(f"all {len(te_y):,} {split.test_name} images")
    how = "class-balanced" if stratified else "uniformly drawn"
    note = f"a {how} subset: {', '.join(parts)} (seed={seed}); from: {split.note}"
    return DataSplit(tr_x, tr_y, te_x, te_y, note=note, classes=split.classes,
                     test_name=split.test_name)
