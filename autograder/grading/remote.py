"""What runs on a Dask worker: grade one submission from bytes, with no shared filesystem.

The TA's machine sends each task the notebook's bytes and a reference to one ``Shipment``
sent once per run (the result of the ``unpack`` task; each worker fetches it once): the prepared ``pipeline.Run`` and, when Q1 is graded, the probe's input
files as bytes. The worker writes the inputs once into its own scratch folder, writes the
notebook into a fresh temporary folder, runs ``pipeline.grade_submission`` exactly as a local
run does, and returns the ``SubmissionResult`` (plain data); the TA's machine writes OUT.

Before grading, a task checks that this worker runs the same grader (package source and the
versions of the libraries that decide a grade) and how often the submission was already started
on workers that died (``Cluster.retries``), and, with ``Cluster.require_isolation``, that this
worker gives submissions a private view. The staff log says where a submission was graded (the
sandbox's own notes say when the student's code ran unprotected).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import sys
import tempfile
import threading
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from autograder.fingerprint import PINNED, Scope
from autograder.fingerprint import fingerprint as grader_fingerprint
from autograder.execution.execute import isolation
from autograder.execution.sandbox import Isolation
from autograder.grading import pipeline
from autograder.report.notices import Notice
from autograder.report.results import SubmissionResult, grader_failure
from autograder.settings.limits import Limits

#: Prefix of the Dask event topics that record which worker started a submission.
TOPIC = "dis05-attempt"


@dataclass(frozen=True)
class Shipment:
    """Everything every submission of a run shares, sent to the cluster once."""

    run: pipeline.Run
    inputs: dict[str, bytes]  # Q1 probe inputs (relative path -> bytes); {} without Q1
    digest: str  # of ``inputs``: names the worker's local copy
    fingerprint: str  # of the TA's grader (``fingerprint()``)
    retries: int
    run_id: str
    require_isolation: bool = False  # refuse to run code on a worker without a private view


def unpack(shipment: Shipment) -> Shipment:
    """The task that holds a run's shipment on the cluster; every grading task depends on it,
    so each worker fetches it once."""
    return shipment


def pack_inputs(folder: Path | None) -> tuple[dict[str, bytes], str]:
    """The files under ``folder`` as bytes, and a digest of them."""
    files: dict[str, bytes] = {}
    if folder is not None:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                files[path.relative_to(folder).as_posix()] = path.read_bytes()
    digest = hashlib.sha256()
    for name, data in files.items():
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return files, digest.hexdigest()


@cache
def fingerprint() -> str:
    """This grader's ``fingerprint.Scope.WORKER`` hash. Computed once per process: it describes
    the code this process loaded."""
    return grader_fingerprint(Scope.WORKER)


def describe_worker() -> dict:
    """Who this worker is, for the staff log and the start-up check."""
    return {"host": socket.gethostname(), "fingerprint": fingerprint(), "uid": os.geteuid(),
            "python": sys.executable}


def attempt_topic(run_id: str, name: str) -> str:
    return f"{TOPIC}-{run_id}-{name}"


def grade_task(name: str, filename: str, notebook: bytes, shipment: Shipment) -> SubmissionResult:
    """The Dask task: grade one submission on this worker. Never raises for a submission."""
    from distributed import get_client, get_worker

    worker = get_worker()
    topic = attempt_topic(shipment.run_id, name)
    earlier = [msg.get("worker", "?") for _, msg in get_client().get_events(topic)]
    worker.log_event(topic, {"worker": worker.address})
    where = f"[dask] graded on worker {worker.address} (host {socket.gethostname()})"
    if earlier:
        where += (f"; the worker{'s' * (len(earlier) > 1)} {', '.join(earlier)} died while "
                  f"grading it before")
    if len(earlier) > shipment.retries:
        return grader_failure(
            name, shipment.run.questions,
            f"not graded: {len(earlier)} workers died while grading this submission "
            f"({', '.join(earlier)}); the limit is {shipment.retries} retries (Cluster.retries)")
    if fingerprint() != shipment.fingerprint:
        return grader_failure(
            name, shipment.run.questions,
            f"worker {worker.address} (host {socket.gethostname()}) runs a different grader "
            f"than the TA's machine (its code or its {', '.join(PINNED)} differ): install the "
            f"same pinned environment and the same checkout on every worker, then rerun with "
            f"FORCE=1")
    found = isolation(shipment.run.limits)
    if shipment.require_isolation and not found.private:
        return grader_failure(
            name, shipment.run.questions,
            f"not graded: worker {worker.address} (host {socket.gethostname()}) cannot give "
            f"submissions a private view of the file system ({found.why}), and the run requires "
            f"it (--require-isolation)")
    run = local_run(shipment, Path(worker.local_directory))
    with tempfile.TemporaryDirectory(prefix="dis05-sub-") as tmp:
        path = Path(tmp) / filename
        path.write_bytes(notebook)
        result = pipeline.grade_submission(path, run, name=name)
    # the log as a local run wrote it, then where it ran (a Dask run's staff log differs from a
    # local one's only by this line)
    gap = "" if not result.log or result.log.endswith("\n") else "\n"
    result.log = f"{result.log}{gap}{where}\n"
    return result


def worker_safety(limits: Limits) -> tuple[Isolation, tuple[Notice, ...]]:
    """How this worker isolates submissions, and the run notices that follow (tried once per
    worker process, as a local run does at start-up)."""
    return isolation(limits), pipeline.run_notices(limits)


_lock = threading.Lock()
_runs: dict[str, pipeline.Run] = {}


def local_run(shipment: Shipment, scratch: Path) -> pipeline.Run:
    """The shipped run with its Q1 inputs written once into this worker's ``scratch`` folder."""
    run = shipment.run
    if run.q1 is None:
        return run
    with _lock:
        if shipment.digest not in _runs:
            folder = scratch / f"dis05-q1-inputs-{shipment.digest[:16]}"
            partial = Path(tempfile.mkdtemp(prefix="dis05-q1-partial-", dir=scratch))
            for name, data in shipment.inputs.items():
                (partial / name).parent.mkdir(parents=True, exist_ok=True)
                (partial / name).write_bytes(data)
            shutil.rmtree(folder, ignore_errors=True)
            partial.rename(folder)
            _runs[shipment.digest] = replace(run, q1=replace(run.q1, inputs=folder))
        return _runs[shipment.digest]
