"""Q1 (Principles of CNN): programs checked by running them.

Flow, for the pipeline:

1. Once per grading run: ``prepared = prepare_q1(inputs_dir, config=..., data_dir=...)``
   writes the probe's inputs (training data, test images without labels, probe inputs) and
   keeps the test labels in ``prepared``.
2. Per submission: ``spec = q1_probe(prepared)`` says which file to copy into the student's
   sandbox and which function to call there after the notebook ran:
   ``probe(namespace, inputs, outputs)`` (``probe.py``, self-contained).
3. Per submission, in the grading process: ``check_q1(outputs_dir, prepared)`` returns
   ``{"translate": CheckResult, "EquivariantNet": ..., "PixelMLP": ..., "CNN": ...}``.

Data: real CIFAR-10 from the cache when present (``cifar.download_cifar`` fetches it once),
otherwise the generated offline set (``synthetic``). Options: ``config.Q1Config``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .checks import check_q1
from .config import Q1Config
from .prepare import Prepared, prepare_q1

PROBE_FILE = Path(__file__).with_name("probe.py")
GRADING_ENV = "DIS05_GRADING"  # the runner sets it to "1"; notebooks then skip long training


@dataclass(frozen=True)
class ProbeSpec:
    """What the sandbox runs after the notebook: ``module``'s ``function(namespace, inputs,
    outputs)``, with ``inputs`` (read-only) prepared by us and a fresh ``outputs`` directory."""

    module: Path
    function: str
    inputs: Path
    timeout: float
    """seconds the probe may need on top of the notebook (two trainings, evaluation, q1a)"""


def q1_probe(prepared: Prepared) -> ProbeSpec:
    """The probe for one submission (the same for every submission of a grading run)."""
    timeout = 2 * prepared.budget.train_seconds + 60.0
    return ProbeSpec(module=PROBE_FILE, function="probe", inputs=prepared.inputs, timeout=timeout)


__all__ = ["GRADING_ENV", "PROBE_FILE", "ProbeSpec", "Prepared", "Q1Config", "check_q1",
           "prepare_q1", "q1_probe"]
