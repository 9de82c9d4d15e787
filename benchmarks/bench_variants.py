"""Per-student variants' cost on `make grade Q1=0` (issue 20).

`python benchmarks/bench_variants.py N --check-phase` measures the check phase alone (no
notebook runs), in fresh processes: where variants add work.

`python benchmarks/bench_variants.py [N] [--jobs J] [--rounds R]`: two generated classes of N
students as Gradescope exports, graded by `python -m autograder grade --no-q1` in a fresh
process each time: today's (everyone answers the worksheet's numbers, graded without variants)
and the variant class (everyone answers their own numbers, graded with --variants). Each class
is graded once in full (sandboxed execution, checks, every output file), then R times again with
--force from its execution cache (the check phase, where variants add work). Prints wall and CPU
(user + system of the grading processes) for each, and the overhead.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.settings.variants import Variants  # noqa: E402
from autograder.worksheet.variants import DEFAULT, variant_of  # noqa: E402
from tests import variant_fixtures  # noqa: E402


def make_export(folder: Path, n: int, own: bool) -> Path:
    emails = [f"student{i:03d}@berkeley.edu" for i in range(n)]
    salt = Variants().salt
    return variant_fixtures.export(folder, [
        ([e], variant_fixtures.right_answers(variant_of(e, salt) if own else DEFAULT), e)
        for e in emails])


def grade(export: Path, out: Path, jobs: int, *flags: str) -> tuple[float, float]:
    """(wall, CPU) of one grading process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(export), "--out", str(out),
                    "--no-q1", "--jobs", str(jobs), "--overrides", "", *flags], check=True,
                   cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def check_phase(n: int, on: bool, copiers: int) -> None:
    """(In a fresh process) the check phase of a whole class, as `make grade` runs it for each
    submission after its notebook ran: identity, the variant's checks, copy detection against
    every classmate. Prints the CPU seconds it took."""
    from dataclasses import replace

    from autograder import answers
    from autograder.grading import identity, pipeline

    start = time.process_time()
    salt = Variants().salt
    emails = [f"student{i:03d}@berkeley.edu" for i in range(n)]
    run = pipeline.prepare_run(grade_q1=False)
    whose = {e: variant_of(e, salt) if on else DEFAULT for e in emails}
    if on:
        found = {e: identity.resolve([e], e, salt=salt, source="export") for e in emails}
        run = replace(run, variants=Variants(enabled=True), identities=found,
                      classmates=tuple((who.variant, e) for e, who in found.items()))
    for i, email in enumerate(emails):
        source = emails[(i + 1) % n] if i < copiers else email  # a copier answers a classmate's
        plain = {k: answers.encode(v) for k, v in
                 variant_fixtures.right_answers(whose[source]).items()}
        pipeline.check_answers(plain, run, {}, who=run.identity(email, None), name=email)
    print(f"{time.process_time() - start:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--check-phase", action="store_true",
                        help="measure the check phase alone, in fresh processes (no notebooks "
                        "run): off, on, and on with 10 %% copiers")
    parser.add_argument("--phase", nargs=2, help=argparse.SUPPRESS)  # (on|off, copiers)
    args = parser.parse_args(argv)
    if args.phase:
        check_phase(args.n, args.phase[0] == "on", int(args.phase[1]))
        return 0
    if args.check_phase:
        for label, on, copiers in (("without variants", "off", 0), ("with variants", "on", 0),
                                   ("with variants, 10 % copiers", "on", args.n // 10)):
            times = [float(subprocess.run(
                [sys.executable, __file__, str(args.n), "--phase", on, str(copiers)],
                check=True, capture_output=True, text=True).stdout.split()[-1])
                for _ in range(args.rounds)]
            print(f"{label:30s} check phase of {args.n} students: CPU {min(times):.2f} s "
                  f"(best of {args.rounds}: {', '.join(f'{t:.2f}' for t in times)})", flush=True)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-variants-") as tmp:
        classes = {"without variants": (make_export(Path(tmp) / "today", args.n, False), ()),
                   "with variants": (make_export(Path(tmp) / "own", args.n, True),
                                     ("--variants",))}
        rows = {}
        for name, (export, flags) in classes.items():
            out = Path(tmp) / f"out-{len(rows)}"
            full = grade(export, out, args.jobs, *flags)
            checks = [grade(export, out, args.jobs, "--force", *flags) for _ in range(args.rounds)]
            rows[name] = (full, min(checks, key=lambda wc: wc[1]))
            print(f"{name:17s} full: {full[0]:6.1f} s wall {full[1]:6.1f} s CPU;  checks only "
                  f"(best of {args.rounds}): {rows[name][1][0]:6.1f} s wall "
                  f"{rows[name][1][1]:6.1f} s CPU", flush=True)
        for i, part in ((0, "full"), (1, "checks only")):
            base, var = rows["without variants"][i], rows["with variants"][i]
            print(f"overhead, {part}: wall {100 * (var[0] / base[0] - 1):+.1f} %, "
                  f"CPU {100 * (var[1] / base[1] - 1):+.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
