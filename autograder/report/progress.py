"""A one-line progress bar for a class run: done / total, failures so far, time left.

Drawn only on a terminal; elsewhere (CI logs, pipes) it prints nothing and the caller may log
one line per submission instead. Reused (cached) results count as done but not towards the
rate, so the time left reflects grading speed.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO


def format_seconds(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """``with Progress(total) as p: ... p.advance(ok=...)``; ``p.note(line)`` prints above it."""

    def __init__(self, total: int, *, stream: TextIO | None = None, enabled: bool | None = None,
                 width: int = 30, clock=time.monotonic) -> None:
        self.stream = stream or sys.stderr
        self.enabled = _is_tty(self.stream) if enabled is None else enabled
        self.total, self.width, self.clock = total, width, clock
        self.done = self.failed = self.reused = 0
        self.start = clock()
        self._last_len = 0

    def __enter__(self) -> Progress:
        self.draw()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def advance(self, *, ok: bool, reused: bool = False) -> None:
        self.done += 1
        self.failed += not ok
        self.reused += reused
        self.draw()

    def eta(self) -> float | None:
        """Seconds left at the rate of the submissions graded (not reused) so far."""
        graded = self.done - self.reused
        if graded <= 0:
            return None
        return (self.clock() - self.start) / graded * (self.total - self.done)

    def line(self) -> str:
        frac = self.done / self.total if self.total else 1.0
        filled = int(round(frac * self.width))
        eta = self.eta()
        left = "--" if eta is None else format_seconds(eta)
        parts = [f"[{'#' * filled}{'-' * (self.width - filled)}]", f"{self.done}/{self.total}",
                 f"{self.failed} not ok", f"elapsed {format_seconds(self.clock() - self.start)}",
                 f"left {left}" if self.done < self.total else "done"]
        if self.reused:
            parts.insert(3, f"{self.reused} unchanged")
        return "  ".join(parts)

    def draw(self) -> None:
        if not self.enabled:
            return
        text = self.line()[: max(20, shutil.get_terminal_size((100, 20)).columns - 1)]
        self.stream.write("\r" + text + " " * max(0, self._last_len - len(text)))
        self.stream.flush()
        self._last_len = len(text)

    def note(self, text: str) -> None:
        """Print a line above the bar (on a terminal), e.g. a submission that failed."""
        if not self.enabled:
            return
        self.stream.write("\r" + " " * self._last_len + "\r" + text + "\n")
        self._last_len = 0
        self.draw()

    def close(self) -> None:
        if self.enabled:
            self.draw()
            self.stream.write("\n")
            self.stream.flush()
            self.enabled = False


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
