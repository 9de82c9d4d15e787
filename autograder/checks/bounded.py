"""Checking bounded from outside: a class's answers are checked in a checker process of their own.

An answer can be cheap to write and costly to decide (nested powers, long products); SymPy cannot
be stopped from inside, and a thread left running keeps its CPU and memory. So the grading
process hands each answer to a long-lived child (``python -m autograder.checks.bounded``) whose
address space is capped (``Checking.memory_mb``) and waits at most ``Checking.answer_seconds``
for the verdict, and a submission's answers at most ``Checking.submission_seconds`` together. A
child past either is killed and a fresh one started for the next answer; the answer is
``too_costly`` (undecided, for review). A child that was left with an abandoned SymPy call
(``cas.run``'s deadline) is replaced too, so one costly answer never slows the next.

The wire format is pickle, both ways, between two processes of the grader: the student's answer
arrives as the plain data ``answers.decode`` made, never as code.
"""

from __future__ import annotations

import logging
import os
import pickle
import resource
import select
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.report.results import CheckResult, failed_check, too_costly
from autograder.settings.limits import Checking

log = logging.getLogger("autograder.checks.bounded")  # also when run as __main__

_HEADER = struct.Struct("!Q")
_START_SECONDS = 60.0
"""how long a new checker may take to start (import SymPy and the worksheet) before it is given up"""


@dataclass
class Budget:
    """One submission's checking time: each answer ``answer_seconds``, all ``submission_seconds``."""

    settings: Checking
    used: float = 0.0

    def next_deadline(self) -> float:
        """Seconds the next answer may take (0 once the submission's time is spent)."""
        left = self.settings.submission_seconds - self.used
        return max(0.0, min(self.settings.answer_seconds, left))

    def cut_short(self, seconds: float) -> bool:
        """Whether a deadline of ``seconds`` came from the submission's time, not the answer's."""
        return seconds < self.settings.answer_seconds

    def spent(self) -> str:
        return (f"this submission's answers together took over "
                f"{self.settings.submission_seconds:g} s to check")


@dataclass
class Checker:
    """One checker child and the variables (with their catalogue entries) it already holds."""

    settings: Checking
    process: subprocess.Popen | None = None
    owner: int = field(default_factory=os.getpid)
    known: set = field(default_factory=set)
    started: int = 0
    ready: bool = False

    def check(self, variable, value, entries, seconds: float, *, memo_key: str
              ) -> tuple[CheckResult, bool, float]:
        """The verdict on one answer, decided in the child within ``seconds``; whether the
        verdict was reached (False: ``too_costly``, the child was replaced); and the seconds
        the check took (a child's start is not counted)."""
        try:
            process = self._ensure()
        except OSError as problem:  # no child could start: check here, still bounded by cas.py
            log.warning("checker process could not start (%s): checking in the grading process",
                        problem)
            from autograder.checks import check_variable

            start = time.monotonic()
            return check_variable(variable, value, entries), True, time.monotonic() - start
        shared = memo_key not in self.known
        request = (memo_key, variable if shared else None, entries if shared else None, value)
        start = time.monotonic()
        try:
            _send(process.stdin, pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL))
            self.known.add(memo_key)
            result, recycle, logged = pickle.loads(_receive(process.stdout, start + seconds))
        except TimeoutError:
            self.replace()
            return (too_costly(variable, f"deciding it took over {seconds:g} s"), False,
                    time.monotonic() - start)
        except (EOFError, OSError, pickle.UnpicklingError):
            self.replace()
            return (too_costly(variable, "deciding it needed more than the "
                                         f"{self.settings.memory_mb} MB checking may use"),
                    False, time.monotonic() - start)
        spent = time.monotonic() - start
        for level, line in logged:
            log.log(level, "%s", line)
        if recycle:
            self.replace()
        return result, True, spent

    def _ensure(self) -> subprocess.Popen:
        """The running child, started (and its start awaited) when needed."""
        if self.process is None or self.process.poll() is not None:
            self.stop()
            self._spawn()
        if not self.ready:
            try:
                if _receive(self.process.stdout, time.monotonic() + _START_SECONDS) != b"ready":
                    raise EOFError("it did not say it was ready")
            except (TimeoutError, EOFError) as problem:
                self.stop()
                raise OSError(f"the checker process did not start: {problem}") from None
            self.ready = True
        return self.process

    def _spawn(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograder.checks.bounded", str(self.settings.memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=_package_root(), env={**os.environ, "PYTHONPATH": os.pathsep.join(
                filter(None, (_package_root(), os.environ.get("PYTHONPATH"))))})
        self.ready = False
        self.started += 1

    def replace(self) -> None:
        """Kill the child and start the next one now, so it is ready by the next answer."""
        self.stop()
        try:
            self._spawn()
        except OSError:
            self.process = None

    def stop(self) -> None:
        """Kill the child (if any); the next check starts a fresh one."""
        process, self.process = self.process, None
        self.known = set()
        if process is None:
            return
        process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            try:
                stream.close()
            except OSError:
                pass


_CHECKERS: dict[tuple[Checking, int], Checker] = {}


def checker_for(settings: Checking) -> Checker:
    """This thread's checker for ``settings``: one child per thread (a Dask worker checks
    several submissions at once, in threads), and a forked process starts its own."""
    key = (settings, threading.get_ident())
    found = _CHECKERS.get(key)
    if found is None or found.owner != os.getpid():
        found = _CHECKERS[key] = Checker(settings)
    return found


def close_all() -> None:
    """Stop this process's checkers (tests; a process ending stops its children's pipes)."""
    for checker in list(_CHECKERS.values()):
        if checker.owner == os.getpid():
            checker.stop()
    _CHECKERS.clear()


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[2])  # the folder holding autograder/


def _send(stream, payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _receive(stream, deadline: float | None) -> bytes:
    """One message from ``stream``; TimeoutError past ``deadline`` (None: wait for it),
    EOFError if it closed."""
    header = _read_exactly(stream, _HEADER.size, deadline)
    return _read_exactly(stream, _HEADER.unpack(header)[0], deadline)


def _read_exactly(stream, size: int, deadline: float | None) -> bytes:
    fd = stream.fileno()
    chunks, got = [], 0
    while got < size:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(size - got, 1 << 20))
        if not chunk:
            raise EOFError("the checker process ended")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class _Forward(logging.Handler):
    """Keeps the child's log records for the parent to log again (they reach the staff log)."""

    def __init__(self):
        super().__init__()
        self.records: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.levelno, f"{record.name}: {self.format(record)}"))


def serve(memory_mb: int) -> None:
    """The child: read (key, variable, entries, value) requests, answer (result, recycle, logs)."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    inbox, outbox = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the replies
    from autograder.checks import check_variable

    forward = _Forward()
    logging.getLogger("autograder").addHandler(forward)
    held: dict[str, tuple] = {}
    _send(outbox, b"ready")
    while True:
        try:
            request = _receive(inbox, None)
        except EOFError:
            return
        key, variable, entries, value = pickle.loads(request)
        if variable is not None:
            held[key] = (variable, entries)
        variable, entries = held[key]
        forward.records = []
        try:
            result = check_variable(variable, value, entries)
        except Exception:  # a kind it cannot check: our bug, told to staff like any other
            log.exception("grader error while checking %s", variable.name)
            result = failed_check(variable)
        # replaced after an answer too costly, or one that left a SymPy call running (cas.py)
        recycle = bool(result.costly) or threading.active_count() > 1
        _send(outbox, pickle.dumps((result, recycle, forward.records),
                                   protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    serve(int(sys.argv[1]))
