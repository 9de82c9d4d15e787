"""Per-submission overhead of the Dask engine: two Dask workers against the local pool, 2 jobs.

Usage: ``python benchmarks/bench_dask.py [N] [--notebook PATH | --minimal] [--rounds R]``:
N copies (default 12) of a notebook, graded Q2-only by ``classroom.grade_class`` with the local
process pool (2 jobs) and through a real scheduler and two one-thread workers started here as
separate processes on 127.0.0.1; the rounds alternate, so both see the same machine load. The
difference per submission is what shipping a notebook, its result and the task bookkeeping cost.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.grading import classroom, pipeline  # noqa: E402
from autograder.grading.dask_engine import DaskEngine  # noqa: E402
from autograder.settings.limits import Cluster  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).with_name("dask")


def start_cluster(folder: Path, workers: int) -> tuple[Path, list[subprocess.Popen]]:
    """A scheduler and one-thread workers on loopback; the caller stops them (``stop``)."""
    scheduler_file = folder / "scheduler.json"
    log = open(folder / "cluster.log", "wb")
    common = dict(stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    procs = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                              **common)]
    for k in range(workers):
        procs.append(subprocess.Popen(
            [str(DASK), "worker", "--scheduler-file", str(scheduler_file), "--host", "127.0.0.1",
             "--nthreads", "1", "--no-dashboard", "--local-directory", str(folder / f"w{k}")],
            **common))
    return scheduler_file, procs


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def grade(subs: Path, out: Path, run: pipeline.Run, engine: DaskEngine | None) -> float:
    start = time.perf_counter()
    done = classroom.grade_class(classroom.ClassJob([subs], out, run, jobs=2, force=True,
                                                    engine=engine))
    seconds = time.perf_counter() - start
    bad = [r.submission for r in done.results if r.status != "ok"]
    if bad:
        raise SystemExit(f"benchmark notebook did not grade cleanly: {bad[:3]}")
    return seconds / len(done.results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=12)
    parser.add_argument("--notebook", type=Path, default=ROOT / "solutions" / "dis05.ipynb")
    parser.add_argument("--minimal", action="store_true", help="a notebook of the Q2 answers only")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    run = pipeline.prepare_run(grade_q1=False)
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        tmp = Path(tmp)
        notebook = args.notebook
        if args.minimal:
            from bench_grade import minimal_notebook

            notebook = minimal_notebook(tmp / "minimal.ipynb")
        subs = tmp / "class"
        subs.mkdir()
        for i in range(args.n):
            shutil.copy(notebook, subs / f"student{i:03d}.ipynb")
        scheduler_file, procs = start_cluster(tmp, workers=2)
        try:
            with DaskEngine.connect(Cluster(scheduler=str(scheduler_file),
                                            connect_seconds=120)) as engine:
                engine.client.wait_for_workers(2, timeout=120)
                local, dask = [], []
                for r in range(args.rounds):
                    local.append(grade(subs, tmp / "out-local", run, None))
                    dask.append(grade(subs, tmp / "out-dask", run, engine))
                    print(f"round {r + 1}: local pool 2 jobs {local[-1]:.2f} s/submission, "
                          f"2 Dask workers {dask[-1]:.2f} s/submission", flush=True)
        finally:
            stop(procs)
    best_local, best_dask = min(local), min(dask)
    print(f"{args.n} submissions of {notebook.name}, best of {args.rounds}: local pool "
          f"{best_local:.2f} s, Dask {best_dask:.2f} s per submission; overhead "
          f"{best_dask - best_local:+.2f} s ({best_dask / best_local:.2f}x)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
