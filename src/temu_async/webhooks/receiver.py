"""A webhook receiver that loses nothing: verify, store, acknowledge; process afterwards.

::

    receiver = WebhookReceiver(APP_KEY, APP_SECRET, on_event, db="webhooks.sqlite")
    app.router.add_post("/temu/webhook", receiver.handler)
    app.cleanup_ctx.append(receiver.cleanup_ctx)   # runs the processor with the app

The handler answers within a few milliseconds: it verifies the delivery, claims the event
in the replay cache (durable: the same SQLite file by default, Redis for several receivers)
and stores it in the inbox, then answers 200. The processor runs ``on_event`` afterwards,
at least once, retrying failures and keeping the ones that keep failing as dead letters.

Answers: 200 for a stored event and for any repeat of one (a repeat is never stored or run
again); 4xx for a refusal (bad signature, unknown app key, older than the horizon,
malformed); 500 when the event could not be stored, so that Temu sends it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from temu_async.webhooks.errors import ReplayError, WebhookError
from temu_async.webhooks.events import EventRegistry
from temu_async.webhooks.inbox import WebhookInbox
from temu_async.webhooks.processor import DEFAULT_RETRY_DELAYS, OnStoredEvent, WebhookProcessor
from temu_async.webhooks.replay import ReplayCache, SqliteReplayCache
from temu_async.webhooks.verifier import DEFAULT_MAX_AGE, DEFAULT_TOLERANCE, WebhookVerifier

__all__ = ["WebhookReceiver"]

log = logging.getLogger("temu_async.webhooks")

_ACK = b'{"result":{}}'


class WebhookReceiver:
    """The durable receiver for one app: an aiohttp handler plus the processor behind it."""

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        on_event: OnStoredEvent,
        *,
        db: str | Path = "webhooks.sqlite",
        replay_cache: ReplayCache | None = None,
        max_age: float = DEFAULT_MAX_AGE,
        tolerance: float = DEFAULT_TOLERANCE,
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        concurrency: int = 4,
        registry: EventRegistry | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.inbox = WebhookInbox(db, registry=registry, clock=clock)
        # The same file remembers accepted events unless a shared cache is given.
        self._own_cache = replay_cache is None
        cache = SqliteReplayCache(db, clock=clock) if replay_cache is None else replay_cache
        self.verifier = WebhookVerifier(
            app_key,
            app_secret,
            max_age=max_age,
            tolerance=tolerance,
            replay_cache=cache,
            registry=registry,
            clock=clock,
        )
        self.processor = WebhookProcessor(
            self.inbox,
            on_event,
            retry_delays=retry_delays,
            concurrency=concurrency,
            clock=clock,
        )
        self.received = 0
        self.repeats = 0
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"WebhookReceiver(app_key={self.verifier.app_key!r}, db={self.inbox.path!r})"

    async def handler(self, request: web.Request) -> web.StreamResponse:
        """The aiohttp handler: POST deliveries here."""
        body = await request.read()
        try:
            delivery = self.verifier.verify(request.headers, body)
            await self.verifier.claim(delivery)
        except ReplayError:
            self.repeats += 1
            log.info("webhook: an event already received came again; acknowledged, not re-run")
            return web.Response(status=200, body=_ACK, content_type="application/json")
        except WebhookError as exc:
            log.warning("webhook refused (%s): %s", type(exc).__name__, exc)
            return web.Response(status=exc.status, text=exc.reason)
        try:
            stored = self.inbox.add(delivery)
        except Exception:
            # Not stored, so not received: let Temu's retry of it through.
            await self.verifier.release(delivery)
            log.exception("webhook %s: could not store the event; answering 500", delivery.event_id)
            return web.Response(status=500, text="could not store the event")
        if stored:
            self.received += 1
            self.processor.wake()
        else:
            self.repeats += 1
        return web.Response(status=200, body=_ACK, content_type="application/json")

    async def start(self, *, poll_interval: float = 1.0) -> None:
        """Start the processor in the background (idempotent)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(
                self.processor.run(poll_interval=poll_interval), name="temu-webhook-processor"
            )

    async def stop(self) -> None:
        """Stop the processor; an event whose callback was cut short runs again later."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        await self.stop()
        self.inbox.close()
        cache = self.verifier.replay_cache
        if self._own_cache and isinstance(cache, SqliteReplayCache):
            cache.close()

    async def cleanup_ctx(self, app: web.Application) -> AsyncIterator[None]:
        """For ``app.cleanup_ctx``: the processor runs while the aiohttp app does."""
        await self.start()
        yield
        await self.close()
