"""Turning a verified, decrypted payload into an event object.

Typed event Structs are generated from ``spec/events.yaml`` into
``temu_async._generated.events.EVENTS`` (event code -> Struct). Any event without a Struct
(new, undocumented, or a payload whose shape no longer matches the docs) becomes a
:class:`RawEvent`: an authentic delivery is never refused for its shape, because a refusal
makes Temu retry a message we would refuse every time, and then drop it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import logging
from collections.abc import Mapping
from typing import Any

import msgspec

from temu_async.webhooks.errors import MalformedDeliveryError

__all__ = [
    "EventRegistry",
    "RawEvent",
    "WebhookDelivery",
    "WebhookEvent",
    "default_registry",
    "event_identity",
    "parse_event",
]

log = logging.getLogger("temu_async.webhooks")

EventRegistry = Mapping[str, type[msgspec.Struct]]
"""Event code -> the Struct its payload decodes into."""

_GENERATED = "temu_async._generated.events"


class RawEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event with no typed model (or whose payload did not fit it), as plain data."""

    code: str
    """The event code (``x-tm-event-code``)."""
    data: dict[str, Any]
    """The decrypted payload, camelCase keys as Temu sent them."""
    mismatch: str | None = None
    """Why the typed model refused the payload, when there is one; None for unknown events."""


WebhookEvent = msgspec.Struct | RawEvent
"""A generated event Struct, or a :class:`RawEvent`."""


class WebhookDelivery(msgspec.Struct, frozen=True, kw_only=True):
    """One verified webhook delivery."""

    app_key: str
    event_code: str
    timestamp: int
    """When Temu sent it: unix time in milliseconds (``x-tm-timestamp``)."""
    ext_param: str
    """``x-tm-ext-param`` as received (Temu sends a JSON text, usually ``{}``); "" if absent."""
    event: WebhookEvent
    """The payload as a typed event Struct, or a :class:`RawEvent`."""
    payload: dict[str, Any]
    """The decrypted payload as plain data (also there when ``event`` is typed)."""
    delivery_id: str
    """A digest of the delivery's signature: equal for a byte-identical redelivery only
    (a retry stamped anew has another). Not the signature itself."""
    event_id: str
    """The event's identity: a digest of the app key, the event code and the decrypted
    payload. Equal for every delivery of one event (retries keep the payload whether or
    not they keep the timestamp), different for a later event of the same order (its
    status or update time differs). The key to deduplicate on and to make callbacks
    idempotent with."""


def event_identity(app_key: str, event_code: str, payload: Mapping[str, Any]) -> str:
    """The identity of one event: equal for every delivery of it, whatever its timestamp.

    The payload is hashed in a canonical form (sorted keys, compact JSON), so a retry that
    re-encodes the same fields in another order is still the same event.
    """
    digest = hashlib.sha256()
    for part in (
        app_key.encode(),
        event_code.encode(),
        msgspec.json.encode(payload, order="sorted"),
    ):
        # Length-prefixed, so ("ab", "c") and ("a", "bc") cannot collide.
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()[:40]


@functools.lru_cache(maxsize=1)
def default_registry() -> EventRegistry:
    """The generated ``EVENTS`` registry, or an empty one if it has not been generated yet."""
    try:
        module = importlib.import_module(_GENERATED)
    except ModuleNotFoundError as exc:
        # Only the module's own absence means "not generated"; a missing import *inside* a
        # generated module is a bug that must surface.
        if exc.name not in (_GENERATED, _GENERATED.rpartition(".")[0]):
            raise
        return {}
    events: EventRegistry = module.EVENTS
    return events


def decode_payload(plaintext: bytes | str) -> dict[str, Any]:
    """The decrypted text as a JSON object, or :class:`MalformedDeliveryError`."""
    try:
        data = msgspec.json.decode(plaintext)
    except (msgspec.DecodeError, UnicodeError, RecursionError) as exc:
        # msgspec reports bad UTF-8 inside strings and very deep nesting with Python's own
        # exception types, not DecodeError.
        raise MalformedDeliveryError(
            f"decrypted eventData is not valid JSON: {type(exc).__name__}: {str(exc)[:80]}"
        ) from None
    if not isinstance(data, dict):
        raise MalformedDeliveryError(
            f"decrypted eventData is a JSON {type(data).__name__}, expected an object"
        )
    return data


def to_event(
    code: str, payload: dict[str, Any], registry: EventRegistry | None = None
) -> WebhookEvent:
    """Build the event object for an already decoded payload (never raises on its shape)."""
    reg = default_registry() if registry is None else registry
    model = reg.get(code)
    if model is None:
        return RawEvent(code=code, data=payload)
    try:
        # strict=False: accept "123" for an integer field and the like; Temu is not always
        # consistent about numbers, and the payload is authentic at this point.
        event: msgspec.Struct = msgspec.convert(payload, model, strict=False)
    except (msgspec.ValidationError, RecursionError) as exc:
        log.warning(
            "webhook %s: payload does not fit %s (%s); passing it on raw", code, model.__name__, exc
        )
        return RawEvent(code=code, data=payload, mismatch=str(exc))
    return event


def parse_event(
    code: str, plaintext: bytes | str, registry: EventRegistry | None = None
) -> WebhookEvent:
    """Parse a decrypted payload into the event for ``code``.

    ``registry`` maps event codes to Structs; by default the generated one (empty until
    ``make generate`` has written it). Raises :class:`MalformedDeliveryError` only when the
    text is not a JSON object; an unknown code or an unexpected shape gives a :class:`RawEvent`.
    """
    return to_event(code, decode_payload(plaintext), registry)
