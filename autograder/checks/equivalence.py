"""When are two students' answers the same answer? Each answer kind decides (``Kind.key`` and
``Kind.same``, in the kind's module).

``read(variable, value)`` reads an answer as the variable's kind does (``Unreadable`` as there);
``quick_key(variable, reading)`` is a cheap canonical form: equal keys mean equivalent answers,
and a key starting with ``CANONICAL`` (expanded polynomials, a formula's exact values on the
whole domain, exact numbers and tuples) also means that different keys are different answers.
``same(variable, a, b)`` is the kind's own comparison, needed only when a key is not canonical
(a quotient, a floor written two ways outside the enumerable domain). Used to form answer groups
and to match an override to every answer equivalent to its own.
"""

from __future__ import annotations

from typing import Any

from autograder.checks.common import CANONICAL, Reading, to_plain
from autograder.checks.kinds import kind_of
from autograder.worksheet import Variable

__all__ = ["CANONICAL", "quick_key", "read", "same"]


def read(variable: Variable, value: Any) -> Reading:
    """The answer as the variable's kind reads it; raises ``Unreadable`` as the kind does."""
    return kind_of(variable).read(variable, to_plain(value))


def quick_key(variable: Variable, reading: Reading) -> str:
    """A canonical text of the reading: equal keys are equivalent answers."""
    return kind_of(variable).key(variable, reading)


def same(variable: Variable, a: Reading, b: Reading) -> bool:
    """Whether two readings are the same answer by the kind's own comparison (undecided counts
    as different, so an undecided answer never joins a decided group)."""
    return a.value == b.value or kind_of(variable).same(variable, a, b)
