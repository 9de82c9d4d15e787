"""Reporting: write what a grading run produced (per-submission results.json, feedback.md and
records; grades.csv and gradebook.csv for the class). The typed result model is ``results.py``;
the class report ``html.py``; the after-grading files ``answer_groups.py``, ``review.py`` and
``regrade_diff.py``."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

from autograder.report.gradescope import to_gradescope
from autograder.report.results import SubmissionResult, result_from_dict, summary_message


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """``text`` as valid UTF-8 can hold it: a lone surrogate (``\\ud800``, which a notebook's
    JSON may carry and no UTF-8 file can) becomes U+FFFD, the replacement character."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text atomically (a reader never sees half a file), whatever ``text`` holds
    (lone surrogates are replaced, ``valid_text``). A file that already holds exactly these
    bytes is left as it is: reading it is far cheaper than replacing it, and a regrade leaves
    most of a class's files unchanged."""
    data = valid_text(text).encode("utf-8")
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return
    except OSError:  # not there yet (or unreadable): written below
        pass
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
    except FileNotFoundError:  # its folder is new (asking first costs a call per file)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
    os.replace(tmp, path)


def write_json(path: Path, data: dict, *, indent: int | None = 2) -> None:
    """Write JSON atomically; ``indent=None`` is compact and several times faster
    (machine-read records). Always valid UTF-8: text with lone surrogates is replaced."""
    write_text(path, json.dumps(data, indent=indent, ensure_ascii=False))


def feedback_markdown(result: SubmissionResult) -> str:
    """The feedback a student sees, as a Markdown file a TA can send."""
    lines = [f"# Feedback: {result.submission}", "",
             f"**Score: {result.score:g} / {result.max_score:g}**", "",
             summary_message(result), ""]
    for q in result.questions:
        lines += [f"## {q.question}: {q.title} ({q.score:g}/{q.max_score:g})", "",
                  *(f"- {line}" for line in q.feedback().splitlines()), ""]
    return "\n".join(lines)


def write_submission(out: Path, result: SubmissionResult) -> Path:
    """Write ``out/<submission>/results.json`` and ``feedback.md``; return the folder."""
    folder = out / result.submission
    write_json(folder / "results.json", to_gradescope(result))
    write_text(folder / "feedback.md", feedback_markdown(result))
    return folder


def csv_columns(question_ids: list[str]) -> list[str]:
    """The grades.csv header: the scores, then the student identifiers (empty outside exports)."""
    return ["submission", "total", "max_total", *question_ids, "status", *IDENTITY_COLUMNS]


def csv_row(result: SubmissionResult) -> dict:
    return {"submission": result.submission, "total": f"{result.score:g}",
            "max_total": f"{result.max_score:g}", "status": result.status_text,
            **{q.question: f"{q.score:g}" for q in result.questions}}


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?")


def csv_cell(value) -> str:
    """One cell as a spreadsheet shows it, never runs it: text starting with ``= + - @``, a tab
    or a carriage return (a formula to Excel, LibreOffice and Google Sheets) gets a leading
    single quote, as OWASP's CSV-injection advice says; a plain number (``-0.5``) stays a
    number. Lone surrogates are replaced (``valid_text``)."""
    text = valid_text("" if value is None else str(value))
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def write_csv(path: Path, columns, rows, *, extra: str = "raise") -> Path:
    """One CSV file (UTF-8, a header row); ``rows`` are dicts keyed by ``columns``
    (``extra="ignore"`` drops other keys). Every cell goes through ``csv_cell``: no CSV the
    grader writes carries a formula."""
    columns = list(columns)
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction=extra)
    writer.writeheader()
    for row in rows:
        if extra == "raise" and (unknown := set(row) - set(columns)):
            raise ValueError(f"dict contains fields not in fieldnames: {sorted(unknown)}")
        writer.writerow({k: csv_cell(row.get(k, "")) for k in columns})
    write_text(path, buffer.getvalue())  # replaced whole: the history's hard links stay intact
    return path


def write_grades_csv(path: Path, results: list[SubmissionResult], question_ids: list[str], *,
                     students: dict[str, dict] | None = None) -> None:
    """One row per submission, in submission order; ``students`` maps a submission to its
    identifiers (``IDENTITY_COLUMNS``)."""
    students = students or {}
    rows = ({**{k: (students.get(r.submission) or {}).get(k, "") for k in IDENTITY_COLUMNS},
             **csv_row(r)} for r in sorted(results, key=lambda r: r.submission))
    write_csv(path, csv_columns(question_ids), rows, extra="ignore")


# --- Class runs: a machine-readable record per submission, identities, the gradebook ---------

RECORD_FILE = "checks.json"
RECORD_FORMAT = 1
IDENTITY_COLUMNS = ("name", "email", "sid", "submission_id")
GRADEBOOK_COLUMNS = ("Name", "SID", "Email", "Total Score")


def write_record(folder: Path, result: SubmissionResult, *, key: str, student: dict | None = None,
                 source: str = "", graded_at: str = "", files: str = "") -> Path:
    """``<folder>/checks.json``: the whole result (every check, its stage and mistake id, the
    answers as plain data), the student's identifiers and the cache key; ``files``, the
    ``fingerprint.Scope.FILES`` of the code that wrote results.json and feedback.md. Written
    last, atomically: its presence with a matching key means the submission's outputs are
    complete."""
    data = _plain_result(result)
    data["log"] = data["log"][-20_000:]
    path = folder / RECORD_FILE
    write_json(path, {"format": RECORD_FORMAT, "key": key, "graded_at": graded_at,
                      "files": files, "source": source, "student": student or {},
                      "result": data}, indent=None)
    return path


def _plain_result(result: SubmissionResult) -> dict:
    """``result.to_dict()`` without its deep copies (the details are JSON data already): the
    same dictionary, several times faster for a class."""
    return {"submission": result.submission, "status": result.status_text,
            "questions": [{"question": q.question, "title": q.title,
                           "checks": [dict(vars(c)) for c in q.checks]}
                          for q in result.questions],
            "seconds": result.seconds, "log": result.log, "details": dict(result.details)}


def read_record(path: Path) -> dict | None:
    """A record written by ``write_record`` with its ``result`` rebuilt, or None if unreadable."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != RECORD_FORMAT:
            return None
        data["result"] = result_from_dict(data["result"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return data


def read_records(out: Path) -> list[dict]:
    """Every readable record under ``out`` (one per submission folder), by submission name."""
    records = [r for r in map(read_record, sorted(Path(out).glob(f"*/{RECORD_FILE}"))) if r]
    return sorted(records, key=lambda r: r["result"].submission)


def write_class_csvs(out: Path, records: list[dict], question_ids: list[str]) -> None:
    """``grades.csv`` (every submission, with identifiers) and ``gradebook.csv`` (one row per
    identified student, Gradescope's Name,SID,Email,Total Score)."""
    results = [r["result"] for r in records]
    students = {r["result"].submission: r.get("student") or {} for r in records}
    write_grades_csv(out / "grades.csv", results, question_ids, students=students)
    write_gradebook_csv(out / "gradebook.csv", records)


def write_gradebook_csv(path: Path, records: list[dict]) -> int:
    """One row per submitter with an email or SID (a group submission gives each member the
    group's score); returns the number of rows. Submissions without identifiers are left out:
    a gradebook cannot match them to a student."""
    rows = []
    for record in records:
        student = record.get("student") or {}
        for s in student.get("submitters") or []:
            if s.get("email") or s.get("sid"):
                rows.append({"Name": s.get("name", ""), "SID": s.get("sid", ""),
                             "Email": s.get("email", ""),
                             "Total Score": f"{record['result'].score:g}"})
    write_csv(path, GRADEBOOK_COLUMNS, sorted(rows, key=lambda r: (r["Name"].lower(), r["Email"])))
    return len(rows)
