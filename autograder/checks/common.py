"""What every checker shares: readings, verdicts, type messages, reading expressions, the
catalogue lookup and the wrong-answer message.

A checker is two plain functions: ``read(variable, value) -> Reading`` (raises ``Unreadable``)
and ``grade(variable, reading) -> Verdict``. ``checks.check_variable`` runs them and writes the
feedback, so every message starts with how the answer was read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import sympy

from autograder import answers
from autograder.answers import Array, Sym, Unsupported
from autograder.checks import cas
from autograder.answers.parse import MAX_BITS, ParseError, error_parts, parse
from autograder.report.results import CheckResult, Stage, Text
from autograder.worksheet import Q2_SYMBOLS, Variable, mistakes


class Unreadable(Exception):
    """The answer could not be read: a format error (bad text) or a type error (wrong kind).
    ``reason`` says why; ``pointer`` is the text with a caret under the problem; ``reading`` how
    far it was read, when that helps ("W - K + 1", which is a formula, not a number)."""

    def __init__(self, reason: str, stage: Stage = Stage.FORMAT, *, pointer: str = "",
                 reading: str = "", suggestion: str = ""):
        self.reason, self.stage, self.pointer, self.reading = reason, stage, pointer, reading
        self.suggestion = suggestion  # the whole answer as the grader would read it, if known
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The plain text (for the catalogue's and the overrides' problem lists)."""
        return CheckResult("", 0, 0, self.reason, reading=self.reading,
                           pointer=self.pointer).message


@dataclass(frozen=True)
class Reading:
    """An answer as the grader read it: its value and how to show it to the student (``code``,
    after ``label`` when the code is only part of it: "a 3x3 matrix with first row [...]")."""

    value: Any
    code: str
    notes: tuple[str, ...] = ()
    label: str = ""

    @property
    def shown(self) -> str:
        return f"{self.label} {self.code}" if self.label else self.code


@dataclass(frozen=True)
class Verdict:
    """A graded answer: the fraction of the points, what decided, the verdict (``Text``: prose
    and code alternately, or plain prose), a known mistake's id and its advice (``hint``)."""

    fraction: float
    stage: Stage
    message: Text
    mistake: str | None = None
    hint: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.message, str):
            object.__setattr__(self, "message", (self.message,))

    @property
    def full(self) -> Text:
        """The verdict with its hint, as one ``Text``."""
        return concat(self.message, f" {self.hint}" if self.hint else "")


def concat(*parts: Text | str) -> Text:
    """``Text`` pieces (a str is prose) joined into one ``Text``: prose next to prose merges."""
    out: list[str] = []
    for part in parts:
        for i, item in enumerate((part,) if isinstance(part, str) else part):
            if i % 2 == 0 and len(out) % 2 == 1:
                out[-1] += item
            elif i % 2 == 1 and len(out) % 2 == 0:
                out += ["", item]
            else:
                out.append(item)
    return tuple(out)


# --- values -------------------------------------------------------------------------------

_PLAIN = (bool, int, float, str, Array, Unsupported, type(answers.MISSING))


def to_plain(value: Any) -> Any:
    """``value`` as ``answers.decode`` gives it: raw objects (SymPy, NumPy, torch) are encoded
    and decoded, exactly as in a real grading run."""
    if _is_plain(value):
        return value
    if isinstance(value, (set, frozenset)):
        return [to_plain(v) for v in value]
    return answers.decode(answers.encode(value))


def _is_plain(value: Any, depth: int = 0) -> bool:
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return depth < 20 and all(_is_plain(v, depth + 1) for v in value)
    return type(value) in _PLAIN or type(value) is Sym


def describe(value: Any) -> str:
    """A few words naming what the student gave (for type messages)."""
    if isinstance(value, Unsupported):
        if value.type_name == "ellipsis":
            return "still the placeholder `...`"
        if value.type_name == "NoneType":
            return "None"
        return f"a {value.type_name} ({value.text[:60]})" if value.text else f"a {value.type_name}"
    if isinstance(value, Array):
        return f"an array of shape {value.shape}"
    if isinstance(value, bool):
        return f"a bool ({value})"
    if isinstance(value, Sym):
        return f"a SymPy expression ({value[:60]})"
    names = {int: "an integer", float: "a number", str: "a string", list: "a list",
             tuple: "a tuple"}
    return names.get(type(value), type(value).__name__)


def type_error(variable: Variable, value: Any, wanted: str) -> Unreadable:
    """The type message: what the answer is, and what the question wants."""
    what = describe(value)
    if what == "still the placeholder `...`":  # unanswered, like a variable never defined
        return Unreadable(f"`{variable.name}` is {what}: replace it with {wanted}.", Stage.MISSING)
    return Unreadable(f"`{variable.name}` is {what}; expected {wanted}.", Stage.TYPE)


def symbols(variable: Variable) -> tuple[str, ...]:
    """The names the variable's answers may use: its variant's (``options["names"]``), else
    the worksheet's ``Q2_SYMBOLS``."""
    return tuple(variable.options.get("names", Q2_SYMBOLS))


def read_expr(variable: Variable, value: Any, *, names: tuple[str, ...] | None | Any = ...,
              wanted: str = "an expression", where: str = ""):
    """One SymPy expression from an int, float, string or SymPy text; ``where`` prefixes
    messages (e.g. "entry (2, 3): "); ``names`` the symbols allowed (by default the variable's
    ``symbols``; ``None``: any). Returns (expression, notes)."""
    if names is ...:
        names = symbols(variable)
    if isinstance(value, Array) and value.shape == (1, 1) and not where:  # k.T*x
        expr, notes = read_expr(variable, value.rows[0][0], names=names, wanted=wanted)
        return expr, (ONE_BY_ONE, *notes)
    if type(value) is int:
        if value.bit_length() > MAX_BITS:
            raise Unreadable(f"{where}The number has {value.bit_length()} bits; that is far too "
                             f"large.", Stage.TYPE)
        return sympy.Integer(value), ()
    if type(value) is float:
        if not math.isfinite(value):
            raise Unreadable(f"{where}`{value}` is not a finite number.")
        return sympy.Rational(repr(value)), ()
    if isinstance(value, str):
        try:
            parsed = parse(value, names=names)
        except ParseError as exc:
            raise could_not_read(value, exc, where) from None
        return parsed.value, parsed.notes
    if where:
        raise Unreadable(f"{where}{describe(value)} is not {wanted}.", Stage.TYPE)
    raise type_error(variable, value, wanted)


ONE_BY_ONE = "a 1x1 matrix read as its entry"
VECTOR = "a one-column (or one-row) matrix read as the tuple of its entries"


def vector_entries(value: Any) -> tuple[Any, tuple[str, ...]]:
    """A 1-D array's entries, or a 2-D array's with one column or one row (``sp.Matrix([3, 256,
    256])``), as a list with the note saying so; anything else unchanged."""
    if isinstance(value, Array) and len(value.shape) == 1:
        return list(value.rows), ()
    if isinstance(value, Array) and len(value.shape) == 2 and 1 in value.shape:
        return [x for row in value.rows for x in row], (VECTOR,)
    return value, ()


def could_not_read(text: str, error: ParseError, where: str = "") -> Unreadable:
    """The format error for text the parser refused: a sentence (after ``where``, else
    capitalised) and the pointer to the problem."""
    reason, pointer = error_parts(text, error)
    reason = where + reason if where else reason[:1].upper() + reason[1:]
    return Unreadable(reason, pointer=pointer, suggestion=error.suggestion)


def show(expr) -> str:
    return sympy.sstr(expr)


# --- grading helpers ----------------------------------------------------------------------

_CATALOGUE_CACHE: dict = {}


def catalogue(variable: Variable, read: Callable[[Variable, Any], Reading],
              entries: tuple[mistakes.Mistake, ...]):
    """(mistake, reading) for each of the catalogue ``entries``, read once by ``read``."""
    key = (variable.name, read, tuple(id(m) for m in entries))
    if key not in _CATALOGUE_CACHE:
        _CATALOGUE_CACHE[key] = tuple((m, read(variable, m.answer)) for m in entries)
    return _CATALOGUE_CACHE[key]


_EXPECTED_CACHE: dict = {}


def expected(variable: Variable, read: Callable[[Variable, Any], Reading]) -> Reading:
    """The reference answer, read by the same reader as the student's (once)."""
    key = (variable.name, variable.kind, repr(variable.expected), read)
    if key not in _EXPECTED_CACHE:
        _EXPECTED_CACHE[key] = read(variable, variable.expected)
    return _EXPECTED_CACHE[key]


def find_mistake(variable: Variable, read, entries: tuple[mistakes.Mistake, ...],
                 same: Callable[[Reading], bool], prefix: str = "") -> Verdict | None:
    """The verdict of the first of the catalogue ``entries`` that ``same`` accepts, if any."""
    for mistake, reading in catalogue(variable, read, entries):
        if same(reading):
            return mistake_verdict(mistake, prefix)
    return None


def mistake_verdict(mistake: mistakes.Mistake, prefix: str = "") -> Verdict:
    return Verdict(mistake.credit, Stage.CATALOGUE,
                   f"{prefix}Not correct, a known mistake ({mistake.id}):", mistake.id,
                   mistake.message)


def wrong(variable: Variable, expected_shown: str, shown: str, stage: Stage,
          detail: str = "") -> Verdict:
    """A wrong answer with no known mistake: "expected ..., got ..." when the variable is
    public, a neutral message when it is hidden."""
    if variable.hidden:
        return Verdict(0.0, stage, f"Not correct; re-derive {variable.description}.")
    return Verdict(0.0, stage, ("Not correct: expected ", expected_shown, ", got ", shown,
                                f".{detail}"))


def undecided(stage: Stage = Stage.UNDECIDED) -> Verdict:
    return Verdict(0.0, stage, "The grader could not decide whether this equals the expected "
                               "answer (the algebra was too hard or too slow); course staff "
                               "will review it.")


RIGHT = "Correct."


# --- sameness ------------------------------------------------------------------------------

CANONICAL = "canonical:"
"""the start of a key that is a canonical form: different keys are different answers"""


def expanded_key(exprs: list) -> str:
    """The expanded forms' text, in one CAS call (one deadline for a whole matrix); canonical
    when every entry is a polynomial (SymPy's expanded sums of monomials are then unique)."""
    def expand():
        expanded = [sympy.expand(e) for e in exprs]
        polynomial = all(e.is_polynomial() for e in expanded)
        return (CANONICAL if polynomial else "") + repr([sympy.srepr(e) for e in expanded])

    try:
        return cas.run(expand)
    except Exception:  # slow or odd: the plain form still groups identical answers
        return repr([sympy.srepr(e) for e in exprs])


# --- the interface of an answer kind ----------------------------------------------------------

def _exact_key(variable: Variable, reading: Reading) -> str:
    return CANONICAL + repr(reading.value)


def _equal_values(variable: Variable, a: Reading, b: Reading) -> bool:
    return a.value == b.value


def _the_reference(variable: Variable) -> Any:
    return variable.expected


def _the_entrys_answer(variable: Variable, mistake: mistakes.Mistake) -> Any:
    return mistake.answer


@dataclass(frozen=True)
class Kind:
    """One answer kind: ``read(variable, value) -> Reading``, ``grade(variable, reading,
    entries) -> Verdict`` (``entries``: the catalogue's mistakes for this variable),
    ``key(variable, reading) -> str`` and ``same(variable, a, b) -> bool`` (by default: equal
    values only). ``example(variable)`` is a right answer as a student could assign it, and
    ``wrong(variable, mistake)`` the answer that shows one of its catalogue entries (by default
    the reference and the entry's answer), so tests, scripts and benchmarks ask the kind instead
    of knowing each kind's reference format. ``runs_code``: checked by running the student's code
    (``program``), not by ``read`` and ``grade``."""

    name: str
    read: Callable[[Variable, Any], Reading]
    grade: Callable[[Variable, Reading, tuple[mistakes.Mistake, ...]], Verdict]
    key: Callable[[Variable, Reading], str] = _exact_key
    same: Callable[[Variable, Reading, Reading], bool] = _equal_values
    example: Callable[[Variable], Any] = _the_reference
    wrong: Callable[[Variable, mistakes.Mistake], Any] = _the_entrys_answer
    runs_code: bool = False
