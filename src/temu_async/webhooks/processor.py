"""Running the callback for stored events: at least once, with retries and dead letters.

The receiver only verifies, stores and acknowledges (Temu's 500 ms budget); this is where
the work happens. Each due event is leased from the :class:`WebhookInbox`, handed to the
callback as an :class:`InboxEvent` (carrying ``event_id``, so the callback can make its
effect idempotent), and then marked done — or due again after the next of
``retry_delays``, or dead once they are used up. A process that dies mid-callback leaves
the lease to run out, after which the event is run again: at least once, never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence

from temu_async.webhooks.inbox import InboxEvent, WebhookInbox

__all__ = ["DEFAULT_RETRY_DELAYS", "OnStoredEvent", "WebhookProcessor"]

log = logging.getLogger("temu_async.webhooks")

OnStoredEvent = Callable[[InboxEvent], Awaitable[None]]

DEFAULT_RETRY_DELAYS: tuple[float, ...] = (5, 30, 120, 600, 1800, 3600)
"""Seconds before each retry of a failing callback: 7 runs over about 1.7 hours, then dead."""


def _seconds(name: str, value: object, *, zero: bool = False) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
        or (value == 0 and not zero)
    ):
        rule = ">= 0" if zero else "> 0"
        raise ValueError(f"{name} must be finite seconds {rule}, got {value!r}")
    return float(value)


class WebhookProcessor:
    """Runs ``on_event`` for the inbox's due events.

    ``concurrency`` callbacks run at once; ``lease`` is how long one may take before another
    processor may assume it died and run the event again. ``clock`` (unix seconds) must be
    the inbox's clock.
    """

    def __init__(
        self,
        inbox: WebhookInbox,
        on_event: OnStoredEvent,
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        lease: float = 300.0,
        concurrency: int = 4,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not callable(on_event):
            raise TypeError("on_event must be an async function taking an InboxEvent")
        if isinstance(retry_delays, (str, bytes)):
            raise ValueError("retry_delays must be a sequence of seconds")
        self.retry_delays = tuple(_seconds("retry_delays", d, zero=True) for d in retry_delays)
        self.lease = _seconds("lease", lease)
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be an integer >= 1, got {concurrency!r}")
        self.inbox = inbox
        self.on_event = on_event
        self.concurrency = concurrency
        self._clock = clock
        self._wake = asyncio.Event()
        self.processed = 0
        self.failed = 0
        self.dead = 0

    def __repr__(self) -> str:
        return (
            f"WebhookProcessor(processed={self.processed}, failed={self.failed}, dead={self.dead})"
        )

    def wake(self) -> None:
        """Look for due events now (the receiver calls this after storing one)."""
        self._wake.set()

    async def run_once(self) -> int:
        """Run every event due now (in batches of ``concurrency``); how many ran."""
        ran = 0
        while True:
            batch = self.inbox.lease_due(self.concurrency, self.lease)
            if not batch:
                return ran
            await asyncio.gather(*(self._run(event) for event in batch))
            ran += len(batch)

    async def run(self, *, poll_interval: float = 1.0) -> None:
        """Process until cancelled: on :meth:`wake`, when a retry comes due, and every
        ``poll_interval`` seconds (for events another process stored)."""
        poll = _seconds("poll_interval", poll_interval)
        while True:
            self._wake.clear()
            await self.run_once()
            due = self.inbox.next_due()
            wait = poll if due is None else min(poll, max(0.0, due - self._clock()))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _run(self, event: InboxEvent) -> None:
        try:
            await self.on_event(event)
        except asyncio.CancelledError:
            # Stopping mid-callback: the lease runs out and the event is run again later.
            raise
        except Exception as exc:
            self.failed += 1
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
            if event.attempts > len(self.retry_delays):
                self.dead += 1
                log.error(
                    "webhook event %s (%s) failed %d times; kept as a dead letter: %s",
                    event.event_id,
                    event.delivery.event_code,
                    event.attempts,
                    error,
                )
                self.inbox.mark_failed(event.event_id, error, None)
            else:
                delay = self.retry_delays[event.attempts - 1]
                log.warning(
                    "webhook event %s (%s): callback failed (%s); run %d again in %g s",
                    event.event_id,
                    event.delivery.event_code,
                    error,
                    event.attempts + 1,
                    delay,
                )
                self.inbox.mark_failed(event.event_id, error, self._clock() + delay)
            return
        self.processed += 1
        self.inbox.mark_done(event.event_id)
