"""Logging reaches the staff log: a checker's traceback lands in the submission's log, never in
the student's feedback, and is not printed a second time on the TA's terminal."""

from __future__ import annotations

import dataclasses
import logging
import threading

import pytest

from autograder.checks import kinds
from autograder.execution.execute import Execution
from autograder.grading import pipeline
from autograder.report import staff_log
from autograder.report.gradescope import to_gradescope
from autograder.report.results import GRADER_FAILED, Stage, Status
from autograder.settings.limits import Checking
from autograder.worksheet import Q2_QUESTIONS, Variable

log = logging.getLogger("autograder.test")
HERE = Checking(isolated=False)
"""checks in this process: the broken checker set here does not reach a checker process"""


def test_the_capture_keeps_this_threads_records_only():
    with staff_log.capture_log() as logged:
        log.warning("mine")
        other = threading.Thread(target=lambda: log.warning("another submission's"))
        other.start()
        other.join()
    log.warning("after the block")
    assert logged.text() == "[grader] WARNING autograder.test: mine\n"


@pytest.fixture
def broken_integer_checker(monkeypatch):
    def broken(variable, reading, entries):
        raise RuntimeError("bug in the grader")

    integer = kinds.REGISTERED["integer"]
    monkeypatch.setitem(kinds.REGISTERED, "integer", dataclasses.replace(integer, grade=broken))
    monkeypatch.setattr(pipeline, "_MEMO", {})


def test_a_checker_bug_goes_to_the_staff_log_not_the_feedback(broken_integer_checker):
    run = pipeline.Run(pipeline.Limits(), Q2_QUESTIONS, checking=HERE)
    execution = Execution(Status.OK, {"q2a_out_dim": {"t": "int", "v": "7"}}, "printed\n", 1.0)
    result = pipeline.check_execution("s", execution, run)
    check = next(c for q in result.questions for c in q.checks if c.variable == "q2a_out_dim")
    assert check.stage is Stage.GRADER_ERROR and check.score == 0
    assert check.message.startswith(GRADER_FAILED)  # plus the review policy's sentence
    assert "Traceback" in result.log and "bug in the grader" in result.log
    assert result.log.startswith("printed\n")
    student = to_gradescope(result)
    visible = [t["output"] for t in student["tests"] if t["visibility"] == "visible"]
    assert visible
    assert not any("Traceback" in text or "bug in the grader" in text for text in visible)


def test_every_submission_with_the_failing_answer_gets_the_traceback(broken_integer_checker):
    run = pipeline.Run(pipeline.Limits(), Q2_QUESTIONS, checking=HERE)
    plain = {"q2a_out_dim": {"t": "int", "v": "7"}}
    logs = [pipeline.check_execution(name, Execution(Status.OK, plain, "", 1.0), run).log
            for name in ("first", "second")]
    assert all("bug in the grader" in log for log in logs)


def test_captured_records_are_not_printed_again_on_the_console(broken_integer_checker, capsys):
    root = logging.getLogger()
    before = list(root.handlers)
    for handler in before:  # an earlier test's CLI run may have configured it already
        if getattr(handler, "dis05_console", False):
            root.removeHandler(handler)
    try:
        staff_log.configure_console()
        staff_log.configure_console()  # idempotent: one handler
        assert sum(getattr(h, "dis05_console", False) for h in root.handlers) == 1
        run = pipeline.Run(pipeline.Limits(), Q2_QUESTIONS, checking=HERE)
        answers = {"q2a_out_dim": {"t": "int", "v": "7"}}
        pipeline.check_execution("s", Execution(Status.OK, answers, "", 1.0), run)
        log.warning("outside any submission")
        err = capsys.readouterr().err
    finally:
        root.handlers[:] = before
    assert "outside any submission" in err
    assert "bug in the grader" not in err


def test_a_bug_in_the_checker_process_reaches_the_submissions_staff_log():
    from autograder.checks import bounded

    settings = Checking()
    bounded.close_all()
    try:
        # a kind no checker knows: check_variable itself raises, inside the checker process
        odd = Variable("q2a_out_dim", "no-such-kind", 7, 1, "a variable of an unknown kind")
        checker = bounded.checker_for(settings)
        with staff_log.capture_log() as logged:
            result, reached, _ = checker.check(odd, 7, (), 10.0, memo_key="odd")
        assert reached and result.stage is Stage.GRADER_ERROR
        assert "no-such-kind" in logged.text() and "Traceback" in logged.text()
        assert checker.started == 1  # the child answered: it was not replaced
        again, _, _ = checker.check(odd, 8, (), 10.0, memo_key="odd")
        assert again.stage is Stage.GRADER_ERROR and checker.started == 1
    finally:
        bounded.close_all()
