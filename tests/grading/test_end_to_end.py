"""The real `make grade` path on the bundled examples: reference full, blank zero, mistakes lose."""

from __future__ import annotations

import pytest

from autograder import worksheet
from autograder.settings.q1 import Q1Config
from tests.conftest import VARIABLES, promised_score

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


NO_FLOOR = "(W + 2*p - K)/s + 1"
MISTAKES = {
    # submission: {variable: the mistake its answer makes (None: wrong, recognised by no entry;
    # (id, answer): the catalogue's entry of that id and answer)}; every other variable is right
    "alice-flipped-kernel": {
        "translate": "translate_wraps", "q1b_reasons": None,
        "q2a_first": "flipped-kernel", "q2a_last": "flipped-kernel", "q2c_K": "flipped-kernel",
        "q2f_out_dim_general": ("missing-floor", NO_FLOOR),
        "q2g_out_shape_general": ("missing-floor", NO_FLOOR),
        "q2h_input_shape": "channels-last", "q2h_kernel_shape": "channels-last"},
    "bob-forgot-padding": {
        "CNN": "cnn_no_conv",
        "q2b_out_dim": "padding-forgotten", "q2b_first": "padding-forgotten",
        "q2b_last": None,  # K1: a format error (K is the kernel size)
        "q2d_K": "padding-forgotten", "q2e_params_same": "padding-weights-counted",
        "q2i_output_shape": "rounded-up", "q2i_conv_params": "biases-counted"},
}
Q1_CREDIT = {"translate_wraps": 0.0,  # wrong inside the image: nothing (checks/q1.py)
             "cnn_no_conv": Q1Config().credit.no_conv}
"""the credit of Q1's program mistakes (not in the catalogue: they come from running the code)"""


def promised(name: str, mistake: str | tuple | None) -> float:
    """The score a wrong answer keeps: the catalogue's (or Q1's) credit times the points."""
    if mistake is None:
        return 0.0
    if mistake in Q1_CREDIT:
        return Q1_CREDIT[mistake] * VARIABLES[name].points
    return promised_score(name, *(mistake if isinstance(mistake, tuple) else (mistake,)))


def mistake_id(mistake: str | tuple | None) -> str | None:
    return mistake[0] if isinstance(mistake, tuple) else mistake


def expected_scores(submission: str) -> dict[str, float]:
    """Each question's score: full points for the right answers, what each mistake keeps."""
    wrong = MISTAKES[submission]
    return {q.id: sum(promised(v.name, wrong[v.name]) if v.name in wrong else v.points
                      for v in q.variables) for q in worksheet.QUESTIONS}


@pytest.mark.parametrize("submission", MISTAKES)
def test_each_example_scores_exactly_what_its_mistakes_keep(graded_examples, submission):
    entry = graded_examples[submission]
    want = expected_scores(submission)
    assert scores(entry) == pytest.approx(want)
    assert float(entry["row"]["total"]) == pytest.approx(sum(want.values()))
    assert sum(want.values()) < sum(q.points for q in worksheet.QUESTIONS)
    checks = entry["results"]["extra_data"]["checks"]
    for name, mistake in MISTAKES[submission].items():
        assert checks[name]["mistake"] == mistake_id(mistake), name
        assert checks[name]["score"] == pytest.approx(promised(name, mistake)), name


@pytest.mark.parametrize("submission, question, phrase", [
    ("alice-flipped-kernel", "q2a", "flipped"),
    ("alice-flipped-kernel", "q2c", "flipped"),
    ("alice-flipped-kernel", "q2f", "floor"),
    ("alice-flipped-kernel", "q2h", "channels"),
    ("alice-flipped-kernel", "q1a", "wrap"),
    ("bob-forgot-padding", "q2b", "padding"),
    ("bob-forgot-padding", "q2d", "padding"),
    ("bob-forgot-padding", "q2i", "biases"),
    ("bob-forgot-padding", "q1b", "convolution"),
])
def test_known_mistakes_lose_marks_and_are_named(graded_examples, submission, question, phrase):
    entry = graded_examples[submission]
    points = next(q.points for q in worksheet.QUESTIONS if q.id == question)
    assert scores(entry)[question] == pytest.approx(expected_scores(submission)[question])
    assert scores(entry)[question] < points
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
    assert "unknown name `K1` (did you mean k1?)" in feedback


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
