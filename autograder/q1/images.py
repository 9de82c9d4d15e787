"""CIFAR-10 from a copy in the common image-folder layout: import once, verify on every read.

Accepted sources: a folder, a ``.tar.gz``/``.tgz`` or a ``.zip`` holding ``train/<class>/*`` and
``test/<class>/*`` (under one optional top folder), with exactly CIFAR-10's ten class names.
Every image must decode (Pillow) to 32x32; it is stored as RGB. The decoded arrays go to
``<data_dir>/cifar-10-images/`` with ``manifest.json`` listing each array's md5, written at import
and checked on every read, so a cache changed since (or half written) is refused.

Such a copy is not the official archive (a JPEG copy's pixels differ slightly), so it is named
for what it is wherever a verdict is shown: ``SOURCE_NAME``. The import works in a temporary
folder next to the cache and renames it into place only when every image was read, so a failed
or interrupted import leaves no cache behind.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import numpy as np

from autograder.q1.cifar import DataError, Dataset, data_dir, md5_file

IMAGES_DIR = "cifar-10-images"
MANIFEST = "manifest.json"
SOURCE_NAME = "CIFAR-10, imported from images"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck")
SPLITS = ("train", "test")
ARRAYS = tuple(f"{split}_{part}.npy" for split in SPLITS for part in ("x", "y"))
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".ppm", ".tif", ".tiff")


def _members(source: Path) -> Iterator[tuple[str, bytes]]:
    """(relative posix path, bytes) of every regular file in a folder, tar.gz or zip."""
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            if path.is_file():
                yield path.relative_to(source).as_posix(), path.read_bytes()
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    yield info.filename, archive.read(info)
    elif tarfile.is_tarfile(source):
        with tarfile.open(source, "r:*") as archive:
            for member in archive:
                if member.isfile():
                    f = archive.extractfile(member)
                    yield member.name, f.read() if f else b""
    else:
        raise DataError(f"{source} is neither a folder nor a .tar.gz or .zip archive")


def _place(path: str) -> tuple[str, str] | None:
    """(split, class) of an image path ``[top/]split/class/file``, None for other files."""
    parts = PurePosixPath(path).parts
    if parts and parts[0] in (".", "/"):
        parts = parts[1:]
    if any(p.startswith(".") or p == "__MACOSX" for p in parts):
        return None  # hidden files and macOS resource forks
    if not parts or not parts[-1].lower().endswith(IMAGE_SUFFIXES):
        return None
    if len(parts) == 4 and parts[1] in SPLITS:
        return parts[1], parts[2]
    if len(parts) == 3 and parts[0] in SPLITS:
        return parts[0], parts[1]
    raise DataError(f"{path} is not in a train/<class>/ or test/<class>/ folder")


def _decode(path: str, data: bytes) -> np.ndarray:
    """One image as uint8 (3, 32, 32); DataError when unreadable or not 32x32."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.size != (32, 32):
                raise DataError(f"{path} is {image.size[0]}x{image.size[1]} pixels; CIFAR-10 "
                                "images are 32x32")
            rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"{path} could not be read as an image ({exc})") from None
    return rgb.transpose(2, 0, 1)


def read_image_folder(source: Path) -> dict[str, np.ndarray]:
    """Decode every image; the four arrays, classes in CIFAR-10's label order, files by name."""
    found: dict[tuple[str, str], list[tuple[str, np.ndarray]]] = {}
    for path, data in _members(source):
        place = _place(path)
        if place is None:
            continue
        split, cls = place
        if cls not in CLASSES:
            raise DataError(f"{path}: unknown class {cls!r}; CIFAR-10's classes are "
                            f"{', '.join(CLASSES)}")
        found.setdefault(place, []).append((path, _decode(path, data)))
    missing = [f"{s}/{c}" for s in SPLITS for c in CLASSES if not found.get((s, c))]
    if missing:
        raise DataError(f"{source} has no images in {', '.join(missing)} (each of CIFAR-10's "
                        "ten classes needs a train/<class>/ and a test/<class>/ folder)")
    arrays = {}
    for split in SPLITS:
        xs, ys = [], []
        for label, cls in enumerate(CLASSES):
            images = [image for _, image in sorted(found[(split, cls)], key=lambda t: t[0])]
            xs += images
            ys += [label] * len(images)
        arrays[f"{split}_x.npy"] = np.stack(xs)
        arrays[f"{split}_y.npy"] = np.asarray(ys, dtype=np.int64)
    return arrays


def import_images(source: str | os.PathLike, path: str | os.PathLike | None = None) -> Path:
    """Decode an image-folder copy of CIFAR-10 into the cache; return its directory.

    Refuses to replace an existing import (delete it first); on any error nothing is left."""
    source = Path(source)
    if not source.exists():
        raise DataError(f"{source} does not exist")
    root = data_dir(path)
    final = root / IMAGES_DIR
    if final.exists():
        raise DataError(f"{final} already holds an imported copy; delete it to import again")
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".import-", dir=root))
    try:
        arrays = read_image_folder(source)
        for name, array in arrays.items():
            np.save(tmp / name, array, allow_pickle=False)
        manifest = {"source": SOURCE_NAME, "imported_from": str(source),
                    "classes": list(CLASSES),
                    "images": {s: int(len(arrays[f"{s}_y.npy"])) for s in SPLITS},
                    "md5": {name: md5_file(tmp / name) for name in ARRAYS}}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def images_present(path: str | os.PathLike | None = None) -> bool:
    """Whether the cache holds an imported copy (its manifest is checked when read)."""
    return (data_dir(path) / IMAGES_DIR / MANIFEST).is_file()


def load_images(path: str | os.PathLike | None = None) -> Dataset:
    """The imported copy, after checking every array against the manifest; DataError if not."""
    directory = data_dir(path) / IMAGES_DIR
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
        table = {name: manifest["md5"][name] for name in ARRAYS}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{directory} has no readable manifest ({exc!r}); delete the folder "
                        "and import again (python -m autograder fetch-cifar --from PATH)") \
            from None
    for name, expected in table.items():
        file = directory / name
        actual = md5_file(file) if file.is_file() else "missing"
        if actual != expected:
            raise DataError(f"{file} no longer matches the manifest written at import (md5 "
                            f"{actual}, expected {expected}); delete {directory} and import "
                            "again (python -m autograder fetch-cifar --from PATH)")
    a = {name: np.load(directory / name, allow_pickle=False) for name in ARRAYS}
    return Dataset(name="cifar10", train_x=a["train_x.npy"], train_y=a["train_y.npy"],
                   test_x=a["test_x.npy"], test_y=a["test_y.npy"], label_names=CLASSES,
                   source=SOURCE_NAME)
