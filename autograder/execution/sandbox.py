"""Process limits and cleanup for running untrusted code: a sandbox directory and a supervisor.

``Sandbox`` (used by the grading process) makes a private temporary directory, picks a user
for the untrusted process, and starts this file as a small *supervisor* program
(``python -I sandbox.py REQUEST``) in a new session. The supervisor, not the grading process:

* makes itself a child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``), so processes that escape
  with ``setsid`` or a double fork are re-parented to it instead of to init;
* starts the untrusted command in its own session, as the sandbox user, with ``RLIMIT_DATA``
  (memory), ``RLIMIT_FSIZE`` (file size), ``RLIMIT_NPROC`` and no core dumps;
* as root, first moves itself into a new network namespace (``unshare(CLONE_NEWNET)``: no
  interface but a loopback that stays down), so the student's code has no network;
* drains its stdout+stderr through a pipe, keeping at most ``output_bytes`` (head and tail);
* reads the runner's phase reports (``cell N``, ``probe``) from a second pipe and enforces each
  phase's deadline (``budget.RunBudget``: per cell, the cells together, the probe, the whole),
  so a cell that ignores signals is stopped all the same; reports are only accepted in order
  (cell numbers increase, the probe once), so forging them gains no more than the budgets give;
* polls the anonymous resident memory of every process below it and kills them above
  ``rss_mb``; a
  SIGKILL it did not send, together with a new OOM kill in the kernel's counters, is reported
  as the kernel's OOM killer (the student's processes get ``oom_score_adj`` 1000, so the kernel
  picks them, not the grader);
* on a deadline kills the process group, then kills and reaps every descendant until none is
  left, and writes what happened to a JSON file in the root-owned directory.

After the supervisor exits, the grading process also kills any process still running under the
sandbox user's uid (when it had one), so nothing outlives a run.

What the sandbox user protects, when the grader runs as root (here and on Gradescope): each run
gets its own unnamed uid/gid (``UID_BASE`` + a slot held with a lock file), no supplementary
groups. It cannot read files that are not world-readable, so ``/autograder/source`` (chmod 700
on Gradescope) and the hidden tests and reference answers in it are out of reach; it cannot
signal, ptrace or read the files of the grader or of submissions graded in parallel. What is
NOT guaranteed: world-readable files elsewhere (a repository checkout with default permissions,
the installed packages) can be read; disk use is bounded per file
(``RLIMIT_FSIZE``), not in total. Without root, the untrusted code runs as the grader's own
user: limits, output cap and cleanup still hold, but files are not protected and the code
could kill the supervisor.

The interpreter that runs the untrusted code must be executable by the sandbox user, and the
modules the runner imports readable by it. ``Sandbox`` checks this once (by importing them as
that user); when it fails, the code runs as the grader's user and the run's ``notes`` say so.

This file imports only the standard library: it is executed as a script by the supervisor.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import resource
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UID_BASE = 200_000
"""first uid/gid of the sandbox users (unnamed; one per concurrent run)"""
SLOTS = 1000
"""how many runs may hold a sandbox uid at once"""
GRACE_S = 20.0
"""how long the grading process waits for the supervisor beyond the run's timeout"""
PR_SET_CHILD_SUBREAPER = 36
CLONE_NEWNET = 0x40000000
POLL_S = 0.1
"""how often the supervisor checks deadlines"""
MEMORY_POLL_S = 0.25
"""how often it measures the resident memory of the student's processes"""


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the submission): a grader error."""


@dataclass
class Outcome:
    """What happened to one sandboxed command."""

    returncode: int | None  # exit status; negative: killed by that signal; None: unknown
    timed_out: bool
    seconds: float
    output: str  # captured stdout+stderr, capped
    notes: list[str]  # messages of the sandbox itself (for the staff log)
    stopped: str = ""  # why the supervisor killed it: cell | notebook | probe | total | memory
    stopped_cell: int = 0  # with stopped == "cell" (or "notebook"): the cell that ran (1-based)
    cell_starts: list[float] = field(default_factory=list)  # seconds from start, per cell
    notebook_seconds: float = 0.0  # until the probe started, or until the end
    peak_rss_mb: float = 0.0  # largest resident memory of its processes together (polled)
    oom_killed: bool = False  # killed by the kernel's OOM killer (a SIGKILL we did not send)


# ----------------------------------------------------------------------------- grader side

class Sandbox:
    """A private directory tree plus a sandbox user; ``run`` executes one command inside it.

    Use as a context manager: on exit every process of the sandbox user is killed and the
    directory is removed.
    """

    def __init__(self, *, python: str, parent: Path | None = None,
                 imports: tuple[str, ...] = ("json",)) -> None:
        self.python = python
        self.imports = imports
        self.notes: list[str] = []
        self._slot_file = None
        self.uid = self.gid = None
        if os.geteuid() == 0:
            self._take_slot()
        if parent is not None and self.uid is not None and not _world_searchable(Path(parent)):
            self.notes.append(f"{parent} is not reachable by the sandbox user (a directory on "
                              "its path is not world-searchable): used the system's temp dir")
            parent = None
        self.root = Path(tempfile.mkdtemp(prefix="dis05-", dir=parent))
        os.chmod(self.root, 0o711)  # searchable, not listable: subdirectory names are secrets

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def dir(self, name: str, *, writable: bool) -> Path:
        """A new subdirectory with an unguessable name; ``writable``: owned by the sandbox user."""
        path = self.root / f"{name}-{secrets.token_hex(8)}"
        path.mkdir(mode=0o755)
        if writable:
            path.chmod(0o700)
            if self.uid is not None:
                os.chown(path, self.uid, self.gid)
        return path

    def give(self, path: Path) -> None:
        """Make a file or tree inside the sandbox owned by the sandbox user."""
        if self.uid is None:
            return
        for p in [path, *(path.rglob("*") if path.is_dir() else [])]:
            os.chown(p, self.uid, self.gid, follow_symlinks=False)

    def run(self, argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float,
            memory_mb: int, output_bytes: int, file_mb: int, processes: int,
            phases: dict | None = None, rss_mb: int | None = None,
            isolate_network: bool = False) -> Outcome:
        """Run ``argv`` under the supervisor; raises ``SandboxError`` only if the sandbox failed,
        never for anything the command does.

        ``timeout`` bounds the whole process. ``phases`` (keys ``cells``, ``notebook``,
        ``cell_kill``, ``probe``; see ``budget.RunBudget``) makes the supervisor append the
        number of a pipe to ``argv`` on which the command reports its phases, and enforce
        them. ``rss_mb`` caps the resident memory of its processes together.
        """
        request = self.root / "request.json"
        result = self.root / "result.json"
        request.write_text(json.dumps({
            "argv": argv, "cwd": str(cwd), "env": env, "uid": self.uid, "gid": self.gid,
            "timeout": timeout, "memory_mb": memory_mb, "output_bytes": output_bytes,
            "file_mb": file_mb, "processes": processes, "result": str(result),
            "phases": phases, "rss_mb": rss_mb, "isolate_network": isolate_network,
        }))
        request.chmod(0o600)
        start = time.monotonic()
        with open(self.root / "supervisor.err", "wb") as err:
            proc = subprocess.Popen([sys.executable, "-I", __file__, str(request)],
                                    stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                    start_new_session=True)
            try:
                proc.wait(timeout=timeout + GRACE_S)
            except subprocess.TimeoutExpired:
                self.notes.append("supervisor did not finish; killed")
            finally:
                if proc.returncode is None:  # timed out, or interrupted: not yet reaped
                    _kill_tree(proc.pid)
                    proc.wait()
                self._kill_user()
        return self._outcome(result, time.monotonic() - start)

    def _outcome(self, result: Path, seconds: float) -> Outcome:
        try:
            data = json.loads(result.read_text())
        except (OSError, ValueError):
            err = (self.root / "supervisor.err").read_text(errors="replace")[-2000:]
            raise SandboxError(f"the supervisor failed: {err}") from None
        if data.get("error"):
            raise SandboxError(data["error"])
        return Outcome(data["returncode"], data["timed_out"], seconds, data["output"],
                       [*self.notes, *data["notes"]], stopped=data.get("stopped", ""),
                       stopped_cell=data.get("stopped_cell", 0),
                       cell_starts=data.get("cell_starts", []),
                       notebook_seconds=data.get("notebook_seconds", 0.0),
                       peak_rss_mb=data.get("peak_rss_mb", 0.0),
                       oom_killed=data.get("oom_killed", False))

    def close(self) -> None:
        self._kill_user()
        shutil.rmtree(self.root, onerror=_force_remove)
        if self._slot_file is not None:
            self._slot_file.close()  # releases the lock
            self._slot_file = None

    def _take_slot(self) -> None:
        locks = Path(tempfile.gettempdir()) / "dis05-sandbox-slots"
        locks.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(locks)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
            raise RuntimeError(f"{locks} is not a private root-owned directory")
        for slot in range(SLOTS):
            f = open(locks / f"{slot}.lock", "a")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.close()
                continue
            uid = UID_BASE + slot
            if not interpreter_usable(self.python, uid, self.imports):
                f.close()
                self.notes.append(f"the sandbox user cannot run {self.python} or import "
                                  f"{', '.join(self.imports)} with it (a directory above them is "
                                  "not world-searchable): the submission ran as root, so the "
                                  "grader's files were NOT protected")
                return
            self._slot_file, self.uid, self.gid = f, uid, uid
            self._kill_user()  # leftovers of a crashed earlier holder of this slot
            return
        raise RuntimeError("no free sandbox slot")

    def _kill_user(self) -> None:
        if self.uid is not None:
            kill_uid(self.uid)


def _world_searchable(path: Path) -> bool:
    path = path.resolve()
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in [path, *path.parents])


_usable: dict[tuple[str, int, tuple[str, ...]], bool] = {}


def interpreter_usable(python: str, uid: int, imports: tuple[str, ...] = ("json",)) -> bool:
    """Whether ``python`` starts as ``uid`` and imports ``imports`` there (what the runner
    imports: a readable interpreter whose packages are not readable is no use); checked once
    per process."""
    key = (python, uid, tuple(imports))
    if key not in _usable:
        code = "".join(f"import {name}\n" for name in imports)
        try:
            done = subprocess.run([python, "-I", "-c", code], user=uid, group=uid,
                                  extra_groups=[], cwd="/", stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=60)
            _usable[key] = done.returncode == 0
        except (OSError, subprocess.SubprocessError):
            _usable[key] = False
        kill_uid(uid)
    return _usable[key]


def _force_remove(function: Any, path: str, exc_info: Any) -> None:
    """``rmtree`` error handler (non-root case): make the parent writable and try again."""
    try:
        os.chmod(os.path.dirname(path), 0o700)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except OSError:
        pass


# ----------------------------------------------------------------------------- processes

def _proc_table() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, real uid) for every process that can be read now."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            table[int(entry)] = (int(fields["PPid"]), int(fields["Uid"].split()[0]))
        except (OSError, KeyError, ValueError):
            continue
    return table


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, grandchildren, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for p, (ppid, _) in _proc_table().items():
        children.setdefault(ppid, []).append(p)
    found, todo = [], list(children.get(pid, []))
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def kill_uid(uid: int) -> None:
    """SIGKILL every process whose real uid is ``uid`` until none is left (uid 0 refused)."""
    if uid == 0:
        raise ValueError("refusing to kill root's processes")
    for _ in range(200):
        pids = [p for p, (_, u) in _proc_table().items() if u == uid]
        if not pids:
            return
        for p in pids:
            _kill(p)
        time.sleep(0.01)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_tree(pid: int) -> None:
    """Stop ``pid`` (a supervisor, still unreaped), kill everything below it, then kill it."""
    try:
        os.kill(pid, signal.SIGSTOP)
    except ProcessLookupError:
        return
    for _ in range(20):
        below = descendants(pid)
        if not below:
            break
        for p in below:
            _kill(p)
        time.sleep(0.01)
    _kill_group(pid)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# ----------------------------------------------------------------------------- supervisor

class _Drain(threading.Thread):
    """Reads a pipe to its end, keeping the first 3/4 and the last 1/4 of ``limit`` bytes."""

    def __init__(self, fd: int, limit: int) -> None:
        super().__init__(daemon=True)
        self.fd, self.head_max, self.tail_max = fd, limit - limit // 4, limit // 4
        self.head, self.tail, self.dropped = bytearray(), bytearray(), 0

    def run(self) -> None:
        while chunk := _read(self.fd):
            room = self.head_max - len(self.head)
            self.head += chunk[:room]
            self.tail += chunk[room:] if room > 0 else chunk
            if len(self.tail) > 2 * self.tail_max + 65536:
                self.dropped += len(self.tail) - self.tail_max
                del self.tail[:len(self.tail) - self.tail_max]

    def text(self) -> str:
        dropped = self.dropped + max(0, len(self.tail) - self.tail_max)
        tail = self.tail[len(self.tail) - self.tail_max:] if self.tail_max else b""
        if not dropped:
            return (self.head + self.tail).decode("utf-8", "replace")
        marker = f"\n[output truncated: {dropped} bytes left out]\n".encode()
        return (self.head + marker + tail).decode("utf-8", "replace")


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 1 << 16)
    except OSError:
        return b""


def _limits(req: dict):
    """The ``preexec_fn`` of the untrusted process: resource limits, applied after setuid."""
    def apply() -> None:
        mem = req["memory_mb"] << 20
        resource.setrlimit(resource.RLIMIT_DATA, (mem, mem))
        size = req["file_mb"] << 20
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if req["uid"] is not None:  # NPROC counts per uid: only meaningful with our own uid
            resource.setrlimit(resource.RLIMIT_NPROC, (req["processes"], req["processes"]))
        try:  # the kernel's OOM killer takes the student's processes first, not the grader
            with open("/proc/self/oom_score_adj", "w") as f:
                f.write("1000")
        except OSError:
            pass
    return apply


def _reap_all() -> None:
    """Kill every descendant of this process and reap it, until no child is left."""
    me = os.getpid()
    for _ in range(1000):
        for p in descendants(me):
            _kill(p)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return
        time.sleep(0.005)


def cut_network() -> str:
    """Move this process into a new network namespace; "" on success, else why not."""
    if os.geteuid() != 0:
        return "not running as root"
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        return f"unshare(CLONE_NEWNET) failed: {os.strerror(ctypes.get_errno())}"
    return ""


_network: dict[str, str] = {}


def network_isolation() -> str:
    """Whether the supervisor will be able to cut the network: "" if so, else why not.

    Tried once per process, in a short-lived child (a namespace cannot be left again)."""
    if "why" not in _network:
        if os.geteuid() != 0:
            _network["why"] = "not running as root"
        else:
            code = ("import ctypes, os, sys\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                    f"sys.exit(0 if libc.unshare({CLONE_NEWNET}) == 0 else "
                    "os.strerror(ctypes.get_errno()))")
            try:
                done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True,
                                      text=True, timeout=30)
                _network["why"] = ("" if done.returncode == 0 else
                                   f"unshare(CLONE_NEWNET) failed: {done.stderr.strip()}")
            except (OSError, subprocess.SubprocessError) as exc:
                _network["why"] = f"could not try unshare: {exc!r}"
    return _network["why"]


# ----------------------------------------------------------------------------- memory

def cgroup_memory_dirs() -> list[Path]:
    """This process's memory cgroup directory and its ancestors (v2 or v1), innermost first."""
    found = []
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            base = Path("/sys/fs/cgroup")
            if not (base / "cgroup.controllers").exists():
                base = Path("/sys/fs/cgroup/unified")
        elif "memory" in parts[1].split(","):
            base = Path("/sys/fs/cgroup/memory")
        else:
            continue
        here = base / parts[2].lstrip("/")
        while True:
            if here.is_dir():
                found.append(here)
            if here == base or base not in here.parents:
                break
            here = here.parent
    return found


def _read_int(path: Path, key: str | None = None) -> int | None:
    """An integer file, or the value of ``key`` in a ``key value`` file; None if absent."""
    try:
        text = path.read_text()
    except OSError:
        return None
    if key is None:
        text = text.strip()
        return int(text) if text.isdigit() else None
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return None


def oom_kill_count() -> int:
    """OOM kills counted by the kernel, in total and in this process's memory cgroups."""
    total = _read_int(Path("/proc/vmstat"), "oom_kill") or 0
    for d in cgroup_memory_dirs():
        total += (_read_int(d / "memory.events", "oom_kill")
                  or _read_int(d / "memory.oom_control", "oom_kill") or 0)
    return total


def _tree_rss_mb(root: int) -> float:
    """Anonymous resident memory of every process below ``root``, in MiB: what the kernel
    cannot reclaim (the mapped code of torch and friends is file-backed and shared)."""
    pages = 0
    for p in descendants(root):
        try:
            with open(f"/proc/{p}/statm") as f:
                fields = f.read().split()
            pages += int(fields[1]) - int(fields[2])  # resident - file-backed/shared
        except (OSError, ValueError, IndexError):
            continue
    return pages * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


# ----------------------------------------------------------------------------- phases

class _Phases(threading.Thread):
    """The runner's phase reports, read from a pipe: ``cell N`` (N = 1, 2, ...) and ``probe``.

    Only reports in order are accepted (a cell number above the last one, at most the number of
    cells; the probe once, after which no cell), so code in the student's process that writes
    to the pipe can at most restart a clock the budgets already allow for."""

    def __init__(self, fd: int, cells: int, start: float) -> None:
        super().__init__(daemon=True)
        self.fd, self.cells, self.began = fd, cells, start
        self.phase, self.cell, self.since = "start", 0, start
        self.cell_starts: list[float] = []
        self.probe_start: float | None = None
        self.lock = threading.Lock()

    def run(self) -> None:
        pending = b""
        while chunk := _read(self.fd):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self.accept(line.decode("ascii", "replace").strip())
            pending = pending[-64:]

    def accept(self, line: str) -> None:
        now = time.monotonic()
        with self.lock:
            word, _, number = line.partition(" ")
            if word == "cell" and number.isdigit() and self.phase != "probe":
                n = int(number)
                if self.cell < n <= self.cells:
                    self.phase, self.cell, self.since = "cell", n, now
                    self.cell_starts.append(round(now - self.began, 3))
            elif line == "probe" and self.phase != "probe":
                self.phase, self.since, self.probe_start = "probe", now, now

    def deadline(self, phases: dict, hard: float) -> tuple[float, str]:
        """The nearest deadline now and what it bounds (cell, notebook, probe or total)."""
        with self.lock:
            candidates = [(hard, "total")]
            if self.phase == "probe":
                candidates.append((self.since + phases["probe"], "probe"))
            else:
                candidates.append((self.began + phases["notebook"], "notebook"))
                if self.phase == "cell":
                    candidates.append((self.since + phases["cell_kill"], "cell"))
            return min(candidates)


def supervise(req: dict) -> dict:
    """Run the request's command within its limits; return what happened."""
    notes = []
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        notes.append(f"no child subreaper: {os.strerror(ctypes.get_errno())}")
    if req.get("isolate_network"):
        why = cut_network()
        if why:
            notes.append(f"the network was NOT cut: {why}")
    read_end, write_end = os.pipe()
    phases = req.get("phases")
    argv = list(req["argv"])
    pass_fds: tuple[int, ...] = ()
    if phases:
        phase_read, phase_write = os.pipe()
        argv.append(str(phase_write))
        pass_fds = (phase_write,)
    user = {} if req["uid"] is None else {"user": req["uid"], "group": req["gid"],
                                          "extra_groups": []}
    ooms_before = oom_kill_count()
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, cwd=req["cwd"], env=req["env"],
                                stdin=subprocess.DEVNULL, stdout=write_end, stderr=write_end,
                                start_new_session=True, preexec_fn=_limits(req), umask=0o022,
                                pass_fds=pass_fds, **user)
    except (OSError, subprocess.SubprocessError) as exc:
        for fd in (write_end, read_end, *pass_fds, *([phase_read] if phases else [])):
            os.close(fd)
        return {"error": f"could not start {argv[0]}: {exc!r}"}
    os.close(write_end)
    drain = _Drain(read_end, req["output_bytes"])
    drain.start()
    tracker = None
    if phases:
        os.close(phase_write)
        tracker = _Phases(phase_read, phases["cells"], start)
        tracker.start()
    stopped, stopped_cell, peak = _watch(proc, req, tracker, start)
    if stopped:
        _kill_group(proc.pid)
    returncode = proc.wait()
    _kill_group(proc.pid)
    _reap_all()
    oom = (not stopped and returncode == -signal.SIGKILL and oom_kill_count() > ooms_before)
    drain.join(timeout=5)
    if drain.is_alive():
        notes.append("output pipe still open after cleanup")
    end = time.monotonic()
    notebook_end = tracker.probe_start if tracker and tracker.probe_start else end
    return {"returncode": returncode, "timed_out": stopped not in ("", "memory"),
            "stopped": stopped, "stopped_cell": stopped_cell, "output": drain.text(),
            "notes": notes, "cell_starts": tracker.cell_starts if tracker else [],
            "notebook_seconds": round(notebook_end - start, 3),
            "peak_rss_mb": round(peak, 1), "oom_killed": oom}


def _watch(proc: subprocess.Popen, req: dict, tracker: _Phases | None,
           start: float) -> tuple[str, int, float]:
    """Wait for ``proc`` within the deadlines and the memory cap.

    Returns (why it was stopped, or "" if it ended by itself; the cell then; peak RSS MiB)."""
    hard = start + req["timeout"]
    rss_mb = req.get("rss_mb")
    peak, next_memory = 0.0, start
    while True:
        now = time.monotonic()
        if tracker is not None:
            deadline, what = tracker.deadline(req["phases"], hard)
        else:
            deadline, what = hard, "total"
        if now >= deadline:
            return what, (tracker.cell if tracker else 0), peak
        if now >= next_memory:
            rss = _tree_rss_mb(os.getpid())
            peak = max(peak, rss)
            if rss_mb and rss > rss_mb:
                return "memory", (tracker.cell if tracker else 0), peak
            next_memory = now + MEMORY_POLL_S
        try:
            proc.wait(timeout=max(0.0, min(POLL_S, deadline - now)))
            return "", 0, peak
        except subprocess.TimeoutExpired:
            continue


def main(argv: list[str]) -> int:
    """Supervisor entry point: ``python -I sandbox.py REQUEST.json``."""
    req = json.loads(Path(argv[1]).read_text())
    result = supervise(req)
    tmp = Path(req["result"] + ".tmp")
    tmp.write_text(json.dumps(result))
    tmp.replace(req["result"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
