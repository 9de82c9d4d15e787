"""The catalogue of known wrong answers, as data.

Each entry names a variable, a wrong answer written in that variable's own answer syntax (text
for expressions and formulas, numbers, tuples for shapes, rows of text for matrices, made by the
small builders below), a short id, the message a student reads, and the credit it keeps (a
fraction of the variable's points). A student's answer that equals an entry (mathematically, by
the variable's checker) gets that message and credit. Adding a mistake is adding one line.

Credit policy: 0.5 for a right idea in another convention or with one slip that the worksheet
discusses (a flipped kernel, channels last, a missing floor, counted biases, a transposed
matrix); 0 for a wrong idea (no padding where there is some, shared weights in Q2e, stride
ignored, off-by-one).

Entries of a formula variable also apply to each entry of the tuple variables in ``SHARED``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autograder.worksheet import band, element
from autograder.worksheet import variable as worksheet_variable
from autograder.worksheet.numbers import DEFAULT, IMAGE_NAMES, Variant


@dataclass(frozen=True)
class Mistake:
    """One known wrong answer for one variable."""

    variable: str
    answer: Any
    id: str
    message: str
    credit: float = 0.0


def transpose(rows: list[list[str]]) -> list[list[str]]:
    return [list(column) for column in zip(*rows)]


FLIPPED = DEFAULT.kernel_names[::-1]
"""the worksheet's kernel flipped: k3, k2, k1"""

_WORDS = {1: "one", 2: "two", 3: "three"}
_CHANNELS_LAST = "Channels last; PyTorch orders dimensions as [channels, height, width]."
_BIASES = "This counts the biases too; the question counts the kernels' weights only."
_FLOOR = ("The output size must be a whole number: round down, `floor((W + 2*p - K)/s) + 1`; a "
          "window that does not fit is dropped.")
_FITS = "Off by one: a K-wide window fits W - K + 1 times."


def _zeros(count: int) -> str:
    return f"{_WORDS.get(count, count)} zero" + ("" if count == 1 else "s")


def catalogue(v: Variant = DEFAULT) -> tuple[Mistake, ...]:
    """The catalogue for variant ``v``: the same mistakes, with its numbers in the wrong answers
    and in the messages (``DEFAULT``: the worksheet's)."""
    return _q2a_to_d(v) + _q2e(v) + _q2f() + _q2h_i(v)


def _q2a_to_d(v: Variant) -> tuple[Mistake, ...]:
    n, k, p, m = v.n, v.k, v.pad, v.n_out
    kern = v.kernel_names
    flipped = kern[::-1]
    valid, same = band(n, kernel=kern), band(n, (p, p), kern)
    window = " + ".join(f"k{j + 1}*x_(i+{j})" if j else "k1*x_i" for j in range(k))
    flip = ("This is true convolution, with the kernel flipped; convolution layers in "
            "deep-learning frameworks (and this worksheet) compute cross-correlation: output i is "
            f"`{window}`.")
    no_pad = (f"This is the answer without padding; 'same' padding adds {_zeros(p)} at each end, "
              f"so the output keeps all {n} positions.")
    same_pad = "This is the answer with 'same' padding; this part has no padding."
    one_side = (f"The padding is all on one side; 'same' padding with a {k}-wide kernel puts "
                f"{_zeros(p)} at each end.")
    off_by_one = f"Off by one: count the positions a {k}-wide window fits in {n} inputs: {n} - {k} + 1."
    transposed = (f"This is K transposed: K maps the {n} inputs to the outputs, one row per "
                  f"output.")
    last_window = ", ".join(f"x{i}" for i in range(m, n + 1))
    return (
        # Q2a, Q2b: output sizes and elements
        Mistake("q2a_out_dim", m - 1, "off-by-one", off_by_one),
        Mistake("q2a_out_dim", m + 1, "off-by-one", off_by_one),
        Mistake("q2a_out_dim", n, "same-padding", same_pad),
        Mistake("q2a_first", element(band(n, kernel=flipped)[0]), "flipped-kernel", flip, 0.5),
        Mistake("q2a_first", element(same[0]), "same-padding", same_pad),
        Mistake("q2a_last", element(band(n, kernel=flipped)[-1]), "flipped-kernel", flip, 0.5),
        Mistake("q2a_last", element(valid[-2]), "off-by-one",
                f"Off by one: the last window covers {last_window}."),
        Mistake("q2a_last", element(same[-1]), "same-padding", same_pad),
        Mistake("q2b_out_dim", m, "padding-forgotten", no_pad),
        Mistake("q2b_out_dim", n + 2 * p, "padding-added-to-output",
                f"Padding grows the input to {n + 2 * p}; the output of a {k}-wide kernel is "
                f"{n + 2 * p} - {k} + 1 = {n}."),
        Mistake("q2b_first", element(valid[0]), "padding-forgotten", no_pad),
        Mistake("q2b_first", element(band(n, (p, p), flipped)[0]), "flipped-kernel", flip, 0.5),
        Mistake("q2b_first", element(band(n, (2 * p, 0), kern)[0]), "one-sided-padding", one_side),
        Mistake("q2b_last", element(valid[-1]), "padding-forgotten", no_pad),
        Mistake("q2b_last", element(band(n, (p, p), flipped)[-1]), "flipped-kernel", flip, 0.5),
        Mistake("q2b_last", element(band(n, (0, 2 * p), kern)[-1]), "one-sided-padding", one_side),
        # Q2c, Q2d: matrices
        Mistake("q2c_K", same, "same-padding", same_pad + f" K has {n} - {k} + 1 = {m} rows."),
        Mistake("q2c_K", band(n, kernel=flipped), "flipped-kernel", flip, 0.5),
        Mistake("q2c_K", transpose(valid), "transposed", transposed, 0.5),
        Mistake("q2d_K", valid, "padding-forgotten", no_pad + f" K has {n} rows."),
        Mistake("q2d_K", band(n, (p, p), flipped), "flipped-kernel", flip, 0.5),
        Mistake("q2d_K", band(n, (2 * p, 0), kern), "one-sided-padding", one_side),
        Mistake("q2d_K", band(n, (0, 2 * p), kern), "one-sided-padding", one_side),
    )


def _q2e(v: Variant) -> tuple[Mistake, ...]:
    n, k, p, m = v.n, v.k, v.pad, v.n_out
    edge = v.edge_weights
    added = str(edge[0]) if p == 1 else "(" + " + ".join(map(str, edge)) + ")"
    total = f"{m} * {k} + 2 * {added} = {v.params_same}"
    shared = (f"These are shared weights (the matrix of part c); without weight sharing every row "
              f"has its own {k} weights.")
    same_pad = "This is the answer with 'same' padding; this part has no padding."
    if p == 1:
        rows = f"a first and a last row, each with {edge[0]} weights that touch the input"
        zeros = "in the first and last rows one weight only ever multiplies a padding zero"
        counted = "so it is not a parameter"
        each = (f"the first and last rows each have {edge[0]} weights that touch the input "
                f"(k₋₁, k₀ and {_sub(m * k + 1)}, {_sub(m * k + 2)} in the worksheet's matrix)")
    else:
        rows = f"{p} rows at each end, with {added} weights that touch the input"
        zeros = f"in the {p} rows at each end some weights only ever multiply padding zeros"
        counted = "so they are not parameters"
        each = f"the {p} added rows at each end have {added} weights that touch the input"
    return (
        Mistake("q2e_K", band(n, kernel=v.kernel_names), "shared-weights", shared),
        Mistake("q2e_params", k, "shared-weights", shared),
        Mistake("q2e_params", m * n, "dense-matrix",
                f"Only the {k} band entries of each row are weights; the zeros are not parameters."),
        Mistake("q2e_params", v.params_same, "same-padding",
                same_pad + f" This counts the {n} rows of the padded matrix; without padding "
                f"there are {m} rows of {k} weights: {m} * {k} = {m * k}."),
        Mistake("q2e_params_same", m * k, "padding-forgotten",
                f"This counts only the {m} rows of the unpadded matrix; 'same' padding adds "
                f"{rows}: {total}."),
        Mistake("q2e_params_same", n * k, "padding-weights-counted",
                f"This counts {k} weights in each of the {n} rows; {zeros}, {counted}: {total}.",
                0.5),
        Mistake("q2e_params_same", m * k + 2 * p, "one-weight-per-padded-row",
                f"This counts one new weight for each added row; {each}: {total}."),
        Mistake("q2e_params_same", k, "shared-weights", shared),
    )


def _sub(number: int) -> str:
    """``k`` with ``number`` as a subscript (k₂₂)."""
    return "k" + str(number).translate(str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋"))


def _q2f() -> tuple[Mistake, ...]:
    """Q2f (and, through SHARED, each entry of Q2g): output-size formulas, the same in every
    variant."""
    return (
        Mistake("q2f_out_dim", "W - K", "off-by-one", _FITS),
        Mistake("q2f_out_dim", "W - K + 2", "off-by-one", _FITS),
        Mistake("q2f_out_dim", "W - K - 1", "off-by-one", _FITS),
        Mistake("q2f_out_dim", "W + K - 1", "sign", "Sign: a larger kernel gives a smaller output."),
        Mistake("q2f_out_dim", "floor((W + 2*p - K)/s) + 1", "general-formula",
                "This is the general formula; this part has p = 0 and s = 1: substitute them.", 0.5),
        Mistake("q2f_out_dim_general", "(W + 2*p - K)/s + 1", "missing-floor", _FLOOR, 0.5),
        Mistake("q2f_out_dim_general", "(W + 2*p - K + 1)/s", "missing-floor", _FLOOR),
        Mistake("q2f_out_dim_general", "ceiling((W + 2*p - K)/s) + 1", "rounded-up", _FLOOR, 0.5),
        Mistake("q2f_out_dim_general", "W + 2*p - K + 1", "stride-ignored",
                "Stride s moves the window s steps at a time: divide the span W + 2p - K by s."),
        Mistake("q2f_out_dim_general", "floor((W + p - K)/s) + 1", "padding-counted-once",
                "Padding p is added at both ends: the padded input has W + 2p entries.", 0.5),
        Mistake("q2f_out_dim_general", "floor((W - K)/s) + 1", "padding-forgotten",
                "Padding p is missing: the padded input has W + 2p entries."),
        Mistake("q2f_out_dim_general", "floor((W + 2*p - K)/s)", "missing-plus-one",
                "Off by one: the first window counts too, hence the + 1."),
        Mistake("q2f_out_dim_general", "floor((W + 2*p - K + 1)/s)", "plus-one-divided",
                "The + 1 (the first window) is outside the division: floor((W + 2p - K)/s) + 1."),
        Mistake("q2f_out_dim_general", "floor((W - 2*p - K)/s) + 1", "padding-subtracted",
                "Padding adds entries: the padded input has W + 2p entries."),
    )


def _q2h_i(v: Variant) -> tuple[Mistake, ...]:
    c, co, size, kk, s, o = v.in_channels, v.out_channels, v.image, v.kernel, v.stride, v.out_size
    image = IMAGE_NAMES[c]
    same_out = (size + 2 * ((kk - 1) // 2) - kk) // s + 1
    fraction = (size - kk) / s + 1
    stride = ("Stride 2 roughly halves the output" if s == 2
              else f"Stride {s} divides the output by about {s}")
    flat_in, flat_out = c * size * size, co * o * o
    return (
        # Q2h, Q2i: tensor shapes and parameter counts
        Mistake("q2h_input_shape", (size, size, c), "channels-last", _CHANNELS_LAST, 0.5),
        Mistake("q2h_input_shape", (1, c, size, size), "batch-dimension",
                "This includes a batch dimension; the question asks for one image.", 0.5),
        Mistake("q2h_input_shape", (size, size), "missing-channels",
                f"An {image} image has {c} channels."),
        Mistake("q2h_kernel_shape", (kk, kk, c, co), "channels-last", _CHANNELS_LAST, 0.5),
        Mistake("q2h_kernel_shape", (co, kk, kk), "missing-input-channels",
                f"Each output channel has a kernel for every one of the {c} input channels."),
        Mistake("q2h_kernel_shape", (c, kk, kk), "one-kernel",
                f"Each of the {co} output channels has a kernel."),
        Mistake("q2i_output_shape", (o, o, co), "channels-last", _CHANNELS_LAST, 0.5),
        Mistake("q2i_output_shape", (co, fraction, fraction), "missing-floor", _FLOOR, 0.5),
        Mistake("q2i_output_shape", (co, o + 1, o + 1), "rounded-up", _FLOOR, 0.5),
        Mistake("q2i_output_shape", (co, o - 1, o - 1), "missing-plus-one",
                f"Off by one: floor(({size} - {kk})/{s}) + 1 = {o}, the first window counts too."),
        Mistake("q2i_output_shape", (co, size - kk + 1, size - kk + 1), "stride-ignored",
                f"{stride}: floor(({size} - {kk})/{s}) + 1."),
        Mistake("q2i_output_shape", (co, same_out, same_out), "padding-assumed",
                "This layer has no padding."),
        Mistake("q2i_conv_params", co * c * kk * kk + co, "biases-counted", _BIASES, 0.5),
        Mistake("q2i_conv_params", co * kk * kk, "missing-input-channels",
                f"Each kernel spans all {c} input channels: {co} * {c} * {kk} * {kk}."),
        Mistake("q2i_conv_params", c * kk * kk, "one-kernel",
                f"There are {co} kernels of {c} * {kk} * {kk} weights."),
        Mistake("q2i_fc_params", f"{flat_in}*{flat_out} + {flat_out}", "biases-counted", _BIASES,
                0.5),
        Mistake("q2i_fc_params", f"{size * size}*{flat_out}", "missing-input-channels",
                f"The flattened input has all {c} channels: {c} * {size} * {size} = {flat_in} "
                f"entries."),
    )


CATALOGUE: tuple[Mistake, ...] = catalogue(DEFAULT)


#: Tuple variables whose entries are checked with another variable's mistakes.
SHARED = {"q2g_out_shape": "q2f_out_dim", "q2g_out_shape_general": "q2f_out_dim_general"}


class CatalogueError(ValueError):
    """An entry of the catalogue is malformed (a mistake in this file, not a student's)."""


def structural_problems(catalogue: tuple[Mistake, ...]) -> list[str]:
    """What is wrong with the entries' form: unknown variable, credit outside [0, 1), no id or
    message, an answer listed twice for one variable. (Whether each entry reads and differs from
    the reference needs the checkers: ``checks.catalogue_problems``.)"""
    problems, seen = [], set()
    for number, m in enumerate(catalogue, 1):
        where = f"entry {number} ({m.variable}, {m.id})"
        try:
            worksheet_variable(m.variable)
        except KeyError:
            problems.append(f"{where}: unknown variable {m.variable!r}")
        if not 0 <= m.credit < 1:
            problems.append(f"{where}: credit {m.credit} is not in [0, 1)")
        if not m.id.strip() or not m.message.strip():
            problems.append(f"{where}: the id and the message must not be empty")
        key = (m.variable, repr(m.answer))
        if key in seen:
            problems.append(f"{where}: the same answer is listed twice")
        seen.add(key)
    return problems


def for_variable(name: str, catalogue: tuple[Mistake, ...] | None = None) -> tuple[Mistake, ...]:
    """The entries of ``catalogue`` (by default the worksheet's) for one variable, in catalogue
    order (the first match wins). (The one lookup: ``Sheet.entries`` is this on a variant's.)
    Found once per catalogue and variable, and the same tuple returned after: a class asks it
    for every answer, and the grader's memo keys on it (``pipeline._graded_key``)."""
    catalogue = CATALOGUE if catalogue is None else catalogue
    held = _FOUND.get(id(catalogue))
    if held is None or held[0] is not catalogue:  # (held: its id is never reused meanwhile)
        if len(_FOUND) >= 4096:
            _FOUND.clear()
        held = _FOUND[id(catalogue)] = (catalogue, {})
    found = held[1]
    if name not in found:
        found[name] = tuple(m for m in catalogue if m.variable in (name, SHARED.get(name)))
    return found[name]


_FOUND: dict[int, tuple[tuple[Mistake, ...], dict[str, tuple[Mistake, ...]]]] = {}


if _problems := structural_problems(CATALOGUE):
    raise CatalogueError("the catalogue of mistakes has malformed entries:\n" + "\n".join(_problems))
