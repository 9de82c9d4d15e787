"""The overrides file: validated with line numbers; an entry applies to every equivalent answer
and to nobody else."""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

import pytest

from autograder.checks import scalar
from autograder.grading import pipeline
from autograder.report import review
from autograder.settings.limits import Checking
from autograder.checks import overrides
from tests.after_grading_fixtures import checked


class Bad(NamedTuple):
    text: str
    line: int
    says: str


GOOD = """\
# a comment
- variable: q2a_first
  answer: "k1*x1 + k2*x2"
  credit: 0.5
  message: "Half: the last term is missing."
"""

BAD = [
    Bad(GOOD + "- variable: q2z\n  answer: 1\n  credit: 1\n  message: m\n", 6, "unknown variable"),
    Bad(GOOD + "- variable: q2a_first\n  answer: 'k1*x1 +* 2'\n  credit: 1\n  message: m\n", 6,
        "cannot be read"),
    Bad(GOOD + "- variable: q2a_first\n  answer: \"__import__('os')\"\n  credit: 1\n  message: m\n",
        6, "cannot be read"),
    Bad(GOOD + "- variable: q2a_first\n  answer: k1\n  credit: 1.5\n  message: m\n", 6,
        "not a number from 0 to 1"),
    Bad(GOOD + "- variable: q2a_first\n  answer: k1\n  credit: -0.1\n  message: m\n", 6,
        "not a number from 0 to 1"),
    Bad(GOOD + "- variable: q2a_first\n  answer: k1\n  credit: 'all'\n  message: m\n", 6,
        "not a number from 0 to 1"),
    Bad(GOOD + "- variable: q2a_first\n  answer: k1\n  credit: 1\n", 6, "missing message"),
    Bad(GOOD + "- variable: q2a_first\n  answer: k1\n  credit: 1\n  message: m\n  extra: 1\n", 6,
        "unknown field"),
    Bad(GOOD + "- variable: CNN\n  answer: k1\n  credit: 1\n  message: m\n", 6, "running code"),
    Bad(GOOD + "- variable: q2a_first\n  answer: x2*k2 + x1*k1\n  credit: 1\n  message: m\n", 6,
        "same answer (by the checker) as the entry on line 2"),
    Bad(GOOD + "- variable: q2a_first\n  answer: 'k1 x1'\n  match: meaning\n  credit: 1\n"
        "  message: m\n", 6, "the only choice is match: text"),
    Bad(GOOD + "- variable: q2a_first\n  answer: 'k_1 x_1'\n  match: text\n  credit: 1\n"
        "  message: m\n- variable: q2a_first\n  answer: ' k_1   x_1 '\n  match: text\n"
        "  credit: 0\n  message: m\n", 11, "same answer"),
    # an offered entry (the report's, the CSV's) pasted without setting its credit or message
    Bad(GOOD + overrides.entry_text("q2a_first", "k1*x2"), 6, "credit is not set"),
    Bad(GOOD + overrides.entry_text("q2a_first", "k1*x2", 0.5), 6,
        "message is still the placeholder"),
    Bad(GOOD + overrides.entry_text("q2a_first", "k_1 x_1", by_text=True), 6,
        "credit is not set"),
    Bad("variable: q2a_first\n", 1, "must be a list"),
    Bad(GOOD + "- [unclosed\n", 7, "not valid YAML"),
]


def test_a_good_file_gives_entries_with_their_lines():
    entries, problems = overrides.parse(GOOD)
    assert problems == ()
    assert [(e.variable, e.credit, e.line) for e in entries] == [("q2a_first", 0.5, 2)]
    assert entries[0].id == "override:overrides.yaml:2"


@pytest.mark.parametrize("bad", BAD, ids=[b.says for b in BAD])
def test_each_problem_is_reported_with_its_line(bad):
    entries, problems = overrides.parse(bad.text)
    assert [p.line for p in problems] == [bad.line]
    assert bad.says in problems[0].message
    if bad.line > 1 and "YAML" not in bad.says:
        assert entries[0].line == 2  # the good entry stays


def test_an_empty_or_missing_file_means_no_overrides(tmp_path):
    (tmp_path / "empty.yaml").write_text("# nothing yet\n[]\n")
    assert overrides.load(tmp_path / "empty.yaml").entries == ()
    assert overrides.load(tmp_path / "absent.yaml") .problems == ()
    assert overrides.load("") is overrides.load(None) is overrides.NONE  # --overrides ''


EQUIVALENT = ["k1*x1 + k2*x2", "x2*k2 + x1*k1", "(k1 + k2)*(x1 + x2) - k1*x2 - k2*x1"]
UNRELATED = ["k1*x1 + k2*x2 + k3*x3", "k1*x1", "k3*x1 + k2*x2 + k1*x3", "k1*x1 + k2*x3"]


def test_an_override_applies_to_every_equivalent_answer_and_to_nobody_else():
    entries, _ = overrides.parse(GOOD)
    run = in_this_process(pipeline.prepare_run(grade_q1=False))
    with_overrides = replace(run, overrides=overrides.Overrides(entries))
    for answer in EQUIVALENT:
        check = _check(checked("s", {"q2a_first": answer}, with_overrides))
        assert (check.score, check.stage, check.mistake) == (0.5, "override",
                                                             "override:overrides.yaml:2")
        assert "Half: the last term is missing." in check.message
    for answer in UNRELATED:
        before = _check(checked("s", {"q2a_first": answer}, run))
        after = _check(checked("s", {"q2a_first": answer}, with_overrides))
        assert after == before and after.stage != "override"
    other_variable = _check(checked("s", {"q2a_last": "k1*x1 + k2*x2"}, with_overrides), "q2a_last")
    assert other_variable.stage != "override"


def test_an_entry_that_matches_nobody_is_reported():
    entries, _ = overrides.parse(GOOD)
    found = overrides.Overrides(entries)
    assert overrides.unmatched(found, {"override:overrides.yaml:2"}) == []
    [problem] = overrides.unmatched(found, set())
    assert problem.line == 2 and "matches nobody" in problem.message


def test_an_undecided_answer_scores_by_policy_waits_for_review_and_an_override_settles_it(
        monkeypatch):
    hard = "k1*x1 + k2*x2 + k3*x3 + (x1**2 - 1)/(x1 - 1) - x1 - 1"
    real_equal = scalar.cas.equal
    monkeypatch.setattr(pipeline, "_MEMO", {})  # checks made with the stand-in stay here
    monkeypatch.setattr(scalar.cas, "equal",  # a CAS that cannot decide this one
                        lambda a, b, **kw: None if "x1**2" in str(a) + str(b) else real_equal(a, b))
    run = in_this_process(pipeline.prepare_run(grade_q1=False))
    result = checked("ada", {"q2a_first": hard}, run)
    check = _check(result)
    assert (check.stage, check.score) == ("undecided", 0.0)
    assert "review" in check.message
    [item] = review.queue([{"result": result, "student": {"name": "Ada"}}])
    assert (item.submission, item.student, item.variable) == ("ada", "Ada", "q2a_first")

    entry = f"- variable: q2a_first\n  answer: '{hard}'\n  credit: 1\n  message: Right.\n"
    entries, problems = overrides.parse(entry)
    assert problems == ()
    settled = checked("ada", {"q2a_first": hard},
                      pipeline.Run(run.limits, run.questions, overrides=overrides.Overrides(entries)))
    assert (_check(settled).stage, _check(settled).score) == ("override", 1.0)
    assert review.queue([{"result": settled}]) == []


def in_this_process(run):
    """``run`` checking in this process: a stand-in set here (a CAS, a reading policy) does not
    reach the checker process (``checks/bounded.py``)."""
    return replace(run, checking=Checking(isolated=False))


def _check(result, variable="q2a_first"):
    return next(c for q in result.questions for c in q.checks if c.variable == variable)


BY_TEXT = """\
- variable: q2a_first
  answer: "k_1 x_1 + k_2 x_2 + k_3 x_3"
  match: text
  credit: 1
  message: "Right; write products with * next time."
"""


@pytest.mark.usefixtures("explain_policy")  # the old policy (issue 31)
def test_an_unreadable_answer_is_settled_by_its_exact_text_and_nothing_else():
    entries, problems = overrides.parse(BY_TEXT)
    assert problems == () and entries[0].by_text
    run = in_this_process(pipeline.prepare_run(grade_q1=False))
    with_overrides = replace(run, overrides=overrides.Overrides(entries))
    for written in ("k_1 x_1 + k_2 x_2 + k_3 x_3", "  k_1 x_1 +\tk_2 x_2 + k_3  x_3\n"):
        before = _check(checked("s", {"q2a_first": written}, run))
        assert before.stage == "format"  # the checker cannot read it
        check = _check(checked("s", {"q2a_first": written}, with_overrides))
        assert (check.score, check.stage, check.mistake) == (1, "override",
                                                             "override:overrides.yaml:1")
        assert check.message == ("Your answer, as written: k_1 x_1 + k_2 x_2 + k_3 x_3. "
                                 "Right; write products with * next time.")
    for other in ("k_1 x_1 + k_2 x_2", "k1*x1 + k2*x2 + k3*x3", "$k_1 x_1 + k_2 x_2 + k_3 x_3$"):
        after = _check(checked("s", {"q2a_first": other}, with_overrides))
        assert after.stage != "override", other


def test_an_offered_unreadable_entry_says_it_matches_by_text_and_loads_once_filled():
    offered = overrides.entry_text("q2a_first", "k_1 x_1", by_text=True)
    assert "match: text" in offered and overrides.MESSAGE_PLACEHOLDER in offered
    filled = overrides.entry_text("q2a_first", "k_1 x_1", 0.5, "Half.", by_text=True)
    entries, problems = overrides.parse(filled)
    assert problems == () and (entries[0].credit, entries[0].message) == (0.5, "Half.")


TRICKY = ["k1*x2\x7f", "k1\x85x2", "k1*x2\ufffe", "k1\tx2 'q' \"dq\"", "k1: x2 # no comment",
          "- k1*x2", "k1*x2 \U0001F600", "k1\u2028x2", "k1\x1bx2", "k1\r\nx2", "k1*x2"]


@pytest.mark.parametrize("answer", TRICKY)
def test_dump_and_an_offered_entry_read_back_as_what_was_meant(answer):
    import yaml

    header = "# staff's file\n#   kept as it is\n"
    entries = [{"variable": "q2a_first", "answer": answer, "match": "text", "credit": 0.5,
                "message": f"Seen: {answer}"}]
    text = overrides.dump(entries, header)
    assert text.startswith(header) and text.isascii()
    assert yaml.safe_load(text) == entries
    [entry], problems = overrides.parse(text)
    assert problems == () and (entry.answer, entry.message) == (answer, f"Seen: {answer}".strip())
    offered = overrides.entry_text("q2a_first", answer, 1, f"Seen: {answer}", by_text=True)
    assert yaml.safe_load(offered)[0]["answer"] == answer


def test_dump_of_no_entries_is_an_empty_list_after_the_header():
    import yaml

    assert overrides.dump([], "# only comments") == "# only comments\n[]\n"
    assert yaml.safe_load(overrides.dump([])) == []
