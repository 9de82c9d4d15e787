"""Limits that mean what they say: phase budgets, the per-cell limit enforced from outside,
memory stops (our cap or the kernel's OOM killer) reported as such, and no network."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace
from typing import NamedTuple

import pytest

from autograder.execution import execute, machine, sandbox
from autograder.execution.budget import SubmissionClock
from autograder.execution.execute import decide_status
from autograder.execution.sandbox import Outcome
from autograder.grading import pipeline
from autograder.report.notices import Topic
from autograder.settings.limits import Limits, Machine
from tests.execution.test_execute import run, values, write_notebook

IGNORE_SIGNALS = ("import signal\nfor s in (signal.SIGALRM, signal.SIGINT, signal.SIGTERM):\n"
                  "    signal.signal(s, signal.SIG_IGN)\n"
                  "while True:\n    try:\n        while True:\n            pass\n"
                  "    except BaseException:\n        pass")


class Clock:
    """A hand-driven clock for ``SubmissionClock``."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ----------------------------------------------------------------------------- budgets

class Plan(NamedTuple):
    name: str
    limits: Limits
    probe: float
    elapsed: float  # seconds already used of the total when the run is planned
    notebook: float
    probe_after: float


PLANS = [
    Plan("no cap: TIMEOUT bounds the notebook, the probe has its own",
         Limits(timeout=60), 360, 0, 60, 360),
    Plan("Gradescope: both fit in the total", Limits(timeout=180, total=540), 360, 0, 180, 360),
    Plan("a short total: the notebook keeps up to half, the probe the rest",
         Limits(timeout=300, total=500), 360, 0, 250, 250),
    Plan("a short total and a short notebook: the probe gets the rest",
         Limits(timeout=60, total=300), 360, 0, 60, 240),
    Plan("a very short total: halves at most for the notebook", Limits(timeout=180, total=100),
         300, 0, 50, 50),
    Plan("time already used counts", Limits(timeout=180, total=540), 360, 100, 180, 260),
]


@pytest.mark.parametrize("plan", PLANS, ids=[p.name for p in PLANS])
def test_each_phase_gets_its_budget(plan):
    clock = Clock()
    budget = SubmissionClock(plan.limits, plan.probe, clock=clock)
    clock.now += plan.elapsed
    first = budget.first_run()
    assert (first.notebook, first.probe) == (plan.notebook, plan.probe_after)
    assert first.cell_kill <= first.notebook and first.cell_alarm <= first.cell_kill
    left = budget.total_left()
    unbounded = first.notebook + first.probe + Limits().exit_seconds
    assert first.hard <= (left if left is not None else unbounded)


def test_a_rerun_gets_only_what_is_left():
    limits = Limits(timeout=60, cell_timeout=20, rerun_slack=10)
    budget = SubmissionClock(limits, 0.0)
    budget.charge(60)  # the first run used the whole notebook budget, its cells before the
    rerun = budget.rerun(before=7)  # stop took 7 s: the rerun gets those and the slack only
    assert rerun.notebook == 7 + 10
    budget = SubmissionClock(limits, 0.0)
    budget.charge(30)
    assert budget.rerun(before=7).notebook == 7 + 10 + 30


def test_no_run_without_time_left():
    clock = Clock()
    budget = SubmissionClock(Limits(total=100), 50, clock=clock)
    clock.now += 100 - Limits().min_run_seconds / 2
    assert budget.first_run() is None and budget.rerun(before=1) is None


def test_gradescope_total_is_the_machine_less_the_margin():
    assert Machine().total_seconds == 600 - Machine().safety_margin
    assert Machine(seconds=1200).total_seconds == 1200 - Machine().safety_margin


# ----------------------------------------------------------------------------- time, from outside

@pytest.mark.slow  # waits out a cell limit and the supervisor's grace
def test_a_cell_ignoring_signals_is_killed_at_the_cell_limit_by_the_supervisor(tmp_path):
    start = time.monotonic()
    ex = run(tmp_path, ["a = 1", IGNORE_SIGNALS, "b = 2"], ["a", "b"],
             limits=Limits(timeout=60, cell_timeout=1, cell_grace=1))
    assert ex.status == "timeout" and values(ex) == {"a": 1} and ex.killed_cell == 2
    assert "killed at the time limit for one cell" in ex.log
    assert time.monotonic() - start < 30  # far below the notebook's 60 s


@pytest.mark.slow  # waits out a cell limit and the supervisor's grace
def test_the_grader_reruns_without_the_killed_cell_and_names_it(tmp_path):
    book = write_notebook(tmp_path / "sub.ipynb", ["q2a_out_dim = 7", IGNORE_SIGNALS,
                                                   "q2b_first = 3"])
    run_ = pipeline.prepare_run(limits=Limits(timeout=60, cell_timeout=1, cell_grace=1),
                                grade_q1=False)
    result = pipeline.grade_submission(book, run_)
    assert result.status == "ok", result.log
    assert result.details["stopped_cells"] == ["code cell 2 (`import signal`)"]
    assert "code cell 2 (`import signal`) ignored the time limit" in result.log
    from autograder.report.results import summary_message
    assert "code cell 2" in summary_message(result)
    checks = {c.variable: c for q in result.questions for c in q.checks}
    assert checks["q2a_out_dim"].score == checks["q2a_out_dim"].max_score


def test_forged_phase_reports_cannot_extend_the_budget(tmp_path):
    """The student writes "cell 99" and "probe" to the supervisor's pipe: still killed in time."""
    forge = ("import os, sys, time\nfd = int(sys.argv[-1])\n"
             "for line in (b'cell 1\\n', b'cell 99\\n', b'probe\\n', b'cell 3\\n'):\n"
             "    os.write(fd, line)\n" + IGNORE_SIGNALS)
    start = time.monotonic()
    ex = run(tmp_path, ["a = 1", forge, "b = 2"], ["a", "b"],
             limits=Limits(timeout=4, cell_timeout=1, cell_grace=1))
    assert ex.status == "timeout" and values(ex) == {"a": 1}
    assert time.monotonic() - start < 4 + Limits().exit_seconds + 20


# ----------------------------------------------------------------------------- memory

def test_the_memory_cap_is_derived_from_the_machine(monkeypatch):
    monkeypatch.setattr(machine, "machine_memory_mb", lambda: 768)
    limits = Limits()
    assert machine.memory_cap_mb(limits) == 768 - limits.memory_reserve_mb
    assert machine.data_limit_mb(limits) == 2 * 768  # address space, not memory used
    monkeypatch.setattr(machine, "machine_memory_mb", lambda: 24_000)
    assert machine.memory_cap_mb(limits) == limits.memory_ceiling_mb
    assert machine.memory_cap_mb(replace(limits, memory_mb=1000)) == 1000


def test_this_machines_memory_is_read():
    assert 256 < machine.machine_memory_mb() < 1 << 24


def test_growing_past_the_cap_is_stopped_and_reported_as_memory(tmp_path):
    ex = run(tmp_path, ["a = 1", "import numpy as np\nhog = []\nwhile True:\n"
                        "    hog.append(np.ones(2**21))", "b = 2"], ["a", "b"],
             limits=Limits(timeout=60, cell_timeout=50, memory_mb=300))
    assert ex.status == "memory" and values(ex) == {"a": 1}
    assert "used more than the memory cap (300 MB)" in ex.log


class Ending(NamedTuple):
    name: str
    outcome: Outcome
    status: str


ENDINGS = [
    Ending("killed by the kernel's OOM killer",
           Outcome(-9, False, 1.0, "", [], oom_killed=True), "memory"),
    Ending("our cap", Outcome(-9, False, 1.0, "", [], stopped="memory"), "memory"),
    Ending("a SIGKILL that was not the OOM killer", Outcome(-9, False, 1.0, "", []), "crashed"),
    Ending("the cell limit", Outcome(-9, True, 1.0, "", [], stopped="cell", stopped_cell=2),
           "timeout"),
]


@pytest.mark.parametrize("ending", ENDINGS, ids=[e.name for e in ENDINGS])
def test_how_the_process_ended_decides_the_status(ending):
    assert decide_status(ending.outcome, {"cells_run": 1, "finished": False}) == ending.status


def test_the_kernels_oom_killer_is_named_in_the_log():
    log = execute._log(Outcome(-9, False, 1.0, "", [], oom_killed=True, peak_rss_mb=700),
                       "in code cell 3", 512, [])
    assert "out-of-memory killer" in log and "in code cell 3" in log


# ----------------------------------------------------------------------------- network

@pytest.fixture
def listener():
    """A TCP listener on 127.0.0.1 that counts the connections it accepts."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


CONNECT = ("import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=5)\n"
           "    reached = 'yes'\nexcept OSError as e:\n    reached = type(e).__name__")


def test_student_code_cannot_reach_a_listener_on_loopback(tmp_path, listener):
    if sandbox.network_isolation():
        pytest.skip(f"the network cannot be cut here: {sandbox.network_isolation()}")
    port, accepted = listener
    ex = run(tmp_path, [CONNECT.format(port=port)], ["reached"])
    assert values(ex)["reached"] != "yes" and not accepted


def test_when_the_network_cannot_be_cut_the_log_says_so_once(tmp_path, listener, monkeypatch,
                                                              capsys, no_plots):
    monkeypatch.setattr(sandbox, "_network", {"why": "simulated: unshare not permitted"})
    port, accepted = listener
    ex = run(tmp_path, [CONNECT.format(port=port)], ["reached"])
    assert values(ex)["reached"] == "yes"  # really not cut: the note below is not a lie
    books = [write_notebook(tmp_path / f"s{i}.ipynb", ["x = 1"]) for i in range(2)]
    from autograder import cli
    assert cli.main(["grade", *map(str, books), "--out", str(tmp_path / "out"), "--no-q1",
                     "--jobs", "1"]) == 0
    err = capsys.readouterr().err
    assert err.count("network access: simulated: unshare not permitted") == 1


def test_without_root_or_user_namespaces_the_network_is_not_cut_and_that_is_known(monkeypatch):
    monkeypatch.setattr(sandbox, "_network", {})
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(sandbox, "CLONE_NEWUSER", -1)  # a kernel that refuses (EINVAL)
    why = sandbox.network_isolation()
    assert why.startswith("not running as root, and user namespaces are not permitted")
    network = [n for n in pipeline.run_notices(Limits()) if n.topic is Topic.NETWORK]
    assert [n.line() for n in network] == [f"the student's code has network access: {why}"]


@pytest.mark.slow
def test_timeout_60_with_a_signal_ignoring_loop_ends_within_60_s_plus_the_probe(tmp_path):
    """make grade TIMEOUT=60: the loop costs the notebook's 60 s, then Q1 is still probed."""
    import json

    from tests.conftest import REFERENCE, run_cli
    nb = json.loads(REFERENCE.read_text())
    nb["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": None,
                        "outputs": [], "source": IGNORE_SIGNALS, "id": "loop"})
    book = tmp_path / "looping.ipynb"
    book.write_text(json.dumps(nb))
    start = time.monotonic()
    run_cli("grade", str(book), "--out", str(tmp_path / "out"), "--timeout", "60", "--jobs", "1")
    seconds = time.monotonic() - start
    from autograder import q1
    from autograder.settings.q1 import Q1Config
    config = Q1Config()
    probe = q1.probe_seconds(type("P", (), {"budget": config.budget("synthetic", "cpu"),
                                            "config": config, "steps": ("train",)})())
    results = json.loads((tmp_path / "out" / "looping" / "results.json").read_text())
    log = results["tests"][-1]["output"]
    assert results["extra_data"]["status"] == "timeout", log
    assert "killed at the notebook's time limit" in log
    assert "Q1's code was checked in a second run" in log
    assert results["tests"][0]["score"] == results["tests"][0]["max_score"], log  # q1a kept
    assert seconds < 60 + probe + 60, log
