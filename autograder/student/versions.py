"""The versions the autograder grades with, and the note a student sees when theirs differ.

``grader.check`` runs in the student's own Python (Colab, DataHub, a laptop), whose sympy, numpy
and Python may differ from the grader's pins. The checks are written to agree across the versions
tried (``scripts/version_matrix.py``); the note says which verdict counts when they might not.
``GRADER`` must match requirements.txt and the master notebook's ``python_version`` (a test
checks it).
"""

from __future__ import annotations

import sys
from importlib import metadata

#: What the autograder runs with, to major.minor (requirements.txt; otter's conda env on Gradescope).
GRADER = {"Python": "3.11", "sympy": "1.14", "numpy": "2.4"}


def major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def installed() -> dict[str, str]:
    """This interpreter's versions of what ``GRADER`` lists (major.minor; "missing" if absent)."""
    found = {"Python": f"{sys.version_info.major}.{sys.version_info.minor}"}
    for name in ("sympy", "numpy"):
        try:
            found[name] = major_minor(metadata.version(name))
        except metadata.PackageNotFoundError:
            found[name] = "missing"
    return found


def skew_note(here: dict[str, str] | None = None) -> str | None:
    """One sentence when this environment differs from the grader's, else None."""
    here = installed() if here is None else here
    differ = [f"{name} {here[name]}" for name in GRADER if here.get(name) != GRADER[name]]
    if not differ:
        return None
    grader = ", ".join(f"{name} {version}" for name, version in GRADER.items())
    return (f"Note: this notebook runs {', '.join(differ)} while the autograder runs {grader}; "
            f"the checks here should agree, but the verdict on Gradescope is the one that counts.")
