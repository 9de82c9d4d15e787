"""Grade one submission: execute -> extract -> check -> result. Never raises for a submission.

``prepare_run`` does the once-per-run work (the Q1 data and probe inputs); ``grade_submission``
runs one notebook in the sandbox (or takes what an earlier run of the same notebook produced from
an ``ExecutionCache``) and then ``check_execution`` checks its answers in this process, where no
student code ran: overrides apply there, and undecided answers score by the ``ReviewPolicy``.
Everything the student sees comes from ``results.SubmissionResult``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder import answers, worksheet
from autograder.checks import bounded, check_variable, overrides
from autograder.checks.kinds import checked_by_reading, read_names
from autograder.grading import copies, identity
from autograder.grading.identity import Identity
from autograder.execution.budget import SubmissionClock
from autograder.execution.execute import (
    Execution,
    cell_label,
    execute_notebook,
    isolation,
    network_problem,
    runnable_cells,
)
from autograder.execution.sandbox import Isolation
from autograder.report.notices import Notice, isolation_notice, network_notice
from autograder.report.results import (
    CheckResult,
    QuestionResult,
    Stage,
    Status,
    SubmissionResult,
    grader_failure,
    too_costly,
)
from autograder.report.staff_log import capture_log
from autograder.settings.limits import Checking, Limits, ReviewPolicy
from autograder.settings.variants import Variants
from autograder.worksheet import mistakes, variants
from autograder.worksheet.variants import Variant

if TYPE_CHECKING:
    from autograder.execution.cache import ExecutionCache
    from autograder.q1.prepare import Prepared


@dataclass(frozen=True)
class Run:
    """What every submission of one grading run shares."""

    limits: Limits
    questions: tuple[worksheet.Question, ...]
    q1: Prepared | None = None  # when Q1's programs are graded
    probe_seconds: float = 0.0  # Q1 probe's own budget (q1.probe_seconds), beside the notebook's
    notices: tuple[Notice, ...] = ()  # for the staff, once per run (report/notices.py)
    isolation: Isolation | None = None  # what the sandbox gives submissions here (start-up)
    overrides: overrides.Overrides = overrides.NONE
    review: ReviewPolicy = ReviewPolicy()
    cache: ExecutionCache | None = None  # earlier runs of the same notebooks
    variants: Variants = Variants()  # each student their own Q2 numbers (off: the worksheet's)
    identities: dict[str, Identity] = field(default_factory=dict)  # by submission name
    classmates: tuple[tuple[Variant, str], ...] = ()  # every submission's variant, for copies
    held: dict[str, str] = field(default_factory=dict)  # for review: why (grading/assignment.py)
    checking: Checking = Checking()  # what checking may cost (checks/bounded.py)

    def identity(self, name: str, path: Path | None) -> Identity | None:
        """Whose numbers submission ``name`` is graded with (None with variants off): what the
        class's intake found, else the notebook's ``STUDENT_EMAIL``."""
        if not self.variants.enabled:
            return None
        known = self.identities.get(name)
        if known is not None:
            return known
        return identity.resolve([], identity.notebook_email(path), salt=self.variants.salt,
                                source="notebook")


def prepare_run(*, limits: Limits = Limits(), grade_q1: bool = True, workdir: Path | None = None,
                data_dir: Path | None = None, fetch_data: bool = False) -> Run:
    """Prepare a run: with ``grade_q1``, write the Q1 probe inputs under ``workdir`` (the caller's
    folder, kept for the whole run); with ``fetch_data`` (a class run), first try to download
    CIFAR-10 when the cache has none."""
    notes, found = run_notices(limits), isolation(limits)
    if not grade_q1:
        return Run(limits, worksheet.Q2_QUESTIONS, None, notices=notes, isolation=found)
    if workdir is None:
        raise ValueError("grading Q1 needs a workdir for the probe's inputs")
    from autograder import q1

    if fetch_data:
        notes += q1.fetch_for_run(data_dir)
    prepared = q1.prepare_q1(Path(workdir) / "q1-inputs", data_dir=data_dir)
    notes += q1.data_notes(prepared)
    return Run(limits, worksheet.QUESTIONS, prepared, probe_seconds=q1.probe_seconds(prepared),
               notices=notes, isolation=found)


def run_notices(limits: Limits) -> tuple[Notice, ...]:
    """What the staff should know once about how this machine isolates submissions (found by
    trying it, once per process)."""
    why = network_problem() if limits.isolate_network else "isolate_network is off"
    return (*isolation_notice(isolation(limits)), *network_notice(why))


def grade_submission(path: Path, run: Run, *, name: str | None = None) -> SubmissionResult:
    """Grade one notebook file. Any failure of the grader itself becomes ``grader_failure``.

    With ``run.cache``, a notebook run before under the same execution settings is not run again:
    only its checks are."""
    name = name or Path(path).stem
    cache = run.cache
    start = time.monotonic()
    try:
        execution = cache.get(path) if cache is not None else None
        cached = execution is not None
        if execution is None:
            execution = _execute(Path(path), run)
            if cache is not None:
                cache.put(path, execution)
        try:
            result = check_execution(name, execution, run, path=Path(path))
            result.details["execution_cached"] = cached
        finally:
            if execution.probe_dir and not cached:
                shutil.rmtree(execution.probe_dir, ignore_errors=True)
    except Exception:
        result = grader_failure(name, run.questions, traceback.format_exc())
        cached = False
    # a cached run keeps the seconds its notebook ran: a regrade that changes no verdict then
    # gives the same files, byte for byte (classroom.Recorder leaves them as they are)
    result.seconds = execution.seconds if cached else time.monotonic() - start
    return result


def check_execution(name: str, execution: Execution, run: Run, *,
                    path: Path | None = None) -> SubmissionResult:
    """The check phase of one submission, from what running it produced (fresh or cached).
    The answers' plain data are kept in ``details["answers"]`` (for answer groups); ``path``,
    the notebook, names the cells stopped by the cell limit."""
    asked = set(read_names(run.questions))
    stopped = (_labels(path, execution) if path is not None
               else [f"code cell {n}" for n in execution.stopped_cells])
    result = SubmissionResult(name, execution.status, log=execution.log, reason=execution.reason,
                              details={"cells_run": execution.cells_run,
                                       "stopped_cells": stopped,
                                       "answers": {k: v for k, v in execution.answers.items()
                                                   if k in asked}})
    who = run.identity(name, path)
    flags: list[copies.CopyFlag] = []
    with capture_log() as logged:
        result.questions = check_answers(execution.answers, run, _q1_checks(execution, run),
                                         who=who, name=name, flags=flags)
    result.log += logged.text() + _q1_staff_log(execution, run)
    if who is not None:
        record_identity(result, who, flags)
    if held := run.held.get(name):  # the assignment record contradicts the run: for review
        result.details["assignment_problem"] = held
        result.questions = [hold(q, held, run.review) for q in result.questions]
        result.log += f"\n[grader] held for review: {held}\n"
    return result


def hold(question: QuestionResult, why: str, policy: ReviewPolicy) -> QuestionResult:
    """A question of a submission held for review (``grading/assignment.py``): its Q2 answers
    were checked against numbers its assignment does not vouch for, so each keeps only
    ``policy.undecided_credit`` of its points until course staff decide; the verdict stays, for
    them. Q1's programs do not depend on the numbers: they keep their scores."""
    checks = []
    for check in question.checks:
        if checked_by_reading(worksheet.variable(check.variable)):
            score = round(policy.undecided_credit * check.max_score, 6)
            check = replace(check, score=score, review=f"Held for review (scored {score:g} of "
                                                       f"{check.max_score:g} until course staff "
                                                       f"decide): {why}.")
        checks.append(check)
    return QuestionResult(question.question, question.title, checks)


def record_identity(result: SubmissionResult, who: Identity,
                    flags: list[copies.CopyFlag]) -> None:
    """The variant graded (checks.json, results.json's extra_data) and, for staff only, the
    answers that fit another variant (checks.json's ``copies``, the staff log)."""
    result.details["identity"] = who.as_dict()
    result.details["copies"] = [f.as_dict() for f in flags]
    if flags:
        result.log += "\n[grader] answers that fit other numbers than this student's (" + \
            who.variant.label + "):\n" + "".join(f"  {f.text}\n" for f in flags)


def _execute(path: Path, run: Run) -> Execution:
    """Run the notebook within its budget (``budget.py``); rerun after early stops.

    A cell killed at the cell limit loses only itself: the notebook is rerun without it, so later
    cells still run. A notebook that stopped (crash, memory, time) before Q1's probe is rerun up
    to the last cell that completed, so Q1's code is still checked. Each rerun gets only what is
    left of the budget, and there are at most ``Limits.reruns``.
    """
    names = read_names(run.questions)
    probe = None
    if run.q1 is not None:
        from autograder.q1 import q1_probe

        probe = q1_probe(run.q1)
    budget = SubmissionClock(run.limits, run.probe_seconds if probe else 0.0)
    first = budget.first_run()
    if first is None:
        return Execution(Status.TIMEOUT, {}, "[grader] no time left to run the notebook\n", 0.0)
    execution = execute_notebook(path, variables=names, limits=run.limits, probe=probe,
                                 budget=first)
    budget.charge(execution.notebook_seconds)
    skip: set[int] = set()
    for _ in range(run.limits.reruns):
        if execution.killed_cell:
            skip.add(execution.killed_cell)
            retry_budget = budget.rerun(before=execution.killed_after)
            if retry_budget is None:
                execution.log += "\n[grader] no time left to rerun the notebook without that cell.\n"
                break
            retry = execute_notebook(path, variables=names, limits=run.limits, probe=probe,
                                     budget=retry_budget, skip=frozenset(skip))
            budget.charge(retry.notebook_seconds)
            execution = _merge_skip_rerun(execution, retry, path)
        elif probe is not None and _needs_probe_rerun(execution):
            retry_budget = budget.rerun(before=execution.killed_after)
            if retry_budget is None:
                execution.log += "\n[grader] no time left to rerun the notebook for Q1.\n"
                break
            retry = execute_notebook(path, variables=names, limits=run.limits, probe=probe,
                                     budget=retry_budget, skip=frozenset(skip),
                                     max_cells=execution.cells_run)
            budget.charge(retry.notebook_seconds)
            _merge_probe_rerun(execution, retry)
            break
        else:
            break
    return execution


def _needs_probe_rerun(execution: Execution) -> bool:
    from autograder.q1 import probe_reached

    return (execution.status is not Status.OK and not probe_reached(execution.probe_dir)
            and execution.cells_run > 0)


def _merge_skip_rerun(first: Execution, retry: Execution, path: Path) -> Execution:
    """The rerun without the killed cell, keeping answers only the first run reached."""
    if first.probe_dir and first.probe_dir != retry.probe_dir:
        shutil.rmtree(first.probe_dir, ignore_errors=True)
    label = _label(path, first.killed_cell)
    retry.answers = {**first.answers, **retry.answers}
    retry.stopped_cells = sorted({*first.stopped_cells, first.killed_cell, *retry.stopped_cells})
    retry.log = (first.log + f"\n[grader] {label} ignored the time limit for one cell and was "
                 f"killed; the notebook was rerun without it ({retry.status}).\n" + retry.log)
    retry.notes = [*first.notes, *retry.notes]
    retry.seconds += first.seconds
    return retry


def _merge_probe_rerun(execution: Execution, retry: Execution) -> None:
    """Keep the first run's answers; take the probe's outputs from the rerun."""
    if execution.probe_dir:
        shutil.rmtree(execution.probe_dir, ignore_errors=True)
    execution.probe_dir = retry.probe_dir
    execution.log += (f"\n[grader] the notebook stopped early ({execution.status}); Q1's code was "
                      f"checked in a second run of its first {execution.cells_run} cells "
                      f"({retry.status}).\n")
    execution.seconds += retry.seconds


def _label(path: Path, number: int) -> str:
    return _labels_of(path, [number])[0]


def _labels(path: Path, execution: Execution) -> list[str]:
    """The stopped cells, named for the student."""
    return _labels_of(path, execution.stopped_cells)


def _labels_of(path: Path, numbers: list[int]) -> list[str]:
    """Cells named by number and first line, from one read of the notebook (none read when
    no cell stopped)."""
    if not numbers:
        return []
    try:
        sources = dict(runnable_cells(path))
    except Exception:  # noqa: BLE001 - the notebook was read before; a label is cosmetic
        sources = {}
    return [cell_label(n, sources.get(n, "")) for n in numbers]


def _q1_checks(execution: Execution, run: Run) -> dict[str, CheckResult]:
    if run.q1 is None or execution.probe_dir is None:
        return {}
    from autograder.q1 import check_q1

    return check_q1(execution.probe_dir, run.q1, stopped=str(execution.status))


def _q1_staff_log(execution: Execution, run: Run) -> str:
    """Q1's line for the staff log: dataset, whether its budget is an estimate, device, times."""
    if run.q1 is None:
        return ""
    from autograder.q1 import staff_log

    return staff_log(execution.probe_dir, run.q1)


def check_answers(plain: dict, run: Run, program_checks: dict[str, CheckResult], *,
                  who: Identity | None = None, name: str = "",
                  flags: list | None = None) -> list[QuestionResult]:
    """The check phase: one CheckResult per answer variable, grouped by question, against the
    variant of ``who`` (None: the worksheet's numbers); an override that matches the answer
    replaces the checker's verdict, and an undecided verdict scores by the run's
    ``ReviewPolicy``. With ``who``, an answer that fits another variant is flagged (appended to
    ``flags``, for staff only) and scores by ``Variants.copy_policy``."""
    sheet = variants.sheet(who.variant) if who is not None else None
    questions = sheet.graded(run.questions) if sheet is not None else run.questions
    tried = copies.candidates(who.variant, run.classmates, name) if who is not None else {}
    budget = bounded.Budget(run.checking)
    results = []
    for q in questions:
        qr = QuestionResult(q.id, q.title)
        for variable in q.variables:
            flag = None
            if not checked_by_reading(variable):
                check = program_checks.get(variable.name) or _not_run(variable)
            else:
                raw = plain.get(variable.name)
                value = answers.decode(raw)
                entries = sheet.entries(variable.name) if sheet is not None else None
                check = _check_memo(variable, raw, value, entries, budget)
                if run.overrides.entries and value is not answers.MISSING:
                    check = overrides.apply(variable, value, check, run.overrides,
                                            who.variant.label if who is not None else "")
                if tried:
                    flag = copies.find(variable, check, tried,
                                       lambda v, e, raw=raw, value=value: _check_memo(
                                           v, raw, value, e, budget))
                    if flag is not None:
                        check = copies.with_policy(check, run.variants.copy_policy, run.review)
            if flag is not None and flags is not None:
                flags.append(flag)
            qr.checks.append(apply_review_policy(check, run.review))
        results.append(qr)
    return results


def recheck_copies(result: SubmissionResult, run: Run,
                   classmates: tuple[tuple[Variant, str], ...]) -> list[copies.CopyFlag]:
    """Check ``result``'s cached answers again against the class's ``classmates`` (copies over
    the whole class, ``copies.class_flags``): its questions are replaced (the copy policy may
    change scores) and its flags returned."""
    who = identity.from_dict(result.details["identity"])
    program = {v.name for q in run.questions for v in q.variables if not checked_by_reading(v)}
    kept = {c.variable: c for q in result.questions for c in q.checks if c.variable in program}
    flags: list[copies.CopyFlag] = []
    with capture_log():
        result.questions = check_answers(result.details.get("answers") or {},
                                         replace(run, classmates=classmates), kept, who=who,
                                         name=result.submission, flags=flags)
    if held := run.held.get(result.submission):
        result.questions = [hold(q, held, run.review) for q in result.questions]
    return flags


def apply_review_policy(check: CheckResult, policy: ReviewPolicy) -> CheckResult:
    """An undecided verdict (or a failed check) keeps ``policy.undecided_credit`` of the points
    and says it waits for review."""
    if check.stage not in policy.review_stages:
        return check
    score = round(policy.undecided_credit * check.max_score, 6)
    return replace(check, score=score, review=f"Scored {score:g} of {check.max_score:g} until "
                                              f"course staff review it.")


# Identical answers are common in a class: one check per distinct (variable, answer) per process.
_MEMO: dict = {}
MEMO_SIZE = 50_000


def _check_memo(variable: worksheet.Variable, raw: Any, value: Any,
                entries: tuple | None = None, budget: bounded.Budget | None = None
                ) -> CheckResult:
    """The check of one answer against ``variable`` and its catalogue ``entries`` (by default
    the worksheet's), once per distinct answer in this process; with a ``budget`` (its
    submission's), in the checker process (``checks/bounded.py``) within its deadlines."""
    if entries is None:
        entries = mistakes.for_variable(variable.name)
    try:
        text = json.dumps(raw, sort_keys=True)
    except (TypeError, ValueError):
        text = None
    # what decides the verdict: the variable as graded, its catalogue entries and the answer
    graded = _graded_key(variable, entries)
    key = (*graded, text)
    if text is not None and key in _MEMO:
        return replace(_MEMO[key])
    if len(_MEMO) >= MEMO_SIZE:
        _MEMO.clear()
    result, reached = _bounded_check(variable, value, entries, budget, graded)
    if text is not None and reached and result.stage is not Stage.GRADER_ERROR:
        _MEMO[key] = result  # a failure is retried (and logged each time), as is a cut-off check
    return replace(result)


def _graded_key(variable: worksheet.Variable, entries: tuple) -> tuple[str, str]:
    """``(repr(variable), repr(entries))``, the memo's key of what an answer is checked
    against: computed once per variable and entries (the same objects, held here so that their
    ids are never reused), not once per answer."""
    ids = (id(variable), *map(id, entries))
    held = _GRADED.get(ids)
    if held is None or held[0] is not variable or any(
            a is not b for a, b in zip(held[1], entries)):
        if len(_GRADED) >= MEMO_SIZE:
            _GRADED.clear()
        held = _GRADED[ids] = (variable, entries, (repr(variable), repr(entries)))
    return held[2]


_GRADED: dict[tuple, tuple] = {}


def _bounded_check(variable: worksheet.Variable, value: Any, entries: tuple,
                   budget: bounded.Budget | None, graded: tuple[str, str]
                   ) -> tuple[CheckResult, bool]:
    """The verdict, and whether it was reached within the answer's own deadline (a verdict cut
    by the submission's spent time depends on its other answers: it is not memoised)."""
    if budget is None or not budget.settings.isolated or value is answers.MISSING:
        return check_variable(variable, value, entries), True
    seconds = budget.next_deadline()
    if seconds <= 0:
        return too_costly(variable, budget.spent()), False
    checker = bounded.checker_for(budget.settings)
    result, reached, spent = checker.check(
        variable, value, entries, seconds,
        memo_key=hashlib.sha256("\0".join(graded).encode()).hexdigest())
    budget.used += spent
    return result, reached or not budget.cut_short(seconds)


def _not_run(variable: worksheet.Variable) -> CheckResult:
    return CheckResult(variable.name, 0.0, variable.points,
                       "not checked: the notebook stopped before this code could be run "
                       "(see the status above).", stage=Stage.MISSING)


def nothing_to_run(name: str, reason: str, run: Run) -> SubmissionResult:
    """The result of a submission with no notebook to run: an invalid notebook, ``reason`` why,
    every answer missing."""
    status = Status.REFUSED if reason.startswith("refused: ") else Status.INVALID
    result = SubmissionResult(name, status, reason=reason.removeprefix(f"{status.value}: "))
    who = run.identity(name, None)
    result.questions = check_answers({}, run, {}, who=who, name=name)
    if who is not None:
        record_identity(result, who, [])
    return result
