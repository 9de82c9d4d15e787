"""No test asserts ``all(...)`` or ``not any(...)`` over a collection that could be empty
without first saying it is not: over nothing, both are true, and the test passes having
checked nothing (issue 34).

A scan of every ``assert`` in tests/. An ``all``/``not any`` over a generator (also as one
operand of an ``and``) is accepted when the collection it walks is

* a fixed, non-empty literal (``("a", "b")``, ``[f(1), f(2)] * 4``, ``range(3)``), directly
  or through a name assigned exactly once, in the test or at module level;
* named by another operand of the same ``and`` (``rows and all(...)``,
  ``all(...) and len(rows) == 2``) or by an earlier ``assert`` of the same function
  (``assert items``, ``assert len(items) == 3``, ``assert sorted(items) == [...]``);
* or the assert carries the comment ``# may be empty: <why>`` (an absence, true of
  nothing too).

A generator that filters (``if``) or walks a second level (``for q in qs for c in q.checks``)
is accepted only over literals or with the comment: a guard on ``qs`` says nothing about
what the filter keeps. Bind what is walked to a name and assert that instead.

A mention is taken for a guard, except as a subset (``xs <= ys``) or after ``not in``, which
nothing satisfies too; the scan does not prove more (``xs == ys``, with ``ys`` computed and
empty, would pass it). ``assert not [x for x in xs if bad(x)]``, an absence, is not scanned.
"""

from __future__ import annotations

import ast
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARK = "# may be empty:"
VIEWS = {"values", "keys", "items"}
WRAPPERS = {"sorted", "list", "set", "tuple", "enumerate", "reversed", "frozenset"}


def _is_call(node, names) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
        node.func.id in names


def _vacuous_call(node):
    """The ``all(gen)`` or the ``any(gen)`` of ``not any(gen)`` that ``node`` is, else None."""
    negated = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
    call = node.operand if negated else node
    if _is_call(call, {"any"} if negated else {"all"}) and len(call.args) == 1 and \
            isinstance(call.args[0], (ast.GeneratorExp, ast.ListComp, ast.SetComp)):
        return call
    return None


def _unwrap(node):
    """``xs`` for ``xs.values()``, ``sorted(xs)``, ``enumerate(xs)``..."""
    while True:
        if isinstance(node, ast.Call) and not node.args and \
                isinstance(node.func, ast.Attribute) and node.func.attr in VIEWS:
            node = node.func.value
        elif _is_call(node, WRAPPERS) and len(node.args) == 1:
            node = node.args[0]
        else:
            return node


class _Scope:
    def __init__(self, module: ast.Module, function: ast.AST):
        self.assigned: dict[str, list[ast.AST]] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.assigned.setdefault(target.id, []).append(node.value)
        self.module: dict[str, list[ast.AST]] = {}
        for node in module.body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.module.setdefault(target.id, []).append(node.value)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                    and node.value is not None:
                self.module.setdefault(node.target.id, []).append(node.value)

    def value_of(self, name: str, function_args: set[str]):
        if name in function_args:
            return None
        values = self.assigned.get(name)
        if values is None:
            values = self.module.get(name)
        return values[0] if values and len(values) == 1 else None

    def fixed(self, node, function_args: set[str], depth: int = 0) -> bool:
        """Whether ``node`` is a non-empty collection fixed in the test's own text."""
        if depth > 5:
            return False
        node = _unwrap(node)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return bool(node.elts) and not any(isinstance(e, ast.Starred) for e in node.elts)
        if isinstance(node, ast.Dict):
            return bool(node.keys) and None not in node.keys
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            return self.fixed(node.left, function_args, depth + 1) and \
                isinstance(node.right, ast.Constant) and node.right.value > 0
        if _is_call(node, {"map"}) and len(node.args) == 2 or \
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "map" and len(node.args) == 2:
            return self.fixed(node.args[1], function_args, depth + 1)  # pool.map(f, cases)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "split" and node.args:
            return True  # text.split(sep) is never empty
        if _is_call(node, {"range"}) and len(node.args) == 1:
            return isinstance(node.args[0], ast.Constant) and node.args[0].value > 0
        if isinstance(node, ast.Name):
            value = self.value_of(node.id, function_args)
            return value is not None and self.fixed(value, function_args, depth + 1)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            return self.walks_fixed(node, function_args, depth + 1)
        return False

    def walks_fixed(self, comp, function_args: set[str], depth: int = 0) -> bool:
        """Whether every level of ``comp`` walks a fixed literal and none filters."""
        return all(not g.ifs and self.fixed(g.iter, function_args, depth)
                   for g in comp.generators)


def _mentions(tree, target) -> bool:
    """Whether ``target`` occurs in ``tree`` other than where nothing would do as well: as
    what an ``all``/``not any`` walks, as a subset (``xs <= ys``) or after ``not in``."""
    want = ast.dump(target)
    skip = set()
    for node in ast.walk(tree):
        call = _vacuous_call(node)
        if call is not None:
            skip.update(id(n) for n in ast.walk(call))
        if isinstance(node, ast.Compare):
            for left, op, right in zip([node.left, *node.comparators], node.ops,
                                       node.comparators):
                if isinstance(op, (ast.LtE, ast.Lt)):
                    skip.add(id(left))
                elif isinstance(op, (ast.GtE, ast.Gt)):
                    skip.add(id(right))
                elif isinstance(op, ast.NotIn):
                    skip.add(id(right))
    return any(id(node) not in skip and ast.dump(node) == want for node in ast.walk(tree))


def _arguments(function) -> set[str]:
    args = function.args
    return {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs,
                            *filter(None, [args.vararg, args.kwarg])]}


def unguarded(path: Path) -> list[str]:
    source = path.read_text()
    lines = source.splitlines()
    module = ast.parse(source)
    found = []
    functions = [n for n in ast.walk(module) if isinstance(n, (ast.FunctionDef,
                                                              ast.AsyncFunctionDef))]
    for function in functions:
        scope, args = _Scope(module, function), _arguments(function)
        asserts = sorted((n for n in ast.walk(function) if isinstance(n, ast.Assert)),
                         key=lambda n: n.lineno)
        for at, statement in enumerate(asserts):
            test = statement.test
            operands = test.values if isinstance(test, ast.BoolOp) and \
                isinstance(test.op, ast.And) else [test]
            for operand in operands:
                call = _vacuous_call(operand)
                if call is None:
                    continue
                comp = call.args[0]
                if scope.walks_fixed(comp, args):
                    continue
                text = "\n".join(lines[statement.lineno - 2:statement.end_lineno])
                if MARK in text:
                    continue
                first = comp.generators[0]
                if len(comp.generators) == 1 and not first.ifs:
                    walked = _unwrap(first.iter)
                    siblings = [o for o in operands if o is not operand]
                    if any(_mentions(o, walked) for o in siblings) or \
                            any(_mentions(a.test, walked) for a in asserts[:at]):
                        continue
                name = path.relative_to(HERE.parent) if path.is_relative_to(HERE.parent) else path
                found.append(f"{name}:{statement.lineno}: "
                             f"{ast.get_source_segment(source, statement).splitlines()[0]}")
    return list(dict.fromkeys(found))  # an assert of a nested function is walked twice


def test_no_all_or_not_any_over_a_collection_that_could_be_empty():
    found = [line for path in sorted(HERE.rglob("*.py")) for line in unguarded(path)]
    assert not found, "assert the collection is not empty first (or say '" + MARK + \
        " <why>'):\n" + "\n".join(found)


def test_the_scan_tells_guarded_from_unguarded(tmp_path):
    (tmp_path / "t.py").write_text('''
TABLE = ("a", "b")

def test_unguarded(worksheet):
    shapes = [v for v in worksheet if v.kind == "shape"]
    assert all(v.points for v in shapes)

def test_filtered(worksheet):
    assert not any(v.points for v in worksheet if v.kind == "shape")

def test_two_levels(questions):
    assert questions
    assert all(c.passed for q in questions for c in q.checks)

def test_guarded(worksheet):
    shapes = [v for v in worksheet if v.kind == "shape"]
    assert len(shapes) == 3
    assert all(v.points for v in shapes.values())

def test_sibling(rows):
    assert rows and all(r for r in rows)

def test_literal():
    assert all(name for name in TABLE)
    assert not any(x for x in [1, 2] * 3)

def test_a_subset_says_nothing(names, declared):
    assert names <= declared and "x" not in names
    assert all(n.islower() for n in names)

def test_split_and_map(text, pool):
    assert all(p.startswith("ok") for p in text.split("\\n\\n"))
    results = list(pool.map(len, ["a", "b"] * 2))
    assert all(r == 1 for r in results)

def test_marked(notices):
    assert not any(n.held for n in notices)  # may be empty: none is the point
''')
    found = [line.split(":")[1] for line in unguarded(tmp_path / "t.py")]
    assert found == ["6", "9", "13", "29"]
