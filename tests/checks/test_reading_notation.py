"""Answers in the notation students write (issue 31): one table per cause, verdicts from the
worksheet's solutions (k1x1 + k2x2 + k3x3 first; floor((W + 2p - K)/s) + 1; 3x256x256 input;
21 parameters; 196,608 x 508,032 weights)."""

from __future__ import annotations

import pytest
import sympy as sp

from autograder.checks.common import ONE_BY_ONE, VECTOR
from autograder.checks.matrix import ROWS_READ
from autograder.worksheet import band
from tests.conftest import TRANSPORTS, VARIABLES, check, promised_score

FIRST = "q2a_first"
GENERAL = "q2f_out_dim_general"

IMPLIED_AND_UNITS = {
    "glued names": (FIRST, "k1x1+k2x2+k3x3", "factors side by side"),
    "spaced names": (FIRST, "k1 x1 + k2 x2 + k3 x3", "factors side by side"),
    "2p": (GENERAL, "floor((W+2p-K)/s)+1", "factors side by side"),
    "unit word": ("q2e_params", "21 parameters", "unit word"),
}
SHAPES = {
    "x": ("q2h_input_shape", "3x256x256", "separator"),
    "times": ("q2h_input_shape", "3 × 256 × 256", "separator"),
    "torch.Size": ("q2h_input_shape", "torch.Size([3, 256, 256])", "torch.Size"),
    "Size of a tuple": ("q2h_kernel_shape", "torch.Size((32, 3, 5, 5))", "torch.Size"),
}
LATEX = {
    "subscripts": (FIRST, "k_1 x_1 + k_2 x_2 + k_3 x_3", "k_1 read as k1"),
    "floor frac": (GENERAL, r"\lfloor \frac{W+2p-K}{s} \rfloor + 1", "LaTeX"),
    "left right": (GENERAL, r"\left\lfloor \frac{W+2p-K}{s} \right\rfloor + 1", "LaTeX"),
    "dollars": ("q2a_last", "$k_1x_7 + k_2x_8 + k_3x_9$", "LaTeX"),
    "sum": (FIRST, r"\sum_{i=1}^{3} k_i x_i", "LaTeX"),
    "cdot braces": (FIRST, r"k_{1} \cdot x_{1} + k_{2} \cdot x_{2} + k_{3} \cdot x_{3}", "LaTeX"),
    "eaten frac": (GENERAL, "\\lfloor \x0crac{W+2p-K}{s} \\rfloor + 1", "raw string"),
}
UNICODE = {
    "subscripts": (FIRST, "k₁x₁ + k₂x₂ + k₃x₃", "Unicode"),
    "middle dot": (FIRST, "k₁·x₁ + k₂·x₂ + k₃·x₃", "Unicode"),
    "floor brackets": (GENERAL, "⌊(W + 2p − K)/s⌋ + 1", "factors side by side"),
}
CALLS = {
    "math.floor": (GENERAL, "math.floor((W+2*p-K)/s) + 1", "library calls"),
    "sp.floor": (GENERAL, "sp.floor((W+2*p-K)/s) + 1", "library calls"),
    "int": (GENERAL, "int((W+2*p-K)/s)+1", "int(...)"),
}
EQUATIONS = {
    "label": ("q2a_out_dim", "W_out = 7", "right side"),
    "working": ("q2a_out_dim", "7 = 9 - 3 + 1", "both sides"),
}
THOUSANDS = {
    "2,400": ("q2i_conv_params", "2,400", "thousands"),
    "product": ("q2i_fc_params", "196,608 × 508,032", "thousands"),
}
WORKSHEET_NAMES = {  # (f): "W_out = W_in - K + 1", then W in the general formula
    "W_in": ("q2f_out_dim", "W_in - K + 1", "W_in read as W"),
    "label and W_in": ("q2f_out_dim", "W_out = W_in - K + 1", "W_in read as W"),
    "latex W_{in}": (GENERAL, r"W_{out} = \left\lfloor \frac{W_{in}+2p-K}{s} \right\rfloor + 1",
                     "W_in read as W"),
}
TABLES = {**{f"implied {k}": v for k, v in IMPLIED_AND_UNITS.items()},
          **{f"worksheet name {k}": v for k, v in WORKSHEET_NAMES.items()},
          **{f"shape {k}": v for k, v in SHAPES.items()},
          **{f"latex {k}": v for k, v in LATEX.items()},
          **{f"unicode {k}": v for k, v in UNICODE.items()},
          **{f"call {k}": v for k, v in CALLS.items()},
          **{f"equation {k}": v for k, v in EQUATIONS.items()},
          **{f"thousands {k}": v for k, v in THOUSANDS.items()}}


@pytest.mark.parametrize("name, text, note", TABLES.values(), ids=TABLES.keys())
def test_right_answers_in_every_notation_get_full_credit(name, text, note):
    result = check(name, text)
    assert result.score == result.max_score == VARIABLES[name].points, result.message
    assert result.message.startswith("Read your answer as "), result.message
    assert note in result.message


MISTAKES = {
    "flipped latex": (FIRST, "k_3 x_1 + k_2 x_2 + k_1 x_3", "flipped-kernel"),
    "flipped unicode": (FIRST, "k₃x₁ + k₂x₂ + k₁x₃", "flipped-kernel"),
    "flipped glued": (FIRST, "k3x1+k2x2+k1x3", "flipped-kernel"),
    "off by one with a label": ("q2a_out_dim", "W_out = 6", "off-by-one"),
    "fc biases with commas": ("q2i_fc_params", "196,608 × 508,032 + 508,032", "biases-counted"),
    "shared weights unit": ("q2e_params", "3 weights", "shared-weights"),
    "off by one with W_in": ("q2f_out_dim", "W_in - K", "off-by-one"),
}


@pytest.mark.parametrize("name, text, mistake", MISTAKES.values(), ids=MISTAKES.keys())
def test_catalogue_mistakes_keep_their_credit_in_every_notation(name, text, mistake):
    result = check(name, text)
    assert result.mistake == mistake, result.message
    assert result.score == pytest.approx(promised_score(name, mistake))


AMBIGUOUS = {
    "working beside the answer": ("q2a_out_dim", "7 (9 - 3 + 1)", "next to a bracket"),
    "unequal equation": ("q2a_out_dim", "7 = 8", ""),
    "x in an expression": (FIRST, "k1xx1", ""),
    "three by shape as a number": ("q2i_fc_params", "3x256x256", ""),
}


@pytest.mark.parametrize("name, text, words", AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
def test_ambiguous_forms_are_not_read(name, text, words):
    result = check(name, text)
    assert result.score == 0 and result.stage == "format", result.message
    assert words in result.message


def test_number_before_bracket_is_never_read_as_49():
    message = check("q2a_out_dim", "7 (9 - 3 + 1)").message
    assert "49" not in message and "7*(9 - 3 + 1)" not in message
    assert "answer alone" in message


# --- values a student's code builds (issue 31: a 1x1 matrix, a list of 1xN rows, a column) ----

k1, k2, k3, W, K = sp.symbols("k1 k2 k3 W K")
x1_to_9 = sp.symbols("x1:10")


def kernel_times_input(kernel, window):
    """``k.T * x`` for the worksheet's column vectors: a 1x1 Matrix."""
    return sp.Matrix(kernel).T * sp.Matrix(window)


def matrix_rows(rows):
    """Q2c's matrix as a list of 1x9 SymPy matrices, one per row."""
    return [sp.Matrix([[sp.Symbol(c) if c != "0" else 0 for c in row]]) for row in rows]


def torch_size(*numbers):
    torch = pytest.importorskip("torch")
    return torch.Size(numbers)


VALUES = {
    "k.T*x": (FIRST, kernel_times_input([k1, k2, k3], x1_to_9[:3]), ONE_BY_ONE),
    "1x1 count": ("q2a_out_dim", sp.Matrix([[7]]), ONE_BY_ONE),
    "list of 1x9 rows": ("q2c_K", matrix_rows(band(9)), ROWS_READ),
    "column shape": ("q2h_input_shape", sp.Matrix([3, 256, 256]), VECTOR),
    "row shape": ("q2h_input_shape", sp.Matrix([[3, 256, 256]]), VECTOR),
    "column pair": ("q2g_out_shape", sp.Matrix([W - K + 1, W - K + 1]), VECTOR),
    "torch.Size": ("q2h_input_shape", lambda: torch_size(3, 256, 256), ""),
}
VALUE_MISTAKES = {
    "flipped k.T*x": (FIRST, kernel_times_input([k3, k2, k1], x1_to_9[:3]), "flipped-kernel"),
    "flipped 1x9 rows": ("q2c_K", matrix_rows(band(9, kernel=("k3", "k2", "k1"))),
                         "flipped-kernel"),
    "channels-last column": ("q2h_input_shape", sp.Matrix([256, 256, 3]), "channels-last"),
    "channels-last Size": ("q2h_input_shape", lambda: torch_size(256, 256, 3), "channels-last"),
}


def _value(value):
    return value() if callable(value) else value


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("name, value, note", VALUES.values(), ids=VALUES.keys())
def test_values_read_as_what_they_hold_get_full_credit(name, value, note, transport):
    result = check(name, transport(_value(value)))
    assert result.score == result.max_score, result.message
    assert result.message.startswith("Read your answer as "), result.message
    assert note in result.notes if note else not result.notes


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("name, value, mistake", VALUE_MISTAKES.values(),
                         ids=VALUE_MISTAKES.keys())
def test_values_read_as_what_they_hold_keep_catalogue_mistakes(name, value, mistake, transport):
    result = check(name, transport(_value(value)))
    assert result.mistake == mistake, result.message
    assert result.score == pytest.approx(promised_score(name, mistake))


# --- the two bugs -----------------------------------------------------------------------------

w = sp.IndexedBase("w")
INDEXED = {
    "IndexedBase itself": ("q2c_K", w, "type", "IndexedBase"),
    "matrix of w[i, j] in Q2c": ("q2c_K", sp.Matrix(7, 9, lambda i, j: w[i, j]), "format",
                                 "the names you may use are k1"),
    "one w[i]": ("q2a_first", w[1], "format", "the names you may use are k1"),
}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("name, value, stage, words", INDEXED.values(), ids=INDEXED.keys())
def test_indexed_symbols_get_a_clear_message(name, value, stage, words, transport):
    result = check(name, transport(value))
    assert result.score == 0 and result.stage == stage, result.message
    assert words in result.message and "Exception" not in result.message, result.message


def test_indexed_weights_are_distinct_free_symbols_in_q2e():
    """Q2e allows any names: ``w[r, c]`` in the band is a free weight like any other."""
    result = check("q2e_K", sp.Matrix(7, 9, lambda i, j: w[i, j] if i <= j < i + 3 else 0))
    assert result.score == result.max_score, result.message


def test_a_flat_list_is_still_called_one():
    result = check("q2c_K", ["k1", "k2", "k3"])
    assert result.stage == "type" and "flat list" in result.message


# --- approximations of a large count (Reading.approximations) ---------------------------------

FC = "q2i_fc_params"
APPROXIMATIONS = {
    "~100B": "~100B",
    "≈ 100B": "≈ 100B",
    "100 billion": "100 billion",
    "1e11": "1e11",
    "1.0e11": "1.0e11",
    "float 1e11": 1e11,
    "~1e11 parameters": "~1e11 parameters",
}


@pytest.mark.parametrize("answer", APPROXIMATIONS.values(), ids=APPROXIMATIONS.keys())
def test_an_approximation_of_the_count_is_refused_by_default(answer):
    result = check(FC, answer)
    assert result.score == 0 and result.stage == "exact", result.message
    assert "approximation" in result.message and "exact count" in result.message
    assert "side by side" not in result.message


@pytest.mark.parametrize("answer", APPROXIMATIONS.values(), ids=APPROXIMATIONS.keys())
def test_an_approximation_waits_for_review_under_the_review_policy(answer, monkeypatch):
    from autograder.answers import reading
    from autograder.settings.reading import Reading

    monkeypatch.setattr(reading, "SETTINGS", Reading(approximations="review"))
    result = check(FC, answer)
    assert result.score == 0 and result.stage == "undecided", result.message
    assert "review" in result.message


NOT_APPROXIMATIONS = {
    "exact in e-notation": (FC, "9.9883155456e10", 1.0, ""),
    "far off": (FC, "1e12", 0.0, "expected"),
    "small count": ("q2i_conv_params", "2.5e3", 0.0, "expected"),
    "exact with a tilde": ("q2i_conv_params", "~2400", 1.0, ""),
    "biases counted, exactly": (FC, "196608*508032 + 508032", 0.5, "biases-counted"),
}


@pytest.mark.parametrize("name, answer, credit, words", NOT_APPROXIMATIONS.values(),
                         ids=NOT_APPROXIMATIONS.keys())
def test_only_a_near_miss_of_a_large_count_is_an_approximation(name, answer, credit, words):
    result = check(name, answer)
    assert result.score == credit * result.max_score, result.message
    assert "approximation" not in result.message and words in result.message


def test_an_approximation_is_named_under_the_explain_policy(explain_policy):
    result = check(FC, "~100B")
    assert result.stage == "format" and "approximation" in result.message, result.message
    assert "side by side" not in result.message


@pytest.mark.parametrize("field, value", [("approximations", "half"),
                                          ("approximation_tolerance", 1.0),
                                          ("approximation_tolerance", -0.1)])
def test_approximation_settings_are_checked(field, value):
    from autograder.settings.reading import Reading

    with pytest.raises(ValueError):
        Reading(**{field: value})


# --- names the student defined (issue 31: k_1 = k_{1} = k1, the student's own symbols) --------

def own(names: str, pairs, offset=0):
    """``sum(k_j * x_(i+j))`` of the student's own ``sp.symbols(names)`` (kernel names first)."""
    symbols = sp.symbols(names)
    kernel, inputs = symbols[:3], symbols[3:]
    return sum(kernel[j] * inputs[i] for j, i in pairs)


SUBSCRIPTED = "k_1 k_2 k_3 x_1 x_2 x_3"
BRACED = "k_{1} k_{2} k_{3} x_{1} x_{2} x_{3}"
LAST = "k_1 k_2 k_3 x_7 x_8 x_9"
OWN_NAMES = {
    "k_1 symbols": (FIRST, own(SUBSCRIPTED, [(0, 0), (1, 1), (2, 2)]), "k_1 read as k1"),
    "k_{1} symbols": (FIRST, own(BRACED, [(0, 0), (1, 1), (2, 2)]), "LaTeX"),
    "x_7 symbols": ("q2a_last", own(LAST, [(0, 0), (1, 1), (2, 2)]), "k_1 read as k1"),
    "real k_1 symbols": (FIRST, sum(sp.Symbol(f"k_{i}", real=True) * sp.Symbol(f"x_{i}")
                                    for i in (1, 2, 3)), "k_1 read as k1"),
    "W_in symbol": ("q2f_out_dim", sp.Symbol("W_in") - sp.Symbol("K") + 1, "W_in read as W"),
    "matrix of k_1 symbols": ("q2c_K", sp.Matrix(7, 9, lambda r, c: sp.Symbol(f"k_{c - r + 1}")
                                                 if 0 <= c - r < 3 else 0), "k_1 read as k1"),
}
OWN_NAME_MISTAKES = {
    "flipped k_1 symbols": (FIRST, own(SUBSCRIPTED, [(2, 0), (1, 1), (0, 2)]), "flipped-kernel"),
    "flipped k_{1} symbols": (FIRST, own(BRACED, [(2, 0), (1, 1), (0, 2)]), "flipped-kernel"),
    "x_7 off by one": ("q2a_last", own("k_1 k_2 k_3 x_6 x_7 x_8", [(0, 0), (1, 1), (2, 2)]),
                       "off-by-one"),
}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("name, value, note", OWN_NAMES.values(), ids=OWN_NAMES.keys())
def test_the_students_own_symbols_are_read_by_name(name, value, note, transport):
    result = check(name, transport(value))
    assert result.score == result.max_score, result.message
    assert note in result.message, result.message


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("name, value, mistake", OWN_NAME_MISTAKES.values(),
                         ids=OWN_NAME_MISTAKES.keys())
def test_the_students_own_symbols_keep_catalogue_mistakes(name, value, mistake, transport):
    result = check(name, transport(value))
    assert result.mistake == mistake, result.message
    assert result.score == pytest.approx(promised_score(name, mistake))


LOWER_CASE = {  # the worksheet's k is the kernel vector (k_1 .. k_3), W and K the sizes: not read
    "text": ("w - k + 1", "W - K + 1"),
    "own symbols": (sp.Symbol("w") - sp.Symbol("k") + 1, "-K + W + 1"),
    "one name": ("W - k + 1", "W - K + 1"),
}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("value, suggestion", LOWER_CASE.values(), ids=LOWER_CASE.keys())
def test_lower_case_sizes_are_not_guessed_but_explained_and_suggested(value, suggestion,
                                                                      transport):
    result = check("q2f_out_dim", transport(value))
    assert result.score == 0 and result.stage == "format", result.message
    assert "case-sensitive" in result.message, result.message
    assert result.suggestion == suggestion  # the review card offers it; staff decide
