"""The time budget of each phase of one submission, computed in one place.

Phases: the notebook's cells (``Limits.timeout`` for all of them, ``Limits.cell_timeout`` each),
then Q1's probe (its own budget, from the Q1 config: ``q1.probe_seconds``). A submission may be
run more than once: after a cell was killed at the cell limit (rerun without it, so later cells
still run) or after an early stop before the probe (rerun up to the stop, for Q1). A rerun gets
only what is left: the time its cells took the first time plus ``Limits.rerun_slack``, plus the
notebook budget not yet used. ``Limits.total`` caps everything (Gradescope: the machine's limit
minus a safety margin, ``settings.limits.Machine``); when it is short, the notebook keeps what the
probe's budget leaves, or up to half of what is left if that is more, and the probe the rest.

The supervisor (``sandbox.py``) enforces each ``RunBudget`` from outside the student's process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from autograder.settings.limits import Limits


@dataclass(frozen=True)
class RunBudget:
    """What one execution of the notebook may use; every field in wall-clock seconds."""

    notebook: float
    """the cells together, counted from the start of the process"""
    cell_alarm: float
    """one cell, then interrupted from inside (SIGALRM -> the next cell runs)"""
    cell_kill: float
    """one cell, then the supervisor kills the process (the cell ignored the interrupt)"""
    probe: float
    """the probe, counted from its start (0: no probe)"""
    hard: float
    """the whole process, whatever it reports"""


class SubmissionClock:
    """The clock of one submission: how much each (re)run may still use."""

    def __init__(self, limits: Limits, probe_seconds: float = 0.0, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.probe_seconds = probe_seconds
        self.clock = clock
        self.start = clock()
        self.notebook_used = 0.0

    def total_left(self) -> float | None:
        """Seconds left of ``Limits.total`` (None: no overall cap)."""
        if self.limits.total is None:
            return None
        return self.limits.total - (self.clock() - self.start)

    def first_run(self) -> RunBudget | None:
        return self._plan(self.limits.timeout)

    def rerun(self, *, before: float) -> RunBudget | None:
        """A rerun after an early stop whose cells up to the stop took ``before`` seconds."""
        left = max(0.0, self.limits.timeout - self.notebook_used)
        return self._plan(before + self.limits.rerun_slack + left)

    def charge(self, notebook_seconds: float) -> None:
        """Count a run's notebook phase against ``Limits.timeout``."""
        self.notebook_used += max(0.0, notebook_seconds)

    def _plan(self, notebook: float) -> RunBudget | None:
        probe = self.probe_seconds
        left = self.total_left()
        if left is not None:
            if left < self.limits.min_run_seconds:
                return None
            notebook = min(notebook, max(left - probe, left / 2))
            probe = min(probe, left - notebook)
            hard = min(left, notebook + probe + self.limits.exit_seconds)
        else:
            hard = notebook + probe + self.limits.exit_seconds
        limits = self.limits
        return RunBudget(notebook=notebook, cell_alarm=min(limits.cell_timeout, notebook),
                         cell_kill=min(limits.cell_timeout + limits.cell_grace, notebook),
                         probe=probe, hard=hard)
