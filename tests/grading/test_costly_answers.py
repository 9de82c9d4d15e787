"""A class with answers that are cheap to write and costly to decide (issue 30.3), through
``python -m autograder grade``: every costly answer is undecided with the reason, the honest
classmates keep their usual time and marks, and the grader's memory stays bounded."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from autograder import answers, worksheet
from autograder.execution.cache import ExecutionCache, execution_fingerprint
from autograder.execution.execute import Execution
from autograder.grading import pipeline
from benchmarks.bench_regrade import reference_forms
from tests.conftest import BLANK, ROOT

ANSWER_SECONDS = 1.0
COSTLY_VARIABLES = ("q2a_first", "q2a_last")
LARGEST_PROCESS_MB = 700
"""generous: the largest process of this run peaked at 125 MB here (a checker is capped at 512)"""
TREE_MB = 1500
"""the whole grader (2 jobs, their checkers, the parent) sampled every 20 ms: 408 MB here"""


def costly(seed: int) -> str:
    """4,096 terms once expanded (within the structural limits), seconds of SymPy per entry."""
    return "*".join(f"(k1+{i + seed}*x{1 + i % 9})" for i in range(12))


def honest() -> dict:
    return {v.name: answers.encode(reference_forms(v)[0])
            for q in worksheet.Q2_QUESTIONS for v in q.variables}


def make_class(folder: Path, out: Path) -> None:
    """10 costly and 10 honest notebooks, interleaved, each with its run already cached (only
    the checks are timed here)."""
    run = pipeline.prepare_run(grade_q1=False)
    cache = ExecutionCache(out / ".cache" / "executions", execution_fingerprint(run))
    blank = json.loads(BLANK.read_text())
    folder.mkdir()
    for n in range(10):
        for name, plain in ((f"costly{n}", {**honest(), **{v: answers.encode(costly(10 * n + i))
                                                           for i, v in enumerate(COSTLY_VARIABLES)}}),
                            (f"honest{n}", honest())):
            blank["metadata"]["test_student"] = name
            path = folder / f"{name}.ipynb"
            path.write_text(json.dumps(blank))
            cache.put(path, Execution("ok", plain, "", 2.0, cells_run=20))


# Runs the grade in a child, samples the summed RSS of its process tree, and prints the figures:
# the largest single process's peak (ru_maxrss, exact: folded in as each process is reaped).
WATCH = textwrap.dedent("""
    import json, os, resource, subprocess, sys, threading, time
    def tree(root):
        kids = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                parent = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            kids.setdefault(parent, []).append(int(pid))
        found, todo = [], [root]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += kids.get(pid, [])
        return found
    def rss(pid):
        try:
            return int(open(f"/proc/{pid}/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            return 0
    proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = [0]
    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], sum(rss(p) for p in tree(proc.pid)))
            time.sleep(0.02)
    watcher = threading.Thread(target=sample)
    watcher.start()
    output = proc.stdout.read().decode()
    proc.wait()
    watcher.join()
    print(json.dumps({"rc": proc.returncode, "output": output, "tree_mb": peak[0] >> 20,
                      "largest_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss >> 10}))
""")


def test_a_class_of_costly_and_honest_answers_is_graded_bounded(tmp_path):
    folder, out = tmp_path / "class", tmp_path / "out"
    make_class(folder, out)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", WATCH, sys.executable, "-m", "autograder",
                           "grade", str(folder), "--out", str(out), "--no-q1", "--jobs", "2",
                           "--overrides", "", "--answer-seconds", str(ANSWER_SECONDS)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - start
    figures = json.loads(done.stdout)
    assert figures["rc"] == 0, figures["output"] + done.stderr
    with (out / "grades.csv").open() as f:
        rows = {row["submission"]: row for row in csv.DictReader(f)}
    assert len(rows) == 20
    full = sum(q.points for q in worksheet.Q2_QUESTIONS)
    for n in range(10):
        assert float(rows[f"honest{n}"]["total"]) == full, rows[f"honest{n}"]
        checks = json.loads((out / f"costly{n}" / "results.json").read_text()
                            )["extra_data"]["checks"]
        feedback = (out / f"costly{n}" / "feedback.md").read_text().splitlines()
        for variable in COSTLY_VARIABLES:
            assert checks[variable]["stage"] == "undecided", (n, checks[variable])
            line = next(t for t in feedback if f" {variable} (" in t)
            assert f"Too costly to decide: deciding it took over {ANSWER_SECONDS:g} s" in line
        with (out / "review.csv").open() as f:
            queued = {(r["submission"], r["variable"]) for r in csv.DictReader(f)}
        assert {(f"costly{n}", v) for v in COSTLY_VARIABLES} <= queued
    # 20 costly answers at 1 s each on 2 jobs, plus starting checkers again: 21 s here.
    # Unbounded, one such answer took 6 s, abandoned threads piled up, and the answer groups
    # then expanded every costly answer again in the parent (over 10 minutes).
    assert seconds < 90, seconds
    for n in range(10):  # at most the wait for a fresh checker (0.7 s here, ms once memoised)
        seconds_each = json.loads((out / f"honest{n}" / "results.json").read_text()
                                  )["execution_time"]
        assert seconds_each < 3 * ANSWER_SECONDS, (n, seconds_each)
    assert figures["largest_mb"] < LARGEST_PROCESS_MB, figures
    assert figures["tree_mb"] < TREE_MB, figures
