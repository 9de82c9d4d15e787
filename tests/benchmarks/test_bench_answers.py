"""The benchmark's class answers what it says: each written form of a reference gets full marks
and each catalogue mistake, written by its kind, is graded as that mistake (a benchmark whose
"right" answers were unreadable would time something else)."""

from __future__ import annotations

import pytest

from autograder import worksheet
from autograder.checks import check_variable
from autograder.worksheet import mistakes
from benchmarks import bench_regrade as bench

Q2 = [v for q in worksheet.Q2_QUESTIONS for v in q.variables]


@pytest.mark.parametrize("variable", Q2, ids=lambda v: v.name)
def test_reference_forms_are_right_and_known_mistakes_are_known(variable):
    forms = bench.reference_forms(variable)
    assert len(forms) == 2
    for form in forms:
        result = check_variable(variable, form)
        assert result.score == result.max_score, (form, result.message)
    entries = mistakes.for_variable(variable.name)
    assert [check_variable(variable, w).mistake for w in bench.known_wrong(variable)] == \
        [m.id for m in entries]


def test_the_class_holds_the_new_entrys_answer():
    assert Q2 and bench.holders(bench.class_answers(200))
