"""Every Q2 reference answer is pinned to the worksheet's own solution text.

Each row is written from ``discussion05.txt`` (the worksheet with its official solutions): the
sub-question's variable, the solution's words or formula exactly as the worksheet prints them, and
that value transcribed by hand into a student's syntax (never built from ``autograder.worksheet``).
The transcription must score full marks against our reference, so a reference can no longer drift
from the worksheet (as ``q2e_params_same`` once did: 23 instead of 21 + 4 = 25) without a failing
test. Where the worksheet itself is at hand (``../shared/worksheet/``), each quote must appear in
it word for word.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import pytest
import sympy

from autograder.checks import check_variable
from autograder.worksheet import Q2_QUESTIONS
from tests.conftest import ROOT, VARIABLES

WORKSHEET = ROOT.parent / "shared" / "worksheet" / "discussion05.txt"

k = sympy.symbols("k1:4")


def _shared_kernel(rows: int, pad_front: int) -> sympy.Matrix:
    """Row i holds k1, k2, k3 starting at column i - pad_front (the worksheet's Toeplitz matrix)."""
    return sympy.Matrix(rows, 9, lambda i, j: k[j - i + pad_front]
                        if 0 <= j - i + pad_front < 3 else 0)


def _own_filters() -> sympy.Matrix:
    """7 rows, each with its own 3 weights k1..k21 on the band (the worksheet's part (e) matrix)."""
    w = sympy.symbols("k1:22")
    return sympy.Matrix(7, 9, lambda i, j: w[3 * i + j - i] if 0 <= j - i < 3 else 0)


class Row(NamedTuple):
    variable: str
    worksheet_says: str
    transcribed: Any


ROWS = (
    Row("q2a_out_dim", "The output dimension is $9 - 3 + 1 = 7$", "9 - 3 + 1"),
    Row("q2a_first", "The first element is $k_1x_1 + k_2x_2 + k_3x_3$", "k1*x1 + k2*x2 + k3*x3"),
    Row("q2a_last", "the last element is $k_1x_7 + k_2x_8 + k_3x_9$", "k1*x7 + k2*x8 + k3*x9"),
    Row("q2b_out_dim", "The output dimension is 9 (same as the input dimension)", 9),
    Row("q2b_first", "the first element is $k_2x_1 + k_3x_2$", "k2*x1 + k3*x2"),
    Row("q2b_last", "the last element is $k_1x_8 + k_2x_9$", "k1*x8 + k2*x9"),
    Row("q2c_K", r"has a dimension of $\mathbb{R}^{7 \times 9}$", _shared_kernel(7, 0)),
    Row("q2d_K", r"The output size is $\mathbb{R}^{9 \times 9}$", _shared_kernel(9, 1)),
    Row("q2e_K", "each row now represents a new kernel filter", _own_filters()),
    Row("q2e_params", "$(9 - 3 + 1) * 3 = 21$ non-zero weights", "(9 - 3 + 1) * 3"),
    Row("q2e_params_same", "we need 4 more weights", "(9 - 3 + 1) * 3 + 4"),
    Row("q2f_out_dim", "$W_{out} = W_{in} - K + 1$", "W - K + 1"),
    Row("q2f_out_dim_general", r"$\left\lfloor \frac{W+2p-K}{s} \right\rfloor + 1$",
        "floor((W + 2*p - K)/s) + 1"),
    Row("q2g_out_shape", "each side having dimension $W_{out} = W_{in} - K + 1$",
        ("W - K + 1", "W - K + 1")),
    Row("q2g_out_shape_general",
        r"each side having dimension $W_{out} = \left\lfloor \frac{W+2p-K}{s} \right\rfloor + 1$",
        ("floor((W + 2*p - K)/s) + 1", "floor((W + 2*p - K)/s) + 1")),
    Row("q2h_input_shape", r"The shape of the input tensor is $3 \times 256 \times 256$",
        (3, 256, 256)),
    Row("q2h_kernel_shape", r"$32 \times 3 \times 5 \times 5$", (32, 3, 5, 5)),
    Row("q2h_kernel_shape", r"or $3 \times 32 \times 5 \times 5$", (3, 32, 5, 5)),
    Row("q2h_kernel_shape", r"or $96 \times 5 \times 5$ (any solution is valid", (96, 5, 5)),
    Row("q2i_output_shape", r"the output dimension is $32 \times 126 \times 126$", (32, 126, 126)),
    Row("q2i_conv_params", r"$32 \times (3 \times 5 \times 5) = 2400$ parameters",
        "32 * (3 * 5 * 5)"),
    Row("q2i_fc_params", r"$d_{in} \times d_{out} = 196,608 \times 508,032",
        "196608 * 508032"),
)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.variable}: {r.worksheet_says[:40]}")
def test_the_worksheets_solution_scores_full_marks(row):
    variable = VARIABLES[row.variable]
    result = check_variable(variable, row.transcribed)
    assert result.score == result.max_score == variable.points, (
        f"the worksheet says {row.worksheet_says!r}; our reference {variable.expected!r} "
        f"disagrees: {result.message}")


def test_every_q2_variable_is_pinned_to_the_worksheet():
    pinned = {row.variable for row in ROWS}
    assert pinned == {v.name for q in Q2_QUESTIONS for v in q.variables}


def test_every_shape_the_worksheet_accepts_is_accepted_and_no_other():
    for name in ("q2h_input_shape", "q2h_kernel_shape", "q2i_output_shape"):
        quoted = {row.transcribed for row in ROWS if row.variable == name}
        assert quoted == set(VARIABLES[name].expected), name


@pytest.mark.skipif(not WORKSHEET.is_file(),
                    reason=f"the worksheet's text is not at {WORKSHEET} (outside this checkout)")
@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.variable}: {r.worksheet_says[:40]}")
def test_each_quote_is_the_worksheets_own_words(row):
    text = re.sub(r"\s+", " ", WORKSHEET.read_text(encoding="utf-8"))
    assert row.worksheet_says in text
