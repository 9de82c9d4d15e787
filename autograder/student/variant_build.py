"""``make assign VARIANTS=1``: the student notebook of the variant assignment (issue 20).

It is the plain student notebook with three changes, and its metadata's assignment record: the first code cell gets
``STUDENT_EMAIL = ""``; the set-up cell defines the symbols of the student's own numbers
(``k1..kk``, ``x1..xn``; every symbol any variant uses when the course package cannot be imported,
as in the autograder's own run of the notebook); and a cell at the start of Question 2 shows the
student's numbers with each sub-question's statement (``student/variant.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

from autograder.grading import assignment
from autograder.settings.variants import Variants
from autograder.worksheet.numbers import DEFAULT
from autograder.worksheet.variants import K_CHOICES, N_RANGE

EMAIL_LINES = ('# Your Gradescope email: Question 2 uses your own numbers, derived from it.\n'
               'STUDENT_EMAIL = ""\n')
_K, _X = DEFAULT.kernel_names, DEFAULT.input_names
WORKSHEET_SYMBOLS = (f'{", ".join(_K)} = sp.symbols("{" ".join(_K)}")\n'
                     f'{", ".join(_X)} = sp.symbols("{_X[0]}:{len(_X) + 1}")\n')
"""the set-up cell's lines defining the worksheet's own symbols (``Variant.kernel_names``,
``input_names``), as the master notebook writes them"""
OWN_SYMBOLS = f'''\
# (your numbers: the kernel k1..kk and the input x1..xn of the variant of STUDENT_EMAIL)
try:
    from autograder.student.variant import symbol_names, variant_for
    _names = symbol_names(variant_for(STUDENT_EMAIL))
except ImportError:  # the autograder's own run of this notebook: every symbol any variant uses
    _names = [f"k{{j}}" for j in range(1, {max(K_CHOICES) + 1})] + \\
        [f"x{{i}}" for i in range(1, {max(N_RANGE) + 1})]
globals().update({{_name: sp.Symbol(_name) for _name in _names}})
'''
SHOW_NUMBERS = '''\
# Your numbers for Question 2 (from STUDENT_EMAIL in the first code cell): use them, not the 9, 3,
# 256, 3, 32, 5 and 2 of the text below.
try:
    from autograder.student.variant import my_numbers
    my_numbers(STUDENT_EMAIL)
except ImportError:
    pass
'''
Q2_HEADING = "## Question 2"


class VariantBuildError(ValueError):
    """The student notebook does not have the cells the variant build changes."""


def _code_cell(source: str, cell_id: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": cell_id, "metadata": {},
            "outputs": [], "source": source.splitlines(keepends=True)}


def make_variant_notebook(path: Path, salt: str = Variants().salt) -> Path:
    """Rewrite the student notebook at ``path`` (written by ``package.normalise_notebook``) as
    the variant assignment's, recording so (with ``salt``'s fingerprint) in its metadata, where
    grading reads it (``grading/assignment.py``)."""
    nb = json.loads(path.read_text())
    nb.setdefault("metadata", {})[assignment.METADATA_KEY] = assignment.record(salt)
    cells = nb["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    first = "".join(code[0]["source"])
    at = first.find("\nSTUDENT_FILES_URL =") + 1
    if at <= 0:
        raise VariantBuildError("the first code cell has no line starting STUDENT_FILES_URL =")
    code[0]["source"] = (first[:at] + EMAIL_LINES + first[at:]).splitlines(keepends=True)
    setup = next((c for c in code if WORKSHEET_SYMBOLS in "".join(c["source"])), None)
    if setup is None:
        raise VariantBuildError("no set-up cell defines the worksheet's symbols as expected:\n"
                                + WORKSHEET_SYMBOLS)
    setup["source"] = "".join(setup["source"]).replace(WORKSHEET_SYMBOLS, OWN_SYMBOLS) \
        .splitlines(keepends=True)
    heading = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                    and "".join(c["source"]).startswith(Q2_HEADING)), None)
    if heading is None:
        raise VariantBuildError(f"no markdown cell starts with {Q2_HEADING!r}")
    cells.insert(heading + 1, _code_cell(SHOW_NUMBERS, "cell-variant-numbers"))
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    return path
