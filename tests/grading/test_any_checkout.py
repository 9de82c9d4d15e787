"""Any checkout, any user: the red-team suite passes from a clone in a private folder (mode 700,
like ``mktemp -d`` or root's home) with a venv inside it, as root.

There the sandbox user can read neither the checkout nor the venv's packages, so the
interpreter check must import what the runner imports, and the tests' shim interpreter must
bring readable copies of the packages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def link_tree(source: Path, target: Path) -> None:
    """Copy a tree with hard links where possible (fast), plain copies otherwise."""
    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
    shutil.copytree(source, target, symlinks=True, copy_function=link, dirs_exist_ok=True)


@pytest.fixture
def private_clone():
    if os.geteuid() != 0:
        pytest.skip("needs root: the private folder is about root's checkout")
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout")
    private = Path(tempfile.mkdtemp())  # mode 700, like mktemp -d
    try:
        clone = private / "r"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        for changed in ("autograder", "tests"):  # this checkout's uncommitted state too
            link_tree(ROOT / changed, clone / changed)
        venv = clone / ".venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        site = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
        link_tree(Path(sysconfig.get_paths()["purelib"]), site)
        yield clone, venv / "bin" / "python"
    finally:
        shutil.rmtree(private)


def test_the_red_team_suite_passes_from_a_private_clone_as_root(private_clone):
    clone, python = private_clone
    assert os.stat(clone.parent).st_mode & 0o777 == 0o700
    proc = subprocess.run([str(python), "-m", "pytest", "tests/execution/test_redteam.py", "-q",
                           "-m", "not slow", "-p", "no:cacheprovider"],
                          cwd=clone, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "skipped" not in proc.stdout, proc.stdout[-3000:]
