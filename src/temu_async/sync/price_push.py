"""Price push: send the changed rows of a price CSV, never repeating a write that may have run.

The discipline (the store side is :mod:`temu_async.sync.write_log`):

1. **Resolve first.** Before anything is sent, every open write of the shops in play
   (an intent whose outcome was never recorded because the process died, or an
   outcome that was unknown) is read back: ``bg.local.goods.sku.list.price.query``
   gives the SKU's price now. The new price there means the write ran (*verified
   applied*). The old price there means it did not, unless a seller price order
   created since the intent proposes the new price (``bg.local.goods.priceorder.query``:
   the change ran and waits for review, also *verified applied*); otherwise it is
   *verified not applied*, closed, and that row is sent in this run like any other.
   A read-back that fails, or a price that is neither the old nor the new one, leaves
   the write open (*still unknown*); that row is not sent.
2. **Plan** each CSV row against the stored price; a push updates the stored price of
   every row it applied, so rerunning a finished push finds nothing to send. A row
   whose SKU has a price order under Temu's review proposing the same price is
   *awaiting review* and is not sent (a pull during the review stores the old price).
3. **Send** one request per goods: intent committed, request sent, outcome committed.
   A dropped connection or a timeout is ``unknown`` (never resent in this run; the
   next run reads it back), a refusal is ``failed``.

The report gets each row as soon as its fate is known (``on_row``), so a killed run
still leaves the report of everything it did.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from temu_async.client import ShopClient
from temu_async.errors import MalformedResponse, OutcomeUnknown, TemuError
from temu_async.sync.price_csv import PriceChange
from temu_async.sync.write_log import (
    APPLIED,
    FAILED,
    NOT_APPLIED,
    UNKNOWN,
    PricePushStore,
    PriceWrite,
    WriteState,
)
from temu_async.types import (
    DecimalMoney,
    PriceChangeSkuPriceChangeSkuPriceDtoParam,
    PriceChangeSkuPriceSkuChangePriceBaseDtoParam,
    PriceSkuPricesQuerySupplierPriceBaseParam,
)

if TYPE_CHECKING:
    from temu_async.types import PriceChangeSkuPriceResult, PricePriceOrdersPriceAudit

__all__ = [
    "CHANGE_PRICE_TYPE",
    "PRICE_ORDER_TYPE",
    "SKU_PRICE_TYPE",
    "PushResult",
    "plan_push",
    "push_prices",
]

log = logging.getLogger("temu_async.sync")

SKU_PRICE_TYPE = "bg.local.goods.sku.list.price.query"
CHANGE_PRICE_TYPE = "bg.local.goods.priceorder.change.sku.price"
PRICE_ORDER_TYPE = "bg.local.goods.priceorder.query"

# Row statuses in the report.
UNCHANGED = "unchanged"
WOULD_CHANGE = "would change"
NOT_FOUND = "not found"
ROW_APPLIED = "applied"
ROW_FAILED = "failed"
ROW_UNKNOWN = "unknown"
AWAITING_REVIEW = "awaiting review"
"""A price order proposing this very price is under Temu's review: not sent again."""

# What the read-back of an earlier write found (the report's ``verified`` column).
VERIFIED_APPLIED = "applied"
VERIFIED_NOT_APPLIED = "not applied, sent again"
STILL_UNKNOWN = "still unknown"
TO_READ_BACK = "to be read back"
"""A dry run's word for a row whose earlier write is open (it reads nothing back)."""

_READ_CHUNK = 20
"""Goods per read-back query (the catalogue documents no bound; the pull uses 20)."""
_PRICE_ORDER_PAGE = 50
_CLOCK_MARGIN_MS = 120_000
"""Price orders created this long before an intent still count (gateway clock skew)."""
_REFUSED_ORDER_STATUSES = frozenset({202, 205, 206})
"""Price order statuses that mean the proposed price did not take."""
_UNDER_REVIEW = 100
"""The price order status of a seller's change that Temu has not decided yet."""
_SELLER_CHANGE: Literal[2] = 2
"""``priceOrderType`` of price orders the seller started (a push's changes)."""
_REVIEW_PAGES_MAX = 200
"""Pages of reviews read at most (10,000 price orders): a bound, not an expected size."""


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
    verified: str = ""
    """Set when an earlier write of this SKU had no known outcome: what the read-back found."""


def plan_push(store: PricePushStore, changes: Sequence[PriceChange]) -> list[PushResult]:
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
                res.status = ROW_FAILED
                res.detail = f"currency {c.currency} differs from the stored {have.currency}"
            elif Decimal(have.amount) == Decimal(c.price):
                res.status = UNCHANGED
            else:
                res.status = WOULD_CHANGE
        out.append(res)
    return out


def _same(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    try:
        return Decimal(a) == Decimal(b)
    except ArithmeticError:
        return False


# ---- 1. resolve open writes -------------------------------------------------------------


@dataclass(frozen=True)
class _Verdict:
    state: WriteState
    """APPLIED, NOT_APPLIED or UNKNOWN."""
    detail: str


async def _read_prices(
    shop: ShopClient, goods: Mapping[int, set[int]]
) -> dict[tuple[int, int], str | None]:
    """(goodsId, skuId) -> the price the gateway has now."""
    out: dict[tuple[int, int], str | None] = {}
    items = [
        PriceSkuPricesQuerySupplierPriceBaseParam(goods_id=g, sku_id_list=sorted(skus))
        for g, skus in sorted(goods.items())
    ]
    for i in range(0, len(items), _READ_CHUNK):
        result = await shop.price.sku_prices(
            query_supplier_price_base_list=items[i : i + _READ_CHUNK]
        )
        for group in result.openapi_goods_supplier_price_dto_list or ():
            if group.goods_id is None:
                continue
            for sku in group.openapi_sku_supplier_price_dto_list or ():
                if sku.sku_id is not None:
                    price = sku.supplier_price
                    out[(group.goods_id, sku.sku_id)] = price.amount if price else None
    return out


async def _price_orders(
    shop: ShopClient, goods_id: int, since_ms: int
) -> list[PricePriceOrdersPriceAudit]:
    """Seller price orders of one goods created since ``since_ms`` (less the clock margin)."""
    result = await shop.price.price_orders(
        page=1,
        size=_PRICE_ORDER_PAGE,
        price_order_type=_SELLER_CHANGE,
        goods_id_list=[str(goods_id)],
        price_order_create_time_from=max(0, since_ms - _CLOCK_MARGIN_MS),
    )
    return list(result.price_audit_list or ())


def _proposing(
    orders: Iterable[PricePriceOrdersPriceAudit], goods_id: int, sku_id: int, price: str
) -> str | None:
    """The id of an order among ``orders`` that proposes ``price`` for the SKU and was
    not refused."""
    for row in orders:
        if row.goods_id != goods_id or sku_id not in (row.sku_id_list or ()):
            continue
        if row.status in _REFUSED_ORDER_STATUSES:
            continue
        target = row.target_supplier_price
        if target is not None and _same(target.amount, price):
            return str(row.price_order_id or "?")
    return None


async def _verify(shop: ShopClient, writes: Sequence[PriceWrite]) -> dict[int, _Verdict]:
    goods: dict[int, set[int]] = {}
    for w in writes:
        goods.setdefault(w.goods_id, set()).add(w.sku_id)
    try:
        now = await _read_prices(shop, goods)
    except TemuError as exc:
        why = f"read-back failed ({type(exc).__name__}: {exc}); the next push tries again"
        return {w.id or 0: _Verdict(UNKNOWN, why) for w in writes}
    # Price orders are read once per goods, only for goods with a SKU still at its old price.
    orders: dict[int, list[PricePriceOrdersPriceAudit] | TemuError] = {}
    out: dict[int, _Verdict] = {}
    for w in writes:
        key = w.id or 0
        if (w.goods_id, w.sku_id) not in now:
            out[key] = _Verdict(UNKNOWN, "read-back did not list this SKU; check it by hand")
            continue
        price = now[(w.goods_id, w.sku_id)]
        if _same(price, w.new_amount):
            out[key] = _Verdict(APPLIED, f"read back: the price is {price}")
        elif w.old_amount is not None and _same(price, w.old_amount):
            if w.goods_id not in orders:
                since = min(x.started_at for x in writes if x.goods_id == w.goods_id)
                try:
                    orders[w.goods_id] = await _price_orders(shop, w.goods_id, since)
                except TemuError as exc:
                    orders[w.goods_id] = exc
            found = orders[w.goods_id]
            if isinstance(found, TemuError):
                why = f"price order check failed ({type(found).__name__}: {found})"
                out[key] = _Verdict(UNKNOWN, why + "; the next push tries again")
                continue
            order = _proposing(found, w.goods_id, w.sku_id, w.new_amount)
            if order is not None:
                out[key] = _Verdict(APPLIED, f"read back: price order {order} proposes it")
            else:
                out[key] = _Verdict(NOT_APPLIED, f"read back: the price is still {price}")
        else:
            out[key] = _Verdict(
                UNKNOWN,
                f"read back {price}: neither the old ({w.old_amount}) nor the new price;"
                " check it by hand",
            )
    return out


async def _resolve(
    shops: Mapping[str, ShopClient], store: PricePushStore
) -> dict[tuple[str, int, int], tuple[PriceWrite, _Verdict]]:
    """Read back every open write of these shops; record and return the verdicts."""
    by_shop: dict[str, list[PriceWrite]] = {}
    for w in store.open_price_writes():
        if w.shop in shops:
            by_shop.setdefault(w.shop, []).append(w)
    out: dict[tuple[str, int, int], tuple[PriceWrite, _Verdict]] = {}
    for name, writes in by_shop.items():
        verdicts = await _verify(shops[name], writes)
        store.settle_price_writes(
            [(w.id or 0, verdicts[w.id or 0].state, verdicts[w.id or 0].detail) for w in writes]
        )
        for w in writes:
            out[(w.shop, w.goods_id, w.sku_id)] = (w, verdicts[w.id or 0])
        log.info("shop %s: %d open price writes read back", name, len(writes))
    return out


# ---- 2b. changes still under review ----------------------------------------------------
#
# An accepted change may wait for Temu's review, and until it is approved the SKU's price
# reads as the old one. A pull in that window stores the old price, and the plan then
# sees the change as still to do: sending it again would open a second price order for a
# change that has run. So before sending, the seller's price orders under review are
# listed (one paged query per shop), and a row whose SKU already has one proposing the
# same price waits for it.


async def _under_review(
    shop: ShopClient,
) -> dict[tuple[int, int], list[PricePriceOrdersPriceAudit]]:
    """(goodsId, skuId) -> the seller's price orders for it that Temu is still reviewing."""
    out: dict[tuple[int, int], list[PricePriceOrdersPriceAudit]] = {}
    page = 1
    while True:
        result = await shop.price.price_orders(
            page=page, size=_PRICE_ORDER_PAGE, price_order_type=_SELLER_CHANGE, status=_UNDER_REVIEW
        )
        rows = result.price_audit_list or []
        for row in rows:
            if row.goods_id is None:
                continue
            for sku_id in row.sku_id_list or ():
                out.setdefault((row.goods_id, sku_id), []).append(row)
        if not rows or page * _PRICE_ORDER_PAGE >= (result.total or 0):
            return out
        if page >= _REVIEW_PAGES_MAX:
            # A gateway that keeps paging past any real number of reviews is not read
            # to the end: the caller then sends nothing rather than guess.
            raise MalformedResponse(
                f"more than {_REVIEW_PAGES_MAX} pages of price orders under review "
                f"(total {result.total})",
                api_type=PRICE_ORDER_TYPE,
            )
        page += 1


async def _hold_reviewed(shop: ShopClient, rows: list[PushResult]) -> list[PushResult]:
    """The rows of one shop still to send; the others are settled here (awaiting review,
    or unknown when the review list cannot be read)."""
    try:
        pending = await _under_review(shop)
    except TemuError as exc:
        for r in rows:
            r.status = ROW_UNKNOWN
            r.detail = (
                f"could not list price changes under review ({type(exc).__name__}: {exc}); "
                "not sent, so as not to repeat one: run the push again"
            )
        return []
    out = []
    for r in rows:
        key = (r.goods_id, r.sku_id)
        order = _proposing(pending.get(key, ()), r.goods_id, r.sku_id, r.new_price)
        if order is not None:
            r.status = AWAITING_REVIEW
            r.detail = (
                f"price order {order} proposes this price and awaits Temu's review; not sent again"
            )
        else:
            out.append(r)
    return out


# ---- 3. send ----------------------------------------------------------------------------


def _outcomes(rows: list[PushResult], result: PriceChangeSkuPriceResult) -> None:
    ok = set(result.success_sku_list or ())
    failed = set(result.failed_sku_list or ())
    reasons = result.failed_sku_reason_map or {}
    orders = {
        sku: po.price_order_sn
        for po in result.success_price_order_list or ()
        for sku in po.sku_id_list or ()
    }
    for r in rows:
        if r.sku_id in ok:
            r.status = ROW_APPLIED
            sn = orders.get(r.sku_id)
            r.detail = f"price order {sn}" if sn else ""
        elif r.sku_id in failed:
            r.status = ROW_FAILED
            reason = reasons.get(str(r.sku_id))
            r.detail = str(reason or "refused")
        else:
            # The call succeeded yet names neither outcome for this SKU.
            r.status = ROW_UNKNOWN
            r.detail = "the answer lists this SKU neither as changed nor as failed"


_STATE_OF: dict[str, WriteState] = {ROW_APPLIED: APPLIED, ROW_FAILED: FAILED, ROW_UNKNOWN: UNKNOWN}


async def _send(
    shop: ShopClient, store: PricePushStore, goods_id: int, rows: list[PushResult]
) -> None:
    ids = store.begin_price_writes(
        [
            PriceWrite(r.shop, r.goods_id, r.sku_id, r.old_price, r.new_price, r.currency)
            for r in rows
        ]
    )
    change = PriceChangeSkuPriceChangeSkuPriceDtoParam(
        sku_change_price_base_dto_list=[
            PriceChangeSkuPriceSkuChangePriceBaseDtoParam(
                sku_id=r.sku_id,
                new_supplier_price=DecimalMoney(amount=r.new_price, currency=r.currency),
            )
            for r in rows
        ]
    )
    try:
        # A write: sent once (the client never repeats it after an ambiguous failure).
        result = await shop.price.change_sku_price(
            goods_id=goods_id, change_sku_price_dto_list=[change]
        )
    except OutcomeUnknown as exc:
        for r in rows:
            r.status = ROW_UNKNOWN
            r.detail = f"{exc}; the next push reads the price back before sending anything"
    except TemuError as exc:
        for r in rows:
            r.status, r.detail = ROW_FAILED, str(exc)
    except Exception as exc:
        # Not a failure the client classified: it may have run.
        for r in rows:
            r.status = ROW_UNKNOWN
            r.detail = f"{type(exc).__name__}: {exc}; the next push reads the price back"
    else:
        _outcomes(rows, result)
    store.settle_price_writes(
        [(i, _STATE_OF[r.status], r.detail) for i, r in zip(ids, rows, strict=True)]
    )


# ---- the push ---------------------------------------------------------------------------


async def push_prices(
    shops: Mapping[str, ShopClient],
    store: PricePushStore,
    changes: Sequence[PriceChange],
    *,
    dry_run: bool = False,
    concurrency: int = 4,
    on_row: Callable[[PushResult], None] | None = None,
) -> list[PushResult]:
    """Resolve open writes, then send the changed rows (one call per goods).

    Every CSV row gets a result; ``on_row`` is called with each as soon as it is final
    (rows that need no request first, then each goods as its answer comes back).
    A dry run reads nothing back and sends nothing.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    wanted = {c.shop for c in changes}
    missing = wanted - set(shops)
    if missing:
        raise ValueError(f"price CSV names shops that are not configured: {sorted(missing)}")
    emit = on_row or (lambda _row: None)
    if dry_run:
        plan = plan_push(store, changes)
        open_writes = {(w.shop, w.goods_id, w.sku_id) for w in store.open_price_writes()}
        for r in plan:
            if (r.shop, r.goods_id, r.sku_id) in open_writes:
                r.verified = TO_READ_BACK
                r.detail = "an earlier write's outcome is not known: the push reads it back first"
            emit(r)
        return plan
    verdicts = await _resolve({n: s for n, s in shops.items() if n in wanted}, store)
    plan = plan_push(store, changes)
    by_shop: dict[str, list[PushResult]] = {}
    for r in plan:
        found = verdicts.get((r.shop, r.goods_id, r.sku_id))
        if found is not None:
            write, verdict = found
            if verdict.state == UNKNOWN:
                r.status, r.verified = ROW_UNKNOWN, STILL_UNKNOWN
                r.detail = f"{verdict.detail}; not sent"
            elif verdict.state == APPLIED:
                r.verified = VERIFIED_APPLIED
                if r.status == UNCHANGED and _same(write.new_amount, r.new_price):
                    # The unknown write was this very change: it is done.
                    r.status, r.old_price = ROW_APPLIED, write.old_amount
                r.detail = verdict.detail
            else:
                r.verified = VERIFIED_NOT_APPLIED
        if r.status == WOULD_CHANGE:
            by_shop.setdefault(r.shop, []).append(r)
        else:
            emit(r)
    to_send: dict[tuple[str, int], list[PushResult]] = {}
    for name, rows in by_shop.items():
        for r in await _hold_reviewed(shops[name], rows):
            to_send.setdefault((r.shop, r.goods_id), []).append(r)
        for r in rows:
            if r.status != WOULD_CHANGE:
                emit(r)
    sem = asyncio.Semaphore(concurrency)

    async def one(shop_name: str, goods_id: int, rows: list[PushResult]) -> None:
        async with sem:
            await _send(shops[shop_name], store, goods_id, rows)
        for r in rows:
            emit(r)

    await asyncio.gather(*(one(s, g, rows) for (s, g), rows in to_send.items()))
    return plan


def report_counts(rows: Iterable[PushResult]) -> str:
    """A one-line tally, e.g. ``3 applied, 1 unchanged, 1 unknown (1 verified applied)``."""
    counts: dict[str, int] = {}
    verified: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
        if r.verified:
            verified[r.verified] = verified.get(r.verified, 0) + 1
    text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no rows"
    if verified:
        text += " (read back: " + ", ".join(f"{n} {s}" for s, n in sorted(verified.items())) + ")"
    return text
