"""The child-side program: runs a student's code cells and snapshots their answers as plain data.

This (with ``answers.py``) is the only code of ours that runs in the student's process. It is
copied into a private runtime directory and started as ``python -I runner.py CONFIG.json [FD]`` in
the student's fresh working directory; nothing of the grader is importable from here. FD is a pipe
to the supervisor: the runner writes ``cell N`` before the N-th cell (1-based, in ``cells``)
and ``probe`` before the probe, so the supervisor enforces each phase's deadline from outside.
CONFIG holds::

  cells         code-cell sources, in order
  numbers       each cell's number in the notebook (its code cells, 1-based), for messages
  variables     answer variable names to snapshot
  answers       path of the copied answers.py
  snapshot      path of the JSON snapshot to (re)write after every cell
  cell_timeout  seconds per cell (SIGALRM -> KeyboardInterrupt in the cell; the supervisor kills
                the process a little later if the cell ignores it)
  timeout       seconds for the cells together (the probe is skipped when none is left)
  probe         null, or {module, function, inputs, outputs, seconds}: ``function(ns, inputs,
                outputs, seconds=...)`` after the cells, seconds being its wall-clock budget

Cells run with IPython's ``InteractiveShell`` in one namespace (``%magics``, ``!shell``); a
cell that raises (``SystemExit`` included) is logged and the next cell runs. The snapshot is
``{"cells_run", "finished", "memory_error", "stopped_cells", "answers"}`` (``stopped_cells``: the
numbers of the cells interrupted at the cell limit), written atomically, so answers defined
before a cell that hangs or kills the process are still graded. Imports only the standard
library and ``IMPORTS`` (plus whatever the student's cells import).
"""

from __future__ import annotations

import builtins
import importlib.util
import json
import os
import signal
import sys
import time
import traceback

_dumps = json.dumps  # our own references: a cell that patches json or os changes nothing here
_replace = os.replace
_write = os.write
_print_exception = traceback.print_exception
_BUILTINS = dict(builtins.__dict__)  # put back while our code runs between cells
IMPORTS = ("json", "IPython.core.interactiveshell", "traitlets.config")
"""what the runner needs from the interpreter (the sandbox checks the student's user can import it)"""
READY = "[grader] runner ready\n"
"""written first: the grading process knows the runner started (a cell cannot unwrite it)"""


class CellTimeout(KeyboardInterrupt):
    """Raised inside a cell that ran longer than ``cell_timeout``."""


_in_cell = False


def _alarm(signum, frame):
    if _in_cell:
        raise CellTimeout("cell time limit reached")


def _load(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def stub_otter() -> None:
    """Make ``import otter`` work where otter is not installed (the Gradescope image has none):
    grading skips the cells that only call otter, but a cell that also imports something else
    must not fail on it. Every method of the stub's ``Notebook`` does nothing."""
    if importlib.util.find_spec("otter") is not None:
        return
    import types

    class Notebook:
        def __init__(self, *args, **kwargs):
            pass

        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    otter = types.ModuleType("otter")
    otter.Notebook = Notebook
    sys.modules["otter"] = otter


def make_shell():
    """An InteractiveShell with no history file, no colours, and grading-safe magics."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class GradingShell(InteractiveShell):
        def enable_gui(self, gui=None):  # %matplotlib inline: MPLBACKEND=Agg already
            pass

        def ask_exit(self):  # exit() / quit() in a cell: ignored, later cells still run
            print("[grader] exit() ignored during grading", file=sys.stderr)

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    shell = GradingShell.instance(config=config)

    def skip(line="", cell=None):
        print("[grader] %pip/%conda skipped during grading")

    for name in ("pip", "conda", "mamba"):
        shell.register_magic_function(skip, "line", name)
    return shell


class TrustedBuiltins:
    """While active, the original builtins; afterwards the student's (patched) ones again."""

    def __enter__(self) -> None:
        self.theirs = dict(builtins.__dict__)
        builtins.__dict__.update(_BUILTINS)

    def __exit__(self, *exc) -> None:
        for name in [n for n in builtins.__dict__ if n not in self.theirs]:
            del builtins.__dict__[name]
        builtins.__dict__.update(self.theirs)


class Runner:
    """Executes the cells of one CONFIG and keeps the snapshot file current."""

    def __init__(self, config: dict, phase_fd: int | None = None) -> None:
        self.config = config
        self.phase_fd = phase_fd
        self.numbers = config.get("numbers") or list(range(1, len(config["cells"]) + 1))
        self.start = time.monotonic()
        self.cells_run = 0
        self.memory_error = False
        self.stopped_cells: list[int] = []  # cells stopped by the per-cell time limit
        self.answers = _load(config["answers"], "_grader_answers")
        sys.stdout.reconfigure(line_buffering=True)  # output up to a hang or a kill is kept
        self.stdout_fd = os.dup(1)  # to give back to cells that close fd 1 or 2
        self.stderr_fd = os.dup(2)
        stub_otter()
        self.shell = make_shell()
        self.ns = self.shell.user_ns
        _write(2, READY.encode())

    def run(self) -> None:
        self.snapshot(finished=False)
        for index, source in enumerate(self.config["cells"], 1):
            self.report(f"cell {index}")
            self.run_cell(index, source)
        with TrustedBuiltins():
            self.snapshot(finished=True)
        if self.config.get("probe"):
            with TrustedBuiltins():
                self.report("probe")
                self.run_probe(self.config["probe"], time.monotonic())

    def report(self, phase: str) -> None:
        """Tell the supervisor which phase starts now (its clock for that phase starts)."""
        if self.phase_fd is not None:
            try:
                _write(self.phase_fd, f"{phase}\n".encode())
            except OSError:  # a cell closed the pipe: the supervisor keeps the last phase
                pass

    def run_cell(self, index: int, source: str) -> None:
        global _in_cell
        _in_cell = True
        signal.signal(signal.SIGALRM, _alarm)  # again: an earlier cell may have replaced it
        signal.setitimer(signal.ITIMER_REAL, self.config["cell_timeout"])
        try:
            result = self.shell.run_cell(source, store_history=True)
            _in_cell = False
        except BaseException as exc:  # noqa: BLE001 - a hostile cell must not end the run
            result = None
            self.note(f"cell {self.numbers[index - 1]} escaped the shell: {exc!r}")
        finally:
            _in_cell = False
            signal.setitimer(signal.ITIMER_REAL, 0)
        with TrustedBuiltins():
            self.after_cell(index, result)

    def after_cell(self, index: int, result) -> None:
        """Log how the cell ended and snapshot the answers."""
        self.cells_run = index
        self.restore_output()
        error = result and (result.error_in_exec or result.error_before_exec)
        if isinstance(error, MemoryError):
            self.memory_error = True
        number = self.numbers[index - 1]
        if isinstance(error, CellTimeout):
            self.stopped_cells.append(number)
            self.note(f"cell {number} stopped after {self.config['cell_timeout']:g} s "
                      "(the time limit for one cell)")
        elif error is not None:
            self.note(f"cell {number} raised {type(error).__name__}")
        self.snapshot(finished=False)

    def restore_output(self) -> None:
        """Flush the cell's output; reopen fds 1 and 2 if the cell closed them."""
        for fd, saved in ((1, self.stdout_fd), (2, self.stderr_fd)):
            try:
                os.fstat(fd)
            except OSError:
                os.dup2(saved, fd)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a replaced or closed stream
                pass
        for name, fd in (("stdout", 1), ("stderr", 2)):
            stream = getattr(sys, f"__{name}__")
            if stream is None or stream.closed:
                stream = open(os.dup(fd), "w", buffering=1, errors="replace")
                setattr(sys, f"__{name}__", stream)
            setattr(sys, name, stream)

    def note(self, text: str) -> None:
        _write(self.stderr_fd, f"[grader] {text}\n".encode())

    def snapshot(self, *, finished: bool) -> None:
        """Write the answers so far, atomically (temporary file, then rename)."""
        path = self.config["snapshot"]
        try:
            answers = self.answers.encode_namespace(self.ns, self.config["variables"])
            text = _dumps({"cells_run": self.cells_run, "finished": finished,
                           "memory_error": self.memory_error,
                           "stopped_cells": self.stopped_cells, "answers": answers})
            with open(path + ".tmp", "w") as f:
                f.write(text)
            _replace(path + ".tmp", path)
        except BaseException as exc:  # noqa: BLE001 - e.g. MemoryError, a patched os
            self.memory_error |= isinstance(exc, MemoryError)
            self.note(f"could not save answers after cell {self.cells_run}: {exc!r}")

    def run_probe(self, probe: dict, started: float) -> None:
        """Call the probe; with its budget (``seconds``, counted by the supervisor from the
        ``probe`` report at ``started``) when it has one, so it can stop in time to say why."""
        if time.monotonic() - self.start >= self.config["timeout"]:
            self.note("no time left for the probe")
            return
        from pathlib import Path

        try:
            module = _load(probe["module"], "_grader_probe")
            budget = {} if probe.get("seconds") is None else {
                "seconds": probe["seconds"] - (time.monotonic() - started)}
            getattr(module, probe["function"])(self.ns, Path(probe["inputs"]),
                                               Path(probe["outputs"]), **budget)
        except BaseException:  # noqa: BLE001 - logged, the parent decides
            self.note("the probe failed:")
            _print_exception(*sys.exc_info(), file=sys.__stderr__)
        self.restore_output()


def main(argv: list[str]) -> None:
    """Entry point: run every cell, then the probe; exit without waiting for stray threads."""
    with open(argv[1]) as f:
        config = json.load(f)
    sys.path.insert(0, os.getcwd())  # like a kernel: the student's own modules are importable
    phase_fd = int(argv[2]) if len(argv) > 2 else None
    Runner(config, phase_fd).run()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
