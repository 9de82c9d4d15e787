"""Seconds per Q2-only submission through ``execute_notebook``, with 1 and 2 parallel workers.

Usage: ``python benchmarks/bench_execute.py [N] [--python PATH]`` (N copies, default 8).
The notebook imports sympy and numpy and defines the ~20 Q2 answers (matrices included).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.execution.execute import execute_notebook  # noqa: E402
from autograder.settings.limits import Limits  # noqa: E402

CELLS = [
    "import numpy as np\nimport sympy as sp\n"
    "k1, k2, k3 = sp.symbols('k1 k2 k3')\nx1, x2, x3, x4, x5, x6, x7, x8, x9 = "
    "sp.symbols('x1:10')\nW, K, p, s = sp.symbols('W K p s', integer=True, positive=True)",
    "q2a_out_dim = 7\nq2a_first = k1*x1 + k2*x2 + k3*x3\nq2a_last = k1*x7 + k2*x8 + k3*x9",
    "q2b_out_dim = 9\nq2b_first = k2*x1 + k3*x2\nq2b_last = k1*x8 + k2*x9",
    "q2c_K = sp.Matrix(7, 9, lambda i, j: [k1, k2, k3][j - i] if 0 <= j - i < 3 else 0)",
    "q2d_K = sp.Matrix(9, 9, lambda i, j: [k1, k2, k3][j - i + 1] if 0 <= j - i + 1 < 3 else 0)",
    "q2e_K = sp.Matrix(7, 9, lambda i, j: sp.Symbol(f'a{i}_{j}') if 0 <= j - i < 3 else 0)\n"
    "q2e_params = 21\nq2e_params_same = 25",
    "q2f_out_dim = W - K + 1\nq2f_out_dim_general = sp.floor((W + 2*p - K)/s) + 1",
    "q2g_out_shape = (q2f_out_dim, q2f_out_dim)\n"
    "q2g_out_shape_general = (q2f_out_dim_general, q2f_out_dim_general)",
    "q2h_input_shape = (3, 256, 256)\nq2h_kernel_shape = (32, 3, 5, 5)",
    "q2i_output_shape = (32, 126, 126)\nq2i_conv_params = 2400\nq2i_fc_params = 196608 * 508032",
]
VARIABLES = [line.split(" = ")[0] for cell in CELLS[1:] for line in cell.splitlines()
             if " = " in line and not line.startswith(" ")]


def write_notebook(path: Path) -> Path:
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": c} for c in CELLS]}))
    return path


def grade_one(args: tuple[Path, str]) -> float:
    path, python = args
    ex = execute_notebook(path, variables=VARIABLES, limits=Limits(timeout=60, python=python))
    assert ex.status == "ok" and len(ex.answers) == len(VARIABLES), (ex.status, ex.log)
    return ex.seconds


def bench(paths: list[Path], python: str, workers: int) -> tuple[float, float]:
    """(wall seconds per submission, mean seconds of one execution)."""
    start = time.monotonic()
    with ProcessPoolExecutor(workers) as pool:
        each = list(pool.map(grade_one, [(p, python) for p in paths]))
    return (time.monotonic() - start) / len(paths), sum(each) / len(each)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=8)
    parser.add_argument("--python", default="", help="interpreter for the submissions")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    try:
        paths = [write_notebook(tmp / f"sub{i}.ipynb") for i in range(args.n)]
        grade_one((paths[0], args.python))  # warm the file cache
        print(f"{args.n} Q2-only submissions, {len(VARIABLES)} answers each")
        for workers in (1, 2):
            wall, one = bench(paths, args.python, workers)
            print(f"  {workers} worker(s): {wall:.2f} s per submission (wall), "
                  f"{one:.2f} s per execution")
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
