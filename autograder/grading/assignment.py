"""What the assignment that built a notebook says about grading it (issue 32).

``make assign VARIANTS=1`` records in the student notebook's metadata (``metadata["dis05"]``,
kept by Jupyter on save) and in the Gradescope zip (``assignment.json``) that Q2 is graded per
student, with the salt's fingerprint (never the salt) and a seal over both. Grading reads the
record, so a variant notebook is graded as one with no flag; a notebook without it is graded as
before variants. A record that was edited, a salt that is not the settings' and a class mixing
both kinds are contradictions: named for staff and sent to the review queue.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from autograder.report.notices import Notice, Topic
from autograder.settings.variants import Variants

METADATA_KEY = "dis05"
ZIP_FILE = "assignment.json"
_FIELDS = ("variants", "salt_fingerprint")


def salt_fingerprint(salt: str) -> str:
    """A short hash that tells two salts apart without revealing either."""
    return hashlib.sha256(f"dis05 salt\0{salt}".encode()).hexdigest()[:12]


def _seal(fields: dict) -> str:
    return hashlib.sha256(json.dumps([fields.get(k) for k in _FIELDS]).encode()).hexdigest()[:12]


def record(salt: str) -> dict:
    """The variant assignment's record, as written into the notebook and the zip."""
    fields = {"variants": True, "salt_fingerprint": salt_fingerprint(salt)}
    return {**fields, "seal": _seal(fields)}


@dataclass(frozen=True)
class Record:
    """What one notebook's record says: built with variants (and which salt), or a problem."""

    variants: bool = False
    fingerprint: str = ""
    problem: str = ""  # why the record cannot be trusted ("" when it can, or there is none)


def parse(raw: object) -> Record:
    """The record read from ``metadata["dis05"]`` (None: a notebook of the plain assignment)."""
    if raw is None:
        return Record()
    if (isinstance(raw, dict) and set(raw) == {*_FIELDS, "seal"} and raw["variants"] is True
            and isinstance(raw["salt_fingerprint"], str) and raw["seal"] == _seal(raw)):
        return Record(True, raw["salt_fingerprint"])
    return Record(problem="its assignment record (notebook metadata \"dis05\") was edited or is "
                          "not one make assign writes")


def of_notebook(path: Path | None) -> Record:
    """The record of the notebook at ``path`` (none when it cannot be read: graded as today)."""
    try:
        metadata = json.loads(Path(path).read_text(encoding="utf-8")).get("metadata") or {}
    except (OSError, ValueError, AttributeError, TypeError):
        return Record()
    return parse(metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None)


def of_zip_file(path: Path) -> bool:
    """Whether the Gradescope zip's ``assignment.json`` (when there is one) says variants."""
    try:
        return parse(json.loads(path.read_text(encoding="utf-8"))).variants
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class Decision:
    """Whether the run grades per student, the submissions held for review (with why), and
    what staff are told."""

    enabled: bool
    held: dict[str, str]
    notices: tuple[Notice, ...] = ()


def decide(records: dict[str, Record], chosen: Variants) -> Decision:
    """Per student when any notebook's record says so or ``chosen.enabled`` (an explicit
    ``--variants``); every contradiction between the notebooks, the salt and the flag is held."""
    marked = sorted(n for n, r in records.items() if r.variants)
    plain = sorted(n for n, r in records.items() if not r.variants and not r.problem)
    held = {n: f"not graded as its assignment says: {r.problem}"
            for n, r in records.items() if r.problem}
    mine = salt_fingerprint(chosen.salt)
    held |= {n: f"built with another salt (fingerprint {records[n].fingerprint}; the settings' "
                f"salt has {mine}): its student's numbers are not known here"
             for n in marked if records[n].fingerprint != mine}
    notices = []
    if marked and plain and not chosen.enabled:
        held |= {n: "a notebook of the plain assignment in a class of variant notebooks: whose "
                    "numbers it answers is for course staff to say" for n in plain}
        notices.append(Notice(Topic.VARIANTS, f"{len(marked)} notebook(s) are of the variant "
                                              f"assignment and {len(plain)} of the plain "
                                              f"assignment: these are listed for review",
                              tuple(plain)))
    if chosen.enabled and plain:
        notices.append(Notice(Topic.VARIANTS, "--variants/VARIANTS=1 grades these notebooks per "
                                              "student although their assignment did not",
                              tuple(plain)))
    for reason, names in _by_reason(held, exclude=set(plain) if marked and plain else set()):
        notices.append(Notice(Topic.VARIANTS, f"listed for review, {reason}", names))
    return Decision(bool(marked) or chosen.enabled, held, tuple(notices))


def _by_reason(held: dict[str, str], exclude: set[str]) -> list[tuple[str, tuple[str, ...]]]:
    found: dict[str, list[str]] = {}
    for name, reason in sorted(held.items()):
        if name not in exclude:
            found.setdefault(reason, []).append(name)
    return [(reason, tuple(names)) for reason, names in found.items()]
