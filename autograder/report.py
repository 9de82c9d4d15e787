"""Write what a grading run produced: per-submission results.json and feedback.md, grades.csv."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from .results import SubmissionResult, status_message, to_gradescope


def write_json(path: Path, data: dict) -> None:
    """Write JSON atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    os.replace(tmp, path)


def feedback_markdown(result: SubmissionResult) -> str:
    """The feedback a student sees, as a Markdown file a TA can send."""
    lines = [f"# Feedback: {result.submission}", "",
             f"**Score: {result.score:g} / {result.max_score:g}**", "",
             status_message(result.status), ""]
    for q in result.questions:
        lines += [f"## {q.question}: {q.title} ({q.score:g}/{q.max_score:g})", "",
                  *(f"- {line}" for line in q.feedback().splitlines()), ""]
    return "\n".join(lines)


def write_submission(out: Path, result: SubmissionResult) -> Path:
    """Write ``out/<submission>/results.json`` and ``feedback.md``; return the folder."""
    folder = out / result.submission
    write_json(folder / "results.json", to_gradescope(result))
    (folder / "feedback.md").write_text(feedback_markdown(result), encoding="utf-8")
    return folder


def csv_columns(question_ids: list[str]) -> list[str]:
    return ["submission", "total", "max_total", *question_ids, "status"]


def csv_row(result: SubmissionResult) -> dict:
    return {"submission": result.submission, "total": f"{result.score:g}",
            "max_total": f"{result.max_score:g}", "status": result.status,
            **{q.question: f"{q.score:g}" for q in result.questions}}


def write_grades_csv(path: Path, results: list[SubmissionResult], question_ids: list[str]) -> None:
    """One row per submission, in submission order."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=csv_columns(question_ids), extrasaction="ignore")
        writer.writeheader()
        for r in sorted(results, key=lambda r: r.submission):
            writer.writerow(csv_row(r))
