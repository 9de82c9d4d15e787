"""Whose numbers a submission is graded against (per-student variants, issue 20).

The identity is the submitter's email as Gradescope knows it: on Gradescope from
``/autograder/submission_metadata.json`` (``users[].email``), in ``make grade`` from an export's
``submission_metadata.yml`` (``intake.identity``'s ``submitters``), else from the notebook's own
``STUDENT_EMAIL``. For a group, the member the notebook names when they are in the group, else
the first. A notebook naming someone who did not submit it is graded against the submitter's
variant, and the feedback says so.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

from autograder.worksheet.variants import DEFAULT, Variant, normalise, variant_of

NOTEBOOK_NAME = "STUDENT_EMAIL"


@dataclass(frozen=True)
class Identity:
    """The email a submission is graded as, where it came from, and its variant."""

    email: str  # normalised; "" when nobody is known
    source: str  # "gradescope", "export", "notebook" or "none"
    variant: Variant = DEFAULT
    notice: str = ""  # for the student, when the notebook's email is not the submitter's

    def as_dict(self) -> dict:
        return {"email": self.email, "source": self.source, "variant": self.variant.as_dict(),
                "variant_label": self.variant.label, "notice": self.notice}


def from_dict(data: dict) -> Identity:
    """The identity ``Identity.as_dict`` wrote (checks.json)."""
    return Identity(data["email"], data["source"], Variant.parse(data["variant_label"]),
                    data.get("notice", ""))


def notebook_email(path: Path | None) -> str:
    """The string the notebook assigns to ``STUDENT_EMAIL`` (the last such assignment), read from
    its source without running it; "" when there is none or the notebook cannot be read."""
    if path is None:
        return ""
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return ""
    found = ""
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if NOTEBOOK_NAME not in source:
            continue
        for line in source.splitlines():
            found = _assigned(line) or found
    return found


def _assigned(line: str) -> str:
    """The string of ``STUDENT_EMAIL = "..."`` on one line (comments allowed), else ""."""
    if not line.lstrip().startswith(NOTEBOOK_NAME):
        return ""
    try:
        tree = ast.parse(line.strip())
    except SyntaxError:
        return ""
    node = tree.body[0] if tree.body else None
    if (isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name) and node.targets[0].id == NOTEBOOK_NAME
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
        return node.value.value
    return ""


def gradescope_submitters(metadata: Path) -> list[str]:
    """The submitters' emails in Gradescope's ``submission_metadata.json`` (``users[].email``);
    empty when the file is missing or unreadable."""
    try:
        users = json.loads(Path(metadata).read_text(encoding="utf-8")).get("users") or []
    except (OSError, ValueError, AttributeError):
        return []
    return [str(u.get("email") or "") for u in users if isinstance(u, dict) and u.get("email")]


def resolve(submitters: list[str], written: str, *, salt: str, source: str) -> Identity:
    """Who is graded: among ``submitters`` (from ``source``: "gradescope" or "export") the one
    the notebook names (``written``), else the first; with no submitters, the notebook's email."""
    members = [normalise(e) for e in submitters if normalise(e)]
    mine = normalise(written)
    if not members:
        if not mine:
            return Identity("", "none")
        return Identity(mine, "notebook", variant_of(mine, salt))
    chosen = mine if mine in members else members[0]
    notice = ""
    if mine and mine not in members:
        notice = (f"Your notebook says STUDENT_EMAIL = \"{written.strip()}\", but this submission "
                  f"is {chosen}'s: it was graded with {chosen}'s own numbers "
                  f"({variant_of(chosen, salt).label}). Set STUDENT_EMAIL to your Gradescope "
                  f"email to see those numbers in your notebook.")
    return Identity(chosen, source, variant_of(chosen, salt), notice)
