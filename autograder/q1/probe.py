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
import ctypes
import inspect
import io
import json
import random
import time
import traceback
import warnings
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
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield sink


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:600]


OUT_OF_MEMORY = ("ran out of memory ({error}): it needs more than the grading machine allows, "
                 "so make it smaller (fewer channels or units, or pool earlier)")


def _out_of_memory(exc: BaseException) -> bool:
    """An allocation refused: Python's MemoryError, or torch's CPU allocator at RLIMIT_DATA."""
    return isinstance(exc, MemoryError) or "can't allocate memory" in str(exc)


def _guard(step, *args) -> dict:
    """Run one probe step; any exception becomes an error record instead of a crash."""
    try:
        return {"ok": True, **step(*args)}
    except StudentError as exc:
        return {"ok": False, "error": str(exc)}
    except (Exception, SystemExit) as exc:  # student code raised or exited: report, go on
        error = f"raised {_describe(exc)}"
        if _out_of_memory(exc):
            error = OUT_OF_MEMORY.format(error=error)
        return {"ok": False, "error": error, "traceback": traceback.format_exc()[-3000:]}


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


TRIM_EVERY = 20
"""training steps (and test batches) between two ``release_memory`` calls"""


def _libc(name: str):
    try:
        return getattr(ctypes.CDLL(None), name)  # glibc; elsewhere None (a no-op)
    except (OSError, AttributeError):
        return None


_TRIM = _libc("malloc_trim")


def release_memory() -> None:
    """Give the C heap's free pages back to the system (every ``TRIM_EVERY`` steps): training
    on a CPU frees and reallocates activations of a few MB every step, and glibc keeps what it
    freed, so a BatchNorm CNN's process grew by 390 MB over an epoch without this. (A fixed
    mmap threshold also bounded the address space reserved, but at up to twice the training
    time from page faults: benchmarks/README.md.)"""
    if _TRIM is not None:
        _TRIM(0)


# ---------------------------------------------------------------------------------------------
# Student objects


def _lookup_function(namespace: dict, name: str):
    if name not in namespace:
        raise StudentError(f"`{name}` is not defined (did the cell that defines it run?)")
    fn = namespace[name]
    if not callable(fn):
        raise StudentError(f"`{name}` is a {type(fn).__name__}, not a function")
    return fn


def _instantiate(namespace: dict, name: str, seed: int, spy: Any = None) -> nn.Module:
    """A fresh instance of the student's class, built right after seeding (arguments with
    defaults keep their defaults; ``spy`` watches the constructor, e.g. a ``.cuda()`` there)."""
    cls = namespace.get(name)
    if cls is None:
        raise StudentError(f"`{name}` is not defined (did the cell that defines it run?)")
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise StudentError(f"`{name}` should be a class deriving from nn.Module, "
                           f"found {type(cls).__name__}")
    seed_all(seed)
    try:
        with _student_call(), spy if spy is not None else contextlib.nullcontext():
            model = cls()
    except (Exception, SystemExit) as exc:
        required = _describe_signature(cls)
        hint = (f" The grader builds `{name}()` with no arguments: give {required} a default "
                f"value." if required else "")
        raise StudentError(f"`{name}()` (no arguments) raised {_describe(exc)}.{hint}") from exc
    if not isinstance(model, nn.Module):
        raise StudentError(f"`{name}()` returned a {type(model).__name__}, not an nn.Module")
    return model


def _describe_signature(cls: type) -> str:
    """The constructor's required arguments, e.g. ``c1, c2`` (empty when there are none)."""
    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return ""
    return ", ".join(p.name for p in params if p.default is p.empty
                     and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


#: What each kind of position-mixing operation is called in feedback.
OP_WORDS = {
    "pool": "pooling",
    "strided_conv": "a convolution with stride > 1",
    "upsample": "upsampling (interpolate / nn.Upsample)",
    "flatten": "flattening the image (flatten / view / reshape to fewer dimensions)",
    "linear": "a fully connected layer (nn.Linear / F.linear / matmul)",
    "image_norm": "a normalisation over the whole image (InstanceNorm / GroupNorm / LayerNorm)",
    "shuffle": "pixel (un)shuffle, fold or unfold",
}
POOL_OPS = {"max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
            "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_avg_pool1d",
            "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool3d", "lp_pool2d",
            "fractional_max_pool2d", "max_pool2d_with_indices", "_max_pool2d",
            "_adaptive_max_pool2d", "max_unpool2d"}
LINEAR_OPS = {"linear", "bilinear", "matmul", "mm", "bmm", "addmm", "einsum", "tensordot"}
UPSAMPLE_OPS = {"interpolate", "upsample", "upsample_nearest2d", "upsample_bilinear2d",
                "upsample_bicubic2d", "grid_sample"}
NORM_OPS = {"instance_norm", "group_norm", "layer_norm"}
SHUFFLE_OPS = {"pixel_shuffle", "pixel_unshuffle", "fold", "unfold"}
CUDA_NAMES = ("cuda",)


def _stride_of(args: tuple, kwargs: dict) -> Any:
    return kwargs.get("stride", args[3] if len(args) > 3 else 1)


def _op_kind(name: str, args: tuple, kwargs: dict) -> str | None:
    """The kind of a torch call, when it matters for convolution or equivariance."""
    if name in CONV_OPS:
        stride = _stride_of(args, kwargs)
        strides = stride if isinstance(stride, (tuple, list)) else (stride,)
        return "strided_conv" if any(s != 1 for s in strides) else "conv"
    if name in POOL_OPS:
        return "pool"
    if name in LINEAR_OPS:
        return "linear"
    if name in UPSAMPLE_OPS:
        return "upsample"
    if name in NORM_OPS:
        return "image_norm"
    if name in SHUFFLE_OPS:
        return "shuffle"
    return None


def _kernel_radius(name: str, args: tuple, kwargs: dict) -> int:
    """How far a convolution's output pixel sees: ceil(dilation * (kernel - 1) / 2), the largest
    over the spatial dimensions (0 when the call's weight cannot be read)."""
    weight = kwargs.get("weight", args[1] if len(args) > 1 else None)
    if not isinstance(weight, torch.Tensor) or weight.dim() < 3:
        return 0
    at = 7 if name.startswith("conv_transpose") else 5  # where the dilation argument sits
    dilation = kwargs.get("dilation", args[at] if len(args) > at else 1)
    dilations = dilation if isinstance(dilation, (tuple, list)) else (dilation,)
    if not all(isinstance(d, int) for d in dilations):
        return 0
    kernels = weight.shape[2:]
    dilations = tuple(dilations) * len(kernels) if len(dilations) == 1 else dilations
    return max(-(-d * (k - 1) // 2) for k, d in zip(kernels, dilations))


def _is_cuda(device: Any) -> bool:
    if isinstance(device, torch.device):
        return device.type == "cuda"
    return isinstance(device, str) and device.split(":")[0] == "cuda"


class _Spy(TorchFunctionMode):
    """Watches the torch calls of student code: which operations ran (convolution, pooling, a
    fully connected layer...), however they are written (modules, ``torch.nn.functional``,
    tensor methods). With ``device`` set to a device that is not CUDA, a request for CUDA
    (``.cuda()``, ``.to("cuda")``, ``device="cuda"``) is sent to ``device`` instead and
    counted, so a model written for a GPU is graded on the grader's machine."""

    def __init__(self, device: torch.device | None = None):
        super().__init__()
        self.device = device if device is not None and device.type != "cuda" else None
        self.kinds: dict[str, str] = {}  # kind -> the first torch function of that kind
        self.cuda_requests = 0
        self.conv_extent = 0  # sum over convolutions run of each kernel's radius (dilated)
        self.max_kernel = 0  # the largest spatial kernel size of any convolution run
        self.kernel_unknown = False  # a convolution ran whose weight could not be read

    @property
    def seen(self) -> bool:
        """Whether a convolution ran."""
        return "conv" in self.kinds or "strided_conv" in self.kinds

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        name = getattr(func, "__name__", "")
        kind = _op_kind(name, args, kwargs)
        if kind:
            self.kinds.setdefault(kind, name)
        if kind in ("conv", "strided_conv"):
            self.conv_extent += _kernel_radius(name, args, kwargs)
            weight = kwargs.get("weight", args[1] if len(args) > 1 else None)
            if isinstance(weight, torch.Tensor) and weight.dim() >= 3:
                self.max_kernel = max(self.max_kernel, *weight.shape[2:])
            else:
                self.kernel_unknown = True
        if self.device is not None:
            if name in CUDA_NAMES and args and isinstance(args[0], torch.Tensor):
                self.cuda_requests += 1
                return args[0].to(self.device)
            if _is_cuda(kwargs.get("device")):
                self.cuda_requests += 1
                kwargs["device"] = self.device
            if name == "to" and any(_is_cuda(a) for a in args[1:]):
                self.cuda_requests += 1
                args = tuple(self.device if _is_cuda(a) else a for a in args)
        out = func(*args, **kwargs)
        if (name in ("view", "reshape", "flatten") and args and isinstance(args[0], torch.Tensor)
                and isinstance(out, torch.Tensor) and args[0].dim() >= 4 > out.dim()):
            self.kinds.setdefault("flatten", name)
        return out


def _structure(model: nn.Module, size: int = 32) -> dict:
    modules = list(model.modules())
    per_pixel = [f"{n} {tuple(p.shape)}" for n, p in model.named_parameters()
                 if p.dim() >= 2 and tuple(p.shape[-2:]) == (size, size)]
    return {
        "params": int(sum(p.numel() for p in model.parameters() if p.requires_grad)),
        "conv_modules": [type(m).__name__ for m in modules if isinstance(m, CONV_MODULES)][:20],
        "linear_modules": sum(isinstance(m, nn.Linear) for m in modules),
        "pool_modules": [type(m).__name__ for m in modules
                         if type(m).__name__.endswith(("Pool1d", "Pool2d", "Pool3d"))][:20],
        "per_pixel_parameters": per_pixel[:5],
    }


def _forward(name: str, model: nn.Module, x: torch.Tensor, spy: _Spy | None = None):
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


def image_input(size: int, seed: int, batch: int = 2) -> torch.Tensor:
    """Seeded N(0, 1) images (batch, 3, size, size) for the equivariance check."""
    gen = torch.Generator().manual_seed(seed * 7919 + size)
    return torch.randn((batch, 3, size, size), generator=gen)


def _as_image(out: torch.Tensor, size: int) -> torch.Tensor | None:
    """(N, C, size, size) as is; a flat (N, C * size * size) output read as C images."""
    if out.dim() == 4 and tuple(out.shape[-2:]) == (size, size):
        return out
    if out.dim() == 2 and out.shape[1] % (size * size) == 0 and out.shape[1] > 0:
        return out.reshape(len(out), -1, size, size)
    return None


def _image_forward(name: str, model: nn.Module, x: torch.Tensor, flat: bool, spy: _Spy):
    out = _forward(name, model, x.flatten(1) if flat else x, spy)
    if out.numel() > MAX_OUTPUT_ELEMENTS:
        raise StudentError(f"`{name}` returned {out.numel():,} numbers for a batch of {len(x)} "
                           "images; that is too large to compare")
    return out.detach().float().cpu()


def measure_reach(name: str, model: nn.Module, x: torch.Tensor, flat: bool, spy: _Spy,
                  rtol: float) -> int | None:
    """How far, in pixels, one input pixel's influence spreads in the output (max of row and
    column offsets): a network of L 3x3 layers reaches L. The largest of three measures:

    * the convolutions that ran, each kernel's dilated radius summed (a bound for any graph of
      convolutions, even where ReLUs are dead at these weights and inputs);
    * the gradient of the centre output pixel with respect to the input (exact support);
    * impulses of several signs and sizes added to the centre pixel: an output pixel is reached
      when it moves by more than ``rtol * max|out|`` (catches what is not differentiable).

    None when the output is not an image of the input's size, so that no reach can be read.
    """
    size = x.shape[-1]
    spy.conv_extent = 0
    base_raw = _image_forward(name, model, x, flat, spy)
    static = spy.conv_extent  # a bound for convolutions only: their radii, summed
    again = _image_forward(name, model, x, flat, spy)
    if base_raw.shape != again.shape or not torch.equal(base_raw, again):
        raise StudentError(f"`{name}` gives different outputs for the same input in eval mode, "
                           "so it cannot be compared: is some randomness always on (for "
                           "instance F.dropout(x, p) without training=self.training)?")
    base = _as_image(base_raw, size)
    if base is None:
        return None
    scale = float(base.abs().max()) if torch.isfinite(base).all() else 0.0
    threshold = rtol * (scale if scale > 0 else 1.0)
    c = size // 2
    reach = max(min(static, size), _gradient_reach(model, x, flat, spy, c))
    for amplitude in (1.0, -1.0, 100.0):
        kicked = x.clone()
        kicked[:, :, c, c] += amplitude
        moved = _as_image(_image_forward(name, model, kicked, flat, spy), size)
        if moved is None or moved.shape != base.shape:
            return None
        where = ((moved - base).abs().amax(dim=(0, 1)) > threshold).nonzero()
        if len(where):
            reach = max(reach, int((where - c).abs().max()))
    return reach


def _gradient_reach(model: nn.Module, x: torch.Tensor, flat: bool, spy: _Spy, c: int) -> int:
    """The receptive-field radius of the centre output pixel, from the gradient of its value
    with respect to the input: exact, however small the influence of far pixels. 0 when the
    model cannot be differentiated (the impulses then decide alone)."""
    size = x.shape[-1]
    x = x.clone().requires_grad_(True)
    try:
        with torch.enable_grad(), _student_call(), spy:
            out = _as_image(model(x.flatten(1) if flat else x), size)
            if out is None or not out.requires_grad:
                return 0
            (grad,) = torch.autograd.grad(out[:, :, c, c].sum(), x)
    except Exception:  # noqa: BLE001 - not differentiable as written: fall back to impulses
        return 0
    g = grad.detach().abs().amax(dim=(0, 1))
    top = float(g.max())
    if not top > 0 or not torch.isfinite(g).all():
        return 0
    where = (g > top * 1e-30).nonzero()
    return int((where - c).abs().max()) if len(where) else 0


def _input_layout(name: str, model: nn.Module, x: torch.Tensor, spy: _Spy) -> bool:
    """Whether the model wants flattened images (PixelMLP only may): True or False."""
    try:
        _forward(name, model, x, spy)
        return False
    except StudentError:
        raise
    except Exception:
        if name != "PixelMLP":
            raise
    _forward(name, model, x.flatten(1), spy)  # PixelMLP on flattened images; errors go up
    return True


def probe_equivariance(namespace: dict, name: str, inputs: Path, outputs: Path,
                       cfg: dict) -> dict:
    """Measure the network's reach, pick an image large enough to leave an interior, and save
    the outputs on x and on reference-translated x, at fresh and at perturbed weights."""
    seed, spy = cfg["seed"], _Spy(torch.device("cpu"))
    models = {"init": _instantiate(namespace, name, seed, spy).eval(),
              "perturbed": _instantiate(namespace, name, seed, spy).eval()}
    _perturb(models["perturbed"], seed + 1)
    x = torch.from_numpy(np.load(inputs / "equiv_x.npy"))
    size = x.shape[-1]
    facts = _structure(models["init"], size)
    with torch.no_grad():
        flat = _input_layout(name, models["init"], x, spy)
        rtol = cfg["reach_rtol"]
        reaches = [measure_reach(name, m, x, flat, spy, rtol) for m in models.values()]
        reach = None if None in reaches else max(reaches)
        facts["reach_at"] = {str(size): reach}
        if name == "EquivariantNet" and reach is not None:
            x, reach = _enlarge(name, models, x, reach, spy, cfg, facts)
        size = x.shape[-1]
        shifted = [x] + [reference_translate(x, dx, dy) for dx, dy in cfg["shifts"]]
        for setting, model in models.items():
            outs = [_image_forward(name, model, b, flat, spy).numpy() for b in shifted]
            if any(o.shape != outs[0].shape for o in outs):
                raise StudentError(f"`{name}` returned outputs of different shapes "
                                   f"{sorted({o.shape for o in outs})} for inputs of one shape")
            np.save(outputs / f"equiv_{name}_{setting}.npy", np.stack(outs))
    return {**facts, "conv_ran": spy.seen, "ops": sorted(spy.kinds), "flat_input": flat,
            "reach": reach, "image_size": size, "input_shape": list(x.shape),
            "output_shape": list(outs[0].shape), "cuda_requests": spy.cuda_requests}


def _enlarge(name: str, models: dict, x: torch.Tensor, reach: int, spy: _Spy, cfg: dict,
             facts: dict) -> tuple[torch.Tensor, int]:
    """Double the image until reach, slack and the largest shift leave an interior of at least
    ``min_interior`` pixels per side (or ``max_size`` is reached, or the network refuses)."""
    slack, min_interior, max_size = cfg["margin"], cfg["min_interior"], cfg["max_size"]
    largest = max(max(abs(dx), abs(dy)) for dx, dy in cfg["shifts"])
    size = x.shape[-1]
    while 2 * (reach + slack + largest) + min_interior > size and size < max_size:
        bigger = min(max_size, max(2 * size, 2 * (reach + slack + largest) + min_interior))
        candidate = image_input(bigger, cfg["seed"], batch=2 if bigger <= 128 else 1)
        try:
            found = [measure_reach(name, m, candidate, False, spy, cfg["reach_rtol"])
                     for m in models.values()]
        except StudentError:
            raise
        except Exception as exc:
            facts["larger_error"] = f"on a {bigger}x{bigger} image it raised {_describe(exc)}"
            break
        if None in found:
            facts["larger_error"] = (f"on a {bigger}x{bigger} image its output is not "
                                     f"{bigger}x{bigger}")
            break
        x, size, reach = candidate, bigger, max(found)
        facts["reach_at"][str(size)] = reach
    return x, reach


# ---------------------------------------------------------------------------------------------
# q1b: training


def _normalise(xb: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    return (xb.float() / 255.0 - mean) / std


def _shape_hint(shape: tuple, batch: int) -> str:
    """A sentence on a likely cause of a wrong output shape (empty when none is known)."""
    if len(shape) == 2 and shape[1] == 10 and shape[0] != batch:
        return (" The batch size changed, which is what x.view(-1, n) does when n is not the "
                "number of features per image: reshape with x.flatten(1) or "
                "x.view(x.size(0), -1) instead.")
    return ""


def _check_output(name: str, model: nn.Module, x: torch.Tensor, spy: _Spy) -> torch.Tensor:
    """The model's output on two images in eval mode, checked to be (2, 10)."""
    try:
        out = _forward(name, model, x, spy)
    except StudentError:
        raise
    except (Exception, SystemExit) as exc:
        hint = (" A reshape like x.view(-1, n) needs n equal to the number of features per "
                "image." if "view" in str(exc) or "shape '[" in str(exc) else "")
        raise StudentError(f"`{name}()(x)` for x of shape {tuple(x.shape)} raised "
                           f"{_describe(exc)}{hint}") from exc
    if tuple(out.shape) != (2, 10):
        raise StudentError(f"`{name}()(x)` for x of shape {tuple(x.shape)} returned shape "
                           f"{tuple(out.shape)}; expected (2, 10), one logit per class."
                           f"{_shape_hint(tuple(out.shape), 2)}")
    return out


def returns_probabilities(out: torch.Tensor) -> bool:
    """Whether a (N, 10) output looks like softmax probabilities (non-negative, rows sum to 1)
    rather than logits."""
    out = out.detach().float()
    return bool(torch.isfinite(out).all() and (out >= 0).all()
                and torch.allclose(out.sum(1), torch.ones(len(out)), atol=1e-4))


def _loss_function(probabilities: bool):
    """Cross-entropy on logits; on probabilities, the same loss written as NLL of their log."""
    if not probabilities:
        return nn.CrossEntropyLoss()
    nll = nn.NLLLoss()
    return lambda p, y: nll(torch.log(p.clamp_min(1e-12)), y)


def build_classifier(namespace: dict, name: str, x: torch.Tensor, cfg: dict,
                     spy: _Spy) -> tuple[nn.Module, dict, bool]:
    """The student's class ``name`` built as the grader builds it before training, with what
    needs no training checked: it builds without arguments, has trainable parameters under the
    cap, and maps the two images ``x`` to (2, 10) in eval mode. Returns the model, its structure
    and whether it returns probabilities rather than logits."""
    model = _instantiate(namespace, name, cfg["seed"], spy)
    facts = _structure(model)
    if facts["params"] > cfg["max_params"]:
        raise StudentError(f"`{name}` has {facts['params']:,} trainable parameters, more than "
                           f"the {cfg['max_params']:,} the grader trains: make it smaller")
    if facts["params"] == 0:
        raise StudentError(f"`{name}` has no trainable parameters")
    model.eval()
    with torch.no_grad():
        out = _check_output(name, model, x, spy)
    return model, facts, returns_probabilities(out)


def inspect_one(namespace: dict, name: str, cfg: dict) -> dict:
    """q1b before training (``grader.check`` in the student's kernel): ``build_classifier`` on
    seeded images, with the facts ``train_one`` reports (convolutions and pooling that ran,
    CUDA requests, probabilities)."""
    spy = _Spy(torch.device("cpu"))
    x = image_input(cfg.get("image_size", 32), cfg["seed"])
    _, facts, probabilities = build_classifier(namespace, name, x, cfg, spy)
    return {**facts, **spy_facts(spy), "probabilities": probabilities}


def spy_facts(spy: _Spy) -> dict:
    """What the spy saw of a classifier, for the checks (``train_one`` and ``inspect_one``)."""
    return {"conv_ran": spy.seen, "ops": sorted(spy.kinds), "cuda_requests": spy.cuda_requests,
            "max_kernel": None if spy.kernel_unknown else spy.max_kernel}


def train_one(namespace: dict, name: str, data: dict, outputs: Path, cfg: dict,
              until: float | None = None) -> dict:
    """Train the student's class ``name`` with the grader's recipe; save test predictions.

    ``until`` (``time.perf_counter``; None: no deadline) is when this model's training and
    testing must be over: a model that cannot make it stops in time to say so, with its
    projected time, instead of being killed with the probe (``_train_loop``). A model stopped
    early is not tested: its verdict is that it is too slow, whatever its accuracy.

    Student habits handled here: BatchNorm and Dropout (the grader switches train and eval),
    ``.cuda()`` inside the model when no GPU grades (sent to the grading device, counted),
    softmax probabilities instead of logits (trained with the equivalent loss, counted)."""
    device = data["device"]
    spy = _Spy(device)
    mean, std = data["mean"].to(device), data["std"].to(device)
    model, facts, probabilities = build_classifier(
        namespace, name, _normalise(data["train_x"][:2], mean.cpu(), std.cpu()), cfg, spy)
    try:
        model.to(device)
    except (Exception, SystemExit) as exc:
        raise StudentError(f"`{name}` could not be moved to {device.type}: {_describe(exc)}") \
            from exc
    testing = _testing_cost(name, model, data, cfg, spy)
    loop = _train_loop(model, data, cfg, spy, _loss_function(probabilities), testing, until)
    tested = {} if loop["stopped_early"] else _test(name, model, data, cfg, spy, outputs, until)
    return {**facts, **loop, **tested, **spy_facts(spy), "device": device.type,
            "probabilities": probabilities}


def _predict(name: str, model: nn.Module, images: np.ndarray, data: dict,
             spy: _Spy) -> torch.Tensor:
    """The classes ``model`` (in eval mode, without gradients) predicts for a chunk of test
    images."""
    device = data["device"]
    chunk = torch.from_numpy(np.array(images))  # a writable copy of the memory-mapped rows
    xb = _normalise(chunk.to(device), data["mean"].to(device), data["std"].to(device))
    logits = _forward(name, model, xb, spy)
    if tuple(logits.shape) != (len(xb), 10):
        raise StudentError(f"`{name}` returned shape {tuple(logits.shape)} for a batch "
                           f"of {len(xb)} test images; expected ({len(xb)}, 10)."
                           f"{_shape_hint(tuple(logits.shape), len(xb))}")
    return logits.argmax(1).cpu()


def _clock(device: torch.device):
    """The clock of the ``train_seconds`` cap: this process's CPU seconds on a CPU (the thread
    count is fixed, so a machine loaded by other work fails no one), wall-clock on a GPU."""
    return time.process_time if device.type == "cpu" else time.perf_counter


def _testing_cost(name: str, model: nn.Module, data: dict, cfg: dict,
                  spy: _Spy) -> tuple[float, float]:
    """Seconds testing all the test images will take, on the cap's clock and on the wall
    clock, projected from one batch (after a first batch that warms up): the caps count
    testing too, since up to 40,000 test images cost a large model minutes."""
    test_x, bs, device = data["test_x"], cfg["eval_batch"], data["device"]
    clock, batches = _clock(device), -(-len(test_x) // bs)
    model.eval()
    with torch.no_grad():
        _predict(name, model, test_x[:bs], data, spy)
        _sync(device)
        cost, wall = clock(), time.perf_counter()
        _predict(name, model, test_x[bs:2 * bs] if len(test_x) > bs else test_x[:bs], data, spy)
        _sync(device)
        cost, wall = clock() - cost, time.perf_counter() - wall
    model.train()
    return cost * batches, wall * batches


def _test(name: str, model: nn.Module, data: dict, cfg: dict, spy: _Spy, outputs: Path,
          until: float | None) -> dict:
    """Predict every test image and save the predictions (``pred_<name>.npy``); past ``until``
    stop instead, as too slow, with the time testing was projected to take."""
    test_x, bs, device = data["test_x"], cfg["eval_batch"], data["device"]
    start = time.perf_counter()
    model.eval()
    preds = []
    with torch.no_grad():
        for k in range(0, len(test_x), bs):
            if until is not None and time.perf_counter() > until:
                spent = time.perf_counter() - start
                return {"stopped_early": True, "stopped_by": "deadline",
                        "limit_seconds": round(until - start, 1),
                        "projected_seconds": round(spent / max(k, bs) * len(test_x), 1)}
            preds.append(_predict(name, model, test_x[k:k + bs], data, spy))
            if (k // bs) % TRIM_EVERY == TRIM_EVERY - 1:
                release_memory()
    _sync(device)
    np.save(outputs / f"pred_{name}.npy", torch.cat(preds).numpy().astype(np.int64))
    return {"eval_seconds": round(time.perf_counter() - start, 3)}


def _schedule(optimizer, cfg: dict, total: int):
    """The learning-rate schedule named in the config: None for a constant rate, or one cycle
    (warm up to ``lr`` over the first 30% of the steps, then anneal), stepped once per batch."""
    name = cfg.get("schedule", "constant")
    if name == "constant":
        return None
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg["lr"],
                                                   total_steps=max(total, 2))
    raise ValueError(f"unknown learning-rate schedule {name!r}")


WARM_UP, PROJECT_AFTER = 5, 20
"""the projection's training steps: the rate of steps ``WARM_UP`` + 1 to ``PROJECT_AFTER`` (the
first steps are up to twice as slow: allocations, kernel selection), first compared with the
limits at step ``PROJECT_AFTER``"""


def _train_loop(model: nn.Module, data: dict, cfg: dict, spy: _Spy, loss_fn,
                testing: tuple[float, float], until: float | None) -> dict:
    """The grader's training loop (Adam, seeded order, the configured schedule), within two
    limits on training plus testing (``testing``: ``_testing_cost``): the ``train_seconds`` cap
    on its clock (``_clock``), and the wall-clock time left before ``until``. After the first
    steps a model whose projected time exceeds a limit by ``give_up`` stops at once; any model
    stops when the time spent and its testing would pass a limit. Stopped models report why."""
    device = data["device"]
    clock = _clock(device)
    mean, std = data["mean"].to(device), data["std"].to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    order = torch.Generator().manual_seed(cfg["seed"])
    xs, ys = data["train_x"].to(device), data["train_y"].to(device)
    n, bs = len(xs), cfg["batch_size"]
    steps_per_epoch = -(-n // bs)
    total = steps_per_epoch * cfg["epochs"]
    schedule = _schedule(optimizer, cfg, total)
    steps, losses, stop = 0, [], None
    _sync(device)
    start, started = time.perf_counter(), clock()
    limits = [("budget", cfg["train_seconds"], clock, started, testing[0])]
    if until is not None:
        limits.append(("deadline", until - start, time.perf_counter, start, testing[1]))
    warm = [0.0] * len(limits)  # each limit's clock at step WARM_UP
    model.train()
    for _ in range(cfg["epochs"]):
        perm = torch.randperm(n, generator=order).to(device)
        for k in range(0, n, bs):
            idx = perm[k:k + bs]
            steps += 1
            if len(idx) < 2:  # BatchNorm cannot train on one image
                continue
            with _student_call(), spy:
                loss = loss_fn(model(_normalise(xs[idx], mean, std)), ys[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            if steps % TRIM_EVERY == 0:
                release_memory()
            if steps % 20 == 0 or steps == total:
                losses.append(float(loss.detach()))
            for i, (kind, limit, tick, zero, test_cost) in enumerate(limits):
                spent = tick() - zero
                if steps == WARM_UP:
                    warm[i] = spent
                rate = (spent - warm[i]) / (steps - WARM_UP) if steps > WARM_UP else spent / steps
                projected = spent + rate * (total - steps) + test_cost
                if ((steps == PROJECT_AFTER and projected > limit * cfg["give_up"])
                        or (steps < total and spent + test_cost > limit)):
                    stop = {"stopped_by": kind, "limit_seconds": round(limit, 1),
                            "projected_seconds": round(projected, 1)}
                    break
            if stop:
                break
        if stop:
            break
    _sync(device)
    return {"train_seconds": round(time.perf_counter() - start, 3),
            "train_cpu_seconds": round(clock() - started, 3) if clock is time.process_time
            else None,
            "epochs_done": round(steps / steps_per_epoch, 3), "stopped_early": bool(stop),
            **(stop or {}), "last_loss": losses[-1] if losses else None}


def _training_data(inputs: Path, cfg: dict) -> dict:
    return {
        "device": pick_device(cfg["device"]),
        "train_x": torch.from_numpy(np.load(inputs / "train_x.npy")),
        "train_y": torch.from_numpy(np.load(inputs / "train_y.npy")).long(),
        # memory-mapped: read a batch at a time, so the test images (up to 40,000, 123 MB)
        # need not fit in the grading machine's memory beside the training images
        "test_x": np.load(inputs / "test_x.npy", mmap_mode="r"),
        "mean": torch.tensor(cfg["mean"], dtype=torch.float32).view(1, 3, 1, 1),
        "std": torch.tensor(cfg["std"], dtype=torch.float32).view(1, 3, 1, 1),
    }


# ---------------------------------------------------------------------------------------------
# Entry point


DEADLINE_MARGIN = 5.0
"""seconds of the probe's time kept back to save the report before the supervisor's deadline"""


def probe(namespace: dict, inputs: Path, outputs: Path, seconds: float | None = None) -> None:
    """Run every Q1 probe step named in ``config.json``; write ``report.json`` as it goes.

    ``seconds``: the wall-clock time the supervisor gives the probe (None, as in a student's
    kernel: no deadline). The MLP trains first, within half the time then left; the CNN,
    usually the slower, gets the rest. Each stops in time to report why (``train_one``)."""
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
        if "inspect" in steps:
            for name in ("CNN", "MLP"):
                report[name] = _guard(inspect_one, namespace, name, cfg)
                save()
        if "train" in steps:
            data = _training_data(inputs, cfg)
            report["device"] = data["device"].type
            deadline = None if seconds is None else started + seconds - DEADLINE_MARGIN
            for name, share in (("MLP", 0.5), ("CNN", 1.0)):
                now = time.perf_counter()
                until = None if deadline is None else now + (deadline - now) * share
                report["underway"] = name  # what was training, should the process be killed
                save()
                report[name] = _guard(train_one, namespace, name, data, outputs, cfg, until)
                del report["underway"]
                save()
    report["seconds"] = round(time.perf_counter() - started, 3)
    report["done"] = True
    save()
