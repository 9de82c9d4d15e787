"""Logging reaches the staff log: what the grader logs while it checks one submission goes into
that submission's ``SubmissionResult.log`` (Gradescope's hidden "Staff log", the report), never
into what the student reads.

Modules log as usual (``logging.getLogger(__name__)``, ``log.exception(...)`` for a failure of
ours). ``capture_log()`` collects the records of the current thread while one submission is
checked (a Dask worker checks several at once, in threads); ``configure_console()`` sends every
other record to the TA's terminal, once, and leaves out those already captured.
"""

from __future__ import annotations

import logging
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

PACKAGE_LOGGER = "autograder"
FORMAT = "[grader] %(levelname)s %(name)s: %(message)s"


class _Capture(logging.Handler):
    """Keeps the records of one thread, formatted."""

    def __init__(self, thread: int):
        super().__init__()
        self.thread = thread
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter(FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        record.staff_logged = True  # the console handler leaves it out
        self.lines.append(self.format(record))

    def text(self) -> str:
        """The captured records, one block each, ending in a newline (or "")."""
        return "".join(line + "\n" for line in self.lines)


@contextmanager
def capture_log() -> Iterator[_Capture]:
    """Collect what the grader logs in this thread until the block ends (at the logger's
    effective level: warnings and errors unless configured otherwise)."""
    handler = _Capture(threading.get_ident())
    logger = logging.getLogger(PACKAGE_LOGGER)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def _not_captured(record: logging.LogRecord) -> bool:
    return not getattr(record, "staff_logged", False)


def configure_console(level: int = logging.WARNING) -> None:
    """Records outside a submission (and none of those captured: the capture runs first, on the
    package's logger, before the record reaches the root's handlers) go to stderr. Idempotent."""
    root = logging.getLogger()
    if any(getattr(h, "dis05_console", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.dis05_console = True
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(_not_captured)
    root.addHandler(handler)
