"""Event hooks: what happened to each API call, as typed events, for whoever subscribes.

``app.add_hook(callback)`` registers a plain function that receives every event of
every call the app makes, in order, in the calling task::

    def on_event(event: temu_async.events.Event) -> None:
        if isinstance(event, RetryScheduled):
            log.info("%s retry in %.1f s (%s)", event.api_type, event.delay, event.code)

    app.add_hook(on_event)

A call yields ``CallStarted``, then per attempt ``ThrottleWaited`` (only when it had
to wait), ``RequestSent`` and ``ResponseReceived``, a ``RetryScheduled`` before each
attempt after the first, and one ``CallFinished`` whatever the outcome (also for a
call refused before sending, or cancelled). ``call_id`` ties the events of one call
together when calls interleave.

Events carry names, codes, counts and timings, never a credential: no token, secret,
signature or body. Hooks are synchronous and should be quick (they run inside the
call); one that raises is logged and does not disturb the call. With no hook
registered the pipeline builds no event at all (one ``is None`` test per step).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, TypeAlias

import msgspec

from temu_async.errors import OutcomeUnknown, TemuError

if TYPE_CHECKING:
    from temu_async.transport import Answer

__all__ = [
    "CallFinished",
    "CallStarted",
    "CallWatch",
    "Event",
    "Hook",
    "Hooks",
    "RequestSent",
    "ResponseReceived",
    "RetryScheduled",
    "ThrottleWaited",
]

log = logging.getLogger("temu_async")

SUCCESS = 1000000


class CallStarted(msgspec.Struct, frozen=True, gc=False):
    """A call entered the pipeline (before its params are checked)."""

    call_id: int
    api_type: str
    shop: str
    started_at: float
    """Unix seconds."""


class ThrottleWaited(msgspec.Struct, frozen=True, gc=False):
    """An attempt waited for a rate slot (the app's or the type's budget was spent)."""

    call_id: int
    api_type: str
    shop: str
    attempt: int
    """1 for the first attempt."""
    waited: float
    """Seconds."""


class RequestSent(msgspec.Struct, frozen=True, gc=False):
    """An attempt's signed body is being posted."""

    call_id: int
    api_type: str
    shop: str
    attempt: int
    body_bytes: int


class ResponseReceived(msgspec.Struct, frozen=True, gc=False):
    """An attempt ended: an answer (any code), or no answer (``status`` 0, ``error`` set)."""

    call_id: int
    api_type: str
    shop: str
    attempt: int
    status: int
    """HTTP status; 0 when nothing came back (refused, dropped, timed out)."""
    code: int | None
    """Temu's ``errorCode`` (1000000 on success); None without an envelope."""
    request_id: str | None
    error: str | None
    """The exception class the attempt ended in, None on success."""
    elapsed: float
    """Seconds from sending to the answer (or the failure)."""


class RetryScheduled(msgspec.Struct, frozen=True, gc=False):
    """The attempt failed and the call goes on: after ``delay``, as attempt ``attempt + 1``."""

    call_id: int
    api_type: str
    shop: str
    attempt: int
    """The attempt that failed."""
    code: int | None
    error: str
    delay: float
    """Seconds before the next attempt (0 when the clock was resynced and it re-signs)."""
    reason: Literal["retry", "clock"]
    """``clock``: the gateway refused the timestamp and the clock offset was corrected."""


class CallFinished(msgspec.Struct, frozen=True, gc=False):
    """The call is over: its result was returned, or an exception raised."""

    call_id: int
    api_type: str
    shop: str
    outcome: Literal["ok", "error", "unknown", "cancelled"]
    """``unknown``: OutcomeUnknown, a write that may have run and was not repeated."""
    code: int | None
    """The last code the gateway answered (1000000 on success)."""
    error: str | None
    """The exception class raised, None on success."""
    request_id: str | None
    """The last answer's request id (quote it to Temu's support)."""
    attempts: int
    """Requests sent (0 when refused before sending)."""
    retries: int
    """Attempts after a failure (a re-sign after a clock resync is not counted)."""
    throttle_wait: float
    """Seconds spent waiting for rate slots, over all attempts."""
    duration: float
    """Seconds from CallStarted to now."""
    started_at: float
    """Unix seconds, as in CallStarted."""


Event: TypeAlias = (
    CallStarted | ThrottleWaited | RequestSent | ResponseReceived | RetryScheduled | CallFinished
)
Hook = Callable[[Event], None]


class _RequestIdOnly(msgspec.Struct):
    requestId: str | None = None  # the wire name


# Reads only the request id of a successful answer; the pipeline's decoder keeps
# just the result, and a hook wants the id without a second full decode.
_request_id = msgspec.json.Decoder(_RequestIdOnly)


def _request_id_of(body: bytes) -> str | None:
    try:
        return _request_id.decode(body).requestId
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


# Call ids are unique in the process, so events of several apps can share one sink.
_call_ids = itertools.count(1)


class Hooks:
    """The hooks of one app (an immutable set: adding one builds a new Hooks)."""

    __slots__ = ("_broken", "callbacks")

    def __init__(self, callbacks: tuple[Hook, ...]) -> None:
        self.callbacks = callbacks
        self._broken: set[int] = set()

    def emit(self, event: Event) -> None:
        for callback in self.callbacks:
            try:
                callback(event)
            except Exception:
                # Once with the traceback, then quietly: a broken hook must not flood
                # the log any more than it may break the call.
                key = id(callback)
                if key in self._broken:
                    log.debug("event hook %r failed again", callback)
                else:
                    self._broken.add(key)
                    log.exception("event hook %r failed (later failures logged at DEBUG)", callback)

    def watch(self, api_type: str, shop: str) -> CallWatch:
        return CallWatch(self, next(_call_ids), api_type, shop)


class CallWatch:
    """Turns one call's steps into events (built only when the app has a hook)."""

    __slots__ = (
        "api_type",
        "attempt",
        "call_id",
        "code",
        "hooks",
        "request_id",
        "retries",
        "sent_at",
        "shop",
        "started",
        "started_at",
        "throttle_wait",
    )

    def __init__(self, hooks: Hooks, call_id: int, api_type: str, shop: str) -> None:
        self.hooks = hooks
        self.call_id = call_id
        self.api_type = api_type
        self.shop = shop
        self.attempt = 0
        self.retries = 0
        self.code: int | None = None
        self.request_id: str | None = None
        self.throttle_wait = 0.0
        self.sent_at = 0.0
        self.started = time.monotonic()
        self.started_at = time.time()
        hooks.emit(CallStarted(call_id, api_type, shop, self.started_at))

    def sending(self, waited: float, body_bytes: int) -> None:
        self.attempt += 1
        if waited > 0.0:
            self.throttle_wait += waited
            self.hooks.emit(
                ThrottleWaited(self.call_id, self.api_type, self.shop, self.attempt, waited)
            )
        self.hooks.emit(
            RequestSent(self.call_id, self.api_type, self.shop, self.attempt, body_bytes)
        )
        self.sent_at = time.monotonic()

    def answered(self, answer: Answer) -> None:
        """A successful answer."""
        self.code = SUCCESS
        self.request_id = _request_id_of(answer.body)
        self.hooks.emit(
            ResponseReceived(
                self.call_id,
                self.api_type,
                self.shop,
                self.attempt,
                answer.status,
                SUCCESS,
                self.request_id,
                None,
                time.monotonic() - self.sent_at,
            )
        )

    def failed_attempt(self, error: TemuError, answer: Answer | None) -> None:
        self.code = error.code
        if error.request_id is not None:
            self.request_id = error.request_id
        self.hooks.emit(
            ResponseReceived(
                self.call_id,
                self.api_type,
                self.shop,
                self.attempt,
                answer.status if answer is not None else 0,
                error.code,
                error.request_id,
                type(error).__name__,
                time.monotonic() - self.sent_at,
            )
        )

    def retrying(self, error: TemuError, delay: float, reason: Literal["retry", "clock"]) -> None:
        if reason == "retry":
            self.retries += 1
        self.hooks.emit(
            RetryScheduled(
                self.call_id,
                self.api_type,
                self.shop,
                self.attempt,
                error.code,
                type(error).__name__,
                delay,
                reason,
            )
        )

    def finished(self, exc: BaseException | None) -> None:
        outcome: Literal["ok", "error", "unknown", "cancelled"] = "ok"
        code = self.code
        if exc is not None:
            if isinstance(exc, OutcomeUnknown):
                outcome = "unknown"
            elif isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt, SystemExit)):
                outcome = "cancelled"
            else:
                outcome = "error"
            if isinstance(exc, TemuError) and exc.code is not None:
                code = exc.code
        self.hooks.emit(
            CallFinished(
                self.call_id,
                self.api_type,
                self.shop,
                outcome,
                code,
                None if exc is None else type(exc).__name__,
                self.request_id,
                self.attempt,
                self.retries,
                self.throttle_wait,
                time.monotonic() - self.started,
                self.started_at,
            )
        )
