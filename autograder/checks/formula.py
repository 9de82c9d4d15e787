"""Checkers for output-size formulas in W, K, p, s: ``formula`` and ``formula_tuple``.

Two formulas are equal when they agree on every valid integer input. The grader tries, in order:
the same expression ("exact"), ``expand(a - b) == 0`` ("cas"), then exact rational evaluation on
every point of a bounded domain ("enumeration"): W in 1..40, p in 0..5, s in 1..6 and K in
1..W+2p, so strides that do not divide W + 2p - K are always included; a reference without p
(or s) is compared at p = 0 (s = 1) only. Evaluation is vectorised
with NumPy as (numerator, denominator) pairs of integers: no floating point anywhere.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np
import sympy

from autograder.answers import Sym
from autograder.answers.parse import ParseError, parse
from autograder.checks import cas
from autograder.checks.common import (
    CANONICAL,
    RIGHT,
    Kind,
    Reading,
    Unreadable,
    Verdict,
    concat,
    could_not_read,
    expanded_key,
    expected,
    find_mistake,
    read_expr,
    show,
    type_error,
    undecided,
    vector_entries,
    wrong,
)
from autograder.report.results import Stage
from autograder.settings.limits import Checking
from autograder.worksheet import Variable, mistakes

FORMULA_SYMBOLS = ("W", "K", "p", "s")
DOMAIN = {"W": (1, 40), "p": (0, 5), "s": (1, 6)}  # inclusive ranges; K runs over 1..W+2p
_LIMIT = Checking().enumeration_bound


class _CannotEvaluate(Exception):
    """The formula uses something the enumerator does not evaluate exactly."""


@functools.cache
def domain() -> dict[str, np.ndarray]:
    """Every valid (W, K, p, s), smallest first, as int64 columns."""
    points = [(w, k, p, s)
              for w in range(DOMAIN["W"][0], DOMAIN["W"][1] + 1)
              for p in range(DOMAIN["p"][0], DOMAIN["p"][1] + 1)
              for s in range(DOMAIN["s"][0], DOMAIN["s"][1] + 1)
              for k in range(1, w + 2 * p + 1)]
    points.sort(key=lambda t: (sum(t), t))
    table = np.array(points, dtype=np.int64)
    return {"W": table[:, 0], "K": table[:, 1], "p": table[:, 2], "s": table[:, 3]}


def _reduce(n: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """n/d in lowest terms with a positive denominator (a zero denominator becomes 1: the point
    is marked undefined by the caller); refuses numbers past the enumeration bound."""
    d = np.where(d == 0, 1, d)
    sign = np.where(d < 0, -1, 1)
    g = np.gcd(n, d)
    g = np.where(g == 0, 1, g)
    n, d = sign * n // g, sign * d // g
    if np.abs(n).max(initial=0) > _LIMIT or d.max(initial=1) > _LIMIT:
        raise _CannotEvaluate("numbers too large")
    return n, d


@functools.lru_cache(maxsize=32)  # the references and catalogue entries, mostly
def evaluate(expr) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(numerators, denominators, defined) of ``expr`` at every domain point, exactly."""
    env = domain()
    size = len(env["W"])
    defined = np.ones(size, dtype=bool)

    reduce = _reduce

    def constant(value):
        full = functools.partial(np.full, size, dtype=np.int64)
        return reduce(full(value.p), full(value.q))

    def walk(node):
        nonlocal defined
        if node.is_Rational:
            if abs(node.p) > _LIMIT or node.q > _LIMIT:
                raise _CannotEvaluate("numbers too large")
            return constant(node)
        if node.is_Symbol:
            if node.name not in env:
                raise _CannotEvaluate(node.name)
            return env[node.name], np.ones(size, dtype=np.int64)
        if node.is_Add or node.is_Mul:
            n, d = walk(node.args[0])
            for arg in node.args[1:]:
                n2, d2 = walk(arg)
                n, d = reduce(n * d2 + n2 * d, d * d2) if node.is_Add else reduce(n * n2, d * d2)
            return n, d
        if node.is_Pow and node.exp.is_Integer and abs(node.exp) <= 32:
            n, d = walk(node.base)
            if node.exp < 0:
                defined &= n != 0
                n, d = reduce(d, n)
            rn, rd = np.ones(size, dtype=np.int64), np.ones(size, dtype=np.int64)
            for _ in range(abs(int(node.exp))):
                rn, rd = reduce(rn * n, rd * d)
            return rn, rd
        if isinstance(node, (sympy.floor, sympy.ceiling)):
            n, d = walk(node.args[0])
            q = n // d if isinstance(node, sympy.floor) else -((-n) // d)
            return q, np.ones(size, dtype=np.int64)
        if isinstance(node, sympy.Abs):
            n, d = walk(node.args[0])
            return np.abs(n), d
        if isinstance(node, (sympy.Max, sympy.Min)):
            n, d = walk(node.args[0])
            for arg in node.args[1:]:
                n2, d2 = walk(arg)
                take = n2 * d > n * d2 if isinstance(node, sympy.Max) else n2 * d < n * d2
                n, d = np.where(take, n2, n), np.where(take, d2, d)
            return n, d
        raise _CannotEvaluate(type(node).__name__)

    n, d = walk(expr)
    return n, d, defined


def _show_rational(n: int, d: int) -> str:
    return str(n) if d == 1 else f"{n}/{d}"


def compare_on_domain(a, b) -> tuple[bool, str] | None:
    """(equal everywhere, a counterexample sentence); None when either cannot be enumerated.

    The domain is that of ``b`` (the reference): where ``b`` has no p, only p = 0 counts (no
    padding, so K <= W), and where it has no s, only s = 1."""
    try:
        na, da, ok_a = evaluate(a)
        nb, db, ok_b = evaluate(b)
    except (_CannotEvaluate, OverflowError, ZeroDivisionError):
        return None
    env = domain()
    names = {str(x) for x in b.free_symbols}
    valid = ((env["p"] == 0) | ("p" in names)) & ((env["s"] == 1) | ("s" in names))
    bad = valid & ((ok_a != ok_b) | (ok_a & ok_b & (na * db != nb * da)))
    if not bad.any():
        return True, ""
    i = int(np.argmax(bad))
    used = {str(x) for x in a.free_symbols | b.free_symbols}
    point = ", ".join(f"{name}={int(env[name][i])}" for name in FORMULA_SYMBOLS if name in used)
    got = _show_rational(int(na[i]), int(da[i])) if ok_a[i] else "undefined"
    want = _show_rational(int(nb[i]), int(db[i])) if ok_b[i] else "undefined"
    return False, f" For example, at {point or 'every point'} your formula gives {got}, not {want}."


# --- formula --------------------------------------------------------------------------------

def read_formula(variable: Variable, value) -> Reading:
    if isinstance(value, bool):
        raise type_error(variable, value, "a formula in W, K, p and s")
    expr, notes = read_expr(variable, value, wanted="a formula in W, K, p and s")
    return Reading(expr, show(expr), notes)


def _same_formula(a, b) -> bool:
    """Whether formula ``a`` equals ``b`` on ``b``'s domain (or, failing that, by CAS)."""
    if a == b:
        return True
    if a.free_symbols - b.free_symbols:
        return False
    result = compare_on_domain(a, b)
    return result[0] if result else cas.equal(a, b) is True


def grade_formula(variable: Variable, reading: Reading, entries) -> Verdict:
    reference = expected(variable, read_formula)
    return compare_formula(variable, reading, reference, entries)


def compare_formula(variable: Variable, reading: Reading, reference: Reading,
                    entries) -> Verdict:
    """The verdict on one formula against one reference formula."""
    student, target = reading.value, reference.value
    names = {str(x) for x in student.free_symbols}
    foreign = sorted(names - set(FORMULA_SYMBOLS))
    if foreign:
        return Verdict(0.0, Stage.FORMAT, f"Not correct: the formula uses {', '.join(foreign)}; "
                                          f"it may only use W, K, p and s.")
    if student == target:
        return Verdict(1.0, Stage.EXACT, RIGHT)
    def known_mistake():
        return find_mistake(variable, read_formula, entries,
                            lambda m: _same_formula(student, m.value))

    unused = sorted(names - {str(x) for x in target.free_symbols})
    if unused:
        return known_mistake() or Verdict(0.0, Stage.EXACT, f"Not correct: the formula uses "
                                              f"{', '.join(unused)}, which this part does not "
                                              f"have (no padding means p = 0, stride 1 s = 1).")
    if cas.expand_equal(student, target):
        return Verdict(1.0, Stage.CAS, RIGHT)
    enumerated = compare_on_domain(student, target)
    if enumerated and enumerated[0]:
        return Verdict(1.0, Stage.ENUMERATION, RIGHT + " (checked on every valid input with "
                                           "W up to 40, p up to 5 and s up to 6)")
    found = known_mistake()
    if found:
        return found
    if enumerated is None:
        same = cas.equal(student, target)
        if same:
            return Verdict(1.0, Stage.CAS, RIGHT)
        if same is None:
            return undecided()
        return wrong(variable, reference.shown, reading.shown, Stage.CAS)
    return wrong(variable, reference.shown, reading.shown, Stage.ENUMERATION, enumerated[1])


# --- formula_tuple ----------------------------------------------------------------------------

_ORDER = (Stage.CAS, Stage.EXACT, Stage.ENUMERATION, Stage.CATALOGUE, Stage.FORMAT,
          Stage.UNDECIDED)


def read_formula_tuple(variable: Variable, value) -> Reading:
    """A tuple of formulas: a tuple or list, a 1-D array, or text such as "(W - K + 1, ...)"."""
    value, vector_notes = vector_entries(value)
    if isinstance(value, str):
        value = _split_text_tuple(variable, value)
    if not isinstance(value, (list, tuple)):
        raise type_error(variable, value, "a tuple of formulas, like (H_out, W_out)")
    items = []
    for i, item in enumerate(value):
        where = f"entry {i + 1}: " if len(value) > 1 else ""
        if isinstance(item, bool):
            raise Unreadable(f"{where}a bool is not a formula.", Stage.TYPE)
        expr, notes = read_expr(variable, item, wanted="a formula", where=where)
        items.append(Reading(expr, show(expr), notes))
    shown = "(" + ", ".join(r.shown for r in items) + ("," if len(items) == 1 else "") + ")"
    return Reading(tuple(items), shown, (*vector_notes, *(n for r in items for n in r.notes)))


def _split_text_tuple(variable: Variable, text: str) -> tuple:
    try:
        parsed = parse(text, tuples=True)
    except ParseError as exc:
        raise could_not_read(text, exc) from None
    if not isinstance(parsed.value, tuple):
        raise Unreadable(f"That is a single formula; `{variable.name}` should be a tuple of "
                         f"formulas, like (H_out, W_out).", Stage.TYPE, reading=show(parsed.value))
    return tuple(Sym(show(v)) for v in parsed.value)


def grade_formula_tuple(variable: Variable, reading: Reading, entries) -> Verdict:
    reference = expected(variable, read_formula_tuple)
    student, target = reading.value, reference.value
    if len(student) != len(target):
        return Verdict(0.0, Stage.TYPE, f"Not correct: expected {len(target)} entries "
                                        f"(height, width), got {len(student)}.")
    # each entry is checked against the single-formula mistakes (see mistakes.SHARED)
    singles = tuple(m for m in entries if isinstance(m.answer, str))
    verdicts = [compare_formula(variable, s, t, singles) for s, t in zip(student, target)]
    fraction = sum(v.fraction for v in verdicts) / len(verdicts)
    stage = max((v.stage for v in verdicts), key=_ORDER.index)
    mistake = next((v.mistake for v in verdicts if v.mistake), None)
    if all(v.fraction == 1 for v in verdicts):
        return Verdict(1.0, stage, RIGHT)
    if len({v.full for v in verdicts}) == 1:
        message = concat("Every entry: ", verdicts[0].full)
    else:
        message = concat(*(concat(" " if i else "", f"Entry {i + 1}: ", v.full)
                           for i, v in enumerate(verdicts)))
    return Verdict(fraction, stage, message, mistake)


# --- sameness (answer groups, overrides) --------------------------------------------------------

def formula_key(expr) -> str:
    """The formula's exact values on the whole enumeration domain (equal on every valid input
    means the same key), else its expanded form."""
    try:
        numerators, denominators, defined = evaluate(expr)
    except Exception:
        return "expr:" + expanded_key([expr]).removeprefix(CANONICAL)
    digest = hashlib.sha256(repr(sorted(map(str, expr.free_symbols))).encode())
    for column in (numerators, denominators, defined):
        digest.update(column.tobytes())
    return CANONICAL + "values:" + digest.hexdigest()


def same_formula(a, b) -> bool:
    """Equal on every valid input, both ways round (each formula's own domain)."""
    return _same_formula(a, b) and _same_formula(b, a)


def _tuple_key(variable: Variable, reading: Reading) -> str:
    keys = [formula_key(r.value) for r in reading.value]
    canonical = all(k.startswith(CANONICAL) for k in keys)
    return (CANONICAL if canonical else "") + repr(keys)


def _same_tuple(variable: Variable, a: Reading, b: Reading) -> bool:
    return a.value == b.value or (len(a.value) == len(b.value) and all(
        same_formula(x.value, y.value) for x, y in zip(a.value, b.value)))


FORMULA = Kind("formula", read_formula, grade_formula,
               key=lambda variable, reading: formula_key(reading.value),
               same=lambda variable, a, b: a.value == b.value or same_formula(a.value, b.value))
def _tuple_wrong(variable: Variable, mistake: mistakes.Mistake):
    """An entry of the tuple's own, or a formula's mistake made in both of its entries."""
    return mistake.answer if mistake.variable == variable.name else (mistake.answer,) * 2


FORMULA_TUPLE = Kind("formula_tuple", read_formula_tuple, grade_formula_tuple, _tuple_key,
                     _same_tuple, wrong=_tuple_wrong)
