"""The worksheet's three sources agree: worksheet/__init__.py (the truth), the catalogue of mistakes and the
master notebook. Each broken copy must be reported, naming the entry or question."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from autograder import checks, worksheet
from autograder.student import package
from autograder.worksheet import mistakes
from autograder.answers import encode
from autograder.worksheet.mistakes import Mistake

MASTER = Path(__file__).resolve().parents[2] / "solutions" / "master" / "dis05.ipynb"


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


def test_the_master_notebook_agrees_with_the_worksheet():
    assert package.master_problems(MASTER) == []


def _edit(tmp_path: Path, change) -> Path:
    nb = json.loads(MASTER.read_text())
    for cell in nb["cells"]:
        cell["source"] = change("".join(cell["source"]))
    path = tmp_path / "master.ipynb"
    path.write_text(json.dumps(nb))
    return path


Q2C_POINTS = worksheet.question("q2c").points
OTHER_POINTS = Q2C_POINTS + 3

MASTER_EDITS = {
    "points differ": (lambda s: re.sub(rf"name: q2c\npoints: {Q2C_POINTS}\b",
                                       f"name: q2c\npoints: {OTHER_POINTS}", s),
                      f"q2c: the notebook says {OTHER_POINTS} points, worksheet/__init__.py "
                      f"{Q2C_POINTS}"),
    "question missing": (lambda s: s.replace("name: q2i\n", "name: q2x\n"),
                         "q2i: no '# BEGIN QUESTION' cell named q2i"),
    "unknown question": (lambda s: s.replace("name: q2i\n", "name: q2x\n"),
                         "q2x: a question of the notebook that worksheet/__init__.py does not know"),
    "check of another question": (lambda s: s.replace('check_question("q2b", env)',
                                                      'check_question("q2a", env)'),
                                  'q2b: its tests cell does not call check_question("q2b", env)'),
    "variable renamed": (lambda s: s.replace("q2e_params_same =", "q2e_same ="),
                         "q2e: no cell of the question assigns `q2e_params_same`"),
}


@pytest.mark.parametrize("name", MASTER_EDITS)
def test_a_master_that_disagrees_is_reported(tmp_path, name):
    change, expected = MASTER_EDITS[name]
    assert expected in package.master_problems(_edit(tmp_path, change))


def test_assign_refuses_a_master_that_disagrees(tmp_path):
    path = _edit(tmp_path, MASTER_EDITS["points differ"][0])
    with pytest.raises(ValueError, match=f"q2c: the notebook says {OTHER_POINTS} points"):
        package.assign(master=path, root=MASTER.parents[2], dest=tmp_path / "out")


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
