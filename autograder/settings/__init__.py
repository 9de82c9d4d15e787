"""The settings tree: every limit, budget, threshold, knob and environment variable, once.

Each group is a frozen dataclass whose fields carry a default and a docstring (the string right
under the field), declared in its own module (``Limits`` in ``limits.py``, Q1's in ``q1.py``).
This module gathers them into one tree, declares the command-line flags (``OPTIONS``; the
Makefile knobs are some of them) and renders README's reference tables and the CLI's ``--help``
text from those same declarations, so a description is written exactly once.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import re
import textwrap
import typing
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from autograder.settings import environment
from autograder.settings.environment import ENVIRONMENT, env  # noqa: F401 (part of the tree)
from autograder.settings.intake import Intake
from autograder.settings.limits import (
    Checking,
    Cluster,
    Limits,
    Machine,
    ReportLayout,
    ReviewPolicy,
)
from autograder.settings.q1 import BUDGETS, Budget, Credit, Q1Config
from autograder.settings.reading import Reading
from autograder.settings.variants import Variants

OVERRIDES_FILE = "overrides.yaml"
"""course staff's overrides file, which `make grade` and the Gradescope zip read (from the
repository root / the zip's root)"""


@dataclass(frozen=True)
class Settings:
    """The root of the tree."""

    limits: Limits = field(default_factory=Limits)
    """how one submission's code runs: time, memory, output, files, processes, network"""
    machine: Machine = field(default_factory=Machine)
    """Gradescope's machine: the limit of the whole run there and the margin kept from it"""
    cluster: Cluster = field(default_factory=Cluster)
    """where a class is graded: the local process pool or a Dask cluster"""
    review: ReviewPolicy = field(default_factory=ReviewPolicy)
    """how answers the grader could not decide score until course staff settle them"""
    checking: Checking = field(default_factory=Checking)
    """how far the checks go with one answer"""
    report: ReportLayout = field(default_factory=ReportLayout)
    """how much the class report shows"""
    q1: Q1Config = field(default_factory=Q1Config)
    """how Q1's models are probed, trained and judged"""
    variants: Variants = field(default_factory=Variants)
    """each student their own Q2 numbers: the switch, the salt and the copy policy"""
    reading: Reading = field(default_factory=Reading)
    """how answers in LaTeX, Unicode and other notation are read"""
    intake: Intake = field(default_factory=Intake)
    """how much intake unpacks and copies before it refuses a file"""


GROUPS: tuple[type, ...] = (Settings, Limits, Machine, Cluster, ReviewPolicy, Checking,
                             ReportLayout, Q1Config, Credit, Budget, Variants, Reading, Intake)
"""every settings dataclass, for the reference page and its staleness test"""


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """Each field's docstring (the string literal right after it in the class body)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body
    docs = {}
    for node, after in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)):
            docs[node.target.id] = " ".join(after.value.value.split())
    return docs


def _group(path: str) -> tuple[Any, str]:
    """The default group holding a field, and the field's name, by its dotted path in the tree
    (``limits.timeout`` -> ``(Limits(), "timeout")``)."""
    *groups, name = path.split(".")
    group: Any = Settings()
    for head in groups:
        group = getattr(group, head)
    return group, name


def describe(path: str) -> str:
    """The description of a field by its dotted path in the tree, e.g. ``limits.timeout``."""
    group, name = _group(path)
    return field_docs(type(group))[name]


def default(path: str) -> Any:
    """The default value of a field (or a whole group) by its dotted path."""
    group, name = _group(path)
    return getattr(group, name)


def kind(path: str) -> type:
    """The type a field holds, by its dotted path (``int`` for ``int | None``)."""
    group, name = _group(path)
    hint = typing.get_type_hints(type(group))[name]
    return next((a for a in typing.get_args(hint) if a is not type(None)), hint)


@dataclass(frozen=True)
class Option:
    """One command-line flag (or the positional arguments), declared once: the setting it sets,
    or its own help where it sets none. The CLI's ``--help`` and README's knob table are both
    rendered from it, and the CLI maps parsed flags onto the tree through ``setting``."""

    flag: str
    setting: str = ""
    """dotted path in the tree ("" for flags that choose what to grade rather than how)"""
    help: str = ""
    """the description when ``setting`` is empty"""
    shown_default: str = ""
    """the default as a TA reads it, when it is not a setting's"""
    value: Any = None
    """the parsed default of a flag that sets no setting (a setting's flag defaults to None:
    the tree's default)"""
    value_type: type = str
    """what a flag that sets no setting parses to (a setting's flag parses to its field's type)"""
    make: str = ""
    """the `make grade` variable that passes the flag ("" if none)"""
    switch: str = ""
    """for an on/off flag, the value of ``make`` that passes it (``FORCE=1``)"""

    @property
    def parse(self) -> type:
        """What the flag's value parses to."""
        return kind(self.setting) if self.setting else self.value_type

    @property
    def dest(self) -> str:
        """The attribute argparse stores it in."""
        return self.flag.lstrip("-").replace("-", "_")

    @property
    def shown_flag(self) -> str:
        if not self.flag.startswith("-"):
            return "(arguments)"
        return f"{self.flag} ({self.make}={self.switch})" if self.switch else self.flag

    def description(self) -> str:
        """The flag's help, else the first sentence of its setting's docstring."""
        return self.help or re.split(r"[.;]\s| \(", describe(self.setting), maxsplit=1)[0]

    def default_text(self) -> str:
        if self.shown_default or not self.setting:
            return self.shown_default or ("" if self.value is None else str(self.value))
        return shown(default(self.setting))

    def help_text(self) -> str:
        """``--help``'s line: the description and the default (not for a switch or the positional
        arguments, whose shown default is the Makefile's)."""
        shown_default = self.default_text() if self.flag.startswith("-") and not self.switch else ""
        return self.description() + (f" (default: {shown_default})" if shown_default else "")


def shown(value: Any) -> str:
    """A default as a reader wants it: 300 rather than 300.0."""
    if value is None:
        return "derived"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, tuple):  # StrEnum members shown as the strings they are
        return repr(tuple(v.value if isinstance(v, Enum) else v for v in value))
    return repr(value) if isinstance(value, str) else str(value)


_DATA_DIR = environment.variable("DIS05_DATA_DIR")
_ROOT = environment.variable("DIS05_GRADESCOPE_ROOT")

RUN_OPTIONS: tuple[Option, ...] = (
    Option("--timeout", "limits.timeout", make="TIMEOUT"),
    Option("--cell-timeout", "limits.cell_timeout"),
    Option("--memory-mb", "limits.memory_mb", make="MEMORY_MB"),
    Option("--answer-seconds", "checking.answer_seconds"),
    Option("--check-memory-mb", "checking.memory_mb"),
    Option("--no-q1", help="skip Q1: no training of the students' models (Q2 only, about 2 s a "
           "notebook)", shown_default="1", make="Q1", switch="0"),
    Option("--data-dir", help=_DATA_DIR.description,
           shown_default=f"$DIS05_DATA_DIR, else {_DATA_DIR.default}"),
    Option("--overrides", help="course staff's overrides file (docs/grading-a-class.md; none if "
           "absent, '' ignores it)", value=OVERRIDES_FILE, make="OVERRIDES"),
    Option("--variants", help="not needed: a notebook of `make assign VARIANTS=1` says so "
           "itself and is graded with its student's own Q2 numbers; this forces per-student "
           "grading (an override: the run names notebooks it contradicts; settings: Variants)",
           shown_default="0", make="VARIANTS", switch="1"),
)
"""the flags of both ways to grade: how one submission runs"""

OPTIONS: dict[str, tuple[Option, ...]] = {
    "grade": (
        Option("submissions", help="notebook files, folders of them, or a Gradescope export (zip "
               "or folder)", shown_default="the reference, the blank notebook and "
               "examples/submissions/", make="SUBMISSIONS"),
        Option("--out", help="where grades.csv, gradebook.csv, report.html and "
               "<submission>/results.json and feedback.md go", shown_default="grades/",
               value="grades", make="OUT"),
        Option("--jobs", help="submissions graded in parallel", shown_default="number of cores",
               value_type=int, make="JOBS"),
        *RUN_OPTIONS,
        Option("--force", help="regrade every submission, even those unchanged since the last "
               "run", shown_default="0", make="FORCE", switch="1"),
        Option("--rerun", help="run every notebook again instead of reusing its cached run (a "
               "checks-only regrade is the default)", shown_default="0", make="RERUN", switch="1"),
        Option("--dry-run", help="print the regrade diff and write nothing", shown_default="0",
               make="DRY_RUN", switch="1"),
        Option("--scheduler", "cluster.scheduler", shown_default="$DASK_SCHEDULER_ADDRESS, else "
               "the local pool", make="SCHEDULER"),
        Option("--retries", "cluster.retries", make="RETRIES"),
        Option("--require-isolation", "cluster.require_isolation", shown_default="0",
               make="REQUIRE_ISOLATION", switch="1"),
    ),
    "gradescope": (
        Option("--root", help=_ROOT.description.removesuffix(" (run_autograder)"),
               value=_ROOT.default),
        Option("--machine-seconds", "machine.seconds"),
        Option("--safety-margin", "machine.safety_margin"),
        Option("--timeout", "machine.notebook_seconds"),
        *(o for o in RUN_OPTIONS if o.flag != "--timeout"),
    ),
    "review": (
        Option("submissions", help="what to regrade on Apply (default: what the last make grade "
               "in OUT graded, from OUT/run.json)", shown_default="the last run's", value=(),
               make="SUBMISSIONS"),
        Option("--out", help="the class run's folder, whose review.html is served and regraded",
               shown_default="grades/", value="grades", make="OUT"),
        Option("--overrides", help="the overrides file Apply writes (a backup kept as .bak)",
               value=OVERRIDES_FILE, make="OVERRIDES"),
        Option("--no-open", help="print the page's address instead of opening a browser",
               shown_default="0", switch="1"),
    ),
}
"""every flag of ``grade``, ``gradescope`` and ``review``, by command (on Gradescope ``--timeout`` sets
``Machine.notebook_seconds``, which becomes ``Limits.timeout`` there)"""


def option(command: str, flag: str) -> Option:
    """The declaration of one of a command's flags."""
    return next(o for o in OPTIONS[command] if o.flag == flag)


KNOBS: tuple[Option, ...] = tuple(o for o in OPTIONS["grade"] if o.make)
"""`make grade`'s variables, in README's order"""


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def knobs_markdown() -> str:
    """README's generated tables: `make grade`'s knobs and the environment variables."""
    lines = ["| knob | flag | default | meaning |", "|---|---|---|---|"]
    lines += [f"| `{k.make}` | `{k.shown_flag}` | {k.default_text()} | {cell(k.description())} |"
              for k in KNOBS]
    lines += ["", "| environment variable | default | meaning |", "|---|---|---|"]
    lines += [f"| `{v.name}` | {v.default} | {v.description} |" for v in ENVIRONMENT]
    return "\n".join(lines) + "\n"


def settings_markdown() -> str:
    """docs/settings.md's generated tables: every group of the tree and Q1's budgets."""
    lines: list[str] = []
    for cls in GROUPS[1:]:
        lines += [f"**{cls.__name__}**: {inspect.getdoc(cls).splitlines()[0]}", "",
                  "| setting | default | meaning |", "|---|---|---|"]
        docs = field_docs(cls)
        for f in dataclasses.fields(cls):
            value = "" if f.default is dataclasses.MISSING else f"`{shown(f.default)}`"
            lines.append(f"| `{f.name}` | {value} | {cell(docs.get(f.name, ''))} |")
        lines.append("")
    names = [f.name for f in dataclasses.fields(Budget)]
    lines += ["**BUDGETS**: one Budget per dataset and profile", "",
              "| dataset, profile | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    lines += [f"| {d}, {p} | " + " | ".join(shown(getattr(b, n)) for n in names) + " |"
              for (d, p), b in BUDGETS.items()]
    return "\n".join(lines) + "\n"


GENERATED = {"README.md": knobs_markdown, "docs/settings.md": settings_markdown}
"""files with a generated section (between the markers below), and what fills it"""
BEGIN, END = "<!-- generated from autograder/settings: make goldens -->", "<!-- end generated -->"


def refreshed(text: str, render) -> str:
    """``text`` with its generated section replaced by ``render()``."""
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{render()}{END}{tail}"
