"""Run one student notebook in a sandbox and bring back its answers as plain data.

The student's code cells run in a separate process (``runner.py``, under ``sandbox.Sandbox``);
what comes back is only JSON written by ``answers.encode`` (the last snapshot taken) and, with a
``Probe``, the regular files the probe wrote. Nothing from that process is unpickled or imported
here, and no file in the sandbox is trusted beyond being data: symlinks, FIFOs and oversized
files are ignored. Every failure of a submission becomes a status, never an exception
(``sandbox.SandboxError`` means the grader itself failed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder import answers as answers_module
from autograder.execution import runner as runner_module
from autograder.execution import sandbox
from autograder.execution.budget import SubmissionClock, RunBudget
from autograder.execution.machine import data_limit_mb, memory_cap_mb
from autograder.report.results import Status, typed_status
from autograder.settings.environment import declared
from autograder.settings.limits import Limits

DEFAULT_LIMITS = Limits()


class InvalidNotebook(ValueError):
    """The submission is not a readable notebook; the message says why."""


@dataclass(frozen=True)
class Probe:
    """Code of ours run in the student's process after all cells: ``function(ns, inputs, outputs,
    seconds=...)``, ``seconds`` being the probe's wall-clock budget (so it can stop in time).

    ``module_file`` is a self-contained .py file (stdlib/numpy/torch imports only); ``inputs`` a
    directory copied into the sandbox (root-owned, read-only). The probe runs after the
    student's code in the same process, so its outputs are measurements to judge here, in the
    grading process, not verdicts to trust.
    """

    module_file: Path
    function: str
    inputs: Path


@dataclass
class Execution:
    """What running one notebook produced."""

    status: Status
    answers: dict  # variable name -> plain data from answers.encode (the last snapshot)
    log: str  # student's stdout/stderr, per-cell errors, notes of the sandbox (capped)
    seconds: float
    probe_dir: Path | None = None  # the probe's outputs (the caller removes it)
    cells_run: int = 0  # cells that completed (of those run; see ``cells``)
    stopped_cells: list[int] = field(default_factory=list)  # numbers of the cells stopped at
    # the per-cell time limit (later cells still ran)
    notes: list[str] = field(default_factory=list)
    killed_cell: int = 0  # the number of a cell the supervisor killed at the cell limit
    killed_after: float = 0.0  # seconds the cells before the stop took (for a rerun's budget)
    notebook_seconds: float = 0.0  # the run's notebook phase, for ``budget.SubmissionClock.charge``
    cells: list[int] = field(default_factory=list)  # the numbers of the cells that were run
    reason: str = ""  # why, for an invalid notebook

    def __post_init__(self) -> None:
        self.status, self.reason = typed_status(self.status, self.reason)


# ----------------------------------------------------------------------------- reading

def cell_label(number: int, source: str) -> str:
    """How a cell is named to the student: its number among the notebook's code cells and its
    first line of code."""
    first = next((line.strip() for line in source.splitlines()
                  if line.strip() and not line.lstrip().startswith("#")), "")
    return f"code cell {number} (`{first[:60]}`)" if first else f"code cell {number}"


def runnable_cells(notebook: Path, *, max_mb: int = Limits.notebook_mb) -> list[tuple[int, str]]:
    """(number among the notebook's code cells, source) of the cells grading runs (not the
    cells that only talk to otter); raises ``InvalidNotebook``."""
    return [(n, c) for n, c in enumerate(read_notebook(notebook, max_mb=max_mb), 1)
            if not is_otter_cell(c)]


def read_notebook(path: Path, *, max_mb: int = Limits.notebook_mb) -> list[str]:
    """The sources of a notebook's code cells; raises ``InvalidNotebook`` with the reason."""
    path = Path(path)
    if path.suffix != ".ipynb":
        raise InvalidNotebook(f"not a .ipynb file ({path.name})")
    try:
        size = path.stat().st_size
        if size > max_mb << 20:
            raise InvalidNotebook(f"the file is larger than {max_mb} MB")
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidNotebook(f"the file cannot be read ({exc.__class__.__name__})") from None
    if not text.strip():
        raise InvalidNotebook("the file is empty")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidNotebook(f"not valid JSON ({str(exc)[:100]})") from None
    if not isinstance(data, dict):
        raise InvalidNotebook(f"the JSON is a {type(data).__name__}, not a notebook")
    return _code_cells(_upgrade(data))


def _upgrade(data: dict) -> dict:
    """A v4-shaped notebook dict (v3 notebooks keep their cells in ``worksheets``)."""
    if "cells" not in data and isinstance(data.get("worksheets"), list):
        cells = []
        for sheet in data["worksheets"]:
            for cell in (sheet.get("cells", []) if isinstance(sheet, dict) else []):
                if isinstance(cell, dict) and cell.get("cell_type") == "code":
                    cell = {**cell, "source": cell.get("input", "")}
                cells.append(cell)
        return {**data, "cells": cells}
    return data


def _code_cells(data: dict) -> list[str]:
    """Lenient: only what grading needs (a list of cells, code cells with text sources)."""
    cells = data.get("cells")
    if not isinstance(cells, list):
        raise InvalidNotebook("no list of cells (is this a notebook?)")
    sources = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            raise InvalidNotebook(f"cell {number} is not a JSON object")
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise InvalidNotebook(f"cell {number} has no readable source")
        sources.append(source)
    return sources


#: Lines of a cell that only talks to otter (the student's own feedback: `grader.check("q2a")`).
OTTER_LINE = re.compile(r"\s*(#.*|import otter|grader\s*=\s*otter\.Notebook\(.*\)"
                        r"|grader\.(check|check_all|export)\(.*\)\s*(#.*)?)?\s*")


def is_otter_cell(source: str) -> bool:
    """Whether a cell only imports otter or calls ``grader.check``: grading skips those, as otter
    does, since they give the student feedback and grade nothing."""
    lines = source.splitlines()
    code = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return bool(code) and all(OTTER_LINE.fullmatch(line) for line in lines)


def read_snapshot(path: Path, variables: list[str], *, limit_mb: int = DEFAULT_LIMITS.snapshot_mb
                  ) -> dict:
    """The snapshot the runner wrote, as plain data; {} when absent or unreadable.

    Opened without following symlinks and only if it is a regular file of at most ``limit_mb``
    (``answers.encode`` caps each answer far below it); each answer is kept only if
    ``answers.decode`` accepts it.
    """
    raw = _read_regular(path, limit_mb << 20)
    try:
        data = json.loads(raw.decode("utf-8", "replace")) if raw is not None else {}
    except (ValueError, RecursionError):
        data = {}
    if not isinstance(data, dict) or not data:
        return {}
    found = data.get("answers")
    found = found if isinstance(found, dict) else {}
    kept = {name: found[name] for name in variables if isinstance(found.get(name), dict)}
    for name, value in kept.items():
        try:
            answers_module.decode(value)
        except Exception:  # noqa: BLE001 - malformed plain data: an unsupported value
            kept[name] = {"t": "unsupported", "type": "?", "text": "malformed answer data"}
    return {**data, "answers": kept}


def _read_regular(path: Path, limit: int) -> bytes | None:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes, else None. The
    student's process wrote it: a symlink is not followed and a FIFO never blocks the read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    with os.fdopen(fd, "rb") as f:
        data = f.read(limit + 1)
    return data if len(data) <= limit else None


def copy_outputs(source: Path, target: Path, budget: int) -> int:
    """Copy the regular files under ``source`` (no symlinks, FIFOs, devices); return bytes left."""
    for entry in sorted(os.scandir(source), key=lambda e: e.name):
        dest = target / entry.name
        if entry.is_dir(follow_symlinks=False):
            dest.mkdir()
            budget = copy_outputs(Path(entry.path), dest, budget)
        elif entry.is_file(follow_symlinks=False):
            data = _read_regular(Path(entry.path), budget)
            if data is None:
                continue
            budget -= len(data)
            dest.write_bytes(data)
    return budget


# ----------------------------------------------------------------------------- running

def execute_notebook(notebook: Path, *, variables: list[str], limits: Limits = DEFAULT_LIMITS,
                     env: dict[str, str] | None = None, probe: Probe | None = None,
                     workdir: Path | None = None, max_cells: int | None = None,
                     skip: frozenset[int] = frozenset(),
                     budget: RunBudget | None = None) -> Execution:
    """Run ``notebook``'s code cells in a sandbox; return the answers of its last snapshot.

    ``env`` adds variables to the child's environment; ``workdir`` is where the temporary
    sandbox directory is made (default: the system's temporary directory); ``max_cells`` runs
    only the first code cells (to probe the code defined before a cell that crashed); ``skip``
    leaves out cells by number (cells the supervisor killed in an earlier run); ``budget``
    (default: a first run within ``limits``, a probe given ``Limits.timeout``; the pipeline
    passes Q1's own) bounds each phase.
    """
    start = time.monotonic()
    try:
        numbered = [(n, c) for n, c in runnable_cells(notebook, max_mb=limits.notebook_mb)
                    if n not in skip][:max_cells]
    except InvalidNotebook as exc:
        return Execution(Status.INVALID, {}, "", time.monotonic() - start, reason=str(exc))
    if budget is None:  # a probe without a budget of its own may take as long as the cells
        budget = SubmissionClock(limits, limits.timeout if probe else 0.0).first_run()
    python = limits.python or sys.executable
    with sandbox.Sandbox(python=python, parent=workdir, imports=runner_module.IMPORTS,
                         private_view=limits.private_view) as box:
        paths = _prepare(box, Path(notebook), probe)
        config = {"cells": [c for _, c in numbered], "numbers": [n for n, _ in numbered],
                  "variables": list(variables),
                  "answers": str(paths["runtime"] / "answers.py"),
                  "snapshot": str(paths["state"] / "answers.json"),
                  "cell_timeout": budget.cell_alarm, "timeout": budget.notebook,
                  "probe": _probe_config(probe, paths, budget.probe)}
        (paths["runtime"] / "config.json").write_text(json.dumps(config))
        outcome = box.run(command(python, paths, env, limits, budget, len(numbered)))
        _check_started(outcome, limits.output_bytes)
        snapshot = read_snapshot(paths["state"] / "answers.json", list(variables),
                                 limit_mb=limits.snapshot_mb)
        probe_dir = _collect_probe(paths, limits.probe_output_mb) if probe else None
    killed = _killed_cell(outcome, numbered)
    stopped = [n for n in _numbers(snapshot.get("stopped_cells"))]
    return Execution(
        status=decide_status(outcome, snapshot), answers=snapshot.get("answers", {}),
        log=_log(outcome, _where(snapshot, numbered), memory_cap_mb(limits), numbered),
        seconds=time.monotonic() - start, probe_dir=probe_dir,
        cells_run=_int(snapshot.get("cells_run")), notes=outcome.notes, stopped_cells=stopped,
        killed_cell=killed, notebook_seconds=outcome.notebook_seconds,
        killed_after=_before(outcome), cells=[n for n, _ in numbered])


def command(python: str, paths: dict[str, Path], env: dict[str, str] | None, limits: Limits,
            budget: RunBudget, cells: int) -> sandbox.Command:
    """The sandbox's one request for a notebook run: the runner, its paths, and every limit."""
    return sandbox.Command(
        argv=[python, "-I", str(paths["runtime"] / "runner.py"),
              str(paths["runtime"] / "config.json")],
        cwd=str(paths["work"]), env=child_env(python, paths, env), timeout=budget.hard,
        memory_mb=data_limit_mb(limits), output_bytes=limits.output_bytes,
        file_mb=limits.file_mb, processes=limits.processes,
        phases=sandbox.PhaseLimits(cells=cells, notebook=budget.notebook,
                                   cell_kill=budget.cell_kill, probe=budget.probe),
        rss_mb=memory_cap_mb(limits),
        isolate_network=limits.isolate_network and not network_problem(),
        readable=tuple(str(paths[k]) for k in ("runtime", "inputs") if k in paths),
        writable=tuple(str(paths[k]) for k in ("work", "state", "outputs") if k in paths))


def network_problem() -> str:
    """Why the student's network cannot be cut here ("" when it can); tried once."""
    return sandbox.network_isolation()


def isolation(limits: Limits = DEFAULT_LIMITS) -> sandbox.Isolation:
    """What isolation submissions get on this machine under ``limits``; tried once."""
    return sandbox.isolation_for(limits.python or sys.executable, runner_module.IMPORTS,
                                 private_view=limits.private_view)


def _killed_cell(outcome: sandbox.Outcome, numbered: list[tuple[int, str]]) -> int:
    """The number of the cell the supervisor killed at the cell limit (0: none)."""
    if outcome.stopped != "cell" or not 0 < outcome.stopped_cell <= len(numbered):
        return 0
    return numbered[outcome.stopped_cell - 1][0]


def _before(outcome: sandbox.Outcome) -> float:
    """Seconds from the start to the start of the cell during which the run stopped."""
    return outcome.cell_starts[-1] if outcome.cell_starts else outcome.notebook_seconds


def _prepare(box: sandbox.Sandbox, notebook: Path, probe: Probe | None) -> dict[str, Path]:
    """Make the sandbox's directories and copy in our runtime files and the notebook."""
    paths = {"runtime": box.dir("runtime", writable=False), "work": box.dir("work", writable=True),
             "state": box.dir("state", writable=True)}
    shutil.copyfile(answers_module.__file__, paths["runtime"] / "answers.py")
    shutil.copyfile(runner_module.__file__, paths["runtime"] / "runner.py")
    name = notebook.name if notebook.name.isascii() and "/" not in notebook.name else "sub.ipynb"
    shutil.copyfile(notebook, paths["work"] / name)
    box.give(paths["work"] / name)
    (paths["state"] / "tmp").mkdir()
    box.give(paths["state"] / "tmp")
    if probe is not None:
        shutil.copyfile(probe.module_file, paths["runtime"] / "probe.py")
        paths["inputs"] = box.dir("probe-in", writable=False) / "inputs"
        shutil.copytree(probe.inputs, paths["inputs"], symlinks=False)
        _world_readable(paths["inputs"])
        paths["outputs"] = box.dir("probe-out", writable=True)
    for p in paths["runtime"].iterdir():
        p.chmod(0o644)
    return paths


def _world_readable(root: Path) -> None:
    for p in [root, *root.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)


def _probe_config(probe: Probe | None, paths: dict[str, Path], seconds: float) -> dict | None:
    """The runner's ``probe`` entry; ``seconds`` is the probe's wall-clock budget, which the
    supervisor enforces and the probe is told, to stop in time to say why."""
    if probe is None:
        return None
    return {"module": str(paths["runtime"] / "probe.py"), "function": probe.function,
            "inputs": str(paths["inputs"]), "outputs": str(paths["outputs"]),
            "seconds": seconds}


def child_env(python: str, paths: dict[str, Path], extra: dict[str, str] | None) -> dict:
    """The student's whole environment: nothing inherited from the grader but what is listed."""
    bin_dir = os.path.dirname(os.path.abspath(python))
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(paths["work"]), "USER": "student", "LOGNAME": "student",
        "TMPDIR": str(paths["state"] / "tmp"), "LANG": "C.UTF-8",
        "IPYTHONDIR": str(paths["state"] / "ipython"), "MPLCONFIGDIR": str(paths["state"] / "mpl"),
        "MPLBACKEND": "Agg", declared("DIS05_GRADING"): "1", "MALLOC_ARENA_MAX": "2",
        **(extra or {}),
    }


def _check_started(outcome: sandbox.Outcome, output_bytes: int) -> None:
    """Raise ``SandboxError`` if the runner failed before running any cell (a grader error)."""
    started = runner_module.READY in outcome.output[:4096]
    if not started and not outcome.timed_out and output_bytes >= 4 * len(runner_module.READY):
        raise sandbox.SandboxError(f"the runner did not start:\n{outcome.output[-3000:]}")


def _collect_probe(paths: dict[str, Path], limit_mb: int) -> Path:
    """The probe's outputs, copied out of the sandbox (``limit_mb`` in all)."""
    target = Path(tempfile.mkdtemp(prefix="dis05-probe-"))
    copy_outputs(paths["outputs"], target, limit_mb << 20)
    return target


MEMORY_SIGNS = ("MemoryError", "bad_alloc", "Cannot allocate memory", "out of memory")


def decide_status(outcome: sandbox.Outcome, snapshot: dict) -> Status:
    """ok | timeout | memory | crashed, from how the process ended and its last snapshot."""
    if outcome.stopped == "memory" or outcome.oom_killed:
        return Status.MEMORY
    if outcome.timed_out:
        return Status.TIMEOUT
    if outcome.returncode == 0 and snapshot.get("finished") is True:
        return Status.OK
    tail = outcome.output[-5000:]
    if snapshot.get("memory_error") is True or any(sign in tail for sign in MEMORY_SIGNS):
        return Status.MEMORY
    return Status.CRASHED


def _where(snapshot: dict, numbered: list[tuple[int, str]]) -> str:
    if snapshot.get("finished") is True:
        return "after the last cell"
    position = _int(snapshot.get("cells_run"))
    if position < len(numbered):
        return f"in {cell_label(*numbered[position])}"
    return f"in cell {position + 1}"


LIMIT_NAMES = {"cell": "the time limit for one cell", "notebook": "the notebook's time limit",
               "probe": "the time limit of Q1's probe (training your models)",
               "total": "the time limit for the whole submission"}


def _log(outcome: sandbox.Outcome, where: str, memory_mb: int,
         numbered: list[tuple[int, str]]) -> str:
    """The captured output (already capped by the supervisor) and the sandbox's notes."""
    notes = "".join(f"[sandbox] {n}\n" for n in outcome.notes)
    if outcome.stopped == "memory":
        notes += (f"[sandbox] stopped: its processes used more than the memory cap "
                  f"({memory_mb} MB) {where}\n")
    elif outcome.oom_killed:
        notes += (f"[sandbox] killed by the kernel's out-of-memory killer {where} (the machine "
                  f"ran out of memory; peak seen {outcome.peak_rss_mb:.0f} MB)\n")
    elif outcome.returncode not in (0, None) and not outcome.timed_out:
        how = (f"signal {-outcome.returncode}" if outcome.returncode < 0
               else f"exit status {outcome.returncode}")
        notes += f"[sandbox] the process ended early ({how}) {where}\n"
    if outcome.timed_out:
        if outcome.stopped == "probe":
            where = "in Q1's probe"
        notes += (f"[sandbox] killed at {LIMIT_NAMES.get(outcome.stopped, 'the time limit')} "
                  f"({outcome.seconds:.0f} s) {where}\n")
    output = outcome.output.replace(runner_module.READY, "", 1)
    return output + ("\n" if output else "") + notes


def _numbers(value: object) -> list[int]:
    """The non-negative integers of a list in the snapshot (nothing for anything else)."""
    return [v for v in value if _int(v)] if isinstance(value, list) else []


def _int(value: object) -> int:
    return value if type(value) is int and value >= 0 else 0
