"""Answer groups: a class's answers to each variable, grouped by mathematical equivalence.

The variable's own checker decides (``checks.equivalence``): answers are first bucketed by their
exact plain data, each bucket is read once, buckets with the same canonical key are merged, and
then group representatives are compared pairwise with the checker's comparison. Unreadable
answers group by their exact text; unanswered ones (not defined, or still the placeholder
``...``) form one group. Each group carries the verdict its members got, its members' names (when
the export gave them), and the overrides entry that settles it (with placeholders for the credit
and the message; ``match: text`` for an unreadable answer). Unrecognised wrong and undecided
groups come first (``ORDER``).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import answers
from autograder.report import write_csv
from autograder.report.results import CheckResult, Stage, Status, SubmissionResult
from autograder.settings.limits import ReportLayout
from autograder.checks import overrides
from autograder.checks.kinds import checked_by_reading

GROUPS_FILE = "answer_groups.csv"
SHOWN_MEMBERS = ReportLayout().group_members_shown
MAX_PAIRWISE = ReportLayout().pairwise_groups
COLUMNS = ("question", "variable", "size", "reading", "verdict", "credit", "stage", "mistake",
           "message", "members", "names", "entry")

#: Verdict labels, in the order groups are listed (what a TA must look at first).
ORDER = ("unrecognised wrong", "undecided", "unreadable", "partial", "unanswered", "overridden",
         "known mistake", "right")
#: The verdicts a TA must decide (the review page lists them first).
NEEDS_DECISION = ("unrecognised wrong", "undecided", "unreadable")


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
    entry: str = ""  # the overrides entry to copy (placeholders for the credit and message)
    by_text: bool = False  # unreadable: its entry matches the exact text (``match: text``)
    variant: str = ""  # the variant its entry settles ("": every variant)
    people: dict = field(default_factory=dict)  # submission -> "Name <email>" (when known)
    said: str = ""  # the message without the pointer (prose, for pages that set it apart)
    pointer: str = ""  # the answer's text with a caret under the first problem (a format error)
    typeset: str = ""  # the reading as MathML (SymPy's presentation printer), when it is maths
    suggestion: str = ""  # an unreadable group's answer as the grader suggests reading it

    @property
    def labels(self) -> list[str]:
        """Each member as staff read it: the student's name and email, else the submission."""
        return [self.people.get(m) or m for m in self.members]

    @property
    def needs_decision(self) -> bool:
        return self.verdict in NEEDS_DECISION

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
        shown = ", ".join(self.labels[:SHOWN_MEMBERS])
        return shown + (f" and {self.size - SHOWN_MEMBERS} more" if self.size > SHOWN_MEMBERS else "")

    def csv_row(self) -> dict:
        return {"question": self.question, "variable": self.variable, "size": self.size,
                "reading": self.reading, "verdict": self.verdict, "credit": f"{self.credit:g}",
                "stage": self.stage, "mistake": self.mistake or "", "message": self.message,
                "members": " ".join(self.members), "names": "; ".join(self.labels),
                "entry": self.entry}


def verdict_of(check: CheckResult) -> str:
    if check.stage is Stage.OVERRIDE:
        return "overridden"
    if check.stage in (Stage.UNDECIDED, Stage.GRADER_ERROR):
        return "undecided"
    if check.stage is Stage.MISSING:
        return "unanswered"
    if check.stage in (Stage.FORMAT, Stage.TYPE):
        return "unreadable"
    if check.passed:
        return "right"
    if check.mistake:
        return "known mistake"
    return "partial" if check.score > 0 else "unrecognised wrong"


answer_as_written = overrides.as_written


def unanswered(value: Any) -> bool:
    """Not defined, or still the notebook's placeholder ``...``."""
    return value is answers.MISSING or (isinstance(value, answers.Unsupported)
                                        and value.type_name == "ellipsis")


def person(student: dict) -> str:
    """A submission's students as staff read them: "Name <email>" (both members of a group
    submission), "" when the export named nobody."""
    people = student.get("submitters") or [student]
    labels = [(f"{p.get('name') or ''} <{p['email']}>" if p.get("email") else p.get("name") or "")
              .strip() for p in people]
    return ", ".join(label for label in labels if label)


def build_groups(records: list[dict], questions, only: set[str] | None = None
                 ) -> list[AnswerGroup]:
    """The answer groups of every checkable variable (``only``: of these), per question in
    worksheet order."""
    checked = _checks_by_variable(records)
    people = {r["result"].submission: person(r.get("student") or {}) for r in records}
    groups = []
    for q in questions:
        for variable in q.variables:
            if not checked_by_reading(variable) or (only is not None and variable.name not in only):
                continue
            groups += _variable_groups(q.id, variable, checked, people)
    return groups


def _checks_by_variable(records: list[dict]) -> list[tuple[SubmissionResult, dict]]:
    """Each gradable record's result with its checks by variable (the first check of each),
    built once for all variables."""
    found = []
    for record in records:
        result = record["result"]
        if result.status is Status.GRADER_ERROR:
            continue
        checks: dict[str, CheckResult] = {}
        for q in result.questions:
            for c in q.checks:
                checks.setdefault(c.variable, c)
        found.append((result, checks))
    return found


def _members(variable, checked: list[tuple[SubmissionResult, dict]]
             ) -> list[tuple[str, CheckResult, Any, str]]:
    """(submission, check, raw answer, variant label) of every record that checked
    ``variable``; the label is "" when the submission was graded without variants."""
    found = []
    for result, checks in checked:
        check = checks.get(variable.name)
        if check is None:
            continue
        raw = (result.details.get("answers") or {}).get(variable.name)  # None: missing
        label = (result.details.get("identity") or {}).get("variant_label", "")
        found.append((result.submission, check, raw, label))
    return found


#: Verdicts grouped across variants (per-student numbers): the same outcome whatever the numbers.
ACROSS_VARIANTS = ("right", "known mistake", "unanswered")


def _variable_groups(question: str, variable, checked: list[tuple[SubmissionResult, dict]],
                     people: dict[str, str]) -> list[AnswerGroup]:
    """The groups of one variable. With per-student variants, known outcomes (right, a known
    mistake by its id, missing) group across variants; other answers group within a variant,
    compared with that variant's own variable."""
    from autograder.worksheet import variants
    from autograder.worksheet.variants import Variant

    members = _members(variable, checked)
    if not any(label for *_, label in members):
        return _groups_of(question, variable, [m[:3] for m in members], people)
    across: dict[tuple, list] = {}
    within: dict[str, list] = {}
    for name, check, raw, label in members:
        verdict = verdict_of(check)
        if verdict in ACROSS_VARIANTS:
            across.setdefault((verdict, check.mistake), []).append((name, check, raw))
        else:
            within.setdefault(label, []).append((name, check, raw))
    out = [_outcome_group(question, variable, verdict, group, people)
           for (verdict, _), group in across.items()]
    for label, group in within.items():
        own = variants.sheet(Variant.parse(label)).variable(variable.name) if label else variable
        for g in _groups_of(question, own, group, people):
            g.reading = f"{g.reading} [{label}]" if label else g.reading
            if g.entry and label:  # offered for this variant's answers only
                g.entry = g.entry.rstrip("\n") + f'\n  variant: "{label}"'
                g.variant = label

            out.append(g)
    out.sort(key=lambda g: (ORDER.index(g.verdict), -g.size, g.reading))
    return out


def _outcome_group(question: str, variable, verdict: str, members: list,
                   people: dict) -> AnswerGroup:
    """One known outcome across variants: every member's answer is right (or the same known
    mistake, or unanswered) for their own numbers."""
    group = _group(question, variable, None, members, people)
    shown = {"right": "(right for their own numbers)", "unanswered": "(unanswered)"}
    group.reading = shown.get(verdict, f"(the known mistake {group.mistake}, with their own "
                                       f"numbers)")
    group.answer, group.entry = None, ""
    return group


def _groups_of(question: str, variable, members: list, people: dict) -> list[AnswerGroup]:
    from autograder.checks.common import Unreadable
    from autograder.checks.equivalence import quick_key, read, same

    buckets: dict[str, list[tuple[str, CheckResult, Any]]] = {}
    for name, check, raw in members:
        buckets.setdefault(_canonical(raw), []).append((name, check, raw))

    # Read each distinct answer once; merge readable ones by key, then by the checker.
    merged: dict[str, list] = {}  # group key -> [(reading or None, members)]
    for text, members in buckets.items():
        raw = members[0][2]
        if unanswered(answers.decode(raw)):
            merged.setdefault("unanswered", []).append((None, members))
            continue
        if members[0][1].costly:  # too costly to decide: grouped by its text, never read again
            merged.setdefault("text:" + text, []).append((None, members))
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
        out.append(_group(question, variable, reading, members, people))
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


def _group(question: str, variable, reading, members: list, people: dict) -> AnswerGroup:
    """One group: the verdict most of its members got (they agree unless an answer was
    undecided for some), its members, and the overrides entry that settles it."""
    verdicts = Counter((c.score, c.stage, c.mistake) for _, c, _ in members)
    (score, stage, mistake), _ = verdicts.most_common(1)[0]
    check = next(c for _, c, _ in members if (c.score, c.stage, c.mistake) == (score, stage, mistake))
    raw = members[0][2]
    credit = round(score / check.max_score, 6) if check.max_score else 0.0
    value = answers.decode(raw)
    if reading is not None:
        shown = reading.shown
    elif unanswered(value):
        shown = "(unanswered)"
    else:
        shown = _short(_as_text(value))
    names = sorted(name for name, _, _ in members)
    group = AnswerGroup(question, variable.name, shown, verdict_of(check), credit, stage, mistake,
                        check.message, names,
                        people={n: people[n] for n in names if people.get(n)},
                        said=dataclasses.replace(check, pointer="").message,
                        pointer=check.pointer, suggestion=check.suggestion)
    if reading is not None:
        group.typeset = typeset(reading.value)
    if not unanswered(value):
        group.answer = answer_as_written(value)
        group.by_text = reading is None
        group.entry = overrides.entry_text(variable.name, group.answer, by_text=group.by_text)
    return group


_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def typeset(value: Any) -> str:
    """A reading's SymPy value as a MathML ``<math>`` element ("" for anything else): read by the
    browser itself, no script. Only expressions and matrices over plain ASCII names are typeset,
    so the markup holds nothing but SymPy's own tags."""
    import sympy

    if isinstance(value, tuple):
        value = sympy.Matrix([list(value)]) if value and all(
            isinstance(v, sympy.Basic) for v in value) else None
    if not isinstance(value, (sympy.Expr, sympy.MatrixBase)):
        return ""
    if not all(_PLAIN_NAME.fullmatch(str(s)) for s in value.free_symbols):
        return ""
    try:
        body = sympy.mathml(value, printer="presentation")
    except Exception:  # a value the printer does not know: no typesetting
        return ""
    return f"<math xmlns='http://www.w3.org/1998/Math/MathML' display='block'>{body}</math>"


def _as_text(value: Any) -> str:
    """An unreadable answer, shown as the student wrote it (text as it is, no quotes or
    doubled backslashes)."""
    written = answer_as_written(value)
    return written if isinstance(written, str) else json.dumps(written, ensure_ascii=False)


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def write_groups_csv(path: Path, groups: list[AnswerGroup]) -> Path:
    return write_csv(path, COLUMNS, (g.csv_row() for g in groups))
