"""Grading a class on a Dask cluster: a real scheduler and workers, separate processes on loopback.

Each cluster test starts ``dask scheduler`` and ``dask worker`` processes bound to 127.0.0.1
(a scheduler file carries the address), and a finalizer kills every process it started. The
class is graded through them and compared with the local pool's run of the same class: the
same rows, scores, statuses, feedback and results.json, apart from timings and the staff log's
line naming the worker.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from autograder import fingerprint as fingerprints
from autograder import worksheet
from autograder.grading import classroom, pipeline, remote
from autograder.grading.dask_engine import DaskEngine, EngineError, read_capped
from autograder.grading.intake import Submission
from autograder.report.results import grader_failure
from autograder.report.notices import Topic
from autograder.settings.limits import Cluster, Limits
from tests.conftest import EXAMPLES, REFERENCE, ROOT

DASK = Path(sys.executable).with_name("dask")
#: Generous: the machine is shared, and a worker imports torch-free grading code only.
START_SECONDS = 120


# ----------------------------------------------------------------------------- a real cluster

@dataclass
class LocalCluster:
    """A scheduler and workers started as separate processes; ``kill`` one like a dead node."""

    folder: Path
    procs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def scheduler_file(self) -> Path:
        return self.folder / "scheduler.json"

    def _start(self, args: list[str], log: str) -> subprocess.Popen:
        out = open(self.folder / log, "wb")
        env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "5"}
        proc = subprocess.Popen([str(DASK), *args], stdout=out, stderr=out, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        self.procs.append(proc)
        return proc

    def start_scheduler(self) -> None:
        self._start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(self.scheduler_file)], "scheduler.log")
        deadline = time.monotonic() + START_SECONDS
        while not self.scheduler_file.is_file():
            assert time.monotonic() < deadline, (self.folder / "scheduler.log").read_text()
            time.sleep(0.2)

    def start_worker(self, name: str) -> subprocess.Popen:
        # --no-nanny: the worker is this very process, so killing it is a dead node (a nanny
        # would restart it).
        return self._start(["worker", "--scheduler-file", str(self.scheduler_file),
                            "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                            "--no-dashboard", "--name", name,
                            "--local-directory", str(self.folder / name)], f"{name}.log")

    def client(self):
        from distributed import Client

        return Client(scheduler_file=str(self.scheduler_file), timeout=START_SECONDS)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)  # its own session: the worker and children
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def start_cluster(tmp_path):
    """``start_cluster(n)``: a scheduler and ``n`` one-thread workers, all killed afterwards."""
    clusters: list[LocalCluster] = []

    def start(workers: int = 2) -> LocalCluster:
        cluster = LocalCluster(tmp_path / f"cluster{len(clusters)}")
        cluster.folder.mkdir()
        clusters.append(cluster)
        cluster.start_scheduler()
        for k in range(workers):
            cluster.start_worker(f"w{k}")
        with cluster.client() as client:
            client.wait_for_workers(workers, timeout=START_SECONDS)
        return cluster

    yield start
    for cluster in clusters:
        cluster.close()


# ----------------------------------------------------------------------------- comparing runs

CLASS = [REFERENCE, EXAMPLES / "carol-exits-midway.ipynb", EXAMPLES / "dave-truncated-upload.ipynb"]
VOLATILE_KEYS = {"seconds", "execution_time", "graded_at", "key", "execution_cached"}
"""timings, and the resume key and cache flag, which also cover the run's settings (`make grade`
reads overrides.yaml; the local run here does not)"""


def _stable(value):
    """A result file without timings and the staff log's lines about where it ran."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    if isinstance(value, str):
        return "\n".join(line for line in value.split("\n")
                         if not line.startswith(("[dask]", "seconds:")))
    return value


def outputs(out: Path) -> dict:
    """Everything a class run wrote that must not depend on where it ran."""
    files = {"grades.csv": (out / "grades.csv").read_text(),
             "gradebook.csv": (out / "gradebook.csv").read_text()}
    for folder in sorted(out / row["submission"] for row in csv.DictReader(
            (out / "grades.csv").read_text().splitlines())):
        files[f"{folder.name}/feedback.md"] = (folder / "feedback.md").read_text()
        for name in ("results.json", "checks.json"):
            files[f"{folder.name}/{name}"] = _stable(json.loads((folder / name).read_text()))
    return files


@pytest.fixture(scope="module")
def local_q2(tmp_path_factory, q2_run) -> dict:
    """The local pool's run of CLASS (Q2 only): what every cluster run must reproduce."""
    out = tmp_path_factory.mktemp("local")
    classroom.grade_class(classroom.ClassJob(CLASS, out, q2_run, jobs=2))
    return outputs(out)


def _dask_logs(out: Path) -> dict[str, str]:
    return {p.parent.name: json.loads(p.read_text())["result"]["log"]
            for p in out.glob("*/checks.json")}


# ----------------------------------------------------------------------------- cluster tests

@pytest.mark.slow
def test_a_class_graded_on_two_workers_matches_the_local_run(start_cluster, tmp_path, q2_run,
                                                             local_q2):
    cluster = start_cluster(2)
    out = tmp_path / "out"
    with DaskEngine.connect(Cluster(scheduler=str(cluster.scheduler_file))) as engine:
        assert engine.slots() == 2
        done = classroom.grade_class(classroom.ClassJob(CLASS, out, q2_run, engine=engine))

    assert sorted(done.graded) == sorted(r.submission for r in done.results)
    assert len(done.graded) == 3 and done.jobs == 2
    assert outputs(out) == local_q2
    logs = _dask_logs(out)
    ran = {n: log for n, log in logs.items() if "[dask] graded on worker tcp://127.0.0.1:" in log}
    assert sorted(ran) == ["carol-exits-midway", "dave-truncated-upload", "dis05"]
    assert "died" not in "".join(logs.values())


@pytest.mark.slow
def test_make_grade_knob_and_dask_scheduler_address(start_cluster, tmp_path, local_q2):
    """The CLI through SCHEDULER= (--scheduler), and through the standard environment variable;
    a rerun is resumed and FORCE regrades, as locally."""
    cluster = start_cluster(2)
    out = tmp_path / "out"
    make = subprocess.run(["make", "-s", "grade", f"SUBMISSIONS={' '.join(map(str, CLASS))}",
                           f"OUT={out}", "Q1=0", f"SCHEDULER={cluster.scheduler_file}",
                           "RETRIES=1"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert make.returncode == 0, make.stdout + make.stderr
    assert f"grading on the Dask cluster at {cluster.scheduler_file}" in make.stdout
    assert outputs(out) == local_q2

    base = [*map(str, CLASS), "--out", str(out), "--no-q1"]

    env = {**os.environ, "DASK_SCHEDULER_ADDRESS": json.loads(
        cluster.scheduler_file.read_text())["address"]}
    again = subprocess.run([sys.executable, "-m", "autograder", "grade", *base, "--force"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "grading on the Dask cluster at tcp://127.0.0.1:" in again.stdout
    assert "3 to grade" in again.stdout
    assert outputs(out) == local_q2

    resumed = subprocess.run([sys.executable, "-m", "autograder", "grade", *base], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=900)
    assert "0 to grade, 3 unchanged" in resumed.stdout, resumed.stdout + resumed.stderr


def _kill_the_worker_running(cluster: LocalCluster, grading: threading.Thread, name: str) -> str:
    """SIGKILL the worker that is running submission ``name``, and return its address.

    The worker is stopped (SIGSTOP) as soon as its task has started, so the task cannot finish;
    the scheduler is then asked whether the task is still processing on that worker. Only then
    is the worker killed. When it is not (the task finished before the stop), the test's set-up
    was not met and it says so, rather than passing or failing on timing."""
    with cluster.client() as client:
        pids = client.run(os.getpid)
        deadline = time.monotonic() + 600
        while True:
            assert grading.is_alive() and time.monotonic() < deadline, "the task never started"
            starts = {topic: events for topic, events in client.get_events().items()
                      if topic.startswith(remote.TOPIC) and topic.endswith(f"-{name}")}
            if starts:
                [events] = starts.values()
                address = events[0][1]["worker"]
                break
            time.sleep(0.05)
        os.killpg(pids[address], signal.SIGSTOP)
        processing = client.processing(workers=[address]).get(address, ())
        if not any(str(key).endswith(f"-{name}") for key in processing):
            os.killpg(pids[address], signal.SIGCONT)
            pytest.skip(f"set-up not met: {name}'s task was no longer processing on {address} "
                        f"when its worker was stopped (it had finished): nothing to kill mid-run")
        os.killpg(pids[address], signal.SIGKILL)
    return address


def _grade_in_thread(out: Path, run: pipeline.Run, engine: DaskEngine, **kw):
    box: dict = {}

    def target() -> None:
        try:
            box["done"] = classroom.grade_class(classroom.ClassJob(CLASS, out, run, engine=engine,
                                                                   **kw))
        except BaseException:  # reported by the test
            box["error"] = traceback.format_exc()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


@pytest.mark.slow
def test_a_worker_killed_mid_submission_loses_nothing(start_cluster, tmp_path, q2_run, local_q2):
    cluster = start_cluster(2)
    out = tmp_path / "out"
    with DaskEngine.connect(Cluster(scheduler=str(cluster.scheduler_file))) as engine:
        grading, box = _grade_in_thread(out, q2_run, engine)
        killed = _kill_the_worker_running(cluster, grading, "dis05")
        grading.join(timeout=900)
    assert "error" not in box, box.get("error")

    assert outputs(out) == local_q2  # every row, as if nothing had happened
    log = _dask_logs(out)["dis05"]
    assert f"the worker {killed} died while grading it before" in log
    survivor = log.split("[dask] graded on worker ")[1].split()[0]
    assert survivor != killed
    (notice,) = box["done"].notices  # staff are told: the terminal and the report's top
    assert notice.topic is Topic.WORKER_LOST and notice.submissions == ("dis05",)
    assert killed in notice.text and notice.line() in (out / "report.html").read_text()


@pytest.mark.slow
def test_retries_are_bounded_then_the_row_says_grader_error(start_cluster, tmp_path, q2_run):
    cluster = start_cluster(2)
    out = tmp_path / "out"
    settings = Cluster(scheduler=str(cluster.scheduler_file), retries=0)
    with DaskEngine.connect(settings) as engine:
        grading, box = _grade_in_thread(out, q2_run, engine)
        killed = _kill_the_worker_running(cluster, grading, "dis05")
        grading.join(timeout=900)
    assert "error" not in box, box.get("error")

    rows = {r.submission: r for r in box["done"].results}
    assert sorted(rows) == ["carol-exits-midway", "dave-truncated-upload", "dis05"]
    lost = rows["dis05"]
    assert lost.status == "grader error" and lost.score == 0
    assert f"1 workers died while grading this submission ({killed})" in lost.log
    assert "the limit is 0 retries" in lost.log
    assert rows["carol-exits-midway"].status == "crashed"  # the others are graded normally


@pytest.mark.slow
def test_ctrl_c_keeps_finished_results_and_a_rerun_grades_the_rest(start_cluster, tmp_path,
                                                                   q2_run, local_q2):
    cluster = start_cluster(1)
    out = tmp_path / "out"
    seen: list[str] = []

    class InterruptAfterFirst(classroom.Events):
        def result(self, result, reused) -> None:
            seen.append(result.submission)
            raise KeyboardInterrupt

    with DaskEngine.connect(Cluster(scheduler=str(cluster.scheduler_file))) as engine:
        with pytest.raises(KeyboardInterrupt):
            classroom.grade_class(classroom.ClassJob(CLASS, out, q2_run, engine=engine),
                                  InterruptAfterFirst())
        kept = {p.parent.name for p in out.glob("*/results.json")}
        assert kept == set(seen) and len(kept) == 1
        with cluster.client() as client:  # nothing of the run is left queued on the cluster
            deadline = time.monotonic() + 120
            while any(str(k).startswith("dis05-") for k in client.who_has()):
                assert time.monotonic() < deadline, client.who_has()
                time.sleep(0.5)

        done = classroom.grade_class(classroom.ClassJob(CLASS, out, q2_run, engine=engine))
    assert done.reused == sorted(kept) and len(done.graded) == len(CLASS) - 1
    assert outputs(out) == local_q2


@pytest.mark.slow
def test_workers_running_another_grader_are_refused(start_cluster, tmp_path, q2_run,
                                                    monkeypatch):
    cluster = start_cluster(1)
    monkeypatch.setattr(remote, "fingerprint", lambda: "a different checkout")
    with pytest.raises(EngineError, match="run a different grader than this machine"):
        DaskEngine.connect(Cluster(scheduler=str(cluster.scheduler_file)))

    # A worker that joins later is caught by the task itself: a row saying why, not a grade.
    from distributed import Client

    with Client(scheduler_file=str(cluster.scheduler_file), timeout=START_SECONDS) as client:
        engine = DaskEngine(client, Cluster(scheduler=str(cluster.scheduler_file)))
        done = classroom.grade_class(classroom.ClassJob([REFERENCE], tmp_path / "out", q2_run,
                                                        engine=engine))
    [result] = done.results
    assert result.status == "grader error"
    assert "runs a different grader than the TA's machine" in result.log


@pytest.mark.slow
def test_q1_on_the_cluster_matches_the_local_run(start_cluster, tmp_path):
    """Q1's probe inputs reach the workers through Dask, not through this machine's disk."""
    cluster = start_cluster(1)
    run = pipeline.prepare_run(grade_q1=True, workdir=tmp_path / "work")
    classroom.grade_class(classroom.ClassJob([REFERENCE], tmp_path / "local", run, jobs=1))
    inputs = run.q1.inputs
    # The workers must not read the TA's copy: hide it while they grade.
    hidden = inputs.with_name("hidden")
    inputs.rename(hidden)
    try:
        with DaskEngine.connect(Cluster(scheduler=str(cluster.scheduler_file))) as engine:
            run_remote = replace(run, q1=replace(run.q1, inputs=hidden))
            classroom.grade_class(classroom.ClassJob([REFERENCE], tmp_path / "dask", run_remote,
                                                     engine=engine))
    finally:
        hidden.rename(inputs)
    local, remote_out = outputs(tmp_path / "local"), outputs(tmp_path / "dask")
    assert remote_out["grades.csv"] == local["grades.csv"]
    def untimed(text: str) -> str:  # the feedback reports Q1's training seconds
        return re.sub(r"\d+(\.\d+)? s\b", "<seconds>", text)

    assert untimed(remote_out["dis05/feedback.md"]) == untimed(local["dis05/feedback.md"])
    checks = [untimed(json.dumps(out["dis05/checks.json"]["result"]["questions"]))
              for out in (remote_out, local)]
    assert checks[0] == checks[1]
    [row] = csv.DictReader(io.StringIO(local["grades.csv"]))
    q2_points = sum(q.points for q in worksheet.Q2_QUESTIONS)
    assert float(row["max_total"]) > q2_points and "q1b" in row  # Q1 was graded, not only Q2
    shipped = list((cluster.folder / "w0").rglob("dis05-q1-inputs-*"))
    assert len(shipped) == 1 and (shipped[0] / "config.json").is_file()


# ----------------------------------------------------------------------------- no cluster

def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    for address in ("tcp://127.0.0.1:9", str(tmp_path / "missing-scheduler.json")):
        with pytest.raises(EngineError, match="cannot reach the Dask scheduler at"):
            DaskEngine.connect(Cluster(scheduler=address, connect_seconds=0.2))


def test_the_scheduler_comes_from_the_standard_environment_variable(monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://10.0.0.5:8786")
    assert Cluster().scheduler == "tcp://10.0.0.5:8786"
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")
    assert Cluster().scheduler == ""  # the local pool


def test_probe_inputs_are_shipped_as_bytes_and_written_once_per_worker(tmp_path):
    inputs = tmp_path / "q1-inputs"
    (inputs / "sub").mkdir(parents=True)
    (inputs / "train_x.npy").write_bytes(b"\x93NUMPY" + bytes(range(256)))
    (inputs / "sub" / "config.json").write_text('{"seed": 0}')
    packed, digest = remote.pack_inputs(inputs)
    assert set(packed) == {"train_x.npy", "sub/config.json"}
    assert remote.pack_inputs(inputs)[1] == digest
    (inputs / "sub" / "config.json").write_text('{"seed": 1}')
    assert remote.pack_inputs(inputs)[1] != digest  # the digest names the content
    assert remote.pack_inputs(None) == ({}, remote.pack_inputs(tmp_path / "nothing")[1])

    @dataclass(frozen=True)
    class Prepared:  # what local_run relies on: a dataclass with ``inputs``
        inputs: Path

    packed, digest = remote.pack_inputs(inputs)
    run = pipeline.Run(Limits(), (), Prepared(inputs))
    shipment = remote.Shipment(run, packed, digest, "fp", 2, "run")
    scratch = tmp_path / "worker-scratch"
    scratch.mkdir()
    local = remote.local_run(shipment, scratch)
    assert local.q1.inputs.parent == scratch and local.q1.inputs != inputs
    assert (local.q1.inputs / "sub" / "config.json").read_text() == '{"seed": 1}'
    assert (local.q1.inputs / "train_x.npy").read_bytes() == (inputs / "train_x.npy").read_bytes()
    assert remote.local_run(shipment, scratch) is local  # once per worker, not per submission
    q2_only = pipeline.Run(Limits(), (), None)
    assert remote.local_run(replace(shipment, run=q2_only), scratch) is q2_only


@pytest.mark.parametrize("size_mb, limit_mb, shipped", [
    (0, 1, None),  # small: all of it
    (2, 1, (1 << 20) + 1),  # too large: one byte past the limit, still judged too large
])
def test_notebooks_are_shipped_capped(tmp_path, size_mb, limit_mb, shipped):
    path = tmp_path / "n.ipynb"
    path.write_bytes(b"{}" if size_mb == 0 else b"x" * (size_mb << 20))
    data = read_capped(path, limit_mb)
    assert len(data) == (shipped if shipped is not None else 2)


def test_a_worker_reports_the_isolation_a_local_run_would_find(monkeypatch):
    from autograder.execution import sandbox

    monkeypatch.setattr(sandbox, "_isolation", {})
    monkeypatch.setattr(sandbox, "_try_private_view", lambda *a: "simulated: no namespaces")
    found, notices = remote.worker_safety(Limits())
    assert not found.private and "simulated: no namespaces" in found.why
    assert [n.topic for n in notices if n.topic is Topic.ISOLATION] == [Topic.ISOLATION]
    assert "NOT protected" in notices[0].text


def test_the_fingerprint_covers_the_grader_code_and_pinned_libraries(monkeypatch, tmp_path):
    assert set(remote.PINNED) >= {"numpy", "sympy", "torch"}
    source = tmp_path / "module.py"
    source.write_text("x = 1\n")
    monkeypatch.setattr(fingerprints, "source_files", lambda: {"module.py": source})

    def fingerprint() -> str:
        remote.fingerprint.cache_clear()
        return remote.fingerprint()

    first = fingerprint()
    source.write_text("x = 2\n")
    edited = fingerprint()
    monkeypatch.setattr(fingerprints.metadata, "version",
                        lambda name: "0.0" if name == "sympy" else "1")
    other_sympy = fingerprint()
    assert len({first, edited, other_sympy}) == 3
    remote.fingerprint.cache_clear()
    assert shutil.which(str(DASK)), "the dask command comes with the pinned distributed"


class _FinishedFuture:
    """A finished task's future, as far as the engine's recording uses one."""

    status = "finished"

    def __init__(self, name: str) -> None:
        self.name, self.released = name, False

    def done(self) -> bool:
        return True

    def result(self):
        return grader_failure(self.name, [], "")

    def release(self) -> None:
        self.released = True


def test_each_future_is_released_once_its_result_is_recorded():
    """The engine keeps no recorded future: a worker dying later cannot rerun its task."""
    engine = DaskEngine(client=None, cluster=Cluster())
    futures = [_FinishedFuture("a"), _FinishedFuture("b")]
    running = {f: Submission(f.name, Path(f"{f.name}.ipynb")) for f in futures}
    seen = []

    class Recorder:
        def record(self, result) -> None:
            seen.append((result.submission, [f.released for f in futures]))

    engine._record_finished(running, pipeline.Run(Limits(), ()), Recorder())
    assert running == {} and all(f.released for f in futures)
    assert seen == [("a", [False, False]), ("b", [True, False])]  # released after its record
