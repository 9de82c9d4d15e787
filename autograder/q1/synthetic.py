"""An offline stand-in for CIFAR-10, written in CIFAR-10's exact on-disk format.

Each of 10 classes is a 3x5x5 colour pattern (random signs, each colour channel made zero-mean
and scaled to the same norm, so neither colour nor energy tells the classes apart), added with
amplitude 2 at 8 uniformly random positions over N(0, 1) noise on a 32x32 image. Where the pattern sits carries no
information, so a convolution's weight sharing is exactly the right prior: small CNNs learn it in
a few epochs while MLPs stay near 20% (measured: ``benchmarks/bench_q1.py``).

Values are quantised to uint8 as ``clip(round(128 + 24 v), 0, 255)`` for the format. The
generator writes the md5 of every file to ``md5sums.json`` beside the batches so the common
reader (``cifar.read_batches``) verifies generated files too.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from autograder.q1.cifar import (
    BATCH_DIR,
    META_FILE,
    TEST_FILE,
    TRAIN_FILES,
    Dataset,
    md5_file,
    read_batches,
)

VERSION = 2
MD5_FILE = "md5sums.json"
N_CLASSES = 10
PATTERN = 5
COPIES = 8
AMPLITUDE = 2.0
SCALE = 24.0  # uint8 = 128 + SCALE * value


def patterns(rng: np.random.Generator) -> np.ndarray:
    """(10, 3, 5, 5) patterns; every colour channel is zero-mean with norm 5 (= sqrt(25))."""
    p = rng.choice([-1.0, 1.0], size=(N_CLASSES, 3, PATTERN, PATTERN))
    p -= p.mean(axis=(2, 3), keepdims=True)
    p *= PATTERN / np.linalg.norm(p, axis=(2, 3), keepdims=True)
    return p


def images(n: int, pats: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` uint8 images (n, 3, 32, 32) and their int64 labels."""
    labels = rng.integers(0, N_CLASSES, size=n)
    x = rng.standard_normal((n, 3, 32, 32))
    corners = rng.integers(0, 32 - PATTERN + 1, size=(n, COPIES, 2))
    for i in range(n):
        for top, left in corners[i]:
            x[i, :, top:top + PATTERN, left:left + PATTERN] += AMPLITUDE * pats[labels[i]]
    return np.clip(np.rint(128 + SCALE * x), 0, 255).astype(np.uint8), labels.astype(np.int64)


def _dump(path: Path, obj: dict) -> None:
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def write(directory: Path, *, n_train: int, n_test: int, seed: int) -> dict[str, str]:
    """Write the batches into ``directory`` (the ``cifar-10-batches-py`` level); return md5s."""
    rng = np.random.default_rng(seed)
    pats = patterns(rng)
    directory.mkdir(parents=True, exist_ok=True)
    train_x, train_y = images(n_train, pats, rng)
    per_batch = -(-n_train // len(TRAIN_FILES))
    for k, name in enumerate(TRAIN_FILES):
        sl = slice(k * per_batch, (k + 1) * per_batch)
        _dump(directory / name, {
            b"batch_label": f"synthetic training batch {k + 1} of 5".encode(),
            b"labels": train_y[sl].tolist(),
            b"data": train_x[sl].reshape(-1, 3072),
            b"filenames": [f"synthetic_{k}_{i}.png".encode() for i in range(len(train_y[sl]))],
        })
    test_x, test_y = images(n_test, pats, rng)
    _dump(directory / TEST_FILE, {
        b"batch_label": b"synthetic testing batch 1 of 1",
        b"labels": test_y.tolist(),
        b"data": test_x.reshape(-1, 3072),
        b"filenames": [f"synthetic_test_{i}.png".encode() for i in range(n_test)],
    })
    _dump(directory / META_FILE, {
        b"num_cases_per_batch": per_batch,
        b"label_names": [f"pattern_{c}".encode() for c in range(N_CLASSES)],
        b"num_vis": 3072,
    })
    return {name: md5_file(directory / name) for name in (*TRAIN_FILES, TEST_FILE, META_FILE)}


def ensure(root: str | os.PathLike, *, n_train: int = 3000, n_test: int = 2000,
           seed: int = 0) -> Path:
    """Generate the set under ``root`` unless already there; return the dataset directory.

    The directory holds ``cifar-10-batches-py/`` and ``md5sums.json``. Generation goes to a
    temporary directory that is renamed into place, so a crash leaves nothing half-written.
    """
    root = Path(root)
    final = root / f"synthetic-v{VERSION}-{n_train}-{n_test}-seed{seed}"
    if (final / MD5_FILE).is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".synthetic-", dir=root))
    try:
        table = write(tmp / BATCH_DIR, n_train=n_train, n_test=n_test, seed=seed)
        (tmp / MD5_FILE).write_text(json.dumps(table, indent=1, sort_keys=True))
        try:
            os.replace(tmp, final)
        except OSError:  # another process generated it first
            if not (final / MD5_FILE).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def load(directory: str | os.PathLike) -> Dataset:
    """Read a generated set with the common reader, verifying each file against its md5."""
    directory = Path(directory)
    table = json.loads((directory / MD5_FILE).read_text())
    return replace(read_batches(directory / BATCH_DIR, table, name="synthetic"),
                   source="generated offline dataset")
