"""Course staff's overrides: a reviewed YAML file that settles answer groups.

Each entry names an answer variable, an answer as a student wrote it, the credit (a fraction of
the variable's points, 0 to 1) and the message students read::

    - variable: q2a_first
      answer: "x1*k1 + k2*x2 + k3*x3"
      credit: 1
      message: "Correct (accepted after review)."

An entry applies to every answer equivalent to its own, by the variable's checker
(``checks.equivalence``), in ``make grade`` and in the Gradescope zip alike (the file travels in
the zip). ``load`` validates the file and reports each problem with its line: an unknown
variable, an answer the checker cannot read, a credit outside [0, 1], a missing message. An entry
that matches nobody is reported after a class run (``unmatched``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.checks.common import Unreadable
from autograder.checks.equivalence import CANONICAL, quick_key, read, same
from autograder.checks.kinds import REGISTERED
from autograder.report.results import CheckResult, Stage
from autograder.settings import OVERRIDES_FILE as DEFAULT_FILE
from autograder.worksheet import QUESTIONS, Variable

FIELDS = ("variable", "answer", "credit", "message")
OPTIONAL = ("variant",)
"""an entry may name a variant (its label, as ``python -m autograder variant`` numbers it): it then
settles that variant's answers only; without one it settles equivalent answers in every variant"""


@dataclass(frozen=True)
class Override:
    """One validated entry. ``id`` names it in results ("override:overrides.yaml:12")."""

    variable: str
    answer: Any
    credit: float
    message: str
    line: int
    file: str = DEFAULT_FILE
    variant: str = ""  # a Variant's label: only that variant's answers ("" : every variant)

    @property
    def id(self) -> str:
        return f"override:{self.file}:{self.line}"


@dataclass(frozen=True)
class Problem:
    """A problem with the overrides file, at a line (from 1; 0 for the whole file)."""

    line: int
    message: str


@dataclass(frozen=True)
class Overrides:
    """The validated entries, with the readings used to match them, and the file's problems."""

    entries: tuple[Override, ...] = ()
    problems: tuple[Problem, ...] = ()
    path: str = ""
    text: str = ""  # the file's text: part of the grader's version (a change regrades)

    def for_variable(self, name: str, variant: str = "") -> tuple[Override, ...]:
        """The entries for one variable that apply to answers of ``variant`` (a label; "" for
        the worksheet's numbers graded without variants)."""
        return tuple(o for o in self.entries if o.variable == name
                     and (not o.variant or o.variant == variant))


NONE = Overrides()


def _variables() -> dict[str, Variable]:
    return {v.name: v for q in QUESTIONS for v in q.variables}


def load(path: str | Path | None) -> Overrides:
    """Read and validate the overrides file; none named ("" or None) or a missing file is no
    overrides (no problem)."""
    if not path:
        return NONE
    path = Path(path)
    if not path.is_file():
        return Overrides(path=str(path))
    text = path.read_text(encoding="utf-8")
    entries, problems = parse(text, file=path.name)
    return Overrides(entries, problems, str(path), text)


def parse(text: str, *, file: str = DEFAULT_FILE) -> tuple[tuple[Override, ...], tuple[Problem, ...]]:
    """Validated entries and problems (with lines) of the overrides file's text."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return (), (Problem(mark.line + 1 if mark else 0, f"not valid YAML: {exc}"),)
    if root is None:
        return (), ()
    if not isinstance(data, list):
        return (), (Problem(root.start_mark.line + 1,
                            "the file must be a list of entries (each starting with '- ')"),)
    entries, problems = [], []
    for node, item in zip(root.value, data):
        line = node.start_mark.line + 1
        entry, why = _entry(item, line, file)
        if not why:
            earlier = _same_answer(entry, entries)
            if earlier is not None:
                why = (f"the same answer (by the checker) as the entry on line {earlier.line}; "
                       f"only one entry may settle a group")
        if why:
            problems.append(Problem(line, why))
        else:
            entries.append(entry)
    return tuple(entries), tuple(problems)


def _same_answer(entry: Override, entries: list[Override]) -> Override | None:
    """An earlier entry whose answer is equivalent to ``entry``'s, if any."""
    variable = _variable(entry.variable, entry.variant)
    found = match(variable, entry.answer, Overrides(tuple(
        e for e in entries if e.variable == entry.variable and e.variant == entry.variant)),
        entry.variant)
    return found[0] if found else None


def _variable(name: str, variant: str) -> Variable:
    """The variable as graded in ``variant`` (a label; "": the worksheet's)."""
    if not variant:
        return _variables()[name]
    from autograder.worksheet import variants
    from autograder.worksheet.variants import Variant

    return variants.sheet(Variant.parse(variant)).variable(name)


def _entry(item: Any, line: int, file: str) -> tuple[Override | None, str]:

    if not isinstance(item, dict):
        return None, f"an entry must have the fields {', '.join(FIELDS)}"
    missing = [f for f in FIELDS if f not in item]
    unknown = sorted(set(map(str, item)) - set(FIELDS) - set(OPTIONAL))
    if missing or unknown:
        return None, (f"missing {', '.join(missing)}" if missing else
                      f"unknown field(s) {', '.join(unknown)}; the fields are {', '.join(FIELDS)}")
    variable = _variables().get(str(item["variable"]))
    if variable is None:
        return None, f"unknown variable {item['variable']!r}"
    variant = str(item.get("variant") or "")
    if variant:
        try:
            variable = _variable(variable.name, variant)
        except ValueError as exc:
            return None, str(exc)
    if variable.kind not in REGISTERED:
        return None, f"{variable.name} is checked by running code; it cannot be overridden here"
    credit = item["credit"]
    if isinstance(credit, bool) or not isinstance(credit, (int, float)) or not 0 <= credit <= 1:
        return None, f"credit {credit!r} is not a number from 0 to 1 (a fraction of the points)"
    if not isinstance(item["message"], str) or not item["message"].strip():
        return None, "the message must be a non-empty text"
    try:
        read(variable, item["answer"])
    except Unreadable as exc:
        return None, f"the answer {item['answer']!r} cannot be read: {exc.message}"
    return Override(variable.name, item["answer"], float(credit), item["message"].strip(), line,
                    file, variant), ""


# --- applying ----------------------------------------------------------------------------------

_READINGS: dict = {}


def match(variable: Variable, value: Any, overrides: Overrides, variant: str = ""):
    """The first entry (for answers of ``variant``) whose answer is equivalent to ``value``, and
    the value's ``Reading``; None when none is (or the value cannot be read)."""

    entries = overrides.for_variable(variable.name, variant)
    if not entries:
        return None
    try:
        reading = read(variable, value)
    except Unreadable:
        return None
    key = quick_key(variable, reading)
    for entry in entries:
        # (a variant's variable may allow other symbols: x12 is none of the worksheet's)
        cached = (entry.id, variable.name, repr(entry.answer), repr(variable.options))
        if cached not in _READINGS:
            try:
                theirs = read(variable, entry.answer)
            except Unreadable:  # not an answer in this variant's symbols: it matches nobody here
                _READINGS[cached] = None
                continue
            _READINGS[cached] = (theirs, quick_key(variable, theirs))
        if _READINGS[cached] is None:
            continue
        theirs, their_key = _READINGS[cached]
        canonical = key.startswith(CANONICAL) and their_key.startswith(CANONICAL)
        if key == their_key or (not canonical and same(variable, reading, theirs)):
            return entry, reading
    return None


def apply(variable: Variable, value: Any, result: CheckResult, overrides: Overrides,
          variant: str = "") -> CheckResult:
    """``result``, or the override's verdict when an entry (for answers of ``variant``, a label)
    matches the answer."""
    found = match(variable, value, overrides, variant)
    if found is None:
        return result
    entry, reading = found
    return CheckResult(variable.name, round(entry.credit * variable.points, 6), variable.points,
                       entry.message, stage=Stage.OVERRIDE, mistake=entry.id,
                       hidden=variable.hidden, reading=reading.code, reading_label=reading.label,
                       notes=reading.notes)


def entry_text(variable: str, answer: Any, credit: float, message: str) -> str:
    """The YAML entry a TA copies into the overrides file to settle a group (values written as
    JSON, which YAML reads as they are)."""
    return (f"- variable: {variable}\n  answer: {json.dumps(answer, ensure_ascii=False)}\n"
            f"  credit: {credit:g}\n  message: {json.dumps(message, ensure_ascii=False)}")


def unmatched(overrides: Overrides, used: set[str]) -> list[Problem]:
    """The entries no answer matched (``used``: the override ids seen in the results)."""
    return [Problem(o.line, f"the entry for {o.variable} ({o.answer!r}) matches nobody")
            for o in overrides.entries if o.id not in used]
