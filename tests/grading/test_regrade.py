"""Regrading a class: the execution cache, the regrade diff (and its reasons), the history of
earlier grades, dry runs, and the Gradescope entry point with an overrides file."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from autograder import cli, worksheet
from autograder.execution import cache as execution_cache
from autograder.execution.execute import Execution
from autograder.grading import classroom, pipeline
from autograder.report import answer_groups, record_keys
from autograder.settings.q1 import BUDGETS
from autograder.checks import overrides
from autograder.worksheet import mistakes
from tests.after_grading_fixtures import ROOT, cached_class
from tests.conftest import read_csv

CLASS = {
    "ada": {"q2a_out_dim": 7, "q2a_first": "k1*x1 + k2*x2 + k3*x3", "q2a_last": "k1*x7 + k2*x8"},
    "bob": {"q2a_out_dim": 7, "q2a_first": "k1*x1 + k2*x2", "q2a_last": "k1*x7 + k2*x8 + k3*x9"},
    "cy": {"q2a_out_dim": 5, "q2a_first": "x2*k2 + x1*k1", "q2a_last": "k1*x7 + k2*x8 + k3*x9"},
    "dee": {"q2a_out_dim": 7, "q2a_first": "k1*x1 + k2*x2 + k3*x3"},
}
OVERRIDE = """\
- variable: q2a_first
  answer: "k1*x1 + k2*x2"
  credit: 0.5
  message: "Half: one term is missing."
"""


pytestmark = pytest.mark.usefixtures("no_plots")  # conftest.py: the plots are tested elsewhere


@pytest.fixture
def graded(tmp_path, monkeypatch):
    """A class whose notebooks ran before (cached): grading it only checks. Running a notebook
    fails the test."""
    monkeypatch.setattr(pipeline, "_execute", _no_execution)
    monkeypatch.setattr(pipeline, "_MEMO", {})
    run = pipeline.prepare_run(grade_q1=False)
    out = tmp_path / "out"
    notebooks = cached_class(tmp_path / "class", out, CLASS, run)
    first = classroom.grade_class(classroom.ClassJob(notebooks, out, run, jobs=1))
    assert sorted(first.checked_only) == sorted(CLASS) and first.changes == []
    return SimpleNamespace(run=run, out=out, notebooks=notebooks, first=first, tmp=tmp_path)


def _no_execution(path, run):
    raise AssertionError(f"{path.name} was run again; its cached execution should be used")


def scores(out: Path) -> dict[str, str]:
    return {r["submission"]: r["q2a"] for r in read_csv(out / "grades.csv")}


def test_an_override_changes_exactly_its_group_and_says_why(graded):
    entries, _ = overrides.parse(OVERRIDE)
    run = dataclasses.replace(graded.run, overrides=overrides.Overrides(entries, text=OVERRIDE))
    before = scores(graded.out)
    done = classroom.grade_class(classroom.ClassJob(graded.notebooks, graded.out, run, jobs=1))
    assert [(c.submission, c.question, c.old, c.new) for c in done.changes] == \
           [("bob", "q2a", 2.0, 2.5), ("cy", "q2a", 1.0, 1.5)]  # cy wrote it another way
    assert all("q2a_first: override overrides.yaml:1" in c.why for c in done.changes)
    assert [r["submission"] for r in read_csv(graded.out / "changes.csv")] == ["bob", "cy"]
    assert scores(graded.out) == {**before, "bob": "2.5", "cy": "1.5"}
    # the earlier grades are kept, not overwritten
    [kept] = list((graded.out / "history").iterdir())
    assert {r["submission"]: r["q2a"] for r in read_csv(kept / "grades.csv")} == before
    assert json.loads((kept / "bob" / "checks.json").read_text())["result"]["questions"]
    assert done.override_problems == []


def test_an_edited_override_message_alone_is_shown_in_the_diff(graded, capsys):
    entries, _ = overrides.parse(OVERRIDE)
    run = dataclasses.replace(graded.run, overrides=overrides.Overrides(entries, text=OVERRIDE))
    classroom.grade_class(classroom.ClassJob(graded.notebooks, graded.out, run, jobs=1))
    edited = OVERRIDE.replace("Half: one term is missing.", "Half: the k3*x3 term is missing.")
    entries, _ = overrides.parse(edited)
    run = dataclasses.replace(graded.run, overrides=overrides.Overrides(entries, text=edited))
    done = classroom.grade_class(classroom.ClassJob(graded.notebooks, graded.out, run, jobs=1))
    assert [(c.submission, c.old, c.new, c.why) for c in done.changes] == \
           [(name, old, old, "q2a_first: message only (override overrides.yaml:1)")
            for name, old in (("bob", 2.5), ("cy", 1.5))]
    assert [(r["submission"], r["old"], r["new"]) for r in read_csv(graded.out / "changes.csv")] \
        == [("bob", "2.5", "2.5"), ("cy", "1.5", "1.5")]
    from autograder.report import regrade_diff
    regrade_diff.print_changes(done.changes)
    assert "0 question score(s) and 2 message(s) only change" in capsys.readouterr().out


def test_a_catalogue_edit_gives_a_row_naming_the_entry(graded, monkeypatch):
    added = mistakes.Mistake("q2a_out_dim", 5, "two-off", "Off by two.", 0.25)
    monkeypatch.setattr(mistakes, "CATALOGUE", mistakes.CATALOGUE + (added,))
    done = classroom.grade_class(classroom.ClassJob(graded.notebooks, graded.out, graded.run,
                                                    jobs=1, force=True))
    [change] = done.changes
    assert (change.submission, change.question, change.old, change.new) == ("cy", "q2a", 1.0, 1.25)
    assert change.why == "q2a_out_dim: catalogue entry two-off"
    assert sorted(done.checked_only) == sorted(CLASS)  # no notebook ran


def test_a_points_change_gives_a_row_per_submission_that_scores_on_it(graded):
    questions = tuple(
        dataclasses.replace(q, variables=tuple(dataclasses.replace(v, points=2) if
                                               v.name == "q2a_out_dim" else v
                                               for v in q.variables))
        for q in graded.run.questions)
    run = dataclasses.replace(graded.run, questions=questions)
    # new key: regraded
    done = classroom.grade_class(classroom.ClassJob(graded.notebooks, graded.out, run, jobs=1))
    assert {(c.submission, c.old, c.new) for c in done.changes} == \
           {("ada", 2.0, 3.0), ("bob", 2.0, 3.0), ("dee", 2.0, 3.0)}
    assert all(c.why == "q2a_out_dim: points 1 -> 2" for c in done.changes)


def test_a_dry_run_shows_the_diff_and_writes_nothing(graded, capsys):
    entries, _ = overrides.parse(OVERRIDE)
    run = dataclasses.replace(graded.run, overrides=overrides.Overrides(entries, text=OVERRIDE))
    before = {p: p.read_bytes() for p in graded.out.rglob("*") if p.is_file()}
    done = classroom.grade_class(classroom.ClassJob(graded.notebooks, graded.out, run, jobs=1,
                                                    dry_run=True))
    assert [c.submission for c in done.changes] == ["bob", "cy"]
    after = {p: p.read_bytes() for p in graded.out.rglob("*") if p.is_file()}
    assert after == before


def test_an_unchanged_rerun_reuses_results_and_reports_no_change(graded):
    done = classroom.grade_class(classroom.ClassJob(graded.notebooks, graded.out, graded.run,
                                                    jobs=1))
    assert sorted(done.reused) == sorted(CLASS) and done.changes == []
    assert not (graded.out / "history").exists()


def test_the_class_outputs_include_groups_review_and_the_report_sections(graded):
    out = graded.out
    groups = read_csv(out / "answer_groups.csv")
    first = [g for g in groups if g["variable"] == "q2a_first"]
    assert [(g["verdict"], g["size"]) for g in first] == [("unrecognised wrong", "2"),
                                                        ("right", "2")]
    assert read_csv(out / "review.csv") == []
    page = (out / "report.html").read_text()
    for section in ("Answer groups", "Review queue"):
        assert f"<h2>{section}</h2>" in page
    assert "id='groups-q2a'" in page and "variable: q2a_first" in page


def test_an_override_matching_nobody_is_reported_after_the_run(graded):
    text = OVERRIDE.replace("k1*x1 + k2*x2", "k3*x3")
    entries, _ = overrides.parse(text)
    run = dataclasses.replace(graded.run, overrides=overrides.Overrides(entries, text=text))
    done = classroom.grade_class(classroom.ClassJob(graded.notebooks, graded.out, run, jobs=1))
    assert [(p.line, "matches nobody" in p.message) for p in done.override_problems] == [(1, True)]
    assert "matches nobody" in (graded.out / "report.html").read_text()


# --- the execution cache ---------------------------------------------------------------------

def fake_q1(budget):
    return SimpleNamespace(dataset="synthetic", profile="cpu", device="cpu", budget=budget,
                           config="recipe", translate_cases=(("a", 1, 0),), steps=("train",))


def test_the_execution_fingerprint_ignores_checks_and_follows_what_affects_running():
    run = pipeline.prepare_run(grade_q1=False)
    base = execution_cache.execution_fingerprint(run)
    entries, _ = overrides.parse(OVERRIDE)
    same = [dataclasses.replace(run, overrides=overrides.Overrides(entries, text=OVERRIDE)),
            dataclasses.replace(run, questions=tuple(
                dataclasses.replace(q, title=q.title + "!") for q in run.questions))]
    assert all(execution_cache.execution_fingerprint(r) == base for r in same)
    changed = [dataclasses.replace(run, limits=dataclasses.replace(run.limits, timeout=301)),
               dataclasses.replace(run, limits=dataclasses.replace(run.limits, memory_mb=2048)),
               dataclasses.replace(run, questions=worksheet.QUESTIONS)]
    assert len({base, *map(execution_cache.execution_fingerprint, changed)}) == 4
    budget = BUDGETS[("cifar10", "cpu")]
    with_q1 = dataclasses.replace(run, q1=fake_q1(budget))
    more_epochs = dataclasses.replace(run, q1=fake_q1(dataclasses.replace(budget,
                                                                          epochs=budget.epochs + 1)))
    assert len({execution_cache.execution_fingerprint(r) for r in (run, with_q1, more_epochs)}) == 3


def test_check_only_modules_are_outside_the_fingerprint_and_execution_modules_inside():
    sources = execution_cache.execution_sources()
    assert sources
    assert all(path == ROOT / "autograder" / name for name, path in sources.items())
    names = set(sources)
    assert {"execution/sandbox.py", "execution/runner.py", "execution/execute.py",
            "answers/__init__.py", "q1/probe.py"} <= names
    assert not names & {"worksheet/mistakes.py", "worksheet/__init__.py", "checks/overrides.py",
                        "checks/formula.py", "checks/q1.py"}


def test_the_cache_is_used_when_only_checks_change_and_not_when_limits_change(tmp_path,
                                                                              monkeypatch):
    calls = []

    def execute(path, run):
        calls.append((path.name, run.limits.timeout))
        return Execution("ok", {"q2a_out_dim": {"t": "int", "v": "7"}}, "", 0.5)

    monkeypatch.setattr(pipeline, "_execute", execute)
    run = pipeline.prepare_run(grade_q1=False)
    out = tmp_path / "out"
    nb = tmp_path / "ada.ipynb"
    shutil.copy(ROOT / "assignment" / "dis05.ipynb", nb)
    classroom.grade_class(classroom.ClassJob([nb], out, run, jobs=1))
    entries, _ = overrides.parse(OVERRIDE)
    checks_changed = dataclasses.replace(run, overrides=overrides.Overrides(entries, text="x"))
    done = classroom.grade_class(classroom.ClassJob([nb], out, checks_changed, jobs=1))
    assert done.checked_only == ["ada"] and len(calls) == 1
    slower = dataclasses.replace(run, limits=dataclasses.replace(run.limits, timeout=400))
    done = classroom.grade_class(classroom.ClassJob([nb], out, slower, jobs=1))
    assert done.checked_only == [] and calls == [("ada.ipynb", 300.0), ("ada.ipynb", 400.0)]
    classroom.grade_class(classroom.ClassJob([nb], out, slower, jobs=1, rerun=True))
    assert len(calls) == 3  # --rerun runs the notebook again


def test_a_damaged_cache_entry_is_a_miss_not_an_error(tmp_path):
    cache = execution_cache.ExecutionCache(tmp_path, "fp")
    nb = tmp_path / "a.ipynb"
    nb.write_text("{}")
    cache.put(nb, Execution("ok", {}, "log", 1.0))
    assert cache.get(nb).log == "log"
    (tmp_path / cache.key(nb) / "execution.json").write_text("{broken")
    assert cache.get(nb) is None


# --- Gradescope and make grade agree with an overrides file ------------------------------------

@pytest.mark.slow
def test_the_gradescope_layout_with_overrides_scores_like_make_grade(tmp_path):
    notebook = ROOT / "examples" / "submissions" / "alice-flipped-kernel.ipynb"
    text = ("- variable: q2a_first\n  answer: 'k3*x1 + k2*x2 + k1*x3'\n  credit: 1\n"
            "  message: Accepted after review.\n")
    root = tmp_path / "gs"
    (root / "submission").mkdir(parents=True)
    (root / "source").mkdir()
    (root / "source" / "overrides.yaml").write_text(text)  # where the zip puts it
    shutil.copy(notebook, root / "submission" / "dis05.ipynb")
    (tmp_path / "overrides.yaml").write_text(text)
    assert cli.main(["grade", str(notebook), "--out", str(tmp_path / "out"), "--no-q1",
                     "--jobs", "1", "--overrides", str(tmp_path / "overrides.yaml")]) == 0
    monkeypatch = pytest.MonkeyPatch()
    with monkeypatch.context() as m:
        m.chdir(root / "source")  # run_autograder's working directory
        assert cli.main(["gradescope", "--root", str(root), "--no-q1"]) == 0
    gradescope = json.loads((root / "results" / "results.json").read_text())
    local = json.loads((tmp_path / "out" / notebook.stem / "results.json").read_text())
    assert [(t["name"], t["score"]) for t in gradescope["tests"]] == \
           [(t["name"], t["score"]) for t in local["tests"]]
    assert gradescope["extra_data"]["checks"]["q2a_first"]["stage"] == "override"
    assert gradescope["score"] == local["score"]


def test_the_fast_record_dictionary_is_the_results_own(graded):
    from autograder import report
    from tests.after_grading_fixtures import checked

    result = checked("ada", CLASS["ada"], graded.run)
    result.details["execution_cached"] = True
    assert report._plain_result(result) == result.to_dict()


def test_make_grade_refuses_an_invalid_overrides_file_and_names_the_line(tmp_path, capsys):
    bad = tmp_path / "overrides.yaml"
    bad.write_text(OVERRIDE + "- variable: q2a_first\n  answer: k1\n  credit: 2\n  message: m\n")
    out = tmp_path / "out"
    code = cli.main(["grade", str(ROOT / "assignment" / "dis05.ipynb"), "--out", str(out),
                     "--no-q1", "--overrides", str(bad)])
    assert code == 2 and not out.exists()
    assert f"{bad}:5: credit 2 is not a number from 0 to 1" in capsys.readouterr().err


def _outputs(out: Path) -> dict[str, bytes]:
    """Every output file under ``out`` but the history and the cache, by relative path; a
    record with its key as the grader reads it and without the time it was written,
    report.html without the run's duration and the minute it was written."""
    found, keys = {}, record_keys.current(out)
    for path in sorted(out.rglob("*")):
        relative = path.relative_to(out)
        if not path.is_file() or relative.parts[0] in ("history", ".cache", record_keys.KEYS_FILE):
            continue
        data = path.read_bytes()
        if path.name == "checks.json":
            record = json.loads(data)
            record.pop("graded_at")
            record["key"] = keys[path.parent.name]
            data = json.dumps(record, sort_keys=True).encode()
        if path.name == "report.html":
            data = re.sub(rb"in \d+\.\d s with", b"in _ s with", data)
            data = re.sub(rb"\d+\.\d\d s of wall time", b"_ s of wall time", data)
            data = re.sub(rb"Generated \d{4}-\d\d-\d\d \d\d:\d\d", b"Generated _", data)
        found[str(relative)] = data
    return found


def test_a_regrade_writes_exactly_what_a_full_regrade_writes(graded, monkeypatch):
    """A catalogue edit regrades every submission (new keys); the regrade leaves the files of
    unchanged results in place, yet OUT ends byte for byte as FORCE=1 (every file written anew)
    leaves it."""
    forced = graded.tmp / "forced"
    shutil.copytree(graded.out, forced)
    before = {name: (graded.out / name / "results.json").stat().st_ino for name in CLASS}
    records = {name: (graded.out / name / "checks.json").stat().st_ino for name in CLASS}
    added = mistakes.Mistake("q2a_out_dim", 5, "two-off", "Off by two.", 0.25)
    monkeypatch.setattr(mistakes, "CATALOGUE", mistakes.CATALOGUE + (added,))
    version = classroom.grader_version
    monkeypatch.setattr(classroom, "grader_version", lambda run: version(run) + "+edit")

    regrade = classroom.grade_class(classroom.ClassJob(graded.notebooks, graded.out, graded.run,
                                                       jobs=1))
    full = classroom.grade_class(classroom.ClassJob(graded.notebooks, forced, graded.run,
                                                    jobs=1, force=True))

    assert sorted(regrade.graded) == sorted(full.graded) == sorted(CLASS)
    assert [c.submission for c in regrade.changes] == [c.submission for c in full.changes] == ["cy"]
    kept = {name for name in CLASS
            if (graded.out / name / "results.json").stat().st_ino == before[name]
            and (graded.out / name / "checks.json").stat().st_ino == records[name]}
    assert kept == set(CLASS) - {"cy"}  # only the changed result's files were written again
    assert _outputs(graded.out) == _outputs(forced)
    assert record_keys.current(graded.out) == record_keys.current(forced)
    again = classroom.grade_class(classroom.ClassJob(graded.notebooks, graded.out, graded.run,
                                                     jobs=1))
    assert sorted(again.reused) == sorted(CLASS)  # the confirmed keys are read back


def test_answer_groups_computed_half_in_a_forked_process_are_those_computed_here(graded,
                                                                                 monkeypatch):
    records = graded.first.records
    here = answer_groups.build_groups(records, graded.run.questions)
    assert here
    monkeypatch.setattr(classroom, "FORK_GROUPS_FROM", 1)
    done = classroom.ClassRun([], records=records)
    classroom._summarise(done, graded.run)
    assert [g.csv_row() for g in done.groups] == [g.csv_row() for g in here]
