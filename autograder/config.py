"""Every grading option, declared once with its default and a description.

The CLI and the Makefile only pass these through (``TIMEOUT=`` -> ``Limits.timeout`` ...).
"""

from __future__ import annotations

from dataclasses import dataclass


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
class ReviewPolicy:
    """How an answer the grader could not decide scores until course staff settle it."""

    undecided_credit: float = 0.0
    """fraction of the points kept by an undecided answer (the CAS and the integer enumeration
    could not decide, or the check itself failed); it also sits in the review queue
    (report.html, review.csv) until an entry in the overrides file settles it"""
    review_stages: tuple[str, ...] = ("undecided", "grader error")
    """check stages that put an answer in the review queue"""
