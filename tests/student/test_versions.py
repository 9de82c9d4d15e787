"""The student's versions against the grader's: the pins agree with requirements.txt, and a
check says once that Gradescope's verdict counts when the versions differ."""

from __future__ import annotations

import re

import pytest

from autograder.student import notebook, versions
from tests.conftest import ROOT


def test_grader_versions_match_the_pins():
    pins = dict(re.findall(r"^(sympy|numpy)==([\d.]+)", (ROOT / "requirements.txt").read_text(),
                           re.M))
    assert {name: versions.major_minor(v) for name, v in pins.items()} == \
           {k: v for k, v in versions.GRADER.items() if k != "Python"}
    master = (ROOT / "solutions" / "master" / "dis05.ipynb").read_text()
    assert f'python_version: \\"{versions.GRADER["Python"]}\\"' in master


SKEW = {
    "same": ({**versions.GRADER}, None),
    "older sympy": ({**versions.GRADER, "sympy": "1.12"}, "sympy 1.12"),
    "numpy 1 and Python 3.12": ({**versions.GRADER, "numpy": "1.26", "Python": "3.12"},
                                "Python 3.12, numpy 1.26"),
    "no numpy": ({**versions.GRADER, "numpy": "missing"}, "numpy missing"),
}


@pytest.mark.parametrize("here, named", SKEW.values(), ids=SKEW.keys())
def test_skew_note(here, named):
    note = versions.skew_note(here)
    if named is None:
        assert note is None
    else:
        assert named in note and "Gradescope is the one that counts" in note


@pytest.fixture
def fresh_notes(monkeypatch):
    monkeypatch.setattr(notebook, "_said", set())


def test_check_says_the_note_once(fresh_notes, monkeypatch, capsys):
    monkeypatch.setattr(versions, "installed", lambda: {**versions.GRADER, "sympy": "1.12"})
    env = {"q2h_input_shape": (3, 256, 256), "q2h_kernel_shape": (32, 3, 5, 5)}
    notebook.check_question("q2h", env)
    with pytest.raises(AssertionError) as failed:
        notebook.check_question("q2h", {})
    notebook.check_question("q2h", env)
    shown = capsys.readouterr().out + str(failed.value)
    assert shown.count("Gradescope is the one that counts") == 1
    assert shown.index("sympy 1.12") < shown.index("q2h_input_shape")


def test_no_note_when_versions_match(fresh_notes, monkeypatch, capsys):
    monkeypatch.setattr(versions, "installed", lambda: dict(versions.GRADER))
    notebook.check_question("q2h", {"q2h_input_shape": (3, 256, 256),
                                    "q2h_kernel_shape": (32, 3, 5, 5)})
    assert "Gradescope" not in capsys.readouterr().out
