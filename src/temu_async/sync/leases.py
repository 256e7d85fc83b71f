"""Many workers, one set of shops: each shop synced by exactly one worker at a time.

Start the same order sync in several processes or on several hosts against one
:class:`~temu_async.sync.postgres_store.PostgresStore` (and, to share the app's rate
budget, one Redis through :class:`~temu_async.redis_throttle.RedisWindow`). Each worker
leases the shops it syncs in the database (``lease`` seconds, renewed while it works, on
the database's clock) and skips the ones another worker holds or already brought up to
date. A worker that dies stops renewing; once its leases run out another worker takes the
shops over and resumes them from their checkpoints. Commits are fenced by the lease
(:meth:`PostgresStore.fence`), so a worker that stalled past its lease cannot write over
the one that took over.

::

    async with TemuApp(key, secret, throttle_backend=RedisWindow(redis_url)) as app:
        shops = [app.shop(token, name=name) for name, token in tokens.items()]
        with PostgresStore("postgresql://…") as store:
            summary = await LeasedOrderSync(shops, store).run()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import replace

from temu_async.client import ShopClient
from temu_async.options import check_seconds
from temu_async.sync.orders import OrderSync, OrderSyncOptions
from temu_async.sync.postgres_store import PostgresStore
from temu_async.sync.price_csv import PriceChange
from temu_async.sync.price_push import PushResult, push_prices
from temu_async.sync.progress import Progress, SyncSummary

__all__ = ["LeasedOrderSync", "default_worker_id", "hold_lease", "push_prices_leased"]

log = logging.getLogger("temu_async.sync")


def default_worker_id() -> str:
    """host:pid:random — unique across hosts and restarts, readable in the lease table."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class LeasedOrderSync:
    """An order sync that shares its shops with the other workers of the same store.

    Every shop is brought up to this run's end (``now - settle``) by some worker: this one
    syncs those it can lease, at most ``max_shops`` at once, and waits for the rest until
    they are fresh (``fresh_within`` seconds of the end, as another worker left them) or
    their lease runs out (their worker died) and it can take them itself.
    """

    def __init__(
        self,
        shops: Sequence[ShopClient],
        store: PostgresStore,
        options: OrderSyncOptions | None = None,
        *,
        worker_id: str | None = None,
        lease: float = 30.0,
        max_shops: int | None = None,
        fresh_within: float = 120.0,
        poll: float = 0.1,
        progress: Progress | None = None,
    ) -> None:
        if not shops:
            raise ValueError("shops: give at least one shop")
        self.shops = list(shops)
        self.store = store
        self.options = options or OrderSyncOptions()
        self.worker_id = worker_id or default_worker_id()
        self.lease = check_seconds("lease", lease)
        self.fresh_within = check_seconds("fresh_within", fresh_within)
        self.poll = check_seconds("poll", poll)
        if max_shops is not None and (isinstance(max_shops, bool) or max_shops < 1):
            raise ValueError(f"max_shops must be >= 1, got {max_shops!r}")
        self.max_shops = max_shops or len(self.shops)
        self.app = self.shops[0].app
        self.progress = progress or Progress("orders", self.app.throttle)
        self.synced: list[str] = []
        """Shops this worker synced (in the order it finished them)."""

    def __repr__(self) -> str:
        return f"LeasedOrderSync(worker={self.worker_id!r}, shops={len(self.shops)})"

    async def run(self) -> SyncSummary:
        """Sync until every shop is fresh; a shop that fails here is reported, not retried."""
        end = int(self.app.server_time()) - self.options.settle
        options = replace(self.options, until=end)
        pending = {shop.name: shop for shop in self.shops}
        for name in pending:
            self.progress.shop(name)
        running: dict[asyncio.Task[bool], ShopClient] = {}
        try:
            while pending or running:
                await self._lease_more(pending, running, options, end)
                if not running:
                    await asyncio.sleep(self.poll)  # the rest are held by other workers
                    continue
                done, _ = await asyncio.wait(
                    running, timeout=self.poll, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    shop = running.pop(task)
                    if not task.result():  # the lease was lost: whoever took it finishes
                        pending[shop.name] = shop
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        return self.progress.summary()

    async def _lease_more(
        self,
        pending: dict[str, ShopClient],
        running: dict[asyncio.Task[bool], ShopClient],
        options: OrderSyncOptions,
        end: int,
    ) -> None:
        fresh, free = await asyncio.to_thread(
            self.store.lease_candidates, list(pending), end - int(self.fresh_within)
        )
        for name in fresh:
            pending.pop(name)
            self.progress.finish(name)
        for name in free:
            if len(running) >= self.max_shops:
                return
            if await asyncio.to_thread(self.store.acquire_lease, name, self.worker_id, self.lease):
                shop = pending.pop(name)
                task = asyncio.create_task(self._sync_leased(shop, options), name=f"sync-{name}")
                running[task] = shop

    async def _sync_leased(self, shop: ShopClient, options: OrderSyncOptions) -> bool:
        """Sync one leased shop; False when the lease was lost on the way."""
        async with hold_lease(self.store, shop.name, self.worker_id, self.lease) as lost:
            self.store.fence(shop.name, self.worker_id)
            try:
                sync = OrderSync([shop], self.store, options, progress=self.progress)
                syncing = asyncio.create_task(sync.run())
                waiter = asyncio.create_task(lost.wait())
                await asyncio.wait({syncing, waiter}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if lost.is_set():
                    syncing.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await syncing
                    log.warning("shop %s: lease lost; another worker carries on", shop.name)
                    return False
                await syncing
            finally:
                self.store.fence(shop.name, None)
        self.synced.append(shop.name)
        return True


@contextlib.asynccontextmanager
async def hold_lease(
    store: PostgresStore, key: str, owner: str, ttl: float
) -> AsyncIterator[asyncio.Event]:
    """Keep an acquired lease alive while the block runs (renewed every ``ttl / 3``).

    Yields an event that is set when a renewal finds the lease gone (expired and taken);
    the block should stop then. The lease is released at the end unless it was lost.
    """
    lost = asyncio.Event()

    async def renew() -> None:
        while True:
            await asyncio.sleep(ttl / 3)
            if not await asyncio.to_thread(store.renew_lease, key, owner, ttl):
                lost.set()
                return

    renewer = asyncio.create_task(renew())
    try:
        yield lost
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
        if not lost.is_set():
            await asyncio.to_thread(store.release_lease, key, owner)


PRICE_LEASE_PREFIX = "prices:"
"""Price pushes lease ``prices:<shop>``: a push and an order sync of one shop may overlap."""


async def push_prices_leased(
    shops: Mapping[str, ShopClient],
    store: PostgresStore,
    changes: Sequence[PriceChange],
    *,
    worker_id: str | None = None,
    lease: float = 30.0,
    poll: float = 0.2,
    dry_run: bool = False,
    on_row: Callable[[PushResult], None] | None = None,
) -> list[PushResult]:
    """:func:`~temu_async.sync.price_push.push_prices` shop by shop, each under a lease.

    Several workers may run the same push: a shop is pushed by whoever leases it first,
    and a worker that gets it later plans against the prices the first one applied, so it
    sends nothing again (and :meth:`PostgresStore.begin_price_writes` refuses a write
    planned against a price that changed meanwhile).
    """
    owner = worker_id or default_worker_id()
    ttl = check_seconds("lease", lease)
    by_shop: dict[str, list[PriceChange]] = {}
    for change in changes:
        by_shop.setdefault(change.shop, []).append(change)
    pending = sorted(by_shop)
    results: list[PushResult] = []
    while pending:
        took = False
        for name in list(pending):
            key = PRICE_LEASE_PREFIX + name
            if not await asyncio.to_thread(store.acquire_lease, key, owner, ttl):
                continue
            took = True
            pending.remove(name)
            async with hold_lease(store, key, owner, ttl) as lost:
                rows = await push_prices(
                    shops, store, by_shop[name], dry_run=dry_run, on_row=on_row
                )
                if lost.is_set():
                    log.warning("prices of shop %s: the lease ran out during the push", name)
            results.extend(rows)
        if pending and not took:
            await asyncio.sleep(poll)  # other workers hold the rest
    return results
