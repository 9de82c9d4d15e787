"""Reading what students meant: notation outside the parser's syntax rewritten into it, only
where the reading is unambiguous, with a note saying how it was read (issue 31).

Each rule is a plain function ``text -> (text, note)``; ``reread`` applies them in order and
hands the result to the parser. Ambiguous forms (``7 (9 - 3 + 1)``: the answer with its working,
or 49?) are left alone, so they keep their message and their review.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Callable

from autograder.answers import latex
from autograder.settings.reading import Reading as ReadingSettings

SETTINGS = ReadingSettings()

_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789"))
_LIBRARY_CALL = re.compile(r"\b(?:math|np|numpy|sp|sympy|torch)\.(floor|ceil|ceiling|sqrt)\(")
_THOUSANDS = re.compile(r"(?<![\w.,])\d{1,3}(?:,\d{3})+(?![\w.]|,\d)")
_SUBSCRIPT_NAME = re.compile(r"\b([A-Za-z])_\{?(\d+)\}?")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[A-Za-z_]\w*|\*\*|\S")


def unicode_digits(text: str, names, tuples) -> tuple[str, str]:
    out = text.translate(_SUBSCRIPTS)
    out = re.sub("[⁰¹²³⁴⁵⁶⁷⁸⁹]+", lambda m: "**" + "".join(_SUPERSCRIPTS[c] for c in m.group()),
                 out)
    return out, "Unicode sub- and superscripts read as digits and powers"


def library_calls(text: str, names, tuples) -> tuple[str, str]:
    out = _LIBRARY_CALL.sub(lambda m: m.group(1) + "(", text)
    return out, "library calls read as the functions they name"


def int_call(text: str, names, tuples) -> tuple[str, str]:
    out = re.sub(r"\bint\(", "floor(", text)
    return out, "int(...) of a nonnegative fraction read as floor(...)"


def thousands(text: str, names, tuples) -> tuple[str, str]:
    if tuples:  # "3,256,256" is a shape there
        return text, ""
    return _THOUSANDS.sub(lambda m: m.group().replace(",", ""), text), \
        "commas read as thousands separators"


def unit_word(text: str, names, tuples) -> tuple[str, str]:
    words = "|".join(map(re.escape, SETTINGS.unit_words))
    out = re.sub(rf"\s+(?:{words})\.?\s*$", "", text, flags=re.IGNORECASE)
    return out, "the unit word dropped"


_SCALES = {"b": 10**9, "bn": 10**9, "billion": 10**9, "m": 10**6, "million": 10**6,
           "thousand": 10**3}
_APPROXIMATE = re.compile(r"(?P<sign>~|≈|about|approx\.?|approximately)?\s*"
                          r"(?P<number>\d+(?:\.\d+)?(?:e\d+)?)\s*"
                          r"(?P<scale>bn|b|billion|m|million|thousand)?", re.IGNORECASE)


def approximation(text: str) -> tuple[str, str] | None:
    """``(number, scale)`` of a count written as an approximation (``~100B``, ``≈ 1e11``,
    ``100 billion``: a ``~``/``≈``/"about" or a scale word), else None. K is not a scale: it is
    the worksheet's filter size."""
    match = _APPROXIMATE.fullmatch(text.strip())
    if not match or not (match.group("sign") or match.group("scale")):
        return None
    return match.group("number"), (match.group("scale") or "").lower()


def approximate_count(text: str, names, tuples) -> tuple[str, str]:
    found = approximation(text)
    if found is None or tuples:
        return text, ""
    number, scale = found
    value = Fraction(number) * _SCALES.get(scale, 1)  # exact: "1e11" is no float here
    written = f"{value.numerator}/{value.denominator}" if value.denominator > 1 else str(value)
    return written, f"`{text.strip()}` read as an approximate count"


def subscript_names(text: str, names, tuples) -> tuple[str, str]:
    def plain(match):
        name = match.group(1) + match.group(2)
        return name if names is None or name in names else match.group(0)

    return _SUBSCRIPT_NAME.sub(plain, text), "k_1 read as k1"


def implied_products(text: str, names, tuples) -> tuple[str, str]:
    """A ``*`` between known names and numbers side by side (``k1x1``, ``2p``, ``k1 x1``);
    nothing is inserted next to a bracket, where a call or shown working could be meant."""
    from autograder.answers.parse import FUNCTIONS, _split_names

    allowed = tuple(names or ())
    tokens: list[str] = []
    split_any = False
    for token in _TOKEN.findall(re.sub(r"(\d)([A-Za-z])", r"\1 \2", text)):
        if token[0].isalpha() and token not in allowed and token not in FUNCTIONS:
            split = _split_names(token, allowed)
            if split:
                split_any = True
                tokens += " ".join(split).split()
                continue
        tokens.append(token)
    out: list[str] = []
    for token in tokens:
        if out and out[-1][0].isalnum() and token[0].isalnum() and out[-1] not in FUNCTIONS:
            out.append("*")
        out.append(token)
    inserted = len(out) != len(tokens)
    if not (split_any or inserted):
        return text, ""
    return " ".join(out), "factors side by side read as a product"


RULES: tuple[Callable, ...] = (unicode_digits, library_calls, int_call, thousands, unit_word,
                               approximate_count, subscript_names, implied_products)


_INPUT_SIZE = re.compile(r"\bW_(?:in\b|\{in\}|\{\\(?:text|mathrm)\{in\}\})")
_OUTPUT_LABEL = re.compile(r"\bW_(?:\{out\}|\{\\(?:text|mathrm)\{out\}\})")


def worksheet_names(text: str, names) -> tuple[str, tuple[str, ...]]:
    """The worksheet's own names for its symbols: (f) writes the input size as ``W_{in}`` and
    the result as ``W_{out}``, then uses ``W`` in the general formula, so ``W_in`` is ``W``
    wherever ``W`` is allowed (and ``W_{out} = ...`` a label like ``W_out = ...``)."""
    if names is not None and ("W" not in names or "W_in" in names):
        return text, ()
    out = _OUTPUT_LABEL.sub("W_out", _INPUT_SIZE.sub("W", text))
    return out, ("W_in read as W, the worksheet's input size",) if out != text else ()


def reads_notation() -> bool:
    """Whether the policy reads notation outside the parser's syntax (else it only explains)."""
    return SETTINGS.policy == "grade"


def reread(text: str, names, tuples: bool, parse: Callable[[str], object]):
    """``(value, notes)`` for ``text`` read with the rules (or as LaTeX), or None when no
    unambiguous reading parses. ``parse`` is the parser's own strict reading."""
    if not reads_notation():
        return None
    current, alias_notes = worksheet_names(text, names)
    equation = _equation(current, names, tuples, parse)  # each side may be LaTeX
    if equation is not None:
        return equation[0], (*equation[1], *alias_notes)
    repaired, escape_notes = latex.repair_escapes(current)
    if latex.is_latex(repaired):
        return _latex(repaired, names, (*escape_notes, *alias_notes))
    notes = list(alias_notes)
    for rule in RULES:
        changed, note = rule(current, names, tuples)
        if changed != current:
            notes.append(note)
            current = changed
    if current == text or not notes or _bracket_juxtaposed(current):
        return None
    try:
        return parse(current).value, tuple(notes)
    except ValueError:
        return None


def _latex(text: str, names, notes: tuple[str, ...]):
    try:
        value = latex.parse(text, names)
    except ImportError:  # no lark (a bare Colab): say so, never a different silent score
        raise latex.Unavailable() from None
    except ValueError:
        return None
    return value, ("read as LaTeX", *notes)


def _bracket_juxtaposed(text: str) -> bool:
    """``7 (9 - 3 + 1)`` or ``(a)(b)``: a number or bracket next to a bracket."""
    return bool(re.search(r"(?:\d|\))\s*\(", text))


def _equation(text: str, names, tuples, parse):
    """``W_out = 9`` (a label on the left) or ``7 = 9 - 3 + 1`` (equal sides) read as the
    answer; any other equation is not read."""
    parts = re.split(r"(?<![=<>!])=(?!=)", text)
    if len(parts) != 2:
        return None
    left, right = (p.strip() for p in parts)
    if left.isidentifier() and left not in (names or ()):
        found = _read_side(right, names, tuples, parse)
        return None if found is None else (found[0], (f"read the right side of `{left} = ...`",
                                                      *found[1]))
    a, b = _read_side(left, names, tuples, parse), _read_side(right, names, tuples, parse)
    if a is None or b is None or isinstance(a[0], tuple) or isinstance(b[0], tuple):
        return None
    import sympy

    if sympy.expand(a[0] - b[0]) != 0:
        return None
    return a[0], ("both sides of the equation are equal; read as one side", *a[1], *b[1])


def _read_side(text: str, names, tuples, parse):
    try:
        return parse(text).value, ()
    except ValueError:
        return reread(text, names, tuples, parse) if "=" not in text else None
