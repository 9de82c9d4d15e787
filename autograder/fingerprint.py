"""The grader's identity: one hash function, and the partition of its modules by what a change
to them invalidates, declared once.

- ``Scope.RUN``: what running a notebook produces (the execution cache's key). Every module
  except ``PRESENTATION`` and ``CHECKING``.
- ``Scope.GRADE``: what decides a grade (a class run's resume key). Every module except
  ``PRESENTATION``.
- ``Scope.FILES``: how a submission's ``results.json`` and ``feedback.md`` are written from its
  result (``FILES``): a regrade that leaves a result as it was, under the same ``FILES``
  fingerprint, leaves those two files as they were and does not write them again.
- ``Scope.WORKER``: the whole grader a Dask worker runs: every module, Python's version and the
  pinned libraries' (``PINNED``); two machines with the same worker fingerprint grade alike.

The caller adds what else decides the scope's output (limits, questions, overrides, Q1's
budget) as ``parts``.
"""

from __future__ import annotations

import hashlib
import sys
from enum import Enum
from importlib import metadata

from autograder import source_files

PRESENTATION = frozenset({
    "__main__.py", "cli.py", "report/progress.py", "report/html.py",
    "report/review_page.py", "student/package.py",
    "grading/dask_engine.py", "grading/remote.py", "grading/snapshot.py",
})
"""modules that only show results or drive a run: editing them regrades nothing"""

CHECKING = frozenset({
    "fingerprint.py", "report/__init__.py", "report/results.py", "report/gradescope.py",
    "report/markdown.py", "worksheet/mistakes.py", "answers/parse.py", "worksheet/__init__.py",
    "report/answer_groups.py", "report/regrade_diff.py",
    "report/review.py", "grading/classroom.py", "grading/intake.py", "execution/cache.py",
})
CHECKING_FOLDERS = ("checks/",)
"""modules (and folders) that check and report but do not run notebooks: editing them re-checks
every submission and keeps cached executions"""

FILES = frozenset({
    "fingerprint.py", "report/__init__.py", "report/results.py", "report/gradescope.py",
    "report/markdown.py",
})
"""modules that turn a submission's result into its results.json and feedback.md"""

PINNED = ("numpy", "sympy", "torch")
"""libraries whose version can change a verdict; Dask workers must match the TA's machine"""


class Scope(Enum):
    RUN = "run"
    GRADE = "grade"
    FILES = "files"
    WORKER = "worker"


def modules(scope: Scope) -> dict[str, str]:
    """The package's modules (by path in it) that are part of ``scope``'s fingerprint."""
    def included(name: str) -> bool:
        if scope is Scope.WORKER:
            return True
        if scope is Scope.FILES:
            return name in FILES
        if name in PRESENTATION:
            return False
        return scope is Scope.GRADE or not (name in CHECKING or name.startswith(CHECKING_FOLDERS))

    return {name: path for name, path in source_files().items() if included(name)}


def fingerprint(scope: Scope, *parts: object) -> str:
    """A hash of the grader's modules in ``scope``, and ``parts`` (their ``repr``; bytes as
    they are). ``Scope.RUN`` and ``Scope.WORKER`` include Python's version, ``WORKER`` the pinned
    libraries' versions."""
    digest = hashlib.sha256(f"{scope.value}\0".encode())
    if scope not in (Scope.GRADE, Scope.FILES):
        digest.update(f"{sys.version_info[:3]}\0".encode())
    for name, path in modules(scope).items():
        digest.update(name.encode() + b"\0" + path.read_bytes())
    if scope is Scope.WORKER:
        for name in PINNED:
            try:
                digest.update(f"{name}=={metadata.version(name)}".encode())
            except metadata.PackageNotFoundError:
                digest.update(f"{name} missing".encode())
    for part in parts:
        digest.update(b"\0" + (part if isinstance(part, bytes) else repr(part).encode()))
    return digest.hexdigest()
