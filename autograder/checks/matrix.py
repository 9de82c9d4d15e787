"""Checkers for matrices, in layers: type, shape, then entries.

``matrix``: every entry equal (up to algebra) to the reference's. ``free_band_matrix`` (Q2e):
zeros outside a band and a distinct free symbol (any name) at every band position. A matrix
scores all or nothing, apart from the credit a recognised catalogue mistake keeps.
"""

from __future__ import annotations

from collections import Counter

import sympy

from autograder.answers import Array
from autograder.checks import cas
from autograder.checks.common import (
    CANONICAL,
    RIGHT,
    Kind,
    Reading,
    Unreadable,
    Verdict,
    catalogue,
    expanded_key,
    expected,
    find_mistake,
    mistake_verdict,
    read_expr,
    type_error,
)
from autograder.report.results import Stage
from autograder.settings.limits import Checking
from autograder.worksheet import Variable

MAX_ENTRIES = Checking().matrix_entries
SHOWN_DIFFERENCES = 3
TRANSPOSED = "Did you transpose K? It has one row per output."


ROWS_READ = "a list of 1xN matrices read as the rows of one matrix"


def _rows(variable: Variable, value) -> tuple[list[list], tuple[str, ...]]:
    """The raw rows of a 2-D answer and how they were read; raises Unreadable for other shapes
    and ragged rows. A list of 1xN SymPy matrices (``[sp.Matrix([[k1, k2, ...]]), ...]``) is a
    list of rows."""
    wanted = "a matrix (a SymPy Matrix, a 2-D NumPy array or a list of rows)"
    if isinstance(value, Array):
        if len(value.shape) != 2:
            raise type_error(variable, value, wanted)
        return value.rows, ()
    if not isinstance(value, (list, tuple)) or not value:
        raise type_error(variable, value, wanted)
    rows, notes = [], set()
    for row in value:
        if isinstance(row, Array) and len(row.shape) == 2 and row.shape[0] == 1:
            row = row.rows[0]
            notes.add(ROWS_READ)
        elif isinstance(row, Array) and len(row.shape) == 1:
            row = row.rows
        elif isinstance(row, Array):
            raise Unreadable(f"`{variable.name}` is a list of arrays of shape {row.shape}; "
                             f"expected a list of rows (a list of lists, or of 1xN matrices).",
                             Stage.TYPE)
        if not isinstance(row, (list, tuple)):
            raise Unreadable(f"`{variable.name}` is a flat list; expected a list of rows "
                             f"(a list of lists).", Stage.TYPE)
        rows.append(list(row))
    lengths = [len(r) for r in rows]
    if len(set(lengths)) > 1:
        raise Unreadable(f"Could not read `{variable.name}` as a matrix: its rows have different "
                         f"lengths {lengths}.")
    return rows, tuple(notes)


def read_matrix(variable: Variable, value, names=...) -> Reading:
    """A matrix of SymPy expressions (a tuple of row tuples); ``names`` as ``read_expr``'s."""
    rows, shape_notes = _rows(variable, value)
    n_rows, n_cols = len(rows), len(rows[0])
    if n_rows * n_cols > MAX_ENTRIES:
        raise Unreadable(f"`{variable.name}` has shape ({n_rows}, {n_cols}), far larger than "
                         f"the question's matrix.", Stage.TYPE)
    entries, notes = [], set(shape_notes)
    for r, row in enumerate(rows):
        parsed = []
        for c, item in enumerate(row):
            if isinstance(item, bool):
                raise Unreadable(f"Entry ({r + 1}, {c + 1}) of `{variable.name}` is a bool.",
                                 Stage.TYPE)
            expr, note = read_expr(variable, item, names=names, wanted="an expression",
                                   where=f"Entry ({r + 1}, {c + 1}) of `{variable.name}`: ")
            parsed.append(expr)
            notes.update(note)
        entries.append(tuple(parsed))
    first = ", ".join(str(e) for e in entries[0]) if entries[0] else ""
    return Reading(tuple(entries), f"[{first}]", tuple(sorted(notes)),
                   label=f"a {n_rows}x{n_cols} matrix with first row")


def _shape(reading: Reading) -> tuple[int, int]:
    return len(reading.value), len(reading.value[0]) if reading.value else 0


def _differences(a, b) -> list[tuple[int, int]]:
    """The (row, column) positions, from 1, where two same-shape matrices differ."""
    pairs = [(x, y) for ra, rb in zip(a, b) for x, y in zip(ra, rb)]
    try:
        same = cas.run(lambda: [x == y or sympy.expand(x - y) == 0 for x, y in pairs])
    except cas.CasTimeout:
        same = [x == y for x, y in pairs]
    width = len(a[0])
    return [(i // width + 1, i % width + 1) for i, ok in enumerate(same) if not ok]


def _shape_message(variable: Variable, got, want) -> str:
    return f"`{variable.name}` has shape {got}, expected {want}"


def grade_matrix(variable: Variable, reading: Reading, entries) -> Verdict:
    reference = expected(variable, read_matrix)
    got, want = _shape(reading), _shape(reference)

    def same(m: Reading) -> bool:
        return _shape(m) == got and not _differences(m.value, reading.value)

    if got != want:
        prefix = _shape_message(variable, got, want) + "."
        found = find_mistake(variable, read_matrix, entries, same, prefix + " ")
        if found:
            return found
        if got == want[::-1]:
            return Verdict(0.0, Stage.EXACT, prefix, hint=TRANSPOSED)
        for mistake, m in catalogue(variable, read_matrix, entries):
            if _shape(m) == got:
                return Verdict(0.0, Stage.EXACT, prefix, hint=f"That is the shape of a known "
                                                             f"mistake ({mistake.id}): "
                                                             f"{mistake.message}")
        return Verdict(0.0, Stage.EXACT, prefix, hint="Count the outputs (rows) and inputs "
                                                      "(columns).")
    diffs = _differences(reading.value, reference.value)
    if not diffs:
        exact = reading.value == reference.value
        return Verdict(1.0, Stage.EXACT if exact else Stage.CAS, RIGHT)
    found = find_mistake(variable, read_matrix, entries, same)
    if found:
        return found
    total = want[0] * want[1]
    if variable.hidden:
        return Verdict(0.0, Stage.CAS, f"Not correct: {len(diffs)} of {total} entries differ; "
                                       f"re-derive {variable.description}.")
    examples = "; ".join(
        f"({r}, {c}) is {reading.value[r - 1][c - 1]}, expected {reference.value[r - 1][c - 1]}"
        for r, c in diffs[:SHOWN_DIFFERENCES])
    return Verdict(0.0, Stage.CAS, f"Not correct: {len(diffs)} of {total} entries differ (rows and "
                                   f"columns counted from 1), e.g. {examples}.")


# --- free_band_matrix -------------------------------------------------------------------------

def read_free_matrix(variable: Variable, value) -> Reading:
    """A matrix whose entries may use any symbol names."""
    return read_matrix(variable, value, names=None)


def grade_free_band_matrix(variable: Variable, reading: Reading, known) -> Verdict:
    n_rows, n_cols, width = variable.expected
    got, want = _shape(reading), (n_rows, n_cols)
    if got != want:
        hint = (TRANSPOSED if got == want[::-1]
                else "Without padding there are 9 - 3 + 1 = 7 outputs (rows).")
        return Verdict(0.0, Stage.EXACT, _shape_message(variable, got, want) + ".", hint=hint)
    entries = reading.value
    band = [(r, c) for r in range(n_rows) for c in range(r, r + width)]
    outside = [(r, c) for r in range(n_rows) for c in range(n_cols)
               if not r <= c < r + width and entries[r][c] != 0]
    if outside:
        listed = "; ".join(f"({r + 1}, {c + 1}) is {entries[r][c]}" for r, c in outside[:3])
        return Verdict(0.0, Stage.EXACT, f"Not correct: row r (from 1) has its {width} weights in "
                                         f"columns r to r+{width - 1} and zeros elsewhere, but "
                                         f"{listed}.")
    not_symbols = [(r, c) for r, c in band if not entries[r][c].is_Symbol]
    if not_symbols:
        listed = "; ".join(f"({r + 1}, {c + 1}) is {entries[r][c]}" for r, c in not_symbols[:3])
        return Verdict(0.0, Stage.EXACT, f"Not correct: every band position needs its own weight, "
                                         f"a single symbol, but {listed}.")
    counts = Counter(entries[r][c] for r, c in band)
    repeated = [(s, n) for s, n in counts.items() if n > 1]
    if repeated:
        for mistake, m in catalogue(variable, read_free_matrix, known):
            if m.value == entries:
                return mistake_verdict(mistake)
        listed = ", ".join(f"{s} appears {n} times" for s, n in repeated[:3])
        return Verdict(0.0, Stage.EXACT, f"Not correct: without weight sharing the {len(band)} "
                                         f"band weights are all different, but {listed}.")
    return Verdict(1.0, Stage.EXACT, RIGHT + f" ({len(band)} distinct weights in the band)")


# --- sameness (answer groups, overrides) --------------------------------------------------------

def _key(variable: Variable, reading: Reading) -> str:
    value = reading.value
    entries = expanded_key([e for row in value for e in row])
    return (CANONICAL if entries.startswith(CANONICAL) else "") + repr((*_shape(reading), entries))


def _same(variable: Variable, a: Reading, b: Reading) -> bool:
    return a.value == b.value or (_shape(a) == _shape(b) and not _differences(a.value, b.value))


MATRIX = Kind("matrix", read_matrix, grade_matrix, _key, _same)


def _free_band_example(variable: Variable) -> list[list[str]]:
    """A band of distinct weights ``w<row>_<column>`` (the reference is only the band's size)."""
    rows, columns, width = variable.expected
    return [[f"w{r}_{c}" if 0 <= c - r < width else "0" for c in range(columns)]
            for r in range(rows)]


FREE_BAND_MATRIX = Kind("free_band_matrix", read_free_matrix, grade_free_band_matrix,
                        example=_free_band_example)
