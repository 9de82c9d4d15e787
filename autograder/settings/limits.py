"""Every grading option, declared once with its default and a description.

The CLI and the Makefile only pass these through (``TIMEOUT=`` -> ``Limits.timeout`` ...).
How the limits combine into the time budget of each phase is computed in one place,
``budget.py``; the memory cap is derived from the machine in ``machine.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder.settings.environment import env


@dataclass(frozen=True)
class Limits:
    """Hard limits on one submission's execution, enforced from outside its process."""

    timeout: float = 300.0
    """wall-clock seconds for the notebook's cells together (Q1's probe has its own budget)"""
    cell_timeout: float = 120.0
    """wall-clock seconds for one cell. The cell is first interrupted from inside (SIGALRM) and
    the next cell runs; if it ignores that, the supervisor kills the process ``cell_grace``
    seconds later and the notebook is rerun without that cell"""
    cell_grace: float = 2.0
    """seconds the supervisor waits, beyond ``cell_timeout``, for a cell to stop by itself"""
    total: float | None = None
    """wall-clock seconds for everything one submission may use, reruns included (None: no cap
    beyond the notebook and the probe budgets). Gradescope's is ``Machine.total_seconds``"""
    rerun_slack: float = 10.0
    """extra notebook seconds given to a rerun (after an early stop) on top of the time its
    cells took in the first run: the interpreter starts again"""
    reruns: int = 3
    """at most this many reruns of one submission after early stops"""
    memory_mb: int | None = None
    """memory cap of the student's processes together, in MiB (anonymous resident memory,
    polled by the supervisor; each process also gets ``RLIMIT_DATA`` above it,
    ``address_space_factor``, which turns a single huge allocation into a ``MemoryError``).
    None: derived from the machine,
    see ``machine.py``"""
    memory_reserve_mb: int = 256
    """MiB left to the grader and the supervisor when the cap is derived from the machine"""
    memory_ceiling_mb: int = 4096
    """the derived cap never exceeds this (a large machine grades submissions in parallel)"""
    address_space_factor: float = 2.0
    """each student process's ``RLIMIT_DATA`` is this times the cap plus the reserve: it counts
    address space reserved and never touched (torch's libraries, glibc's heap while a CNN
    trains: at 768 MB, Gradescope's machine, the worksheet's CNN failed at its first step), so
    it sits well above the memory really used, which the supervisor polls (and the kernel's OOM
    killer takes the student's processes first)"""
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
    isolate_network: bool = True
    """cut the student's network (a new network namespace) where the grader can (root, or a
    user namespace)"""
    private_view: bool = True
    """give each submission a private view of the file system where the kernel allows it (as
    root a mount namespace, else a user namespace): its own folder, the interpreter and the
    system's folders, an empty /tmp; nothing of the grader, OUT or other submissions. False:
    only its own uid (as root), the fallback used where namespaces are not permitted"""
    min_run_seconds: float = 5.0
    """a (re)run with less than this left of ``total`` is not started (the interpreter alone
    needs a few seconds)"""
    exit_seconds: float = 5.0
    """after its last phase the student's process may take this long to exit before it is
    killed"""
    snapshot_mb: int = 64
    """largest answers snapshot read back from the student's process, in MiB (larger: no
    answers)"""
    probe_output_mb: int = 64
    """Q1's probe outputs read back from the student's process, in MiB (files beyond it are
    left out)"""
    export_gb: int = 4
    """largest Gradescope export zip a class run unpacks, in GiB"""


@dataclass(frozen=True)
class Machine:
    """Gradescope's autograder machine: what the whole run may take there."""

    seconds: float = 600.0
    """the machine's limit for the whole run (Gradescope's default is 10 minutes)"""
    safety_margin: float = 60.0
    """seconds kept back from the machine's limit (starting Python and the grader, loading the Q1
    data, checking the answers and writing results.json, and the harness's own overhead)"""
    notebook_seconds: float = 180.0
    """the notebook's budget on Gradescope (``Limits.timeout`` there); Q1's probe gets its own
    on top"""

    @property
    def total_seconds(self) -> float:
        """Everything one submission may use: ``seconds - safety_margin``."""
        return self.seconds - self.safety_margin


@dataclass(frozen=True)
class ReviewPolicy:
    """How an answer the grader could not decide scores until course staff settle it."""

    undecided_credit: float = 0.0
    """fraction of the points kept by an undecided answer (the CAS and the integer enumeration
    could not decide, or the check itself failed); it also sits in the review queue
    (report.html, review.csv) until an entry in the overrides file settles it"""
    review_stages: tuple[str, ...] = ("undecided", "grader error")
    """check stages (``report.results.Stage`` values) that put an answer in the review queue"""


@dataclass(frozen=True)
class Cluster:
    """Where a class is graded: the local process pool, or a Dask cluster (``dask_engine.py``)."""

    scheduler: str = field(default_factory=lambda: env("DASK_SCHEDULER_ADDRESS") or "")
    """a Dask scheduler's address (``tcp://host:8786``) or scheduler file (``.json``); "" grades
    with the local process pool (make grade SCHEDULER=..., env DASK_SCHEDULER_ADDRESS)"""
    retries: int = 2
    """times a submission is started again on another worker after the worker grading it died;
    then its row says ``grader error`` and why. The scheduler's own ``allowed-failures`` (default
    3) also bounds it"""
    connect_seconds: float = 30.0
    """how long to wait for the scheduler to answer, and for at least one worker to join"""
    require_isolation: bool = False
    """refuse to grade unless every submission gets a private view of the file system (here,
    and on every Dask worker): without it, student code may read other submissions' work and
    the grader's files (``execution/sandbox.py``)"""
    gpu_resource: str = "GPU"
    """Dask resource name of GPU workers (``dask worker --resources GPU=1``); when Q1 trains on
    CUDA, every submission asks for one unit of it"""


@dataclass(frozen=True)
class Checking:
    """How far the checks go with one answer, and what checking may cost (``checks/bounded.py``)."""

    cas_seconds: float = 2.0
    """seconds for one SymPy call (expand, simplify, solve); a slower comparison is undecided
    (``ReviewPolicy``)"""
    answer_characters: int = 1000
    """longest answer text, after normalisation; a longer one is a format error"""
    exponent: int = 32
    """largest power of a non-numeric base in an answer (keeps expansion cheap)"""
    degree: int = 64
    """largest total degree of an answer, nested powers and products multiplied out
    (``((k1 + x1)**32)**32`` has degree 1024)"""
    expanded_terms: int = 10_000
    """most terms an answer could have once expanded, counted from its shape before SymPy
    expands anything (``(k1 + k2 + x1 + x2)**32`` would have 6545)"""
    number_bits: int = 10_000
    """largest number, in bits, an answer may hold or a power of numbers in it may produce"""
    expression_depth: int = 60
    """deepest nesting of an answer's expression tree"""
    matrix_entries: int = 400
    """largest matrix answer read, in entries"""
    enumeration_bound: int = 2**30
    """a floor formula with larger numerators or denominators on its domain is not enumerated
    (the CAS decides)"""
    isolated: bool = True
    """check a class's answers in a separate checker process, capped by ``memory_mb`` and the
    deadlines below (off: in the grading process itself, as a student's own check does)"""
    answer_seconds: float = 10.0
    """wall-clock seconds one answer may take to check, every comparison together; past it the
    checker process is killed and replaced and the answer is undecided ("too costly to decide")"""
    submission_seconds: float = 60.0
    """wall-clock seconds all the answers of one submission may take to check together; the
    answers left when it runs out are undecided"""
    memory_mb: int = 512
    """address space of the checker process, in MiB (it starts at about 190): an answer needing
    more is undecided and the process is replaced"""


@dataclass(frozen=True)
class ReportLayout:
    """How much the class report and the answer groups show."""

    top_mistakes: int = 8
    """mistakes listed per question in report.html, most common first"""
    slowest: int = 5
    """slowest submissions listed in report.html's timing section"""
    log_lines: int = 12
    """last lines of a failed submission's staff log shown in report.html"""
    group_members_shown: int = 5
    """submissions named per answer group (then "and N more")"""
    pairwise_groups: int = 60
    """up to this many distinct answers of one variable are compared pairwise for equivalence;
    beyond it only by canonical form"""
