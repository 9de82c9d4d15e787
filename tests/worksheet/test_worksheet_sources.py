"""The worksheet's sources agree: worksheet/__init__.py (the truth) and the catalogue of mistakes.
Each broken entry must be reported, naming it. (The master notebook against the worksheet:
tests/student/test_master_notebook.py.)"""

from __future__ import annotations

from dataclasses import replace

import pytest

from autograder import checks, worksheet
from autograder.worksheet import mistakes
from autograder.answers import encode
from autograder.worksheet.mistakes import Mistake


def test_the_real_catalogue_is_sound():
    """(Its structure is checked when it loads; whether each entry reads, differs from the
    reference and is not shadowed needs the checkers.)"""
    assert checks.catalogue_problems() == []


BROKEN_ENTRIES = {
    "unknown variable": (Mistake("q2z_nothing", 7, "x", "m"), "unknown variable"),
    "credit 1": (Mistake("q2a_out_dim", 5, "x", "m", 1.0), "not in [0, 1)"),
    "negative credit": (Mistake("q2a_out_dim", 5, "x", "m", -0.5), "not in [0, 1)"),
    "empty message": (Mistake("q2a_out_dim", 5, "x", " "), "must not be empty"),
    "listed twice": (mistakes.CATALOGUE[0], "listed twice"),
}


@pytest.mark.parametrize("name", BROKEN_ENTRIES)
def test_malformed_entries_are_named(name):
    entry, expected = BROKEN_ENTRIES[name]
    problems = mistakes.structural_problems((*mistakes.CATALOGUE, entry))
    assert len(problems) == 1 and expected in problems[0]
    assert f"entry {len(mistakes.CATALOGUE) + 1} ({entry.variable}, {entry.id})" in problems[0]


WRONG_MEANING = {
    "unreadable": (Mistake("q2a_first", "k1 x1 +", "typo", "m"), "unreadable"),
    "the reference itself": (Mistake("q2a_first", "k3*x3 + k2*x2 + k1*x1", "same", "m"),
                             "equals the reference"),
    "shadowed by an earlier entry": (
        Mistake("q2a_first", "k1*x3 + k2*x2 + k3*x1", "flipped-again", "m"),
        "graded as 'flipped-kernel' instead"),
}


@pytest.mark.parametrize("name", WRONG_MEANING)
def test_entries_that_cannot_work_are_named(monkeypatch, name):
    entry, expected = WRONG_MEANING[name]
    monkeypatch.setattr(mistakes, "CATALOGUE", (*mistakes.CATALOGUE, entry))
    problems = checks.catalogue_problems()
    assert len(problems) == 1 and expected in problems[0], problems


def test_points_come_from_the_worksheet():
    """A graded submission's maxima come from the run's worksheet questions: a changed weight
    changes them (and the score of a right answer with it)."""
    from autograder.grading import pipeline
    from autograder.report.results import Status, SubmissionResult

    run = pipeline.prepare_run(grade_q1=False)
    heavier = tuple(replace(q, variables=tuple(replace(v, points=v.points * 2)
                                               for v in q.variables)) if q.id == "q2c" else q
                    for q in run.questions)
    answers = {"q2c_K": worksheet.variable("q2c_K").expected}
    plain = {name: encode(value) for name, value in answers.items()}
    scores = [SubmissionResult("s", Status.OK, pipeline.check_answers(plain, r, {}))
              for r in (run, replace(run, questions=heavier))]
    added = worksheet.question("q2c").points
    assert scores[1].max_score == scores[0].max_score + added
    assert scores[1].question_scores()["q2c"] == 2 * scores[0].question_scores()["q2c"] == 2 * added
