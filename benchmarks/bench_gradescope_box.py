"""Gradescope's default machine, simulated (cgroup v1: 768 MB, half a CPU; root): the built zip's
run_autograder on the reference and on copies ending with trouble, with Gradescope's real budget
(600 s machine, default notebook and cell limits). Prints seconds, status, score and the box's
memory peak per case. Usage: python benchmarks/bench_gradescope_box.py [case ...]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.student import package  # noqa: E402
from tests.conftest import REFERENCE, ROOT  # noqa: E402
from tests.execution.test_gradescope_box import (
    TROUBLE,  # noqa: E402
    cgroup_v1_problem,
    run_in_box,
    with_last_cell,
)


def main(names: list[str]) -> int:
    why = cgroup_v1_problem()
    if why:
        print(f"cannot simulate Gradescope's machine here: {why}")
        return 1
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        zip_path = package.assign(master=ROOT / "solutions" / "master" / "dis05.ipynb",
                                  root=ROOT, dest=tmp / "assign")["zip"]
        cases = [("reference", None)] + [(t.name, t.cell) for t in TROUBLE]
        for name, cell in cases:
            if names and name not in names:
                continue
            work = tmp / name.replace(" ", "-")
            work.mkdir()
            notebook = REFERENCE if cell is None else with_last_cell(work, cell)
            got = run_in_box(zip_path, notebook, work / "autograder", {})
            results = got["results"]
            print(f"{name:28s} {got['seconds']:6.1f} s  status {results['extra_data']['status']:8s}"
                  f" score {results['score']:g}  box peak {got['peak_mb']:.0f} MB"
                  f"  load {os.getloadavg()[0]:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
