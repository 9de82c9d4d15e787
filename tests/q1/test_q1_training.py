"""Q1b: the grader trains the student's CNN and MLP itself and compares test accuracies.

The scoring rules are tested on hand-made probe outputs (fast); real training is ``slow``.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from autograder.q1 import Q1Config, check_q1, prepare_q1, probe, synthetic
from autograder.settings.q1 import BUDGETS, DATASETS, PROFILES, Credit

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
                  conv=True, stopped=False, mlp_facts=None, cnn_facts=None) -> None:
    """Probe outputs whose predictions reach the given accuracies (the first images right)."""
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
                        "eval_seconds": 0.1, "epochs_done": 3, "stopped_early": stopped,
                        **((mlp_facts if name == "MLP" else cnn_facts) or {})}
    (outputs / "report.json").write_text(json.dumps(report))


C = Credit()
F = BUDGETS[("synthetic", "cpu")].floor
SCORING = [
    # (cnn accuracy, mlp accuracy, fraction of points, mistake id); the CNN is right on every
    # image the MLP gets right, so the difference is all CNN-only images
    (0.90, 0.22, 1, None),
    (F, F - 0.1, 1, None),                           # exactly at the floor
    (F, F - 0.005, 1, None),                         # +0.5 points: 10 images, beyond chance
    (0.90, 0.899, C.floor_only, "cnn_small_margin"),  # +0.1 points: 2 images could be chance
    (0.90, 0.05, C.floor_only, "cnn_small_margin"),   # an MLP that learnt nothing
    (0.90, None, C.floor_only, "mlp_failed"),
    (F - 0.05, 0.20, C.beats_only, "cnn_under_floor"),
    (F - 0.1, F - 0.1, 0, "cnn_loses"),
    (0.20, 0.30, 0, "cnn_loses"),
    (F - 0.1, None, 0, "mlp_failed"),
    (None, 0.22, 0, "cnn_failed"),
]


@pytest.mark.parametrize("cnn, mlp, fraction, mistake", SCORING)
def test_scoring_rules(prepared, tmp_path, cnn, mlp, fraction, mistake):
    _fake_outputs(tmp_path / "out", prepared, cnn, mlp)
    r = check_q1(tmp_path / "out", prepared)["CNN"]
    assert r.score == pytest.approx(fraction * r.max_score), r.message
    assert r.mistake == mistake
    if cnn is not None:
        assert f"CNN {cnn:.1%}" in r.message


def test_no_convolution_means_no_marks_whatever_the_accuracy(prepared, tmp_path):
    _fake_outputs(tmp_path / "out", prepared, 0.95, 0.2, conv=False)
    r = check_q1(tmp_path / "out", prepared)["CNN"]
    assert r.score == 0 and r.mistake == "cnn_no_conv" and "no convolution" in r.message


MLP_IMPOSTORS = [
    # (facts of the MLP's record, words the message must contain)
    ({"conv_modules": ["Conv2d"], "ops": ["conv", "linear"]}, "a convolution (Conv2d)"),
    ({"ops": ["conv", "linear"]}, "a convolution (functional conv)"),
    ({"pool_modules": ["MaxPool2d"], "ops": ["linear", "pool"]}, "pooling (MaxPool2d)"),
    ({"ops": ["linear", "pool"]}, "pooling (functional pooling)"),
]


@pytest.mark.parametrize("facts, words", MLP_IMPOSTORS)
@pytest.mark.parametrize("cnn, fraction", [(0.9, C.mlp_not_mlp), (F - 0.05, 0.0)])
def test_an_mlp_with_convolution_or_pooling_voids_the_comparison(prepared, tmp_path, facts,
                                                                   words, cnn, fraction):
    _fake_outputs(tmp_path / "out", prepared, cnn, 0.3, mlp_facts=facts)
    r = check_q1(tmp_path / "out", prepared)["CNN"]
    assert r.score == pytest.approx(fraction * r.max_score) and r.mistake == "mlp_not_mlp"
    assert words in r.message and "not a multilayer perceptron" in r.message


HABITS = [
    ({"cuda_requests": 3}, "asks for CUDA"),
    ({"probabilities": True}, "returns softmax probabilities"),
]


@pytest.mark.parametrize("facts, words", HABITS)
def test_habits_the_grader_worked_around_are_told(prepared, tmp_path, facts, words):
    _fake_outputs(tmp_path / "out", prepared, 0.9, 0.2, cnn_facts=facts)
    r = check_q1(tmp_path / "out", prepared)["CNN"]
    assert r.passed and words in r.message


def test_training_past_the_time_budget_is_explained(prepared, tmp_path):
    _fake_outputs(tmp_path / "out", prepared, 0.95, 0.2, stopped=True)
    r = check_q1(tmp_path / "out", prepared)["CNN"]
    assert r.score == 0 and "budget" in r.message


def test_a_projected_overrun_is_explained(prepared, tmp_path):
    _fake_outputs(tmp_path / "out", prepared, 0.9, 0.2, stopped=True,
                  cnn_facts={"projected_seconds": 9000.0})
    r = check_q1(tmp_path / "out", prepared)["CNN"]
    assert r.score == 0 and "would take about 9000 s" in r.message


def test_every_dataset_and_profile_has_a_budget():
    assert DATASETS and PROFILES
    for dataset in DATASETS:
        for profile in PROFILES:
            b = Q1Config().budget(dataset, profile)
            assert 0 <= b.margin < b.floor <= 1 and b.mlp_floor < b.floor
            # measured everywhere but on a GPU with real CIFAR-10 (none was lent to measure it)
            assert b.estimate == ((dataset, profile) == ("cifar10", "gpu"))
    with pytest.raises(KeyError, match="no Q1 budget"):
        Q1Config().budget("mnist", "cpu")


def test_the_staff_log_names_an_estimated_budget(prepared, tmp_path):
    from autograder.q1 import staff_log

    _fake_outputs(tmp_path / "out", prepared, 0.9, 0.2)
    assert "budget=measured" in staff_log(tmp_path / "out", prepared)
    guessed = replace(prepared, budget=replace(prepared.budget, estimate=True))
    assert "budget=ESTIMATE" in staff_log(tmp_path / "out", guessed)
    assert staff_log(None, prepared) == ""


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


def test_a_cnn_whose_convolutions_are_all_1x1_is_not_a_cnn(quick, tmp_path):
    # a token colour mix in front of an MLP: on real CIFAR-10 it can edge past its MLP by chance
    r = train(quick, tmp_path / "out", "token_conv_cnn")
    assert r.score == 0 and r.mistake == "cnn_pointwise_conv", r.message
    assert "1x1" in r.message


def test_the_probe_records_the_largest_kernel_that_ran(quick, tmp_path):
    probe.probe(fx.namespace("token_conv_cnn"), quick.inputs, tmp_path / "out")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["CNN"]["max_kernel"] == 1
    probe.probe(fx.namespace(), quick.inputs, tmp_path / "ref")
    assert json.loads((tmp_path / "ref" / "report.json").read_text())["CNN"]["max_kernel"] == 3


@pytest.mark.slow
def test_a_functional_cnn_counts_as_a_cnn(prepared, tmp_path):
    r = train(prepared, tmp_path / "out", "cnn_functional")
    assert r.passed, r.message


FAILURES = [
    ("cnn_crash", "raised RuntimeError"),
    ("cnn_wrong_shape", "expected (2, 10)"),
    ("cnn_too_large", "trainable parameters, more than the 5,000,000"),
    ("cnn_not_a_class", "should be a class deriving from nn.Module"),
    ("cnn_required_args", "give c1, c2 a default value"),
    ("cnn_bad_view", "x.view(x.size(0), -1)"),
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


def _slow_budget(dataset, tmp_path, **changes):
    """100 training steps (640 images, batch 32, 5 epochs) on 100 test images."""
    budget = replace(BUDGETS[("synthetic", "cpu")], n_train=640, n_test=100, epochs=5,
                     **changes)
    return prepare_q1(tmp_path / "in", config=Q1Config(device="cpu"), dataset=dataset,
                      data_note="test data", steps=TRAIN, budget=budget)


def _ticks(monkeypatch) -> None:
    """The cap's clock (``probe._clock``) made to advance one second per reading: a training
    step then "costs" one second and testing one second per batch, whatever the machine."""
    now = iter(range(10**6))
    monkeypatch.setattr(probe, "_clock", lambda device: lambda: float(next(now)))


@pytest.mark.slow
@pytest.mark.parametrize("give_up, epochs_done", [
    (1.5, 1.0),     # 20 steps project 100+ s, past 1.5 x 50 s: stopped after the first steps
    (1e12, 2.5),    # never given up: stopped when the time spent plus testing passes 50 s
])
def test_the_cpu_budget_stops_training_and_tells_the_projected_time(
        dataset, tmp_path, monkeypatch, give_up, epochs_done):
    _ticks(monkeypatch)
    slow = _slow_budget(dataset, tmp_path, train_seconds=50.0, give_up_factor=give_up)
    r = train(slow, tmp_path / "out")
    cnn = json.loads((tmp_path / "out" / "report.json").read_text())["CNN"]
    assert cnn["stopped_early"] and cnn["stopped_by"] == "budget", cnn
    assert cnn["epochs_done"] == epochs_done and 100 <= cnn["projected_seconds"] <= 103, cnn
    assert r.score == 0 and "would take about 10" in r.message
    assert "beyond the 50 CPU-seconds budget per model" in r.message, r.message
    assert not (tmp_path / "out" / "pred_CNN.npy").exists()  # a stopped model is not tested


@pytest.mark.slow
def test_the_probe_stops_each_model_before_its_deadline_and_says_so(dataset, tmp_path):
    """Told it has no time left (``seconds`` = the margin it keeps), the probe stops both
    models at their first step instead of being killed, and the CNN's message says why."""
    slow = _slow_budget(dataset, tmp_path)
    probe.probe(fx.namespace(), slow.inputs, tmp_path / "out", seconds=probe.DEADLINE_MARGIN)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["done"] and "underway" not in report
    for name in ("CNN", "MLP"):
        assert report[name]["stopped_by"] == "deadline" and report[name]["epochs_done"] == 0.05
    r = check_q1(tmp_path / "out", slow)["CNN"]
    assert r.score == 0 and "the grading machine had left for it" in r.message, r.message


@pytest.mark.slow
def test_the_report_names_the_model_in_training(quick, tmp_path):
    """While a model trains, report.json says which (read should the process be killed)."""
    out, seen = tmp_path / "out", []

    class Watcher(torch.nn.Module):  # an MLP that reads the report while it trains
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(3 * 32 * 32, 10)

        def forward(self, x):
            if self.training and not seen:
                seen.append(json.loads((out / "report.json").read_text()).get("underway"))
            return self.fc(x.flatten(1))

    probe.probe({**fx.namespace(), "MLP": Watcher}, quick.inputs, out)
    assert seen == ["MLP"]
    assert "underway" not in json.loads((out / "report.json").read_text())


@pytest.mark.parametrize("exc", [
    MemoryError(),
    RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't "
                 "allocate memory: you tried to allocate 16777216 bytes."),
])
def test_an_allocation_refused_is_told_as_running_out_of_memory(exc):
    def step():
        raise exc
    rec = probe._guard(step)
    assert not rec["ok"] and rec["error"].startswith("ran out of memory (raised ")
    assert "make it smaller" in rec["error"]
    assert "out of memory" not in probe._guard(lambda: 1 / 0)["error"]


def test_a_model_killed_while_training_is_named_with_the_reason(prepared, tmp_path):
    """The process was killed (for memory) while the probe trained the CNN: the student is told
    which model and why, not only that the checks did not get there."""
    _fake_outputs(tmp_path / "out", prepared, 0.9, 0.2)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    del report["CNN"]
    report.update(underway="CNN", done=False)
    (tmp_path / "out" / "report.json").write_text(json.dumps(report))
    r = check_q1(tmp_path / "out", prepared, stopped="memory")["CNN"]
    assert r.score == 0 and "training your CNN" in r.message and "more memory" in r.message
    r = check_q1(tmp_path / "out", prepared)["CNN"]  # why unknown (a local run)
    assert "training your CNN" in r.message and "more memory" not in r.message


@pytest.mark.slow
def test_softmax_and_cuda_in_forward_are_graded_and_told(quick, tmp_path):
    """A CNN that calls .cuda() in forward and returns probabilities trains on the CPU grader
    with the equivalent loss; the student is told about both habits."""
    r = train(quick, tmp_path / "out", "softmax_cuda_cnn")
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["CNN"]["ok"] and report["CNN"]["probabilities"], report["CNN"]
    assert report["CNN"]["cuda_requests"] > 0 and math.isfinite(report["CNN"]["last_loss"])
    assert r.mistake != "cnn_failed", r.message
    assert "asks for CUDA" in r.message and "softmax probabilities" in r.message


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["tutorial_cnn", "bn_dropout_cnn"])
def test_typical_student_cnns_get_full_marks(prepared, tmp_path, variant):
    r = train(prepared, tmp_path / "out", variant)
    assert r.passed, r.message


@pytest.mark.slow
def test_an_mlp_hiding_a_convolution_is_caught(quick, tmp_path):
    r = train(quick, tmp_path / "out", "mlp_with_conv")
    assert r.mistake == "mlp_not_mlp" and "a convolution (Conv2d)" in r.message


def test_tampered_outputs_are_read_as_data(prepared, tmp_path):
    _fake_outputs(tmp_path / "out", prepared, 0.9, 0.2)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    report["CNN"]["train_seconds"] = "soon"
    (tmp_path / "out" / "report.json").write_text(json.dumps(report))
    np.save(tmp_path / "out" / "pred_MLP.npy", np.array(["a"] * len(prepared.test_labels)))
    r = check_q1(tmp_path / "out", prepared)["CNN"]
    assert r.mistake == "mlp_failed" and "no predictions" in r.message


def test_the_one_cycle_schedule_warms_up_to_the_budget_rate_then_anneals():
    import torch

    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([weight], lr=3e-3)
    schedule = probe._schedule(optimizer, {"schedule": "onecycle", "lr": 3e-3}, 100)
    rates = []
    for _ in range(100):
        optimizer.step()
        schedule.step()
        rates.append(optimizer.param_groups[0]["lr"])
    assert max(rates) == pytest.approx(3e-3, rel=1e-3) and rates.index(max(rates)) < 40
    assert rates[0] < 3e-4 and rates[-1] < 1e-5
    assert probe._schedule(optimizer, {"schedule": "constant", "lr": 1e-3}, 100) is None
    with pytest.raises(ValueError, match="unknown learning-rate schedule"):
        probe._schedule(optimizer, {"schedule": "cosine", "lr": 1e-3}, 100)


def test_the_cifar10_budgets_use_the_measured_recipe_and_tell_the_student_why(dataset, tmp_path):
    for profile in ("cpu", "gradescope"):
        b = BUDGETS[("cifar10", profile)]
        assert (b.n_train, b.n_test, b.n_holdout, b.epochs, b.batch_size, b.schedule,
                b.threads) == (20_000, 10_000, 30_000, 2, 64, "onecycle", 1)
        assert b.rationale
    budget = replace(BUDGETS[("cifar10", "cpu")], n_train=100, n_test=50)
    prepared = prepare_q1(tmp_path / "in", config=Q1Config(device="cpu"), dataset=dataset,
                          data_note="test data", steps=TRAIN, budget=budget)
    assert json.loads((prepared.inputs / "config.json").read_text())["schedule"] == "onecycle"
    _fake_outputs(tmp_path / "out", prepared, 0.9, 0.2)
    message = check_q1(tmp_path / "out", prepared)["CNN"].message
    assert "one-cycle learning rate up to 0.003" in message and budget.rationale in message
    assert "tested on the same 2,950 images neither trained on (50 test images and 2,900 " \
        "training images left out of the 100)" in message


def test_held_out_training_images_join_the_test_images_and_none_was_trained_on(dataset,
                                                                                tmp_path):
    """Budget.n_holdout: the test images are the test split's, then training-split images
    outside the training subset, with their own labels; the training and test subsets do not
    change with it."""
    base = replace(BUDGETS[("synthetic", "cpu")], n_train=500, n_test=200)
    plain, held = (prepare_q1(tmp_path / name, config=Q1Config(device="cpu"), dataset=dataset,
                              data_note="test data", steps=TRAIN, budget=budget)
                   for name, budget in (("plain", base), ("held", replace(base, n_holdout=300))))
    load = lambda p, f: np.load(p.inputs / f)  # noqa: E731
    assert np.array_equal(load(plain, "train_x.npy"), load(held, "train_x.npy"))
    test_x = load(held, "test_x.npy")
    assert test_x.shape == (500, 3, 32, 32) and held.test_labels.shape == (500,)
    assert np.array_equal(test_x[:200], load(plain, "test_x.npy"))
    assert np.array_equal(held.test_labels[:200], plain.test_labels)
    where = {dataset.train_x[i].tobytes(): i for i in range(len(dataset.train_y))}
    trained = {x.tobytes() for x in load(held, "train_x.npy")}
    extra = [x.tobytes() for x in test_x[200:]]
    assert len(set(extra)) == 300 and not set(extra) & trained
    assert [int(dataset.train_y[where[x]]) for x in extra] == held.test_labels[200:].tolist()
    everything = prepare_q1(tmp_path / "all", config=Q1Config(device="cpu"), dataset=dataset,
                            data_note="test data", steps=TRAIN,
                            budget=replace(base, n_holdout=10 ** 6))
    assert len(everything.test_labels) == 200 + len(dataset.train_y) - 500


@pytest.mark.parametrize(("profile", "share"), [("cpu", 1.0), ("gradescope", 0.5)])
def test_the_probe_has_the_wall_clock_its_cpu_caps_need_on_the_machine(profile, share):
    """The training caps count CPU seconds; at half a CPU (Gradescope) they take twice as long
    on the clock, and without training (no CIFAR-10) only q1a's and the inspection's time is
    left."""
    from autograder.q1 import probe_seconds

    config = Q1Config(profile=profile)
    budget = BUDGETS[("cifar10", profile)]
    assert budget.cpu_share == share

    def stand_in(steps):
        return type("P", (), {"budget": budget, "config": config, "steps": steps})()

    extra = config.probe_extra_seconds
    assert probe_seconds(stand_in(("translate", "train"))) == \
        pytest.approx((2 * budget.train_seconds + extra) / share)
    assert probe_seconds(stand_in(("translate", "inspect"))) == pytest.approx(extra / share)
