"""``OUT/review.html``: the TA's decisions first, and the overrides file they produce.

One self-contained page (no server, nothing loaded): what needs a decision across all questions
(unrecognised wrong, undecided and unreadable groups, largest first; a place for copy flags once
per-student variants exist), then the groups already decided by an override, then every other
group per question. Each group shows how its answer was read, its members by name and the message
they got, and a credit and message for the TA to set. The current overrides file travels in the
page as data (its entries parsed here, its header comments as text), so the page's script writes
one whole document: a group already settled is edited in place, a new one appended, and every
string is double-quoted with escapes for anything outside printable ASCII, so that the file reads
back (``checks.overrides.load``) as what was meant. The layout is ``templates/review.html.j2``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from autograder import worksheet
from autograder.report.answer_groups import NEEDS_DECISION, AnswerGroup
from autograder.report.results import STAGE_MEANINGS
from autograder.checks import overrides

REVIEW_PAGE = "review.html"
TEMPLATE = "review.html.j2"


@dataclass(frozen=True)
class Card:
    """One group as the page shows it; ``head`` is empty where no entry can settle it."""

    key: str
    group: AnswerGroup
    title: str
    head: str
    entry: dict | None = None  # what names the group in the file (variable, answer, match)

    points: float = 0.0  # the variable's points (each member's at stake)

    @property
    def at_stake(self) -> float:
        """The group's points together: what a decision on it moves at most."""
        return self.points * self.group.size

    @property
    def stake_text(self) -> str:
        """"1 point each, 3 at stake": what the card's decision is worth."""
        each = "point" if self.points == 1 else "points"
        return f"{self.points:g} {each} each, {self.at_stake:g} at stake"

    @property
    def stage_meaning(self) -> str:
        """The stage word in plain words ("" for a stage the page does not know)."""
        return STAGE_MEANINGS.get(self.group.stage, "")  # a Stage is its own text

    @property
    def said_parts(self) -> list[tuple[str, bool]]:
        """The message as (text, is code) parts: what it writes between backticks is code."""
        parts = self.group.said.split("`")
        if len(parts) % 2 == 0:  # an unpaired backtick: the text as it is
            return [(self.group.said, False)]
        return [(part, n % 2 == 1) for n, part in enumerate(parts) if part]

    @property
    def table(self) -> list[list[str]]:
        """A matrix or tuple answer as rows of cells (empty for anything else)."""
        answer = self.group.answer
        if not isinstance(answer, (list, tuple)) or not answer:
            return []
        rows = answer if all(isinstance(r, (list, tuple)) for r in answer) else [answer]
        if len(rows) > MAX_TABLE or any(len(r) > MAX_TABLE for r in rows):
            return []
        return [[_cell(x) for x in row] for row in rows]

    @property
    def decided_by(self) -> str:
        """The override that decided the group ("overrides.yaml:12"), if one did."""
        return (self.group.mistake or "").removeprefix("override:") \
            if self.group.verdict == "overridden" else ""


def cards(groups: list[AnswerGroup]) -> list[Card]:
    out = []
    for n, g in enumerate(groups):
        head = (overrides.entry_head(g.variable, g.answer, by_text=g.by_text)
                if g.entry else "")
        entry = ({"variable": g.variable, "answer": g.answer,
                  **({"match": overrides.BY_TEXT} if g.by_text else {}),
                  **({"variant": g.variant} if g.variant else {})} if g.entry else None)
        out.append(Card(f"g{n}", g, f"{g.question} · {g.variable}", head, entry,
                        points=_points(g.variable)))
    return out


MAX_TABLE = 20
"""largest matrix shown as a table, rows and columns (the checker reads at most 400 entries)"""


def _points(variable: str) -> float:
    try:
        return float(worksheet.variable(variable).points)
    except KeyError:
        return 0.0


def _cell(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (list, dict)) else str(value)


@dataclass(frozen=True)
class CurrentFile:
    """The overrides file as the page rewrites it: its header comments and its entries (each
    with the line it starts on), or why its entries cannot be kept as data."""

    header: str
    entries: list[Any]
    lines: list[int]
    problem: str = ""


def current_file(text: str) -> CurrentFile:
    """The header (the leading comment and blank lines) and the entries of the overrides file."""
    import yaml

    lead = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            break
        lead.append(line)
    header = "\n".join(lead).rstrip()
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return CurrentFile(header, [], [], f"not valid YAML: {exc}")
    if data is None:
        return CurrentFile(header, [], [])
    if not isinstance(data, list):
        return CurrentFile(header, [], [], "the file is not a list of entries")
    return CurrentFile(header, data, [node.start_mark.line + 1 for node in root.value])


def context(groups: list[AnswerGroup], *, overrides_text: str, overrides_path: str,
            copy_flags: tuple = (), notices: tuple = (), run_id: str = "") -> dict:
    """The template's data: decisions first (largest first), then decided, then the rest.
    ``notices``: lines shown at the top (e.g. contradictions found in the run); ``run_id``
    names the run for the decisions kept in the browser (the generation time by default)."""
    every = cards(groups)
    current = current_file(overrides_text)
    generated = f"{datetime.now():%Y-%m-%d %H:%M}"
    decide = sorted((c for c in every if c.group.needs_decision),
                    key=lambda c: (-c.group.size, NEEDS_DECISION.index(c.group.verdict)))
    decided = [c for c in every if c.group.verdict == "overridden"]
    rest: dict[str, list[Card]] = {}
    for c in every:
        if not c.group.needs_decision and c.group.verdict != "overridden":
            rest.setdefault(c.group.question, []).append(c)
    lines = {line: n for n, line in enumerate(current.lines)}
    settled = {c.key: lines[int(c.decided_by.rpartition(":")[2])] for c in decided
               if c.decided_by.rpartition(":")[2].isdigit()
               and int(c.decided_by.rpartition(":")[2]) in lines}
    counts = [(v, sum(c.group.verdict == v for c in decide),
               sum(c.group.size for c in decide if c.group.verdict == v)) for v in NEEDS_DECISION]
    return {"decide": decide, "decided": decided, "rest": list(rest.items()),
            "counts": counts, "settled": settled, "answers": sum(c.group.size for c in decide),
            "copy_flags": list(copy_flags), "notices": list(notices),
            "overrides_text": overrides_text,
            "current": {"header": current.header, "entries": current.entries,
                        "lines": current.lines, "problem": current.problem},
            "storage_key": "dis05-review|" + (run_id or generated) + "|"
                           + (overrides_path or overrides.DEFAULT_FILE),
            "overrides_path": overrides_path or overrides.DEFAULT_FILE,
            "overrides_name": Path(overrides_path or overrides.DEFAULT_FILE).name,
            "credit_placeholder": overrides.CREDIT_PLACEHOLDER,
            "generated": generated}


def render(groups: list[AnswerGroup], *, overrides_text: str = "", overrides_path: str = "",
           title: str = "dis05 autograder: review", copy_flags: tuple = (),
           notices: tuple = (), run_id: str = "") -> str:
    from autograder.report.html import _template

    return _template(TEMPLATE).render(title=title, **context(
        groups, overrides_text=overrides_text, overrides_path=overrides_path,
        copy_flags=copy_flags, notices=notices, run_id=run_id))


def write_review_page(path: Path, groups: list[AnswerGroup], *, overrides_text: str = "",
                      overrides_path: str = "", copy_flags: tuple = (), notices: tuple = (),
                      run_id: str = "") -> Path:
    """``copy_flags``: one line each for the answers that fit another student's numbers;
    ``notices``: other lines the TA should read first."""
    from autograder.report import write_text

    path = Path(path)
    write_text(path, render(groups, overrides_text=overrides_text, overrides_path=overrides_path,
                            copy_flags=copy_flags, notices=notices, run_id=run_id))
    return path

