"""The rows a sync writes and the checkpoint it keeps per shop, plus the sink protocol.

A sink stores order rows and the shop's checkpoint together: :meth:`OrderSink.commit`
is one atomic step, so after a crash the checkpoint never claims more than the
rows hold, and the rows never hold a page the checkpoint will fetch again as new.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from temu_async.sync.coverage import Interval

__all__ = [
    "CommitResult",
    "OrderRecord",
    "OrderSink",
    "ShopState",
    "StoredVersion",
    "order_rows",
    "rows_to_write",
]


@dataclass
class OrderRecord:
    """One parent order with its child orders, as the list type returned it."""

    parent_order_sn: str
    update_time: int | None
    parent: dict[str, Any]
    """``parentOrderMap`` as plain data in the wire names: the fields the catalogue
    describes (the sync reads results through the generated Structs)."""
    children: list[Any]
    """``orderList``, plain data likewise."""
    detail: Any = None
    """``bg.order.detail.v2.get`` result when enrichment asked for it (or an error object)."""
    shipping: Any = None
    """``bg.order.shippinginfo.v2.get`` result when asked for (or an error object)."""

    @property
    def status(self) -> int | None:
        value = self.parent.get("parentOrderStatus")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def create_time(self) -> int | None:
        value = self.parent.get("parentOrderTime")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def as_json(self, shop: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "shop": shop,
            "parentOrderSn": self.parent_order_sn,
            "updateTime": self.update_time,
            "parentOrderMap": self.parent,
            "orderList": self.children,
        }
        if self.detail is not None:
            out["detail"] = self.detail
        if self.shipping is not None:
            out["shippingInfo"] = self.shipping
        return out


class ShopState(msgspec.Struct, omit_defaults=True, kw_only=True):
    """A shop's order-sync checkpoint.

    ``synced_through``: every order updated at or before this second was stored by a
    completed run. While a run is under way, ``run_start``/``run_end`` are its target
    and ``covered`` the update-time intervals of it already stored.
    """

    synced_through: int | None = None
    run_start: int | None = None
    run_end: int | None = None
    covered: list[Interval] = msgspec.field(default_factory=list)

    @property
    def in_progress(self) -> bool:
        return self.run_start is not None and self.run_end is not None

    def encode(self) -> bytes:
        return msgspec.json.encode(self)

    @classmethod
    def decode(cls, raw: bytes | str) -> ShopState:
        return msgspec.json.decode(raw, type=cls)


@dataclass(frozen=True)
class StoredVersion:
    update_time: int | None
    has_detail: bool
    has_shipping: bool


@dataclass
class CommitResult:
    new: int = 0
    changed: int = 0
    """Existing rows replaced by a newer version."""
    same: int = 0
    """Existing rows fetched again at the version already stored (overlap, re-walks)."""
    stale: int = 0
    """Rows not written because the store already holds a newer version."""
    fresh_sns: list[str] = field(default_factory=list)
    """Orders that are new or changed: the ones worth enriching."""

    @property
    def written(self) -> int:
        return self.new + self.changed


def rows_to_write(
    batch: Iterable[OrderRecord], stored: dict[str, int | None]
) -> tuple[CommitResult, list[OrderRecord]]:
    """The store-independent half of a commit: which records to write, and the counts.

    ``stored`` maps the batch's parentOrderSns already in the store to their update time.
    A record older than the stored version is not written (``stale``); the rest are new,
    changed or the same version again. Later duplicates in the batch compare against the
    earlier one. Every store applies this one rule, inside its own transaction.
    """
    result = CommitResult()
    versions: dict[str, int | None] = dict(stored)
    out: list[OrderRecord] = []
    for rec in batch:
        sn = rec.parent_order_sn
        if sn not in versions:
            result.new += 1
            result.fresh_sns.append(sn)
        else:
            old = versions[sn]
            if old is not None and rec.update_time is not None and rec.update_time < old:
                result.stale += 1
                continue
            if old is not None and old == rec.update_time:
                result.same += 1
            else:
                result.changed += 1
                result.fresh_sns.append(sn)
        out.append(rec)
        versions[sn] = rec.update_time
    return result, out


def _json(value: Any) -> str | None:
    return None if value is None else msgspec.json.encode(value).decode()


OrderRow = tuple[
    str,
    str,
    int | None,
    int | None,
    int | None,
    str | None,
    str | None,
    str | None,
    str | None,
    int,
]
"""(shop, parentOrderSn, status, update time, create time, parent, children, detail,
shipping, synced at): one ``orders`` row, the JSON parts as text."""


def order_rows(shop: str, records: Iterable[OrderRecord], now: int) -> list[OrderRow]:
    """The ``orders`` rows of ``records``, in the column order both stores' upserts take."""
    return [
        (
            shop,
            rec.parent_order_sn,
            rec.status,
            rec.update_time,
            rec.create_time,
            _json(rec.parent),
            _json(rec.children),
            _json(rec.detail),
            _json(rec.shipping),
            now,
        )
        for rec in records
    ]


class OrderSink(Protocol):
    """Where an order sync writes. Implementations: ``SqliteStore``, ``JsonlSink``."""

    def load_state(self, shop: str) -> ShopState: ...

    def stored_versions(self, shop: str, sns: Sequence[str]) -> dict[str, StoredVersion]: ...

    def commit(self, shop: str, records: Iterable[OrderRecord], state: ShopState) -> CommitResult:
        """Write the rows and the checkpoint atomically (both or neither)."""
        ...

    def close(self) -> None: ...
