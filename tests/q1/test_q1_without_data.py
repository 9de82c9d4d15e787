"""Q1b without real CIFAR-10: the generated stand-in grades nothing real (its verdicts differ
from real CIFAR-10's for some models, benchmarks/README.md), so the comparison waits for the data.

The test session allows the stand-in (``DIS05_Q1_GENERATED=1``, conftest.py); these tests turn
it off with ``Q1Config(generated_data=False)`` or by unsetting the variable.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.grading import pipeline
from autograder.q1 import NO_DATASET, Q1Config, check_q1, data_notes, fetch_for_run, prepare_q1
from autograder.q1 import probe as q1_probe
from autograder.q1.cifar import DataError
from autograder.report.notices import Topic
from autograder.report.results import Stage
from autograder.settings.limits import ReviewPolicy
from autograder.settings.q1 import BUDGETS
from autograder.worksheet import Q1_QUESTIONS

try:
    from tests import q1_fixtures as fx
except ImportError:
    import q1_fixtures as fx

CNN_POINTS = next(v.points for q in Q1_QUESTIONS for v in q.variables if v.name == "CNN")
OFF = Q1Config(device="cpu", generated_data=False)


@pytest.fixture(scope="module")
def waiting(tmp_path_factory):
    root = tmp_path_factory.mktemp("no-data")
    return prepare_q1(root / "inputs", config=OFF, data_dir=root / "empty-cache")


def _checked(waiting, tmp_path: Path, *variants: str):
    q1_probe.probe(fx.namespace(*variants), waiting.inputs, tmp_path / "out")
    return check_q1(tmp_path / "out", waiting)


def test_nothing_is_trained_and_no_data_is_written(waiting):
    assert waiting.dataset == NO_DATASET and waiting.budget == BUDGETS[("cifar10", "cpu")]
    assert "train" not in waiting.steps and "inspect" in waiting.steps
    assert not (waiting.inputs / "train_x.npy").exists()
    assert not list((waiting.inputs.parent / "empty-cache").glob("synthetic*"))


def test_the_reference_comparison_waits_for_staff_and_q1a_is_graded(waiting, tmp_path):
    results = _checked(waiting, tmp_path)
    cnn = results["CNN"]
    assert (cnn.stage, cnn.score, cnn.max_score) == (Stage.UNDECIDED, 0.0, CNN_POINTS)
    assert "comparison was not run" in cnn.message and "CIFAR-10" in cnn.message
    assert "nothing is wrong with your notebook" in cnn.message
    assert all(results[name].passed for name in ("translate", "EquivariantNet", "PixelMLP"))
    policy = ReviewPolicy(undecided_credit=0.5)
    kept = pipeline.apply_review_policy(cnn, policy)
    assert kept.score == 0.5 * CNN_POINTS and "until course staff review it" in kept.review


@pytest.mark.parametrize(("variant", "mistake"), [("cnn_no_conv", "cnn_no_conv"),
                                                   ("token_conv_cnn", "cnn_pointwise_conv")])
def test_what_no_accuracy_changes_is_still_graded(waiting, tmp_path, variant, mistake):
    cnn = _checked(waiting, tmp_path, variant)["CNN"]
    assert (cnn.mistake, cnn.score, cnn.max_score) == (mistake, 0.0, CNN_POINTS)
    assert cnn.stage is not Stage.UNDECIDED and "comparison was not run" in cnn.message


def test_an_mlp_that_convolves_waits_too(waiting, tmp_path):
    cnn = _checked(waiting, tmp_path, "mlp_with_conv")["CNN"]
    assert (cnn.mistake, cnn.stage, cnn.max_score) == ("mlp_not_mlp", Stage.UNDECIDED, CNN_POINTS)


def test_the_staff_are_told_it_was_not_graded_and_how_to_fix_it(waiting):
    (note,) = data_notes(waiting)
    assert note.topic is Topic.DATASET
    assert "NOT graded" in note.text and "fetch-cifar" in note.text


def test_the_generated_set_grades_only_when_asked_and_says_so(tmp_path):
    budget = BUDGETS[("synthetic", "cpu")]
    on = prepare_q1(tmp_path / "on", config=Q1Config(device="cpu", generated_data=True),
                    data_dir=tmp_path / "cache", steps=("train",), budget=budget)
    assert on.dataset == "synthetic" and "train" in on.steps
    (note,) = data_notes(on)
    assert "DIS05_Q1_GENERATED=1" in note.text and "tests and demos only" in note.text


def test_the_environment_is_read_when_a_run_is_prepared(tmp_path, monkeypatch):
    monkeypatch.delenv("DIS05_Q1_GENERATED", raising=False)
    assert prepare_q1(tmp_path / "a", data_dir=tmp_path / "c").dataset == NO_DATASET
    monkeypatch.setenv("DIS05_Q1_GENERATED", "1")
    assert Q1Config().generated_data


def test_a_class_run_tries_the_download_once_and_says_why_it_failed(tmp_path, monkeypatch):
    monkeypatch.delenv("DIS05_Q1_GENERATED", raising=False)
    calls = []

    def offline(source, data_dir):
        calls.append((source, data_dir))
        raise DataError("<urlopen error [Errno -2] Name or service not known>")

    (note,) = fetch_for_run(tmp_path / "cache", fetch=offline)
    assert calls == [(None, tmp_path / "cache")]
    assert note.topic is Topic.DATASET and "could not be downloaded" in note.text
    assert "Name or service not known" in note.text
    assert fetch_for_run(tmp_path / "cache", fetch=lambda *a: None) == ()
    monkeypatch.setenv("DIS05_Q1_GENERATED", "1")
    assert fetch_for_run(tmp_path / "cache", fetch=offline) == () and len(calls) == 1
