"""Q1b: the grader trains the student's CNN and MLP itself and compares test accuracies.

The scoring rules are tested on hand-made probe outputs (fast); real training is ``slow``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from autograder.q1 import Q1Config, check_q1, prepare_q1, probe, synthetic
from autograder.q1.config import BUDGETS, DATASETS, PROFILES, Credit

try:
    from tests import q1_fixtures as fx
except ImportError:
    import q1_fixtures as fx

TRAIN = ("train",)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return synthetic.load(synthetic.ensure(tmp_path_factory.mktemp("q1b")))


@pytest.fixture(scope="module")
def prepared(dataset, tmp_path_factory):
    """The real cpu budget on the generated set: what a submission is graded with."""
    return prepare_q1(tmp_path_factory.mktemp("inputs"), config=Q1Config(device="cpu"),
                      dataset=dataset, data_note="the generated offline dataset", steps=TRAIN)


@pytest.fixture(scope="module")
def quick(dataset, tmp_path_factory):
    """A short budget for tests about failures, where accuracy does not matter."""
    budget = replace(BUDGETS[("synthetic", "cpu")], n_train=320, n_test=200, epochs=1)
    return prepare_q1(tmp_path_factory.mktemp("quick"), config=Q1Config(device="cpu"),
                      dataset=dataset, data_note="test data", steps=TRAIN, budget=budget)


def train(prepared, outputs: Path, *mistakes: str, drop=()):
    probe.probe(fx.namespace(*mistakes, drop=drop), prepared.inputs, outputs)
    return check_q1(outputs, prepared)["CNN"]


# --- scoring rules on hand-made outputs (fast) ---------------------------------------------


def _fake_outputs(outputs: Path, prepared, cnn: float | None, mlp: float | None, *,
                  conv=True, stopped=False) -> None:
    """Probe outputs whose predictions reach the given accuracies."""
    outputs.mkdir()
    labels = prepared.test_labels
    report = {"device": "cpu", "done": True}
    for name, acc in (("CNN", cnn), ("MLP", mlp)):
        if acc is None:
            report[name] = {"ok": False, "error": "raised RuntimeError: boom"}
            continue
        pred = labels.copy()
        wrong = np.arange(len(labels)) >= round(acc * len(labels))
        pred[wrong] = (labels[wrong] + 1) % 10
        np.save(outputs / f"pred_{name}.npy", pred)
        report[name] = {"ok": True, "conv_modules": ["Conv2d"] if conv and name == "CNN" else [],
                        "conv_ran": conv and name == "CNN", "train_seconds": 1.0,
                        "eval_seconds": 0.1, "epochs_done": 3, "stopped_early": stopped}
    (outputs / "report.json").write_text(json.dumps(report))


C = Credit()
SCORING = [
    # (cnn accuracy, mlp accuracy, fraction of points, mistake id)
    (0.90, 0.22, 1, None),
    (0.60, 0.30, 1, None),                          # exactly at floor and margin
    (0.90, 0.70, C.floor_only, "cnn_small_margin"),  # wins, but not by the margin
    (0.90, 0.05, C.floor_only, "cnn_small_margin"),  # an MLP that learnt nothing
    (0.90, None, C.floor_only, "mlp_failed"),
    (0.55, 0.20, C.beats_only, "cnn_under_floor"),
    (0.40, 0.35, 0, "cnn_loses"),
    (0.20, 0.30, 0, "cnn_loses"),
    (0.50, None, 0, "mlp_failed"),
    (None, 0.22, 0, "cnn_failed"),
]


@pytest.mark.parametrize("cnn, mlp, fraction, mistake", SCORING)
def test_scoring_rules(prepared, tmp_path, cnn, mlp, fraction, mistake):
    _fake_outputs(tmp_path / "out", prepared, cnn, mlp)
    r = check_q1(tmp_path / "out", prepared)["CNN"]
    assert r.score == pytest.approx(fraction * r.max_score)
    assert r.mistake == mistake
    if cnn is not None:
        assert f"CNN {cnn:.1%}" in r.message


def test_no_convolution_means_no_marks_whatever_the_accuracy(prepared, tmp_path):
    _fake_outputs(tmp_path / "out", prepared, 0.95, 0.2, conv=False)
    r = check_q1(tmp_path / "out", prepared)["CNN"]
    assert r.score == 0 and r.mistake == "cnn_no_conv" and "no convolution" in r.message


def test_training_past_the_time_budget_is_explained(prepared, tmp_path):
    _fake_outputs(tmp_path / "out", prepared, 0.95, 0.2, stopped=True)
    r = check_q1(tmp_path / "out", prepared)["CNN"]
    assert r.score == 0 and "budget" in r.message


def test_every_dataset_and_profile_has_a_budget():
    for dataset in DATASETS:
        for profile in PROFILES:
            b = Q1Config().budget(dataset, profile)
            assert 0 < b.margin < b.floor <= 1 and b.mlp_floor < b.floor
    with pytest.raises(KeyError, match="no Q1 budget"):
        Q1Config().budget("mnist", "cpu")


# --- real training (slow) -------------------------------------------------------------------


@pytest.mark.slow
def test_reference_gets_full_marks_with_a_clear_report(prepared, tmp_path):
    r = train(prepared, tmp_path / "out")
    assert r.passed, r.message
    for words in ("CNN ", "MLP ", "device cpu", "generated offline dataset", " s. Needed"):
        assert words in r.message


@pytest.mark.slow
def test_same_seed_same_verdict(quick, tmp_path):
    first = train(quick, tmp_path / "a")
    second = train(quick, tmp_path / "b")
    accuracies = first.message.split(":")[0]  # "CNN 41.5%, MLP 20.0%"
    assert (first.score, first.mistake, accuracies) == \
        (second.score, second.mistake, second.message.split(":")[0])
    for name in ("CNN", "MLP"):
        assert np.array_equal(np.load(tmp_path / "a" / f"pred_{name}.npy"),
                              np.load(tmp_path / "b" / f"pred_{name}.npy"))


@pytest.mark.slow
def test_a_cnn_without_convolution_is_told_why(prepared, tmp_path):
    r = train(prepared, tmp_path / "out", "cnn_no_conv")
    assert r.score == 0 and r.mistake == "cnn_no_conv"
    assert "no convolution layer" in r.message and "MLP " in r.message


@pytest.mark.slow
def test_a_functional_cnn_counts_as_a_cnn(prepared, tmp_path):
    r = train(prepared, tmp_path / "out", "cnn_functional")
    assert r.passed, r.message


FAILURES = [
    ("cnn_crash", "raised RuntimeError"),
    ("cnn_wrong_shape", "expected (2, 10)"),
    ("cnn_too_large", "trainable parameters, more than the 5,000,000"),
    ("cnn_not_a_class", "should be a class deriving from nn.Module"),
]


@pytest.mark.slow
@pytest.mark.parametrize("mistake, words", FAILURES, ids=[f[0] for f in FAILURES])
def test_broken_cnns_get_a_clear_message(quick, tmp_path, mistake, words):
    r = train(quick, tmp_path / "out", mistake)
    assert r.score == 0 and r.mistake == "cnn_failed"
    assert "could not be evaluated" in r.message and words in r.message


@pytest.mark.slow
def test_a_missing_mlp_leaves_the_comparison_undone(quick, tmp_path):
    r = train(quick, tmp_path / "out", drop=("MLP",))
    assert r.mistake == "mlp_failed" and "`MLP` is not defined" in r.message


@pytest.mark.slow
def test_the_time_budget_stops_training(dataset, tmp_path):
    budget = replace(BUDGETS[("synthetic", "cpu")], n_train=640, n_test=100, epochs=5,
                     train_seconds=0.0)
    slow = prepare_q1(tmp_path / "in", config=Q1Config(device="cpu"), dataset=dataset,
                      data_note="test data", steps=TRAIN, budget=budget)
    r = train(slow, tmp_path / "out")
    assert r.score == 0 and "did not finish within the 0 s budget" in r.message


def test_tampered_outputs_are_read_as_data(prepared, tmp_path):
    _fake_outputs(tmp_path / "out", prepared, 0.9, 0.2)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    report["CNN"]["train_seconds"] = "soon"
    (tmp_path / "out" / "report.json").write_text(json.dumps(report))
    np.save(tmp_path / "out" / "pred_MLP.npy", np.array(["a"] * len(prepared.test_labels)))
    r = check_q1(tmp_path / "out", prepared)["CNN"]
    assert r.mistake == "mlp_failed" and "no predictions" in r.message
