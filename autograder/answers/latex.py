"""LaTeX answers read by SymPy's own ``parse_latex`` (Lark backend), then checked like any
answer: only whitelisted commands go in, and only whitelisted SymPy objects come out.

The text is never evaluated as Python. Before parsing, the commands are checked against a short
list and exponents are bounded (SymPy evaluates ``2^{10^9}`` while it parses); after parsing, the
tree is walked and every node must be a number, an allowed symbol, + * ^, floor/ceiling, a finite
sum over the worksheet's symbols, or a matrix of those.
"""

from __future__ import annotations

import re

import sympy
from sympy.core.function import AppliedUndef

from autograder.settings.limits import Checking
from autograder.settings.reading import Reading as ReadingSettings

_SETTINGS = ReadingSettings()
MAX_EXPONENT = Checking().exponent

#: Commands a LaTeX answer may use; anything else is refused before SymPy sees it.
COMMANDS = frozenset({
    "frac", "dfrac", "tfrac", "cdot", "times", "div", "left", "right", "lfloor", "rfloor",
    "lceil", "rceil", "sum", "begin", "end", "big", "Big", "bigl", "bigr", "quad", ",", ";",
    " ", "!",
})
_ENVIRONMENTS = frozenset({"bmatrix", "pmatrix", "matrix"})
#: Python escapes that eat the backslash of a LaTeX command in a non-raw string.
_EATEN = {"\x0c": "f", "\t": "t", "\x08": "b", "\r": "r", "\n": "n", "\x07": "a", "\x0b": "v"}
_KNOWN = ("frac", "times", "beta", "right", "rfloor", "rceil", "nu", "bmatrix", "begin",
          "tfrac", "alpha", "theta", "tau", "big", "bigr", "rho", "nabla", "neq", "vec", "text")
_SUBSCRIPTED = re.compile(r"^([A-Za-z]+)_\{?([A-Za-z0-9]+)\}?$")


class Unavailable(Exception):
    """SymPy's LaTeX parser needs ``lark``, which this Python lacks (the autograder has it)."""

    reason = ("this looks like LaTeX, which the autograder reads with the `lark` package; it is "
              "not installed here, so this check cannot read it: run `%pip install lark==1.3.1` "
              "and restart the kernel, or write plain Python (k1*x1, floor((W - K)/s) + 1)")


class LatexError(ValueError):
    """LaTeX that is refused (a command or exponent not allowed), with the reason."""


def repair_escapes(text: str) -> tuple[str, tuple[str, ...]]:
    """``text`` with Python escapes that ate a LaTeX command's backslash put back (``\\f`` in
    ``"\\frac"`` became a form feed), and a note for each command repaired."""
    notes = []
    for char, letter in _EATEN.items():
        pattern = re.compile(re.escape(char) + r"([A-Za-z]+)")

        def put_back(match, letter=letter):
            word = letter + match.group(1)
            if word.startswith(_KNOWN):
                notes.append(f"\\{word[:8]} had lost its backslash to a Python escape (write "
                             f"LaTeX in a raw string, r\"...\")")
                return "\\" + word
            return match.group(0)

        text = pattern.sub(put_back, text)
    return text, tuple(dict.fromkeys(notes))


def is_latex(text: str) -> bool:
    """Backslash commands, dollar signs or braces: text only LaTeX would contain."""
    return bool(re.search(r"\\[A-Za-z]|\$|[{}]", text))


def parse(text: str, names: tuple[str, ...] | None):
    """The SymPy value of LaTeX ``text`` with symbol names normalised (``k_{1}`` is ``k1``);
    raises LatexError for refused input and ValueError when SymPy cannot parse it."""
    text = text.strip().strip("$").strip()
    if len(text) > _SETTINGS.latex_characters:
        raise LatexError(f"the LaTeX is longer than {_SETTINGS.latex_characters} characters")
    for command in re.findall(r"\\([A-Za-z]+|.)", text):
        if command not in COMMANDS and command != "\\":
            raise LatexError(f"the LaTeX command \\{command} is not allowed in an answer")
    for environment in re.findall(r"\\(?:begin|end)\s*\{([^}]*)\}", text):
        if environment not in _ENVIRONMENTS:
            raise LatexError(f"the LaTeX environment {environment} is not allowed")
    if "!" in text.replace("\\!", ""):
        raise LatexError("factorials are not allowed in an answer")
    for exponent in re.findall(r"\^\s*(\{[^{}]*\}|\S)", text):
        body = exponent.strip("{}").strip()
        if not re.fullmatch(r"-?\d{1,3}", body) or abs(int(body)) > MAX_EXPONENT:
            if not re.search(r"\\sum_\{[^{}]*\}\s*\^\s*" + re.escape(exponent), text):
                raise LatexError("exponents must be small whole numbers")
    from sympy.parsing.latex import parse_latex  # lark is imported only when LaTeX is read

    try:
        expr = parse_latex(_prepared(text), backend="lark")
    except ImportError:
        raise
    except Exception as exc:  # Lark's and SymPy's parse errors have no common base
        raise ValueError(str(exc).splitlines()[0] if str(exc) else "unreadable") from None
    if getattr(expr, "data", None) == "_ambig":  # Lark's tree of the readings it found
        return _one_reading(expr.children, names)
    return _checked(expr, names)


_CLOSERS = ("\\right", "\\rfloor", "\\rceil", "\\end", "\\cdot", "\\times", "\\div")


def _prepared(text: str) -> str:
    """What the Lark grammar lacks: ``\\left``/``\\right`` dropped (it reads ``\\le`` in
    ``\\left``) and a ``\\cdot`` after a power followed by another factor (``x_{5}^{2} x_{7}``),
    except after a sum's upper limit."""
    text = re.sub(r"\\(?:left|right)(?![A-Za-z])\s*(?=[()\[\]|.]|\\[lr](?:floor|ceil))", "",
                  text).replace("\\left.", "").replace("\\right.", "")
    out, last = [], 0
    for match in re.finditer(r"\^\s*(?:\{[^{}]*\}|\d)", text):
        rest = text[match.end():].lstrip()
        if (re.search(r"\\sum_\{[^{}]*\}\s*$", text[:match.start()]) or not rest
                or rest.startswith(_CLOSERS) or not re.match(r"[A-Za-z0-9(\\]", rest)):
            continue
        out += [text[last:match.end()], " \\cdot "]
        last = match.end()
    return "".join(out) + text[last:]


def _one_reading(candidates, names: tuple[str, ...] | None):
    """The reading of an ambiguous parse when every allowed reading agrees (``k_{2}(s + 1)``:
    a call of ``k_{2}`` is not allowed, the product is); else it is not read."""
    readings = []
    plain = [c for c in candidates if isinstance(c, sympy.Basic) and not c.atoms(AppliedUndef)]
    for candidate in plain or candidates:
        try:
            readings.append(_checked(candidate, names))
        except ValueError:
            continue
    if readings and all(sympy.simplify(r - readings[0]) == 0 for r in readings[1:]):
        return readings[0]
    raise ValueError("the LaTeX can be read in more than one way")


def _checked(expr, names: tuple[str, ...] | None):
    """``expr`` rebuilt from whitelisted parts only (sums expanded, names normalised)."""
    if not isinstance(expr, (sympy.Basic, sympy.MatrixBase)):  # Lark's tree of an ambiguity
        raise ValueError("the LaTeX can be read in more than one way")
    if isinstance(expr, sympy.MatrixBase):
        if expr.rows * expr.cols > 400:
            raise LatexError("the matrix is too large")
        return sympy.Matrix(expr.rows, expr.cols, [_checked(e, names) for e in expr])
    if isinstance(expr, sympy.Sum):
        return _checked(_expand_sum(expr), names)
    if expr.is_Integer or expr.is_Rational:
        return expr
    if expr.is_Symbol:
        name = _plain_name(expr.name)
        if names is not None and name not in names:
            raise LatexError(f"unknown name `{expr.name}`")
        return sympy.Symbol(name)
    if isinstance(expr, (sympy.Add, sympy.Mul)):
        return expr.func(*(_checked(a, names) for a in expr.args))
    if isinstance(expr, sympy.Pow):
        base, exponent = expr.args
        if not exponent.is_Rational or abs(exponent) > MAX_EXPONENT:
            raise LatexError("exponents must be small numbers")
        return _checked(base, names) ** exponent
    if isinstance(expr, AppliedUndef) and len(expr.args) == 1:
        # ``x_{7} (s - 1)``: the worksheet's names are numbers, never functions: a product
        return _checked(sympy.Symbol(expr.func.__name__), names) * _checked(expr.args[0], names)
    if isinstance(expr, (sympy.floor, sympy.ceiling)):
        return expr.func(_checked(expr.args[0], names))
    raise LatexError(f"{type(expr).__name__} is not allowed in an answer")


def _plain_name(name: str) -> str:
    """``k_{1}``, ``k_1`` and ``k1`` are one name: ``k1``."""
    match = _SUBSCRIPTED.match(name)
    return match.group(1) + match.group(2) if match else name


def _expand_sum(total: sympy.Sum):
    """A finite sum with whole-number bounds written out, ``k_{i}`` becoming ``k1``, ``k2``..."""
    if len(total.limits) != 1:
        raise LatexError("only a single sum is allowed")
    index, low, high = total.limits[0]
    if not (low.is_Integer and high.is_Integer) or not 0 <= high - low <= 50:
        raise LatexError("a sum needs whole-number bounds (at most 50 terms)")
    terms = []
    for value in range(int(low), int(high) + 1):
        swap = {}
        for symbol in total.function.free_symbols:
            match = _SUBSCRIPTED.match(symbol.name)
            if match and match.group(2) == index.name:
                swap[symbol] = sympy.Symbol(f"{match.group(1)}{value}")
        swap[index] = sympy.Integer(value)
        terms.append(total.function.xreplace(swap))
    return sympy.Add(*terms)
