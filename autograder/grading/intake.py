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
import itertools
import json
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import yaml

from autograder.report.history import HISTORY_FOLDER
from autograder.settings.intake import Intake
from autograder.settings.limits import Limits

METADATA_FILE = "submission_metadata.yml"
IDENTITY_FIELDS = ("name", "email", "sid", "submission_id")
TAKEN_FOLDER = "taken"
"""under ``extract_to``: the private copy of every notebook intake accepted, the only file read
later (hashing, running, checking), so what is graded is what intake checked"""


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


def collect(paths: Iterable[Path], *, assignment: str, extract_to: Path,
            limits: Intake = Intake()) -> list[Submission]:
    """All submissions under ``paths``; zips are unpacked under ``extract_to``.

    A file intake will not read (a link, a FIFO, a refused archive member, a notebook too large)
    is a submission whose ``problem`` starts with ``refused:``; every accepted notebook is copied
    into ``extract_to`` first (``_take``), never followed through a link.
    """
    extract_to.mkdir(parents=True, exist_ok=True)
    taker = _Taker(extract_to / TAKEN_FOLDER, limits)
    found: list[Submission] = []
    for i, path in enumerate(map(Path, paths)):
        if not path.exists():
            raise IntakeError(f"no such submission file or folder: {path}")
        refused: list[Submission] = []
        if path.is_file() and zipfile.is_zipfile(path) and path.suffix.lower() == ".zip":
            path, refused = _extract(path, extract_to / f"{i}-{_safe(path.stem)}", limits)
        if path.is_dir():
            export = find_export_root(path)
            found += _with_refused(_from_export(export, assignment, taker) if export
                                   else _from_folder(path, assignment, taker), refused)
        else:
            found.append(taker.submission(_safe(path.stem), path, {}, str(path)))
    return _unique_names(found)


def _with_refused(subs: list[Submission], refused: list[Submission]) -> list[Submission]:
    """A refused member inside a submission with no notebook is why it has none; any other
    refused member is a row of its own."""
    subs, rest = list(subs), []
    for r in refused:
        member = Path(r.source.split("\0", 1)[1])
        at = next((i for i, s in enumerate(subs) if s.notebook is None
                   and Path(s.source) in member.parents), None)
        if at is None:
            rest.append(Submission(r.name, None, r.problem, {}, r.source.replace("\0", ":")))
        else:
            s = subs[at]
            subs[at] = Submission(s.name, None, r.problem, s.student, s.source)
    return subs + rest


def find_export_root(folder: Path) -> Path | None:
    """The folder holding ``submission_metadata.yml``: ``folder`` itself or one level down."""
    if (folder / METADATA_FILE).is_file() and not (folder / METADATA_FILE).is_symlink():
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
    # A link named like a notebook is still chosen, so that its row says it was refused.
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


def _from_export(root: Path, assignment: str, taker: _Taker) -> list[Submission]:
    metadata = read_metadata(root / METADATA_FILE)
    entries = {p.name: p for p in root.iterdir() if not _hidden(p.name) and p.name != METADATA_FILE}
    subs = []
    for key in sorted(set(metadata) | set(entries)):
        entry = entries.get(key)
        who = identity(key, metadata.get(key, {}))
        if entry is None:
            subs.append(Submission(_safe(key), None, "no files submitted (folder missing from "
                                   "the export)", who, str(root / key)))
        else:
            subs.append(taker.entry(_safe(key), entry, assignment, who))
    return subs


def _from_folder(folder: Path, assignment: str, taker: _Taker) -> list[Submission]:
    stem = lambda p: p.name if p.is_dir() and not p.is_symlink() else p.stem  # noqa: E731
    return [taker.entry(_safe(stem(entry)), entry, assignment, {})
            for entry in sorted(folder.iterdir()) if not _hidden(entry.name)]


class _Taker:
    """Copies each accepted notebook once into a private folder; refuses what it will not read."""

    def __init__(self, folder: Path, limits: Intake) -> None:
        self.folder, self.limits, self.count = folder, limits, itertools.count()

    def entry(self, name: str, entry: Path, assignment: str, who: dict) -> Submission:
        """One top-level entry: a folder (its notebook chosen) or a file."""
        mode = os.lstat(entry).st_mode
        if stat.S_ISDIR(mode):
            notebook, problem = choose_notebook(entry, assignment)
            if notebook is None:
                return Submission(name, None, problem, who, str(entry))
            return self.submission(name, notebook, who, str(entry))
        return self.submission(name, entry, who, str(entry))

    def submission(self, name: str, path: Path, who: dict, source: str) -> Submission:
        copy, problem = self.take(path)
        return Submission(name, copy, problem, who, source)

    def take(self, path: Path) -> tuple[Path | None, str | None]:
        """``(private copy, None)`` or ``(None, why)``: never follows a link, reads once."""
        max_mb = Limits().notebook_mb
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as exc:
            if os.path.islink(path):
                return None, "refused: symbolic link"
            return None, f"refused: cannot be read ({exc.strerror})"
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                return None, "refused: not a regular file"
            if info.st_nlink > 1:
                return None, "refused: hard link"
            data = f.read((max_mb << 20) + 1)
        if len(data) > max_mb << 20:
            return None, f"refused: larger than {max_mb} MB"
        problem = _unreadable(data)  # any name: a file not named .ipynb is still run
        if problem:
            return None, problem
        copy = self.folder / str(next(self.count)) / _safe(path.name)
        copy.parent.mkdir(parents=True)
        copy.write_bytes(data)
        return copy, None


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
"""a JSON escape in the surrogate range (\\ud800-\\udfff): only then is the text parsed to see
whether it pairs up (parsing every notebook of a class took seconds)"""


def _unreadable(data: bytes) -> str | None:
    """Why a notebook's bytes cannot be text every later step can encode, or None."""
    if not data:
        return "invalid notebook: empty file"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"invalid notebook: not UTF-8 text (byte {exc.start})"
    if _SURROGATE_ESCAPE.search(data) is None:  # valid UTF-8 holds no surrogate but as \uD8xx
        return None
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None  # execution reports a notebook that is not JSON, as before
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return "invalid notebook: holds a lone surrogate (\\ud800-\\udfff), not Unicode text"
    except (ValueError, RecursionError):
        return "invalid notebook: nested too deep"
    return None


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


def _extract(archive: Path, target: Path, limits: Intake) -> tuple[Path, list[Submission]]:
    """Unpack a zip under ``target``; a member it will not write becomes a refused row.

    Sizes are counted as bytes are written (headers may lie); a member past ``member_mb``,
    past ``unpacked_mb`` in all, deeper than ``depth``, past ``files``, not a plain relative
    path (``../x``, ``/x``, ``C:``, a backslash), a link or a repeated name is refused alone.
    """
    refused: list[Submission] = []
    target.mkdir(parents=True, exist_ok=True)
    total, written, budget = 0, set(), limits.unpacked_mb << 20
    try:
        with zipfile.ZipFile(archive) as z:
            for m in z.infolist():
                if m.is_dir():
                    continue
                why = _member_problem(m, written, limits)
                if why is None and total > budget:
                    why = f"refused: unpacks past {limits.unpacked_mb} MB"
                if why is None:
                    member_cap = limits.member_mb << 20
                    allowed = min(member_cap, budget - total)
                    try:
                        total += _write_member(z, m, target, allowed)
                        written.add(m.filename)
                    except _TooLarge:
                        if allowed < member_cap:
                            total = budget + 1  # the archive's budget is spent
                        why = (f"refused: unpacks past "
                               f"{limits.member_mb if allowed == member_cap else limits.unpacked_mb} MB")
                    except (zipfile.BadZipFile, OSError, EOFError, ValueError,
                            NotImplementedError) as exc:
                        why = f"refused: unreadable archive member ({exc})"
                if why:
                    refused.append(Submission(_safe(f"{archive.stem}-{m.filename}"), None, why,
                                              {}, f"{archive}\0{target / m.filename}"))
    except zipfile.BadZipFile as exc:
        raise IntakeError(f"{archive}: not a readable zip file: {exc}") from exc
    return target, refused


class _TooLarge(Exception):
    """A member wrote more bytes than it was allowed."""


def _member_problem(m: zipfile.ZipInfo, written: set[str], limits: Intake) -> str | None:
    name = m.filename
    parts = name.split("/")
    if (name.startswith("/") or "\\" in name or ":" in parts[0] or "\0" in name
            or any(p in ("", ".", "..") for p in parts)):
        return f"refused: member {name!r} is not a plain path inside the archive"
    if (m.external_attr >> 16) & 0o170000 == 0o120000:
        return "refused: symbolic link"
    if len(parts) > limits.depth:
        return f"refused: deeper than {limits.depth} folders"
    if name in written or name.lower() in {w.lower() for w in written}:
        return f"refused: member {name!r} appears twice"
    if len(written) >= limits.files:
        return f"refused: more than {limits.files} files"
    return None


def _write_member(z: zipfile.ZipFile, m: zipfile.ZipInfo, target: Path, allowed: int) -> int:
    """Bytes written for one member, counted as they are written; past ``allowed``: none."""
    dest = target.joinpath(*m.filename.split("/"))
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    size = 0
    try:
        with z.open(m) as src, os.fdopen(fd, "wb") as dst:
            for block in iter(lambda: src.read(1 << 20), b""):
                size += len(block)
                if size > allowed:
                    raise _TooLarge
                dst.write(block)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return size


def _strip_colons(value):
    if isinstance(value, dict):
        return {str(k).lstrip(":"): _strip_colons(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_colons(v) for v in value]
    return value


def _visible_files(folder: Path) -> list[Path]:
    """Every non-folder entry (links, FIFOs too, so they get a row), never through a link."""
    found = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not _hidden(d) and not os.path.islink(os.path.join(top, d))]
        found += [Path(top, f) for f in files if not _hidden(f)]
    return sorted(found)


def _hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def _listing(files: list[Path], folder: Path, shown: int = 5) -> str:
    names = [str(p.relative_to(folder)) for p in files]
    more = f", and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".") or "submission"
