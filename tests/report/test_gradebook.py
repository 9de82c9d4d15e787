"""gradebook.csv: Gradescope's Name,SID,Email,Total Score, one row per identified submitter."""

from __future__ import annotations

from autograder import report
from autograder.report.results import CheckResult, QuestionResult, SubmissionResult


def test_gradebook_has_one_row_per_identified_student(tmp_path):
    def record(name, score, student):
        checks = [CheckResult("q2a_first", score, 3, "m")]
        return {"result": SubmissionResult(name, "ok", [QuestionResult("q2a", "t", checks)]),
                "student": student}

    records = [
        record("submission_1", 2.5, {"submitters": [{"name": "B", "sid": "2", "email": "b@x.edu"},
                                                    {"name": "A", "sid": "1", "email": "a@x.edu"}]}),
        record("plain", 3, {}),  # no identifiers: not in the gradebook
        record("submission_2", 1, {"submitters": [{"name": "C", "sid": "", "email": ""}]}),
    ]
    n = report.write_gradebook_csv(tmp_path / "gradebook.csv", records)
    assert n == 2
    assert (tmp_path / "gradebook.csv").read_text().splitlines() == [
        "Name,SID,Email,Total Score", "A,1,a@x.edu,2.5", "B,2,b@x.edu,2.5"]  # the group's score
