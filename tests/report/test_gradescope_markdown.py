"""results.json renders well on Gradescope: Markdown with answers and expressions in code spans."""

from __future__ import annotations

import re

import pytest

from autograder import worksheet
from autograder.answers import MISSING
from autograder.checks import check_variable
from autograder.report import markdown
from autograder.report.gradescope import to_gradescope
from autograder.report.results import CheckResult, QuestionResult, SubmissionResult

ANSWERS = {
    # case: (variable, answer, Markdown it must contain, text that must not survive unescaped)
    "answer read": ("q2a_first", "k1*x1 + k2*x2 + k3*x3",
                    "Read your answer as `k1*x1 + k2*x2 + k3*x3`. Correct.", None),
    "answer with a note": ("q2a_first", "k1^2", "`k1**2` (^ read as \\*\\* (a power)). Not", None),
    "expected and got": ("q2a_out_dim", 4, "expected `7`, got `4`.", None),
    "catalogue text escaped": ("q2a_first", "k3*x1 + k2*x2 + k1*x3",
                               "Not correct, a known mistake (flipped-kernel):", "k3*x1"),
    "tuple, entry verdicts": ("q2g_out_shape_general", ("W - K", "W - K"),
                              "as `(-K + W, -K + W)`. Every entry: Not correct: expected `", None),
    "shape verdict": ("q2c_K", [["k1"] * 9] * 9,
                      "first row `[k1, k1, k1, k1, k1, k1, k1, k1, k1]`. `q2c_K` has shape (9, 9)",
                      None),
    "a formula for a number": ("q2a_out_dim", "W - K", "as `-K + W`. That is a formula", None),
    "quoted name kept": ("q2a_last", MISSING, "`q2a_last` is not defined", None),
    "product kept as code": ("q2a_first", "x1*x2", "got `x1*x2`.", "x1*x2"),
}


@pytest.mark.parametrize("variable, answer, wanted, raw", ANSWERS.values(), ids=ANSWERS.keys())
def test_checks_become_markdown(variable, answer, wanted, raw):
    check = check_variable(worksheet.variable(variable), answer)
    md = markdown.check(check)
    assert wanted in md, md
    outside_code = re.sub(r"(`+).+?\1", "", md)
    if raw:
        assert raw not in outside_code
    assert not re.search(r"(?<!\\)[*_]", outside_code), md  # nothing italicised


def test_markdown_is_written_from_the_parts_not_the_text():
    """A verdict that names no wording the old regex knew still gets its answer as code."""
    check = CheckResult("q2a_first", 1, 1, "Accepted after review.", reading="k1*x_1",
                        reading_label="the sum", hint="See *this*.", review="Scored 1 of 1.")
    assert markdown.check(check) == ("Read your answer as the sum `k1*x_1`. Accepted after review. "
                                     "See \\*this\\*. (Scored 1 of 1.)")
    assert check.message == ("Read your answer as the sum k1*x_1. Accepted after review. "
                             "See *this*. (Scored 1 of 1.)")


@pytest.mark.parametrize("text", ["k1`x1", "`k1", "a``b`", "plain"])
def test_code_span_holds_any_backticks(text):
    span = markdown.code_span(text)
    fence = re.match(r"`+", span).group(0)
    inner = span[len(fence):-len(fence)]
    assert inner.strip() == text and fence not in inner  # CommonMark: the fence cannot recur
    assert span.endswith(fence) and not span[:-len(fence)].endswith("`" * (len(fence) + 1))


def test_parser_pointer_becomes_a_code_block():
    check = check_variable(worksheet.variable("q2a_first"), "k1 x1 +")
    assert check.stage == "format" and check.pointer == "k1 x1 +\n   ^"
    md = markdown.check(check)
    assert md.endswith("```\nk1 x1 +\n   ^\n```")
    assert "write products with \\*" in md
    assert check.message.endswith("\n    k1 x1 +\n       ^")  # the plain text indents it


def test_results_json_fields_gradescope_reads():
    q = QuestionResult("q2a", "Output of a valid 1-D convolution", [
        check_variable(worksheet.variable("q2a_first"), "k1*x1 + k2*x2 + k3*x3"),
        check_variable(worksheet.variable("q2a_last"), "k1*x8"),
        CheckResult("q2a_hidden", 0, 1, "secret", hidden=True)])
    data = to_gradescope(SubmissionResult("s", "ok", [q], seconds=3.25, log="Traceback *x*"))
    assert data["output_format"] == data["test_output_format"] == "md"
    assert data["execution_time"] == 3.25
    test, staff = data["tests"]
    assert test["name"] == "Q2a: Output of a valid 1-D convolution" and test["number"] == "2.a"
    assert test["status"] == "failed" and test["output_format"] == "md"
    assert "`k1*x1 + k2*x2 + k3*x3`" in test["output"]
    assert "got `k1*x8`" in test["output"] and "secret" not in test["output"]
    assert staff["output_format"] == "text" and "Traceback *x*" in staff["output"]
    assert staff["visibility"] == "hidden"
