"""Price sync: pull every SKU's supply price into SQLite; push changes from a CSV.

Pull, per shop: page through the goods list, then ask for the SKU prices of a
chunk of goods per request. Push: compare each CSV row with the stored price,
send only the changed ones (one ``change.sku.price`` call per goods), and report
every row's outcome. A price change is a write the catalogue marks non-idempotent:
the client never repeats it after an ambiguous failure, and such rows come back
as ``unknown — verify`` (check the price or its price order before sending again).
"""

from __future__ import annotations

import asyncio
import csv
import json
import logging
import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from temu_async import catalogue
from temu_async.client import ShopClient
from temu_async.errors import OutcomeUnknown, TemuError
from temu_async.sync.progress import Progress, SyncSummary
from temu_async.sync.sqlite_store import PriceRow, SqliteStore

__all__ = [
    "CHANGE_PRICE_TYPE",
    "GOODS_LIST_TYPE",
    "SKU_PRICE_TYPE",
    "PriceChange",
    "PricePull",
    "PricePullOptions",
    "PushResult",
    "plan_push",
    "push_prices",
    "read_price_csv",
    "write_report",
]

log = logging.getLogger("temu_async.sync")

GOODS_LIST_TYPE = "bg.local.goods.list.query"
SKU_PRICE_TYPE = "bg.local.goods.sku.list.price.query"
CHANGE_PRICE_TYPE = "bg.local.goods.priceorder.change.sku.price"

DEFAULT_GOODS_PER_REQUEST = 20
"""Used when the catalogue gives no ``max_items`` for ``querySupplierPriceBaseList``."""

UNCHANGED = "unchanged"
WOULD_CHANGE = "would change"
NOT_FOUND = "not found"
CHANGED = "changed"
FAILED = "failed"
UNKNOWN = "unknown — verify"


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
                return await shop.call(type_name, params, patient=True)

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


# ---- push -----------------------------------------------------------------------------

_PRICE = re.compile(r"^\d{1,9}(\.\d{1,2})?$")
_HEADERS = {
    "goodsid": "goodsId",
    "goods_id": "goodsId",
    "skuid": "skuId",
    "sku_id": "skuId",
    "price": "price",
    "currency": "currency",
    "shop": "shop",
}


@dataclass(frozen=True)
class PriceChange:
    line: int
    """Line of the CSV (the header is line 1)."""
    shop: str
    goods_id: int
    sku_id: int
    price: str
    """Normalised: two decimal places."""
    currency: str | None = None


def read_price_csv(
    source: str | Path | TextIO, *, default_shop: str | None = None
) -> list[PriceChange]:
    """Read ``goodsId,skuId,price[,currency][,shop]`` rows; a bad row raises ValueError."""
    if isinstance(source, (str, Path)):
        with open(source, newline="", encoding="utf-8-sig") as fh:
            return read_price_csv(fh, default_shop=default_shop)
    reader = csv.reader(source)
    header = next(reader, None)
    if header is None:
        raise ValueError("price CSV: empty file (expected a header: goodsId,skuId,price)")
    columns = [_HEADERS.get(h.strip().lower().replace(" ", "")) for h in header]
    for needed in ("goodsId", "skuId", "price"):
        if needed not in columns:
            raise ValueError(f"price CSV: header lacks the column {needed!r} (got {header})")
    out: list[PriceChange] = []
    seen: dict[tuple[str, int, int], int] = {}
    for line, raw in enumerate(reader, start=2):
        if not any(cell.strip() for cell in raw):
            continue
        row = {c: v.strip() for c, v in zip(columns, raw, strict=False) if c is not None}
        shop = row.get("shop") or default_shop
        if not shop:
            raise ValueError(
                f"price CSV line {line}: no shop (add a shop column, or name one shop to push to)"
            )
        ids = {}
        for col in ("goodsId", "skuId"):
            value = row.get(col, "")
            if not value.isdigit():
                raise ValueError(
                    f"price CSV line {line}: {col} must be a positive integer, got {value!r}"
                )
            ids[col] = int(value)
        price = row.get("price", "")
        if not _PRICE.match(price) or Decimal(price) <= 0:
            raise ValueError(
                f"price CSV line {line}: price must be a positive amount with at most 2 decimals,"
                f" got {price!r}"
            )
        key = (shop, ids["goodsId"], ids["skuId"])
        if key in seen:
            raise ValueError(
                f"price CSV line {line}: skuId {ids['skuId']} already set on line {seen[key]}"
            )
        seen[key] = line
        currency = row.get("currency") or None
        out.append(
            PriceChange(line, shop, ids["goodsId"], ids["skuId"], f"{Decimal(price):.2f}", currency)
        )
    return out


@dataclass
class PushResult:
    line: int
    shop: str
    goods_id: int
    sku_id: int
    old_price: str | None
    new_price: str
    currency: str | None
    status: str
    detail: str = ""


def plan_push(store: SqliteStore, changes: Sequence[PriceChange]) -> list[PushResult]:
    """The dry run: each row against the stored price (``would change``, ``unchanged``, ...)."""
    stored = store.prices()
    out = []
    for c in changes:
        have = stored.get((c.shop, c.goods_id, c.sku_id))
        res = PushResult(c.line, c.shop, c.goods_id, c.sku_id, None, c.price, c.currency, NOT_FOUND)
        if have is None or have.amount is None:
            res.detail = "no stored price for this SKU: run `sync prices pull` first"
        else:
            res.old_price = have.amount
            res.currency = c.currency or have.currency
            if c.currency and have.currency and c.currency != have.currency:
                res.status = FAILED
                res.detail = f"currency {c.currency} differs from the stored {have.currency}"
            elif Decimal(have.amount) == Decimal(c.price):
                res.status = UNCHANGED
            else:
                res.status = WOULD_CHANGE
        out.append(res)
    return out


async def push_prices(
    shops: Mapping[str, ShopClient],
    store: SqliteStore,
    changes: Sequence[PriceChange],
    *,
    dry_run: bool = False,
    concurrency: int = 4,
) -> list[PushResult]:
    """Send the changed rows (one call per goods); every row gets a result."""
    plan = plan_push(store, changes)
    unknown_shops = {r.shop for r in plan if r.status == WOULD_CHANGE} - set(shops)
    if unknown_shops:
        raise ValueError(f"price CSV names shops that are not configured: {sorted(unknown_shops)}")
    if dry_run:
        return plan
    groups: dict[tuple[str, int], list[PushResult]] = {}
    for r in plan:
        if r.status == WOULD_CHANGE:
            groups.setdefault((r.shop, r.goods_id), []).append(r)
    sem = asyncio.Semaphore(concurrency)

    async def send(shop_name: str, goods_id: int, rows: list[PushResult]) -> None:
        params = {
            "goodsId": goods_id,
            "changeSkuPriceDTOList": [
                {
                    "skuChangePriceBaseDTOList": [
                        {
                            "skuId": r.sku_id,
                            "newSupplierPrice": {"amount": r.new_price, "currency": r.currency},
                        }
                        for r in rows
                    ]
                }
            ],
        }
        async with sem:
            try:
                result = await shops[shop_name].call(CHANGE_PRICE_TYPE, params)
            except OutcomeUnknown as exc:
                for r in rows:
                    r.status, r.detail = UNKNOWN, str(exc)
            except TemuError as exc:
                for r in rows:
                    r.status, r.detail = FAILED, str(exc)
            else:
                _apply_result(rows, result)
        for r in rows:
            store.log_push(
                r.shop,
                r.goods_id,
                r.sku_id,
                r.old_price,
                r.new_price,
                r.currency,
                r.status,
                r.detail,
            )

    await asyncio.gather(*(send(s, g, rows) for (s, g), rows in groups.items()))
    return plan


def _apply_result(rows: list[PushResult], result: Any) -> None:
    body = result if isinstance(result, dict) else {}
    ok = {_int(v) for v in body.get("successSkuList") or ()}
    failed = {_int(v) for v in body.get("failedSkuList") or ()}
    reasons = body.get("failedSkuReasonMap") or {}
    orders = {
        _int(sku): po.get("priceOrderSn")
        for po in body.get("successPriceOrderList") or ()
        if isinstance(po, dict)
        for sku in po.get("skuIdList") or ()
    }
    for r in rows:
        if r.sku_id in ok:
            r.status = CHANGED
            sn = orders.get(r.sku_id)
            r.detail = f"price order {sn}" if sn else ""
        elif r.sku_id in failed:
            r.status = FAILED
            reason = reasons.get(str(r.sku_id)) if isinstance(reasons, dict) else None
            r.detail = str(reason or "refused")
        else:
            # The call succeeded yet names neither outcome for this SKU.
            r.status = UNKNOWN
            r.detail = "the answer lists this SKU neither as changed nor as failed"


_REPORT_FIELDS = [
    "line",
    "shop",
    "goods_id",
    "sku_id",
    "old_price",
    "new_price",
    "currency",
    "status",
    "detail",
]


def write_report(rows: Sequence[PushResult], out: TextIO, fmt: str = "csv") -> None:
    """One line per CSV row: CSV (``fmt="csv"``) or a JSON array (``fmt="json"``)."""
    if fmt == "json":
        json.dump([asdict(r) for r in rows], out, ensure_ascii=False, indent=1)
        out.write("\n")
        return
    if fmt != "csv":
        raise ValueError(f"report format must be csv or json, got {fmt!r}")
    writer = csv.DictWriter(out, fieldnames=_REPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow(asdict(r))


def report_text(rows: Sequence[PushResult]) -> str:
    """A one-line tally, e.g. ``3 changed, 1 unchanged, 1 unknown — verify``."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no rows"
