"""Hostile exports (issue 30): every file gets its own row, nothing outside its entry is read."""

from __future__ import annotations

import io
import os
import struct
import zipfile
from pathlib import Path

import pytest

from autograder.grading.intake import collect
from autograder.settings.intake import Intake

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "solutions" / "dis05.ipynb"
CANARY = "canary-7f3e9b1c-not-a-submission"
HONEST = ["alice", "bob"]


def _link(target):
    return lambda entry, ctx: os.symlink(target(ctx) if callable(target) else target, entry)


def _fifo(entry, ctx):
    os.mkfifo(entry)


def _hard(entry, ctx):
    os.link(ctx["canary"], entry)


def _chain(entry, ctx):
    middle = entry.parent / ".middle.ipynb"
    os.symlink(ctx["canary"], middle)
    os.symlink(middle, entry)


def _loop(entry, ctx):
    entry.mkdir()
    os.symlink(entry, entry / "again")
    os.symlink(ctx["canary"], entry / "dis05.ipynb")


def _bytes(data: bytes):
    return lambda entry, ctx: entry.write_bytes(data)


def _big(entry, ctx):
    with open(entry, "wb") as f:  # sparse: 200 MB on paper, nothing on disk
        f.truncate(200 << 20)


# entry name, how to make it, the row's problem (a prefix)
FOLDER_CASES = [
    ("to_classmate.ipynb", _link(lambda ctx: ctx["alice"]), "refused: symbolic link"),
    ("to_solutions.ipynb", _link(REFERENCE), "refused: symbolic link"),
    ("to_passwd.ipynb", _link("/etc/passwd"), "refused: symbolic link"),
    ("to_canary.ipynb", _link(lambda ctx: ctx["canary"]), "refused: symbolic link"),
    ("chain.ipynb", _chain, "refused: symbolic link"),
    ("dangling.ipynb", _link("/nonexistent/x.ipynb"), "refused: symbolic link"),
    ("hard.ipynb", _hard, "refused: hard link"),
    ("fifo.ipynb", _fifo, "refused: not a regular file"),
    ("device.ipynb", _link("/dev/zero"), "refused: symbolic link"),
    ("loop", _loop, "refused: symbolic link"),
    ("empty.ipynb", _bytes(b""), "invalid notebook: empty file"),
    ("latin1.ipynb", _bytes(b'{"cells": "\xff\xfe"}'), "invalid notebook: not UTF-8"),
    ("surrogate.ipynb", _bytes(b'{"cells": [], "x": "\\ud800"}'), "invalid notebook: holds a lone"),
    ("huge.ipynb", _big, "refused: larger than"),
]


@pytest.fixture
def hostile(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    canary = outside / "secret.ipynb"
    canary.write_text(f'{{"cells": [], "secret": "{CANARY}"}}')
    folder = tmp_path / "class"
    folder.mkdir()
    ctx = {"canary": canary}
    for name in HONEST:
        (folder / f"{name}.ipynb").write_bytes(REFERENCE.read_bytes())
        ctx[name] = folder / f"{name}.ipynb"
    for name, make, _ in FOLDER_CASES:
        make(folder / name, ctx)
    return folder, tmp_path


def test_every_hostile_file_in_a_folder_has_its_refused_row_and_honest_ones_are_copied(hostile):
    folder, tmp_path = hostile
    work = tmp_path / "work"
    subs = {s.name: s for s in collect([folder], assignment="dis05.ipynb", extract_to=work)}
    assert FOLDER_CASES
    for name, _, problem in FOLDER_CASES:
        sub = subs[Path(name).stem]
        assert sub.notebook is None and sub.problem.startswith(problem), (name, sub.problem)
    for name in HONEST:
        sub = subs[name]
        assert sub.problem is None and work in sub.notebook.parents
        assert sub.notebook.read_bytes() == REFERENCE.read_bytes()
    assert len(subs) == len(FOLDER_CASES) + len(HONEST)
    copied = [p for p in work.rglob("*") if p.is_file()]
    assert copied and not any(CANARY in p.read_text(errors="replace") for p in copied)


def test_a_link_in_a_submission_folder_is_refused_not_followed(hostile):
    folder, tmp_path = hostile
    sub_dir = folder / "carol"
    sub_dir.mkdir()
    os.symlink(tmp_path / "outside" / "secret.ipynb", sub_dir / "dis05.ipynb")
    [carol] = [s for s in collect([folder], assignment="dis05.ipynb", extract_to=tmp_path / "w")
               if s.name == "carol"]
    assert carol.problem == "refused: symbolic link"


def _export(path: Path, members: dict[str, bytes], symlinks: tuple = ()) -> Path:
    meta = "".join(f"submission_{i}:\n  :submitters:\n  - :name: S{i}\n" for i in (1, 2))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("submission_metadata.yml", meta)
        for name, data in members.items():
            z.writestr(name, data)
        for name, target in symlinks:
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)
            z.writestr(info, target)
    return path


ARCHIVE_CASES = [
    ("../x.ipynb", "refused: member '../x.ipynb' is not a plain path"),
    ("/abs.ipynb", "refused: member '/abs.ipynb' is not a plain path"),
    ("submission_2/../submission_1/dis05.ipynb", "refused: member 'submission_2/../"),
    ("submission_2\\..\\submission_1\\dis05.ipynb", "refused: member 'submission_2\\"),
    ("C:/x.ipynb", "refused: member 'C:/x.ipynb' is not a plain path"),
    ("a/" * 20 + "deep.ipynb", "refused: deeper than"),
]


def test_a_bad_member_is_refused_alone_and_the_export_is_graded(tmp_path):
    reference = REFERENCE.read_bytes()
    members = {"submission_1/dis05.ipynb": reference, "submission_2/dis05.ipynb": reference,
               "submission_2/inner.zip": _nested_zip()}
    members.update({name: b"{}" for name, _ in ARCHIVE_CASES})
    export = _export(tmp_path / "export.zip", members,
                     [("submission_3/dis05.ipynb", "/etc/passwd")])
    subs = collect([export], assignment="dis05.ipynb", extract_to=tmp_path / "work")
    problems = [s.problem for s in subs if s.problem]
    assert ARCHIVE_CASES
    for _, problem in ARCHIVE_CASES:
        assert sum(p.startswith(problem) for p in problems) == 1, (problem, problems)
    assert "refused: symbolic link" in problems
    honest = {s.name: s for s in subs if s.name in ("submission_1", "submission_2")}
    assert all(s.problem is None and s.notebook.read_bytes() == reference
               for s in honest.values()) and len(honest) == 2
    assert not (tmp_path / "x.ipynb").exists() and not Path("/abs.ipynb").exists()


def _nested_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("submission_1/dis05.ipynb", b'{"cells": []}')
    return buf.getvalue()


def test_a_zip_bomb_is_refused_by_bytes_written_and_its_neighbour_graded(tmp_path):
    limits = Intake(unpacked_mb=2, member_mb=1)
    bomb = b"\0" * (3 << 20)  # deflates to a few KB
    export = _export(tmp_path / "bomb.zip", {"submission_1/dis05.ipynb": REFERENCE.read_bytes(),
                                             "submission_2/dis05.ipynb": bomb})
    subs = {s.name: s for s in collect(
        [export], assignment="dis05.ipynb", extract_to=tmp_path / "work", limits=limits)}
    assert subs.keys() == {"submission_1", "submission_2"}  # the bomb's row is its owner's
    assert subs["submission_2"].problem == "refused: unpacks past 1 MB"
    assert subs["submission_1"].problem is None
    written = sum(p.stat().st_size for p in (tmp_path / "work").rglob("*") if p.is_file())
    assert written < 1 << 20


def test_a_zip_whose_headers_lie_about_sizes_is_still_capped(tmp_path):
    limits = Intake(unpacked_mb=1, member_mb=1)
    path = _export(tmp_path / "liar.zip", {"submission_1/dis05.ipynb": b"\0" * (2 << 20)})
    raw = bytearray(path.read_bytes())
    # rewrite the declared uncompressed size (central directory) to 10 bytes
    at = raw.rfind(b"PK\x01\x02")
    struct.pack_into("<I", raw, at + 24, 10)
    path.write_bytes(bytes(raw))
    subs = collect([path], assignment="dis05.ipynb", extract_to=tmp_path / "work", limits=limits)
    problems = [s.problem for s in subs]
    assert any(p and p.startswith("refused:") for p in problems), problems
    # may be empty: the refused member leaves nothing on disk, which is what is asked
    assert not any(p.stat().st_size > 1 << 20 for p in (tmp_path / "work").rglob("*") if p.is_file())


@pytest.mark.slow
def test_a_hostile_class_is_graded_whole_and_nothing_outside_is_read(hostile):
    from tests.conftest import read_csv, run_cli

    folder, tmp_path = hostile
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = run_cli("grade", str(folder), "--out", str(out), "--no-q1", "--jobs", "2", env=env)
    rows = {r["submission"]: r for r in read_csv(out / "grades.csv")}
    assert len(rows) == len(FOLDER_CASES) + len(HONEST)
    for name in HONEST:  # Q2 only: the reference scores every mark
        assert rows[name]["status"] == "ok" and rows[name]["total"] == rows[name]["max_total"]
    for name, _, problem in FOLDER_CASES:
        assert rows[Path(name).stem]["status"].startswith(problem), rows[Path(name).stem]
    refused = sum(p.startswith("refused") for _, _, p in FOLDER_CASES)
    assert f"{refused} refused: " in proc.stdout
    assert "id='refused'" in (out / "report.html").read_text()
    written = [p for p in out.rglob("*") if p.is_file()]
    assert written and not any(CANARY in p.read_text(errors="replace") for p in written)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, "out"])
    assert (tmp_path / "outside" / "secret.ipynb").read_text().count(CANARY) == 1


@pytest.mark.parametrize("data, problem", [
    (b'{"x": "\\ud800"}', "invalid notebook: holds a lone surrogate"),
    (b'{"x": "\\uDBFF tail"}', "invalid notebook: holds a lone surrogate"),
    (b'{"x": "\\udfff"}', "invalid notebook: holds a lone surrogate"),
    (b'{"x": "\\ud83d\\ude00"}', None),  # a pair: an emoji, written as escapes
    (b'{"x": "\\\\ud800 written as text"}', None),  # an escaped backslash, then letters
    (b'{"x": "\\u00e9t\\u00e9"}', None),
])
def test_only_lone_surrogate_escapes_make_a_notebook_invalid(data, problem):
    from autograder.grading.intake import _unreadable

    found = _unreadable(data)
    assert (found is None) if problem is None else found.startswith(problem)
