"""Q1 (Principles of CNN): programs checked by running them.

Flow, for the pipeline:

1. Once per grading run: ``prepared = prepare_q1(inputs_dir, config=..., data_dir=...)``
   writes the probe's inputs (training data, test images without labels, probe inputs) and
   keeps the test labels in ``prepared``.
2. Per submission: ``q1_probe(prepared)`` is the ``execution.execute.Probe``: the file copied
   into the student's sandbox and the function called there after the notebook ran,
   ``probe(namespace, inputs, outputs)`` (``probe.py``, self-contained). The notebook's time
   limit must leave ``probe_seconds(prepared)`` for it.
3. Per submission, in the grading process: ``check_q1(outputs_dir, prepared)`` returns
   ``{"translate": CheckResult, "EquivariantNet": ..., "PixelMLP": ..., "CNN": ...}``
   (``checks/q1.py``, re-exported here).

Data: real CIFAR-10 from the cache when present (``cifar.download_cifar`` fetches it once),
otherwise the generated offline set (``synthetic``). Options: ``settings.q1.Q1Config``.
"""

from __future__ import annotations

from pathlib import Path

from autograder.checks.q1 import check_q1, probe_reached, staff_log
from autograder.q1.prepare import Prepared, prepare_q1
from autograder.report.notices import Notice, Topic
from autograder.settings.q1 import Q1Config

PROBE_FILE = Path(__file__).with_name("probe.py")


def q1_probe(prepared: Prepared):
    """The ``execution.execute.Probe`` for one submission (the same for every submission of a
    run)."""
    # imported here, so the data and check modules do not need the sandbox
    from autograder.execution.execute import Probe

    return Probe(module_file=PROBE_FILE, function="probe", inputs=prepared.inputs)


def data_notes(prepared: Prepared) -> tuple[Notice, ...]:
    """What the staff should know once about the run's Q1 data: that q1b was graded on the
    generated stand-in, whose verdicts can differ from real CIFAR-10's, and how to fix that."""
    if prepared.dataset != "synthetic":
        return ()
    return (Notice(Topic.DATASET, "q1b was graded on the generated dataset, not real CIFAR-10 (none is in the data "
            "cache): its verdicts can differ from real CIFAR-10's for some CNNs, such as ones "
            "that flatten strided or unpooled feature maps into a linear layer. Fetch CIFAR-10 "
            "once (python -m autograder fetch-cifar, or fetch-cifar --from PATH for a local "
            "copy) and grade again."),)


def probe_seconds(prepared: Prepared) -> float:
    """Seconds the probe may need after the notebook: two trainings at most, plus q1a and
    evaluation; the notebook's overall time limit must leave this much."""
    return 2 * prepared.budget.train_seconds + prepared.config.probe_extra_seconds


__all__ = ["PROBE_FILE", "Prepared", "Q1Config", "check_q1", "data_notes", "prepare_q1",
           "probe_reached", "probe_seconds", "q1_probe", "staff_log"]
