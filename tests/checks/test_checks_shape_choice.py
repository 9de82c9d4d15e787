"""Tensor shapes (exact, with accepted alternatives) and Q1's multiple choice."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.conftest import VARIABLES, check, via_json

SHAPE_RIGHT = {
    "tuple": ("q2h_input_shape", (3, 256, 256)),
    "list": ("q2h_input_shape", [3, 256, 256]),
    "torch.Size": ("q2h_input_shape", torch.Size([3, 256, 256])),
    "numpy array": ("q2h_input_shape", np.array([3, 256, 256])),
    "numpy ints": ("q2h_input_shape", (np.int64(3), np.int32(256), np.int16(256))),
    "floats": ("q2h_input_shape", (3.0, 256.0, 256.0)),
    "text": ("q2h_input_shape", "(3, 256, 256)"),
    "tensor shape": ("q2h_input_shape", torch.zeros(3, 256, 256).shape),
    "kernel pytorch order": ("q2h_kernel_shape", (32, 3, 5, 5)),
    "kernel swapped channels": ("q2h_kernel_shape", (3, 32, 5, 5)),
    "kernel merged channels": ("q2h_kernel_shape", [96, 5, 5]),
    "output with arithmetic": ("q2i_output_shape", (32, "(256 - 5)//2 + 1", "(256 - 5)//2 + 1")),
}


@pytest.mark.parametrize("transport", [lambda v: v, via_json], ids=["raw", "json"])
@pytest.mark.parametrize("name, value", SHAPE_RIGHT.values(), ids=SHAPE_RIGHT.keys())
def test_shapes_right(name, value, transport):
    result = check(name, transport(value))
    assert result.score == result.max_score, result.message


SHAPE_MISTAKES = {
    "input channels last": ("q2h_input_shape", (256, 256, 3), "channels-last"),
    "kernel channels last": ("q2h_kernel_shape", (5, 5, 3, 32), "channels-last"),
    "no input channels": ("q2h_kernel_shape", (32, 5, 5), "missing-input-channels"),
    "output no floor": ("q2i_output_shape", (32, 126.5, 126.5), "missing-floor"),
    "output rounded up": ("q2i_output_shape", (32, 127, 127), "rounded-up"),
    "output channels last": ("q2i_output_shape", torch.Size([126, 126, 32]), "channels-last"),
    "output stride ignored": ("q2i_output_shape", [32, 252, 252], "stride-ignored"),
}


@pytest.mark.parametrize("name, value, mistake", SHAPE_MISTAKES.values(),
                         ids=SHAPE_MISTAKES.keys())
def test_shape_mistakes(name, value, mistake):
    result = check(name, value)
    assert result.mistake == mistake and result.score < result.max_score
    assert f"({mistake})" in result.message


SHAPE_WRONG = {
    "unknown order": ("q2h_kernel_shape", (5, 3, 5, 32), "in another order"),
    "wrong numbers": ("q2h_input_shape", (3, 255, 255),
                      "expected (3, 256, 256), got (3, 255, 255)"),
    "alternatives listed": ("q2h_kernel_shape", (1, 2), "(32, 3, 5, 5) or (3, 32, 5, 5)"),
    "not whole": ("q2i_output_shape", (32, 126.25, 126), "whole numbers"),
}


@pytest.mark.parametrize("name, value, words", SHAPE_WRONG.values(), ids=SHAPE_WRONG.keys())
def test_shapes_wrong(name, value, words):
    result = check(name, value)
    assert result.score == 0 and words in result.message


SHAPE_UNREADABLE = {
    "single number": (3, "type", "an integer"),
    "single number text": ("256", "type", "single number"),
    "symbol entry": ((3, "W", 256), "format", "Entry 2"),
    "nested": (((3, 256), 256), "type", "Entry 1"),
    "bool entry": ((True, 256, 256), "type", "bool"),
    "2-D array": (np.zeros((3, 2)), "type", "array of shape (3, 2)"),
    "None": (None, "type", "None"),
    "code": ("__import__('os')", "format", "not allowed"),
}


@pytest.mark.parametrize("value, stage, words", SHAPE_UNREADABLE.values(),
                         ids=SHAPE_UNREADABLE.keys())
def test_shapes_unreadable(value, stage, words):
    result = check("q2h_input_shape", value)
    assert result.score == 0 and result.stage == stage
    assert words in result.message


# --- multiple choice ---------------------------------------------------------------------------

CHOICE = {
    # case: (variable, value, score)
    "exact": ("q1a_equivariant", "cnn", 0.5),
    "case and space": ("q1a_equivariant", "  CNN ", 0.5),
    "wrong option": ("q1a_equivariant", "mlp", 0),
    "source": ("q1a_source", "Architecture", 0.5),
    "reasons exact": ("q1b_reasons", ["sparse interactions", "parameter sharing",
                                      "translational equivariance"], 0.5),
    "reasons set any case": ("q1b_reasons", {"Sparse  Interactions", "PARAMETER SHARING",
                                             "translational equivariance"}, 0.5),
    "reasons duplicates": ("q1b_reasons", ("parameter sharing",) * 2, 0.5 / 3),
    "two of three": ("q1b_reasons", ["sparse interactions", "parameter sharing"], 0.5 * 2 / 3),
    "one wrong pick": ("q1b_reasons", ["sparse interactions", "parameter sharing",
                                       "translational equivariance", "more parameters"],
                       0.5 * 2 / 3),
    "everything": ("q1b_reasons", list(VARIABLES["q1b_reasons"].options["choices"]), 0),
    "single string": ("q1b_reasons", "parameter sharing", 0.5 / 3),
}


@pytest.mark.parametrize("transport", [lambda v: v, via_json], ids=["raw", "json"])
@pytest.mark.parametrize("name, value, score", CHOICE.values(), ids=CHOICE.keys())
def test_choices(name, value, score, transport):
    result = check(name, transport(value))
    assert result.score == pytest.approx(score, abs=1e-6), result.message
    assert result.message.startswith("Read your answer as ")


CHOICE_UNREADABLE = {
    "not an option": ("q1a_equivariant", "cnns", "did you mean 'cnn'?"),
    "number": ("q1a_equivariant", 1, "one of the strings"),
    "list for one": ("q1a_equivariant", ["cnn"], "a list"),
    "unknown reason": ("q1b_reasons", ["sparse interactions", "magic"], "not one of the options"),
    "reason number": ("q1b_reasons", [1], "one of the strings"),
    "reasons dict": ("q1b_reasons", {"a": 1}, "dict"),
}


@pytest.mark.parametrize("name, value, words", CHOICE_UNREADABLE.values(),
                         ids=CHOICE_UNREADABLE.keys())
def test_choices_unreadable(name, value, words):
    result = check(name, value)
    assert result.score == 0 and result.stage in ("format", "type")
    assert words in result.message
