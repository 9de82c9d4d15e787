"""docs/maintainers.md's "Change a question", done as next term's staff would, in a temporary copy
of the repository: q2c's points changed, a known mistake added, a sub-question of an existing kind
added, each in the files the guide names; then ``make goldens`` and ``make assign``; then the
worksheet's and the checks' tests pass, nothing but the guide's files and the regenerated ones
changed, and the points changed in the worksheet alone (the master notebook writes none) reach
the generated notebook."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

WORKSHEET = "autograder/worksheet/__init__.py"
MISTAKES = "autograder/worksheet/mistakes.py"
STATEMENTS = "autograder/worksheet/statements.py"
MASTER = "solutions/master/dis05.ipynb"
BY_HAND = {WORKSHEET, MISTAKES, STATEMENTS, MASTER}
"""the files the guide says to edit"""
REGENERATED = ("tests/golden/", "assignment/", "solutions/dis05.ipynb")
"""what ``make goldens`` and ``make assign`` rewrite"""

NEW_QUESTION = '''        Question("q2j", "Outputs of the fully connected layer", (
            Variable("q2j_fc_outputs", "integer", co * o * o, 1,
                     "the fully connected layer's outputs"),
        )),
'''
NEW_MISTAKE = ('        Mistake("q2h_input_shape", (c, size), "one-side-only", '
               '"An image has a height and a width.", 0.0),\n')
NEW_STATEMENT = '''        (("q2j",), "- (j) The number of outputs of that fully connected layer."),
'''


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, (path, old)
    path.write_text(text.replace(old, new))


def _raw(text: str) -> dict:
    return {"cell_type": "raw", "metadata": {}, "source": text.splitlines(keepends=True)}


def _code(text: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": text.splitlines(keepends=True)}


def _edit_master(path: Path) -> None:
    """q2j's cells after q2i's (with no points: the worksheet's are filled in by make assign)."""
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    end_q2i = next(i for i, c in enumerate(cells) if 'check_question("q2i", env)'
                   in "".join(c["source"])) + 2
    assert "".join(cells[end_q2i]["source"]) == "# END QUESTION"
    cells[end_q2i + 1:end_q2i + 1] = [
        _raw("# BEGIN QUESTION\nname: q2j"),
        {"cell_type": "markdown", "metadata": {},
         "source": ["### (j) Outputs of the fully connected layer\n", "\n",
                    "How many outputs does the fully connected layer of (i) have?"]},
        _raw("# BEGIN SOLUTION"), _code("q2j_fc_outputs = 32 * 126 * 126  # SOLUTION"),
        _raw("# END SOLUTION"), _raw("# BEGIN TESTS"),
        _code('def test_q2j(env):\n    from autograder.student.notebook import check_question\n'
              '    check_question("q2j", env)'),
        _raw("# END TESTS"), _raw("# END QUESTION")]
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def _copy(dest: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                             "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "before"]):
        subprocess.run(git + args, cwd=dest, check=True)
    return dest


def test_the_guides_change_a_question_is_all_it_takes(tmp_path):
    shared = ROOT.parent / "shared"
    if shared.exists():
        (tmp_path / "shared").symlink_to(shared)
    repo = _copy(tmp_path / "repo")
    _replace_once(repo / WORKSHEET, 'Variable("q2c_K", "matrix", valid, 2,',
                  'Variable("q2c_K", "matrix", valid, 3,')
    _replace_once(repo / WORKSHEET, '''"the fully connected layer's parameters"),\n        )),\n''',
                  '''"the fully connected layer's parameters"),\n        )),\n''' + NEW_QUESTION)
    _replace_once(repo / MISTAKES, '''f"An {image} image has {c} channels."),\n''',
                  '''f"An {image} image has {c} channels."),\n''' + NEW_MISTAKE)
    _replace_once(repo / STATEMENTS, '''layer with as many outputs."),\n''',
                  '''layer with as many outputs."),\n''' + NEW_STATEMENT)
    _edit_master(repo / MASTER)

    env = {**os.environ, "PYTHONPATH": str(repo)}
    for command in (["-m", "tests.goldens"], ["-m", "autograder", "assign"]):  # make goldens, assign
        done = subprocess.run([sys.executable, *command], cwd=repo, env=env, capture_output=True,
                              text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # (a made-up question has no quote in the official worksheet: a real one gets its row in
    # test_references_match_worksheet.py, as the guide says)
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                            "-m", "not slow", "tests/worksheet", "tests/checks",
                            "tests/student/test_packaging.py", "tests/student/test_master_notebook.py",
                            "--deselect",
                            "tests/worksheet/test_references_match_worksheet.py::"
                            "test_every_q2_variable_is_pinned_to_the_worksheet"],
                           cwd=repo, env=env, capture_output=True, text=True, timeout=1800)
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]

    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=repo,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    changed = {line[3:] for line in status}
    assert BY_HAND <= changed
    assert not {p for p in changed - BY_HAND if not p.startswith(REGENERATED)}, changed
    master_diff = subprocess.run(["git", "diff", "-U0", "--", MASTER], cwd=repo, capture_output=True,
                                 text=True, check=True).stdout
    assert "q2j_fc_outputs" in master_diff and "points" not in master_diff
    otter = json.loads((repo / "assignment" / "dis05.ipynb").read_text())["metadata"]["otter"]
    assert "points = 3\n" in otter["tests"]["q2c"] and "points = 1\n" in otter["tests"]["q2j"]
