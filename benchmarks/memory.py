"""The memory a command and every process it starts use together, sampled from ``/proc`` (Linux).

Resident sizes of forked processes share their parent's pages, so summing RSS would count those
pages once per process; the proportional set size (``Pss`` in ``smaps_rollup``) divides each
shared page among its sharers, so the sum is what the processes cost the machine. Sampling
misses a peak shorter than its interval: the figure is a lower bound.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

INTERVAL = 0.05
"""seconds between samples"""


def _children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        found.setdefault(ppid, []).append(int(entry.name))
    return found


def _pss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in text.splitlines()
                 if line.startswith("Pss:")), 0)


def tree_pss_mb(root: int) -> float:
    """The summed proportional set size of ``root`` and its descendants now, in MB."""
    children, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        total += _pss_kb(pid)
        todo.extend(children.get(pid, []))
    return total / 1024


def run_sampled(command: list[str], **popen) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``command`` (``subprocess.Popen`` arguments, output captured as text) and return it
    with the largest summed PSS of its process tree seen while it ran, in MB."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, **popen)
    peak, done = [0.0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_pss_mb(process.pid))
            time.sleep(INTERVAL)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    done.set()
    sampler.join()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr), peak[0]
