"""Synthetic classes for the after-grading tests: answers as the sandbox would bring them back,
checked by the real check phase, and cached executions so a class run needs no notebook run."""

from __future__ import annotations

import json
from pathlib import Path

from autograder import answers
from autograder.execution.cache import ExecutionCache, execution_fingerprint
from autograder.execution.execute import Execution
from autograder.grading import pipeline
from autograder.report.results import SubmissionResult

ROOT = Path(__file__).resolve().parent.parent
BLANK = ROOT / "assignment" / "dis05.ipynb"


def plain(values: dict) -> dict:
    """``{variable: python value}`` encoded as the student's process encodes it."""
    return {name: answers.encode(value) for name, value in values.items()}


def checked(name: str, values: dict, run: pipeline.Run | None = None) -> SubmissionResult:
    """One submission's result from answers, through the real check phase."""
    run = run or pipeline.prepare_run(grade_q1=False)
    return pipeline.check_execution(name, Execution("ok", plain(values), "", 0.1), run)


def records(answers_by_student: dict[str, dict], run: pipeline.Run | None = None) -> list[dict]:
    return [{"result": checked(name, values, run), "student": {}}
            for name, values in answers_by_student.items()]


def cached_class(folder: Path, out: Path, answers_by_student: dict[str, dict],
                 run: pipeline.Run) -> list[Path]:
    """A notebook file per student (distinct bytes) whose execution is already in OUT's cache,
    with the given answers: a class run then only checks."""
    folder.mkdir(parents=True, exist_ok=True)
    cache = ExecutionCache(out / ".cache" / "executions", execution_fingerprint(run))
    notebooks = []
    for name, values in answers_by_student.items():
        nb = json.loads(BLANK.read_text())
        nb.setdefault("metadata", {})["student"] = name
        path = folder / f"{name}.ipynb"
        path.write_text(json.dumps(nb))
        cache.put(path, Execution("ok", plain(values), f"{name}'s log", 1.0, cells_run=3))
        notebooks.append(path)
    return notebooks
