"""Every output is safe in the program that opens it (issue 30, point 4): payloads in student
names, emails and answers, graded end to end, and every file read back by its own reader:
Gradescope's Markdown rendered (markdown-it, CommonMark with raw HTML on, the worst a site may do)
and loaded in headless Chromium, CSVs by the csv module, JSON as strict UTF-8, the review page's
and report's HTML in Chromium."""

from __future__ import annotations

import csv
import json
import re

import pytest

from autograder import report
from autograder.grading import classroom, pipeline
from autograder.report import markdown
from autograder.report.results import CheckResult
from tests.variant_fixtures import notebook

PAYLOADS = (
    '=HYPERLINK("http://evil.example/","click")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "x\r<script>alert(1)</script>",
    "k1*x1`` <img src=x onerror=alert(2)> ``",
    "</code><script>alert(3)</script>",
    "a\ud800b",
    "nul\x00 del\x7f c1\x85 fffe\ufffe ls\u2028<script>alert(4)</script>",
    "[click](javascript:alert(5))",
    "x" * 5000,
)

#: Elements the grader's Markdown may produce once rendered.
ALLOWED_TAGS = {"html", "head", "body", "p", "code", "pre", "em", "strong", "ul", "li", "h1",
                "h2", "br"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- units: each renderer on its own --------------------------------------------------------

@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_check_with_student_text_renders_to_no_markup_of_its_own(payload):
    check = CheckResult("q2a_first", 0, 1, ("Not correct: expected ", "k1*x1", ", got ", payload,
                                            "."),
                        reading=payload, pointer=f"{payload}\n^", notes=(payload,))
    html = render_markdown(markdown.check(check))
    assert set(re.findall(r"<([a-zA-Z][\w-]*)", html)) <= ALLOWED_TAGS, html


@pytest.mark.parametrize("text, shown", [
    ("a\rb", "a\\rb"), ("a\nb", "a\\nb"), ("\x7f", "\\x7f"), ("\x85", "\\x85"),
    ("\u2028", "\\u2028"), ("\ufffe", "\\ufffe"), ("k₁·x₁", "k₁·x₁")])
def test_control_characters_are_shown_not_obeyed(text, shown):
    assert markdown.code_span(text).strip("` ") == shown


@pytest.mark.parametrize("cell, written", [
    ('=HYPERLINK("x")', '\'=HYPERLINK("x")'), ("+1+1", "'+1+1"), ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("-0.5", "-0.5"), ("+3", "+3"), ("1e5", "1e5"), ("k1*x1", "k1*x1"), ("", ""),
    (None, ""), (2.5, "2.5"), ("a\ud800", "a\ufffd")])
def test_csv_cells_are_never_formulas(cell, written):
    assert report.csv_cell(cell) == written


def test_json_is_valid_utf8_whatever_the_text(tmp_path):
    path = tmp_path / "x.json"
    report.write_json(path, {"answer": "k1\ud800", "nested": ["\udfff"]})
    data = json.loads(path.read_bytes().decode("utf-8", "strict"))
    assert data == {"answer": "k1\ufffd", "nested": ["\ufffd"]}


# --- end to end: a class of payloads ---------------------------------------------------------

EXPORT_NAMES = ('=HYPERLINK("http://evil.example/","click")', "@Mallory", "-Eve",
                "Trudy <script>alert(6)</script>")


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("injection")
    export = root / "export"
    lines = []
    for number, name in enumerate(EXPORT_NAMES, 2001):
        answers = {f"q2{part}_first": PAYLOADS[(number + i) % len(PAYLOADS)]
                   for i, part in enumerate("ab")}
        answers["q2a_out_dim"] = PAYLOADS[number % len(PAYLOADS)]
        notebook(export / f"submission_{number}" / "dis05.ipynb", answers)
        lines += [f"submission_{number}:", "  :submitters:",
                  f"  - :name: {json.dumps(name)}", f"    :sid: {json.dumps('+' + str(number))}",
                  f"    :email: {json.dumps('=' + name + '@x.edu')}"]
    (export / "submission_metadata.yml").write_text("\n".join(lines) + "\n")
    out = root / "out"
    job = classroom.ClassJob((export,), out, pipeline.prepare_run(grade_q1=False), jobs=2)
    done = classroom.grade_class(job)
    assert len(done.results) == len(EXPORT_NAMES)
    return out


@pytest.mark.slow
def test_every_csv_cell_is_text_a_spreadsheet_shows(graded_class):
    files = sorted(graded_class.glob("*.csv"))
    assert {f.name for f in files} >= {"grades.csv", "gradebook.csv", "answer_groups.csv",
                                       "review.csv"}
    cells = 0
    for path in files:
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                for cell in row:
                    cells += 1
                    assert not cell.startswith(FORMULA_START) or report._NUMBER.fullmatch(cell), \
                        (path.name, cell)
    assert cells > 50


@pytest.mark.slow
def test_every_json_file_is_strict_utf8(graded_class):
    files = sorted(graded_class.glob("*/*.json"))
    assert len(files) >= 2 * len(EXPORT_NAMES)
    for path in files:
        json.loads(path.read_bytes().decode("utf-8", "strict"))


@pytest.mark.slow
def test_gradescope_markdown_renders_to_no_element_the_grader_did_not_write(graded_class):
    documents = []
    for path in sorted(graded_class.glob("*/results.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        documents.append(data["output"])
        documents += [t["output"] for t in data["tests"] if t.get("output_format") == "md"]
    documents += [p.read_text(encoding="utf-8") for p in graded_class.glob("*/feedback.md")]
    assert len(documents) > len(EXPORT_NAMES) * 10
    html = "\n<hr>\n".join(render_markdown(d) for d in documents)
    tags, dialogs = browse(html.replace("<hr>", ""))
    assert not dialogs
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS


@pytest.mark.slow
def test_the_report_and_the_review_page_run_no_student_script(graded_class):
    for page in ("report.html", "review.html"):
        _, dialogs = browse((graded_class / page).read_text(encoding="utf-8"))
        assert not dialogs, page


# --- helpers --------------------------------------------------------------------------------

def render_markdown(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).render(text)


def browse(html: str) -> tuple[set[str], list[str]]:
    """The element names of ``html`` once Chromium parsed it, and the dialogs its scripts
    opened (skips without Chromium or playwright)."""
    from tests.report.test_review_page import browser_or_skip

    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = browser_or_skip(playwright)
        try:
            page = browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.set_content(html, wait_until="load")
            tags = set(page.evaluate(
                "() => [...document.querySelectorAll('*')].map(e => e.localName)"))
            handlers = page.evaluate(
                "() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]"
                ".map(a => a.name)).filter(n => n.startsWith('on'))")
            assert not handlers, handlers
        finally:
            browser.close()
    return tags, dialogs
