"""Check a call's params against the catalogue before anything is sent.

The rules are data (each :class:`~temu_async.catalogue.Field`): required, type,
enum, numeric bounds, list lengths, string length, and no unknown names. A broken
rule raises :class:`~temu_async.errors.ParamError` naming the wire path and the rule,
e.g. ``param sendRequestList[0].carrierId: is required``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from temu_async.catalogue import Field, TypeSpec
from temu_async.errors import ParamError

__all__ = ["COMMON_PARAMS", "check_params", "check_type_name"]

# Set by the client on every request; a business param of the same name would be sent
# twice, and the gateway reads the first one it finds.
COMMON_PARAMS = frozenset(
    {"type", "app_key", "access_token", "timestamp", "data_type", "version", "sign"}
)

_INT64 = (-(2**63), 2**63 - 1)

# Every Temu type is dotted lower-camel words (``bg.order.list.v2.get``); anything else
# (spaces, a URL, a method name) is a caller's mix-up that only a 3000003 would reveal.
_TYPE_NAME = re.compile(r"[a-z][a-zA-Z0-9_]*(?:\.[a-zA-Z0-9_]+)+")

_TYPE_WORDS = {
    "integer": "an integer",
    "long": "an integer",
    "string": "a string",
    "boolean": "true or false",
    "number": "a number",
    "object": "an object (dict)",
    "list": "a list",
}


def check_type_name(type_name: object) -> str:
    """Return ``type_name`` when it is shaped like a Temu type; else raise ParamError."""
    if not isinstance(type_name, str) or not _TYPE_NAME.fullmatch(type_name):
        raise ParamError(
            "type",
            "must be an API type name like 'bg.order.list.v2.get' (dotted words), "
            f"got {_describe(type_name)}",
        )
    return type_name


def check_params(spec: TypeSpec, params: Mapping[str, Any], *, allow_unknown: bool = False) -> None:
    """Raise ParamError for the first broken rule; return None when the params are sound."""
    _check_object(spec.params, params, "", spec.type, allow_unknown)


def _check_object(
    fields: list[Field], value: Mapping[str, Any], prefix: str, api_type: str, allow_unknown: bool
) -> None:
    known = {f.name: f for f in fields}
    if not allow_unknown:
        for key in value:
            if key not in known:
                names = ", ".join(sorted(known)) or "none"
                raise ParamError(
                    f"{prefix}{key}",
                    f"is not a param of {api_type} (known here: {names})",
                    api_type=api_type,
                    hint="check the spelling (wire names are camelCase); if Temu added it, "
                    "pass allow_unknown=True and report it so the catalogue learns it",
                )
    for f in fields:
        v = value.get(f.name)
        path = f"{prefix}{f.name}"
        if v is None:
            if f.required:
                raise ParamError(path, "is required", api_type=api_type)
            continue
        _check_value(f, f.type, v, path, api_type, allow_unknown)


def _check_value(
    f: Field, kind: str, v: Any, path: str, api_type: str, allow_unknown: bool
) -> None:
    if not _is_kind(kind, v):
        raise ParamError(
            path, f"must be {_TYPE_WORDS[kind]}, got {_describe(v)}", api_type=api_type
        )
    if kind == "list":
        _check_list(f, v, path, api_type, allow_unknown)
        return
    if kind == "object":
        if f.fields is not None:
            _check_object(f.fields, v, path + ".", api_type, allow_unknown)
        return
    if f.enum and f.enum_closed and v not in f.enum:
        allowed = ", ".join(f"{k!r} ({m})" if m else repr(k) for k, m in f.enum.items())
        raise ParamError(path, f"must be one of {allowed}; got {v!r}", api_type=api_type)
    if kind in ("integer", "long") and not _INT64[0] <= v <= _INT64[1]:
        raise ParamError(path, f"must fit in 64 bits, got {v}", api_type=api_type)
    if f.minimum is not None and v < f.minimum:
        raise ParamError(path, f"must be >= {f.minimum}, got {v!r}", api_type=api_type)
    if f.maximum is not None and v > f.maximum:
        raise ParamError(path, f"must be <= {f.maximum}, got {v!r}", api_type=api_type)
    if f.max_length is not None and kind == "string" and len(v) > f.max_length:
        raise ParamError(
            path,
            f"must be at most {f.max_length} characters, got {len(v)}",
            api_type=api_type,
        )


def _check_list(f: Field, v: Any, path: str, api_type: str, allow_unknown: bool) -> None:
    n = len(v)
    if f.min_items is not None and n < f.min_items:
        raise ParamError(
            path, f"must hold at least {f.min_items} item(s), got {n}", api_type=api_type
        )
    if f.max_items is not None and n > f.max_items:
        raise ParamError(
            path, f"must hold at most {f.max_items} item(s), got {n}", api_type=api_type
        )
    item_kind = f.items or "any"
    if item_kind == "any":
        return
    for i, item in enumerate(v):
        item_path = f"{path}[{i}]"
        if item is None:
            raise ParamError(item_path, "list items cannot be null", api_type=api_type)
        if item_kind == "object":
            if not isinstance(item, Mapping):
                raise ParamError(
                    item_path, f"must be an object (dict), got {_describe(item)}", api_type=api_type
                )
            if f.fields is not None:
                _check_object(f.fields, item, item_path + ".", api_type, allow_unknown)
        else:
            _check_value(f, item_kind, item, item_path, api_type, allow_unknown)


def _is_kind(kind: str, v: Any) -> bool:
    if kind in ("integer", "long"):
        return isinstance(v, int) and not isinstance(v, bool)
    if kind == "string":
        return isinstance(v, str)
    if kind == "boolean":
        return isinstance(v, bool)
    if kind == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if kind == "object":
        return isinstance(v, Mapping)
    if kind == "list":
        return isinstance(v, (list, tuple))
    return True


def _describe(v: Any) -> str:
    text = repr(v)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(v).__name__} {text}"
