"""otter assign -> student notebook, solutions notebook and Gradescope zip; the zip grades like us."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from autograder import worksheet
from autograder.student import package
from tests.conftest import BLANK, REFERENCE, ROOT
from tests.goldens import ZIP_LISTING

MASTER = ROOT / "solutions" / "master" / "dis05.ipynb"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    return package.assign(master=MASTER, root=ROOT, dest=tmp_path_factory.mktemp("assign"))


def code_cells(path: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]
            if c["cell_type"] == "code"]


@pytest.mark.slow
def test_committed_notebooks_are_not_stale(built):
    """Fails when the master changed without `make assign`."""
    assert built["student"].read_text() == BLANK.read_text(), "run `make assign`"
    assert built["solutions"].read_text() == REFERENCE.read_text(), "run `make assign`"


@pytest.mark.slow
def test_zip_listing_matches_golden(built):
    assert "\n".join(package.zip_listing(built["zip"])) + "\n" == ZIP_LISTING.read_text(), \
        "the zip's files changed: review, then `make goldens`"


SOLUTION_TEXT = ["k1*x1 + k2*x2 + k3*x3", "k1*x7", "torch.zeros_like", "32 * 8 * 8",
                 "nn.Conv2d(3, channels", "sp.floor((W + 2*p - K) / s)", "(3, 256, 256)",
                 "32 * 3 * 5 * 5", '"architecture"', "SOLUTION"]


@pytest.mark.parametrize("text", SOLUTION_TEXT)
def test_student_notebook_contains_no_solution_text(text):
    assert text not in "\n".join(code_cells(BLANK))


def test_every_answer_variable_has_its_own_stub_cell():
    cells = code_cells(BLANK)
    assert worksheet.answer_variables()
    for variable in worksheet.answer_variables():
        if variable[0].isupper() or variable == "translate":  # classes and functions: stubbed bodies
            assert sum(bool(re.search(rf"^(class|def) {variable}\b", c, re.M)) for c in cells) == 1
        else:
            assert cells.count(f"{variable} = ...") == 1, variable


def test_a_check_follows_every_question_with_the_worksheets_points():
    """(The points otter wrote into the student notebook's tests: the worksheet's, filled in by
    ``package.with_points``.)"""
    cells = code_cells(BLANK)
    for q in worksheet.QUESTIONS:
        assert f'grader.check("{q.id}")' in cells
    tests = json.loads(BLANK.read_text())["metadata"]["otter"]["tests"]
    declared = {name: float(re.search(r"^points = ([\d.]+)$", source, re.M).group(1))
                for name, source in tests.items()}
    assert declared == {q.id: q.points for q in worksheet.QUESTIONS}


@pytest.mark.slow
def test_student_check_runs_our_checker_through_otter(tmp_path, monkeypatch):
    """grader.check in the notebook: the stub fails with our message, a right answer passes."""
    import otter

    shutil.copy(BLANK, tmp_path / "dis05.ipynb")
    monkeypatch.chdir(tmp_path)
    grader = otter.Notebook("dis05.ipynb")
    import sympy as sp

    k1, k2, k3 = sp.symbols("k1 k2 k3")
    x = sp.symbols("x1:10")
    env = {"q2a_out_dim": 7, "q2a_first": k3 * x[0] + k2 * x[1] + k1 * x[2], "q2a_last": ...}
    result = grader.check("q2a", global_env=env)
    text = repr(result)
    assert "flipped" in text and "placeholder" in text
    env.update(q2a_first="k1*x1 + k2*x2 + k3*x3", q2a_last=k1 * x[6] + k2 * x[7] + k3 * x[8])
    assert grader.check("q2a", global_env=env).grade == 1.0


def run_zip(zip_path: Path, notebook: Path | None, root: Path) -> dict:
    """Unpack the zip into a Gradescope-like layout and run its entry point."""
    for sub in ("source", "submission", "results"):
        (root / sub).mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(root / "source")
    if notebook:
        shutil.copy(notebook, root / "submission" / "dis05.ipynb")
    venv_bin = str(Path(os.sys.executable).parent)
    env = {**os.environ, "PATH": venv_bin + os.pathsep + os.environ["PATH"],
           "DIS05_GRADESCOPE_ROOT": str(root), "DIS05_Q1_PROFILE": "cpu"}
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((root / "results" / "results.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name, notebook", [("solutions-dis05", REFERENCE),
                                            ("carol-exits-midway", None)])
def test_zip_entry_point_grades_like_make_grade(built, graded_examples, tmp_path, name, notebook):
    notebook = notebook or ROOT / "examples" / "submissions" / f"{name}.ipynb"
    results = run_zip(built["zip"], notebook, tmp_path)
    expected = graded_examples[name]["results"]
    assert [(t["name"], t["score"]) for t in results["tests"][:-1]] == \
           [(t["name"], t["score"]) for t in expected["tests"][:-1]]
    assert results["extra_data"]["status"] == expected["extra_data"]["status"]


@pytest.mark.slow
def test_zip_entry_point_without_a_notebook_still_writes_results(built, tmp_path):
    results = run_zip(built["zip"], None, tmp_path)
    assert results["score"] == 0
    assert results["extra_data"]["status"].startswith("invalid notebook")


def test_the_equivariance_demo_shows_the_point(capsys):
    """The reference's Part A demo prints ~0 for the CNN and a clear error for the MLP."""
    cells = code_cells(REFERENCE)
    demo = next(i for i, c in enumerate(cells) if "net_then_shifted" in c)
    namespace: dict = {}
    for source in cells[1:demo + 1]:  # skip otter's init cell
        exec(compile(source, "<notebook>", "exec"), namespace)
    errors = dict(re.findall(r"(\w+)\s+max .*: ([\d.e+-]+)", capsys.readouterr().out))
    assert float(errors["EquivariantNet"]) < 1e-6
    assert float(errors["PixelMLP"]) > 1e-2


@pytest.mark.slow
def test_student_download_checks_answers_with_its_own_copy_of_the_package(built, tmp_path):
    """Unpacked anywhere, the bundle's grader.check imports the bundle's package (cwd first)."""
    with zipfile.ZipFile(built["student_zip"]) as z:
        names = z.namelist()
        z.extractall(tmp_path)
    assert "dis05.ipynb" in names and "autograder/student/notebook.py" in names
    questions = sorted(json.loads(BLANK.read_text())["metadata"]["otter"]["tests"])
    assert sorted(n for n in names if n.startswith("tests/")) == [f"tests/{q}.py" for q in questions]
    assert (tmp_path / "dis05.ipynb").read_text() == BLANK.read_text()
    script = (
        "import sys, otter, autograder\n"
        "assert autograder.__file__.startswith(sys.argv[1]), autograder.__file__\n"
        "g = otter.Notebook('dis05.ipynb')\n"
        "print(g.check('q2h', global_env={'q2h_input_shape': (3, 256, 256),\n"
        "                                 'q2h_kernel_shape': (32, 3, 5, 5)}).grade)\n")
    proc = subprocess.run([os.sys.executable, "-c", script, str(tmp_path)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "1.0"


def test_gradescope_entry_point_writes_results_even_when_the_grader_crashes(tmp_path, monkeypatch):
    """A crash outside one submission's grading still gives the student a results.json."""
    from autograder import cli
    from autograder.grading import pipeline

    def broken(**_):
        raise RuntimeError("the grader broke")

    monkeypatch.setattr(pipeline, "prepare_run", broken)
    (tmp_path / "submission").mkdir()
    shutil.copy(REFERENCE, tmp_path / "submission" / "dis05.ipynb")
    assert cli.main(["gradescope", "--root", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["score"] == 0 and results["extra_data"]["status"] == "grader error"
    assert "tell course staff" in results["output"]
    staff = results["tests"][-1]
    assert staff["visibility"] == "hidden" and "the grader broke" in staff["output"]
