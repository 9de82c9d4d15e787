"""Autograder for EECS 182 Discussion 5, "Principles of CNN".

Grading is four phases, each a folder: ``execution/`` (run the submission in a limited process)
-> ``answers/`` (its answers as plain data, parsed safely) -> ``checks/`` (one verdict per answer
variable, Q1's and Q2's) -> ``report/`` (results.json, CSVs, feedback, the class report).
``worksheet/`` holds the worksheet as data, ``settings/`` every limit and knob, ``q1/`` Q1's
data and probe, ``grading/`` drives the phases for one submission and a class, ``student/`` is
what students run; ``cli`` is a thin layer over it. Map: docs/maintainers.md.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).parent
"""this package's folder"""


def source_files(package_dir: Path = PACKAGE_DIR) -> dict[str, Path]:
    """The package's modules by their path in it (``checks/cas.py``), sorted: what the grader's
    fingerprints hash (``fingerprint.py``) and the Gradescope zip carries."""
    return {p.relative_to(package_dir).as_posix(): p for p in sorted(package_dir.rglob("*.py"))
            if not {"__pycache__", "dist"} & set(p.relative_to(package_dir).parts)}
