"""Feedback as Markdown for Gradescope, written from a check's parts (never from its plain text).

Gradescope renders test output as Markdown (``output_format: "md"``), where ``k1*x1 + k2*x2``
would turn into italics. So the answer as it was read and the code items of a verdict
(``results.Text``: "expected X, got Y") become code spans, backtick spans in prose (names such as
`` `q2a` ``) stay code spans, every other character Markdown gives a meaning to is escaped, and
a format error's pointer becomes a code block. Control characters (a carriage return ends a
line for CommonMark, so ``x\r<script>`` inside a code span would start an HTML block) are shown
as visible escapes (``\r``, ``\x7f``, ``\u2028``) wherever they come from: no text a student
wrote can end a span, a block or a paragraph.
"""

from __future__ import annotations

import re
import unicodedata

from autograder.report.results import CheckResult, Text

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")
_CODE = re.compile(r"(`+)(.+?)\1", re.S)


_SHOWN = {"\r": "\\r", "\n": "\\n", "\t": "\\t", "\0": "\\0"}


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control, format, separator, surrogate and unassigned character
    (Unicode categories Cc, Cf, Zl, Zp, Cs, Cn: CR, DEL, C1, U+2028, U+FFFE, ...) written as a
    visible escape; ``keep_newlines`` keeps ``\n``."""
    if text.isprintable() or (keep_newlines and text.replace("\n", "").isprintable()):
        return text  # the common case, decided in C
    out = []
    for ch in text:
        if keep_newlines and ch == "\n":
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Cn"):
            out.append(_SHOWN.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100
                                          else f"\\u{ord(ch):04x}"))
        else:
            out.append(ch)
    return "".join(out)


def code_span(text: str) -> str:
    """``text`` as one Markdown code span, whatever backticks or control characters it holds."""
    text = visible(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(text: str) -> str:
    """``text`` as a fenced code block longer than any backtick run in it (lines kept)."""
    text = visible(text, keep_newlines=True)
    fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", text)), default=0))
    return f"{fence}\n{text}\n{fence}"


def escape(text: str) -> str:
    """Plain text that Markdown shows as it is."""
    return _SPECIAL.sub(r"\\\1", visible(text, keep_newlines=True))


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


_RENDERED: dict = {}


def check(c: CheckResult) -> str:
    """One check's feedback (the Markdown twin of ``CheckResult.message``). A class has few
    distinct checks, so each is rendered once per process."""
    key = (c.verdict, c.hint, c.reading, c.reading_label, c.notes_text, c.review, c.pointer)
    try:
        return _RENDERED[key]
    except KeyError:
        pass
    except TypeError:  # a part that cannot be a key: render it each time
        return _render(c)
    if len(_RENDERED) > 50_000:
        _RENDERED.clear()
    _RENDERED[key] = _render(c)
    return _RENDERED[key]


def _render(c: CheckResult) -> str:
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
