"""The variant assignment's student notebook (``make assign VARIANTS=1``), run in the three
kernels of ``test_student_kernels``: with ``STUDENT_EMAIL`` set, it shows that student's numbers
and the right answers for their variant pass every Q2 check; without one, the worksheet's
numbers and one sentence saying Gradescope grades their own."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.grading import assignment
from autograder.student import package, variant
from autograder.student.variant_build import make_variant_notebook
from autograder.worksheet.variants import DEFAULT
from tests import variant_fixtures
from tests.conftest import ROOT
from tests.student import test_student_kernels as three_kernels
from tests.student.test_student_kernels import (
    KERNELS,
    Q2,
    check_outputs,
    outputs,
    reference_notebook,
    run,
    unpack,
    with_answers,
)

pytestmark = pytest.mark.slow
kernels, download = three_kernels.kernels, three_kernels.download  # the same fixtures
EMAIL = "ada.lovelace@berkeley.edu"


def shown_text(nb) -> str:
    """Everything the code cells showed, Markdown displays included."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        parts.append(outputs(cell))
        parts += [out.data.get("text/markdown", "") for out in cell.get("outputs", [])
                  if out.output_type == "display_data"]
    return "\n".join(parts)


def variant_notebook(download: Path, folder: Path, email: str | None):
    """The reference notebook turned into the variant assignment's, with ``STUDENT_EMAIL`` and
    that student's right Q2 answers."""
    notebook = unpack(download, folder)
    nbformat.write(reference_notebook(notebook), notebook)
    make_variant_notebook(notebook)
    nb = nbformat.read(notebook, as_version=4)
    if email is not None:
        nb.cells[0].source = nb.cells[0].source.replace('STUDENT_EMAIL = ""',
                                                        f'STUDENT_EMAIL = "{email}"')
    mine = variant_fixtures.right_answers(variant.variant_for(email))
    return with_answers(nb, {name: json.dumps(value) for name, value in mine.items()})


@pytest.mark.parametrize("kernel", KERNELS)
def test_a_students_own_right_answers_pass_every_q2_check(kernel, kernels, download, tmp_path):
    mine = variant.variant_for(EMAIL)
    assert mine != DEFAULT
    nb = run(variant_notebook(download, tmp_path / "work", EMAIL), tmp_path / "work", kernel,
             kernels)
    shown = check_outputs(nb)
    for q in Q2:
        assert "passed" in shown[q] and "✘" not in shown[q], (q, shown[q])
    everything = shown_text(nb)
    assert f"x = (x1, …, x{mine.n}) of **{mine.n}** numbers" in everything
    assert variant.NO_EMAIL not in everything


def test_without_an_email_the_worksheets_numbers_and_one_sentence(kernels, download, tmp_path):
    nb = run(variant_notebook(download, tmp_path / "work", None), tmp_path / "work", "venv",
             kernels)
    shown = check_outputs(nb)
    assert Q2 and all("passed" in shown[q] for q in Q2)
    everything = shown_text(nb)
    assert variant.NO_EMAIL in everything and "of **9** numbers" in everything


def test_make_assign_variants_builds_the_variant_assignment(tmp_path):
    built = package.assign(master=ROOT / "solutions" / "master" / "dis05.ipynb", root=ROOT,
                           dest=tmp_path, variants=True)
    student = json.loads(built["student"].read_text())
    first = next(c for c in student["cells"] if c["cell_type"] == "code")
    assert 'STUDENT_EMAIL = ""' in "".join(first["source"])
    sources = ["".join(c["source"]) for c in student["cells"]]
    assert any("my_numbers(STUDENT_EMAIL)" in s for s in sources)
    with zipfile.ZipFile(built["zip"]) as z:
        assert "--variants" not in z.read("run_autograder").decode()  # the record says it
        assert assignment.parse(json.loads(z.read(assignment.ZIP_FILE))).variants
    assert assignment.parse(student["metadata"]["dis05"]).variants
    with zipfile.ZipFile(built["student_zip"]) as z:
        cells = json.loads(z.read("dis05.ipynb"))["cells"]
        assert any('STUDENT_EMAIL = ""' in "".join(c["source"]) for c in cells)
    # off: the committed assignment, unchanged
    assert 'STUDENT_EMAIL' not in (ROOT / "assignment" / "dis05.ipynb").read_text()
