"""The trust boundary: what runs beside the student's code imports only the standard library.

The supervisor runs as a script (``python -I sandbox.py``), and the runner and the answer encoder
are copied into the sandbox: none of them may import this package or a third-party library,
which the student's code could have replaced or patched.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from autograder import answers, runner, sandbox

BESIDE_THE_STUDENT = (sandbox, runner, answers)


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module a file imports (relative imports as '.')."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add("." if node.level else node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", BESIDE_THE_STUDENT, ids=lambda m: m.__name__)
def test_code_beside_the_student_imports_only_the_standard_library(module):
    outside = imported_modules(Path(module.__file__)) - set(sys.stdlib_module_names)
    assert outside == set(), f"{module.__name__} imports {sorted(outside)}"


def test_the_rule_can_fail(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("import json\nimport numpy\nfrom . import answers\nfrom autograder import x\n")
    assert imported_modules(path) - set(sys.stdlib_module_names) == {"numpy", ".", "autograder"}
