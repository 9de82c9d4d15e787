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
from autograder.answers.parse import MAX_BITS, ParseError, error_message, parse
from autograder.report.results import Stage
from autograder.worksheet import Q2_SYMBOLS, Variable, mistakes


class Unreadable(Exception):
    """The answer could not be read: a format error (bad text) or a type error (wrong kind)."""

    def __init__(self, message: str, stage: Stage = Stage.FORMAT):
        super().__init__(message)
        self.message = message
        self.stage = stage


@dataclass(frozen=True)
class Reading:
    """An answer as the grader read it: its value and how to show it to the student."""

    value: Any
    shown: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """A graded answer: the fraction of the points, what decided, and the feedback."""

    fraction: float
    stage: Stage
    message: str
    mistake: str | None = None


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


def read_expr(variable: Variable, value: Any, *, names: tuple[str, ...] | None = Q2_SYMBOLS,
              wanted: str = "an expression", where: str = ""):
    """One SymPy expression from an int, float, string or SymPy text; ``where`` prefixes
    messages (e.g. "entry (2, 3): "). Returns (expression, notes)."""
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
            if where:
                raise Unreadable(where + error_message(value, exc)) from None
            raise could_not_read(value, exc) from None
        return parsed.value, parsed.notes
    if where:
        raise Unreadable(f"{where}{describe(value)} is not {wanted}.", Stage.TYPE)
    raise type_error(variable, value, wanted)


def could_not_read(text: str, error: ParseError) -> Unreadable:
    """The format error for text the parser refused, as a sentence."""
    message = error_message(text, error)
    return Unreadable(message[:1].upper() + message[1:])


def show(expr) -> str:
    return sympy.sstr(expr)


# --- grading helpers ----------------------------------------------------------------------

_CATALOGUE_CACHE: dict = {}


def catalogue(variable: Variable, read: Callable[[Variable, Any], Reading],
              mistake_list: tuple[mistakes.Mistake, ...] | None = None):
    """(mistake, reading) for each catalogue entry of ``variable``, read once by ``read``."""
    entries = mistakes.for_variable(variable.name) if mistake_list is None else mistake_list
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


def find_mistake(variable: Variable, read, same: Callable[[Reading], bool],
                 prefix: str = "", mistake_list=None) -> Verdict | None:
    """The verdict of the first catalogue entry that ``same`` accepts, if any."""
    for mistake, reading in catalogue(variable, read, mistake_list):
        if same(reading):
            return mistake_verdict(mistake, prefix)
    return None


def mistake_verdict(mistake: mistakes.Mistake, prefix: str = "") -> Verdict:
    return Verdict(mistake.credit, Stage.CATALOGUE,
                   f"{prefix}Not correct, a known mistake ({mistake.id}): {mistake.message}",
                   mistake.id)


def wrong(variable: Variable, expected_shown: str, shown: str, stage: Stage,
          detail: str = "") -> Verdict:
    """A wrong answer with no known mistake: "expected ..., got ..." when the variable is
    public, a neutral message when it is hidden."""
    if variable.hidden:
        return Verdict(0.0, stage, f"Not correct; re-derive {variable.description}.")
    return Verdict(0.0, stage, f"Not correct: expected {expected_shown}, got {shown}.{detail}")


def undecided(stage: Stage = Stage.UNDECIDED) -> Verdict:
    return Verdict(0.0, stage, "The grader could not decide whether this equals the expected "
                               "answer (the algebra was too hard or too slow); course staff "
                               "will review it.")


RIGHT = "Correct."
