"""execute_notebook on ordinary notebooks: answers as plain data, errors, magics, invalid files."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

import pytest

from autograder import answers
from autograder.execution.execute import (
    Execution,
    InvalidNotebook,
    Probe,
    decide_status,
    execute_notebook,
    is_otter_cell,
    read_notebook,
    read_snapshot,
)
from autograder.execution.sandbox import Outcome
from autograder.report.results import Status
from autograder.settings.limits import Limits

FAST = Limits(timeout=60, cell_timeout=30)  # ample on a loaded machine; limits have own tests


def write_notebook(path: Path, cells: list[str]) -> Path:
    """A minimal valid v4 notebook with one code cell per source."""
    path.write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                   "source": source} for source in cells],
    }))
    return path


def run(tmp_path: Path, cells: list[str], variables: list[str], **kwargs) -> Execution:
    return execute_notebook(write_notebook(tmp_path / "sub.ipynb", cells),
                            variables=variables, limits=kwargs.pop("limits", FAST), **kwargs)


def values(execution: Execution) -> dict:
    return {name: answers.decode(data) for name, data in execution.answers.items()}


def test_answers_come_back_as_plain_data(tmp_path):
    ex = run(tmp_path, [
        "import sympy as sp\nimport numpy as np\nk1, x1 = sp.symbols('k1 x1')",
        "q_int = 196608 * 508032\nq_sym = k1*x1 + 2\nq_arr = np.arange(6).reshape(2, 3)",
        "q_str = 'cnn'\nq_mat = sp.Matrix([[k1, 0], [0, k1]])\nq_tuple = (3, 4)",
    ], ["q_int", "q_sym", "q_arr", "q_str", "q_mat", "q_tuple", "never_defined"])
    got = values(ex)
    assert (ex.status, ex.cells_run) == ("ok", 3)
    assert got["q_int"] == 196608 * 508032
    assert got["q_sym"] == answers.Sym("k1*x1 + 2")
    assert got["q_arr"] == answers.Array((2, 3), [[0, 1, 2], [3, 4, 5]], "numpy.ndarray")
    assert got["q_mat"].shape == (2, 2) and got["q_str"] == "cnn" and got["q_tuple"] == (3, 4)
    assert "never_defined" not in ex.answers
    json.dumps(ex.answers)  # plain data all the way down


def test_a_failing_cell_is_logged_and_later_cells_run(tmp_path):
    ex = run(tmp_path, ["a = 1", "1/0", "b = a + 1", "def broken(:", "c = 3"], ["a", "b", "c"])
    assert ex.status == "ok" and ex.cells_run == 5
    assert values(ex) == {"a": 1, "b": 2, "c": 3}
    assert "ZeroDivisionError" in ex.log and "SyntaxError" in ex.log
    assert "[grader] cell 2 raised ZeroDivisionError" in ex.log


def test_magics_shell_lines_and_exit_do_not_stop_the_run(tmp_path):
    ex = run(tmp_path, [
        "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.show()\na = 1",
        "!echo from-the-shell\nb = 2",
        "%pip install definitely-not-a-package\nc = 3",
        "%%time\nd = 4",
        "import sys\nsys.exit(3)",
        "exit()\ne = 5",
        "quit()",
        "f = 6\ndisplay(f)",
    ], list("abcdef"))
    assert ex.status == "ok"
    assert values(ex) == dict(a=1, b=2, c=3, d=4, e=5, f=6)
    assert "from-the-shell" in ex.log and "SystemExit: 3" in ex.log


def test_environment_working_directory_and_extra_env(tmp_path):
    ex = run(tmp_path, [
        "import os, sys, matplotlib\n"
        "flag = os.environ.get('DIS05_GRADING')\nbackend = matplotlib.get_backend().lower()\n"
        "listing = sorted(os.listdir('.'))\nextra = os.environ.get('EXTRA')\n"
        "leaked = [k for k in os.environ if k.startswith(('PYTEST', 'VIRTUAL_ENV'))]",
    ], ["flag", "backend", "listing", "extra", "leaked"], env={"EXTRA": "yes"})
    assert values(ex) == {"flag": "1", "backend": "agg", "listing": ["sub.ipynb"],
                          "extra": "yes", "leaked": []}


def test_students_own_modules_are_importable(tmp_path):
    ex = run(tmp_path, ["%%writefile helper.py\nVALUE = 41\n",
                        "import helper\na = helper.VALUE + 1"], ["a"])
    assert values(ex) == {"a": 42}


def test_output_is_capped(tmp_path):
    ex = run(tmp_path, ["print('x' * 50_000)\nprint('END-MARK')\na = 1"], ["a"],
             limits=Limits(timeout=20, cell_timeout=5, output_bytes=2000))
    assert values(ex) == {"a": 1}
    assert "[output truncated" in ex.log and "END-MARK" in ex.log
    assert len(ex.log) < 3000


def test_no_temporary_files_are_left(tmp_path):
    (tmp_path / "boxes").mkdir()
    ex = run(tmp_path, ["open('scratch.txt', 'w').write('x')\na = 1"], ["a"],
             workdir=tmp_path / "boxes")
    assert ex.status == "ok" and list((tmp_path / "boxes").iterdir()) == []


def test_parallel_runs_do_not_mix(tmp_path):
    books = [write_notebook(tmp_path / f"s{i}.ipynb", [f"import time\ntime.sleep(0.5)\na = {i}"])
             for i in range(3)]
    with ThreadPoolExecutor(3) as pool:
        runs = list(pool.map(lambda b: execute_notebook(b, variables=["a"], limits=FAST), books))
    assert [values(ex)["a"] for ex in runs] == [0, 1, 2]


# ----------------------------------------------------------------------------- probe

PROBE = '''
import json
def probe(ns, inputs, outputs, seconds):
    scale = int((inputs / "scale.txt").read_text())
    (outputs / "result.json").write_text(json.dumps({"doubled": ns["f"](3) * scale,
                                                     "seconds": seconds}))
    (outputs / "sub").mkdir()
    (outputs / "sub" / "note.txt").write_text("nested")
def failing(ns, inputs, outputs, seconds):
    (outputs / "partial.txt").write_text("before")
    raise RuntimeError("probe trouble")
def slow(ns, inputs, outputs, seconds):
    import time
    time.sleep(1.0)
    (outputs / "done.txt").write_text("yes")
'''


@pytest.fixture
def probe_files(tmp_path):
    (tmp_path / "probe.py").write_text(PROBE)
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "scale.txt").write_text("2")
    return tmp_path


def test_probe_runs_after_the_cells_and_returns_its_outputs(tmp_path, probe_files):
    probe = Probe(probe_files / "probe.py", "probe", probe_files / "inputs")
    ex = run(tmp_path, ["def f(x):\n    return 2 * x"], [], probe=probe)
    try:
        assert ex.status == "ok"
        result = json.loads((ex.probe_dir / "result.json").read_text())
        # told its wall-clock budget (FAST.timeout, as it has none of its own), less the moment
        # the runner took to call it, so that it can stop in time to say why
        assert result["doubled"] == 12 and 0 < result["seconds"] <= FAST.timeout
        assert (ex.probe_dir / "sub" / "note.txt").read_text() == "nested"
    finally:
        import shutil
        shutil.rmtree(ex.probe_dir)


def test_a_probe_without_a_budget_of_its_own_is_not_stopped_at_once(tmp_path, probe_files):
    ex = run(tmp_path, ["a = 1"], ["a"], probe=Probe(probe_files / "probe.py", "slow",
                                                    probe_files / "inputs"))
    assert ex.status == "ok" and (ex.probe_dir / "done.txt").read_text() == "yes"


def test_a_failing_probe_is_logged(tmp_path, probe_files):
    probe = Probe(probe_files / "probe.py", "failing", probe_files / "inputs")
    ex = run(tmp_path, ["a = 1"], ["a"], probe=probe)
    assert values(ex) == {"a": 1} and "probe trouble" in ex.log
    assert (ex.probe_dir / "partial.txt").read_text() == "before"
    (ex.probe_dir / "partial.txt").unlink()
    ex.probe_dir.rmdir()


def test_no_probe_no_probe_dir(tmp_path):
    assert run(tmp_path, ["a = 1"], ["a"]).probe_dir is None


# ----------------------------------------------------------------------------- invalid input

class Bad(NamedTuple):
    name: str
    content: str
    reason: str


BAD_NOTEBOOKS = [
    Bad("empty.ipynb", "", "empty"),
    Bad("blank.ipynb", "  \n", "empty"),
    Bad("text.ipynb", "this is not json", "not valid JSON"),
    Bad("list.ipynb", "[1, 2]", "list, not a notebook"),
    Bad("nocells.ipynb", '{"metadata": {}, "nbformat": 4}', "no list of cells"),
    Bad("badcell.ipynb", '{"cells": [3]}', "cell 1 is not a JSON object"),
    Bad("badsource.ipynb", '{"cells": [{"cell_type": "code", "source": 5}]}', "no readable source"),
    Bad("script.py", "a = 1\n", "not a .ipynb"),
]


@pytest.mark.parametrize("bad", BAD_NOTEBOOKS, ids=[b.name for b in BAD_NOTEBOOKS])
def test_invalid_notebooks_become_a_status(tmp_path, bad):
    path = tmp_path / bad.name
    path.write_text(bad.content)
    with pytest.raises(InvalidNotebook, match=bad.reason):
        read_notebook(path)
    ex = execute_notebook(path, variables=["a"], limits=FAST)
    assert ex.status is Status.INVALID and bad.reason in ex.reason
    assert ex.status.text(ex.reason).startswith("invalid notebook: ")
    assert ex.answers == {} and ex.cells_run == 0


def test_binary_and_oversized_files(tmp_path):
    (tmp_path / "bin.ipynb").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InvalidNotebook, match="cannot be read"):
        read_notebook(tmp_path / "bin.ipynb")
    (tmp_path / "big.ipynb").write_text(" " * (2 << 20))
    with pytest.raises(InvalidNotebook, match="larger than 1 MB"):
        read_notebook(tmp_path / "big.ipynb", max_mb=1)


def test_lenient_about_minor_schema_problems(tmp_path):
    path = tmp_path / "loose.ipynb"  # no nbformat keys, no metadata, a markdown cell, list source
    path.write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "source": "# hi"},
        {"cell_type": "code", "source": ["a = 1\n", "b = a + 1"], "unknown_key": True},
    ]}))
    assert read_notebook(path) == ["a = 1\nb = a + 1"]


def test_version_3_notebooks_are_read(tmp_path):
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps({"nbformat": 3, "worksheets": [{"cells": [
        {"cell_type": "code", "input": "a = 1"}, {"cell_type": "markdown", "source": "x"}]}]}))
    assert read_notebook(path) == ["a = 1"]


# ----------------------------------------------------------------------------- pieces

class StatusCase(NamedTuple):
    name: str
    outcome: Outcome
    snapshot: dict
    status: str


def outcome(returncode, timed_out=False, output=""):
    return Outcome(returncode, timed_out, 1.0, output, [])


STATUS_CASES = [
    StatusCase("finished", outcome(0), {"finished": True}, "ok"),
    StatusCase("timed out", outcome(-9, True), {"finished": False}, "timeout"),
    StatusCase("os._exit(0) midway", outcome(0), {"finished": False}, "crashed"),
    StatusCase("segfault", outcome(-11), {"finished": False}, "crashed"),
    StatusCase("died after MemoryError", outcome(-9), {"memory_error": True}, "memory"),
    StatusCase("bad_alloc abort", outcome(-6, output="std::bad_alloc"), {}, "memory"),
]


@pytest.mark.parametrize("case", STATUS_CASES, ids=[c.name for c in STATUS_CASES])
def test_decide_status(case):
    assert decide_status(case.outcome, case.snapshot) == case.status


def test_read_snapshot_keeps_only_wellformed_requested_answers(tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"finished": True, "answers": {
        "a": {"t": "int", "v": "1"}, "b": [1], "c": {"t": "int", "v": "x"}, "zzz": {"t": "int",
                                                                              "v": "2"}}}))
    snap = read_snapshot(path, ["a", "b", "c"])
    assert snap["answers"]["a"] == {"t": "int", "v": "1"}
    assert "b" not in snap["answers"] and "zzz" not in snap["answers"]
    assert snap["answers"]["c"]["t"] == "unsupported"
    for text in ("", "[]", "{" * 100_000, "not json"):
        path.write_text(text)
        assert read_snapshot(path, ["a"]).get("answers", {}) == {}


def test_read_snapshot_ignores_symlinks_and_fifos(tmp_path):
    real = tmp_path / "real.json"
    real.write_text(json.dumps({"answers": {"a": {"t": "int", "v": "1"}}}))
    (tmp_path / "link.json").symlink_to(real)
    os.mkfifo(tmp_path / "fifo.json")
    assert read_snapshot(tmp_path / "link.json", ["a"]) == {}
    assert read_snapshot(tmp_path / "fifo.json", ["a"]) == {}
    assert read_snapshot(real, ["a"])["answers"] == {"a": {"t": "int", "v": "1"}}


@pytest.mark.parametrize("source, skipped", [
    ('# Initialize Otter\nimport otter\ngrader = otter.Notebook("dis05.ipynb")', True),
    ('grader.check("q2a")', True),
    ("grader.check_all()", True),
    ('grader.check("q2a")  # run me', True),
    ('q2a_out_dim = 7\ngrader.check("q2a")', False),   # an answer shares the cell: run it
    ("import otter, os", False),
    ("# only a comment", False),
    ("", False),
])
def test_cells_that_only_talk_to_otter_are_skipped(source, skipped):
    assert is_otter_cell(source) is skipped


# --- reading what the student's process wrote ---------------------------------------------------


def _regular(p):
    p.write_bytes(b"12345")


def _too_big(p):
    p.write_bytes(b"x" * 6)


def _symlink(p):
    (p.parent / "target").write_bytes(b"12345")
    p.symlink_to(p.parent / "target")


def _fifo(p):
    os.mkfifo(p)


def _directory(p):
    p.mkdir()


OUTPUT_FILES = {"regular": (_regular, b"12345"), "too big": (_too_big, None),
                "symlink": (_symlink, None), "fifo": (_fifo, None), "directory": (_directory, None),
                "absent": (lambda p: None, None)}


@pytest.mark.parametrize("make, expected", OUTPUT_FILES.values(), ids=OUTPUT_FILES.keys())
def test_only_regular_files_within_the_limit_are_read_back(tmp_path, make, expected):
    from autograder.execution.execute import _read_regular

    make(tmp_path / "f")
    assert _read_regular(tmp_path / "f", 5) == expected


def test_copied_outputs_skip_links_pipes_and_what_exceeds_the_budget(tmp_path):
    from autograder.execution.execute import copy_outputs

    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "sub").mkdir(parents=True)
    dst.mkdir()
    (src / "a.npy").write_bytes(b"aaaa")
    (src / "sub" / "b.npy").write_bytes(b"bbb")
    (src / "big.npy").write_bytes(b"x" * 100)
    (src / "link").symlink_to(src / "a.npy")
    os.mkfifo(src / "pipe")
    left = copy_outputs(src, dst, budget=10)
    copied = sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*") if p.is_file())
    assert copied == ["a.npy", "sub/b.npy"] and left == 3
