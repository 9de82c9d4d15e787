"""Every grading option, declared once with its default and a description.

The CLI and the Makefile only pass these through (``TIMEOUT=`` -> ``Limits.timeout`` ...).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Hard limits on one submission's execution, enforced from outside its process."""

    timeout: float = 300.0
    """wall-clock seconds for the whole notebook; the process group is then killed"""
    cell_timeout: float = 120.0
    """wall-clock seconds for one cell; later cells still run"""
    memory_mb: int = 4096
    """address-space cap for the student's process, in MiB"""
    output_bytes: int = 1_000_000
    """captured stdout+stderr kept per submission; the rest is discarded"""
