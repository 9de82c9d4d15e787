"""CIFAR-10 in its python format, without torchvision: download once, verify, cache, read.

Layout (the official one): ``<data_dir>/cifar-10-batches-py/`` holding ``data_batch_1`` ...
``data_batch_5``, ``test_batch`` and ``batches.meta``, each a pickled dict with ``b"data"``
(uint8, N x 3072, channel-major 32x32 planes) and ``b"labels"``. The offline generator
(``synthetic.py``) writes the same layout, so one reader serves both.

Safety: a file is unpickled only after its md5 matched a table (the published one for real
CIFAR-10, the generator's for the synthetic set), and then only through an unpickler that
accepts NumPy arrays and plain containers. Downloads go to a temporary directory next to the
cache and are renamed into place only once every check passed, so a failed or partial download
leaves no cache behind.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np

from autograder.settings import environment

CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
BATCH_DIR = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"

#: The published md5 of each extracted file of the official archive.
OFFICIAL_MD5: dict[str, str] = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}

ENV_DATA_DIR = "DIS05_DATA_DIR"
OFFICIAL_SOURCE = "CIFAR-10, official archive"


class DataError(Exception):
    """The dataset is missing, corrupt or could not be downloaded (the message says which)."""


@dataclass(frozen=True)
class Dataset:
    """Images as uint8 (N, 3, 32, 32), labels as int64 (N,)."""

    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    label_names: tuple[str, ...]
    source: str = ""
    """what the images are, for feedback and staff logs (e.g. "CIFAR-10, official archive")"""


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The cache directory: ``path``, else ``$DIS05_DATA_DIR``, else ``~/.cache/dis05``."""
    if path is not None:
        return Path(path)
    env = environment.env(ENV_DATA_DIR)
    return Path(env) if env else Path.home() / ".cache" / "dis05"


def md5_file(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(directory: Path, md5_table: Mapping[str, str]) -> None:
    """Raise DataError unless every file of the table is in ``directory`` with its md5."""
    problems = []
    for name, expected in md5_table.items():
        path = directory / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif (actual := md5_file(path)) != expected:
            problems.append(f"{name} has md5 {actual}, expected {expected}")
    if problems:
        raise DataError(f"{directory} failed verification: " + "; ".join(problems))


class _ArrayUnpickler(pickle.Unpickler):
    """Accepts NumPy arrays, dtypes and builtin containers; nothing else is importable."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("_codecs", "encode"),  # how protocol 2 stores bytes written by Python 3
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            obj = _ArrayUnpickler(f, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise DataError(f"could not read {path}: {exc}") from None
    if not isinstance(obj, dict):
        raise DataError(f"{path} does not hold a dict")
    return obj


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    d = _unpickle(path)
    try:
        data = np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(d[b"labels"], dtype=np.int64)
    except (KeyError, ValueError) as exc:
        raise DataError(f"{path} is not a CIFAR-10 batch ({exc!r})") from None
    if len(data) != len(labels):
        raise DataError(f"{path} has {len(data)} images but {len(labels)} labels")
    return data, labels


def read_batches(directory: Path, md5_table: Mapping[str, str], *, name: str) -> Dataset:
    """Read a ``cifar-10-batches-py`` directory, verifying every file's md5 first."""
    directory = Path(directory)
    missing = [f for f in (*TRAIN_FILES, TEST_FILE, META_FILE) if f not in md5_table]
    if missing:
        raise DataError(f"the md5 table for {directory} does not cover {missing}")
    verify(directory, md5_table)
    train = [_read_batch(directory / f) for f in TRAIN_FILES]
    test_x, test_y = _read_batch(directory / TEST_FILE)
    meta = _unpickle(directory / META_FILE)
    names = tuple(n.decode() if isinstance(n, bytes) else str(n)
                  for n in meta.get(b"label_names", []))
    return Dataset(
        name=name,
        train_x=np.concatenate([x for x, _ in train]),
        train_y=np.concatenate([y for _, y in train]),
        test_x=test_x,
        test_y=test_y,
        label_names=names,
    )


def cifar_present(path: str | os.PathLike | None = None) -> bool:
    """Whether the cache holds real CIFAR-10 (all files there; md5s are checked when read)."""
    directory = data_dir(path) / BATCH_DIR
    return all((directory / f).is_file() for f in OFFICIAL_MD5)


def load_cifar(path: str | os.PathLike | None = None) -> Dataset:
    """Real CIFAR-10 from the cache (never downloads); DataError if absent or corrupt."""
    directory = data_dir(path) / BATCH_DIR
    if not directory.is_dir():
        raise DataError(f"no CIFAR-10 in {directory}; run download_cifar() first")
    return replace(read_batches(directory, OFFICIAL_MD5, name="cifar10"),
                   source=OFFICIAL_SOURCE)


def _urlopen(url: str) -> BinaryIO:
    return urllib.request.urlopen(url, timeout=60)  # noqa: S310 (the URL is ours)


def _fetch(url: str, dest: Path, opener: Callable[[str], BinaryIO]) -> str:
    """Stream ``url`` into ``dest``; return the md5. DataError on any failure or short read."""
    digest = hashlib.md5()
    size = 0
    try:
        with opener(url) as response, open(dest, "wb") as out:
            headers = getattr(response, "headers", None)
            expected = headers.get("Content-Length") if headers is not None else None
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"could not download {url}: {exc}") from exc
    if expected is not None and size != int(expected):
        raise DataError(f"download of {url} is incomplete: {size} of {expected} bytes")
    return digest.hexdigest()


def _extract(archive: Path, dest: Path, names: set[str]) -> None:
    """Extract only ``cifar-10-batches-py/<name>`` regular files for the given names."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = [m for m in tar.getmembers()
                       if m.isfile() and m.name.startswith(BATCH_DIR + "/")
                       and m.name.split("/", 1)[1] in names]
            tar.extractall(dest, members=members, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"could not extract {archive.name}: {exc}") from exc


def download_cifar(
    path: str | os.PathLike | None = None,
    *,
    url: str = CIFAR_URL,
    opener: Callable[[str], BinaryIO] = _urlopen,
    archive_md5: str = ARCHIVE_MD5,
    md5_table: Mapping[str, str] = OFFICIAL_MD5,
) -> Path:
    """Download, verify and cache CIFAR-10; return its directory. Idempotent.

    ``url`` (``file://`` works) and ``opener`` are injectable so tests never use the network;
    ``archive_md5`` and ``md5_table`` default to the published values.
    """
    root = data_dir(path)
    final = root / BATCH_DIR
    if final.is_dir():
        try:
            verify(final, md5_table)
        except DataError as exc:
            raise DataError(f"the cached copy is corrupt ({exc}); delete {final} and retry") \
                from None
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".download-", dir=root))
    try:
        archive = tmp / "archive.tar.gz"
        actual = _fetch(url, archive, opener)
        if actual != archive_md5:
            raise DataError(f"downloaded archive has md5 {actual}, expected {archive_md5} "
                            "(a partial or wrong download)")
        _extract(archive, tmp / "extracted", set(md5_table))
        verify(tmp / "extracted" / BATCH_DIR, md5_table)
        os.replace(tmp / "extracted" / BATCH_DIR, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
