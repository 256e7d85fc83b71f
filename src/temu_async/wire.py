"""The bytes on the wire: request bodies and the response envelope.

Each top-level param value is serialised once, with msgspec, into compact JSON
(``,``/``:`` separators, non-ASCII as UTF-8, dicts in insertion order). Those same
bytes feed the signature and the body, so the two can never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import msgspec

from temu_async.errors import ParamError

__all__ = ["Envelope", "build_body", "check_floats", "encode_params", "encode_value"]

T = TypeVar("T")

_encoder = msgspec.json.Encoder()
_encode = _encoder.encode


# Floats whose shortest text needs an exponent print differently in different JSON
# encoders (``1e+16`` in Python, ``1e16`` in msgspec, ``1.0E16`` in Java); the gateway
# re-derives the signature from its own reading of the body, so only plain decimal
# text is safe to send. Temu's money fields are strings or integers anyway.
_PLAIN_FLOAT_RANGE = (1e-4, 1e16)


def check_floats(value: Any, path: str) -> None:
    """Refuse values that cannot be sent safely, anywhere in a value.

    NaN and infinities have no JSON spelling (msgspec would write ``null``, silently
    changing what the caller meant); very large or small floats need an exponent.
    Bytes would go out base64-encoded, which no Temu param expects: text is ``str``.
    """
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParamError(path, f"must be a finite number, got {value!r}")
        if value != 0.0 and not _PLAIN_FLOAT_RANGE[0] <= abs(value) < _PLAIN_FLOAT_RANGE[1]:
            raise ParamError(
                path,
                f"float {value!r} would need an exponent, which encoders print differently "
                "(breaking the signature); send it as a string or an integer",
            )
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raise ParamError(
            path,
            f"must be text (str) or a number, got {type(value).__name__} "
            "(bytes would be sent base64-encoded); decode it first",
        )
    elif isinstance(value, dict):
        for k, v in value.items():
            check_floats(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            check_floats(v, f"{path}[{i}]")


def encode_value(value: Any, path: str) -> bytes:
    """Compact JSON of one param value, with a clear error for what JSON cannot hold."""
    try:
        check_floats(value, path)
        return _encode(value)
    except RecursionError:
        # A value that contains itself, or nesting far deeper than any Temu param.
        raise ParamError(path, "is nested too deeply (or contains itself)") from None
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
    out: dict[str, bytes] = {}
    for key, value in params.items():
        if value is None:
            continue
        if not isinstance(key, str):
            raise ParamError(repr(key), "param names must be strings")
        if not _encodable(key):
            # Names are signed as UTF-8 bytes; a lone surrogate has none.
            raise ParamError(repr(key), "param names must be valid Unicode text")
        out[key] = encode_value(value, key or repr(key))  # an empty name still shows
    return out


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def build_body(encoded: Mapping[str, bytes]) -> bytes:
    """The flat JSON object made of already-encoded values (no second serialisation)."""
    parts = [_encode(key) + b":" + value for key, value in encoded.items()]
    return b"{" + b",".join(parts) + b"}"


class Envelope(msgspec.Struct, Generic[T], kw_only=True):
    """Temu's response wrapper. Unknown fields are ignored; ``result`` is typed per call."""

    success: bool | None = None
    """None when the object has no ``success`` at all: not an envelope (a proxy's JSON)."""
    errorCode: int | None = None
    errorMsg: str | None = None
    requestId: str | None = None
    result: T | None = None
