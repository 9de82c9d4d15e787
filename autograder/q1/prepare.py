"""Grading-process side, before the student's process runs: choose the data, write ``inputs``.

``prepare_q1`` picks the dataset (real CIFAR-10 when a verified copy is in the cache, else the
generated stand-in), takes fixed seeded subsets, and writes everything the probe reads. The test
labels are NOT written: they stay in the returned ``Prepared``, which ``checks.check_q1`` needs.
Prepare once and reuse the directory for every submission (it is only read).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder.q1 import cifar, images, synthetic
from autograder.q1.probe import pick_device, reference_translate
from autograder.settings.q1 import Budget, Q1Config

#: Shapes of the translate inputs: non-square, so a swapped axis shows.
TRANSLATE_SHAPES = {"x3": (3, 7, 5), "x4": (2, 3, 6, 9)}
#: Hand-picked translate shifts: none, each axis and sign, past the border.
TRANSLATE_FIXED = ((0, 0), (1, 0), (0, 1), (-2, 0), (0, -3), (2, -1), (-3, 2),
                   (9, 0), (0, -7), (20, -20))
Q1A_STEPS = ("translate", "EquivariantNet", "PixelMLP")
STEPS = (*Q1A_STEPS, "train", "inspect")
"""probe steps: q1a's three, q1b's training (grading) and q1b's inspection before training
(``grader.check("q1b")`` in the student's kernel, ``prepare_checks``)"""
GRADED_STEPS = (*Q1A_STEPS, "train")
"""what grading runs by default"""


@dataclass(frozen=True)
class Prepared:
    """What the grading process keeps about the prepared inputs (test labels included)."""

    inputs: Path
    dataset: str
    data_note: str
    profile: str
    device: str
    budget: Budget
    config: Q1Config
    test_labels: np.ndarray
    translate_cases: tuple[tuple[str, int, int], ...]
    translate_inputs: dict[str, np.ndarray]  # kept here: the inputs directory is not trusted
    steps: tuple[str, ...]
    source: str = ""
    """what the images are (``Dataset.source``), named in the staff log"""

    def translate_input(self, key: str) -> np.ndarray:
        return self.translate_inputs[key]


NO_DATASET = "none"
"""``Prepared.dataset`` when q1b's comparison waits for real CIFAR-10 (none cached, and the
generated set not allowed): the probe then only inspects the CNN and MLP, training nothing"""


def real_present(data_dir: str | os.PathLike | None = None) -> bool:
    """Whether the cache holds real CIFAR-10 (the official archive or an imported copy)."""
    root = cifar.data_dir(data_dir)
    return cifar.cifar_present(root) or images.images_present(root)


def load_dataset(data_dir: str | os.PathLike | None = None, *,
                 generated: bool = True) -> tuple[cifar.Dataset | None, str]:
    """Real CIFAR-10 if the cache has it (the official archive, else a copy imported from
    images), else the generated set when ``generated`` (else None); and a sentence saying
    which."""
    root = cifar.data_dir(data_dir)
    if cifar.cifar_present(root):
        return cifar.load_cifar(root), f"real CIFAR-10 (the official archive, from {root})"
    if images.images_present(root):
        return images.load_images(root), f"real {images.SOURCE_NAME} (from {root})"
    if not generated:
        return None, f"no real CIFAR-10 (none is in the grader's data cache, {root})"
    ds = synthetic.load(synthetic.ensure(root))
    return ds, ("the generated offline dataset (real CIFAR-10 is not in the grader's cache): "
                "10 classes of small colour patterns at random positions over noise")


def _subset(n_have: int, n_want: int, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.permutation(n_have)[:min(n_want, n_have)])


def _holdout(n_have: int, train: np.ndarray, n_want: int, seed: int) -> np.ndarray:
    """``n_want`` training-split indices outside ``train``, from their own seeded generator (so
    the training and test subsets are the same whatever ``Budget.n_holdout`` is)."""
    rest = np.setdiff1d(np.arange(n_have), train)
    if n_want <= 0 or len(rest) == 0:
        return rest[:0]
    return np.sort(rest[_subset(len(rest), n_want, np.random.default_rng([seed, 3]))])


def write_rows(path: Path, *parts: tuple[np.ndarray, np.ndarray], chunk: int = 2000) -> np.ndarray:
    """Save the rows ``source[indices]`` of each ``(source, indices)`` part, one after another, as
    one ``.npy`` file, a chunk at a time; return the file, memory-mapped. No copy of the whole
    selection is held in memory: on Gradescope's 768 MB machine the grading process holds the
    dataset (184 MB) beside the probe's inputs (up to 40,000 test images, 123 MB)."""
    first = parts[0][0]
    total = sum(len(indices) for _, indices in parts)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=first.dtype,
                                    shape=(total, *first.shape[1:]))
    at = 0
    for source, indices in parts:
        for k in range(0, len(indices), chunk):
            rows = source[indices[k:k + chunk]]
            out[at:at + len(rows)] = rows
            at += len(rows)
    out.flush()
    return out


def channel_stats(images: np.ndarray, chunk: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std of uint8 images (N, 3, H, W) scaled to [0, 1], in chunks."""
    total = np.zeros(3)
    squares = np.zeros(3)
    for k in range(0, len(images), chunk):
        block = images[k:k + chunk].astype(np.float64) / 255.0
        total += block.sum(axis=(0, 2, 3))
        squares += (block ** 2).sum(axis=(0, 2, 3))
    count = images.size / 3
    mean = total / count
    return mean, np.sqrt(np.maximum(squares / count - mean ** 2, 1e-12))


def translate_cases(seed: int, n_random: int = 6) -> tuple[tuple[str, int, int], ...]:
    """Fixed shifts on both inputs, plus random ones (some past the border)."""
    rng = np.random.default_rng(seed + 7)
    cases = [(key, dx, dy) for dx, dy in TRANSLATE_FIXED for key in ("x4", "x3")]
    for _ in range(n_random):
        key = str(rng.choice(["x3", "x4"]))
        cases.append((key, int(rng.integers(-10, 11)), int(rng.integers(-10, 11))))
    return tuple(cases)


def prepare_q1(
    inputs: str | os.PathLike,
    *,
    config: Q1Config | None = None,
    data_dir: str | os.PathLike | None = None,
    dataset: cifar.Dataset | None = None,
    data_note: str = "",
    steps: tuple[str, ...] = GRADED_STEPS,
    budget: Budget | None = None,
) -> Prepared:
    """Write the probe's ``inputs`` directory; return what the checks need later.

    ``dataset`` (with ``data_note``) overrides the cache lookup and ``budget`` the configured
    budget, e.g. for tests; ``steps`` selects probe steps (a subset of ``STEPS``). Without real
    CIFAR-10, and with ``config.generated_data`` off, nothing is trained: see ``NO_DATASET``.
    """
    config = config or Q1Config()  # read here, not at import: the environment may change
    unknown = set(steps) - set(STEPS)
    if unknown:
        raise ValueError(f"unknown Q1 probe steps {sorted(unknown)}; known: {STEPS}")
    inputs = Path(inputs)
    inputs.mkdir(parents=True, exist_ok=True)
    device = pick_device(config.device).type
    profile = config.profile or ("cpu" if device == "cpu" else "gpu")
    if dataset is None:
        dataset, data_note = load_dataset(data_dir, generated=config.generated_data)
    if dataset is None:
        return _prepare_without_data(inputs, config, steps, device, profile, data_note)
    budget = budget or config.budget(dataset.name, profile)

    rng = np.random.default_rng(config.seed)
    train = _subset(len(dataset.train_y), budget.n_train, rng)
    test = _subset(len(dataset.test_y), budget.n_test, rng)
    held = _holdout(len(dataset.train_y), train, budget.n_holdout, config.seed)
    train_x = write_rows(inputs / "train_x.npy", (dataset.train_x, train))
    np.save(inputs / "train_y.npy", dataset.train_y[train])
    write_rows(inputs / "test_x.npy", (dataset.test_x, test), (dataset.train_x, held))
    test_labels = np.concatenate([dataset.test_y[test], dataset.train_y[held]])
    mean, std = channel_stats(train_x)

    cases, translate_inputs = write_q1a_inputs(inputs, config)
    write_probe_config(inputs, probe_config(config, budget, steps, device, cases, mean, std))
    return Prepared(inputs=inputs, dataset=dataset.name, data_note=data_note, profile=profile,
                    device=device, budget=budget, config=config,
                    test_labels=test_labels, translate_cases=cases,
                    translate_inputs=translate_inputs, steps=tuple(steps),
                    source=dataset.source or dataset.name)


def _prepare_without_data(inputs: Path, config: Q1Config, steps: tuple[str, ...], device: str,
                          profile: str, data_note: str) -> Prepared:
    """No real CIFAR-10 and no generated stand-in allowed: q1a as usual, and q1b's models only
    inspected (the verdicts that need no training); the comparison waits for CIFAR-10. The
    budget is the one real CIFAR-10 will grade with, for the feedback."""
    if "train" in steps:
        steps = tuple(s for s in steps if s != "train") + ("inspect",) * ("inspect" not in steps)
    budget = config.budget("cifar10", profile)
    cases, translate_inputs = write_q1a_inputs(inputs, config)
    write_probe_config(inputs, probe_config(config, budget, steps, device, cases))
    return Prepared(inputs=inputs, dataset=NO_DATASET, data_note=data_note, profile=profile,
                    device=device, budget=budget, config=config,
                    test_labels=np.zeros(0, np.int64), translate_cases=cases,
                    translate_inputs=translate_inputs, steps=tuple(steps))


def write_q1a_inputs(inputs: Path, config: Q1Config):
    """translate's inputs and the equivariance image, from their own seeded generator: the same
    whatever the dataset, so ``grader.check`` in the student's kernel (``prepare_checks``) probes
    with exactly the grader's inputs. Returns the translate cases and inputs."""
    rng = np.random.default_rng([config.seed, 1])
    translate_inputs = {key: (rng.standard_normal(shape) + 2.0).astype(np.float32)
                        for key, shape in TRANSLATE_SHAPES.items()}
    for key, x in translate_inputs.items():
        np.save(inputs / f"translate_{key}.npy", x)
    size = config.image_size
    np.save(inputs / "equiv_x.npy", rng.standard_normal((2, 3, size, size)).astype(np.float32))
    return translate_cases(config.seed), translate_inputs


def probe_config(config: Q1Config, budget: Budget, steps, device: str, cases,
                 mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)) -> dict:
    """The probe's ``config.json``."""
    return {
        "seed": config.seed,
        "steps": list(steps),
        "device": device,
        "threads": budget.threads,
        "epochs": budget.epochs,
        "batch_size": budget.batch_size,
        "lr": budget.lr,
        "schedule": budget.schedule,
        "eval_batch": budget.eval_batch,
        "train_seconds": budget.train_seconds,
        "give_up": budget.give_up_factor,
        "max_params": config.max_params,
        "mean": [float(m) for m in mean],
        "std": [float(s) for s in std],
        "translate_cases": [list(c) for c in cases],
        "shifts": [list(s) for s in config.equivariance_shifts],
        "margin": config.equivariance_margin,
        "min_interior": config.equivariance_min_interior,
        "max_size": config.equivariance_max_size,
        "reach_rtol": config.reach_rtol,
        "image_size": config.image_size,
    }


def write_probe_config(inputs: Path, config: dict) -> None:
    (inputs / "config.json").write_text(json.dumps(config, indent=1))


def prepare_checks(inputs: str | os.PathLike, *, budget: Budget, dataset: str, data_note: str,
                   config: Q1Config | None = None,
                   steps: tuple[str, ...] = (*Q1A_STEPS, "inspect")) -> Prepared:
    """The probe's inputs for the checks that need no data (q1a, and q1b before training): what
    ``grader.check`` runs in the student's kernel. ``budget`` is the one the autograder grades
    with on ``dataset`` (described by ``data_note``): its thread count applies here too, and
    the feedback states its recipe. No dataset is read or written."""
    config = config or Q1Config()
    if set(steps) - {*Q1A_STEPS, "inspect"}:
        raise ValueError(f"prepare_checks runs no training: steps {steps}")
    inputs = Path(inputs)
    inputs.mkdir(parents=True, exist_ok=True)
    cases, translate_inputs = write_q1a_inputs(inputs, config)
    write_probe_config(inputs, probe_config(config, budget, steps, "cpu", cases))
    return Prepared(inputs=inputs, dataset=dataset, data_note=data_note, profile="", device="cpu",
                    budget=budget, config=config, test_labels=np.zeros(0, np.int64),
                    translate_cases=cases, translate_inputs=translate_inputs, steps=tuple(steps))


def expected_translate(prepared: Prepared, case: tuple[str, int, int]) -> np.ndarray:
    key, dx, dy = case
    return reference_translate(prepared.translate_input(key), dx, dy)
