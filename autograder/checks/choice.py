"""Checkers for multiple choice: ``choice`` (one option) and ``choices`` (a set of options).

Options are compared ignoring case and surrounding or repeated whitespace. An answer that is not
one of ``options["choices"]`` is a format error naming the options.

Credit for ``choices``: (right options picked - wrong options picked) / number of right options,
never below 0. Picking every option therefore scores little, and one slip costs one option.
"""

from __future__ import annotations

import difflib

from autograder.checks.common import RIGHT, Kind, Reading, Unreadable, Verdict, type_error, wrong
from autograder.report.results import Stage
from autograder.worksheet import Variable


def _key(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _option(variable: Variable, item) -> str:
    """The option ``item`` names; raises Unreadable for anything else."""
    options = variable.options["choices"]
    if not isinstance(item, str):
        raise type_error(variable, item, f"one of the strings {_listed(options)}")
    by_key = {_key(o): o for o in options}
    if _key(item) in by_key:
        return by_key[_key(item)]
    close = difflib.get_close_matches(_key(item), list(by_key), n=1, cutoff=0.6)
    hint = f" (did you mean {by_key[close[0]]!r}?)" if close else ""
    raise Unreadable(f"Could not read {item[:60]!r}: it is not one of the options "
                     f"{_listed(options)}{hint}.")


def _listed(options) -> str:
    return ", ".join(repr(o) for o in options)


def read_choice(variable: Variable, value) -> Reading:
    option = _option(variable, value)
    return Reading(option, repr(option))


def grade_choice(variable: Variable, reading: Reading, entries) -> Verdict:
    if reading.value == _option(variable, variable.expected):
        return Verdict(1.0, Stage.EXACT, RIGHT)
    return wrong(variable, repr(variable.expected), reading.shown, Stage.EXACT)


def read_choices(variable: Variable, value) -> Reading:
    """A set of options from a list, tuple, set or a single string."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple, frozenset)):
        raise type_error(variable, value, "a list of strings from " +
                         _listed(variable.options["choices"]))
    picked = tuple(sorted({_option(variable, item) for item in value}))
    return Reading(picked, "{" + ", ".join(repr(p) for p in picked) + "}")


def grade_choices(variable: Variable, reading: Reading, entries) -> Verdict:
    right = set(variable.expected)
    picked = set(reading.value)
    hits, misses = len(picked & right), len(picked - right)
    fraction = max(0.0, (hits - misses) / len(right))
    if fraction == 1:
        return Verdict(1.0, Stage.EXACT, RIGHT)
    if variable.hidden:
        return Verdict(fraction, Stage.EXACT, f"Partly correct; re-derive {variable.description}.")
    message = f"{hits} of the {len(right)} right options picked"
    if misses:
        wrongs = ", ".join(repr(p) for p in sorted(picked - right))
        message += f", and {wrongs} {'is' if misses == 1 else 'are'} not among them"
    return Verdict(fraction, Stage.EXACT, message + " (credit: right minus wrong picks).")


CHOICE = Kind("choice", read_choice, grade_choice)
CHOICES = Kind("choices", read_choices, grade_choices)
