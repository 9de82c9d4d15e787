"""What the machine grading us allows: its memory (cgroup limit or physical) and the cap derived
from it for the student's processes.

Inside Gradescope's default machine (768 MB) the student's processes must leave the grader room
to check the answers and write results.json; on a developer's 24 GB machine the cap is
``Limits.memory_ceiling_mb``.
"""

from __future__ import annotations

from pathlib import Path

from autograder.execution.sandbox import cgroup_memory_dirs
from autograder.settings.limits import Limits

UNLIMITED = 1 << 60
"""a cgroup limit at or above this means none (v1 writes a huge number, v2 "max")"""


def machine_memory_mb() -> int:
    """MiB this process may use: the smallest memory-cgroup limit above it, or MemTotal."""
    limits = [_meminfo_total()]
    for d in cgroup_memory_dirs():
        for name in ("memory.max", "memory.limit_in_bytes"):
            value = _read_bytes(d / name)
            if value is not None and value < UNLIMITED:
                limits.append(value)
    known = [v for v in limits if v]
    return min(known) >> 20 if known else 0


def memory_cap_mb(limits: Limits) -> int:
    """The student's memory cap: ``Limits.memory_mb`` if set, else the machine's memory less
    ``memory_reserve_mb``, at most ``memory_ceiling_mb`` (and at least a quarter of the
    machine, so that a small machine still runs notebooks)."""
    if limits.memory_mb is not None:
        return limits.memory_mb
    machine = machine_memory_mb()
    if not machine:
        return limits.memory_ceiling_mb
    return min(limits.memory_ceiling_mb, max(machine - limits.memory_reserve_mb, machine // 4))


def _read_bytes(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _meminfo_total() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def data_limit_mb(limits: Limits) -> int:
    """``RLIMIT_DATA`` of each student process: ``Limits.address_space_factor`` times the cap
    plus the grader's reserve. It counts address space reserved but never touched (torch and
    glibc's heap reserve a lot), so it sits well above the cap, even past the machine's memory;
    it turns one huge allocation into a ``MemoryError`` the cell can survive, and the
    supervisor's polling enforces the cap itself."""
    return round((memory_cap_mb(limits) + limits.memory_reserve_mb) * limits.address_space_factor)
