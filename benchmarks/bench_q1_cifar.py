"""The q1b verdict on real CIFAR-10 over many seeds, with the `cifar10` budget of the settings.

    .venv/bin/python benchmarks/bench_q1_cifar.py --data-dir DIR --seeds 20 --jobs 2 \\
        --record benchmarks/q1_cifar.jsonl --preds /tmp/q1_cifar_preds
    .venv/bin/python benchmarks/bench_q1_cifar.py --summarise benchmarks/q1_cifar.jsonl \\
        --preds /tmp/q1_cifar_preds

DIR is a data cache holding CIFAR-10 (``fetch-cifar``, or ``fetch-cifar --from`` an image copy
such as ``../shared/data/cifar10-jpeg.tar.gz``). For each seed the run is prepared exactly as a
grading run would (``prepare_q1``: the seeded subsets, normalisation), every model is trained
ONCE with the probe's own ``train_one`` (the grader's recipe, inside ``torch_state``), and each
submission (a CNN with an MLP) is checked by ``check_q1`` on the records and predictions the
probe would have written. A model whose code is another's renamed trains bit-identically, so
its training is reused.

Each trained model is one JSON line in ``--record`` as soon as it finishes (accuracy, seconds,
CPU seconds, the worker's peak RSS) and its test predictions one ``.npy`` in ``--preds``, so a
run that stops keeps what it did and a rerun skips it. ``--summarise`` trains nothing: it checks
every submission with the CURRENT settings' thresholds (floor, MLP floor, confidence) on the
recorded predictions, so thresholds can be chosen after the training.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: model id -> (class name in the notebook, fixture variant or None for the reference)
MODELS = {
    "cnn": ("CNN", None),
    "mlp_256_128": ("MLP", "mlp_256_128"),
    "tutorial_cnn": ("CNN", "tutorial_cnn"),
    "strong_mlp": ("MLP", "strong_mlp"),
    "worksheet_mlp": ("MLP", "worksheet_mlp"),
    "strided_cnn": ("CNN", "strided_cnn"),
    "token_conv_cnn": ("CNN", "token_conv_cnn"),
    "mlp_sandbagged": ("MLP", "mlp_sandbagged"),
    "bn_dropout_flat_cnn": ("CNN", "bn_dropout_flat_cnn"),
    "worksheet_cnn": ("CNN", "worksheet_cnn"),
    "bn_dropout_cnn": ("CNN", "bn_dropout_cnn"),
}
#: Models whose code is another model's, renamed: the twin's record and predictions are used.
SAME_AS = {"mlp": "worksheet_mlp", "no_conv_cnn": "worksheet_mlp", "mlp_with_conv": "cnn"}
"""the reference MLP is the course's 3072-100-100-10, layer for layer (the same initial weights,
the same predictions); the "CNN without conv" is the reference MLP renamed, the "MLP with a
conv" the reference CNN"""

#: submission -> (CNN model id, MLP model id, expected verdict): "pass" (full marks on every
#: seed), "fail" (never full marks), or "record" (the data's verdict, recorded, not required)
SUBMISSIONS = {
    "reference": ("cnn", "mlp", "pass"),
    "worksheet ThreeLayerConvNet + 3072-100-100-10": ("worksheet_cnn", "worksheet_mlp", "pass"),
    "tutorial Net + 3072-100-100-10": ("tutorial_cnn", "worksheet_mlp", "pass"),
    "reference CNN + 3072-256-128-10": ("cnn", "mlp_256_128", "pass"),
    "tutorial Net + 3072-256-128-10": ("tutorial_cnn", "mlp_256_128", "pass"),
    "BatchNorm+Dropout CNN (pool, pool, flatten) + reference MLP":
        ("bn_dropout_flat_cnn", "mlp", "pass"),
    "tutorial Net + strong MLP (BN+Dropout)": ("tutorial_cnn", "strong_mlp", "pass"),
    "strided CNN, no pooling + reference MLP": ("strided_cnn", "mlp", "pass"),
    "BatchNorm+Dropout CNN, global average pooling + reference MLP":
        ("bn_dropout_cnn", "mlp", "record"),
    "impostor: CNN without conv": ("no_conv_cnn", "mlp", "fail"),
    "impostor: token 1x1 conv + MLP": ("token_conv_cnn", "mlp", "fail"),
    "impostor: MLP with a conv": ("cnn", "mlp_with_conv", "fail"),
    "impostor: sandbagged MLP": ("cnn", "mlp_sandbagged", "fail"),
}


def _prepared(seed: int, data_dir: str, work: Path, profile: str):
    from autograder.q1 import Q1Config, prepare_q1

    config = Q1Config(seed=seed, device="auto" if profile == "gpu" else "cpu", profile=profile)
    return prepare_q1(work / f"seed{seed}", config=config, data_dir=data_dir, steps=("train",))


def run_seed(seed: int, data_dir: str, profile: str, record: str, preds: str,
             done: frozenset) -> int:
    """Train every model not yet recorded for this seed; one JSON line per model."""
    import numpy as np

    from autograder.q1 import probe
    from tests import q1_fixtures as fx

    preds_dir = Path(preds)
    with tempfile.TemporaryDirectory(prefix="bench_q1_cifar_") as tmp:
        prepared = _prepared(seed, data_dir, Path(tmp), profile)
        np.save(preds_dir / f"seed{seed}_labels.npy", prepared.test_labels)
        cfg = json.loads((prepared.inputs / "config.json").read_text())
        trained = 0
        with probe.torch_state(cfg["threads"], cfg["seed"]):
            data = probe._training_data(prepared.inputs, cfg)
            for model_id, (name, variant) in MODELS.items():
                if (seed, model_id) in done:
                    continue
                out = Path(tmp) / model_id
                out.mkdir()
                ns = fx.namespace(*([variant] if variant else []))
                cpu = time.process_time()
                rec = probe._guard(probe.train_one, ns, name, data, out, cfg)
                row = {"seed": seed, "model": model_id, "dataset": prepared.data_note,
                       "budget": repr(prepared.budget), "record": rec,
                       "cpu_seconds": round(time.process_time() - cpu, 1),
                       "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                                            / 1024),
                       "load": os.getloadavg()[0]}
                pred = out / f"pred_{name}.npy"
                if pred.exists():
                    p = np.load(pred)
                    np.save(preds_dir / f"seed{seed}_{model_id}.npy", p.astype(np.int8))
                    row["accuracy"] = float((p == prepared.test_labels).mean())
                with open(record, "a") as f:
                    f.write(json.dumps(row) + "\n")
                print(f"seed {seed:2d} {model_id:16s} acc {row.get('accuracy', 0):.1%} "
                      f"cpu {row['cpu_seconds']:6.1f} s rss {row['peak_rss_mb']} MB "
                      f"load {row['load']:.1f}", flush=True)
                trained += 1
    return trained


def _max_kernel(model_id: str) -> int:
    """The largest kernel among the model's convolution modules (0 without any), for records
    written before the probe reported it: what the probe reports for module-based models."""
    from torch import nn

    from tests import q1_fixtures as fx

    name, variant = MODELS[model_id]
    model = fx.namespace(*([variant] if variant else []))[name]()
    return max((max(m.kernel_size) for m in model.modules() if isinstance(m, nn.Conv2d)),
               default=0)


def check_rows(rows: list[dict], preds: Path, profile: str) -> list[dict]:
    """Every submission of every complete seed, checked with the current settings."""
    import numpy as np

    from autograder.q1 import Q1Config, check_q1
    from autograder.q1.prepare import Prepared
    from autograder.settings.q1 import BUDGETS

    by_seed: dict[int, dict[str, dict]] = {}
    for r in rows:
        if r["record"].get("ok") and "max_kernel" not in r["record"]:
            r["record"]["max_kernel"] = _max_kernel(r["model"])
        by_seed.setdefault(r["seed"], {})[r["model"]] = r
    for records in by_seed.values():
        for twin, original in SAME_AS.items():
            if original in records:
                records[twin] = records[original]
    out_rows = []
    budget = BUDGETS[("cifar10", profile)]
    with tempfile.TemporaryDirectory(prefix="bench_q1_cifar_check_") as tmp:
        for seed, records in sorted(by_seed.items()):
            labels = np.load(preds / f"seed{seed}_labels.npy").astype(np.int64)
            prepared = Prepared(inputs=Path(tmp), dataset="cifar10", data_note="CIFAR-10",
                                profile=profile, device="cpu", budget=budget,
                                config=Q1Config(seed=seed, device="cpu", profile=profile),
                                test_labels=labels, translate_cases=(), translate_inputs={},
                                steps=("train",))
            for submission, (cnn_id, mlp_id, expected) in SUBMISSIONS.items():
                if cnn_id not in records or mlp_id not in records:
                    continue
                out = Path(tmp) / f"s{seed}-{cnn_id}-{mlp_id}"
                out.mkdir()
                report = {"device": "cpu", "done": True, "CNN": records[cnn_id]["record"],
                          "MLP": records[mlp_id]["record"]}
                for role, model_id in (("CNN", cnn_id), ("MLP", mlp_id)):
                    source = preds / f"seed{seed}_{SAME_AS.get(model_id, model_id)}.npy"
                    if source.exists():
                        np.save(out / f"pred_{role}.npy", np.load(source).astype(np.int64))
                (out / "report.json").write_text(json.dumps(report))
                r = check_q1(out, prepared)["CNN"]
                out_rows.append({
                    "seed": seed, "submission": submission, "expected": expected, "full": r.passed,
                    "score": r.score, "mistake": r.mistake,
                    "cnn": records[cnn_id].get("accuracy"), "mlp": records[mlp_id].get("accuracy"),
                    "low": _interval_low(r.message),
                    "cpu_seconds": records[cnn_id]["cpu_seconds"]
                    + records[mlp_id]["cpu_seconds"],
                    "rss": max(records[cnn_id]["peak_rss_mb"], records[mlp_id]["peak_rss_mb"])})
    return out_rows


def _interval_low(message: str) -> float | None:
    marker = "interval ["
    if marker not in message:
        return None
    return float(message.split(marker, 1)[1].split(",", 1)[0])


def _range(values: list, scale: float = 100.0, digits: int = 1) -> str:
    vs = [v * scale for v in values if v is not None]
    if not vs:
        return "n/a"
    return f"{min(vs):.{digits}f} / {statistics.median(vs):.{digits}f} / {max(vs):.{digits}f}"


def summarise(rows: list[dict], preds: Path, profile: str) -> int:
    """The table for benchmarks/README.md; 0 when every verdict is as expected."""
    checked = check_rows(rows, preds, profile)
    print(f"seeds: {sorted({r['seed'] for r in checked})}")
    print("| submission | expected | full marks | CNN % min/median/max | MLP % min/median/max "
          "| interval low (points) min/median/max | CPU s (both models) min/median/max "
          "| verdicts |")
    print("|---|---|---|---|---|---|---|---|")
    ok = True
    for submission, (_, _, expected) in SUBMISSIONS.items():
        mine = [r for r in checked if r["submission"] == submission]
        if not mine:
            continue
        full = sum(r["full"] for r in mine)
        ok &= expected == "record" or full == (len(mine) if expected == "pass" else 0)
        verdicts = ", ".join(sorted({str(r["mistake"] or "full") for r in mine}))
        print(f"| {submission} | {expected} | {full}/{len(mine)} | "
              f"{_range([r['cnn'] for r in mine])} | {_range([r['mlp'] for r in mine])} | "
              f"{_range([r['low'] for r in mine], 1.0)} | "
              f"{_range([r['cpu_seconds'] for r in mine], 1.0, 0)} | {verdicts} |")
    print(f"\npeak RSS of a training worker: {max(r['rss'] for r in checked)} MB")
    print("all as expected" if ok else "SOME VERDICTS NOT AS EXPECTED")
    return 0 if ok else 1


def _read(record: Path) -> list[dict]:
    return [json.loads(line) for line in record.read_text().splitlines() if line.strip()] \
        if record.exists() else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="cache holding CIFAR-10")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="seeds trained in parallel")
    parser.add_argument("--profile", default="cpu", help="whose cifar10 budget (cpu, gradescope)")
    parser.add_argument("--record", required=True, help="JSON lines, one per trained model")
    parser.add_argument("--preds", required=True, help="folder for the test predictions")
    parser.add_argument("--models", default="",
                        help="comma-separated model ids to train (default: all of MODELS)")
    parser.add_argument("--summarise", action="store_true",
                        help="check the recorded predictions with the current settings")
    args = parser.parse_args(argv)
    record, preds = Path(args.record), Path(args.preds)
    if args.summarise:
        return summarise(_read(record), preds, args.profile)
    preds.mkdir(parents=True, exist_ok=True)
    done = frozenset((r["seed"], r["model"]) for r in _read(record))
    if args.models:
        wanted = set(args.models.split(","))
        unknown = wanted - set(MODELS)
        if unknown:
            parser.error(f"unknown models {sorted(unknown)}; known: {list(MODELS)}")
        done |= {(s, m) for s in range(args.first_seed, args.first_seed + args.seeds)
                 for m in MODELS if m not in wanted}
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    print(f"python {sys.version.split()[0]}, load average {os.getloadavg()}", flush=True)
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        n = len(seeds)
        trained = sum(pool.map(run_seed, seeds, [args.data_dir] * n, [args.profile] * n,
                               [str(record)] * n, [str(preds)] * n, [done] * n))
    print(f"\n{trained} models in {time.perf_counter() - start:.0f} s, load average "
          f"{os.getloadavg()}\n")
    return summarise(_read(record), preds, args.profile)


if __name__ == "__main__":
    raise SystemExit(main())
