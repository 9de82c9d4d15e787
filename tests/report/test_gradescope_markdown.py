"""results.json renders well on Gradescope: Markdown with answers and expressions in code spans."""

from __future__ import annotations

import re

import pytest

from autograder.report import markdown
from autograder.report.results import CheckResult, QuestionResult, SubmissionResult, to_gradescope

MESSAGES = {
    # case: (plain message, Markdown it must contain, text that must not survive unescaped)
    "answer read": ("Read your answer as k1*x1 + k2*x2 + k3*x3. Correct.",
                    "Read your answer as `k1*x1 + k2*x2 + k3*x3`. Correct.", None),
    "answer with a note": ("Read your answer as k1**2 (^ read as ** (a power)). Correct.",
                           "`k1**2` (^ read as \\*\\* (a power)). Correct.", None),
    "expected and got": ("Read your answer as W - K. Not correct: expected W - K + 1, got W - K.",
                         "expected `W - K + 1`, got `W - K`.", None),
    "catalogue text escaped": ("Read your answer as 6. Not correct, a known mistake (flip): "
                               "output i is k1*x_i + k2*x_(i+1).",
                               "k1\\*x\\_i + k2\\*x\\_(i+1)", "k1*x_i"),
    "tuple, entry verdicts": ("Read your answer as (W - K, W - K). Every entry: Not correct, a known "
                              "mistake (off-by-one): Off by one.", "as `(W - K, W - K)`. Every", None),
    "shape verdict": ("Read your answer as a 9x9 matrix with first row [k2, k3]. `q2c_K` has shape "
                      "(9, 9), expected (7, 9). Count the outputs.",
                      "first row `[k2, k3]`. `q2c_K` has shape (9, 9)", None),
    "matrix row": ("Read your answer as a 7x9 matrix with first row [k3, k2, k1]. Correct.",
                   "Read your answer as a 7x9 matrix with first row `[k3, k2, k1]`.", None),
    "backtick inside an answer": ("Could not read `k1`x1`: invalid syntax.", "could", None),
    "quoted name kept": ("`q2a_last` is not defined: assign your answer.", "`q2a_last` is", None),
    "html escaped": ("Read your answer as <b>. Not correct: expected 1, got <b>.", "`<b>`", "<b>."),
}


@pytest.mark.parametrize("text, wanted, raw", MESSAGES.values(), ids=MESSAGES.keys())
def test_messages_become_markdown(text, wanted, raw):
    md = markdown.message(text)
    assert wanted.lower() in md.lower()
    outside_code = re.sub(r"(`+).+?\1", "", md)
    if raw:
        assert raw not in outside_code
    assert not re.search(r"(?<!\\)[*_]", outside_code), md  # nothing italicised


@pytest.mark.parametrize("text", ["k1`x1", "`k1", "a``b`", "plain"])
def test_code_span_holds_any_backticks(text):
    span = markdown.code_span(text)
    fence = re.match(r"`+", span).group(0)
    inner = span[len(fence):-len(fence)]
    assert inner.strip() == text and fence not in inner  # CommonMark: the fence cannot recur
    assert span.endswith(fence) and not span[:-len(fence)].endswith("`" * (len(fence) + 1))


def test_parser_pointer_becomes_a_code_block():
    md = markdown.message("Could not read `k1 x1`: write products with *.\n    k1 x1\n       ^")
    assert md.endswith("```\nk1 x1\n   ^\n```")
    assert "write products with \\*." in md


def test_results_json_fields_gradescope_reads():
    q = QuestionResult("q2a", "Output of a valid 1-D convolution", [
        CheckResult("q2a_first", 1, 1, "Read your answer as k1*x1 + k2*x2 + k3*x3. Correct."),
        CheckResult("q2a_last", 0, 1, "Read your answer as k1*x8. Not correct: expected "
                                      "k1*x7 + k2*x8 + k3*x9, got k1*x8."),
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
