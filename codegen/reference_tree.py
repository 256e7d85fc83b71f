"""Field trees shared by the reference readers: inferring them from JSON examples and merging.

Every source of facts (the seed doc, temu-docs pages, linkfox pages) yields a list of
:class:`~temu_async.catalogue.Field` trees; the importer merges them with a precedence
order. Only facts move between trees (names, types, flags, bounds), never prose.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from temu_async.catalogue import Field

__all__ = ["COMMON_PARAMS", "from_example", "merge", "scalar_of", "value_type"]

# Sent by the transport on every call; never part of a type's own params.
COMMON_PARAMS = frozenset(
    {"type", "app_key", "access_token", "sign", "timestamp", "data_type", "version", "request"}
)


_WIRE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WIDE = re.compile(r"(Id|Ids|IdList|Sn|Time|Timestamp)$")


def value_type(value: Any) -> str:
    """Our type name for one JSON example value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "list"
    return "any"


def _item_shape(values: list[Any]) -> tuple[str, list[Field] | None]:
    """Element type of an example list (and the union of object keys across elements)."""
    kinds = {value_type(v) for v in values if v is not None}
    if not kinds:
        return "any", None
    if kinds == {"object"}:
        merged: list[Field] = []
        for v in values:
            merged = merge(merged, from_example(v))
        return "object", merged
    if len(kinds) == 1:
        kind = kinds.pop()
        # A list of lists has no Field shape for its inner items: keep it as plain data.
        return ("any", None) if kind == "list" else (kind, None)
    if kinds <= {"integer", "number"}:
        return "number", None
    return "any", None


def _is_map(value: dict[str, Any]) -> bool:
    """An example object whose keys are data (``$key``, ids, URLs), not field names."""
    return any(not _WIRE.match(k) or k.isdigit() for k in value)


def from_example(value: dict[str, Any], *, skip: frozenset[str] = frozenset()) -> list[Field]:
    """The field tree an example object shows (value types inferred, nothing required).

    A map (keys that are data) becomes an object without fields: plain data.
    """
    out: list[Field] = []
    if _is_map(value):
        return out
    for key, val in value.items():
        if key in skip:
            continue
        kind = value_type(val)
        if val is None:
            out.append(Field(name=key, type="any"))
        elif kind == "object":
            out.append(Field(name=key, type="object", fields=from_example(val) or None))
        elif kind == "list":
            items, children = _item_shape(val)
            if items == "integer" and _WIDE.search(key):
                items = "long"
            out.append(Field(name=key, type="list", items=items, fields=children or None))  # type: ignore[arg-type]
        elif kind == "integer" and _WIDE.search(key):
            # Examples print every number as 1: ids and timestamps are documented as LONG.
            out.append(Field(name=key, type="long"))
        else:
            out.append(Field(name=key, type=kind))  # type: ignore[arg-type]
    return out


def scalar_of(f: Field) -> str:
    """The scalar a field holds (its item type for a list)."""
    return (f.items or "any") if f.type == "list" else f.type


def _merge_one(hi: Field, lo: Field) -> Field:
    """``hi`` wins every fact it states; ``lo`` fills what ``hi`` leaves open."""
    out = copy.deepcopy(hi)
    if out.type == "any" and lo.type != "any":
        out.type = lo.type
        out.items = lo.items
    # Types follow precedence (callers put documented tables above example guesses);
    # only an unknown type or list element is filled from below.
    if out.type == "list" and out.items in (None, "any") and lo.type == "list":
        out.items = lo.items
    if not out.required and lo.required:
        out.required = True
    if not out.summary and lo.summary:
        out.summary = lo.summary
    if out.enum is None and lo.enum is not None and scalar_of(out) == scalar_of(lo):
        out.enum = dict(lo.enum)
        out.enum_closed = lo.enum_closed
    for attr in ("minimum", "maximum", "min_items", "max_items", "max_length", "default"):
        if getattr(out, attr) is None and getattr(lo, attr) is not None:
            setattr(out, attr, getattr(lo, attr))
    nested = out.type == "object" or (out.type == "list" and out.items == "object")
    if nested and (out.fields or lo.fields):
        out.fields = merge(out.fields or [], lo.fields or []) or None
    elif not nested:
        out.fields = None
    if out.type != "list":
        out.items = None
        out.min_items = out.max_items = None
    return out


def merge(hi: list[Field] | None, lo: list[Field] | None) -> list[Field]:
    """Union of two trees: ``hi``'s order and facts first, ``lo``'s extra fields after."""
    hi = hi or []
    lo = lo or []
    low = {f.name: f for f in lo}
    out: list[Field] = []
    for f in hi:
        out.append(_merge_one(f, low[f.name]) if f.name in low else copy.deepcopy(f))
    names = {f.name for f in hi}
    out.extend(copy.deepcopy(f) for f in lo if f.name not in names)
    return out
