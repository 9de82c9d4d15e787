"""The Gradescope image's requirements: exact pins, the same versions as the development pins,
everything the grader imports, and none of the development tools."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from autograder.student import package
from tests.conftest import ROOT

RUNTIME = ROOT / package.RUNTIME_REQUIREMENTS
DEV_TOOLS = ["pytest", "ruff", "playwright", "otter-grader", "sphinx", "nbconvert", "jupytext"]
# third-party modules the package imports -> the distribution that provides them
PROVIDERS = {"IPython": "ipython", "traitlets": "traitlets", "numpy": "numpy", "sympy": "sympy",
             "torch": "torch", "matplotlib": "matplotlib", "yaml": "pyyaml", "jinja2": "jinja2",
             "PIL": "pillow"}


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"{path.name}: {line!r} is not an exact pin"
            found[re.sub(r"[-_.]+", "-", name).lower()] = version
    return found


def test_runtime_pins_are_exact_and_match_the_development_pins():
    runtime, dev = pins(RUNTIME), pins(ROOT / "requirements.txt")
    assert runtime and all(dev.get(name, version) == version for name, version in runtime.items())


@pytest.mark.parametrize("tool", DEV_TOOLS)
def test_no_development_tool_is_installed_on_gradescope(tool):
    assert tool not in pins(RUNTIME)


CLASS_RUNS_ONLY = {"dask", "distributed"}
"""imported only by the Dask engine (a TA's class run), never on Gradescope (tested below)"""


def test_every_third_party_module_the_grader_imports_is_pinned():
    imported = set()
    for path in (ROOT / "autograder").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    import sys
    third_party = {m for m in imported if m not in sys.stdlib_module_names
                   and m not in ("autograder", "__future__") and m not in CLASS_RUNS_ONLY}
    assert third_party <= set(PROVIDERS), third_party - set(PROVIDERS)
    assert {PROVIDERS[m] for m in third_party} <= set(pins(RUNTIME))


def test_gradescopes_entry_point_does_not_import_the_class_run_engine():
    import subprocess
    import sys

    code = ("import sys; from autograder import cli; cli.build_parser(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in %r))" % (CLASS_RUNS_ONLY,))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          check=True)
    assert done.stdout.strip() == "[]"
