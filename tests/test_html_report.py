"""report.html: its sections from synthetic records, and that it renders in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from autograder import html_report, mistakes, pipeline
from autograder.results import CheckResult, QuestionResult, SubmissionResult

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


def render() -> str:
    records, questions = class_records()
    return html_report.render(records, questions=questions, title="Class report",
                              run_info=html_report.RunInfo(seconds=12.0, jobs=2, graded=4,
                                                           reused=2, total=6))


def test_the_report_has_every_section_and_counts_mistakes():
    page = render()
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


def test_the_report_is_self_contained_and_escapes_student_text():
    page = render()
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


def test_the_report_renders_in_headless_chromium(tmp_path):
    browser = chromium()
    records, questions = class_records()
    page = html_report.write_report(tmp_path / "report.html", records, questions=questions,
                                    run_info=html_report.RunInfo(seconds=12.0, jobs=2, graded=6,
                                                                 total=6))
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--no-first-run", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    for heading in SECTIONS:
        assert f"<h2>{heading}</h2>" in dom
    for q in questions:
        assert f"id=\"mistakes-{q.id}\"" in dom
    assert dom.count("<img") == 3  # totals, per question, timing
