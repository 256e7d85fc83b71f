"""Receiving Temu webhooks: verify, decrypt, parse, store durably, process at least once.

Needs the ``webhooks`` extra (``cryptography``, for AES) once a delivery is decrypted. The
receiver that loses nothing over Temu's 28-hour retry schedule::

    from temu_async.webhooks import WebhookReceiver

    async def on_event(event):            # an InboxEvent; event.event_id is stable
        await handle(event.delivery.event)

    receiver = WebhookReceiver(APP_KEY, APP_SECRET, on_event, db="webhooks.sqlite")
    app.router.add_post("/temu/webhook", receiver.handler)
    app.cleanup_ctx.append(receiver.cleanup_ctx)

:func:`webhook_handler` runs a callback inline instead (it must answer within 500 ms);
:class:`WebhookVerifier` is the checks without aiohttp. :func:`build_push`,
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
    event_identity,
    parse_event,
)
from temu_async.webhooks.handler import webhook_handler
from temu_async.webhooks.inbox import InboxEvent, WebhookInbox
from temu_async.webhooks.processor import WebhookProcessor
from temu_async.webhooks.receiver import WebhookReceiver
from temu_async.webhooks.redis_replay import RedisReplayCache
from temu_async.webhooks.replay import MemoryReplayCache, ReplayCache, SqliteReplayCache
from temu_async.webhooks.sender import WebhookPush, build_push
from temu_async.webhooks.signature import sign_event
from temu_async.webhooks.subscription import SUBSCRIPTION_TYPE, subscription_params
from temu_async.webhooks.verifier import (
    DEFAULT_MAX_AGE,
    DEFAULT_TOLERANCE,
    TEMU_RETRY_SCHEDULE,
    WebhookVerifier,
)

__all__ = [
    "DEFAULT_MAX_AGE",
    "DEFAULT_TOLERANCE",
    "SUBSCRIPTION_TYPE",
    "TEMU_RETRY_SCHEDULE",
    "AppKeyMismatchError",
    "DecryptionError",
    "EventRegistry",
    "InboxEvent",
    "InvalidSignatureError",
    "MalformedDeliveryError",
    "MemoryReplayCache",
    "RawEvent",
    "RedisReplayCache",
    "ReplayCache",
    "ReplayError",
    "SqliteReplayCache",
    "StaleTimestampError",
    "WebhookDelivery",
    "WebhookError",
    "WebhookEvent",
    "WebhookInbox",
    "WebhookProcessor",
    "WebhookPush",
    "WebhookReceiver",
    "WebhookVerifier",
    "build_push",
    "decrypt_event",
    "default_registry",
    "encrypt_event",
    "event_identity",
    "parse_event",
    "sign_event",
    "subscription_params",
    "webhook_handler",
]
