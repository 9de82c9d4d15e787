"""During a class run a submission sees nothing but itself (issue 22).

A thief notebook answers nothing itself: it walks the file system for notebooks it can read and
runs the Q2 answer lines of a classmate's, and tries to list or read the honest run's folder,
OUT, the submissions folder and a home folder. It is graded beside that honest notebook with 2
jobs by ``make grade``'s command, in each setting this machine allows: as root (a private view
in a mount namespace), with the private view forced off (the fallback: the terminal and the
report say so, and ``--require-isolation`` refuses), and as an ordinary user (a user
namespace) where one can run an interpreter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from autograder import cli, report
from autograder.execution import execute, runner, sandbox
from autograder.settings.limits import Limits

try:
    from tests.execution.test_execute import values, write_notebook
    from tests.execution.test_redteam import sandbox_python  # noqa: F401 (a fixture)
except ImportError:  # pytest put tests/ itself on sys.path
    from test_execute import values, write_notebook
    from test_redteam import sandbox_python  # noqa: F401

pytestmark = [pytest.mark.redteam, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]

HONEST = ["# HONEST-CLASSMATE\nq2a_out_dim = 7\nq2b_out_dim = 9\nq2h_input_shape = (3, 256, 256)\n"
          "q2h_kernel_shape = (32, 3, 5, 5)\nq2i_output_shape = (32, 126, 126)",
          # stay alive until the thief has looked, where the test's folder is visible at all
          "import os, time\nend = time.time() + 60\n"
          "while os.path.isdir(MARKER) and not os.path.exists(MARKER + '/found') "
          "and time.time() < end:\n    time.sleep(0.1)"]

THIEF = r"""
import json, os, time
TOKEN = "HONEST-" + "CLASSMATE"
PRUNE = {"proc", "sys", "dev", "usr", "lib", "lib64", "etc", "boot", "var", "snap", ".venv",
         ".git", "site-packages", ".pyenv", ".cache", "node_modules"}

def find():
    for top, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if d not in PRUNE]
        for name in files:
            if name.endswith(".ipynb"):
                path = os.path.join(top, name)
                try:
                    text = open(path).read()
                except OSError:
                    continue
                if TOKEN in text:
                    return path, text
    return None, None

def attempt(path):
    try:
        return sorted(os.listdir(path)) if os.path.isdir(path) else open(path).read()[:100]
    except OSError as e:
        return type(e).__name__

deadline = time.time() + (60 if os.path.isdir(MARKER) else 5)
path, text = None, None
while path is None and time.time() < deadline:
    path, text = find()
    time.sleep(0.2)
if path is not None:
    for cell in json.loads(text)["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for line in source.splitlines():
            if line.startswith("q2"):
                exec(line)
    try:
        open(MARKER + "/found", "w").close()
    except OSError:
        pass
seen = {name: attempt(p) for name, p in TARGETS.items()}
seen["tmp"] = attempt("/tmp")
seen["honest run"] = attempt(os.path.dirname(path)) if path else None
print("THIEF " + json.dumps({"stole from": path, "seen": seen}))
"""


def notebooks(folder: Path, marker: Path, targets: dict[str, str]) -> list[Path]:
    folder.mkdir(mode=0o755, exist_ok=True)
    setup = f"MARKER = {str(marker)!r}\nTARGETS = {targets!r}"
    honest = write_notebook(folder / "honest.ipynb", [setup, *HONEST])
    thief = write_notebook(folder / "thief.ipynb", [setup, THIEF])
    for p in (folder, honest, thief):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return [thief, honest]


def scene(base: Path) -> tuple[list[Path], Path, dict[str, str]]:
    """The thief and the honest notebook, OUT, a marker folder and a TA's home folder with a
    world-readable notebook export, all under ``base``."""
    for name in ("marker", "home", "out"):
        (base / name).mkdir(mode=0o777)
        (base / name).chmod(0o777)
    export = base / "home" / "exports"
    export.mkdir(mode=0o755)
    (export / "grades.csv").write_text("alice,10\n")
    (export / "grades.csv").chmod(0o644)
    targets = {"out": str(base / "out"), "submissions": str(base / "subs"),
               "home": str(base / "home"), "home file": str(export / "grades.csv")}
    return notebooks(base / "subs", base / "marker", targets), base / "out", targets


def thief_report(out: Path) -> dict:
    records = {r["result"].submission: r["result"] for r in report.read_records(out)}
    line = next(x for x in records["thief"].log.splitlines() if x.startswith("THIEF "))
    return {**json.loads(line.removeprefix("THIEF ")),
            "scores": {name: r.score for name, r in records.items()}}


@pytest.fixture
def base():
    folder = Path(tempfile.mkdtemp(prefix="dis05-thief-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def fresh_isolation(monkeypatch):
    """Each test finds the machine's isolation again (the verdict is cached per process)."""
    monkeypatch.setattr(sandbox, "_isolation", {})


def mount_namespaces() -> bool:
    """Whether this process may make a mount namespace at all (in a short-lived child)."""
    code = (f"import ctypes, sys\nsys.exit(ctypes.CDLL(None).unshare({sandbox.CLONE_NEWNS}))")
    return subprocess.run([sys.executable, "-I", "-c", code]).returncode == 0


def grade(paths: list[Path], out: Path, *flags: str) -> int:
    return cli.main(["grade", *map(str, paths), "--out", str(out), "--no-q1", "--jobs", "2",
                     "--overrides", "", *flags])


def assert_nothing_seen(got: dict, targets: dict[str, str], interpreter: str = "") -> None:
    assert got["stole from"] is None and got["scores"]["thief"] == 0
    assert got["scores"]["honest"] > 0
    for name in targets:  # not there at all, or not readable
        assert got["seen"][name] in ("FileNotFoundError", "PermissionError"), name
    tmp = got["seen"]["tmp"]  # its own run folder only (and the interpreter's, if it is there)
    if interpreter.startswith("/tmp/"):
        tmp.remove(Path(interpreter).parts[2])
    assert len(tmp) == 1 and tmp[0].startswith("dis05-"), tmp


def test_as_root_the_thief_gets_nothing(base, fresh_isolation, capsys, no_plots):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    if not mount_namespaces():
        pytest.skip("the kernel refuses mount namespaces here (a container without the right)")
    assert execute.isolation().private, execute.isolation().why
    paths, out, targets = scene(base)
    assert grade(paths, out, "--require-isolation") == 0
    assert_nothing_seen(thief_report(out), targets)
    assert "warning:" not in capsys.readouterr().err
    assert "id='notices'" not in (out / "report.html").read_text()


def test_in_the_fallback_staff_are_told_and_isolation_can_be_required(
        base, fresh_isolation, monkeypatch, capsys, no_plots):
    monkeypatch.setattr(sandbox, "_try_private_view", lambda *a: "simulated: no namespaces")
    paths, out, _ = scene(base)
    assert grade(paths, out / "required", "--require-isolation") == 2
    err = capsys.readouterr().err
    assert "simulated: no namespaces" in err and "--require-isolation refuses" in err
    assert not (out / "required" / "grades.csv").exists()

    assert grade(paths, out) == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and err.count("simulated: no namespaces") == 1
    page = (out / "report.html").read_text()
    assert page.count("simulated: no namespaces") == 1
    assert page.index("id='notices'") < page.index("id='summary'")
    got = thief_report(out)
    if execute.isolation().level is sandbox.Level.NONE:  # this machine: the student ran as root
        assert got["stole from"] and got["scores"]["thief"] == got["scores"]["honest"] > 0
        assert got["seen"]["home file"] == "alice,10\n"


def test_as_an_ordinary_user_a_user_namespace_hides_everything(base, sandbox_python):
    """The grader itself runs as ``nobody``, with an interpreter that user can run."""
    paths, out, targets = scene(base)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(base / "home"), "LANG": "C.UTF-8",
           "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sandbox_python, "-m",
         "autograder", "grade", *map(str, paths), "--out", str(out), "--no-q1", "--jobs", "2",
         "--overrides", "", "--require-isolation"],
        cwd=base, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode == 2 and "--require-isolation refuses" in done.stderr:
        pytest.skip(f"no user namespaces for an ordinary user here: {done.stderr[-300:]}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "warning:" not in done.stderr
    assert_nothing_seen(thief_report(out), targets, interpreter=sandbox_python)


def test_a_python_under_a_private_folder_gets_full_isolation(tmp_path, fresh_isolation):
    """The situation of a fresh clone in ``mktemp -d`` as root: its venv (and the interpreter
    it points to) are in folders the sandbox user cannot enter. Built here as a venv in a
    mode-700 temporary folder that uses this environment's packages."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    private = Path(tempfile.mkdtemp())  # mode 700, as mktemp -d
    try:
        venv = private / "clone" / ".venv"
        venv.parent.mkdir(mode=0o755)
        (venv.parent / "solutions.ipynb").write_text("{}")  # the checkout's other files
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        site = next(venv.glob("lib/python*/site-packages"))
        ours = [p for p in sys.path if p.endswith("site-packages")]
        (site / "grader.pth").write_text("\n".join(ours) + "\n")
        python = str(venv / "bin" / "python")
        assert not sandbox.interpreter_usable(python, sandbox.PROBE_UID, runner.IMPORTS)
        found = sandbox.isolation_for(python, runner.IMPORTS)
        assert found.level is sandbox.Level.PRIVATE, found.why
        ex = execute.execute_notebook(
            write_notebook(tmp_path / "s.ipynb", ["import os\nuid = os.getuid()\n"
                                                  f"clone = os.listdir({str(venv.parent)!r})"]),
            variables=["uid", "clone"], limits=Limits(timeout=60, cell_timeout=30,
                                                      python=python))
        got = values(ex)
        assert ex.status == "ok" and got["uid"] >= sandbox.UID_BASE, ex.log
        assert got["clone"] == [".venv"]  # the venv only, not the checkout's other files
    finally:
        shutil.rmtree(private)
