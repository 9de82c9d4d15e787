"""How answers written outside the notebook's syntax are read (issue 31)."""

from __future__ import annotations

from dataclasses import dataclass

READING_POLICIES = ("grade", "explain")


@dataclass(frozen=True)
class Reading:
    """How the grader reads LaTeX, Unicode, units and other notation students write."""

    policy: str = "grade"
    """grade: an answer whose reading is unambiguous (LaTeX, Unicode, implied products between
    known names, thousands separators, a unit word, `3x256x256` for a shape, `W_out = 9`) is
    graded as that reading, and the feedback says how it was read; explain: it only gets a
    message saying what to write (the behaviour before issue 31). Ambiguous forms are never read"""
    unit_words: tuple[str, ...] = ("parameters", "params", "weights", "elements", "entries")
    """words a number may end with ("21 parameters"); they are dropped with a note"""
    latex_characters: int = 400
    """LaTeX longer than this is not handed to SymPy's LaTeX parser"""

    def __post_init__(self) -> None:
        if self.policy not in READING_POLICIES:
            raise ValueError(f"policy {self.policy!r} is not one of {READING_POLICIES}")
