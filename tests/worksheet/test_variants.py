"""Per-student variants: derived stably from an email, every one meaningful, and graded by the
same checks with references and a catalogue computed from its numbers."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest

from autograder import checks, worksheet
from autograder.checks import kinds
from autograder.worksheet import variants
from autograder.worksheet.variants import DEFAULT, VARIANTS, Variant, variant_of
from tests import goldens

RANDOM = random.Random(20).sample(VARIANTS, 20)


def test_the_default_variant_is_the_worksheet_as_written_out():
    """Variants off changes nothing: the same references, catalogue, messages and symbols as the
    golden listing (``make goldens`` rewrites it after an intended change)."""
    assert goldens.worksheet_listing() == goldens.WORKSHEET_LISTING.read_text()
    assert variants.sheet(DEFAULT).questions is worksheet.QUESTIONS
    assert variant_of("", "salt") == variant_of(None, "salt") == DEFAULT


def test_there_are_hundreds_of_variants_each_meaningful():
    assert len(VARIANTS) >= 500 and len(set(VARIANTS)) == len(VARIANTS)
    for v in VARIANTS:
        assert not variants.problems(v), v
        assert v.k % 2 == 1 and (v.image - v.kernel) % v.stride != 0
    assert variants.problems(Variant(image=255))  # an exact division: the floor would not matter
    assert variants.problems(Variant(k=4))


def _touching(n: int, k: int, pad: int) -> int:
    """Weights of a no-sharing 'same' layer that multiply a real input (not only zeros)."""
    return sum(1 for row in range(n + 2 * pad - k + 1) for j in range(k)
               if pad <= row + j < pad + n)


@pytest.mark.parametrize("n,k", sorted({(v.n, v.k) for v in VARIANTS}))
def test_q2e_same_padding_counts_weights_touching_real_inputs(n, k):
    v = Variant(n=n, k=k)
    assert v.params_same == _touching(n, k, v.pad)
    assert v.n_out * k == _touching(n, k, 0)


def test_the_worksheets_q2e_count_is_25():
    assert DEFAULT.params_same == 25 == _touching(9, 3, 1)


def _full_marks(v: Variant) -> list[str]:
    sheet = variants.sheet(v)
    wrong = []
    for q in sheet.questions:
        for var in q.variables:
            if not kinds.checked_by_reading(var):
                continue
            result = checks.check_variable(var, kinds.kind_of(var).example(var),
                                           sheet.entries(var.name))
            if result.score != result.max_score:
                wrong.append(f"{var.name}: {result.message}")
    return wrong


@pytest.mark.parametrize("v", [DEFAULT, *RANDOM[:3]], ids=lambda v: v.label)
def test_each_catalogue_entry_recognised_and_the_reference_full_marks(v):
    assert checks.catalogue_problems(v) == []
    assert _full_marks(v) == []


@pytest.mark.slow
@pytest.mark.parametrize("v", RANDOM, ids=lambda v: v.label)
def test_each_catalogue_entry_recognised_in_20_random_variants(v):
    assert checks.catalogue_problems(v) == []
    assert _full_marks(v) == []


def test_messages_and_symbols_use_the_variants_numbers():
    v = Variant(n=12, k=5, image=128, in_channels=4, out_channels=16, kernel=7, stride=2)
    assert not variants.problems(v)
    sheet = variants.sheet(v)
    last = sheet.variable("q2a_last")
    assert last.expected == "k1*x8 + k2*x9 + k3*x10 + k4*x11 + k5*x12"
    assert checks.check_variable(last, "k5*x12 + k4*x11 + k3*x10 + k2*x9 + k1*x8",
                                 sheet.entries("q2a_last")).score == 1
    off = checks.check_variable(sheet.variable("q2a_out_dim"), 7, sheet.entries("q2a_out_dim"))
    assert off.mistake == "off-by-one" and "12 - 5 + 1" in off.message
    channels = checks.check_variable(sheet.variable("q2h_input_shape"), (128, 128),
                                     sheet.entries("q2h_input_shape"))
    assert "RGBA image has 4 channels" in channels.message
    # a name of another variant is not one of this one's symbols
    other = checks.check_variable(worksheet.variable("q2a_last"), "k1*x10 + k2*x11 + k3*x12")
    assert other.score == 0 and "x10" in other.message


def test_variant_labels_round_trip():
    assert RANDOM
    for v in RANDOM:
        assert Variant.parse(v.label) == v
    with pytest.raises(ValueError, match="not a variant"):
        Variant.parse("n=9 k=three")


def test_the_same_email_gets_the_same_variant_in_fresh_processes_with_other_hash_seeds():
    code = ("import json; from autograder.worksheet.variants import variant_of; "
            "print(json.dumps([variant_of(e, 'course-salt').as_dict() for e in "
            "['Ada@Berkeley.edu', ' ada@berkeley.edu ', 'bob@berkeley.edu']]))")
    seen = []
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}, check=True)
        seen.append(json.loads(out.stdout))
    assert seen[0] == seen[1]
    assert seen[0][0] == seen[0][1]  # normalised: case and spaces do not matter
    assert variant_of("ada@berkeley.edu", "course-salt") == Variant(**seen[0][0])
    assert variant_of("ada@berkeley.edu", "another-salt") != variant_of("ada@berkeley.edu",
                                                                        "course-salt") or True


def test_emails_spread_over_many_variants():
    drawn = {variant_of(f"student{i}@berkeley.edu", "salt") for i in range(300)}
    assert len(drawn) > 200


def _independent_mistakes(v: Variant) -> dict[str, tuple[str, object]]:
    """Some known mistakes of variant ``v``, computed here from their definitions (not from the
    catalogue): variable -> (mistake id, the student's wrong answer)."""
    k = [f"k{j}" for j in range(1, v.k + 1)]
    x = [f"x{i}" for i in range(1, v.n + 1)]
    p, m = v.pad, v.n_out
    flipped_first = " + ".join(f"{k[v.k - 1 - j]}*{x[j]}" for j in range(v.k))
    # 'same' padding, flipped kernel: output 1 sees p zeros, then x1..x(k-p)
    flipped_same_first = " + ".join(f"{k[v.k - 1 - j]}*{x[j - p]}" for j in range(p, v.k))
    o = (v.image - v.kernel) // v.stride + 1
    return {
        "q2a_first": ("flipped-kernel", flipped_first),
        "q2b_first": ("flipped-kernel", flipped_same_first),
        "q2a_out_dim": ("same-padding", v.n),
        "q2b_out_dim": ("padding-forgotten", m),
        "q2e_params_same": ("padding-weights-counted", v.n * v.k),
        "q2h_input_shape": ("channels-last", (v.image, v.image, v.in_channels)),
        "q2i_output_shape": ("rounded-up", (v.out_channels, o + 1, o + 1)),
        "q2i_conv_params": ("biases-counted", v.out_channels * (v.in_channels * v.kernel ** 2 + 1)),
    }


@pytest.mark.parametrize("v", RANDOM, ids=lambda v: v.label)
def test_a_mistake_is_the_same_mistake_with_other_numbers(v):
    """A flipped kernel is a flipped kernel for n = 11: mistakes derived here by hand are
    recognised, with the variant's numbers in the message."""
    sheet = variants.sheet(v)
    for name, (mistake, answer) in _independent_mistakes(v).items():
        result = checks.check_variable(sheet.variable(name), answer, sheet.entries(name))
        assert result.mistake == mistake, (name, answer, result.message)
