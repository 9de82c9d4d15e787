"""What a private view of the file system costs per submission (execution/sandbox.py).

Usage: ``python benchmarks/bench_isolation.py [N] [--rounds R]`` (N runs per setting and round,
default 10; rounds alternate the settings, default 3). Three figures:

* the start-up check, once per grading process (``isolation_for``: the interpreter started in a
  private view as the sandbox user, importing what the runner imports);
* one sandboxed ``/bin/true`` with the view, with the sandbox uid alone, and as the grader's
  user: the supervisor, the namespace and its mounts, the uid's bookkeeping, nothing else (view
  minus uid is the namespace's own cost);
* a Q2-only notebook through ``execute_notebook`` with the view and without (on a machine whose
  interpreter the sandbox user cannot run, such as this one, "without" is the grader's user:
  what grading did here before).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.execution import execute, runner, sandbox  # noqa: E402
from autograder.settings.limits import Limits  # noqa: E402
from benchmarks.bench_execute import VARIABLES, write_notebook  # noqa: E402


LEVELS = {"private view": sandbox.Isolation(sandbox.Level.PRIVATE, "mount namespace"),
          "sandbox uid": sandbox.Isolation(sandbox.Level.USER, "sandbox uid"),
          "grader's user": sandbox.Isolation(sandbox.Level.NONE)}


def true_once(found: sandbox.Isolation) -> float:
    """Seconds for one sandboxed ``/bin/true`` at the isolation ``found``."""
    start = time.monotonic()
    with sandbox.Sandbox(python=sys.executable, isolation=found) as box:
        work = box.dir("work", writable=True)
        outcome = box.run(sandbox.Command(["/bin/true"], str(work), {}, timeout=30,
                                          memory_mb=1024, output_bytes=1000, file_mb=16,
                                          processes=64, writable=(str(work),)))
    assert outcome.returncode == 0, outcome
    return time.monotonic() - start


def compare(name: str, once, settings: dict, n: int, rounds: int) -> None:
    """Median seconds per run of each setting, the settings alternating by round."""
    times: dict[str, list[float]] = {label: [] for label in settings}
    for _ in range(rounds):
        for label, setting in settings.items():
            times[label] += [once(setting) for _ in range(n)]
    medians = {label: statistics.median(t) for label, t in times.items()}
    print(f"{name} (median of {n * rounds}): " +
          ", ".join(f"{label} {m:.3f} s" for label, m in medians.items()))


def notebook_once(path: Path, private: bool) -> float:
    start = time.monotonic()
    ex = execute.execute_notebook(path, variables=VARIABLES,
                                  limits=Limits(timeout=60, private_view=private))
    assert ex.status == "ok" and len(ex.answers) == len(VARIABLES), (ex.status, ex.log)
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    start = time.monotonic()
    found = sandbox.isolation_for(sys.executable, runner.IMPORTS)
    print(f"start-up check: {time.monotonic() - start:.2f} s, once per process -> "
          f"{found.level.value} ({found.how or found.why})")
    if not found.private:
        print("no private view here: nothing to compare")
        return
    tmp = Path(tempfile.mkdtemp())
    try:
        path = write_notebook(tmp / "sub.ipynb")
        notebook_once(path, True), notebook_once(path, False)  # warm the file cache
        if os.geteuid() == 0:
            compare("/bin/true", true_once, LEVELS, args.n, args.rounds)
        compare("Q2-only notebook", lambda p: notebook_once(path, p),
                {"private view": True, "without": False}, args.n, args.rounds)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
