"""The review queue: answers the grader could not decide, until an override settles them.

An answer is queued when its check's stage is one of ``ReviewPolicy.review_stages`` (the CAS and
the integer enumeration could not decide, or the check itself failed). It scores by the policy
(``pipeline.apply_review_policy``); an override that matches it takes it out of the queue, since
its stage is then "override".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.report import write_csv
from autograder.report.answer_groups import person
from autograder.settings.limits import ReviewPolicy

REVIEW_FILE = "review.csv"
COLUMNS = ("submission", "student", "question", "variable", "reading", "stage", "score",
           "max_score", "policy", "message")


@dataclass(frozen=True)
class ReviewItem:
    submission: str
    student: str
    question: str
    variable: str
    reading: str
    stage: str
    score: float
    max_score: float
    policy: str
    message: str

    def csv_row(self) -> dict:
        return {"submission": self.submission, "student": self.student,
                "question": self.question, "variable": self.variable, "reading": self.reading,
                "stage": self.stage, "score": f"{self.score:g}", "max_score": f"{self.max_score:g}",
                "policy": self.policy, "message": self.message}


def policy_text(policy: ReviewPolicy) -> str:
    return (f"scores {policy.undecided_credit:g} of the points until an override settles it")


def queue(records: list[dict], policy: ReviewPolicy = ReviewPolicy()) -> list[ReviewItem]:
    """Every undecided answer in ``records`` (``report.read_records``), by submission."""
    items = []
    for record in records:
        result = record["result"]
        student = person(record.get("student") or {})
        for q in result.questions:
            for c in q.checks:
                if c.stage in policy.review_stages:
                    items.append(ReviewItem(result.submission, student, q.question, c.variable,
                                            c.shown + c.notes_text if c.reading else "", c.stage,
                                            c.score, c.max_score, policy_text(policy), c.message))
    return items


def write_review_csv(path: Path, items: list[ReviewItem]) -> Path:
    return write_csv(path, COLUMNS, (i.csv_row() for i in items))
