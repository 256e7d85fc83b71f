"""Temu's request signature (MD5 over the sorted top-level params).

The rule, from PROTOCOL.md: for every top-level param except ``sign`` whose value is
not None, sorted by key, append ``key`` and the value's compact JSON text with the
surrounding quotes of a string removed; wrap the whole in ``app_secret`` on both
sides; MD5; upper-case hex.

Nested values are signed as the exact JSON bytes that go into the body (see
:mod:`temu_async.wire`): the gateway re-derives the signature from the body in the
key order it received, so signing one serialisation and sending another fails.

Edge we settle deliberately: the official Python example strips quotes with
``str.strip('"')``, which eats *every* quote at both ends (a value ``a"`` would sign
as ``a\\``); the official JavaScript example removes only the one leading and one
trailing quote that JSON adds. We follow the JavaScript reading, which is the only
one consistent with "the JSON text of the value".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from operator import itemgetter
from typing import Any

from temu_async.wire import encode_params

__all__ = ["sign", "sign_encoded", "signing_text"]


def signing_text(encoded: bytes) -> bytes:
    """The text a value contributes to the signature: its JSON minus the string quotes."""
    if len(encoded) >= 2 and encoded[0] == 0x22 and encoded[-1] == 0x22:  # b'"'
        return encoded[1:-1]
    return encoded


def sign_encoded(encoded: Iterable[tuple[str, bytes]], app_secret: str) -> str:
    """Sign params whose values are already JSON-encoded (the bytes the body carries).

    ``encoded`` yields ``(key, json_bytes)``; ``sign`` is skipped and None values must
    already be absent (they are never encoded).
    """
    secret = app_secret.encode()
    # One buffer and one digest call: every request signs, and a few dozen small
    # update() calls cost more than building the text once.
    parts = [secret]
    for key, value in sorted(encoded, key=_by_key):
        if key == "sign":
            continue
        parts.append(key.encode())
        parts.append(signing_text(value))
    parts.append(secret)
    return hashlib.md5(b"".join(parts), usedforsecurity=False).hexdigest().upper()


def sign(params: Mapping[str, Any], app_secret: str) -> str:
    """Sign a mapping of top-level params (nested dicts keep their insertion order)."""
    return sign_encoded(encode_params(params).items(), app_secret)


# "Sorted by key" means byte order of the key's UTF-8, not locale or case-folded order.
# Python orders str by code point, and UTF-8 keeps code point order byte for byte, so
# the str itself is the sort key (no encoding per key per call).
_by_key = itemgetter(0)
