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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from temu_async import catalogue
from temu_async.client import ShopClient
from temu_async.sync.patience import read_patiently

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
from temu_async.sync.sqlite_store import PriceRow, SqliteStore

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

log = logging.getLogger("temu_async.sync")

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


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _goods_of(row: Any) -> _Goods | None:
    if not isinstance(row, dict):
        return None
    goods_id = _int(row.get("goodsId"))
    if goods_id is None:
        return None
    skus = [s for s in (_int(v) for v in row.get("skuIdList") or ()) if s is not None]
    if not skus:
        for info in row.get("skuInfoList") or ():
            sku = _int(info.get("skuId")) if isinstance(info, dict) else None
            if sku is not None:
                skus.append(sku)
    name = row.get("goodsName")
    return _Goods(goods_id, name if isinstance(name, str) else None, skus)


class PricePull:
    """Pull the supply price of every SKU of every listed goods of each shop."""

    def __init__(
        self,
        shops: Sequence[ShopClient],
        store: SqliteStore,
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

        async def call(type_name: str, params: dict[str, Any]) -> Any:
            async with sem:
                prog.requests += 1
                return await read_patiently(shop, type_name, params)

        goods: dict[int, _Goods] = {}
        for status in self.options.goods_status_filters:
            for g in await self._list_goods(call, status):
                goods.setdefault(g.goods_id, g)
        entries: list[dict[str, Any]] = []
        names: dict[int, str | None] = {}
        for g in goods.values():
            names[g.goods_id] = g.name
            per = self.skus_per_goods or max(1, len(g.sku_ids))
            for i in range(0, max(1, len(g.sku_ids)), per):
                entries.append({"goodsId": g.goods_id, "skuIdList": g.sku_ids[i : i + per]})
        prog.remaining = sum(len(g.sku_ids) for g in goods.values())

        async def chunk(part: list[dict[str, Any]]) -> None:
            result = await call(SKU_PRICE_TYPE, {"querySupplierPriceBaseList": part})
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

    async def _list_goods(self, call: Any, status: int) -> list[_Goods]:
        size = self.options.page_size

        def params(page: int) -> dict[str, Any]:
            return {
                "pageNo": page,
                "pageSize": size,
                "goodsSearchType": 1,
                "goodsStatusFilterType": status,
            }

        first = await call(GOODS_LIST_TYPE, params(1))
        rows = list(_goods_rows(first))
        total = first.get("total") if isinstance(first, dict) else None
        if isinstance(total, int) and total > len(rows):
            pages = math.ceil(total / size)
            more = await asyncio.gather(
                *(call(GOODS_LIST_TYPE, params(p)) for p in range(2, pages + 1))
            )
            for result in more:
                rows.extend(_goods_rows(result))
        elif total is None and len(rows) == size:
            page = 2
            while True:  # no total: walk until a short page
                got = list(_goods_rows(await call(GOODS_LIST_TYPE, params(page))))
                rows.extend(got)
                if len(got) < size:
                    break
                page += 1
        return [g for g in (_goods_of(r) for r in rows) if g is not None]


def _goods_rows(result: Any) -> list[Any]:
    rows = result.get("goodsList") if isinstance(result, dict) else None
    return rows if isinstance(rows, list) else []


def _price_rows(shop: str, result: Any, names: Mapping[int, str | None]) -> Iterable[PriceRow]:
    groups = result.get("openapiGoodsSupplierPriceDTOList") if isinstance(result, dict) else None
    for group in groups or ():
        goods_id = _int(group.get("goodsId")) if isinstance(group, dict) else None
        if goods_id is None:
            continue
        for sku in group.get("openapiSkuSupplierPriceDTOList") or ():
            sku_id = _int(sku.get("skuId")) if isinstance(sku, dict) else None
            if sku_id is None:
                continue
            price = sku.get("supplierPrice")
            amount = price.get("amount") if isinstance(price, dict) else None
            currency = price.get("currency") if isinstance(price, dict) else None
            yield PriceRow(
                shop,
                goods_id,
                sku_id,
                str(amount) if amount is not None else None,
                currency if isinstance(currency, str) else None,
                names.get(goods_id),
            )


def report_text(rows: Sequence[PushResult]) -> str:
    """A one-line tally, e.g. ``3 applied, 1 unchanged, 1 unknown``."""
    return report_counts(rows)
