"""Seconds per submission for a whole class run (Q2 only), with 1 and with 2 parallel jobs.

Usage: ``python benchmarks/bench_grade.py [N] [--notebook PATH | --minimal] [--jobs 1 2 ...]``:
N copies (default 8) of the solutions notebook (which imports torch and otter, as students' do;
``--minimal``: only the Q2 answers, sympy and numpy, from bench_execute.py), graded by ``classroom.grade_class`` exactly as
``make grade Q1=0`` would (intake, sandboxed execution, checks, every output file, report.html).
Target: at most 2 s per submission with 2 jobs, and 2 jobs at least 1.8x as fast as 1 on a
machine with 2 free cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.grading import classroom, pipeline  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def bench(n: int, notebook: Path, jobs: int, run: pipeline.Run) -> float:
    """Wall seconds per submission for grading n copies of ``notebook`` with ``jobs`` jobs."""
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        subs = Path(tmp) / "class"
        subs.mkdir()
        for i in range(n):
            shutil.copy(notebook, subs / f"student{i:03d}.ipynb")
        start = time.perf_counter()
        done = classroom.grade_class(classroom.ClassJob([subs], Path(tmp) / "out", run, jobs=jobs, force=True))
        seconds = time.perf_counter() - start
    bad = [r.submission for r in done.results if r.status != "ok"]
    if bad:
        raise SystemExit(f"benchmark notebook did not grade cleanly: {bad[:3]}")
    return seconds / n


def minimal_notebook(path: Path) -> Path:
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_execute import CELLS

    path.write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                   "source": source} for source in CELLS]}))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=8)
    parser.add_argument("--notebook", type=Path, default=ROOT / "solutions" / "dis05.ipynb")
    parser.add_argument("--minimal", action="store_true", help="a notebook of the Q2 answers only")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    if args.minimal:
        args.notebook = minimal_notebook(Path(tempfile.mkdtemp(prefix="bench-nb-")) / "q2.ipynb")
    run = pipeline.prepare_run(grade_q1=False)
    print(f"{args.n} copies of {args.notebook.name}, Q2 only, {os.cpu_count()} cores, load "
          f"average {os.getloadavg()[0]:.2f} (other work on the machine slows the 2-job run)")
    per = {}
    for jobs in args.jobs:
        per[jobs] = bench(args.n, args.notebook, jobs, run)
        speedup = f"  speedup {per[args.jobs[0]] / per[jobs]:.2f}x" if jobs != args.jobs[0] else ""
        print(f"jobs={jobs}: {per[jobs]:.2f} s per submission{speedup}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
