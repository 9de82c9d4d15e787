"""``OUT/report.html``: how the class did, on one self-contained page for TAs.

Sections: a summary, the score distribution (per question), the most common mistakes per
question (catalogue ids and messages from ``mistakes.py``; unanswered, unreadable and other wrong
answers counted too), the submissions that did not run cleanly and why, and timing. Plots are
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
from html import escape
from pathlib import Path
from typing import Iterable

from . import mistakes
from .results import SubmissionResult

TOP_MISTAKES = 8
SLOWEST = 5
LOG_LINES = 12


@dataclass(frozen=True)
class RunInfo:
    """How the run that wrote the report went (the records may come from earlier runs too)."""

    seconds: float = 0.0
    jobs: int = 1
    graded: int = 0
    reused: int = 0
    total: int = 0


def write_report(path: Path, records: list[dict], *, questions: Iterable, run_info: RunInfo,
                 title: str = "dis05 autograder: class report") -> Path:
    """Write the page for ``records`` (``report.read_records``) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render(records, questions=list(questions), run_info=run_info, title=title),
                   encoding="utf-8")
    tmp.replace(path)
    return path


def render(records: list[dict], *, questions: list, run_info: RunInfo, title: str) -> str:
    results = [r["result"] for r in records]
    students = {r["result"].submission: r.get("student") or {} for r in records}
    body = [f"<h1>{escape(title)}</h1>",
            f"<p class='meta'>Generated {datetime.now():%Y-%m-%d %H:%M} from {len(results)} "
            f"graded submissions.</p>",
            _summary(results),
            _distribution(results, questions),
            _mistakes(results, questions),
            _failures(results, students),
            _timing(results, run_info)]
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{escape(title)}</title><style>{CSS}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")


CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: .2em; margin-top: 1.6em; }
h3 { margin-bottom: .3em; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: .92em; }
th, td { border: 1px solid #ddd; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.kind { white-space: nowrap; }
.meta { color: #666; } .cards { display: flex; gap: 1em; flex-wrap: wrap; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .6em 1em; min-width: 8em; }
.card b { display: block; font-size: 1.5em; }
img { max-width: 100%; } pre { background: #f7f7f7; padding: .5em; white-space: pre-wrap;
      font-size: .85em; max-height: 20em; overflow: auto; }
.other { color: #666; font-style: italic; }
"""


# --- sections ----------------------------------------------------------------------------------


def _summary(results: list[SubmissionResult]) -> str:
    totals = [r.score for r in results]
    max_total = max((r.max_score for r in results), default=0)
    ok = sum(r.status == "ok" for r in results)
    cards = [("submissions", len(results)), ("ran cleanly", ok), ("not ok", len(results) - ok),
             ("mean score", f"{statistics.fmean(totals):.1f} / {max_total:g}" if totals else "–"),
             ("median score", f"{statistics.median(totals):g}" if totals else "–"),
             ("full marks", sum(t >= max_total > 0 for t in totals))]
    return ("<section id='summary'><h2>Summary</h2><div class='cards'>"
            + "".join(f"<div class='card'><b>{escape(str(v))}</b>{escape(k)}</div>" for k, v in cards)
            + "</div></section>")


def _distribution(results: list[SubmissionResult], questions: list) -> str:
    parts = ["<section id='distribution'><h2>Score distribution</h2>"]
    if not results:
        return parts[0] + "<p>No submissions.</p></section>"
    parts.append(_img(_plot_totals(results), "Histogram of total scores"))
    parts.append(_img(_plot_questions(results, questions), "Score counts per question"))
    rows = []
    for q in questions:
        scores = [qr.score for r in results for qr in r.questions if qr.question == q.id]
        if not scores:
            continue
        rows.append([q.id, q.title, f"{q.points:g}", f"{statistics.fmean(scores):.2f}",
                     _pct(sum(s >= q.points for s in scores), len(scores)),
                     _pct(sum(s <= 0 for s in scores), len(scores))])
    parts.append(_table(["Question", "Title", "Points", "Mean", "Full marks", "Zero"], rows,
                        numeric={2, 3, 4, 5}))
    return "".join(parts) + "</section>"


def _mistakes(results: list[SubmissionResult], questions: list) -> str:
    """Per question: the catalogue mistakes seen, most common first, with their messages."""
    parts = ["<section id='mistakes'><h2>Most common mistakes</h2>",
             "<p class='meta'>Counts of answers (one per answer variable) over the submissions "
             "that could be read; a named mistake is one the catalogue recognises, shown with "
             "the message students get.</p>"]
    graded = [r for r in results
              if r.status != "grader error" and not r.status.startswith("invalid notebook")]
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
        parts.append(f"<h3 id='mistakes-{escape(q.id)}'>{escape(q.id)}: {escape(q.title)}</h3>")
        if not counts:
            parts.append("<p>No mistakes: every graded answer was right.</p>")
            continue
        rows = []
        # Most common first; at equal counts, recognised mistakes before the generic rows.
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][1].startswith("(")))
        for (variable, kind), n in ranked[:TOP_MISTAKES]:
            if kind == "(not answered)":
                label, message = f"<span class='other'>{escape(kind[1:-1])}</span>", ""
            elif kind.startswith("("):  # the feedback most of these students got, for a hint
                label = f"<span class='other'>{escape(kind[1:-1])}</span>"
                message = (f"<span class='other'>e.g. "
                           f"{escape(_message(variable, kind, examples[(variable, kind)]))}</span>")
            else:
                label = escape(kind)
                message = escape(_message(variable, kind, examples[(variable, kind)]))
            rows.append([str(n), escape(variable), label, message])
        parts.append(_table(["Count", "Variable", "Mistake", "Message"], rows, numeric={0},
                            nowrap={1, 2}, escaped=True))
    return "".join(parts) + "</section>"


def _failures(results: list[SubmissionResult], students: dict[str, dict]) -> str:
    failed = [r for r in results if r.status != "ok"]
    parts = ["<section id='failures'><h2>Submissions that failed</h2>"]
    if not failed:
        return parts[0] + "<p>Every submission ran to the end.</p></section>"
    by_status = Counter(r.status.split(":")[0] for r in failed)
    parts.append("<p>" + ", ".join(f"{escape(s)}: {n}" for s, n in by_status.most_common())
                 + "</p>")
    rows = []
    for r in sorted(failed, key=lambda r: (r.status, r.submission)):
        who = students.get(r.submission, {}).get("name", "")
        tail = "\n".join(r.log.strip().splitlines()[-LOG_LINES:])
        log = f"<details><summary>log</summary><pre>{escape(tail)}</pre></details>" if tail else ""
        rows.append([escape(r.submission), escape(who), escape(r.status) + log,
                     f"{r.score:g}", f"{r.seconds:.1f}"])
    parts.append(_table(["Submission", "Student", "Status and why", "Score", "Seconds"], rows,
                        numeric={3, 4}, escaped=True))
    return "".join(parts) + "</section>"


def _timing(results: list[SubmissionResult], info: RunInfo) -> str:
    parts = ["<section id='timing'><h2>Timing</h2>"]
    per = [r.seconds for r in results if r.seconds > 0]
    facts = [f"This run: {info.total} submissions, {info.graded} graded and {info.reused} "
             f"unchanged since an earlier run, in {info.seconds:.1f} s with {info.jobs} "
             f"parallel job{'s' if info.jobs != 1 else ''}"]
    if info.graded:
        facts[0] += f" ({info.seconds / info.graded:.2f} s of wall time per graded submission)"
    if per:
        per_sorted = sorted(per)
        p95 = per_sorted[min(len(per) - 1, int(0.95 * len(per)))]
        facts.append(f"Grading time per submission: mean {statistics.fmean(per):.1f} s, median "
                     f"{statistics.median(per):.1f} s, 95th percentile {p95:.1f} s, "
                     f"max {per_sorted[-1]:.1f} s")
    parts.append("<ul>" + "".join(f"<li>{escape(f)}.</li>" for f in facts) + "</ul>")
    if per:
        parts.append(_img(_plot_seconds(per), "Histogram of grading seconds per submission"))
        slow = sorted(results, key=lambda r: -r.seconds)[:SLOWEST]
        parts.append("<h3>Slowest submissions</h3>")
        parts.append(_table(["Submission", "Seconds", "Status"],
                            [[r.submission, f"{r.seconds:.1f}", r.status] for r in slow],
                            numeric={1}))
    return "".join(parts) + "</section>"


# --- helpers -----------------------------------------------------------------------------------


def _classify(check) -> tuple[str, str] | None:
    """``(variable, kind)`` for a check that lost points, or None for a right answer."""
    if check.passed or check.stage == "grader error":
        return None
    if check.mistake:
        return check.variable, check.mistake
    if check.stage == "missing":
        return check.variable, "(not answered)"
    if check.stage == "format":
        return check.variable, "(could not be read)"
    if check.stage == "type":
        return check.variable, "(wrong type or placeholder)"
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


def _table(header: list[str], rows: list[list[str]], *, numeric: set[int] = frozenset(),
           nowrap: set[int] = frozenset(), escaped: bool = False) -> str:
    def cell(i: int, v: str) -> str:
        cls = " class='num'" if i in numeric else " class='kind'" if i in nowrap else ""
        return f"<td{cls}>{v if escaped else escape(str(v))}</td>"

    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell(i, v) for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(png: bytes, alt: str) -> str:
    return (f"<figure><img alt='{escape(alt)}' src='data:image/png;base64,"
            f"{base64.b64encode(png).decode()}'></figure>")


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
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
    fig = _figure(2.2 * cols, 1.9 * rows)
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
