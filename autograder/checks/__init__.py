"""One verdict per answer variable: ``check_variable(variable, value) -> CheckResult``.

Each answer kind has a reader and a grader (plain functions, in the modules of this package).
Checking runs three phases: read the answer (a problem is a format or type message), grade it,
then write the feedback, which always starts with how the answer was read. A bug in the grader
never escapes: it becomes ``results.failed_check`` (the student is told to contact staff) and
its traceback is logged, which puts it in the submission's staff log (``report/staff_log.py``).
"""

from __future__ import annotations

import logging

from autograder.answers import MISSING
from autograder.checks import choice, formula, matrix, scalar, shape
from autograder.checks.common import Unreadable, to_plain
from autograder.report.results import CheckResult, Stage, failed_check
from autograder.worksheet import Variable, mistakes
from autograder.worksheet import variable as worksheet_variable

log = logging.getLogger(__name__)

#: kind -> (read, grade)
KINDS = {
    "integer": (scalar.read_integer, scalar.grade_integer),
    "expression": (scalar.read_expression, scalar.grade_expression),
    "formula": (formula.read_formula, formula.grade_formula),
    "formula_tuple": (formula.read_formula_tuple, formula.grade_formula_tuple),
    "matrix": (matrix.read_matrix, matrix.grade_matrix),
    "free_band_matrix": (matrix.read_free_matrix, matrix.grade_free_band_matrix),
    "shape": (shape.read_shape, shape.grade_shape),
    "choice": (choice.read_choice, choice.grade_choice),
    "choices": (choice.read_choices, choice.grade_choices),
}

def check_variable(variable: Variable, value) -> CheckResult:
    """The verdict on one answer. Raises ValueError only for a kind it does not check
    (``program`` is checked by running code elsewhere); never for a student's value."""
    if variable.kind not in KINDS:
        raise ValueError(f"check_variable does not check kind {variable.kind!r} "
                         f"(variable {variable.name}); known kinds: {sorted(KINDS)}")
    try:
        return _check(variable, value)
    except Exception:
        log.exception("grader error while checking %s", variable.name)
        return failed_check(variable)


def _check(variable: Variable, value) -> CheckResult:
    if value is MISSING:
        return _result(variable, 0.0, Stage.MISSING,
                       f"`{variable.name}` is not defined: assign your answer to it in the answer "
                       f"cell.")
    read, grade = KINDS[variable.kind]
    try:
        reading = read(variable, to_plain(value))
    except Unreadable as problem:
        return _result(variable, 0.0, problem.stage, problem.reason, pointer=problem.pointer,
                       reading=problem.reading)
    verdict = grade(variable, reading)
    return _result(variable, verdict.fraction, verdict.stage, verdict.message,
                   mistake=verdict.mistake, hint=verdict.hint, reading=reading.code,
                   reading_label=reading.label, notes=reading.notes)


def _result(variable: Variable, fraction: float, stage: Stage, verdict, **parts) -> CheckResult:
    return CheckResult(variable.name, round(fraction * variable.points, 6), variable.points,
                       verdict, stage=stage, hidden=variable.hidden, **parts)


def catalogue_problems() -> list[str]:
    """Entries of the catalogue that cannot work: unreadable by their variable's reader, equal to
    the reference (full marks), or shadowed by an earlier equivalent entry (the first match
    wins, so a later one would never be shown). Empty when every entry gets its own message."""
    entries = [(f"entry {n} ({m.variable}, {m.id})", m, worksheet_variable(m.variable))
               for n, m in enumerate(mistakes.CATALOGUE, 1)]
    problems, unreadable = [], set()
    for where, mistake, variable in entries:
        try:
            KINDS[variable.kind][0](variable, to_plain(mistake.answer))
        except Unreadable as problem:
            problems.append(f"{where}: unreadable: {problem.message}")
            unreadable.add(variable.name)
    for where, mistake, variable in entries:
        if variable.name in unreadable:  # its other entries cannot be compared until it is fixed
            continue
        result = _check(variable, mistake.answer)
        if result.score >= result.max_score:
            problems.append(f"{where}: equals the reference answer")
        elif result.mistake != mistake.id:
            problems.append(f"{where}: graded as {result.mistake or result.stage!r} instead")
    return problems
