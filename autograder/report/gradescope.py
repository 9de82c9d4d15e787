"""Gradescope's results.json, written from the result model: one test per question with its
feedback as Markdown (``markdown.py``), and a hidden staff log."""

from __future__ import annotations

from autograder.report import markdown
from autograder.report.results import QuestionResult, SubmissionResult, summary_message


def _num(x: float) -> str:
    return f"{x:g}"


def question_markdown(q: QuestionResult) -> str:
    """A question's feedback for Gradescope (Markdown): one paragraph per answer variable."""
    parts = []
    for c in q.checks:
        if c.hidden:
            parts.append(f"{markdown.code_span(c.variable)}: graded after the deadline.")
            continue
        mark = "✔" if c.passed else ("◐" if c.score > 0 else "✘")
        parts.append(f"{mark} {markdown.code_span(c.variable)} ({_num(c.score)}/{_num(c.max_score)}): "
                     f"{markdown.check(c)}")
    return "\n\n".join(parts)


def gradescope_name(q: QuestionResult) -> str:
    """The descriptive name Gradescope shows: ``Q2a: Output of a valid ... convolution``."""
    return f"{q.question[:1].upper()}{q.question[1:]}: {q.title}"


def gradescope_number(q: QuestionResult) -> str:
    """Gradescope's test number: the worksheet's question and part (``q2a`` -> ``2.a``)."""
    return f"{q.question[1:-1]}.{q.question[-1]}" if len(q.question) > 2 else q.question


def _variant(result: SubmissionResult) -> dict:
    """The Q2 numbers graded (per-student variants), when variants are on."""
    who = result.details.get("identity")
    return {"variant": who["variant"], "graded_as": who["email"]} if who else {}


def to_gradescope(result: SubmissionResult) -> dict:
    """Gradescope's results.json: one test per question (Markdown output), plus a hidden staff
    log (plain text)."""
    tests = [
        {
            "name": gradescope_name(q),
            "number": gradescope_number(q),
            "score": q.score,
            "max_score": q.max_score,
            "status": "passed" if q.score >= q.max_score else "failed",
            "output": question_markdown(q),
            "output_format": "md",
            "visibility": "visible",
        }
        for q in result.questions
    ]
    tests.append({
        "name": "Staff log",
        "number": "0",
        "score": 0,
        "max_score": 0,
        "status": "passed",
        "output": (f"status: {result.status_text}\nseconds: {result.seconds:.1f}\n"
                   f"{result.log}")[-20_000:],
        "output_format": "text",
        "visibility": "hidden",
    })
    return {
        "score": result.score,
        "execution_time": round(result.seconds, 3),
        "output": markdown.inline(summary_message(result)),
        "output_format": "md",
        "test_output_format": "md",
        "tests": tests,
        "extra_data": {
            "status": result.status_text,
            "seconds": round(result.seconds, 3),
            # what decided each verdict (exact, cas, enumeration, catalogue, format, missing, ...)
            "checks": {c.variable: {"score": c.score, "stage": c.stage, "mistake": c.mistake}
                       for q in result.questions for c in q.checks},
            **_variant(result),
        },
    }
