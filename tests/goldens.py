"""`make goldens`: rewrite the golden files after an intended change (then review the diff)."""

from __future__ import annotations

import pprint
import tempfile
from pathlib import Path

from autograder import settings, worksheet
from autograder.student import package
from autograder.worksheet import mistakes

ROOT = Path(__file__).resolve().parent.parent
ZIP_LISTING = ROOT / "tests" / "golden" / "zip_listing.txt"
WORKSHEET_LISTING = ROOT / "tests" / "golden" / "worksheet_listing.txt"
LISTING_HEADER = ("# Written by `make goldens`: the worksheet's Q2 questions, catalogue and symbols with its\n"
                  "# own numbers (repr). Review the diff after changing a question or a mistake.\n")


def build_listing() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        paths = package.assign(master=ROOT / "solutions/master/dis05.ipynb", root=ROOT, dest=Path(tmp))
        return "\n".join(package.zip_listing(paths["zip"])) + "\n"


def worksheet_listing() -> str:
    """Q2's questions, the catalogue and the symbols of the worksheet's own numbers, written out:
    a change to any of them shows in this golden's diff."""
    v = worksheet.DEFAULT
    return (LISTING_HEADER + pprint.pformat(worksheet.q2_questions(v), width=100) + "\n"
            + pprint.pformat(mistakes.catalogue(v), width=100) + "\n"
            + pprint.pformat(worksheet.q2_symbols(v)) + "\n")


def refresh_generated_docs() -> None:
    """Rewrite the sections of README.md and docs/ generated from the settings tree."""
    for name, render in settings.GENERATED.items():
        path = ROOT / name
        path.write_text(settings.refreshed(path.read_text(), render))
        print(f"wrote {path}")


if __name__ == "__main__":
    ZIP_LISTING.write_text(build_listing())
    print(f"wrote {ZIP_LISTING}")
    WORKSHEET_LISTING.write_text(worksheet_listing())
    print(f"wrote {WORKSHEET_LISTING}")
    refresh_generated_docs()
