"""Q1a: translate, EquivariantNet and PixelMLP, probed in-process on exec'd notebook code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from autograder.q1 import (
    PROBE_FILE,
    check_q1,
    prepare_q1,
    probe,
    probe_seconds,
    q1_probe,
    synthetic,
)
from autograder.q1.probe import reference_translate

try:
    from tests import q1_fixtures as fx
except ImportError:
    import q1_fixtures as fx

Q1A = ("translate", "EquivariantNet", "PixelMLP")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("q1a")
    ds = synthetic.load(synthetic.ensure(root / "data", n_train=200, n_test=100))
    return prepare_q1(root / "inputs", dataset=ds, data_note="test data", steps=Q1A)


def grade(prepared, tmp_path: Path, *mistakes: str, drop=()) -> dict:
    outputs = tmp_path / "outputs"
    probe.probe(fx.namespace(*mistakes, drop=drop), prepared.inputs, outputs)
    return check_q1(outputs, prepared)


# --- the reference translate (it defines the convention) ------------------------------------


def test_reference_translate_convention():
    x = np.arange(12.0).reshape(3, 4)
    right = reference_translate(x, 1, 0)
    assert right[:, 0].tolist() == [0, 0, 0] and right[:, 1:].tolist() == x[:, :-1].tolist()
    down = reference_translate(x, 0, 1)
    assert down[0].tolist() == [0, 0, 0, 0] and down[1:].tolist() == x[:-1].tolist()
    assert not reference_translate(x, -4, 0).any() and not reference_translate(x, 0, 3).any()
    t = torch.arange(12.0).reshape(1, 3, 4)
    assert torch.equal(reference_translate(t, 2, -1)[0], torch.from_numpy(
        reference_translate(x, 2, -1)).float())


# --- verdicts -------------------------------------------------------------------------------


def test_reference_gets_full_marks(prepared, tmp_path):
    results = grade(prepared, tmp_path)
    assert set(results) == set(Q1A)
    for r in results.values():
        assert r.passed, r.message
    assert "architecture" in results["EquivariantNet"].message


CASES = [
    # (mistake, variable, fraction of points, mistake id, words the message must contain)
    ("translate_roll", "translate", 0, "translate_wraps", "torch.roll"),
    ("translate_axes", "translate", 0, "translate_axes", "wrong axes"),
    ("translate_direction", "translate", 0, "translate_direction", "wrong way"),
    ("translate_pad", "translate", 0.5, None, "as large as the image"),
    ("equivariant_linear", "EquivariantNet", 0, "equivariant_global", "nn.Linear"),
    ("equivariant_position_bias", "EquivariantNet", 0, "equivariant_position_parameter",
     "depends on position"),
    ("equivariant_pool_upsample", "EquivariantNet", 0, "equivariant_stride", "pooling"),
    ("equivariant_no_conv", "EquivariantNet", 0, "no_conv", "no convolution"),
    ("pixel_mlp_conv", "PixelMLP", 0, "pixel_mlp_not_fc", "uses a convolution"),
]


@pytest.mark.parametrize("mistake, variable, fraction, mistake_id, words", CASES,
                         ids=[c[0] for c in CASES])
def test_known_mistakes_lose_marks(prepared, tmp_path, mistake, variable, fraction,
                                   mistake_id, words):
    results = grade(prepared, tmp_path, mistake)
    r = results[variable]
    assert r.score == pytest.approx(fraction * r.max_score), r.message
    if mistake_id:
        assert r.mistake == mistake_id, r.message
    assert words in r.message
    others = [v for v in Q1A if v != variable]
    assert others
    assert all(results[v].passed for v in others), [results[v].message for v in others]


def test_undefined_names_are_reported_not_crashed(prepared, tmp_path):
    results = grade(prepared, tmp_path, drop=Q1A)
    for name in Q1A:
        assert results[name].score == 0
        assert f"`{name}` is not defined" in results[name].message


def test_a_flat_pixel_mlp_is_accepted(prepared, tmp_path):
    flat = fx.PIXEL_MLP.replace(".view(-1, 1, self.size, self.size)", "")
    outputs = tmp_path / "outputs"
    ns = fx.namespace()
    exec(flat, ns)  # noqa: S102
    probe.probe(ns, prepared.inputs, outputs)
    assert check_q1(outputs, prepared)["PixelMLP"].passed


def test_a_wrong_output_size_is_explained(prepared, tmp_path):
    shrink = fx.EQUIVARIANT_NET.replace("nn.Conv2d(16, 1, 3, padding=1)", "nn.Conv2d(16, 1, 3)")
    ns = fx.namespace()
    exec(shrink, ns)  # noqa: S102
    probe.probe(ns, prepared.inputs, tmp_path / "out")
    r = check_q1(tmp_path / "out", prepared)["EquivariantNet"]
    assert r.score == 0 and "(2, 1, 30, 30)" in r.message and "padding" in r.message


def test_when_the_process_died_before_the_probe(prepared, tmp_path):
    (tmp_path / "out").mkdir()
    results = check_q1(tmp_path / "out", prepared)
    assert set(results) == set(Q1A)
    assert all(r.score == 0 and "stopped" in r.message for r in results.values())


def test_a_garbled_report_is_not_a_crash(prepared, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.json").write_text("{not json")
    results = check_q1(tmp_path / "out", prepared)
    assert set(results) == set(Q1A)
    assert all(r.score == 0 for r in results.values())


def test_probe_restores_threads_and_writes_only_to_outputs(prepared, tmp_path):
    before = sorted(p.name for p in prepared.inputs.iterdir())
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        grade(prepared, tmp_path)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(old)
    assert sorted(p.name for p in prepared.inputs.iterdir()) == before
    report = json.loads((tmp_path / "outputs" / "report.json").read_text())
    assert report["done"] is True


def test_test_labels_never_reach_the_inputs(prepared):
    inputs = list(prepared.inputs.iterdir())
    assert inputs
    assert not any("label" in p.name or p.name == "test_y.npy" for p in inputs)
    config = json.loads((prepared.inputs / "config.json").read_text())
    assert "test_labels" not in config and "floor" not in config


def test_probe_file_is_self_contained():
    source = PROBE_FILE.read_text()
    assert "from autograder" not in source and "import autograder" not in source
    imports = {line.split()[1].split(".")[0] for line in source.splitlines()
               if line.startswith(("import ", "from "))}
    assert imports <= {"__future__", "contextlib", "ctypes", "inspect", "io", "json", "random",
                       "time", "traceback", "warnings", "pathlib", "typing", "numpy",
                       "torch"}, imports


def test_probe_spec(prepared):
    """The spec names a function the probe file defines, the prepared inputs, and a time for
    the steps prepared (q1a's only here: no training, test_q1_training has the trainings')."""
    import importlib.util

    spec = q1_probe(prepared)
    loader = importlib.util.spec_from_file_location("probe_under_test", spec.module_file)
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    assert callable(getattr(module, spec.function))
    assert spec.inputs == prepared.inputs and (spec.inputs / "config.json").is_file()
    assert "train" not in prepared.steps
    assert probe_seconds(prepared) == pytest.approx(prepared.config.probe_extra_seconds
                                                    / prepared.budget.cpu_share)


def test_unknown_steps_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown Q1 probe steps"):
        prepare_q1(tmp_path, steps=("translate", "tarin"))


def test_a_student_exit_is_an_error_record(prepared, tmp_path):
    ns = fx.namespace()
    exec("import sys\ndef translate(x, dx, dy):\n    sys.exit(3)\n", ns)  # noqa: S102
    probe.probe(ns, prepared.inputs, tmp_path / "out")
    r = check_q1(tmp_path / "out", prepared)
    assert r["translate"].score == 0 and "SystemExit" in r["translate"].message
    assert r["EquivariantNet"].passed


def test_a_bug_in_a_q1_check_is_a_grader_error_with_the_traceback_for_staff_only(
        prepared, tmp_path, monkeypatch):
    from autograder.checks import q1 as q1_checks
    from autograder.report.results import GRADER_FAILED, Stage
    from autograder.report.staff_log import capture_log

    def broken(*args):
        raise RuntimeError("bug in the translate check")

    monkeypatch.setattr(q1_checks, "check_translate", broken)
    outputs = tmp_path / "outputs"
    probe.probe(fx.namespace(), prepared.inputs, outputs)
    with capture_log() as logged:
        results = check_q1(outputs, prepared)
    assert results["translate"].stage is Stage.GRADER_ERROR
    assert results["translate"].message == GRADER_FAILED and results["translate"].score == 0
    assert "Traceback" in logged.text() and "bug in the translate check" in logged.text()
    assert results["PixelMLP"].passed  # the other checks still ran
