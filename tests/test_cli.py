"""The CLI's flags are the settings tree's: each is declared once in ``settings.OPTIONS``, its
``--help`` is its setting's description and default, and what it parses lands on that setting."""

from __future__ import annotations

import argparse
import re

import pytest

from autograder import cli, settings
from tests.conftest import ROOT

PARSER = cli.build_parser()
COMMANDS = next(a for a in PARSER._actions if isinstance(a, argparse._SubParsersAction)).choices
CASES = [(command, o) for command, options in settings.OPTIONS.items() for o in options]
SETTING_CASES = [(command, o) for command, o in CASES if o.setting]
VALUE = {int: "7", float: "7.5", str: "tcp://elsewhere:8786"}
"""a value no default has, by the setting's type"""


def ids(case) -> str:
    return f"{case[0]} {case[1].flag}" if isinstance(case, tuple) else str(case)


def action(command: str, flag: str) -> argparse.Action:
    return next(a for a in COMMANDS[command]._actions
                if flag in a.option_strings or (not a.option_strings and a.dest == flag))


@pytest.mark.parametrize("command", settings.OPTIONS)
def test_every_flag_of_a_command_is_declared(command):
    parsed = {a.option_strings[0] if a.option_strings else a.dest
              for a in COMMANDS[command]._actions if a.dest != "help"}
    declared = [o.flag for o in settings.OPTIONS[command]]
    assert len(declared) == len(set(declared))
    assert parsed == set(declared), "declare the flag in settings.OPTIONS"


@pytest.mark.parametrize(("command", "option"), SETTING_CASES, ids=[ids(c) for c in SETTING_CASES])
def test_a_settings_flag_says_what_its_setting_says(command, option):
    if option.switch:  # on/off: no default shown
        assert settings.describe(option.setting).startswith(action(command, option.flag).help)
        return
    described, _, shown = action(command, option.flag).help.rpartition(" (default: ")
    assert described and settings.describe(option.setting).startswith(described)
    assert shown == f"{option.shown_default or settings.shown(settings.default(option.setting))})"


@pytest.mark.parametrize(("command", "option"), [c for c in CASES if not c[1].setting],
                         ids=[ids(c) for c in CASES if not c[1].setting])
def test_any_other_flag_says_what_its_declaration_says(command, option):
    assert option.help and action(command, option.flag).help.startswith(option.help)


def parse(command: str, *flags: str) -> argparse.Namespace:
    positional = ["a.ipynb"] if command == "grade" else []
    return PARSER.parse_args([command, *positional, *flags])


@pytest.mark.parametrize(("command", "option"), SETTING_CASES, ids=[ids(c) for c in SETTING_CASES])
def test_a_settings_flag_sets_its_setting(command, option):
    group, _, name = option.setting.partition(".")
    base = settings.default(group)
    if option.switch:  # on/off: the flag alone sets it
        assert getattr(cli._set(parse(command, option.flag), group, base), name) is True
        assert cli._set(parse(command), group, base) == base
        return
    value = settings.kind(option.setting)(VALUE[settings.kind(option.setting)])
    assert getattr(cli._set(parse(command, option.flag, str(value)), group, base), name) == value
    assert cli._set(parse(command), group, base) == base  # unset: the tree's default


VALUED = [(c, o) for c, o in CASES if o.flag.startswith("-") and not o.switch]


@pytest.mark.parametrize(("command", "option"), VALUED, ids=[ids(c) for c in VALUED])
def test_a_flag_parses_to_its_declared_type(command, option):
    value = getattr(parse(command, option.flag, VALUE[option.parse]), option.dest)
    assert type(value) is option.parse
    default = getattr(parse(command), option.dest)
    assert option.setting == "" or default is None  # a setting's default lives in the tree only


@pytest.mark.parametrize(("flags", "notebook_seconds", "timeout"), [
    ((), settings.Machine().notebook_seconds, settings.Machine().notebook_seconds),
    (("--timeout", "42"), 42.0, 42.0),
])
def test_on_gradescope_the_timeout_is_the_machines_notebook_budget(flags, notebook_seconds,
                                                                  timeout):
    machine, limits = cli._gradescope_settings(parse("gradescope", *flags))
    assert (machine.notebook_seconds, limits.timeout) == (notebook_seconds, timeout)


def test_the_makefile_passes_every_knob_by_its_flag():
    makefile = (ROOT / "Makefile").read_text()
    grade_flags = makefile.split("GRADE_FLAGS :=", 1)[1].split("PYTEST_FLAGS", 1)[0]
    passed = set(re.findall(r"(--[a-z0-9-]+)", grade_flags))
    assert passed == {k.flag for k in settings.KNOBS if k.flag.startswith("-")}


def broken_overrides(tmp_path, monkeypatch):
    (tmp_path / "overrides.yaml").write_text("[not: valid\n")
    return [str(tmp_path / "absent.ipynb"), "--overrides", str(tmp_path / "overrides.yaml")], [
        f"error: {tmp_path / 'overrides.yaml'}:2: not valid YAML",
        "error: fix the overrides file (or pass --overrides '') and rerun"]


def broken_catalogue(tmp_path, monkeypatch):
    import autograder.checks

    monkeypatch.setattr(autograder.checks, "catalogue_problems", lambda: ["q2a: two entries"])
    return [str(tmp_path / "absent.ipynb")], [
        "error: the catalogue of mistakes (autograder/worksheet/mistakes.py) needs fixing before "
        "grading:\n  q2a: two entries"]


def missing_submission(tmp_path, monkeypatch):
    return [str(tmp_path / "absent.ipynb")], [
        f"error: no such submission file or folder: {tmp_path / 'absent.ipynb'}"]


@pytest.mark.parametrize("case", [broken_overrides, broken_catalogue, missing_submission])
def test_grade_refuses_with_an_error_and_exit_code_2(case, tmp_path, monkeypatch, capsys):
    """Each refusal is said on stderr, one error after another, before anything is written."""
    args, expected = case(tmp_path, monkeypatch)
    code = cli.main(["grade", "--out", str(tmp_path / "out"), "--no-q1", "--overrides", "",
                     *args])
    errors = re.split(r"^(?=error: )", capsys.readouterr().err, flags=re.M)[1:]
    assert code == 2
    assert len(errors) == len(expected)
    assert [e for e, want in zip(errors, expected) if not e.startswith(want)] == []
    assert not (tmp_path / "out").exists()


def test_a_grading_line_names_the_status_with_its_reason():
    from autograder.report.results import Status, SubmissionResult

    line = cli._line(SubmissionResult("dave", Status.INVALID, reason="not valid JSON"))
    assert line.split()[:2] == ["dave", "0/0"] and "invalid notebook: not valid JSON" in line


def test_the_gradescope_entry_point_turns_its_own_failure_into_a_row_per_question(
        tmp_path, monkeypatch, capsys):
    import json

    from autograder.grading import intake
    from autograder.report.results import GRADER_FAILED
    from autograder.worksheet import QUESTIONS

    def broken(*args):
        raise RuntimeError("bug in the entry point")

    monkeypatch.setattr(intake, "choose_notebook", broken)
    assert cli.main(["gradescope", "--root", str(tmp_path), "--no-q1", "--overrides", ""]) == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    visible = [t for t in results["tests"] if t["visibility"] == "visible"]
    staff = next(t for t in results["tests"] if t["name"] == "Staff log")["output"]
    assert len(visible) == len(QUESTIONS) and results["score"] == 0
    assert all(GRADER_FAILED in t["output"] for t in visible)
    assert "bug in the entry point" in staff
    assert "bug in the entry point" not in json.dumps(visible) + results["output"]
    assert "status grader error" in capsys.readouterr().out
