"""The typed result model: statuses and stages are enums, written and read back in one place."""

from __future__ import annotations

import json

import pytest

from autograder.report import results
from autograder.report.gradescope import to_gradescope
from autograder.report.results import (
    GRADER_FAILED,
    CheckResult,
    QuestionResult,
    Stage,
    Status,
    SubmissionResult,
    grader_failure,
    result_from_dict,
    status_message,
)
from autograder.worksheet import QUESTIONS

TEXTS = [(Status.OK, "", "ok"), (Status.TIMEOUT, "", "timeout"), (Status.MEMORY, "", "memory"),
         (Status.CRASHED, "", "crashed"), (Status.GRADER_ERROR, "", "grader error"),
         (Status.INVALID, "not valid JSON (line 3: x: y)", "invalid notebook: not valid JSON "
                                                           "(line 3: x: y)")]


@pytest.mark.parametrize("status, reason, text", TEXTS, ids=[t[2][:20] for t in TEXTS])
def test_a_status_is_written_and_read_back_in_one_place(status, reason, text):
    assert status.text(reason) == text
    assert Status.parse(text) == (status, reason)
    result = SubmissionResult("s", text)  # plain text, as a record or a test gives it
    assert (result.status, result.reason, result.status_text) == (status, reason, text)


def test_an_unknown_status_is_refused():
    with pytest.raises(ValueError):
        Status.parse("exploded: somehow")
    with pytest.raises(ValueError):
        CheckResult("v", 0, 1, "m", stage="guessed")


@pytest.mark.parametrize("status", list(Status))
def test_every_status_has_a_sentence_for_the_student(status):
    message = status_message(status, "the file is empty")
    assert message.endswith(".") and message != status.value
    assert ("the file is empty" in message) == (status in (Status.INVALID, Status.REFUSED))


def test_a_record_round_trips_with_typed_status_and_stages():
    result = SubmissionResult("dave", Status.INVALID, reason="not valid JSON", log="staff only")
    result.questions = [QuestionResult("q2a", "t", [CheckResult("q2a_first", 0.5, 1, "m",
                                                                 stage=Stage.CATALOGUE,
                                                                 mistake="flip")])]
    data = json.loads(json.dumps(result.to_dict()))
    assert data["status"] == "invalid notebook: not valid JSON" and "reason" not in data
    back = result_from_dict(data)
    assert back == result
    assert back.status is Status.INVALID and back.questions[0].checks[0].stage is Stage.CATALOGUE


def test_gradescope_gets_the_status_text_and_stage_strings():
    result = SubmissionResult("dave", Status.INVALID, reason="no cells")
    result.questions = [QuestionResult("q2a", "t", [CheckResult("q2a_first", 0, 1, "m",
                                                                 stage=Stage.MISSING)])]
    data = json.loads(json.dumps(to_gradescope(result)))
    assert data["extra_data"]["status"] == "invalid notebook: no cells"
    assert data["extra_data"]["checks"]["q2a_first"]["stage"] == "missing"
    assert "invalid notebook: no cells" in data["output"]


def test_a_grader_failure_scores_every_answer_zero_and_keeps_the_trace_for_staff():
    result = grader_failure("s", QUESTIONS, "Traceback: boom")
    variables = [v for q in QUESTIONS for v in q.variables]
    checks = [c for q in result.questions for c in q.checks]
    assert [c.variable for c in checks] == [v.name for v in variables]
    assert result.status is Status.GRADER_ERROR and result.score == 0
    assert result.max_score == sum(q.points for q in QUESTIONS)
    assert all(c.message == GRADER_FAILED and c.stage is Stage.GRADER_ERROR for c in checks)
    gradescope = to_gradescope(result)
    visible = json.dumps([t for t in gradescope["tests"] if t["visibility"] == "visible"])
    assert "boom" not in visible and "boom" not in gradescope["output"]
    assert "boom" in next(t for t in gradescope["tests"] if t["name"] == "Staff log")["output"]


def test_the_student_sentence_for_a_grader_failure_names_staff():
    assert "tell course staff" in results.STATUS_MESSAGES[Status.GRADER_ERROR]
    assert "tell course staff" in GRADER_FAILED


def test_a_check_round_trips_in_parts_and_an_older_record_still_reads():
    check = CheckResult("q2a_first", 0, 1, ("Not correct: expected ", "k1", ", got ", "k2", "."),
                        stage="cas", reading="k2", notes=("read ^ as **",), hint="Look again.")
    result = SubmissionResult("s", "ok", [QuestionResult("q2a", "t", [check])])
    [[back]] = [q.checks for q in result_from_dict(json.loads(json.dumps(result.to_dict())))
                .questions]
    assert back == check and back.message == ("Read your answer as k2 (read ^ as **). Not "
                                              "correct: expected k1, got k2. Look again.")
    older = result.to_dict()
    older["questions"][0]["checks"] = [{"variable": "q2a_first", "score": 0, "max_score": 1,
                                        "message": "Read your answer as k2. Not correct.",
                                        "stage": "cas", "mistake": None, "hidden": False}]
    [[old]] = [q.checks for q in result_from_dict(older).questions]
    assert old.message == "Read your answer as k2. Not correct." and old.stage == "cas"
