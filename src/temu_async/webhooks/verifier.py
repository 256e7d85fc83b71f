"""Checking one delivery, in the order that gives an attacker the least.

1. the headers are there and readable;
2. ``x-tm-app-key`` is ours;
3. ``x-tm-timestamp`` is inside the accepted window (not older than Temu's whole retry
   schedule plus a margin, not ahead of the local clock by more than the skew tolerance);
4. the body is ``{"eventData": "<base64>"}``;
5. ``eventData`` decrypts, and 6. the signature matches (these two answer identically, see
   :class:`~temu_async.webhooks.errors.DecryptionError`);
7. only then is the (now authentic) plaintext parsed;
8. :meth:`WebhookVerifier.accept` finally claims the *event* in the replay cache.

Why the window reaches back 30 hours: Temu retries an unacknowledged delivery after 2 min,
10 min, 30 min, 1 h, 1 h, 1 h, 12 h and 12 h (about 28 h in all), and does not document
whether a retry keeps the first ``x-tm-timestamp``. If it does, a receiver that only
accepted fresh stamps would refuse every retry of an event it missed, and the event would
be lost for good. A replay of a captured delivery inside the window is harmless, because a
repeat is recognised by the event itself (:attr:`WebhookDelivery.event_id`), not by its
signature, and is never processed twice.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable, Mapping

import msgspec

from temu_async.webhooks import signature as sig
from temu_async.webhooks.crypto import decrypt_event, secret_key
from temu_async.webhooks.errors import (
    AppKeyMismatchError,
    InvalidSignatureError,
    MalformedDeliveryError,
    ReplayError,
    StaleTimestampError,
)
from temu_async.webhooks.events import (
    EventRegistry,
    WebhookDelivery,
    decode_payload,
    event_identity,
    to_event,
)
from temu_async.webhooks.replay import MemoryReplayCache, ReplayCache

__all__ = ["DEFAULT_MAX_AGE", "DEFAULT_TOLERANCE", "TEMU_RETRY_SCHEDULE", "WebhookVerifier"]

DEFAULT_TOLERANCE = 300.0
"""Seconds a delivery's timestamp may be ahead of the local clock (clock skew)."""

TEMU_RETRY_SCHEDULE: tuple[float, ...] = (120, 600, 1800, 3600, 3600, 3600, 43200, 43200)
"""Temu's documented waits (seconds) before each retry of an unacknowledged delivery."""

DEFAULT_MAX_AGE = 30 * 3600.0
"""Seconds a delivery's timestamp may be behind the local clock: the whole retry schedule
(about 28 h) plus a margin for the skew and for a retry that is itself slow to arrive."""

_MAX_TS_DIGITS = 16  # ms timestamps have 13 digits; refuse absurd lengths before int()


class _Body(msgspec.Struct, rename="camel"):
    event_data: str


_decode_body = msgspec.json.Decoder(_Body).decode


def _shown(value: str, limit: int = 40) -> str:
    """An attacker-supplied value, safe to put in a log line."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _header_bytes(name: str, value: str) -> bytes:
    # aiohttp decodes raw header bytes as UTF-8 with surrogateescape; undo exactly that so the
    # signature is checked over the bytes Temu sent.
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise MalformedDeliveryError(f"header {name} is not valid text") from None


class WebhookVerifier:
    """Verifies, decrypts and parses deliveries for one app.

    ``max_age`` is how far (seconds) a delivery's timestamp may lie in the past (default
    30 h: Temu's retry schedule plus a margin); ``tolerance`` how far it may lie in the
    future (clock skew, default 5 minutes). ``replay_cache`` remembers accepted events for
    that whole horizon; it defaults to a :class:`MemoryReplayCache` of this verifier's own:
    pass a durable one (:class:`SqliteReplayCache`, or ``RedisReplayCache`` when several
    processes receive for the same app) so that a restart forgets nothing. ``registry`` maps event codes to typed Structs (by
    default the generated one). ``clock`` returns unix seconds; it is there for tests.
    """

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        *,
        tolerance: float = DEFAULT_TOLERANCE,
        max_age: float = DEFAULT_MAX_AGE,
        replay_cache: ReplayCache | None = None,
        registry: EventRegistry | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(app_key, str) or not app_key.strip():
            raise ValueError("app_key must be a non-empty string")
        secret_key(app_secret)  # fail now, not on the first delivery, if it cannot be a key
        for name, value in (("tolerance", tolerance), ("max_age", max_age)):
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value <= 0
            ):
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if replay_cache is not None and not isinstance(replay_cache, ReplayCache):
            raise TypeError("replay_cache must have async claim(key, ttl) and release(key)")
        self.app_key = app_key
        self._secret = app_secret
        self.tolerance = float(tolerance)
        self.max_age = float(max_age)
        self.replay_cache: ReplayCache = (
            MemoryReplayCache() if replay_cache is None else replay_cache
        )
        self._registry = registry
        self._clock = clock

    def __repr__(self) -> str:
        return (
            f"WebhookVerifier(app_key={self.app_key!r}, max_age={self.max_age:g}, "
            f"tolerance={self.tolerance:g})"
        )

    @property
    def horizon(self) -> float:
        """Seconds an accepted event must be remembered: any copy older is refused anyway."""
        return self.max_age + self.tolerance

    def verify(self, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
        """Check one delivery and parse it, without touching the replay cache.

        ``headers`` may be any mapping (names are matched case-insensitively). Raises a
        :class:`~temu_async.webhooks.errors.WebhookError` subclass for every refusal.
        """
        h = {str(k).lower(): v for k, v in headers.items()}

        def need(name: str) -> str:
            value = h.get(name)
            if not isinstance(value, str) or not value.strip():
                raise MalformedDeliveryError(f"header {name} is missing or empty")
            return value.strip()

        app_key = need(sig.APP_KEY)
        event_code = need(sig.EVENT_CODE)
        ts_text = need(sig.TIMESTAMP)
        received = need(sig.SIGNATURE)
        ext = h.get(sig.EXT_PARAM)
        ext_param = ext.strip() if isinstance(ext, str) else ""
        signed_headers = {
            sig.APP_KEY: _header_bytes(sig.APP_KEY, app_key),
            sig.EVENT_CODE: _header_bytes(sig.EVENT_CODE, event_code),
            sig.EXT_PARAM: _header_bytes(sig.EXT_PARAM, ext_param),
            sig.TIMESTAMP: _header_bytes(sig.TIMESTAMP, ts_text),
        }

        if not hmac.compare_digest(signed_headers[sig.APP_KEY], self.app_key.encode("utf-8")):
            raise AppKeyMismatchError(
                f"header {sig.APP_KEY} {_shown(app_key)} is not this receiver's app key"
            )

        if not (ts_text.isascii() and ts_text.isdigit() and len(ts_text) <= _MAX_TS_DIGITS):
            raise MalformedDeliveryError(
                f"header {sig.TIMESTAMP} must be unix time in milliseconds, got {_shown(ts_text)}"
            )
        timestamp = int(ts_text)
        skew = timestamp / 1000 - self._clock()
        if skew > self.tolerance:
            raise StaleTimestampError(
                f"header {sig.TIMESTAMP} is {skew:.0f} s ahead of the local clock "
                f"(tolerance {self.tolerance:g} s; it is in milliseconds — check both clocks)"
            )
        if -skew > self.max_age:
            raise StaleTimestampError(
                f"header {sig.TIMESTAMP} is {-skew:.0f} s behind the local clock, older than "
                f"Temu's whole retry schedule (max_age {self.max_age:g} s; it is in "
                "milliseconds — check both clocks)"
            )

        try:
            event_data = _decode_body(body).event_data
        except (msgspec.DecodeError, UnicodeError, RecursionError) as exc:
            # ValidationError is a DecodeError; bad UTF-8 in a string and deep nesting come
            # out of msgspec as Python's own exceptions.
            raise MalformedDeliveryError(
                f'body must be JSON {{"eventData": "<base64>"}} '
                f"({type(exc).__name__}: {str(exc)[:80]})"
            ) from None

        plaintext = decrypt_event(event_data, self._secret)
        signed = {sig.EVENT_DATA: plaintext, **signed_headers}
        if not sig.signature_matches(self._secret, signed, _header_bytes(sig.SIGNATURE, received)):
            raise InvalidSignatureError(
                f"header {sig.SIGNATURE} does not match the delivery "
                f"(event {_shown(event_code)}); wrong app_secret, or the delivery was altered"
            )

        payload = decode_payload(plaintext)
        return WebhookDelivery(
            event_id=event_identity(app_key, event_code, payload),
            app_key=app_key,
            event_code=event_code,
            timestamp=timestamp,
            ext_param=ext_param,
            event=to_event(event_code, payload, self._registry),
            payload=payload,
            delivery_id=hashlib.sha256(received.lower().encode("ascii")).hexdigest()[:32],
        )

    async def accept(self, headers: Mapping[str, str], body: bytes) -> WebhookDelivery:
        """:meth:`verify`, then claim the event in the replay cache (:class:`ReplayError`
        if it was accepted before, whatever its timestamp and signature). Call
        :meth:`release` if processing it then fails."""
        delivery = self.verify(headers, body)
        await self.claim(delivery)
        return delivery

    async def claim(self, delivery: WebhookDelivery) -> None:
        """Remember the event for the whole horizon; :class:`ReplayError` if it was already."""
        if not await self.replay_cache.claim(delivery.event_id, self.horizon):
            raise ReplayError(
                f"event {_shown(delivery.event_code)} was already accepted "
                f"(event id {delivery.event_id})"
            )

    async def release(self, delivery: WebhookDelivery) -> None:
        """Forget an accepted event so that Temu's retry of it is accepted again."""
        await self.replay_cache.release(delivery.event_id)
