"""``worksheet/`` is layers without a circle: the numbers of a variant (``numbers.py``) at the
bottom, the questions and catalogue built from them, the sheet, and the admissible variants on
top. No module of it imports another inside a function (that is how a circle hides)."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import ROOT

PACKAGE = "autograder.worksheet"
FOLDER = ROOT / "autograder" / "worksheet"
INIT = "__init__"


def imports(sources: dict[str, str]) -> tuple[dict[str, set[str]], list[str]]:
    """For modules of the package (``{name: source}``, ``__init__`` the package itself): which
    of them each imports at module level, and every import of one of them inside a function."""
    graph, nested = {name: set() for name in sources}, []
    for name, source in sources.items():
        tree = ast.parse(source)
        in_function = {id(n) for f in ast.walk(tree)
                       if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                       for n in ast.walk(f) if n is not f}
        for node in ast.walk(tree):
            targets = _targets(node, set(sources))
            if targets and id(node) in in_function:
                nested.append(f"{name} imports {', '.join(sorted(targets))} inside a function "
                              f"(line {node.lineno})")
            elif targets:
                graph[name] |= targets - {name}
    return graph, nested


def _targets(node: ast.AST, modules: set[str]) -> set[str]:
    """The package's modules one import statement names."""
    def module(dotted: str) -> str | None:
        if dotted == PACKAGE:
            return INIT
        head, _, rest = dotted.partition(PACKAGE + ".")
        return rest.split(".")[0] if not head and rest.split(".")[0] in modules else None

    if isinstance(node, ast.Import):
        return {m for alias in node.names if (m := module(alias.name))}
    if not isinstance(node, ast.ImportFrom):
        return set()
    base = PACKAGE if node.level == 1 and not node.module else (
        f"{PACKAGE}.{node.module}" if node.level == 1 else node.module or "")
    if base == "autograder":
        return {INIT for alias in node.names if alias.name == "worksheet"}
    if base == PACKAGE:
        return {alias.name if alias.name in modules else INIT for alias in node.names}
    return {m} if (m := module(base)) else set()


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle of ``graph`` found by a depth-first walk (empty when it has layers)."""
    found, done = [], set()

    def walk(name: str, path: list[str]) -> None:
        if name in path:
            found.append(path[path.index(name):] + [name])
            return
        if name in done:
            return
        for other in sorted(graph[name]):
            walk(other, path + [name])
        done.add(name)

    for name in sorted(graph):
        walk(name, [])
    return found


def _real() -> dict[str, str]:
    return {path.stem: path.read_text() for path in sorted(FOLDER.glob("*.py"))}


def test_the_worksheet_has_layers_without_a_circle():
    graph, nested = imports(_real())
    assert {"numbers", "mistakes", "sheet", "variants"} <= set(graph)
    assert nested == []
    assert circles(graph) == []
    assert graph["numbers"] == set(), "the numbers of a variant are the bottom layer"
    assert "variants" not in set().union(*(graph[m] for m in graph if m != "variants")), \
        "the admissible variants are the top layer"


CASES = {
    # case: (modules, an expected nested import, an expected circle)
    "layers": ({"a": "from autograder.worksheet import b\n", "b": "import json\n"}, [], []),
    "a circle": ({"a": "from autograder.worksheet import b\n",
                  "b": "from autograder.worksheet.a import x\n"}, [], [["a", "b", "a"]]),
    "through the package": ({INIT: "from autograder.worksheet.a import x\n",
                             "a": "from autograder import worksheet\n"},
                            [], [[INIT, "a", INIT]]),
    "inside a function": ({"a": "def f():\n    from autograder.worksheet import b\n",
                           "b": "import os\n"},
                          ["a imports b inside a function (line 2)"], []),
    "relative": ({"a": "from . import b\n", "b": "from .a import x\n"}, [], [["a", "b", "a"]]),
}


@pytest.mark.parametrize("name", CASES)
def test_the_import_graph_sees_circles_and_hidden_imports(name):
    modules, nested, found = CASES[name]
    graph, hidden = imports(modules)
    assert hidden == nested
    assert circles(graph) == found
