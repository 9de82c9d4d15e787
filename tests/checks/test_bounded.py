"""Checking bounded from outside (issue 30.3): the checker process, its deadlines and its cap."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autograder import answers, worksheet
from autograder.checks import bounded
from autograder.grading import pipeline
from autograder.report.results import Stage
from autograder.settings.limits import Checking, Limits
from tests.conftest import VARIABLES, check

FIRST = "q2a_first"
REFERENCE = "k1*x1 + k2*x2 + k3*x3"


def costly(seed: int = 0) -> str:
    """An answer that passes every structural limit (4,096 terms once expanded) and still takes
    SymPy seconds to compare with each catalogue entry."""
    return "*".join(f"(k1+{i + seed}*x{1 + i % 9})" for i in range(12))


def checked(settings: Checking, *texts: str, variable: str = FIRST):
    """The check results of one submission per text (``variable`` answered with it)."""
    pipeline._MEMO.clear()
    run = pipeline.Run(Limits(), worksheet.Q2_QUESTIONS, checking=settings)
    found = []
    for text in texts:
        questions = pipeline.check_answers({variable: answers.encode(text)}, run, {})
        found.append(next(c for q in questions for c in q.checks if c.variable == variable))
    return found


@pytest.fixture(autouse=True)
def fresh_checkers():
    bounded.close_all()
    yield
    bounded.close_all()
    pipeline._MEMO.clear()


def test_a_costly_answer_is_undecided_at_its_deadline_and_the_next_answer_is_checked_as_usual():
    settings = Checking(answer_seconds=1.0)
    slow, honest = checked(settings, costly(), REFERENCE)
    assert slow.stage is Stage.UNDECIDED
    assert "Too costly to decide: deciding it took over 1 s" in slow.message
    assert "review" in slow.review
    assert honest.score == honest.max_score
    assert bounded.checker_for(settings).started == 2  # the costly answer's checker was replaced


def started_mb() -> int:
    """The address space of a checker process once it is ready, in MiB (about 190 here)."""
    checker = bounded.checker_for(Checking(memory_mb=1024))
    process = checker._ensure()
    status = Path(f"/proc/{process.pid}/status").read_text()
    checker.stop()
    return int(re.search(r"VmSize:\s+(\d+) kB", status).group(1)) // 1024


def test_an_answer_past_the_memory_cap_is_undecided_and_the_checker_replaced():
    # a cap just above what the checker needs to start: the honest answer fits, the costly not
    settings = Checking(answer_seconds=30.0, memory_mb=started_mb() + 12)
    hog, honest = checked(settings, costly(), REFERENCE)
    assert hog.stage is Stage.UNDECIDED
    assert "Too costly to decide" in hog.message and "memory" in hog.message
    assert honest.score == honest.max_score
    assert bounded.checker_for(settings).started == 2


def test_a_submissions_answers_share_one_deadline():
    settings = Checking(answer_seconds=1.0, submission_seconds=1.5)
    run = pipeline.Run(Limits(), worksheet.Q2_QUESTIONS, checking=settings)
    plain = {name: answers.encode(costly(n)) for n, name in
             enumerate(("q2a_first", "q2a_last", "q2b_first"))}
    questions = pipeline.check_answers(plain, run, {})
    verdicts = [c.message for q in questions for c in q.checks if c.variable in plain]
    assert len(verdicts) == 3
    assert all("Too costly to decide" in m for m in verdicts)
    assert "together took over 1.5 s" in verdicts[-1]  # the third had no time left


def test_verdicts_in_the_checker_process_are_those_of_the_grading_process():
    answered = {"q2a_first": "k3*x1 + k2*x2 + k1*x3", "q2a_out_dim": 7, "q2f_out_dim_general":
                "(W + 2*p - K)/s + 1", "q2b_last": "K1*x7"}
    inside = checked(Checking(), *answered.values(), variable="q2a_first")  # warm the child
    assert inside
    for name, text in answered.items():
        away = checked(Checking(), text, variable=name)[0]
        here = check(name, answers.decode(answers.encode(text)))
        assert (away.score, away.stage, away.message) == (here.score, here.stage, here.message)


def test_isolation_off_checks_in_the_grading_process():
    settings = Checking(isolated=False)
    honest, = checked(settings, REFERENCE)
    assert honest.score == honest.max_score
    assert bounded.checker_for(settings).started == 0


STRUCTURE = {
    # name: (answer, what the format error says); none of them reaches SymPy's expand
    "a power of a long sum": ("(k1+k2+k3+x1+x2+x3+x4+x5+x6+x7+x8+x9+W+K+p+s)**32", "terms"),
    "nested powers": ("((k1 + x1)**32)**32", "degree is over 64"),
    "a product of many sums": ("*".join(f"(k1+x{1 + i % 9}+{i})" for i in range(16)), "terms"),
    "a power inside a floor": ("floor((W + K + p + s + k1 + k2 + x1)**30)", "terms"),
    "a large denominator power": ("1/(k1 + k2 + x1 + x2 + W + K + p)**30", "terms"),
}


@pytest.mark.parametrize("answer, reason", STRUCTURE.values(), ids=STRUCTURE)
def test_answers_too_large_to_compare_are_format_errors_before_sympy(answer, reason):
    result = check(FIRST, answer)
    assert result.stage is Stage.FORMAT
    assert reason in result.message and "too large to check" in result.message


@pytest.mark.parametrize("answer", ["(k1 + x1)**2 - k1**2 - x1**2 - k1*x1 + k2*x2 + k3*x3",
                                    "(k1*x1 + k2*x2 + k3*x3)**1", "x1**8*k1/x1**7 + k2*x2 + k3*x3"])
def test_honest_powers_stay_within_the_limits(answer):
    assert check(FIRST, answer).score == VARIABLES[FIRST].points
