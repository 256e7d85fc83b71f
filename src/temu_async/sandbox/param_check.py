"""Checking a request's business params against the catalogue, as the server would.

The gateway ignores keys it does not know, so unknown params pass. A null value
counts as absent. The first problem found is reported, naming the param by its
path (``sendRequestList[0].carrierId``) and the rule it breaks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..catalogue import Field, TypeSpec
from .codes import BAD_PARAMS, GatewayReject

__all__ = ["COMMON_PARAMS", "check_params"]

COMMON_PARAMS = frozenset(
    {"type", "app_key", "access_token", "timestamp", "data_type", "version", "sign"}
)

# Both integer kinds are held to 64 bits: the docs call some fields INTEGER that carry
# values past 2**31 (and answer type-specific codes for them, e.g. 140020014).
_INT64 = (-(2**63), 2**63 - 1)
_JSON_NAMES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "list",
    dict: "object",
}


def _json_kind(value: Any) -> str:
    return _JSON_NAMES.get(type(value), type(value).__name__)


def _scalar_problem(path: str, kind: str, f: Field, value: Any) -> str | None:
    if kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{path}: expected {kind}, got {_json_kind(value)}"
        lo, hi = _INT64
        if not lo <= value <= hi:
            return f"{path}: {value} does not fit in a {kind}"
        if f.minimum is not None and value < f.minimum:
            return f"{path}: {value} is below the minimum {f.minimum}"
        if f.maximum is not None and value > f.maximum:
            return f"{path}: {value} is above the maximum {f.maximum}"
    elif kind == "number":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return f"{path}: expected number, got {_json_kind(value)}"
        if f.minimum is not None and value < f.minimum:
            return f"{path}: {value} is below the minimum {f.minimum}"
        if f.maximum is not None and value > f.maximum:
            return f"{path}: {value} is above the maximum {f.maximum}"
    elif kind == "string":
        if not isinstance(value, str):
            return f"{path}: expected string, got {_json_kind(value)}"
        if f.max_length is not None and len(value) > f.max_length:
            return f"{path}: longer than {f.max_length} characters"
    elif kind == "boolean":
        if not isinstance(value, bool):
            return f"{path}: expected boolean, got {_json_kind(value)}"
    elif kind == "object":
        if not isinstance(value, dict):
            return f"{path}: expected object, got {_json_kind(value)}"
        return _fields_problem(f.fields, value, path + ".")
    # "any": whatever arrives is fine.
    if f.enum and f.enum_closed and kind not in ("object", "any") and value not in f.enum:
        allowed = ", ".join(str(v) for v in f.enum)
        return f"{path}: {value!r} is not one of {allowed}"
    return None


def _field_problem(path: str, f: Field, value: Any) -> str | None:
    if f.type != "list":
        return _scalar_problem(path, f.type, f, value)
    if not isinstance(value, list):
        return f"{path}: expected list, got {_json_kind(value)}"
    if f.min_items is not None and len(value) < f.min_items:
        return f"{path}: needs at least {f.min_items} items, got {len(value)}"
    if f.max_items is not None and len(value) > f.max_items:
        return f"{path}: allows at most {f.max_items} items, got {len(value)}"
    item_kind = f.items or "any"
    for i, item in enumerate(value):
        if item is None:
            return f"{path}[{i}]: null item"
        problem = _scalar_problem(f"{path}[{i}]", item_kind, f, item)
        if problem:
            return problem
    return None


class _Missing(Exception):
    def __init__(self, path: str) -> None:
        self.path = path


def _fields_problem(
    fields: list[Field] | None, values: Mapping[str, Any], prefix: str
) -> str | None:
    for f in fields or ():
        path = prefix + f.name
        value = values.get(f.name)
        if value is None:
            if f.required:
                raise _Missing(path)
            continue
        problem = _field_problem(path, f, value)
        if problem:
            return problem
    return None


def check_params(spec: TypeSpec, body: Mapping[str, Any]) -> None:
    """Raise :class:`GatewayReject` for the first param that breaks the catalogue."""
    if not spec.documented or not spec.params:
        return
    try:
        problem = _fields_problem(spec.params, body, "")
    except _Missing as missing:
        # Types that document their own "{*} not passed in" code answer with it.
        for code, msg in spec.errors.items():
            if "{*}" in msg and "not passed" in msg:
                raise GatewayReject(code, msg.replace("{*}", missing.path)) from None
        raise GatewayReject(BAD_PARAMS, f"BAD_PARAMS: {missing.path} is required") from None
    if problem:
        raise GatewayReject(BAD_PARAMS, f"BAD_PARAMS: {problem}")
