"""Price sync: pull every SKU's supply price into SQLite; push changes from a CSV.

Pull, per shop: page through the goods list, then ask for the SKU prices of a
chunk of goods per request. Push (:mod:`temu_async.sync.price_push`): compare each
CSV row with the stored price, send only the changed ones, never repeat a write
that may have run, and report every row's outcome as it is known.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from temu_async import catalogue
from temu_async.client import ShopClient
from temu_async.options import PATIENT

# The push lives in price_csv (reading), price_push (the write discipline) and
# push_report (the per-row report); its names stay importable from here.
from temu_async.sync.price_csv import PriceChange, read_price_csv
from temu_async.sync.price_push import (
    CHANGE_PRICE_TYPE,
    PushResult,
    plan_push,
    push_prices,
    report_counts,
)
from temu_async.sync.progress import Progress, SyncSummary
from temu_async.sync.push_report import PushReport, write_report
from temu_async.sync.sqlite_store import PriceRow
from temu_async.types import PriceSkuPricesQuerySupplierPriceBaseParam

if TYPE_CHECKING:
    from temu_async.types import (
        GoodsListGoods,
        GoodsListResult,
        PriceSkuPricesResult,
    )

__all__ = [
    "CHANGE_PRICE_TYPE",
    "GOODS_LIST_TYPE",
    "SKU_PRICE_TYPE",
    "PriceChange",
    "PricePull",
    "PricePullOptions",
    "PushReport",
    "PushResult",
    "plan_push",
    "push_prices",
    "read_price_csv",
    "write_report",
]


class PriceStore(Protocol):
    """What a price pull writes to (SqliteStore, PostgresStore)."""

    def put_prices(self, rows: Iterable[PriceRow]) -> tuple[int, int]: ...

    def drop_prices_before(self, shop: str, pulled_before: int) -> int: ...


log = logging.getLogger("temu_async.sync")

T = TypeVar("T")

GOODS_LIST_TYPE = "bg.local.goods.list.query"
SKU_PRICE_TYPE = "bg.local.goods.sku.list.price.query"

DEFAULT_GOODS_PER_REQUEST = 20
"""Used when the catalogue gives no ``max_items`` for ``querySupplierPriceBaseList``."""


def _list_bound(type_name: str, path: str) -> int | None:
    """``max_items`` of a (dotted) list param in the runtime catalogue, if documented."""
    try:
        spec = catalogue.types_by_name().get(type_name)
    except RuntimeError:
        return None
    fields = spec.params if spec is not None else None
    found = None
    for part in path.split("."):
        found = next((f for f in fields or () if f.name == part), None)
        if found is None:
            return None
        fields = found.fields
    return found.max_items if found is not None else None


# ---- pull -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PricePullOptions:
    goods_per_request: int | None = None
    """Goods per price query; default: the catalogue's bound, else 20."""
    goods_status_filters: tuple[int, ...] = (1,)
    """``goodsStatusFilterType`` values to list (1 = active)."""
    concurrency: int = 4
    page_size: int = 100


@dataclass
class _Goods:
    goods_id: int
    name: str | None
    sku_ids: list[int] = field(default_factory=list)


def _goods_of(row: GoodsListGoods) -> _Goods | None:
    if row.goods_id is None:
        return None
    skus = list(row.sku_id_list or ())
    if not skus:
        skus = [info.sku_id for info in row.sku_info_list or () if info.sku_id is not None]
    return _Goods(row.goods_id, row.goods_name, skus)


class PricePull:
    """Pull the supply price of every SKU of every listed goods of each shop."""

    def __init__(
        self,
        shops: Sequence[ShopClient],
        store: PriceStore,
        options: PricePullOptions | None = None,
        *,
        progress: Progress | None = None,
    ) -> None:
        if not shops:
            raise ValueError("shops: give at least one shop")
        self.shops = list(shops)
        self.store = store
        self.options = options or PricePullOptions()
        chunk = self.options.goods_per_request
        bound = _list_bound(SKU_PRICE_TYPE, "querySupplierPriceBaseList")
        if chunk is None:
            chunk = bound or DEFAULT_GOODS_PER_REQUEST
        elif bound is not None and chunk > bound:
            raise ValueError(
                f"goods_per_request: {chunk} is more than querySupplierPriceBaseList allows ({bound})"
            )
        if chunk < 1:
            raise ValueError("goods_per_request must be >= 1")
        self.chunk = chunk
        self.skus_per_goods = _list_bound(SKU_PRICE_TYPE, "querySupplierPriceBaseList.skuIdList")
        self.progress = progress or Progress("prices", shops[0].app.throttle)

    async def run(self) -> SyncSummary:
        for shop in self.shops:
            self.progress.shop(shop.name)
        await asyncio.gather(*(self._one(shop) for shop in self.shops))
        return self.progress.summary()

    async def _one(self, shop: ShopClient) -> None:
        try:
            await self._pull(shop)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("shop %s: price pull stopped: %s", shop.name, exc)
            self.progress.finish(shop.name, error=f"{type(exc).__name__}: {exc}")
        else:
            self.progress.finish(shop.name)

    async def _pull(self, shop: ShopClient) -> None:
        started = int(time.time())
        sem = asyncio.Semaphore(self.options.concurrency)
        prog = self.progress.shop(shop.name)

        async def call(type_name: str, send: Callable[[], Awaitable[T]]) -> T:
            async with sem:
                prog.requests += 1
                return await send()

        goods: dict[int, _Goods] = {}
        for status in self.options.goods_status_filters:
            for g in await self._list_goods(shop, call, status):
                goods.setdefault(g.goods_id, g)
        entries: list[PriceSkuPricesQuerySupplierPriceBaseParam] = []
        names: dict[int, str | None] = {}
        for g in goods.values():
            names[g.goods_id] = g.name
            per = self.skus_per_goods or max(1, len(g.sku_ids))
            for i in range(0, max(1, len(g.sku_ids)), per):
                entries.append(
                    PriceSkuPricesQuerySupplierPriceBaseParam(
                        goods_id=g.goods_id, sku_id_list=g.sku_ids[i : i + per]
                    )
                )
        prog.remaining = sum(len(g.sku_ids) for g in goods.values())

        async def chunk(part: list[PriceSkuPricesQuerySupplierPriceBaseParam]) -> None:
            result = await call(
                SKU_PRICE_TYPE,
                lambda: shop.price.sku_prices(query_supplier_price_base_list=part, options=PATIENT),
            )
            rows = list(_price_rows(shop.name, result, names))
            new, changed = self.store.put_prices(rows)
            prog.fetched += len(rows)
            prog.written += new + changed
            prog.new += new
            prog.remaining = max(0, (prog.remaining or 0) - len(rows))

        parts = [entries[i : i + self.chunk] for i in range(0, len(entries), self.chunk)]
        await asyncio.gather(*(chunk(p) for p in parts))
        # A complete pull: SKUs not seen any more are gone from the shop.
        self.store.drop_prices_before(shop.name, started)

    async def _list_goods(
        self,
        shop: ShopClient,
        call: Callable[[str, Callable[[], Awaitable[GoodsListResult]]], Awaitable[GoodsListResult]],
        status: int,
    ) -> list[_Goods]:
        size = self.options.page_size

        def page(number: int) -> Awaitable[GoodsListResult]:
            return call(
                GOODS_LIST_TYPE,
                lambda: shop.goods.list(
                    page_no=number,
                    page_size=size,
                    goods_search_type=1,
                    goods_status_filter_type=status,
                    options=PATIENT,
                ),
            )

        first = await page(1)
        rows = list(first.goods_list or ())
        total = first.total
        if total is not None and total > len(rows):
            pages = math.ceil(total / size)
            for result in await asyncio.gather(*(page(p) for p in range(2, pages + 1))):
                rows.extend(result.goods_list or ())
        elif total is None and len(rows) == size:
            number = 2
            while True:  # no total: walk until a short page
                got = (await page(number)).goods_list or []
                rows.extend(got)
                if len(got) < size:
                    break
                number += 1
        return [g for g in (_goods_of(r) for r in rows) if g is not None]


def _price_rows(
    shop: str, result: PriceSkuPricesResult, names: Mapping[int, str | None]
) -> Iterable[PriceRow]:
    for group in result.openapi_goods_supplier_price_dto_list or ():
        if group.goods_id is None:
            continue
        for sku in group.openapi_sku_supplier_price_dto_list or ():
            if sku.sku_id is None:
                continue
            price = sku.supplier_price
            yield PriceRow(
                shop,
                group.goods_id,
                sku.sku_id,
                price.amount if price is not None else None,
                price.currency if price is not None else None,
                names.get(group.goods_id),
            )


def report_text(rows: Sequence[PushResult]) -> str:
    """A one-line tally, e.g. ``3 applied, 1 unchanged, 1 unknown``."""
    return report_counts(rows)
