"""Copies revealed by variants: an answer wrong for the student's own numbers but right (or a
known mistake) for another variant's.

The variants tried are the worksheet's own (its published solutions) and every classmate's in
the run; variables equal in two variants (Q2f, Q2g, or the same n and k) are tried once. A flag
names the variant and the classmates who have it; it goes to staff only (checks.json, the review
queue, review.csv, the report and Gradescope's hidden staff log), never into the student's
feedback. What the flagged answer scores is the ``Variants.copy_policy``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from autograder.report.results import CheckResult, Stage
from autograder.settings.limits import ReviewPolicy
from autograder.worksheet import Variable, variants
from autograder.worksheet.variants import DEFAULT, Variant

#: Verdict stages that say nothing about which numbers the answer used (a format error may:
#: ``x12`` is no symbol of a student whose input has 9 entries).
_SILENT = (Stage.MISSING, Stage.TYPE, Stage.OVERRIDE, Stage.GRADER_ERROR)


@dataclass(frozen=True)
class CopyFlag:
    """One answer that fits another variant: which, how (``right`` or a mistake id), and the
    classmates graded with that variant."""

    variable: str
    variant: str  # Variant.label
    outcome: str  # "right", or the id of the known mistake it is in that variant
    classmates: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"variable": self.variable, "variant": self.variant, "outcome": self.outcome,
                "classmates": list(self.classmates)}

    @property
    def text(self) -> str:
        """One line for staff."""
        how = "right" if self.outcome == "right" else f"the known mistake {self.outcome}"
        whose = (f"; classmates with these numbers: {', '.join(self.classmates)}"
                 if self.classmates else "; the worksheet's published numbers"
                 if Variant.parse(self.variant) == DEFAULT else "")
        return f"{self.variable}: {how} for variant {self.variant}{whose}"


def candidates(own: Variant, classmates: tuple[tuple[Variant, str], ...],
               me: str = "") -> dict[Variant, tuple[str, ...]]:
    """The variants to try (not ``own``), each with the classmates (not ``me``) who have it;
    the worksheet's own numbers first."""
    found: dict[Variant, list[str]] = {DEFAULT: []}
    for variant, name in classmates:
        if name != me:
            found.setdefault(variant, []).append(name)
    return {v: tuple(sorted(names)) for v, names in found.items() if v != own}


def find(variable: Variable, own: CheckResult, tried: dict[Variant, tuple[str, ...]],
         check: Callable[[Variable, tuple], CheckResult]) -> CopyFlag | None:
    """Where the answer is right in another variant of ``tried`` (naming the first such variant
    and every classmate whose numbers make it right), else where it is a known mistake while
    ``own`` (the verdict for the student's own variant) is not one; ``check(variable, entries)``
    checks the student's answer against another variant's variable."""
    if own.score >= own.max_score or own.stage in _SILENT:
        return None
    groups: dict[tuple[str, str], tuple[Variant, Variable, tuple, list[str]]] = {}
    for variant, names in tried.items():  # variants that ask this variable alike: tried once
        sheet = variants.sheet(variant)
        theirs, entries = sheet.variable(variable.name), sheet.entries(variable.name)
        if repr(theirs) == repr(variable):
            continue
        key = (repr(theirs), repr(entries))
        groups.setdefault(key, (variant, theirs, entries, []))[3].extend(names)
    right: list[tuple[Variant, list[str]]] = []
    mistaken: list[tuple[Variant, str, list[str]]] = []
    for variant, theirs, entries, names in groups.values():
        result = check(theirs, entries)
        if result.score >= result.max_score:
            right.append((variant, names))
        elif result.stage is Stage.CATALOGUE and own.stage is not Stage.CATALOGUE:
            mistaken.append((variant, result.mistake or "", names))
    if right:  # every classmate whose numbers make it right is a possible source
        return CopyFlag(variable.name, right[0][0].label, "right",
                        tuple(sorted({n for _, names in right for n in names})))
    if mistaken:
        variant, mistake, _ = mistaken[0]
        return CopyFlag(variable.name, variant.label, mistake,
                        tuple(sorted({n for _, m, names in mistaken if m == mistake
                                      for n in names})))
    return None


def with_policy(check: CheckResult, policy: str, review: ReviewPolicy) -> CheckResult:
    """The score a flagged answer keeps under ``Variants.copy_policy`` (``as-is``: unchanged)."""
    if policy == "zero":
        return replace(check, score=0.0)
    if policy == "review":
        score = round(review.undecided_credit * check.max_score, 6)
        return replace(check, score=score, review=f"Scored {score:g} of {check.max_score:g} "
                                                  f"until course staff review it.")
    return check


def classmates_of(records: list[dict]) -> tuple[tuple[Variant, str], ...]:
    """Every submission in ``records`` graded with a student's own numbers, with its variant."""
    found = []
    for record in records:
        who = record["result"].details.get("identity") or {}
        if who.get("email"):
            found.append((Variant.parse(who["variant_label"]), record["result"].submission))
    return tuple(sorted(found, key=lambda pair: pair[1]))


def class_flags(records: list[dict], flags_of: Callable[[object, tuple], list[CopyFlag]]
                ) -> dict[str, list[CopyFlag]]:
    """The copy flags of every submission graded per student, against the whole class in
    ``records`` (all of OUT, not only this run's), so the order of grading never matters:
    ``{submission: flags}`` for those whose flags changed. ``flags_of(result, classmates)``
    checks one result's cached answers again (no notebook runs)."""
    classmates = classmates_of(records)
    changed = {}
    for record in records:
        result = record["result"]
        if not (result.details.get("identity") or {}).get("email"):
            continue
        flags = flags_of(result, classmates)
        if [f.as_dict() for f in flags] != (result.details.get("copies") or []):
            changed[result.submission] = flags
    return changed
