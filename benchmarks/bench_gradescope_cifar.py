"""Q1b in Gradescope's default machine on real CIFAR-10: seconds, memory and verdicts.

    .venv/bin/python benchmarks/bench_gradescope_cifar.py --data-dir DIR [case ...]

DIR is a data cache holding CIFAR-10 (``fetch-cifar``, or ``fetch-cifar --from`` an image copy
such as ``../shared/data/cifar10-jpeg.tar.gz``), handed to the zip's ``run_autograder`` as
``DIS05_DATA_DIR`` (on Gradescope, ``setup.sh`` fills ``/autograder/data``). Each case is the
reference notebook, with a last cell redefining ``CNN`` and ``MLP`` for the cases other than the
reference, graded by the built zip in a cgroup of 768 MB and half a CPU with Gradescope's real
budget (``tests/execution/test_gradescope_box.py``'s box), one case after another. Printed per
case: whole seconds, q1b's score, the box's memory peak, the probe's training CPU seconds, and
the start of q1b's feedback.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.student import package  # noqa: E402
from tests import q1_fixtures as fx  # noqa: E402
from tests.conftest import REFERENCE, ROOT  # noqa: E402
from tests.execution.test_gradescope_box import (  # noqa: E402
    cgroup_v1_problem,
    run_in_box,
    with_last_cell,
)

TOO_SLOW = """
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, 5, padding=2), nn.ReLU(), nn.Conv2d(64, 64, 5, padding=2),
            nn.ReLU(), nn.MaxPool2d(4))
        self.fc = nn.Linear(64 * 8 * 8, 10)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))
"""

#: what student cells commonly import beyond the notebook's own imports (the fixtures use F)
IMPORTS = "import torch.nn.functional as F\n"

def _replaced(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced; stops when ``old`` is absent (the case would silently be
    another case, and its figure measure nothing new)."""
    if old not in text:
        raise SystemExit(f"bench_gradescope_cifar: {old!r} is not in the case it edits")
    return text.replace(old, new)


#: case -> the last cell's code (None: the reference notebook as it is)
CASES = {
    "reference": None,
    "worksheet ThreeLayerConvNet + 3072-100-100-10": fx.ALTERNATIVES["worksheet_cnn"][1]
    + fx.ALTERNATIVES["worksheet_mlp"][1],
    "BatchNorm+Dropout CNN (pool, pool, flatten) + reference MLP":
        fx.ALTERNATIVES["bn_dropout_flat_cnn"][1],
    "BatchNorm+Dropout CNN, global average pooling + reference MLP":
        fx.ALTERNATIVES["bn_dropout_cnn"][1],
    "tutorial Net + strong MLP": fx.ALTERNATIVES["tutorial_cnn"][1]
    + fx.ALTERNATIVES["strong_mlp"][1],
    "too slow for the machine": TOO_SLOW,
    "too large for the machine's memory": _replaced(TOO_SLOW, "64", "256"),
}


def q1b(results: dict) -> dict:
    return next(t for t in results["tests"] if t["name"].lower().startswith("q1b"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="cache holding CIFAR-10")
    parser.add_argument("cases", nargs="*",
                        help=f"the cases whose names start so, of {list(CASES)} (default: all)")
    args = parser.parse_args(argv)
    why = cgroup_v1_problem()
    if why:
        print(f"cannot simulate Gradescope's machine here: {why}")
        return 1
    env = {"DIS05_DATA_DIR": str(Path(args.data_dir).resolve())}
    print(f"load average before: {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        zip_path = package.assign(master=ROOT / "solutions" / "master" / "dis05.ipynb",
                                  root=ROOT, dest=tmp / "assign")["zip"]
        for name, cell in CASES.items():
            if args.cases and not any(name.startswith(c) for c in args.cases):
                continue
            work = tmp / f"case{len(list(tmp.iterdir()))}"
            work.mkdir()
            notebook = REFERENCE if cell is None else with_last_cell(work, IMPORTS + cell)
            got = run_in_box(zip_path, notebook, work / "autograder", env)
            test = q1b(got["results"])
            train = [line for line in got["log"].splitlines() if "Q1 probe:" in line]
            print(f"{name}: {got['seconds']:.1f} s, q1b {test['score']:g}/{test['max_score']:g}, "
                  f"resident peak {got['resident_peak_mb']:.0f} MB (usage with page cache "
                  f"{got['peak_mb']:.0f} MB, OOM kills {got['oom_kills']}), "
                  f"load {os.getloadavg()[0]:.1f}\n"
                  f"  {train[0] if train else 'no probe line'}\n"
                  f"  {test['output'][:400]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
