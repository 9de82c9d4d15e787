"""What course staff must know about a class run, as data: one list of notices, printed once on
the terminal by ``make grade`` and shown once at the top of report.html.

Each notice is made where the fact is known (the isolation the sandbox found at start-up, the
network it could not cut, a Dask worker lost mid-run) and rendered at the edges; nothing here is
read back from the staff logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Topic(str, Enum):
    """What a notice is about."""

    ISOLATION = "isolation"  # submissions do not see nothing but themselves
    NETWORK = "network"  # the student's code had network access
    WORKER_LOST = "worker lost"  # a Dask worker died while grading; its submissions restarted
    DATASET = "dataset"  # q1b was graded on a stand-in for real CIFAR-10
    VARIANTS = "variants"  # the notebooks, the salt or --variants disagree on per-student Q2


@dataclass(frozen=True)
class Notice:
    """One fact about the run, for staff."""

    topic: Topic
    text: str  # one sentence: what happened and why
    submissions: tuple[str, ...] = ()  # the submissions it concerns (none: the whole run)

    def line(self) -> str:
        """The notice as one line of text (the terminal, a staff log)."""
        named = f" ({', '.join(self.submissions)})" if self.submissions else ""
        return f"{self.text}{named}"


def isolation_notice(isolation, where: str = "") -> tuple[Notice, ...]:
    """The notice for an ``execution.sandbox.Isolation`` short of a private view (none when the
    submissions see nothing but themselves); ``where`` names the machine when it is not this
    one."""
    note = isolation.staff_note()
    if not note:
        return ()
    return (Notice(Topic.ISOLATION, f"{where + ': ' if where else ''}{note}"),)


def network_notice(why: str) -> tuple[Notice, ...]:
    """The notice when the student's network could not be cut (``why``; none when it was)."""
    return (Notice(Topic.NETWORK, f"the student's code has network access: {why}"),) if why else ()
