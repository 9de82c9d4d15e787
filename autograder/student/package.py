"""``make assign``: the master notebook -> student notebook, solutions notebook, Gradescope zip,
and the students' download (the notebook with the package its ``grader.check`` cells import).

otter assign does the notebook work (stubs, tests in the student notebook's metadata). Its zip
grades with otter's own runner, in the student's kernel; ours replaces the set-up and the entry
point so that Gradescope grades exactly as ``make grade`` does (``python -m autograder
gradescope``), ships this package and only the runtime requirements (``requirements-gradescope.txt``,
exact pins), and fetches CIFAR-10 when the image is built.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import yaml

from autograder import settings, source_files, worksheet
from autograder.grading import assignment
from autograder.settings import shown
from autograder.settings.limits import Limits, Machine
from autograder.settings.variants import Variants
from autograder.worksheet import NOTEBOOK

ZIP_NAME = "dis05-autograder.zip"
STUDENT_ZIP_NAME = "dis05-student.zip"
FIXED_TIME = (2025, 1, 1, 0, 0, 0)  # zip entries get this timestamp, so builds are reproducible
RUNTIME_REQUIREMENTS = "requirements-gradescope.txt"
"""exact pins of what grading needs at run time (no otter, pytest, ruff, playwright, docs)"""
ENV_PYTHON = "/root/miniforge3/envs/dis05/bin"

_MACHINE, _LIMITS = Machine(), Limits()
RUN_AUTOGRADER = f"""\
#!/usr/bin/env bash
# Grades the submission with the same pipeline as `make grade` (not otter's default runner).
# Time: every phase's budget is computed and enforced by the grader
# (autograder/execution/budget.py). Defaults, from autograder/settings: the machine's limit for
# the whole run is {shown(_MACHINE.seconds)} s (DIS05_MACHINE_SECONDS), less \
{shown(_MACHINE.safety_margin)} s kept back;
# one submission may use {shown(_MACHINE.total_seconds)} s, its notebook \
{shown(_MACHINE.notebook_seconds)} s (DIS05_TIMEOUT) and one cell
# {shown(_LIMITS.cell_timeout)} s (DIS05_CELL_TIMEOUT).
set -u
ROOT="${{DIS05_GRADESCOPE_ROOT:-{settings.option("gradescope", "--root").value}}}"
if [ -x {ENV_PYTHON}/python ]; then
    export PATH={ENV_PYTHON}:$PATH
fi
chmod 700 "$ROOT/source" 2>/dev/null || true   # keep the grader out of the student's reach
cd "$ROOT/source"
export DIS05_DATA_DIR="${{DIS05_DATA_DIR:-$ROOT/data}}"
export DIS05_Q1_PROFILE="${{DIS05_Q1_PROFILE:-gradescope}}"
exec python -m autograder gradescope --root "$ROOT" \\
    ${{DIS05_TIMEOUT:+--timeout "$DIS05_TIMEOUT"}} \\
    ${{DIS05_CELL_TIMEOUT:+--cell-timeout "$DIS05_CELL_TIMEOUT"}} \\
    ${{DIS05_MACHINE_SECONDS:+--machine-seconds "$DIS05_MACHINE_SECONDS"}}
"""

SETUP = f"""\
#!/usr/bin/env bash
# Gradescope image set-up for dis05: Python 3.11 (miniforge), the grader's runtime requirements
# (exact pins, CPU torch) and CIFAR-10, fetched once here.
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y wget
wget -nv "https://github.com/conda-forge/miniforge/releases/download/25.3.1-0/Miniforge3-Linux-$(uname -m).sh" \\
    -O /tmp/miniforge.sh
bash /tmp/miniforge.sh -b -p /root/miniforge3
/root/miniforge3/bin/conda create -y -n dis05 -c conda-forge python=3.11 pip
# The student's code runs as an unprivileged user, which must be able to run this python under
# /root (traverse only: /root stays unlistable; /autograder/source is made 700).
chmod 711 /root
cd /autograder/source
{ENV_PYTHON}/pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu \\
    -r /autograder/source/requirements.txt
{ENV_PYTHON}/python -m autograder fetch-cifar --data-dir /autograder/data \\
    || echo "CIFAR-10 could not be fetched: q1b's CNN-versus-MLP comparison will wait for staff review"
"""


def run_otter_assign(master: Path, dist: Path) -> None:
    """Run ``otter assign`` (raises CalledProcessError with its output on failure)."""
    otter = Path(sys.executable).with_name("otter")
    subprocess.run([str(otter), "assign", str(master), str(dist)], check=True,
                   capture_output=True, text=True)


def normalise_notebook(src: Path, dst: Path) -> None:
    """Copy a generated notebook with stable cell ids and no outputs, so reruns give no diff."""
    nb = json.loads(src.read_text())
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i:03d}"
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n")


def package_files(root: Path) -> list[Path]:
    """Our grading package's source files (no tests, caches or built artefacts)."""
    return list(source_files(root / "autograder").values())


def package_entries(root: Path) -> dict[str, bytes]:
    """Zip entries for the package: ``autograder/...py`` -> bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in package_files(root)}


def build_zip(otter_zip: Path, root: Path, target: Path, *, variants: bool = False,
              salt: str = Variants().salt) -> Path:
    """Our Gradescope zip: otter's tests, our set-up, entry point, package and runtime pins
    (``variants``: the entry point grades each student's own numbers)."""
    entries: dict[str, bytes] = {}
    with zipfile.ZipFile(otter_zip) as z:
        for name in z.namelist():
            if name.startswith("tests/"):  # (otter's set-up files install what we do not use)
                entries[name] = z.read(name)
    entries["setup.sh"] = SETUP.encode()
    entries["run_autograder"] = RUN_AUTOGRADER.encode()
    if variants:  # read by `autograder gradescope`: the zip grades each student's own numbers
        entries[assignment.ZIP_FILE] = json.dumps(assignment.record(salt), indent=1).encode()
    entries["requirements.txt"] = (root / RUNTIME_REQUIREMENTS).read_bytes()
    if (root / "overrides.yaml").is_file():  # course staff's overrides: graded as in make grade
        entries["overrides.yaml"] = (root / "overrides.yaml").read_bytes()
    entries.update(package_entries(root))
    return write_zip(target, entries, executable=("run_autograder", "setup.sh"))


def student_test_files(notebook: Path) -> dict[str, bytes]:
    """``tests/<question>.py`` for each test otter assign stored in the notebook's metadata.

    Otter reads these files when ``./tests`` exists, and on Google Colab it reads nothing else
    (it refuses tests kept in notebook metadata there)."""
    tests = json.loads(notebook.read_text())["metadata"]["otter"]["tests"]
    return {f"tests/{name}.py": source.encode() for name, source in sorted(tests.items())}


def build_student_zip(notebook: Path, root: Path, target: Path) -> Path:
    """What students download: the notebook, the package its ``grader.check`` cells import, and
    the checks as test files (see ``student_test_files``). The notebook's first cell unpacks or
    fetches this zip where it is missing (Colab)."""
    return write_zip(target, {NOTEBOOK: notebook.read_bytes(), **package_entries(root),
                              **student_test_files(notebook)})


def write_zip(target: Path, entries: dict[str, bytes], executable: tuple[str, ...] = ()) -> Path:
    """A reproducible zip: sorted names, fixed timestamps."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.external_attr = (0o755 if name in executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, entries[name])
    return target


def _question_config(source: str) -> dict:
    """The settings of a ``# BEGIN QUESTION`` raw cell (its YAML after the marker)."""
    return yaml.safe_load(source.removeprefix("# BEGIN QUESTION")) or {}


def master_problems(master: Path) -> list[str]:
    """Where the master notebook disagrees with ``worksheet/__init__.py``, the source of truth: each
    question's id, its test cell calling ``check_question`` with its id, and every answer variable
    assigned (or defined) in the question's cells. Points are written only in the worksheet
    (``with_points`` fills them in for otter), so a ``points:`` line in the master is refused."""
    problems: list[str] = []
    found: dict[str, tuple[dict, str]] = {}
    current, code = None, []
    for cell in json.loads(master.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "raw" and source.startswith("# BEGIN QUESTION"):
            config = _question_config(source)
            current, code = str(config.get("name")), []
            found[current] = (config, "")
        elif cell["cell_type"] == "raw" and source.startswith("# END QUESTION") and current:
            found[current] = (found[current][0], "\n".join(code))
            current = None
        elif current and cell["cell_type"] == "code":
            code.append(source)
    for q in worksheet.QUESTIONS:
        if q.id not in found:
            problems.append(f"{q.id}: no '# BEGIN QUESTION' cell named {q.id}")
            continue
        config, text = found.pop(q.id)
        if "points" in config:
            problems.append(f"{q.id}: the notebook writes points ({config['points']}): remove the "
                            f"line, points are written only in worksheet/__init__.py")
        if f'check_question("{q.id}", env)' not in text:
            problems.append(f'{q.id}: its tests cell does not call check_question("{q.id}", env)')
        for v in q.variables:
            if not re.search(rf"^(\s*(class|def)\s+{v.name}\b|{v.name}\s*=)", text, re.M):
                problems.append(f"{q.id}: no cell of the question assigns `{v.name}`")
    problems += [f"{name}: a question of the notebook that worksheet/__init__.py does not know"
                 for name in found]
    return problems


def with_points(master: Path, target: Path) -> Path:
    """A copy of the master notebook whose ``# BEGIN QUESTION`` cells carry each question's points
    from the worksheet (``points: 2`` after its name): what otter assign reads, so the points
    of the tests and the Gradescope zip are the worksheet's, written nowhere else."""
    nb = json.loads(master.read_text())
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "raw" and source.startswith("# BEGIN QUESTION"):
            points = worksheet.question(str(_question_config(source).get("name"))).points
            cell["source"] = [*cell["source"][:-1], cell["source"][-1].rstrip("\n") + "\n",
                              f"points: {points:g}"]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return target


def assign(*, master: Path, root: Path, dest: Path | None = None,
           variants: bool = False, salt: str = Variants().salt) -> dict[str, Path]:
    """Regenerate the student notebook, the solutions notebook and the Gradescope zip.

    They are written under ``dest`` (default: the repository ``root``) at the same relative
    paths: ``assignment/dis05.ipynb``, ``solutions/dis05.ipynb``, ``autograder/dist/<zip>``.
    With ``variants``, the variant assignment: the student notebook asks for ``STUDENT_EMAIL``
    and shows the student's own numbers; both it and the zip record so (with ``salt``'s
    fingerprint), and grading reads that record (``grading/assignment.py``): no flag.
    """
    if problems := master_problems(master):
        raise ValueError(f"{master} disagrees with worksheet/__init__.py:\n  " + "\n  ".join(problems))
    root = root.resolve()
    dest = (dest or root).resolve()
    with tempfile.TemporaryDirectory(prefix="dis05-assign-") as tmp:
        out = Path(tmp) / "dist"
        run_otter_assign(with_points(master, Path(tmp) / "master" / NOTEBOOK), out)
        student = dest / "assignment" / NOTEBOOK
        solutions = dest / "solutions" / NOTEBOOK
        normalise_notebook(out / "student" / NOTEBOOK, student)
        normalise_notebook(out / "autograder" / NOTEBOOK, solutions)
        if variants:
            from autograder.student.variant_build import make_variant_notebook

            make_variant_notebook(student, salt)
        otter_zip = next((out / "autograder").glob("*.zip"))
        dist = dest / "autograder" / "dist"
        zip_path = build_zip(otter_zip, root, dist / ZIP_NAME, variants=variants, salt=salt)
        student_zip = build_student_zip(student, root, dist / STUDENT_ZIP_NAME)
    return {"student": student, "solutions": solutions, "zip": zip_path, "student_zip": student_zip}


def zip_listing(zip_path: Path) -> list[str]:
    """The zip's file names, sorted (the golden file compares this)."""
    with zipfile.ZipFile(zip_path) as z:
        return sorted(z.namelist())
