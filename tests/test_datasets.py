"""Tests of course_lib.datasets, all offline.

Fake datasets are written into tmp_path (gzip IDX files for MNIST, tiny JPEGs in
the cifar10-jpeg layout, pickled batches in torchvision's cifar-10-batches-py
layout). The network is blocked. Tests at the end check the real local copies
when COURSE_DATA_ROOT points at them, and are skipped otherwise.
"""
from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import pathlib
import pickle
import shutil
import socket
import struct
import subprocess

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

from course_lib import datasets as D

# captured before the autouse fixture clears the variables
REAL_ROOT = os.environ.get("COURSE_DATA_ROOT")
REAL_CACHE = os.environ.get("COURSE_CACHE_DIR")


# ----------------------------------------------------------------------------------------------
# fixtures and fake data

@pytest.fixture(autouse=True)
def offline_and_isolated(monkeypatch, tmp_path):
    """No network; no data root from the environment; caches in tmp_path/cache."""
    def refuse(*args, **kwargs):
        raise OSError("network access is disabled in the tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.delenv("COURSE_DATA_ROOT", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))


def _idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = struct.pack(">HBB", 0, 0x08, arr.ndim) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return header + arr.tobytes()


def fake_mnist_arrays(n: int, seed: int):
    """n images whose first pixel pair encodes the index, labels cycling 0..9."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = np.arange(n) % 256
    images[:, 0, 1] = np.arange(n) // 256
    labels = (np.arange(n) % 10).astype(np.uint8)
    return images, labels


def image_ids(images: torch.Tensor) -> list[int]:
    return (images[:, 0, 0, 0].long() + 256 * images[:, 0, 0, 1].long()).tolist()


def write_mnist(root: pathlib.Path, monkeypatch, splits=("test",), n=None, gz=True):
    """Write fake MNIST raw files and register their md5s in torchvision's table."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    md5s = dict(torchvision.datasets.MNIST.resources)
    arrays = {}
    for split in splits:
        count = n if n is not None else {"train": 300, "test": 200}[split]
        images, labels = fake_mnist_arrays(count, seed=0 if split == "test" else 1)
        arrays[split] = images, labels
        for name, arr in zip(D._MNIST_FILES[split], (images, labels)):
            data = _idx_bytes(arr)
            if gz:
                path = raw / f"{name}.gz"
                path.write_bytes(gzip.compress(data))
                md5s[path.name] = hashlib.md5(path.read_bytes()).hexdigest()
            else:
                (raw / name).write_bytes(data)
    monkeypatch.setattr(torchvision.datasets.MNIST, "resources", list(md5s.items()))
    return arrays


CLASS_COLOURS = {c: (25 * i, 255 - 25 * i, (70 * i) % 256) for i, c in enumerate(D.CIFAR10_CLASSES)}


def write_cifar_jpeg(root: pathlib.Path, per_class=None, classes=D.CIFAR10_CLASSES):
    """A fake cifar10-jpeg folder: solid-colour 32x32 JPEGs, one colour per class."""
    per_class = per_class or {"train": 3, "test": 2}
    for split, count in per_class.items():
        for cls in classes:
            folder = root / "cifar10-jpeg" / split / cls
            folder.mkdir(parents=True, exist_ok=True)
            for k in range(count):
                Image.new("RGB", (32, 32), CLASS_COLOURS.get(cls, (0, 0, 0))).save(
                    folder / f"{k:04d}.jpg", quality=95)
    return root / "cifar10-jpeg"


def write_cifar_batches(root: pathlib.Path, monkeypatch, n_per_batch=4):
    """A fake cifar-10-batches-py folder; md5s registered on torchvision's CIFAR10."""
    C = torchvision.datasets.CIFAR10
    folder = root / C.base_folder
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    data = {}

    def dump(name, obj):
        (folder / name).write_bytes(pickle.dumps(obj))
        return hashlib.md5((folder / name).read_bytes()).hexdigest()

    train_list, test_list = [], []
    for name, _ in C.train_list + C.test_list:
        x = rng.integers(0, 256, size=(n_per_batch, 3 * 32 * 32), dtype=np.uint8)
        y = [int(v) for v in rng.integers(0, 10, size=n_per_batch)]
        data[name] = x, y
        entry = [name, dump(name, {"data": x, "labels": y})]
        (train_list if name.startswith("data") else test_list).append(entry)
    meta_md5 = dump(C.meta["filename"], {"label_names": list(D.CIFAR10_CLASSES)})
    monkeypatch.setattr(C, "train_list", train_list)
    monkeypatch.setattr(C, "test_list", test_list)
    monkeypatch.setattr(C, "meta", {**C.meta, "md5": meta_md5})
    return data


# ----------------------------------------------------------------------------------------------
# roots and caches

def test_resolve_data_root_order(tmp_path, monkeypatch):
    arg, env = tmp_path / "from-arg", tmp_path / "from-env"
    assert D.resolve_data_root() == tmp_path / "cache" / "data"           # default
    monkeypatch.setenv("COURSE_DATA_ROOT", str(env))
    assert D.resolve_data_root() == env                                   # env beats default
    assert D.resolve_data_root(arg) == arg                                # argument beats env
    assert D.resolve_data_root(str(arg)) == arg
    monkeypatch.setenv("COURSE_DATA_ROOT", "")                            # empty means unset
    assert D.resolve_data_root() == tmp_path / "cache" / "data"


def test_cache_dir_order_and_creation(tmp_path, monkeypatch):
    assert D.cache_dir() == tmp_path / "cache" and (tmp_path / "cache").is_dir()
    monkeypatch.delenv("COURSE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert D.cache_dir() == tmp_path / "xdg" / "course_lib"
    assert (tmp_path / "xdg" / "course_lib").is_dir()
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert D.cache_dir() == tmp_path / "home" / ".cache" / "course_lib"


@pytest.mark.parametrize("bad", [3, b"/bytes/path", ["a"]])
def test_bad_root_type(bad):
    with pytest.raises(TypeError, match="root"):
        D.resolve_data_root(bad)
    with pytest.raises(TypeError, match="root"):
        D.load_mnist("test", root=bad)


def test_empty_root_is_an_error():
    with pytest.raises(ValueError, match="root"):
        D.resolve_data_root("  ")


# ----------------------------------------------------------------------------------------------
# MNIST

def test_load_mnist_test_only(tmp_path, monkeypatch):
    arrays = write_mnist(tmp_path / "data", monkeypatch)
    images, labels = D.load_mnist("test", root=tmp_path / "data")
    assert images.shape == (200, 1, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (200,) and labels.dtype == torch.int64
    np.testing.assert_array_equal(images[:, 0].numpy(), arrays["test"][0])
    np.testing.assert_array_equal(labels.numpy(), arrays["test"][1])


def test_load_mnist_reads_uncompressed_files(tmp_path, monkeypatch):
    arrays = write_mnist(tmp_path, monkeypatch, gz=False)
    images, labels = D.load_mnist("test", root=tmp_path)
    np.testing.assert_array_equal(images[:, 0].numpy(), arrays["test"][0])


def test_mnist_train_missing_points_to_mnist_train_test(tmp_path, monkeypatch):
    write_mnist(tmp_path, monkeypatch)
    with pytest.raises(D.DataNotFoundError) as info:
        D.load_mnist("train", root=tmp_path)
    msg = str(info.value)
    assert "only the official test split" in msg
    assert "mnist_train_test" in msg
    assert str(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte.gz") in msg
    for fix in ("COURSE_DATA_ROOT", "root=", "download=True"):
        assert fix in msg
    assert isinstance(info.value, FileNotFoundError)


def test_mnist_train_test_on_test_only_data(tmp_path, monkeypatch, capsys):
    write_mnist(tmp_path, monkeypatch, n=500)
    split = D.mnist_train_test(tmp_path, test_size=100, seed=3)
    assert capsys.readouterr().out == ""                      # the notebooks print .note themselves
    assert split.train_images.shape == (400, 1, 28, 28) and split.test_images.shape == (100, 1, 28, 28)
    assert split.train_labels.dtype == torch.int64
    assert torch.bincount(split.test_labels, minlength=10).tolist() == [10] * 10   # stratified
    train_ids, test_ids = image_ids(split.train_images), image_ids(split.test_images)
    assert sorted(train_ids + test_ids) == list(range(500))   # a partition of the test split
    assert (np.array(train_ids) % 10 == split.train_labels.numpy()).all()          # labels travel along
    assert "not available" in split.note and "400 of the official 500 test images" in split.note
    assert "not comparable with published MNIST results" in split.note
    assert split.classes == D.MNIST_CLASSES
    again = D.mnist_train_test(tmp_path, test_size=100, seed=3)
    assert image_ids(again.test_images) == test_ids            # seeded
    other = D.mnist_train_test(tmp_path, test_size=100, seed=4)
    assert image_ids(other.test_images) != test_ids
    with pytest.raises(dataclasses.FrozenInstanceError):
        split.note = "changed"


def test_mnist_train_test_with_full_dataset(tmp_path, monkeypatch):
    arrays = write_mnist(tmp_path, monkeypatch, splits=("train", "test"))
    split = D.mnist_train_test(tmp_path)
    assert split.note == "official MNIST split: 300 training / 200 test images"
    np.testing.assert_array_equal(split.train_images[:, 0].numpy(), arrays["train"][0])
    np.testing.assert_array_equal(split.test_labels.numpy(), arrays["test"][1])


def test_full_uncompressed_dataset_goes_through_torchvision(tmp_path, monkeypatch):
    arrays = write_mnist(tmp_path, monkeypatch, splits=("train", "test"), gz=False)
    images, labels = D.load_mnist("train", root=tmp_path)
    np.testing.assert_array_equal(images[:, 0].numpy(), arrays["train"][0])
    assert labels.dtype == torch.int64
    ds = D.mnist_dataset("train", root=tmp_path)
    assert isinstance(ds, torchvision.datasets.MNIST) and len(ds) == 300
    assert not list((tmp_path / "cache").glob("datasets/*.npz"))   # torchvision reads raw files


def test_mnist_dataset_test_only(tmp_path, monkeypatch):
    arrays = write_mnist(tmp_path, monkeypatch)
    ds = D.mnist_dataset("test", root=tmp_path)
    img, label = ds[5]
    assert len(ds) == 200 and isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    assert label == 5 and isinstance(label, int)
    np.testing.assert_array_equal(np.asarray(img), arrays["test"][0][5])
    ds = D.mnist_dataset("test", root=tmp_path, transform=torchvision.transforms.ToTensor())
    x, _ = ds[0]
    assert x.shape == (1, 28, 28) and x.dtype == torch.float32
    loader = torch.utils.data.DataLoader(ds, batch_size=64)
    xb, yb = next(iter(loader))
    assert xb.shape == (64, 1, 28, 28) and yb.dtype == torch.int64
    with pytest.raises(D.DataNotFoundError):
        D.mnist_dataset("train", root=tmp_path)


def test_mnist_md5_mismatch(tmp_path, monkeypatch):
    write_mnist(tmp_path, monkeypatch)
    path = tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes() + b"junk")
    with pytest.raises(ValueError, match="md5"):
        D.load_mnist("test", root=tmp_path)


def test_mnist_bad_magic_number(tmp_path, monkeypatch):
    write_mnist(tmp_path, monkeypatch, gz=False)
    path = tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    data = bytearray(path.read_bytes())
    data[3] = 1                                                  # claims 1D
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="magic number"):
        D.load_mnist("test", root=tmp_path)


def test_mnist_truncated_file(tmp_path, monkeypatch):
    write_mnist(tmp_path, monkeypatch, gz=False)
    path = tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="truncated"):
        D.load_mnist("test", root=tmp_path)


def test_missing_mnist_lists_places_and_origin(tmp_path, monkeypatch):
    with pytest.raises(D.DataNotFoundError) as info:
        D.load_mnist("test", root=tmp_path)
    msg = str(info.value)
    assert "MNIST test split not found" in msg and "root= argument" in msg
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        assert f"{tmp_path / 'MNIST' / 'raw' / name}.gz" in msg
    monkeypatch.setenv("COURSE_DATA_ROOT", str(tmp_path / "env-root"))
    with pytest.raises(D.DataNotFoundError, match="COURSE_DATA_ROOT environment variable") as info:
        D.mnist_train_test()
    assert str(tmp_path / "env-root" / "MNIST" / "raw") in str(info.value)


def test_mnist_cache_is_created_and_reused(tmp_path, monkeypatch):
    root = tmp_path / "data"
    write_mnist(root, monkeypatch)
    before = sorted(p.name for p in root.rglob("*"))
    first, _ = D.load_mnist("test", root=root)
    cached = list((tmp_path / "cache" / "datasets").glob("mnist-test-*.npz"))
    assert len(cached) == 1
    assert sorted(p.name for p in root.rglob("*")) == before    # nothing written into the data root

    calls = []
    real_read = D._read_idx
    monkeypatch.setattr(D, "_read_idx", lambda *a, **k: calls.append(a) or real_read(*a, **k))
    second, _ = D.load_mnist("test", root=root)
    assert calls == [] and torch.equal(first, second)            # served from the cache

    src = root / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz"
    os.utime(src, ns=(src.stat().st_atime_ns, src.stat().st_mtime_ns + 10**9))
    D.load_mnist("test", root=root)
    assert len(calls) == 2                                       # a changed file is decoded again
    assert len(list((tmp_path / "cache" / "datasets").glob("mnist-test-*.npz"))) == 1  # old one removed


def test_corrupt_cache_is_rebuilt(tmp_path, monkeypatch):
    write_mnist(tmp_path / "data", monkeypatch)
    first, _ = D.load_mnist("test", root=tmp_path / "data")
    (cached,) = (tmp_path / "cache" / "datasets").glob("mnist-test-*.npz")
    cached.write_bytes(b"not an npz")
    again, _ = D.load_mnist("test", root=tmp_path / "data")
    assert torch.equal(first, again)


def test_mnist_download_failure_is_wrapped(tmp_path):
    with pytest.raises(D.DataNotFoundError, match="could not be downloaded") as info:
        D.load_mnist("test", root=tmp_path, download=True)
    assert info.value.__cause__ is not None


@pytest.mark.parametrize("value, tries", [("1", True), ("yes", True), ("TRUE", True), ("0", False),
                                           ("", False), ("no", False)])
def test_course_download_variable_sets_the_default(tmp_path, monkeypatch, value, tries):
    # hosted kernels set COURSE_DOWNLOAD=1 so that the notebooks' plain calls download; offline the
    # attempt fails and says so, while without the variable the loader only reports what is missing
    monkeypatch.setenv("COURSE_DOWNLOAD", value)
    with pytest.raises(D.DataNotFoundError) as info:
        D.load_mnist("test", root=tmp_path)
    assert ("could not be downloaded" in str(info.value)) == tries
    assert "COURSE_DOWNLOAD=1" in str(info.value)


def test_explicit_download_false_beats_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DOWNLOAD", "1")
    with pytest.raises(D.DataNotFoundError, match="not found") as info:
        D.load_cifar10("test", root=tmp_path, download=False)
    assert "could not be downloaded" not in str(info.value)


def test_mnist_train_test_download_failure_falls_back(tmp_path, monkeypatch, capsys):
    write_mnist(tmp_path, monkeypatch)
    with pytest.warns(UserWarning, match="downloading the MNIST training split failed"):
        split = D.mnist_train_test(tmp_path, test_size=50, download=True)
    assert "not available" in split.note
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(split="val"), ValueError, ["split", "'val'", "'train'"]),
    (dict(split=1), TypeError, ["split", "1"]),
    (dict(download="yes"), TypeError, ["download", "'yes'"]),
])
def test_loader_argument_checks(kwargs, exc, words, tmp_path):
    for loader in (D.load_mnist, D.load_cifar10):
        with pytest.raises(exc) as info:
            loader(root=tmp_path, **kwargs)
        for w in words:
            assert w in str(info.value)


def test_dataset_argument_checks(tmp_path):
    with pytest.raises(ValueError, match="split"):
        D.mnist_dataset("val", root=tmp_path)
    with pytest.raises(ValueError, match="split"):
        D.cifar10_dataset("validation", root=tmp_path)
    with pytest.raises(TypeError, match="transform"):
        D.cifar10_dataset("test", root=tmp_path, transform=5)


@pytest.mark.parametrize("kwargs, exc, name", [
    (dict(test_size=0), ValueError, "test_size"),
    (dict(test_size=2.5), TypeError, "test_size"),
    (dict(test_size=500), ValueError, "test_size"),   # all images held out leaves nothing to train on
    (dict(seed=-1), ValueError, "seed"),
    (dict(download=1), TypeError, "download"),
])
def test_mnist_train_test_argument_checks(kwargs, exc, name, tmp_path, monkeypatch):
    write_mnist(tmp_path, monkeypatch, n=500)
    with pytest.raises(exc, match=name):
        D.mnist_train_test(tmp_path, **kwargs)


# ----------------------------------------------------------------------------------------------
# CIFAR-10 and image folders

def test_load_cifar10_from_jpeg_folder(tmp_path, monkeypatch):
    folder = write_cifar_jpeg(tmp_path)
    monkeypatch.setattr(D, "CIFAR10_JPEG_MD5", D.cifar10_jpeg_checksum(folder))
    images, labels = D.load_cifar10("train", root=tmp_path)
    assert images.shape == (30, 3, 32, 32) and images.dtype == torch.uint8
    assert labels.dtype == torch.int64 and labels.tolist() == [i for i in range(10) for _ in range(3)]
    for img, lab in zip(images, labels):                        # colours survive the JPEG round trip
        want = torch.tensor(CLASS_COLOURS[D.CIFAR10_CLASSES[lab]], dtype=torch.float32)
        assert (img.float().mean(dim=(1, 2)) - want).abs().max() < 4
    test_images, test_labels = D.load_cifar10("test", root=tmp_path)
    assert test_images.shape == (20, 3, 32, 32) and torch.bincount(test_labels).tolist() == [2] * 10


def test_cifar_checksum_mismatch_warns_on_every_load_but_is_computed_once(tmp_path, monkeypatch):
    write_cifar_jpeg(tmp_path)
    with pytest.warns(UserWarning, match="checksum"):
        first, _ = D.load_cifar10("test", root=tmp_path)
    monkeypatch.setattr(D, "cifar10_jpeg_checksum", lambda folder: pytest.fail("checksum recomputed"))
    monkeypatch.setattr(D, "_decode_images", lambda *a, **k: pytest.fail("JPEGs decoded again"))
    with pytest.warns(UserWarning, match="checksum"):           # the stored result, not a new check
        second, _ = D.load_cifar10("test", root=tmp_path)
    assert torch.equal(first, second)


def test_cifar_jpeg_cache_is_created_reused_and_invalidated(tmp_path, monkeypatch):
    folder = write_cifar_jpeg(tmp_path)
    monkeypatch.setattr(D, "CIFAR10_JPEG_MD5", D.cifar10_jpeg_checksum(folder))
    D.load_cifar10("train", root=tmp_path)
    assert len(list((tmp_path / "cache" / "datasets").glob("cifar10-jpeg-train-*.npz"))) == 1
    calls = []
    real = D._decode_images
    monkeypatch.setattr(D, "_decode_images", lambda *a, **k: calls.append(1) or real(*a, **k))
    D.load_cifar10("train", root=tmp_path)
    assert calls == []
    shutil.copy(folder / "train" / "cat" / "0000.jpg", folder / "train" / "cat" / "0099.jpg")
    with pytest.warns(UserWarning, match="checksum"):           # an extra file changes the checksum
        images, _ = D.load_cifar10("train", root=tmp_path)
    assert calls == [1] and len(images) == 31


def test_cifar_jpeg_with_wrong_class_folders(tmp_path):
    write_cifar_jpeg(tmp_path, per_class={"train": 1}, classes=("cats", "dogs"))
    with pytest.raises(D.DataNotFoundError) as info:
        D.load_cifar10("train", root=tmp_path)
    assert "class folders ['cats', 'dogs']" in str(info.value)


def test_missing_cifar_lists_places(tmp_path):
    with pytest.raises(D.DataNotFoundError) as info:
        D.load_cifar10("test", root=tmp_path)
    msg = str(info.value)
    assert str(tmp_path / "cifar-10-batches-py") in msg and str(tmp_path / "cifar10-jpeg" / "test") in msg
    assert "COURSE_DATA_ROOT" in msg and "download=True" in msg
    with pytest.raises(D.DataNotFoundError):
        D.cifar10_dataset("test", root=tmp_path)


def test_cifar_download_failure_is_wrapped(tmp_path):
    with pytest.raises(D.DataNotFoundError, match="could not be downloaded") as info:
        D.load_cifar10("test", root=tmp_path, download=True)
    assert info.value.__cause__ is not None


def test_cifar_batches_come_first(tmp_path, monkeypatch):
    data = write_cifar_batches(tmp_path, monkeypatch)
    write_cifar_jpeg(tmp_path)                                  # present too, but second in line
    images, labels = D.load_cifar10("test", root=tmp_path)
    x, y = data["test_batch"]
    assert images.shape == (4, 3, 32, 32)
    np.testing.assert_array_equal(images.numpy(), x.reshape(4, 3, 32, 32))
    assert labels.tolist() == y
    train_images, _ = D.load_cifar10("train", root=tmp_path)
    assert train_images.shape == (20, 3, 32, 32)
    assert isinstance(D.cifar10_dataset("train", root=tmp_path), torchvision.datasets.CIFAR10)


def test_corrupt_batches_fall_back_to_jpeg_with_a_warning(tmp_path, monkeypatch):
    write_cifar_batches(tmp_path, monkeypatch)
    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(b"corrupt")
    folder = write_cifar_jpeg(tmp_path)
    monkeypatch.setattr(D, "CIFAR10_JPEG_MD5", D.cifar10_jpeg_checksum(folder))
    with pytest.warns(UserWarning, match="md5"):
        images, _ = D.load_cifar10("test", root=tmp_path)
    assert images.shape == (20, 3, 32, 32)


def test_cifar10_dataset_from_jpeg(tmp_path):
    write_cifar_jpeg(tmp_path)
    ds = D.cifar10_dataset("test", root=tmp_path, transform=torchvision.transforms.ToTensor())
    assert isinstance(ds, torchvision.datasets.ImageFolder)
    assert tuple(ds.classes) == D.CIFAR10_CLASSES and len(ds) == 20
    x, y = ds[19]
    assert x.shape == (3, 32, 32) and y == 9


def test_checksum_matches_the_shell_pipeline(tmp_path):
    folder = write_cifar_jpeg(tmp_path, per_class={"train": 2, "test": 1})
    # names whose order differs between the C locale and others (upper case, '_', '-')
    for name in ("A.jpg", "_x.jpg", "b-1.jpg", "b.jpg", "Z0.jpg"):
        shutil.copy(folder / "test" / "cat" / "0000.jpg", folder / "test" / "cat" / name)
    (folder / "notes.txt").write_text("not counted")
    if shutil.which("md5sum") is None or shutil.which("xargs") is None:
        pytest.skip("needs md5sum and xargs")
    shell = subprocess.run('find . -name "*.jpg" | sort | xargs md5sum | md5sum', shell=True,
                           cwd=folder, capture_output=True, text=True, check=True,
                           env={**os.environ, "LC_ALL": "C"}).stdout.split()[0]
    assert D.cifar10_jpeg_checksum(folder) == shell
    D.verify_cifar10_jpeg(folder, expected=shell)
    with pytest.raises(ValueError, match="checksum mismatch"):
        D.verify_cifar10_jpeg(folder)


def test_checksum_argument_checks(tmp_path):
    with pytest.raises(TypeError, match="folder"):
        D.cifar10_jpeg_checksum(42)
    with pytest.raises(D.DataNotFoundError, match="folder"):
        D.cifar10_jpeg_checksum(tmp_path / "nope")
    with pytest.raises(TypeError, match="expected"):
        D.verify_cifar10_jpeg(tmp_path, expected="abc")


def test_load_image_folder_matches_torchvision(tmp_path):
    for cls, sizes in {"zebra": [(10, 8), (10, 8)], "ant": [(10, 8)], "moth": [(10, 8), (10, 8)]}.items():
        (tmp_path / cls / "nested").mkdir(parents=True)
        for k, wh in enumerate(sizes):
            Image.new("L", wh, 40 * k + 10).save(tmp_path / cls / f"{k}.png")
        Image.new("RGB", (10, 8), (1, 2, 3)).save(tmp_path / cls / "nested" / "x.jpg")
    (tmp_path / "ant" / "readme.txt").write_text("ignored")
    images, labels, classes = D.load_image_folder(tmp_path)
    ref = torchvision.datasets.ImageFolder(str(tmp_path))
    assert classes == tuple(ref.classes) == ("ant", "moth", "zebra")
    assert labels.tolist() == ref.targets and labels.dtype == torch.int64
    assert images.shape == (len(ref), 3, 8, 10) and images.dtype == torch.uint8
    for i in range(len(ref)):                                    # same images, same order, RGB
        np.testing.assert_array_equal(images[i].permute(1, 2, 0).numpy(), np.asarray(ref[i][0]))
    small, _, _ = D.load_image_folder(str(tmp_path), size=(4, 6))
    assert small.shape == (len(ref), 3, 4, 6)


def test_load_image_folder_errors(tmp_path):
    (tmp_path / "a").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "a" / "0.png")
    Image.new("RGB", (9, 8)).save(tmp_path / "a" / "1.png")
    with pytest.raises(ValueError, match="size="):
        D.load_image_folder(tmp_path)
    assert D.load_image_folder(tmp_path, size=(8, 8))[0].shape == (2, 3, 8, 8)
    with pytest.raises(ValueError, match="size"):
        D.load_image_folder(tmp_path, size=(0, 8))
    with pytest.raises(ValueError, match="size"):
        D.load_image_folder(tmp_path, size=(1, 2, 3))
    with pytest.raises(TypeError, match="path"):
        D.load_image_folder(None)
    with pytest.raises(D.DataNotFoundError, match="not a folder"):
        D.load_image_folder(tmp_path / "missing")
    (tmp_path / "empty" / "cls").mkdir(parents=True)
    with pytest.raises(D.DataNotFoundError, match="no images"):
        D.load_image_folder(tmp_path / "empty")


# ----------------------------------------------------------------------------------------------
# subset

def test_subset_is_stratified_seeded_and_shuffled():
    labels = torch.tensor([0] * 50 + [1] * 30 + [2] * 20)
    images = torch.arange(100).reshape(100, 1, 1, 1)
    x, y = D.subset(images, labels, 30, seed=1)
    assert torch.bincount(y).tolist() == [10, 10, 10]
    assert not torch.equal(x.flatten(), torch.sort(x.flatten()).values)    # shuffled by default
    assert torch.equal(labels[x.flatten()], y)                             # pairs stay together
    assert y[:10].unique().numel() > 1                                     # a prefix mixes classes
    xs, ys = D.subset(images, labels, 30, seed=1, shuffle=False)
    assert torch.equal(xs.flatten(), torch.sort(x.flatten()).values)       # same draw, dataset order
    assert torch.equal(labels[xs.flatten()], ys)
    x2, _ = D.subset(images, labels, 30, seed=1)
    x3, _ = D.subset(images, labels, 30, seed=2)
    assert torch.equal(x, x2) and not torch.equal(x, x3)
    _, y = D.subset(images, labels, 31, seed=0)
    assert sorted(torch.bincount(y).tolist()) == [10, 10, 11]
    _, y = D.subset(images, labels, 80, seed=0)                            # class 2 runs out
    assert torch.bincount(y).tolist() == [30, 30, 20]


def test_subset_numpy_and_unstratified():
    labels = np.repeat(np.arange(4), 25)
    images = np.arange(100 * 2).reshape(100, 2)
    x, y = D.subset(images, labels, 10, seed=0, stratified=False)
    assert isinstance(x, np.ndarray) and x.shape == (10, 2) and y.shape == (10,)
    assert (labels[x[:, 0] // 2] == y).all()
    x, y = D.subset(images, labels, 100)
    assert sorted(x[:, 0].tolist()) == images[:, 0].tolist() and not (x == images).all()
    x, y = D.subset(images, labels, 100, shuffle=False)
    assert (x == images).all()


@pytest.mark.parametrize("args, kwargs, exc, words", [
    ((10,), dict(), None, []),
    ((0,), dict(), ValueError, ["n", "0"]),
    ((11,), dict(), ValueError, ["n", "11"]),
    (("5",), dict(), TypeError, ["n", "'5'"]),
    ((5,), dict(seed=-1), ValueError, ["seed"]),
    ((5,), dict(stratified="yes"), TypeError, ["stratified"]),
    ((5,), dict(shuffle=1), TypeError, ["shuffle"]),
])
def test_subset_argument_checks(args, kwargs, exc, words):
    images, labels = torch.zeros(10, 1, 2, 2), torch.arange(10) % 2
    if exc is None:
        D.subset(images, labels, *args, **kwargs)
        return
    with pytest.raises(exc) as info:
        D.subset(images, labels, *args, **kwargs)
    for w in words:
        assert w in str(info.value)


def test_subset_input_checks():
    with pytest.raises(TypeError, match="images"):
        D.subset([1, 2], torch.tensor([0, 1]), 1)
    with pytest.raises(TypeError, match="labels"):
        D.subset(torch.zeros(2, 3), torch.tensor([0.0, 1.0]), 1)
    with pytest.raises(ValueError, match="same length"):
        D.subset(torch.zeros(3, 3), torch.tensor([0, 1]), 1)
    with pytest.raises(ValueError, match="labels must be 1D"):
        D.subset(torch.zeros(2, 3), torch.zeros(2, 1, dtype=torch.int64), 1)


# ----------------------------------------------------------------------------------------------
# the real local copies (skipped unless COURSE_DATA_ROOT points at them)

def _real(*parts: str) -> pathlib.Path | None:
    if not REAL_ROOT:
        return None
    path = pathlib.Path(REAL_ROOT).joinpath(*parts)
    return path if path.exists() else None


needs_real_mnist = pytest.mark.skipif(_real("MNIST", "raw", "t10k-images-idx3-ubyte.gz") is None,
                                      reason="real MNIST not found at COURSE_DATA_ROOT")
needs_real_cifar = pytest.mark.skipif(_real("cifar10-jpeg", "test") is None
                                      and _real("cifar-10-batches-py") is None,
                                      reason="real CIFAR-10 not found at COURSE_DATA_ROOT")


@pytest.fixture
def real_cache(monkeypatch):
    """The real data use the environment's cache (what the notebooks use), so it stays warm."""
    if REAL_CACHE:
        monkeypatch.setenv("COURSE_CACHE_DIR", REAL_CACHE)
    else:
        monkeypatch.delenv("COURSE_CACHE_DIR")


@needs_real_mnist
def test_real_mnist(real_cache):
    images, labels = D.load_mnist("test", root=REAL_ROOT)
    assert images.shape == (10_000, 1, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (10_000,) and labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert torch.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    if _real("MNIST", "raw", "train-images-idx3-ubyte.gz") is None \
            and _real("MNIST", "raw", "train-images-idx3-ubyte") is None:
        with pytest.raises(D.DataNotFoundError, match="mnist_train_test"):
            D.load_mnist("train", root=REAL_ROOT)
        split = D.mnist_train_test(REAL_ROOT)
        assert split.note.startswith("MNIST training split not available here: training on 8,000 "
                                     "of the official 10,000 test images and evaluating on the "
                                     "other 2,000")
        assert torch.bincount(split.test_labels).tolist() == [200] * 10
    else:
        split = D.mnist_train_test(REAL_ROOT)
        assert split.note == "official MNIST split: 60,000 training / 10,000 test images"


@needs_real_cifar
@pytest.mark.parametrize("split, n", [("train", 50_000), ("test", 10_000)])
def test_real_cifar10(real_cache, split, n):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")                          # the checksum must match
        images, labels = D.load_cifar10(split, root=REAL_ROOT)
    assert images.shape == (n, 3, 32, 32) and images.dtype == torch.uint8
    assert torch.bincount(labels).tolist() == [n // 10] * 10
    assert 100 < images.float().mean() < 150                    # real photos, not blank


@pytest.mark.skipif(_real("cifar10-jpeg") is None, reason="real cifar10-jpeg not found at COURSE_DATA_ROOT")
def test_real_cifar10_jpeg_checksum():
    assert D.CIFAR10_JPEG_MD5 == "a00e7ef3d4e75693acf4229e8780b460"   # the data README's value
    D.verify_cifar10_jpeg(_real("cifar10-jpeg"))                      # raises on a mismatch


# ----------------------------------------------------------------------------------------------
# train_val_split, subsample

def _toy_split(n_train=200, n_test=50, k=10, sorted_by_class=True):
    y = torch.arange(n_train) % k
    if sorted_by_class:
        y = torch.sort(y).values
    x = torch.arange(n_train).reshape(n_train, 1, 1, 1)          # image i holds its own index
    te_y = torch.arange(n_test) % k
    te_x = 1000 + torch.arange(n_test).reshape(n_test, 1, 1, 1)
    return D.DataSplit(x, y, te_x, te_y, note="toy", classes=tuple(str(i) for i in range(k)))


@pytest.mark.parametrize("kwargs, n_val", [(dict(n_val=20), 20), (dict(val_fraction=0.25), 50),
                                           (dict(n_val=7, stratified=False), 7)])
def test_train_val_split_is_disjoint_complete_seeded_and_stratified(kwargs, n_val):
    data = _toy_split()
    tuning, final = D.train_val_split(data, seed=3, **kwargs)
    tr = tuning.train_images.flatten().tolist()
    va = tuning.test_images.flatten().tolist()
    assert len(va) == n_val and len(tr) == 200 - n_val
    assert sorted(tr + va) == list(range(200))                   # disjoint and complete
    assert torch.equal(data.train_labels[tuning.train_images.flatten()], tuning.train_labels)
    assert torch.equal(data.train_labels[tuning.test_images.flatten()], tuning.test_labels)
    assert torch.equal(final.train_images, tuning.train_images)   # the same training images
    assert torch.equal(final.test_images, data.test_images)       # the test set untouched
    assert tuning.test_name == "validation" and final.test_name == "test"
    assert "carved from: toy" in tuning.note and "carved from: toy" in final.note
    assert f"{n_val}" in tuning.note and "validat" in tuning.note
    if kwargs.get("stratified", True):
        counts = torch.bincount(tuning.test_labels, minlength=10)
        assert counts.max() - counts.min() <= 1
    # random order: a class-sorted dataset does not stay sorted
    assert not torch.equal(tuning.train_labels, torch.sort(tuning.train_labels).values)
    again, _ = D.train_val_split(data, seed=3, **kwargs)
    other, _ = D.train_val_split(data, seed=4, **kwargs)
    assert torch.equal(again.test_images, tuning.test_images)
    assert not torch.equal(other.test_images, tuning.test_images)


def test_train_val_split_numpy_parts_and_repr():
    data = _toy_split()
    data = D.DataSplit(data.train_images.numpy(), data.train_labels.numpy(), data.test_images.numpy(),
                       data.test_labels.numpy(), note="np", classes=data.classes)
    tuning, _ = D.train_val_split(data, n_val=10)
    assert isinstance(tuning.test_images, np.ndarray) and tuning.test_images.shape == (10, 1, 1, 1)
    assert "test_name='validation'" in repr(tuning)


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(), ValueError, ["n_val", "val_fraction"]),
    (dict(n_val=5, val_fraction=0.1), ValueError, ["exactly one"]),
    (dict(n_val=200), ValueError, ["n_val", "200"]),
    (dict(n_val=0), ValueError, ["n_val"]),
    (dict(n_val=2.5), TypeError, ["n_val"]),
    (dict(val_fraction=1.0), ValueError, ["val_fraction"]),
    (dict(val_fraction="0.1"), TypeError, ["val_fraction"]),
    (dict(val_fraction=0.001), ValueError, ["val_fraction", "0 validation"]),
    (dict(n_val=5, seed=-2), ValueError, ["seed"]),
])
def test_train_val_split_argument_checks(kwargs, exc, words):
    with pytest.raises(exc) as info:
        D.train_val_split(_toy_split(), **kwargs)
    for w in words:
        assert w in str(info.value)


def test_train_val_split_rejects_non_splits():
    with pytest.raises(TypeError, match="DataSplit"):
        D.train_val_split((torch.zeros(3), torch.zeros(3)), n_val=1)


def test_subsample_keeps_pairs_and_says_so():
    data = _toy_split()
    small = D.subsample(data, n_train=40, n_test=10, seed=1)
    assert len(small.train_labels) == 40 and len(small.test_labels) == 10
    assert torch.equal(data.train_labels[small.train_images.flatten()], small.train_labels)
    assert torch.bincount(small.train_labels).tolist() == [4] * 10
    assert "40 of the 200 training images" in small.note and "10 of the 50 test images" in small.note
    assert "from: toy" in small.note
    whole = D.subsample(data, n_train=40)
    assert torch.equal(whole.test_images, data.test_images) and "all 50 test images" in whole.note
