"""The bytes on the wire: request bodies and the response envelope.

Each top-level param value is serialised once, with msgspec, into compact JSON
(``,``/``:`` separators, non-ASCII as UTF-8, dicts in insertion order). Those same
bytes feed the signature and the body, so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import msgspec

from temu_async.errors import ParamError
from temu_async.prepare import COMMON_PARAMS, check_value, encode_free

__all__ = ["Envelope", "build_body", "check_floats", "encode_params", "encode_value"]

T = TypeVar("T")

_encode = msgspec.json.Encoder().encode


def check_floats(value: Any, path: str) -> None:
    """Refuse values that cannot be sent safely, anywhere in a value.

    Kept for callers of the old name: it now applies every wire rule of
    :mod:`temu_async.prepare` (finite plain floats, no bytes, JSON-native types only,
    string keys, bounded depth), not only the float rules.
    """
    check_value(value, path)


def encode_value(value: Any, path: str) -> bytes:
    """Compact JSON of one param value, with a clear error for what JSON cannot hold."""
    check_value(value, path)
    try:
        return _encode(value)
    except UnicodeEncodeError as exc:
        raise ParamError(
            path,
            f"cannot be sent as JSON (a lone surrogate at position {exc.start} "
            "is not valid Unicode text)",
        ) from None
    except (TypeError, OverflowError, msgspec.EncodeError) as exc:
        raise ParamError(path, f"cannot be sent as JSON ({exc})") from None


def encode_params(params: Mapping[str, Any]) -> dict[str, bytes]:
    """Serialise every top-level value once; None means "not sent" and is left out."""
    return encode_free(params)


def build_body(encoded: Mapping[str, bytes]) -> bytes:
    """The flat JSON object made of already-encoded values (no second serialisation)."""
    parts = []
    for key, value in encoded.items():
        prefix = _KEY_PREFIXES.get(key)
        parts.append((_encode(key) + b":" if prefix is None else prefix) + value)
    return b"{" + b",".join(parts) + b"}"


# The names every request carries, encoded once.
_KEY_PREFIXES = {key: _encode(key) + b":" for key in COMMON_PARAMS}


class Envelope(msgspec.Struct, Generic[T], kw_only=True):
    """Temu's response wrapper. Unknown fields are ignored; ``result`` is typed per call."""

    success: bool | None = None
    """None when the object has no ``success`` at all: not an envelope (a proxy's JSON)."""
    errorCode: int | None = None
    errorMsg: str | None = None
    requestId: str | None = None
    result: T | None = None
