"""The assignment decides (issue 32): a variant notebook's record is read by grading, so no flag
is needed; contradictions are told and held for review; copy flags span the whole class."""

from __future__ import annotations

import json

import pytest

from autograder.grading import assignment, session
from autograder.grading.assignment import Record
from autograder.report import review
from autograder.report.notices import Topic
from autograder.settings.variants import Variants
from autograder.worksheet.variants import variant_of
from tests import variant_fixtures as fixtures
from tests.conftest import read_csv

SALT = fixtures.SALT
MINE = assignment.record(SALT)


@pytest.mark.parametrize("raw, variants, problem", [
    (None, False, False),  # the plain assignment: graded as today
    (MINE, True, False),
    ({**MINE, "variants": False}, False, True),
    ({**MINE, "salt_fingerprint": assignment.salt_fingerprint("other")}, False, True),
    ({**MINE, "extra": 1}, False, True),
    ({k: v for k, v in MINE.items() if k != "seal"}, False, True),
    ({**MINE, "seal": "0" * 12}, False, True),
    ("variants", False, True),
    ([], False, True),
])
def test_a_record_is_trusted_only_as_make_assign_wrote_it(raw, variants, problem):
    found = assignment.parse(raw)
    assert (found.variants, bool(found.problem)) == (variants, problem)


def test_the_fingerprint_tells_salts_apart_without_showing_them():
    prints = {assignment.salt_fingerprint(s) for s in (SALT, SALT + "x", "eecs182-dis05")}
    assert len(prints) == 3 and all(SALT not in p for p in prints)
    assert SALT not in json.dumps(MINE)


FOREIGN = Record(True, assignment.salt_fingerprint("last-term"))


@pytest.mark.parametrize("records, explicit, enabled, held", [
    ({"a": Record(), "b": Record()}, False, False, set()),
    ({"a": Record(True, MINE["salt_fingerprint"])}, False, True, set()),
    ({"a": Record(True, MINE["salt_fingerprint"]), "b": Record()}, False, True, {"b"}),
    ({"a": Record(True, MINE["salt_fingerprint"]), "b": FOREIGN}, False, True, {"b"}),
    ({"a": Record(), "b": Record(problem="edited")}, False, False, {"b"}),
    ({"a": Record(), "b": Record()}, True, True, set()),  # the explicit override: told, not held
])
def test_the_decision_follows_the_notebooks_and_holds_contradictions(records, explicit, enabled,
                                                                     held):
    decision = assignment.decide(records, Variants(enabled=explicit, salt=SALT))
    assert decision.enabled == enabled and set(decision.held) == held
    named = {n for notice in decision.notices for n in notice.submissions}
    assert held <= named
    # may be empty: no contradiction, no notice (held <= named says there are those there must be)
    assert all(n.topic is Topic.VARIANTS for n in decision.notices)
    if explicit:
        assert named == set(records)  # the override names the notebooks it contradicts


def _mine(email: str) -> dict:
    return fixtures.right_answers(variant_of(email, SALT))


def _grade(export, out):
    return session.grade(session.GradeRequest((export,), out, grade_q1=False, jobs=1,
                                              variants=Variants(salt=SALT))).done


CLASS = [f"student{i:02d}@berkeley.edu" for i in range(4)]


@pytest.mark.slow
def test_a_class_of_variant_notebooks_is_graded_per_student_with_no_flag(tmp_path):
    entries = [([e], _mine(e), e) for e in CLASS]
    fixtures.export(tmp_path / "export", entries, [MINE] * len(entries))
    done = _grade(tmp_path / "export", tmp_path / "out")
    assert len(done.results) == len(CLASS)
    for result in done.results:
        assert result.score == result.max_score, result.status_text
        assert result.details["copies"] == [] and result.details["identity"]["email"]
    assert not [n for n in done.notices if n.topic is Topic.VARIANTS]
    assert read_csv(tmp_path / "out" / review.REVIEW_FILE) == []


@pytest.mark.slow
def test_a_mixed_class_and_a_foreign_salt_are_told_and_held_for_review(tmp_path, capsys):
    from autograder import cli

    course = Variants().salt  # what make grade uses
    entries = [([e], fixtures.right_answers(variant_of(e, course)), e) for e in CLASS]
    ours, foreign = assignment.record(course), assignment.record("last-term")
    fixtures.export(tmp_path / "export", entries, [ours, ours, None, foreign])
    out = tmp_path / "out"
    assert cli.main(["grade", str(tmp_path / "export"), "--out", str(out), "--no-q1",
                     "--overrides", "", "--jobs", "1"]) == 0
    plain, other = "submission_1003", "submission_1004"
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    page = (out / "report.html").read_text()
    rows = read_csv(out / review.REVIEW_FILE)
    held = {r["submission"] for r in rows if r["stage"] == review.ASSIGNMENT_STAGE}
    assert held == {plain, other}
    for name in (plain, other):
        assert name in printed and name in page
    assert "another salt" in printed and "plain assignment" in printed
    assert "another salt" in (out / "review.html").read_text()
    # held, not scored against numbers their assignment does not vouch for
    grades = {r["submission"]: r for r in read_csv(out / "grades.csv")}
    for name in (plain, other):
        assert float(grades[name]["total"]) == 0.0, grades[name]
        assert "Held for review (scored 0 of" in (out / name / "feedback.md").read_text()
    for name in ("submission_1001", "submission_1002"):
        assert grades[name]["total"] == grades[name]["max_total"], grades[name]


@pytest.mark.slow
def test_a_source_graded_later_flags_its_copier_without_force(tmp_path):
    source, copier = CLASS[0], "copier@berkeley.edu"
    first = [([copier], _mine(source), copier), ([CLASS[1]], _mine(CLASS[1]), CLASS[1])]
    fixtures.export(tmp_path / "one", first, [MINE] * 2)
    out = tmp_path / "out"
    _grade(tmp_path / "one", out)
    before = [r for r in read_csv(out / review.REVIEW_FILE) if r["stage"] == review.COPY_STAGE]
    assert not [r for r in before if "submission_1003" in r["message"]]  # not graded yet
    later = first + [([source], _mine(source), source)]
    fixtures.export(tmp_path / "two", later, [MINE] * 3)
    done = _grade(tmp_path / "two", out)
    assert "submission_1001" in done.reused  # the copier was not graded again
    rows = [r for r in read_csv(out / review.REVIEW_FILE) if r["stage"] == review.COPY_STAGE]
    assert rows and {r["submission"] for r in rows} == {"submission_1001"}
    assert all("submission_1003" in r["message"] for r in rows)
    record = json.loads((out / "submission_1001" / "checks.json").read_text())
    assert record["result"]["details"]["copies"]


@pytest.mark.slow
def test_run_autograder_reads_the_zips_record_with_no_flag(tmp_path):
    from autograder import cli

    salt = Variants().salt  # the course's, as the zip grades
    email = CLASS[2]
    theirs = variant_of(email, salt)
    fixtures.notebook(tmp_path / "submission" / "dis05.ipynb", fixtures.right_answers(theirs),
                      email)
    (tmp_path / "submission_metadata.json").write_text(json.dumps(
        {"users": [{"email": email, "name": email}]}))
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / assignment.ZIP_FILE).write_text(json.dumps(assignment.record(salt)))
    assert cli.main(["gradescope", "--root", str(tmp_path), "--no-q1", "--overrides", ""]) == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["extra_data"]["variant"] == theirs.as_dict()
    assert results["score"] == sum(t["max_score"] for t in results["tests"])
