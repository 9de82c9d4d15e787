"""The q1b verdict over many seeds: typical student CNNs always pass, impostors never do.

    .venv/bin/python benchmarks/bench_q1_seeds.py --seeds 20 --jobs 2

For each seed, a generated dataset of that seed is prepared exactly as a grading run would
(``prepare_q1``: subsets, normalisation, probe inputs), every model below is trained ONCE with
the probe's own ``train_one`` (the grader's recipe, inside ``torch_state``), and each submission
(a CNN with an MLP) is then checked by ``check_q1`` on the probe records and predictions it would
have produced. Training each model once per seed, rather than once per submission, is what
makes 20 seeds affordable on a shared 2-core machine; the verdicts are the same because
training is deterministic for a given seed, class and thread count.

Printed: one line per seed and submission, then per submission the range of both accuracies,
of the lower end of the paired interval, and how many seeds gave full marks.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: Models whose code is another model's, renamed: seeded the same, they train bit-identically
#: (same seed, data order and thread count), so their probe record and predictions are reused.
SAME_AS = {"no_conv_cnn": "mlp", "mlp_with_conv": "cnn"}

#: model id -> (class name in the notebook, fixture variant or None for the reference)
MODELS = {
    "cnn": ("CNN", None),
    "mlp": ("MLP", None),
    "worksheet_cnn": ("CNN", "worksheet_cnn"),
    "worksheet_mlp": ("MLP", "worksheet_mlp"),
    "tutorial_cnn": ("CNN", "tutorial_cnn"),
    "bn_dropout_cnn": ("CNN", "bn_dropout_cnn"),
    "no_conv_cnn": ("CNN", "cnn_no_conv"),
    "token_conv_cnn": ("CNN", "token_conv_cnn"),
    "mlp_with_conv": ("MLP", "mlp_with_conv"),
    "mlp_sandbagged": ("MLP", "mlp_sandbagged"),
}

#: submission -> (CNN model id, MLP model id, should it get full marks)
SUBMISSIONS = {
    "reference": ("cnn", "mlp", True),
    "worksheet ThreeLayerConvNet + 3072-100-100-10": ("worksheet_cnn", "worksheet_mlp", True),
    "PyTorch tutorial Net": ("tutorial_cnn", "mlp", True),
    "BatchNorm+Dropout CNN": ("bn_dropout_cnn", "mlp", True),
    "impostor: CNN without conv": ("no_conv_cnn", "mlp", False),
    "impostor: token 1x1 conv + MLP": ("token_conv_cnn", "mlp", False),
    "impostor: MLP with a conv": ("cnn", "mlp_with_conv", False),
    "impostor: sandbagged MLP": ("cnn", "mlp_sandbagged", False),
}


def run_seed(seed: int, n_train: int | None, workdir: str) -> list[dict]:
    """Prepare, train every model once, check every submission; one row per submission."""
    import numpy as np

    from autograder.q1 import Q1Config, check_q1, prepare_q1, probe, synthetic
    from autograder.settings.q1 import BUDGETS
    from tests import q1_fixtures as fx

    work = Path(workdir) / f"seed{seed}"
    config = Q1Config(seed=seed, device="cpu", profile="cpu")
    budget = BUDGETS[("synthetic", "cpu")]
    if n_train:
        from dataclasses import replace
        budget = replace(budget, n_train=n_train)
    dataset = synthetic.load(synthetic.ensure(work / "data", seed=seed))
    prepared = prepare_q1(work / "inputs", config=config, dataset=dataset,
                          data_note=f"generated set, seed {seed}", steps=("train",),
                          budget=budget)
    cfg = json.loads((prepared.inputs / "config.json").read_text())
    records, started = {}, time.perf_counter()
    with probe.torch_state(cfg["threads"], cfg["seed"]):
        data = probe._training_data(prepared.inputs, cfg)
        for model_id, (name, variant) in MODELS.items():
            out = work / model_id
            out.mkdir(parents=True)
            if model_id in SAME_AS:
                continue
            ns = fx.namespace(*([variant] if variant else []))
            records[model_id] = probe._guard(probe.train_one, ns, name, data, out, cfg)
        for model_id, twin in SAME_AS.items():
            records[model_id] = records[twin]
            pred = work / twin / f"pred_{MODELS[twin][0]}.npy"
            if pred.exists():
                np.save(work / model_id / f"pred_{MODELS[model_id][0]}.npy", np.load(pred))
    train_seconds = time.perf_counter() - started
    rows = []
    for submission, (cnn_id, mlp_id, good) in SUBMISSIONS.items():
        out = work / f"check-{cnn_id}-{mlp_id}"
        out.mkdir()
        report = {"device": "cpu", "done": True, "CNN": records[cnn_id], "MLP": records[mlp_id]}
        for role, model_id in (("CNN", cnn_id), ("MLP", mlp_id)):
            pred = work / model_id / f"pred_{MODELS[model_id][0]}.npy"
            if pred.exists():
                np.save(out / f"pred_{role}.npy", np.load(pred))
        (out / "report.json").write_text(json.dumps(report))
        r = check_q1(out, prepared)["CNN"]
        labels = prepared.test_labels
        acc = {role: float((np.load(out / f"pred_{role}.npy") == labels).mean())
               if (out / f"pred_{role}.npy").exists() else None for role in ("CNN", "MLP")}
        low = _interval_low(r.message)
        rows.append({"seed": seed, "submission": submission, "good": good,
                     "full": r.passed, "score": r.score, "mistake": r.mistake,
                     "cnn": acc["CNN"], "mlp": acc["MLP"], "low": low,
                     "train_seconds_all_models": round(train_seconds, 1)})
    return rows


def _interval_low(message: str) -> float | None:
    """The lower end of the interval printed in the feedback ("interval [+53.2, ...")."""
    marker = "interval ["
    if marker not in message:
        return None
    return float(message.split(marker, 1)[1].split(",", 1)[0])


def _range(values: list[float | None], scale: float = 100.0) -> str:
    vs = [v * scale for v in values if v is not None]
    if not vs:
        return "n/a"
    return f"{min(vs):.1f} / {statistics.median(vs):.1f} / {max(vs):.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2, help="seeds trained in parallel")
    parser.add_argument("--n-train", type=int, default=None,
                        help="training images (default: the cpu budget's)")
    parser.add_argument("--record", default=None,
                        help="append each row as a JSON line to this file")
    parser.add_argument("--summarise", default=None,
                        help="print the table from rows recorded earlier (trains nothing)")
    args = parser.parse_args(argv)
    if args.summarise:
        rows = [json.loads(line) for line in Path(args.summarise).read_text().splitlines()]
        return summarise(rows)

    print(f"python {sys.version.split()[0]}, load average {os.getloadavg()}", flush=True)
    start = time.perf_counter()
    rows: list[dict] = []
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    with tempfile.TemporaryDirectory(prefix="bench_q1_seeds_") as work, \
            ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for seed_rows in pool.map(run_seed, seeds, [args.n_train] * len(seeds),
                                  [work] * len(seeds)):
            for r in seed_rows:
                low = "n/a" if r["low"] is None else f"{r['low']:+.1f}"
                cnn = "n/a" if r["cnn"] is None else f"{r['cnn']:.1%}"
                mlp = "n/a" if r["mlp"] is None else f"{r['mlp']:.1%}"
                print(f"seed {r['seed']:2d} {r['submission']:46s} CNN {cnn:>6s} MLP {mlp:>6s} "
                      f"low {low:>6s} score {r['score']:g} {r['mistake'] or ''} "
                      f"(all models trained in {r['train_seconds_all_models']} s)", flush=True)
            rows += seed_rows
            if args.record:
                with open(args.record, "a") as f:
                    f.writelines(json.dumps(r) + "\n" for r in seed_rows)
    print(f"\n{len(seeds)} seeds in {time.perf_counter() - start:.0f} s, load average "
          f"{os.getloadavg()}\n")
    return summarise(rows)


def summarise(rows: list[dict]) -> int:
    """The table for benchmarks/README.md; 0 when every verdict is as expected."""
    print(f"seeds: {sorted({r['seed'] for r in rows})}")
    print("| submission | expected | full marks | CNN % min/median/max | MLP % min/median/max "
          "| interval low (points) min/median/max | verdicts |")
    print("|---|---|---|---|---|---|---|")
    ok = True
    for submission, (_, _, good) in SUBMISSIONS.items():
        mine = [r for r in rows if r["submission"] == submission]
        full = sum(r["full"] for r in mine)
        ok &= full == (len(mine) if good else 0)
        verdicts = ", ".join(sorted({str(r["mistake"] or "full") for r in mine}))
        print(f"| {submission} | {'pass' if good else 'fail'} | {full}/{len(mine)} | "
              f"{_range([r['cnn'] for r in mine])} | {_range([r['mlp'] for r in mine])} | "
              f"{_range([r['low'] for r in mine], 1.0)} | {verdicts} |")
    print("\nall as expected" if ok else "\nSOME VERDICTS NOT AS EXPECTED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
