"""The environment variables the grader reads or sets, declared once (part of the settings tree).

Standard library only and free of other imports, so that any module can read its variables
through ``env`` without import cycles.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class EnvVar:
    """An environment variable the grader reads or sets."""

    name: str
    description: str
    default: str = ""


ENVIRONMENT: tuple[EnvVar, ...] = (
    EnvVar("DIS05_DATA_DIR", "where the verified CIFAR-10 copy is cached", "~/.cache/dis05"),
    EnvVar("DIS05_Q1_PROFILE", "the Q1 training profile: cpu, gpu or gradescope",
           "cpu or gpu, from the device"),
    EnvVar("DIS05_Q1_GENERATED", "1: without real CIFAR-10 in the cache, grade q1b's "
           "comparison on the generated dataset (tests and demos only: its verdicts differ from "
           "real CIFAR-10's for some models)", "unset: the comparison waits for CIFAR-10"),
    EnvVar("DASK_SCHEDULER_ADDRESS", "Dask's standard variable: grade the class on this "
           "scheduler", "unset: the local pool"),
    EnvVar("DIS05_GRADING", "set to 1 by the grader in the student's process, so the notebook "
           "can skip its own long training", "unset"),
    EnvVar("DIS05_GRADESCOPE_ROOT", "the Gradescope layout's root (run_autograder)",
           "/autograder"),
    EnvVar("DIS05_TIMEOUT", "seconds for the notebook on Gradescope (run_autograder)",
           "Machine.notebook_seconds"),
    EnvVar("DIS05_CELL_TIMEOUT", "seconds for one cell on Gradescope (run_autograder)",
           "Limits.cell_timeout"),
    EnvVar("DIS05_MACHINE_SECONDS", "the Gradescope machine's limit for the whole run "
           "(run_autograder)", "Machine.seconds"),
)


def variable(name: str) -> EnvVar:
    """The declaration of ``name``; a typo fails loudly (KeyError), not silently."""
    found = next((v for v in ENVIRONMENT if v.name == name), None)
    if found is None:
        raise KeyError(f"{name} is not declared in settings.ENVIRONMENT")
    return found


def declared(name: str) -> str:
    """``name``, once checked against the declarations."""
    return variable(name).name


def env(name: str) -> str | None:
    """The value of one of the declared environment variables (None when unset or empty)."""
    return os.environ.get(declared(name)) or None
