"""The variant assignment's statements (``worksheet/statements.py``) state every Q2 question once,
with the variant's own numbers."""

from __future__ import annotations

import pytest

from autograder import worksheet
from autograder.worksheet import statements, variants
from autograder.worksheet.variants import DEFAULT

SOME = [DEFAULT, *variants.VARIANTS[::600]]


@pytest.mark.parametrize("v", SOME, ids=lambda v: v.label)
def test_every_q2_question_is_stated_once(v):
    stated = [qid for ids, _ in statements.lines(v) for qid in ids]
    assert sorted(stated) == sorted(q.id for q in worksheet.q2_questions(v))


@pytest.mark.parametrize("v", SOME, ids=lambda v: v.label)
def test_the_statements_carry_the_variants_numbers(v):
    text = statements.statements(v)
    assert f"x{v.n})" in text and f"{v.n_out}×{v.n}" in text and f"stride {v.stride}" in text
    assert f"k{v.k})" in text and f"{v.out_channels} output channels" in text
