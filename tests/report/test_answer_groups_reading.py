"""Answer groups group by the reading (issue 31): an answer in any notation the grader reads
joins the group of the same answer written plainly; different answers stay apart."""

from __future__ import annotations

import pytest
import sympy

from autograder.worksheet import band
from tests.report.test_answer_groups import Case, groups_of

k1, k2, k3, x1, x2, x3 = sympy.symbols("k1 k2 k3 x1 x2 x3")
own = sympy.symbols("k_1 k_2 k_3 x_1 x_2 x_3")
ROWS_1x9 = [sympy.Matrix([[sympy.Symbol(c) if c != "0" else 0 for c in row]]) for row in band(9)]


def torch_size(*numbers):
    torch = pytest.importorskip("torch")
    return torch.Size(numbers)


CASES = {
    "shape": Case("q2h_input_shape",
                  ["(3, 256, 256)", "3x256x256", "3 × 256 × 256", "torch.Size([3, 256, 256])",
                   sympy.Matrix([3, 256, 256]), (3, 256, 256)],
                  ["256x256x3", "(3, 255, 255)"]),
    "expression": Case("q2a_first",
                       ["k1*x1 + k2*x2 + k3*x3", "k_1 x_1 + k_2 x_2 + k_3 x_3", "k1x1+k2x2+k3x3",
                        "k₁x₁ + k₂x₂ + k₃x₃", r"k_{1} \cdot x_{1} + k_{2} \cdot x_{2} + k_{3} \cdot x_{3}",
                        own[0] * own[3] + own[1] * own[4] + own[2] * own[5],
                        sympy.Matrix([k1, k2, k3]).T * sympy.Matrix([x1, x2, x3])],
                       ["k_3 x_1 + k_2 x_2 + k_1 x_3", "k1 x1"]),
    "count": Case("q2i_fc_params", ["196608*508032", "196,608 × 508,032", "99883155456 parameters"],
                  ["~100B", "196,608 × 508,032 + 508,032"]),
    "formula": Case("q2f_out_dim", ["W - K + 1", "W_in - K + 1", "W_out = W - K + 1",
                                    r"W_{out} = W_{in} - K + 1"], ["W_in - K"]),
    "matrix": Case("q2c_K", [band(9), ROWS_1x9], [band(9, kernel=("k3", "k2", "k1"))]),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_every_notation_of_one_answer_is_one_group(case):
    groups = groups_of(case)
    by_member = {m: g for g in groups for m in g.members}
    assert sorted(by_member["same0"].members) == sorted(f"same{i}" for i in range(len(case.same)))
    assert by_member["same0"].verdict == "right"
    for i in range(len(case.others)):
        assert by_member[f"other{i}"].members == [f"other{i}"]


def test_torch_size_joins_the_shape_group():
    groups = groups_of(Case("q2h_input_shape", ["3x256x256", torch_size(3, 256, 256)], []))
    assert [g.size for g in groups] == [2]
