"""Safe parsing of a student's text (or text SymPy printed) into SymPy objects.

Nothing here calls ``eval`` or ``sympify`` on the text. The text is parsed by Python's ``ast``
module, every node is checked against a short whitelist, and the SymPy object is built from the
tree by hand. Symbols are created by name only (no assumptions), so ``Symbol('k1', real=True)``
in a student's notebook, printed as ``k1``, reads back as the reference's plain ``k1``.

Problems raise ``ParseError`` (a reason and a position); ``error_parts`` is the one place that
turns one into what a student reads (a sentence, and a pointer to the problem).
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass

import sympy

from autograder.answers import notation
from autograder.settings.limits import Checking
from autograder.worksheet import Q2_SYMBOLS

_LIMITS = Checking()
MAX_LENGTH = _LIMITS.answer_characters
MAX_EXPONENT = _LIMITS.exponent
MAX_BITS = _LIMITS.number_bits
MAX_DEPTH = _LIMITS.expression_depth
MAX_DEGREE = _LIMITS.degree
MAX_TERMS = _LIMITS.expanded_terms

#: Functions a student may call, by the names they may use.
FUNCTIONS = {
    "floor": sympy.floor,
    "ceiling": sympy.ceiling,
    "ceil": sympy.ceiling,
    "sqrt": sympy.sqrt,
    "Abs": sympy.Abs,
    "abs": sympy.Abs,
    "Max": sympy.Max,
    "max": sympy.Max,
    "Min": sympy.Min,
    "min": sympy.Min,
    "Rational": sympy.Rational,
}
_ONE_ARGUMENT = {"floor", "ceiling", "ceil", "sqrt", "Abs", "abs"}

#: Characters read as something else, with the note shown when they occur.
_REPLACEMENTS = (
    ("\u2212", "-", None), ("\u2013", "-", None), ("\u00d7", "*", None), ("\u00b7", "*", None),
    ("\u22c5", "*", None), ("\u2217", "*", None), ("\u00f7", "/", None), ("\u00a0", " ", None),
    ("\n", " ", None), ("\u230a", "floor(", None), ("\u230b", ")", None),
    ("\u2308", "ceiling(", None), ("\u2309", ")", None),
    ("^", "**", "^ read as ** (a power)"),
)

_OPERATORS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: sympy.floor(a / b),
}

_NODE_NAMES = {
    ast.Attribute: "attribute access (.)", ast.Subscript: "indexing ([...])",
    ast.Lambda: "lambda", ast.Compare: "comparisons", ast.BoolOp: "and/or",
    ast.IfExp: "if/else", ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts",
    ast.Set: "sets", ast.Starred: "*", ast.JoinedStr: "f-strings", ast.NamedExpr: ":=",
    ast.ListComp: "comprehensions", ast.GeneratorExp: "comprehensions", ast.Await: "await",
}


class ParseError(ValueError):
    """Why a text could not be read, and where (0-based index into the normalised text)."""

    def __init__(self, reason: str, position: int | None = None, *, syntax: bool = False,
                 suggestion: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.position = position
        self.syntax = syntax  # Python could not even tokenise or parse it
        self.suggestion = suggestion  # the whole answer rewritten as the grader would read it


@dataclass(frozen=True)
class Parsed:
    """A parsed answer: the SymPy value (an expression, or a tuple of them), the normalised
    text that was parsed, and notes on how the text was read (e.g. ``^`` as a power)."""

    value: object
    text: str
    notes: tuple[str, ...] = ()


def normalise(text: str) -> tuple[str, tuple[str, ...]]:
    """The text with look-alike characters replaced, and notes on the replacements."""
    notes = []
    for old, new, note in _REPLACEMENTS:
        if old in text:
            text = text.replace(old, new)
            if note:
                notes.append(note)
    return text.strip(), tuple(notes)


def parse(text: str, *, names: tuple[str, ...] | None = Q2_SYMBOLS,
          tuples: bool = False) -> Parsed:
    """Parse ``text`` into SymPy; raises ParseError.

    ``names`` are the symbols allowed (``None``: any identifier, and ``k[1]`` becomes the symbol
    ``k[1]``). With ``tuples`` a top-level tuple or list gives a tuple of expressions. Text
    written as LaTeX or with implied products is told what to write instead (``notation``).
    """
    from autograder.answers import reading

    try:
        return _parse(text, names=names, tuples=tuples)
    except ParseError as error:
        found = _reread(str(text), names, tuples)
        if found is not None:
            return found
        if reading.approximation(str(text)) is not None:  # never "two factors side by side"
            raise ParseError("this is an approximation; give the exact count (a product of "
                             "whole numbers is fine)") from None
        if _number_before_bracket(str(text)):
            raise ParseError("a number stands next to a bracket, which could be the answer with "
                             "its working or a product; give the answer alone, e.g. 7 (or "
                             "7*(...) if you mean a product)", error.position) from None
        reads = lambda t: _reads(t, names, tuples)  # noqa: E731
        if error.syntax or _maths_notation(str(text), error.reason, names):
            better = notation.explain(str(text), reads)
            if better:
                raise ParseError(better, error.position,
                                 suggestion=notation.suggestion(str(text), reads)) from None
        first = error.suggestion
        error.suggestion = _whole_suggestion(first, names, tuples)
        if error.suggestion and error.suggestion != first:  # more than one near miss
            error.reason += f"; with the names fixed it would read `{error.suggestion}`"
        raise


def _reread(text: str, names: tuple[str, ...] | None, tuples: bool) -> Parsed | None:
    """The answer as ``reading`` reads it (LaTeX, Unicode, ``2,400`` ...), if unambiguous."""
    from autograder.answers import latex, reading

    try:
        found = reading.reread(text, names, tuples,
                               lambda t: _parse(t, names=names, tuples=tuples))
    except latex.Unavailable as missing:
        raise ParseError(missing.reason) from None
    if found is None:
        return None
    value, notes = found
    if isinstance(value, sympy.MatrixBase):
        if value.shape == (1, 1):
            value, notes = value[0, 0], (*notes, "a 1x1 matrix read as its entry")
        elif tuples and 1 in value.shape:
            value = tuple(value)
        else:
            return None
    for item in value if isinstance(value, tuple) else (value,):
        if item.has(sympy.I, sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            return None
        refuse_if_costly(item)
    return Parsed(value, text, notes)


def _whole_suggestion(text: str, names: tuple[str, ...] | None, tuples: bool) -> str:
    """``text`` with every near-miss name replaced (``w - k + 1`` -> ``W - K + 1``: each
    refusal suggests one), if that reads; else ''. Only ever suggested, never graded."""
    for _ in range(8):
        if not text:
            return ""
        try:
            _parse(text, names=names, tuples=tuples)
            return text
        except ParseError as error:
            text = error.suggestion
    return ""


def _number_before_bracket(text: str) -> bool:
    """``7 (9 - 3 + 1)``: never read as 49."""
    return re.search(r"(?<![\w.])\d+(?:\.\d+)?\s*\(", text) is not None


def _maths_notation(text: str, reason: str, names: tuple[str, ...] | None) -> bool:
    """Whether a refusal Python could parse still came from maths notation: ``(W - K)(s)`` or
    ``k1(x1)`` (read as calls), ``x^{2}`` (braces read as a set)."""
    called = re.match(r"calling `([^`]*)`", reason)
    if called:
        callee = called.group(1)
        return ((callee in (names or ()) or re.fullmatch(r"[\w\s+\-*/]+", callee) is not None
                 and not callee.isidentifier()) and notation.has_implied_product(text))
    return reason.startswith(("sets", "dicts")) and notation.has_latex_markup(text)


def _reads(text: str, names: tuple[str, ...] | None, tuples: bool) -> bool:
    try:
        _parse(text, names=names, tuples=tuples)
    except ParseError:
        return False
    return True


def _parse(text: str, *, names: tuple[str, ...] | None, tuples: bool) -> Parsed:
    text, notes = normalise(str(text))
    if not text:
        raise ParseError("the answer is empty")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"the answer is {len(text)} characters long (at most {MAX_LENGTH})")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        position = max((exc.offset or 1) - 1, 0)
        raise ParseError(_syntax_reason(text, exc.msg), position, syntax=True) from None
    except (ValueError, RecursionError, MemoryError):
        raise ParseError("the answer is not a valid expression") from None
    builder = _Builder(text, names)
    body = tree.body
    if tuples and isinstance(body, (ast.Tuple, ast.List)):
        value = tuple(builder.build(item, 1) for item in body.elts)
    else:
        value = builder.build(body, 1)
    for item in value if isinstance(value, tuple) else (value,):
        if item.has(sympy.I, sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise ParseError("the value is not a finite real number")
        refuse_if_costly(item)
    return Parsed(value, text, notes)


def refuse_if_costly(expr) -> None:
    """Raise ParseError for an expression whose shape alone makes it costly to compare: a total
    degree over ``Checking.degree`` or more than ``Checking.expanded_terms`` terms once expanded.
    Both are counted on the tree as built, before SymPy expands anything."""
    degree, terms = _size(expr, {})
    if degree > MAX_DEGREE:
        raise ParseError(f"the expression's degree is over {MAX_DEGREE}, too large to check")
    if terms > MAX_TERMS:
        raise ParseError(f"the expression would have over {MAX_TERMS} terms once multiplied "
                         f"out, too large to check")


def _size(expr, seen: dict) -> tuple[int, int]:
    """(total degree, most terms once expanded) of a SymPy expression; numbers above the limits
    are capped, so nothing here grows large."""
    key = id(expr)
    if key in seen:
        return seen[key]
    if expr.is_Symbol:
        size = (1, 1)
    elif not expr.args:
        size = (0, 1)
    elif expr.is_Pow and expr.exp.is_Rational:
        degree, terms = _size(expr.base, seen)
        power = abs(expr.exp.p) if expr.exp.is_Integer else -(-abs(expr.exp.p) // expr.exp.q)
        # a sum of t terms to the n-th power has at most C(n + t - 1, t - 1) terms
        size = (degree * power, _capped_comb(power + terms - 1, terms - 1))
    else:
        parts = [_size(arg, seen) for arg in expr.args]
        if expr.is_Mul:
            size = (sum(d for d, _ in parts), _capped_product(t for _, t in parts))
        else:  # a sum, or a function (floor, Max, ...) whose arguments expand inside it
            size = (max(d for d, _ in parts), sum(t for _, t in parts))
    size = (min(size[0], MAX_DEGREE + 1), min(size[1], MAX_TERMS + 1))
    seen[key] = size
    return size


def _capped_product(numbers) -> int:
    total = 1
    for n in numbers:
        total = min(total * n, MAX_TERMS + 1)
    return total


def _capped_comb(n: int, k: int) -> int:
    """C(n, k), or MAX_TERMS + 1 once it passes MAX_TERMS (without computing it whole)."""
    k = min(k, n - k)
    total = 1
    for i in range(k):
        total = total * (n - i) // (i + 1)
        if total > MAX_TERMS:
            return MAX_TERMS + 1
    return total


def _syntax_reason(text: str, msg: str) -> str:
    if re.search(r"\d[A-Za-z_]", text):
        return f"{msg} (write products with *, e.g. 2*k1)"
    return msg


def error_parts(text: str, error: ParseError) -> tuple[str, str]:
    """What a student reads: the sentence (what could not be read, and why) and the pointer (the
    text and a caret under the problem, two lines; empty when there is no position to show)."""
    shown, _ = normalise(str(text))
    short = len(shown) <= 80
    if not short:
        shown = shown[:77] + "..."
    sentence = f"could not read `{shown}`: {error.reason}."
    if error.position is not None and short and shown:
        return sentence, f"{shown}\n{' ' * min(error.position, len(shown))}^"
    return sentence, ""


def name_hint(name: str, allowed: tuple[str, ...]) -> str:
    """' (did you mean k1?)' for a near miss of an allowed name, else ''."""
    candidate = name_candidate(name, allowed)
    if not candidate:
        return ""
    if "*" in candidate:
        return f" (did you mean {candidate}? Write products with *)"
    return f" (did you mean {candidate}?)"


def name_candidate(name: str, allowed: tuple[str, ...]) -> str:
    """The allowed name (or product of names, ``k1*x1``) that ``name`` nearly is, else ''."""
    key = name.lower().replace("_", "")
    for candidate in allowed:
        if candidate.lower() == key:
            return candidate
    head = name.split("_")[0]
    if head != name and head in allowed:
        return head
    split = _split_names(name, allowed)
    if split:
        return "*".join(split)
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    return close[0] if close else ""


def _split_names(name: str, allowed: tuple[str, ...]) -> list[str] | None:
    """``name`` as a concatenation of allowed names (``k1x1`` -> [k1, x1]), if it is one."""
    if not name:
        return []
    if len(name) > 40:
        return None
    for candidate in sorted(allowed, key=len, reverse=True):
        if name.startswith(candidate) and len(name) > len(candidate) or name == candidate:
            rest = _split_names(name[len(candidate):], allowed)
            if rest is not None:
                return [candidate, *rest]
    return None


class _Builder:
    """Builds SymPy objects from a checked ``ast`` tree."""

    def __init__(self, text: str, names: tuple[str, ...] | None):
        self.text = text
        self.names = names
        self._encoded = text.encode()

    def position(self, node: ast.AST) -> int | None:
        offset = getattr(node, "col_offset", None)
        if offset is None:
            return None
        return len(self._encoded[:offset].decode(errors="ignore"))

    def fail(self, reason: str, node: ast.AST):
        raise ParseError(reason, self.position(node))

    def build(self, node: ast.AST, depth: int):
        if depth > MAX_DEPTH:
            self.fail("the expression is nested too deeply", node)
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand, depth + 1)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            return self.binary(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.Subscript) and self.names is None:
            return self.indexed_symbol(node)
        what = _NODE_NAMES.get(type(node), type(node).__name__)
        if isinstance(node, ast.Subscript) and self.names:  # w[0, 0] of a student's IndexedBase
            self.fail(f"{what} is not allowed in an answer; the names you may use are "
                      f"{', '.join(self.names)}", node)
        self.fail(f"{what} is not allowed in an answer", node)

    def constant(self, node: ast.Constant):
        value = node.value
        if value is Ellipsis:
            self.fail("`...` is the placeholder: replace it with your answer", node)
        if isinstance(value, bool) or value is None:
            self.fail(f"`{value!r}` is not a number", node)
        if isinstance(value, int):
            return sympy.Integer(value)
        if isinstance(value, float):
            if value != value or value in (float("inf"), float("-inf")):
                self.fail("infinite or NaN numbers are not allowed", node)
            return sympy.Rational(repr(value))  # exact: 0.5 is 1/2
        if isinstance(value, str):
            self.fail("text in quotes is not allowed; write the expression itself", node)
        self.fail(f"`{value!r}` is not allowed (only real numbers)", node)

    def name(self, node: ast.Name):
        name = node.id
        if name in FUNCTIONS:
            self.fail(f"`{name}` is a function: call it, e.g. {name}(...)", node)
        if self.names is None:
            if name.startswith("__"):
                self.fail(f"the name `{name}` is not allowed", node)
            return sympy.Symbol(name)
        if name in self.names:
            return sympy.Symbol(name)
        allowed = ", ".join(self.names) if self.names else "none (give a number)"
        reason = f"unknown name `{name}`{name_hint(name, self.names)}"
        if not name_hint(name, self.names):
            reason += f"; the names you may use are {allowed}"
        elif name_candidate(name, self.names).lower() == name.lower():
            reason += "; names are case-sensitive"
        raise ParseError(reason, self.position(node), suggestion=self.replaced(node, name))

    def replaced(self, node: ast.Name, name: str) -> str:
        """The whole text with the unknown ``name`` at ``node`` replaced by its near miss (""
        when there is none); ``parse`` keeps it only when it reads."""
        candidate = name_candidate(name, self.names or ())
        start, end = self.position(node), getattr(node, "end_col_offset", None)
        if not candidate or start is None or end is None:
            return ""
        end = len(self._encoded[:end].decode(errors="ignore"))
        return self.text[:start] + candidate + self.text[end:]

    def indexed_symbol(self, node: ast.Subscript):
        index = node.slice
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        if (isinstance(node.value, ast.Name) and not node.value.id.startswith("__")
                and all(isinstance(p, ast.Constant) and type(p.value) is int for p in parts)):
            return sympy.Symbol(ast.unparse(node))
        self.fail("only indexing a name by whole numbers (like k[1]) is allowed", node)

    def binary(self, node: ast.BinOp, depth: int):
        left = self.build(node.left, depth + 1)
        right = self.build(node.right, depth + 1)
        if isinstance(node.op, ast.Pow):
            return self.power(left, right, node)
        operator = _OPERATORS.get(type(node.op))
        if operator is None:
            self.fail(f"the operator `{_operator_text(node.op)}` is not allowed", node)
        if isinstance(node.op, (ast.Div, ast.FloorDiv)) and right == 0:
            self.fail("division by zero", node)
        return operator(left, right)

    def power(self, base, exponent, node: ast.BinOp):
        if not (exponent.is_Rational):
            self.fail("exponents must be numbers", node.right)
        if base == 0 and exponent.is_negative:
            self.fail("division by zero", node)
        if base.is_Rational:
            bits = max(abs(base.p).bit_length(), abs(base.q).bit_length())
            if bits * abs(exponent) > MAX_BITS:
                self.fail("the exponent is too large", node.right)
        elif abs(exponent) > MAX_EXPONENT:
            self.fail(f"the exponent is too large (at most {MAX_EXPONENT})", node.right)
        return base ** exponent

    def call(self, node: ast.Call, depth: int):
        func = node.func
        if not isinstance(func, ast.Name) or func.id not in FUNCTIONS:
            called = ast.unparse(func)[:40]
            allowed = ", ".join(sorted(set(FUNCTIONS) - {"ceil", "abs", "max", "min"}))
            self.fail(f"calling `{called}` is not allowed; the functions you may use are "
                      f"{allowed}", node)
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            self.fail(f"`{func.id}` takes plain arguments only", node)
        args = [self.build(a, depth + 1) for a in node.args]
        if func.id in _ONE_ARGUMENT and len(args) != 1:
            self.fail(f"`{func.id}` takes exactly one argument", node)
        if func.id == "Rational":
            if not 1 <= len(args) <= 2 or not all(a.is_Rational for a in args):
                self.fail("`Rational` takes one or two numbers", node)
            if len(args) == 2 and args[1] == 0:
                self.fail("division by zero", node)
        if not args:
            self.fail(f"`{func.id}` needs an argument", node)
        return FUNCTIONS[func.id](*args)


def _operator_text(op: ast.operator) -> str:
    return {ast.Mod: "%", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
            ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}.get(type(op), type(op).__name__)
