"""The CNN-versus-MLP decision: a paired exact comparison, tested at its boundary without
training (hand-made predictions; the oracle is exact rational arithmetic, not our code)."""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction
from math import comb
from pathlib import Path

import numpy as np
import pytest

from autograder.checks.q1_decision import binomial_upper_tail, clopper_pearson, compare
from autograder.q1 import Q1Config, check_q1, prepare_q1, synthetic
from autograder.settings.q1 import BUDGETS


def exact_tail(k: int, n: int, p: Fraction = Fraction(1, 2)) -> Fraction:
    """P(X >= k), X ~ Binomial(n, p), as an exact fraction."""
    return sum((comb(n, j) * p ** j * (1 - p) ** (n - j) for j in range(max(k, 0), n + 1)),
               Fraction(0))


def smallest_winning_b(discordant: int, confidence: float) -> int:
    """The fewest CNN-only images (of ``discordant``) for which McNemar's exact one-sided test
    rejects "no difference" at level (1 - confidence) / 2."""
    alpha = Fraction(1 - confidence).limit_denominator(10**6) / 2
    outcomes, tail = 2 ** discordant, 2 ** discordant  # tail: the outcomes with X >= b
    for b in range(discordant + 1):
        if Fraction(tail, outcomes) < alpha:  # = exact_tail(b, discordant), summed once
            return b
        tail -= comb(discordant, b)
    raise AssertionError(f"no b of {discordant} wins at confidence {confidence}")


def paired(n: int, both: int, cnn_only: int, mlp_only: int):
    """Labels and two prediction vectors with the given agreement counts."""
    labels = np.arange(n) % 10
    cnn, mlp = (labels + 1) % 10, (labels + 1) % 10  # wrong by default
    k = 0
    for count, targets in ((both, (cnn, mlp)), (cnn_only, (cnn,)), (mlp_only, (mlp,))):
        for t in targets:
            t[k:k + count] = labels[k:k + count]
        k += count
    return cnn, mlp, labels


@pytest.mark.parametrize("k, n, p", [(0, 5, 0.5), (3, 5, 0.5), (5, 5, 0.5), (6, 5, 0.5),
                                     (17, 30, 0.5), (40, 100, 0.3), (1, 1, 0.999)])
def test_binomial_tail_matches_exact_sums(k, n, p):
    want = float(exact_tail(k, n, Fraction(p).limit_denominator(10**6)))
    assert binomial_upper_tail(k, n, p) == pytest.approx(want, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize("k, n, confidence", [(0, 10, 0.95), (3, 10, 0.95), (10, 10, 0.95),
                                              (120, 200, 0.99), (57, 60, 0.9)])
def test_clopper_pearson_meets_its_definition(k, n, confidence):
    low, high = clopper_pearson(k, n, confidence)
    alpha = (1 - confidence) / 2
    assert 0 <= low <= k / n <= high <= 1
    if k > 0:
        assert binomial_upper_tail(k, n, low) == pytest.approx(alpha, rel=1e-6)
    if k < n:
        assert 1 - binomial_upper_tail(k + 1, n, high) == pytest.approx(alpha, rel=1e-6)


BOUNDARY = [
    # (test images, discordant pairs, confidence)
    (2000, 10, 0.95),
    (2000, 60, 0.95),
    (2000, 400, 0.95),
    (1000, 25, 0.99),
    (500, 7, 0.9),
]


@pytest.mark.parametrize("n, discordant, confidence", BOUNDARY)
def test_the_decision_flips_exactly_at_the_exact_tests_boundary(n, discordant, confidence):
    b = smallest_winning_b(discordant, confidence)
    both = 300
    wins = compare(*paired(n, both, b, discordant - b), confidence)
    loses = compare(*paired(n, both, b - 1, discordant - b + 1), confidence)
    assert wins.cnn_wins() and wins.low > 0 and wins.p_value < (1 - confidence) / 2
    assert not loses.cnn_wins() and loses.low <= 0 and loses.p_value >= (1 - confidence) / 2
    assert wins.difference == pytest.approx((2 * b - discordant) / n)
    assert wins.low <= wins.difference <= wins.high


def test_interval_and_test_agree_everywhere():
    for discordant in (1, 2, 5, 13, 40):
        for b in range(discordant + 1):
            c = compare(*paired(600, 100, b, discordant - b), 0.95)
            assert c.cnn_wins() == (c.p_value < 0.025), (discordant, b, c)


def test_a_larger_difference_at_the_same_accuracy_gap_needs_more_evidence():
    """Same CNN - MLP difference (+1 point of 1000), but with more disagreement: less sure."""
    tight = compare(*paired(1000, 400, 10, 0), 0.95)
    noisy = compare(*paired(1000, 300, 110, 100), 0.95)
    assert tight.difference == pytest.approx(noisy.difference) == pytest.approx(0.01)
    assert tight.cnn_wins() and not noisy.cnn_wins()


def test_no_disagreement_is_no_evidence():
    c = compare(*paired(100, 60, 0, 0), 0.95)
    assert (c.low, c.high, c.p_value, c.cnn_wins()) == (0.0, 0.0, 1.0, False)


@pytest.mark.parametrize("bad", [dict(confidence=1.0), dict(confidence=0.2),
                                 dict(size=0), dict(mismatch=True)])
def test_invalid_comparisons_are_refused(bad):
    cnn, mlp, labels = paired(max(bad.get("size", 10), 0), 0, 0, 0)
    if bad.get("mismatch"):
        mlp = mlp[:-1]
    with pytest.raises(ValueError):
        compare(cnn, mlp, labels, bad.get("confidence", 0.95))


# --- the verdict on hand-made probe outputs at the boundary ---------------------------------


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("decision")
    ds = synthetic.load(synthetic.ensure(root / "data", n_train=100, n_test=1000))
    budget = replace(BUDGETS[("synthetic", "cpu")], n_train=100, n_test=1000)
    return prepare_q1(root / "in", config=Q1Config(device="cpu"), dataset=ds,
                      data_note="the generated offline dataset", steps=("train",), budget=budget)


def write_outputs(outputs: Path, prepared, both: int, cnn_only: int, mlp_only: int) -> None:
    """Probe outputs whose predictions have the given agreement with the test labels."""
    labels = prepared.test_labels
    outputs.mkdir()
    wrong = (labels + 1) % 10
    cnn, mlp = wrong.copy(), wrong.copy()
    cnn[:both + cnn_only] = labels[:both + cnn_only]
    mlp[:both] = labels[:both]
    mlp[both + cnn_only:both + cnn_only + mlp_only] = \
        labels[both + cnn_only:both + cnn_only + mlp_only]
    report = {"device": "cpu", "done": True}
    for name, pred in (("CNN", cnn), ("MLP", mlp)):
        np.save(outputs / f"pred_{name}.npy", pred)
        report[name] = {"ok": True, "conv_modules": ["Conv2d"] if name == "CNN" else [],
                        "conv_ran": name == "CNN", "ops": ["conv", "linear"] if name == "CNN"
                        else ["linear"], "train_seconds": 2.0, "eval_seconds": 0.5,
                        "epochs_done": 3, "stopped_early": False}
    (outputs / "report.json").write_text(json.dumps(report))


def test_the_grade_flips_at_the_boundary_with_the_floor_met(prepared, tmp_path):
    n, cfg = len(prepared.test_labels), prepared.config
    discordant = 40
    b = smallest_winning_b(discordant, cfg.confidence)
    both = int(0.65 * n)  # CNN >= 65% > floor, MLP >= floor of a working MLP
    write_outputs(tmp_path / "win", prepared, both, b, discordant - b)
    write_outputs(tmp_path / "lose", prepared, both, b - 1, discordant - b + 1)
    win = check_q1(tmp_path / "win", prepared)["CNN"]
    lose = check_q1(tmp_path / "lose", prepared)["CNN"]
    assert win.passed, win.message
    assert lose.score == pytest.approx(cfg.credit.floor_only * lose.max_score)
    assert lose.mistake == "cnn_small_margin"
    for r in (win, lose):
        for words in ("CNN ", "MLP ", "difference", f"{cfg.confidence:.0%} interval [",
                      "generated offline dataset", "device cpu", "5.0 s", "McNemar"):
            assert words in r.message, (words, r.message)


def test_a_higher_confidence_asks_for_more_evidence(prepared, tmp_path):
    discordant = 40
    b = smallest_winning_b(discordant, 0.95)
    assert b < smallest_winning_b(discordant, 0.999)
    strict = replace(prepared, config=replace(prepared.config, confidence=0.999))
    write_outputs(tmp_path / "out", prepared, 700, b, discordant - b)
    assert check_q1(tmp_path / "out", prepared)["CNN"].passed
    assert not check_q1(tmp_path / "out", strict)["CNN"].passed


def test_a_margin_in_configuration_raises_the_bar(prepared, tmp_path):
    write_outputs(tmp_path / "out", prepared, 650, 60, 0)  # +6 points, interval about [+4.6, +6]
    assert check_q1(tmp_path / "out", prepared)["CNN"].passed
    demanding = replace(prepared, budget=replace(prepared.budget, margin=0.08))
    r = check_q1(tmp_path / "out", demanding)["CNN"]
    assert not r.passed and "above 8 points" in r.message


def test_estimated_budgets_say_so(prepared, tmp_path):
    write_outputs(tmp_path / "out", prepared, 700, 100, 10)
    assert "estimate" not in check_q1(tmp_path / "out", prepared)["CNN"].message
    guessed = replace(prepared, budget=replace(prepared.budget, estimate=True))
    assert "estimates" in check_q1(tmp_path / "out", guessed)["CNN"].message
    assert BUDGETS[("cifar10", "gpu")].estimate
    assert not any(BUDGETS[(d, p)].estimate for d in ("synthetic", "cifar10")
                   for p in ("cpu", "gradescope"))
