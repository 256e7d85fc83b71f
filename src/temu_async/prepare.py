"""Prepare: check a call's params and encode them for the wire, in one walk.

Two sets of rules meet here, and one Python walk of the param tree applies both:

* the catalogue's (each :class:`~temu_async.catalogue.Field`): required, type, enum,
  numeric bounds, list lengths, string length, no unknown names;
* the wire's: only JSON-native Python values (``str``, ``int``, ``float``, ``bool``,
  ``None``, ``dict`` with string keys, ``list``/``tuple``), integers within 64 bits,
  finite floats that print without an exponent, a bounded depth, and a body no larger
  than :data:`MAX_BODY_BYTES`.

msgspec then encodes each top-level value once, in C, and those bytes feed both the
signature and the body. A value msgspec would quietly convert (a ``set``, a ``Decimal``,
a ``datetime``, a ``{1: 2}`` key) is refused instead, so what is sent is what was meant.

The catalogue's field lists are compiled once per type into lookup tables
(:class:`Plan`), not rebuilt on every call; a broken rule raises
:class:`~temu_async.errors.ParamError` naming the wire path
(``sendRequestList[0].carrierId``) and the rule. Paths are only spelled out on the
way out of a refusal, so a sound call never formats one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from temu_async.catalogue import Field, TypeSpec
from temu_async.errors import ParamError

__all__ = [
    "COMMON_PARAMS",
    "MAX_BODY_BYTES",
    "MAX_DEPTH",
    "Plan",
    "check_type_name",
    "check_value",
    "encode_free",
    "prepare_params",
]

# Set by the client on every request; a business param of the same name would be sent
# twice, and the gateway reads the first one it finds.
COMMON_PARAMS = frozenset(
    {"type", "app_key", "access_token", "timestamp", "data_type", "version", "sign"}
)

MAX_BODY_BYTES = 1 << 20
"""The largest request body sent (1 MiB). Temu documents no limit; its router answers a
10 MB body with HTTP 413, and 1 MiB is the common front-proxy default (nginx's
``client_max_body_size``), far above any documented Temu request. Refusing locally
turns a round trip and an ambiguous failure into a clear error. ``TemuApp(max_body_bytes=)``
changes it."""

MAX_DEPTH = 64
"""Nesting deeper than this is refused (Temu params nest three or four levels): a value
that contains itself, or a runaway structure, gets a clear error, not a RecursionError."""

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# Floats whose shortest text needs an exponent print differently in different JSON
# encoders (``1e+16`` in Python, ``1e16`` in msgspec, ``1.0E16`` in Java); the gateway
# re-derives the signature from its own reading of the body, so only plain decimal
# text is safe to send. Temu's money fields are strings or integers anyway.
_PLAIN_FLOAT_MIN, _PLAIN_FLOAT_MAX = 1e-4, 1e16

# Every Temu type is dotted lower-camel words (``bg.order.list.v2.get``); anything else
# (spaces, a URL, a method name) is a caller's mix-up that only a 3000003 would reveal.
_TYPE_NAME = re.compile(r"[a-z][a-zA-Z0-9_]*(?:\.[a-zA-Z0-9_]+)+")

# Kinds as small ints: the walk compares them on every value.
_INT, _STR, _BOOL, _NUM, _OBJ, _LIST, _ANY = range(7)
_KINDS = {
    "integer": _INT,
    "long": _INT,
    "string": _STR,
    "boolean": _BOOL,
    "number": _NUM,
    "object": _OBJ,
    "list": _LIST,
    "any": _ANY,
}
_TYPE_WORDS = {
    _INT: "an integer",
    _STR: "a string",
    _BOOL: "true or false",
    _NUM: "a number",
    _OBJ: "an object (dict)",
    _LIST: "a list",
}
_BYTES = (bytes, bytearray, memoryview)

_encode = msgspec.json.Encoder().encode


def check_type_name(type_name: object) -> str:
    """Return ``type_name`` when it is shaped like a Temu type; else raise ParamError."""
    if not isinstance(type_name, str) or not _TYPE_NAME.fullmatch(type_name):
        raise ParamError(
            "type",
            "must be an API type name like 'bg.order.list.v2.get' (dotted words), "
            f"got {_describe(type_name)}",
        )
    return type_name


# --- the compiled catalogue ----------------------------------------------------------------


class _Rule:
    """One field's rules, flattened for the walk."""

    __slots__ = (
        "enum",
        "enum_text",
        "fast",
        "item_kind",
        "kind",
        "max_items",
        "max_length",
        "maximum",
        "min_items",
        "minimum",
        "required",
        "shape",
    )

    def __init__(self, f: Field) -> None:
        self.kind = _KINDS[f.type]
        self.required = f.required
        self.item_kind = _KINDS[f.items or "any"]
        self.enum: frozenset[Any] | None = frozenset(f.enum) if f.enum and f.enum_closed else None
        self.enum_text = (
            ", ".join(f"{k!r} ({m})" if m else repr(k) for k, m in f.enum.items()) if f.enum else ""
        )
        self.minimum = f.minimum
        self.maximum = f.maximum
        self.max_length = f.max_length
        self.min_items = f.min_items
        self.max_items = f.max_items
        self.shape = _Shape(f.fields) if f.fields is not None else None
        # A text or integer field with no rule beyond its type takes the walk's fast path:
        # one type check (and the 64-bit range for an integer).
        plain = (
            self.enum is None and f.minimum is None and f.maximum is None and f.max_length is None
        )
        self.fast: Any = (
            (str if self.kind == _STR else int if self.kind == _INT else None) if plain else None
        )


class _Shape:
    """An object's fields: a name table, the required names, and the names for errors."""

    __slots__ = ("by_name", "known_text", "required")

    def __init__(self, fields: list[Field]) -> None:
        self.by_name = {f.name: _Rule(f) for f in fields}
        self.required = tuple(f.name for f in fields if f.required)
        self.known_text = ", ".join(sorted(self.by_name)) or "none"


class Plan:
    """A type's param rules, compiled once (the client keeps one per type it calls)."""

    __slots__ = ("api_type", "shape")

    def __init__(self, spec: TypeSpec) -> None:
        self.api_type = spec.type
        # An undocumented type's params are free-form: only the wire's rules apply.
        self.shape = _Shape(spec.params) if spec.documented else None


# --- the walk ------------------------------------------------------------------------------


class _Refused(Exception):
    """A broken rule on its way up the tree; each level adds its segment of the path."""

    __slots__ = ("hint", "rule", "segments", "whole")

    def __init__(self, rule: str, hint: str = "", *, whole: bool = False) -> None:
        self.rule = rule
        self.hint = hint
        self.whole = whole
        """The rule is about the whole top-level value (its depth): name only that."""
        self.segments: list[str | int] = []


def _path(refusal: _Refused) -> str:
    segments = refusal.segments
    if refusal.whole:
        return str(segments[-1])
    # Segments were added leaf first.
    out = ""
    for seg in reversed(segments):
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += f".{seg}" if out else seg
    return out


def _describe(v: Any) -> str:
    text = repr(v)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(v).__name__} {text}"


def _float(v: float) -> None:
    if not math.isfinite(v):
        raise _Refused(f"must be a finite number, got {v!r}")
    if v != 0.0 and not _PLAIN_FLOAT_MIN <= abs(v) < _PLAIN_FLOAT_MAX:
        raise _Refused(
            f"float {v!r} would need an exponent, which encoders print differently "
            "(breaking the signature); send it as a string or an integer"
        )


def _unsupported(v: Any) -> _Refused:
    if isinstance(v, _BYTES):
        return _Refused(
            f"must be text (str) or a number, got {type(v).__name__} "
            "(bytes would be sent base64-encoded); decode it first"
        )
    return _Refused(
        f"cannot be sent as JSON (unsupported type {type(v).__name__}); send str, int, float, "
        "bool, list or dict (e.g. str() a Decimal, a timestamp int for a datetime, "
        "a list for a set)"
    )


def _key(k: Any) -> _Refused:
    # Named by the object that holds the key.
    return _Refused(f"cannot be sent as JSON: object keys must be strings, got {_describe(k)}")


def _too_deep() -> _Refused:
    return _Refused(
        f"is nested too deeply (or contains itself): more than {MAX_DEPTH} levels", whole=True
    )


def _free(v: Any, depth: int) -> None:
    """The wire's rules only, for values the catalogue does not describe."""
    t = type(v)
    if t is str or t is bool or v is None:
        return
    if t is int:
        if not _INT64_MIN <= v <= _INT64_MAX:
            raise _Refused(f"must fit in 64 bits, got {v}")
        return
    if t is float:
        _float(v)
        return
    if t is dict:
        if depth >= MAX_DEPTH:
            raise _too_deep()
        for k, x in v.items():
            if type(k) is not str:
                raise _key(k)
            try:
                _free(x, depth + 1)
            except _Refused as r:
                r.segments.append(k)
                raise
        return
    if t is list or t is tuple:
        if depth >= MAX_DEPTH:
            raise _too_deep()
        for i, x in enumerate(v):
            try:
                _free(x, depth + 1)
            except _Refused as r:
                r.segments.append(i)
                raise
        return
    # Subclasses (an IntEnum, a str Enum, an OrderedDict) go the slow way.
    if isinstance(v, (str, bool)):
        return
    if isinstance(v, int):
        _free(int(v), depth)
    elif isinstance(v, float):
        _float(v)
    elif isinstance(v, dict):
        _free(dict(v), depth)
    elif isinstance(v, (list, tuple)):
        _free(list(v), depth)
    else:
        raise _unsupported(v)


def _object(shape: _Shape, value: Mapping[str, Any], allow_unknown: bool, depth: int) -> None:
    if depth >= MAX_DEPTH:
        raise _too_deep()
    by_name = shape.by_name
    found = 0  # required fields present: counted here, so sound objects need no second pass
    for key, v in value.items():
        rule = by_name.get(key)
        if rule is None:
            if type(key) is not str:
                raise _key(key)
            if not allow_unknown:
                refusal = _unknown(key, shape)
                refusal.segments.append(key)
                raise refusal
            try:
                _free(v, depth + 1)
            except _Refused as r:
                r.segments.append(key)
                raise
        elif v is not None:
            if rule.required:
                found += 1
            fast = rule.fast
            if type(v) is fast and (fast is str or _INT64_MIN <= v <= _INT64_MAX):
                continue
            try:
                _value(rule, rule.kind, v, allow_unknown, depth + 1)
            except _Refused as r:
                r.segments.append(key)
                raise
    if found != len(shape.required):
        for name in shape.required:
            if value.get(name) is None:
                refusal = _Refused("is required")
                refusal.segments.append(name)
                raise refusal


def _unknown(key: str, shape: _Shape) -> _Refused:
    return _Refused(
        f"is not a param of {{api_type}} (known here: {shape.known_text})",
        hint="check the spelling (wire names are camelCase); if Temu added it, "
        "pass allow_unknown=True and report it so the catalogue learns it",
    )


def _value(rule: _Rule, kind: int, v: Any, allow_unknown: bool, depth: int) -> None:
    if kind == _STR:
        if not isinstance(v, str):
            raise _Refused(f"must be a string, got {_describe(v)}")
        if rule.enum is not None and v not in rule.enum:
            raise _Refused(f"must be one of {rule.enum_text}; got {v!r}")
        if rule.max_length is not None and len(v) > rule.max_length:
            raise _Refused(f"must be at most {rule.max_length} characters, got {len(v)}")
        return
    if kind in (_INT, _NUM):
        t = type(v)
        if t is float and kind == _NUM:
            _float(v)
        elif t is not int:
            if isinstance(v, bool) or not isinstance(v, (float, int) if kind == _NUM else int):
                raise _Refused(f"must be {_TYPE_WORDS[kind]}, got {_describe(v)}")
            if isinstance(v, float):
                _float(v)
        if kind == _INT and not _INT64_MIN <= v <= _INT64_MAX:
            raise _Refused(f"must fit in 64 bits, got {v}")
        if rule.enum is not None and v not in rule.enum:
            raise _Refused(f"must be one of {rule.enum_text}; got {v!r}")
        if rule.minimum is not None and v < rule.minimum:
            raise _Refused(f"must be >= {rule.minimum}, got {v!r}")
        if rule.maximum is not None and v > rule.maximum:
            raise _Refused(f"must be <= {rule.maximum}, got {v!r}")
        return
    if kind == _BOOL:
        if type(v) is not bool:
            raise _Refused(f"must be true or false, got {_describe(v)}")
        return
    if kind == _OBJ:
        if not isinstance(v, dict):
            raise _Refused(f"must be an object (dict), got {_describe(v)}")
        if rule.shape is not None:
            _object(rule.shape, v, allow_unknown, depth)
        else:
            _free(v, depth)
        return
    if kind == _LIST:
        if not isinstance(v, (list, tuple)):
            raise _Refused(f"must be a list, got {_describe(v)}")
        n = len(v)
        if rule.min_items is not None and n < rule.min_items:
            raise _Refused(f"must hold at least {rule.min_items} item(s), got {n}")
        if rule.max_items is not None and n > rule.max_items:
            raise _Refused(f"must hold at most {rule.max_items} item(s), got {n}")
        item_kind = rule.item_kind
        for i, item in enumerate(v):
            try:
                if item is None:
                    raise _Refused("list items cannot be null")
                if item_kind == _OBJ and rule.shape is not None:
                    if not isinstance(item, dict):
                        raise _Refused(f"must be an object (dict), got {_describe(item)}")
                    _object(rule.shape, item, allow_unknown, depth + 1)
                elif item_kind == _ANY:
                    _free(item, depth + 1)
                else:
                    _value(rule, item_kind, item, allow_unknown, depth + 1)
            except _Refused as r:
                r.segments.append(i)
                raise
        return
    _free(v, depth)


# --- the step ------------------------------------------------------------------------------


def prepare_params(
    plan: Plan | None,
    params: Mapping[str, Any],
    *,
    api_type: str | None,
    allow_unknown: bool = False,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> dict[str, bytes]:
    """Check ``params`` against ``plan`` (None: an unknown type, wire rules only) and
    return each top-level value's JSON, ready to sign and send.

    A None value means "not sent" and is left out.
    """
    if not isinstance(params, Mapping):
        raise ParamError(None, f"params must be a mapping, got {type(params).__name__}")
    shape = plan.shape if plan is not None else None
    by_name = shape.by_name if shape is not None else None
    out: dict[str, bytes] = {}
    size = 2
    for key, value in params.items():
        if type(key) is not str:
            if not isinstance(key, str):
                raise ParamError(repr(key), "param names must be strings", api_type=api_type)
            key = str(key)
        if key in COMMON_PARAMS:
            raise ParamError(
                key,
                "is a common param the client sets itself; do not pass it",
                api_type=api_type,
            )
        if value is None:
            continue
        try:
            if by_name is None:
                _free(value, 0)
            else:
                rule = by_name.get(key)
                if rule is not None:
                    _value(rule, rule.kind, value, allow_unknown, 0)
                elif allow_unknown:
                    _free(value, 0)
                else:
                    assert shape is not None
                    raise _unknown(key, shape)
        except _Refused as r:
            r.segments.append(key or repr(key))  # an empty name still shows
            raise ParamError(
                _path(r),
                r.rule.replace("{api_type}", api_type or "this type"),
                api_type=api_type,
                hint=r.hint,
            ) from None
        encoded = _encode_one(key, value, api_type)
        out[key] = encoded
        size += len(key) + len(encoded) + 4
    if shape is not None:
        for name in shape.required:
            if params.get(name) is None:
                raise ParamError(name, "is required", api_type=api_type)
    # The common params and the signature add a few hundred bytes more.
    if size + 512 > max_body_bytes:
        biggest = max(out, key=lambda k: len(out[k]))
        raise ParamError(
            biggest,
            f"makes the request body about {size + 512} bytes, over the "
            f"{max_body_bytes}-byte limit this client sends (the gateway refuses large "
            "bodies with HTTP 413)",
            api_type=api_type,
            hint="split the work into several calls",
        )
    return out


def _encode_one(key: str, value: Any, api_type: str | None) -> bytes:
    try:
        key.encode()  # names are signed as UTF-8 bytes; a lone surrogate has none
    except UnicodeEncodeError:
        raise ParamError(
            repr(key), "param names must be valid Unicode text", api_type=api_type
        ) from None
    try:
        return _encode(value)
    except UnicodeEncodeError as exc:
        raise ParamError(
            key or repr(key),
            f"cannot be sent as JSON (a lone surrogate at position {exc.start} "
            "is not valid Unicode text)",
            api_type=api_type,
        ) from None
    except (TypeError, OverflowError, ValueError, msgspec.EncodeError) as exc:
        raise ParamError(
            key or repr(key), f"cannot be sent as JSON ({exc})", api_type=api_type
        ) from None


def check_value(value: Any, path: str) -> None:
    """Apply the wire's rules to one value (no catalogue); ParamError names ``path``."""
    try:
        _free(value, 0)
    except _Refused as r:
        r.segments.append(path)
        raise ParamError(_path(r), r.rule) from None


def encode_free(params: Mapping[str, Any]) -> dict[str, bytes]:
    """Encode a flat object with the wire's rules only: no catalogue, no size limit, and
    common params allowed (the signer encodes whole bodies with it)."""
    out: dict[str, bytes] = {}
    for key, value in params.items():
        if value is None:
            continue
        if not isinstance(key, str):
            raise ParamError(repr(key), "param names must be strings")
        check_value(value, key or repr(key))
        out[key] = _encode_one(key, value, None)
    return out
