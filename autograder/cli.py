"""Command line: a thin layer over keyword-only functions (``python -m autograder --help``)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

from autograder import report, settings
from autograder.grading import classroom, identity, intake, pipeline, session
from autograder.grading.dask_engine import EngineError
from autograder.grading.session import problem_lines as _problem_lines
from autograder.report import regrade_diff, review_page, review_server
from autograder.report.gradescope import to_gradescope
from autograder.report.results import Status, SubmissionResult, grader_failure
from autograder.report.notices import Topic
from autograder.report.staff_log import configure_console
from autograder.settings.limits import Checking, Cluster, Limits, Machine
from autograder.settings.variants import Variants
from autograder.checks import overrides
from autograder.worksheet import NOTEBOOK, QUESTIONS


def _set(args: argparse.Namespace, group: str, base: Any) -> Any:
    """``base`` (a group of the settings tree) with what the command's flags set in ``group``."""
    given = {o.setting.removeprefix(f"{group}."): getattr(args, o.dest)
             for o in settings.OPTIONS[args.command] if o.setting.startswith(f"{group}.")}
    return dataclasses.replace(base, **{k: v for k, v in given.items() if v is not None})


class _Terminal(classroom.Events):
    """A class run's events on the terminal: the counts, a progress bar, a line per result."""

    def __init__(self) -> None:
        self.bar = None

    def started(self, total: int, to_grade: int) -> None:
        from autograder.report.progress import Progress

        print(f"{total} submissions: {to_grade} to grade, {total - to_grade} unchanged since the "
              f"last run{' (use --force to regrade)' if total > to_grade else ''}", flush=True)
        self.bar = Progress(total)
        self.bar.draw()

    def result(self, result: SubmissionResult, reused: bool) -> None:
        self.bar.advance(ok=result.status is Status.OK, reused=reused)
        if not self.bar.enabled and not reused:
            print(_line(result), flush=True)
        elif result.status is not Status.OK and not reused:
            self.bar.note(_line(result))

    def waiting(self) -> None:
        if self.bar:
            self.bar.draw()

    def engine(self, scheduler: str, slots: int) -> None:
        print(f"grading on the Dask cluster at {scheduler} ({slots} worker threads)", flush=True)

    def notice(self, notice) -> None:
        _print_notice(notice)


def _request(args: argparse.Namespace) -> session.GradeRequest:
    return session.GradeRequest(
        tuple(Path(p) for p in args.submissions), Path(args.out),
        limits=_set(args, "limits", Limits()), cluster=_set(args, "cluster", Cluster()),
        checking=_set(args, "checking", Checking()),
        overrides_file=args.overrides, grade_q1=not args.no_q1, data_dir=args.data_dir,
        jobs=args.jobs, force=args.force, rerun=args.rerun, dry_run=args.dry_run,
        variants=Variants(enabled=args.variants))


def cmd_grade(args: argparse.Namespace) -> int:
    """Grade a class: notebooks, folders, Gradescope export zips or folders (see intake.py)."""
    out, terminal = Path(args.out), _Terminal()
    try:
        graded = session.grade(_request(args), terminal)
    except KeyboardInterrupt:
        print(f"interrupted: finished submissions are kept in {out}; rerun the same command "
              f"to grade the rest", file=sys.stderr)
        return 130
    except (session.NotGraded, intake.IntakeError, EngineError) as exc:
        for line in getattr(exc, "lines", [str(exc)]):
            print(f"error: {line}", file=sys.stderr)
        return 2
    finally:
        if terminal.bar:
            terminal.bar.close()
    _summary(graded, out, args.dry_run)
    if not args.dry_run:
        review_server.record_run(out, _request(args))  # what `make review` regrades
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    """Serve OUT/review.html on 127.0.0.1 with an Apply button (``report/review_server.py``)."""
    out = Path(args.out)
    if not (out / review_server.RUN_FILE).is_file() or not (out / review_page.REVIEW_PAGE).is_file():
        print(f"error: no class run in {out}: run make grade OUT={out} first", file=sys.stderr)
        return 2
    if args.submissions:
        review_server.record_run(out, dataclasses.replace(
            review_server.last_request(out, args.overrides),
            paths=tuple(Path(p) for p in args.submissions)))
    review_server.serve(out, Path(args.overrides), open_browser=not args.no_open)
    return 0


def _summary(graded: session.Graded, out: Path, dry_run: bool) -> None:
    done = graded.done
    for notice in done.notices:  # learned while grading (the start's were printed then)
        _print_notice(notice)
    failed = sum(r.status is not Status.OK for r in done.results)
    print(f"{len(done.results)} submissions ({len(done.graded)} graded, of which "
          f"{len(done.checked_only)} from cached runs; {len(done.reused)} unchanged) in "
          f"{done.seconds:.1f} s with {done.jobs} job{'s' * (done.jobs != 1)}; {failed} not ok")
    refused = Counter(r.reason for r in done.results if r.status is Status.REFUSED)
    if refused:  # each still has its row; the run's exit status stays 0
        print(f"{sum(refused.values())} refused: " + "; ".join(
            f"{n} {why}" for why, n in refused.most_common()))
    regrade_diff.print_changes(done.changes)
    for line in _problem_lines(graded.overrides, done.override_problems):
        print(f"warning: {line}")
    if done.review:
        print(f"{len(done.review)} undecided answer(s) wait for review ({out / 'review.csv'})")
    if dry_run:
        print(f"dry run: nothing was written to {out}")
        return
    print(f"wrote {out / 'grades.csv'}, {out / 'gradebook.csv'}, {out / 'report.html'}, "
          f"{out / 'changes.csv'}, {out / 'answer_groups.csv'}, {out / 'review.csv'} and "
          f"{out}/<submission>/feedback.md")
    decide = sum(g.needs_decision for g in done.groups)
    print(f"review page: {out / review_page.REVIEW_PAGE} ({decide} answer group(s) need a "
          f"decision; set credits there and save the overrides file it writes)")


def _print_notice(notice) -> None:
    """A notice for staff (``report/notices.py``), printed once; report.html shows it too."""
    print(f"warning: {notice.line()}", file=sys.stderr, flush=True)


def _line(result: SubmissionResult) -> str:
    return (f"{result.submission:30s} {result.score:6g}/{result.max_score:g}  "
            f"{result.status_text}  ({result.seconds:.1f} s)")


def _gradescope_settings(args: argparse.Namespace) -> tuple[Machine, Limits]:
    """The machine and the limits there: ``--timeout`` sets ``Machine.notebook_seconds``."""
    machine = _set(args, "machine", Machine())
    return machine, _set(args, "limits", Limits(timeout=machine.notebook_seconds))


def cmd_gradescope(args: argparse.Namespace) -> int:
    """Gradescope's entry point: grade ``ROOT/submission`` into ``ROOT/results/results.json``."""
    start = time.monotonic()
    root = Path(args.root)
    results_file = root / "results" / "results.json"
    try:
        machine, limits = _gradescope_settings(args)
        notebook, problem = intake.choose_notebook(root / "submission", NOTEBOOK)
        with tempfile.TemporaryDirectory(prefix="dis05-gs-") as work:
            run = pipeline.prepare_run(limits=limits, grade_q1=not args.no_q1,
                                       workdir=Path(work), data_dir=args.data_dir)
            # The machine's whole limit, less the margin, less what start-up already used.
            total = machine.total_seconds - (time.monotonic() - start)
            run = dataclasses.replace(run, limits=dataclasses.replace(run.limits, total=total))
            found = overrides.load(args.overrides)  # invalid entries are left out (staff log)
            run = dataclasses.replace(run, overrides=found,
                                      checking=_set(args, "checking", Checking()),
                                      **_gradescope_identity(args, root, notebook))
            if notebook is None:
                result = pipeline.nothing_to_run("submission", problem, run)
            else:
                result = pipeline.grade_submission(notebook, run, name="submission")
            # one submission per container: the sandbox's own note says when it ran unprotected
            shown = [n for n in run.notices if n.topic is not Topic.ISOLATION]
            result.log = "".join(f"[grader] {n.line()}\n" for n in shown) + result.log
            if found.problems:
                result.log += "\n[grader] overrides file problems (entries left out):\n" + \
                    "\n".join(_problem_lines(found, found.problems))
        report.write_json(results_file, to_gradescope(result))
    except Exception:
        result = grader_failure("submission", QUESTIONS, traceback.format_exc())
        report.write_json(results_file, to_gradescope(result))
    print(f"score {result.score:g}/{result.max_score:g}, status {result.status_text}")
    return 0


def _gradescope_identity(args: argparse.Namespace, root: Path, notebook: Path | None) -> dict:
    """Per student when the zip's assignment.json or the notebook's record says so (or
    ``--variants``): the submitter's identity from Gradescope's submission_metadata.json."""
    from autograder.grading import assignment

    record = assignment.of_notebook(notebook)
    chosen = Variants(enabled=args.variants or record.variants or assignment.of_zip_file(
        root / "source" / assignment.ZIP_FILE))
    if not chosen.enabled:
        return {}
    who = identity.resolve(identity.gradescope_submitters(root / "submission_metadata.json"),
                           identity.notebook_email(notebook), salt=chosen.salt,
                           source="gradescope")
    held = assignment.decide({"submission": record}, chosen).held  # an edited record, a salt
    return {"variants": chosen, "identities": {"submission": who}, "held": held}


def cmd_assign(args: argparse.Namespace) -> int:
    from autograder.checks import catalogue_problems
    from autograder.student import package

    problems = [f"catalogue: {p}" for p in catalogue_problems()]
    problems += [f"master notebook: {p}" for p in package.master_problems(Path(args.master))]
    if problems:
        print("error: fix these before building the assignment:\n  " + "\n  ".join(problems),
              file=sys.stderr)
        return 2
    package.assign(master=Path(args.master), root=Path(args.root), variants=args.variants)
    return 0


def cmd_variant(args: argparse.Namespace) -> int:
    """A student's Q2 numbers (their variant), as JSON: what staff answer to "what were mine?"."""
    from autograder.settings.variants import Variants
    from autograder.worksheet.variants import to_json, variant_of

    print(to_json(variant_of(args.email, args.salt or Variants().salt)))
    return 0


def cmd_fetch_cifar(args: argparse.Namespace) -> int:
    from autograder.q1.cifar import DataError
    from autograder.q1.fetch import fetch_cifar

    try:
        path, what = fetch_cifar(args.source, args.data_dir)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{what}; cached in {path}")
    return 0


def _add_options(parser: argparse.ArgumentParser, command: str) -> None:
    """The command's flags, as declared in ``settings.OPTIONS`` (help, default, type)."""
    for o in settings.OPTIONS[command]:
        if not o.flag.startswith("-"):  # (a default of () makes them optional)
            parser.add_argument(o.flag, nargs="*" if o.value == () else "+",
                                help=o.help_text())
        elif o.switch:
            parser.add_argument(o.flag, action="store_true", help=o.help_text())
        else:
            parser.add_argument(o.flag, default=o.value, help=o.help_text(), type=o.parse)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    grade = sub.add_parser("grade", help="grade a class; write OUT/grades.csv, gradebook.csv, "
                           "report.html and per-submission feedback")
    _add_options(grade, "grade")
    grade.set_defaults(func=cmd_grade)

    gs = sub.add_parser("gradescope", help="Gradescope's entry point (run_autograder)")
    _add_options(gs, "gradescope")
    gs.set_defaults(func=cmd_gradescope)

    review = sub.add_parser("review", help="serve OUT/review.html on this machine; Apply writes "
                            "the overrides file and regrades from the cache")
    _add_options(review, "review")
    review.set_defaults(func=cmd_review)

    assign = sub.add_parser("assign", help="otter assign: student notebook, solutions, zip")
    assign.add_argument("--master", default="solutions/master/dis05.ipynb")
    assign.add_argument("--root", default=".", help="repository root")
    assign.add_argument("--variants", action="store_true", help="the variant assignment: each "
                        "student their own Q2 numbers (make assign VARIANTS=1)")
    assign.set_defaults(func=cmd_assign)

    variant = sub.add_parser("variant", help="print a student's Q2 numbers (their variant) as "
                             "JSON: n, k, image, in_channels, out_channels, kernel, stride")
    variant.add_argument("email", help="the student's email, as Gradescope knows it")
    variant.add_argument("--salt", default="", help="the course's salt (default: the settings')")
    variant.set_defaults(func=cmd_variant)

    fetch = sub.add_parser("fetch-cifar", help="download and verify CIFAR-10 once, or import a "
                           "copy (--from: the official archive, a URL, or an image folder, "
                           ".tar.gz or .zip with train/<class>/ and test/<class>/)")
    fetch.add_argument("--data-dir", help="the data cache (default $DIS05_DATA_DIR, else "
                       "~/.cache/dis05)")
    fetch.add_argument("--from", dest="source", default=None,
                       help="a URL or local path instead of the official download")
    fetch.set_defaults(func=cmd_fetch_cifar)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_console()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
