"""Grade a class on a Dask cluster instead of the local process pool (``make grade SCHEDULER=``).

The TA's machine keeps everything that decides what is graded and everything written to OUT:
intake, resume keys and ``FORCE`` (``classroom.py``), the progress bar, the CSVs and reports.
Only ``pipeline.grade_submission`` runs on the workers (``remote.py``), and it needs no shared
filesystem: the run (limits, questions, the Q1 set-up and the probe's input files) is sent
to the cluster once, each task carries its notebook's bytes, and each result comes back as
plain data to be written here.

Nothing is lost: a worker that dies mid-submission makes the scheduler start that submission on
another worker, at most ``Cluster.retries`` times (a task counts its earlier starts; the
scheduler's own ``allowed-failures`` also bounds it), then its row says ``grader error`` and
why. Only a bounded window of tasks is in flight, so an 800-notebook class never sits in the
scheduler's memory at once. Ctrl-C cancels what is queued; tasks already running finish on
their workers (Dask cannot interrupt them) and their results are dropped.
"""

from __future__ import annotations

import json
import secrets
import time
import traceback
import warnings
from pathlib import Path

from autograder.execution.sandbox import Isolation
from autograder.grading import pipeline, remote
from autograder.grading.intake import Submission
from autograder.report.notices import Notice, Topic
from autograder.report.results import SubmissionResult, grader_failure
from autograder.settings.limits import Cluster, Limits

POLL_SECONDS = 0.5
TICK_SECONDS = 0.02
"""how often the loop looks at its futures' states. Polled, because Dask's waiting helpers
miss a future whose task was restarted after its worker died (``as_completed`` never yields it,
``wait`` with a timeout fails)"""
#: Tasks in flight per worker thread: enough to keep every worker busy between polls.
IN_FLIGHT_PER_THREAD = 2


class EngineError(RuntimeError):
    """The cluster cannot grade (unreachable, no workers, different graders, connection lost)."""


class DaskEngine:
    """A connection to a Dask scheduler; ``grade`` runs a class's submissions on its workers.

    ``with DaskEngine.connect(Cluster(scheduler="tcp://host:8786")) as engine: ...``
    """

    def __init__(self, client, cluster: Cluster) -> None:
        self.client = client
        self.cluster = cluster

    @classmethod
    def connect(cls, cluster: Cluster) -> DaskEngine:
        """Connect, wait for a worker, and check that every worker runs this grader."""
        from distributed import Client

        address = cluster.scheduler
        try:
            if address.endswith(".json"):
                address = scheduler_address(Path(address), cluster.connect_seconds)
            client = Client(address, timeout=cluster.connect_seconds)
        except (OSError, TimeoutError, ValueError) as exc:
            raise EngineError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        engine = cls(client, cluster)
        try:
            client.wait_for_workers(1, timeout=cluster.connect_seconds)
            engine.check_workers()
        except (OSError, TimeoutError) as exc:
            client.close()
            raise EngineError(f"no Dask worker joined {address} within "
                              f"{cluster.connect_seconds:g} s ({exc})") from None
        except BaseException:
            client.close()
            raise
        return engine

    def __enter__(self) -> DaskEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def slots(self) -> int:
        """Tasks the cluster runs at once (its worker threads)."""
        try:
            return max(1, sum(self.client.nthreads().values()))
        except (OSError, TimeoutError) as exc:
            raise EngineError(f"lost the connection to the Dask scheduler ({exc}); finished "
                              f"submissions are kept: rerun the same command to grade the "
                              f"rest") from None

    def check_workers(self) -> None:
        """Refuse a cluster whose workers run another grader (other code or library versions):
        their grades could differ from a local run's. Workers that join later are checked by
        each task."""
        mine = remote.fingerprint()
        others = {address: info for address, info in self.client.run(remote.describe_worker).items()
                  if info["fingerprint"] != mine}
        if others:
            hosts = ", ".join(f"{a} ({i['host']})" for a, i in sorted(others.items()))
            raise EngineError(f"{len(others)} Dask worker(s) run a different grader than this "
                              f"machine (code, Python or {', '.join(remote.PINNED)} differ): "
                              f"{hosts}. Start every worker from the same checkout and pinned "
                              f"environment (requirements.txt).")

    def worker_notices(self, limits: Limits) -> tuple[tuple[Notice, ...], dict[str, Isolation]]:
        """What each worker gives submissions under ``limits`` (tried on each, once per worker
        process): the run notices, each naming its workers, and each worker's isolation."""
        found = self.client.run(remote.worker_safety, limits)
        workers: dict[tuple, list[str]] = {}
        for address, (_, notices) in sorted(found.items()):
            for notice in notices:
                workers.setdefault((notice.topic, notice.text), []).append(address)
        notices = tuple(Notice(topic, f"Dask worker{'s' * (len(names) > 1)} {', '.join(names)}: "
                                      f"{text}") for (topic, text), names in workers.items())
        return notices, {address: isolation for address, (isolation, _) in found.items()}

    def grade(self, subs: list[Submission], run: pipeline.Run, recorder) -> tuple[Notice, ...]:
        """Grade ``subs`` on the cluster, giving each result to ``recorder.record`` as it arrives
        (``recorder``: a ``classroom.Recorder``; ``recorder.waiting()`` between polls); return
        the notices for staff (workers lost while grading, and what they were grading)."""
        if not subs:
            return ()
        run_id = secrets.token_hex(6)
        inputs, digest = remote.pack_inputs(run.q1.inputs if run.q1 is not None else None)
        shipment = remote.Shipment(run, inputs, digest, remote.fingerprint(),
                                   self.cluster.retries, run_id, self.cluster.require_isolation)
        # A task, not client.scatter: scattered data dies with the worker holding it, while a
        # task's result is computed again elsewhere (from the spec the scheduler keeps).
        with warnings.catch_warnings():  # a large graph is intended: it is sent only once
            warnings.filterwarnings("ignore", message="Sending large graph")
            shared = self.client.submit(remote.unpack, shipment, key=f"dis05-run-{run_id}",
                                        pure=False)
        resources = ({self.cluster.gpu_resource: 1}
                     if run.q1 is not None and run.q1.device == "cuda" else None)
        todo = list(reversed(subs))
        running: dict = {}
        try:
            while todo or running:
                window = self.slots() * IN_FLIGHT_PER_THREAD
                while todo and len(running) < window:
                    sub = todo.pop()
                    try:
                        data = read_capped(sub.notebook, run.limits.notebook_mb)
                    except OSError:  # unreadable here: judged here, as a local run would
                        recorder.record(pipeline.grade_submission(sub.notebook, run,
                                                                  name=sub.name))
                        continue
                    future = self.client.submit(
                        remote.grade_task, sub.name, sub.notebook.name, data, shared,
                        key=f"dis05-{run_id}-{sub.name}", pure=False, resources=resources)
                    running[future] = sub
                self._record_finished(running, run, recorder)
                recorder.waiting()
        except BaseException:
            self.client.cancel(list(running), force=True)
            raise
        finally:
            self.client.cancel([shared], force=True)
        return self.lost_workers(run_id, [sub.name for sub in subs])

    def lost_workers(self, run_id: str, names: list[str]) -> tuple[Notice, ...]:
        """A notice when workers died while grading: which, and the submissions started again
        (from the attempts each task logged on the scheduler)."""
        events = self.client.get_events()
        lost, restarted = set(), []
        for name in names:
            attempts = [msg.get("worker", "?") for _, msg in
                        events.get(remote.attempt_topic(run_id, name), ())]
            if len(attempts) > 1:
                lost.update(attempts[:-1])
                restarted.append(name)
        if not restarted:
            return ()
        return (Notice(Topic.WORKER_LOST, f"Dask worker{'s' * (len(lost) > 1)} "
                       f"{', '.join(sorted(lost))} died while grading; these submissions were "
                       f"started again on another worker (each row says how it ended)",
                       tuple(restarted)),)

    def _record_finished(self, running: dict, run: pipeline.Run, recorder) -> None:
        """Record the tasks that finish within a poll, releasing each future once its result is
        recorded: the scheduler then forgets the task, so a worker that dies later cannot make
        it run an already recorded submission again."""
        for future in finished_within(list(running), POLL_SECONDS):
            recorder.record(self._result(future, running.pop(future), run))
            future.release()

    def _result(self, future, sub: Submission, run: pipeline.Run) -> SubmissionResult:
        """The task's result, or a grader-error row that says why there is none."""
        from distributed import KilledWorker

        if future.status == "finished":
            try:
                return future.result()
            except Exception:  # the result could not come back: still a row
                return grader_failure(sub.name, run.questions, traceback.format_exc())
        if future.status == "cancelled":
            if self.client.status != "running":
                raise EngineError("lost the connection to the Dask scheduler; finished "
                                  "submissions are kept: rerun the same command to grade the rest")
            return grader_failure(sub.name, run.questions,
                                         "the Dask scheduler cancelled this submission's task")
        exc = future.exception()
        if isinstance(exc, KilledWorker):
            return grader_failure(
                sub.name, run.questions,
                f"not graded: the Dask scheduler gave up after {exc.allowed_failures + 1} "
                f"workers died while grading this submission (the last was "
                f"{exc.last_worker.address}; scheduler setting "
                f"distributed.scheduler.allowed-failures = {exc.allowed_failures})")
        return grader_failure(sub.name, run.questions, "".join(
            traceback.format_exception(type(exc), exc, future.traceback())))


def finished_within(futures: list, seconds: float) -> list:
    """The futures that are done, waiting up to ``seconds`` for at least one."""
    deadline = time.monotonic() + seconds
    while True:
        done = [f for f in futures if f.done()]
        if done or time.monotonic() >= deadline:
            return done
        time.sleep(TICK_SECONDS)


def scheduler_address(scheduler_file: Path, wait_seconds: float) -> str:
    """The address in a scheduler file (``dask scheduler --scheduler-file``), waiting for the
    file to appear (a scheduler still starting)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return json.loads(scheduler_file.read_text())["address"]
        except (OSError, ValueError, KeyError, TypeError):
            if time.monotonic() > deadline:
                raise OSError(f"no readable scheduler file at {scheduler_file}") from None
            time.sleep(0.2)


def read_capped(path: Path, notebook_mb: int) -> bytes:
    """A notebook's bytes, at most one byte over the size limit: a larger file is still judged
    "larger than the limit" on the worker, without shipping all of it."""
    with open(path, "rb") as f:
        return f.read((notebook_mb << 20) + 1)
