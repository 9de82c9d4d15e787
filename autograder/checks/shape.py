"""Checker for tensor shapes: a tuple of numbers, equal to one of the accepted alternatives."""

from __future__ import annotations

import re

from autograder.answers import reading as notation
from autograder.answers.parse import ParseError, parse
from autograder.checks.common import (
    RIGHT,
    Kind,
    Reading,
    Unreadable,
    Verdict,
    could_not_read,
    expected,
    find_mistake,
    read_expr,
    show,
    type_error,
    vector_entries,
    wrong,
)
from autograder.report.results import Stage
from autograder.worksheet import Variable

WANTED = "a tuple of whole numbers, like (3, 32, 32)"


def read_shape(variable: Variable, value) -> Reading:
    """A tuple of numbers from a tuple, list, torch.Size, 1-D array or text "(3, 256, 256)"."""
    value, notes = vector_entries(value)
    if isinstance(value, str):
        value, notes = _text_tuple(variable, value)
    if not isinstance(value, (list, tuple)):
        raise type_error(variable, value, WANTED)
    numbers = []
    for i, item in enumerate(value):
        if isinstance(item, bool):
            raise Unreadable(f"Entry {i + 1} of `{variable.name}` is a bool, not a number.",
                             Stage.TYPE)
        number, _ = read_expr(variable, item, names=(), wanted="a number",
                              where=f"Entry {i + 1} of `{variable.name}`: ")
        numbers.append(number)
    shown = "(" + ", ".join(show(n) for n in numbers) + ("," if len(numbers) == 1 else "") + ")"
    return Reading(tuple(numbers), shown, notes)


_TIMES_SHAPE = re.compile(r"\(?\s*\d+(?:\s*[x×]\s*\d+)+\s*\)?")
_TORCH_SIZE = re.compile(r"(?:torch\.)?Size\(\s*(\[[^\[\]]*\]|\([^()]*\))\s*\)")
TIMES_NOTE = "x read as the shape's separator"
TORCH_SIZE_NOTE = "torch.Size([...]) read as the tuple it holds"


def _text_tuple(variable: Variable, text: str) -> tuple[list, tuple[str, ...]]:
    """The entries of a shape written as text, and how it was read: ``3x256x256`` or
    ``3 × 256 × 256`` (a shape here, never in an expression), ``torch.Size([3, 256, 256])`` (as
    PyTorch prints a shape), or a tuple ``(3, 256, 256)``."""
    stripped = text.strip()
    if not notation.reads_notation():
        stripped = ""
    if _TIMES_SHAPE.fullmatch(stripped):
        return [int(n) for n in re.findall(r"\d+", stripped)], (TIMES_NOTE,)
    size = _TORCH_SIZE.fullmatch(stripped)
    inner, notes = (size.group(1), (TORCH_SIZE_NOTE,)) if size else (text, ())
    try:
        parsed = parse(inner, names=(), tuples=True)
    except ParseError as exc:
        raise could_not_read(text, exc) from None
    if not isinstance(parsed.value, tuple):
        raise Unreadable(f"That is a single number; `{variable.name}` should be {WANTED}.",
                         Stage.TYPE, reading=show(parsed.value))
    return [int(v) if v.is_Integer else show(v) for v in parsed.value], notes


def _read_alternatives(variable: Variable, alternatives) -> Reading:
    """Every accepted shape (``Variable.expected`` lists them)."""
    readings = tuple(read_shape(variable, a) for a in alternatives)
    return Reading(readings, " or ".join(r.shown for r in readings))


def grade_shape(variable: Variable, reading: Reading, entries) -> Verdict:
    reference = expected(variable, _read_alternatives)
    accepted = reference.value
    if any(reading.value == a.value for a in accepted):
        return Verdict(1.0, Stage.EXACT, RIGHT)
    found = find_mistake(variable, read_shape, entries, lambda m: m.value == reading.value)
    if found:
        return found
    detail = ""
    if any(sorted(reading.value, key=str) == sorted(a.value, key=str) for a in accepted):
        detail = " The numbers are right but in another order."
    elif not all(n.is_Integer for n in reading.value):
        detail = " The entries of a shape are whole numbers."
    return wrong(variable, reference.shown, reading.shown, Stage.EXACT, detail)


SHAPE = Kind("shape", read_shape, grade_shape,
             example=lambda variable: variable.expected[0])  # the first accepted alternative
