"""Q1 grading cost and the CNN-vs-MLP verdict, measured (nothing here is estimated).

    .venv/bin/python benchmarks/bench_q1.py                 # generated data, 5 seeds, 2 models
    .venv/bin/python benchmarks/bench_q1.py --cifar         # real CIFAR-10 from the cache
    .venv/bin/python benchmarks/bench_q1.py --profile gradescope --seeds 3

Each submission is graded as the pipeline would: the probe file is loaded by path in a fresh
Python process (which imports torch, execs the notebook code and probes it), then the checks
run here. Printed per seed: whole seconds per submission, both accuracies, the score, peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.q1 import (  # noqa: E402
    PROBE_FILE,
    Q1Config,
    check_q1,
    cifar,  # noqa: E402
    images,
    prepare_q1,
)

SUBMISSIONS = {"reference": (), "worksheet-style": ("worksheet_cnn", "worksheet_mlp")}

RUNNER = """
import importlib.util, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from tests import q1_fixtures as fx
spec = importlib.util.spec_from_file_location("q1_probe", {probe!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.probe(fx.namespace(*{variants!r}), Path({inputs!r}), Path({outputs!r}))
"""


def grade_once(prepared, variants: tuple[str, ...], outputs: Path) -> dict:
    """Probe in a fresh process, check here; return timings and the verdict."""
    start = time.perf_counter()
    code = RUNNER.format(root=str(ROOT), probe=str(PROBE_FILE), variants=variants,
                         inputs=str(prepared.inputs), outputs=str(outputs))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    probe_seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    result = check_q1(outputs, prepared)["CNN"]
    report = json.loads((outputs / "report.json").read_text())
    return {"seconds": time.perf_counter() - start, "probe_seconds": probe_seconds,
            "train": {n: report[n].get("train_seconds") for n in ("CNN", "MLP")},
            "accuracies": result.message.split(":")[0], "score": result.score,
            "max": result.max_score, "device": report.get("device")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cifar", action="store_true", help="use real CIFAR-10 from the cache")
    parser.add_argument("--data-dir", default=None, help="cache directory (else DIS05_DATA_DIR)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--profile", default=None, help="cpu, gpu or gradescope")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench_q1_"))
    data_dir = cifar.data_dir(args.data_dir) if args.cifar else work / "data"
    if args.cifar and not (cifar.cifar_present(data_dir) or images.images_present(data_dir)):
        print(f"no CIFAR-10 in {data_dir}: run python -m autograder fetch-cifar [--from PATH]")
        return 1
    print(f"python {sys.version.split()[0]}, data {data_dir}")
    for seed in range(args.seeds):
        config = Q1Config(seed=seed, device=args.device, profile=args.profile)
        start = time.perf_counter()
        prepared = prepare_q1(work / f"inputs{seed}", config=config, data_dir=data_dir)
        prep = time.perf_counter() - start
        if seed == 0:
            print(f"dataset {prepared.dataset}, profile {prepared.profile}, device "
                  f"{prepared.device}, budget {prepared.budget}")
        for name, variants in SUBMISSIONS.items():
            r = grade_once(prepared, variants, work / f"out{seed}-{name}")
            print(f"seed {seed} {name:16s} {r['seconds']:6.1f} s/submission "
                  f"(train CNN {r['train']['CNN']} s, MLP {r['train']['MLP']} s; prepare "
                  f"{prep:.1f} s) {r['accuracies']} -> {r['score']:g}/{r['max']:g} "
                  f"on {r['device']}", flush=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS of a probe process: {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
