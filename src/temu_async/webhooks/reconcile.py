"""Webhooks and polling together: an order event syncs its shop, a periodic poll the rest.

Temu's webhook guide says not to rely on webhooks alone: an event can be lost (a receiver
down past the last retry, a subscription gap), and some changes send none. So the events are
used as a *hint*: an order event schedules an incremental :class:`OrderSync` of its shop a
little later (``debounce`` seconds, so a burst of events for one shop costs one sync), and
every ``poll_every`` seconds all shops are synced anyway. The store ends up right either
way; the webhooks only make it right sooner.

::

    reconciler = OrderReconciler({mall_id: shop, ...}, store)
    receiver = WebhookReceiver(APP_KEY, APP_SECRET, reconciler.on_event, db="hooks.sqlite")
    asyncio.create_task(reconciler.run())
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import replace

from temu_async.client import ShopClient
from temu_async.sync.orders import OrderSync, OrderSyncOptions
from temu_async.sync.progress import SyncSummary
from temu_async.sync.records import OrderSink
from temu_async.webhooks.inbox import InboxEvent

__all__ = ["OrderReconciler"]

log = logging.getLogger("temu_async.webhooks")


def _positive(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be finite seconds >= 0, got {value!r}")
    return float(value)


class OrderReconciler:
    """Keeps ``store`` current for ``shops`` (keyed by their ``mallId``) from events and polls.

    ``clock`` (unix seconds, default the gateway's time as the app knows it) ends each sync;
    it is there for tests on a sandbox whose clock is moved by hand.
    """

    def __init__(
        self,
        shops: Mapping[int, ShopClient],
        store: OrderSink,
        *,
        options: OrderSyncOptions | None = None,
        debounce: float = 30.0,
        poll_every: float = 900.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if not shops:
            raise ValueError("shops: give at least one {mallId: shop}")
        self.debounce = _positive("debounce", debounce)
        self.poll_every = _positive("poll_every", poll_every)
        if self.poll_every == 0:
            raise ValueError("poll_every must be > 0 seconds")
        self.store = store
        self.options = options or OrderSyncOptions()
        self._clock = clock
        self._shops = {int(mall): shop for mall, shop in shops.items()}
        # One sync at a time: a store is written from one thread (each OrderSync has its
        # own writer), and a poll already covers the shops an event names.
        self._lock = asyncio.Lock()
        self._pending: dict[str, ShopClient] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self.syncs = 0
        self.events_seen = 0
        self.summaries: list[SyncSummary] = []

    def __repr__(self) -> str:
        return f"OrderReconciler(shops={len(self._shops)}, syncs={self.syncs})"

    # ---- events -------------------------------------------------------------------------
    async def on_event(self, event: InboxEvent) -> None:
        """A WebhookReceiver callback: an event about an order schedules its shop's sync."""
        payload = event.delivery.payload
        if "parentOrderSn" not in payload:
            return
        mall = payload.get("mallId")
        shop = self._shops.get(mall) if isinstance(mall, int) else None
        if shop is None:
            log.info(
                "webhook %s: mallId %r is none of the reconciled shops; ignored",
                event.delivery.event_code,
                mall,
            )
            return
        self.events_seen += 1
        self._pending[shop.name] = shop
        if self._timer is None and (self._task is None or self._task.done()):
            # The first event of a burst starts the clock; the rest join the same sync.
            self._timer = asyncio.get_running_loop().call_later(self.debounce, self._start)

    def _start(self) -> None:
        self._timer = None
        self._task = asyncio.get_running_loop().create_task(self._sync_pending())

    async def _sync_pending(self) -> None:
        # Events that come while a sync runs are picked up by the next round.
        while self._pending:
            shops, self._pending = list(self._pending.values()), {}
            await self._sync(shops)

    async def _sync(self, shops: list[ShopClient]) -> None:
        async with self._lock:
            options = self.options
            if self._clock is not None:
                options = replace(options, until=int(self._clock()) - options.settle)
            summary = await OrderSync(shops, self.store, options).run()
            self.syncs += 1
            self.summaries.append(summary)
            if not summary.ok:
                log.warning("reconcile: a sync did not finish every shop: %s", summary.errors)

    async def poll(self) -> None:
        """Sync every shop now (what the periodic poll does)."""
        await self._sync(list(self._shops.values()))

    async def settle(self) -> None:
        """Wait until no event-triggered sync is scheduled or running."""
        while self._timer is not None or (self._task is not None and not self._task.done()):
            if self._task is not None and not self._task.done():
                await asyncio.gather(self._task, return_exceptions=True)
            else:
                await asyncio.sleep(min(0.05, self.debounce or 0.05))

    async def run(self) -> None:
        """Poll every ``poll_every`` seconds until cancelled (events are handled meanwhile)."""
        try:
            while True:
                await self.poll()
                await asyncio.sleep(self.poll_every)
        finally:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._task is not None:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
