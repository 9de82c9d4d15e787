"""Per-student variants of the written part (Q2): which numbers a student gets.

A ``Variant`` is the handful of numbers the Q2 statements use: the 1-D input length ``n`` and
kernel length ``k`` (Q2a-e), and the image size, input and output channels, kernel size and
stride (Q2h-i). ``DEFAULT`` is the worksheet's own numbers. ``variant_of(email, salt)`` picks a
student's variant from their normalised email and the course's salt with SHA-256 (never
``hash()``, which changes between processes), as an index into ``VARIANTS``, the list of every
variant in which each sub-question keeps its meaning: odd k (symmetric 'same' padding), an image
size whose Q2i division is never exact (the floor matters, as 251/2 in the worksheet) and every
known mistake a different number from the reference and from each other.

The references and the catalogue for a variant are computed by ``worksheet.q2_questions`` and
``mistakes.catalogue``; ``sheet(variant)`` bundles them. This module imports nothing from the rest
of the package at module level, so the student's side can use it without SymPy.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
from dataclasses import dataclass

#: The ranges variants are drawn from (each combination kept only when ``problems`` is empty).
N_RANGE = range(7, 13)
K_CHOICES = (3, 5)
IMAGE_CHOICES = (32, 48, 64, 96, 128, 160, 192, 224, 256)
IN_CHANNEL_CHOICES = (3, 4)
OUT_CHANNEL_CHOICES = (16, 24, 32, 48, 64)
KERNEL_CHOICES = (3, 5, 7)
STRIDE_CHOICES = (2, 4)  # divisions by 2 and 4 are exact as floats (126.5, 63.25)

#: What an image with this many channels is called in the statements and messages.
IMAGE_NAMES = {3: "RGB", 4: "RGBA"}


@dataclass(frozen=True, order=True)
class Variant:
    """The numbers of one student's Q2 (keys and order as ``python -m autograder variant``)."""

    n: int = 9
    k: int = 3
    image: int = 256
    in_channels: int = 3
    out_channels: int = 32
    kernel: int = 5
    stride: int = 2

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    @property
    def label(self) -> str:
        """A short text naming the variant (``n=9 k=3 image=256 ...``), for staff."""
        return " ".join(f"{key}={value}" for key, value in self.as_dict().items())

    @classmethod
    def parse(cls, label: str) -> Variant:
        """The variant ``label`` names (its own ``label``); ValueError for anything else."""
        try:
            pairs = dict(part.split("=", 1) for part in label.split())
            return cls(**{key: int(value) for key, value in pairs.items()})
        except (TypeError, ValueError) as exc:
            raise ValueError(f"not a variant: {label!r} (expected e.g. {DEFAULT.label!r})") from exc

    # --- derived numbers the statements and the catalogue use ---------------------------------
    @property
    def pad(self) -> int:
        """'same' padding: zeros at each end of the 1-D input."""
        return (self.k - 1) // 2

    @property
    def n_out(self) -> int:
        """Q2a's output length (no padding)."""
        return self.n - self.k + 1

    @property
    def out_size(self) -> int:
        """Q2i's output height and width: floor((image - kernel)/stride) + 1."""
        return (self.image - self.kernel) // self.stride + 1

    @property
    def edge_weights(self) -> tuple[int, ...]:
        """Q2e with 'same' padding and no sharing: in each added row at one end, how many of its
        k weights touch a real input (not only padding zeros), outermost row first."""
        return tuple(self.k - self.pad + r for r in range(self.pad))

    @property
    def params_same(self) -> int:
        """Q2e's parameter count with 'same' padding: the unpadded rows' weights plus the
        weights of the added rows that touch the input, at both ends."""
        return self.n_out * self.k + 2 * sum(self.edge_weights)


DEFAULT = Variant()
"""the worksheet's own numbers: the variant when no identity is given"""


def normalise(email: str | None) -> str:
    """An email as identities are compared: trimmed, lower case ('' when there is none)."""
    return (email or "").strip().lower()


def problems(v: Variant) -> list[str]:
    """Why ``v`` would not keep every sub-question meaningful (empty when it does)."""
    found = []
    if v.k % 2 == 0 or v.k < 3:
        found.append("k must be odd and at least 3 ('same' padding symmetric)")
    if v.n_out < 5:
        found.append("the unpadded output must have at least 5 entries")
    if (v.image - v.kernel) % v.stride == 0 or v.kernel % 2 == 0:
        found.append("the Q2i division must not be exact, with an odd kernel")
    if v.in_channels == v.out_channels or v.in_channels not in IMAGE_NAMES:
        found.append("input channels must be named and differ from the output channels")
    for name, numbers in _numbers(v).items():
        if len(set(numbers)) != len(numbers):
            found.append(f"{name}: two known answers coincide: {numbers}")
    return found


def _numbers(v: Variant) -> dict[str, list]:
    """The numeric reference and known wrong answers of each number-valued variable."""
    m, o, s, c, co, kk = v.n_out, v.out_size, v.image, v.in_channels, v.out_channels, v.kernel
    same_pad = (s + 2 * ((kk - 1) // 2) - kk) // v.stride + 1
    return {
        "q2a_out_dim": [m, m - 1, m + 1, v.n],
        "q2b_out_dim": [v.n, m, v.n + v.k - 1],
        "q2e_params": [m * v.k, v.k, m * v.n, v.params_same],
        "q2e_params_same": [v.params_same, m * v.k, v.n * v.k, m * v.k + v.k - 1, v.k],
        "q2i_output_shape": [o, o + 1, o - 1, s - kk + 1, same_pad],
        "q2i_output_channels": [co, o],
        "q2i_conv_params": [co * c * kk * kk, co * c * kk * kk + co, co * kk * kk, c * kk * kk],
        "q2h_kernel_shape": [co * c, c, co],
    }


def _all_variants() -> tuple[Variant, ...]:
    grid = itertools.product(N_RANGE, K_CHOICES, IMAGE_CHOICES, IN_CHANNEL_CHOICES,
                             OUT_CHANNEL_CHOICES, KERNEL_CHOICES, STRIDE_CHOICES)
    return tuple(v for v in (Variant(*numbers) for numbers in grid) if not problems(v))


VARIANTS: tuple[Variant, ...] = _all_variants()
"""every variant a student can get, in a fixed order (``variant_of`` indexes it)"""


def variant_of(email: str | None, salt: str) -> Variant:
    """The variant of the student with this email under the course's ``salt``: the same on every
    machine, Python version and process; ``DEFAULT`` when there is no email."""
    who = normalise(email)
    if not who:
        return DEFAULT
    digest = hashlib.sha256(f"{salt}\n{who}".encode()).digest()
    return VARIANTS[int.from_bytes(digest[:8], "big") % len(VARIANTS)]


def to_json(v: Variant) -> str:
    """The variant as the CLI prints it: one JSON object."""
    return json.dumps(v.as_dict())


def sheet(v: Variant):
    """The worksheet of variant ``v``: its questions and catalogue (``Sheet``). ``DEFAULT``'s is
    the module-level worksheet as it is now; another's is computed once per process and kept,
    so the checks' caches keyed on its objects stay valid."""
    from autograder.worksheet.sheet import build

    return build(v) if v == DEFAULT else _built(v)


@functools.cache
def _built(v: Variant):
    from autograder.worksheet.sheet import build

    return build(v)
