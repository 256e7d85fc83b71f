"""The webhook signature: hex HMAC-SHA256, keyed by the app_secret.

The signed text is five params sorted by name, each written as ``name + value`` with no
separator at all::

    eventData<decrypted JSON>x-tm-app-key<key>x-tm-event-code<code>x-tm-ext-param<ext>x-tm-timestamp<ms>

Temu's guide describes ``key=value&key=value``, but its own worked example (the golden vector
in the tests) only reproduces without separators, so that is what we do. A param whose value
is empty or blank is left out, as in Temu's reference verifier (it matters for a delivery
without ``x-tm-ext-param``).

This module works on bytes: the decrypted ``eventData`` is signed exactly as it came out of
AES, never decoded and re-encoded first.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

__all__ = [
    "APP_KEY",
    "EVENT_CODE",
    "EVENT_DATA",
    "EXT_PARAM",
    "SIGNATURE",
    "TIMESTAMP",
    "sign_event",
    "signature_base",
    "signature_matches",
]

EVENT_DATA = "eventData"
APP_KEY = "x-tm-app-key"
EVENT_CODE = "x-tm-event-code"
EXT_PARAM = "x-tm-ext-param"
TIMESTAMP = "x-tm-timestamp"
SIGNATURE = "x-tm-signature"

SIGNED = (EVENT_DATA, APP_KEY, EVENT_CODE, EXT_PARAM, TIMESTAMP)
_HEX64 = re.compile(rb"[0-9a-fA-F]{64}")


def signature_base(params: Mapping[str, bytes]) -> bytes:
    """The exact bytes that get HMAC'd, from the five signed params (wire names as keys)."""
    parts = []
    for name in sorted(params):
        value = params[name]
        if value.strip():
            parts.append(name.encode("ascii") + value)
    return b"".join(parts)


def _hmac_hex(app_secret: str, base: bytes) -> str:
    return hmac.new(app_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def sign_event(
    app_secret: str,
    *,
    event_data: str | bytes,
    app_key: str,
    event_code: str,
    timestamp: int | str,
    ext_param: str = "{}",
) -> str:
    """Sender side: the ``x-tm-signature`` Temu would send (lower-case hex).

    ``event_data`` is the *decrypted* payload text. Used by the sandbox's webhook push and by
    tests; a receiver verifies through :class:`~temu_async.webhooks.WebhookVerifier`.
    """
    data = event_data.encode("utf-8") if isinstance(event_data, str) else bytes(event_data)
    params = {
        EVENT_DATA: data,
        APP_KEY: app_key.encode("utf-8"),
        EVENT_CODE: event_code.encode("utf-8"),
        EXT_PARAM: ext_param.encode("utf-8"),
        TIMESTAMP: str(timestamp).encode("ascii"),
    }
    return _hmac_hex(app_secret, signature_base(params))


def signature_matches(app_secret: str, params: Mapping[str, bytes], received: bytes) -> bool:
    """Whether ``received`` is the signature of ``params``, compared in constant time.

    Hex case is ignored: Temu's example prints lower case, its Java sample upper case.
    """
    if _HEX64.fullmatch(received) is None:
        return False
    expected = _hmac_hex(app_secret, signature_base(params)).encode("ascii")
    return hmac.compare_digest(expected, received.lower())
