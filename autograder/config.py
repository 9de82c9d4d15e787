"""Every grading option, declared once with its default and a description.

The CLI and the Makefile only pass these through (``TIMEOUT=`` -> ``Limits.timeout`` ...).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    """Hard limits on one submission's execution, enforced from outside its process."""

    timeout: float = 300.0
    """wall-clock seconds for the whole notebook; the process group is then killed"""
    cell_timeout: float = 120.0
    """wall-clock seconds for one cell; later cells still run"""
    memory_mb: int = 4096
    """data-memory cap (RLIMIT_DATA: heap and private writable mappings) for each of the
    student's processes, in MiB. Not RLIMIT_AS, which would also count the large PROT_NONE address
    reservations CUDA makes and so break the GPU. ``import torch``
    plus a small training loop reserves about 0.9 GiB of address space (MALLOC_ARENA_MAX=2 keeps
    glibc's per-thread arenas from inflating it on many-core machines)"""
    output_bytes: int = 1_000_000
    """captured stdout+stderr kept per submission; the rest is discarded"""
    file_mb: int = 1024
    """largest file the student's code may write (RLIMIT_FSIZE), in MiB"""
    processes: int = 512
    """processes and threads the sandbox user may run at once (RLIMIT_NPROC; only when the
    grader runs as root and the submission gets its own uid)"""
    notebook_mb: int = 100
    """a larger submission file is an invalid notebook, never parsed"""
    python: str = ""
    """interpreter for the student's code ("" = the grader's own); as root it must be runnable
    by an unprivileged user, or the submission runs as root (the log then says so)"""


@dataclass(frozen=True)
class Cluster:
    """Where a class is graded: the local process pool, or a Dask cluster (``dask_engine.py``)."""

    scheduler: str = field(default_factory=lambda: os.environ.get("DASK_SCHEDULER_ADDRESS", ""))
    """a Dask scheduler's address (``tcp://host:8786``) or scheduler file (``.json``); "" grades
    with the local process pool (make grade SCHEDULER=..., env DASK_SCHEDULER_ADDRESS)"""
    retries: int = 2
    """times a submission is started again on another worker after the worker grading it died;
    then its row says ``grader error`` and why. The scheduler's own ``allowed-failures`` (default
    3) also bounds it"""
    connect_seconds: float = 30.0
    """how long to wait for the scheduler to answer, and for at least one worker to join"""
    gpu_resource: str = "GPU"
    """Dask resource name of GPU workers (``dask worker --resources GPU=1``); when Q1 trains on
    CUDA, every submission asks for one unit of it"""
