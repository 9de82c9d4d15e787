"""Answer kinds: one object each, registered once; they grade against what they are given."""

from __future__ import annotations

import dataclasses

import pytest

from autograder.checks import check_variable, equivalence, kinds
from autograder.worksheet import QUESTIONS, mistakes
from autograder.worksheet import variable as worksheet_variable


def test_every_worksheet_kind_is_registered_or_run():
    used = {v.kind for q in QUESTIONS for v in q.variables}
    assert used - {kinds.PROGRAM} <= set(kinds.REGISTERED)
    assert kinds.unknown_kinds() == []


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
