"""Grade a whole class: find the submissions, grade them in parallel, write every result.

Every file found gets a row, whatever it holds; one bad submission never stops the run.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Callable, Iterable

from . import pipeline, report
from .results import SubmissionResult


def find_submissions(paths: Iterable[Path]) -> list[Path]:
    """The files to grade: each file given, and every non-hidden file inside each folder given."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*")
                            if p.is_file() and not any(part.startswith(".") for part in
                                                       p.relative_to(path).parts))
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"no such submission file or folder: {path}")
    return found


def submission_names(files: list[Path]) -> dict[Path, str]:
    """A unique, file-system-safe name per file: its stem, prefixed by its folder on a clash."""
    stems = Counter(p.stem for p in files)
    names = {}
    for p in files:
        name = p.stem if stems[p.stem] == 1 else f"{p.parent.name}-{p.stem}"
        names[p] = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return names


def _grade_one(path: Path, name: str, run: pipeline.Run) -> SubmissionResult:
    return pipeline.grade_submission(path, run, name=name)


def grade_class(paths: Iterable[Path], out: Path, run: pipeline.Run, *, jobs: int | None = None,
                on_result: Callable[[SubmissionResult], None] | None = None) -> list[SubmissionResult]:
    """Grade every submission under ``paths`` into ``out``; return the results."""
    files = find_submissions(paths)
    names = submission_names(files)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files) or 1))
    results = []

    def record(result: SubmissionResult) -> None:
        report.write_submission(out, result)
        results.append(result)
        if on_result:
            on_result(result)

    if jobs == 1:
        for path in files:
            record(_grade_one(path, names[path], run))
    else:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            futures = {pool.submit(_grade_one, p, names[p], run): p for p in files}
            for future in as_completed(futures):
                path = futures[future]
                try:
                    record(future.result())
                except Exception as exc:  # a worker died: the submission still gets a row
                    record(pipeline.grader_error(names[path], run.questions, repr(exc)))
    report.write_grades_csv(out / "grades.csv", results, [q.id for q in run.questions])
    return results
