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
from dataclasses import dataclass, replace

from temu_async.client import ShopClient
from temu_async.sync.orders import OrderSync, OrderSyncOptions
from temu_async.sync.progress import SyncSummary
from temu_async.sync.records import OrderSink
from temu_async.webhooks.inbox import InboxEvent

__all__ = ["OrderReconciler"]

log = logging.getLogger("temu_async.webhooks")


@dataclass
class _ShopState:
    shop: ShopClient
    lock: asyncio.Lock
    timer: asyncio.TimerHandle | None = None
    task: asyncio.Task[None] | None = None
    again: bool = False


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
        self._shops = {int(mall): _ShopState(shop, asyncio.Lock()) for mall, shop in shops.items()}
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
        state = self._shops.get(mall) if isinstance(mall, int) else None
        if state is None:
            log.info(
                "webhook %s: mallId %r is none of the reconciled shops; ignored",
                event.delivery.event_code,
                mall,
            )
            return
        self.events_seen += 1
        self._schedule(state)

    def _schedule(self, state: _ShopState) -> None:
        if state.timer is not None:
            return  # a sync is already coming: this event joins it
        if state.task is not None and not state.task.done():
            state.again = True  # the running sync may have missed it: one more afterwards
            return
        loop = asyncio.get_running_loop()
        state.timer = loop.call_later(self.debounce, self._start, state)

    def _start(self, state: _ShopState) -> None:
        state.timer = None
        state.task = asyncio.get_running_loop().create_task(self._sync_after_events(state))

    async def _sync_after_events(self, state: _ShopState) -> None:
        while True:
            state.again = False
            await self._sync(state)
            if not state.again:
                return

    # ---- syncing ------------------------------------------------------------------------
    async def _sync(self, state: _ShopState) -> None:
        async with state.lock:  # never two syncs of one shop at once (poll and event)
            options = self.options
            if self._clock is not None:
                options = replace(options, until=int(self._clock()) - options.settle)
            summary = await OrderSync([state.shop], self.store, options).run()
            self.syncs += 1
            self.summaries.append(summary)
            if not summary.ok:
                log.warning("reconcile: sync of shop %s failed: %s", state.shop.name, summary)

    async def poll(self) -> None:
        """Sync every shop now (what the periodic poll does)."""
        await asyncio.gather(*(self._sync(state) for state in self._shops.values()))

    async def settle(self) -> None:
        """Wait until no event-triggered sync is scheduled or running."""
        while True:
            busy = [s for s in self._shops.values() if s.timer is not None]
            tasks = [
                s.task for s in self._shops.values() if s.task is not None and not s.task.done()
            ]
            if not busy and not tasks:
                return
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            else:
                await asyncio.sleep(min(0.05, self.debounce or 0.05))

    async def run(self) -> None:
        """Poll every ``poll_every`` seconds until cancelled (events are handled meanwhile)."""
        try:
            while True:
                await self.poll()
                await asyncio.sleep(self.poll_every)
        finally:
            for state in self._shops.values():
                if state.timer is not None:
                    state.timer.cancel()
                    state.timer = None
                if state.task is not None:
                    state.task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await state.task
