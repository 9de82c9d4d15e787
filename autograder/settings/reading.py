"""How answers written outside the notebook's syntax are read (issue 31)."""

from __future__ import annotations

from dataclasses import dataclass

READING_POLICIES = ("grade", "explain")
APPROXIMATION_POLICIES = ("refuse", "review")


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
    approximations: str = "refuse"
    """an approximation of a large count (`~100B`, `1e11` for 196608*508032; the worksheet's
    solution writes "≈ 100B" after the exact product): refuse: no credit, and the feedback says
    the question asks for the exact count; review: undecided, so it scores
    `ReviewPolicy.undecided_credit` and waits in the review queue for course staff"""
    approximation_tolerance: float = 0.01
    """how close (relative to the exact count) an answer must be to count as its approximation;
    farther off it is an ordinary wrong answer"""
    large_count: int = 1_000_000
    """a whole-number answer at least this large is a count students may approximate"""

    def __post_init__(self) -> None:
        if self.policy not in READING_POLICIES:
            raise ValueError(f"policy {self.policy!r} is not one of {READING_POLICIES}")
        if self.approximations not in APPROXIMATION_POLICIES:
            raise ValueError(f"approximations {self.approximations!r} is not one of "
                             f"{APPROXIMATION_POLICIES}")
        if not 0 <= self.approximation_tolerance < 1:
            raise ValueError("approximation_tolerance must be at least 0 and below 1")
