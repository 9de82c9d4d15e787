"""Feedback as Markdown for Gradescope: answers and expressions in code spans, the rest escaped.

Feedback messages are plain text in which some names are already quoted in backticks (`` `q2a` ``).
Gradescope renders test output as Markdown (``output_format: "md"``), where ``k1*x1 + k2*x2`` would
turn into italics. So: existing backtick spans stay code spans; the answer after "Read your answer
as" and both sides of "expected ..., got ..." become code spans; every other character Markdown
gives a meaning to is escaped; the parser's pointer lines (indented by 4) become a code block.
"""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")
_CODE = re.compile(r"(`+)(.+?)\1", re.S)
#: How a verdict starts (checks/): the answer shown before it ends where one of these begins.
VERDICT_STARTS = ("Correct.", "Not correct", "Partly correct", "The grader could not", "Every entry",
                  "Entry 1:", "`")
_READ_AS = re.compile(r"^(Read your answer as )(.+?)((?: \(.*?\))?\. (?:"
                      + "|".join(map(re.escape, VERDICT_STARTS)) + ").*)$", re.S)
_MATRIX = re.compile(r"^(an? \d+x\d+ matrix with first row )(.+)$", re.S)
_EXPECTED = re.compile(r"(expected )(.+?)(, got )(.+?)(\.(?:\s|$))", re.S)


def code_span(text: str) -> str:
    """``text`` as one Markdown code span, whatever backticks it holds."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def escape(text: str) -> str:
    """Plain text that Markdown shows as it is."""
    return _SPECIAL.sub(r"\\\1", text)


def inline(text: str) -> str:
    """Text with its backtick spans kept as code and everything else escaped."""
    out, end = [], 0
    for match in _CODE.finditer(text):
        out += [escape(text[end:match.start()]), code_span(match.group(2))]
        end = match.end()
    return "".join(out) + escape(text[end:])


def message(text: str) -> str:
    """One check's message as Markdown (see the module docstring)."""
    lines = text.split("\n")
    prose = [line for line in lines if not line.startswith("    ")]
    pointer = [line[4:] for line in lines if line.startswith("    ")]
    body = "\n".join(prose)
    read = _READ_AS.match(body)
    if read:
        shown = _MATRIX.match(read.group(2))
        answer = (escape(shown.group(1)) + code_span(shown.group(2)) if shown
                  else code_span(read.group(2)))
        body = read.group(1) + answer + _expected(read.group(3))
    else:
        body = _expected(body)
    if pointer:
        fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", "\n".join(pointer))),
                                     default=0))
        body += "\n\n" + "\n".join([fence, *pointer, fence])
    return body


def _expected(text: str) -> str:
    """``inline(text)`` with "expected X, got Y." as code spans."""
    match = _EXPECTED.search(text)
    if not match:
        return inline(text)
    return (inline(text[:match.start()]) + match.group(1) + code_span(match.group(2))
            + match.group(3) + code_span(match.group(4)) + inline(match.group(5))
            + _expected(text[match.end():]))
