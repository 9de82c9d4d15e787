"""Q1 data: the CIFAR-10 reader and downloader, and the offline generator in CIFAR's format."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest

from autograder.q1 import cifar, synthetic
from autograder.q1.prepare import load_dataset

N_TRAIN, N_TEST = 500, 200


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return synthetic.ensure(tmp_path_factory.mktemp("gen"), n_train=N_TRAIN, n_test=N_TEST)


@pytest.fixture(scope="module")
def archive(generated, tmp_path_factory) -> tuple[Path, str]:
    """The generated set as an official-looking archive, and its md5 (built once: gzip is slow)."""
    return _archive(generated, tmp_path_factory.mktemp("archive"))


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _table(directory: Path) -> dict:
    return json.loads((directory / synthetic.MD5_FILE).read_text())


def _archive(generated: Path, dest: Path) -> tuple[Path, str]:
    """A .tar.gz laid out like the official one, and its md5."""
    path = dest / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        tar.add(generated / cifar.BATCH_DIR, arcname=cifar.BATCH_DIR)
    return path, hashlib.md5(path.read_bytes()).hexdigest()


# --- the generated set ------------------------------------------------------------------------


def test_generated_set_is_in_cifar_format(generated):
    batches = generated / cifar.BATCH_DIR
    assert sorted(p.name for p in batches.iterdir()) == sorted(cifar.OFFICIAL_MD5)
    with open(batches / "data_batch_1", "rb") as f:
        d = pickle.load(f, encoding="bytes")
    assert d[b"data"].dtype == np.uint8 and d[b"data"].shape == (N_TRAIN // 5, 3072)
    assert len(d[b"labels"]) == N_TRAIN // 5
    with open(batches / "batches.meta", "rb") as f:
        assert len(pickle.load(f, encoding="bytes")[b"label_names"]) == 10


def test_generated_set_reads_back_verified(generated):
    ds = synthetic.load(generated)
    assert ds.name == "synthetic"
    assert ds.train_x.shape == (N_TRAIN, 3, 32, 32) and ds.train_x.dtype == np.uint8
    assert ds.test_x.shape == (N_TEST, 3, 32, 32)
    assert set(np.unique(ds.train_y)) == set(range(10))
    assert _table(generated) == {p: cifar.md5_file(generated / cifar.BATCH_DIR / p)
                                 for p in cifar.OFFICIAL_MD5}


def test_generation_is_deterministic_and_cached(tmp_path, generated):
    again = synthetic.ensure(tmp_path, n_train=N_TRAIN, n_test=N_TEST)
    assert _table(again) == _table(generated)
    assert synthetic.ensure(tmp_path, n_train=N_TRAIN, n_test=N_TEST) == again
    assert [p.name for p in tmp_path.iterdir()] == [again.name]  # no temporary left behind


def test_patterns_carry_no_colour_or_energy():
    p = synthetic.patterns(np.random.default_rng(0))
    assert np.allclose(p.mean(axis=(2, 3)), 0)
    assert np.allclose(np.linalg.norm(p, axis=(2, 3)), 5)


# --- verification -----------------------------------------------------------------------------


def test_a_file_with_a_wrong_md5_is_rejected_before_unpickling(tmp_path, generated, monkeypatch):
    copy = _copy(generated, tmp_path / "copy")
    path = copy / cifar.BATCH_DIR / "data_batch_3"
    raw = bytearray(path.read_bytes())
    raw[-20] ^= 0xFF
    path.write_bytes(bytes(raw))
    unpickled = []
    monkeypatch.setattr(cifar, "_unpickle", lambda p: unpickled.append(p))
    with pytest.raises(cifar.DataError, match="data_batch_3 has md5"):
        synthetic.load(copy)
    assert unpickled == []


def test_a_missing_file_is_reported(tmp_path, generated):
    copy = _copy(generated, tmp_path / "copy")
    (copy / cifar.BATCH_DIR / "test_batch").unlink()
    with pytest.raises(cifar.DataError, match="test_batch is missing"):
        synthetic.load(copy)


def test_the_unpickler_refuses_anything_but_arrays(tmp_path, generated):
    copy = _copy(generated, tmp_path / "copy")
    path = copy / cifar.BATCH_DIR / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": os.system, b"labels": []}, protocol=2))
    table = {**_table(copy), "data_batch_1": cifar.md5_file(path)}
    with pytest.raises(cifar.DataError, match="refusing to load"):
        cifar.read_batches(copy / cifar.BATCH_DIR, table, name="x")


def test_generated_files_fail_the_official_table(tmp_path, generated):
    _copy(generated / cifar.BATCH_DIR, tmp_path / cifar.BATCH_DIR)
    assert cifar.cifar_present(tmp_path)
    with pytest.raises(cifar.DataError, match="failed verification"):
        cifar.load_cifar(tmp_path)


# --- cache location and dataset choice --------------------------------------------------------


def test_data_dir_argument_then_env_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv(cifar.ENV_DATA_DIR, str(tmp_path / "env"))
    assert cifar.data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert cifar.data_dir() == tmp_path / "env"
    monkeypatch.delenv(cifar.ENV_DATA_DIR)
    assert cifar.data_dir() == Path.home() / ".cache" / "dis05"


def test_without_cifar_the_generated_set_is_used(tmp_path):
    ds, note = load_dataset(tmp_path)
    assert ds.name == "synthetic" and "generated" in note
    assert not cifar.cifar_present(tmp_path)


# --- download ---------------------------------------------------------------------------------


def test_download_from_a_local_url_verifies_and_caches(tmp_path, generated, archive):
    archive, md5 = archive
    cache = tmp_path / "cache"
    table = _table(generated)
    final = cifar.download_cifar(cache, url=archive.as_uri(), archive_md5=md5, md5_table=table)
    assert final == cache / cifar.BATCH_DIR
    assert sorted(p.name for p in cache.iterdir()) == [cifar.BATCH_DIR]
    assert cifar.read_batches(final, table, name="x").train_x.shape == (N_TRAIN, 3, 32, 32)

    def no_network(url):
        raise AssertionError("a cached copy must not be downloaded again")

    assert cifar.download_cifar(cache, opener=no_network, archive_md5=md5, md5_table=table) == final


class _Response(io.BytesIO):
    """A fake HTTP response: ``data``, then optionally an error; a Content-Length header."""

    def __init__(self, data: bytes, *, length: int | None = None, fail_after: bool = False):
        super().__init__(data)
        self.headers = {} if length is None else {"Content-Length": str(length)}
        self.fail_after = fail_after

    def read(self, n=-1):
        chunk = super().read(n)
        if not chunk and self.fail_after:
            raise ConnectionResetError("connection reset by peer")
        return chunk


def _fails(exc: Exception):
    def opener(url):
        raise exc
    return opener


@pytest.mark.parametrize("make_opener, message", [
    (lambda data: _fails(OSError("name resolution failed")), "could not download"),
    (lambda data: lambda url: _Response(data[: len(data) // 2], fail_after=True),
     "could not download"),
    (lambda data: lambda url: _Response(data[: len(data) // 2], length=len(data)), "incomplete"),
    (lambda data: lambda url: _Response(data[: len(data) // 2]), "partial or wrong download"),
    (lambda data: lambda url: _Response(b"<html>not found</html>"), "partial or wrong download"),
], ids=["unreachable", "reset", "short-with-length", "short-no-length", "wrong-file"])
def test_a_failed_download_leaves_no_cache(tmp_path, generated, archive, make_opener, message):
    archive, md5 = archive
    cache = tmp_path / "cache"
    with pytest.raises(cifar.DataError, match=message):
        cifar.download_cifar(cache, url="https://example.invalid/c.tar.gz",
                             opener=make_opener(archive.read_bytes()), archive_md5=md5,
                             md5_table=_table(generated))
    assert not cache.exists() or list(cache.iterdir()) == []
    assert not cifar.cifar_present(cache)


def test_an_archive_with_a_bad_member_leaves_no_cache(tmp_path, generated):
    copy = _copy(generated, tmp_path / "copy")
    (copy / cifar.BATCH_DIR / "test_batch").write_bytes(b"tampered")
    archive, md5 = _archive(copy, tmp_path)
    cache = tmp_path / "cache"
    with pytest.raises(cifar.DataError, match="test_batch has md5"):
        cifar.download_cifar(cache, url=archive.as_uri(), archive_md5=md5,
                             md5_table=_table(generated))
    assert list(cache.iterdir()) == []


def test_the_default_url_and_md5_are_the_published_ones():
    assert cifar.CIFAR_URL == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert cifar.ARCHIVE_MD5 == "c58f30108f718f92721af3b95e74349a"
