"""One variant's worksheet: its questions and catalogue, and the lookups graders need.

``variants.sheet(variant)`` builds one per variant and keeps it; ``DEFAULT``'s is the module-level
worksheet (``worksheet.QUESTIONS``, ``mistakes.CATALOGUE``) itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from autograder import worksheet
from autograder.worksheet import mistakes
from autograder.worksheet.numbers import DEFAULT, Variant


@dataclass(frozen=True)
class Sheet:
    """The worksheet of one variant."""

    variant: Variant
    questions: tuple[worksheet.Question, ...]  # Q1's and this variant's Q2
    catalogue: tuple[mistakes.Mistake, ...]

    def variable(self, name: str) -> worksheet.Variable:
        """The answer variable with this name; KeyError names it."""
        return worksheet.variable(name, self.questions)

    def entries(self, name: str) -> tuple[mistakes.Mistake, ...]:
        """The catalogue entries for one variable, in catalogue order (the first match wins)."""
        return mistakes.for_variable(name, self.catalogue)

    def graded(self, questions: tuple[worksheet.Question, ...]) -> tuple[worksheet.Question, ...]:
        """``questions`` (a run's: all, or Q2 only) with this variant's versions of Q2's."""
        mine = {q.id: q for q in self.questions}
        return tuple(mine.get(q.id, q) for q in questions)


def build(v: Variant) -> Sheet:
    """The sheet of ``v``, built anew (``variants.sheet`` keeps one per variant)."""
    if v == DEFAULT:
        return Sheet(v, worksheet.QUESTIONS, mistakes.CATALOGUE)
    return Sheet(v, worksheet.Q1_QUESTIONS + worksheet.q2_questions(v), mistakes.catalogue(v))
