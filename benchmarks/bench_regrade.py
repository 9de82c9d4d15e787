"""Seconds to regrade a class after a catalogue edit, when every notebook ran before (cached).

Usage: ``python benchmarks/bench_regrade.py [N] [--jobs J]`` (default 200 students, 2 jobs).

A class of N distinct notebook files is made, and what running each produced is put in the
execution cache as a real run would leave it (``OUT/.cache/executions``), with answers drawn per
student (seeded) from: the reference in another written form, the catalogue's mistakes,
other wrong answers (another variable's right answer, mostly unrecognised) and missing ones, so
the class has the spread of forms a real one has. Right and known wrong answers are written by
each kind (``Kind.example``, ``Kind.wrong``).
Q1 is off (its probe outputs cannot be made up; their checks read a few small arrays).

Then, with ``python -m autograder grade`` in a fresh process each time, on a copy of the package:
1. the first grading of the class (checks only: every execution is cached);
2. a rerun with nothing changed (it must take the first run's kept outcome,
   ``grading/snapshot.py``: ``rerun_problems``);
3. the regrade after a catalogue edit (one new entry in ``mistakes.py``, ``NEW_ENTRY``): the
   figure the issue targets (2,000 submissions in at most 10 s on 2 cores). It includes starting
   Python, checking every submission, the regrade diff, answer groups, every output file and
   report.html.
The benchmark proves its premise and stops with an error otherwise (``premise_problems``): the
edit applied, every submission's resume key changed (the grade fingerprint changed), every
submission was graded again, and exactly the students who answered ``NEW_ANSWER`` changed score,
on q2a, because of the new entry.
Each line gives the wall time and the CPU time of the grading processes (user + system, all
processes): on a shared machine the CPU time is the steadier figure. With ``--memory`` each run
is also sampled for the summed PSS of all its processes (``memory.py``), in a separate pass
after the timed ones, so the sampling does not slow the timed runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import answers, worksheet  # noqa: E402
from autograder.execution.cache import ExecutionCache, execution_fingerprint  # noqa: E402
from autograder.execution.execute import Execution  # noqa: E402
from autograder.checks.kinds import kind_of  # noqa: E402
from autograder.grading import pipeline  # noqa: E402
from autograder.report import record_keys as stored_keys  # noqa: E402
from autograder.grading import snapshot  # noqa: E402
from autograder.worksheet import mistakes  # noqa: E402
from benchmarks import memory  # noqa: E402

NEW_VARIABLE = "q2a_out_dim"
NEW_ANSWER = 105  # one of the unrecognised answers ``unrecognised`` draws for NEW_VARIABLE
NEW_ENTRY = (f'        Mistake("{NEW_VARIABLE}", {NEW_ANSWER}, "bench-new-entry", '
             f'"Added by bench_regrade.py.", 0.25),\n')
NEW_QUESTION = next(q.id for q in worksheet.QUESTIONS
                    if NEW_VARIABLE in {v.name for v in q.variables})
EDIT_AFTER = "        # Q2a, Q2b: output sizes and elements\n"
"""the line of ``mistakes.py`` the new entry goes after (the first of the catalogue's tuple)"""


def reference_forms(variable: worksheet.Variable) -> list:
    """The reference answer as different students would write it: the kind's own right answer
    (``Kind.example``) and the same rewritten, by the value's shape whatever its kind."""
    right = kind_of(variable).example(variable)
    return [right, rewritten(right)]


def rewritten(value):
    """The same answer written another way: a tuple as a list, a number as text, a sum's terms in
    the other order (bracketed where a ``+`` is inside brackets), each nonzero matrix entry times
    one."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        terms = value.split(" + ")
        whole = all(t.count("(") == t.count(")") for t in terms)  # not inside brackets
        return " + ".join(reversed(terms)) if whole else f"({value})"
    if isinstance(value, list) and all(isinstance(row, list) for row in value):
        return [[e if e == "0" else f"1*{e}" for e in row] for row in value]
    return value


def known_wrong(variable: worksheet.Variable) -> list:
    """The catalogue's mistakes for the variable, as the kind writes each (``Kind.wrong``)."""
    kind = kind_of(variable)
    return [kind.wrong(variable, m) for m in mistakes.for_variable(variable.name)]


def unrecognised(variable: worksheet.Variable, rng: random.Random):
    """A wrong answer: for ``NEW_VARIABLE`` a number from 100 to 110 (``NEW_ANSWER`` among them,
    which the catalogue does not know until the edit); for another variable the right answer of
    another Q2 variable of its kind (of any kind where it is the only one of its kind)."""
    if variable.name == NEW_VARIABLE:
        return rng.randint(100, 110)
    others = [v for q in worksheet.Q2_QUESTIONS for v in q.variables if v.name != variable.name]
    alike = [v for v in others if kind_of(v) is kind_of(variable)] or others
    other = rng.choice(alike)
    return kind_of(other).example(other)


def class_answers(n: int, seed: int = 0) -> dict[str, dict]:
    rng = random.Random(seed)
    everyone = {}
    for i in range(n):
        plain = {}
        for q in worksheet.Q2_QUESTIONS:
            for v in q.variables:
                roll = rng.random()
                known = known_wrong(v)
                if roll < 0.05:
                    continue  # not answered
                if roll < 0.65 or not known:
                    value = rng.choice(reference_forms(v))
                elif roll < 0.90:
                    value = rng.choice(known)
                else:
                    value = unrecognised(v, rng)
                plain[v.name] = answers.encode(value)
        everyone[f"student{i:03d}"] = plain
    return everyone


def make_class(folder: Path, out: Path, package_root: Path, n: int) -> None:
    """N notebooks with distinct bytes, each with its execution already cached (the copy at
    ``package_root`` has the same sources, so the same execution fingerprint)."""
    run = pipeline.prepare_run(grade_q1=False)
    cache = ExecutionCache(out / ".cache" / "executions", execution_fingerprint(run))
    blank = json.loads((ROOT / "assignment" / "dis05.ipynb").read_text())
    folder.mkdir(parents=True)
    for name, plain in class_answers(n).items():
        blank["metadata"]["bench_student"] = name
        path = folder / f"{name}.ipynb"
        path.write_text(json.dumps(blank))
        cache.put(path, Execution("ok", plain, "", 2.0, cells_run=20))


def grade(package_root: Path, folder: Path, out: Path, jobs: int) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the grading processes, stdout) of one ``make grade``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(_command(folder, out, jobs), cwd=package_root,
                          env=_env(package_root), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    return seconds, cpu, done.stdout


def peak_mb(package_root: Path, folder: Path, out: Path, jobs: int) -> tuple[float, str]:
    """(the largest summed PSS of the grading processes in MB, stdout) of one ``make grade``."""
    done, peak = memory.run_sampled(_command(folder, out, jobs), cwd=package_root,
                                    env=_env(package_root))
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)
    return peak, done.stdout


def _command(folder: Path, out: Path, jobs: int) -> list[str]:
    return [sys.executable, "-m", "autograder", "grade", str(folder), "--out", str(out),
            "--no-q1", "--jobs", str(jobs), "--overrides", ""]


def _env(package_root: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(package_root)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--memory", action="store_true",
                        help="then measure each run's memory (summed PSS), in a second pass")
    args = parser.parse_args(argv)
    passes = [time_runs] + ([memory_runs] if args.memory else [])
    for measure in passes:
        with tempfile.TemporaryDirectory(prefix="bench-regrade-") as tmp:
            tmp = Path(tmp)
            package_root = tmp / "src"
            shutil.copytree(ROOT / "autograder", package_root / "autograder",
                            ignore=shutil.ignore_patterns("__pycache__", "dist"))
            folder, out = tmp / "class", tmp / "out"
            make_class(folder, out, package_root, args.n)
            measure(package_root, folder, out, args)
    return 0


def memory_runs(package_root: Path, folder: Path, out: Path, args) -> None:
    """The same three runs, each sampled for the memory of all its processes."""
    print(f"{'memory (summed PSS, sampled)':40s} {'peak':>8s}")
    for label in ("first grading (cached executions)", "rerun, nothing changed"):
        peak, stdout = peak_mb(package_root, folder, out, args.jobs)
        print(f"{label:40s} {peak:6.0f} MB   {_summary(stdout)}")
    edit_catalogue(package_root)
    peak, stdout = peak_mb(package_root, folder, out, args.jobs)
    print(f"{'regrade after a catalogue edit':40s} {peak:6.0f} MB   {_summary(stdout)}")


def time_runs(package_root: Path, folder: Path, out: Path, args) -> None:
    """The three runs, timed, each premise checked."""
    print(f"{os.getloadavg()[0]:.2f} load average (1 min) at the start; {args.n} students, "
          f"{args.jobs} jobs")
    print(f"{'':40s} {'wall':>8s} {'CPU':>8s}")
    seconds, cpu, stdout = grade(package_root, folder, out, args.jobs)
    print(f"{'first grading (cached executions)':40s} {seconds:6.2f} s {cpu:6.2f} s   "
          f"{_summary(stdout)}")
    kept = kept_stamp(out)
    seconds, cpu, stdout = grade(package_root, folder, out, args.jobs)
    print(f"{'rerun, nothing changed':40s} {seconds:6.2f} s {cpu:6.2f} s   "
          f"{_summary(stdout)}")
    if problems := rerun_problems(kept, out, stdout, args.n):
        raise SystemExit("the rerun's premise does not hold, so its figure measured "
                         "something else:\n  " + "\n  ".join(problems))
    print("  premise held: nothing graded, the first run's kept outcome taken")
    edit_catalogue(package_root)
    keys = record_keys(out)
    seconds, cpu, stdout = grade(package_root, folder, out, args.jobs)
    print(f"{'regrade after a catalogue edit':40s} {seconds:6.2f} s {cpu:6.2f} s   "
          f"{_summary(stdout)}")
    diff = next((line for line in stdout.splitlines() if line.startswith("regrade diff")), "")
    print(f"  {diff}")
    if problems := premise_problems(keys, out, stdout, class_answers(args.n)):
        raise SystemExit("the benchmark's premise does not hold, so its figure measured "
                         "something else:\n  " + "\n  ".join(problems))
    print("  premise held: every key changed, every submission re-checked, exactly the "
          f"{len(holders(class_answers(args.n)))} holders of the new mistake changed")
    print(f"{os.getloadavg()[0]:.2f} load average (1 min) at the end")


def kept_stamp(out: Path) -> tuple[int, int] | None:
    """(inode, modification time) of the kept outcome's manifest; None when there is none."""
    try:
        info = (out / snapshot.FOLDER / snapshot.MANIFEST).stat()
    except FileNotFoundError:
        return None
    return info.st_ino, info.st_mtime_ns


def rerun_problems(before: tuple[int, int] | None, out: Path, stdout: str, n: int) -> list[str]:
    """Why the rerun did not measure a rerun with nothing changed that takes the kept outcome
    (empty when it did): a kept outcome was there, it is still the one taken (a full rerun
    would have written a new one), and nothing was graded."""
    problems = []
    if before is None:
        problems.append("the first run kept no outcome (OUT/.cache/class-run/manifest.pickle)")
    elif kept_stamp(out) != before:
        problems.append("the rerun wrote a new kept outcome: it was a full rerun")
    if not re.search(rf"^{n} submissions \(0 graded, .* {n} unchanged\)", stdout, re.M):
        problems.append(f"not all {n} submissions were unchanged: {_summary(stdout)!r}")
    return problems


def edit_catalogue(package_root: Path) -> None:
    """Add ``NEW_ENTRY`` to the copy's catalogue; SystemExit when the edit cannot apply."""
    catalogue = package_root / "autograder" / "worksheet" / "mistakes.py"
    text = catalogue.read_text()
    if text.count(EDIT_AFTER) != 1:
        raise SystemExit(f"{catalogue}: the line the new entry goes after ({EDIT_AFTER.strip()!r})"
                         f" is not there once: update bench_regrade.EDIT_AFTER")
    catalogue.write_text(text.replace(EDIT_AFTER, EDIT_AFTER + NEW_ENTRY))


def record_keys(out: Path) -> dict[str, str]:
    """Each submission's resume key as the grader reads it (``checks.json``, or the newer key a
    regrade confirmed it under, ``report/record_keys.py``), by folder name."""
    return stored_keys.current(out)


def holders(everyone: dict[str, dict]) -> set[str]:
    """The students whose answer to ``NEW_VARIABLE`` is the new entry's."""
    return {name for name, plain in everyone.items()
            if answers.decode(plain.get(NEW_VARIABLE)) == NEW_ANSWER}


def premise_problems(before: dict[str, str], out: Path, stdout: str,
                     everyone: dict[str, dict]) -> list[str]:
    """Why the regrade did not measure a catalogue edit (empty when it did)."""
    problems = []
    after = record_keys(out)
    if not before or set(before) != set(after):
        problems.append(f"{len(before)} records before the edit, {len(after)} after")
    same = [name for name in before if after.get(name) == before[name]]
    if same:
        problems.append(f"{len(same)} resume keys did not change (the grade fingerprint is the "
                        f"same): {same[:3]}")
    graded = re.search(r"\((\d+) graded", stdout)
    if not graded or int(graded.group(1)) != len(everyone):
        problems.append(f"{graded.group(1) if graded else 'no'} submissions graded again, "
                        f"not {len(everyone)}")
    with (out / "changes.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    changed = {r["submission"] for r in rows}
    wanted = holders(everyone)
    if not wanted:
        problems.append(f"no student answered {NEW_ANSWER}: the edit changes nobody")
    if changed != wanted:
        problems.append(f"{len(changed)} submissions changed score, expected the "
                        f"{len(wanted)} holders of the new mistake")
    if any(r["question"] != NEW_QUESTION or "bench-new-entry" not in r["why"] for r in rows):
        problems.append(f"a change is not {NEW_QUESTION}'s new entry: "
                        + next(str(r) for r in rows if r["question"] != NEW_QUESTION
                               or "bench-new-entry" not in r["why"]))
    return problems


def _summary(stdout: str) -> str:
    line = next((ln for ln in stdout.splitlines() if " submissions (" in ln), "")
    return line.strip()


if __name__ == "__main__":
    sys.exit(main())
