"""What each Q2 sub-question asks, with one variant's numbers: the text a student of the variant
assignment reads above Question 2 (``student/variant.py``'s ``my_numbers``).

Written once, here, as data: one line per group of questions, keyed by their ids, so a test can
check that every Q2 question is stated (``tests/worksheet/test_statements.py``). Standard library
only: the student's notebook imports it without SymPy.
"""

from __future__ import annotations

from autograder.worksheet.numbers import IMAGE_NAMES, Variant


def _image(v: Variant) -> str:
    """One image of ``v`` as the statements name it (``256×256 RGB (3-channel)``)."""
    return f"{v.image}×{v.image} {IMAGE_NAMES[v.in_channels]} ({v.in_channels}-channel)"


def lines(v: Variant) -> tuple[tuple[tuple[str, ...], str], ...]:
    """(the question ids a line states, the line) for each sub-question, with ``v``'s numbers."""
    m, p = v.n_out, v.pad
    zeros, image = "one zero" if p == 1 else f"{p} zeros", _image(v)
    return (
        (("q2a",), "- (a) Apply k to x with no padding, stride 1: the output dimension, its first "
                   "and last element."),
        (("q2b",), f"- (b) The same with 'same' padding ({zeros} at each end of x): the output "
                   f"dimension, its first and last element."),
        (("q2c",), f"- (c) The matrix K of (a), with h = K x: {m}×{v.n}."),
        (("q2d",), f"- (d) The matrix K of (b): {v.n}×{v.n}."),
        (("q2e",), f"- (e) Without weight sharing: the {m}×{v.n} matrix with its own {v.k} weights "
                   f"in every row; the number of parameters without padding and with 'same' "
                   f"padding."),
        (("q2f", "q2g"), "- (f), (g) The general formulas: the same for everyone (symbols W, K, "
                         "p, s)."),
        (("q2h",), f"- (h) The input tensor's shape for one {image} image, and the shape of the "
                   f"tensor holding all the {v.kernel}×{v.kernel} kernels of a layer with "
                   f"{v.out_channels} output channels."),
        (("q2i",), f"- (i) With no padding and stride {v.stride}: the output tensor's shape, the "
                   f"layer's parameters (weights only), and the parameters of a fully connected "
                   f"layer with as many outputs."),
    )


def statements(v: Variant) -> str:
    """Each Q2 sub-question's statement with the numbers of ``v``, as Markdown, after a line
    giving the numbers themselves."""
    first, last = v.input_names[0], v.input_names[-1]
    numbers = (f"**Your numbers for Question 2:** input x = ({first}, …, {last}) of **{v.n}** "
               f"numbers, kernel k = ({', '.join(v.kernel_names)}) of **{v.k}** weights; a "
               f"**{_image(v)}** image, **{v.out_channels}** output channels, "
               f"**{v.kernel}×{v.kernel}** kernels, stride **{v.stride}**.")
    return "\n".join([numbers, "", *(line for _, line in lines(v))])
