"""End to end (issue 32): ``make assign VARIANTS=1``, a class answering its own numbers in the
notebooks it produced, graded by plain ``make grade`` and by the zip's ``run_autograder``, with
no flag anywhere."""

from __future__ import annotations

import json

import pytest

from autograder.grading import assignment, session
from autograder.report import review
from autograder.settings.variants import Variants
from autograder.student import package
from autograder.worksheet.variants import variant_of
from tests import variant_fixtures as fixtures
from tests.conftest import ROOT, read_csv
from tests.student.test_packaging import run_zip

CLASS = [f"student{i:02d}@berkeley.edu" for i in range(30)]
SALT = Variants().salt  # the course's: make assign and make grade use it


@pytest.fixture(scope="module")
def assigned(tmp_path_factory):
    """One ``make assign VARIANTS=1`` and a Gradescope export of the notebooks it built."""
    dest = tmp_path_factory.mktemp("assigned")
    built = package.assign(master=ROOT / "solutions" / "master" / "dis05.ipynb", root=ROOT,
                           dest=dest, variants=True)
    record = json.loads(built["student"].read_text())["metadata"][assignment.METADATA_KEY]
    entries = [([e], fixtures.right_answers(variant_of(e, SALT)), e) for e in CLASS]
    fixtures.export(dest / "export", entries, [record] * len(entries))
    return {"built": built, "export": dest / "export", "record": record}


@pytest.mark.slow
def test_plain_make_grade_grades_the_variant_class_with_full_marks_and_no_flags(assigned,
                                                                                tmp_path):
    assert assignment.parse(assigned["record"]).fingerprint == assignment.salt_fingerprint(SALT)
    out = tmp_path / "out"
    done = session.grade(session.GradeRequest((assigned["export"],), out, grade_q1=False,
                                              jobs=2)).done
    assert len(done.results) == len(CLASS)
    for result in done.results:
        assert result.score == result.max_score, (result.submission, result.status_text)
        assert result.details["copies"] == [] and result.details["identity"]["email"]
    assert read_csv(out / review.REVIEW_FILE) == []
    assert not done.notices


@pytest.mark.slow
@pytest.mark.parametrize("number", [1001, 1015, 1030])
def test_the_zips_run_autograder_grades_them_with_no_flag(assigned, tmp_path, number):
    email = CLASS[number - 1001]
    (tmp_path / "submission_metadata.json").write_text(json.dumps(
        {"users": [{"email": email, "name": email}]}))
    notebook = assigned["export"] / f"submission_{number}" / "dis05.ipynb"
    results = run_zip(assigned["built"]["zip"], notebook, tmp_path)
    assert results["extra_data"]["graded_as"] == email
    assert results["extra_data"]["variant"] == variant_of(email, SALT).as_dict()
    q2 = [t for t in results["tests"] if t["name"].lower().startswith("q2")]
    assert q2 and all(t["score"] == t["max_score"] for t in q2), q2
