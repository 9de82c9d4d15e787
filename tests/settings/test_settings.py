"""The settings tree is the one place settings are declared: documented fields, the generated
README and docs sections up to date, every Makefile knob and environment variable declared."""

from __future__ import annotations

import dataclasses
import re

import pytest

from autograder import settings
from autograder.settings import environment
from tests.conftest import ROOT


@pytest.mark.parametrize("name", settings.GENERATED)
def test_generated_sections_are_fresh(name):
    text = (ROOT / name).read_text()
    render = settings.GENERATED[name]
    assert settings.refreshed(text, render) == text, f"{name} is stale: run `make goldens`"


@pytest.mark.parametrize("group", settings.GROUPS, ids=lambda g: g.__name__)
def test_every_setting_has_a_description(group):
    docs = settings.field_docs(group)
    missing = [f.name for f in dataclasses.fields(group) if not docs.get(f.name)]
    assert missing == [], f"{group.__name__}: describe {missing} (a docstring under the field)"


def test_descriptions_are_read_from_the_declarations():
    assert settings.describe("limits.timeout").startswith("wall-clock seconds")
    assert settings.describe("q1.credit") == "partial credit for q1b"
    with pytest.raises(KeyError):
        settings.describe("limits.no_such_setting")


def test_every_make_grade_knob_is_declared_once():
    makefile = (ROOT / "Makefile").read_text()
    block = makefile.split("# make grade knobs", 1)[1].split("# make test knobs", 1)[0]
    in_makefile = set(re.findall(r"^([A-Z0-9_]+)\s*\?=", block, re.M))
    declared = [k.make for k in settings.KNOBS]
    assert len(declared) == len(set(declared))
    assert in_makefile == set(declared)


def test_every_environment_variable_the_code_uses_is_declared():
    sources = [p.read_text() for p in (ROOT / "autograder").rglob("*.py")]
    used = {name for text in sources for name in re.findall(r"\bDIS05_[A-Z_]+\b", text)}
    declared = {v.name for v in settings.ENVIRONMENT}
    assert used <= declared, f"declare {sorted(used - declared)} in settings.ENVIRONMENT"


def test_undeclared_environment_variables_are_refused():
    with pytest.raises(KeyError, match="not declared"):
        settings.env("DIS05_SOMETHING_ELSE")
    with pytest.raises(KeyError, match="not declared"):
        environment.declared("DIS05_GRADNIG")
    assert environment.declared("DIS05_GRADING") == "DIS05_GRADING"


def test_environment_values_are_read(monkeypatch):
    monkeypatch.setenv("DIS05_Q1_PROFILE", "gradescope")
    assert settings.env("DIS05_Q1_PROFILE") == "gradescope"
    assert settings.Settings().q1.profile == "gradescope"
    monkeypatch.setenv("DIS05_Q1_PROFILE", "")
    assert settings.Settings().q1.profile is None


def test_the_gradescope_script_passes_declared_flags_and_variables():
    """Every flag run_autograder passes is a declared option of ``gradescope``, and every
    DIS05_ variable it names (in its comments too) is declared and passed on."""
    from autograder.student.package import RUN_AUTOGRADER

    flags = set(re.findall(r"(--[a-z-]+)", RUN_AUTOGRADER.split("exec python", 1)[1]))
    declared = {o.flag for o in settings.OPTIONS["gradescope"]}
    assert flags and flags <= declared, flags - declared
    named = set(re.findall(r"\bDIS05_[A-Z0-9_]+", RUN_AUTOGRADER))
    assert named <= {v.name for v in settings.ENVIRONMENT}, named
    body = "\n".join(line for line in RUN_AUTOGRADER.splitlines() if not line.startswith("#"))
    assert named and all(name in body for name in named), [n for n in named if n not in body]


def test_settings_import_nothing_above_them():
    """The settings tree is the bottom layer: its modules import only the standard library and
    each other (so any module may read a setting)."""
    import ast

    from autograder import PACKAGE_DIR

    paths = sorted((PACKAGE_DIR / "settings").glob("*.py"))
    assert paths
    for path in paths:
        tree = ast.parse(path.read_text())
        imported = {node.module for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module} | {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
            for alias in node.names}
        ours = {name for name in imported if name.startswith("autograder")}
        # may be empty: a settings module need import nothing of the grader's
        assert all(name.startswith("autograder.settings") for name in ours), (path.name, ours)


def test_review_stages_are_stages():
    from autograder.report.results import Stage

    stages = settings.ReviewPolicy().review_stages
    assert stages and all(Stage(s) for s in stages)
