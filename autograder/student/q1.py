"""``grader.check("q1a")`` and ``("q1b")``: Q1's program checks in the student's kernel, by the
autograder's own code.

The probe (``q1/probe.py``) measures the student's ``translate``, ``EquivariantNet``,
``PixelMLP``, ``CNN`` and ``MLP`` here as it does after the notebook when grading, on the same
inputs (``q1/prepare.py``: ``prepare_checks`` writes exactly the grader's q1a inputs), and
``checks/q1.py`` turns its measurements into the grader's verdicts, messages and partial credit.
Only the CNN-versus-MLP training is left to the autograder: q1b is checked before training
(probe step ``inspect``, verdict ``check_before_training``) and the feedback states the recipe
the autograder will use, read from ``settings/q1.py``. Without torch (DataHub) the program
checks say in one sentence how to get it; the written answers are checked as usual.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from autograder.report.results import CheckResult, Stage
from autograder.settings.q1 import Budget, Q1Config

#: The same sentence as the notebook's own ``TORCH_NEEDED`` (a test compares them).
TORCH_NEEDED = ("Question 1 needs PyTorch, which is not installed here: run `pip install torch` "
                "(or `%pip install torch` in a cell), restart the kernel and run the notebook "
                "again.")

#: What the submitted notebook is graded with: Gradescope's profile (``run_autograder`` sets
#: it) on CIFAR-10 (its set-up fetches it), and how the feedback names that dataset.
GRADED_WITH = ("cifar10", "gradescope")
GRADED_DATA = "CIFAR-10"

#: The probe step that checks each program variable here (q1b's CNN: before training).
STEP = {"translate": "translate", "EquivariantNet": "EquivariantNet", "PixelMLP": "PixelMLP",
        "CNN": "inspect"}


def graded_budget(config: Q1Config = Q1Config()) -> Budget:
    """The training budget the autograder grades a submission with (``settings/q1.py``)."""
    return config.budget(*GRADED_WITH)


def torch_missing() -> bool:
    try:
        import torch  # noqa: F401
    except (ImportError, OSError):  # not installed, or an install that cannot load
        return True
    return False


def program_checks(variables, env: dict) -> list[CheckResult]:
    """The autograder's verdicts on the program ``variables`` (worksheet ``Variable``s) of one
    question, from the names in ``env``; one sentence on installing PyTorch when it is
    missing."""
    if torch_missing():
        return [CheckResult(", ".join(v.name for v in variables), 0.0,
                            sum(v.points for v in variables), TORCH_NEEDED,
                            stage=Stage.NOT_RUN_HERE)]
    from autograder.q1 import check_q1, probe
    from autograder.q1.prepare import prepare_checks

    with tempfile.TemporaryDirectory(prefix="dis05-check-") as tmp:
        prepared = prepare_checks(Path(tmp) / "inputs", budget=graded_budget(),
                                  dataset=GRADED_WITH[0], data_note=GRADED_DATA,
                                  steps=tuple(STEP[v.name] for v in variables))
        probe.probe(env, prepared.inputs, Path(tmp) / "outputs")
        verdicts = check_q1(Path(tmp) / "outputs", prepared)
    return [verdicts[v.name] for v in variables]
