"""``OUT/.keys.json``: the resume keys of records a regrade confirmed without writing them again.

A regrade after a catalogue edit gives every submission a new resume key, yet leaves most results
as they were; writing 2,000 records again only to change their key cost more than a second. So
a record whose result did not change keeps its ``checks.json``, and its new key is written here
beside the identity of that file (inode, size, modification time). A key here counts only while
the file it names is exactly that file: a record written again later (by any run, finished or
not) no longer matches and its own key counts, so a stale entry can only cause a regrade, never
a wrong reuse.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from autograder.report import RECORD_FILE, write_json

KEYS_FILE = ".keys.json"
KEYS_FORMAT = 1


def stamp(record_file: Path) -> list[int] | None:
    """The identity of a record file: inode, size and modification time (None: not there)."""
    try:
        info = os.stat(record_file)
    except OSError:
        return None
    return [info.st_ino, info.st_size, info.st_mtime_ns]


def read(out: Path) -> dict[str, dict]:
    """The entries whose record file is still the one they name: ``{submission: {"key",
    "stamp"}}`` (nothing when the file is missing or unreadable)."""
    try:
        data = json.loads((Path(out) / KEYS_FILE).read_text(encoding="utf-8"))
        entries = data["entries"] if data.get("format") == KEYS_FORMAT else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    return {name: entry for name, entry in entries.items()
            if isinstance(entry, dict) and isinstance(entry.get("key"), str)
            and entry.get("stamp") == stamp(Path(out) / name / RECORD_FILE)}


def apply(records: dict[str, dict], entries: dict[str, dict]) -> None:
    """Each record's key as it now stands: an entry's key in place of the one in its file."""
    for name, entry in entries.items():
        if name in records:
            records[name]["key"] = entry["key"]


def write(out: Path, entries: dict[str, dict]) -> None:
    """Write the entries (the file is removed when there are none)."""
    path = Path(out) / KEYS_FILE
    if entries:
        write_json(path, {"format": KEYS_FORMAT, "entries": entries}, indent=None)
    else:
        path.unlink(missing_ok=True)


def current(out: Path) -> dict[str, str]:
    """Every record's resume key as a run reads it, by submission (for tools and benchmarks)."""
    keys = {}
    for path in sorted(Path(out).glob(f"*/{RECORD_FILE}")):
        try:
            keys[path.parent.name] = json.loads(path.read_text(encoding="utf-8"))["key"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
    entries = read(out)
    keys.update({name: e["key"] for name, e in entries.items() if name in keys})
    return keys
