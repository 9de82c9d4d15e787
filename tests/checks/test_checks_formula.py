"""Output-size formulas: equal on every valid integer input, decided by the right stage."""

from __future__ import annotations

import pytest
import sympy

from autograder.answers.parse import parse
from autograder.checks.formula import compare_on_domain, domain, evaluate
from tests.conftest import VARIABLES, check, promised_score, via_json

W, K, p, s = sympy.symbols("W K p s", integer=True, positive=True)

GENERAL_RIGHT = {
    # case: (answer, the stage that decides)
    "floor division": ("(W + 2*p - K)//s + 1", "exact"),
    "reference text": ("floor((W + 2*p - K)/s) + 1", "exact"),
    "plus s inside": ("floor((W + 2*p - K + s)/s)", "cas"),
    "ceiling form": ("ceiling((W + 2*p - K + 1)/s)", "enumeration"),
    "floor brackets": ("\u230a(W + 2p\u2212K)/s\u230b + 1".replace("2p", "2*p"), "exact"),
    "sympy with assumptions": (sympy.floor((W + 2 * p - K) / s) + 1, "exact"),
    "reordered": ("1 + floor((2*p + W - K)/s)", "exact"),
    "floor of sum": ("floor((W + 2*p - K)/s + 1)", "exact"),  # SymPy pulls the 1 out
    "expanded numerator": ("floor(W/s + 2*p/s - K/s) + 1", "cas"),
    "negated ceiling": ("1 - ceiling((K - W - 2*p)/s)", "enumeration"),
}


@pytest.mark.parametrize("transport", [lambda v: v, via_json], ids=["raw", "json"])
@pytest.mark.parametrize("value, stage", GENERAL_RIGHT.values(), ids=GENERAL_RIGHT.keys())
def test_equivalent_general_formulas_score_full(value, stage, transport):
    result = check("q2f_out_dim_general", transport(value))
    assert result.score == result.max_score == VARIABLES["q2f_out_dim_general"].points, \
        result.message
    assert result.stage == stage


SIMPLE_RIGHT = {
    "reference": "W - K + 1",
    "reordered": "1 - K + W",
    "negated": "-(K - W - 1)",
    "general with p=0, s=1": "floor((W + 2*0 - K)/1) + 1",
}


@pytest.mark.parametrize("value", SIMPLE_RIGHT.values(), ids=SIMPLE_RIGHT.keys())
def test_equivalent_simple_formulas_score_full(value):
    result = check("q2f_out_dim", value)
    assert result.score == result.max_score, result.message


MISTAKES = {
    "missing floor": ("q2f_out_dim_general", "(W + 2*p - K)/s + 1", "missing-floor", 1),
    "stride ignored": ("q2f_out_dim_general", "W + 2*p - K + 1", "stride-ignored", 0),
    "padding once": ("q2f_out_dim_general", "(W + p - K)//s + 1", "padding-counted-once", 1),
    "padding forgotten": ("q2f_out_dim_general", "floor((W - K)/s) + 1", "padding-forgotten", 0),
    "rounded up": ("q2f_out_dim_general", "ceiling((W + 2*p - K)/s) + 1", "rounded-up", 1),
    "no plus one": ("q2f_out_dim_general", "floor((W + 2*p - K)/s)", "missing-plus-one", 0),
    "off by one": ("q2f_out_dim", "W - K", "off-by-one", 0),
    "off by one up": ("q2f_out_dim", "W - K + 2", "off-by-one", 0),
    "general formula for simple": ("q2f_out_dim", "(W + 2*p - K)//s + 1", "general-formula", 0.5),
}


@pytest.mark.parametrize("name, value, mistake, score", MISTAKES.values(), ids=MISTAKES.keys())
def test_known_formula_mistakes(name, value, mistake, score):
    result = check(name, value)
    assert result.mistake == mistake
    assert result.score == score < result.max_score
    assert result.stage == "catalogue"


TEXTBOOK_POINTS = [(32, 2, 5, 1), (227, 0, 11, 4)]  # (W, p, K, s)


@pytest.mark.parametrize("point", TEXTBOOK_POINTS)
def test_missing_floor_agrees_at_textbook_points_yet_is_caught(point):
    w, pad, k, st = point
    missing_floor = (w + 2 * pad - k) / st + 1
    assert missing_floor == (w + 2 * pad - k) // st + 1  # why sampling such points is not enough
    assert check("q2f_out_dim_general", "(W + 2*p - K)/s + 1").score < 2


def test_unknown_wrong_formula_gives_a_counterexample():
    result = check("q2f_out_dim_general", "floor((W + 2*p - K + 1)/s) + 1")
    assert result.score == 0 and result.stage == "enumeration"
    assert "For example, at W=" in result.message
    assert "expected floor((-K + W + 2*p)/s) + 1" in result.message


def test_formula_with_foreign_symbols():
    result = check("q2f_out_dim", "W - K + 1 + 0*k1 + x1")
    assert result.score == 0 and "x1" in result.message


def test_formula_that_cannot_be_enumerated_falls_back_to_cas():
    text = "(sqrt(2) + 1)*(sqrt(2) - 1)*(W - K + 1)"  # sqrt(2): not enumerated exactly
    assert compare_on_domain(parse(text).value, parse("W - K + 1").value) is None
    right = check("q2f_out_dim", text)
    assert right.passed and right.stage == "cas"
    wrong = check("q2f_out_dim", "sqrt(2)*(W - K + 1)")
    assert wrong.score == 0 and wrong.stage == "cas"


def test_domain_covers_strides_that_do_not_divide():
    env = domain()
    span = env["W"] + 2 * env["p"] - env["K"]
    assert (span >= 0).all()
    assert ((span % env["s"]) != 0).any()
    assert env["s"].max() >= 6 and env["p"].max() >= 5 and env["W"].max() >= 40


def test_undefined_points_count_as_differences():
    _, _, defined = evaluate(parse("1/(p - 1)").value)
    assert (defined == (domain()["p"] != 1)).all()
    same, example = compare_on_domain(parse("W*(p - 1)/(p - 1)**2").value, parse("W/(p - 1)").value)
    assert same
    same, example = compare_on_domain(parse("(p**2 - 1)/(p - 1)").value, parse("p + 1").value)
    assert not same and example == " For example, at p=1 your formula gives undefined, not 2."


FORMULA_UNREADABLE = {
    "bad syntax": ("q2f_out_dim", "W - K +", "format"),
    "lower-case names": ("q2f_out_dim", "w - k + 1", "format"),
    "ellipsis": ("q2f_out_dim", ..., "missing"),
    "list": ("q2f_out_dim", ["W - K + 1"], "type"),
}


@pytest.mark.parametrize("name, value, stage", FORMULA_UNREADABLE.values(),
                         ids=FORMULA_UNREADABLE.keys())
def test_unreadable_formulas(name, value, stage):
    result = check(name, value)
    assert result.score == 0 and result.stage == stage


# --- tuples of formulas ---------------------------------------------------------------------

TUPLE_RIGHT = {
    "tuple of strings": ("q2g_out_shape", ("W - K + 1", "1 - K + W")),
    "list": ("q2g_out_shape", ["W - K + 1", "W - K + 1"]),
    "text tuple": ("q2g_out_shape", "(W - K + 1, W - K + 1)"),
    "sympy tuple": ("q2g_out_shape", (W - K + 1, W - K + 1)),
    "sympy Tuple": ("q2g_out_shape", sympy.Tuple(W - K + 1, W - K + 1)),
    "general mixed forms": ("q2g_out_shape_general",
                            ("(W + 2*p - K)//s + 1", "ceiling((W + 2*p - K + 1)/s)")),
}


@pytest.mark.parametrize("name, value", TUPLE_RIGHT.values(), ids=TUPLE_RIGHT.keys())
def test_formula_tuples_right(name, value):
    result = check(name, value)
    assert result.score == result.max_score, result.message


def test_formula_tuple_half_right_gets_half():
    result = check("q2g_out_shape_general", ("(W + 2*p - K)//s + 1", "W + 2*p - K + 1"))
    assert result.score == result.max_score / 2
    assert result.mistake == "stride-ignored"
    assert "Entry 2" in result.message


def test_formula_tuple_mistake_in_both_entries():
    result = check("q2g_out_shape_general", ("(W + 2*p - K)/s + 1",) * 2)
    assert result.mistake == "missing-floor"
    assert result.score == promised_score("q2g_out_shape_general", "missing-floor",
                                          "(W + 2*p - K)/s + 1")


FORMULA_TUPLE_UNREADABLE = {
    "one formula": ("W - K + 1", "type", "single formula"),
    "three entries": (("W - K + 1",) * 3, "type", "expected 2 entries"),
    "bad entry": (("W - K + 1", "W -* K"), "format", "entry 2"),
    "number": (7, "type", "an integer"),
}


@pytest.mark.parametrize("value, stage, words", FORMULA_TUPLE_UNREADABLE.values(),
                         ids=FORMULA_TUPLE_UNREADABLE.keys())
def test_formula_tuple_unreadable(value, stage, words):
    result = check("q2g_out_shape", value)
    assert result.score == 0 and result.stage == stage
    assert words in result.message


def test_no_padding_formula_is_compared_without_padding():
    # K > W only happens with padding: Abs and Max forms agree wherever the question applies
    assert check("q2f_out_dim", "Abs(W - K + 1)").score == 1
    assert check("q2f_out_dim", "Max(W - K + 1, 1)").score == 1
    result = check("q2f_out_dim", "W - K + 1 + p")
    assert result.score == 0 and "p = 0" in result.message
