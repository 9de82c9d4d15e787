"""A class run's outcome kept for the next run: when the class's files, the grader, its settings
and OUT are all as the last run left them, a rerun would reuse every result and write the same
files, so it takes that outcome from here instead of reading every notebook and record and
grouping every answer again (a 2,000-student rerun: 1.2 s instead of 3.6 s, on 2 cores).

What "as the last run left them" means, conservatively (any doubt is a full run):
- the same ``settings`` (``session.snapshot_settings``: every module of the grader, Python and
  the pinned libraries, the report's templates, the request as given, the overrides file's text,
  the machine's core count) and the same grader ``version`` (``classroom.grader_version``: what
  decides a grade, with this machine's isolation and Q1's data, known once the run is prepared);
- the same input files: every entry under the paths given, by name, type, size, modification and
  change times and inode (``lstat``; links are not followed). A stamp alone cannot tell a file
  changed again within the file system's clock tick, so a file changed less than ``RACY_NS``
  before its stamp was taken also has its content's hash checked (as git does for its index);
- the same files in OUT (every one but those a rerun writes anyway: ``REWRITTEN``, the caches,
  the history), stamped once the run has written them: a TA who edits or deletes one gets a
  full run (an edit within the same clock tick as the grader's own write, keeping the size,
  would not be seen: OUT's files are not hashed, which would cost more than the rerun saves).

``load`` checks all but the version, and reads the kept run, while the run is prepared (the
isolation probe's child processes leave this process idle meanwhile).

The outcome is kept in two files under ``OUT/.cache/class-run/``: ``run.pickle`` (the class run
as a rerun would see it, written by a forked process while the report is written) and
``manifest.pickle`` (keys, stamps, the report's sections), written last. Both are read back
only through ``_Unpickler``, which builds nothing but the grader's own dataclasses and enums.
"""

from __future__ import annotations

import dataclasses
import enum
import gc
import hashlib
import io
import multiprocessing
import os
import pickle
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

FOLDER = Path(".cache") / "class-run"
MANIFEST, RUN = "manifest.pickle", "run.pickle"
FORMAT = 1
RACY_NS = 2_000_000_000
"""a file changed this recently before its stamp (2 s: FAT's clock) is also compared by content"""
REWRITTEN = frozenset({"report.html", "changes.csv", "run.json"})
"""OUT's files a rerun writes again in any case (the report's run facts, the empty regrade diff,
``make review``'s record of the run): left out of OUT's stamps"""
UNSTAMPED = frozenset({".cache", "history"})
"""OUT's folders that do not hold the outputs (cached executions, this snapshot, history)"""


@dataclass(frozen=True)
class Stamp:
    """What ``lstat`` says of one entry; ``digest`` (its content's sha256) only where the entry
    is a regular file changed less than ``RACY_NS`` before the stamp was taken."""

    path: str
    mode: int
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    digest: str = ""


@dataclass(frozen=True)
class Manifest:
    format: int
    settings: str
    version: str
    inputs: tuple[Stamp, ...]
    outputs: tuple[Stamp, ...]
    run: Stamp  # run.pickle as written
    page: dict  # html.sections: the report's page but for the run's facts


@dataclass
class Kept:
    """A kept outcome: ``done`` (``classroom.ClassRun``, every result reused) and the report's
    ``page``, valid where the run's grader ``version`` is the same."""

    version: str
    done: object
    page: dict


def input_stamps(paths: Iterable[Path]) -> tuple[Stamp, ...]:
    """Every entry under ``paths`` as it is now (a racy file's content hashed)."""
    taken = time.time_ns()
    return tuple(_with_racy_digest(s, taken) for s in _walk_all(paths))


def output_stamps(out: Path) -> tuple[Stamp, ...]:
    """OUT's output files (not ``REWRITTEN``, not under ``UNSTAMPED``) as they are now."""
    top = [p for p in sorted(out.iterdir(), key=lambda p: p.name)
           if p.name not in REWRITTEN | UNSTAMPED] if out.is_dir() else []
    return tuple(s for p in top for s in _walk(p, p.name))


def _walk_all(paths: Iterable[Path]) -> Iterator[Stamp]:
    """Each path given and what is under it; a path given that is a link, as what it links to
    (the TA's own path is followed; below it, links are stamped as links)."""
    for i, path in enumerate(paths):
        real = os.path.realpath(path)
        yield from _walk(Path(real), f"{i}:{real}")


def _walk(path: Path, label: str) -> Iterator[Stamp]:
    """``path`` and, for a folder (not a link), everything under it, in name order."""
    try:
        info = os.lstat(path)
    except OSError:
        yield Stamp(label, -1, 0, 0, 0, 0)
        return
    if stat.S_ISDIR(info.st_mode):  # a folder's own times change with what is in it: its
        yield Stamp(label, info.st_mode, 0, 0, 0, info.st_ino)  # entries are compared instead
        try:
            names = sorted(os.listdir(path))
        except OSError:
            yield Stamp(label + "/", -1, 0, 0, 0, 0)
            return
        for name in names:
            yield from _walk(path / name, f"{label}/{name}")
        return
    yield Stamp(label, info.st_mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns,
                info.st_ino)


def _with_racy_digest(s: Stamp, taken_ns: int) -> Stamp:
    if not stat.S_ISREG(max(s.mode, 0)) or max(s.mtime_ns, s.ctime_ns) < taken_ns - RACY_NS:
        return s
    return dataclasses.replace(s, digest=_digest(s.path.split(":", 1)[1]))


def _digest(path: str) -> str:
    try:
        with open(path, "rb", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW)) as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as exc:
        return f"unreadable: {exc.errno}"


def inputs_unchanged(recorded: tuple[Stamp, ...], paths: Iterable[Path]) -> bool:
    """Whether the entries under ``paths`` are those ``recorded`` (racy ones by content too)."""
    now = tuple(_walk_all(paths))
    if len(now) != len(recorded):
        return False
    for then, current in zip(recorded, now):
        if dataclasses.replace(then, digest="") != current:
            return False
        if then.digest and _digest(current.path.split(":", 1)[1]) != then.digest:
            return False
    return True


def load(out: Path, settings: str, paths: Iterable[Path]) -> Kept | None:
    """The outcome kept in ``out`` if nothing it depends on changed since (but the version,
    which the caller compares), else None (also where anything of it cannot be read)."""
    try:
        return _load(Path(out), settings, paths)
    except OSError:
        return None


def _load(out: Path, settings: str, paths: Iterable[Path]) -> Kept | None:
    folder = out / FOLDER
    manifest = _read(folder / MANIFEST)
    if not isinstance(manifest, Manifest) or manifest.format != FORMAT or \
            manifest.settings != settings:
        return None
    if not inputs_unchanged(manifest.inputs, paths) or output_stamps(out) != manifest.outputs:
        return None
    kept = folder / RUN
    if next(_walk(kept, manifest.run.path)) != manifest.run:
        return None
    done = _read(kept)
    return None if done is None or not isinstance(manifest.page, dict) else \
        Kept(manifest.version, done, manifest.page)


class Writer:
    """Keeps one run's outcome: ``start`` pickles it in a forked process (about 0.7 s for 2,000
    results, while the parent writes the report), ``finish`` writes the manifest once OUT holds
    its outputs. Nothing kept if either fails (a full disk, a file where the folder goes): the
    next run is a full one, and the run itself goes on."""

    def __init__(self, out: Path) -> None:
        self.folder = out / FOLDER
        self._process = None

    def start(self, done: object) -> None:
        try:
            for name in (MANIFEST, RUN):  # an outcome half replaced is never read
                (self.folder / name).unlink(missing_ok=True)
            self.folder.mkdir(parents=True, exist_ok=True)
            context = multiprocessing.get_context("fork")
            self._process = context.Process(target=_dump, args=(done, self.folder / RUN),
                                            daemon=True)
            self._process.start()
        except OSError:
            self._process = None

    def finish(self, out: Path, settings: str, version: str, inputs: tuple[Stamp, ...],
               page: dict | None) -> None:
        if self._process is None:
            return
        self._process.join()
        if self._process.exitcode != 0 or page is None:
            return
        try:
            run = next(_walk(self.folder / RUN, RUN))
            _write(self.folder / MANIFEST,
                   Manifest(FORMAT, settings, version, inputs, output_stamps(out), run, page))
        except (OSError, pickle.PicklingError):
            (self.folder / MANIFEST).unlink(missing_ok=True)


def _dump(done: object, path: Path) -> None:
    gc.disable()
    _write(path, done)


def _write(path: Path, value: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    os.replace(tmp, path)


def _read(path: Path) -> object | None:
    """What ``path`` holds, or None where it is missing, damaged or holds a foreign class.

    A kept run is a million small acyclic objects: the collector is off while they are built
    (collecting meanwhile tripled the time), and they are then frozen (``gc.freeze``, with the
    rest of the process so far), which spares the collections that would otherwise walk them
    all two or three times (0.3 to 0.5 s for 2,000 results)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        found = _Unpickler(io.BytesIO(path.read_bytes())).load()
        gc.freeze()
        return found
    except Exception:
        return None
    finally:
        if enabled:
            gc.enable()


class _Unpickler(pickle.Unpickler):
    """Builds only the grader's dataclasses and enums: whoever could write OUT/.cache could
    otherwise run code here."""

    def find_class(self, module: str, name: str):
        if module == "autograder" or module.startswith("autograder."):
            found = super().find_class(module, name)
            if isinstance(found, type) and (dataclasses.is_dataclass(found)
                                            or issubclass(found, enum.Enum)):
                return found
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
