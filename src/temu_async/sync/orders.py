"""Incremental order sync for many shops under one app.

Per shop, a run covers the update-time range from the last checkpoint (minus an
overlap) to a moment just before now. The range is walked as *windows* of
``updateAtStart``/``updateAtEnd`` with ``sortby=updateTime``, one page per request:

* a window whose first page holds all of it is done;
* otherwise the page's update times split it (keyset paging): with newest-first
  results every order updated after the page's oldest second is in hand, and the
  rest of the window is ``[start, that second]``. No request ever asks for page 2
  of a window, so an order that changes mid-walk (and leaves its window for "now")
  cannot shift another order past a page boundary unseen;
* a single second holding more than a page is read by page numbers, and read again
  until its total stays put.

Each page is stored together with the shop's coverage (the update-time intervals
already complete) in one transaction; a killed run resumes from that coverage. An
order that changes during the run moves to a later second, which this run (if it
is before the run's end) or the next one (through the overlap) walks.

Shops run concurrently; they share the app's throttle, which serves them round
robin, so the rate limit holds and no shop starves another.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from temu_async import catalogue
from temu_async.client import ShopClient
from temu_async.errors import BusinessError
from temu_async.options import PATIENT
from temu_async.sync.coverage import Coverage, Interval
from temu_async.sync.progress import Progress, SyncSummary
from temu_async.sync.records import OrderRecord, OrderSink, ShopState
from temu_async.types import OrderListV2PageItem

__all__ = [
    "DETAIL_TYPE",
    "LIST_TYPE",
    "SHIPPING_TYPE",
    "OrderSync",
    "OrderSyncOptions",
    "SyncError",
]

log = logging.getLogger("temu_async.sync")

LIST_TYPE = "bg.order.list.v2.get"
DETAIL_TYPE = "bg.order.detail.v2.get"
SHIPPING_TYPE = "bg.order.shippinginfo.v2.get"

T = TypeVar("T")

DAY = 86_400
_MS_THRESHOLD = 10**11
"""An update time above this is in milliseconds (seconds stay below it until year 5138)."""
_SECOND_REREADS = 5


class SyncError(RuntimeError):
    """The sync could not finish a shop safely (its checkpoint was not advanced)."""


@dataclass(frozen=True)
class OrderSyncOptions:
    since: int = 30 * DAY
    """How far back the first run of a shop reaches (seconds)."""
    overlap: int = 600
    """Seconds before the last checkpoint that the next run walks again."""
    settle: int = 2
    """A run ends this many seconds before now, so its last second is complete."""
    page_size: int = 100
    max_window: int = 7 * DAY
    """Longer update-time ranges are cut into windows this long before walking."""
    concurrency: int = 4
    """Requests in flight per shop (the app's throttle still decides when each goes)."""
    detail: bool = False
    """Add ``bg.order.detail.v2.get`` to each new or changed order (one call per order)."""
    shipping: bool = False
    """Add ``bg.order.shippinginfo.v2.get`` (the buyer's address) to each new or changed order."""
    until: int | None = None
    """End the run at this unix second instead of ``now - settle``."""
    extra_params: Mapping[str, Any] | None = None
    """More list filters by wire name (``parentOrderStatus``, ``regionId`` ...), sent with
    every page (checked against the list type's params when the options are built)."""

    def __post_init__(self) -> None:
        for name in ("since", "page_size", "max_window", "concurrency"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.overlap < 0 or self.settle < 0:
            raise ValueError("overlap and settle must be >= 0 seconds")
        if self.page_size > 100:
            raise ValueError("page_size must be <= 100 (the catalogue's maximum for pageSize)")
        reserved = {"pageNumber", "pageSize", "updateAtStart", "updateAtEnd", "sortby"}
        clash = reserved & set(self.extra_params or {})
        if clash:
            raise ValueError(f"extra_params must not set {', '.join(sorted(clash))}: the sync does")
        spec = catalogue.types_by_name().get(LIST_TYPE)
        known = {f.name for f in spec.params} if spec is not None else set()
        unknown = sorted(set(self.extra_params or {}) - known)
        if unknown:
            raise ValueError(
                f"extra_params: {', '.join(unknown)} is not a param of {LIST_TYPE} "
                f"(known: {', '.join(sorted(known - reserved))})"
            )

    def list_filters(self) -> dict[str, Any]:
        """``extra_params`` as wire-named params of the list type."""
        return dict(self.extra_params or {})


@dataclass
class _Window:
    lo: int
    hi: int
    estimate: int | None = None
    """Orders expected in it, once a wider window's total said so."""
    by_page_number: bool = False
    seen: int = 0
    """Orders already listed from it (with ``estimate``: its size, for density estimates)."""


class _ListPage(msgspec.Struct, rename="camel"):
    """``bg.order.list.v2.get``'s result with each item kept as its raw JSON: the logic
    reads the typed item, the store gets every field Temu sent (also ones the catalogue
    does not describe yet, which the typed Struct would drop)."""

    page_items: list[msgspec.Raw] | None = None
    total_item_num: int | None = None


_ITEM = msgspec.json.Decoder(OrderListV2PageItem)


@dataclass(slots=True)
class _Item:
    typed: OrderListV2PageItem
    plain: dict[str, Any]
    """The item as Temu sent it (wire names), for the store."""

    @classmethod
    def of(cls, raw: msgspec.Raw) -> _Item:
        plain = msgspec.json.decode(raw)
        return cls(_ITEM.decode(raw), plain if isinstance(plain, dict) else {})


def update_time(item: OrderListV2PageItem) -> int | None:
    """The order's update time in seconds, or None when the item lacks it."""
    parent = item.parent_order_map
    value = parent.update_time if parent is not None else None
    if value is None:
        return None
    return value // 1000 if value >= _MS_THRESHOLD else value


def _record(item: _Item) -> OrderRecord | None:
    parent = item.typed.parent_order_map
    if parent is None or not parent.parent_order_sn:
        return None
    # Stored as Temu sent it, in the wire names: the rows stay readable without this
    # package, and keep the fields the catalogue does not know yet.
    return OrderRecord(
        parent_order_sn=parent.parent_order_sn,
        update_time=update_time(item.typed),
        parent=item.plain.get("parentOrderMap") or msgspec.to_builtins(parent),
        children=item.plain.get("orderList") or msgspec.to_builtins(item.typed.order_list or []),
    )


def _split(lo: int, hi: int, parts: int, estimate: int | None) -> list[_Window]:
    """Cut ``[lo, hi]`` into up to ``parts`` windows of equal length."""
    parts = max(1, min(parts, hi - lo + 1))
    step = (hi - lo + 1) / parts
    out = []
    for i in range(parts):
        a = lo + math.floor(i * step)
        b = lo + math.floor((i + 1) * step) - 1 if i < parts - 1 else hi
        if a <= b:
            share = None if estimate is None else math.ceil(estimate * (b - a + 1) / (hi - lo + 1))
            out.append(_Window(a, b, share))
    return out


class OrderSync:
    """Sync the orders of several shops of one app into a sink.

    ::

        async with TemuApp(key, secret, region="us") as app:
            shops = [app.shop(token, name=name) for name, token in tokens.items()]
            with SqliteStore("orders.sqlite") as store:
                summary = await OrderSync(shops, store).run()

    Shop names key the rows and checkpoints: keep them stable between runs.
    """

    def __init__(
        self,
        shops: Sequence[ShopClient],
        sink: OrderSink,
        options: OrderSyncOptions | None = None,
        *,
        progress: Progress | None = None,
    ) -> None:
        if not shops:
            raise ValueError("shops: give at least one shop")
        names = [s.name for s in shops]
        if len(set(names)) != len(names):
            raise ValueError("shops: two shops have the same name (names key the stored rows)")
        apps = {id(s.app) for s in shops}
        if len(apps) != 1:
            raise ValueError("shops: all shops must belong to one TemuApp (one rate budget)")
        self.shops = list(shops)
        self.sink = sink
        self.options = options or OrderSyncOptions()
        self.app = shops[0].app
        self.progress = progress or Progress("orders", self.app.throttle)
        self._writer = ThreadPoolExecutor(1)

    def server_now(self) -> float:
        """The gateway's clock as the client knows it (its offset is learnt on 3000011/12)."""
        return self.app.server_time()

    async def run(self) -> SyncSummary:
        """Sync every shop; a failing shop does not stop the others (see ``summary.errors``)."""
        end = self.options.until
        if end is None:
            end = int(self.server_now()) - self.options.settle
        for shop in self.shops:
            self.progress.shop(shop.name)
        # One thread does every store call, in the order they were made: the event loop
        # never waits on disk, and a page's commit never overtakes an earlier one.
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="temu-sync-store")
        try:
            await asyncio.gather(*(self._run_shop(shop, end) for shop in self.shops))
        finally:
            self._writer.shutdown(wait=True)
        return self.progress.summary()

    async def in_store(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._writer, fn, *args)

    async def _run_shop(self, shop: ShopClient, end: int) -> None:
        try:
            await _ShopRun(self, shop, end).run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("shop %s: order sync stopped: %s", shop.name, exc)
            self.progress.finish(shop.name, error=f"{type(exc).__name__}: {exc}")
        else:
            self.progress.finish(shop.name)


class _ShopRun:
    def __init__(self, sync: OrderSync, shop: ShopClient, end: int) -> None:
        self.sync = sync
        self.shop = shop
        self.name = shop.name
        self.opts = sync.options
        self.sink = sync.sink
        self.end = end
        self.progress = sync.progress.shop(shop.name)
        self.sem = asyncio.Semaphore(self.opts.concurrency)
        self.filters = self.opts.list_filters()
        self.coverage = Coverage()
        self.state = ShopState()
        self._pending: deque[_Window] = deque()
        self._active: dict[asyncio.Task[list[_Window]], _Window] = {}
        self._enriching = 0
        """Orders listed whose detail/shipping calls are not done yet."""
        self._listed = 0
        self._listed_span = 0
        """Orders stored by this run, and the seconds of update time they complete."""

    # ---- plan -----------------------------------------------------------------------

    def _plan(self, saved: ShopState) -> tuple[int, Coverage]:
        opts = self.opts
        if saved.in_progress:
            assert saved.run_start is not None and saved.run_end is not None
            # Resume: keep what was covered, except the last `overlap` seconds of the
            # killed run, whose orders may have moved within a skewed clock's reach.
            kept = Coverage(saved.covered).cut_after(saved.run_end - opts.overlap)
            log.info("shop %s: resuming a run from %d", self.name, saved.run_start)
            return saved.run_start, kept
        if saved.synced_through is not None:
            return max(0, saved.synced_through - opts.overlap), Coverage()
        return max(0, self.end - opts.since), Coverage()

    async def run(self) -> None:
        saved = await self.sync.in_store(self.sink.load_state, self.name)
        start, self.coverage = self._plan(saved)
        if self.end < start:
            return
        self.state = ShopState(
            synced_through=saved.synced_through,
            run_start=start,
            run_end=self.end,
            covered=self.coverage.spans(),
        )
        await self.sync.in_store(self.sink.commit, self.name, [], self.state)
        windows: deque[_Window] = deque()
        for lo, hi in self.coverage.missing(start, self.end):
            pieces = math.ceil((hi - lo + 1) / self.opts.max_window)
            windows.extend(_split(lo, hi, pieces, None))
        await self._walk_all(windows)
        if not self.coverage.covers(start, self.end):  # a bug, never a shortcut
            raise SyncError(
                f"coverage {self.coverage.spans()} does not span [{start}, {self.end}]; "
                "the checkpoint was not advanced"
            )
        self.state = ShopState(synced_through=self.end)
        await self.sync.in_store(self.sink.commit, self.name, [], self.state)

    # ---- the pool of windows -----------------------------------------------------------

    def _update_remaining(self) -> None:
        """Orders still to list (estimated) plus listed ones still waiting for their calls.

        A window not sized yet (no page of it read) is estimated from the order density
        of the sized ones: orders spread over time, and a 30-day first run has more
        windows than requests in flight, so waiting for every size left the ETA unknown
        for most of a ``--detail`` run.
        """
        windows = [*self._pending, *self._active.values()]
        sized = [w for w in windows if w.estimate is not None]
        unsized_span = sum(w.hi - w.lo + 1 for w in windows if w.estimate is None)
        left = sum(w.estimate or 0 for w in sized)
        if unsized_span:
            sized_span = sum(w.hi - w.lo + 1 for w in sized)
            if sized_span:
                density = sum((w.estimate or 0) + w.seen for w in sized) / sized_span
            elif self._listed_span:  # only unsized windows left: go by what is done
                density = self._listed / self._listed_span
            else:
                self.progress.remaining = None
                return
            left += math.ceil(density * unsized_span)
        self.progress.remaining = left + self._enriching

    async def _walk_all(self, pending: deque[_Window]) -> None:
        self._pending = pending
        active = self._active
        try:
            while pending or active:
                while pending and len(active) < self.opts.concurrency:
                    w = pending.popleft()
                    task = asyncio.create_task(self._walk(w))
                    active[task] = w
                self._update_remaining()
                done, _ = await asyncio.wait(active, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    active.pop(task)
                    rest = task.result()
                    # Fan out while requests could be in flight but nothing is queued.
                    idle = self.opts.concurrency - len(active) - len(pending)
                    for w in rest:
                        pending.extend(self._fan_out(w, idle))
                        idle = self.opts.concurrency - len(active) - len(pending)
                self._update_remaining()
        finally:
            for task in active:
                task.cancel()
            if active:
                await asyncio.gather(*active, return_exceptions=True)

    def _fan_out(self, w: _Window, idle: int) -> list[_Window]:
        if w.by_page_number or idle < 2 or w.estimate is None:
            return [w]
        pages = math.ceil(w.estimate / self.opts.page_size)
        if pages < 2:
            return [w]
        return _split(w.lo, w.hi, min(idle, pages), w.estimate)

    # ---- one window -------------------------------------------------------------------

    async def _call(self, type_name: str, send: Callable[[], Awaitable[T]]) -> T:
        """One read, within this shop's requests in flight (``PATIENT``: a rate limit or a
        busy gateway is waited out, not raised)."""
        async with self.sem:
            self.progress.requests += 1
            return await send()

    async def _list(self, w: _Window, page: int) -> tuple[list[_Item], int | None]:
        params = {
            "pageNumber": page,
            "pageSize": self.opts.page_size,
            "updateAtStart": w.lo,
            "updateAtEnd": w.hi,
            "sortby": "updateTime",
            **self.filters,
        }
        result = await self._call(
            LIST_TYPE,
            lambda: self.shop.call(LIST_TYPE, params, result_type=_ListPage, options=PATIENT),
        )
        return [_Item.of(raw) for raw in result.page_items or ()], result.total_item_num

    async def _walk(self, w: _Window) -> list[_Window]:
        if w.by_page_number:
            await self._read_second(w)
            return []
        items, total = await self._list(w, 1)
        w.seen = len(items)
        if (total is not None and len(items) >= total) or (
            total is None and len(items) < self.opts.page_size
        ):
            w.estimate = 0  # all of it is in this page
            await self._store(items, (w.lo, w.hi))
            return []
        covered, rest = self._narrow(w, items)
        left = None if total is None else max(0, total - len(items))
        span = sum(r.hi - r.lo + 1 for r in rest) or 1
        for r in rest:
            if left is not None and not r.by_page_number:
                r.estimate = math.ceil(left * (r.hi - r.lo + 1) / span)
            elif r.by_page_number:
                r.estimate = left
        if left is not None:
            # This page's orders are counted as they are stored, not as part of the window.
            w.estimate = left
        await self._store(items, covered)
        return rest

    def _narrow(self, w: _Window, items: list[_Item]) -> tuple[Interval | None, list[_Window]]:
        """What a full first page proves complete, and the windows still to walk."""
        times = [update_time(i.typed) for i in items]
        known = [min(max(t, w.lo), w.hi) for t in times if t is not None]
        if len(known) != len(times) or not known:
            # No update times to go by: halve the window (a single second: page numbers).
            if w.lo == w.hi:
                return None, [_Window(w.lo, w.hi, by_page_number=True)]
            mid = (w.lo + w.hi) // 2
            return None, [_Window(w.lo, mid), _Window(mid + 1, w.hi)]
        least, most = min(known), max(known)
        if least == most:
            # A whole page in one second: that second by page numbers, the rest as windows.
            parts = [_Window(w.lo, least - 1), _Window(least, least, by_page_number=True)]
            parts.append(_Window(least + 1, w.hi))
            return None, [p for p in parts if p.lo <= p.hi]
        if known[0] > known[-1]:  # newest first: everything after `least` is in hand
            return (least + 1, w.hi), [_Window(w.lo, least)]
        return (w.lo, most - 1), [_Window(most, w.hi)]  # oldest first

    async def _read_second(self, w: _Window) -> None:
        """Read one crowded second by page numbers until two passes agree on its size."""
        size = self.opts.page_size
        for _ in range(_SECOND_REREADS):
            items, total = await self._list(w, 1)
            if total is None:
                raise SyncError(
                    f"{LIST_TYPE} gives no totalItemNum: cannot page through second {w.lo}"
                )
            pages = math.ceil(total / size)
            rest = await asyncio.gather(*(self._list(w, p) for p in range(2, pages + 1)))
            every = items + [i for page_items, _ in rest for i in page_items]
            stable = all(t == total for _, t in rest) and len(every) >= total
            await self._store(every, (w.lo, w.hi) if stable else None)
            if stable:
                return
            log.info("shop %s: second %d changed while paging; reading it again", self.name, w.lo)
        raise SyncError(f"second {w.lo} kept changing over {_SECOND_REREADS} reads")

    async def _store(self, items: list[_Item], covered: Interval | None) -> None:
        records = []
        for item in items:
            rec = _record(item)
            if rec is None:
                log.warning("shop %s: skipped a list item without parentOrderSn", self.name)
                continue
            records.append(rec)
        if covered is not None:
            self._listed += len(records)
            self._listed_span += covered[1] - covered[0] + 1
        if self.opts.detail or self.opts.shipping:
            await self._enrich(records)
        else:
            self.progress.fetched += len(records)
        # The coverage snapshot goes to the store with this page's rows; the store's one
        # thread commits in submission order, so no snapshot lands before rows it vouches for.
        if covered is not None:
            self.coverage.add(*covered)
        self.state = ShopState(
            synced_through=self.state.synced_through,
            run_start=self.state.run_start,
            run_end=self.state.run_end,
            covered=self.coverage.spans(),
        )
        result = await self.sync.in_store(self.sink.commit, self.name, records, self.state)
        self.progress.written += result.written
        self.progress.new += result.new

    async def _enrich(self, records: list[OrderRecord]) -> None:
        sns = [r.parent_order_sn for r in records]
        self._enriching += len(records)
        self._update_remaining()
        stored = await self.sync.in_store(self.sink.stored_versions, self.name, sns)
        jobs = []
        for rec in records:
            old = stored.get(rec.parent_order_sn)
            changed = old is None or old.update_time != rec.update_time or rec.update_time is None
            calls = []
            if self.opts.detail and (changed or not old or not old.has_detail):
                calls.append(self._fill_detail(rec))
            if self.opts.shipping and (changed or not old or not old.has_shipping):
                calls.append(self._fill_shipping(rec))
            jobs.append(self._complete(calls))
        await asyncio.gather(*jobs)

    async def _complete(self, calls: list[Coroutine[Any, Any, None]]) -> None:
        """Run one order's extra calls, then count the order as fetched."""
        if calls:
            await asyncio.gather(*calls)
        self.progress.fetched += 1
        self._enriching -= 1
        self._update_remaining()

    async def _fill_detail(self, rec: OrderRecord) -> None:
        sn = rec.parent_order_sn
        rec.detail = await self._extra(DETAIL_TYPE, {"parentOrderSn": sn})

    async def _fill_shipping(self, rec: OrderRecord) -> None:
        sn = rec.parent_order_sn
        rec.shipping = await self._extra(SHIPPING_TYPE, {"parentOrderSn": sn})

    async def _extra(self, type_name: str, params: dict[str, Any]) -> Any:
        """One order's extra call, as Temu sent it (plain data, every field: the rows
        store it whole, nothing here reads it)."""
        try:
            return await self._call(
                type_name, lambda: self.shop.call(type_name, params, options=PATIENT)
            )
        except BusinessError as exc:
            # One order's refusal (an address not offered in that country, ...) is kept
            # with the order; the sync goes on.
            return {"errorCode": exc.code, "errorMsg": exc.message}
