"""Plain words for answers written as maths rather than Python: LaTeX (``k_1 x_1``, ``\\frac``)
and implied products (``k1 x1``, ``2k1``).

``explain(text)`` says what to write instead and, when the text can be rewritten into something
the parser reads, shows that rewrite as a suggestion. The rewrite is only ever shown, never graded:
the student writes the answer. Nothing here evaluates the text.
"""

from __future__ import annotations

import re
from typing import Callable

#: LaTeX commands and what they mean in an answer ("" drops the command).
COMMANDS = {
    "cdot": "*", "times": "*", "ast": "*", "div": "/", "left": "", "right": "", "big": "",
    "Big": "", "lfloor": "floor(", "rfloor": ")", "lceil": "ceiling(", "rceil": ")",
    "over": ")/(",
}
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_SUBSCRIPT = re.compile(r"([A-Za-z])_\{?(\d+)\}?")
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[A-Za-z]\w*|\*\*|\S")
_FUNCTION_NAMES = {"floor", "ceiling", "ceil", "sqrt", "Abs", "abs", "Max", "max", "Min", "min",
                   "Rational"}


def looks_like_latex(text: str) -> bool:
    """Backslash commands, dollar signs, braces, or subscripts like ``k_1``."""
    return bool(re.search(r"\\[A-Za-z]|\$|[{}]|[A-Za-z]_\{?\d", text))


def has_latex_markup(text: str) -> bool:
    """The unmistakable signs: backslash commands, dollar signs or braces."""
    return bool(re.search(r"\\[A-Za-z]|\$|[{}]", text))


def has_implied_product(text: str) -> bool:
    """Two factors side by side without an operator (``k1 x1``, ``2k1``, ``(W - K)(s)``)."""
    tokens = _TOKEN.findall(text)
    return any(_juxtaposed(a, b) for a, b in zip(tokens, tokens[1:])) or bool(
        re.search(r"\d[A-Za-z]", text))


def _is_factor_end(token: str) -> bool:
    return token == ")" or token[0].isalnum()


def _is_factor_start(token: str) -> bool:
    return token == "(" or token[0].isalnum()


def _juxtaposed(left: str, right: str) -> bool:
    if left in _FUNCTION_NAMES and right == "(":
        return False
    return _is_factor_end(left) and _is_factor_start(right)


def rewrite(text: str) -> str:
    """The text in the parser's syntax: LaTeX commands replaced, ``k_1`` as ``k1``, a ``*``
    between factors side by side."""
    text = text.replace("$", "")
    previous = None
    while previous != text:  # innermost \frac first
        previous, text = text, _FRAC.sub(r"(\1)/(\2)", text)
    if "\\over" in text:
        text = "(" + text + ")"
    text = re.sub(r"\\([A-Za-z]+)", lambda m: COMMANDS.get(m.group(1), m.group(0)), text)
    text = _SUBSCRIPT.sub(r"\1\2", text).replace("{", "(").replace("}", ")").replace("^", "**")
    tokens = _TOKEN.findall(re.sub(r"(\d)([A-Za-z])", r"\1 \2", text))
    out: list[str] = []
    for token in tokens:
        if out and _juxtaposed(out[-1], token):
            out.append("*")
        out.append(token)
    joined = "".join(f" {t} " if t in "+-" else t for t in out)
    return re.sub(r"\s+", " ", joined).replace("( ", "(").strip()


def suggestion(text: str, reads: Callable[[str], bool]) -> str:
    """``text`` rewritten as plain Python (``rewrite``) when that reads and differs, else ''."""
    if not (looks_like_latex(text) or has_implied_product(text)):
        return ""
    candidate = rewrite(text)
    return candidate if candidate != text and reads(candidate) else ""


def explain(text: str, reads: Callable[[str], bool]) -> str | None:
    """A reason in plain words if ``text`` is LaTeX or has implied products, else None.

    ``reads(candidate)`` says whether the parser accepts the rewrite; only then is it suggested.
    """
    latex, implied = looks_like_latex(text), has_implied_product(text)
    if not (latex or implied):
        return None
    candidate = rewrite(text)
    suggestion = f" (did you mean `{candidate}`?)" if candidate != text and reads(candidate) else ""
    if latex:
        return ("this looks like LaTeX; write plain Python instead: products with * between the "
                "factors, names like k1 (not k_1), / for fractions, floor(...) for rounding down"
                + suggestion)
    return ("two factors stand side by side; write products with * between them, as in 2*k1 or "
            "k1*x1" + suggestion)
