"""grader.check under other versions: does a student's sympy/numpy/Python change the verdict?

For each combination it makes a throwaway venv (pip, from the package index), installs only sympy
and numpy, and runs this file's worker there with this repository on PYTHONPATH: the worker writes
every reference answer and every catalogue entry the way a student would (SymPy objects, NumPy
arrays, text), sends it down the same road as ``grader.check`` (encode, decode, check), and prints
(score, mistake) for each. The verdicts must equal those of the grader's pinned environment (this
interpreter). Run manually (a few minutes):

    .venv/bin/python scripts/version_matrix.py                  # the default matrix
    .venv/bin/python scripts/version_matrix.py 3.12:1.12:1.26   # python:sympy:numpy
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MATRIX = ("3.11:1.12:1.26", "3.11:1.13:2.2", "3.11:1.14:1.26", "3.12:1.12:1.26",
          "3.12:1.13:2.2", "3.12:1.14:2.3")


def worker() -> dict:
    """Verdicts of this environment: case -> [score, mistake]."""
    import numpy as np
    import sympy as sp

    from autograder import answers, worksheet
    from autograder.checks import check_variable
    from autograder.checks.kinds import kind_of
    from autograder.worksheet import mistakes

    names = {n: sp.Symbol(n) for n in worksheet.Q2_SYMBOLS}
    names.update({n: sp.Symbol(n, integer=True, nonnegative=True) for n in "WKps"})

    def as_student(value):
        """How a student writes it, by the value's shape (whatever its kind): text as a SymPy
        object, rows as a Matrix, a tuple of texts as a tuple of SymPy objects."""
        if isinstance(value, str):
            return sp.sympify(value, locals=names)
        if isinstance(value, list) and all(isinstance(row, list) for row in value):
            return sp.Matrix([[sp.sympify(x, locals=names) for x in row] for row in value])
        if isinstance(value, tuple) and all(isinstance(x, str) for x in value):
            return tuple(sp.sympify(x, locals=names) for x in value)
        return value

    verdicts = {}
    for q in worksheet.Q2_QUESTIONS:
        for v in q.variables:
            kind = kind_of(v)
            cases = {"reference": kind.example(v)}
            for i, m in enumerate(mistakes.for_variable(v.name)):
                cases[f"mistake {i} {m.id}"] = kind.wrong(v, m)
            for label, value in cases.items():
                written = as_student(value)
                for form, answer in (("text", value), ("object", written)):
                    result = check_variable(v, answers.decode(answers.encode(answer)))
                    verdicts[f"{v.name} {label} ({form})"] = [result.score, result.mistake]
                if isinstance(written, sp.MatrixBase) and label == "reference":
                    array = np.array(written.tolist(), dtype=object)
                    result = check_variable(v, answers.decode(answers.encode(array)))
                    verdicts[f"{v.name} {label} (numpy object array)"] = [result.score, result.mistake]
    return verdicts


def find_python(version: str) -> str | None:
    """An interpreter of this version that runs: on PATH, else a pyenv install."""
    candidates = [shutil.which(f"python{version}"),
                  *map(str, sorted(Path.home().glob(f".pyenv/versions/{version}*/bin/python{version}")))]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
            return candidate
    return None


def run_combination(spec: str, baseline: dict, cache: Path) -> str:
    python, sympy_version, numpy_version = spec.split(":")
    interpreter = find_python(python)
    if interpreter is None:
        return f"{spec}: Python {python} not found (on PATH or under ~/.pyenv/versions)"
    venv = cache / spec.replace(":", "-")
    if not (venv / "bin" / "python").exists():
        made = subprocess.run([interpreter, "-m", "venv", str(venv)], capture_output=True, text=True)
        if made.returncode != 0:
            return f"{spec}: could not make a venv ({made.stderr.strip()[-200:]})"
        done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                               f"sympy=={sympy_version}.*", f"numpy=={numpy_version}.*"],
                              capture_output=True, text=True)
        if done.returncode != 0:
            shutil.rmtree(venv)
            return f"{spec}: could not install ({done.stderr.strip().splitlines()[-1:]})"
    proc = subprocess.run([str(venv / "bin" / "python"), __file__, "--worker"],
                          capture_output=True, text=True, env={"PYTHONPATH": str(ROOT),
                                                               "PATH": "/usr/bin:/bin"})
    if proc.returncode != 0:
        return f"{spec}: worker failed: {proc.stderr.strip()[-500:]}"
    found = json.loads(proc.stdout.splitlines()[-1])
    installed = found.pop("__versions__")
    differ = sorted(k for k in baseline if found.get(k) != baseline[k])
    verdict = "same verdicts" if not differ else f"{len(differ)} differ: {differ[:5]}"
    return f"{spec} (installed {installed}): {len(baseline)} cases, {verdict}"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        import numpy
        import sympy

        verdicts = worker()
        verdicts["__versions__"] = (f"Python {sys.version.split()[0]}, sympy {sympy.__version__}, "
                                    f"numpy {numpy.__version__}")
        print(json.dumps(verdicts))
        return 0
    sys.path.insert(0, str(ROOT))
    baseline = worker()
    cache = Path(tempfile.gettempdir()) / "dis05-version-matrix"
    cache.mkdir(exist_ok=True)
    failures = 0
    for spec in argv or MATRIX:
        line = run_combination(spec, baseline, cache)
        failures += "differ" in line or "failed" in line
        print(line, flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
