"""Grade a whole class: take the submissions in, grade the new or changed ones in parallel, and
write every result as soon as it is known; then rebuild grades.csv, gradebook.csv and report.html
from every result in OUT.

Resuming: each submission's ``OUT/<name>/checks.json`` records a key, the hash of its notebook's
bytes and of the grader (its source code, limits, questions and Q1 set-up). A rerun skips a
submission whose key is unchanged unless ``force``. Every submission gets a row, whatever it
holds; one bad submission never stops the run, and a grading process that dies still yields a
row for the submission it was grading.

Regrading: what running each notebook produced is kept in ``OUT/.cache/executions``
(``execution/cache.py``), so a change to checkers, the catalogue, overrides or points reruns only
the checks (identical answers are checked once per grading process). Before anything in OUT is
replaced, the previous outputs are copied to ``OUT/history/<time>/``; every run over an existing
OUT computes the regrade diff (``OUT/changes.csv``); ``dry_run`` computes it and writes nothing.
After the run, the answer groups (``answer_groups.csv``), the review queue (``review.csv``) and
the overrides that matched nobody are written with the report.

Nothing changed: a run that ended keeps its outcome (``snapshot.py``, under
``OUT/.cache/class-run``); the next run, when nothing it depends on changed (the files given,
OUT, the grader, the settings: ``job.kept``, found by ``session.grade``), takes it instead of
reading every notebook and record, and writes only what a rerun writes anew.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from autograder import report
from autograder.fingerprint import Scope, fingerprint
from autograder.execution.cache import ExecutionCache, execution_fingerprint
from autograder.grading import assignment, copies, identity, intake, pipeline, snapshot
from autograder.grading.intake import Submission
from autograder.report import answer_groups, record_keys, regrade_diff, review, review_page
from autograder.report import html as html_report  # (the module, not the standard library)
from autograder.report.history import History
from autograder.report.results import SubmissionResult, grader_failure
from autograder.checks import overrides
from autograder.settings.limits import Checking
from autograder.worksheet import NOTEBOOK

if TYPE_CHECKING:
    from autograder.grading.dask_engine import DaskEngine

POLL_SECONDS = 0.5
CACHE_FOLDER = Path(".cache") / "executions"


@dataclass
class ClassRun:
    """What one class run did; ``records`` are every result in OUT (``report.read_records``)."""

    results: list[SubmissionResult]  # this run's submissions, graded or reused, by name
    graded: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    seconds: float = 0.0
    jobs: int = 1
    records: list[dict] = field(default_factory=list)
    checked_only: list[str] = field(default_factory=list)  # graded from a cached execution
    changes: list = field(default_factory=list)  # regrade_diff.Change, against the earlier run
    groups: list = field(default_factory=list)  # answer_groups.AnswerGroup
    review: list = field(default_factory=list)  # review.ReviewItem
    override_problems: list = field(default_factory=list)  # overrides.Problem (unmatched too)
    dry_run: bool = False
    notices: list = field(default_factory=list)  # report.notices.Notice found while grading


def grader_version(run: pipeline.Run) -> str:
    """A hash of everything that decides a grade besides the notebook itself."""
    q1 = run.q1
    q1_parts = () if q1 is None else (q1.dataset, q1.profile, q1.device, q1.budget, q1.config,
                                      q1.test_labels.tobytes())
    isolation = run.isolation and run.isolation.level  # isolation gained: grade again
    chosen = (run.variants,) if run.variants.enabled else ()  # off: keys as before variants
    costs = (run.checking,) if run.checking != Checking() else ()  # the default: keys as before
    return fingerprint(Scope.GRADE, run.limits, isolation,
                       [(q.id, q.points) for q in run.questions],
                       (run.overrides.text, run.review), *q1_parts, *chosen, *costs)


def with_identities(run: pipeline.Run, submissions: list[Submission]) -> pipeline.Run:
    """Per student when the notebooks' assignment records say so (or ``--variants``): whose
    numbers each submission is graded with (the export's submitters, else the notebook's
    ``STUDENT_EMAIL``), every submission's variant (for copies), and the contradictions."""
    decision = assignment.decide({s.name: assignment.of_notebook(s.notebook)
                                  for s in submissions if s.notebook is not None}, run.variants)
    run = replace(run, variants=replace(run.variants, enabled=decision.enabled),
                  held=decision.held, notices=(*run.notices, *decision.notices))
    if not run.variants.enabled:
        return run
    found = {}
    for sub in submissions:
        emails = [s.get("email", "") for s in sub.student.get("submitters") or []]
        found[sub.name] = identity.resolve(emails, identity.notebook_email(sub.notebook),
                                           salt=run.variants.salt, source="export")
    classmates = tuple((who.variant, name) for name, who in sorted(found.items()) if who.email)
    return replace(run, identities=found, classmates=classmates)


def _graded_as(run: pipeline.Run, name: str) -> str:
    """What the resume key adds for a submission graded with its own numbers."""
    who, held = run.identities.get(name), run.held.get(name, "")
    return (f"\0{who.email}\0{who.notice}" if who is not None else "") + \
        (f"\0held\0{held}" if held else "")


def submission_key(submission: Submission, version: str) -> str:
    return hashlib.sha256(f"{version}\0{submission.content_hash()}".encode()).hexdigest()


@dataclass(frozen=True)
class ClassJob:
    """One class run as a value: what to grade (``paths``), where (``out``, and ``engine``: a
    connected ``dask_engine.DaskEngine``, else the local pool of ``jobs`` processes) and with
    which settings (``run``). ``force`` regrades unchanged submissions too; ``rerun`` also runs
    their notebooks again (ignores cached executions); ``dry_run`` grades and computes the diff
    but writes nothing. With an engine, notebooks whose run is cached are only checked, here."""

    paths: tuple[Path, ...]
    out: Path
    run: pipeline.Run
    jobs: int | None = None
    force: bool = False
    rerun: bool = False
    dry_run: bool = False
    assignment: str = NOTEBOOK
    engine: DaskEngine | None = None
    ready: Callable[[], None] | None = None
    """called once the submissions and earlier records are read, before anything is graded or
    written; it raises to stop the run (``session.grade``: the catalogue's verdict)"""
    snapshot_settings: str = ""
    """what the run's outcome is kept under for the next run (``snapshot.py``); "" keeps none"""
    kept: snapshot.Kept | None = None
    """the last run's outcome where nothing it depends on changed since (``snapshot.load``):
    taken instead of grading when the grader version is the same too"""

    def __post_init__(self) -> None:
        object.__setattr__(self, "paths", tuple(Path(p) for p in self.paths))
        object.__setattr__(self, "out", Path(self.out))


class Events:
    """What a class run tells whoever started it (the terminal's progress bar, a test). Each
    method does nothing here; a caller overrides the ones it wants."""

    def started(self, total: int, to_grade: int) -> None:
        """The submissions are known: ``total``, of which ``to_grade`` are new or changed."""

    def result(self, result: SubmissionResult, reused: bool) -> None:
        """One submission's result, recorded (``reused``: from an earlier run, unchanged)."""

    def waiting(self) -> None:
        """Called every ``POLL_SECONDS`` while results are awaited."""

    def engine(self, scheduler: str, slots: int) -> None:
        """Connected to the Dask cluster at ``scheduler`` (``session.grade``)."""

    def notice(self, notice) -> None:
        """One of the run's notices for staff (``report/notices.py``), known before grading
        starts (``session.grade``); those found while grading are in ``ClassRun.notices``."""


class Recorder:
    """Where each result goes as soon as it is known: its files in OUT (after keeping the
    earlier ones in the history), the run's counts, and the caller's ``Events``. The engines
    (local pool, Dask) call ``record`` and ``waiting``."""

    def __init__(self, job: ClassJob, submissions: list[Submission], keys: dict[str, str],
                 earlier: dict[str, dict], history: History, done: ClassRun,
                 events: Events, confirmed: dict[str, dict] | None = None) -> None:
        self.job, self.keys, self.earlier, self.history = job, keys, earlier, history
        self.by_name = {s.name: s for s in submissions}
        self.done, self.events = done, events
        self.files_version = fingerprint(Scope.FILES)
        self.confirmed = confirmed if confirmed is not None else {}
        """``record_keys`` entries: records confirmed under a new key without being written"""

    def record(self, result: SubmissionResult, reused: bool = False) -> None:
        sub, done = self.by_name[result.submission], self.done
        if reused:
            done.reused.append(sub.name)
        else:
            if not self.job.dry_run:
                self._write(sub, result)
            done.graded.append(sub.name)
            if result.details.get("execution_cached"):
                done.checked_only.append(sub.name)
        done.results.append(result)
        self.events.result(result, reused)

    def waiting(self) -> None:
        self.events.waiting()

    def _write(self, sub: Submission, result: SubmissionResult) -> None:
        """A submission's files, only when they would change: a result equal to its earlier
        record's (same files code, same identifiers) keeps all three, and only its new key is
        noted (``record_keys``); FORCE writes everything anew."""
        files, earlier = self.files_version, self.earlier.get(sub.name)
        folder = self.job.out / sub.name
        if not self.job.force and _files_unchanged(self.job.out, earlier, result, files) and \
                earlier.get("student") == sub.student and earlier.get("source") == sub.source \
                and (found := record_keys.stamp(folder / report.RECORD_FILE)):
            self.confirmed[sub.name] = {"key": self.keys[sub.name], "stamp": found}
            return
        self.confirmed.pop(sub.name, None)
        if earlier is not None:
            self.history.keep(sub.name)
        report.write_submission(self.job.out, result)
        report.write_record(folder, result, key=self.keys[sub.name], student=sub.student,
                            source=sub.source, graded_at=_now(), files=files)


def _files_unchanged(out: Path, earlier: dict | None, result: SubmissionResult,
                     files: str) -> bool:
    """Whether ``result``'s results.json and feedback.md are already in OUT as they would be
    written now: its earlier record holds an equal result, written by the same ``FILES`` code
    (``fingerprint.Scope.FILES``), and both files are there. (A regrade after a catalogue edit
    changes a few results of a class: rendering and writing the others again cost seconds.)"""
    if earlier is None or earlier.get("files") != files:
        return False
    if earlier["result"] != result:
        return False
    folder = out / result.submission
    return (folder / "results.json").is_file() and (folder / "feedback.md").is_file()


def grade_class(job: ClassJob, events: Events | None = None) -> ClassRun:
    """Grade every submission of ``job`` into ``job.out``; ``events`` hears of the progress.
    A rerun with nothing changed since the last run takes its outcome (``snapshot.py``)."""
    events = events or Events()
    start = time.monotonic()
    kept_as = job.snapshot_settings if not (job.dry_run or job.engine) else ""
    first_version = grader_version(job.run)
    if job.kept is not None and isinstance(job.kept.done, ClassRun) and \
            job.kept.version == first_version and kept_as and not (job.force or job.rerun):
        return _as_before(job, job.kept, events, start)
    inputs = snapshot.input_stamps(job.paths) if kept_as else ()  # before anything is read
    with tempfile.TemporaryDirectory(prefix="dis05-intake-") as tmp, _fewer_collections():
        try:
            submissions = intake.collect(job.paths, assignment=job.assignment,
                                         extract_to=Path(tmp))
        except intake.IntakeError:
            if job.ready is not None:  # what stops the run before the input is said first
                job.ready()
            raise
        before = len(job.run.notices)  # the assignment's notices are this run's, told at its end
        job = replace(job, run=with_identities(job.run, submissions))
        told, job = job.run.notices[before:], replace(job, run=replace(
            job.run, notices=job.run.notices[:before]))
        version = grader_version(job.run)
        keys = {s.name: submission_key(s, version + _graded_as(job.run, s.name))
                for s in submissions}
        jobs = job.engine.slots() if job.engine else max(1, min(job.jobs or os.cpu_count() or 1,
                                                                 len(submissions) or 1))
        done = ClassRun([], jobs=jobs, dry_run=job.dry_run)
        done.notices += told
        earlier = {r["result"].submission: r for r in report.read_records(job.out)}
        confirmed = record_keys.read(job.out)
        record_keys.apply(earlier, confirmed)
        if job.ready is not None:
            job.ready()
        history = History(job.out)
        cache = ExecutionCache(job.out / CACHE_FOLDER, execution_fingerprint(job.run),
                               writable=not job.dry_run, readable=not job.rerun)
        run = replace(job.run, cache=cache)  # every submission's grading may use earlier runs
        recorder = Recorder(job, submissions, keys, earlier, history, done, events, confirmed)
        keeper, finished = snapshot.Writer(job.out) if kept_as else None, False
        try:
            _grade_all(job, run, submissions, recorder)
            finished = True
        finally:
            done.seconds = time.monotonic() - start
            if not job.dry_run:
                record_keys.write(job.out, recorder.confirmed)
            page = _after_grading(job.out, run, done, earlier, history, len(submissions),
                                  {s.name: s.student for s in submissions}, recorder,
                                  lambda: keeper and finished and
                                  keeper.start(_as_a_rerun(done, told)))
        if keeper:  # only a run that ended: a rerun would reuse each of its results
            keeper.finish(job.out, kept_as, first_version, inputs,
                          page and html_report.with_changes(page, ()))
    done.results.sort(key=lambda r: r.submission)
    return done


def _as_a_rerun(done: ClassRun, told: tuple) -> ClassRun:
    """``done`` as a rerun with nothing changed would find it: every result reused, no score
    changed, only the notices of who is who (those found while grading were this run's)."""
    results = sorted(done.results, key=lambda r: r.submission)
    return replace(done, results=results, graded=[], checked_only=[], changes=[],
                   reused=[r.submission for r in results], notices=list(told), seconds=0.0)


def _as_before(job: ClassJob, kept: snapshot.Kept, events: Events, start: float) -> ClassRun:
    """The rerun of a class where nothing changed: the kept outcome, told to ``events`` as a
    rerun's is, with the two files a rerun writes again (the empty regrade diff, the report's
    run facts)."""
    done: ClassRun = kept.done
    events.started(len(done.results), 0)
    for result in done.results:
        events.result(result, True)
    done.seconds = time.monotonic() - start
    regrade_diff.write_changes(job.out / regrade_diff.CHANGES_FILE, done.changes)
    _write_report(job.out, job.run, done, len(done.results), kept.page)
    return done


GC_THRESHOLDS = (50_000, 20, 1_000)
"""the cyclic collector's thresholds during a class run: a class's results are millions of
small acyclic objects, and the default (700, 10, 10) spent about 1.7 s of a 2,000-student
regrade walking them again and again"""


@contextmanager
def _fewer_collections():
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _grade_all(job: ClassJob, run: pipeline.Run, submissions: list[Submission],
               recorder: Recorder) -> None:
    """Reuse what is unchanged, then grade the rest where the job says."""
    out, keys, earlier = job.out, recorder.keys, recorder.earlier
    cached = {} if job.force or job.rerun else {
        s.name: r for s in submissions if (r := _reusable(out, s, keys[s.name], earlier))}
    recorder.events.started(len(submissions), len(submissions) - len(cached))
    runnable = []
    for sub in submissions:
        if sub.name in cached:
            recorder.record(_reuse(out, sub, keys[sub.name], cached[sub.name], job.dry_run),
                            reused=True)
        elif sub.notebook is None:
            recorder.record(no_notebook_result(sub, run))
        else:
            runnable.append(sub)
    if job.engine:
        checked_here = [sub for sub in runnable if run.cache.has(sub.notebook)]
        for sub in checked_here:
            recorder.record(_grade_one(sub, run))
        remote = [sub for sub in runnable if sub not in checked_here]
        recorder.done.notices += job.engine.grade(remote, replace(run, cache=None), recorder)
    elif recorder.done.jobs == 1:
        for sub in runnable:
            recorder.record(_grade_one(sub, run))
    else:
        _grade_parallel(runnable, run, recorder.done.jobs, recorder)


def _merged_records(earlier: dict[str, dict], done: ClassRun,
                    students: dict[str, dict]) -> list[dict]:
    """Every record in OUT after this run (what ``report.read_records`` would now read), built
    in memory: the earlier records with this run's results in place."""
    merged = dict(earlier)
    for result in done.results:
        merged[result.submission] = {**earlier.get(result.submission, {}), "result": result,
                                     "student": students.get(result.submission) or {}}
    return [merged[name] for name in sorted(merged)]


def _after_grading(out: Path, run: pipeline.Run, done: ClassRun, earlier: dict[str, dict],
                   history: History, total: int, students: dict[str, dict],
                   recorder: Recorder, summarised: Callable[[], object] = lambda: None):
    """The regrade diff, answer groups, review queue and the class files (none in a dry run);
    ``summarised`` is called once ``done`` is complete (before its files are written). Returns
    the report's sections (``html.sections``)."""
    done.changes = regrade_diff.diff(earlier, [r for r in done.results
                                               if r.submission in set(done.graded)])
    done.records = _merged_records(earlier, done, students)
    _copy_flags_over_the_class(out, run, done, recorder)
    if done.dry_run:
        _summarise(done, run)
        return None
    # the plots and half the answer groups take seconds of one core: computed on others
    # while the rest is (forked: the class's records are inherited, not sent)
    plots = _Forked(html_report.draw_plots, [r["result"] for r in done.records],
                    run.questions)
    _summarise(done, run)
    summarised()
    if earlier and done.graded:
        history.keep_class_files()
    question_ids = [q.id for q in run.questions]
    report.write_class_csvs(out, done.records, question_ids)
    regrade_diff.write_changes(out / regrade_diff.CHANGES_FILE, done.changes)
    answer_groups.write_groups_csv(out / answer_groups.GROUPS_FILE, done.groups)
    review.write_review_csv(out / review.REVIEW_FILE, done.review)
    page = html_report.sections(done.records, questions=list(run.questions), plots=_plots(plots),
                                extras=html_report.ReportExtras(
                                    groups=tuple(done.groups), review=tuple(done.review),
                                    override_problems=tuple(done.override_problems),
                                    overrides_path=run.overrides.path,
                                    changes=tuple(done.changes),
                                    review_page=review_page.REVIEW_PAGE))
    _write_report(out, run, done, total, page)
    review_page.write_review_page(out / review_page.REVIEW_PAGE, done.groups,
                                  overrides_text=run.overrides.text,
                                  overrides_path=run.overrides.path,
                                  copy_flags=review.copy_lines(done.review))
    return page


def _write_report(out: Path, run: pipeline.Run, done: ClassRun, total: int, page: dict) -> None:
    html_report.write_page(
        out / "report.html", page,
        run_info=html_report.RunInfo(seconds=done.seconds, jobs=done.jobs,
                                     graded=len(done.graded), reused=len(done.reused),
                                     total=total, notices=(*run.notices, *done.notices)))


def _copy_flags_over_the_class(out: Path, run: pipeline.Run, done: ClassRun,
                               recorder: Recorder) -> None:
    """Copy flags against every submission in OUT, on every run (``copies.class_flags``): a
    submission whose flags changed gets its new flags, scores (``Variants.copy_policy``), staff
    log and files, and keeps its resume key."""
    changed = copies.class_flags(done.records, lambda r, mates: pipeline.recheck_copies(
        r, run, mates))
    rewritten = None  # a confirmed key whose record is written again here
    for record in done.records:
        result = record["result"]
        if (flags := changed.get(result.submission)) is None:
            continue
        result.details["copies"] = [f.as_dict() for f in flags]
        result.log += "\n[grader] copy flags over the whole class, now: " + (
            "".join(f"\n  {f.text}" for f in flags) or "none") + "\n"
        written = report.read_record(out / result.submission / report.RECORD_FILE) or {}
        key = recorder.keys.get(result.submission) or (
            recorder.confirmed.get(result.submission) or written).get("key")
        if not done.dry_run and key:
            report.write_submission(out, result)
            report.write_record(out / result.submission, result, key=key,
                                student=record.get("student"), source=written.get("source", ""),
                                graded_at=written.get("graded_at", ""),
                                files=recorder.files_version)
            rewritten = recorder.confirmed.pop(result.submission, None) or rewritten
    if rewritten:
        record_keys.write(out, recorder.confirmed)


FORK_GROUPS_FROM = 200
"""a class with at least this many records computes half its answer groups in a forked process
(below it, forking costs more than it saves)"""


class _Forked:
    """``function(*args)`` computed in a forked child: its inputs are inherited, not pickled,
    and only its result comes back (``result``, which raises if the child failed)."""

    def __init__(self, function, *args) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_send_result, args=(send, function, args),
                                        daemon=True)
        self._process.start()
        send.close()

    def result(self):
        try:
            ok, value = self._receive.recv()
        except EOFError:
            raise RuntimeError("the forked process ended without a result") from None
        finally:
            self._receive.close()
            self._process.join()
        if not ok:
            raise RuntimeError(value)
        return value


def _send_result(send, function, args) -> None:
    try:
        result = (True, function(*args))
    except BaseException as exc:  # told to the parent, which computes it itself
        result = (False, repr(exc))
    send.send(result)
    send.close()


def _plots(future) -> html_report.Plots | None:
    """The plots drawn in the other process; None (draw them here) if that process failed."""
    try:
        return future.result()
    except Exception:
        return None


def _summarise(done: ClassRun, run: pipeline.Run) -> None:
    """Answer groups, the review queue and the overrides' problems, from ``done.records``
    (every other variable's groups in a forked process, for a large class)."""
    names = [v.name for q in run.questions for v in q.variables]
    elsewhere = set(names[1::2]) if len(done.records) >= FORK_GROUPS_FROM else set()
    there = _Forked(answer_groups.build_groups, done.records, run.questions, elsewhere) \
        if elsewhere else None
    here = answer_groups.build_groups(done.records, run.questions, set(names) - elsewhere)
    try:
        theirs = there.result() if there else []
    except Exception:  # that process failed: computed here
        theirs = answer_groups.build_groups(done.records, run.questions, elsewhere)
    by_variable: dict[str, list] = {}
    for group in (*here, *theirs):
        by_variable.setdefault(group.variable, []).append(group)
    done.groups = [g for name in names for g in by_variable.get(name, [])]
    done.review = review.queue(done.records, run.review)
    used = {c.mistake for r in done.records for q in r["result"].questions for c in q.checks
            if c.stage == "override"}
    done.override_problems = [*run.overrides.problems,
                              *overrides.unmatched(run.overrides, used)]


def no_notebook_result(sub: Submission, run: pipeline.Run) -> SubmissionResult:
    """The row of a submission with nothing to run."""
    return pipeline.nothing_to_run(sub.name, sub.problem or "no notebook", run)


# ---------------------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _reusable(out: Path, sub: Submission, key: str, earlier: dict[str, dict]) -> dict | None:
    """The earlier record of ``sub`` when its key still matches (``earlier``: the records already
    read from OUT, so none is read twice)."""
    folder = out / sub.name
    if not ((folder / "results.json").is_file() and (folder / "feedback.md").is_file()):
        return None
    record = earlier.get(sub.name)
    return record if record and record.get("key") == key else None


def _reuse(out: Path, sub: Submission, key: str, record: dict,
           dry_run: bool = False) -> SubmissionResult:
    """An earlier run's result; its identifiers are refreshed if the export's changed."""
    if not dry_run and (record.get("student", {}) != sub.student
                        or record.get("source") != sub.source):
        report.write_record(out / sub.name, record["result"], key=key, student=sub.student,
                            source=sub.source, graded_at=record.get("graded_at", ""),
                            files=record.get("files", ""))
    return record["result"]


def _grade_one(sub: Submission, run: pipeline.Run) -> SubmissionResult:
    return pipeline.grade_submission(sub.notebook, run, name=sub.name)


# Parallel grading. Workers are forked (they inherit the prepared run). A worker announces each
# submission it starts on a queue, so when a worker dies (the pool breaks) only the submissions
# that had started are suspects: each is retried alone, and one that breaks its own pool gets a
# grader-error row. Submissions that had not started go back into a fresh pool.

_started_queue = None


def _init_worker(queue) -> None:
    global _started_queue
    _started_queue = queue


def _grade_in_worker(sub: Submission, run: pipeline.Run) -> SubmissionResult:
    if _started_queue is not None:
        _started_queue.put(sub.name)
    return _grade_one(sub, run)


def _grade_parallel(subs: list[Submission], run: pipeline.Run, jobs: int,
                    recorder: Recorder) -> None:
    context = multiprocessing.get_context("fork")
    queue = context.SimpleQueue()
    todo, suspects = list(subs), []
    while todo or suspects:
        solo = bool(suspects)
        batch = [suspects.pop(0)] if solo else todo
        if not solo:
            todo = []
        started: set[str] = set()
        unfinished = _pool_pass(batch, run, 1 if solo else jobs, context, queue, started,
                                recorder)
        if not unfinished:
            continue
        if solo:
            sub, why = unfinished[0]
            recorder.record(grader_failure(sub.name, run.questions,
                                           f"the grading process died while grading this "
                                           f"submission: {why}"))
        else:
            suspects += [s for s, _ in unfinished if s.name in started]
            todo += [s for s, _ in unfinished if s.name not in started]


def _pool_pass(batch: list[Submission], run: pipeline.Run, jobs: int, context, queue,
               started: set[str], recorder: Recorder) -> list[tuple[Submission, str]]:
    """Grade ``batch`` in one pool; return the submissions lost to a broken pool, with why.
    ``started`` gets the name of each submission a worker began (read from ``queue`` while
    the pool runs: a pipe left unread fills, about 2,000 names, and blocks every worker)."""
    unfinished = []
    pool = ProcessPoolExecutor(min(jobs, len(batch)), mp_context=context,
                               initializer=_init_worker, initargs=(queue,))
    try:
        futures: dict[Future, Submission] = {pool.submit(_grade_in_worker, s, run): s
                                             for s in batch}
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for future in finished:
                sub = futures[future]
                try:
                    recorder.record(future.result())
                except BrokenProcessPool as exc:
                    unfinished.append((sub, repr(exc)))
                except Exception as exc:  # the result could not come back: still a row
                    recorder.record(grader_failure(sub.name, run.questions, repr(exc)))
            recorder.waiting()
            _drain(queue, started)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    _drain(queue, started)
    return unfinished


def _drain(queue, into: set[str]) -> None:
    while not queue.empty():
        into.add(queue.get())
