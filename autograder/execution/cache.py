"""What running a notebook produced, kept so that a regrade reruns only the checks.

An entry holds one ``execute.Execution`` as plain data (status, answers, log, cells run) and a
copy of Q1's probe outputs. Its key is the hash of the notebook's bytes and of everything that
affects running it (``execution_fingerprint``): the limits, Q1's dataset, budget, recipe and seed,
the answer variables asked for, the Python version, and the source of every module in
``fingerprint.Scope.RUN`` (the modules that only check or present are not). Changing checkers, the catalogue, overrides or points therefore
keeps the cache; changing limits, Q1's budget or the execution code empties it (new keys).

Entries are written into a temporary folder and renamed into place, so a reader never sees half
an entry; an unreadable entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from autograder.checks.kinds import read_names
from autograder.fingerprint import Scope, fingerprint, modules
from autograder.execution.execute import Execution

FORMAT = 1


def execution_sources() -> dict[str, Path]:
    """The package's modules that affect what running a notebook produces, by their path in it
    (``fingerprint.Scope.RUN``)."""
    return modules(Scope.RUN)


def execution_fingerprint(run) -> str:
    """A hash of everything besides the notebook that decides what running it produces."""
    names = read_names(run.questions)
    q1 = run.q1
    q1_parts = () if q1 is None else (q1.dataset, q1.profile, q1.device, q1.budget, q1.config,
                                      q1.translate_cases, q1.steps)
    isolation = run.isolation and run.isolation.level  # unisolated runs may have stolen
    return fingerprint(Scope.RUN, FORMAT, run.limits, isolation, names, q1_parts)


@dataclass(frozen=True)
class ExecutionCache:
    """Cached executions under ``folder``, for one fingerprint. ``writable=False`` (a dry run)
    reads entries but writes none; ``readable=False`` (``--rerun``) runs every notebook again
    and replaces its entry."""

    folder: Path
    fingerprint: str
    writable: bool = True
    readable: bool = True

    def key(self, notebook: Path) -> str:
        content = hashlib.sha256(Path(notebook).read_bytes()).hexdigest()
        return hashlib.sha256(f"{self.fingerprint}\0{content}".encode()).hexdigest()

    def has(self, notebook: Path) -> bool:
        """Whether ``get`` would find this notebook's run."""
        return self.get(notebook) is not None

    def get(self, notebook: Path) -> Execution | None:
        """The cached execution of this notebook, or None. Its ``probe_dir`` points into the
        cache: read it, never remove it."""
        if not self.readable:
            return None
        entry = Path(self.folder) / self.key(notebook)
        try:
            data = json.loads((entry / "execution.json").read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                return None
            probe = entry / "probe" if data["probe"] else None
            if probe is not None and not probe.is_dir():
                return None
            return Execution(data["status"], data["answers"], data["log"], data["seconds"],
                             probe_dir=probe, cells_run=data["cells_run"],
                             stopped_cells=data["stopped_cells"], notes=list(data["notes"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, notebook: Path, execution: Execution) -> None:
        """Keep ``execution`` (its probe outputs copied). Failing to write is not an error."""
        if not self.writable:
            return
        folder = Path(self.folder)
        entry = folder / self.key(notebook)
        tmp = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
            if execution.probe_dir is not None:
                shutil.copytree(execution.probe_dir, tmp / "probe", symlinks=True)
            (tmp / "execution.json").write_text(json.dumps({
                "format": FORMAT, "status": execution.status.text(execution.reason),
                "answers": execution.answers,
                "log": execution.log, "seconds": execution.seconds,
                "cells_run": execution.cells_run, "stopped_cells": execution.stopped_cells,
                "notes": list(execution.notes), "probe": execution.probe_dir is not None,
            }, ensure_ascii=False), encoding="utf-8")
            if entry.exists():
                shutil.rmtree(entry, ignore_errors=True)
            os.replace(tmp, entry)
        except (OSError, TypeError, ValueError):
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
