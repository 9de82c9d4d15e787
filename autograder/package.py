"""``make assign``: the master notebook -> student notebook, solutions notebook, Gradescope zip,
and the students' download (the notebook with the package its ``grader.check`` cells import).

otter assign does the notebook work (stubs, tests in the student notebook's metadata). Its zip
grades with otter's own runner, in the student's kernel; ours replaces the entry point so that
Gradescope grades exactly as ``make grade`` does (``python -m autograder gradescope``), ships this
package and the pinned requirements, and fetches CIFAR-10 when the image is built.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .worksheet import NOTEBOOK

ZIP_NAME = "dis05-autograder.zip"
STUDENT_ZIP_NAME = "dis05-student.zip"
FIXED_TIME = (2025, 1, 1, 0, 0, 0)  # zip entries get this timestamp, so builds are reproducible
OTTER_FILES_KEPT = ("setup.sh", "environment.yml", "otter_config.json")

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Grades the submission with the same pipeline as `make grade` (not otter's default runner).
set -u
ROOT="${DIS05_GRADESCOPE_ROOT:-/autograder}"
if [ -x /root/miniforge3/bin/mamba ]; then
    export PATH=/root/miniforge3/bin:$PATH
    eval "$(mamba shell hook --shell bash)"
    mamba activate otter-env
fi
chmod 700 "$ROOT/source" 2>/dev/null || true   # keep the grader out of the student's reach
cd "$ROOT/source"
export DIS05_DATA_DIR="${DIS05_DATA_DIR:-$ROOT/data}"
export DIS05_Q1_PROFILE="${DIS05_Q1_PROFILE:-gradescope}"
# Gradescope's default limit is 10 minutes: 180 s for the notebook + 2 x 150 s Q1 training + 60 s.
exec python -m autograder gradescope --root "$ROOT" --timeout "${DIS05_TIMEOUT:-180}"
"""

SETUP_ADDITION = """
# --- dis05: the grader's pinned requirements (CPU torch) and CIFAR-10, fetched once here ---
# The student's code runs as an unprivileged user, which must be able to run the conda env's
# python under /root (traverse only: /root stays unlistable; /autograder/source is made 700).
chmod 711 /root
cd /autograder/source
mamba run -n otter-env pip install --extra-index-url https://download.pytorch.org/whl/cpu \\
    -r /autograder/source/requirements.txt
mamba run -n otter-env python -m autograder fetch-cifar --data-dir /autograder/data \\
    || echo "CIFAR-10 could not be fetched: Q1 will grade on the generated dataset"
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
    pkg = root / "autograder"
    return sorted(p for p in pkg.rglob("*.py")
                  if "__pycache__" not in p.parts and "dist" not in p.relative_to(pkg).parts)


def package_entries(root: Path) -> dict[str, bytes]:
    """Zip entries for the package: ``autograder/...py`` -> bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in package_files(root)}


def build_zip(otter_zip: Path, root: Path, target: Path) -> Path:
    """Our Gradescope zip from otter's: same set-up, our entry point, package and requirements."""
    entries: dict[str, bytes] = {}
    with zipfile.ZipFile(otter_zip) as z:
        for name in z.namelist():
            if name in OTTER_FILES_KEPT or name.startswith("tests/"):
                entries[name] = z.read(name)
    entries["setup.sh"] = entries["setup.sh"] + SETUP_ADDITION.encode()
    entries["run_autograder"] = RUN_AUTOGRADER.encode()
    entries["requirements.txt"] = (root / "requirements.txt").read_bytes()
    if (root / "overrides.yaml").is_file():  # course staff's overrides: graded as in make grade
        entries["overrides.yaml"] = (root / "overrides.yaml").read_bytes()
    entries.update(package_entries(root))
    return write_zip(target, entries, executable=("run_autograder", "setup.sh"))


def build_student_zip(notebook: Path, root: Path, target: Path) -> Path:
    """What students download: the notebook and the package its ``grader.check`` cells import."""
    return write_zip(target, {NOTEBOOK: notebook.read_bytes(), **package_entries(root)})


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


def assign(*, master: Path, root: Path, dest: Path | None = None) -> dict[str, Path]:
    """Regenerate the student notebook, the solutions notebook and the Gradescope zip.

    They are written under ``dest`` (default: the repository ``root``) at the same relative
    paths: ``assignment/dis05.ipynb``, ``solutions/dis05.ipynb``, ``autograder/dist/<zip>``.
    """
    root = root.resolve()
    dest = (dest or root).resolve()
    with tempfile.TemporaryDirectory(prefix="dis05-assign-") as tmp:
        out = Path(tmp) / "dist"
        run_otter_assign(master.resolve(), out)
        student = dest / "assignment" / NOTEBOOK
        solutions = dest / "solutions" / NOTEBOOK
        normalise_notebook(out / "student" / NOTEBOOK, student)
        normalise_notebook(out / "autograder" / NOTEBOOK, solutions)
        otter_zip = next((out / "autograder").glob("*.zip"))
        dist = dest / "autograder" / "dist"
        zip_path = build_zip(otter_zip, root, dist / ZIP_NAME)
        student_zip = build_student_zip(student, root, dist / STUDENT_ZIP_NAME)
    return {"student": student, "solutions": solutions, "zip": zip_path, "student_zip": student_zip}


def zip_listing(zip_path: Path) -> list[str]:
    """The zip's file names, sorted (the golden file compares this)."""
    with zipfile.ZipFile(zip_path) as z:
        return sorted(z.namelist())
