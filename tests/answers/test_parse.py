"""The safe parser: what it reads, how, and what it refuses (without executing anything)."""

from __future__ import annotations

import sys

import pytest
import sympy

from autograder.answers.parse import MAX_LENGTH, ParseError, error_parts, parse

k1, k2, k3, x1, x2, x3, W, K, p, s = sympy.symbols("k1 k2 k3 x1 x2 x3 W K p s")

READS = {
    "sum": ("k1*x1 + k2*x2 + k3*x3", k1 * x1 + k2 * x2 + k3 * x3),
    "reordered": ("x3*k3 + x2*k2 + x1*k1", k1 * x1 + k2 * x2 + k3 * x3),
    "exact big product": ("196608*508032", sympy.Integer(99883155456)),
    "float is exact": ("0.5*k1", k1 / 2),
    "floor division": ("(W + 2*p - K)//s + 1", sympy.floor((W + 2 * p - K) / s) + 1),
    "ceil alias": ("ceil(W/s)", sympy.ceiling(W / s)),
    "unicode minus and times": ("W \u2212 K + 1 \u00d7 1", W - K + 1),
    "middle dot": ("k1\u00b7x1", k1 * x1),
    "floor brackets": ("\u230a(W - K)/s\u230b + 1", sympy.floor((W - K) / s) + 1),
    "caret is power": ("k1^2", k1**2),
    "Rational": ("Rational(1, 2)*W", W / 2),
    "unary minus": ("-(-W)", W),
    "Max Min Abs sqrt": ("Max(W, K) + Min(p, s) + Abs(p) + sqrt(4)", sympy.Max(W, K)
                         + sympy.Min(p, s) + sympy.Abs(p) + 2),
    "surrounding space and newline": ("  k1*x1 +\n k2*x2 ", k1 * x1 + k2 * x2),
    "moderate number power": ("2**100", sympy.Integer(2) ** 100),
}


@pytest.mark.parametrize("text, value", READS.values(), ids=READS.keys())
def test_reads(text, value):
    assert parse(text).value == value


def test_caret_leaves_a_note():
    assert parse("k1^2").notes == ("^ read as ** (a power)",)


def test_symbols_are_plain_by_name():
    assert parse("k1").value == sympy.Symbol("k1")
    assert parse("k1").value != sympy.Symbol("k1", real=True)



def test_symbols_with_assumptions_match_by_name():
    """A student's Symbol('k1', integer=True) travels as text, so it meets the plain k1."""
    from autograder import answers
    from autograder.checks import check_variable
    from autograder.worksheet import question

    typed = sympy.Symbol("k1", integer=True) * sympy.Symbol("x1", positive=True)
    value = answers.decode(answers.encode(typed + k2 * x2 + k3 * x3))
    assert check_variable(question("q2a").variables[1], value).passed


def test_free_names_and_indexed_symbols():
    value = parse("w_1 + k[2] + theta[1, 2]", names=None).value
    assert {str(x) for x in value.free_symbols} == {"w_1", "k[2]", "theta[1, 2]"}


def test_free_names_still_refuse_dunders_and_calls():
    with pytest.raises(ParseError, match="not allowed"):
        parse("__class__", names=None)
    with pytest.raises(ParseError, match="calling"):
        parse("open('x')", names=None)


def test_tuples_only_when_asked():
    assert parse("(W - K + 1, W - K + 1)", tuples=True).value == (W - K + 1, W - K + 1)
    with pytest.raises(ParseError, match="tuples"):
        parse("(W - K + 1, W - K + 1)")


REFUSED = {
    # case: (text, words the reason must contain)
    "import call": ("__import__('sys').modules.__setitem__('pwned', 1)", "not allowed"),
    "bare dunder call": ("__import__('os')", "calling `__import__` is not allowed"),
    "eval": ("eval('1')", "calling `eval`"),
    "lambda": ("lambda: 7", "lambda"),
    "lambda call": ("(lambda: 7)()", "calling"),
    "attribute": ("x1.__class__", "attribute"),
    "subscript": ("k1[0]", "indexing"),
    "comprehension": ("[k1 for k1 in ()]", "comprehensions"),
    "double operator": ("k1*x1 +* 2", "invalid syntax"),
    "empty": ("", "empty"),
    "blank": ("   ", "empty"),
    "ellipsis": ("...", "placeholder"),
    "capital": ("K1*x1", "did you mean k1?"),
    "W_out": ("W_out - K + 1", "did you mean W?"),
    "lower case": ("w - k + 1", "names are case-sensitive"),
    "implicit product": ("k1x1", "did you mean k1*x1?"),
    "number before name": ("2k1", "write products with *"),
    "unknown name": ("zebra", "unknown name `zebra`"),
    "bare function name": ("floor", "is a function"),
    "huge power tower": ("9**9**9", "exponent is too large"),
    "huge symbolic power": ("(k1 + x1)**1000", "exponent is too large"),
    "symbolic exponent": ("2**W", "exponents must be numbers"),
    "long input": ("k1 + " * 2500 + "k1", "characters long"),
    "deep nesting": ("(" * 300 + "1" + ")" * 300, "nested"),
    "division by zero": ("1/0", "division by zero"),
    "floor division by zero": ("W//0", "division by zero"),
    "imaginary": ("(-1)**(1/2)", "not a finite real number"),
    "string literal": ("'k1'", "text in quotes"),
    "modulo": ("W % 2", "`%`"),
    "comparison": ("W < K", "comparisons"),
    "keyword argument": ("floor(x=W)", "plain arguments"),
    "wrong arity": ("floor(W, K)", "exactly one argument"),
    "True": ("True", "not a number"),
    "complex": ("1j", "only real numbers"),
    "walrus": ("(a := 1)", ":="),
    "f-string": ("f'{k1}'", "f-strings"),
}


@pytest.mark.parametrize("text, reason", REFUSED.values(), ids=REFUSED.keys())
@pytest.mark.usefixtures("explain_policy")  # the old policy (issue 31)
def test_refuses_without_executing(text, reason):
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert reason.lower() in caught.value.reason.lower()
    assert "pwned" not in sys.modules


def test_error_message_points_at_the_problem():
    text = "k1*x1 +* 2"
    with pytest.raises(ParseError) as caught:
        parse(text)
    sentence, pointer = error_parts(text, caught.value)
    assert sentence == "could not read `k1*x1 +* 2`: invalid syntax."
    assert pointer.splitlines()[0] == text
    assert pointer.splitlines()[1].index("^") == text.index("*", 6)


@pytest.mark.usefixtures("explain_policy")  # the old policy (issue 31)
def test_error_message_position_of_an_unknown_name():
    with pytest.raises(ParseError) as caught:
        parse("k1*x1 + k_2*x2")
    assert caught.value.position == 8


def test_long_text_is_shortened_in_messages():
    text = "k1 + " * 2500
    with pytest.raises(ParseError) as caught:
        parse(text)
    sentence, pointer = error_parts(text, caught.value)
    assert len(sentence) < 200 and pointer == ""
    assert len(text) > MAX_LENGTH


NOTATION = {
    # case: (text, words the reason must contain, the suggested rewrite or None)
    "LaTeX subscripts, implied products": ("k_1 x_1 + k_2 x_2 + k_3 x_3", "LaTeX",
                                           "k1*x1 + k2*x2 + k3*x3"),
    "implied products": ("k1 x1 + k2 x2", "write products with *", "k1*x1 + k2*x2"),
    "number before name": ("2k1 + x1", "write products with *", "2*k1 + x1"),
    "frac": (r"\frac{W + 2p - K}{s} + 1", "/ for fractions", "(W + 2*p - K)/(s) + 1"),
    "floor brackets": (r"\lfloor \frac{W-K}{s} \rfloor + 1", "floor(...)",
                       "floor((W - K)/(s)) + 1"),
    "dollars": ("$k_1x_1$", "LaTeX", "k1*x1"),
    "cdot": (r"k1 \cdot x1", "LaTeX", "k1*x1"),
    "braces as grouping": ("{W-K}/s", "LaTeX", "(W - K)/s"),
    "parenthesised factors": ("(W-K)(s)", "write products with *", "(W - K)*(s)"),
    "symbol called": ("k1(x1)", "write products with *", "k1*(x1)"),
    "unknown command": (r"\alpha k1", "LaTeX", None),
}


@pytest.mark.parametrize("text, words, suggestion", NOTATION.values(), ids=NOTATION.keys())
@pytest.mark.usefixtures("explain_policy")  # the old policy (issue 31)
def test_maths_notation_is_told_what_to_write_instead(text, words, suggestion):
    with pytest.raises(ParseError) as caught:
        parse(text)
    reason = caught.value.reason
    assert words in reason and "invalid syntax" not in reason
    if suggestion is None:
        assert "did you mean" not in reason
    else:
        assert f"did you mean `{suggestion}`?" in reason
        parse(suggestion)  # what is suggested reads


@pytest.mark.parametrize("text", ["eval('1')", "__import__('os')", "f'{k1}'", "k1*x1 +* 2"])
def test_code_is_not_mistaken_for_maths_notation(text):
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert "did you mean `" not in caught.value.reason and "LaTeX" not in caught.value.reason
