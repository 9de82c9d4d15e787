"""Grading with per-student variants: whose numbers a submission is graded with, and the copies
the variants reveal (a generated class as a Gradescope export)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from autograder import answers
from autograder.grading import identity, pipeline, session
from autograder.report import review
from autograder.report.results import Stage
from autograder.settings.variants import Variants
from autograder.worksheet import variants
from autograder.worksheet.variants import DEFAULT, Variant, variant_of
from tests import variant_fixtures as fixtures
from tests.conftest import read_csv

SALT = fixtures.SALT
ON = Variants(enabled=True, salt=SALT)
CLASS = [f"student{i:02d}@berkeley.edu" for i in range(30)]
COPIERS = {"copier1@berkeley.edu": CLASS[3], "copier2@berkeley.edu": CLASS[7]}
GROUP = ["emmy@berkeley.edu", "kurt@berkeley.edu"]
MISNAMED = ("owner@berkeley.edu", "someone.else@berkeley.edu")


def _mine(email: str) -> dict:
    return fixtures.right_answers(variant_of(email, SALT))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One class run: 30 students answering their own numbers, two copiers (each submits a
    classmate's answers), a group whose notebook names its second member, and a notebook whose
    email is not its submitter's."""
    root = tmp_path_factory.mktemp("variants")
    entries = [([e], _mine(e), e) for e in CLASS]
    entries += [([copier], _mine(source), copier) for copier, source in COPIERS.items()]
    entries.append((GROUP, _mine(GROUP[1]), GROUP[1].upper()))
    entries.append(([MISNAMED[0]], _mine(MISNAMED[0]), MISNAMED[1]))
    fixtures.export(root / "export", entries)
    out = root / "out"
    done = session.grade(session.GradeRequest((root / "export",), out, grade_q1=False, jobs=2,
                                              variants=ON)).done
    by_email = {}
    for number, (emails, _, _) in enumerate(entries, 1001):
        by_email[emails[0]] = f"submission_{number}"
    return {"out": out, "results": {r.submission: r for r in done.results},
            "names": by_email, "review": read_csv(out / review.REVIEW_FILE)}


@pytest.mark.slow
def test_a_class_answering_its_own_numbers_gets_full_marks_and_no_flags(graded):
    names = [graded["names"][e] for e in CLASS]
    assert len({variant_of(e, SALT) for e in CLASS}) > 20  # the class really has many variants
    for name in names:
        result = graded["results"][name]
        assert result.score == result.max_score, (name, result.status_text)
        assert result.details["copies"] == []
        assert result.details["identity"]["source"] == "export"
    flagged = {row["submission"] for row in graded["review"] if row["stage"] == review.COPY_STAGE}
    assert flagged.isdisjoint(names)


@pytest.mark.slow
def test_copied_answers_are_flagged_with_their_source_in_review_csv(graded):
    for copier, source in COPIERS.items():
        name, source_name = graded["names"][copier], graded["names"][source]
        rows = [r for r in graded["review"] if r["submission"] == name]
        assert rows and all(r["stage"] == review.COPY_STAGE for r in rows)
        assert all(source_name in r["message"] for r in rows)
        theirs = variants.sheet(variant_of(source, SALT))
        for row in rows:  # the variant named asks that variable as the source's does
            named = Variant.parse(row["message"].split("for variant ")[1].split(";")[0])
            assert (variants.sheet(named).variable(row["variable"]).expected
                    == theirs.variable(row["variable"]).expected)
        result = graded["results"][name]
        assert result.score < result.max_score  # graded as it stands (the default policy)
        feedback = (graded["out"] / name / "feedback.md").read_text()
        results_json = (graded["out"] / name / "results.json").read_text()
        for shown in (feedback, json.dumps(json.loads(results_json)["tests"][:-1])):
            assert source_name not in shown and "copy" not in shown.lower()


@pytest.mark.slow
def test_a_group_is_graded_with_the_member_its_notebook_names(graded):
    result = graded["results"][graded["names"][GROUP[0]]]
    assert result.details["identity"]["email"] == GROUP[1]
    assert result.score == result.max_score and result.details["copies"] == []


@pytest.mark.slow
def test_a_notebook_naming_someone_else_is_graded_with_the_submitters_numbers(graded):
    name = graded["names"][MISNAMED[0]]
    result = graded["results"][name]
    assert result.details["identity"]["email"] == MISNAMED[0]
    assert result.score == result.max_score
    feedback = (graded["out"] / name / "feedback.md").read_text()
    assert MISNAMED[1] in feedback and f"{MISNAMED[0]}'s own numbers" in feedback
    extra = json.loads((graded["out"] / name / "results.json").read_text())["extra_data"]
    assert extra["variant"] == variant_of(MISNAMED[0], SALT).as_dict()
    record = json.loads((graded["out"] / name / "checks.json").read_text())
    assert record["result"]["details"]["identity"]["variant"] == extra["variant"]


# --- the check phase alone (no notebook runs) -----------------------------------------------

def _check(run, email: str, given: dict, name: str = "me"):
    who = identity.resolve([email], "", salt=SALT, source="export")
    flags: list = []
    plain = {k: answers.encode(v) for k, v in given.items()}
    questions = pipeline.check_answers(plain, run, {}, who=who, name=name, flags=flags)
    return {c.variable: c for q in questions for c in q.checks}, flags


def test_the_worksheets_published_answers_are_flagged_for_a_student_with_other_numbers(q2_run):
    run = replace(q2_run, variants=ON)
    email = next(e for e in CLASS if variant_of(e, SALT).n != 9)
    checks, flags = _check(run, email, fixtures.right_answers(DEFAULT))
    flagged = {f.variable: f for f in flags}
    assert "q2a_out_dim" in flagged and flagged["q2a_out_dim"].variant == DEFAULT.label
    assert "published" in flagged["q2a_out_dim"].text
    assert checks["q2a_out_dim"].score == 0
    mine, none = _check(run, email, _mine(email))
    assert none == [] and mine and all(c.score == c.max_score for c in mine.values())


def test_a_known_mistake_of_another_variant_is_flagged(q2_run):
    run = replace(q2_run, variants=ON)
    email = next(e for e in CLASS if variant_of(e, SALT).n != 9)
    # the worksheet's flipped kernel (k3*x1 + k2*x2 + k1*x3) is a flipped kernel for n=9 only
    # when the student's own numbers are not n=9 k=3; for k=3 it is their own mistake too
    checks, flags = _check(run, email, {"q2a_last": "k3*x7 + k2*x8 + k1*x9"})
    if variant_of(email, SALT).k == 3:
        # may be empty: no flag at all also says no one's right answer was matched
        assert not any(f.variable == "q2a_last" and f.outcome == "right" for f in flags)
    assert any(f.variable == "q2a_last" and f.outcome == "flipped-kernel" for f in flags) or \
        checks["q2a_last"].stage == Stage.CATALOGUE


@pytest.mark.parametrize("policy,score", [("as-is", 0.5), ("zero", 0.0), ("review", 0.0)])
def test_the_copy_policy_decides_what_a_flagged_answer_scores(q2_run, policy, score):
    run = replace(q2_run, variants=Variants(enabled=True, salt=SALT, copy_policy=policy),
                  classmates=((variant_of(CLASS[1], SALT), "source"),))
    own, theirs = variant_of(CLASS[0], SALT), variant_of(CLASS[1], SALT)
    assert (own.image, own.in_channels) != (theirs.image, theirs.in_channels)
    # their answer, channels last: half credit for them, no known mistake of ours
    answer = (theirs.image, theirs.image, theirs.in_channels)
    checks, flags = _check(run, CLASS[0], {"q2h_input_shape": answer})
    flag = next(f for f in flags if f.variable == "q2h_input_shape")
    assert flag.outcome == "channels-last" and flag.classmates == ("source",)
    assert checks["q2h_input_shape"].score == {"as-is": 0.0}.get(policy, score)


def test_variants_off_grades_the_worksheets_numbers_and_records_nothing(q2_run):
    assert q2_run.identity("x", None) is None
    checks = pipeline.check_answers({k: answers.encode(v) for k, v in
                                     fixtures.right_answers(DEFAULT).items()}, q2_run, {})
    marks = [c for q in checks for c in q.checks]
    assert marks and all(c.score == c.max_score for c in marks)


def test_identity_rules():
    first, second = "a@x.edu", "b@x.edu"
    assert identity.resolve([first, second], " B@X.edu", salt=SALT, source="export").email == second
    assert identity.resolve([first, second], "", salt=SALT, source="export").email == first
    other = identity.resolve([first], "c@x.edu", salt=SALT, source="gradescope")
    assert other.email == first and "c@x.edu" in other.notice
    assert identity.resolve([], "c@x.edu", salt=SALT, source="export").source == "notebook"
    assert identity.resolve([], "", salt=SALT, source="export").variant == DEFAULT


def test_the_notebooks_email_is_read_without_running_it(tmp_path):
    path = fixtures.notebook(tmp_path / "nb.ipynb", {"q2a_out_dim": 7}, "ada@berkeley.edu")
    assert identity.notebook_email(path) == "ada@berkeley.edu"
    assert identity.notebook_email(fixtures.notebook(tmp_path / "none.ipynb", {})) == ""
    assert identity.notebook_email(tmp_path / "missing.ipynb") == ""


def test_gradescope_metadata_gives_the_submitters(tmp_path):
    meta = tmp_path / "submission_metadata.json"
    meta.write_text(json.dumps({"users": [{"email": "a@x.edu", "name": "A"},
                                          {"email": "b@x.edu"}]}))
    assert identity.gradescope_submitters(meta) == ["a@x.edu", "b@x.edu"]
    assert identity.gradescope_submitters(tmp_path / "absent.json") == []


def test_an_override_settles_equivalent_answers_in_every_variant_unless_it_names_one(q2_run):
    from autograder.checks import overrides

    email = next(e for e in CLASS if variant_of(e, SALT).k == 3 and variant_of(e, SALT).n != 9)
    mine = variant_of(email, SALT)
    every, problems = overrides.parse('- variable: q2a_first\n  answer: "k2*x1 + k3*x2"\n'
                                      '  credit: 0.5\n  message: "Accepted after review"\n')
    assert problems == ()
    run = replace(q2_run, variants=ON, overrides=overrides.Overrides(every))
    for who in (email, None):  # a variant, and the worksheet's numbers without variants
        if who is None:
            plain = {"q2a_first": answers.encode("k2*x1 + k3*x2")}
            checks = {c.variable: c for q in pipeline.check_answers(
                plain, replace(run, variants=Variants()), {}) for c in q.checks}
        else:
            checks, _ = _check(run, who, {"q2a_first": "k2*x1 + k3*x2"})
        assert checks["q2a_first"].stage == Stage.OVERRIDE and checks["q2a_first"].score == 0.5
    text = (f'- variable: q2a_first\n  answer: "k2*x1 + k3*x2"\n  credit: 0.5\n  message: "m"\n'
            f'  variant: "{DEFAULT.label}"\n')
    scoped, problems = overrides.parse(text)
    assert problems == () and scoped[0].variant == DEFAULT.label
    checks, _ = _check(replace(run, overrides=overrides.Overrides(scoped)), email,
                       {"q2a_first": "k2*x1 + k3*x2"})
    assert checks["q2a_first"].stage != Stage.OVERRIDE  # named another variant: not this one
    # an answer in a variant's own symbols is validated against that variant
    last = f"x{mine.n}"
    ok, problems = overrides.parse(f'- variable: q2a_last\n  answer: "k3*{last}"\n  credit: 0\n'
                                   f'  message: "m"\n  variant: "{mine.label}"\n')
    assert problems == () and len(ok) == 1
    _, bad = overrides.parse('- variable: q2a_last\n  answer: "k3"\n  credit: 0\n  message: "m"\n'
                             '  variant: "n=nine"\n')
    assert bad and "not a variant" in bad[0].message


def test_answer_groups_join_known_outcomes_across_variants_and_split_the_rest(q2_run):
    from autograder.report import answer_groups
    from autograder.report.results import Status, SubmissionResult

    run = replace(q2_run, variants=ON)
    a = CLASS[0]
    b = next(e for e in CLASS if variant_of(e, SALT).n_out != variant_of(a, SALT).n_out)
    records = []
    for number, (email, given) in enumerate([(a, _mine(a)), (b, _mine(b)),
                                             (a, {"q2a_out_dim": 99}), (b, {"q2a_out_dim": 99})]):
        who = identity.resolve([email], "", salt=SALT, source="export")
        plain = {k: answers.encode(v) for k, v in given.items()}
        result = SubmissionResult(f"s{number}", Status.OK,
                                  details={"answers": plain, "identity": who.as_dict()})
        result.questions = pipeline.check_answers(plain, run, {}, who=who)
        records.append({"result": result})
    groups = [g for g in answer_groups.build_groups(records, run.questions)
              if g.variable == "q2a_out_dim"]
    right = [g for g in groups if g.verdict == "right"]
    assert len(right) == 1 and right[0].members == ["s0", "s1"]
    wrong = [g for g in groups if g.verdict == "unrecognised wrong"]
    assert sorted(g.members for g in wrong) == [["s2"], ["s3"]]  # within each variant
    assert all("[n=" in g.reading for g in wrong)


@pytest.mark.slow
def test_gradescope_grades_the_submitters_own_numbers(tmp_path):
    """The zip's entry point with --variants: a group from submission_metadata.json, a notebook
    naming its second member; results.json's extra_data records the variant."""
    from autograder import cli

    salt = Variants().salt  # the course's, as the zip grades
    theirs = variant_of(GROUP[1], salt)
    fixtures.notebook(tmp_path / "submission" / "dis05.ipynb", fixtures.right_answers(theirs),
                      GROUP[1])
    (tmp_path / "submission_metadata.json").write_text(json.dumps(
        {"users": [{"email": e, "name": e} for e in GROUP]}))
    assert cli.main(["gradescope", "--root", str(tmp_path), "--no-q1", "--overrides", "",
                     "--variants"]) == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["extra_data"]["variant"] == theirs.as_dict()
    assert results["extra_data"]["graded_as"] == GROUP[1]
    assert results["score"] == sum(t["max_score"] for t in results["tests"])


def test_the_review_page_lists_the_copy_flags():
    from autograder.report import review_page

    items = [review.ReviewItem("submission_1031", "Copier", "q2a", "q2a_out_dim", "6",
                               review.COPY_STAGE, 0, 1, "policy",
                               "wrong for ... but right for variant n=10 ...; source: "
                               "submission_1004")]
    page = review_page.render([], copy_flags=review.copy_lines(items))
    assert "submission_1031 (Copier), q2a_out_dim" in page and "submission_1004" in page
    assert "no answer fits another student" in review_page.render([])
