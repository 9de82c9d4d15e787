"""When are two students' answers the same answer? Each answer kind's own checker decides.

``read(variable, value)`` reads an answer with the variable's checker (``Unreadable`` as there);
``quick_key(variable, reading)`` is a cheap canonical form: equal keys mean equivalent answers,
and a key starting with ``CANONICAL`` (expanded polynomials, a formula's exact values on the
whole domain, exact numbers and tuples) also means that different keys are different answers.
``same(variable, a, b)`` is the checker's own comparison, needed only when a key is not
canonical (a quotient, a floor written two ways outside the enumerable domain). Used to form answer
groups and to match an override to every answer equivalent to its own.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sympy

from autograder.checks import KINDS, cas, formula, matrix
from autograder.checks.common import Reading, to_plain
from autograder.worksheet import Variable


def read(variable: Variable, value: Any) -> Reading:
    """The answer as the variable's checker reads it; raises ``Unreadable`` as the checker does."""
    reader, _ = KINDS[variable.kind]
    return reader(variable, to_plain(value))


CANONICAL = "canonical:"


def _expanded(expr) -> str:
    return _expanded_all([expr])


def _expanded_all(exprs: list) -> str:
    """The expanded forms' text, in one CAS call (one deadline for a whole matrix); canonical
    when every entry is a polynomial (SymPy's expanded sums of monomials are then unique)."""
    def expand():
        expanded = [sympy.expand(e) for e in exprs]
        polynomial = all(e.is_polynomial() for e in expanded)
        return (CANONICAL if polynomial else "") + repr([sympy.srepr(e) for e in expanded])

    try:
        return cas.run(expand)
    except Exception:  # slow or odd: the plain form still groups identical answers
        return repr([sympy.srepr(e) for e in exprs])


def _formula_key(expr) -> str:
    """The formula's exact values on the whole enumeration domain (equal on every valid input
    means the same key), else its expanded form."""
    try:
        numerators, denominators, defined = formula.evaluate(expr)
    except Exception:
        return "expr:" + _expanded(expr).removeprefix(CANONICAL)
    digest = hashlib.sha256(repr(sorted(map(str, expr.free_symbols))).encode())
    for column in (numerators, denominators, defined):
        digest.update(column.tobytes())
    return CANONICAL + "values:" + digest.hexdigest()


def quick_key(variable: Variable, reading: Reading) -> str:
    """A canonical text of the reading: equal keys are equivalent answers."""
    kind, value = variable.kind, reading.value
    if kind in ("integer", "expression"):
        return _expanded(value)
    if kind == "formula":
        return _formula_key(value)
    if kind == "formula_tuple":
        keys = [_formula_key(r.value) for r in value]
        canonical = all(k.startswith(CANONICAL) for k in keys)
        return (CANONICAL if canonical else "") + repr(keys)
    if kind == "matrix":
        width = len(value[0]) if value else 0
        entries = _expanded_all([e for row in value for e in row])
        return (CANONICAL if entries.startswith(CANONICAL) else "") + repr((len(value), width,
                                                                           entries))
    return CANONICAL + repr(value)  # shapes, choices, free band matrices: equal values only


def same(variable: Variable, a: Reading, b: Reading) -> bool:
    """Whether two readings are the same answer by the checker's own comparison (undecided
    counts as different, so an undecided answer never joins a decided group)."""
    kind = variable.kind
    if a.value == b.value:
        return True
    if kind in ("integer", "expression"):
        return cas.equal(a.value, b.value) is True
    if kind == "formula":
        return _same_formula(a.value, b.value)
    if kind == "formula_tuple":
        return len(a.value) == len(b.value) and all(
            _same_formula(x.value, y.value) for x, y in zip(a.value, b.value))
    if kind == "matrix":
        return (matrix._shape(a) == matrix._shape(b)
                and not matrix._differences(a.value, b.value))
    return False  # shapes, choices, free band matrices: equal values only


def _same_formula(a, b) -> bool:
    """Equal on every valid input, both ways round (each formula's own domain)."""
    return formula._same_formula(a, b) and formula._same_formula(b, a)
