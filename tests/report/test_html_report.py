"""report.html: its sections from synthetic records, and that it renders in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from autograder.grading import pipeline
from autograder.report import html as html_report
from autograder.report.results import CheckResult, QuestionResult, SubmissionResult
from autograder.worksheet import mistakes

SECTIONS = ("Summary", "Score distribution", "Most common mistakes", "Submissions that failed",
            "Timing")


def class_records() -> tuple[list[dict], tuple]:
    """Five submissions: two right, two with Q2a's flipped kernel, one crashed, one unreadable."""
    run = pipeline.prepare_run(grade_q1=False)

    def result(name, status="ok", flipped=False, seconds=3.0, log=""):
        r = SubmissionResult(name, status, seconds=seconds, log=log)
        for q in run.questions:
            checks = []
            for v in q.variables:
                if flipped and v.name == "q2a_first":
                    checks.append(CheckResult(v.name, v.points / 2, v.points, "flipped",
                                              stage="catalogue", mistake="flipped-kernel"))
                elif status != "ok":
                    checks.append(CheckResult(v.name, 0, v.points, "missing", stage="missing"))
                else:
                    checks.append(CheckResult(v.name, v.points, v.points, "right", stage="exact"))
            r.questions.append(QuestionResult(q.id, q.title, checks))
        return r

    results = [result("ada"), result("alan", seconds=9.5), result("bob", flipped=True),
               result("eve", flipped=True), result("carol", "crashed", log="SystemExit: 1"),
               result("dave", "invalid notebook: not valid JSON", seconds=0.01)]
    students = {"carol": {"name": "Carol <script>alert(1)</script>"}}
    return [{"result": r, "student": students.get(r.submission, {})} for r in results], run.questions


@pytest.fixture(scope="module")
def page() -> str:
    """The class page of ``class_records``, rendered once (drawing its plots takes seconds)."""
    records, questions = class_records()
    return html_report.render(records, questions=questions, title="Class report",
                              run_info=html_report.RunInfo(seconds=12.0, jobs=2, graded=4,
                                                           reused=2, total=6))


def test_the_report_has_every_section_and_counts_mistakes(page):
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in page
    flip = next(m for m in mistakes.for_variable("q2a_first") if m.id == "flipped-kernel")
    q2a = page.split("id='mistakes-q2a'")[1].split("<h3")[0]
    cells = re.sub(r"<td[^>]*>", "<td>", q2a)
    assert "<td>2</td><td>q2a_first</td><td>flipped-kernel</td>" in cells
    assert flip.message.split(",")[0] in q2a
    failures = page.split("id='failures'")[1].split("</section>")[0]
    assert "carol" in failures and "SystemExit: 1" in failures and "not valid JSON" in failures
    assert "ada" not in failures
    assert "4 graded and 2 unchanged" in page and "2 parallel jobs" in page


def test_the_report_is_self_contained_and_escapes_student_text(page):
    assert "<script>" not in page  # the student's name is text, not markup
    assert "Carol &lt;script&gt;alert(1)&lt;/script&gt;" in page
    sources = re.findall(r"src='([^']*)'", page) + re.findall(r'href="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium); "
                ".ci/run installs it")


def dump_dom(browser: str, page: Path, tmp_path: Path) -> str:
    """The page's DOM after headless Chromium rendered it (scripts run, markup parsed)."""
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_report_renders_in_headless_chromium(tmp_path):
    browser = chromium()
    records, questions = class_records()
    page = html_report.write_report(tmp_path / "report.html", records, questions=questions,
                                    run_info=html_report.RunInfo(seconds=12.0, jobs=2, graded=6,
                                                                 total=6))
    dom = dump_dom(browser, page, tmp_path)
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in dom
    for q in questions:
        assert f"id=\"mistakes-{q.id}\"" in dom
    assert dom.count("<img") == 3  # totals, per question, timing


NEW_SECTIONS = ("Changes since the last run", "Review queue", "Answer groups")


def after_grading_page_parts():
    """Records with real answers (one student named like markup), their groups, a review item,
    a change and an overrides problem."""
    from autograder.report import answer_groups, regrade_diff, review
    from autograder.checks import overrides
    from tests.after_grading_fixtures import records

    class_answers = {"ada": {"q2a_first": "k1*x1 + k2*x2 + k3*x3"},
                     "<b>bob</b>": {"q2a_first": "x2*k2 + x1*k1 + x3*k3"},
                     "cy": {"q2a_first": "k1*x1 + k2*x2 + <x3>"},
                     "dee": {"q2a_first": "k1*x2"}}
    recs = records(class_answers)
    questions = [q for q in pipeline.prepare_run(grade_q1=False).questions]
    extras = html_report.ReportExtras(
        groups=tuple(answer_groups.build_groups(recs, questions)),
        review=(review.ReviewItem("dee", "Dee", "q2a", "q2a_first", "k1*x2", "undecided", 0, 1,
                                  "scores 0 of the points until an override settles it", "m"),),
        override_problems=(overrides.Problem(4, "the entry for q2a_first ('k3') matches nobody"),),
        overrides_path="overrides.yaml",
        changes=(regrade_diff.Change("dee", "Dee", "q2a", 0, 0.5,
                                     "q2a_first: override overrides.yaml:1"),))
    return recs, questions, extras


def test_the_after_grading_sections_list_groups_review_and_changes(no_plots):
    recs, questions, extras = after_grading_page_parts()
    page = html_report.render(recs, questions=questions, title="r",
                              run_info=html_report.RunInfo(), extras=extras)
    for heading in NEW_SECTIONS:
        assert f"<h2>{heading}</h2>" in page
    groups = page.split("id='groups-q2a'")[1].split("</table>")[0]
    first = [row for row in groups.split("<tr")[2:] if "q2a_first" in row]
    assert "unrecognised" in first[0] and "k1*x2" in first[0]  # the wrong group comes first
    assert any("&lt;b&gt;bob&lt;/b&gt;, ada" in row and "variable: q2a_first" in row
               for row in first)
    assert "<b>bob</b>" not in page and "line 4: the entry for q2a_first" in page
    assert "q2a_first: override overrides.yaml:1" in page


def test_the_after_grading_sections_render_in_headless_chromium(tmp_path):
    browser = chromium()
    recs, questions, extras = after_grading_page_parts()
    page = html_report.write_report(tmp_path / "report.html", recs, questions=questions,
                                    run_info=html_report.RunInfo(), extras=extras)
    dom = dump_dom(browser, page, tmp_path)
    for heading in NEW_SECTIONS:
        assert f"<h2>{heading}</h2>" in dom
    for q in questions:
        assert f"id=\"groups-{q.id}\"" in dom
    assert dom.count("<pre class=\"entry\">") >= 2 and "<b>bob</b>" not in dom
