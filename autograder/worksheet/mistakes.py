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

from autograder.worksheet import band
from autograder.worksheet import variable as worksheet_variable


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


FLIPPED = ("k3", "k2", "k1")

_FLIP = ("This is true convolution, with the kernel flipped; convolution layers in deep-learning "
         "frameworks (and this worksheet) compute cross-correlation: output i is "
         "`k1*x_i + k2*x_(i+1) + k3*x_(i+2)`.")
_NO_PAD = ("This is the answer without padding; 'same' padding adds one zero at each end, so "
           "the output keeps all 9 positions.")
_SAME_PAD = "This is the answer with 'same' padding; this part has no padding."
_ONE_SIDE = ("The padding is all on one side; 'same' padding with a 3-wide kernel puts one zero "
             "at each end.")
_OFF_BY_ONE = "Off by one: count the positions a 3-wide window fits in 9 inputs: 9 - 3 + 1."
_TRANSPOSED = "This is K transposed: K maps the 9 inputs to the outputs, one row per output."
_SHARED = ("These are shared weights (the matrix of part c); without weight sharing every row has "
           "its own 3 weights.")
_FITS = "Off by one: a K-wide window fits W - K + 1 times."
_CHANNELS_LAST = "Channels last; PyTorch orders dimensions as [channels, height, width]."
_BIASES = "This counts the biases too; the question counts the kernels' weights only."
_FLOOR = ("The output size must be a whole number: round down, `floor((W + 2*p - K)/s) + 1`; a "
          "window that does not fit is dropped.")

CATALOGUE: tuple[Mistake, ...] = (
    # Q2a, Q2b: output sizes and elements
    Mistake("q2a_out_dim", 6, "off-by-one", _OFF_BY_ONE),
    Mistake("q2a_out_dim", 8, "off-by-one", _OFF_BY_ONE),
    Mistake("q2a_out_dim", 9, "same-padding", _SAME_PAD),
    Mistake("q2a_first", "k3*x1 + k2*x2 + k1*x3", "flipped-kernel", _FLIP, 0.5),
    Mistake("q2a_first", "k2*x1 + k3*x2", "same-padding", _SAME_PAD),
    Mistake("q2a_last", "k3*x7 + k2*x8 + k1*x9", "flipped-kernel", _FLIP, 0.5),
    Mistake("q2a_last", "k1*x6 + k2*x7 + k3*x8", "off-by-one",
            "Off by one: the last window covers x7, x8, x9."),
    Mistake("q2a_last", "k1*x8 + k2*x9", "same-padding", _SAME_PAD),
    Mistake("q2b_out_dim", 7, "padding-forgotten", _NO_PAD),
    Mistake("q2b_out_dim", 11, "padding-added-to-output",
            "Padding grows the input to 11; the output of a 3-wide kernel is 11 - 3 + 1 = 9."),
    Mistake("q2b_first", "k1*x1 + k2*x2 + k3*x3", "padding-forgotten", _NO_PAD),
    Mistake("q2b_first", "k2*x1 + k1*x2", "flipped-kernel", _FLIP, 0.5),
    Mistake("q2b_first", "k3*x1", "one-sided-padding", _ONE_SIDE),
    Mistake("q2b_last", "k1*x7 + k2*x8 + k3*x9", "padding-forgotten", _NO_PAD),
    Mistake("q2b_last", "k3*x8 + k2*x9", "flipped-kernel", _FLIP, 0.5),
    Mistake("q2b_last", "k1*x9", "one-sided-padding", _ONE_SIDE),
    # Q2c, Q2d: matrices
    Mistake("q2c_K", band(9, (1, 1)), "same-padding", _SAME_PAD + " K has 9 - 3 + 1 = 7 rows."),
    Mistake("q2c_K", band(9, kernel=FLIPPED), "flipped-kernel", _FLIP, 0.5),
    Mistake("q2c_K", transpose(band(9)), "transposed", _TRANSPOSED, 0.5),
    Mistake("q2d_K", band(9), "padding-forgotten", _NO_PAD + " K has 9 rows."),
    Mistake("q2d_K", band(9, (1, 1), FLIPPED), "flipped-kernel", _FLIP, 0.5),
    Mistake("q2d_K", band(9, (2, 0)), "one-sided-padding", _ONE_SIDE),
    Mistake("q2d_K", band(9, (0, 2)), "one-sided-padding", _ONE_SIDE),
    # Q2e: no weight sharing
    Mistake("q2e_K", band(9), "shared-weights", _SHARED),
    Mistake("q2e_params", 3, "shared-weights", _SHARED),
    Mistake("q2e_params", 63, "dense-matrix",
            "Only the 3 band entries of each row are weights; the zeros are not parameters."),
    Mistake("q2e_params", 25, "same-padding",
            _SAME_PAD + " This counts the 9 rows of the padded matrix; without padding there are "
            "7 rows of 3 weights: 7 * 3 = 21."),
    Mistake("q2e_params_same", 21, "padding-forgotten",
            "This counts only the 7 rows of the unpadded matrix; 'same' padding adds a first and a "
            "last row, each with 2 weights that touch the input: 7 * 3 + 2 * 2 = 25."),
    Mistake("q2e_params_same", 27, "padding-weights-counted",
            "This counts 3 weights in each of the 9 rows; in the first and last rows one weight "
            "only ever multiplies a padding zero, so it is not a parameter: 7 * 3 + 2 * 2 = 25.",
            0.5),
    Mistake("q2e_params_same", 23, "one-weight-per-padded-row",
            "This counts one new weight for each added row; the first and last rows each have 2 "
            "weights that touch the input (k₋₁, k₀ and k₂₂, k₂₃ in the worksheet's matrix): "
            "7 * 3 + 2 * 2 = 25."),
    Mistake("q2e_params_same", 3, "shared-weights", _SHARED),
    # Q2f (and, through SHARED, each entry of Q2g): output-size formulas
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
    # Q2h, Q2i: tensor shapes and parameter counts
    Mistake("q2h_input_shape", (256, 256, 3), "channels-last", _CHANNELS_LAST, 0.5),
    Mistake("q2h_input_shape", (1, 3, 256, 256), "batch-dimension",
            "This includes a batch dimension; the question asks for one image.", 0.5),
    Mistake("q2h_input_shape", (256, 256), "missing-channels", "An RGB image has 3 channels."),
    Mistake("q2h_kernel_shape", (5, 5, 3, 32), "channels-last", _CHANNELS_LAST, 0.5),
    Mistake("q2h_kernel_shape", (32, 5, 5), "missing-input-channels",
            "Each output channel has a kernel for every one of the 3 input channels."),
    Mistake("q2h_kernel_shape", (3, 5, 5), "one-kernel", "Each of the 32 output channels has a kernel."),
    Mistake("q2i_output_shape", (126, 126, 32), "channels-last", _CHANNELS_LAST, 0.5),
    Mistake("q2i_output_shape", (32, 126.5, 126.5), "missing-floor", _FLOOR, 0.5),
    Mistake("q2i_output_shape", (32, 127, 127), "rounded-up", _FLOOR, 0.5),
    Mistake("q2i_output_shape", (32, 125, 125), "missing-plus-one",
            "Off by one: floor((256 - 5)/2) + 1 = 126, the first window counts too."),
    Mistake("q2i_output_shape", (32, 252, 252), "stride-ignored",
            "Stride 2 roughly halves the output: floor((256 - 5)/2) + 1."),
    Mistake("q2i_output_shape", (32, 128, 128), "padding-assumed", "This layer has no padding."),
    Mistake("q2i_conv_params", 2432, "biases-counted", _BIASES, 0.5),
    Mistake("q2i_conv_params", 800, "missing-input-channels",
            "Each kernel spans all 3 input channels: 32 * 3 * 5 * 5."),
    Mistake("q2i_conv_params", 75, "one-kernel", "There are 32 kernels of 3 * 5 * 5 weights."),
    Mistake("q2i_fc_params", "196608*508032 + 508032", "biases-counted", _BIASES, 0.5),
    Mistake("q2i_fc_params", "65536*508032", "missing-input-channels",
            "The flattened input has all 3 channels: 3 * 256 * 256 = 196608 entries."),
)

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


def for_variable(name: str) -> tuple[Mistake, ...]:
    """The catalogue entries for one variable, in catalogue order (the first match wins)."""
    return tuple(m for m in CATALOGUE if m.variable in (name, SHARED.get(name)))


if _problems := structural_problems(CATALOGUE):
    raise CatalogueError("the catalogue of mistakes has malformed entries:\n" + "\n".join(_problems))
