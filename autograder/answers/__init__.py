"""Answers as plain data: what leaves the student's process, and how the grader reads it back.

``encode`` runs inside the process that executed the student's code. It turns each answer into
JSON-able data (numbers as exact text, SymPy objects as their printed text, arrays as nested
lists with their shape) and never calls anything the student defined. ``decode`` runs in the
grading process, where no student code ever ran, and gives the checkers ordinary Python values:

  int, float, bool, str        as themselves (ints exact, whatever their size)
  Sym                          text printed by SymPy (a str subclass), parsed later by ``parse``
  list, tuple, frozenset       sequences and sets (a NumPy array or SymPy matrix becomes ``Array``)
  Array                        nested lists of values plus the original shape
  Unsupported                  anything else, with its type name, so feedback can say what it was
  MISSING                      the variable was never defined
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

MAX_ITEMS = 100_000  # an answer larger than this is reported, not transported
MAX_TEXT = 20_000


_SURROGATE = re.compile("[\ud800-\udfff]")


class Sym(str):
    """Text that SymPy printed for an expression (not typed by the student)."""


@dataclass(frozen=True)
class Array:
    """A NumPy array, SymPy matrix or torch tensor: its shape and its entries as nested lists."""

    shape: tuple[int, ...]
    rows: Any
    type_name: str


@dataclass(frozen=True)
class Unsupported:
    """A value of a type no checker reads (a function, a model, ...)."""

    type_name: str
    text: str


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def _type_name(value: Any) -> str:
    t = type(value)
    return f"{t.__module__}.{t.__qualname__}" if t.__module__ != "builtins" else t.__qualname__


def _encode_array(value: Any, shape: tuple[int, ...], type_name: str) -> dict:
    size = math.prod(shape)
    if size > MAX_ITEMS:
        return {"t": "unsupported", "type": type_name, "text": f"an array of shape {shape}"}
    if type_name.startswith("sympy."):
        flat = [encode(value[i, j]) for i in range(shape[0]) for j in range(shape[1])]
    else:
        flat = [encode(x) for x in value.reshape(-1).tolist()]
    return {"t": "array", "shape": list(shape), "flat": flat, "type": type_name}


def _sympy_shape(value: Any) -> tuple[int, ...] | None:
    """The shape of a SymPy matrix or array; None for anything else. ``w[i, j]`` of an
    ``IndexedBase`` without a shape raises IndexException on ``.shape``: it is not an array."""
    if not hasattr(type(value), "tolist"):
        return None
    try:
        return tuple(int(n) for n in value.shape)
    except Exception:
        return None


def encode(value: Any, _depth: int = 0) -> dict:
    """Plain JSON-able data for one answer value. Never raises."""
    try:
        return _encode(value, _depth)
    except Exception as exc:  # a hostile or broken object: report its type, keep going
        return {"t": "unsupported", "type": _type_name(value), "text": f"unreadable ({exc!r})"[:200]}


def _encode(value: Any, depth: int) -> dict:
    if depth > 20:
        return {"t": "unsupported", "type": _type_name(value), "text": "nested too deeply"}
    module = type(value).__module__ or ""
    name = _type_name(value)
    if type(value) is bool:
        return {"t": "bool", "v": value}
    if type(value) is int:
        return {"t": "int", "v": str(value)}
    if type(value) is float:
        return {"t": "float", "v": repr(value)}
    if type(value) is str:
        return {"t": "str", "v": value[:MAX_TEXT]}
    if type(value) in (list, tuple):
        if len(value) > MAX_ITEMS:
            return {"t": "unsupported", "type": name, "text": f"a sequence of {len(value)} items"}
        return {"t": type(value).__name__, "items": [_encode(x, depth + 1) for x in value]}
    if type(value) in (set, frozenset):
        if len(value) > MAX_ITEMS:
            return {"t": "unsupported", "type": name, "text": f"a set of {len(value)} items"}
        return {"t": "set", "items": sorted((_encode(x, depth + 1) for x in value), key=repr)}
    if module.startswith("numpy"):
        if hasattr(value, "shape") and getattr(value, "ndim", 0) > 0:
            return _encode_array(value, tuple(int(n) for n in value.shape), name)
        item = value.item() if hasattr(value, "item") else value
        if isinstance(item, (bool, int, float, str)):
            return _encode(type(item)(item), depth + 1)
        return _encode(item, depth + 1)  # an object-dtype 0-d array holding e.g. a SymPy value
    if module.startswith("torch"):
        if name == "torch.Size":
            return {"t": "tuple", "items": [_encode(int(n), depth + 1) for n in value]}
        if hasattr(value, "detach"):
            array = value.detach().cpu().numpy()
            if array.ndim == 0:
                return _encode(array.item(), depth + 1)
            return _encode_array(array, tuple(array.shape), name)
    if module.startswith("sympy"):
        if name.endswith(".IndexedBase"):
            return {"t": "unsupported", "type": "sympy.IndexedBase",
                    "text": f"{str(value)[:60]}: a name for indexed symbols, with no entries"}
        shape = _sympy_shape(value)
        if shape is not None and len(shape) == 2:
            return _encode_array(value, shape, name)
        if getattr(value, "is_Integer", False):
            return {"t": "int", "v": str(int(value))}
        import sympy

        return {"t": "sym", "v": sympy.sstr(value)[:MAX_TEXT]}
    if name in ("fractions.Fraction", "decimal.Decimal"):
        return {"t": "sym", "v": str(value)}
    return {"t": "unsupported", "type": name, "text": repr(value)[:200]}


def decode(data: Any) -> Any:
    """The checker-facing value for plain data made by ``encode`` (``None`` means MISSING)."""
    if data is None:
        return MISSING
    tag = data.get("t")
    if tag == "bool":
        return bool(data["v"])
    if tag == "int":
        return int(data["v"])
    if tag == "float":
        return float(data["v"])
    if tag == "str":
        return _valid(str(data["v"]))
    if tag == "sym":
        return Sym(_valid(str(data["v"])))
    if tag in ("list", "tuple"):
        items = [decode(x) for x in data["items"]]
        return items if tag == "list" else tuple(items)
    if tag == "set":
        return frozenset(decode(x) for x in data["items"])
    if tag == "array":
        shape = tuple(int(n) for n in data["shape"])
        flat = [decode(x) for x in data["flat"]]
        return Array(shape, _nest(flat, shape), str(data.get("type", "array")))
    return Unsupported(str(data.get("type", "?")), str(data.get("text", "")))


def _valid(text: str) -> str:
    """Text any UTF-8 file can hold: a lone surrogate (``"\\ud800"``, which Python strings and a
    notebook's JSON allow) becomes U+FFFD, so the answer is read and reported, never a crash."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)


def _nest(flat: list, shape: tuple[int, ...]) -> Any:
    if len(shape) <= 1:
        return list(flat)
    step = math.prod(shape[1:])
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def encode_namespace(namespace: dict, names: list[str]) -> dict:
    """Plain data for each of ``names`` defined in ``namespace`` (absent names are left out)."""
    return {name: encode(namespace[name]) for name in names if name in namespace}


def dumps(answers: dict) -> str:
    return json.dumps(answers, sort_keys=True)


def loads(text: str) -> dict:
    """Decoded answers from ``dumps`` output; raises ValueError on anything malformed."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("answers must be a JSON object")
    return {str(k): decode(v) for k, v in data.items()}
