"""Class runs: a Gradescope export end to end, resuming, FORCE, dying workers, the CSVs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from autograder import report
from autograder.grading import classroom, pipeline
from autograder.report.results import CheckResult, QuestionResult, SubmissionResult
from benchmarks import bench_regrade as bench
from tests.conftest import BLANK, REFERENCE, ROOT, read_csv
from tests.grading.test_intake import build_export, zip_folder


@pytest.mark.slow
def test_grading_a_gradescope_export_zip(tmp_path, q2_run):
    export = build_export(tmp_path / "export")
    shutil.copy(REFERENCE, export / "submission_1001" / "dis05.ipynb")
    shutil.copy(BLANK, export / "submission_1004" / "my_work.ipynb")
    archive = zip_folder(export, tmp_path / "export.zip", prefix="assignment_5_export/")
    out = tmp_path / "out"

    done = classroom.grade_class(classroom.ClassJob([archive], out, q2_run, jobs=2))

    rows = {r["submission"]: r for r in read_csv(out / "grades.csv")}
    assert list(read_csv(out / "grades.csv")[0]) == [
        "submission", "total", "max_total", *[q.id for q in q2_run.questions], "status",
        "name", "email", "sid", "submission_id"]
    assert sorted(rows) == [f"submission_100{i}" for i in range(1, 6)]
    full = rows["submission_1001"]
    q2_total = f"{sum(q.points for q in q2_run.questions):g}"
    assert (full["total"], full["max_total"], full["status"]) == (q2_total, q2_total, "ok")
    assert (full["name"], full["email"], full["sid"], full["submission_id"]) == (
        "Ada Lovelace", "ada@berkeley.edu", "3031000001", "1001")
    assert rows["submission_1002"]["status"].startswith(
        "invalid notebook: 2 notebooks and none named dis05.ipynb")
    assert rows["submission_1003"]["status"].startswith("invalid notebook: no .ipynb file")
    assert rows["submission_1004"]["status"] == "ok" and rows["submission_1004"]["total"] == "0"
    assert rows["submission_1004"]["name"] == "Emmy Noether; Kurt Gödel"
    assert "no files submitted" in rows["submission_1005"]["status"]
    assert all(rows[n]["total"] == "0" for n in ("submission_1002", "submission_1003"))

    gradebook = read_csv(out / "gradebook.csv")
    assert {r["Email"]: r["Total Score"] for r in gradebook} == {
        "ada@berkeley.edu": q2_total, "alan@berkeley.edu": "0", "grace@berkeley.edu": "0",
        "emmy@berkeley.edu": "0", "kurt@berkeley.edu": "0", "larry@berkeley.edu": "0"}
    for name in rows:  # every submission: feedback a TA can send, Gradescope's JSON, a record
        assert {"feedback.md", "results.json", "checks.json"} <= {p.name for p in (out / name).iterdir()}
    assert "not valid" not in (out / "submission_1002" / "feedback.md").read_text()
    assert "2 notebooks" in (out / "submission_1002" / "feedback.md").read_text()
    assert (out / "report.html").stat().st_size > 10_000
    assert sorted(done.graded) == sorted(rows) and done.reused == []

    # unchanged: nothing regraded
    again = classroom.grade_class(classroom.ClassJob([archive], out, q2_run, jobs=2))
    assert again.graded == [] and sorted(again.reused) == sorted(rows)
    assert {r["submission"]: r["total"] for r in read_csv(out / "grades.csv")} == \
        {n: r["total"] for n, r in rows.items()}


# --- resuming, with a counting stand-in for the grader (no notebooks run) ----------------------


def fake_result(name: str, run: pipeline.Run, score_share: float = 1.0) -> SubmissionResult:
    result = SubmissionResult(name, "ok", seconds=0.5)
    for q in run.questions:
        result.questions.append(QuestionResult(q.id, q.title, [
            CheckResult(v.name, v.points * score_share, v.points, "fine", stage="exact")
            for v in q.variables]))
    return result


@pytest.fixture
def counting_grader(monkeypatch, no_plots):
    """Replace the grading of one notebook with a counter; jobs=1 runs it in this process.
    (``no_plots``: stand-in plots, as these tests are about which submissions are graded.)"""
    calls: list[str] = []

    def grade(sub, run):
        calls.append(sub.name)
        if sub.notebook.read_text() == "interrupt":
            raise KeyboardInterrupt
        return fake_result(sub.name, run)

    monkeypatch.setattr(classroom, "_grade_one", grade)
    return calls


def make_class(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"student{i}.ipynb").write_text(f"notebook {i}")
    return folder


def test_rerun_grades_only_missing_or_changed_submissions(tmp_path, q2_run, counting_grader):
    subs, out = make_class(tmp_path / "class", 4), tmp_path / "out"
    classroom.grade_class(classroom.ClassJob([subs], out, q2_run, jobs=1))
    assert sorted(counting_grader) == [f"student{i}" for i in range(4)]

    counting_grader.clear()
    shutil.rmtree(out / "student1")  # a lost result
    (subs / "student2.ipynb").write_text("resubmitted")  # a changed notebook
    (subs / "student9.ipynb").write_text("late")  # a new one
    done = classroom.grade_class(classroom.ClassJob([subs], out, q2_run, jobs=1))
    assert sorted(counting_grader) == ["student1", "student2", "student9"]
    assert sorted(done.reused) == ["student0", "student3"]
    assert len(read_csv(out / "grades.csv")) == 5

    counting_grader.clear()
    classroom.grade_class(classroom.ClassJob([subs], out, q2_run, jobs=1, force=True))
    assert sorted(counting_grader) == ["student0", "student1", "student2", "student3", "student9"]


def test_an_interrupted_run_keeps_what_was_graded(tmp_path, q2_run, counting_grader):
    subs, out = make_class(tmp_path / "class", 4), tmp_path / "out"
    (subs / "student2.ipynb").write_text("interrupt")  # Ctrl-C arrives while grading this one
    with pytest.raises(KeyboardInterrupt):
        classroom.grade_class(classroom.ClassJob([subs], out, q2_run, jobs=1))
    assert counting_grader == ["student0", "student1", "student2"]
    assert [r["submission"] for r in read_csv(out / "grades.csv")] == ["student0", "student1"]

    counting_grader.clear()
    (subs / "student2.ipynb").write_text("notebook 2")
    classroom.grade_class(classroom.ClassJob([subs], out, q2_run, jobs=1))
    assert counting_grader == ["student2", "student3"]
    assert len(read_csv(out / "grades.csv")) == 4


def test_a_grader_change_regrades_everything(tmp_path, q2_run, counting_grader):
    subs, out = make_class(tmp_path / "class", 2), tmp_path / "out"
    classroom.grade_class(classroom.ClassJob([subs], out, q2_run, jobs=1))
    counting_grader.clear()
    longer = replace(q2_run, limits=replace(q2_run.limits, timeout=q2_run.limits.timeout + 1))
    assert classroom.grader_version(longer) != classroom.grader_version(q2_run)
    classroom.grade_class(classroom.ClassJob([subs], out, longer, jobs=1))
    assert sorted(counting_grader) == ["student0", "student1"]


def test_new_identities_are_kept_without_regrading(tmp_path, q2_run, counting_grader):
    export = build_export(tmp_path / "export")
    out = tmp_path / "out"
    classroom.grade_class(classroom.ClassJob([export], out, q2_run, jobs=1))
    assert counting_grader == ["submission_1001", "submission_1004"]
    counting_grader.clear()
    meta = export / "submission_metadata.yml"
    meta.write_text(meta.read_text().replace("Ada Lovelace", "Ada King"), encoding="utf-8")
    classroom.grade_class(classroom.ClassJob([export], out, q2_run, jobs=1))
    assert counting_grader == []
    names = {r["submission"]: r["name"] for r in read_csv(out / "grades.csv")}
    assert names["submission_1001"] == "Ada King"


def test_a_dying_worker_costs_only_its_own_submission(tmp_path, q2_run, monkeypatch, no_plots):
    def grade(sub, run):
        if sub.notebook.read_text() == "die":
            os._exit(3)  # the grading process itself dies (e.g. killed for memory)
        return fake_result(sub.name, run)

    monkeypatch.setattr(classroom, "_grade_one", grade)
    subs, out = make_class(tmp_path / "class", 5), tmp_path / "out"
    (subs / "student1.ipynb").write_text("die")
    done = classroom.grade_class(classroom.ClassJob([subs], out, q2_run, jobs=2))
    statuses = {r.submission: r.status for r in done.results}
    assert statuses == {"student0": "ok", "student1": "grader error", "student2": "ok",
                        "student3": "ok", "student4": "ok"}
    assert "died" in report.read_record(out / "student1" / "checks.json")["result"].log


def test_records_round_trip(tmp_path, q2_run):
    result = fake_result("alice", q2_run, 0.5)
    result.questions[0].checks[0].mistake = "flipped-kernel"
    folder = report.write_submission(tmp_path, result)
    report.write_record(folder, result, key="k", student={"name": "Alice"})
    back = report.read_record(folder / "checks.json")
    assert back["key"] == "k" and back["student"] == {"name": "Alice"}
    assert back["result"] == result


class _Heard(classroom.Events):
    def __init__(self) -> None:
        self.heard: list = []

    def started(self, total: int, to_grade: int) -> None:
        self.heard.append(("started", total, to_grade))

    def result(self, result, reused: bool) -> None:
        self.heard.append(("result", result.submission, reused))


def test_a_class_run_is_one_value_and_tells_its_events(tmp_path, q2_run):
    """What a caller hears: the counts, then each result once it is recorded (its files are in
    OUT by then), reused ones marked."""
    from tests.after_grading_fixtures import cached_class

    out = tmp_path / "out"
    notebooks = cached_class(tmp_path / "class", out, {"ann": {"q2a_out_dim": 7}, "bo": {}},
                             q2_run)
    job = classroom.ClassJob(notebooks, out, q2_run, jobs=1)

    class Checked(_Heard):
        def result(self, result, reused: bool) -> None:
            assert (out / result.submission / report.RECORD_FILE).is_file()
            super().result(result, reused)

    first, again = Checked(), _Heard()
    classroom.grade_class(job, first)
    classroom.grade_class(job, again)
    assert first.heard == [("started", 2, 2), ("result", "ann", False), ("result", "bo", False)]
    assert again.heard == [("started", 2, 0), ("result", "ann", True), ("result", "bo", True)]


def test_a_class_whose_started_names_overfill_a_pipe_is_graded(tmp_path):
    """Each worker tells the parent the name of each submission it starts (to find the one a
    dying worker was grading) through a pipe: unread until the pool ended, more than a pipe's
    64 KiB of names (a 10,000-student class; here 400 long names) blocked every worker."""
    folder, out, n = tmp_path / "class", tmp_path / "out", 400
    bench.make_class(folder, out, ROOT, n)
    for i, path in enumerate(sorted(folder.iterdir())):  # the cache is keyed by the bytes
        path.rename(folder / f"{i:03d}{'x' * 200}.ipynb")
    assert n * 200 > 64 * 1024
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(folder), "--out",
                           str(out), "--no-q1", "--jobs", "2", "--overrides", ""], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{n} submissions ({n} graded, of which {n} from cached runs" in done.stdout
