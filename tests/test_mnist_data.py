"""The MNIST / Fashion-MNIST loader: IDX parsing, digests, where it looks, downloads."""

from __future__ import annotations

import gzip
import hashlib
import os

import numpy as np
import pytest
import torch

from flowlearn.data import mnist
from flowlearn.data.mnist import (
    DataNotFoundError,
    DatasetSpec,
    DigestMismatchError,
    RandomAffine,
    parse_idx,
    write_idx,
)

FILES = mnist._FILES


# --------------------------------------------------------------------------------------------
# IDX


def test_parse_idx_reads_big_endian_header_and_values():
    # magic 0x0000 0C 01 (int32, 1 dim), size 2, values 258 and -1, all big-endian
    data = bytes([0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 1, 2, 0xFF, 0xFF, 0xFF, 0xFF])
    out = parse_idx(data)
    assert out.tolist() == [258, -1]
    assert out.dtype.byteorder in ("=", "|") or out.dtype.isnative


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path, dtype):
    a = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4)
    a = a.astype(dtype) if dtype != np.uint8 else np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    for compress in (False, True):
        path = write_idx(a, tmp_path / f"x{compress}", compress=compress)
        raw = path.read_bytes()
        content = gzip.decompress(raw) if compress else raw
        np.testing.assert_array_equal(parse_idx(content), a)
    code = {np.uint8: 0x08, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}
    assert content[:4] == bytes([0, 0, code[dtype], 3])
    assert np.frombuffer(content[4:16], ">u4").tolist() == [2, 3, 4]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x01\x00\x08\x01", "not an IDX file"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "type code 0x07"),
        (b"\x00\x00\x08\x02\x00\x00", "truncated IDX header"),
        (bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]), "holds 10 bytes"),
    ],
)
def test_parse_idx_rejects_bad_files(data, words):
    with pytest.raises(ValueError, match=words):
        parse_idx(data, "f")


# --------------------------------------------------------------------------------------------
# A tiny data set in MNIST's layout


def _tiny_arrays(n_train=20, n_test=10, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) % 10).astype(np.uint8),
    }


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A registered 'tiny' data set, its files gzipped in ``tmp/mirror``, and a private cache."""
    arrays = _tiny_arrays()
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    digests = {}
    for name, a in arrays.items():
        path = write_idx(a, mirror / f"{name}.gz", compress=True)
        digests[name] = hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()
    spec = DatasetSpec(
        name="tiny",
        files=FILES,
        digests=digests,
        mirrors=(mirror.as_uri() + "/",),
        classes=tuple("0123456789"),
    )
    monkeypatch.setitem(mnist.DATASETS, "tiny", spec)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("FLOWLEARN_DATA", raising=False)
    return spec, arrays, mirror


def test_loads_a_folder_holding_the_files(tiny, tmp_path):
    _, arrays, mirror = tiny
    split = mnist.load("train", "tiny", data_dir=mirror, download=False)
    np.testing.assert_array_equal(split.images, arrays["train-images-idx3-ubyte"])
    assert split.labels.dtype == np.int64 and split.labels.shape == (20,)
    test = mnist.load("test", "tiny", data_dir=mirror)
    assert test.images.shape == (10, 28, 28)


def test_uncompressed_files_and_flowlearn_data_variable(tiny, tmp_path, monkeypatch):
    _, arrays, _ = tiny
    folder = tmp_path / "data" / "tiny"
    folder.mkdir(parents=True)
    for name, a in arrays.items():
        write_idx(a, folder / name)
    monkeypatch.setenv("FLOWLEARN_DATA", str(tmp_path / "data"))
    assert mnist.find_dir(mnist.DATASETS["tiny"]) == folder
    np.testing.assert_array_equal(
        mnist.load("test", "tiny", download=False).labels, np.arange(10) % 10
    )


def test_digest_mismatch_names_file_expected_and_found(tiny, tmp_path):
    spec, arrays, _ = tiny
    folder = tmp_path / "mine"
    folder.mkdir()
    for name, a in arrays.items():
        write_idx(a, folder / f"{name}.gz", compress=True)
    bad = folder / "train-labels-idx1-ubyte.gz"
    wrong = arrays["train-labels-idx1-ubyte"].copy()
    wrong[0] = 9
    write_idx(wrong, bad, compress=True)
    found = hashlib.sha256(gzip.decompress(bad.read_bytes())).hexdigest()
    with pytest.raises(DigestMismatchError) as err:
        mnist.load("train", "tiny", data_dir=folder)
    text = str(err.value)
    assert str(bad) in text and spec.digests["train-labels-idx1-ubyte"] in text and found in text
    assert bad.exists()  # a folder that is not ours: reported, never deleted


def test_missing_folder_says_where_it_looked_and_how_to_point_elsewhere(tiny, tmp_path):
    nowhere = tmp_path / "nowhere"
    with pytest.raises(DataNotFoundError) as err:
        mnist.load("train", "tiny", data_dir=nowhere, download=False)
    text = str(err.value)
    assert str(nowhere) in text and str(tmp_path / "cache" / "flowlearn" / "tiny") not in text
    assert "--data-dir" in text and "FLOWLEARN_DATA" in text
    for line in ("t10k-images-idx3-ubyte", str(nowhere / "tiny"), "download=False"):
        assert line in text


def test_download_into_the_cache_from_a_file_url(tiny, tmp_path):
    _, arrays, _ = tiny
    split = mnist.load("train", "tiny")
    cache = tmp_path / "cache" / "flowlearn" / "tiny"
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{n}.gz" for n in arrays)
    np.testing.assert_array_equal(split.images, arrays["train-images-idx3-ubyte"])


def test_download_failure_lists_every_mirror(tiny, tmp_path):
    bad = [(tmp_path / "empty").as_uri() + "/", (tmp_path / "gone").as_uri() + "/"]
    with pytest.raises(DataNotFoundError) as err:
        mnist.load("train", "tiny", mirrors=bad)
    text = str(err.value)
    assert all(m in text for m in bad) and "--data-dir" in text
    assert not any(p.suffix == ".part" for p in (tmp_path / "cache").rglob("*"))


def test_truncated_download_is_refused_and_next_mirror_used(tiny, tmp_path):
    _, arrays, mirror = tiny
    broken = tmp_path / "broken"
    broken.mkdir()
    for p in mirror.iterdir():
        (broken / p.name).write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2])
    calls = []

    def opener(url, timeout):
        calls.append(url)
        return open(url.removeprefix("file://"), "rb")

    split = mnist.load(
        "test", "tiny", mirrors=[broken.as_uri() + "/", mirror.as_uri() + "/"], opener=opener
    )
    np.testing.assert_array_equal(split.images, arrays["t10k-images-idx3-ubyte"])
    assert len(calls) == 8  # each of the 4 files: the truncated copy, then the good one
    assert all(str(broken) in c for c in calls[::2])


def test_corrupted_cached_file_is_fetched_again_never_used(tiny, tmp_path):
    _, arrays, mirror = tiny
    mnist.load("train", "tiny")
    cached = tmp_path / "cache" / "flowlearn" / "tiny" / "train-images-idx3-ubyte.gz"
    cached.write_bytes(cached.read_bytes()[:100])  # an interrupted download
    fetched = []

    def opener(url, timeout):
        fetched.append(url)
        return open(url.removeprefix("file://"), "rb")

    split = mnist.load("train", "tiny", opener=opener)
    np.testing.assert_array_equal(split.images, arrays["train-images-idx3-ubyte"])
    assert fetched == [mirror.as_uri() + "/train-images-idx3-ubyte.gz"]
    assert cached.read_bytes() == (mirror / cached.name).read_bytes()


def test_take_is_a_fixed_subset(tiny):
    _, _, mirror = tiny
    split = mnist.load("train", "tiny", data_dir=mirror)
    a, b = split.take(7, seed=3), split.take(7, seed=3)
    np.testing.assert_array_equal(a.images, b.images)
    assert len(a) == 7 and split.take(None) is split
    assert split.fingerprint().startswith("sha256:")


def test_unknown_dataset_and_split_name_the_valid_ones():
    with pytest.raises(ValueError, match="fashion-mnist"):
        mnist.load("train", "cifar")
    with pytest.raises(ValueError, match="train, test"):
        mnist.load("validation")


def test_random_affine_is_seeded_and_keeps_shapes():
    x = torch.rand(6, 1, 28, 28)
    batch = [(x[i], torch.tensor(i)) for i in range(6)]
    a, ya = RandomAffine(seed=1)(batch)
    b, _ = RandomAffine(seed=1)(batch)
    c, _ = RandomAffine(seed=2)(batch)
    assert a.shape == x.shape and ya.tolist() == list(range(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    same, _ = RandomAffine(0, 0, 0)(batch)
    torch.testing.assert_close(same, x, atol=1e-5, rtol=0)


# --------------------------------------------------------------------------------------------
# The real files


def test_real_mnist_class_counts():
    from conftest import shared_subfolder

    folder = shared_subfolder("mnist")
    train = mnist.load("train", data_dir=folder, download=False)
    test = mnist.load("test", data_dir=folder, download=False)
    assert train.images.shape == (60_000, 28, 28) and test.images.shape == (10_000, 28, 28)
    assert np.bincount(train.labels).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949
    ]  # fmt: skip
    assert np.bincount(test.labels).tolist() == [
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009
    ]  # fmt: skip
    assert abs(train.images.mean() / 255 - mnist.MNIST_MEAN) < 1e-3


def test_real_fashion_mnist_if_installed():
    folder = mnist.FASHION_MNIST.system_dirs[0]
    if not os.path.isdir(folder):
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    test = mnist.load("test", "fashion-mnist", data_dir=folder, download=False)
    assert np.bincount(test.labels).tolist() == [1000] * 10
