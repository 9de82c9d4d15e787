"""What a private view of the file system costs per submission (execution/sandbox.py).

Usage: ``python benchmarks/bench_isolation.py [N] [--rounds R]`` (N runs per setting and round,
default 10; rounds alternate the settings, default 3). Three figures:

* the start-up check, once per grading process (``isolation_for``: the interpreter started in a
  private view as the sandbox user, importing what the runner imports);
* one sandboxed ``/bin/true`` with and without the view: the supervisor, the namespace and its
  mounts, nothing else (the namespace's own cost);
* a Q2-only notebook through ``execute_notebook`` with and without the view (what a TA waits).
"""

from __future__ import annotations

import argparse
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


def true_once(private: bool) -> float:
    """Seconds for one sandboxed ``/bin/true``."""
    found = sandbox.isolation_for(sys.executable, runner.IMPORTS, private_view=private)
    start = time.monotonic()
    with sandbox.Sandbox(python=sys.executable, isolation=found) as box:
        work = box.dir("work", writable=True)
        outcome = box.run(sandbox.Command(["/bin/true"], str(work), {}, timeout=30,
                                          memory_mb=1024, output_bytes=1000, file_mb=16,
                                          processes=64, writable=(str(work),)))
    assert outcome.returncode == 0, outcome
    return time.monotonic() - start


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
        for name, once in (("/bin/true", lambda p: true_once(p)),
                           ("Q2-only notebook", lambda p: notebook_once(path, p))):
            times: dict[bool, list[float]] = {True: [], False: []}
            for _ in range(args.rounds):
                for private in (True, False):
                    times[private] += [once(private) for _ in range(args.n)]
            view, bare = (statistics.median(times[p]) for p in (True, False))
            print(f"{name}: private view {view:.3f} s, without {bare:.3f} s per run "
                  f"(median of {len(times[True])}); the view costs {view - bare:+.3f} s")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
