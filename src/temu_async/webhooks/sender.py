"""The sender side: what Temu POSTs for one event, built from a plain payload.

Receivers never need this. It exists for the sandbox (which pushes webhooks to a user's
handler the way Temu would) and for tests.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import msgspec

from temu_async.webhooks import signature as sig
from temu_async.webhooks.crypto import encrypt_event

__all__ = ["WebhookPush", "build_push"]


class WebhookPush(msgspec.Struct, frozen=True, kw_only=True):
    """One ready-to-send delivery: POST ``body`` with ``headers`` to the callback URL."""

    headers: dict[str, str]
    body: bytes

    def __repr__(self) -> str:
        # The signature header is a credential-like value: keep it out of reprs and logs.
        shown = {k: v for k, v in self.headers.items() if k != sig.SIGNATURE}
        return f"WebhookPush(headers={shown!r}, body=<{len(self.body)} bytes>)"


def build_push(
    app_key: str,
    app_secret: str,
    event_code: str,
    payload: Mapping[str, Any] | str | bytes,
    *,
    timestamp: int | None = None,
    ext_param: str = "{}",
) -> WebhookPush:
    """Encrypt and sign ``payload`` as Temu would for ``event_code``.

    ``payload`` is a mapping (encoded as compact JSON) or the exact plaintext text/bytes.
    ``timestamp`` is unix milliseconds (default: now).
    """
    if isinstance(payload, (str, bytes)):
        plaintext = payload.encode("utf-8") if isinstance(payload, str) else payload
    else:
        plaintext = msgspec.json.encode(dict(payload))
    ts = int(time.time() * 1000) if timestamp is None else timestamp
    signature = sig.sign_event(
        app_secret,
        event_data=plaintext,
        app_key=app_key,
        event_code=event_code,
        timestamp=ts,
        ext_param=ext_param,
    )
    headers = {
        sig.APP_KEY: app_key,
        sig.EVENT_CODE: event_code,
        sig.TIMESTAMP: str(ts),
        sig.SIGNATURE: signature,
        sig.EXT_PARAM: ext_param,
        "Content-Type": "application/json",
    }
    body = msgspec.json.encode({"eventData": encrypt_event(plaintext, app_secret)})
    return WebhookPush(headers=headers, body=body)
