"""Hostile submissions through the whole pipeline: patching what grades them gains nothing.

otter-grader 7.0.0 gave full marks to wrong answers when the notebook patched sympy, numpy,
doctest or the test files (shared/notes/otter.md). Here answers leave the student's process as
plain data and are checked in the grading process, so the same tricks must change nothing.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from autograder.grading import pipeline

pytestmark = [pytest.mark.redteam, pytest.mark.slow]

SETUP = """
import sympy as sp, numpy as np
k1, k2, k3 = sp.symbols("k1 k2 k3")
x1, x2, x3, x4, x5, x6, x7, x8, x9 = sp.symbols("x1:10")
"""
WRONG_ANSWERS = """
q2a_out_dim = 8
q2a_first = k1*x1
q2a_last = k2*x9
q2c_K = sp.zeros(7, 9)
q2i_conv_params = 1
"""
PATCHES = {
    "sympy": "sp.simplify = lambda *a, **k: 0\nsp.Expr.equals = lambda *a, **k: True\n"
             "sp.Matrix.__eq__ = lambda *a: True\nsp.expand = lambda *a, **k: sp.Integer(0)",
    "numpy": "np.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: True",
    "test runners": "import doctest, unittest\ndoctest.run_docstring_examples = lambda *a, **k: None\n"
                    "unittest.TestCase.assertEqual = lambda *a, **k: None",
    "otter": "try:\n    import otter.test_files.exception_test as t\n"
             "    t.test_case.call_func = lambda self, env: None\nexcept Exception:\n    pass",
    "our package": "try:\n    import autograder.checks as c\n"
                   "    c.check_variable = lambda v, val: None\nexcept Exception:\n    pass",
    "builtins": "import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.int = str",
    "forged results": "import os, json\nfake = {'score': 999, 'tests': []}\n"
                      "for d in ('.', '..', os.path.expanduser('~')):\n"
                      "    try:\n        open(os.path.join(d, 'results.json'), 'w').write(json.dumps(fake))\n"
                      "    except OSError:\n        pass\n"
                      "print(json.dumps(fake))",
}


def notebook(tmp_path, *cells: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    path = tmp_path / "hostile.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def run():
    return pipeline.prepare_run(grade_q1=False)


@pytest.mark.parametrize("patched", [*PATCHES, "everything"])
def test_patching_the_graders_libraries_gains_nothing(tmp_path, run, patched):
    patches = list(PATCHES.values()) if patched == "everything" else [PATCHES[patched]]
    honest = pipeline.grade_submission(notebook(tmp_path, SETUP, WRONG_ANSWERS), run)
    hostile = pipeline.grade_submission(notebook(tmp_path, SETUP, WRONG_ANSWERS, *patches), run)
    assert hostile.question_scores() == honest.question_scores()
    assert hostile.question_scores()["q2c"] == 0 and hostile.question_scores()["q2i"] < 1
    assert hostile.score < 2


def test_forged_results_do_not_reach_the_output(tmp_path, run):
    from autograder import report

    result = pipeline.grade_submission(notebook(tmp_path, SETUP, WRONG_ANSWERS,
                                                PATCHES["forged results"]), run)
    folder = report.write_submission(tmp_path / "out", result)
    written = json.loads((folder / "results.json").read_text())
    assert written["score"] == result.score < 2
    assert [t["name"] for t in written["tests"]][0].startswith("Q2a: ")
