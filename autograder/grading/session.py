"""One class run from a TA's settings, as ``make grade`` starts it: refuse to grade while the
catalogue of mistakes or the overrides file needs fixing, connect to the Dask cluster when one
is named, prepare the run and grade the class. What it says goes through ``classroom.Events``,
so the CLI only turns flags into a ``GradeRequest`` and prints."""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path

from autograder.fingerprint import Scope, fingerprint
from autograder.grading import classroom, pipeline, snapshot
from autograder.grading.dask_engine import DaskEngine
from autograder.report.html import TEMPLATE_DIR
from autograder.settings.limits import Checking, Cluster, Limits
from autograder.settings.variants import Variants
from autograder.checks import overrides


class NotGraded(Exception):
    """Grading did not start; ``lines`` say why (one error each)."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass
class Graded:
    done: classroom.ClassRun
    overrides: overrides.Overrides
    """the overrides file read (its path names the problems in ``done.override_problems``)"""


def problem_lines(found: overrides.Overrides, problems) -> list[str]:
    """``file:line: message`` for each problem of an overrides file."""
    return [f"{found.path}:{p.line}: {p.message}" for p in problems]


@dataclass(frozen=True)
class GradeRequest:
    """A TA's class run, as ``make grade`` gives it: what to grade (``paths``), where (``out``;
    ``cluster``: the local pool or a Dask scheduler) and with which settings."""

    paths: tuple[Path, ...]
    out: Path
    limits: Limits = Limits()
    checking: Checking = Checking()
    cluster: Cluster = Cluster()
    overrides_file: str | None = None
    grade_q1: bool = True
    data_dir: str | None = None
    jobs: int | None = None
    force: bool = False
    rerun: bool = False
    dry_run: bool = False
    variants: Variants = Variants()


def grade(request: GradeRequest, events: classroom.Events | None = None) -> Graded:
    """Grade the class of ``request`` (see ``classroom.grade_class``); ``events`` hears of the
    engine, the run's notes and the progress.

    Raises ``NotGraded`` before anything runs when the catalogue or the overrides file has
    problems: grading with a half-read overrides file could publish wrong grades. Also raises
    ``intake.IntakeError`` and ``dask_engine.EngineError``. With
    ``cluster.require_isolation``, raises ``NotGraded`` where submissions cannot get a private
    view of the file system (here, or on a Dask worker)."""
    from autograder.checks import catalogue_problems

    events = events or classroom.Events()
    found = overrides.load(request.overrides_file)
    if found.problems:
        raise NotGraded([*problem_lines(found, found.problems),
                         "fix the overrides file (or pass --overrides '') and rerun"])
    with tempfile.TemporaryDirectory(prefix="dis05-run-") as work, ExitStack() as stack:
        # The catalogue is checked on another core (forked first, before any thread) while the
        # run is prepared and the submissions read; nothing is graded before its verdict.
        checker = stack.enter_context(ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("fork")))
        catalogue = checker.submit(catalogue_problems)
        # Finding this machine's isolation waits on child processes (tried once per process):
        # meanwhile, the last run's outcome is read, for a rerun where nothing changed.
        probe = threading.Thread(target=_probe_quietly, args=(request.limits,), daemon=True)
        probe.start()
        settings = snapshot_settings(request, found)
        kept = None if request.force or request.rerun or request.dry_run or \
            request.cluster.scheduler else snapshot.load(request.out, settings, request.paths)
        engine = None
        if request.cluster.scheduler:
            engine = stack.enter_context(DaskEngine.connect(request.cluster))
            events.engine(request.cluster.scheduler, engine.slots())
        probe.join()  # (its result is cached: preparing the run would otherwise probe again)
        run = pipeline.prepare_run(limits=request.limits, grade_q1=request.grade_q1,
                                   workdir=Path(work), data_dir=request.data_dir,
                                   fetch_data=True)
        run = _isolated(run, request.cluster, engine)
        for notice in run.notices:
            events.notice(notice)
        run = replace(run, overrides=found, variants=request.variants, checking=request.checking)
        job = classroom.ClassJob(request.paths, request.out, run,
                                 jobs=request.jobs, force=request.force, rerun=request.rerun,
                                 dry_run=request.dry_run, engine=engine,
                                 ready=lambda: _refuse_a_broken_catalogue(catalogue, checker),
                                 snapshot_settings=settings, kept=kept)
        done = classroom.grade_class(job, events)
    return Graded(done, found)


def snapshot_settings(request: GradeRequest, found: overrides.Overrides) -> str:
    """What a class run's kept outcome depends on besides its files, OUT and the grader version
    (``snapshot.py``): the whole grader (``Scope.WORKER``: every module, Python, the pinned
    libraries), the report's templates, the request (as a plain rerun of it: a ``--force`` run
    leaves what the next rerun takes), the overrides file's text and the number of cores (the
    default number of jobs)."""
    templates = [(p.name, p.read_bytes()) for p in sorted(TEMPLATE_DIR.iterdir())]
    plain = replace(request, paths=tuple(map(str, request.paths)), force=False, rerun=False,
                    dry_run=False)
    return fingerprint(Scope.WORKER, plain, found.text, os.cpu_count(), templates)


def _refuse_a_broken_catalogue(catalogue: Future, checker: ProcessPoolExecutor) -> None:
    """Raise ``NotGraded`` when the catalogue of mistakes needs fixing (checked here again if
    the process that checked it failed). Its process is ended first: no thread of it is left
    when the grading processes are forked."""
    from autograder.checks import catalogue_problems

    try:
        problems = catalogue.result()
    except Exception:
        problems = catalogue_problems()
    checker.shutdown()
    if problems:
        raise NotGraded(["the catalogue of mistakes (autograder/worksheet/mistakes.py) needs "
                         "fixing before grading:\n  " + "\n  ".join(problems)])


def _probe_quietly(limits: Limits) -> None:
    """``pipeline.run_notices`` for its cache; a failure is raised again where it is used."""
    try:
        pipeline.run_notices(limits)
    except Exception:
        pass


def _isolated(run: pipeline.Run, cluster: Cluster, engine: DaskEngine | None) -> pipeline.Run:
    """The run with the notices of the machines that run the code (the Dask workers when there
    is a cluster); raises ``NotGraded`` when isolation is required and one cannot give it."""
    lacking = [] if run.isolation.private else [("this machine", run.isolation)]
    if engine is not None:
        notices, found = engine.worker_notices(run.limits)
        run = replace(run, notices=notices)
        lacking = [(f"Dask worker {w}", i) for w, i in sorted(found.items()) if not i.private]
    if cluster.require_isolation and lacking:
        raise NotGraded([f"{where}: submissions cannot get a private view of the file system "
                         f"({isolation.why}); --require-isolation refuses to grade without it"
                         for where, isolation in lacking])
    return run
