"""LaTeX read by SymPy's parse_latex (issue 31): SymPy's own printer read back, and refusals."""

from __future__ import annotations

import random

import pytest
import sympy

from autograder.answers import latex
from autograder.answers.parse import ParseError, parse
from autograder.worksheet import Q2_SYMBOLS


def _random_expression(rng: random.Random, depth: int = 0):
    """A seeded random expression of the worksheet's symbols: sums, products, small powers,
    fractions and floors."""
    if depth > 2 or rng.random() < 0.3:
        if rng.random() < 0.6:
            return sympy.Symbol(rng.choice(Q2_SYMBOLS))
        return sympy.Integer(rng.randint(1, 9))
    a, b = _random_expression(rng, depth + 1), _random_expression(rng, depth + 1)
    if b == 0:
        return a
    return rng.choice([a + b, a * b, a - b, a / b, a ** rng.randint(2, 3), sympy.floor(a / b)])


CASES = [_random_expression(random.Random(seed)) for seed in range(60)]


@pytest.mark.parametrize("expr", CASES, ids=[str(i) for i in range(len(CASES))])
def test_sympy_latex_reads_back_as_the_expression(expr):
    assert CASES
    text = sympy.latex(expr)
    value = parse(text).value
    assert sympy.simplify(value - expr) == 0, (text, value)


REFUSED = {
    "huge power": r"2^{10^{9}}",
    "integral": r"\int_0^1 x\,dx",
    "factorial": r"100000!",
    "unknown symbol": r"\frac{y}{2}",
    "environment": r"\begin{cases} 1 \end{cases}",
}


@pytest.mark.parametrize("text", REFUSED.values(), ids=REFUSED.keys())
def test_refused_latex_is_not_read(text):
    with pytest.raises(ParseError):
        parse(text)


ESCAPES = {"form feed": ("\x0crac{W}{s}", "\\frac"), "tab": ("k_1 \times x_1", "\\times"),
           "carriage return": ("\\left\\lfloor W \right\\rfloor", "\\right")}


@pytest.mark.parametrize("text, command", ESCAPES.values(), ids=ESCAPES.keys())
def test_escapes_that_ate_a_backslash_are_repaired_and_explained(text, command):
    repaired, notes = latex.repair_escapes(text)
    assert command in repaired and notes and "raw string" in notes[0]
    assert parse(text).notes


@pytest.mark.xfail(reason="not done: hiding lark after SymPy imported it does not simulate a "
                   "kernel without lark; needs a real torch-less/lark-less kernel", strict=True)
def test_without_lark_latex_is_told_it_cannot_be_read_here(monkeypatch):
    """A kernel without lark (a bare Colab) never gives a silent score of its own."""
    import sys

    monkeypatch.setitem(sys.modules, "lark", None)
    monkeypatch.setitem(sys.modules, "sympy.parsing.latex.lark", None)
    with pytest.raises(ParseError) as caught:
        parse(r"\lfloor \frac{W+2p-K}{s} \rfloor + 1")
    assert "lark" in caught.value.reason
