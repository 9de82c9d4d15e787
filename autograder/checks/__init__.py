"""One verdict per answer variable: ``check_variable(variable, value) -> CheckResult``.

Each answer kind is one ``Kind`` (read, grade, key, same), declared in its module and registered
in ``kinds.py``. Checking runs three phases: read the answer (a problem is a format or type
message), grade it, then put the parts in a ``CheckResult`` (how it was read, the verdict, the
mistake, the hint). A bug in the grader
never escapes: it becomes ``results.failed_check`` (the student is told to contact staff) and
its traceback is logged, which puts it in the submission's staff log (``report/staff_log.py``).
"""

from __future__ import annotations

import logging

from autograder.answers import MISSING
from autograder.checks.common import Unreadable, to_plain
from autograder.checks.kinds import kind_of
from autograder.report.results import CheckResult, Stage, failed_check, too_costly
from autograder.worksheet import Variable, mistakes, variants
from autograder.worksheet.variants import DEFAULT, Variant

log = logging.getLogger(__name__)


def check_variable(variable: Variable, value, entries: tuple[mistakes.Mistake, ...] | None = None
                   ) -> CheckResult:
    """The verdict on one answer, against the variable's reference and the catalogue ``entries``
    (by default the catalogue's for this variable). Raises ValueError only for a kind it does not
    check (``program`` is checked by running code elsewhere); never for a student's value."""
    kind = kind_of(variable)
    if kind.runs_code:
        raise ValueError(f"{variable.name} has kind {kind.name!r}, which is checked by running "
                         f"code, not by check_variable")
    if entries is None:
        entries = mistakes.for_variable(variable.name)
    try:
        return _check(kind, variable, value, entries)
    except MemoryError:  # an answer this machine cannot afford to decide is not our bug
        return too_costly(variable, "deciding it needed more memory than checking may use")
    except Exception:
        log.exception("grader error while checking %s", variable.name)
        return failed_check(variable)


def _check(kind, variable: Variable, value, entries) -> CheckResult:
    if value is MISSING:
        return _result(variable, 0.0, Stage.MISSING,
                       f"`{variable.name}` is not defined: assign your answer to it in the answer "
                       f"cell.")
    try:
        reading = kind.read(variable, to_plain(value))
    except Unreadable as problem:
        return _result(variable, 0.0, problem.stage, problem.reason, pointer=problem.pointer,
                       reading=problem.reading, suggestion=problem.suggestion)
    verdict = kind.grade(variable, reading, entries)
    return _result(variable, verdict.fraction, verdict.stage, verdict.message,
                   mistake=verdict.mistake, hint=verdict.hint, reading=reading.code,
                   reading_label=reading.label, notes=reading.notes)


def _result(variable: Variable, fraction: float, stage: Stage, verdict, **parts) -> CheckResult:
    return CheckResult(variable.name, round(fraction * variable.points, 6), variable.points,
                       verdict, stage=stage, hidden=variable.hidden, **parts)


def catalogue_problems(variant: Variant = DEFAULT) -> list[str]:
    """Entries of the catalogue (of ``variant``) that cannot work: unreadable by their variable's
    reader, equal to the reference (full marks), or shadowed by an earlier equivalent entry (the
    first match wins, so a later one would never be shown). Empty when every entry gets its own
    message."""
    sheet = variants.sheet(variant)
    entries = [(f"entry {n} ({m.variable}, {m.id})", m, sheet.variable(m.variable))
               for n, m in enumerate(sheet.catalogue, 1)]
    problems, unreadable = [], set()
    for where, mistake, variable in entries:
        try:
            kind_of(variable).read(variable, to_plain(mistake.answer))
        except Unreadable as problem:
            problems.append(f"{where}: unreadable: {problem.message}")
            unreadable.add(variable.name)
    for where, mistake, variable in entries:
        if variable.name in unreadable:  # its other entries cannot be compared until it is fixed
            continue
        result = _check(kind_of(variable), variable, mistake.answer,
                        sheet.entries(variable.name))
        if result.score >= result.max_score:
            problems.append(f"{where}: equals the reference answer")
        elif result.mistake != mistake.id:
            problems.append(f"{where}: graded as {result.mistake or result.stage!r} instead")
    return problems
