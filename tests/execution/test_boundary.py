"""The trust boundary: what runs beside the student's code imports only the standard library.

The supervisor runs as a script (``python -I sandbox.py``), and the runner and the answer encoder
are copied into the sandbox: none of them may import this package or a library of the grading
side at module level. Inside functions, two imports are part of the job: the runner starts
IPython's shell (the cells' own interpreter), and the encoder prints a SymPy value the student
made with SymPy's own printer.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from autograder import answers
from autograder.execution import runner, sandbox

ALLOWED_IN_FUNCTIONS = {sandbox: set(), runner: {"IPython", "traitlets"}, answers: {"sympy"}}


def imports(path: Path) -> tuple[set[str], set[str]]:
    """Top-level names of the modules a file imports: (at module level, inside functions).
    A relative import counts as '.'."""
    tree = ast.parse(path.read_text())
    module_level = {id(node) for node in tree.body}
    top, inner = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names = {"." if node.level else node.module.split(".")[0]}
        else:
            continue
        (top if id(node) in module_level else inner).update(names)
    return top, inner


@pytest.mark.parametrize("module", ALLOWED_IN_FUNCTIONS, ids=lambda m: m.__name__)
def test_code_beside_the_student_imports_only_the_standard_library(module):
    top, inner = imports(Path(module.__file__))
    stdlib = set(sys.stdlib_module_names)
    assert top - stdlib == set(), f"{module.__name__} imports {sorted(top - stdlib)}"
    assert inner - stdlib <= ALLOWED_IN_FUNCTIONS[module], sorted(inner - stdlib)


def test_the_rule_can_fail(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("import json\nimport numpy\nfrom . import answers\n"
                    "def f():\n    from autograder import x\n    import os\n")
    top, inner = imports(path)
    assert top - set(sys.stdlib_module_names) == {"numpy", "."}
    assert inner - set(sys.stdlib_module_names) == {"autograder"}
