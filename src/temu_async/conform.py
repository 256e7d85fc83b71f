"""Bring plain data in line with the catalogue's field types, where no information is lost.

Temu's documented types are not always what the gateway sends (a time documented as
STRING arrives as a number, an id as a string of digits). The client decodes results
strictly into the generated Structs; when that fails, it conforms the plain data with
:func:`conform` and decodes again, logging the path once, so a harmless doc mismatch
does not break a production sync. What cannot be converted losslessly is left alone
and still fails, as :class:`~temu_async.errors.ResponseDecodeError`.

The sandbox passes its answers through the same function, so they always have the
catalogue's shape.
"""

from __future__ import annotations

import re
from typing import Any

from temu_async.catalogue import Field

__all__ = ["conform", "conform_value"]

_INT_TEXT = re.compile(r"^-?[0-9]{1,19}$")


def conform(fields: list[Field] | None, data: Any) -> Any:
    """Conform an object's members to ``fields`` (unknown members are kept as they are)."""
    if fields is None or not isinstance(data, dict):
        return data
    by_name = {f.name: f for f in fields}
    out = {}
    for key, value in data.items():
        f = by_name.get(key)
        out[key] = value if f is None or value is None else conform_value(f, f.type, value)
    return out


def conform_value(f: Field, kind: str, value: Any) -> Any:
    if kind == "object":
        return conform(f.fields, value)
    if kind == "list":
        if not isinstance(value, list):
            return value
        item_kind = f.items or "any"
        return [v if v is None else conform_value(f, item_kind, v) for v in value]
    if kind == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            return str(int(value))
        return value
    if kind in ("integer", "long"):
        if isinstance(value, str) and _INT_TEXT.match(value):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value
    if kind == "boolean":
        if value in ("true", "false"):
            return value == "true"
        if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
            return bool(value)
        return value
    return value
