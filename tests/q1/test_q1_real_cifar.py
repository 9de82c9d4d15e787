"""Real CIFAR-10: the reference solution gets q1b's full marks through the Gradescope entry point.

Uses the offline image copy ``../shared/data/cifar10-jpeg.tar.gz`` next to the repository (all
60,000 images as JPEG; CI has it), imported with ``fetch-cifar --from`` into a temporary cache,
and the ``gradescope`` profile. Skipped, with the reason, where the copy is absent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from autograder.q1 import images
from tests.conftest import REFERENCE, ROOT

pytestmark = pytest.mark.slow
SHARED_COPY = ROOT.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    if not SHARED_COPY.is_file():
        pytest.skip(f"no real CIFAR-10 copy at {SHARED_COPY} (the shared image archive)")
    cache = tmp_path_factory.mktemp("data")
    proc = subprocess.run([sys.executable, "-m", "autograder", "fetch-cifar", "--from",
                           str(SHARED_COPY), "--data-dir", str(cache)],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return cache


def test_the_reference_gets_full_marks_on_q1b_through_gradescope(cache, tmp_path):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    shutil.copy(REFERENCE, root / "submission" / "dis05.ipynb")
    env = {**os.environ, "DIS05_Q1_PROFILE": "gradescope"}
    proc = subprocess.run([sys.executable, "-m", "autograder", "gradescope", "--root", str(root),
                           "--data-dir", str(cache), "--overrides", ""],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    q1b = next(t for t in results["tests"] if t["name"].lower().startswith("q1b"))
    staff = next(t for t in results["tests"] if t["name"] == "Staff log")["output"]
    assert q1b["score"] == q1b["max_score"] > 0, q1b["output"] + staff
    assert images.SOURCE_NAME in q1b["output"]  # the feedback names the data
    assert images.SOURCE_NAME in staff and "profile=gradescope" in staff
