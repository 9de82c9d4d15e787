"""Gradescope's default machine, simulated: the built zip's run_autograder in a cgroup of 768 MB
and half a CPU, for the reference and for copies of it that end with trouble.

Needs root and writable cgroup v1 memory and cpu controllers (true on this project's machines;
skipped elsewhere, with the reason). The budgets are shrunk (``DIS05_MACHINE_SECONDS``,
``DIS05_TIMEOUT``, ``DIS05_CELL_TIMEOUT``) so that the file takes a few minutes; the run must
still finish inside them whatever the notebook does, and keep every answer's marks.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import pytest

from autograder.student import package
from tests.conftest import REFERENCE, ROOT

pytestmark = pytest.mark.slow
CGROUP = Path("/sys/fs/cgroup")
MEMORY_BYTES = 768 << 20
CPU_QUOTA_US, CPU_PERIOD_US = 50_000, 100_000  # half a CPU
MACHINE_SECONDS = 400  # the whole run's limit in this simulation (Gradescope's is 600)
# A cell limit well above what importing torch takes at half a CPU on a loaded machine (a cell
# stopped at its limit is lost, and the reference's first cell imports torch).
BUDGET_ENV = {"DIS05_MACHINE_SECONDS": str(MACHINE_SECONDS), "DIS05_TIMEOUT": "150",
              "DIS05_CELL_TIMEOUT": "60"}


def cgroup_v1_problem() -> str:
    """Why the simulation cannot run here ("" if it can)."""
    if os.geteuid() != 0:
        return "needs root to create cgroups"
    for controller, knob in (("memory", "memory.limit_in_bytes"), ("cpu", "cpu.cfs_quota_us")):
        if not (CGROUP / controller / knob).exists():
            return f"no cgroup v1 {controller} controller at {CGROUP / controller}"
        if not os.access(CGROUP / controller, os.W_OK):
            return f"cgroup v1 {controller} controller is not writable"
    return ""


class Box:
    """A memory and a cpu cgroup (v1) limited like Gradescope's default machine."""

    def __init__(self) -> None:
        name = f"dis05-box-{secrets.token_hex(4)}"
        self.memory, self.cpu = CGROUP / "memory" / name, CGROUP / "cpu" / name
        self.memory.mkdir()
        self.cpu.mkdir()
        (self.memory / "memory.limit_in_bytes").write_text(str(MEMORY_BYTES))
        swap = self.memory / "memory.memsw.limit_in_bytes"
        if swap.exists():
            swap.write_text(str(MEMORY_BYTES))
        (self.cpu / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
        (self.cpu / "cpu.cfs_quota_us").write_text(str(CPU_QUOTA_US))

    def command(self, script: Path) -> list[str]:
        """``bash script`` run inside both cgroups: the shell moves itself in, then becomes the
        script, so everything it starts is inside (no ``preexec_fn``: boxes start in threads)."""
        return ["bash", "-c", f'echo $$ > "{self.memory}/cgroup.procs" && '
                f'echo $$ > "{self.cpu}/cgroup.procs" && exec bash "$0"', str(script)]

    def peak_mb(self) -> float:
        """The cgroup's peak usage, page cache included (file pages it may reclaim)."""
        return int((self.memory / "memory.max_usage_in_bytes").read_text()) / (1 << 20)

    def resident_mb(self) -> float:
        """Memory the processes hold now that the kernel cannot reclaim by dropping file pages:
        anonymous memory (``total_rss``) and shared memory."""
        stat = dict(line.split() for line in (self.memory / "memory.stat").read_text()
                    .splitlines())
        return (int(stat.get("total_rss", 0)) + int(stat.get("total_shmem", 0))) / (1 << 20)

    def oom_kills(self) -> int:
        """Processes the kernel killed for the cgroup's memory limit (0 where not reported)."""
        for line in (self.memory / "memory.oom_control").read_text().splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0

    def remove(self) -> None:
        for group in (self.memory, self.cpu):
            for _ in range(50):
                try:
                    group.rmdir()
                    break
                except OSError:  # processes still leaving
                    time.sleep(0.1)


@pytest.fixture(scope="module")
def zip_path(tmp_path_factory) -> Path:
    why = cgroup_v1_problem()
    if why:
        pytest.skip(f"Gradescope simulation skipped: {why}")
    dest = tmp_path_factory.mktemp("assign")
    return package.assign(master=ROOT / "solutions" / "master" / "dis05.ipynb", root=ROOT,
                          dest=dest)["zip"]


def run_in_box(zip_path: Path, notebook: Path, root: Path, env: dict[str, str]) -> dict:
    """Unpack the zip into an /autograder layout under ``root`` and run it in a fresh box."""
    for sub in ("source", "submission", "results"):
        (root / sub).mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(root / "source")
    shutil.copy(notebook, root / "submission" / "dis05.ipynb")
    venv_bin = str(Path(sys.executable).parent)
    full_env = {**os.environ, "PATH": venv_bin + os.pathsep + os.environ["PATH"],
                "DIS05_GRADESCOPE_ROOT": str(root), **env}
    box = Box()
    resident, done = [0.0], threading.Event()

    def sample() -> None:  # the resident peak, every 0.2 s (the cgroup keeps only usage's)
        while not done.wait(0.2):
            resident[0] = max(resident[0], box.resident_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    try:
        start = time.monotonic()
        sampler.start()
        proc = subprocess.run(box.command(root / "source" / "run_autograder"), env=full_env,
                              capture_output=True, text=True, timeout=MACHINE_SECONDS + 120)
        seconds = time.monotonic() - start
        done.set()
        sampler.join()
        peak, oom_kills = box.peak_mb(), box.oom_kills()
    finally:
        done.set()
        box.remove()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    return {"results": results, "seconds": seconds, "peak_mb": peak,
            "resident_peak_mb": resident[0], "oom_kills": oom_kills,
            "log": results["tests"][-1]["output"]}


def with_last_cell(tmp_path: Path, source: str) -> Path:
    """The reference notebook with one more code cell at the end."""
    nb = json.loads(REFERENCE.read_text())
    nb["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": None,
                        "outputs": [], "source": source, "id": "trouble"})
    path = tmp_path / "dis05.ipynb"
    path.write_text(json.dumps(nb))
    return path


class Trouble(NamedTuple):
    name: str
    cell: str
    status: str
    log_says: str


TROUBLE = [
    Trouble("ignores signals and loops",
            "import signal\nfor s in (signal.SIGALRM, signal.SIGINT, signal.SIGTERM):\n"
            "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass",
            "ok", "ignored the time limit for one cell"),
    Trouble("computes for minutes in C", "total = sum(range(10**13))", "ok",
            "ignored the time limit for one cell"),
    Trouble("memory hog", "import numpy as np\nhog = []\nwhile True:\n"
            "    hog.append(np.ones(2**22))", "memory", "memory"),
    Trouble("os._exit", "import os\nos._exit(3)", "crashed", "exit status 3"),
]


@pytest.fixture(scope="module")
def box_runs(zip_path, tmp_path_factory) -> dict[str, dict]:
    """The reference and every trouble case, each in its own box, all at once: each box is
    capped at half a CPU whatever runs beside it, so running them together changes no budget
    and takes the time of the longest instead of the sum."""
    notebooks = {"reference": REFERENCE}
    for trouble in TROUBLE:
        notebooks[trouble.name] = with_last_cell(tmp_path_factory.mktemp("nb"), trouble.cell)
    with ThreadPoolExecutor(len(notebooks)) as pool:
        runs = {name: pool.submit(run_in_box, zip_path, notebook,
                                  tmp_path_factory.mktemp("gs") / "autograder", BUDGET_ENV)
                for name, notebook in notebooks.items()}
        return {name: run.result() for name, run in runs.items()}


@pytest.fixture(scope="module")
def reference_run(box_runs) -> dict:
    return box_runs["reference"]


def test_the_reference_gets_full_marks_in_the_box(reference_run):
    results = reference_run["results"]
    assert results["extra_data"]["status"] == "ok", reference_run["log"]
    assert results["tests"], reference_run["log"]
    assert all(t["score"] == t["max_score"] for t in results["tests"]), reference_run["log"]
    assert reference_run["seconds"] < MACHINE_SECONDS


@pytest.mark.parametrize("trouble", TROUBLE, ids=[t.name for t in TROUBLE])
def test_trouble_at_the_end_keeps_every_earlier_mark_within_the_budget(
        box_runs, reference_run, trouble):
    got = box_runs[trouble.name]
    results = got["results"]
    assert results["extra_data"]["status"] == trouble.status, got["log"]
    expected = reference_run["results"]
    assert [(t["name"], t["score"]) for t in results["tests"][:-1]] == \
           [(t["name"], t["score"]) for t in expected["tests"][:-1]], got["log"]
    assert trouble.log_says in got["log"]
    assert got["seconds"] < MACHINE_SECONDS, got["log"]
    if trouble.status == "ok":  # the stopped cell is named for the student
        assert "ran past the time limit for one cell" in results["output"]
        assert "code cell" in results["output"]
