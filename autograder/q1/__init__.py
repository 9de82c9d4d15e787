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

Data: real CIFAR-10 from the cache when present (``cifar.download_cifar`` fetches it once,
``fetch-cifar --from`` imports a copy); otherwise q1b's comparison waits for it
(``prepare.NO_DATASET``), or, for tests and demos (``Q1Config.generated_data``), runs on the
generated offline set (``synthetic``). Options: ``settings.q1.Q1Config``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from autograder.checks.q1 import check_q1, probe_reached, staff_log
from autograder.q1.cifar import DataError
from autograder.q1.prepare import NO_DATASET, Prepared, prepare_q1, real_present
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
    """What the staff should know once about the run's Q1 data: that q1b's comparison was not
    run for want of real CIFAR-10, or ran on the generated stand-in (tests and demos only), and
    how to fix that."""
    fetch = ("Fetch CIFAR-10 once (python -m autograder fetch-cifar, or fetch-cifar --from PATH "
             "for a local copy; make grade tries the download itself) and grade again")
    if prepared.dataset == NO_DATASET:
        return (Notice(Topic.DATASET, f"q1b's CNN-versus-MLP comparison was NOT graded: the "
                f"grader had {prepared.data_note}. Each submission's q1b CNN waits in the "
                f"review queue (structural failures, such as a CNN without convolution, are "
                f"still graded). {fetch}: the comparison then runs."),)
    if prepared.dataset != "synthetic":
        return ()
    return (Notice(Topic.DATASET, "q1b was graded on the generated dataset, not real CIFAR-10, "
            "because DIS05_Q1_GENERATED=1: for tests and demos only, since its verdicts differ "
            "from real CIFAR-10's for some CNNs (benchmarks/README.md). " + fetch + "."),)


def fetch_for_run(data_dir: str | Path | None = None, fetch=None) -> tuple[Notice, ...]:
    """A class run's one try at real CIFAR-10 when the cache has none and the generated set is
    not allowed: the official download, verified (``fetch``: ``fetch.fetch_cifar``, injectable
    for tests). A notice says why it failed; nothing is said when it worked."""
    if Q1Config().generated_data or real_present(data_dir):
        return ()
    if fetch is None:
        from autograder.q1.fetch import fetch_cifar as fetch
    logging.getLogger(__name__).warning("q1b: real CIFAR-10 is not in the data cache; "
                                        "downloading it once (about 170 MB) ...")
    try:
        fetch(None, data_dir)
    except (DataError, OSError) as exc:  # urllib's URLError is an OSError
        return (Notice(Topic.DATASET, f"CIFAR-10 could not be downloaded: {exc}."),)
    return ()


def probe_seconds(prepared: Prepared) -> float:
    """Wall-clock seconds the probe may need after the notebook: two trainings at most (none
    when the comparison waits for CIFAR-10), plus q1a and evaluation, at the machine's share of
    a CPU (the training cap counts CPU seconds); the notebook's overall time limit must leave
    this much."""
    b = prepared.budget
    trainings = 2 if "train" in prepared.steps else 0
    return (trainings * b.train_seconds + prepared.config.probe_extra_seconds) / b.cpu_share


__all__ = ["NO_DATASET", "PROBE_FILE", "Prepared", "Q1Config", "check_q1", "data_notes", "fetch_for_run",
           "prepare_q1",
           "probe_reached", "probe_seconds", "q1_probe", "staff_log"]
