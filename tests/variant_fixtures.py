"""Generated classes for the per-student variant tests: notebooks that answer Q2 with one
variant's right answers, and Gradescope exports of them."""

from __future__ import annotations

import json
from pathlib import Path

from autograder.checks import kinds
from autograder.worksheet import variants
from autograder.worksheet.variants import Variant

SALT = "test-salt"


def right_answers(v: Variant) -> dict[str, object]:
    """Each Q2 variable's right answer for variant ``v``, as a student could write it."""
    return {var.name: kinds.kind_of(var).example(var)
            for q in variants.sheet(v).questions if q.id.startswith("q2")
            for var in q.variables if kinds.checked_by_reading(var)}


def notebook(path: Path, answers: dict[str, object], email: str | None = None,
             record: dict | None = None) -> Path:
    """A notebook that assigns ``answers`` (and ``STUDENT_EMAIL`` when given), with the
    assignment ``record`` in its metadata when given (``grading/assignment.py``)."""
    cells = []
    if email is not None:
        cells.append(f'STUDENT_EMAIL = "{email}"  # your Gradescope email')
    cells += [f"{name} = {json.dumps(value)}" for name, value in answers.items()]
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                     "source": source} for source in cells],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                      "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    if record is not None:
        nb["metadata"]["dis05"] = record
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb))
    return path


def export(root: Path, entries: list[tuple[list[str], dict[str, object], str | None]],
           records: list[dict | None] | None = None) -> Path:
    """A Gradescope export: one ``submission_<id>`` per entry (submitters' emails, answers, the
    notebook's STUDENT_EMAIL; ``records``: each notebook's assignment record), with its
    ``submission_metadata.yml``."""
    lines = []
    records = records or [None] * len(entries)
    for number, ((emails, answers, written), record) in enumerate(zip(entries, records), 1001):
        folder = f"submission_{number}"
        notebook(root / folder / "dis05.ipynb", answers, written, record)
        lines.append(f"{folder}:\n  :submitters:")
        lines += [f"  - :name: Student {e.split('@')[0]}\n    :sid: '{number}'\n    :email: {e}"
                  for e in emails]
    (root / "submission_metadata.yml").write_text("\n".join(lines) + "\n")
    return root
