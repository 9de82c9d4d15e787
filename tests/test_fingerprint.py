"""One fingerprint for the grader; what editing a module invalidates is declared once."""

from __future__ import annotations

import pytest

from autograder import fingerprint as fp
from autograder import source_files
from autograder.fingerprint import Scope


@pytest.fixture
def package(tmp_path, monkeypatch):
    """Three modules, one of each partition, in a package of their own."""
    files = {"cli.py": "shown = 1\n", "checks/scalar.py": "checked = 1\n",
             "execution/sandbox.py": "run = 1\n"}
    paths = {}
    for name, text in files.items():
        paths[name] = tmp_path / name
        paths[name].parent.mkdir(parents=True, exist_ok=True)
        paths[name].write_text(text)
    monkeypatch.setattr(fp, "source_files", lambda: dict(sorted(paths.items())))
    return paths


def _all() -> dict[Scope, str]:
    return {scope: fp.fingerprint(scope) for scope in Scope}


@pytest.mark.parametrize("module, changed", [
    ("cli.py", {Scope.WORKER}),
    ("checks/scalar.py", {Scope.WORKER, Scope.GRADE}),
    ("execution/sandbox.py", {Scope.WORKER, Scope.GRADE, Scope.RUN}),
])
def test_editing_a_module_changes_the_scopes_it_belongs_to(package, module, changed):
    before = _all()
    package[module].write_text("edited = 2\n")
    after = _all()
    assert {scope for scope in Scope if before[scope] != after[scope]} == changed


def test_parts_are_part_of_the_fingerprint(package):
    assert fp.fingerprint(Scope.GRADE, 1) != fp.fingerprint(Scope.GRADE, 2)
    assert fp.fingerprint(Scope.GRADE, b"x") == fp.fingerprint(Scope.GRADE, b"x")


def test_every_declared_module_exists():
    names = set(source_files())
    assert fp.PRESENTATION <= names and fp.CHECKING <= names
    assert fp.CHECKING_FOLDERS
    assert all(any(n.startswith(folder) for n in names) for folder in fp.CHECKING_FOLDERS)
