"""The sandbox's own check of a request signature.

Written apart from the client's signer on purpose: if both were the same code, a
bug in it would sign and verify consistently and no test would notice. This one
works on the body exactly as the server received it (``json.loads`` keeps key
order, so nested objects re-serialise in the order the client sent them), as
PROTOCOL.md describes the gateway: every top-level key except ``sign`` whose value
is not null, sorted by byte order, ``key + compact JSON of the value`` with exactly
one surrounding pair of double quotes removed from strings, wrapped in the secret,
MD5, upper-case hex.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["TOA_SIGNED_HEADERS", "expected_sign", "expected_toa_sign", "sign_text"]


def _value_text(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    # Only the JSON quotes of a string go: a value that itself starts or ends with a
    # quote keeps it (escaped), the reading of Temu's JavaScript example.
    if isinstance(value, str):
        return text[1:-1]
    return text


def sign_text(params: Mapping[str, Any]) -> str:
    """The concatenation that gets wrapped in the secret (no secret inside)."""
    keys = sorted(
        (k for k, v in params.items() if k != "sign" and v is not None),
        key=lambda k: k.encode("utf-8"),
    )
    return "".join(k + _value_text(params[k]) for k in keys)


def expected_sign(app_secret: str, params: Mapping[str, Any]) -> str:
    raw = app_secret + sign_text(params) + app_secret
    return hashlib.md5(raw.encode("utf-8")).hexdigest().upper()


TOA_SIGNED_HEADERS = ("toa-access-token", "toa-app-key", "toa-random", "toa-timestamp")


def expected_toa_sign(app_secret: str, headers: Mapping[str, str]) -> str:
    """The ``toa-sign`` a signed file URL demands (fulfilment guide).

    The four other ``toa-*`` headers, sorted by name, each as name + value with nothing
    between, wrapped in the secret, MD5, upper-case hex.
    """
    text = "".join(name + headers[name] for name in sorted(TOA_SIGNED_HEADERS))
    raw = app_secret + text + app_secret
    return hashlib.md5(raw.encode("utf-8")).hexdigest().upper()
