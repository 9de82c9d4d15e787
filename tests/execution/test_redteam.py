"""Hostile submissions: limits, cleanup and isolation hold whatever the notebook does.

Run as root (as here and on Gradescope), submissions run under their own unprivileged uid; the
tests that depend on it need an interpreter that uid can execute. When the grader's own is not
(here it lives under /root, mode 700), the ``sandbox_python`` fixture builds a throwaway venv
shim on the system's python of the same version that sees this venv's packages.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

from autograder import answers
from autograder.execution import runner, sandbox
from autograder.execution.execute import execute_notebook
from autograder.execution.machine import memory_cap_mb
from autograder.settings.limits import Limits

try:
    from tests.execution.test_execute import run, values, write_notebook
except ImportError:  # pytest put tests/ itself on sys.path
    from test_execute import run, values, write_notebook

pytestmark = pytest.mark.redteam
REPO = Path(__file__).resolve().parents[2]


def limits(python: str = "", **kw) -> Limits:
    return Limits(**{"timeout": 8, "cell_timeout": 3, "python": python, **kw})


@pytest.fixture(scope="session")
def sandbox_python():
    """An interpreter an unprivileged uid can run, with this venv's packages; skips if none."""
    if os.geteuid() != 0:
        pytest.skip("needs root: submissions then run under their own uid")
    probe_uid = sandbox.UID_BASE + sandbox.SLOTS - 1
    if sandbox.interpreter_usable(sys.executable, probe_uid):
        yield sys.executable
        return
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(f"python{version}", path="/usr/local/bin:/usr/bin:/bin")
    if system is None:
        pytest.skip(f"no world-executable python{version} for the sandbox user")
    root = Path(tempfile.mkdtemp(prefix="dis05-shim-"))
    try:
        site = root / "lib" / f"python{version}" / "site-packages"
        site.mkdir(parents=True)
        (root / "bin").mkdir()
        (root / "bin" / "python").symlink_to(system)
        (root / "pyvenv.cfg").write_text(f"home = {Path(system).parent}\n"
                                         "include-system-site-packages = false\n")
        for p in [root, *root.rglob("*")]:
            if not p.is_symlink():
                p.chmod(0o755 if p.is_dir() else 0o644)
        packages = [visible_copy(Path(p), site / f"packages-{i}")
                    for i, p in enumerate(p for p in sys.path if p.endswith("site-packages"))]
        (site / "grader-venv.pth").write_text("\n".join(map(str, packages)) + "\n")
        (site / "grader-venv.pth").chmod(0o644)
        shim = str(root / "bin" / "python")
        if not sandbox.interpreter_usable(shim, probe_uid, runner.IMPORTS):
            pytest.skip("the sandbox user cannot run the shim interpreter either")
        yield shim
    finally:
        shutil.rmtree(root)


def visible_copy(packages: Path, copy: Path) -> Path:
    """``packages`` itself if the sandbox user can reach it, else a copy it can read: hard links
    where possible (fast, same files), plain copies otherwise. A checkout in a private folder
    (``mktemp -d``, root's home) keeps its venv out of that user's reach."""
    if sandbox._world_searchable(packages):
        return packages

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    shutil.copytree(packages, copy, symlinks=True, copy_function=link)
    for d in [copy, *(p for p in copy.rglob("*") if p.is_dir() and not p.is_symlink())]:
        d.chmod(d.stat().st_mode | 0o555)
    return copy


def gone(pid: int) -> bool:
    """True if ``pid`` no longer exists (or is a zombie about to be reaped by init)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


# ----------------------------------------------------------------------------- time

@pytest.mark.slow
def test_a_loop_that_ignores_every_signal_is_killed_and_earlier_answers_kept(tmp_path):
    start = time.monotonic()
    ex = run(tmp_path, [
        "a = 1",
        "import signal\nfor s in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT):\n"
        "    signal.signal(s, signal.SIG_IGN)\n"
        "while True:\n    try:\n        while True:\n            pass\n"
        "    except BaseException:\n        pass",
        "b = 2",
    ], ["a", "b"], limits=limits(timeout=4, cell_timeout=1))
    assert ex.status == "timeout" and values(ex) == {"a": 1}
    assert time.monotonic() - start < 4 + 3
    assert "killed at the time limit" in ex.log


@pytest.mark.slow
def test_a_loop_that_swallows_keyboardinterrupt_is_killed(tmp_path):
    ex = run(tmp_path, [
        "a = 1",
        "while True:\n    try:\n        while True:\n            pass\n"
        "    except KeyboardInterrupt:\n        print('swallowed')",
    ], ["a"], limits=limits(timeout=4, cell_timeout=1))
    assert ex.status == "timeout" and values(ex) == {"a": 1} and "swallowed" in ex.log


def test_the_cell_time_limit_stops_one_cell_and_the_run_goes_on(tmp_path):
    ex = run(tmp_path, ["a = 1", "while True: pass", "b = 2"], ["a", "b"],
             limits=limits(cell_timeout=1))
    assert ex.status == "ok" and values(ex) == {"a": 1, "b": 2}
    assert "cell 2 stopped after 1 s" in ex.log
    assert ex.stopped_cells == [2]


def test_the_student_is_told_about_a_stopped_cell():
    from autograder.report.results import SubmissionResult, summary_message

    told = summary_message(SubmissionResult("s", "ok", details={"stopped_cells": 1}))
    assert told.startswith("Your notebook ran to the end.") and "1 cell(s) ran past" in told
    assert "past" not in summary_message(SubmissionResult("s", "ok"))


def test_ignoring_sigalrm_in_one_cell_does_not_disable_the_limit_for_later_cells(tmp_path):
    ex = run(tmp_path, ["import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\na = 1",
                        "while True:\n    pass", "b = 2"], ["a", "b"],
             limits=limits(cell_timeout=1))
    assert ex.status == "ok" and values(ex) == {"a": 1, "b": 2}


# ----------------------------------------------------------------------------- exits

@pytest.mark.parametrize("code", ["os._exit(0)", "os._exit(7)", "os.kill(os.getpid(), 9)",
                                  "os.abort()"])
def test_process_death_after_answers_keeps_them(tmp_path, code):
    ex = run(tmp_path, ["a = 1", f"import os\n{code}", "b = 2"], ["a", "b"])
    assert ex.status == "crashed" and values(ex) == {"a": 1} and ex.cells_run == 1


def test_sys_exit_and_raising_systemexit_are_logged(tmp_path):
    ex = run(tmp_path, ["import sys\na = 1\nsys.exit(0)", "raise SystemExit('bye')", "b = 2"],
             ["a", "b"])
    assert ex.status == "ok" and values(ex) == {"a": 1, "b": 2}


def test_closing_stdout_and_stderr(tmp_path):
    ex = run(tmp_path, ["a = 1\nimport os, sys\nos.close(1)\nos.close(2)",
                        "sys.stdout.close()\nprint('lost?')",
                        "b = 2\nprint('still-printing')"], ["a", "b"])
    assert ex.status == "ok" and values(ex) == {"a": 1, "b": 2}
    assert "still-printing" in ex.log


def test_printing_200_mb_is_capped(tmp_path):
    ex = run(tmp_path, ["a = 1", "import sys\nchunk = 'y' * 1_000_000 + '\\n'\n"
                        "for _ in range(200):\n    sys.stdout.write(chunk)", "b = 2"],
             ["a", "b"], limits=limits(timeout=30, cell_timeout=20, output_bytes=100_000))
    assert ex.status == "ok" and values(ex) == {"a": 1, "b": 2}
    assert len(ex.log) < 110_000 and "[output truncated" in ex.log


# ----------------------------------------------------------------------------- processes

ESCAPE = """
import os, subprocess, sys, time
pids = {'runner': os.getpid()}
p = subprocess.Popen(['sleep', '1000'], start_new_session=True)
pids['setsid'] = p.pid
r, w = os.pipe()
if os.fork() == 0:                       # double fork: the grandchild is a daemon
    os.setsid()
    if os.fork() == 0:
        os.write(w, str(os.getpid()).encode()); time.sleep(1000)
    os._exit(0)
pids['daemon'] = int(os.read(r, 20))
pids_text = repr(pids)
try:  # outside a private view (the answers do not come back when the grader gives up)
    open(PIDFILE, 'w').write(pids_text)
except OSError:
    pass
a = 1
"""


@pytest.mark.parametrize("ending", [
    "", "os._exit(0)", pytest.param("while True:\n    pass", marks=pytest.mark.slow)])
@pytest.mark.parametrize("view", [True, False], ids=["private view", "no view"])
def test_background_processes_do_not_outlive_grading(tmp_path, ending, view):
    """Without a view, here as the grader's own user: the supervisor (a subreaper) finds and
    kills them."""
    ex, pids = run_escape(tmp_path, ending, limits(timeout=3, cell_timeout=1, private_view=view))
    assert values(ex)["a"] == 1 and len(pids) == 3
    assert all(gone(pid) for pid in pids.values()), pids


def test_background_processes_of_an_unprivileged_run_do_not_survive(tmp_path, sandbox_python):
    ex, pids = run_escape(tmp_path, "os._exit(0)", limits(sandbox_python))
    assert values(ex)["a"] == 1 and len(pids) == 3 and all(gone(pid) for pid in pids.values()), pids


def run_escape(tmp_path, ending, lim):
    shared = Path(tempfile.mkdtemp(prefix="dis05-test-"))  # pytest's tmp_path is root-only
    shared.chmod(0o777)
    try:
        pidfile = shared / "pids.txt"
        ex = run(tmp_path, [ESCAPE.replace("PIDFILE", repr(str(pidfile))), ending],
                 ["a", "pids_text"], limits=lim)
        text = values(ex).pop("pids_text")
        return ex, eval(text)  # noqa: S307 - written by our own test notebook
    finally:
        if (shared / "pids.txt").exists():
            _last_pids[:] = eval((shared / "pids.txt").read_text()).values()  # noqa: S307
        shutil.rmtree(shared)


_last_pids: list[int] = []


def test_a_memory_hog_hits_the_cap(tmp_path):
    assert memory_cap_mb(Limits()) < 20 * 1024
    ex = run(tmp_path, ["a = 1", "import numpy as np\nbig = np.ones(20 * 2**30 // 8)", "b = 2"],
             ["a", "b"], limits=limits())
    assert ex.status == "ok" and values(ex) == {"a": 1, "b": 2} and "MemoryError" in ex.log


def test_dying_after_a_memory_error_is_status_memory(tmp_path):
    ex = run(tmp_path, ["a = 1", "x = bytearray(20 * 2**30)",
                        "import os\nos.kill(os.getpid(), 9)"], ["a"], limits=limits(memory_mb=2048))
    assert ex.status == "memory" and values(ex) == {"a": 1}


@pytest.mark.slow  # torch's import in a sandboxed notebook: seconds, like the notebook runs
def test_torch_imports_under_the_default_memory_cap(tmp_path):
    ex = run(tmp_path, ["import torch\nt = torch.ones(3) @ torch.ones(3)"], ["t"],
             limits=Limits(timeout=60, cell_timeout=60))
    assert ex.status == "ok" and values(ex) == {"t": 3.0}


FORK_BOMB = """
import os, time
kids = []
try:
    for _ in range(500):
        pid = os.fork()
        if pid == 0:
            time.sleep(1000)
        kids.append(pid)
except OSError as e:
    err = type(e).__name__
n = len(kids)
"""


def test_a_fork_bomb_is_capped_and_cleaned_up(tmp_path, sandbox_python):
    ex = run(tmp_path, [FORK_BOMB], ["n", "err"], limits=limits(sandbox_python, processes=40))
    got = values(ex)
    assert got["n"] < 40 and got["err"] == "BlockingIOError"


# ----------------------------------------------------------------------------- isolation

@pytest.fixture
def secret_dir(tmp_path):
    """A root-only 0700 directory, like Gradescope's /autograder/source, with our worksheet."""
    secret = tmp_path / "source"
    secret.mkdir(mode=0o700)
    shutil.copy(REPO / "autograder" / "worksheet" / "__init__.py", secret / "worksheet.py")
    return secret


@pytest.mark.parametrize("view", [True, False], ids=["private view", "sandbox uid only"])
def test_the_grader_and_its_reference_answers_are_out_of_reach(tmp_path, sandbox_python,
                                                                secret_dir, view):
    target = secret_dir / "worksheet.py"
    ex = run(tmp_path, [
        "import os, sys\nuid = os.getuid()\nsys_path = [p for p in sys.path if 'autograder' in p]",
        "try:\n    import autograder\n    imported = 'yes'\nexcept ImportError as e:\n"
        "    imported = type(e).__name__",
        f"try:\n    secret = open({str(target)!r}).read()[:50]\nexcept OSError as e:\n"
        "    secret = type(e).__name__",
        f"try:\n    listing = os.listdir({str(secret_dir)!r})\nexcept OSError as e:\n"
        "    listing = type(e).__name__",
        "try:\n    os.kill(os.getppid(), 9)\n    killed = 'yes'\nexcept OSError as e:\n"
        "    killed = type(e).__name__",
        "try:\n    parent = os.listdir('..')\nexcept OSError as e:\n    parent = type(e).__name__",
        "import json\nconfig = json.load(open([a for a in sys.argv if a.endswith('.json')][0]))\ntry:\n"
        "    open(config['answers'], 'a').write('x = 1')\n    tampered = 'yes'\n"
        "except OSError as e:\n    tampered = type(e).__name__",
    ], ["uid", "sys_path", "imported", "secret", "listing", "killed", "parent", "tampered"],
        limits=limits(sandbox_python, private_view=view))
    got = values(ex)
    assert got["uid"] >= sandbox.UID_BASE and ex.status == "ok"
    hidden = "FileNotFoundError" if view else "PermissionError"  # not there, or not readable
    assert got == {**got, "sys_path": [], "imported": "ModuleNotFoundError",
                   "secret": hidden, "listing": hidden,
                   "killed": "PermissionError", "parent": "PermissionError",
                   "tampered": "PermissionError"}


def test_the_snapshot_cannot_be_turned_into_a_symlink_to_a_secret(tmp_path, sandbox_python,
                                                                   secret_dir):
    # the student finds its snapshot path in its own command line and swaps it for a symlink
    code = ("import json, os, sys\nconfig = json.load(open([a for a in sys.argv if a.endswith('.json')][0]))\n"
            "snap = config['snapshot']\nos.remove(snap) if os.path.exists(snap) else None\n"
            f"os.symlink({str(secret_dir / 'worksheet.py')!r}, snap)\nos._exit(0)")
    ex = run(tmp_path, ["a = 1", code], ["a"], limits=limits(sandbox_python))
    assert ex.answers == {} and ex.status == "crashed"
    assert "Question" not in ex.log  # nothing of the secret file came back


def test_forged_results_files_and_output_gain_nothing(tmp_path, sandbox_python):
    results_like = tmp_path / "results"
    results_like.mkdir(mode=0o777)
    results_like.chmod(0o777)
    fake = json.dumps({"score": 100, "answers": {"a": {"t": "int", "v": "999"}}})
    code = f"""
import os, json
fake = {fake!r}
written = []
for path in ['results.json', '../results.json', os.path.expanduser('~/results.json'),
             {str(results_like / 'results.json')!r}, '/autograder/results/results.json']:
    try:
        open(path, 'w').write(fake); written.append(path)
    except OSError:
        pass
print(fake)
a = 1
"""
    ex = run(tmp_path, [code], ["a", "written"], limits=limits(sandbox_python))
    assert values(ex)["a"] == 1 and ex.status == "ok"
    assert "../results.json" not in values(ex)["written"]
    assert set(ex.answers) == {"a", "written"}


def test_patching_json_and_builtins_only_affects_the_students_own_answers(tmp_path):
    hostile = run(tmp_path, [
        "import json, builtins\njson.dumps = lambda *a, **k: '{\"answers\": {}}'\n"
        "builtins.isinstance = lambda *a: True\nbuiltins.type = lambda *a: int\na = 7"], ["a"])
    assert hostile.status == "ok" and values(hostile) == {"a": 7}
    assert json.dumps({"x": 1}) == '{"x": 1}' and isinstance(1, int)
    clean = run(tmp_path, ["a = 8"], ["a"])
    assert values(clean) == {"a": 8}


def test_concurrent_submissions_get_different_users(tmp_path, sandbox_python):
    books = [write_notebook(tmp_path / f"s{i}.ipynb", ["import os, time\ntime.sleep(1)\n"
                                                        "uid = os.getuid()"]) for i in range(2)]
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda b: execute_notebook(b, variables=["uid"],
                                                        limits=limits(sandbox_python)), books))
    uids = {answers.decode(ex.answers["uid"]) for ex in runs}
    assert len(uids) == 2 and all(u >= sandbox.UID_BASE for u in uids)


def test_nothing_is_left_behind_by_a_hostile_run(tmp_path, sandbox_python):
    boxes = Path(tempfile.mkdtemp(prefix="dis05-test-"))  # pytest's tmp_path is root-only
    boxes.chmod(0o755)
    try:
        ex = run(tmp_path, ["import os\nos.makedirs('a/b/c')\nopen('a/b/c/f', 'w').write('x')\n"
                            "os.chmod('a/b', 0)\nos.chmod('.', 0o500)\nv = 1"], ["v"],
                 limits=limits(sandbox_python), workdir=boxes)
        assert values(ex) == {"v": 1} and list(boxes.iterdir()) == []
    finally:
        shutil.rmtree(boxes)


def test_a_grader_that_gives_up_on_its_supervisor_still_kills_everything(tmp_path, monkeypatch):
    # wait 1 s for a supervisor allowed 3 s (plus the time it may take to exit)
    monkeypatch.setattr(sandbox, "GRACE_S", -2.0 - Limits().exit_seconds)
    with pytest.raises(sandbox.SandboxError):
        run_escape(tmp_path, "while True:\n    pass",  # the pids come back in a shared file
                   limits(timeout=3, cell_timeout=3, private_view=False))
    pids = [int(p) for p in _last_pids]
    assert pids and all(gone(pid) for pid in pids)


def test_a_workdir_the_sandbox_user_cannot_reach_is_replaced(tmp_path, sandbox_python):
    (tmp_path / "boxes").mkdir()  # under pytest's root-only tmp_path
    ex = run(tmp_path, ["a = 1"], ["a"], limits=limits(sandbox_python), workdir=tmp_path / "boxes")
    assert values(ex) == {"a": 1} and "not reachable by the sandbox user" in ex.log
    assert list((tmp_path / "boxes").iterdir()) == []
