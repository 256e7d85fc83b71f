"""Receiving Temu webhooks: verify, decrypt, parse, and an aiohttp handler to mount.

Needs the ``webhooks`` extra (``cryptography``, for AES) once a delivery is decrypted::

    from temu_async.webhooks import webhook_handler

    async def on_event(delivery):
        await queue.put(delivery)  # keep it quick: Temu wants 200 within 500 ms

    app.router.add_post("/temu/webhook", webhook_handler(APP_KEY, APP_SECRET, on_event))

:class:`WebhookVerifier` is the same checks without aiohttp. :func:`build_push`,
:func:`encrypt_event` and :func:`sign_event` are the sender side (sandbox, tests).
"""

from temu_async.webhooks.crypto import decrypt_event, encrypt_event
from temu_async.webhooks.errors import (
    AppKeyMismatchError,
    DecryptionError,
    InvalidSignatureError,
    MalformedDeliveryError,
    ReplayError,
    StaleTimestampError,
    WebhookError,
)
from temu_async.webhooks.events import (
    EventRegistry,
    RawEvent,
    WebhookDelivery,
    WebhookEvent,
    default_registry,
    parse_event,
)
from temu_async.webhooks.handler import webhook_handler
from temu_async.webhooks.replay import MemoryReplayCache, ReplayCache
from temu_async.webhooks.sender import WebhookPush, build_push
from temu_async.webhooks.signature import sign_event
from temu_async.webhooks.subscription import SUBSCRIPTION_TYPE, subscription_params
from temu_async.webhooks.verifier import DEFAULT_TOLERANCE, WebhookVerifier

__all__ = [
    "DEFAULT_TOLERANCE",
    "SUBSCRIPTION_TYPE",
    "AppKeyMismatchError",
    "DecryptionError",
    "EventRegistry",
    "InvalidSignatureError",
    "MalformedDeliveryError",
    "MemoryReplayCache",
    "RawEvent",
    "ReplayCache",
    "ReplayError",
    "StaleTimestampError",
    "WebhookDelivery",
    "WebhookError",
    "WebhookEvent",
    "WebhookPush",
    "WebhookVerifier",
    "build_push",
    "decrypt_event",
    "default_registry",
    "encrypt_event",
    "parse_event",
    "sign_event",
    "subscription_params",
    "webhook_handler",
]
