"""Process limits and cleanup for running untrusted code: a sandbox directory and a supervisor.

``Sandbox`` (used by the grading process) makes a private temporary directory, picks a user
for the untrusted process, and starts this file as a small *supervisor* program
(``python -I sandbox.py REQUEST``) in a new session. The supervisor, not the grading process:

* makes itself a child subreaper (``prctl(PR_SET_CHILD_SUBREAPER)``), so processes that escape
  with ``setsid`` or a double fork are re-parented to it instead of to init;
* starts the untrusted command in its own session, as the sandbox user, with ``RLIMIT_DATA``
  (memory), ``RLIMIT_FSIZE`` (file size), ``RLIMIT_NPROC`` and no core dumps;
* drains its stdout+stderr through a pipe, keeping at most ``output_bytes`` (head and tail);
* on the wall-clock deadline kills the process group, then kills and reaps every descendant
  until none is left, and writes what happened to a JSON file in the root-owned directory.

After the supervisor exits, the grading process also kills any process still running under the
sandbox user's uid (when it had one), so nothing outlives a run.

What the sandbox user protects, when the grader runs as root (here and on Gradescope): each run
gets its own unnamed uid/gid (``UID_BASE`` + a slot held with a lock file), no supplementary
groups. It cannot read files that are not world-readable, so ``/autograder/source`` (chmod 700
on Gradescope) and the hidden tests and reference answers in it are out of reach; it cannot
signal, ptrace or read the files of the grader or of submissions graded in parallel. What is
NOT guaranteed: world-readable files elsewhere (a repository checkout with default permissions,
the installed packages) can be read; the network is not cut; disk use is bounded per file
(``RLIMIT_FSIZE``), not in total. Without root, the untrusted code runs as the grader's own
user: limits, output cap and cleanup still hold, but files are not protected and the code
could kill the supervisor.

The interpreter that runs the untrusted code must be executable by the sandbox user (every
directory above it world-searchable). ``Sandbox`` checks this once; when it is not, the code
runs as the grader's user and the run's ``notes`` say so.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

UID_BASE = 200_000
"""first uid/gid of the sandbox users (unnamed; one per concurrent run)"""
SLOTS = 1000
"""how many runs may hold a sandbox uid at once"""
GRACE_S = 20.0
"""how long the grading process waits for the supervisor beyond the run's timeout"""
PR_SET_CHILD_SUBREAPER = 36


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


# ----------------------------------------------------------------------------- grader side

class Sandbox:
    """A private directory tree plus a sandbox user; ``run`` executes one command inside it.

    Use as a context manager: on exit every process of the sandbox user is killed and the
    directory is removed.
    """

    def __init__(self, *, python: str, parent: Path | None = None) -> None:
        self.python = python
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
            memory_mb: int, output_bytes: int, file_mb: int, processes: int) -> Outcome:
        """Run ``argv`` under the supervisor; raises ``SandboxError`` only if the sandbox failed,
        never for anything the command does."""
        request = self.root / "request.json"
        result = self.root / "result.json"
        request.write_text(json.dumps({
            "argv": argv, "cwd": str(cwd), "env": env, "uid": self.uid, "gid": self.gid,
            "timeout": timeout, "memory_mb": memory_mb, "output_bytes": output_bytes,
            "file_mb": file_mb, "processes": processes, "result": str(result),
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
                       [*self.notes, *data["notes"]])

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
            if not interpreter_usable(self.python, uid):
                f.close()
                self.notes.append(f"the sandbox user cannot run {self.python} (a directory above "
                                  "it is not world-searchable): the submission ran as root, "
                                  "so the grader's files were NOT protected")
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


_usable: dict[tuple[str, int], bool] = {}


def interpreter_usable(python: str, uid: int) -> bool:
    """Whether ``python`` starts (and imports json) as ``uid``; checked once per process."""
    key = (python, uid)
    if key not in _usable:
        try:
            done = subprocess.run([python, "-I", "-c", "import json"], user=uid, group=uid,
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


def supervise(req: dict) -> dict:
    """Run the request's command within its limits; return what happened."""
    notes = []
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        notes.append(f"no child subreaper: {os.strerror(ctypes.get_errno())}")
    read_end, write_end = os.pipe()
    user = {} if req["uid"] is None else {"user": req["uid"], "group": req["gid"],
                                          "extra_groups": []}
    start = time.monotonic()
    try:
        proc = subprocess.Popen(req["argv"], cwd=req["cwd"], env=req["env"],
                                stdin=subprocess.DEVNULL, stdout=write_end, stderr=write_end,
                                start_new_session=True, preexec_fn=_limits(req), umask=0o022,
                                **user)
    except (OSError, subprocess.SubprocessError) as exc:
        os.close(write_end)
        os.close(read_end)
        return {"error": f"could not start {req['argv'][0]}: {exc!r}"}
    os.close(write_end)
    drain = _Drain(read_end, req["output_bytes"])
    drain.start()
    timed_out = False
    try:
        returncode = proc.wait(timeout=max(0.0, req["timeout"] - (time.monotonic() - start)))
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc.pid)
        returncode = proc.wait()
    _kill_group(proc.pid)
    _reap_all()
    drain.join(timeout=5)
    if drain.is_alive():
        notes.append("output pipe still open after cleanup")
    return {"returncode": returncode, "timed_out": timed_out, "output": drain.text(),
            "notes": notes}


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
