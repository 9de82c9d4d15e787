"""Intake: turn what a TA hands us into a list of submissions, one per student upload.

Accepted inputs (any mix, in ``collect``):
  * a notebook (or any file): one submission;
  * a folder: each top-level file is one submission, each top-level sub-folder is one submission
    (its notebook chosen the way Gradescope would, ``choose_notebook``);
  * a Gradescope "Export Submissions" zip, or its unpacked folder: the folder holding
    ``submission_metadata.yml`` (at the top or one level down), one ``submission_<id>/`` folder
    per submission, student names, emails and SIDs from the YAML.

Every submission gets an entry, whether or not it holds a usable notebook: ``Submission.problem``
then says why (the reason of an ``invalid notebook`` status), and the class run still gives it a
row.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import yaml

from autograder.report.history import HISTORY_FOLDER
from autograder.settings.limits import Limits

METADATA_FILE = "submission_metadata.yml"
IDENTITY_FIELDS = ("name", "email", "sid", "submission_id")
MAX_EXTRACT_BYTES = Limits().export_gb << 30
"""an export zip that would unpack to more than this is refused (a zip bomb, not a class)"""


@dataclass(frozen=True)
class Submission:
    """One student upload: where its notebook is (if any) and who submitted it."""

    name: str  # unique and file-system safe: the folder name under OUT
    notebook: Path | None
    problem: str | None = None  # why there is no notebook to run ("no files submitted")
    student: dict = field(default_factory=dict)  # IDENTITY_FIELDS, created_at, submitters
    source: str = ""  # where it came from, for staff

    def content_hash(self) -> str:
        """sha256 of the notebook's bytes, or of the problem when there is no notebook."""
        digest = hashlib.sha256()
        if self.notebook is not None:
            with self.notebook.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
        else:
            digest.update(f"no notebook: {self.problem}".encode())
        return digest.hexdigest()


class IntakeError(ValueError):
    """The input itself cannot be used (a missing path, a broken zip): the run cannot start."""


def collect(paths: Iterable[Path], *, assignment: str, extract_to: Path) -> list[Submission]:
    """All submissions under ``paths``; zips are unpacked under ``extract_to``."""
    found: list[Submission] = []
    for i, path in enumerate(map(Path, paths)):
        if not path.exists():
            raise IntakeError(f"no such submission file or folder: {path}")
        if path.is_file() and zipfile.is_zipfile(path) and path.suffix.lower() == ".zip":
            path = _extract(path, extract_to / f"{i}-{_safe(path.stem)}")
        if path.is_dir():
            export = find_export_root(path)
            found += (_from_export(export, assignment) if export else _from_folder(path, assignment))
        else:
            found.append(_from_file(path))
    return _unique_names(found)


def find_export_root(folder: Path) -> Path | None:
    """The folder holding ``submission_metadata.yml``: ``folder`` itself or one level down."""
    if (folder / METADATA_FILE).is_file():
        return folder
    inside = [p.parent for p in folder.glob(f"*/{METADATA_FILE}") if not _hidden(p.parent.name)]
    return inside[0] if len(inside) == 1 else None


def choose_notebook(folder: Path, assignment: str) -> tuple[Path | None, str | None]:
    """The notebook Gradescope would grade: named like the assignment, else the only one.

    Returns ``(notebook, None)`` or ``(None, reason)``; hidden files and folders (checkpoints,
    ``__MACOSX``) are ignored.
    """
    files = _visible_files(folder)
    notebooks = [p for p in files if p.suffix.lower() == ".ipynb"]
    named = sorted((p for p in notebooks if p.name == assignment),
                   key=lambda p: (len(p.relative_to(folder).parts), str(p)))
    if named:
        return named[0], None
    if len(notebooks) == 1:
        return notebooks[0], None
    if notebooks:
        return None, (f"{len(notebooks)} notebooks and none named {assignment} "
                      f"({_listing(notebooks, folder)})")
    if files:
        return None, f"no .ipynb file in the submission ({_listing(files, folder)})"
    return None, "no files submitted"


def read_metadata(path: Path) -> dict[str, dict]:
    """``submission_metadata.yml`` as ``{folder name: {"submitters": [...], ...}}``.

    Gradescope writes Ruby-symbol keys (``:submitters:``, ``:name:``); the leading colons are
    dropped here.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise IntakeError(f"{path}: not a readable Gradescope metadata file: {exc}") from exc
    if not isinstance(data, dict):
        raise IntakeError(f"{path}: expected a mapping of submission folders, got {type(data).__name__}")
    return {str(k): v for k, v in _strip_colons(data).items() if isinstance(v, dict)}


def identity(folder_name: str, meta: dict) -> dict[str, str]:
    """Student identifiers of one export entry; a group's submitters are joined with '; '."""
    submitters = [s for s in meta.get("submitters") or [] if isinstance(s, dict)]

    def joined(key: str) -> str:
        return "; ".join(str(s.get(key) or "") for s in submitters if s.get(key) is not None)

    match = re.fullmatch(r"submission_(\d+)", folder_name)
    return {"name": joined("name"), "email": joined("email"), "sid": joined("sid"),
            "submission_id": match.group(1) if match else folder_name,
            "created_at": str(meta.get("created_at") or ""),
            "submitters": [{k: str(s.get(k) or "") for k in ("name", "email", "sid")}
                           for s in submitters]}


# ---------------------------------------------------------------------------------------------


def _from_export(root: Path, assignment: str) -> list[Submission]:
    metadata = read_metadata(root / METADATA_FILE)
    folders = {p.name: p for p in root.iterdir() if p.is_dir() and not _hidden(p.name)}
    subs = []
    for key in sorted(set(metadata) | set(folders)):
        folder = folders.get(key)
        if folder is None:
            notebook, problem = None, "no files submitted (folder missing from the export)"
        else:
            notebook, problem = choose_notebook(folder, assignment)
        subs.append(Submission(_safe(key), notebook, problem, identity(key, metadata.get(key, {})),
                               str(folder or root / key)))
    return subs


def _from_folder(folder: Path, assignment: str) -> list[Submission]:
    subs = []
    for entry in sorted(folder.iterdir()):
        if _hidden(entry.name):
            continue
        if entry.is_dir():
            notebook, problem = choose_notebook(entry, assignment)
            subs.append(Submission(_safe(entry.name), notebook, problem, {}, str(entry)))
        elif entry.is_file():
            subs.append(_from_file(entry))
    return subs


def _from_file(path: Path) -> Submission:
    # Not a notebook by name: still graded (execute reports it as an invalid notebook).
    return Submission(_safe(path.stem), path, None, {}, str(path))


def _unique_names(subs: list[Submission]) -> list[Submission]:
    """Names clash when two inputs hold the same stem: prefix the parent folder, then number.
    A name the output folder uses itself (``history/``) is numbered too."""
    seen: set[str] = {HISTORY_FOLDER}
    counts: dict[str, int] = {}
    for s in subs:
        counts[s.name] = counts.get(s.name, 0) + 1
    unique = []
    for s in subs:
        name = s.name
        if counts[name] > 1:
            name = _safe(f"{Path(s.source).parent.name}-{name}")
        base, n = name, 2
        while name in seen:
            name, n = f"{base}-{n}", n + 1
        seen.add(name)
        unique.append(Submission(name, s.notebook, s.problem, s.student, s.source))
    return unique


def _extract(archive: Path, target: Path) -> Path:
    """Unpack a zip under ``target``, refusing members that would land outside it."""
    try:
        with zipfile.ZipFile(archive) as z:
            members = [m for m in z.infolist() if not m.is_dir()]
            if sum(m.file_size for m in members) > MAX_EXTRACT_BYTES:
                raise IntakeError(f"{archive}: unpacks to more than {MAX_EXTRACT_BYTES >> 30} GiB")
            root = target.resolve()
            for m in members:
                dest = (target / m.filename).resolve()
                if root not in dest.parents:
                    raise IntakeError(f"{archive}: member {m.filename!r} points outside the archive")
                if (m.external_attr >> 16) & 0o170000 == 0o120000:  # a symlink: skip it
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                with z.open(m) as src, dest.open("wb") as dst:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        dst.write(block)
    except zipfile.BadZipFile as exc:
        raise IntakeError(f"{archive}: not a readable zip file: {exc}") from exc
    return target


def _strip_colons(value):
    if isinstance(value, dict):
        return {str(k).lstrip(":"): _strip_colons(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_colons(v) for v in value]
    return value


def _visible_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and not any(_hidden(part) for part in p.relative_to(folder).parts))


def _hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def _listing(files: list[Path], folder: Path, shown: int = 5) -> str:
    names = [str(p.relative_to(folder)) for p in files]
    more = f", and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".") or "submission"
