"""One class run from a TA's settings, as ``make grade`` starts it: refuse to grade while the
catalogue of mistakes or the overrides file needs fixing, connect to the Dask cluster when one
is named, prepare the run and grade the class. What it says goes through callbacks, so the CLI
only turns flags into settings and prints."""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable

from autograder.grading import classroom, pipeline
from autograder.grading.dask_engine import DaskEngine
from autograder.report.notices import Notice
from autograder.settings.limits import Cluster, Limits
from autograder.worksheet import overrides


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


def grade(paths: Iterable[Path], out: Path, *, limits: Limits, cluster: Cluster,
          overrides_file: str | None, grade_q1: bool = True, data_dir: str | None = None,
          jobs: int | None = None, force: bool = False, rerun: bool = False,
          dry_run: bool = False, on_engine: Callable[[str, int], None] = lambda *_: None,
          on_notice: Callable[[Notice], None] = lambda _: None,
          on_start: Callable[[int, int], None] | None = None,
          on_result: classroom.OnResult | None = None,
          on_wait: Callable[[], None] | None = None) -> Graded:
    """Grade the class under ``paths`` into ``out`` (see ``classroom.grade_class``).

    Raises ``NotGraded`` before anything runs when the catalogue or the overrides file has
    problems: grading with a half-read overrides file could publish wrong grades. Also raises
    ``intake.IntakeError`` and ``dask_engine.EngineError``. ``on_engine(scheduler, slots)`` is
    called once connected to a cluster, ``on_notice`` with each of the run's notices (known at
    the start; those found while grading are in ``ClassRun.notices``). With
    ``cluster.require_isolation``, raises ``NotGraded`` where submissions cannot get a private
    view (here, or on a Dask worker)."""
    from autograder.checks import catalogue_problems

    if problems := catalogue_problems():
        raise NotGraded(["the catalogue of mistakes (autograder/worksheet/mistakes.py) needs "
                         "fixing before grading:\n  " + "\n  ".join(problems)])
    found = overrides.load(overrides_file)
    if found.problems:
        raise NotGraded([*problem_lines(found, found.problems),
                         "fix the overrides file (or pass --overrides '') and rerun"])
    with tempfile.TemporaryDirectory(prefix="dis05-run-") as work, ExitStack() as stack:
        engine = None
        if cluster.scheduler:
            engine = stack.enter_context(DaskEngine.connect(cluster))
            on_engine(cluster.scheduler, engine.slots())
        run = pipeline.prepare_run(limits=limits, grade_q1=grade_q1, workdir=Path(work),
                                   data_dir=data_dir)
        run = _isolated(run, cluster, engine)
        for notice in run.notices:
            on_notice(notice)
        run = replace(run, overrides=found)
        done = classroom.grade_class(paths, out, run, jobs=jobs, force=force, on_start=on_start,
                                     on_result=on_result, on_wait=on_wait, dry_run=dry_run,
                                     rerun=rerun, engine=engine)
    return Graded(done, found)


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
