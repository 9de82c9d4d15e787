"""The isolation a machine gives, as staff learn it: the typed request to the supervisor, the run
notices, the report's notices block, ``--require-isolation`` with Dask workers, lost workers."""

from __future__ import annotations

import pytest

from autograder.execution import sandbox
from autograder.grading import pipeline, session
from autograder.grading.dask_engine import DaskEngine
from autograder.report import html as html_report
from autograder.report.notices import Notice, Topic
from autograder.settings.limits import Cluster, Limits
from autograder.worksheet import Q2_QUESTIONS

NO_VIEW = sandbox.Isolation(sandbox.Level.NONE, "", "simulated: no namespaces")
VIEW = sandbox.Isolation(sandbox.Level.PRIVATE, "mount namespace")


def test_the_request_crosses_to_the_supervisor_as_plain_data_and_comes_back_typed():
    request = sandbox.Request(
        sandbox.Command(["python", "-I", "runner.py"], "/w", {"A": "1"}, timeout=5.0,
                        memory_mb=100, output_bytes=10, file_mb=1, processes=8,
                        phases=sandbox.PhaseLimits(2, 3.0, 4.0, 5.0), rss_mb=90,
                        isolate_network=True, readable=("/r",), writable=("/w",)),
        uid=200_001, gid=200_001, result="/res.json",
        view=sandbox.View("/v", "/t", ("/usr/lib/python3",), shm_mb=90))
    assert sandbox.Request.from_json(request.to_json()) == request
    bare = sandbox.Request(sandbox.Command(["true"], "/", {}, 1.0, 1, 1, 1, 1), None, None, "/r")
    assert sandbox.Request.from_json(bare.to_json()) == bare


def test_without_a_private_view_the_notice_says_why(monkeypatch):
    monkeypatch.setattr(sandbox, "_isolation", {})
    monkeypatch.setattr(sandbox, "_try_private_view", lambda *a: "simulated: no namespaces")
    notices = [n for n in pipeline.run_notices(Limits()) if n.topic is Topic.ISOLATION]
    assert len(notices) == 1 and "simulated: no namespaces" in notices[0].text
    assert "NOT protected" in notices[0].text


def test_with_a_private_view_there_is_no_isolation_notice(monkeypatch):
    monkeypatch.setattr(sandbox, "_isolation", {})
    monkeypatch.setattr(sandbox, "_try_private_view", lambda *a: "")
    assert not [n for n in pipeline.run_notices(Limits()) if n.topic is Topic.ISOLATION]


def test_the_report_shows_the_notices_first(no_plots):
    notice = Notice(Topic.WORKER_LOST, "Dask worker tcp://a:1 died while grading",
                    ("alice", "bob"))
    page = html_report.render([], questions=list(Q2_QUESTIONS), title="t",
                              run_info=html_report.RunInfo(notices=(notice,)))
    assert page.index("id='notices'") < page.index("id='summary'")
    assert "died while grading (alice, bob)" in page
    plain = html_report.render([], questions=list(Q2_QUESTIONS), title="t",
                               run_info=html_report.RunInfo())
    assert "id='notices'" not in plain


class FakeEngine:
    """What ``session`` asks of a connected ``DaskEngine``, with workers' answers given."""

    def __init__(self, found: dict[str, sandbox.Isolation]) -> None:
        self.found = found

    def worker_notices(self, limits):
        notices = tuple(Notice(Topic.ISOLATION, f"Dask worker {w}: {i.staff_note()}")
                        for w, i in self.found.items() if not i.private)
        return notices, self.found


@pytest.mark.parametrize("required", [False, True])
def test_on_dask_the_workers_isolation_counts(required):
    run = pipeline.Run(Limits(), Q2_QUESTIONS, isolation=VIEW)  # this machine has a view
    engine = FakeEngine({"tcp://w1:1": VIEW, "tcp://w2:1": NO_VIEW})
    cluster = Cluster(require_isolation=required)
    if required:
        with pytest.raises(session.NotGraded) as refused:
            session._isolated(run, cluster, engine)
        assert refused.value.lines == [
            "Dask worker tcp://w2:1: submissions cannot get a private view of the file system "
            "(simulated: no namespaces); --require-isolation refuses to grade without it"]
    else:
        notices = session._isolated(run, cluster, engine).notices
        assert [n.text.startswith("Dask worker tcp://w2:1: ") for n in notices] == [True]


class FakeClient:
    def __init__(self, events: dict) -> None:
        self.events = events

    def get_events(self):
        return self.events


def test_a_lost_worker_is_a_notice_naming_the_restarted_submissions():
    from autograder.grading import remote

    events = {remote.attempt_topic("r1", "alice"): [(0, {"worker": "tcp://a:1"}),
                                                    (1, {"worker": "tcp://b:1"})],
              remote.attempt_topic("r1", "bob"): [(0, {"worker": "tcp://b:1"})],
              remote.attempt_topic("r0", "carol"): [(0, {"worker": "x"}), (1, {"worker": "y"})]}
    engine = DaskEngine(FakeClient(events), Cluster())
    (notice,) = engine.lost_workers("r1", ["alice", "bob", "carol"])
    assert notice.topic is Topic.WORKER_LOST and notice.submissions == ("alice",)
    assert "tcp://a:1 died while grading" in notice.text
    assert engine.lost_workers("r1", ["bob"]) == ()
