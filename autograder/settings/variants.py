"""Per-student variants of Q2 (issue 20): the switch, the course's salt and the copy policy."""

from __future__ import annotations

from dataclasses import dataclass

COPY_POLICIES = ("as-is", "review", "zero")


@dataclass(frozen=True)
class Variants:
    """Each student their own Q2 numbers, derived from their Gradescope email."""

    enabled: bool = False
    """build the variant assignment (make assign VARIANTS=1), whose notebooks and zip record it
    so grading needs no switch; when grading, an override forcing per-student Q2 (off: each
    notebook's record decides; without one, the worksheet's numbers as before variants)"""
    salt: str = "eecs182-dis05"
    """the course's secret mixed into every student's variant: change it each term, so last
    term's numbers are not this term's (python -m autograder variant EMAIL shows a student's)"""
    copy_policy: str = "as-is"
    """what an answer right for another variant than the student's own (a copy) scores: as-is
    (graded as it stands, and flagged for staff), review (held at the review policy's credit,
    and flagged) or zero (no points, and flagged); the student is never told of the flag"""

    def __post_init__(self) -> None:
        if self.copy_policy not in COPY_POLICIES:
            raise ValueError(f"copy_policy {self.copy_policy!r} is not one of {COPY_POLICIES}")
