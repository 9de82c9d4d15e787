"""How much intake unpacks and copies before it refuses a file (issue 30: no file stops a class)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Intake:
    """Limits on what intake writes while unpacking archives and copying notebooks."""

    unpacked_mb: int = 4096
    """bytes actually written while unpacking one archive, in MB: members past it are refused
    (`refused: unpacks past N MB`), counted as written, never from the zip's headers"""
    member_mb: int = 200
    """bytes actually written for one archive member, in MB: a member past it is refused"""
    files: int = 20000
    """archive members unpacked from one archive: the rest are refused"""
    depth: int = 12
    """folders deep a member or a submission file may lie: deeper ones are refused"""
