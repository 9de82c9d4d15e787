"""The progress line on the terminal: drawn only on a terminal, with an estimate of what is left."""

from __future__ import annotations

import io

from autograder.report.progress import Progress, format_seconds


def test_progress_draws_only_when_enabled():
    quiet = io.StringIO()  # not a terminal
    with Progress(3, stream=quiet) as p:
        p.advance(ok=True)
    assert quiet.getvalue() == ""

    clock = iter([0.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0]).__next__
    tty = io.StringIO()
    p = Progress(10, stream=tty, enabled=True, clock=clock)
    p.advance(ok=True, reused=True)
    p.advance(ok=False)
    line = p.line()
    assert "2/10" in line and "1 not ok" in line and "1 unchanged" in line
    assert "left 1m20s" in line  # 10 s for one graded submission, 8 to go
    assert format_seconds(3725) == "1h02m"
