"""Answer groups: a class's answers grouped by the variable's own checker, not by text."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pytest
import sympy

from autograder import worksheet
from autograder.report import answer_groups
from tests.after_grading_fixtures import records

k1, k2, k3, x1, x2, x3 = sympy.symbols("k1 k2 k3 x1 x2 x3")
W, K, p, s = sympy.symbols("W K p s")
Q2C = worksheet.question("q2c").variables[0].expected  # the reference rows, as text


def rows_as_sympy(rows):
    return sympy.Matrix([[sympy.sympify(e) for e in row] for row in rows])


class Case(NamedTuple):
    variable: str
    same: list[Any]  # equivalent forms: one group
    others: list[Any]  # each different from the group above and from each other


CASES = [
    Case("q2a_out_dim", [7, "7", "14/2", sympy.Integer(7), 7.0, np.int64(7)], [6, "8"]),
    Case("q2a_first", ["k1*x1 + k2*x2 + k3*x3", "x3*k3 + x2*k2 + x1*k1",
                       k1 * x1 + k2 * x2 + k3 * x3, "(k1*x1 + k2*x2) + k3*x3 + 0",
                       "(k1*x1 + k2*x2 + k3*x3)*(x1 + 1) - (k1*x1 + k2*x2 + k3*x3)*x1"],
         ["k3*x1 + k2*x2 + k1*x3", "k1*x1", "k1*x1 + k2*x2 + k3*x4"]),
    Case("q2c_K", [Q2C, rows_as_sympy(Q2C), [[f"({e})*(x1 + 1) - ({e})*x1" for e in row]
                                             for row in Q2C],
                   [list(map(sympy.sympify, row)) for row in Q2C]],
         [[list(r) for r in zip(*Q2C)], [row[::-1] for row in Q2C]]),
    Case("q2h_input_shape", [(3, 256, 256), [3, 256, 256], "(3, 256, 256)",
                             np.array([3, 256, 256])], [(256, 256, 3), (3, 255, 255)]),
    Case("q2f_out_dim_general", ["floor((W + 2*p - K)/s) + 1", "floor((W + 2*p - K + s)/s)",
                                 sympy.floor((W + 2 * p - K) / s) + 1],
         ["(W + 2*p - K)/s + 1", "floor((W + p - K)/s) + 1"]),
    Case("q2g_out_shape", [("W - K + 1", "W - K + 1"), ["W + 1 - K", "(W - K)*(W + 1) - (W - K)*W + 1"],
                           "(W - K + 1, W - K + 1)"], [("W - K", "W - K")]),
    Case("q2i_fc_params", ["196608*508032", 196608 * 508032, "508032*196608"], ["196608*508033"]),
]


def groups_of(case: Case) -> list[answer_groups.AnswerGroup]:
    everyone = {f"same{i}": {case.variable: v} for i, v in enumerate(case.same)}
    everyone |= {f"other{i}": {case.variable: v} for i, v in enumerate(case.others)}
    q = next(q for q in worksheet.QUESTIONS if any(v.name == case.variable for v in q.variables))
    return [g for g in answer_groups.build_groups(records(everyone), [q])
            if g.variable == case.variable]


@pytest.mark.parametrize("case", CASES, ids=[c.variable for c in CASES])
def test_equivalent_forms_share_one_group_and_different_answers_do_not(case):
    groups = groups_of(case)
    by_member = {m: g for g in groups for m in g.members}
    assert sorted(by_member[f"same{0}"].members) == sorted(f"same{i}" for i in range(len(case.same)))
    others = [by_member[f"other{i}"] for i in range(len(case.others))]
    assert others
    assert all(g.members == [f"other{i}"] for i, g in enumerate(others))
    assert sum(g.size for g in groups) == len(case.same) + len(case.others)


def test_groups_carry_the_verdict_and_unrecognised_wrong_ones_come_first():
    class_answers = {"ada": {"q2a_first": "k1*x1 + k2*x2 + k3*x3"},
                     "bob": {"q2a_first": "k3*x1 + k2*x2 + k1*x3"},
                     "cy": {"q2a_first": "x1*k3 + x2*k2 + x3*k1"},
                     "dee": {"q2a_first": "k1*x1"},
                     "eve": {"q2a_first": "k1*x1 +* 2"},
                     "fay": {},
                     "gus": {"q2a_first": ...}}
    groups = [g for g in answer_groups.build_groups(records(class_answers),
                                                    [worksheet.question("q2a")])
              if g.variable == "q2a_first"]
    assert [g.verdict for g in groups] == ["unrecognised wrong", "unreadable", "unanswered",
                                           "known mistake", "right"]
    flipped = groups[3]
    assert (flipped.members, flipped.mistake, flipped.credit) == (["bob", "cy"], "flipped-kernel",
                                                                  0.5)
    assert flipped.stage == "catalogue" and "flipped" in flipped.message
    assert "variable: q2a_first" in flipped.entry
    # the offered entry is honest: make grade refuses it until the credit and message are set
    from autograder.checks import overrides
    _, problems = overrides.parse("# decided\n" + flipped.entry)
    assert [p.line for p in problems] == [2] and "credit is not set" in problems[0].message
    assert groups[2].members == ["fay", "gus"]  # a `...` left in place is unanswered too
    assert groups[2].reading == "(unanswered)" and groups[2].entry == ""
    assert groups[1].reading == "k1*x1 +* 2"  # unreadable: as written, settled by its text
    assert groups[1].by_text and "match: text" in groups[1].entry


def test_the_groups_csv_has_a_row_per_group(tmp_path):
    class_answers = {"ada": {"q2a_out_dim": 7}, "bob": {"q2a_out_dim": "7"},
                     "cy": {"q2a_out_dim": 6}}
    groups = answer_groups.build_groups(records(class_answers), [worksheet.question("q2a")])
    path = answer_groups.write_groups_csv(tmp_path / "answer_groups.csv", groups)
    text = path.read_text()
    assert "q2a,q2a_out_dim,2,7,right,1" in text and "ada bob" in text
    assert "q2a,q2a_out_dim,1,6,known mistake,0,catalogue,off-by-one" in text


@pytest.mark.parametrize("case", CASES, ids=[c.variable for c in CASES])
def test_each_groups_entry_parses_back_and_settles_exactly_that_group(case):
    from autograder.checks.common import to_plain
    from autograder.checks import overrides

    variable = next(v for q in worksheet.QUESTIONS for v in q.variables if v.name == case.variable)
    groups = groups_of(case)
    assert groups
    for group in groups:
        entry = group.entry.replace(overrides.CREDIT_PLACEHOLDER, "1").replace(
            overrides.MESSAGE_PLACEHOLDER, "Reviewed.")
        entries, problems = overrides.parse(entry)
        assert problems == () and len(entries) == 1
        found = overrides.Overrides(entries)
        everyone = [*case.same, *case.others]
        members = {f"same{i}" if i < len(case.same) else f"other{i - len(case.same)}": v
                   for i, v in enumerate(everyone)}
        for name, value in members.items():
            matched = overrides.match(variable, to_plain(value), found)
            assert (matched is not None) == (name in group.members), (group.reading, name)
