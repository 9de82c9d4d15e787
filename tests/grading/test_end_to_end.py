"""The real `make grade` path on the bundled examples: reference full, blank zero, mistakes lose."""

from __future__ import annotations

import pytest

from autograder import worksheet

pytestmark = pytest.mark.slow
QUESTION_IDS = [q.id for q in worksheet.QUESTIONS]


def scores(entry: dict) -> dict[str, float]:
    return {q: float(entry["row"][q]) for q in QUESTION_IDS}


def test_grades_csv_has_the_contract_columns(graded_examples):
    """The written-part contract, in order; student identifiers may be added around it."""
    columns = list(graded_examples["solutions-dis05"]["row"])
    contract = ["submission", "total", "max_total", *QUESTION_IDS, "status"]
    assert [c for c in columns if c in contract] == contract


def test_reference_solution_scores_full_marks(graded_examples):
    entry = graded_examples["solutions-dis05"]
    assert entry["row"]["status"] == "ok"
    assert scores(entry) == {q.id: q.points for q in worksheet.QUESTIONS}
    assert float(entry["row"]["total"]) == float(entry["row"]["max_total"]) == sum(
        q.points for q in worksheet.QUESTIONS)


def test_blank_student_notebook_scores_zero(graded_examples):
    entry = graded_examples["assignment-dis05"]
    assert set(scores(entry).values()) == {0.0}
    assert "still the placeholder" in entry["feedback"]


def test_results_json_has_one_test_per_question_and_a_hidden_staff_log(graded_examples):
    results = graded_examples["solutions-dis05"]["results"]
    names = [t["name"] for t in results["tests"]]
    assert [name.split(":")[0].lower() for name in names[:-1]] == QUESTION_IDS
    assert names[-1] == "Staff log"
    assert results["tests"][-1]["visibility"] == "hidden"
    assert results["score"] == sum(t["score"] for t in results["tests"])
    for test in results["tests"][:-1]:
        assert all(p.startswith("✔") for p in test["output"].split("\n\n"))
        assert test["status"] == "passed" and test["number"]


@pytest.mark.parametrize("submission, question, max_expected, phrase", [
    ("alice-flipped-kernel", "q2a", 2.5, "flipped"),
    ("alice-flipped-kernel", "q2c", 1.5, "flipped"),
    ("alice-flipped-kernel", "q2f", 2.5, "floor"),
    ("alice-flipped-kernel", "q2h", 1.5, "channels"),
    ("alice-flipped-kernel", "q1a", 3.5, "wrap"),
    ("bob-forgot-padding", "q2b", 0.0, "padding"),
    ("bob-forgot-padding", "q2d", 0.0, "padding"),
    ("bob-forgot-padding", "q2i", 2.5, "biases"),
    ("bob-forgot-padding", "q1b", 1.0, "convolution"),
])
def test_known_mistakes_lose_marks_and_are_named(graded_examples, submission, question,
                                                 max_expected, phrase):
    entry = graded_examples[submission]
    assert scores(entry)[question] <= max_expected
    section = entry["feedback"].split(f"## {question}:")[1].split("\n## ")[0]
    assert phrase in section.lower()


def test_results_record_which_stage_decided_each_verdict(graded_examples):
    checks = graded_examples["alice-flipped-kernel"]["results"]["extra_data"]["checks"]
    assert checks["q2a_first"]["stage"] == "catalogue"
    assert checks["q2a_first"]["mistake"]
    assert checks["q2f_out_dim_general"]["stage"] in ("catalogue", "enumeration", "cas")
    assert checks["q2a_out_dim"]["stage"] == "exact"
    assert checks["q2i_fc_params"]["score"] == 1


def test_unknown_name_is_a_format_error_pointing_at_it(graded_examples):
    feedback = graded_examples["bob-forgot-padding"]["feedback"]
    assert "unknown name `k_1` (did you mean k1?)" in feedback


def test_a_crash_keeps_the_answers_defined_before_it(graded_examples):
    entry = graded_examples["carol-exits-midway"]
    assert entry["row"]["status"] == "crashed"
    got = scores(entry)
    assert got["q2a"] == 3 and got["q2e"] == 3      # defined before os._exit
    assert got["q1a"] == 4 and got["q1b"] == 4      # its code too: probed in a rerun of those cells
    assert got["q2f"] == got["q2i"] == 0            # never defined


def test_a_broken_upload_still_gets_a_row(graded_examples):
    entry = graded_examples["dave-truncated-upload"]
    assert entry["row"]["status"].startswith("invalid notebook: not valid JSON")
    assert entry["row"]["total"] == "0"
    assert "Resubmit" in entry["results"]["output"]


def test_make_grade_knobs_reach_the_grader(tmp_path):
    """`make grade SUBMISSIONS=… OUT=… Q1=0 JOBS=1` as a TA types it."""
    import csv
    import shutil
    import subprocess

    from tests.conftest import BLANK, REFERENCE, ROOT

    subs = tmp_path / "class"
    subs.mkdir()
    shutil.copy(REFERENCE, subs / "ref.ipynb")
    shutil.copy(BLANK, subs / "blank.ipynb")
    out = tmp_path / "out"
    proc = subprocess.run(["make", "-s", "grade", f"SUBMISSIONS={subs}", f"OUT={out}", "Q1=0",
                           "JOBS=1", "TIMEOUT=60"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {r["submission"]: r for r in csv.DictReader((out / "grades.csv").open())}
    q2_total = sum(q.points for q in worksheet.QUESTIONS if q.id.startswith("q2"))
    assert float(rows["ref"]["total"]) == float(rows["ref"]["max_total"]) == q2_total
    assert "q1a" not in rows["ref"]          # Q1=0 leaves Q1 out
    assert float(rows["blank"]["total"]) == 0
