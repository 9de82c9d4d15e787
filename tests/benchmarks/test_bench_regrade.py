"""The regrade benchmark measures what it says (issue 35): its catalogue edit changes the grade
fingerprint and the scores of exactly the students holding the new mistake, its rerun takes the
kept outcome, and it notices when a run measured something else (a small class, not timed)."""

from __future__ import annotations

import shutil

import pytest

from autograder.grading import snapshot
from benchmarks import bench_regrade as bench
from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # three grading processes


def test_the_catalogue_edit_changes_every_key_and_the_holders_scores(tmp_path):
    package_root = tmp_path / "src"
    shutil.copytree(ROOT / "autograder", package_root / "autograder",
                    ignore=shutil.ignore_patterns("__pycache__", "dist"))
    drawn = bench.class_answers(400)  # (a class of n is the first n of these students)
    first = min(list(drawn).index(name) for name in bench.holders(drawn))
    # a small class: 40 students, or up to the first who answers the new entry's answer
    folder, out, n = tmp_path / "class", tmp_path / "out", max(40, first + 1)
    bench.make_class(folder, out, package_root, n)
    everyone = bench.class_answers(n)
    assert bench.holders(everyone)  # someone answers the new entry's answer

    bench.grade(package_root, folder, out, jobs=2)
    keys, kept = bench.record_keys(out), bench.kept_stamp(out)
    _, _, unchanged = bench.grade(package_root, folder, out, jobs=2)
    assert bench.rerun_problems(kept, out, unchanged, n) == []  # the kept outcome was taken
    idle = bench.premise_problems(keys, out, unchanged, everyone)
    assert any("resume keys did not change" in p for p in idle)  # a rerun is not the regrade
    shutil.rmtree(out / snapshot.FOLDER)  # a full rerun is not the rerun measured
    _, _, full = bench.grade(package_root, folder, out, jobs=2)
    assert bench.rerun_problems(None, out, full, n) != []
    assert any("full rerun" in p for p in bench.rerun_problems(kept, out, full, n))

    bench.edit_catalogue(package_root)
    _, _, stdout = bench.grade(package_root, folder, out, jobs=2)
    assert bench.premise_problems(keys, out, stdout, everyone) == []
