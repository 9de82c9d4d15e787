"""The worksheet as data: every question, its answer variables, points and reference answers.

To change how a sub-question is graded, edit its entry here; to add a known wrong answer with its
own message and credit, edit ``mistakes.py``. Reference answers are written as text in the same
syntax a student may use and are parsed with the same safe parser (``answers/parse.py``).

Answer kinds (each has a checker in ``checks/``):
  integer          an exact integer                               (7, 196608*508032)
  expression       a SymPy expression, equal up to algebra        (k1*x1 + k2*x2 + k3*x3)
  formula          an integer-valued formula in W, K, p, s, equal on every valid integer input
  matrix           a matrix of expressions: shape first, then entries
  free_band_matrix a band matrix whose band entries are distinct free symbols (Q2e: no sharing)
  shape            a tuple of integers; ``expected`` lists every accepted alternative
  formula_tuple    a tuple of formulas (a 2-D output shape)
  choice           one of a few strings (Q1 multiple choice)
  choices          a set of strings (Q1 reasons)
  program          checked by running student code (Q1): see ``q1/``
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from autograder.worksheet.numbers import DEFAULT, Variant

#: The notebook's file name: what students submit and what otter assign produces.
NOTEBOOK = "dis05.ipynb"

@dataclass(frozen=True)
class Variable:
    """One answer variable in the student's notebook."""

    name: str
    kind: str
    expected: Any
    points: float
    description: str
    hidden: bool = False
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Question:
    """One gradable sub-question (one row in Gradescope, one column in grades.csv)."""

    id: str
    title: str
    variables: tuple[Variable, ...]

    @property
    def points(self) -> float:
        return sum(v.points for v in self.variables)


def band(n_in: int = 9, pad: tuple[int, int] = (0, 0),
         kernel: tuple[str, ...] = ("k1", "k2", "k3")) -> list[list[str]]:
    """Rows of the matrix of a stride-1 cross-correlation, padded by ``pad`` = (front, back),
    as text (the reference answers of Q2c/Q2d and the catalogue's wrong matrices)."""
    n_out = n_in + sum(pad) - len(kernel) + 1
    rows = [["0"] * n_in for _ in range(n_out)]
    for r in range(n_out):
        for j, k in enumerate(kernel):
            if 0 <= r + j - pad[0] < n_in:
                rows[r][r + j - pad[0]] = k
    return rows


OUT_DIM = "W - K + 1"
OUT_DIM_GENERAL = "floor((W + 2*p - K)/s) + 1"

Q1_QUESTIONS: tuple[Question, ...] = (
    Question("q1a", "Translational equivariance: CNN versus MLP", (
        Variable("translate", "program", None, 1, "translate(x, dx, dy) shifts with zero fill"),
        Variable("EquivariantNet", "program", None, 1.5,
                 "a conv-only network whose output translates with its input"),
        Variable("PixelMLP", "program", None, 0.5, "an MLP of the same shape, not equivariant"),
        Variable("q1a_equivariant", "choice", "cnn", 0.5, "which network is equivariant",
                 options={"choices": ("cnn", "mlp")}),
        Variable("q1a_source", "choice", "architecture", 0.5,
                 "where the equivariance comes from", options={"choices": ("architecture", "weights")}),
    )),
    Question("q1b", "Training a CNN and an MLP", (
        Variable("CNN", "program", None, 3,
                 "the CNN beats the MLP (class MLP) under the grader's own training recipe",
                 options={"uses": ("CNN", "MLP")}),
        Variable("q1b_winner", "choice", "cnn", 0.5, "which model wins",
                 options={"choices": ("cnn", "mlp")}),
        Variable("q1b_reasons", "choices",
                 ("sparse interactions", "parameter sharing", "translational equivariance"), 0.5,
                 "the inductive biases that explain the win",
                 options={"choices": ("sparse interactions", "parameter sharing",
                                      "translational equivariance", "more parameters",
                                      "deeper network", "nonlinearity")}),
    )),
)

def q2_symbols(v: Variant = DEFAULT) -> tuple[str, ...]:
    """Names a student's expressions may use in the Q2 of variant ``v`` (the setup cell defines
    them as SymPy symbols)."""
    return (*v.kernel_names, *v.input_names, "W", "K", "p", "s")


#: Names a student's expressions may use in Q2 (the worksheet's own numbers).
Q2_SYMBOLS = q2_symbols(DEFAULT)


def element(row: list[str]) -> str:
    """One output element as text (``k2*x1 + k3*x2``), from a row of ``band``."""
    return " + ".join(f"{w}*x{c + 1}" for c, w in enumerate(row) if w != "0")


def q2_questions(v: Variant = DEFAULT) -> tuple[Question, ...]:
    """Q2's questions with variant ``v``'s numbers and references (Q2f and Q2g stay symbolic)."""
    n, m, p, kern = v.n, v.n_out, v.pad, v.kernel_names
    valid, same = band(n, kernel=kern), band(n, (p, p), kern)
    c, co, size, kk, o = v.in_channels, v.out_channels, v.image, v.kernel, v.out_size
    options = {} if v.k == DEFAULT.k and n == DEFAULT.n else {"names": q2_symbols(v)}
    return (
        Question("q2a", "Output of a valid (no padding) 1-D convolution", (
            Variable("q2a_out_dim", "integer", m, 1, "the output dimension"),
            Variable("q2a_first", "expression", element(valid[0]), 1, "the first output element",
                     options=options),
            Variable("q2a_last", "expression", element(valid[-1]), 1, "the last output element",
                     options=options),
        )),
        Question("q2b", "Output of a 'same' padded 1-D convolution", (
            Variable("q2b_out_dim", "integer", n, 1, "the output dimension"),
            Variable("q2b_first", "expression", element(same[0]), 1, "the first output element",
                     options=options),
            Variable("q2b_last", "expression", element(same[-1]), 1, "the last output element",
                     options=options),
        )),
        Question("q2c", "The convolution of (a) as a matrix", (
            Variable("q2c_K", "matrix", valid, 2, f"the {m}x{n} matrix K with h = K x",
                     options=options),
        )),
        Question("q2d", "The convolution of (b) as a matrix", (
            Variable("q2d_K", "matrix", same, 2, f"the {n}x{n} matrix K with h = K x",
                     options=options),
        )),
        Question("q2e", "No weight sharing", (
            Variable("q2e_K", "free_band_matrix", (m, n, v.k), 1,
                     f"the {m}x{n} matrix with a different filter at every position"),
            Variable("q2e_params", "integer", m * v.k, 1,
                     "the number of parameters without padding"),
            Variable("q2e_params_same", "integer", v.params_same, 1,
                     "the number of parameters with same padding"),
        )),
        Question("q2f", "Output dimension of a 1-D convolution", (
            Variable("q2f_out_dim", "formula", OUT_DIM, 1, "W_out with stride 1 and no padding"),
            Variable("q2f_out_dim_general", "formula", OUT_DIM_GENERAL, 2,
                     "W_out with padding p and stride s"),
        )),
        Question("q2g", "Output shape of a 2-D convolution", (
            Variable("q2g_out_shape", "formula_tuple", (OUT_DIM, OUT_DIM), 1,
                     "the output shape with stride 1 and no padding"),
            Variable("q2g_out_shape_general", "formula_tuple", (OUT_DIM_GENERAL, OUT_DIM_GENERAL),
                     1, "the output shape with padding p and stride s"),
        )),
        Question("q2h", "Input and kernel tensor shapes", (
            Variable("q2h_input_shape", "shape", [(c, size, size)], 1, "the input tensor's shape"),
            Variable("q2h_kernel_shape", "shape", [(co, c, kk, kk), (c, co, kk, kk),
                                                   (co * c, kk, kk)], 1,
                     "the shape of the tensor holding all the kernels"),
        )),
        Question("q2i", "Convolution versus fully connected layer", (
            Variable("q2i_output_shape", "shape", [(co, o, o)], 1, "the output tensor's shape"),
            Variable("q2i_conv_params", "integer", co * c * kk * kk, 1,
                     "the convolution layer's parameters"),
            Variable("q2i_fc_params", "integer", f"{c * size * size}*{co * o * o}", 1,
                     "the fully connected layer's parameters"),
        )),
    )


Q2_QUESTIONS: tuple[Question, ...] = q2_questions(DEFAULT)

QUESTIONS: tuple[Question, ...] = Q1_QUESTIONS + Q2_QUESTIONS


def question(question_id: str) -> Question:
    """The question with this id; KeyError names the known ids."""
    for q in QUESTIONS:
        if q.id == question_id:
            return q
    raise KeyError(f"unknown question {question_id!r}; known: {[q.id for q in QUESTIONS]}")


def answer_variables() -> list[str]:
    """Every answer variable name, in worksheet order."""
    return [v.name for q in QUESTIONS for v in q.variables]


def variable(name: str, questions: tuple[Question, ...] | None = None) -> Variable:
    """The answer variable with this name among ``questions`` (by default the worksheet's);
    KeyError names it. (The one lookup by name: ``Sheet.variable`` is this on a variant's.)"""
    for q in QUESTIONS if questions is None else questions:
        for v in q.variables:
            if v.name == name:
                return v
    raise KeyError(f"unknown answer variable {name!r}")
