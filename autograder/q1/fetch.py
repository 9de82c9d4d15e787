"""``fetch-cifar``: put CIFAR-10 in the cache, from the official source or a local copy.

Without a source: the official download (``cifar.download_cifar``). With ``--from``:
* a URL, or a file holding the official ``cifar-10-batches-py`` archive: the same download and
  checks (published archive md5, then each file's md5);
* a folder, ``.tar.gz`` or ``.zip`` in the image-folder layout: decoded by ``images``.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

from autograder.q1 import cifar, images


def _is_official_layout(path: Path) -> bool:
    """Whether a tar archive holds ``cifar-10-batches-py/`` (the official layout)."""
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                return member.name.lstrip("./").split("/", 1)[0] == cifar.BATCH_DIR
    except (tarfile.TarError, OSError, EOFError):
        return False
    return False


def fetch_cifar(source: str | None = None,
                data_dir: str | os.PathLike | None = None) -> tuple[Path, str]:
    """Cache CIFAR-10 from ``source`` (None: the official URL); return the cache directory and
    what was cached. DataError, with nothing left in the cache, when the source is unusable."""
    if source is None or "://" in source:
        path = cifar.download_cifar(data_dir, **({} if source is None else {"url": source}))
        return path, "the official CIFAR-10 (archive md5 and every file's md5 verified)"
    local = Path(source)
    if not local.exists():
        raise cifar.DataError(f"{local} does not exist")
    if local.is_file() and tarfile.is_tarfile(local) and _is_official_layout(local):
        path = cifar.download_cifar(data_dir, url=local.resolve().as_uri())
        return path, "the official CIFAR-10 (archive md5 and every file's md5 verified)"
    path = images.import_images(local, data_dir)
    return path, (f"{images.SOURCE_NAME}: every image decoded to 32x32 RGB, an md5 manifest "
                  "written, checked on every later read")


def load_real(data_dir: str | os.PathLike | None = None) -> cifar.Dataset:
    """Real CIFAR-10 from the cache (the official copy, else one imported from images); when
    neither is cached, the official archive is downloaded and verified first (about 170 MB)."""
    if cifar.cifar_present(data_dir):
        return cifar.load_cifar(data_dir)
    if images.images_present(data_dir):
        return images.load_images(data_dir)
    cifar.download_cifar(data_dir)
    return cifar.load_cifar(data_dir)
