"""The typed result model, and the one place it is serialised (Gradescope's results.json).

A ``CheckResult`` is one answer variable's verdict in parts (how the answer was read, the verdict,
the mistake, the hint), with the ``Stage`` that decided it; a
``QuestionResult`` groups a sub-question's checks (one Gradescope test, one CSV column); a
``SubmissionResult`` is a whole submission with its ``Status``. Scores are derived, never stored
twice. The plain text is here (``CheckResult.message``, ``QuestionResult.feedback``); Gradescope's
results.json and its Markdown are ``gradescope.py`` and ``markdown.py``. A failure of the grader itself always becomes ``grader_failure`` (a whole submission) or
``failed_check`` (one answer): the student reads ``GRADER_FAILED``, staff read the traceback.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """How running a submission went: grades.csv's ``status`` column (``status_text``)."""

    OK = "ok"
    TIMEOUT = "timeout"
    MEMORY = "memory"
    CRASHED = "crashed"
    INVALID = "invalid notebook"
    GRADER_ERROR = "grader error"
    REFUSED = "refused"
    """intake would not read the file (a link, a FIFO, a refused archive member, too large)"""

    def text(self, reason: str = "") -> str:
        """The status as written in CSVs, records and logs: ``invalid notebook: <reason>``."""
        return f"{self.value}: {reason}" if reason else self.value

    @classmethod
    def parse(cls, text: str) -> tuple[Status, str]:
        """The inverse of ``text``: (status, reason)."""
        head, _, reason = str(text).partition(": ")
        return cls(head), reason


class Stage(StrEnum):
    """What decided one answer's verdict (results.json's ``extra_data``, the review queue)."""

    NONE = ""
    MISSING = "missing"
    """unanswered: the variable is not defined or still the placeholder ``...`` (or the notebook
    stopped before Q1's probe)"""
    FORMAT = "format"
    """the answer's text could not be read"""
    TYPE = "type"
    """the answer is the wrong kind of value"""
    EXACT = "exact"
    CAS = "cas"
    ENUMERATION = "enumeration"
    """a floor formula compared on every valid integer input"""
    CATALOGUE = "catalogue"
    """a known mistake"""
    RUN = "run"
    """Q1: measured by running the student's code"""
    UNDECIDED = "undecided"
    """the grader could not decide: scored by ``ReviewPolicy``, in the review queue"""
    GRADER_ERROR = "grader error"
    OVERRIDE = "override"
    """course staff's decision (overrides.yaml)"""
    NOT_RUN_HERE = "not run here"
    """the student's own check of a program answer (only the autograder runs it)"""


STAGE_MEANINGS: dict[Stage, str] = {
    Stage.MISSING: "not answered",
    Stage.FORMAT: "its text could not be read as an answer",
    Stage.TYPE: "the wrong kind of value for this question",
    Stage.EXACT: "compared with the reference exactly",
    Stage.CAS: "compared with the reference by algebra (SymPy)",
    Stage.ENUMERATION: "compared with the reference on every valid whole-number input",
    Stage.CATALOGUE: "a known mistake, from the catalogue",
    Stage.RUN: "measured by running the student's code",
    Stage.UNDECIDED: "the algebra could not decide, or it was too costly to try",
    Stage.GRADER_ERROR: "the grader itself failed on it",
    Stage.OVERRIDE: "decided by an entry of the overrides file",
    Stage.NOT_RUN_HERE: "a program only the autograder runs",
}
"""what each stage word means, in plain words (the review page explains them with these)"""


def typed_status(status: Status | str, reason: str = "") -> tuple[Status, str]:
    """``(status, reason)`` typed: plain text from a record or a test ("invalid notebook: why")
    is parsed, a reason given beside it wins."""
    if isinstance(status, Status):
        return status, reason
    parsed, said = Status.parse(status)
    return parsed, reason or said


GRADER_FAILED = ("The autograder failed while checking this answer. This is not your fault: "
                 "please tell course staff (they have the details).")
"""what the student reads wherever the grader itself failed"""


Text = tuple[str, ...]
"""Prose and code alternately: ``("Not correct: expected ", "k1*x1", ", got ", "k2*x2", ".")``.
Even items are prose (a backtick span in it names a variable, as in `` `q2a_first` ``), odd items
are an answer or expression the student should see as code. Plain text joins them; Markdown makes
the odd items code spans."""


def plain(parts: Text) -> str:
    return "".join(parts)


@dataclass
class CheckResult:
    """The verdict on one answer variable, in parts (each rendering composes them its own way).

    ``verdict``: what the grader concluded (``Text``), or why the answer could not be read;
    ``reading``: the answer as the grader read it, as code (empty when it could not be read), after
    ``reading_label`` when the code is only part of it ("a 3x3 matrix with first row");
    ``notes``: what the reader changed on the way ("read ^ as **"); ``mistake``: the catalogue
    (or override) id; ``hint``: advice after the verdict (a known mistake's message);
    ``pointer``: the answer's text with a caret under the first problem (a format error);
    ``review``: the review policy's note for an undecided answer. ``message`` is the plain text.
    """

    variable: str
    score: float
    max_score: float
    verdict: Text
    stage: Stage = Stage.NONE
    mistake: str | None = None  # the catalogue id of a recognised mistake
    hidden: bool = False
    reading: str = ""
    reading_label: str = ""
    notes: tuple[str, ...] = ()
    hint: str = ""
    pointer: str = ""
    review: str = ""
    suggestion: str = ""
    """for an unreadable answer, the whole answer as the grader suggests reading it (``k1*x1``
    for ``K1*x1``): the review page offers it to accept in one click"""
    costly: str = ""
    """the checking limit this answer passed, undecided (``too_costly``): answer groups and
    overrides then go by its text, never by reading it again"""

    def __post_init__(self) -> None:
        self.stage = Stage(self.stage)  # plain text (a record, a test) becomes the typed stage
        self.verdict = (self.verdict,) if isinstance(self.verdict, str) else tuple(self.verdict)
        self.notes = tuple(self.notes)

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score

    @property
    def shown(self) -> str:
        """How the answer was read, with its label ("" when it was not read)."""
        return f"{self.reading_label} {self.reading}" if self.reading_label else self.reading

    @property
    def notes_text(self) -> str:
        return f" ({'; '.join(self.notes)})" if self.notes else ""

    @property
    def message(self) -> str:
        """The whole feedback as plain text: how the answer was read, the verdict, the hint, the
        pointer's lines (indented by 4) and the review note."""
        body = plain(self.verdict) + (f" {self.hint}" if self.hint else "")
        if self.reading:
            body = f"Read your answer as {self.shown}{self.notes_text}. {body}"
        if self.review:
            body += f" ({self.review})"
        if self.pointer:
            body += "".join(f"\n    {line}" for line in self.pointer.split("\n"))
        return body


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

    def feedback(self) -> str:
        """The text a student reads for this question, one paragraph per variable."""
        parts = []
        for c in self.checks:
            mark = "✔" if c.passed else ("◐" if c.score > 0 else "✘")
            parts.append(f"{mark} {c.variable} ({_num(c.score)}/{_num(c.max_score)}): {c.message}")
        return "\n".join(parts)


@dataclass
class SubmissionResult:
    """Everything known about one graded submission."""

    submission: str
    status: Status
    questions: list[QuestionResult] = field(default_factory=list)
    seconds: float = 0.0
    log: str = ""  # for staff: what the execution printed, tracebacks of the grader
    details: dict[str, Any] = field(default_factory=dict)
    reason: str = ""  # why, for an invalid notebook ("not valid JSON ...")

    def __post_init__(self) -> None:
        self.status, self.reason = typed_status(self.status, self.reason)

    @property
    def status_text(self) -> str:
        return self.status.text(self.reason)

    @property
    def score(self) -> float:
        return round(sum(q.score for q in self.questions), 6)

    @property
    def max_score(self) -> float:
        return sum(q.max_score for q in self.questions)

    def question_scores(self) -> dict[str, float]:
        return {q.question: q.score for q in self.questions}

    def to_dict(self) -> dict:
        """Plain data (JSON's types); ``result_from_dict`` is the inverse."""
        data = asdict(self)
        data["status"] = self.status_text
        del data["reason"]
        return data


def result_from_dict(data: dict) -> SubmissionResult:
    """The inverse of ``SubmissionResult.to_dict`` (also reads records of earlier versions)."""
    questions = [QuestionResult(q["question"], q["title"], [_check_from_dict(c) for c in q["checks"]])
                 for q in data["questions"]]
    return SubmissionResult(data["submission"], data["status"], questions,
                            data.get("seconds", 0.0), data.get("log", ""), data.get("details", {}))


def _check_from_dict(data: dict) -> CheckResult:
    """A check from its record; a record of an earlier version has its feedback as one
    ``message``, which becomes the verdict."""
    data = dict(data)
    if "message" in data:
        data["verdict"] = data.pop("message")
    return CheckResult(**data)


def failed_check(variable) -> CheckResult:
    """One answer (a worksheet ``Variable``) the grader failed to check: no points,
    ``GRADER_FAILED``, in the review queue. The caller logs the traceback (``logging``), which
    reaches the staff log."""
    return CheckResult(variable.name, 0.0, variable.points, GRADER_FAILED,
                       stage=Stage.GRADER_ERROR, hidden=variable.hidden)


def too_costly(variable, why: str) -> CheckResult:
    """One answer (a worksheet ``Variable``) that cost more to decide than checking may spend
    (``Checking``): no verdict, ``UNDECIDED``, in the review queue; ``why`` says which limit
    ("deciding it took over 10 s")."""
    return CheckResult(variable.name, 0.0, variable.points,
                       f"Too costly to decide: {why}. Course staff will look at it.",
                       stage=Stage.UNDECIDED, hidden=variable.hidden, costly=why)


def grader_failure(name: str, questions, trace: str) -> SubmissionResult:
    """A submission the grader failed on as a whole: every answer ``failed_check``, the
    traceback (or what is known) in the staff log. ``questions`` are the worksheet's."""
    result = SubmissionResult(name, Status.GRADER_ERROR, log=trace)
    for q in questions:
        qr = QuestionResult(q.id, q.title)
        qr.checks = [failed_check(v) for v in q.variables]
        result.questions.append(qr)
    return result


def _num(x: float) -> str:
    return f"{x:g}"


STATUS_MESSAGES = {
    Status.OK: "Your notebook ran to the end.",
    Status.TIMEOUT: "Your notebook hit the time limit; answers defined before that point were "
                    "graded. Look for a cell that runs forever.",
    Status.MEMORY: "Your notebook ran out of memory; answers defined before that point were "
                   "graded. Look for a very large allocation.",
    Status.CRASHED: "Your notebook's process stopped early (it exited or crashed); answers "
                    "defined before that point were graded.",
    Status.INVALID: "Your submission could not be read as a notebook ({text}). Resubmit a .ipynb "
                    "file.",
    Status.REFUSED: "Your submission was not graded ({text}). Resubmit the notebook itself as "
                    "a plain .ipynb file.",
    Status.GRADER_ERROR: "The autograder itself failed on your submission. This is not your "
                         "fault: please tell course staff (they have the details).",
}
"""the sentence a student reads about how running the notebook went"""


def status_message(status: Status, reason: str = "") -> str:
    """A sentence for the student about how execution went."""
    return STATUS_MESSAGES[status].format(text=status.text(reason))


def summary_message(result: SubmissionResult) -> str:
    """How the run went, for the student: the status, and cells stopped by the per-cell limit."""
    message = status_message(result.status, result.reason)
    stopped = result.details.get("stopped_cells", 0)
    if isinstance(stopped, list):  # the stopped cells' names
        stopped = f"{len(stopped)} cell(s) ({', '.join(stopped)})" if stopped else 0
    elif stopped:
        stopped = f"{stopped} cell(s)"
    if stopped:
        message += (f" {stopped} ran past the time limit for one cell and were stopped; "
                    "the cells after them still ran. Look for a loop that never ends.")
    notice = (result.details.get("identity") or {}).get("notice")
    if notice:  # the notebook's email is not the submitter's (per-student variants)
        message += f" {notice}"
    return message
