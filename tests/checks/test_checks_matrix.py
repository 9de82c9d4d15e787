"""Matrices: type, then shape, then entries; Q2e's free band without weight sharing."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from autograder.checks import check_variable
from autograder.worksheet.mistakes import FLIPPED, band, transpose
from tests.conftest import VARIABLES, check, promised_score, via_json

k1, k2, k3 = sympy.symbols("k1 k2 k3", real=True)
KERNEL = {"k1": k1, "k2": k2, "k3": k3, "0": 0}


def sympy_matrix(rows):
    return sympy.Matrix([[KERNEL[e] for e in row] for row in rows])


def free_band(n_rows=7, n_cols=9, width=3, name="w"):
    """A band matrix with a distinct symbol at each band position."""
    symbols = iter(sympy.symbols(f"{name}1:{n_rows * width + 1}"))
    return sympy.Matrix(n_rows, n_cols,
                        lambda r, c: next(symbols) if r <= c < r + width else 0)


VALID, SAME = band(9), band(9, (1, 1))

RIGHT = {
    "sympy Matrix": ("q2c_K", sympy_matrix(VALID)),
    "object array": ("q2c_K", np.array(sympy_matrix(VALID).tolist(), dtype=object)),
    "nested lists of strings": ("q2c_K", VALID),
    "tuple of tuples": ("q2c_K", tuple(tuple(r) for r in VALID)),
    "mixed ints and strings": ("q2c_K", [[0 if e == "0" else e for e in r] for r in VALID]),
    "list of numpy rows": ("q2c_K", [np.array(r, dtype=object)
                                     for r in sympy_matrix(VALID).tolist()]),
    "equivalent entries": ("q2c_K", [[f"({e}) + 0*k1" if e != "0" else "k1 - k1" for e in r]
                                     for r in VALID]),
    "same padding sympy": ("q2d_K", sympy_matrix(SAME)),
    "same padding lists": ("q2d_K", SAME),
    "immutable matrix": ("q2d_K", sympy.ImmutableMatrix(sympy_matrix(SAME))),
}


@pytest.mark.parametrize("transport", [lambda v: v, via_json], ids=["raw", "json"])
@pytest.mark.parametrize("name, value", RIGHT.values(), ids=RIGHT.keys())
def test_equivalent_matrices_score_full(name, value, transport):
    result = check(name, transport(value))
    assert result.score == result.max_score == VARIABLES[name].points, result.message
    assert result.message.startswith("Read your answer as a ")


MISTAKES = {
    "c is same padding": ("q2c_K", SAME, "same-padding"),
    "c flipped": ("q2c_K", sympy_matrix(band(9, kernel=FLIPPED)), "flipped-kernel"),
    "c transposed": ("q2c_K", transpose(VALID), "transposed"),
    "d padding forgotten": ("q2d_K", sympy_matrix(VALID), "padding-forgotten"),
    "d flipped": ("q2d_K", band(9, (1, 1), FLIPPED), "flipped-kernel"),
    "d one-sided": ("q2d_K", band(9, (2, 0)), "one-sided-padding"),
    "e shared weights": ("q2e_K", sympy_matrix(VALID), "shared-weights"),
}


@pytest.mark.parametrize("name, value, mistake", MISTAKES.values(), ids=MISTAKES.keys())
def test_known_matrix_mistakes(name, value, mistake):
    result = check(name, value)
    assert result.mistake == mistake
    assert result.score == promised_score(name, mistake) < result.max_score
    assert f"({mistake})" in result.message


def test_shape_is_checked_first_and_named():
    result = check("q2c_K", sympy_matrix(SAME))
    assert "`q2c_K` has shape (9, 9), expected (7, 9)." in result.message
    assert "'same' padding" in result.message


def test_shape_of_a_known_mistake_is_named_even_with_other_errors():
    rows = [list(r) for r in SAME]
    rows[0][0] = "k3"
    result = check("q2c_K", rows)
    assert result.score == 0 and result.mistake is None
    assert "has shape (9, 9), expected (7, 9). That is the shape of a known mistake " \
           "(same-padding)" in result.message


def test_unknown_shape():
    result = check("q2c_K", [["k1"] * 3] * 3)
    assert result.score == 0
    assert "has shape (3, 3), expected (7, 9)" in result.message


def test_differing_entries_are_listed():
    rows = [list(r) for r in VALID]
    rows[0][0], rows[6][8] = "k2", "k1"
    result = check("q2c_K", rows)
    assert result.score == 0 and result.stage == "cas"
    assert "2 of 63 entries differ" in result.message
    assert "(1, 1) is k2, expected k1" in result.message
    assert "(7, 9) is k1, expected k3" in result.message


def test_hidden_matrix_does_not_show_entries():
    from dataclasses import replace

    rows = [list(r) for r in VALID]
    rows[0][0] = "k2"
    result = check_variable(replace(VARIABLES["q2c_K"], hidden=True), rows)
    assert "expected k1" not in result.message and "1 of 63" in result.message


UNREADABLE = {
    # case: (value, stage, words)
    "ragged": ([["k1", "k2"], ["k1"]], "format", "different lengths"),
    "flat list": (["k1", "k2", "k3"], "type", "flat list"),
    "1-D array": (np.array([1, 2, 3]), "type", "array of shape (3,)"),
    "3-D array": (np.zeros((7, 9, 1)), "type", "array of shape (7, 9, 1)"),
    "empty list": ([], "type", "a list"),
    "string": ("Matrix([[k1]])", "type", "a string"),
    "bad entry": ([["k1", "k_2"]], "format", "Entry (1, 2) of `q2c_K`: could not read `k_2`"),
    "code entry": ([["__import__('os')"]], "format", "not allowed"),
    "ellipsis": (..., "missing", "placeholder"),
    "huge": (np.zeros((300, 300)), "type", "far larger"),
    "function entry": ([[print]], "type", "Entry (1, 1)"),
}


@pytest.mark.parametrize("value, stage, words", UNREADABLE.values(), ids=UNREADABLE.keys())
@pytest.mark.usefixtures("explain_policy")  # the old policy (issue 31)
def test_unreadable_matrices(value, stage, words):
    result = check("q2c_K", value)
    assert result.score == 0 and result.stage == stage
    assert words in result.message


# --- Q2e: a free band ------------------------------------------------------------------------

FREE_RIGHT = {
    "w symbols": free_band(),
    "k symbols with assumptions": free_band(name="k").subs(
        {s: sympy.Symbol(s.name, positive=True) for s in free_band(name="k").free_symbols}),
    "nested lists of names": [[f"a{r}_{c}" if r <= c < r + 3 else 0 for c in range(9)]
                              for r in range(7)],
    "indexed names": [[f"k[{r}, {c}]" if r <= c < r + 3 else "0" for c in range(9)]
                      for r in range(7)],
    "object array": np.array(free_band().tolist(), dtype=object),
}


@pytest.mark.parametrize("transport", [lambda v: v, via_json], ids=["raw", "json"])
@pytest.mark.parametrize("value", FREE_RIGHT.values(), ids=FREE_RIGHT.keys())
def test_free_band_right(value, transport):
    result = check("q2e_K", transport(value))
    assert result.score == result.max_score == VARIABLES["q2e_K"].points, result.message


def _with(matrix, r, c, value):
    m = sympy.Matrix(matrix)
    m[r, c] = value
    return m


FREE_WRONG = {
    # case: (value, words)
    "one repeated weight": (_with(free_band(), 1, 1, sympy.Symbol("w1")), "w1 appears 2 times"),
    "entry outside band": (_with(free_band(), 0, 5, sympy.Symbol("z")), "(1, 6) is z"),
    "zero in band": (_with(free_band(), 3, 4, 0), "(4, 5) is 0"),
    "expression in band": (_with(free_band(), 0, 0, 2 * sympy.Symbol("w1")), "(1, 1) is 2*w1"),
    "transposed": (free_band().T, "transpose"),
    "same padding size": (free_band(9, 9), "has shape (9, 9), expected (7, 9)"),
}


@pytest.mark.parametrize("value, words", FREE_WRONG.values(), ids=FREE_WRONG.keys())
def test_free_band_wrong(value, words):
    result = check("q2e_K", value)
    assert result.score == 0
    assert words in result.message, result.message


def test_shared_weights_in_q2e_are_named():
    result = check("q2e_K", sympy_matrix(VALID))
    assert result.mistake == "shared-weights"
    assert "without weight sharing" in result.message
