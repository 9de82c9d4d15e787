"""Run the students' download in a Jupyter kernel of any Python environment (manual check).

The kernel tests (tests/student/test_student_kernels.py) cover a Colab-like kernel, a venv without torch
and the project's venv. This runs the same two notebooks (reference answers; known wrong answers)
in an environment you made, e.g. DataHub's versions:

    python3.11 -m venv /tmp/datahub
    /tmp/datahub/bin/pip install otter-grader==6.1.3 sympy==1.13.3 "numpy==2.2.*" ipykernel
    .venv/bin/python scripts/student_env_check.py /tmp/datahub/bin/python

It prints whether every Q2 check passes with the reference answers, how many Q1 cells said that
torch is needed, the version note, and how many `make grade` messages the checks did not show.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.student import package  # noqa: E402
from tests.student import test_student_kernels as kernels  # noqa: E402


def main(python: str) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="dis05-env-"))
    kernels.kernelspec(tmp / "jupyter", "student", python)
    download = package.assign(master=kernels.MASTER, root=ROOT, dest=tmp / "assign")["student_zip"]
    reference = kernels.run(kernels.reference_notebook(kernels.unpack(download, tmp / "ref")),
                            tmp / "ref", "student", tmp / "jupyter")
    shown = kernels.check_outputs(reference)
    passed = {q: "passed" in shown[q] and "✘" not in shown[q] for q in kernels.Q2}
    everything = "\n".join(kernels.outputs(c) for c in reference.cells)
    print("reference answers pass every Q2 check:", all(passed.values()), passed)
    print("cells saying torch is needed:", everything.count("Question 1 needs PyTorch"))
    print("version notes:", everything.count("is the one that counts"))
    wrong = kernels.with_answers(kernels.reference_notebook(kernels.unpack(download, tmp / "w")),
                                 kernels.WRONG)
    expected = kernels.grade_like_make_grade(wrong, tmp / "graded")
    got = kernels.check_outputs(kernels.run(wrong, tmp / "w", "student", tmp / "jupyter"))
    missing = [(q, m) for q in kernels.Q2 for m in expected[q]
               if kernels.squeeze(m) not in kernels.squeeze(got[q])]
    print(f"make grade messages not shown by grader.check: {len(missing)}", missing[:3])
    return 0 if all(passed.values()) and not missing else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
