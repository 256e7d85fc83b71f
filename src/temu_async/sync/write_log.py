"""The price write log: what a store must keep so that a price push never repeats a write.

A price change is not safe to repeat (each one opens a price order on Temu). The
push therefore commits an *intent* before each request and the *outcome* after
it, in the same store (and database) as the prices themselves:

1. ``begin_price_writes(writes)`` — one transaction: one ``sending`` row per SKU
   of the request about to go out. The store refuses a SKU that already has an
   open write (``sending`` or ``unknown``): that one must be resolved first.
2. the request is sent;
3. ``settle_price_writes(outcomes)`` — one transaction: each row's state becomes
   ``applied`` (and the stored price becomes the new price), ``failed`` (the
   gateway refused; nothing changed), ``unknown`` (it may or may not have run),
   or ``not_applied`` (a read-back showed the old price).

A process killed between 1 and 3 leaves ``sending`` rows: exactly the writes
whose fate nobody knows. ``open_price_writes()`` lists them (and the ``unknown``
ones); the next push reads those SKUs' prices back before it sends anything.

:class:`~temu_async.sync.sqlite_store.SqliteStore` implements this contract; any
other store used for price pushes implements the same three methods with the
same transactional meaning (:class:`PriceWriteLog`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from temu_async.sync.sqlite_store import PriceRow

__all__ = [
    "APPLIED",
    "FAILED",
    "NOT_APPLIED",
    "OPEN_STATES",
    "SENDING",
    "UNKNOWN",
    "PricePushStore",
    "PriceWrite",
    "PriceWriteLog",
    "WriteState",
]

WriteState = Literal["sending", "applied", "failed", "unknown", "not_applied"]

SENDING: WriteState = "sending"
"""Intent committed, no outcome recorded (the process may have died mid-request)."""
APPLIED: WriteState = "applied"
"""The gateway accepted the change, or a read-back found the new price."""
FAILED: WriteState = "failed"
"""The gateway refused it, or it provably never ran."""
UNKNOWN: WriteState = "unknown"
"""It may or may not have run (dropped connection, timeout, ambiguous answer)."""
NOT_APPLIED: WriteState = "not_applied"
"""A read-back after an unknown outcome found the old price: it did not run."""

OPEN_STATES: frozenset[str] = frozenset({SENDING, UNKNOWN})
"""States that must be resolved (read back) before that SKU's price is sent again."""


@dataclass(frozen=True)
class PriceWrite:
    """One SKU's price change, as logged."""

    shop: str
    goods_id: int
    sku_id: int
    old_amount: str | None
    new_amount: str
    currency: str | None
    state: WriteState = SENDING
    detail: str = ""
    id: int | None = None
    """Assigned by ``begin_price_writes``."""
    started_at: int = 0
    """Epoch milliseconds when the intent was committed (set by the store)."""


PRICE_WRITES_SELECT = (
    "SELECT id, shop, goods_id, sku_id, old_amount, new_amount, currency, state, detail,"
    " started_at FROM price_writes"
)
"""The columns :func:`price_write_from_row` reads, in its order (each store adds its WHERE)."""


def price_write_from_row(row: Sequence[Any]) -> PriceWrite:
    """A :data:`PRICE_WRITES_SELECT` row as a :class:`PriceWrite` (both stores)."""
    return PriceWrite(
        shop=row[1],
        goods_id=row[2],
        sku_id=row[3],
        old_amount=row[4],
        new_amount=row[5],
        currency=row[6],
        state=row[7],
        detail=row[8],
        id=row[0],
        started_at=row[9],
    )


class PriceWriteLog(Protocol):
    """The three methods a store offers for price pushes (see the module doc)."""

    def begin_price_writes(self, writes: Sequence[PriceWrite]) -> list[int]:
        """Commit ``sending`` rows (one transaction); their ids, in order.

        Raises :class:`~temu_async.store_errors.StoreError` if one of the SKUs
        already has an open write; nothing is committed then.
        """
        ...

    def settle_price_writes(self, outcomes: Sequence[tuple[int, WriteState, str]]) -> None:
        """Record ``(id, state, detail)`` for each write (one transaction).

        ``applied`` also sets the stored price of that SKU to the write's new amount.
        """
        ...

    def open_price_writes(self, shop: str | None = None) -> list[PriceWrite]:
        """Writes still ``sending`` or ``unknown`` (all shops unless ``shop``), oldest first."""
        ...


class PricePushStore(PriceWriteLog, Protocol):
    """What a price push needs of a store: the pulled prices and the write log."""

    def prices(self, shop: str | None = None) -> dict[tuple[str, int, int], PriceRow]:
        """(shop, goodsId, skuId) -> the stored price."""
        ...
