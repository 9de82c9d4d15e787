"""Answer kinds: one object each, registered once; they grade against what they are given."""

from __future__ import annotations

import dataclasses

import pytest

from autograder.checks import check_variable, equivalence, kinds
from autograder.worksheet import QUESTIONS, mistakes, variants
from autograder.worksheet.variants import DEFAULT
from autograder.worksheet import variable as worksheet_variable


def test_every_worksheet_kind_is_registered():
    used = {v.kind for q in QUESTIONS for v in q.variables}
    assert "program" in used and used <= set(kinds.REGISTERED)
    assert kinds.unknown_kinds() == []


SHEETS = [variants.sheet(DEFAULT), variants.sheet(variants.VARIANTS[len(variants.VARIANTS) // 2])]
"""the worksheet's own numbers and another variant's: examples come from the variable given"""


@pytest.mark.parametrize("name", sorted(kinds.REGISTERED))
def test_each_kind_gives_a_right_answer_and_its_catalogue_mistakes(name):
    """A kind's ``example`` scores full marks, and its ``wrong`` answer for each catalogue entry
    is graded as that entry; a kind that runs code says so instead of giving a value."""
    kind = kinds.REGISTERED[name]
    for sheet in SHEETS:
        of_kind = [v for q in sheet.questions for v in q.variables if kinds.kind_of(v) is kind]
        assert of_kind, f"no variable of kind {name!r}: the test would check nothing"
        for variable in of_kind:
            if kind.runs_code:
                with pytest.raises(ValueError, match="running code"):
                    kind.example(variable)
                continue
            right = check_variable(variable, kind.example(variable), sheet.entries(variable.name))
            assert right.score == right.max_score, right.message
            for mistake in sheet.entries(variable.name):
                result = check_variable(variable, kind.wrong(variable, mistake),
                                        sheet.entries(variable.name))
                assert result.mistake == mistake.id, (variable.name, mistake, result.message)


def test_program_is_checked_by_running_code_not_by_check_variable():
    translate = worksheet_variable("translate")
    assert not kinds.checked_by_reading(translate) and kinds.checked_by_reading(
        worksheet_variable("q2a_first"))
    with pytest.raises(ValueError, match="running code"):
        check_variable(translate, None)


def test_an_unregistered_kind_is_named(monkeypatch):
    monkeypatch.delitem(kinds.REGISTERED, "shape")
    assert any("q2h_input_shape: kind 'shape'" in line for line in kinds.unknown_kinds())
    with pytest.raises(ValueError, match="known kinds"):
        kinds.kind_of(worksheet_variable("q2h_input_shape"))


def test_a_kind_grades_against_the_reference_and_entries_it_is_given():
    """What a per-student variant needs: another reference and another catalogue, same kind."""
    first = worksheet_variable("q2a_first")
    variant = dataclasses.replace(first, expected="k1*x2 + k2*x3 + k3*x4")
    assert check_variable(variant, "k1*x2 + k2*x3 + k3*x4").passed
    assert not check_variable(variant, first.expected).passed
    flipped = next(m for m in mistakes.for_variable("q2a_first") if m.id == "flipped-kernel")
    assert check_variable(first, flipped.answer).mistake == "flipped-kernel"
    assert check_variable(first, flipped.answer, entries=()).mistake is None
    own = dataclasses.replace(flipped, answer="k1*x9")
    assert check_variable(first, "k1*x9", entries=(own,)).mistake == "flipped-kernel"


@pytest.mark.parametrize("name, a, b", [("q2a_first", "k1*x1 + k2*x2 + k3*x3", "x1*k1+x2*k2+k3*x3"),
                                        ("q2f_out_dim_general", "floor((W + 2*p - K)/s) + 1",
                                         "floor((W - K + 2*p)/s) + 1"),
                                        ("q2h_input_shape", (3, 256, 256), [3, 256, 256])])
def test_sameness_is_the_kinds_own(name, a, b):
    variable = worksheet_variable(name)
    ra, rb = equivalence.read(variable, a), equivalence.read(variable, b)
    assert equivalence.quick_key(variable, ra) == equivalence.quick_key(variable, rb)
    assert equivalence.same(variable, ra, rb)
