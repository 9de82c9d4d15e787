"""``fetch-cifar --from``: the official archive, or an image-folder copy decoded into the cache."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from autograder import cli
from autograder.q1 import cifar, fetch, images, synthetic
from autograder.q1.prepare import load_dataset

PER_CLASS = {"train": 3, "test": 2}


def _png(colour: int, size: tuple[int, int] = (32, 32)) -> bytes:
    pixels = np.full((size[1], size[0], 3), colour, dtype=np.uint8)
    pixels[0, 0] = (colour, 255 - colour, 7)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _folder(root: Path, classes=images.CLASSES) -> Path:
    """A small copy: PER_CLASS images per class and split, each a distinct flat colour."""
    for split, count in PER_CLASS.items():
        for label, cls in enumerate(classes):
            folder = root / "copy" / split / cls
            folder.mkdir(parents=True)
            for k in range(count):
                (folder / f"{k:04d}.png").write_bytes(_png(10 * label + k))
    return root / "copy"


def _cache_is_empty(cache: Path) -> bool:
    return not cache.exists() or list(cache.iterdir()) == []


def test_an_image_folder_is_decoded_in_label_order(tmp_path):
    cache = tmp_path / "cache"
    path, what = fetch.fetch_cifar(str(_folder(tmp_path)), cache)
    assert path == cache / images.IMAGES_DIR and images.SOURCE_NAME in what
    ds = images.load_images(cache)
    assert ds.name == "cifar10" and ds.label_names == images.CLASSES
    assert ds.train_x.shape == (30, 3, 32, 32) and ds.test_x.shape == (20, 3, 32, 32)
    assert ds.train_y.tolist() == [label for label in range(10) for _ in range(3)]
    assert ds.train_x[4, :, 5, 5].tolist() == [11, 11, 11]  # class 1, second file
    assert ds.train_x[4, :, 0, 0].tolist() == [11, 244, 7]  # channels in RGB order
    manifest = json.loads((path / images.MANIFEST).read_text())
    assert manifest["source"] == images.SOURCE_NAME
    assert manifest["images"] == {"train": 30, "test": 20}
    assert [p.name for p in cache.iterdir()] == [images.IMAGES_DIR]  # no temporary left behind


@pytest.mark.parametrize("pack", ["tar.gz", "zip"])
def test_an_archived_folder_imports_the_same_arrays(tmp_path, pack):
    folder = _folder(tmp_path)
    archive = tmp_path / f"copy.{pack}"
    if pack == "zip":
        with zipfile.ZipFile(archive, "w") as z:
            for p in sorted(folder.rglob("*.png")):
                z.write(p, f"cifar10-images/{p.relative_to(folder).as_posix()}")
    else:
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(folder, arcname="cifar10-images")
    fetch.fetch_cifar(str(archive), tmp_path / "a")
    fetch.fetch_cifar(str(folder), tmp_path / "b")
    a, b = images.load_images(tmp_path / "a"), images.load_images(tmp_path / "b")
    assert np.array_equal(a.train_x, b.train_x) and np.array_equal(a.test_y, b.test_y)


def test_an_imported_copy_grades_and_is_named(tmp_path):
    cache = tmp_path / "cache"
    fetch.fetch_cifar(str(_folder(tmp_path)), cache)
    ds, note = load_dataset(cache)
    assert ds.name == "cifar10" and images.SOURCE_NAME in note


def _break_size(folder: Path) -> str:
    (folder / "train" / "cat" / "0001.png").write_bytes(_png(3, (32, 31)))
    return "0001.png is 32x31 pixels"


def _break_unknown_class(folder: Path) -> str:
    shutil.copytree(folder / "train" / "cat", folder / "train" / "kitten")
    return "unknown class 'kitten'"


def _break_missing_class(folder: Path) -> str:
    shutil.rmtree(folder / "test" / "truck")
    return "no images in test/truck"


def _break_unreadable(folder: Path) -> str:
    (folder / "test" / "dog" / "0000.png").write_bytes(b"\x89PNG not really")
    return "test/dog/0000.png could not be read as an image"


def _break_layout(folder: Path) -> str:
    (folder / "stray.png").write_bytes(_png(1))
    return "not in a train/<class>/ or test/<class>/ folder"


@pytest.mark.parametrize("damage", [_break_size, _break_unknown_class, _break_missing_class,
                                    _break_unreadable, _break_layout],
                         ids=["size", "unknown-class", "missing-class", "unreadable", "layout"])
def test_a_bad_copy_says_why_and_leaves_nothing(tmp_path, damage):
    folder = _folder(tmp_path)
    message = damage(folder)
    cache = tmp_path / "cache"
    with pytest.raises(cifar.DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fetch.fetch_cifar(str(folder), cache)
    assert _cache_is_empty(cache) and not images.images_present(cache)


def test_an_interrupted_import_leaves_nothing(tmp_path, monkeypatch):
    folder, cache = _folder(tmp_path), tmp_path / "cache"
    real_save, saved = np.save, []

    def interrupted(path, array, **kwargs):
        if saved:
            raise KeyboardInterrupt  # the TA pressed Ctrl-C while the arrays were written
        saved.append(path)
        real_save(path, array, **kwargs)

    monkeypatch.setattr(images.np, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        images.import_images(folder, cache)
    assert _cache_is_empty(cache)


@pytest.mark.parametrize("edit", ["change", "delete", "manifest"])
def test_a_cache_that_no_longer_matches_its_manifest_is_refused(tmp_path, edit):
    cache = tmp_path / "cache"
    path, _ = fetch.fetch_cifar(str(_folder(tmp_path)), cache)
    target = path / "test_y.npy"
    if edit == "change":
        labels = np.load(target)
        labels[0] = 9
        np.save(target, labels)
    elif edit == "delete":
        target.unlink()
    else:
        (path / images.MANIFEST).write_text("{")
    with pytest.raises(cifar.DataError, match="manifest"):
        images.load_images(cache)
    with pytest.raises(cifar.DataError, match="manifest"):
        load_dataset(cache)  # never falls back to the generated set silently


def test_a_second_import_is_refused(tmp_path):
    folder, cache = _folder(tmp_path), tmp_path / "cache"
    fetch.fetch_cifar(str(folder), cache)
    with pytest.raises(cifar.DataError, match="already holds"):
        fetch.fetch_cifar(str(folder), cache)


def test_the_official_archive_from_a_file_url_and_a_path(tmp_path, monkeypatch):
    generated = synthetic.ensure(tmp_path / "gen", n_train=100, n_test=50)
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(generated / cifar.BATCH_DIR, arcname=cifar.BATCH_DIR)
    table = json.loads((generated / synthetic.MD5_FILE).read_text())
    # the generated stand-in plays the official archive: its md5s replace the published ones
    monkeypatch.setattr(cifar, "ARCHIVE_MD5", hashlib.md5(archive.read_bytes()).hexdigest())
    monkeypatch.setattr(cifar, "OFFICIAL_MD5", table)
    monkeypatch.setattr(cifar.download_cifar, "__kwdefaults__",
                        {**cifar.download_cifar.__kwdefaults__, "archive_md5": cifar.ARCHIVE_MD5,
                         "md5_table": table})
    for source, cache in ((archive.as_uri(), tmp_path / "url"), (str(archive), tmp_path / "p")):
        path, what = fetch.fetch_cifar(source, cache)
        assert path == cache / cifar.BATCH_DIR and "official" in what
        assert cifar.load_cifar(cache).train_x.shape == (100, 3, 32, 32)


def test_an_official_layout_with_the_wrong_md5_is_refused(tmp_path):
    generated = synthetic.ensure(tmp_path / "gen", n_train=100, n_test=50)
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(generated / cifar.BATCH_DIR, arcname=cifar.BATCH_DIR)
    cache = tmp_path / "cache"
    with pytest.raises(cifar.DataError, match="partial or wrong download"):
        fetch.fetch_cifar(str(archive), cache)
    assert not cifar.cifar_present(cache)


def test_the_command_line_reports_a_bad_copy_without_a_traceback(tmp_path, capsys):
    folder = _folder(tmp_path)
    _break_missing_class(folder)
    code = cli.main(["fetch-cifar", "--from", str(folder), "--data-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "test/truck" in err
    assert "Traceback" not in err


def test_the_command_line_imports_a_copy(tmp_path, capsys):
    folder = _folder(tmp_path)
    assert cli.main(["fetch-cifar", "--from", str(folder), "--data-dir", str(tmp_path / "c")]) == 0
    assert images.SOURCE_NAME in capsys.readouterr().out
    assert images.images_present(tmp_path / "c")


def test_a_run_on_the_generated_set_tells_the_staff_to_fetch_cifar(tmp_path):
    from autograder.q1 import data_notes, prepare_q1
    from autograder.settings.q1 import BUDGETS, Q1Config

    budget = replace(BUDGETS[("synthetic", "cpu")], n_train=50, n_test=20)
    generated = prepare_q1(tmp_path / "a", config=Q1Config(device="cpu"), budget=budget,
                           data_dir=tmp_path / "empty", steps=("train",))
    (note,) = data_notes(generated)
    assert "generated dataset" in note.text and "fetch-cifar" in note.text
    cache = tmp_path / "cache"
    fetch.fetch_cifar(str(_folder(tmp_path)), cache)
    real = prepare_q1(tmp_path / "b", config=Q1Config(device="cpu"), budget=budget,
                      data_dir=cache, steps=("train",))
    assert real.source == images.SOURCE_NAME and data_notes(real) == ()
