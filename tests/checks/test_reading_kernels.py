"""`grader.check` says what `make grade` gives for answers in students' notation (issue 31): a
few rows of each reading table written into the students' download, run in a real Jupyter
kernel with and without torch, and graded by `make grade` on the same notebook."""

from __future__ import annotations

import json

import nbformat
import pytest

from autograder.report.results import result_from_dict
from tests.conftest import run_cli
from tests.student.test_student_kernels import (  # noqa: F401 (kernels, download: fixtures)
    check_outputs,
    download,
    kernels,
    reference_notebook,
    run,
    squeeze,
    unpack,
    with_answers,
)

pytestmark = pytest.mark.slow

#: variable -> (the answer cell's right-hand side, fraction of the points, mistake id)
ROWS = {
    "q2a_out_dim": ('"W_out = 7"', 1.0, None),                                  # equation
    "q2a_first": ('"k_1 x_1 + k_2 x_2 + k_3 x_3"', 1.0, None),                  # LaTeX
    "q2a_last": ("sp.Matrix([k1, k2, k3]).T * sp.Matrix([x7, x8, x9])", 1.0, None),  # 1x1
    "q2b_out_dim": ('"9 (9 + 2 - 3 + 1)"', 0.0, None),                          # ambiguous
    "q2b_first": ('sp.Symbol("k_2")*sp.Symbol("x_1") + sp.Symbol("k_3")*sp.Symbol("x_2")',
                  1.0, None),                                                   # own symbols
    "q2b_last": ('"k₃x₈ + k₂x₉"', 0.5, "flipped-kernel"),                       # Unicode
    "q2c_K": ("[sp.Matrix([[0]*i + [k1, k2, k3] + [0]*(6 - i)]) for i in range(7)]", 1.0,
              None),                                                            # 1x9 rows
    "q2e_params": ('"21 parameters"', 1.0, None),                               # unit word
    "q2f_out_dim": ('"W_in - K + 1"', 1.0, None),                               # worksheet name
    "q2f_out_dim_general": (r'r"\left\lfloor \frac{W+2p-K}{s} \right\rfloor + 1"', 1.0, None),
    "q2g_out_shape": ("sp.Matrix([W - K + 1, W - K + 1])", 1.0, None),          # a column
    "q2h_input_shape": ('"3x256x256"', 1.0, None),                              # x separator
    "q2h_kernel_shape": ('"torch.Size([32, 3, 5, 5])"', 1.0, None),             # safe call
    "q2i_output_shape": ('"126 × 126 × 32"', 0.5, "channels-last"),             # mistake
    "q2i_conv_params": ('"2,400"', 1.0, None),                                  # thousands
    "q2i_fc_params": ('"~100B"', 0.0, None),                                    # approximation
}


@pytest.fixture(scope="module")
def notation_notebook(download, tmp_path_factory):  # noqa: F811
    folder = tmp_path_factory.mktemp("notation")
    nb = reference_notebook(unpack(download, folder))
    return with_answers(nb, {name: source for name, (source, _, _) in ROWS.items()})


@pytest.fixture(scope="module")
def make_grade(notation_notebook, tmp_path_factory):
    """The checks `make grade` (Q1 off) gives the notebook: question id -> its CheckResults."""
    out = tmp_path_factory.mktemp("graded")
    path = out / "notation.ipynb"
    nbformat.write(notation_notebook, path)
    run_cli("grade", str(path), "--out", str(out / "out"), "--no-q1", "--jobs", "1")
    record = json.loads((out / "out" / "notation" / "checks.json").read_text())
    return {q.question: q.checks for q in result_from_dict(record["result"]).questions}


def test_make_grade_reads_every_row_as_the_tables_say(make_grade):
    checks = {c.variable: c for q in make_grade.values() for c in q}
    for name, (_, fraction, mistake) in ROWS.items():
        check = checks[name]
        assert check.score == pytest.approx(fraction * check.max_score), (name, check.message)
        assert check.mistake == mistake, (name, check.message)


@pytest.mark.parametrize("kernel", ("notorch", "venv"))
def test_grader_check_says_what_make_grade_gives(kernel, kernels, download, tmp_path,  # noqa: F811
                                                 notation_notebook, make_grade):
    unpack(download, tmp_path / "work")
    nb = run(nbformat.reads(nbformat.writes(notation_notebook), as_version=4),
             tmp_path / "work", kernel, kernels)
    shown = check_outputs(nb)
    assert any(question.startswith("q2") for question in make_grade)
    for question, checks in make_grade.items():
        if not question.startswith("q2"):
            continue
        for check in checks:  # otter indents the lines of a failure
            assert squeeze(check.message) in squeeze(shown[question]), (kernel, check.message,
                                                                        shown[question])
