"""Per-student variants of the written part (Q2): which numbers a student gets.

The top of the worksheet: a ``Variant`` (``numbers.py``) is the numbers, a ``Sheet``
(``sheet.py``) the questions and catalogue built from them, and this module decides, from each
candidate's own sheet, which variants a student may get. ``variant_of(email, salt)`` picks a
student's variant from their normalised email and the course's salt with SHA-256 (never
``hash()``, which changes between processes), as an index into ``VARIANTS``: every variant in
which each sub-question keeps its meaning: odd k (symmetric 'same' padding), an image size whose
Q2i division is never exact (the floor matters, as 251/2 in the worksheet), and, read off the
variant's sheet, every number-valued known mistake a different answer from the reference and
from each other. Standard library only (the student's side uses it without SymPy).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json

from autograder.worksheet import sheet as sheets
from autograder.worksheet.numbers import DEFAULT, IMAGE_NAMES, Variant

#: The ranges variants are drawn from (each combination kept only when ``problems`` is empty).
N_RANGE = range(7, 13)
K_CHOICES = (3, 5)
IMAGE_CHOICES = (32, 48, 64, 96, 128, 160, 192, 224, 256)
IN_CHANNEL_CHOICES = (3, 4)
OUT_CHANNEL_CHOICES = (16, 24, 32, 48, 64)
KERNEL_CHOICES = (3, 5, 7)
STRIDE_CHOICES = (2, 4)  # divisions by 2 and 4 are exact as floats (126.5, 63.25)


def normalise(email: str | None) -> str:
    """An email as identities are compared: trimmed, lower case ('' when there is none)."""
    return (email or "").strip().lower()


def problems(v: Variant) -> list[str]:
    """Why ``v`` would not keep every sub-question meaningful (empty when it does)."""
    found = _unbuildable(v)
    if found:  # its sheet would not mean what the worksheet means (or cannot be built)
        return found
    for name, answers in number_answers(sheets.build(v)).items():
        if len(set(answers)) != len(answers):
            found.append(f"{name}: two known answers coincide: {answers}")
    return found


def _unbuildable(v: Variant) -> list[str]:
    found = []
    if v.k % 2 == 0 or v.k < 3:
        found.append("k must be odd and at least 3 ('same' padding symmetric)")
    if v.n_out < 5:
        found.append("the unpadded output must have at least 5 entries")
    if (v.image - v.kernel) % v.stride == 0 or v.kernel % 2 == 0:
        found.append("the Q2i division must not be exact, with an odd kernel")
    if v.in_channels == v.out_channels or v.in_channels not in IMAGE_NAMES:
        found.append("input channels must be named and differ from the output channels")
    return found


def number_answers(sheet: sheets.Sheet) -> dict[str, list]:
    """Each number-valued variable's accepted answers then its known wrong answers, as the sheet
    writes them (numbers, or tuples of numbers); other variables' answers are compared by their
    checkers (``checks.catalogue_problems``), which need SymPy."""
    found = {}
    for q in sheet.questions:
        for variable in q.variables:
            accepted = _accepted(variable.expected)
            if not all(map(_is_number_valued, accepted)):
                continue
            answers = [*accepted, *(m.answer for m in sheet.entries(variable.name))]
            if all(map(_is_number_valued, answers)):
                found[variable.name] = answers
    return found


def _accepted(expected) -> list:
    """A reference as a list of accepted answers: a list of tuples is a list of alternatives
    (a shape's), anything else is one answer."""
    if isinstance(expected, list) and all(isinstance(a, tuple) for a in expected):
        return list(expected)
    return [expected]


def _is_number_valued(answer) -> bool:
    def number(x) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    return number(answer) or (isinstance(answer, tuple) and bool(answer)
                              and all(map(number, answer)))


@functools.cache
def admissible() -> tuple[Variant, ...]:
    """Every variant a student can get, in a fixed order (``variant_of`` indexes it); computed
    once, on first use (each candidate's sheet is built to judge it)."""
    grid = itertools.product(N_RANGE, K_CHOICES, IMAGE_CHOICES, IN_CHANNEL_CHOICES,
                             OUT_CHANNEL_CHOICES, KERNEL_CHOICES, STRIDE_CHOICES)
    return tuple(v for v in (Variant(*numbers) for numbers in grid) if not problems(v))


def __getattr__(name: str):
    if name == "VARIANTS":  # ``variants.VARIANTS``: ``admissible()``, computed on first use
        return admissible()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def variant_of(email: str | None, salt: str) -> Variant:
    """The variant of the student with this email under the course's ``salt``: the same on every
    machine, Python version and process; ``DEFAULT`` when there is no email."""
    who = normalise(email)
    if not who:
        return DEFAULT
    every = admissible()
    digest = hashlib.sha256(f"{salt}\n{who}".encode()).digest()
    return every[int.from_bytes(digest[:8], "big") % len(every)]


def to_json(v: Variant) -> str:
    """The variant as the CLI prints it: one JSON object."""
    return json.dumps(v.as_dict())


def sheet(v: Variant) -> sheets.Sheet:
    """The worksheet of variant ``v``: its questions and catalogue (``Sheet``). ``DEFAULT``'s is
    the module-level worksheet as it is now; another's is computed once per process and kept,
    so the checks' caches keyed on its objects stay valid."""
    return sheets.build(v) if v == DEFAULT else _built(v)


@functools.cache
def _built(v: Variant) -> sheets.Sheet:
    return sheets.build(v)
