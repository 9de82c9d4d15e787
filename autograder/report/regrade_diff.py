"""The regrade diff: who changes, on which question, old -> new, and why; a question whose score
stays but whose feedback changes (an override's message edited) is listed too, as message only.

Compared per question between the record an earlier run left in OUT and this run's result. The
reason names what decided the new verdict: an override (its file and line), a catalogue entry
(its id, added or removed), a points change, the notebook's execution, or else a checker change.
(The previous outputs are kept before anything is replaced: ``history.py``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.report import write_csv
from autograder.report.answer_groups import person
from autograder.report.results import CheckResult, Stage, SubmissionResult

CHANGES_FILE = "changes.csv"
COLUMNS = ("submission", "student", "question", "old", "new", "why")


@dataclass(frozen=True)
class Change:
    submission: str
    student: str
    question: str
    old: float
    new: float
    why: str

    @property
    def message_only(self) -> bool:
        return abs(self.old - self.new) < 1e-9

    @property
    def row(self) -> list[str]:
        return [self.submission, self.student, self.question, f"{self.old:g}", f"{self.new:g}",
                self.why]


def diff(old_records: dict[str, dict], new: list[SubmissionResult]) -> list[Change]:
    """Every question whose score or feedback differs between an earlier record and a new
    result."""
    changes = []
    for result in sorted(new, key=lambda r: r.submission):
        record = old_records.get(result.submission)
        if record is None:
            continue
        before = {q.question: q for q in record["result"].questions}
        student = person(record.get("student") or {})
        for q in result.questions:
            was = before.get(q.question)
            old_score = was.score if was else 0.0
            if abs(old_score - q.score) < 1e-9:  # same score (a new maximum alone is no change)
                said = _messages_changed(was.checks if was else [], q.checks)
                if said:
                    changes.append(Change(result.submission, student, q.question, old_score,
                                          q.score, said))
                continue
            why = _why(was.checks if was else [], q.checks, record["result"].status_text,
                       result.status_text)
            changes.append(Change(result.submission, student, q.question, old_score, q.score, why))
    return changes


def _messages_changed(old: list[CheckResult], new: list[CheckResult]) -> str:
    """The variables whose feedback changed at the same score ("" when none did)."""
    before = {c.variable: c for c in old}
    reasons = []
    for c in new:
        was = before.get(c.variable)
        if was is not None and was.message != c.message:
            by = (f" (override {c.mistake.removeprefix('override:')})"
                  if c.stage is Stage.OVERRIDE else "")
            reasons.append(f"{c.variable}: message only{by}")
    return "; ".join(reasons)


def _why(old: list[CheckResult], new: list[CheckResult], old_status: str, new_status: str) -> str:
    """The reasons, one per answer variable whose verdict changed."""
    reasons = []
    if old_status != new_status:
        reasons.append(f"execution status {old_status} -> {new_status}")
    before = {c.variable: c for c in old}
    for c in new:
        was = before.get(c.variable)
        if was is None:
            reasons.append(f"{c.variable}: new variable")
            continue
        if (was.score, was.max_score, was.stage, was.mistake) == (c.score, c.max_score, c.stage,
                                                                  c.mistake):
            continue
        reasons.append(f"{c.variable}: {_reason(was, c)}")
    return "; ".join(reasons) or "scores recomputed"


def _reason(was: CheckResult, now: CheckResult) -> str:
    if now.stage is Stage.OVERRIDE:
        return f"override {now.mistake.removeprefix('override:')}"
    if was.stage is Stage.OVERRIDE:
        return f"override {was.mistake.removeprefix('override:')} removed or changed"
    if now.mistake != was.mistake and (now.mistake or was.mistake):
        if now.mistake and was.mistake:
            return f"catalogue entry {was.mistake} -> {now.mistake}"
        if now.mistake:
            return f"catalogue entry {now.mistake}"
        return f"catalogue entry {was.mistake} no longer matches"
    if was.max_score != now.max_score:
        return f"points {was.max_score:g} -> {now.max_score:g}"
    if now.mistake and now.score != was.score:
        return f"catalogue entry {now.mistake} (credit changed)"
    return f"checker change ({was.stage or '?'} -> {now.stage or '?'})"


def write_changes(path: Path, changes: list[Change]) -> Path:
    return write_csv(path, COLUMNS, (dict(zip(COLUMNS, c.row)) for c in changes))


def print_changes(changes: list[Change], *, limit: int = 40, printer=print) -> None:
    """The diff for the terminal: a line per change (the first ``limit``), then a count."""
    if not changes:
        printer("regrade diff: no score changes")
        return
    who = len({c.submission for c in changes})
    messages = sum(c.message_only for c in changes)
    printer(f"regrade diff: {len(changes) - messages} question score(s) and {messages} "
            f"message(s) only change for {who} submission(s)")
    for c in changes[:limit]:
        name = f"{c.submission} ({c.student})" if c.student else c.submission
        printer(f"  {name:30s} {c.question:5s} {c.old:g} -> {c.new:g}  {c.why}")
    if len(changes) > limit:
        printer(f"  ... {len(changes) - limit} more in {CHANGES_FILE}")


