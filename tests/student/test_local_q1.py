"""``grader.check("q1a")``/``("q1b")`` give the autograder's verdicts on Q1's code.

Every Q1 case of the model fixtures (``tests/q1_fixtures.py``, ``tests/q1_networks.py``) goes
through the local check (``student.notebook.question_result``, what the otter test calls) and
through grading: in-process (the probe and ``check_q1`` on ``prepare_q1``'s inputs), and, in the
slow test, through the grading pipeline (the notebook run in the sandbox, the probe after it,
training included). q1a's verdicts must be equal in every field; q1b's CNN-versus-MLP comparison
is the autograder's alone, but what needs no training (a CNN that fails or does not convolve, an
MLP that fails, convolves or pools) must cost the same and read the same.
"""

from __future__ import annotations

import ast
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

torch = pytest.importorskip("torch")

from autograder import worksheet  # noqa: E402
from autograder.q1 import check_q1, prepare_q1, probe, probe_seconds, synthetic  # noqa: E402
from autograder.checks import q1 as q1_checks  # noqa: E402  (after autograder.q1: import cycle)
from autograder.q1.prepare import Q1A_STEPS, prepare_checks  # noqa: E402
from autograder.report.results import Stage  # noqa: E402
from autograder.settings import q1 as q1_settings  # noqa: E402
from autograder.settings.limits import Limits  # noqa: E402
from autograder.student import notebook, q1  # noqa: E402
from tests import q1_fixtures as fx  # noqa: E402
from tests import q1_networks as nets  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

Q1A = {"translate", "EquivariantNet", "PixelMLP"}
#: q1b verdicts that do not depend on the training, and so must be given before it.
STATIC = {"cnn_failed", "cnn_no_conv", "cnn_pointwise_conv", "mlp_failed", "mlp_not_mlp"}
#: q1b verdicts the training decides (None: full marks). Any other verdict of the grader must be
#: given before training too: a new rule in ``check_training`` fails the slow test until
#: ``check_before_training`` gives it.
TRAINED = {None, "cnn_small_margin", "cnn_under_floor", "cnn_loses"}


def cases() -> list[tuple[str, str, str]]:
    """(case id, the name it defines, its source) for every Q1 case of the fixtures."""
    found = [(case, *fx.MISTAKES[case]) for case in fx.MISTAKES]
    found += [(case, *fx.ALTERNATIVES[case]) for case in fx.ALTERNATIVES]
    found += [(n.id, "EquivariantNet", n.source) for n in nets.EQUIVARIANT + nets.NOT_EQUIVARIANT]
    found += [(n.id, "PixelMLP", n.source) for n in nets.NOT_AN_MLP + nets.MLPS]
    return found


CASES = cases()
Q1A_CASES = [c for c in CASES if c[1] in Q1A]
#: q1a cases compared in `make test SLOW=0` (the slow tests compare every case, twice).
QUICK = {"translate_direction", "translate_pad", "equivariant_pool_upsample",
         "equivariant_position_bias", "three_3x3", "one_by_one_convs"}
Q1A_PARAMS = [pytest.param(c, id=c[0], marks=() if c[0] in QUICK else pytest.mark.slow)
              for c in Q1A_CASES]


def namespace(*sources: str) -> dict:
    """The reference notebook's names with ``sources`` run after them, as a notebook would."""
    ns = fx.namespace()
    for source in sources:
        exec(compile(source, "<notebook>", "exec"), ns)  # noqa: S102
    return ns


def local(question_id: str, ns: dict) -> dict:
    """Variable -> the verdict ``grader.check(question_id)`` shows for these names."""
    return {c.variable: c for c in notebook.question_result(question_id, ns).checks}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return synthetic.load(synthetic.ensure(tmp_path_factory.mktemp("data"), n_train=300,
                                           n_test=200))


@pytest.fixture(scope="module")
def graded_q1a(dataset, tmp_path_factory):
    return prepare_q1(tmp_path_factory.mktemp("inputs"), dataset=dataset, data_note="test data",
                      steps=Q1A_STEPS)


def test_every_fixture_case_is_compared():
    names = {name for _, name, _ in CASES}
    assert names == {"translate", "EquivariantNet", "PixelMLP", "CNN", "MLP"}
    assert len(Q1A_CASES) >= 40 and QUICK <= {c[0] for c in Q1A_CASES}


@pytest.mark.parametrize("case", Q1A_PARAMS)
def test_q1a_verdicts_here_are_the_graders(case, graded_q1a, tmp_path):
    _, name, source = case
    ns = namespace(source)
    probe.probe(ns, graded_q1a.inputs, tmp_path / "out")
    graded = check_q1(tmp_path / "out", graded_q1a)[name]
    assert local("q1a", ns)[name] == graded


def test_the_local_inputs_are_the_graders(graded_q1a, tmp_path):
    here = prepare_checks(tmp_path, budget=q1.graded_budget(), dataset="cifar10", data_note="x")
    for f in ("translate_x3.npy", "translate_x4.npy", "equiv_x.npy"):
        assert (here.inputs / f).read_bytes() == (graded_q1a.inputs / f).read_bytes(), f
    assert here.translate_cases == graded_q1a.translate_cases
    mine, theirs = (json.loads((p.inputs / "config.json").read_text()) for p in (here, graded_q1a))
    probe_keys = ("seed", "translate_cases", "shifts", "margin", "min_interior", "max_size",
                  "reach_rtol", "max_params", "image_size")
    assert {k: mine[k] for k in probe_keys} == {k: theirs[k] for k in probe_keys}


def test_the_reference_passes_every_local_q1_check():
    ns = fx.namespace()
    checks = {**local("q1a", ns), **local("q1b", ns)}
    for name in ("translate", "EquivariantNet", "PixelMLP"):
        assert checks[name].passed and checks[name].stage is Stage.RUN, checks[name]
    cnn = checks["CNN"]
    assert cnn.passed and cnn.stage is Stage.NOT_RUN_HERE and cnn.max_score == 0
    assert "return logits" in cnn.message and "run by the autograder" in cnn.message


@pytest.mark.parametrize("variant, mistake, score", [
    ("cnn_no_conv", "cnn_no_conv", 0), ("cnn_crash", "cnn_failed", 0),
    ("cnn_wrong_shape", "cnn_failed", 0), ("cnn_too_large", "cnn_failed", 0),
    ("cnn_not_a_class", "cnn_failed", 0), ("cnn_required_args", "cnn_failed", 0),
    ("cnn_bad_view", "cnn_failed", 0), ("mlp_with_conv", "mlp_not_mlp", 1.5)])
def test_q1b_says_at_once_what_needs_no_training(variant, mistake, score):
    cnn = local("q1b", fx.namespace(variant))["CNN"]
    assert (cnn.mistake, cnn.score, cnn.max_score) == (mistake, score, 3), cnn.message
    assert "run by the autograder" in cnn.message


def test_q1b_probabilities_are_not_logits():
    cnn = local("q1b", fx.namespace("softmax_cuda_cnn"))["CNN"]
    assert cnn.max_score == 0 and "return logits" not in cnn.message
    assert "softmax probabilities" in cnn.message and "asks for CUDA" in cnn.message


def test_the_recipe_shown_is_the_one_in_the_settings(monkeypatch):
    budget = replace(q1.graded_budget(), n_train=12_345, epochs=7, lr=0.0042, batch_size=48,
                     n_test=678, n_holdout=901, floor=0.61, train_seconds=99.0)
    monkeypatch.setitem(q1_settings.BUDGETS, q1.GRADED_WITH, budget)
    message = local("q1b", fx.namespace())["CNN"].message
    rate = "learning rate up to 0.0042" if budget.schedule == "onecycle" else "lr 0.0042"
    for shown in ("12,345 images", "7 epochs", rate, "batch 48",
                  "the same 1,579 images neither trained on (678 test images and 901 training "
                  "images left out of the 12,345)", ">= 61%", "up to 99 s per model"):
        assert shown in message, (shown, message)


def test_without_torch_q1_says_what_to_do_in_one_sentence_and_q2_is_unaffected(monkeypatch):
    monkeypatch.setattr(q1, "torch_missing", lambda: True)
    ns = {"q1a_equivariant": "cnn", "q1a_source": "architecture", "q2a_out_dim": 7}
    checks = notebook.question_result("q1a", ns).checks
    first = checks[0]
    assert first.message == q1.TORCH_NEEDED and first.score == 0 and first.max_score == 3
    assert first.variable == "translate, EquivariantNet, PixelMLP"
    assert [c.passed for c in checks[1:]] == [True, True]  # the written answers are checked
    said = q1.TORCH_NEEDED
    assert said.endswith(".") and said.count(". ") == 0 and "pip install torch" in said
    q2a = notebook.question_result("q2a", ns).checks
    assert q2a[0].passed and all(q1.TORCH_NEEDED not in c.message for c in q2a)


def test_the_torch_sentence_is_the_notebooks():
    master = json.loads((ROOT / "solutions" / "master" / "dis05.ipynb").read_text())
    for cell in master["cells"]:
        for node in ast.walk(ast.parse("".join(cell["source"]))) if cell["cell_type"] == "code" \
                else ():
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == \
                    "TORCH_NEEDED":
                assert ast.literal_eval(node.value) == q1.TORCH_NEEDED
                return
    pytest.fail("the master notebook defines no TORCH_NEEDED")


# --- through the grading pipeline ------------------------------------------------------------

def notebooks(folder: Path) -> list[tuple[Path, dict[str, str]]]:
    """The cases grouped into notebooks, at most one per name in each (the reference for the
    rest): (notebook, name -> case id)."""
    columns: dict[str, list[tuple[str, str]]] = {}
    for case, name, source in CASES:
        columns.setdefault(name, []).append((case, source))
    books = []
    for k in range(max(len(c) for c in columns.values())):
        chosen = {name: column[k] for name, column in columns.items() if k < len(column)}
        cells = [fx.PRELUDE] + [text for name, text in fx.REFERENCE.items()
                                if name not in chosen] + [s for _, s in chosen.values()]
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        path = folder / f"cases-{k:02d}.ipynb"
        nbformat.write(nb, path)
        books.append((path, {name: case for name, (case, _) in chosen.items()}))
    return books


def verdict_part(message: str, prepared) -> str:
    """A local q1b message without what it says about the autograder's training to come."""
    return message.split(" The autograder gives at most")[0].split(
        " " + q1_checks.before_training_context(prepared))[0]


@pytest.mark.slow
def test_local_verdicts_are_those_of_the_grading_pipeline(dataset, tmp_path):
    from autograder.grading import pipeline

    budget = q1_settings.Budget(n_train=300, n_test=200, epochs=1, floor=0.4, margin=0.0,
                                mlp_floor=0.15)
    prepared = prepare_q1(tmp_path / "inputs", dataset=dataset, data_note="test data",
                          budget=budget)
    run = pipeline.Run(Limits(), worksheet.QUESTIONS, prepared,
                       probe_seconds=probe_seconds(prepared))
    books = notebooks(tmp_path)
    with ThreadPoolExecutor(2) as pool:
        graded = list(pool.map(lambda book: pipeline.grade_submission(book[0], run), books))
    context = prepare_checks(tmp_path / "local", budget=q1.graded_budget(), dataset="cifar10",
                             data_note=q1.GRADED_DATA)
    compared = 0
    for (path, chosen), result in zip(books, graded):
        assert result.status_text == "ok", (path, result.log[-3000:])
        theirs = {c.variable: c for q in result.questions for c in q.checks}
        ns = namespace(*(source for case, name, source in CASES if chosen.get(name) == case))
        mine = {**local("q1a", ns), **local("q1b", ns)}
        for name in Q1A:
            assert mine[name] == theirs[name], (chosen.get(name), mine[name], theirs[name])
            compared += name in chosen
        cnn, grader = mine["CNN"], theirs["CNN"]
        if cnn.mistake in STATIC:  # decided without training: the same cost and words
            assert grader.mistake == cnn.mistake, (chosen, cnn, grader)
            assert grader.score <= cnn.score, (chosen, cnn, grader)
            if cnn.score == 0:
                assert grader.score == 0
            assert verdict_part(cnn.message, context) in grader.message, (cnn, grader)
        else:  # the comparison is the autograder's: nothing to lose before it
            assert cnn.max_score == 0 and grader.mistake in TRAINED, (chosen, cnn, grader)
        compared += ("CNN" in chosen) + ("MLP" in chosen)
    assert compared == len(CASES)
