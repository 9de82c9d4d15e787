"""Shared fixtures: the repository's paths, and one real grading run of the bundled examples."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# The tests grade q1b on the generated dataset when real CIFAR-10 is not cached (what a real
# class run refuses: settings.q1.Q1Config.generated_data); set before the grader is imported,
# and inherited by every process the tests start. Tests of the refusal unset it.
os.environ.setdefault("DIS05_Q1_GENERATED", "1")

from autograder import answers
from autograder.checks import check_variable
from autograder.report.results import CheckResult
from autograder.worksheet import QUESTIONS, mistakes

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "solutions" / "dis05.ipynb"
BLANK = ROOT / "assignment" / "dis05.ipynb"
EXAMPLES = ROOT / "examples" / "submissions"


VARIABLES = {v.name: v for q in QUESTIONS for v in q.variables}
"""every answer variable of the worksheet, by name"""


def check(name: str, value) -> CheckResult:
    """The verdict on ``value`` as the answer to variable ``name``."""
    return check_variable(VARIABLES[name], value)


def promised_score(name: str, mistake_id: str, answer=None) -> float:
    """The score the catalogue promises for mistake ``mistake_id`` in variable ``name``: the
    entry's credit times the variable's points. Entries sharing an id may differ in credit:
    ``answer`` (the entry's own, as the catalogue writes it) then picks one."""
    credits = {m.credit for m in mistakes.for_variable(name)
               if m.id == mistake_id and (answer is None or m.answer == answer)}
    assert len(credits) == 1, \
        f"{name}: {mistake_id!r} {answer or ''} has credits {credits or 'none'}"
    return credits.pop() * VARIABLES[name].points


def via_json(value):
    """The value as the grader receives it from the student's process (encoded, sent as JSON)."""
    return answers.decode(json.loads(json.dumps(answers.encode(value))))


TRANSPORTS = [pytest.param(lambda v: v, id="raw"), pytest.param(via_json, id="json")]
"""a value checked as written and as it arrives from the student's process"""


def run_cli(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m autograder ARGS`` as `make grade` runs it; fails the test on a non-zero exit."""
    proc = subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def read_csv(path: Path) -> list[dict]:
    """The rows of a CSV the grader wrote (grades.csv, gradebook.csv, changes.csv ...)."""
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def q2_run():
    """The grading run of Q2 only (no Q1 training), as `make grade Q1=0` prepares it."""
    from autograder.grading import pipeline

    return pipeline.prepare_run(grade_q1=False)


@pytest.fixture
def no_plots(monkeypatch):
    """Stand-in PNGs for the report's plots: drawing them (matplotlib, seconds of a core) is the
    slow part of a class run, and the plots have their own tests (test_html_report.py)."""
    from autograder.report import html as html_report

    for plot in ("_plot_totals", "_plot_questions", "_plot_seconds"):
        monkeypatch.setattr(html_report, plot, lambda *args: b"png")


@pytest.fixture(scope="session")
def graded_examples(tmp_path_factory) -> dict[str, dict]:
    """Grade the reference, the blank notebook and the examples once (Q1 included), 2 jobs.

    Returns submission name -> {"row": grades.csv row, "results": results.json, "feedback": text}.
    """
    out = tmp_path_factory.mktemp("grades")
    run_cli("grade", str(REFERENCE), str(BLANK), str(EXAMPLES), "--out", str(out), "--jobs", "2")
    with (out / "grades.csv").open() as f:
        rows = {row["submission"]: row for row in csv.DictReader(f)}
    return {name: {"row": row,
                   "results": json.loads((out / name / "results.json").read_text()),
                   "feedback": (out / name / "feedback.md").read_text()}
            for name, row in rows.items()}
