"""Course staff's overrides: a reviewed YAML file that settles answer groups.

Each entry names an answer variable, an answer as a student wrote it, the credit (a fraction of
the variable's points, 0 to 1) and the message students read::

    - variable: q2a_first
      answer: "x1*k1 + k2*x2 + k3*x3"
      credit: 1
      message: "Correct (accepted after review)."

An entry applies to every answer equivalent to its own, by the variable's checker
(``checks.equivalence``), in ``make grade`` and in the Gradescope zip alike (the file travels in
the zip). An entry with ``match: text`` applies instead to the answers written exactly as its own
(whitespace normalised): the way to settle an answer the checker cannot read (LaTeX, a typo).
``load`` validates the file and reports each problem with its line: an unknown variable, an
answer the checker cannot read (without ``match: text``), a credit outside [0, 1], a missing
message, and the placeholders of an offered entry (``entry_text``) left unedited. An entry that
matches nobody is reported after a class run (``unmatched``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.checks.common import Unreadable
from autograder.checks.equivalence import CANONICAL, quick_key, read, same
from autograder.checks.kinds import checked_by_reading
from autograder.report.results import CheckResult, Stage
from autograder.settings import OVERRIDES_FILE as DEFAULT_FILE
from autograder.worksheet import QUESTIONS, Variable

FIELDS = ("variable", "answer", "credit", "message")
OPTIONAL = ("match", "variant")
BY_TEXT = "text"  # ``match: text``: the answer's exact text, not its meaning
#: What an offered entry says until the TA edits it (``load`` refuses both, with the line).
CREDIT_PLACEHOLDER = "null  # SET: 0 to 1, a fraction of the points"
MESSAGE_PLACEHOLDER = "WRITE the message the students of this group read"
#: ``variant:`` (a variant's label, as ``python -m autograder variant`` numbers it) settles that
#: variant's answers only; without it an entry settles equivalent answers in every variant.


@dataclass(frozen=True)
class Override:
    """One validated entry. ``id`` names it in results ("override:overrides.yaml:12")."""

    variable: str
    answer: Any
    credit: float
    message: str
    line: int
    file: str = DEFAULT_FILE
    by_text: bool = False  # ``match: text``
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
    """An earlier entry whose answer is equivalent to ``entry``'s (or, by text, written the
    same), if any, among those for the same variant."""
    if entry.by_text:
        return next((e for e in entries if e.variable == entry.variable and e.by_text
                     and e.variant == entry.variant
                     and text_key(e.answer) == text_key(entry.answer)), None)
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
                      f"unknown field(s) {', '.join(unknown)}; the fields are "
                      f"{', '.join(FIELDS)} (and optionally match: text)")
    variable = _variables().get(str(item["variable"]))
    if variable is None:
        return None, f"unknown variable {item['variable']!r}"
    variant = str(item.get("variant") or "")
    if variant:
        try:
            variable = _variable(variable.name, variant)
        except ValueError as exc:
            return None, str(exc)
    if not checked_by_reading(variable):
        return None, f"{variable.name} is checked by running code; it cannot be overridden here"
    why = _credit_and_message_problem(item["credit"], item["message"])
    if why:
        return None, why
    by_text = "match" in item
    if by_text and item["match"] != BY_TEXT:
        return None, f"match {item['match']!r}: the only choice is match: {BY_TEXT}"
    if not by_text:
        try:
            read(variable, item["answer"])
        except Unreadable as exc:
            return None, (f"the answer {item['answer']!r} cannot be read: {exc.message} (to "
                          f"settle answers written exactly so, add the line `match: {BY_TEXT}`)")
    return Override(variable.name, item["answer"], float(item["credit"]),
                    item["message"].strip(), line, file, by_text, variant), ""


def _credit_and_message_problem(credit: Any, message: Any) -> str:
    """Why the credit or the message cannot be used ("" when both can)."""
    if credit is None:
        return "the credit is not set yet: choose a number from 0 to 1 (a fraction of the points)"
    if isinstance(credit, bool) or not isinstance(credit, (int, float)) or not 0 <= credit <= 1:
        return f"credit {credit!r} is not a number from 0 to 1 (a fraction of the points)"
    if not isinstance(message, str) or not message.strip():
        return "the message must be a non-empty text"
    if message.strip() == MESSAGE_PLACEHOLDER:
        return "the message is still the placeholder: write what the students read"
    return ""


# --- applying ----------------------------------------------------------------------------------

_READINGS: dict = {}


def match(variable: Variable, value: Any, overrides: Overrides, variant: str = "", *,
          by_text_only: bool = False):
    """The first entry (for answers of ``variant``, a label) whose answer is equivalent to
    ``value`` (or, with ``match: text``, written the same), and the value's ``Reading`` (None
    for a match by text); None when none is. ``by_text_only``: entries with ``match: text``
    only (reading the value again would cost what checking it was refused)."""

    entries = overrides.for_variable(variable.name, variant)
    if not entries:
        return None
    written = text_key(value)
    for entry in entries:
        if entry.by_text and text_key(entry.answer) == written:
            return entry, None
    entries = [e for e in entries if not e.by_text]
    if not entries or by_text_only:
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
    matches the answer (only by its text when the answer was too costly to read and decide)."""
    found = match(variable, value, overrides, variant, by_text_only=bool(result.costly))
    if found is None:
        return result
    entry, reading = found
    if reading is None:  # matched by its text: nothing was read
        return CheckResult(variable.name, round(entry.credit * variable.points, 6),
                           variable.points,
                           ("Your answer, as written: ", text_key(value),
                            f". {entry.message}"),
                           stage=Stage.OVERRIDE, mistake=entry.id, hidden=variable.hidden)
    return CheckResult(variable.name, round(entry.credit * variable.points, 6), variable.points,
                       entry.message, stage=Stage.OVERRIDE, mistake=entry.id,
                       hidden=variable.hidden, reading=reading.code, reading_label=reading.label,
                       notes=reading.notes)


def text_key(value: Any) -> str:
    """An answer's text as an entry with ``match: text`` compares it: strings with their
    whitespace normalised (one space), anything else (a list of rows) as JSON of such."""
    written = as_written(value)
    if isinstance(written, str):
        return " ".join(written.split())
    return json.dumps(_normalised(written), sort_keys=True, ensure_ascii=False)


def _normalised(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    return value


def as_written(value: Any) -> Any:
    """A decoded answer as YAML-safe data (text, numbers, lists of them), as the student wrote
    it: an unsupported value is its text (``repr``), an array its rows."""
    from autograder import answers

    if isinstance(value, answers.Array):
        return as_written(value.rows)
    if isinstance(value, (list, tuple)):
        return [as_written(v) for v in value]
    if isinstance(value, frozenset):
        return sorted((as_written(v) for v in value), key=repr)
    if isinstance(value, answers.Unsupported):
        return value.text or value.type_name
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return repr(value)


def dump(entries: list[dict], header: str = "") -> str:
    """The whole overrides file: ``header`` (comment lines, kept as they are) then the entries,
    written by PyYAML's emitter (anything outside printable ASCII escaped), so that ``load``
    reads back exactly what was meant; no entries is ``[]``."""
    import yaml

    body = yaml.safe_dump(list(entries), allow_unicode=False, sort_keys=False,
                          default_flow_style=None, width=float("inf")) if entries else "[]\n"
    return (header.rstrip() + "\n" if header.strip() else "") + body


def _scalar(value: Any) -> str:
    """``value`` on one line of YAML: as JSON where YAML reads that back as it is (most
    answers), else as PyYAML's emitter writes it (control characters, U+FFFE, emoji...)."""
    import yaml

    written = json.dumps(value, ensure_ascii=False)
    try:
        if yaml.safe_load(f"- {written}") == [value]:
            return written
    except yaml.YAMLError:
        pass
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=False,
                          width=float("inf")).removesuffix("\n...\n").rstrip("\n")


def entry_head(variable: str, answer: Any, *, by_text: bool = False) -> str:
    """An entry's first lines: the variable, the answer (``_scalar``) and, for an answer
    matched by its text, ``match: text``, as ``entry_text`` starts an entry."""
    match_line = f"  match: {BY_TEXT}  # its exact text (this answer cannot be read)\n" \
        if by_text else ""
    return f"- variable: {variable}\n  answer: {_scalar(answer)}\n{match_line}"


def entry_text(variable: str, answer: Any, credit: float | None = None, message: str | None = None,
               *, by_text: bool = False) -> str:
    """The YAML entry that settles a group. Without a credit or a message it carries
    placeholders that ``load`` refuses until the TA replaces them."""
    credit_text = CREDIT_PLACEHOLDER if credit is None else f"{credit:g}"
    return (entry_head(variable, answer, by_text=by_text) + f"  credit: {credit_text}\n"
            f"  message: {_scalar(message or MESSAGE_PLACEHOLDER)}")


def unmatched(overrides: Overrides, used: set[str]) -> list[Problem]:
    """The entries no answer matched (``used``: the override ids seen in the results)."""
    return [Problem(o.line, f"the entry for {o.variable} ({o.answer!r}) matches nobody")
            for o in overrides.entries if o.id not in used]
