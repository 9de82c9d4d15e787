"""Every variable at once: the reference scores full, blanks score zero, every catalogue entry is
recognised, hostile values never raise, and grader bugs become "grader error" results."""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sympy

from autograder.checks import kinds
from autograder.checks.shape import SHAPE
from autograder.answers import MISSING, Array, Sym, Unsupported
from autograder.checks import cas, check_variable
from autograder.worksheet import Q2_QUESTIONS, mistakes
from tests.conftest import VARIABLES

CHECKED = [v for v in VARIABLES.values() if kinds.checked_by_reading(v)]


def reference(variable):
    """The worksheet's reference answer, as a student would assign it."""
    return kinds.kind_of(variable).example(variable)


def test_full_reference_set_scores_full_marks():
    results = [check_variable(v, reference(v)) for q in Q2_QUESTIONS for v in q.variables]
    assert results
    assert all(r.score == r.max_score for r in results), [r for r in results if not r.passed]
    assert sum(r.score for r in results) == sum(q.points for q in Q2_QUESTIONS)


@pytest.mark.parametrize("variable", CHECKED, ids=lambda v: v.name)
def test_reference_scores_full(variable):
    result = check_variable(variable, reference(variable))
    assert result.score == result.max_score == variable.points, result.message
    assert result.message.startswith("Read your answer as ")


def test_every_shape_alternative_scores_full():
    shapes = [v for v in CHECKED if kinds.kind_of(v) is SHAPE]
    assert shapes
    for variable in shapes:
        for alternative in variable.expected:
            assert check_variable(variable, alternative).passed


def test_all_missing_scores_zero():
    results = [check_variable(v, MISSING) for v in CHECKED]
    assert results
    assert all(r.score == 0 and r.stage == "missing" for r in results)
    assert results[0].message.endswith("assign your answer to it in the answer cell.")


def _catalogue_cases():
    for variable in CHECKED:
        for m in mistakes.for_variable(variable.name):
            answer = kinds.kind_of(variable).wrong(variable, m)
            label = f"-{m.answer!r:.30}" if m.variable == variable.name else ""
            yield pytest.param(variable.name, answer, m, id=f"{variable.name}-{m.id}{label}")


@pytest.mark.parametrize("name, answer, mistake", list(_catalogue_cases()))
def test_every_catalogue_entry_is_recognised(name, answer, mistake):
    variable = VARIABLES[name]
    result = check_variable(variable, answer)
    assert result.mistake == mistake.id, result.message
    assert result.stage == "catalogue"
    assert result.score == pytest.approx(mistake.credit * variable.points)
    assert result.score < result.max_score
    assert f"({mistake.id})" in result.message and mistake.message in result.message


def test_catalogue_entries_are_well_formed():
    assert mistakes.CATALOGUE
    for m in mistakes.CATALOGUE:  # (variable and credit are checked when the catalogue loads)
        assert m.id and m.id == m.id.lower() and " " not in m.id, m
        assert m.message.endswith("."), m


HOSTILE = {
    "None": None,
    "Ellipsis": ...,
    "function": lambda: 1,
    "class": int,
    "exception": ValueError("x"),
    "empty string": "",
    "code": "__import__('os').system('x')",
    "huge power": "9**9**9",
    "long string": "1+" * 10_000 + "1",
    "deep list": [[[[[[1]]]]]],
    "empty tuple": (),
    "bytes": b"k1",
    "dict": {"k1": 1},
    "complex": 1j,
    "inf": float("inf"),
    "huge int": 10**5000,
    "negative": -7,
    "bool": False,
    "sympy nan": sympy.nan,
    "sympy zoo": sympy.zoo,
    "sympy Eq": sympy.Eq(sympy.Symbol("k1"), 1),
    "Sym garbage": Sym("Piecewise((1, k1 > 0))"),
    "Unsupported": Unsupported("torch.nn.Linear", "Linear(...)"),
    "Array 0-d": Array((), [], "numpy.ndarray"),
    "Array mismatched": Array((2, 2), [[1]], "numpy.ndarray"),
    "set of ints": {1, 2},
    "ragged": [[1, 2], [3]],
}


@pytest.mark.parametrize("value", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_values_never_raise(value):
    assert CHECKED
    for variable in CHECKED:
        result = check_variable(variable, value)
        assert result.score < result.max_score, (variable.name, result.message)
        assert result.stage != "grader error", (variable.name, result.message)
        assert result.message


def test_program_kind_is_not_checked_here():
    with pytest.raises(ValueError, match="program"):
        check_variable(VARIABLES["translate"], None)


def test_grader_bug_becomes_a_grader_error(monkeypatch):
    def broken(variable, reading, entries):
        raise RuntimeError("bug in the grader")

    integer = kinds.REGISTERED["integer"]
    monkeypatch.setitem(kinds.REGISTERED, "integer", dataclasses.replace(integer, grade=broken))
    result = check_variable(VARIABLES["q2a_out_dim"], 7)
    assert result.score == 0 and result.stage == "grader error"
    assert "tell course staff" in result.message


def test_undecided_is_not_called_wrong(monkeypatch):
    monkeypatch.setattr(cas, "equal", lambda a, b, **_: None)
    result = check_variable(VARIABLES["q2a_first"], "k1*x1 + k2*x2 + k3*x3 + k1")
    assert result.stage == "undecided"
    assert "Not correct" not in result.message and "course staff will review" in result.message


def test_cas_deadline_works_off_the_main_thread():
    def slow():
        time.sleep(1)

    outcome = {}

    def worker():
        start = time.monotonic()
        try:
            cas.run(slow, timeout=0.05)
        except cas.CasTimeout:
            outcome["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert outcome["seconds"] < 0.5


def test_cas_passes_errors_through():
    with pytest.raises(ZeroDivisionError):
        cas.run(lambda: 1 / 0)


def test_checks_are_thread_safe():
    cases = [(VARIABLES["q2f_out_dim_general"], "ceiling((W + 2*p - K + 1)/s)"),
             (VARIABLES["q2c_K"], mistakes.band(9)),
             (VARIABLES["q2a_first"], "x1*k1 + k2*x2 + k3*x3")] * 4
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda case: check_variable(*case), cases))
    assert all(r.passed for r in results), [r.message for r in results if not r.passed]
