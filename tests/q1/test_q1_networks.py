"""Q1a verdicts over many networks students write (table-driven, ``q1_networks.py``).

Every convolution-only network passes whatever its reach, padding or normalisation (and the
probe measures its reach exactly); every network that mixes positions fails with a reason; every
PixelMLP that is not fully connected over the image fails with a reason.
"""

from __future__ import annotations

import json

import pytest

from autograder.q1 import check_q1, prepare_q1, probe, synthetic

try:
    from tests import q1_fixtures as fx
    from tests import q1_networks as nets
except ImportError:
    import q1_fixtures as fx
    import q1_networks as nets

STEPS = ("EquivariantNet", "PixelMLP")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("q1nets")
    ds = synthetic.load(synthetic.ensure(root / "data", n_train=100, n_test=100))
    return prepare_q1(root / "inputs", dataset=ds, data_note="test data", steps=STEPS)


def grade(prepared, tmp_path, source: str):
    ns = fx.namespace()
    exec(compile(source, "<notebook>", "exec"), ns)  # noqa: S102
    outputs = tmp_path / "outputs"
    probe.probe(ns, prepared.inputs, outputs)
    return check_q1(outputs, prepared), json.loads((outputs / "report.json").read_text())


def test_the_tables_are_large_enough():
    assert len(nets.EQUIVARIANT) >= 10
    assert len(nets.NOT_EQUIVARIANT) + len(nets.NOT_AN_MLP) >= 6
    reaches = {n.reach for n in nets.EQUIVARIANT if n.reach is not None}
    assert min(reaches) == 0 and max(reaches) > 2 * prepared_margin()


def prepared_margin() -> int:
    """The old fixed crop: reaches beyond it were once marked not equivariant."""
    return 8


@pytest.mark.parametrize("net", nets.EQUIVARIANT, ids=[n.id for n in nets.EQUIVARIANT])
def test_convolution_only_networks_are_equivariant(prepared, tmp_path, net):
    results, report = grade(prepared, tmp_path, net.source)
    r = results["EquivariantNet"]
    assert r.passed, r.message
    rec = report["EquivariantNet"]
    if net.reach is not None:
        assert rec["reach"] == net.reach, rec
    # an interior was left: reach, slack and shift fit inside the image chosen
    cfg = prepared.config
    largest = max(max(abs(dx), abs(dy)) for dx, dy in cfg.equivariance_shifts)
    assert rec["image_size"] - 2 * (rec["reach"] + cfg.equivariance_margin + largest) >= \
        cfg.equivariance_min_interior
    assert f"{rec['image_size']}x{rec['image_size']}" in r.message


@pytest.mark.parametrize("net", nets.NOT_EQUIVARIANT, ids=[n.id for n in nets.NOT_EQUIVARIANT])
def test_networks_that_mix_positions_fail_with_a_reason(prepared, tmp_path, net):
    r = grade(prepared, tmp_path, net.source)[0]["EquivariantNet"]
    assert r.score == 0, r.message
    assert r.mistake == (net.mistake or None), r.message
    for words in net.words:
        assert words in r.message, (words, r.message)


@pytest.mark.parametrize("net", nets.NOT_AN_MLP, ids=[n.id for n in nets.NOT_AN_MLP])
def test_a_pixel_mlp_that_is_not_fully_connected_fails(prepared, tmp_path, net):
    r = grade(prepared, tmp_path, net.source)[0]["PixelMLP"]
    assert r.score == pytest.approx(prepared.config.credit.pixel_mlp_not_fc * r.max_score)
    assert not r.passed and r.mistake == net.mistake, r.message
    for words in net.words:
        assert words in r.message, (words, r.message)


@pytest.mark.parametrize("net", nets.MLPS, ids=[n.id for n in nets.MLPS])
def test_fully_connected_pixel_mlps_pass(prepared, tmp_path, net):
    results, report = grade(prepared, tmp_path, net.source)
    assert results["PixelMLP"].passed, results["PixelMLP"].message
    assert report["PixelMLP"]["reach"] >= prepared.config.mlp_min_reach * 32


def test_a_network_too_wide_to_compare_is_not_called_not_equivariant(prepared, tmp_path):
    """A convolution-only reach past the largest image tried leaves no interior: the student
    is told it could not be checked (never "not equivariant"), and to ask staff."""
    from dataclasses import replace

    small = replace(prepared.config, equivariance_max_size=64)
    tight = prepare_q1(tmp_path / "in", config=small, dataset=synthetic.load(
        synthetic.ensure(tmp_path / "d", n_train=50, n_test=50)), data_note="t", steps=STEPS)
    deep = next(n for n in nets.EQUIVARIANT if n.id == "dilated_to_63")
    r = grade(tight, tmp_path, deep.source)[0]["EquivariantNet"]
    assert r.score == 0 and r.mistake == "equivariant_too_wide", r.message
    assert "64x64" in r.message and "course staff" in r.message
    assert "Not equivariant" not in r.message
