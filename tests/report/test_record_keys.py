"""OUT/.keys.json: a confirmed key counts only while its record file is the one it names."""

from __future__ import annotations

import os

import pytest

from autograder.report import RECORD_FILE, record_keys, write_json


@pytest.fixture
def out(tmp_path):
    for name in ("ada", "bob"):
        write_json(tmp_path / name / RECORD_FILE, {"format": 1, "key": f"old-{name}",
                                                   "result": {}}, indent=None)
    return tmp_path


def confirm(out, *names):
    record_keys.write(out, {n: {"key": f"new-{n}", "stamp": record_keys.stamp(
        out / n / RECORD_FILE)} for n in names})


def test_a_confirmed_key_counts_while_its_record_is_untouched(out):
    confirm(out, "ada")
    assert {n: e["key"] for n, e in record_keys.read(out).items()} == {"ada": "new-ada"}
    records = {"ada": {"key": "old-ada"}, "bob": {"key": "old-bob"}}
    record_keys.apply(records, record_keys.read(out))
    assert records == {"ada": {"key": "new-ada"}, "bob": {"key": "old-bob"}}


REWRITES = {
    "written again": lambda p: write_json(p, {"format": 1, "key": "later", "result": {}},
                                          indent=None),
    "same size, touched": lambda p: os.utime(p, ns=(1, 1)),
    "removed": lambda p: p.unlink(),
}


@pytest.mark.parametrize("rewrite", REWRITES.values(), ids=REWRITES.keys())
def test_a_record_changed_since_makes_its_entry_void(out, rewrite):
    confirm(out, "ada", "bob")
    rewrite(out / "ada" / RECORD_FILE)
    assert set(record_keys.read(out)) == {"bob"}


@pytest.mark.parametrize("text", ["", "{", "[]", '{"format": 2, "entries": {}}',
                                  '{"format": 1, "entries": {"ada": "k"}}'])
def test_an_unreadable_keys_file_confirms_nothing(out, text):
    (out / record_keys.KEYS_FILE).write_text(text)
    assert record_keys.read(out) == {}


def test_no_entries_leave_no_file(out):
    confirm(out, "ada")
    record_keys.write(out, {})
    assert not (out / record_keys.KEYS_FILE).exists()


def test_current_reads_every_record_with_its_confirmed_key(out):
    confirm(out, "bob")
    assert record_keys.current(out) == {"ada": "old-ada", "bob": "new-bob"}
