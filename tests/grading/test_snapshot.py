"""A rerun where nothing changed takes the last run's kept outcome (``grading/snapshot.py``,
issue 35): it writes and prints what a full rerun would, and anything the outcome depends on
(an input file, an output file, a setting, the kept files themselves) makes it a full run."""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from autograder import cli
from autograder.grading import classroom, session, snapshot
from benchmarks import bench_regrade as bench
from tests.conftest import BLANK, EXAMPLES, REFERENCE, ROOT

STUDENTS = 4


@pytest.fixture
def taken(monkeypatch) -> list[str]:
    """Records each class run that took a kept outcome (its OUT)."""
    calls: list[str] = []
    real = classroom._as_before

    def spy(job, kept, events, start):
        calls.append(str(job.out))
        return real(job, kept, events, start)

    monkeypatch.setattr(classroom, "_as_before", spy)
    return calls


def _request(folder: Path, out: Path, **settings) -> session.GradeRequest:
    return session.GradeRequest((folder,), out, **{"grade_q1": False, "overrides_file": "",
                                                   "jobs": 1, **settings})


@pytest.fixture
def graded(tmp_path, no_plots) -> tuple[Path, Path]:
    """A small class graded once (every notebook's run cached, so grading is checks only)."""
    folder, out = tmp_path / "class", tmp_path / "out"
    bench.make_class(folder, out, ROOT, STUDENTS)
    session.grade(_request(folder, out))
    assert (out / snapshot.FOLDER / snapshot.MANIFEST).is_file()
    return folder, out


def _touch(path: Path) -> None:
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def _foreign(out: Path, witness: Path) -> None:
    """A manifest that would make a folder if it were unpickled as plain pickle does."""
    class Evil:
        def __reduce__(self):
            return os.mkdir, (str(witness),)

    (out / snapshot.FOLDER / snapshot.MANIFEST).write_bytes(pickle.dumps(Evil()))


CHANGES = [  # (what changed, how, settings of the rerun)
    ("a notebook touched", lambda f, o, t: _touch(f / "student001.ipynb"), {}),
    ("a notebook added", lambda f, o, t: shutil.copy(f / "student001.ipynb", f / "new.ipynb"), {}),
    ("a notebook removed", lambda f, o, t: (f / "student001.ipynb").unlink(), {}),
    ("a feedback file edited",
     lambda f, o, t: (o / "student001" / "feedback.md").write_text("edited"), {}),
    ("a submission's folder deleted", lambda f, o, t: shutil.rmtree(o / "student002"), {}),
    ("grades.csv deleted", lambda f, o, t: (o / "grades.csv").unlink(), {}),
    ("another overrides file", lambda f, o, t: (t / "o.yaml").write_text("[]\n"),
     {"overrides_file": "o.yaml"}),
    ("another number of jobs", lambda f, o, t: None, {"jobs": 2}),
    ("--force", lambda f, o, t: None, {"force": True}),
    ("the manifest damaged", lambda f, o, t: (o / snapshot.FOLDER / snapshot.MANIFEST)
     .write_bytes((o / snapshot.FOLDER / snapshot.MANIFEST).read_bytes()[:100]), {}),
    ("the kept run replaced", lambda f, o, t: (o / snapshot.FOLDER / snapshot.RUN)
     .write_bytes(pickle.dumps(None)), {}),
    ("a foreign pickle", lambda f, o, t: _foreign(o, t / "witness"), {}),
]


def test_a_rerun_with_nothing_changed_takes_the_kept_outcome(graded, taken):
    folder, out = graded
    again = session.grade(_request(folder, out))
    assert taken == [str(out)]
    assert len(again.done.results) == STUDENTS and again.done.graded == []
    assert again.done.reused == sorted(again.done.reused) and len(again.done.reused) == STUDENTS


@pytest.mark.parametrize("label, change, settings", CHANGES, ids=[c[0] for c in CHANGES])
def test_any_change_it_depends_on_makes_a_full_run(graded, taken, tmp_path, monkeypatch,
                                                   label, change, settings):
    folder, out = graded
    monkeypatch.chdir(tmp_path)
    change(folder, out, tmp_path)
    again = session.grade(_request(folder, out, **settings))
    assert taken == [], label
    assert not (tmp_path / "witness").exists()  # the foreign pickle built nothing
    if label == "--force":
        assert len(again.done.graded) == STUDENTS
    # the full run keeps its outcome: the next plain rerun takes it
    session.grade(_request(folder, out, **{k: v for k, v in settings.items() if k != "force"}))
    assert taken == [str(out)], label


def test_a_snapshot_that_cannot_be_written_leaves_a_full_run(tmp_path, no_plots, taken):
    """A file where the kept outcome's folder goes: the run grades and writes as ever, keeps
    nothing, and the next run is a full one too."""
    folder, out = tmp_path / "class", tmp_path / "out"
    bench.make_class(folder, out, ROOT, STUDENTS)
    (out / snapshot.FOLDER).write_text("in the way")
    for _ in range(2):
        done = session.grade(_request(folder, out)).done
        assert len(done.results) == STUDENTS and (out / "grades.csv").is_file()
    assert taken == [] and (out / snapshot.FOLDER).read_text() == "in the way"


def test_an_edited_overrides_file_makes_a_full_run(graded, taken, tmp_path):
    folder, out = graded
    overrides = tmp_path / "o.yaml"
    overrides.write_text("[]\n")
    session.grade(_request(folder, out, overrides_file=str(overrides)))
    session.grade(_request(folder, out, overrides_file=str(overrides)))
    assert taken == [str(out)]
    overrides.write_text('- variable: q2a_out_dim\n  answer: "999"\n  credit: 1\n'
                         '  message: "Accepted."\n')
    session.grade(_request(folder, out, overrides_file=str(overrides)))
    assert taken == [str(out)]


def test_a_class_given_through_a_link_is_stamped_as_what_it_links_to(graded, taken, tmp_path):
    folder, out = graded
    link = tmp_path / "link"
    link.symlink_to(folder)
    session.grade(_request(link, out))
    session.grade(_request(link, out))
    assert taken == [str(out)]
    _touch(folder / "student001.ipynb")
    session.grade(_request(link, out))
    assert taken == [str(out)]


def test_another_grader_version_makes_a_full_run(graded, taken, monkeypatch):
    """The version (isolation gained, Q1's data) is known once the run is prepared."""
    folder, out = graded
    real = classroom.grader_version
    monkeypatch.setattr(classroom, "grader_version", lambda run: real(run) + "other")
    again = session.grade(_request(folder, out))
    assert taken == [] and len(again.done.graded) == STUDENTS


def test_a_racy_file_is_compared_by_its_content(tmp_path):
    """A file changed within the clock's tick of its stamp keeps its stamp: its hash decides."""
    notebook = tmp_path / "a.ipynb"
    notebook.write_text("{}")
    stamps = snapshot.input_stamps([tmp_path])
    assert [s.digest for s in stamps if s.path.endswith("a.ipynb")] == \
        [hashlib.sha256(b"{}").hexdigest()]
    assert snapshot.inputs_unchanged(stamps, [tmp_path])
    other = tuple(replace(s, digest=hashlib.sha256(b"[]").hexdigest()) if s.digest else s
                  for s in stamps)
    assert not snapshot.inputs_unchanged(other, [tmp_path])


NORMALISED = [(re.compile(r"in \d+\.\d s"), "in N s"),  # the run's seconds (CLI, report)
              (re.compile(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d"), "Generated T"),
              (re.compile(r"\(\d+\.\d\d s of wall time"), "(N s of wall time")]


def _normalised(text: str) -> str:
    for pattern, fixed in NORMALISED:
        text = pattern.sub(fixed, text)
    return text


def _outputs(out: Path) -> dict[str, str]:
    """OUT's files (not its caches) as text, normalised."""
    return {str(p.relative_to(out)): _normalised(p.read_bytes().decode("utf-8", "replace"))
            for p in sorted(out.rglob("*"))
            if p.is_file() and p.relative_to(out).parts[0] not in snapshot.UNSTAMPED}


OVERRIDE = """- variable: q2a_first
  answer: "k1*x3 + k2*x2 + k3*x1"
  credit: 1
  message: "Accepted after review."
"""


@pytest.mark.slow  # runs the bundled examples' notebooks once
def test_the_kept_outcome_writes_and_prints_what_a_full_rerun_does(tmp_path, no_plots, taken,
                                                                   capsys):
    """The bundled examples (an invalid file, a crash, an exit midway, the blank and the
    reference notebooks), regraded after an override changed a score: OUT and the CLI's output
    after the kept rerun are those after a full rerun, byte for byte but for the run's seconds
    and the report's time."""
    out, overrides = tmp_path / "out", tmp_path / "overrides.yaml"
    overrides.write_text("[]\n")
    arguments = ["grade", str(REFERENCE), str(BLANK), str(EXAMPLES), "--out", str(out),
                 "--no-q1", "--jobs", "2", "--overrides", str(overrides)]
    assert cli.main(arguments) == 0
    overrides.write_text(OVERRIDE)
    assert cli.main(arguments) == 0
    assert "alice-flipped-kernel" in capsys.readouterr().out  # the regrade diff names her
    assert (out / "changes.csv").read_text().count("\n") > 1

    assert cli.main(arguments) == 0
    assert taken == [str(out)]
    kept_printed, kept_files = _normalised(capsys.readouterr().out), _outputs(out)

    shutil.rmtree(out / snapshot.FOLDER)  # the same rerun, in full
    assert cli.main(arguments) == 0
    assert taken == [str(out)]
    full_printed, full_files = _normalised(capsys.readouterr().out), _outputs(out)

    assert "(0 graded" in kept_printed and "not ok" in kept_printed
    assert "no score changes" in kept_printed
    assert kept_printed == full_printed
    assert kept_files.keys() == full_files.keys()
    for name in full_files:
        assert kept_files[name] == full_files[name], name
