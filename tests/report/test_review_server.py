"""``make review`` end to end: the page served on 127.0.0.1 with a token, two groups decided in
headless Chromium, Apply writes the overrides file (valid, the old one backed up) and regrades
from the cache; requests without the token, or from another host or origin, are refused."""

from __future__ import annotations

import http.client
import threading
from urllib.parse import urlsplit

import pytest

from autograder.checks import overrides
from autograder.grading import session
from autograder.report import review_server
from autograder.settings.limits import Cluster
from tests.report.test_review_page import SHIPPED, browser, graded, LATEX  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("no_plots")


@pytest.fixture
def served(graded):  # noqa: F811 (the fixture imported above)
    """The class run's review page served as `make review` serves it, with the shipped file."""
    file = graded.tmp / "overrides.yaml"
    file.write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")
    review_server.record_run(graded.out, session.GradeRequest(
        tuple(graded.notebooks), graded.out, limits=graded.run.limits, cluster=Cluster(),
        overrides_file=str(file), grade_q1=False, jobs=1))
    server = review_server.ReviewServer(graded.out, file)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, file
    server.shutdown()
    server.server_close()
    thread.join()


def test_apply_writes_a_valid_file_with_a_backup_and_shows_exactly_the_students_changed(
        served, browser):  # noqa: F811
    server, file = served
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server.url)
    page.evaluate("localStorage.clear()")
    page.reload()
    cards = page.locator("#decide article")
    wrong, latex = cards.nth(0), cards.nth(2)
    assert "bob" in wrong.inner_text() and LATEX in latex.inner_text()
    wrong.locator("input.credit").fill("1/2")
    wrong.locator("textarea.message-in").fill("Half.")
    latex.locator("input.credit").fill("100%")
    latex.locator("textarea.message-in").fill("Right.")
    page.click("#apply")
    page.wait_for_selector("#changes")
    shown = {li.get_attribute("data-submission") for li in page.locator("#changes li").all()}
    assert shown == {"bob", "cy", "dee"}
    assert "2 groups now decided" in page.inner_text("#applied")
    loaded = overrides.load(file)
    assert loaded.problems == ()
    assert [(o.answer, o.credit) for o in loaded.entries] == [("k1*x2", 0.5), (f"  {LATEX} ", 1)]
    assert file.with_name("overrides.yaml.bak").read_text(encoding="utf-8") == \
        SHIPPED.read_text(encoding="utf-8")
    assert page.evaluate("localStorage.length") == 0  # applied: nothing kept any more


def request(server, method: str, path: str, body: str = "", **headers) -> int:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.request(method, path, body=body.encode(), headers=headers)
    status = connection.getresponse().status
    connection.close()
    return status


@pytest.mark.parametrize("method, path, headers", [
    ("GET", "/", {}),
    ("GET", "/wrong-token/", {}),
    ("GET", "/{token}", {}),
    ("GET", "/{token}/", {"Origin": "http://evil.example"}),
    ("GET", "/{token}/", {"Host": "evil.example"}),
    ("POST", "/{token}/apply", {"Origin": "http://evil.example"}),
    ("POST", "/{token}/apply", {"Origin": "null"}),
    ("POST", "/apply", {}),
])
def test_requests_without_the_token_or_from_elsewhere_are_refused_and_write_nothing(
        served, method, path, headers):
    server, file = served
    before = file.read_text(encoding="utf-8")
    ok = urlsplit(server.url).path
    assert request(server, "GET", ok) == 200
    status = request(server, method, path.format(token=server.token),
                     body="- variable: q2a_first\n  answer: k1*x2\n  credit: 1\n  message: x\n",
                     **headers)
    assert status == 403
    assert file.read_text(encoding="utf-8") == before


def test_a_file_with_problems_is_refused_with_its_lines_and_nothing_is_written(served):
    server, file = served
    before = file.read_text(encoding="utf-8")
    status = request(server, "POST", f"/{server.token}/apply",
                     body="- variable: q2a_first\n  answer: k1*x2\n  credit: 12\n  message: x\n")
    assert status == 400 and file.read_text(encoding="utf-8") == before
    assert not file.with_name("overrides.yaml.bak").exists()


def test_run_json_gives_back_the_request_it_recorded(tmp_path):
    from autograder.settings.limits import Checking, Limits
    from autograder.settings.variants import Variants

    asked = session.GradeRequest(
        (tmp_path / "class",), tmp_path, limits=Limits(timeout=12.0),
        checking=Checking(answer_seconds=3.0, memory_mb=300),
        cluster=Cluster(scheduler="tcp://127.0.0.1:8786", retries=1),
        overrides_file="o.yaml", grade_q1=False, data_dir=None, jobs=2,
        variants=Variants(enabled=True))
    review_server.record_run(tmp_path, asked)
    again = review_server.last_request(tmp_path, "o.yaml")
    assert again.paths == tuple(p.resolve() for p in asked.paths)
    for name in ("limits", "checking", "cluster", "variants", "grade_q1", "jobs", "overrides_file"):
        assert getattr(again, name) == getattr(asked, name), name
