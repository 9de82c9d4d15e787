"""What checking costs per submission, honest and costly, in the checker process and without it.

Usage: ``python benchmarks/bench_checking.py [N] [--costly M]`` (default 40 honest, 4 costly).

Honest submissions are drawn as ``bench_regrade.class_answers`` draws them (reference forms,
catalogue mistakes, unrecognised and missing answers); each is checked with an empty memo, so
every answer is really checked. A costly submission is an honest one whose q2a_first and
q2a_last are products of twelve sums (within the structural limits, seconds of SymPy each).
Each line: seconds per submission (mean and max) and the peak resident memory of the grading
process and of its checker processes (sampled every 10 ms from ``/proc``), with
``Checking.isolated`` on (the default) and off.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import answers, worksheet  # noqa: E402
from autograder.checks import bounded  # noqa: E402
from autograder.grading import pipeline  # noqa: E402
from autograder.settings.limits import Checking, Limits  # noqa: E402
from benchmarks.bench_regrade import class_answers  # noqa: E402


def costly(seed: int) -> str:
    return "*".join(f"(k1+{i + seed}*x{1 + i % 9})" for i in range(12))


def hwm_mb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((t for t in status.splitlines() if t.startswith("VmHWM")), "VmHWM: 0 kB")
    return int(line.split()[1]) >> 10


class Sampler:
    """The largest VmHWM seen of this process's checker children, sampled while it runs."""

    def __init__(self, settings: Checking):
        self.key, self.peak, self.done = (settings, threading.get_ident()), 0, False
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.done:
            checker = bounded._CHECKERS.get(self.key)
            process = checker.process if checker is not None else None
            if process is not None:
                self.peak = max(self.peak, hwm_mb(process.pid))
            time.sleep(0.01)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done = True
        self.thread.join()


def measure(label: str, plains: list[dict], settings: Checking) -> None:
    run = pipeline.Run(Limits(), worksheet.Q2_QUESTIONS, checking=settings)
    seconds = []
    with Sampler(settings) as sampler:
        for plain in plains:
            pipeline._MEMO.clear()
            start = time.perf_counter()
            pipeline.check_answers(plain, run, {})
            seconds.append(time.perf_counter() - start)
    print(f"{label:38s} {len(plains):3d} submissions: {sum(seconds) / len(seconds):6.2f} s mean, "
          f"{max(seconds):6.2f} s max; grading process peak {hwm_mb(os.getpid())} MB, "
          f"checker peak {sampler.peak} MB", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=40)
    parser.add_argument("--costly", type=int, default=4)
    args = parser.parse_args(argv)
    honest = list(class_answers(args.n).values())
    hostile = [{**honest[i % len(honest)],
                "q2a_first": answers.encode(costly(2 * i)),
                "q2a_last": answers.encode(costly(2 * i + 1))} for i in range(args.costly)]
    isolated = Checking()
    bounded.checker_for(isolated)._ensure()  # its start (about 0.7 s) is not a submission's
    measure("honest, checker process", honest, isolated)
    measure("costly, checker process", hostile, isolated)
    measure("honest after costly, checker process", honest[:10], isolated)
    bounded.close_all()
    inline = Checking(isolated=False)
    measure("honest, in the grading process", honest, inline)
    measure("costly, in the grading process", hostile, inline)
    measure("honest after costly, in the grading proc.", honest[:10], inline)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
