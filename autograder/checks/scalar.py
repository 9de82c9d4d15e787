"""Checkers for single values: ``integer`` (exact) and ``expression`` (equal up to algebra)."""

from __future__ import annotations

from autograder.answers import reading as notation
from autograder.checks import cas
from autograder.checks.common import (
    RIGHT,
    Kind,
    Reading,
    Unreadable,
    Verdict,
    expanded_key,
    expected,
    find_mistake,
    read_expr,
    show,
    type_error,
    undecided,
    wrong,
)
from autograder.report.results import Stage
from autograder.worksheet import Variable


def read_integer(variable: Variable, value) -> Reading:
    """A number: an int, a float, or text such as "196608*508032" (read exactly)."""
    if isinstance(value, bool):
        raise type_error(variable, value, "a whole number")
    number, notes = read_expr(variable, value, wanted="a whole number")
    if number.free_symbols:
        raise Unreadable(f"That is a formula, not a number: `{variable.name}` should be the "
                         f"number for this case.", Stage.TYPE, reading=show(number))
    return Reading(number, show(number), notes)


def grade_integer(variable: Variable, reading: Reading, entries) -> Verdict:
    reference = expected(variable, read_integer)
    if reading.value == reference.value:
        return Verdict(1.0, Stage.EXACT, RIGHT)
    found = find_mistake(variable, read_integer, entries, lambda m: m.value == reading.value)
    if found:
        return found
    if approximates(reading.value, reference.value) and not variable.hidden:
        return approximation_verdict(variable)
    detail = "" if reading.value.is_Integer else " The answer should be a whole number."
    return wrong(variable, reference.shown, reading.shown, Stage.EXACT, detail)


def approximates(value, exact) -> bool:
    """Whether ``value`` is an approximation of the large count ``exact``: a different number
    within ``Reading.approximation_tolerance`` of it (``1e11`` for 196608*508032)."""
    settings = notation.SETTINGS
    if not (value.is_Rational and exact.is_Integer) or abs(exact) < settings.large_count:
        return False
    return value != exact and abs(value - exact) <= settings.approximation_tolerance * abs(exact)


def approximation_verdict(variable: Variable) -> Verdict:
    """The verdict on an approximation of the count, by ``Reading.approximations``."""
    if notation.SETTINGS.approximations == "review":
        return Verdict(0.0, Stage.UNDECIDED, f"That is close to the count but not exact; "
                                             f"`{variable.name}` asks for the exact number, so "
                                             f"course staff will review it.")
    return Verdict(0.0, Stage.EXACT, f"Not correct: that is an approximation, and "
                                     f"`{variable.name}` asks for the exact count (a product of "
                                     f"whole numbers is fine).")


def read_expression(variable: Variable, value) -> Reading:
    """A SymPy expression from text, SymPy's printed text or a number."""
    if isinstance(value, bool):
        raise type_error(variable, value, "an expression")
    expr, notes = read_expr(variable, value, wanted="an expression such as k1*x1 + k2*x2")
    return Reading(expr, show(expr), notes)


def grade_expression(variable: Variable, reading: Reading, entries) -> Verdict:
    reference = expected(variable, read_expression)
    if reading.value == reference.value:
        return Verdict(1.0, Stage.EXACT, RIGHT)
    same = cas.equal(reading.value, reference.value)
    if same:
        return Verdict(1.0, Stage.CAS, RIGHT)
    found = find_mistake(variable, read_expression, entries,
                         lambda m: cas.equal(m.value, reading.value) is True)
    if found:
        return found
    if same is None:
        return undecided()
    return wrong(variable, reference.shown, reading.shown, Stage.CAS)


def _key(variable: Variable, reading: Reading) -> str:
    return expanded_key([reading.value])


def _same(variable: Variable, a: Reading, b: Reading) -> bool:
    return a.value == b.value or cas.equal(a.value, b.value) is True


INTEGER = Kind("integer", read_integer, grade_integer, _key, _same)
EXPRESSION = Kind("expression", read_expression, grade_expression, _key, _same)
