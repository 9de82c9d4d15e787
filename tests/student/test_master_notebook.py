"""The master notebook against the worksheet (``package.master_problems``): each disagreement is
named with its question, a hand-written ``points:`` line (a second copy of the worksheet's points)
included; and the copy otter assign reads (``package.with_points``) has the worksheet's points."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from autograder import worksheet
from autograder.student import package
from tests.conftest import ROOT

MASTER = ROOT / "solutions" / "master" / "dis05.ipynb"
BLANK_Q2C = "name: q2c"
"""q2c's ``# BEGIN QUESTION`` cell ends with its name: the master writes no points"""


def _edit(tmp_path: Path, change) -> Path:
    nb = json.loads(MASTER.read_text())
    for cell in nb["cells"]:
        cell["source"] = change("".join(cell["source"]))
    path = tmp_path / "master.ipynb"
    path.write_text(json.dumps(nb))
    return path


def _question_configs(path: Path) -> dict[str, dict]:
    """Each ``# BEGIN QUESTION`` cell's settings, by question name."""
    configs = [yaml.safe_load("".join(c["source"]).removeprefix("# BEGIN QUESTION"))
               for c in json.loads(path.read_text())["cells"]
               if c["cell_type"] == "raw" and "".join(c["source"]).startswith("# BEGIN QUESTION")]
    return {c["name"]: c for c in configs}


MASTER_EDITS = {
    # case: (edit of each cell's text, the problem expected (None: the master is accepted))
    "the shipped master": (lambda s: s, None),
    "points written in the master": (
        lambda s: s.replace(BLANK_Q2C, f"{BLANK_Q2C}\npoints: 2") if s.endswith(BLANK_Q2C) else s,
        "q2c: the notebook writes points (2): remove the line, points are written only in "
        "worksheet/__init__.py"),
    "question missing": (lambda s: s.replace("name: q2i", "name: q2x"),
                         "q2i: no '# BEGIN QUESTION' cell named q2i"),
    "unknown question": (lambda s: s.replace("name: q2i", "name: q2x"),
                         "q2x: a question of the notebook that worksheet/__init__.py does not know"),
    "check of another question": (lambda s: s.replace('check_question("q2b", env)',
                                                      'check_question("q2a", env)'),
                                  'q2b: its tests cell does not call check_question("q2b", env)'),
    "variable renamed": (lambda s: s.replace("q2e_params_same =", "q2e_same ="),
                         "q2e: no cell of the question assigns `q2e_params_same`"),
}


@pytest.mark.parametrize("name", MASTER_EDITS)
def test_the_master_check_names_each_disagreement(tmp_path, name):
    change, expected = MASTER_EDITS[name]
    problems = package.master_problems(_edit(tmp_path, change))
    assert problems == [] if expected is None else expected in problems, problems


def test_assign_refuses_a_master_that_writes_points(tmp_path):
    path = _edit(tmp_path, MASTER_EDITS["points written in the master"][0])
    with pytest.raises(ValueError, match="q2c: the notebook writes points"):
        package.assign(master=path, root=ROOT, dest=tmp_path / "out")


def test_the_copy_otter_reads_has_the_worksheets_points(tmp_path):
    master = _question_configs(MASTER)
    assert set(master) == {q.id for q in worksheet.QUESTIONS}
    assert all("points" not in c for c in master.values())
    filled = _question_configs(package.with_points(MASTER, tmp_path / "dis05.ipynb"))
    assert filled == {q.id: {"name": q.id, "points": q.points} for q in worksheet.QUESTIONS}
