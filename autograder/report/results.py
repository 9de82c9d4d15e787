"""The typed result model, and the one place it is serialised (Gradescope's results.json).

A ``CheckResult`` is one answer variable's verdict; a ``QuestionResult`` groups a sub-question's
checks (one Gradescope test, one CSV column); a ``SubmissionResult`` is a whole submission with
its execution status. Scores are derived, never stored twice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class CheckResult:
    """The verdict on one answer variable."""

    variable: str
    score: float
    max_score: float
    message: str
    stage: str = ""  # what decided: missing, format, exact, cas, enumeration, catalogue, run ...
    mistake: str | None = None  # the catalogue id of a recognised mistake
    hidden: bool = False

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score


@dataclass
class QuestionResult:
    """The checks of one sub-question."""

    question: str
    title: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @property
    def max_score(self) -> float:
        return sum(c.max_score for c in self.checks)

    def feedback(self, *, include_hidden: bool = True) -> str:
        """The text a student reads for this question, one paragraph per variable."""
        parts = []
        for c in self.checks:
            if c.hidden and not include_hidden:
                parts.append(f"{c.variable}: graded after the deadline.")
            else:
                mark = "✔" if c.passed else ("◐" if c.score > 0 else "✘")
                parts.append(f"{mark} {c.variable} ({_num(c.score)}/{_num(c.max_score)}): {c.message}")
        return "\n".join(parts)


@dataclass
class SubmissionResult:
    """Everything known about one graded submission."""

    submission: str
    status: str
    questions: list[QuestionResult] = field(default_factory=list)
    seconds: float = 0.0
    log: str = ""  # for staff: what the execution printed, tracebacks of the grader
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return round(sum(q.score for q in self.questions), 6)

    @property
    def max_score(self) -> float:
        return sum(q.max_score for q in self.questions)

    def question_scores(self) -> dict[str, float]:
        return {q.question: q.score for q in self.questions}

    def to_dict(self) -> dict:
        return asdict(self)


def _num(x: float) -> str:
    return f"{x:g}"


def status_message(status: str) -> str:
    """A sentence for the student about how execution went."""
    if status == "ok":
        return "Your notebook ran to the end."
    if status == "timeout":
        return ("Your notebook hit the time limit; answers defined before that point were graded. "
                "Look for a cell that runs forever.")
    if status == "memory":
        return ("Your notebook ran out of memory; answers defined before that point were graded. "
                "Look for a very large allocation.")
    if status == "crashed":
        return ("Your notebook's process stopped early (it exited or crashed); answers defined "
                "before that point were graded.")
    if status.startswith("invalid notebook"):
        return f"Your submission could not be read as a notebook ({status}). Resubmit a .ipynb file."
    if status == "grader error":
        return ("The autograder itself failed on your submission. This is not your fault: please "
                "tell course staff (they have the details).")
    return status


def summary_message(result: SubmissionResult) -> str:
    """How the run went, for the student: the status, and cells stopped by the per-cell limit."""
    message = status_message(result.status)
    stopped = result.details.get("stopped_cells", 0)
    if isinstance(stopped, list):  # the stopped cells' names
        stopped = f"{len(stopped)} cell(s) ({', '.join(stopped)})" if stopped else 0
    elif stopped:
        stopped = f"{stopped} cell(s)"
    if stopped:
        message += (f" {stopped} ran past the time limit for one cell and were stopped; "
                    "the cells after them still ran. Look for a loop that never ends.")
    return message


def question_markdown(q: QuestionResult) -> str:
    """A question's feedback for Gradescope (Markdown): one paragraph per answer variable."""
    from autograder.report import markdown

    parts = []
    for c in q.checks:
        if c.hidden:
            parts.append(f"{markdown.code_span(c.variable)}: graded after the deadline.")
            continue
        mark = "✔" if c.passed else ("◐" if c.score > 0 else "✘")
        parts.append(f"{mark} {markdown.code_span(c.variable)} ({_num(c.score)}/{_num(c.max_score)}): "
                     f"{markdown.message(c.message)}")
    return "\n\n".join(parts)


def gradescope_name(q: QuestionResult) -> str:
    """The descriptive name Gradescope shows: ``Q2a: Output of a valid ... convolution``."""
    return f"{q.question[:1].upper()}{q.question[1:]}: {q.title}"


def gradescope_number(q: QuestionResult) -> str:
    """Gradescope's test number: the worksheet's question and part (``q2a`` -> ``2.a``)."""
    return f"{q.question[1:-1]}.{q.question[-1]}" if len(q.question) > 2 else q.question


def to_gradescope(result: SubmissionResult) -> dict:
    """Gradescope's results.json: one test per question (Markdown output), plus a hidden staff
    log (plain text)."""
    from autograder.report import markdown

    tests = [
        {
            "name": gradescope_name(q),
            "number": gradescope_number(q),
            "score": q.score,
            "max_score": q.max_score,
            "status": "passed" if q.score >= q.max_score else "failed",
            "output": question_markdown(q),
            "output_format": "md",
            "visibility": "visible",
        }
        for q in result.questions
    ]
    tests.append({
        "name": "Staff log",
        "number": "0",
        "score": 0,
        "max_score": 0,
        "status": "passed",
        "output": f"status: {result.status}\nseconds: {result.seconds:.1f}\n{result.log}"[-20_000:],
        "output_format": "text",
        "visibility": "hidden",
    })
    return {
        "score": result.score,
        "execution_time": round(result.seconds, 3),
        "output": markdown.inline(summary_message(result)),
        "output_format": "md",
        "test_output_format": "md",
        "tests": tests,
        "extra_data": {
            "status": result.status,
            "seconds": round(result.seconds, 3),
            # what decided each verdict (exact, cas, enumeration, catalogue, format, missing, ...)
            "checks": {c.variable: {"score": c.score, "stage": c.stage, "mistake": c.mistake}
                       for q in result.questions for c in q.checks},
        },
    }
