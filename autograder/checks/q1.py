"""Grading-process side, after the student's process ran the probe: verdicts with feedback.

``check_q1(outputs, prepared)`` reads what ``probe.py`` wrote (untrusted: validated as data,
arrays loaded without pickle), compares with the reference translate and the test labels kept
in ``prepared``, and returns one ``CheckResult`` per program variable of Q1: translate,
EquivariantNet, PixelMLP and CNN (CNN's check also covers the class MLP it is compared with).
The same functions give ``grader.check``'s verdicts in the student's kernel
(``student/q1.py``); there q1b is checked before training (``check_before_training``: what
``check_training`` decides whatever the accuracies, in the same words).

q1b credit (fractions of CNN's points, ``config.Credit``). "Clearly wins" is the paired exact
comparison of ``checks/q1_decision.py`` on the same test images: the interval of CNN - MLP at
``Q1Config.confidence`` lies wholly above ``Budget.margin`` (0 by default).
  full         CNN >= floor, clearly wins, and the MLP learnt something (>= mlp_floor)
  floor_only   CNN >= floor but does not clearly win, or the MLP failed or learnt nothing
  mlp_not_mlp  CNN >= floor but the "MLP" runs a convolution or pooling
  beats_only   CNN under the floor, but clearly ahead of a working MLP
  zero         otherwise, and whenever the "CNN" has no convolution, crashed, returned the
               wrong shape, has too many parameters or did not finish training in time
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from autograder.checks.q1_decision import compare
from autograder.q1.prepare import NO_DATASET, Prepared, expected_translate
from autograder.q1.probe import OP_WORDS, REPORT, reference_translate
from autograder.report.results import CheckResult, Stage, failed_check
from autograder.settings.q1 import Budget
from autograder.worksheet import Q1_QUESTIONS, Variable, variable

MAX_ARRAY_BYTES = 200 * 2**20
NOT_EQUIVARIANT_HINT = ("Layers that break equivariance: nn.Linear or flattening, a bias or "
                        "parameter with one value per pixel, pooling or strides followed by "
                        "upsampling. Use only convolutions with stride 1 and 'same' padding, "
                        "per-channel biases and pointwise nonlinearities.")

log = logging.getLogger(__name__)


def _variable(name: str) -> Variable:
    return variable(name, Q1_QUESTIONS)


def _result(name: str, fraction: float, message: str, *, stage: Stage = Stage.RUN,
            mistake: str | None = None) -> CheckResult:
    v = _variable(name)
    return CheckResult(variable=name, score=round(v.points * fraction, 6), max_score=v.points,
                       verdict=message, stage=stage, mistake=mistake, hidden=v.hidden)


def _read_report(outputs: Path) -> dict | None:
    path = outputs / REPORT
    try:
        if path.stat().st_size > 10 * 2**20:
            return None
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def probe_reached(outputs: str | Path | None) -> bool:
    """Whether the probe got to write its report (it does not when the notebook stopped first)."""
    return outputs is not None and _read_report(Path(outputs)) is not None


def _load(path: Path) -> np.ndarray | None:
    """A numeric array the probe wrote, or None if absent or unreadable (never unpickles)."""
    try:
        if path.stat().st_size > MAX_ARRAY_BYTES:
            return None
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    return array if isinstance(array, np.ndarray) and array.dtype.kind in "biuf" else None


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _record(report: dict, name: str) -> dict | None:
    rec = report.get(name)
    return rec if isinstance(rec, dict) else None


def _error_text(rec: dict) -> str:
    return str(rec.get("error", "failed"))[:600]


STOPPED_WHY = {
    "memory": "it used more memory than the grading machine allows: make it smaller (fewer "
              "channels or units, or pool earlier)",
    "timeout": "it ran past the time the grading machine allows: make it smaller or cheaper",
}
"""why the grader's process was killed (the execution's status), for ``not_probed``"""


def not_probed(report: dict | None, step: str, stopped: str = "") -> str:
    """What to tell a student whose Q1 answer the probe never reported: the model that was
    training when the process was killed (``report["underway"]``) and why (``stopped``: the
    execution's status, "memory" or "timeout"; "" when unknown)."""
    underway = report.get("underway") if report is not None and step == "train" else None
    if underway not in ("CNN", "MLP"):
        return ("The Q1 checks did not get to this answer: your notebook's process stopped "
                "(time or memory limit, or a crash) before it was probed.")
    why = STOPPED_WHY.get(stopped, "the process stopped (time or memory limit, or a crash)")
    return (f"The grader was training your {underway} when its process was stopped: {why}. "
            f"Your q1b comparison could not be made.")


def check_q1(outputs: str | Path, prepared: Prepared, stopped: str = "") -> dict[str, CheckResult]:
    """One verdict per Q1 program variable, from the probe's ``outputs`` directory;
    ``stopped``: why the process was killed, if it was (the execution's status)."""
    outputs = Path(outputs)
    report = _read_report(outputs)
    results = {}
    for step, name, check in checks():
        if step not in prepared.steps:
            continue
        rec = None if report is None else _record(report, name)
        if rec is None:
            results[name] = _result(name, 0, not_probed(report, step, stopped),
                                    stage=Stage.MISSING)
        else:
            try:
                results[name] = check(rec, report, outputs, prepared)
            except Exception:  # a bug of ours: the student is told, staff get the traceback
                log.exception("grader error while checking %s", name)
                results[name] = failed_check(_variable(name))
    return results


# ---------------------------------------------------------------------------------------------
# translate


def _diagnose_translate(actual: np.ndarray, x: np.ndarray, dx: int, dy: int) -> tuple[str, str]:
    """Name a known mistake that explains ``actual``, or a generic one."""
    if x.shape[-2:] != actual.shape[-2:] or x.shape != actual.shape:
        return "translate_shape", (f"returned shape {actual.shape} for an input of shape "
                                   f"{x.shape}; the output must keep the input's shape")
    known = [
        ("translate_wraps", np.roll(x, (dy, dx), axis=(-2, -1)),
         "wraps pixels around to the other side (like torch.roll) instead of filling with zeros"),
        ("translate_axes", reference_translate(x, dy, dx),
         "shifts along the wrong axes: dx must move along the width (last axis) and dy along "
         "the height"),
        ("translate_direction", reference_translate(x, -dx, -dy),
         "shifts the wrong way: positive dx moves the image right, positive dy moves it down"),
        ("translate_direction", reference_translate(x, -dx, dy),
         "shifts the wrong way along the width: positive dx moves the image right"),
        ("translate_direction", reference_translate(x, dx, -dy),
         "shifts the wrong way along the height: positive dy moves the image down"),
    ]
    for mistake, candidate, text in known:
        if np.allclose(actual, candidate, atol=1e-6):
            return mistake, text
    return "translate_values", "returned different values from a zero-filled shift"


def check_translate(rec: dict, report: dict, outputs: Path, prepared: Prepared) -> CheckResult:
    if not rec.get("ok"):
        return _result("translate", 0, f"translate could not be checked: {_error_text(rec)}")
    cases = rec.get("cases")
    if not isinstance(cases, list) or len(cases) != len(prepared.translate_cases):
        return _result("translate", 0, "the probe's record of translate is incomplete")
    failures = []  # (past_border, message, mistake)
    for i, (case, got) in enumerate(zip(prepared.translate_cases, cases)):
        key, dx, dy = case
        x = prepared.translate_input(key)
        past = abs(dx) >= x.shape[-1] or abs(dy) >= x.shape[-2]
        where = f"translate(x, {dx}, {dy}) for x of shape {x.shape}"
        actual = _load(outputs / f"translate_{i}.npy") if isinstance(got, dict) and got.get(
            "ok") else None
        if actual is None:
            error = got.get("error", "no output") if isinstance(got, dict) else "no output"
            failures.append((past, f"{where} {str(error)[:300]}", "translate_error"))
            continue
        expected = expected_translate(prepared, case)
        if actual.shape == expected.shape and np.allclose(actual, expected, atol=1e-6, rtol=0):
            continue
        mistake, text = _diagnose_translate(actual, x, dx, dy)
        failures.append((past, f"{where} {text}", mistake))
    n = len(cases)
    if not failures:
        return _result("translate", 1, f"Correct on all {n} shifts (3-D and 4-D inputs, "
                       "negative shifts and shifts past the border).")
    past, message, mistake = failures[0]
    summary = f"{len(failures)} of {n} shifts wrong; the first: {message}."
    if all(p for p, _, _ in failures):
        return _result("translate", 0.5, f"{summary} Every shift inside the image is right; a "
                       "shift at least as large as the image should give all zeros.",
                       mistake=mistake)
    return _result("translate", 0, summary + " The convention: out[..., i, j] = "
                   "x[..., i - dy, j - dx], zero where that falls outside x.", mistake=mistake)


# ---------------------------------------------------------------------------------------------
# equivariance


def _equivariance_errors(outs: np.ndarray, shifts, margin: int) -> list[tuple[tuple, float]]:
    """For each shift, max|net(T x) - T net(x)| on the interior (crop margin plus the shift)."""
    base, errors = outs[0], []
    h, w = base.shape[-2:]
    for (dx, dy), shifted in zip(shifts, outs[1:]):
        my, mx = margin + abs(dy), margin + abs(dx)
        diff = shifted - reference_translate(base, dx, dy)
        inside = diff[..., my:h - my, mx:w - mx]
        errors.append(((dx, dy), float(np.abs(inside).max()) if inside.size else float("inf")))
    return errors


def _as_image_outputs(outs: np.ndarray, size: int) -> np.ndarray | None:
    """(S, N, C, H, W) outputs; a flat (S, N, C*size*size) output is read as C images."""
    if outs.ndim == 5:
        return outs
    if outs.ndim == 3 and outs.shape[2] % (size * size) == 0 and outs.shape[2] > 0:
        return outs.reshape(*outs.shape[:2], -1, size, size)
    return None


def _scale(outs: np.ndarray) -> float:
    return float(np.abs(outs[0]).max()) if np.isfinite(outs).all() else float("nan")


def _int_fact(rec: dict, key: str, low: int, high: int) -> int | None:
    """An integer the probe reported, if it is one and lies in [low, high] (the record is
    untrusted data)."""
    value = rec.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return None
    return value


def _list_fact(rec: dict, key: str) -> list[str]:
    value = rec.get(key)
    return [str(v)[:80] for v in value[:20]] if isinstance(value, list) else []


def position_mixers(rec: dict) -> list[str]:
    """What in the network mixes positions, from the probe's record: pooling, strides,
    upsampling, flattening, fully connected layers, image-wide normalisation, parameters with
    one value per pixel."""
    found = [OP_WORDS[k] for k in OP_WORDS if k in _list_fact(rec, "ops")]
    pools = _list_fact(rec, "pool_modules")
    if pools and OP_WORDS["pool"] not in found:
        found.append(f"pooling ({', '.join(sorted(set(pools)))})")
    found += [f"a parameter with one value per pixel ({p})"
              for p in _list_fact(rec, "per_pixel_parameters")]
    return found


def _mixers_sentence(rec: dict) -> str:
    found = position_mixers(rec)
    return f" What mixes positions in your network: {'; '.join(found)}." if found else ""


def check_equivariant(rec: dict, report: dict, outputs: Path, prepared: Prepared) -> CheckResult:
    name, cfg = "EquivariantNet", prepared.config
    if not rec.get("ok"):
        return _result(name, 0, f"EquivariantNet could not be checked: {_error_text(rec)}")
    if not rec.get("conv_modules") and not rec.get("conv_ran"):
        return _result(name, 0, "EquivariantNet has no convolution layer (no nn.Conv2d). The "
                       "point of the question is that convolutions are equivariant.",
                       mistake="no_conv")
    size = _int_fact(rec, "image_size", cfg.image_size, cfg.equivariance_max_size) \
        or cfg.image_size
    setting_outs = {s: _load(outputs / f"equiv_{name}_{s}.npy") for s in ("init", "perturbed")}
    outs = setting_outs["init"]
    if (outs is None or outs.ndim != 5 or outs.shape[-2:] != (size, size)
            or outs.shape[1] not in (1, 2)):  # 2 images, or 1 on images over 128 pixels
        shape = None if outs is None else tuple(outs.shape[1:])
        n = cfg.image_size
        return _result(name, 0, f"EquivariantNet maps images of shape (2, 3, {n}, {n}) to "
                       f"{shape}; it must keep the height and width, (N, C', {n}, {n}): "
                       f"use stride 1 and padding k // 2.{_mixers_sentence(rec)}",
                       mistake="equivariant_shape")
    scale = _scale(outs)
    if not scale > 0:
        return _result(name, 0, "EquivariantNet's output is all zeros or not finite, so there "
                       "is nothing to compare.", mistake="equivariant_degenerate")
    shifts = cfg.equivariance_shifts
    largest = max(max(abs(dx), abs(dy)) for dx, dy in shifts)
    reach = _int_fact(rec, "reach", 0, size)
    if reach is None or size - 2 * (reach + cfg.equivariance_margin + largest) < 1:
        return _no_interior(rec, reach, size)
    crop = reach + cfg.equivariance_margin
    worst = []
    for setting, o in setting_outs.items():
        if o is None or o.shape != outs.shape:
            return _result(name, 0, "EquivariantNet's outputs after a change of weights are "
                           "missing or have another shape.")
        s = _scale(o)
        for shift, err in _equivariance_errors(o, shifts, crop):
            allowed = cfg.equivariance_rtol * s + cfg.equivariance_atol
            if not err <= allowed:
                worst.append((setting, shift, err, s))
    where = (f"on a {size}x{size} image, away from a {crop}-pixel border: its output pixels see "
             f"{reach} pixels around them, plus {cfg.equivariance_margin} of slack")
    if not worst:
        return _result(name, 1, f"Equivariant: net(translate(x)) == translate(net(x)) for "
                       f"shifts {list(shifts)} ({where}), with fresh weights and with randomly "
                       "changed weights, so it is the architecture, not the weights.")
    return _not_equivariant(worst, shifts, rec, where)


def _no_interior(rec: dict, reach: int | None, size: int) -> CheckResult:
    """EquivariantNet's verdict when its reach leaves no interior of the largest image to
    compare: a network too wide for the grader (tell staff) or one that mixes positions."""
    name = "EquivariantNet"
    larger = str(rec.get("larger_error") or "")[:300]
    if reach is not None and not larger and not position_mixers(rec):
        return _result(name, 0, f"EquivariantNet could not be checked: changing one input "
                       f"pixel changes output pixels {reach} pixels away even on a "
                       f"{size}x{size} image, the largest the grader tries, so no interior "
                       "is left to compare. Nothing in it mixes positions that the grader "
                       "can see; if it is convolution-only, tell course staff (they can "
                       "raise equivariance_max_size).", mistake="equivariant_too_wide")
    return _result(name, 0, f"Not equivariant: changing one input pixel changes output "
                   f"pixels {reach if reach is not None else 'arbitrarily far'} pixels away "
                   f"on a {size}x{size} image{f' (and {larger})' if larger else ''}, so the "
                   f"network mixes positions across the whole image and no interior is left "
                   f"to compare. A stack of convolutions only sees a fixed neighbourhood."
                   f"{_mixers_sentence(rec) or ' ' + NOT_EQUIVARIANT_HINT}",
                   mistake="equivariant_global")


def _not_equivariant(worst: list, shifts, rec: dict, where: str) -> CheckResult:
    """EquivariantNet's verdict when some shift fails: the first failure, and what the pattern
    of failures says (a position-dependent parameter, a stride, or a mixing layer)."""
    name = "EquivariantNet"
    setting, shift, err, s = worst[0]
    if all(st == "perturbed" for st, *_ in worst):
        why = ("It is equivariant at its initial weights only: once every parameter is moved "
               "randomly it is not, so some parameter depends on position (for instance a bias "
               "of shape (C, H, W) that starts at zero).")
        mistake = "equivariant_position_parameter"
    elif all((dx % 2, dy % 2) != (0, 0) for _, (dx, dy), *_ in worst) and any(
            (dx % 2, dy % 2) == (0, 0) for dx, dy in shifts):
        why = ("Even shifts pass and odd ones fail: pooling or a stride followed by upsampling "
               "only commutes with shifts by multiples of the stride.")
        mistake = "equivariant_stride"
    else:
        why = "" if position_mixers(rec) else NOT_EQUIVARIANT_HINT
        mistake = "not_equivariant"
    return _result(name, 0, f"Not equivariant: for shift (dx, dy) = {shift} ({setting} weights) "
                   f"max |net(translate(x)) - translate(net(x))| = {err:.3g} ({where}), "
                   f"relative to max |net(x)| = {s:.3g}. {why}{_mixers_sentence(rec)}".strip(),
                   mistake=mistake)


def _not_fully_connected(rec: dict) -> str | None:
    """Why PixelMLP is not a fully connected network, or None."""
    ops = _list_fact(rec, "ops")
    convs = _list_fact(rec, "conv_modules")
    if convs or "conv" in ops or "strided_conv" in ops:
        return (f"PixelMLP uses a convolution ({', '.join(sorted(set(convs))) or 'conv2d'}); "
                "the question asks for a fully connected network (nn.Linear layers on the "
                "flattened image)")
    if _list_fact(rec, "pool_modules") or "pool" in ops:
        return "PixelMLP uses pooling; it should be fully connected layers only"
    if not rec.get("linear_modules") and "linear" not in ops:
        return ("PixelMLP has no fully connected layer (no nn.Linear ran); it should be an MLP "
                "on the flattened image")
    return None


def check_pixel_mlp(rec: dict, report: dict, outputs: Path, prepared: Prepared) -> CheckResult:
    name, cfg = "PixelMLP", prepared.config
    if not rec.get("ok"):
        return _result(name, 0, f"PixelMLP could not be checked: {_error_text(rec)}")
    size = cfg.image_size
    raw = _load(outputs / f"equiv_{name}_init.npy")
    outs = None if raw is None else _as_image_outputs(raw, size)
    if outs is None or outs.shape[-2:] != (size, size):
        shape = None if raw is None else tuple(raw.shape[1:])
        return _result(name, 0, f"PixelMLP maps images of shape (2, 3, {size}, {size}) to "
                       f"{shape}; it should give an image-shaped output like EquivariantNet's, "
                       f"(2, C', {size}, {size}).", mistake="pixel_mlp_shape")
    credit = cfg.credit.pixel_mlp_not_fc
    structure = _not_fully_connected(rec)
    if structure:
        return _result(name, credit, structure + ".", mistake="pixel_mlp_not_fc")
    note = ""
    eq = _record(report, "EquivariantNet") or {}
    eq_shape = eq.get("output_shape") if eq.get("ok") else None
    if (isinstance(eq_shape, list) and eq.get("image_size") == size
            and list(outs.shape[1:]) != eq_shape):
        note = (f" (Its output shape {tuple(outs.shape[1:])} differs from EquivariantNet's "
                f"{tuple(eq_shape)}; the question asks for the same shape.)")
    scale = _scale(outs)
    if not scale > 0:
        return _result(name, 0, "PixelMLP's output is all zeros or not finite.",
                       mistake="pixel_mlp_degenerate")
    reach = _int_fact(rec, "reach", 0, size)
    wanted = cfg.mlp_min_reach * size
    if reach is None or reach < wanted:
        return _result(name, credit, f"PixelMLP is not fully connected across the image: "
                       f"changing one pixel changes output pixels only "
                       f"{reach if reach is not None else '?'} pixels away (at least "
                       f"{wanted:g} expected). A per-pixel network (a 1x1 convolution, or a "
                       "Linear layer applied to each pixel's channels) is equivariant; PixelMLP "
                       "should flatten the whole image into its first nn.Linear.",
                       mistake="pixel_mlp_per_pixel")
    errors = _equivariance_errors(outs, cfg.equivariance_shifts, 0)
    relative = max(err for _, err in errors) / scale
    if relative > cfg.mlp_min_error:
        return _result(name, 1, f"Not equivariant, as expected of a fully connected network: "
                       f"relative error {relative:.2f} when the input shifts.{note}")
    return _result(name, 0, f"PixelMLP behaves equivariantly (relative error {relative:.2g}, "
                   f"should exceed {cfg.mlp_min_error}). It should be an MLP on the flattened "
                   "image, whose weights differ at every position, so that shifting the input "
                   "does not just shift the output.", mistake="pixel_mlp_equivariant")


# ---------------------------------------------------------------------------------------------
# training


def _predictions(outputs: Path, name: str, labels: np.ndarray) -> np.ndarray | None:
    pred = _load(outputs / f"pred_{name}.npy")
    if pred is None or pred.shape != labels.shape or pred.dtype.kind not in "iu":
        return None
    return pred


def _model_problem(rec: dict | None, name: str, budget) -> str | None:
    """Why this model has no usable accuracy, or None."""
    if rec is None:
        return f"{name} was not trained (the process stopped first)"
    if not rec.get("ok"):
        return _error_text(rec)
    if rec.get("stopped_early"):
        return too_slow(rec, name, budget)
    return None


def too_slow(rec: dict, name: str, budget) -> str:
    """Why a model the probe stopped early has no verdict: its projected time for training and
    testing against the limit it would pass (the CPU budget, or the time the grading machine
    had left for it)."""
    projected, limit = _float(rec.get("projected_seconds")), _float(rec.get("limit_seconds"))
    unit = "s"
    if rec.get("stopped_by") == "deadline":
        beyond = (f"more than the {limit:.0f} s the grading machine had left for it" if limit > 0
                  else "more than the grading machine had left for it")
    else:  # the budget counts CPU seconds on a CPU (``probe._clock``)
        unit = "CPU-seconds" if rec.get("device") == "cpu" else "s"
        beyond = f"beyond the {budget.train_seconds:g} {unit} budget per model"
    done = f"it got through {_float(rec.get('epochs_done')):g} of {budget.epochs} epochs"
    if projected > 0:
        return (f"training and testing {name} would take about {projected:.0f} {unit} (projected "
                f"from the steps it ran; {done}), {beyond}, so it was stopped: make it smaller "
                "or cheaper")
    return f"training {name} was stopped ({done}), {beyond}: make it smaller or cheaper"


def _not_an_mlp(rec: dict) -> str | None:
    """Why q1b's MLP is not a multilayer perceptron (it runs a convolution or pooling), or
    None."""
    ops = _list_fact(rec, "ops")
    convs, pools = _list_fact(rec, "conv_modules"), _list_fact(rec, "pool_modules")
    parts = []
    if convs or "conv" in ops or "strided_conv" in ops:
        parts.append(f"a convolution ({', '.join(sorted(set(convs))) or 'functional conv'})")
    if pools or "pool" in ops:
        parts.append(f"pooling ({', '.join(sorted(set(pools))) or 'functional pooling'})")
    return " and ".join(parts) or None


def _habits(rec: dict, name: str) -> str:
    """Sentences on student habits the grader worked around, for the feedback."""
    notes = []
    if _float(rec.get("cuda_requests")) > 0:
        notes.append(f"{name} asks for CUDA (.cuda() or .to('cuda')) and no GPU graded it: the "
                     "grader ran those calls on its own device. Prefer "
                     "x.to(next(self.parameters()).device), or no device calls in forward.")
    if rec.get("probabilities"):
        notes.append(f"{name} returns softmax probabilities, not logits: nn.CrossEntropyLoss "
                     "expects logits, so the grader trained it with the equivalent loss (NLL of "
                     "the log). Drop the final softmax when you use nn.CrossEntropyLoss.")
    return "".join(" " + n for n in notes)


def recipe(b: Budget) -> str:
    """How the grader trains both classes (the budget's recipe), e.g. for ``training_context``."""
    rate = (f"a one-cycle learning rate up to {b.lr:g}" if b.schedule == "onecycle"
            else f"lr {b.lr:g}")
    return f"Adam with {rate}, batch {b.batch_size}, {b.epochs} epochs on {b.n_train:,} images"


def tested_on(b: Budget, n: int | None = None) -> str:
    """The images both models are tested on, e.g. for ``training_context``; ``n`` is how many
    there were (at most ``b.n_eval``)."""
    n = b.n_eval if n is None else n
    if b.n_holdout <= 0 or n <= b.n_test:
        return f"the same {n:,} other images"
    return (f"the same {n:,} images neither trained on ({b.n_test:,} test images and "
            f"{n - b.n_test:,} training images left out of the {b.n_train:,})")


def needed(b: Budget, confidence: float) -> str:
    """What q1b's full marks need under the budget ``b``."""
    wins = "beats the MLP" if b.margin <= 0 else f"beats the MLP by more than {b.margin:.0%}"
    return (f"CNN accuracy >= {b.floor:.0%}, an MLP that learns (>= {b.mlp_floor:.0%}), and a "
            f"{confidence:.0%} interval of CNN - MLP that lies wholly above "
            f"{b.margin * 100:g} points (the CNN {wins} beyond chance)")


def training_context(prepared: Prepared, report: dict, seconds: float) -> str:
    """What the grader did, for the feedback: recipe, data, device, time, and what is needed."""
    b, labels = prepared.budget, prepared.test_labels
    estimate = (" These CIFAR-10 settings are estimates, not yet measured on the grading "
                "machine." if b.estimate else "")
    return (f"The grader trained your classes itself on {prepared.data_note}: {recipe(b)}, "
            f"tested on {tested_on(b, len(labels))}; device "
            f"{report.get('device', '?')}, {seconds:.1f} s. Needed: "
            f"{needed(b, prepared.config.confidence)}."
            f"{' ' + b.rationale if b.rationale else ''}{estimate}")


def check_before_training(rec: dict, report: dict, outputs: Path,
                          prepared: Prepared) -> CheckResult:
    """q1b's verdict before any training (``grader.check`` in the student's kernel, probe step
    ``inspect``): what ``check_training`` would decide whatever the accuracies, in its words.
    Its score is the most the autograder can give: 0 for a CNN that fails or does not
    convolve, the credit of an MLP that fails or convolves (which the grader gives only when
    the CNN reaches the floor); with nothing wrong, 0 of 0, the comparison being the
    autograder's. In a class run without real CIFAR-10 (``NO_DATASET``) each verdict but those
    no accuracy changes is undecided instead: the review policy scores it, staff settle it."""
    result = _before_training(rec, report, prepared)
    if prepared.dataset != NO_DATASET or result.mistake in FINAL_BEFORE_TRAINING:
        return result
    # a class run without real CIFAR-10: the comparison is staff's to settle (the review queue)
    return replace(result, score=0.0, max_score=_variable("CNN").points, stage=Stage.UNDECIDED)


FINAL_BEFORE_TRAINING = frozenset({"cnn_failed", "cnn_no_conv", "cnn_pointwise_conv"})
"""verdicts that no accuracy changes: they stand even where the comparison was not run"""


def _before_training(rec: dict, report: dict, prepared: Prepared) -> CheckResult:
    credit, points = prepared.config.credit, _variable("CNN").points
    mlp = _record(report, "MLP")
    context = (waiting_context(prepared) if prepared.dataset == NO_DATASET
               else before_training_context(prepared))
    if not rec.get("ok"):
        return _result("CNN", 0, f"{CNN_FAILED.format(problem=_error_text(rec))} {context}",
                       mistake="cnn_failed")
    habits = _habits(rec, "CNN") + ("" if mlp is None else _habits(mlp, "MLP"))
    if not _has_conv(rec):
        return _result("CNN", credit.no_conv, f"{CNN_NO_CONV} {context}{habits}",
                       mistake="cnn_no_conv")
    if _pointwise_only(rec):
        return _result("CNN", credit.no_conv, f"{CNN_POINTWISE} {context}{habits}",
                       mistake="cnn_pointwise_conv")
    at_most = f"The autograder gives at most {{score:g}} of {points:g} points for this. "
    if mlp is None or not mlp.get("ok"):
        problem = "it was not checked" if mlp is None else _error_text(mlp)
        return _result("CNN", credit.floor_only, f"{MLP_FAILED.format(problem=problem)} "
                       f"{at_most.format(score=credit.floor_only * points)}{context}{habits}",
                       mistake="mlp_failed")
    impostor = _not_an_mlp(mlp)
    if impostor:
        return _result("CNN", credit.mlp_not_mlp, f"{MLP_NOT_MLP.format(impostor=impostor)} "
                       f"{at_most.format(score=credit.mlp_not_mlp * points)}{context}{habits}",
                       mistake="mlp_not_mlp")
    logits = "" if rec.get("probabilities") or mlp.get("probabilities") else ", return logits"
    return CheckResult("CNN", 0.0, 0.0, f"CNN and MLP build without arguments, map (N, 3, 32, "
                       f"32) to (N, 10){logits}, stay under {prepared.config.max_params:,} "
                       f"parameters; the CNN convolves and the MLP neither convolves nor pools. "
                       f"{context}{habits}", stage=Stage.NOT_RUN_HERE)


def waiting_context(prepared: Prepared) -> str:
    """Why q1b's comparison was not run in a class run without real CIFAR-10."""
    return (f"The CNN-versus-MLP comparison was not run: the autograder trains both classes on "
            f"real CIFAR-10 ({recipe(prepared.budget)}), and it had {prepared.data_note}. "
            f"Course staff will grade it once CIFAR-10 is in place; nothing is wrong with your "
            f"notebook on that account.")


def before_training_context(prepared: Prepared) -> str:
    """What the autograder will do with both classes, said before it does (its budget)."""
    b = prepared.budget
    return (f"The CNN-versus-MLP comparison is run by the autograder when you submit, not "
            f"here: it trains fresh copies of both classes itself on {prepared.data_note} "
            f"({recipe(b)}, tested on {tested_on(b)}), which takes up to {b.train_seconds:g} s per model. "
            f"Full marks need {needed(b, prepared.config.confidence)}."
            f"{' ' + b.rationale if b.rationale else ''}")



#: The verdicts q1b's code gets whatever the training gives (``check_training`` when grading,
#: ``check_before_training`` in the student's kernel say them in the same words).
CNN_FAILED = "Your CNN could not be evaluated: {problem}."
CNN_NO_CONV = ("Your CNN has no convolution layer (no nn.Conv2d among its modules, and no "
               "convolution ran), so it is not a CNN; the question compares convolution with a "
               "fully connected network.")
MLP_FAILED = ("Your MLP could not be trained ({problem}), so the comparison could not be "
              "made.")
MLP_NOT_MLP = ("Your MLP runs {impostor}, so it is not a multilayer perceptron and the "
               "comparison says nothing about convolution: the MLP must be nn.Linear layers and "
               "nonlinearities only.")


CNN_POINTWISE = ("Every convolution in your CNN is 1x1: it mixes the colours of each pixel but "
                 "never neighbouring pixels, so it shares no spatial pattern and is a fully "
                 "connected network on the image with a colour mix in front, not a CNN. Use "
                 "kernels of at least 3x3.")


def _has_conv(rec: dict) -> bool:
    return bool(rec.get("conv_modules") or rec.get("conv_ran"))


def _pointwise_only(rec: dict) -> bool:
    """Every convolution that ran was 1x1 (the probe records the largest kernel that ran)."""
    return rec.get("max_kernel") == 1


def check_training(rec: dict, report: dict, outputs: Path, prepared: Prepared) -> CheckResult:
    b, credit = prepared.budget, prepared.config.credit
    labels = prepared.test_labels
    mlp = _record(report, "MLP")
    seconds = sum(_float(r.get("train_seconds")) + _float(r.get("eval_seconds"))
                  for r in (rec, mlp or {}) if r.get("ok"))
    context = training_context(prepared, report, seconds)
    problem = _model_problem(rec, "CNN", b)
    cnn_pred = None if problem else _predictions(outputs, "CNN", labels)
    if problem or cnn_pred is None:
        return _result("CNN", 0, f"{CNN_FAILED.format(problem=problem or 'no predictions')} "
                       f"{context}", mistake="cnn_failed")
    cnn = float((cnn_pred == labels).mean())
    mlp_problem = _model_problem(mlp, "MLP", b)
    mlp_pred = None if mlp_problem else _predictions(outputs, "MLP", labels)
    habits = _habits(rec, "CNN") + ("" if mlp is None else _habits(mlp, "MLP"))
    if not _has_conv(rec):
        shown = f"CNN {cnn:.1%}" + ("" if mlp_pred is None else
                                    f", MLP {float((mlp_pred == labels).mean()):.1%}")
        return _result("CNN", credit.no_conv, f"{CNN_NO_CONV} Accuracies: {shown}. "
                       f"{context}{habits}", mistake="cnn_no_conv")
    if _pointwise_only(rec):
        return _result("CNN", credit.no_conv, f"{CNN_POINTWISE} CNN {cnn:.1%}. {context}{habits}",
                       mistake="cnn_pointwise_conv")
    floor_ok = cnn >= b.floor
    if mlp_pred is None:
        return _result("CNN", credit.floor_only if floor_ok else 0.0, f"CNN {cnn:.1%}, MLP n/a. "
                       f"{MLP_FAILED.format(problem=mlp_problem or 'no predictions')} "
                       f"{context}{habits}", mistake="mlp_failed")
    comparison = compare(cnn_pred, mlp_pred, labels, prepared.config.confidence)
    shown = comparison.describe()
    impostor = _not_an_mlp(mlp)
    if impostor:
        return _result("CNN", credit.mlp_not_mlp if floor_ok else 0.0, f"{shown}. "
                       f"{MLP_NOT_MLP.format(impostor=impostor)} {context}{habits}",
                       mistake="mlp_not_mlp")
    wins = comparison.cnn_wins(b.margin)
    mlp_ok = comparison.mlp_accuracy >= b.mlp_floor
    if floor_ok and wins and mlp_ok:
        return _result("CNN", 1, f"{shown}: the CNN clearly wins. {context}{habits}")
    if floor_ok:
        why = (f"but your MLP reaches only {comparison.mlp_accuracy:.1%} (at least "
               f"{b.mlp_floor:.0%} expected of a working MLP), so the comparison says little"
               if not mlp_ok else "but the interval does not show it beating the MLP")
        return _result("CNN", credit.floor_only, f"{shown}: the CNN reaches the floor {why}. "
                       f"{context}{habits}", mistake="cnn_small_margin")
    if wins and mlp_ok:
        return _result("CNN", credit.beats_only, f"{shown}: the CNN beats the MLP but stays "
                       f"under {b.floor:.0%}. {context}{habits}", mistake="cnn_under_floor")
    return _result("CNN", 0, f"{shown}: the CNN does not clearly beat the MLP. {context}{habits}",
                   mistake="cnn_loses")


def checks() -> tuple:
    """(probe step, variable, check): the verdicts ``check_q1`` gives for the steps prepared."""
    return (("translate", "translate", check_translate),
            ("EquivariantNet", "EquivariantNet", check_equivariant),
            ("PixelMLP", "PixelMLP", check_pixel_mlp),
            ("train", "CNN", check_training),
            ("inspect", "CNN", check_before_training))


def summary(report: dict[str, Any] | None, prepared: Prepared | None = None) -> str:
    """A line for staff logs: dataset, budget (and whether it is an estimate), device, seconds,
    parameter counts."""
    if not report:
        return "Q1 probe: no report"
    parts = []
    if prepared is not None:
        parts.append(f"dataset={prepared.dataset} ({prepared.source or '?'}) "
                     f"profile={prepared.profile}"
                     + (" budget=ESTIMATE (not measured on this machine)"
                        if prepared.budget.estimate else " budget=measured"))
    parts += [f"device={report.get('device')}", f"seconds={report.get('seconds')}"]
    for name in ("CNN", "MLP"):
        r = report.get(name) or {}
        parts.append(f"{name}: ok={r.get('ok')} params={r.get('params')} "
                     f"train_s={r.get('train_seconds')}")
    return "Q1 probe: " + ", ".join(parts)


def staff_log(outputs: str | Path | None, prepared: Prepared) -> str:
    """The staff-log line for one submission's probe outputs (empty without outputs)."""
    if outputs is None:
        return ""
    return summary(_read_report(Path(outputs)), prepared) + "\n"
