"""Q1's probe: runs INSIDE the student's process, after the notebook's cells.

Self-contained on purpose (stdlib, NumPy and torch only; never the autograder package), because
this file is copied into the sandbox. The grading process calls ``probe(namespace, inputs,
outputs)`` there: ``namespace`` holds what the notebook defined, ``inputs`` is a directory the
grader prepared (``config.json`` and ``.npy`` arrays: training images and labels, test images
WITHOUT labels, probe inputs), ``outputs`` a directory the grader reads afterwards.

What it writes: ``report.json`` (one record per student name: ok or an error message, plus
facts such as parameter counts, device and seconds) and ``.npy`` arrays (translate's outputs,
the equivariance outputs, test-set predictions). It grades nothing: verdicts are computed in the
grading process, which alone holds the test labels. Every call into student code is guarded, so
one failure becomes an error record for that check; ``report.json`` is rewritten after each
step, so what finished survives a later timeout.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.overrides import TorchFunctionMode

REPORT = "report.json"
MAX_OUTPUT_ELEMENTS = 4_000_000  # an equivariance output larger than this is refused
CONV_MODULES = (nn.Conv1d, nn.Conv2d, nn.Conv3d,
                nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
CONV_OPS = {"conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
            "conv_transpose3d", "convolution", "_convolution"}


class StudentError(Exception):
    """A problem with the student's code, worded for the student."""


def reference_translate(x, dx: int, dy: int):
    """Shift the last two axes of ``x`` (NumPy array or torch tensor), filling with zeros.

    ``dx`` moves along the width (last axis), ``dy`` along the height (second to last);
    positive ``dx`` moves the content right, positive ``dy`` moves it down, and a shift at
    least as large as the image leaves only zeros: ``out[..., i, j] = x[..., i - dy, j - dx]``.
    """
    out = np.zeros_like(x) if isinstance(x, np.ndarray) else torch.zeros_like(x)
    h, w = x.shape[-2:]
    if abs(dx) >= w or abs(dy) >= h:
        return out
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        x[..., max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


# ---------------------------------------------------------------------------------------------
# Guards and global state


class _Sink(io.StringIO):
    """Swallows what student code prints, keeping the first few thousand characters."""

    def write(self, s: str) -> int:
        if self.tell() < 4000:
            super().write(s[:4000])
        return len(s)


@contextlib.contextmanager
def _student_call():
    sink = _Sink()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield sink


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:600]


def _guard(step, *args) -> dict:
    """Run one probe step; any exception becomes an error record instead of a crash."""
    try:
        return {"ok": True, **step(*args)}
    except StudentError as exc:
        return {"ok": False, "error": str(exc)}
    except (Exception, SystemExit) as exc:  # student code raised or exited: report, go on
        return {"ok": False, "error": f"raised {_describe(exc)}",
                "traceback": traceback.format_exc()[-3000:]}


@contextlib.contextmanager
def torch_state(threads: int, seed: int):
    """Fix threads, dtype, TF32, cuDNN and seeds for the block; restore them afterwards."""
    saved = (torch.get_num_threads(), torch.get_default_dtype(), torch.is_grad_enabled(),
             torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
             torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark,
             np.random.get_state(), random.getstate())
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    try:
        with torch.random.fork_rng(devices=devices):
            torch.set_num_threads(threads)
            torch.set_default_dtype(torch.float32)
            torch.set_grad_enabled(True)
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False
            seed_all(seed)
            yield
    finally:
        torch.set_num_threads(saved[0])
        torch.set_default_dtype(saved[1])
        torch.set_grad_enabled(saved[2])
        (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
         torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark) = saved[3:7]
        np.random.set_state(saved[7])
        random.setstate(saved[8])


def seed_all(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def pick_device(preference: str) -> torch.device:
    """``auto``: CUDA, then Apple MPS, then CPU. An unavailable choice falls back to CPU."""
    mps = getattr(torch.backends, "mps", None)
    has_mps = mps is not None and mps.is_available()
    if preference in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    if preference in ("auto", "mps") and has_mps:
        return torch.device("mps")
    return torch.device("cpu")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


# ---------------------------------------------------------------------------------------------
# Student objects


def _lookup_function(namespace: dict, name: str):
    if name not in namespace:
        raise StudentError(f"`{name}` is not defined (did the cell that defines it run?)")
    fn = namespace[name]
    if not callable(fn):
        raise StudentError(f"`{name}` is a {type(fn).__name__}, not a function")
    return fn


def _instantiate(namespace: dict, name: str, seed: int) -> nn.Module:
    """A fresh instance of the student's class, built right after seeding."""
    cls = namespace.get(name)
    if cls is None:
        raise StudentError(f"`{name}` is not defined (did the cell that defines it run?)")
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise StudentError(f"`{name}` should be a class deriving from nn.Module, "
                           f"found {type(cls).__name__}")
    seed_all(seed)
    try:
        with _student_call():
            model = cls()
    except (Exception, SystemExit) as exc:
        raise StudentError(f"`{name}()` (no arguments) raised {_describe(exc)}") from exc
    return model


class _ConvSpy(TorchFunctionMode):
    """Notices whether a convolution runs (also one written with torch.nn.functional)."""

    seen = False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in CONV_OPS:
            self.seen = True
        return func(*args, **(kwargs or {}))


def _structure(model: nn.Module) -> dict:
    modules = list(model.modules())
    return {
        "params": int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
        "conv_modules": [type(m).__name__ for m in modules if isinstance(m, CONV_MODULES)][:20],
        "linear_modules": sum(isinstance(m, nn.Linear) for m in modules),
    }


def _forward(name: str, model: nn.Module, x: torch.Tensor, spy: _ConvSpy | None = None):
    with _student_call():
        with spy if spy is not None else contextlib.nullcontext():
            out = model(x)
    if not isinstance(out, torch.Tensor):
        raise StudentError(f"`{name}` returned a {type(out).__name__}, expected a tensor")
    return out


# ---------------------------------------------------------------------------------------------
# q1a: translate


def probe_translate(namespace: dict, inputs: Path, outputs: Path, cfg: dict) -> dict:
    fn = _lookup_function(namespace, "translate")
    arrays = {k: np.load(inputs / f"translate_{k}.npy") for k in ("x3", "x4")}
    cases = []
    for i, (key, dx, dy) in enumerate(cfg["translate_cases"]):
        record = {"input": key, "dx": dx, "dy": dy}
        try:
            with _student_call():
                out = fn(torch.from_numpy(arrays[key].copy()), dx, dy)
            if isinstance(out, torch.Tensor):
                out = out.detach().cpu().numpy()
            if not isinstance(out, np.ndarray):
                raise StudentError(f"returned a {type(out).__name__}, expected a tensor")
            np.save(outputs / f"translate_{i}.npy", out.astype(np.float32))
            record["ok"] = True
        except StudentError as exc:
            record.update(ok=False, error=str(exc))
        except (Exception, SystemExit) as exc:
            record.update(ok=False, error=f"raised {_describe(exc)}")
        cases.append(record)
    return {"cases": cases}


# ---------------------------------------------------------------------------------------------
# q1a: equivariance


def _perturb(model: nn.Module, seed: int) -> None:
    """Move every parameter randomly: equivariance must hold for all weights, not just these."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=gen).to(p.dtype))


def probe_equivariance(namespace: dict, name: str, inputs: Path, outputs: Path,
                       cfg: dict) -> dict:
    """Outputs on x and on reference-translated x, at fresh and at perturbed weights."""
    model = _instantiate(namespace, name, cfg["seed"]).eval()
    facts = _structure(model)
    x = torch.from_numpy(np.load(inputs / "equiv_x.npy"))
    batches = [x] + [reference_translate(x, dx, dy) for dx, dy in cfg["shifts"]]
    spy = _ConvSpy()
    flat = False
    for setting in ("init", "perturbed"):
        if setting == "perturbed":
            _perturb(model, cfg["seed"] + 1)
        outs = []
        with torch.no_grad():
            for b in batches:
                try:
                    out = _forward(name, model, b.flatten(1) if flat else b, spy)
                except StudentError:
                    raise
                except Exception:
                    # PixelMLP may expect the flattened image; try that once.
                    if name != "PixelMLP" or flat or outs:
                        raise
                    flat = True
                    out = _forward(name, model, b.flatten(1), spy)
                if out.numel() > MAX_OUTPUT_ELEMENTS:
                    raise StudentError(f"`{name}` returned {out.numel():,} numbers for a batch "
                                       f"of {len(b)} images; that is too large to compare")
                outs.append(out.detach().float().cpu().numpy())
        if any(o.shape != outs[0].shape for o in outs):
            raise StudentError(f"`{name}` returned outputs of different shapes "
                               f"{sorted({o.shape for o in outs})} for inputs of one shape")
        np.save(outputs / f"equiv_{name}_{setting}.npy", np.stack(outs))
    return {**facts, "conv_ran": spy.seen, "flat_input": flat,
            "input_shape": list(x.shape), "output_shape": list(outs[0].shape)}


# ---------------------------------------------------------------------------------------------
# q1b: training


def _normalise(xb: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    return (xb.float() / 255.0 - mean) / std


def train_one(namespace: dict, name: str, data: dict, outputs: Path, cfg: dict) -> dict:
    """Train the student's class ``name`` with the grader's recipe; save test predictions."""
    device = data["device"]
    model = _instantiate(namespace, name, cfg["seed"])
    facts = _structure(model)
    if facts["params"] > cfg["max_params"]:
        raise StudentError(f"`{name}` has {facts['params']:,} trainable parameters, more than "
                           f"the {cfg['max_params']:,} the grader trains")
    if facts["params"] == 0:
        raise StudentError(f"`{name}` has no trainable parameters")
    mean, std = data["mean"].to(device), data["std"].to(device)
    train_x, train_y, test_x = data["train_x"], data["train_y"], data["test_x"]

    # The shape check, with a spy that notices convolutions however they are written.
    spy = _ConvSpy()
    model.eval()
    with torch.no_grad():
        out = _forward(name, model, _normalise(train_x[:2], mean.cpu(), std.cpu()), spy)
    if tuple(out.shape) != (2, 10):
        raise StudentError(f"`{name}()(x)` for x of shape (2, 3, 32, 32) returned shape "
                           f"{tuple(out.shape)}; expected (2, 10), one logit per class")
    facts["conv_ran"] = spy.seen

    try:
        model.to(device)
    except (Exception, SystemExit) as exc:
        raise StudentError(f"`{name}` could not be moved to {device.type}: {_describe(exc)}") \
            from exc
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    loss_fn = nn.CrossEntropyLoss()
    order = torch.Generator().manual_seed(cfg["seed"])
    xs, ys = train_x.to(device), train_y.to(device)
    n, bs = len(xs), cfg["batch_size"]
    steps_per_epoch = -(-n // bs)
    steps, losses, stopped = 0, [], False
    _sync(device)
    start = time.perf_counter()
    model.train()
    for _ in range(cfg["epochs"]):
        perm = torch.randperm(n, generator=order).to(device)
        for k in range(0, n, bs):
            idx = perm[k:k + bs]
            with _student_call():
                loss = loss_fn(model(_normalise(xs[idx], mean, std)), ys[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            steps += 1
            if steps % 20 == 0 or steps == steps_per_epoch * cfg["epochs"]:
                losses.append(float(loss.detach()))
                if time.perf_counter() - start > cfg["train_seconds"]:
                    stopped = True
                    break
        if stopped:
            break
    _sync(device)
    train_seconds = time.perf_counter() - start

    start = time.perf_counter()
    model.eval()
    preds = []
    with torch.no_grad():
        for k in range(0, len(test_x), cfg["eval_batch"]):
            xb = _normalise(test_x[k:k + cfg["eval_batch"]].to(device), mean, std)
            logits = _forward(name, model, xb)
            if tuple(logits.shape) != (len(xb), 10):
                raise StudentError(f"`{name}` returned shape {tuple(logits.shape)} for a batch "
                                   f"of {len(xb)} test images; expected ({len(xb)}, 10)")
            preds.append(logits.argmax(1).cpu())
    _sync(device)
    np.save(outputs / f"pred_{name}.npy", torch.cat(preds).numpy().astype(np.int64))
    return {**facts, "device": device.type, "train_seconds": round(train_seconds, 3),
            "eval_seconds": round(time.perf_counter() - start, 3),
            "epochs_done": round(steps / steps_per_epoch, 3), "stopped_early": stopped,
            "last_loss": losses[-1] if losses else None}


def _training_data(inputs: Path, cfg: dict) -> dict:
    return {
        "device": pick_device(cfg["device"]),
        "train_x": torch.from_numpy(np.load(inputs / "train_x.npy")),
        "train_y": torch.from_numpy(np.load(inputs / "train_y.npy")).long(),
        "test_x": torch.from_numpy(np.load(inputs / "test_x.npy")),
        "mean": torch.tensor(cfg["mean"], dtype=torch.float32).view(1, 3, 1, 1),
        "std": torch.tensor(cfg["std"], dtype=torch.float32).view(1, 3, 1, 1),
    }


# ---------------------------------------------------------------------------------------------
# Entry point


def probe(namespace: dict, inputs: Path, outputs: Path) -> None:
    """Run every Q1 probe step named in ``config.json``; write ``report.json`` as it goes."""
    inputs, outputs = Path(inputs), Path(outputs)
    outputs.mkdir(parents=True, exist_ok=True)
    cfg = json.loads((inputs / "config.json").read_text())
    report: dict[str, Any] = {"version": 1, "torch": torch.__version__, "done": False}

    def save() -> None:
        (outputs / REPORT).write_text(json.dumps(report, indent=1))

    started = time.perf_counter()
    with torch_state(cfg["threads"], cfg["seed"]):
        steps = cfg["steps"]
        if "translate" in steps:
            report["translate"] = _guard(probe_translate, namespace, inputs, outputs, cfg)
            save()
        for name in ("EquivariantNet", "PixelMLP"):
            if name in steps:
                report[name] = _guard(probe_equivariance, namespace, name, inputs, outputs, cfg)
                save()
        if "train" in steps:
            data = _training_data(inputs, cfg)
            report["device"] = data["device"].type
            for name in ("CNN", "MLP"):
                report[name] = _guard(train_one, namespace, name, data, outputs, cfg)
                save()
    report["seconds"] = round(time.perf_counter() - started, 3)
    report["done"] = True
    save()
