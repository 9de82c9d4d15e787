"""``OUT/report.html``: how the class did, on one self-contained page for TAs.

Sections: a summary, the regrade diff, the review queue, the score distribution (per question),
the answer groups per question (with the overrides entry that settles each), the most common
mistakes per question (catalogue ids and messages from ``mistakes.py``; unanswered, unreadable
and other wrong answers counted too), the submissions that did not run cleanly and why, and
timing. The layout is the Jinja2 template ``templates/report.html.j2``. Plots are
drawn with matplotlib's Agg canvas (no pyplot, no global backend) and embedded as base64 PNG, so
the page has no other files and loads nothing from the network.
"""

from __future__ import annotations

import base64
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterable

from autograder.report.answer_groups import person
from autograder.report.results import Stage, Status, SubmissionResult
from autograder.settings.limits import ReportLayout
from autograder.worksheet import mistakes

TEMPLATE_DIR = Path(__file__).with_name("templates")
TEMPLATE = "report.html.j2"
TOP_MISTAKES = ReportLayout().top_mistakes
SLOWEST = ReportLayout().slowest
LOG_LINES = ReportLayout().log_lines


@dataclass(frozen=True)
class RunInfo:
    """How the run that wrote the report went (the records may come from earlier runs too)."""

    seconds: float = 0.0
    jobs: int = 1
    graded: int = 0
    reused: int = 0
    total: int = 0
    notices: tuple = ()  # report.notices.Notice: what staff must know, shown first


def write_report(path: Path, records: list[dict], *, questions: Iterable, run_info: RunInfo,
                 title: str = "dis05 autograder: class report",
                 extras: ReportExtras | None = None, plots: Plots | None = None) -> Path:
    """Write the page for ``records`` (``report.read_records``) and return its path; ``plots``
    (from ``draw_plots``, e.g. drawn in another process meanwhile) saves drawing them here."""
    return write_page(path, sections(records, questions=list(questions), extras=extras,
                                     plots=plots), run_info=run_info, title=title)


def write_page(path: Path, page: dict, *, run_info: RunInfo,
               title: str = "dis05 autograder: class report") -> Path:
    """Write the page from its ``sections`` (kept from an earlier run, say) and this run's facts."""
    from autograder.report import write_text

    path = Path(path)
    write_text(path, render_page(page, run_info=run_info, title=title))
    return path


def render(records: list[dict], *, questions: list, run_info: RunInfo, title: str,
           extras: ReportExtras | None = None, plots: Plots | None = None) -> str:
    """The page as text: the data are gathered here, the layout is ``templates/report.html.j2``
    (autoescaping Jinja2, so a TA can change the page without reading Python)."""
    return render_page(sections(records, questions=questions, extras=extras, plots=plots),
                       run_info=run_info, title=title)


def sections(records: list[dict], *, questions: list, extras: ReportExtras | None = None,
             plots: Plots | None = None) -> dict:
    """What the page shows of ``records`` (plain data for the template): everything but the
    facts of the run that writes it, so a rerun that changed nothing can show it again."""
    results = [r["result"] for r in records]
    students = {r["result"].submission: person(r.get("student") or {}) for r in records}
    extras = extras or ReportExtras()
    plots = plots or draw_plots(results, questions)
    return {
        "count": len(results),
        "refused": [(r.submission, students.get(r.submission, ""), r.reason)
                    for r in results if r.status is Status.REFUSED],
        "cards": _summary(results),
        "distribution": _distribution(results, questions, plots),
        "mistakes": _mistakes(results, questions),
        "failures": _failures(results, students),
        "timing": _timing(results, plots, students),
        **extras.context(questions),
    }


def with_changes(page: dict, changes: tuple) -> dict:
    """``page`` with another run's regrade diff (a rerun that changed nothing shows none)."""
    return {**page, "changes": list(changes)}


def render_page(page: dict, *, run_info: RunInfo, title: str) -> str:
    """The page of ``sections`` with the facts of this run (``run_info``) and the time now."""
    timing = {**page["timing"], "facts": [_run_fact(run_info), *page["timing"]["facts"]]}
    return _template().render({**page, "title": title, "timing": timing,
                               "generated": f"{datetime.now():%Y-%m-%d %H:%M}",
                               "notices": run_info.notices})


@dataclass(frozen=True)
class ReportExtras:
    """The after-grading sections: answer groups, the review queue, the overrides file's
    problems and the regrade diff. Each is optional; the sections say so when empty."""

    groups: tuple = ()  # answer_groups.AnswerGroup, every variable
    review: tuple = ()  # review.ReviewItem
    override_problems: tuple = ()  # overrides.Problem
    overrides_path: str = ""
    changes: tuple = ()  # regrade_diff.Change
    review_page: str = ""  # the review page's file name, beside the report ("" when none)

    def context(self, questions: list) -> dict:
        by_question = defaultdict(list)
        for g in self.groups:
            by_question[g.question].append(g)
        return {"groups": [(q, by_question.get(q.id, [])) for q in questions
                           if q.id in by_question],
                "review": list(self.review), "override_problems": list(self.override_problems),
                "overrides_path": self.overrides_path, "changes": list(self.changes),
                "review_page": self.review_page,
                "decide": sum(g.needs_decision for g in self.groups)}


def _template(name: str = TEMPLATE):
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template(name)




# --- sections: plain data for the template ------------------------------------------------------


def _summary(results: list[SubmissionResult]) -> list[tuple[str, str]]:
    totals = [r.score for r in results]
    max_total = max((r.max_score for r in results), default=0)
    ok = sum(r.status is Status.OK for r in results)
    cards = [("submissions", len(results)), ("ran cleanly", ok), ("not ok", len(results) - ok),
             ("mean score", f"{statistics.fmean(totals):.1f} / {max_total:g}" if totals else "–"),
             ("median score", f"{statistics.median(totals):g}" if totals else "–"),
             ("full marks", sum(t >= max_total > 0 for t in totals))]
    return [(k, str(v)) for k, v in cards]


def _distribution(results: list[SubmissionResult], questions: list, plots: Plots) -> dict:
    if not results:
        return {"images": [], "rows": []}
    images = [(_data_uri(plots.totals), "Histogram of total scores"),
              (_data_uri(plots.questions), "Score counts per question")]
    rows = []
    for q in questions:
        scores = [qr.score for r in results for qr in r.questions if qr.question == q.id]
        if not scores:
            continue
        rows.append([q.id, q.title, f"{q.points:g}", f"{statistics.fmean(scores):.2f}",
                     _pct(sum(s >= q.points for s in scores), len(scores)),
                     _pct(sum(s <= 0 for s in scores), len(scores))])
    return {"images": images, "rows": rows}


def _mistakes(results: list[SubmissionResult], questions: list) -> list[dict]:
    """Per question: the catalogue mistakes seen, most common first, with their messages."""
    graded = [r for r in results
              if r.status not in (Status.GRADER_ERROR, Status.INVALID, Status.REFUSED)]
    sections = []
    for q in questions:
        counts: Counter = Counter()
        examples: dict = defaultdict(Counter)
        for r in graded:
            for qr in r.questions:
                if qr.question != q.id:
                    continue
                for c in qr.checks:
                    kind = _classify(c)
                    if kind:
                        counts[kind] += 1
                        examples[kind][c.message] += 1
        rows = []
        # Most common first; at equal counts, recognised mistakes before the generic rows.
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][1].startswith("(")))
        for (variable, kind), n in ranked[:TOP_MISTAKES]:
            other = kind.startswith("(")
            message = "" if kind == "(unanswered)" else \
                _message(variable, kind, examples[(variable, kind)])
            rows.append({"count": n, "variable": variable,
                         "label": kind[1:-1] if other else kind, "other": other,
                         "message": message})
        sections.append({"question": q, "rows": rows})
    return sections


def _failures(results: list[SubmissionResult], students: dict[str, str]) -> dict:
    failed = [r for r in results if r.status is not Status.OK]
    by_status = Counter(r.status.value for r in failed)
    rows = []
    for r in sorted(failed, key=lambda r: (r.status_text, r.submission)):
        rows.append({"submission": r.submission,
                     "student": students.get(r.submission, ""),
                     "status": r.status_text,
                     "log": "\n".join(r.log.strip().splitlines()[-LOG_LINES:]),
                     "score": f"{r.score:g}", "seconds": f"{r.seconds:.1f}"})
    return {"by_status": by_status.most_common(), "rows": rows}


def _run_fact(info: RunInfo) -> str:
    fact = (f"This run: {info.total} submissions, {info.graded} graded and {info.reused} "
            f"unchanged since an earlier run, in {info.seconds:.1f} s with {info.jobs} "
            f"parallel job{'s' if info.jobs != 1 else ''}")
    if info.graded:
        fact += f" ({info.seconds / info.graded:.2f} s of wall time per graded submission)"
    return fact


def _timing(results: list[SubmissionResult], plots: Plots, students: dict[str, str]) -> dict:
    per = [r.seconds for r in results if r.seconds > 0]
    timing = {"facts": [], "image": None, "slowest": []}
    if per:
        per_sorted = sorted(per)
        p95 = per_sorted[min(len(per) - 1, int(0.95 * len(per)))]
        timing["facts"].append(
            f"Grading time per submission: mean {statistics.fmean(per):.1f} s, median "
            f"{statistics.median(per):.1f} s, 95th percentile {p95:.1f} s, "
            f"max {per_sorted[-1]:.1f} s")
        timing["image"] = (_data_uri(plots.seconds),
                           "Histogram of grading seconds per submission")
        timing["slowest"] = [[r.submission, students.get(r.submission, ""), f"{r.seconds:.1f}",
                              r.status_text]
                             for r in sorted(results, key=lambda r: -r.seconds)[:SLOWEST]]
    return timing


@dataclass(frozen=True)
class Plots:
    """The report's PNG plots (empty bytes where there is nothing to plot)."""

    totals: bytes = b""
    questions: bytes = b""
    seconds: bytes = b""


def draw_plots(results: list[SubmissionResult], questions: list) -> Plots:
    """Draw the plots (the slow part of the report: a class run draws them in another process
    while it groups answers)."""
    if not results:
        return Plots()
    per = [r.seconds for r in results if r.seconds > 0]
    return Plots(_plot_totals(results), _plot_questions(results, list(questions)),
                 _plot_seconds(per) if per else b"")


# --- helpers -----------------------------------------------------------------------------------


def _classify(check) -> tuple[str, str] | None:
    """``(variable, kind)`` for a check that lost points, or None for a right answer."""
    if check.passed or check.stage is Stage.GRADER_ERROR:
        return None
    if check.mistake:
        return check.variable, check.mistake
    if check.stage is Stage.MISSING:
        return check.variable, "(unanswered)"
    if check.stage is Stage.FORMAT:
        return check.variable, "(could not be read)"
    if check.stage is Stage.TYPE:
        return check.variable, "(wrong type)"
    return check.variable, "(other wrong answer)"


def _message(variable: str, mistake_id: str, seen: Counter) -> str:
    """The catalogue message of a mistake, else (Q1's checks) the message students saw most."""
    for m in mistakes.for_variable(variable):
        if m.id == mistake_id:
            return m.message
    text = seen.most_common(1)[0][0] if seen else ""
    return text if len(text) <= 300 else text[:297] + "..."


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:.0f}%" if total else "–"


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _figure(width: float, height: float, layout: str | None = "constrained"):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _plot_totals(results: list[SubmissionResult]) -> bytes:
    fig = _figure(9, 3)
    ax = fig.add_subplot()
    max_total = max(r.max_score for r in results) or 1
    counts = Counter(round(r.score * 2) / 2 for r in results)  # half-point bins
    ax.bar(list(counts), list(counts.values()), width=0.45, color="#3b6ea5")
    ax.set_xlim(-0.5, max_total + 0.5)
    ax.set_xlabel(f"total score (out of {max_total:g})")
    ax.set_ylabel("submissions")
    ax.set_title("Total score")
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _png(fig)


def _plot_questions(results: list[SubmissionResult], questions: list) -> bytes:
    n = max(1, len(questions))
    cols = min(5, n)
    rows = -(-n // cols)
    # a fixed grid: the constrained layout costs seconds with a dozen small axes
    fig = _figure(2.2 * cols, 1.9 * rows, layout=None)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.08, top=0.9, wspace=0.35, hspace=0.7)
    for i, q in enumerate(questions):
        ax = fig.add_subplot(rows, cols, i + 1)
        scores = Counter(qr.score for r in results for qr in r.questions if qr.question == q.id)
        ax.bar([f"{s:g}" for s in sorted(scores)], [scores[s] for s in sorted(scores)],
               color=["#3b8a5a" if s >= q.points else "#c0504d" if s <= 0 else "#d9a33b"
                      for s in sorted(scores)])
        ax.set_title(f"{q.id} (of {q.points:g})", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.yaxis.get_major_locator().set_params(integer=True)
    return _png(fig)


def _plot_seconds(seconds: list[float]) -> bytes:
    fig = _figure(9, 2.4)
    ax = fig.add_subplot()
    ax.hist(seconds, bins=min(30, max(5, len(seconds) // 3)), color="#7a6ea5")
    ax.set_xlabel("seconds per submission")
    ax.set_ylabel("submissions")
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _png(fig)
