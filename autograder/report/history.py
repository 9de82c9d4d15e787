"""The regrade history: copies of what a class run replaces in OUT, in ``OUT/history/<time>/``,
made before the first write (a TA can always see the grades a regrade changed)."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

from autograder.report.regrade_diff import CHANGES_FILE

HISTORY_FOLDER = "history"


class History:
    """Copies of what a run replaces, in ``OUT/history/<time>/``, made before the first write."""

    KEPT = ("grades.csv", "gradebook.csv", "report.html", CHANGES_FILE)
    SUBMISSION_FILES = ("results.json", "feedback.md", "checks.json")

    def __init__(self, out: Path):
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        self.out = Path(out)
        self.folder = self.out / HISTORY_FOLDER / stamp
        self._started = False

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        for name in self.KEPT:
            if (self.out / name).is_file():
                self.folder.mkdir(parents=True, exist_ok=True)
                _keep(self.out / name, self.folder / name)

    def keep(self, submission: str) -> None:
        """Copy a submission's outputs (and, once, the class files) before they are replaced."""
        self._start()
        for name in self.SUBMISSION_FILES:
            src = self.out / submission / name
            if src.is_file():
                (self.folder / submission).mkdir(parents=True, exist_ok=True)
                _keep(src, self.folder / submission / name)

    def keep_class_files(self) -> None:
        self._start()


def _keep(src: Path, dst: Path) -> None:
    """``dst`` holds ``src``'s bytes: a hard link when the file system allows one (the grader
    replaces its outputs by ``os.replace``, never in place, so the kept file never changes and
    no bytes are copied), else a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
