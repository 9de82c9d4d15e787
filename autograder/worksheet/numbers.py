"""The bottom of the worksheet: the handful of numbers one student's Q2 uses (a ``Variant``).

The 1-D input length ``n`` and kernel length ``k`` (Q2a-e), and the image size, input and output
channels, kernel size and stride (Q2h-i); ``DEFAULT`` is the worksheet's own numbers. The
questions, the catalogue and the statements are built from these (``worksheet/__init__.py``,
``mistakes.py``, ``statements.py``); which variants a student may get is decided above them, in
``variants.py``. Standard library only, and nothing else of the package.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

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

    @property
    def kernel_names(self) -> tuple[str, ...]:
        """The 1-D kernel's weights as the student's symbols: k1..kk."""
        return tuple(f"k{j}" for j in range(1, self.k + 1))

    @property
    def input_names(self) -> tuple[str, ...]:
        """The 1-D input's entries as the student's symbols: x1..xn."""
        return tuple(f"x{i}" for i in range(1, self.n + 1))


DEFAULT = Variant()
"""the worksheet's own numbers: the variant when no identity is given"""
