"""review.html in headless Chromium (Playwright): the decisions come first with their counts, and
credits set on the page make an overrides file that a regrade applies to exactly those students.
Both pages (review.html, report.html) are measured at a laptop's and a phone's width."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from autograder import report
from autograder.grading import classroom, pipeline, session
from autograder.report import answer_groups, review_page
from autograder.settings.limits import Cluster
from autograder.checks import overrides
from tests.after_grading_fixtures import cached_class, records
from tests.conftest import read_csv

LATEX = "k_1 x_1 + k_2 x_2 + k_3 x_3 +"  # LaTeX the grader cannot read (a dangling +)
CLASS = {
    "ada": {"q2a_first": "k1*x1 + k2*x2 + k3*x3", "q2a_last": "k1*x7 + k2*x8 + k3*x9"},
    "bob": {"q2a_first": "k1*x2", "q2a_last": "k1*x7 + k2*x8 + k3*x9"},
    "dee": {"q2a_first": "x2*k1", "q2a_last": "k1*x7 + k2*x8 + k3*x9"},
    "cy": {"q2a_first": f"  {LATEX} ", "q2a_last": "k1*x7 + k2*x8 + k3*x9"},
    "eve": {"q2a_first": "k1*x1 + k2*x2 + k3*x3", "q2a_last": "k3*x9"},
    "fay": {"q2a_first": "k1*x1 + k2*x2 + k3*x3", "q2a_last": ...},
}
WIDTHS = (1280, 390)

pytestmark = pytest.mark.usefixtures("no_plots")


def browser_or_skip(playwright):
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium); "
                    ".ci/run installs it")
    return playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = browser_or_skip(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def graded(tmp_path, monkeypatch):
    """The class above, graded once from cached executions (only the checks run)."""
    monkeypatch.setattr(pipeline, "_MEMO", {})
    run = pipeline.prepare_run(grade_q1=False)
    out = tmp_path / "out"
    notebooks = cached_class(tmp_path / "class", out, CLASS, run)
    classroom.grade_class(classroom.ClassJob(notebooks, out, run, jobs=1))
    monkeypatch.setattr(pipeline, "_execute", _no_execution)
    return SimpleNamespace(run=run, out=out, notebooks=notebooks, tmp=tmp_path)


def make_grade(graded, overrides_file: Path):
    """What `make grade Q1=0 OVERRIDES=file` runs (the session: the file is checked first), with
    the class's cached notebook runs (a notebook that runs again fails the test)."""
    return session.grade(session.GradeRequest(
        tuple(graded.notebooks), graded.out, limits=graded.run.limits, cluster=Cluster(),
        overrides_file=str(overrides_file), grade_q1=False, jobs=1))


def _no_execution(path, run):
    raise AssertionError(f"{path.name} was run again; its cached execution should be used")


def test_make_grade_refuses_an_offered_entry_left_unedited_with_its_line(graded):
    offered = graded.tmp / "overrides.yaml"
    group = next(g for g in answer_groups.build_groups(
        report.read_records(graded.out), graded.run.questions) if g.needs_decision)
    offered.write_text("# reviewed\n" + group.entry + "\n", encoding="utf-8")
    with pytest.raises(session.NotGraded) as refused:
        make_grade(graded, offered)
    assert refused.value.lines[0] == (f"{offered}:2: the credit is not set yet: choose a number "
                                      f"from 0 to 1 (a fraction of the points)")


def q2a(out: Path) -> dict[str, str]:
    return {r["submission"]: r["q2a"] for r in read_csv(out / "grades.csv")}


def test_decisions_first_then_credits_set_on_the_page_regrade_exactly_those_students(
        graded, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto((graded.out / review_page.REVIEW_PAGE).as_uri())
    sections = page.eval_on_selector_all("body > section", "s => s.map(e => e.id)")
    assert sections[0] == "decide"
    cards = page.locator("#decide article")
    titles = [cards.nth(i).locator(".where").inner_text() for i in range(cards.count())]
    sizes = [cards.nth(i).locator(".size").inner_text() for i in range(cards.count())]
    # largest first; at equal sizes, unrecognised wrong before unreadable
    assert titles == ["q2a · q2a_first", "q2a · q2a_last", "q2a · q2a_first"]
    assert sizes == ["2 students", "1 student", "1 student"]
    wrong, last, latex = (cards.nth(i) for i in range(3))
    assert page.inner_text("#decide-count") == "3"
    counts = {li.get_attribute("data-verdict"): li.inner_text()
              for li in page.locator("#decide li.count").all()}
    assert counts == {"unrecognised wrong": "2 unrecognised wrong (3 answers)",
                      "undecided": "0 undecided (0 answers)",
                      "unreadable": "1 unreadable (1 answer)"}
    assert "bob" in wrong.inner_text() and "dee" in wrong.inner_text()
    assert latex.locator("pre.answer").inner_text() == f"  {LATEX} "  # as written
    assert page.locator("#decided article").count() == 0

    # credit and message on two groups; a third left half done stays out of the file
    wrong.locator("input.credit").fill("0.5")
    wrong.locator("textarea.message-in").fill('Half: "k1*x2" is one term of three.')
    latex.locator("input.credit").fill("1")
    latex.locator("textarea.message-in").fill("Right; write k1*x1 next time.")
    last.locator("input.credit").fill("2")
    assert "credit from 0 to 1" in last.locator(".state").inner_text()
    text = page.input_value("#overrides-out")
    with page.expect_download() as download:
        page.click("#download")
    assert Path(download.value.path()).read_text(encoding="utf-8") == text
    import yaml
    assert yaml.safe_load(text) == [
        {"variable": "q2a_first", "answer": "k1*x2", "credit": 0.5,
         "message": 'Half: "k1*x2" is one term of three.'},
        {"variable": "q2a_first", "answer": f"  {LATEX} ", "match": "text", "credit": 1,
         "message": "Right; write k1*x1 next time."}]

    saved = graded.tmp / "overrides.yaml"
    saved.write_text(text, encoding="utf-8")
    assert len(overrides.load(saved).entries) == 2
    before = q2a(graded.out)
    done = make_grade(graded, saved).done
    assert sorted((c.submission, c.old, c.new) for c in done.changes) == [
        ("bob", 1.0, 1.5), ("cy", 1.0, 2.0), ("dee", 1.0, 1.5)]  # q2a_out_dim unanswered
    assert q2a(graded.out) == {**before, "bob": "1.5", "cy": "2", "dee": "1.5"}

    # the regenerated page shows both groups as decided, and keeps the file's entries
    page.goto((graded.out / review_page.REVIEW_PAGE).as_uri())
    page.evaluate("localStorage.clear()")
    page.reload()
    assert page.locator("#decide article").count() == 1
    decided = page.locator("#decided article")
    assert decided.count() == 2 and "overrides.yaml:1" in decided.nth(0).inner_text()
    assert page.input_value("#overrides-out") == text

    # a settled group edited on the page is changed in place, never added a second time
    decided.nth(0).locator("input.credit").fill("1/4")
    decided.nth(0).locator("textarea.message-in").fill("A quarter.")
    edited = yaml.safe_load(page.input_value("#overrides-out"))
    assert [(e["answer"], e["credit"], e["message"]) for e in edited] == [
        ("k1*x2", 0.25, "A quarter."), (f"  {LATEX} ", 1, "Right; write k1*x1 next time.")]
    saved.write_text(page.input_value("#overrides-out"), encoding="utf-8")
    assert overrides.load(saved).problems == ()


def test_members_are_listed_by_name_and_email_when_the_export_gave_them():
    recs = records({"s1": {"q2a_first": "k1*x2"}, "s2": {"q2a_first": "k1*x2"}})
    recs[0]["student"] = {"name": "Ada Lovelace", "email": "ada@berkeley.edu"}
    questions = pipeline.prepare_run(grade_q1=False).questions
    groups = answer_groups.build_groups(recs, questions)
    [wrong] = [g for g in groups if g.variable == "q2a_first"]
    assert wrong.labels == ["Ada Lovelace <ada@berkeley.edu>", "s2"]
    page = review_page.render(groups)
    assert "Ada Lovelace &lt;ada@berkeley.edu&gt;" in page


OVERFLOW = """() => {
  document.querySelectorAll('details').forEach(d => d.open = true);
  const width = document.documentElement.clientWidth;
  return [document.documentElement.scrollWidth - width,
          Array.from(document.querySelectorAll('body *'))
            .filter(e => e.getBoundingClientRect().right > width + 1)
            .map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 60))];
}"""


LONG = "$k_1x_7+k_2x_8+k_3x_9$" * 4  # unbroken, as a student pasted it
WIDE_CLASS = {
    "s1": {"q2a_first": LONG, "q2a_last": "k1*x7 + k2*x8 + k3*x9",
           "q2c_K": [[1, 2, 3, 4, 5, 6, 7, 8, 9]] * 7},
    "s2": {"q2a_first": "\\frac{k_1}{2} x_1 + k_2 x_2 +", "q2a_last": "k1*x7*" + "k2*" * 40 + "x8"},
    "s3": {"q2a_first": "k1*x1 + k2*x2 + k3*x3", "q2a_last": ...},
}


@pytest.fixture
def wide_pages(tmp_path, no_plots):
    """Both pages for a class with long unbroken answers, LaTeX, a matrix and long names."""
    from autograder.report import html as html_report

    recs = records(WIDE_CLASS)
    for n, r in enumerate(recs):
        r["student"] = {"name": "Maximiliana Wolfeschlegelsteinhausen " * (n + 1),
                        "email": f"student.with.a.long.address{n}@berkeley.edu"}
        r["result"].seconds = 1.0 + n
    questions = pipeline.prepare_run(grade_q1=False).questions
    groups = answer_groups.build_groups(recs, questions)
    extras = html_report.ReportExtras(groups=tuple(groups), review_page=review_page.REVIEW_PAGE)
    html_report.write_report(tmp_path / "report.html", recs, questions=questions,
                             run_info=html_report.RunInfo(seconds=3, graded=3, total=3),
                             extras=extras)
    review_page.write_review_page(tmp_path / review_page.REVIEW_PAGE, groups)
    return tmp_path


@pytest.mark.parametrize("width", WIDTHS)
def test_both_pages_fit_a_laptop_and_a_phone_without_horizontal_overflow(wide_pages, browser,
                                                                          width):
    for name in (review_page.REVIEW_PAGE, "report.html"):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto((wide_pages / name).as_uri())
        extra, wide = page.evaluate(OVERFLOW)
        page.screenshot(path=str(wide_pages / f"{name}-{width}.png"), full_page=True)
        assert (extra, wide) == (0, []), name
        page.close()


def test_latex_is_shown_as_written_and_carets_stay_on_their_own_line(wide_pages, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto((wide_pages / review_page.REVIEW_PAGE).as_uri())
    shown = page.locator("#decide pre.answer").all_inner_texts()
    assert "\\frac{k_1}{2} x_1 + k_2 x_2 +" in shown  # one backslash, no quotes
    card = page.locator("#decide article", has_text="Could not read \\frac")
    message = card.locator("p.message")
    assert "Could not read \\frac" in message.inner_text()  # the backticks typeset as code
    assert message.locator("code").first.inner_text().startswith("\\frac")
    answer_line, caret_line = card.locator("pre.pointer").inner_text().splitlines()
    assert answer_line.strip().startswith("\\frac") and set(caret_line.strip()) == {"^"}
    page.goto((wide_pages / "report.html").as_uri())
    row = page.locator("#groups tr", has_text="Could not read `\\frac")
    answer_line, caret_line = row.locator("pre.pointer").inner_text().splitlines()
    assert answer_line.startswith("\\frac") and set(caret_line.strip()) == {"^"}
    assert "\\frac{k_1}{2} x_1 + k_2 x_2 +" in page.inner_text("#groups")
    assert "\\\\frac" not in page.inner_text("#groups")


def test_the_report_names_students_and_links_the_review_page(wide_pages, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto((wide_pages / "report.html").as_uri())
    slowest = page.locator("#timing table tbody tr").all_inner_texts()
    assert slowest[0].startswith("s3\t") and "<student.with.a.long.address2@berkeley.edu>" in slowest[0]
    assert "<student.with.a.long.address0@berkeley.edu>" in page.inner_text("#groups")
    link = page.locator("p.review-link a")
    assert link.get_attribute("href") == review_page.REVIEW_PAGE
    assert "4 answer groups need a decision" in page.inner_text("p.review-link")


# --- the overrides file the page writes (no class run: groups from checked records) ------------

SHIPPED = Path(__file__).resolve().parents[2] / "overrides.yaml"
HELD = ('# reviewed by staff\n- variable: q2a_first\n  answer: "k1*x2"  # one term\n'
        '  credit: 0.25\n  message: "A quarter."\n')


@pytest.fixture
def page_for(tmp_path, browser):
    """A function: the review page of a small class with the given overrides file's text,
    opened in Chromium with nothing kept in the browser."""
    def open_page(class_answers: dict, overrides_text: str):
        questions = pipeline.prepare_run(grade_q1=False).questions
        groups = answer_groups.build_groups(records(class_answers), questions)
        path = review_page.write_review_page(tmp_path / review_page.REVIEW_PAGE, groups,
                                             overrides_text=overrides_text,
                                             overrides_path=str(tmp_path / "overrides.yaml"))
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(path.as_uri())
        page.evaluate("localStorage.clear()")
        page.reload()
        return page
    return open_page


def card_for(page, answer_text: str):
    return page.locator("#decide article", has=page.locator("pre.answer", has_text=answer_text))


def downloaded(page) -> str:
    with page.expect_download() as download:
        page.click("#download")
    return Path(download.value.path()).read_text(encoding="utf-8")


def saved_entries(tmp_path: Path, text: str) -> list[tuple]:
    """What ``make grade`` reads from the page's file: no problems, the entries' fields."""
    file = tmp_path / "overrides.yaml"
    file.write_text(text, encoding="utf-8")
    loaded = overrides.load(file)
    assert loaded.problems == ()
    return [(o.variable, o.answer, o.credit, o.message, o.by_text) for o in loaded.entries]


@pytest.mark.parametrize("current, kept", [
    (SHIPPED.read_text(encoding="utf-8"), []),
    (HELD, [("q2a_first", "k1*x2", 0.25, "A quarter.", False)]),
    # JavaScript writes 1e-7, which YAML 1.1 (PyYAML) reads as text: the page writes 1.0e-7
    (HELD.replace("0.25", "1.0e-07"), [("q2a_first", "k1*x2", 1e-7, "A quarter.", False)]),
])
def test_the_download_is_one_valid_file_that_make_grade_reads_as_is(page_for, tmp_path,
                                                                    current, kept):
    page = page_for({"s1": {"q2a_first": "k1*x3"}, "s2": {"q2a_first": "k1*x2"}}, current)
    assert saved_entries(tmp_path, downloaded(page)) == kept  # nothing decided: the file itself
    card = card_for(page, "k1*x3")
    assert card.count() == 1
    card.locator("input.credit").fill("1/2")
    card.locator("textarea.message-in").fill("Half.")
    text = downloaded(page)
    assert text == page.input_value("#overrides-out")
    header = [line for line in current.splitlines() if line.startswith("#")]
    assert header and text.splitlines()[:len(header)] == header  # its comments kept
    assert "[]" not in text
    assert saved_entries(tmp_path, text) == kept + [("q2a_first", "k1*x3", 0.5, "Half.", False)]


def test_a_group_the_file_already_settles_is_edited_in_place(page_for, tmp_path):
    page = page_for({"s1": {"q2a_first": "k1*x2"}}, HELD)
    card = card_for(page, "k1*x2")
    card.locator("input.credit").fill("50%")
    card.locator("textarea.message-in").fill("Half, after all.")
    assert saved_entries(tmp_path, downloaded(page)) == [
        ("q2a_first", "k1*x2", 0.5, "Half, after all.", False)]


@pytest.mark.parametrize("typed, credit", [
    ("0.5", 0.5), ("1/2", 0.5), ("50%", 0.5), (" 1 ", 1.0), ("0", 0.0), ("2/3", 2 / 3),
    ("12", None), ("1/0", None), ("-0.5", None), ("150%", None), ("0.5x", None), ("half", None),
    ("1e-1", None), ("0x1", None),
])
def test_credits_are_fractions_percentages_or_decimals_and_anything_else_is_refused(
        page_for, tmp_path, typed, credit):
    page = page_for({"s1": {"q2a_first": "k1*x3"}}, "")
    card = card_for(page, "k1*x3")
    card.locator("input.credit").fill(typed)
    card.locator("textarea.message-in").fill("Seen.")
    entries = saved_entries(tmp_path, page.input_value("#overrides-out"))
    if credit is None:
        assert entries == [] and "credit from 0 to 1" in card.locator(".state").inner_text()
    else:
        assert entries == [("q2a_first", "k1*x3", pytest.approx(credit), "Seen.", False)]


def test_decisions_are_kept_in_the_browser_until_cleared(page_for, tmp_path):
    page = page_for({"s1": {"q2a_first": "k1*x3"}}, "")
    assert "kept in this browser" in page.inner_text("#kept")
    card = card_for(page, "k1*x3")
    card.locator("input.credit").fill("1/2")
    card.locator("textarea.message-in").fill("Half.")
    text = page.input_value("#overrides-out")
    page.reload()
    assert card.locator("input.credit").input_value() == "1/2"
    assert page.input_value("#overrides-out") == text
    page.click("#clear")
    page.reload()
    assert card.locator("input.credit").input_value() == ""
    assert saved_entries(tmp_path, page.input_value("#overrides-out")) == []


TRICKY = [f"{text} + {n}*k3" for n, text in enumerate([  # distinct by the checker too
    "k1*x2\x7f", "k1\x85x2", "k1*x2\ufffe", "k1\tx2 'q' \"dq\"", "k1: x2 # not a comment",
    "- k1*x2", "k1*x2 \U0001F600", "k1\u2028x2", "k1\x1bx2", "\\frac{k_1}{2}", "k1\r\nx2"])]


def test_answers_and_messages_holding_control_characters_round_trip(page_for, tmp_path):
    page = page_for({f"s{n}": {"q2a_first": a} for n, a in enumerate(TRICKY)}, HELD)
    cards = page.locator("#decide article")
    assert cards.count() == len(TRICKY)
    message = "- \t'q' \"dq\" k: v # x \x7f\x85\ufffe\U0001F600 end"
    for n in range(cards.count()):
        cards.nth(n).locator("input.credit").fill("1")
        cards.nth(n).locator("textarea.message-in").fill(message)
    text = page.input_value("#overrides-out")
    assert text.isascii()
    entries = saved_entries(tmp_path, text)[1:]
    assert sorted(e[1] for e in entries) == sorted(TRICKY)
    assert {e[3] for e in entries} == {message}
    import yaml
    assert yaml.safe_load(text)[1:] == [
        {"variable": "q2a_first", "answer": e[1], **({"match": "text"} if e[4] else {}),
         "credit": 1, "message": message} for e in entries]


def test_cards_show_points_at_stake_tables_typeset_readings_and_plain_stage_words(tmp_path,
                                                                                 browser):
    import sympy

    from autograder.report.answer_groups import AnswerGroup, typeset

    k1, x1 = sympy.symbols("k1 x1")
    matrix = AnswerGroup("q2c", "q2c_K", "a 3x3 matrix with first row [k1, 0, 0]", "unrecognised wrong",
                         0.0, "cas", None, "Not correct: expected `k1*x1`.", ["a", "b", "c"],
                         answer=[["k1", "0", "0"], ["k2", "k1", "0"], ["k3", "k2", "k1"]],
                         said="Not correct: expected `k1*x1`.",
                         typeset=typeset(sympy.Matrix([[k1, 0], [0, x1]])))
    unreadable = AnswerGroup("q2a", "q2a_first", "k1 x1 ++", "unreadable", 0.0, "format", None,
                             "Could not read `k1 x1 ++`.", ["d"], answer="k1 x1 ++",
                             by_text=True, said="Could not read `k1 x1 ++`.")
    page_file = review_page.write_review_page(tmp_path / "review.html", [matrix, unreadable])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(page_file.as_uri())
    card = page.locator("#decide article", has_text="q2c_K")
    points = review_page._points("q2c_K")
    assert f"{points:g} point" in card.inner_text() and f"{3 * points:g} at stake" in \
        card.inner_text()
    assert "(compared with the reference by algebra (SymPy))" in card.inner_text()
    cells = [[td.inner_text() for td in tr.locator("td").all()]
             for tr in card.locator("table.written tr").all()]
    assert cells == [["k1", "0", "0"], ["k2", "k1", "0"], ["k3", "k2", "k1"]]
    assert card.locator("p.message code").inner_text() == "k1*x1"
    assert "`" not in card.locator("p.message").inner_text()
    assert card.locator(".typeset math mtable").count() == 1  # MathML, no script
    other = page.locator("#decide article", has_text="q2a_first")
    assert "(its text could not be read as an answer)" in other.inner_text()
    assert other.locator(".typeset").count() == 0 and other.locator("table.written").count() == 0


def test_typesetting_leaves_out_names_that_are_not_plain():
    import sympy

    from autograder.report.answer_groups import typeset

    assert typeset(sympy.Symbol("k1") + 1).startswith("<math")
    assert typeset(sympy.Symbol("<script>") + 1) == ""
    assert typeset("k1 + 1") == "" and typeset((3, 256, 256)) == ""  # text, a shape: as written
    assert typeset((sympy.Symbol("W") - 2, sympy.Integer(7))).startswith("<math")


def test_a_suggested_reading_is_accepted_in_one_click_and_the_file_reads_back(tmp_path, browser):
    from autograder.checks import overrides as overrides_module
    from autograder.report.answer_groups import AnswerGroup
    from tests.conftest import check

    found = check("q2a_first", "K1*x1 + k2*x2 + k3*x3")
    assert found.suggestion == "k1*x1 + k2*x2 + k3*x3"  # the near miss, in the whole answer
    group = AnswerGroup("q2a", "q2a_first", "K1*x1 + k2*x2 + k3*x3", "unreadable", 0.0,
                        "format", None, found.message, ["ann", "ben"],
                        answer="K1*x1 + k2*x2 + k3*x3", by_text=True, said=found.message,
                        suggestion=found.suggestion,
                        entry=overrides_module.entry_text("q2a_first", "K1*x1 + k2*x2 + k3*x3",
                                                          by_text=True))
    page_file = review_page.write_review_page(tmp_path / "review.html", [group])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(page_file.as_uri())
    page.evaluate("localStorage.clear()")
    page.reload()
    card = page.locator("#decide article", has_text="q2a_first")
    assert "would read it as k1*x1 + k2*x2 + k3*x3" in card.inner_text()
    card.locator("button.accept").click()
    written = tmp_path / "overrides.yaml"
    written.write_text(page.input_value("#overrides-out"), encoding="utf-8")
    loaded = overrides_module.load(written)
    assert loaded.problems == ()
    (entry,) = loaded.entries
    assert (entry.answer, entry.credit, entry.by_text) == ("K1*x1 + k2*x2 + k3*x3", 1, True)
    assert entry.message == "Accepted after review: read as k1*x1 + k2*x2 + k3*x3."
    page.reload()  # the decision is kept in the browser
    assert page.locator("#decide article input.credit").input_value() == "1"
