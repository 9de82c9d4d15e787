"""The student's own run: the notebook's q1b training cell outside grading, on real CIFAR-10.

    .venv/bin/python benchmarks/bench_notebook_training.py --data-dir DIR [--threads N]

DIR is a data cache holding CIFAR-10 (``fetch-cifar``, or ``fetch-cifar --from`` an image copy
such as ``../shared/data/cifar10-jpeg.tar.gz``). The reference notebook (``solutions/``) runs
top to bottom in a fresh kernel as a student would run it (``DIS05_GRADING`` unset), with
``DIS05_DATA_DIR=DIR`` so ``load_cifar10()`` finds the copy; printed: what the training cell
printed (each model's test accuracy and seconds), the cell's wall time, and the machine.
(``grader.check`` cells fail outside the assignment folder: errors are allowed.)
``--threads`` caps torch's threads (``OMP_NUM_THREADS``) to imitate a smaller laptop.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "dis05.ipynb"
MARKER = "accuracy = train_and_test("
"""text of the training cell (the cell that calls ``train_and_test`` on both models)"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="cache holding CIFAR-10")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: its default)")
    args = parser.parse_args(argv)
    os.environ.pop("DIS05_GRADING", None)
    os.environ["DIS05_DATA_DIR"] = str(Path(args.data_dir).resolve())
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and MARKER in c.source)
    client = NotebookClient(nb, timeout=1800, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(ROOT)}})
    seconds = {}
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            start = time.perf_counter()
            client.execute_cell(cell, i)
            seconds[i] = time.perf_counter() - start
    out = "".join(o.get("text", "") for o in nb.cells[index].outputs if o.get("name") == "stdout")
    print(f"machine: {os.cpu_count()} CPUs, torch threads "
          f"{args.threads or 'default'}, load average {os.getloadavg()}")
    print(f"training cell ({seconds[index]:.0f} s wall):\n{out.rstrip()}")
    print(f"whole notebook: {sum(seconds.values()):.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
