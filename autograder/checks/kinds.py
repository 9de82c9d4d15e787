"""What an answer kind is: one object with one interface, and the registry of them.

A ``Kind`` (declared in ``common.py``) reads a student's plain value (``Unreadable`` for a format or type problem), grades a
reading against the variable's reference and the catalogue entries it is given, and says when two
readings are the same answer: ``key`` is a cheap text (equal keys are equivalent answers; a key
starting with ``CANONICAL`` also means different keys are different answers) and ``same`` the
kind's own comparison, for keys that are not canonical. References come from the ``Variable`` and
the mistakes from the caller, never from a lookup by name, so a variant of the worksheet (other
numbers, other references, a catalogue computed from them) is graded by the same kinds.

Adding a kind: its module declares one ``Kind``; ``REGISTERED`` below lists it. A worksheet
variable whose kind is not registered fails at import. ``program`` (checked by running code) is a
registered kind too, whose ``runs_code`` says so.
"""

from __future__ import annotations

from autograder.checks.common import Kind
from autograder.worksheet import QUESTIONS, Variable

def _registry() -> dict[str, Kind]:
    from autograder.checks import choice, formula, matrix, program, scalar, shape

    registered = (scalar.INTEGER, scalar.EXPRESSION, formula.FORMULA, formula.FORMULA_TUPLE,
                  matrix.MATRIX, matrix.FREE_BAND_MATRIX, shape.SHAPE, choice.CHOICE,
                  choice.CHOICES, program.PROGRAM)
    kinds = {k.name: k for k in registered}
    assert len(kinds) == len(registered), "two kinds share a name"
    return kinds


REGISTERED: dict[str, Kind] = _registry()


def unknown_kinds() -> list[str]:
    """The worksheet's variables whose kind no module declares (empty when all are known)."""
    return [f"{v.name}: kind {v.kind!r}" for q in QUESTIONS for v in q.variables
            if v.kind not in REGISTERED]


_unknown = unknown_kinds()
if _unknown:
    raise ImportError(f"answer kinds not registered in checks/kinds.py: {'; '.join(_unknown)} "
                      f"(known: {sorted(REGISTERED)})")


def kind_of(variable: Variable) -> Kind:
    """The variable's kind; ValueError names the known kinds for an unregistered one."""
    try:
        return REGISTERED[variable.kind]
    except KeyError:
        raise ValueError(f"{variable.name} has kind {variable.kind!r}, which no module declares; "
                         f"known kinds: {sorted(REGISTERED)}") from None


def checked_by_reading(variable: Variable) -> bool:
    """Whether the variable's answer is a value its kind reads and grades (not a program)."""
    return not kind_of(variable).runs_code


def read_names(questions) -> list[str]:
    """The variables of ``questions`` whose answers are read and graded, by name in worksheet
    order: what running a notebook collects (Q1's programs are run, not read)."""
    return [v.name for q in questions for v in q.variables if checked_by_reading(v)]
