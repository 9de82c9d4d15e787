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
from autograder.worksheet.variants import DEFAULT

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
        items += copy_items(result, student)
        if held := result.details.get("assignment_problem"):  # grading/assignment.py
            items.append(ReviewItem(result.submission, student, "", "", "", ASSIGNMENT_STAGE,
                                    result.score, result.max_score, "held: the assignment's "
                                    "record contradicts this run (variants)", held))
    return items


ASSIGNMENT_STAGE = "assignment"
"""the review queue's stage of a submission whose assignment record contradicts the run"""


COPY_STAGE = "copy"
"""the review queue's stage of an answer that fits another student's numbers (variants)"""


def copy_items(result, student: str) -> list[ReviewItem]:
    """The answers of ``result`` that fit another variant than the student's own (copies
    revealed by per-student variants): for staff only, naming the variant and who has it."""
    flags = result.details.get("copies") or []
    if not flags:
        return []
    own = (result.details.get("identity") or {}).get("variant_label", "")
    checks = {c.variable: (q.question, c) for q in result.questions for c in q.checks}
    items = []
    for flag in flags:
        question, c = checks.get(flag["variable"], ("", None))
        how = "right" if flag["outcome"] == "right" else f"the known mistake {flag['outcome']}"
        source = ", ".join(flag.get("classmates") or []) or (
            "the worksheet's published solutions" if flag["variant"] == DEFAULT.label
            else "no classmate in this run")
        items.append(ReviewItem(
            result.submission, student, question, flag["variable"],
            (c.shown + c.notes_text) if c is not None and c.reading else "", COPY_STAGE,
            c.score if c is not None else 0.0, c.max_score if c is not None else 0.0,
            "possible copy: scored by the copy policy (settings: Variants.copy_policy)",
            f"wrong for this student's numbers ({own}) but {how} for variant {flag['variant']}; "
            f"source: {source}"))
    return items


def copy_lines(items: list[ReviewItem]) -> tuple[str, ...]:
    """One line per copy flag of the queue, for the review page."""
    return tuple(f"{i.submission}{f' ({i.student})' if i.student else ''}"
                 f"{f', {i.variable}' if i.variable else ''}: "
                 f"{i.message}" for i in items if i.stage in (COPY_STAGE, ASSIGNMENT_STAGE))


def write_review_csv(path: Path, items: list[ReviewItem]) -> Path:
    return write_csv(path, COLUMNS, (i.csv_row() for i in items))
