"""``report.write_text``: atomic, always valid UTF-8, and an unchanged file is left in place
(a regrade of a class rewrites only what changed)."""

from __future__ import annotations

from autograder import report


def test_the_same_bytes_leave_the_file_in_place_and_new_ones_replace_it_whole(tmp_path):
    path = tmp_path / "s" / "feedback.md"
    report.write_text(path, "Score: 3")
    first = path.stat().st_ino
    report.write_text(path, "Score: 3")
    assert path.stat().st_ino == first  # not replaced: nothing to change
    report.write_text(path, "Score: 4")
    assert path.read_text() == "Score: 4" and path.stat().st_ino != first  # a new file, renamed
    assert not list(path.parent.glob("*.tmp"))


def test_text_with_a_lone_surrogate_is_written_as_valid_utf8(tmp_path):
    path = tmp_path / "x.md"
    report.write_text(path, "a\ud800b")
    assert path.read_bytes().decode("utf-8")  # valid UTF-8
    report.write_text(path, "a\ud800b")  # the same text again: compared after replacement
    assert path.read_bytes().decode("utf-8").startswith("a")
