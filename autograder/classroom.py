"""Grade a whole class: take the submissions in, grade the new or changed ones in parallel, and
write every result as soon as it is known; then rebuild grades.csv, gradebook.csv and report.html
from every result in OUT.

Resuming: each submission's ``OUT/<name>/checks.json`` records a key, the hash of its notebook's
bytes and of the grader (its source code, limits, questions and Q1 set-up). A rerun skips a
submission whose key is unchanged unless ``force``. Every submission gets a row, whatever it
holds; one bad submission never stops the run, and a grading process that dies still yields a
row for the submission it was grading.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from . import html_report, intake, pipeline, report
from .intake import Submission
from .results import SubmissionResult
from .worksheet import NOTEBOOK

#: Modules that only present or transport results: changing them does not regrade anything.
PRESENTATION_MODULES = frozenset({"cli.py", "__main__.py", "progress.py", "html_report.py",
                                  "package.py", "dask_engine.py", "remote.py"})
POLL_SECONDS = 0.5

OnResult = Callable[[SubmissionResult, bool], None]  # (result, reused from an earlier run)


@dataclass
class ClassRun:
    """What one class run did; ``records`` are every result in OUT (``report.read_records``)."""

    results: list[SubmissionResult]  # this run's submissions, graded or reused, by name
    graded: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    seconds: float = 0.0
    jobs: int = 1
    records: list[dict] = field(default_factory=list)


def grader_version(run: pipeline.Run) -> str:
    """A hash of everything that decides a grade besides the notebook itself."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).as_posix() not in PRESENTATION_MODULES:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    digest.update(repr(run.limits).encode())
    digest.update(repr([(q.id, q.points) for q in run.questions]).encode())
    if run.q1 is not None:
        q1 = run.q1
        digest.update(repr((q1.dataset, q1.profile, q1.device, q1.budget, q1.config)).encode())
        digest.update(q1.test_labels.tobytes())
    return digest.hexdigest()


def submission_key(submission: Submission, version: str) -> str:
    return hashlib.sha256(f"{version}\0{submission.content_hash()}".encode()).hexdigest()


def grade_class(paths: Iterable[Path], out: Path, run: pipeline.Run, *, jobs: int | None = None,
                force: bool = False, assignment: str = NOTEBOOK,
                on_start: Callable[[int, int], None] | None = None,
                on_result: OnResult | None = None,
                on_wait: Callable[[], None] | None = None, engine=None) -> ClassRun:
    """Grade every submission under ``paths`` into ``out``.

    ``on_start(total, to_grade)`` is called once the submissions are known, ``on_result`` once
    per submission (reused ones first), ``on_wait`` every ``POLL_SECONDS`` while waiting.
    ``engine`` (a connected ``dask_engine.DaskEngine``) grades on a Dask cluster instead of the
    local pool; ``jobs`` is then its number of worker threads.
    """
    out = Path(out)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dis05-intake-") as tmp:
        submissions = intake.collect(paths, assignment=assignment, extract_to=Path(tmp))
        version = grader_version(run)
        keys = {s.name: submission_key(s, version) for s in submissions}
        by_name = {s.name: s for s in submissions}
        jobs = engine.slots() if engine else max(1, min(jobs or os.cpu_count() or 1,
                                                         len(submissions) or 1))
        done = ClassRun([], jobs=jobs)

        def record(result: SubmissionResult, reused: bool = False) -> None:
            sub = by_name[result.submission]
            if not reused:
                folder = report.write_submission(out, result)
                report.write_record(folder, result, key=keys[sub.name], student=sub.student,
                                    source=sub.source, graded_at=_now())
                done.graded.append(sub.name)
            else:
                done.reused.append(sub.name)
            done.results.append(result)
            if on_result:
                on_result(result, reused)

        cached = {} if force else {s.name: r for s in submissions
                                   if (r := _reusable(out, s, keys[s.name])) is not None}
        if on_start:
            on_start(len(submissions), len(submissions) - len(cached))
        try:
            runnable = []
            for sub in submissions:
                if sub.name in cached:
                    record(_reuse(out, sub, keys[sub.name], cached[sub.name]), reused=True)
                elif sub.notebook is None:
                    record(no_notebook_result(sub, run))
                else:
                    runnable.append(sub)
            if engine:
                engine.grade(runnable, run, record, on_wait)
            elif jobs == 1:
                for sub in runnable:
                    record(_grade_one(sub, run))
            else:
                _grade_parallel(runnable, run, jobs, record, on_wait)
        finally:
            done.seconds = time.monotonic() - start
            done.records = report.read_records(out)
            question_ids = [q.id for q in run.questions]
            report.write_class_csvs(out, done.records, question_ids)
            html_report.write_report(out / "report.html", done.records, questions=run.questions,
                                     run_info=html_report.RunInfo(
                                         seconds=done.seconds, jobs=jobs, graded=len(done.graded),
                                         reused=len(done.reused), total=len(submissions)))
    done.results.sort(key=lambda r: r.submission)
    return done


def no_notebook_result(sub: Submission, run: pipeline.Run) -> SubmissionResult:
    """The row of a submission with nothing to run."""
    return pipeline.nothing_to_run(sub.name, sub.problem or "invalid notebook: no notebook", run)


# ---------------------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _reusable(out: Path, sub: Submission, key: str) -> dict | None:
    folder = out / sub.name
    if not ((folder / "results.json").is_file() and (folder / "feedback.md").is_file()):
        return None
    record = report.read_record(folder / report.RECORD_FILE)
    return record if record and record.get("key") == key else None


def _reuse(out: Path, sub: Submission, key: str, record: dict) -> SubmissionResult:
    """An earlier run's result; its identifiers are refreshed if the export's changed."""
    if record.get("student", {}) != sub.student or record.get("source") != sub.source:
        report.write_record(out / sub.name, record["result"], key=key, student=sub.student,
                            source=sub.source, graded_at=record.get("graded_at", ""))
    return record["result"]


def _grade_one(sub: Submission, run: pipeline.Run) -> SubmissionResult:
    return pipeline.grade_submission(sub.notebook, run, name=sub.name)


# Parallel grading. Workers are forked (they inherit the prepared run). A worker announces each
# submission it starts on a queue, so when a worker dies (the pool breaks) only the submissions
# that had started are suspects: each is retried alone, and one that breaks its own pool gets a
# grader-error row. Submissions that had not started go back into a fresh pool.

_started_queue = None


def _init_worker(queue) -> None:
    global _started_queue
    _started_queue = queue


def _grade_in_worker(sub: Submission, run: pipeline.Run) -> SubmissionResult:
    if _started_queue is not None:
        _started_queue.put(sub.name)
    return _grade_one(sub, run)


def _grade_parallel(subs: list[Submission], run: pipeline.Run, jobs: int,
                    record: Callable[[SubmissionResult], None],
                    on_wait: Callable[[], None] | None) -> None:
    context = multiprocessing.get_context("fork")
    queue = context.SimpleQueue()
    todo, suspects = list(subs), []
    while todo or suspects:
        solo = bool(suspects)
        batch = [suspects.pop(0)] if solo else todo
        if not solo:
            todo = []
        unfinished = _pool_pass(batch, run, 1 if solo else jobs, context, queue, record, on_wait)
        started = set()
        while not queue.empty():
            started.add(queue.get())
        if not unfinished:
            continue
        if solo:
            sub, why = unfinished[0]
            record(pipeline.grader_error(sub.name, run.questions,
                                         f"the grading process died while grading this "
                                         f"submission: {why}"))
        else:
            suspects += [s for s, _ in unfinished if s.name in started]
            todo += [s for s, _ in unfinished if s.name not in started]


def _pool_pass(batch: list[Submission], run: pipeline.Run, jobs: int, context, queue,
               record: Callable[[SubmissionResult], None],
               on_wait: Callable[[], None] | None) -> list[tuple[Submission, str]]:
    """Grade ``batch`` in one pool; return the submissions lost to a broken pool, with why."""
    unfinished = []
    pool = ProcessPoolExecutor(min(jobs, len(batch)), mp_context=context,
                               initializer=_init_worker, initargs=(queue,))
    try:
        futures: dict[Future, Submission] = {pool.submit(_grade_in_worker, s, run): s
                                             for s in batch}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for future in finished:
                sub = futures[future]
                try:
                    record(future.result())
                except BrokenProcessPool as exc:
                    unfinished.append((sub, repr(exc)))
                except Exception as exc:  # the result could not come back: still a row
                    record(pipeline.grader_error(sub.name, run.questions, repr(exc)))
            if on_wait:
                on_wait()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return unfinished
