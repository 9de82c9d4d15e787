"""Intake: Gradescope exports (zip or folder), plain folders, notebook choice; progress bar."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import NamedTuple

import pytest

from autograder.grading import intake
from autograder.grading.intake import IntakeError, choose_notebook, collect

METADATA = """\
submission_1001:
  :submitters:
  - :name: Ada Lovelace
    :sid: '3031000001'
    :email: ada@berkeley.edu
  :created_at: 2025-02-14 23:58:01.123456000 -08:00
  :score: 0.0
submission_1002:
  :submitters:
  - :name: Alan Turing
    :sid: '3031000002'
    :email: alan@berkeley.edu
  :created_at: 2025-02-14 21:00:00.000000000 -08:00
submission_1003:
  :submitters:
  - :name: Grace Hopper
    :sid: '3031000003'
    :email: grace@berkeley.edu
submission_1004:
  :submitters:
  - :name: Emmy Noether
    :sid: '3031000004'
    :email: emmy@berkeley.edu
  - :name: Kurt Gödel
    :sid: '3031000005'
    :email: kurt@berkeley.edu
submission_1005:
  :submitters:
  - :name: Late Larry
    :sid: '3031000006'
    :email: larry@berkeley.edu
"""

# folder -> {relative path: content}; 1005 is in the metadata but has no folder.
FOLDERS = {
    "submission_1001": {"dis05.ipynb": "{}"},
    "submission_1002": {"attempt1.ipynb": "{}", "attempt2.ipynb": "{}"},  # two, none named right
    "submission_1003": {"notes.txt": "I ran out of time"},  # no notebook
    "submission_1004": {"my_work.ipynb": "{}", "helper.py": "x = 1"},  # notebook plus a .py
}


def build_export(root: Path) -> Path:
    """A Gradescope 'Export Submissions' folder: metadata plus one folder per submission."""
    root.mkdir(parents=True)
    (root / intake.METADATA_FILE).write_text(METADATA, encoding="utf-8")
    for folder, files in FOLDERS.items():
        for rel, content in files.items():
            (root / folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / folder / rel).write_text(content)
    return root


def zip_folder(folder: Path, archive: Path, *, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w") as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, prefix + p.relative_to(folder).as_posix())
    return archive


def by_name(subs):
    return {s.name: s for s in subs}


@pytest.mark.parametrize("form", ["folder", "nested folder", "zip", "nested zip"])
def test_a_gradescope_export_gives_one_submission_per_folder_with_identities(tmp_path, form):
    export = build_export(tmp_path / "export")
    if form == "nested folder":  # what unzipping into a folder of its own gives
        export.rename(tmp_path / "assignment_5_export")
        (tmp_path / "outer").mkdir()
        export = (tmp_path / "assignment_5_export").rename(tmp_path / "outer" / "assignment_5_export")
        export = export.parent
    elif form == "zip":
        export = zip_folder(export, tmp_path / "export.zip")
    elif form == "nested zip":
        export = zip_folder(export, tmp_path / "export.zip", prefix="assignment_5_export/")
    subs = by_name(collect([export], assignment="dis05.ipynb", extract_to=tmp_path / "x"))

    assert sorted(subs) == [f"submission_100{i}" for i in range(1, 6)]
    assert subs["submission_1001"].notebook.name == "dis05.ipynb"
    assert subs["submission_1001"].problem is None
    assert subs["submission_1002"].notebook is None
    assert subs["submission_1002"].problem.startswith("2 notebooks and none named dis05.ipynb")
    assert subs["submission_1003"].notebook is None
    assert subs["submission_1003"].problem == (
        "no .ipynb file in the submission (notes.txt)")
    assert subs["submission_1004"].notebook.name == "my_work.ipynb"
    assert subs["submission_1005"].notebook is None
    assert "no files submitted" in subs["submission_1005"].problem

    ada = subs["submission_1001"].student
    assert {k: ada[k] for k in intake.IDENTITY_FIELDS} == {
        "name": "Ada Lovelace", "email": "ada@berkeley.edu", "sid": "3031000001",
        "submission_id": "1001"}
    assert ada["created_at"].startswith("2025-02-14")
    group = subs["submission_1004"].student
    assert group["name"] == "Emmy Noether; Kurt Gödel"
    assert group["email"] == "emmy@berkeley.edu; kurt@berkeley.edu"
    assert [s["sid"] for s in group["submitters"]] == ["3031000004", "3031000005"]


class Choice(NamedTuple):
    files: tuple[str, ...]
    chosen: str | None
    problem: str | None


CHOICES = {
    "named like the assignment": Choice(("a.ipynb", "dis05.ipynb", "b.ipynb"), "dis05.ipynb", None),
    "the only notebook": Choice(("work.ipynb", "data.csv"), "work.ipynb", None),
    "the shallowest named one": Choice(("deep/dis05.ipynb", "dis05.ipynb"), "dis05.ipynb", None),
    "in a sub-folder": Choice(("hw/dis05 (1).ipynb",), "hw/dis05 (1).ipynb", None),
    "checkpoints are ignored": Choice((".ipynb_checkpoints/dis05-checkpoint.ipynb", "x.ipynb"),
                                      "x.ipynb", None),
    "macOS debris is ignored": Choice(("__MACOSX/._dis05.ipynb", "mine.ipynb"), "mine.ipynb", None),
    "three, none named": Choice(("a.ipynb", "b.ipynb", "c.ipynb"), None,
                                "3 notebooks and none named dis05.ipynb "
                                "(a.ipynb, b.ipynb, c.ipynb)"),
    "no notebook": Choice(("dis05.py",), None,
                          "no .ipynb file in the submission (dis05.py)"),
    "nothing at all": Choice((), None, "no files submitted"),
}


@pytest.mark.parametrize("case", CHOICES.values(), ids=CHOICES.keys())
def test_choose_notebook_like_gradescope(tmp_path, case):
    for rel in case.files:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    notebook, problem = choose_notebook(tmp_path, "dis05.ipynb")
    assert (notebook and notebook.relative_to(tmp_path).as_posix(), problem) == \
        (case.chosen, case.problem)


def test_plain_folders_files_and_subfolders(tmp_path):
    (tmp_path / "class" / "carol").mkdir(parents=True)
    (tmp_path / "class" / "alice.ipynb").write_text("{}")
    (tmp_path / "class" / "readme.txt").write_text("not a notebook")  # still a row
    (tmp_path / "class" / ".DS_Store").write_text("")
    (tmp_path / "class" / "carol" / "dis05.ipynb").write_text("{}")
    (tmp_path / "single").mkdir()
    (tmp_path / "single" / "alice.ipynb").write_text("{}")  # same stem as class/alice.ipynb
    subs = collect([tmp_path / "class", tmp_path / "single" / "alice.ipynb"],
                   assignment="dis05.ipynb", extract_to=tmp_path / "x")
    names = {s.name: s for s in subs}
    assert sorted(names) == ["carol", "class-alice", "readme", "single-alice"]
    assert names["carol"].notebook.name == "dis05.ipynb"
    assert names["readme"].notebook.name == "readme.txt" and names["readme"].problem is None
    assert len(subs) == 4 and all(s.student == {} for s in subs)


def test_a_submission_never_takes_the_output_folders_own_names(tmp_path):
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "history.ipynb").write_text("{}")  # OUT/history/ keeps earlier grades
    (tmp_path / "class" / ".cache.ipynb").write_text("{}")  # hidden: not a submission
    names = [s.name for s in collect([tmp_path / "class"], assignment="dis05.ipynb",
                                     extract_to=tmp_path / "x")]
    assert names == ["history-2"]


def test_a_missing_input_is_an_error_and_a_member_outside_the_archive_a_refused_row(tmp_path):
    with pytest.raises(IntakeError, match="no such submission"):
        collect([tmp_path / "nope"], assignment="dis05.ipynb", extract_to=tmp_path)
    bad = tmp_path / "export.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("../evil.ipynb", "{}")
    subs = collect([bad], assignment="dis05.ipynb", extract_to=tmp_path / "x")
    assert [s.problem for s in subs] == ["refused: member '../evil.ipynb' is not a plain path "
                                         "inside the archive"]
    assert not (tmp_path / "evil.ipynb").exists()


def test_content_hash_follows_the_notebook_bytes(tmp_path):
    nb = tmp_path / "a.ipynb"
    nb.write_text("{}")
    sub = intake.Submission("a", nb)
    before = sub.content_hash()
    nb.write_text('{"cells": []}')
    assert sub.content_hash() != before
