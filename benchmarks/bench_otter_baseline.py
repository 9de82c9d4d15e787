"""The "before" number: seconds per Q2-only submission with otter-grader's own `otter run`.

`otter run` grades in the student's kernel, with no isolation or limits (shared/notes/otter.md).
Compare with `bench_grade.py --minimal` (our sandboxed pipeline on the same notebook).
Usage: ``python benchmarks/bench_otter_baseline.py [N]`` (default 4 copies, one at a time).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_grade import minimal_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    otter = str(Path(sys.executable).with_name("otter"))
    with tempfile.TemporaryDirectory(prefix="bench-otter-") as tmp:
        tmp = Path(tmp)
        subprocess.run([otter, "assign", str(ROOT / "solutions/master/dis05.ipynb"), str(tmp / "dist")],
                       check=True, capture_output=True)
        zip_path = next((tmp / "dist" / "autograder").glob("*.zip"))
        notebook = minimal_notebook(tmp / "dis05.ipynb")
        nb = json.loads(notebook.read_text())  # otter refuses a notebook not named for the assignment
        nb["metadata"]["otter"] = {"assignment_name": "dis05"}
        notebook.write_text(json.dumps(nb))
        start = time.monotonic()
        for i in range(n):
            (tmp / f"out{i}").mkdir()
            subprocess.run([otter, "run", "-a", str(zip_path), "-o", str(tmp / f"out{i}"), str(notebook)],
                           check=True, capture_output=True)
        per = (time.monotonic() - start) / n
    print(f"otter run (no isolation), Q2-only notebook, {n} runs: {per:.2f} s per submission")
    return 0


if __name__ == "__main__":
    sys.exit(main())
