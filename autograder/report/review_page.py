"""``OUT/review.html``: the TA's decisions first, and the overrides file they produce.

One self-contained page (no server, nothing loaded): what needs a decision across all questions
(unrecognised wrong, undecided and unreadable groups, largest first; a place for copy flags once
per-student variants exist), then the groups already decided by an override, then every other
group per question. Each group shows how its answer was read, its members by name and the message
they got, and a credit and message for the TA to set. The page's script writes the overrides
file to save: the current file's text followed by an entry per group the TA set, in the format
``checks.overrides`` reads (the entry's head from ``overrides.entry_head``, then the credit
and message lines as ``overrides.entry_text`` writes them). The layout is
``templates/review.html.j2``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from autograder.report.answer_groups import NEEDS_DECISION, AnswerGroup
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
        out.append(Card(f"g{n}", g, f"{g.question} · {g.variable}", head))
    return out


def context(groups: list[AnswerGroup], *, overrides_text: str, overrides_path: str,
            copy_flags: tuple = ()) -> dict:
    """The template's data: decisions first (largest first), then decided, then the rest."""
    every = cards(groups)
    decide = sorted((c for c in every if c.group.needs_decision),
                    key=lambda c: (-c.group.size, NEEDS_DECISION.index(c.group.verdict)))
    decided = [c for c in every if c.group.verdict == "overridden"]
    rest: dict[str, list[Card]] = {}
    for c in every:
        if not c.group.needs_decision and c.group.verdict != "overridden":
            rest.setdefault(c.group.question, []).append(c)
    counts = [(v, sum(c.group.verdict == v for c in decide),
               sum(c.group.size for c in decide if c.group.verdict == v)) for v in NEEDS_DECISION]
    return {"decide": decide, "decided": decided, "rest": list(rest.items()),
            "counts": counts, "answers": sum(c.group.size for c in decide),
            "copy_flags": list(copy_flags), "overrides_text": overrides_text,
            "overrides_path": overrides_path or overrides.DEFAULT_FILE,
            "overrides_name": Path(overrides_path or overrides.DEFAULT_FILE).name,
            "credit_placeholder": overrides.CREDIT_PLACEHOLDER,
            "generated": f"{datetime.now():%Y-%m-%d %H:%M}"}


def render(groups: list[AnswerGroup], *, overrides_text: str = "", overrides_path: str = "",
           title: str = "dis05 autograder: review", copy_flags: tuple = ()) -> str:
    from autograder.report.html import _template

    return _template(TEMPLATE).render(title=title, **context(
        groups, overrides_text=overrides_text, overrides_path=overrides_path,
        copy_flags=copy_flags))


def write_review_page(path: Path, groups: list[AnswerGroup], *, overrides_text: str = "",
                      overrides_path: str = "", copy_flags: tuple = ()) -> Path:
    """``copy_flags``: one line each for the answers that fit another student's numbers."""
    from autograder.report import write_text

    path = Path(path)
    write_text(path, render(groups, overrides_text=overrides_text, overrides_path=overrides_path,
                            copy_flags=copy_flags))
    return path

