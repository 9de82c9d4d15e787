"""The student's own Q2 numbers in their notebook (per-student variants, issue 20).

The variant notebook's first code cell holds ``STUDENT_EMAIL = "..."``; its set-up cell calls
``my_numbers(STUDENT_EMAIL)``, which shows the student's numbers with each sub-question's
statement, and defines the symbols they need. ``grader.check`` grades against the variant of
the ``STUDENT_EMAIL`` in the notebook (``sheet_for``). Standard library only at module level:
it runs in Colab and Jupyter, with or without torch.
"""

from __future__ import annotations

from autograder.settings.variants import Variants
from autograder.worksheet.numbers import DEFAULT, Variant
from autograder.worksheet.statements import statements
from autograder.worksheet.variants import normalise, variant_of

NAME = "STUDENT_EMAIL"
NO_EMAIL = ("These are the worksheet's own numbers; Gradescope grades your own: set "
            "STUDENT_EMAIL in the first cell to your Gradescope email and run the notebook again "
            "to see them.")


def variant_for(email: str | None) -> Variant:
    """The variant of ``email`` under the course's salt (the worksheet's numbers without one)."""
    return variant_of(email, Variants().salt)


def sheet_for(env: dict):
    """The worksheet ``grader.check`` grades with: the variant of the notebook's
    ``STUDENT_EMAIL``, or None (the worksheet's numbers) when the notebook sets none."""
    email = env.get(NAME)
    if not isinstance(email, str) or not normalise(email):
        return None
    from autograder.worksheet import variants

    return variants.sheet(variant_for(email))


def my_numbers(email: str | None) -> Variant:
    """Show the student's numbers (with every Q2 statement) and return their variant."""
    v = variant_for(email)
    text = statements(v) + ("\n\n" + NO_EMAIL if not normalise(email) else "")
    _show(text)
    return v


def _show(markdown: str) -> None:
    try:
        from IPython.display import Markdown, display

        display(Markdown(markdown))
    except ImportError:  # not in a notebook
        print(markdown)


def symbol_names(v: Variant = DEFAULT) -> list[str]:
    """The names of the symbols the student's Q2 answers use: k1..kk and x1..xn."""
    return [*v.kernel_names, *v.input_names]
