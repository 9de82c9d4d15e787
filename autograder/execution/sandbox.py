"""Process limits and cleanup for running untrusted code: a sandbox directory and a supervisor.

``Sandbox`` (used by the grading process) makes a private temporary directory, picks a user
for the untrusted process, and starts this file as a small *supervisor* program
(``python -I sandbox.py REQUEST``) in a new session. The supervisor, not the grading process:

* makes itself a child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``), so processes that escape
  with ``setsid`` or a double fork are re-parented to it instead of to init;
* starts the untrusted command in its own session, as the sandbox user, with ``RLIMIT_DATA``
  (memory), ``RLIMIT_FSIZE`` (file size), ``RLIMIT_NPROC`` and no core dumps;
* first moves itself into a new network namespace (``unshare(CLONE_NEWNET)``: no interface but
  a loopback that stays down; without root, inside a new user namespace), so the student's
  code has no network;
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
sandbox user's uid (when it had one), so nothing outlives a run. As root each run gets its own
unnamed uid/gid (``UID_BASE`` + a slot held with a lock file), no supplementary groups: it
cannot signal, ptrace or read the files of the grader or of submissions graded in parallel.

**What a submission sees.** Where the kernel allows it, each run gets a *private view* of the
file system (``make_view``, in the untrusted process just before it starts): a new mount
namespace whose root is an empty read-only tmpfs holding, at their usual paths, the system's
folders (``/usr``, ``/etc``, ``/sys``, ...) and the interpreter's installation, virtual
environment and package folders, read-only; its own work, state and probe folders; an empty
``/tmp`` of its own; a few devices (the GPU's too) and a private ``/dev/shm``. Home folders,
``/root``, the checkout, the submissions, OUT and other runs' folders are not there. As root
this is a mount namespace (with the run's own uid, so ``/proc``, shown as the machine's, reveals
nothing of other runs); as an ordinary user it is an unprivileged user namespace (no ``/proc``
then: the runs share the grader's uid), which also lets the network be cut. Because the
interpreter is mounted where the sandbox user can reach it, a Python under a private home
(pyenv, conda, uv, a clone in ``mktemp -d``) no longer forces the code to run as root. Which
``Level`` this machine gives is found once per process by trying it (``isolation_for``): a
private view; else (root without namespaces: a container's seccomp, as on Gradescope) the
sandbox uid alone, which cannot read files that are not world-readable, so
``/autograder/source`` (chmod 700 there) stays out of reach; else only limits, output cap and
cleanup (the code runs as the grader's user), with a note in every staff log. Disk use is
bounded per file (``RLIMIT_FSIZE``), not in total.

The grading process sends one typed ``Command`` (what to run, its limits, the paths it needs),
with the uid and the view, as a ``Request`` in JSON that the supervisor rebuilds.

This file imports only the standard library: it is executed as a script by the supervisor.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import platform
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
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

UID_BASE = 200_000
"""first uid/gid of the sandbox users (unnamed; one per concurrent run)"""
SLOTS = 1000
"""how many runs may hold a sandbox uid at once"""
GRACE_S = 20.0
"""how long the grading process waits for the supervisor beyond the run's timeout"""
PR_SET_CHILD_SUBREAPER = 36
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
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


class Level(str, Enum):
    """How far a submission is kept from everything but itself (best first)."""

    PRIVATE = "private view"  # its own view of the file system (and, as root, its own uid)
    USER = "own user"  # its own unprivileged uid only (root without namespaces)
    NONE = "none"  # the grader's own user: limits and cleanup only


@dataclass(frozen=True)
class Isolation:
    """The level this machine gives submissions, found once per process by trying it
    (``isolation_for``); ``how`` says by what means, ``why`` why nothing better."""

    level: Level
    how: str = ""  # "mount namespace", "user namespace", "sandbox uid", "" (none)
    why: str = ""  # why there is no private view ("" when there is)

    @property
    def private(self) -> bool:
        return self.level is Level.PRIVATE

    def staff_note(self) -> str:
        """One sentence for course staff ("" when the submission sees nothing but itself)."""
        if self.level is Level.PRIVATE:
            return ""
        if self.level is Level.USER:
            return ("the student's code ran under its own uid but saw the whole file system "
                    f"(world-readable files were NOT protected): no private view ({self.why})")
        who = "root" if os.geteuid() == 0 else f"the grader's user (uid {os.geteuid()})"
        return (f"the student's code ran as {who}, so the grader's files and other submissions "
                f"were NOT protected: {self.why}")


@dataclass(frozen=True)
class PhaseLimits:
    """Deadlines of a run that reports its phases (``budget.RunBudget``)."""

    cells: int  # how many cells the runner will report
    notebook: float  # seconds for the cells together
    cell_kill: float  # seconds one cell may run before the supervisor kills the process
    probe: float  # seconds for the probe


@dataclass(frozen=True)
class Command:
    """What to run in the sandbox and within which limits: the one request of the grading
    process to the supervisor (``Sandbox.run``)."""

    argv: list[str]
    cwd: str
    env: dict[str, str]
    timeout: float  # seconds for the whole process
    memory_mb: int  # RLIMIT_DATA of each process, MiB
    output_bytes: int  # stdout+stderr kept
    file_mb: int  # RLIMIT_FSIZE, MiB
    processes: int  # RLIMIT_NPROC (with the sandbox's own uid)
    phases: PhaseLimits | None = None  # the runner reports its phases on a pipe: enforce them
    rss_mb: int | None = None  # cap of the anonymous resident memory of its processes together
    isolate_network: bool = False  # a network namespace with only a loopback that is down
    readable: tuple[str, ...] = ()  # paths it reads, in its private view (read-only there)
    writable: tuple[str, ...] = ()  # paths it writes, in its private view


@dataclass(frozen=True)
class View:
    """A private view of the file system: an empty root with the system's read-only folders,
    the interpreter's, and the command's own paths, all at the paths they have outside."""

    root: str  # an empty folder to build it on
    tmp: str  # the folder shown as /tmp
    interpreter: tuple[str, ...]  # the interpreter's installation and environment (read-only)
    shm_mb: int  # size of its private /dev/shm


@dataclass(frozen=True)
class Request:
    """What the supervisor reads (as JSON: it imports nothing of the grader)."""

    command: Command
    uid: int | None
    gid: int | None
    result: str  # where the supervisor writes what happened
    view: View | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Request":
        data = json.loads(text)
        command = dict(data["command"])
        if command.get("phases"):
            command["phases"] = PhaseLimits(**command["phases"])
        command["readable"] = tuple(command.get("readable", ()))
        command["writable"] = tuple(command.get("writable", ()))
        view = data.get("view")
        if view:
            view = View(**{**view, "interpreter": tuple(view["interpreter"])})
        return cls(Command(**command), data["uid"], data["gid"], data["result"], view)


# ----------------------------------------------------------------------------- grader side

class Sandbox:
    """A private directory tree plus a sandbox user; ``run`` executes one command inside it.

    ``isolation`` (default: what this machine gives, ``isolation_for``) decides whether the
    command gets a private view of the file system and its own uid. Use as a context manager:
    on exit every process of the sandbox user is killed and the directory is removed.
    """

    def __init__(self, *, python: str, parent: Path | None = None,
                 imports: tuple[str, ...] = ("json",), private_view: bool = True,
                 isolation: Isolation | None = None) -> None:
        self.python = python
        self.imports = imports
        self.isolation = isolation or isolation_for(python, imports, private_view=private_view)
        # the staff log says when the grader's files were exposed (a run's notices say more)
        self.notes = [self.isolation.staff_note()] if self.isolation.level is Level.NONE else []
        self._slot_file = None
        self.uid = self.gid = None
        if os.geteuid() == 0 and self.isolation.level is not Level.NONE:
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

    def run(self, command: Command) -> Outcome:
        """Run ``command`` under the supervisor; raises ``SandboxError`` only if the sandbox
        failed, never for anything the command does.

        With ``command.phases`` the supervisor appends the number of a pipe to its ``argv`` on
        which the command reports its phases, and enforces their deadlines."""
        request = self.root / "request.json"
        result = self.root / "result.json"
        request.write_text(Request(command, self.uid, self.gid, str(result),
                                   self._view(command)).to_json())
        request.chmod(0o600)
        start = time.monotonic()
        with open(self.root / "supervisor.err", "wb") as err:
            proc = subprocess.Popen([sys.executable, "-I", __file__, str(request)],
                                    stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                    start_new_session=True)
            try:
                proc.wait(timeout=command.timeout + GRACE_S)
            except subprocess.TimeoutExpired:
                self.notes.append("supervisor did not finish; killed")
            finally:
                if proc.returncode is None:  # timed out, or interrupted: not yet reaped
                    _kill_tree(proc.pid)
                    proc.wait()
                self._kill_user()
        return self._outcome(result, time.monotonic() - start)

    def _view(self, command: Command) -> View | None:
        """The private view for ``command`` (None without one): built on a fresh empty folder,
        with a fresh /tmp of its own."""
        if not self.isolation.private:
            return None
        root = self.dir("view", writable=False)
        return View(str(root), str(self.dir("tmp", writable=True)),
                    interpreter_paths(self.python), shm_mb=command.rss_mb or command.memory_mb)

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
            self._slot_file, self.uid, self.gid = f, UID_BASE + slot, UID_BASE + slot
            self._kill_user()  # leftovers of a crashed earlier holder of this slot
            return
        raise RuntimeError("no free sandbox slot")

    def _kill_user(self) -> None:
        if self.uid is not None:
            kill_uid(self.uid)


# ----------------------------------------------------------------------------- isolation

PROBE_UID = UID_BASE + SLOTS - 1
"""the uid that tries the interpreter without a private view (no run holds the last slot)"""
_isolation: dict[tuple, Isolation] = {}


def isolation_for(python: str, imports: tuple[str, ...] = ("json",), *,
                  private_view: bool = True) -> Isolation:
    """The isolation this machine gives a submission run with ``python`` (which must import
    ``imports``), found by trying it once per process: first a private view (as root a mount
    namespace, else a user namespace), then (as root) the sandbox uid alone."""
    key = (python, tuple(imports), private_view)
    if key not in _isolation:
        why = _try_private_view(python, imports) if private_view else \
            "the private view is turned off (Limits.private_view)"
        if not why:
            found = Isolation(Level.PRIVATE, "mount namespace" if os.geteuid() == 0
                              else "user namespace")
        elif os.geteuid() != 0:
            found = Isolation(Level.NONE, "", f"not running as root, and {why}")
        elif interpreter_usable(python, PROBE_UID, imports):
            found = Isolation(Level.USER, "sandbox uid", why)
        else:
            found = Isolation(Level.NONE, "", f"{why}; and the sandbox user cannot run {python} "
                              f"or import {', '.join(imports)} with it (a directory above them "
                              "is not world-searchable)")
        _isolation[key] = found
    return _isolation[key]


def _try_private_view(python: str, imports: tuple[str, ...]) -> str:
    """Start ``python`` in a private view as the sandbox user: "" if it imports ``imports`` and
    cannot see the sandbox's own request file, else why not."""
    if not sys.platform.startswith("linux"):
        return f"namespaces are Linux's ({sys.platform})"
    candidate = Isolation(Level.PRIVATE, "trying")
    try:
        with Sandbox(python=python, imports=imports, isolation=candidate) as box:
            hidden = box.root / "request.json"
            code = "".join(f"import {name}\n" for name in imports) + \
                f"import os, sys\nsys.exit(3 if os.path.lexists({str(hidden)!r}) else 0)\n"
            work = box.dir("work", writable=True)
            outcome = box.run(Command([python, "-I", "-c", code], str(work), {"PATH": "/usr/bin"},
                                      timeout=60, memory_mb=1 << 20, output_bytes=4000,
                                      file_mb=16, processes=64, writable=(str(work),)))
    except (SandboxError, OSError, RuntimeError) as exc:
        return f"no private view: {exc}"
    if outcome.returncode == 3:
        return "no private view: the sandbox's own files were still visible in it"
    if outcome.returncode != 0:
        tail = outcome.output.strip().splitlines()[-1:] or ["no output"]
        return (f"no private view: {python} did not start in it (exit status "
                f"{outcome.returncode}: {tail[0][:200]})")
    return ""


_interpreters: dict[str, tuple[str, ...]] = {}


def interpreter_paths(python: str) -> tuple[str, ...]:
    """The folders ``python`` needs besides the system's: its installation, its virtual
    environment and the package folders on its path (a Python under a private home is fine).
    Source folders put on the path by editable installs (a checkout) are left out. Asked once
    per process."""
    if python not in _interpreters:
        code = ("import json, sys\nprint(json.dumps([sys.prefix, sys.exec_prefix, "
                "sys.base_prefix, sys.base_exec_prefix, *[p for p in sys.path if "
                "p.rstrip('/').rsplit('/', 1)[-1] in ('site-packages', 'dist-packages')]]))")
        try:
            done = subprocess.run([python, "-I", "-c", code], capture_output=True, text=True,
                                  timeout=60, stdin=subprocess.DEVNULL)
            prefixes = json.loads(done.stdout)
        except (OSError, ValueError, subprocess.SubprocessError):
            prefixes = []
        found = {os.path.dirname(os.path.abspath(python)), *prefixes}
        _interpreters[python] = tuple(sorted(p for p in found if p and os.path.isdir(p)))
    return _interpreters[python]


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


def _child_setup(req: Request, error_fd: int):
    """The ``preexec_fn`` of the untrusted process: its private view and its user (when it has
    a view: without one ``Popen`` sets the user first), then its resource limits. What fails
    is written to ``error_fd`` for the supervisor's message."""
    def apply() -> None:
        try:
            try:  # the kernel's OOM killer takes the student's processes first, not the grader
                with open("/proc/self/oom_score_adj", "w") as f:
                    f.write("1000")
            except OSError:
                pass
            if req.view is not None:
                make_view(req.view, req.command)
                os.chdir(req.command.cwd)
                if req.uid is not None:
                    os.setgroups([])
                    os.setgid(req.gid)
                    os.setuid(req.uid)
            _set_limits(req.command, own_uid=req.uid is not None)
        except BaseException as exc:
            os.write(error_fd, str(exc).encode("utf-8", "replace")[:2000] or repr(exc).encode())
            raise
    return apply


def _set_limits(command: Command, *, own_uid: bool) -> None:
    """Resource limits, applied after the user is set."""
    mem = command.memory_mb << 20
    resource.setrlimit(resource.RLIMIT_DATA, (mem, mem))
    size = command.file_mb << 20
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if own_uid:  # NPROC counts per uid: only meaningful with our own uid
        resource.setrlimit(resource.RLIMIT_NPROC, (command.processes, command.processes))


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
    """Move this process into a new network namespace; "" on success, else why not. Without
    root, in a new user namespace too (where the kernel permits unprivileged ones)."""
    if os.geteuid() != 0:
        return enter_user_namespace(CLONE_NEWNET)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        return f"unshare(CLONE_NEWNET) failed: {os.strerror(ctypes.get_errno())}"
    return ""


def enter_user_namespace(also: int = 0) -> str:
    """Move this process (single-threaded) into a new user namespace, and the namespaces in
    ``also``, keeping its own uid and gid; "" on success, else why not. It then holds every
    capability over namespaces it creates, and its children lose them when they exec."""
    uid, gid = os.getuid(), os.getgid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWUSER | also) != 0:
        return f"unshare(CLONE_NEWUSER) failed: {os.strerror(ctypes.get_errno())}"
    try:
        for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                           ("gid_map", f"{gid} {gid} 1")):
            with open(f"/proc/self/{name}", "w") as f:
                f.write(text)
    except OSError as exc:
        return f"could not map the user namespace's ids: {exc}"
    return ""


_network: dict[str, str] = {}


def network_isolation() -> str:
    """Whether the supervisor will be able to cut the network: "" if so, else why not.

    Tried once per process, in a short-lived child (a namespace cannot be left again)."""
    if "why" not in _network:
        flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
        code = ("import ctypes, os, sys\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                f"sys.exit(0 if libc.unshare({flags}) == 0 else "
                "os.strerror(ctypes.get_errno()))")
        try:
            done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True,
                                  text=True, timeout=30)
            _network["why"] = "" if done.returncode == 0 else (
                f"unshare(CLONE_NEWNET) failed: {done.stderr.strip()}" if os.geteuid() == 0
                else f"not running as root, and user namespaces are not permitted "
                     f"({done.stderr.strip()})")
        except (OSError, subprocess.SubprocessError) as exc:
            _network["why"] = f"could not try unshare: {exc!r}"
    return _network["why"]


# ----------------------------------------------------------------------------- private view

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC, MS_PRIVATE, MS_RELATIME = \
    1024, 2048, 4096, 16384, 1 << 18, 1 << 21
MNT_DETACH = 2
#: statvfs flags that a bind mount keeps (the kernel refuses a remount that drops them in a
#: user namespace) -> the mount flag that keeps each.
KEPT_FLAGS = {os.ST_NOSUID: MS_NOSUID, os.ST_NODEV: MS_NODEV, os.ST_NOEXEC: MS_NOEXEC,
              os.ST_NOATIME: MS_NOATIME, os.ST_NODIRATIME: MS_NODIRATIME,
              os.ST_RELATIME: MS_RELATIME}
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")
"""what every program needs, read-only (the interpreter's own folders are added)"""
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
"""device files shown in the private /dev (with the GPU's: nvidia*, dri)"""


def make_view(view: View, command: Command) -> None:
    """Make this process's root a private view (in a new mount namespace): an empty read-only
    root holding the system's folders and the interpreter's (read-only), the command's own
    paths, /tmp (``view.tmp``), a few devices and a private /dev/shm. Everything keeps its
    path; nothing else of the machine is there. As root, /proc is the machine's (other runs'
    processes belong to other uids); in a user namespace there is no /proc."""
    libc = _libc()
    _check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    new = view.root
    _mount(libc, "tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m")
    shown = [*SYSTEM_PATHS, *(("/proc",) if os.geteuid() == 0 else ()), *view.interpreter,
             *command.readable]
    binds = [(p, False) for p in shown] + [(p, True) for p in command.writable]
    bound: set[str] = set()
    tmp = os.path.realpath("/tmp")
    _bind(libc, new, view.tmp, tmp, writable=True)
    for path, writable in sorted(binds, key=lambda b: os.path.realpath(b[0]).count("/")):
        real = _show(new, path)
        if real and not any(real == b or real.startswith(b + "/") for b in bound):
            _bind(libc, new, real, real, writable=writable)
            bound.add(real)
    _devices(libc, new, view.shm_mb)
    _pivot(libc, new)


def _show(new: str, path: str) -> str:
    """Recreate in the view the symlinks met on the way to ``path``; its real path, or "" when
    it does not exist."""
    if not os.path.lexists(path):
        return ""
    parts, here = list(Path(path).parts[1:]), "/"
    for _ in range(100):
        if not parts:
            return here
        step = os.path.join(here, parts.pop(0))
        if os.path.islink(step):
            target = os.readlink(step)
            _make_parents(new, step)
            if not os.path.lexists(new + step):
                os.symlink(target, new + step)
            resolved = os.path.normpath(os.path.join(here, target))
            parts, here = list(Path(resolved).parts[1:]) + parts, "/"
        else:
            here = step
    return ""


def _make_parents(new: str, path: str) -> None:
    """The folders above ``path`` in the view, searchable, with the machine's other bits."""
    here = "/"
    for part in Path(path).parts[1:-1]:
        here = os.path.join(here, part)
        if not os.path.lexists(new + here):
            try:
                mode = (os.stat(here).st_mode & 0o7777 | 0o111) & ~0o022
            except OSError:
                mode = 0o755
            os.mkdir(new + here)
            os.chmod(new + here, mode)


def _bind(libc, new: str, source: str, target: str, *, writable: bool) -> None:
    """Bind ``source`` at ``target`` in the view (read-only unless ``writable``)."""
    _make_parents(new, target)
    where = new + target
    if not os.path.lexists(where):
        if os.path.isdir(source):
            os.mkdir(where)
        else:
            open(where, "w").close()
    _mount(libc, source, where, None, MS_BIND | MS_REC)
    kept = os.statvfs(where).f_flag
    flags = MS_BIND | MS_REMOUNT | MS_NOSUID | (0 if writable else MS_RDONLY)
    flags |= sum(ms for st, ms in KEPT_FLAGS.items() if kept & st)
    _mount(libc, None, where, None, flags)


def _devices(libc, new: str, shm_mb: int) -> None:
    """A private /dev: the usual character devices, the GPU's, its own terminals and an empty
    /dev/shm."""
    dev = new + "/dev"
    os.mkdir(dev)
    _mount(libc, "tmpfs", dev, "tmpfs", MS_NOSUID, "mode=0755,size=64k")
    names = [*DEVICES, *(n for n in sorted(os.listdir("/dev")) if n.startswith("nvidia")),
             "dri"]
    for name in names:
        if os.path.exists(f"/dev/{name}"):
            _bind(libc, new, f"/dev/{name}", f"/dev/{name}", writable=True)
    os.mkdir(dev + "/shm")
    _mount(libc, "tmpfs", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV,
           f"mode=1777,size={max(1, shm_mb)}m")
    os.mkdir(dev + "/pts")  # terminals of its own (IPython's `!command` runs in one)
    _mount(libc, "devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
           "newinstance,ptmxmode=0666,mode=0620")
    for name, target in (("ptmx", "pts/ptmx"), ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{dev}/{name}")


def _pivot(libc, new: str) -> None:
    """Make ``new`` this process's root, detach the old one, and make the root read-only."""
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(f"pivot_root's system call number is unknown on {platform.machine()}")
    old = new + "/.old-root"
    os.mkdir(old)
    _check(libc.syscall(number, new.encode(), old.encode()), "pivot_root")
    os.chdir("/")
    _check(libc.umount2(b"/.old-root", MNT_DETACH), "umount2")
    os.rmdir("/.old-root")
    _mount(libc, None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                           ctypes.c_char_p]
    return libc


def _mount(libc, source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    source_b, fstype_b, data_b = (None if v is None else v.encode()
                                  for v in (source, fstype, data))
    _check(libc.mount(source_b, target.encode(), fstype_b, flags, data_b),
           f"mount {source or ''} on {target}")


def _check(status: int, what: str) -> None:
    if status != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what} failed: {os.strerror(errno)}")


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

    def deadline(self, phases: PhaseLimits, hard: float) -> tuple[float, str]:
        """The nearest deadline now and what it bounds (cell, notebook, probe or total)."""
        with self.lock:
            candidates = [(hard, "total")]
            if self.phase == "probe":
                candidates.append((self.since + phases.probe, "probe"))
            else:
                candidates.append((self.began + phases.notebook, "notebook"))
                if self.phase == "cell":
                    candidates.append((self.since + phases.cell_kill, "cell"))
            return min(candidates)


def supervise(req: Request) -> dict:
    """Run the request's command within its limits; return what happened."""
    notes = []
    command = req.command
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        notes.append(f"no child subreaper: {os.strerror(ctypes.get_errno())}")
    if req.view is not None and os.geteuid() != 0:  # the mounts need a user namespace
        why = enter_user_namespace(CLONE_NEWNET if command.isolate_network else 0)
        if why:
            return {"error": f"no private view: {why}"}
    elif command.isolate_network:
        why = cut_network()
        if why:
            notes.append(f"the network was NOT cut: {why}")
    read_end, write_end = os.pipe()
    argv = list(command.argv)
    pass_fds: tuple[int, ...] = ()
    if command.phases:
        phase_read, phase_write = os.pipe()
        argv.append(str(phase_write))
        pass_fds = (phase_write,)
    user = {} if req.uid is None or req.view else {"user": req.uid, "group": req.gid,
                                                   "extra_groups": []}
    error_read, error_write = os.pipe()
    ooms_before = oom_kill_count()
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, cwd=None if req.view else command.cwd, env=command.env,
                                stdin=subprocess.DEVNULL, stdout=write_end, stderr=write_end,
                                start_new_session=True, preexec_fn=_child_setup(req, error_write),
                                umask=0o022, pass_fds=pass_fds, **user)
    except (OSError, subprocess.SubprocessError) as exc:
        os.close(error_write)
        why = _read(error_read).decode("utf-8", "replace")
        for fd in (write_end, read_end, error_read, *pass_fds,
                   *([phase_read] if command.phases else [])):
            os.close(fd)
        return {"error": f"could not start {argv[0]}: {why or repr(exc)}"}
    for fd in (error_write, error_read, write_end):
        os.close(fd)
    drain = _Drain(read_end, command.output_bytes)
    drain.start()
    tracker = None
    if command.phases:
        os.close(phase_write)
        tracker = _Phases(phase_read, command.phases.cells, start)
        tracker.start()
    stopped, stopped_cell, peak = _watch(proc, command, tracker, start)
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


def _watch(proc: subprocess.Popen, command: Command, tracker: _Phases | None,
           start: float) -> tuple[str, int, float]:
    """Wait for ``proc`` within the deadlines and the memory cap.

    Returns (why it was stopped, or "" if it ended by itself; the cell then; peak RSS MiB)."""
    hard = start + command.timeout
    peak, next_memory = 0.0, start
    while True:
        now = time.monotonic()
        if tracker is not None:
            deadline, what = tracker.deadline(command.phases, hard)
        else:
            deadline, what = hard, "total"
        if now >= deadline:
            return what, (tracker.cell if tracker else 0), peak
        if now >= next_memory:
            rss = _tree_rss_mb(os.getpid())
            peak = max(peak, rss)
            if command.rss_mb and rss > command.rss_mb:
                return "memory", (tracker.cell if tracker else 0), peak
            next_memory = now + MEMORY_POLL_S
        try:
            proc.wait(timeout=max(0.0, min(POLL_S, deadline - now)))
            return "", 0, peak
        except subprocess.TimeoutExpired:
            continue


def main(argv: list[str]) -> int:
    """Supervisor entry point: ``python -I sandbox.py REQUEST.json``."""
    req = Request.from_json(Path(argv[1]).read_text())
    result = supervise(req)
    tmp = Path(req.result + ".tmp")
    tmp.write_text(json.dumps(result))
    tmp.replace(req.result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
