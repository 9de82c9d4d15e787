"""Computer algebra with a deadline: every SymPy call that could run long goes through here.

Each call runs in its own daemon thread and is abandoned when its deadline passes, so this works
from any thread (no signals). An abandoned call keeps its thread until it finishes; the parser's
limits (length, exponents) keep such calls rare and small.
"""

from __future__ import annotations

import threading

import sympy

from autograder.settings.limits import Checking

CAS_TIMEOUT = Checking().cas_seconds


class CasTimeout(Exception):
    """A CAS call did not finish before its deadline."""


def run(fn, *args, timeout: float = CAS_TIMEOUT):
    """``fn(*args)`` in a thread; its result, its exception, or CasTimeout after ``timeout``."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True, name="cas")
    try:
        thread.start()
    except RuntimeError:  # no memory left for its stack (the checker's cap, checks/bounded.py)
        raise MemoryError("no memory for another CAS call") from None
    thread.join(timeout)
    if thread.is_alive():
        raise CasTimeout(f"{getattr(fn, '__name__', 'CAS call')} took over {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


_RATIONAL_FUNCTION_PARTS = (sympy.Add, sympy.Mul, sympy.Symbol, sympy.Rational)


def _is_rational_function(expr) -> bool:
    """True when ``expr`` only adds, multiplies and takes integer powers of symbols and numbers."""
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Pow):
            if not node.exp.is_Integer:
                return False
        elif not isinstance(node, _RATIONAL_FUNCTION_PARTS):
            return False
    return True


def _is_zero(expr) -> bool | None:
    if expr == 0:
        return True
    expanded = sympy.expand(expr)
    if expanded == 0:
        return True
    if _is_rational_function(expanded):
        return sympy.cancel(sympy.together(expanded)) == 0  # decisive for these
    symbols = sorted(expanded.free_symbols, key=str)
    if symbols and expanded.is_polynomial(*symbols):
        # A polynomial is zero exactly when every coefficient is; constants such as sqrt(2) - 1
        # are decided at once, where ``equals`` would sample the whole expression numerically.
        verdicts = {c.is_zero for c in sympy.Poly(expanded, *symbols).coeffs()}
        if False in verdicts:
            return False
        if verdicts == {True}:
            return True
    return expanded.equals(0)  # True, False or None (undecided)


def equal(a, b, *, timeout: float = CAS_TIMEOUT) -> bool | None:
    """Whether two SymPy expressions are mathematically equal; None when undecided (or slow)."""
    if a == b:
        return True
    try:
        return run(_is_zero, a - b, timeout=timeout)
    except CasTimeout:
        return None


def expand_equal(a, b, *, timeout: float = CAS_TIMEOUT) -> bool:
    """True when ``expand(a - b)`` is 0 (a proof of equality); False means "not proved"."""
    if a == b:
        return True
    try:
        return run(lambda: sympy.expand(a - b) == 0, timeout=timeout)
    except CasTimeout:
        return False
