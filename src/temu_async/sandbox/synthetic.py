"""Results for types the sandbox has no behaviour for: shaped like the catalogue says.

Values are fixed and plain (first enum value, ``1``, ``"<name>-1"``, one list
item) so a decoder sees every documented field with the right JSON type, and
repeated calls give the same answer.
"""

from __future__ import annotations

from typing import Any

from ..catalogue import Field, TypeSpec

__all__ = ["synthetic_result"]

_MAX_DEPTH = 8


def _scalar(kind: str, f: Field) -> Any:
    if f.enum:
        return next(iter(f.enum))
    if kind in ("integer", "long"):
        return f.minimum if f.minimum is not None and f.minimum > 1 else 1
    if kind == "number":
        return 1.5
    if kind == "string":
        return f"{f.name}-1"
    if kind == "boolean":
        return False
    return None


def _value(f: Field, depth: int) -> Any:
    if f.type == "object":
        return _object(f.fields, depth + 1)
    if f.type == "list":
        kind = f.items or "any"
        if kind == "object":
            return [_object(f.fields, depth + 1)] if depth < _MAX_DEPTH else []
        if kind in ("list", "any"):
            return []
        return [_scalar(kind, f)]
    return _scalar(f.type, f)


def _object(fields: list[Field] | None, depth: int) -> dict[str, Any]:
    if depth > _MAX_DEPTH:
        return {}
    return {f.name: _value(f, depth) for f in fields or ()}


def synthetic_result(spec: TypeSpec) -> Any:
    if spec.response is None:
        return {}
    if spec.result_type == "list":
        return [_object(spec.response, 0)]
    if spec.result_type == "scalar":
        return _value(spec.response[0], 0) if spec.response else True
    return _object(spec.response, 0)
