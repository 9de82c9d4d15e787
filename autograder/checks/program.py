"""The ``program`` kind: an answer that is code (Q1's ``translate``, networks, training), checked
by running it (``q1/probe.py`` in the student's process, verdicts in ``checks/q1.py``), never by
reading a value. Registered like every kind, so a worksheet variable of it is known; reading,
grading or asking it for an example says where it is checked instead."""

from __future__ import annotations

from autograder.checks.common import Kind
from autograder.worksheet import Variable


def _run_elsewhere(variable: Variable, *_) -> None:
    raise ValueError(f"{variable.name} has kind {variable.kind!r}, which is checked by running code "
                     f"(q1/probe.py, checks/q1.py), not by reading a value")


PROGRAM = Kind("program", _run_elsewhere, _run_elsewhere, example=_run_elsewhere,
               wrong=_run_elsewhere, runs_code=True)
