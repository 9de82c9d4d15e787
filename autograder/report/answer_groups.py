"""Answer groups: a class's answers to each variable, grouped by mathematical equivalence.

The variable's own checker decides (``checks.equivalence``): answers are first bucketed by their
exact plain data, each bucket is read once, buckets with the same canonical key are merged, and
then group representatives are compared pairwise with the checker's comparison. Unreadable
answers group by their exact text; missing answers form one group. Each group carries the
verdict its members got, and the overrides entry a TA copies to settle it. Unrecognised wrong
and undecided groups come first (``ORDER``).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import answers
from autograder.report import write_csv
from autograder.report.results import CheckResult, Stage, Status
from autograder.settings.limits import ReportLayout
from autograder.checks import overrides

GROUPS_FILE = "answer_groups.csv"
SHOWN_MEMBERS = ReportLayout().group_members_shown
MAX_PAIRWISE = ReportLayout().pairwise_groups
COLUMNS = ("question", "variable", "size", "reading", "verdict", "credit", "stage", "mistake",
           "message", "members", "entry")

#: Verdict labels, in the order groups are listed (what a TA must look at first).
ORDER = ("unrecognised wrong", "undecided", "unreadable", "partial", "missing", "overridden",
         "known mistake", "right")


@dataclass
class AnswerGroup:
    question: str
    variable: str
    reading: str
    verdict: str
    credit: float  # fraction of the points
    stage: str
    mistake: str | None
    message: str
    members: list[str] = field(default_factory=list)
    answer: Any = None  # one member's answer as plain data (for the overrides entry)
    entry: str = ""  # the overrides entry to copy

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def flag(self) -> str:
        return {"unrecognised wrong": "unrecognised", "undecided": "undecided"}.get(self.verdict, "")

    @property
    def credit_text(self) -> str:
        return f"{self.credit:g}"

    @property
    def members_text(self) -> str:
        shown = ", ".join(self.members[:SHOWN_MEMBERS])
        return shown + (f" and {self.size - SHOWN_MEMBERS} more" if self.size > SHOWN_MEMBERS else "")

    def csv_row(self) -> dict:
        return {"question": self.question, "variable": self.variable, "size": self.size,
                "reading": self.reading, "verdict": self.verdict, "credit": f"{self.credit:g}",
                "stage": self.stage, "mistake": self.mistake or "", "message": self.message,
                "members": " ".join(self.members), "entry": self.entry}


def verdict_of(check: CheckResult) -> str:
    if check.stage is Stage.OVERRIDE:
        return "overridden"
    if check.stage in (Stage.UNDECIDED, Stage.GRADER_ERROR):
        return "undecided"
    if check.stage is Stage.MISSING:
        return "missing"
    if check.stage in (Stage.FORMAT, Stage.TYPE):
        return "unreadable"
    if check.passed:
        return "right"
    if check.mistake:
        return "known mistake"
    return "partial" if check.score > 0 else "unrecognised wrong"


def answer_as_written(value: Any) -> Any:
    """A decoded answer as YAML-safe data (text, numbers, lists), for an overrides entry."""
    if isinstance(value, answers.Array):
        return answer_as_written(value.rows)
    if isinstance(value, (list, tuple)):
        return [answer_as_written(v) for v in value]
    if isinstance(value, frozenset):
        return sorted(answer_as_written(v) for v in value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bool, int, float)):
        return value
    return repr(value)


def build_groups(records: list[dict], questions) -> list[AnswerGroup]:
    """The answer groups of every checkable variable, per question in worksheet order."""
    groups = []
    for q in questions:
        for variable in q.variables:
            if variable.kind == "program":
                continue
            groups += _variable_groups(q.id, variable, records)
    return groups


def _members(variable, records: list[dict]) -> list[tuple[str, CheckResult, Any, str]]:
    """(submission, check, raw answer, variant label) of every record that checked
    ``variable``; the label is "" when the submission was graded without variants."""
    found = []
    for record in records:
        result = record["result"]
        if result.status is Status.GRADER_ERROR:
            continue
        check = next((c for q in result.questions for c in q.checks
                      if c.variable == variable.name), None)
        if check is None:
            continue
        raw = (result.details.get("answers") or {}).get(variable.name)  # None: missing
        label = (result.details.get("identity") or {}).get("variant_label", "")
        found.append((result.submission, check, raw, label))
    return found


#: Verdicts grouped across variants (per-student numbers): the same outcome whatever the numbers.
ACROSS_VARIANTS = ("right", "known mistake", "missing")


def _variable_groups(question: str, variable, records: list[dict]) -> list[AnswerGroup]:
    """The groups of one variable. With per-student variants, known outcomes (right, a known
    mistake by its id, missing) group across variants; other answers group within a variant,
    compared with that variant's own variable."""
    from autograder.worksheet import variants
    from autograder.worksheet.variants import Variant

    members = _members(variable, records)
    if not any(label for *_, label in members):
        return _groups_of(question, variable, [m[:3] for m in members])
    across: dict[tuple, list] = {}
    within: dict[str, list] = {}
    for name, check, raw, label in members:
        verdict = verdict_of(check)
        if verdict in ACROSS_VARIANTS:
            across.setdefault((verdict, check.mistake), []).append((name, check, raw))
        else:
            within.setdefault(label, []).append((name, check, raw))
    out = [_outcome_group(question, variable, verdict, group)
           for (verdict, _), group in across.items()]
    for label, group in within.items():
        own = variants.sheet(Variant.parse(label)).variable(variable.name) if label else variable
        for g in _groups_of(question, own, group):
            g.reading = f"{g.reading} [{label}]" if label else g.reading
            out.append(g)
    out.sort(key=lambda g: (ORDER.index(g.verdict), -g.size, g.reading))
    return out


def _outcome_group(question: str, variable, verdict: str, members: list) -> AnswerGroup:
    """One known outcome across variants: every member's answer is right (or the same known
    mistake, or missing) for their own numbers."""
    group = _group(question, variable, None, members)
    shown = {"right": "(right for their own numbers)", "missing": "(not answered)"}
    group.reading = shown.get(verdict, f"(the known mistake {group.mistake}, with their own "
                                       f"numbers)")
    group.answer, group.entry = None, ""
    return group


def _groups_of(question: str, variable, members: list) -> list[AnswerGroup]:
    from autograder.checks.common import Unreadable
    from autograder.checks.equivalence import quick_key, read, same

    buckets: dict[str, list[tuple[str, CheckResult, Any]]] = {}
    for name, check, raw in members:
        buckets.setdefault(_canonical(raw), []).append((name, check, raw))

    # Read each distinct answer once; merge readable ones by key, then by the checker.
    merged: dict[str, list] = {}  # group key -> [(reading or None, members)]
    for text, members in buckets.items():
        raw = members[0][2]
        if answers.decode(raw) is answers.MISSING:
            merged.setdefault("missing", []).append((None, members))
            continue
        try:
            reading = read(variable, answers.decode(raw))
        except Unreadable:
            merged.setdefault("text:" + text, []).append((None, members))
            continue
        except Exception:  # the checker failed on it: its own group, for review
            merged.setdefault("text:" + text, []).append((None, members))
            continue
        merged.setdefault("key:" + quick_key(variable, reading), []).append((reading, members))

    readable = [k for k in merged if k.startswith("key:")]
    if len(readable) <= MAX_PAIRWISE:
        _merge_pairwise(variable, merged, readable, same)

    out = []
    for parts in merged.values():
        members = [m for _, ms in parts for m in ms]
        reading = next((r for r, _ in parts if r is not None), None)
        out.append(_group(question, variable, reading, members))
    out.sort(key=lambda g: (ORDER.index(g.verdict), -g.size, g.reading))
    return out


def _merge_pairwise(variable, merged: dict, keys: list[str], same) -> None:
    """Join key-distinct groups whose representatives the checker says are equal (two
    canonical keys that differ are different answers: no need to ask)."""
    from autograder.checks.equivalence import CANONICAL

    alive = list(keys)
    i = 0
    while i < len(alive):
        rep = merged[alive[i]][0][0]
        j = i + 1
        while j < len(alive):
            other = merged[alive[j]][0][0]
            both_canonical = all(k.startswith("key:" + CANONICAL) for k in (alive[i], alive[j]))
            try:
                equal = not both_canonical and same(variable, rep, other)
            except Exception:
                equal = False
            if equal:
                merged[alive[i]] += merged.pop(alive[j])
                alive.pop(j)
            else:
                j += 1
        i += 1


def _canonical(raw: Any) -> str:
    try:
        return json.dumps(raw, sort_keys=True)
    except (TypeError, ValueError):
        return repr(raw)


def _group(question: str, variable, reading, members: list) -> AnswerGroup:
    """One group: the verdict most of its members got (they agree unless an answer was
    undecided for some), a few member names, and the overrides entry to copy."""
    verdicts = Counter((c.score, c.stage, c.mistake) for _, c, _ in members)
    (score, stage, mistake), _ = verdicts.most_common(1)[0]
    check = next(c for _, c, _ in members if (c.score, c.stage, c.mistake) == (score, stage, mistake))
    raw = members[0][2]
    credit = round(score / check.max_score, 6) if check.max_score else 0.0
    if reading is not None:
        shown = reading.shown
    elif answers.decode(raw) is answers.MISSING:
        shown = "(not answered)"
    else:
        shown = _short(_as_text(answers.decode(raw)))
    names = sorted(name for name, _, _ in members)
    group = AnswerGroup(question, variable.name, shown, verdict_of(check), credit, stage, mistake,
                        check.message, names)
    if reading is not None:
        group.answer = answer_as_written(answers.decode(raw))
        group.entry = overrides.entry_text(variable.name, group.answer, credit,
                                           "Accepted after review: ...")
    return group


def _as_text(value: Any) -> str:
    """An unreadable answer, shown as the student gave it."""
    if isinstance(value, answers.Unsupported):
        return value.text or value.type_name
    return repr(answer_as_written(value))


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def write_groups_csv(path: Path, groups: list[AnswerGroup]) -> Path:
    return write_csv(path, COLUMNS, (g.csv_row() for g in groups))
