"""Why a webhook delivery was refused.

Every refusal is a :class:`WebhookError`; the subclass says which check failed. Each class
carries the HTTP status the handler answers with and a short public ``reason`` for the
response body, separate from the message: the message is for the receiver's logs, the reason
is all the sender (possibly an attacker) gets to see.

Messages never contain the app_secret, the received signature or decrypted payload text.
"""

from __future__ import annotations

__all__ = [
    "AppKeyMismatchError",
    "DecryptionError",
    "InvalidSignatureError",
    "MalformedDeliveryError",
    "ReplayError",
    "StaleTimestampError",
    "WebhookError",
]

_SIGNATURE_REASON = "signature does not match"


class WebhookError(Exception):
    """A delivery that must not be processed."""

    status: int = 400
    """HTTP status the handler answers with."""
    reason: str = "bad request"
    """Short text for the response body; says which check failed and nothing more."""


class MalformedDeliveryError(WebhookError):
    """A header is missing or unreadable, or the body is not the documented JSON."""

    reason = "malformed delivery"


class AppKeyMismatchError(WebhookError):
    """``x-tm-app-key`` names another app than the one this receiver verifies for."""

    status = 401
    reason = "unknown app key"


class StaleTimestampError(WebhookError):
    """``x-tm-timestamp`` is older than ``max_age`` or further ahead than ``tolerance``."""

    reason = "timestamp outside the accepted window"


class InvalidSignatureError(WebhookError):
    """``x-tm-signature`` is not the HMAC of this delivery under the app_secret."""

    status = 401
    reason = _SIGNATURE_REASON


class DecryptionError(WebhookError):
    """``eventData`` is not base64 of AES/CBC ciphertext under this app_secret.

    The public answer is deliberately the same as a bad signature's: telling the sender
    "bad padding" apart from "bad signature" would hand out a CBC padding oracle (the key and
    IV never change), letting anyone recover a captured payload block by block.
    """

    status = 401
    reason = _SIGNATURE_REASON


class ReplayError(WebhookError):
    """This event (same app, code and payload) was already accepted."""

    status = 409
    reason = "delivery already received"
