"""`make goldens`: rewrite the golden files after an intended change (then review the diff)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from autograder import settings
from autograder.student import package

ROOT = Path(__file__).resolve().parent.parent
ZIP_LISTING = ROOT / "tests" / "golden" / "zip_listing.txt"


def build_listing() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        paths = package.assign(master=ROOT / "solutions/master/dis05.ipynb", root=ROOT, dest=Path(tmp))
        return "\n".join(package.zip_listing(paths["zip"])) + "\n"


def refresh_generated_docs() -> None:
    """Rewrite the sections of README.md and docs/ generated from the settings tree."""
    for name, render in settings.GENERATED.items():
        path = ROOT / name
        path.write_text(settings.refreshed(path.read_text(), render))
        print(f"wrote {path}")


if __name__ == "__main__":
    ZIP_LISTING.write_text(build_listing())
    print(f"wrote {ZIP_LISTING}")
    refresh_generated_docs()
