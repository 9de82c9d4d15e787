"""Integers and expressions: equivalent forms score full, mistakes are named, bad input is read
as a format or type error (never an exception)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import sympy

from autograder.answers import MISSING
from autograder.checks import check_variable
from tests.conftest import TRANSPORTS, VARIABLES, check, promised_score

k1, k2, k3 = sympy.symbols("k1 k2 k3", real=True)
x = sympy.symbols("x1:10", integer=True)
plain_k1, plain_x1 = sympy.symbols("k1 x1")

RIGHT = {
    "int": ("q2a_out_dim", 7),
    "numpy int": ("q2a_out_dim", np.int64(7)),
    "numpy int32": ("q2b_out_dim", np.int32(9)),
    "sympy Integer": ("q2a_out_dim", sympy.Integer(7)),
    "float 7.0": ("q2a_out_dim", 7.0),
    "numpy float": ("q2a_out_dim", np.float64(7.0)),
    "string": ("q2a_out_dim", "7"),
    "arithmetic string": ("q2a_out_dim", "9 - 3 + 1"),
    "sympy arithmetic": ("q2e_params", sympy.Integer(7) * 3),
    "fc product string": ("q2i_fc_params", "196608*508032"),
    "fc product int": ("q2i_fc_params", 196608 * 508032),
    "fc from shapes": ("q2i_fc_params", "3*256*256 * 32*126*126"),
    "fc float": ("q2i_fc_params", float(196608 * 508032)),
    "fraction": ("q2i_conv_params", Fraction(4800, 2)),
    "conv params": ("q2i_conv_params", "32*3*5*5"),
    "expr with assumptions": ("q2a_first", k1 * x[0] + k2 * x[1] + k3 * x[2]),
    "expr reordered string": ("q2a_first", "x3*k3 + k2*x2 + x1*k1"),
    "expr factored": ("q2a_last", "k1*x7 + k2*x8 + k3*x9 + 0*x1"),
    "expr expanded product": ("q2b_first", "(k2*x1 + k3*x2)*(x1 + 1) - k2*x1**2 - k3*x1*x2"),
    "expr with unicode": ("q2b_last", "k1\u00b7x8 + k2\u00d7x9"),
    "expr sympy plain": ("q2b_last", sympy.Symbol("k1") * sympy.Symbol("x8")
                         + sympy.Symbol("k2") * sympy.Symbol("x9")),
    "expr with float coefficients": ("q2a_first", 1.0 * k1 * x[0] + 1.0 * k2 * x[1] + k3 * x[2]),
    "expr over common denominator": ("q2a_first", "(2*k1*x1 + 2*k2*x2 + 2*k3*x3)/2"),
}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("name, value", RIGHT.values(), ids=RIGHT.keys())
def test_equivalent_forms_score_full(name, value, transport):
    result = check(name, transport(value))
    assert result.score == result.max_score == VARIABLES[name].points, result.message
    assert result.message.startswith("Read your answer as ")
    assert result.stage in ("exact", "cas")


def test_message_says_how_the_answer_was_read():
    assert check("q2a_first", "k3*x3 + k1*x1 + k2*x2").message.startswith(
        "Read your answer as k1*x1 + k2*x2 + k3*x3.")
    assert check("q2i_fc_params", "196608*508032").message.startswith(
        "Read your answer as 99883155456.")


MISTAKES = {
    "flipped kernel first": ("q2a_first", "k3*x1 + k2*x2 + k1*x3", "flipped-kernel"),
    "flipped kernel last": ("q2a_last", "x7*k3 + x8*k2 + x9*k1", "flipped-kernel"),
    "padding forgotten first": ("q2b_first", "k1*x1 + k2*x2 + k3*x3", "padding-forgotten"),
    "padding forgotten last": ("q2b_last", "k1*x7 + k2*x8 + k3*x9", "padding-forgotten"),
    "padding forgotten dim": ("q2b_out_dim", 7, "padding-forgotten"),
    "one-sided padding": ("q2b_first", "k3*x1", "one-sided-padding"),
    "off by one 6": ("q2a_out_dim", 6, "off-by-one"),
    "off by one 8": ("q2a_out_dim", "8", "off-by-one"),
    "shared weights params": ("q2e_params", 3, "shared-weights"),
    "biases counted": ("q2i_conv_params", 2432, "biases-counted"),
    "fc biases counted": ("q2i_fc_params", "196608*508032 + 508032", "biases-counted"),
    "fc biases as number": ("q2i_fc_params", 196608 * 508032 + 508032, "biases-counted"),
    "fc without channels": ("q2i_fc_params", "256*256*32*126*126", "missing-input-channels"),
}


@pytest.mark.parametrize("name, value, mistake", MISTAKES.values(), ids=MISTAKES.keys())
def test_known_mistakes_lose_marks_and_are_named(name, value, mistake):
    result = check(name, value)
    assert result.mistake == mistake
    assert result.score == pytest.approx(promised_score(name, mistake))
    assert result.score < result.max_score
    assert result.stage == "catalogue"
    assert f"({mistake})" in result.message


def test_flipped_kernel_keeps_half():
    """The credit policy (worksheet/mistakes.py): a right idea in another convention keeps half."""
    result = check("q2a_first", "k3*x1 + k2*x2 + k1*x3")
    assert result.score == result.max_score / 2 == VARIABLES["q2a_first"].points / 2


WRONG = {
    "wrong number": ("q2a_out_dim", 5, "expected 7, got 5"),
    "not whole": ("q2a_out_dim", 7.5, "whole number"),
    "wrong expression": ("q2a_first", "k1*x1", "expected k1*x1 + k2*x2 + k3*x3, got k1*x1"),
    "wrong sign": ("q2b_first", "k2*x1 - k3*x2", "expected k2*x1 + k3*x2"),
}


@pytest.mark.parametrize("name, value, words", WRONG.values(), ids=WRONG.keys())
def test_wrong_answers_say_what_was_expected(name, value, words):
    result = check(name, value)
    assert result.score == 0
    assert result.mistake is None
    assert words in result.message


def test_hidden_variable_gets_a_neutral_message():
    from dataclasses import replace

    hidden = replace(VARIABLES["q2a_first"], hidden=True)
    result = check_variable(hidden, "k1*x1")
    assert result.score == 0 and result.hidden
    assert "k2*x2" not in result.message
    assert "re-derive the first output element" in result.message


UNREADABLE = {
    # case: (variable, value, stage, words in the message)
    "missing": ("q2a_first", MISSING, "missing",
                "`q2a_first` is not defined: assign your answer to it in the answer cell"),
    "stub ellipsis": ("q2a_first", ..., "missing", "placeholder `...`"),
    "ellipsis text": ("q2a_out_dim", "...", "format", "placeholder"),
    "None": ("q2a_out_dim", None, "type", "is None"),
    "function": ("q2a_out_dim", lambda: 7, "type", "function"),
    "builtin": ("q2a_out_dim", print, "type", "builtin_function_or_method"),
    "list for a number": ("q2a_out_dim", [7], "type", "a list"),
    "bool": ("q2a_out_dim", True, "type", "a bool"),
    "formula for a number": ("q2a_out_dim", "W - K + 1", "type", "not a number"),
    "nan": ("q2a_out_dim", float("nan"), "format", "finite"),
    "import": ("q2a_first", "__import__('os').system('x')", "format", "not allowed"),
    "double operator": ("q2a_first", "k1*x1 +* 2", "format", "Could not read `k1*x1 +* 2`"),
    "underscore": ("q2a_first", "k_1*x1 + k2*x2 + k3*x3", "format", "did you mean k1?"),
    "implicit product": ("q2a_first", "k1x1 + k2x2 + k3x3", "format", "did you mean k1*x1?"),
    "lambda string": ("q2a_first", "lambda k1: k1", "format", "lambda"),
    "attribute": ("q2a_first", "x1.__class__", "format", "attribute"),
    "huge exponent": ("q2i_fc_params", "9**9**9", "format", "exponent is too large"),
    "empty": ("q2a_first", "", "format", "empty"),
    "long": ("q2a_first", "k1 + " * 3000 + "k1", "format", "characters long"),
    "array": ("q2a_first", np.array([1, 2]), "type", "array of shape (2,)"),
}


@pytest.mark.parametrize("name, value, stage, words", UNREADABLE.values(), ids=UNREADABLE.keys())
@pytest.mark.usefixtures("explain_policy")  # the old policy (issue 31)
def test_unreadable_answers_are_messages(name, value, stage, words):
    result = check(name, value)
    assert result.score == 0
    assert result.stage == stage
    assert words in result.message


def test_format_error_points_at_the_problem():
    message = check("q2a_first", "k1*x1 +* 2").message
    assert message.splitlines()[-1].strip() == "^"
