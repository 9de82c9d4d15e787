"""Feedback as Markdown for Gradescope, written from a check's parts (never from its plain text).

Gradescope renders test output as Markdown (``output_format: "md"``), where ``k1*x1 + k2*x2``
would turn into italics. So the answer as it was read and the code items of a verdict
(``results.Text``: "expected X, got Y") become code spans, backtick spans in prose (names such as
`` `q2a` ``) stay code spans, every other character Markdown gives a meaning to is escaped, and
a format error's pointer becomes a code block.
"""

from __future__ import annotations

import re

from autograder.report.results import CheckResult, Text

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")
_CODE = re.compile(r"(`+)(.+?)\1", re.S)


def code_span(text: str) -> str:
    """``text`` as one Markdown code span, whatever backticks it holds."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(text: str) -> str:
    fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", text)), default=0))
    return f"{fence}\n{text}\n{fence}"


def escape(text: str) -> str:
    """Plain text that Markdown shows as it is."""
    return _SPECIAL.sub(r"\\\1", text)


def inline(text: str) -> str:
    """Prose with its backtick spans kept as code and everything else escaped."""
    out, end = [], 0
    for match in _CODE.finditer(text):
        out += [escape(text[end:match.start()]), code_span(match.group(2))]
        end = match.end()
    return "".join(out) + escape(text[end:])


def text(parts: Text) -> str:
    """A ``Text``: prose inline, code items as code spans."""
    return "".join(code_span(p) if i % 2 else inline(p) for i, p in enumerate(parts) if p)


def check(c: CheckResult) -> str:
    """One check's feedback (the Markdown twin of ``CheckResult.message``)."""
    body = text(c.verdict) + (" " + inline(c.hint) if c.hint else "")
    if c.reading:
        label = escape(c.reading_label + " ") if c.reading_label else ""
        body = (f"Read your answer as {label}{code_span(c.reading)}{inline(c.notes_text)}. "
                + body)
    if c.review:
        body += inline(f" ({c.review})")
    if c.pointer:
        body += "\n\n" + code_block(c.pointer)
    return body
