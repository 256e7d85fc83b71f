"""Orders of every shop, indexed so a list query does not walk all of them.

Per shop: a dict by parent order number, a list sorted by creation time (orders
only ever arrive in time order, so it is append-only) and a list sorted by
update time (kept sorted with bisect on every status change). A time-window
query bisects the matching list and filters only that slice.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

from .models import (
    CANCELED,
    PARTIALLY_RECEIVED,
    PARTIALLY_SHIPPED,
    PENDING,
    RECEIPTED,
    SHIPPED,
    UN_SHIPPING,
    ParentOrder,
)

__all__ = ["OrderBook", "ShopOrders", "aggregate_status"]


def aggregate_status(child_statuses: Iterable[int]) -> int:
    """The parent status implied by its children's statuses."""
    live = [s for s in child_statuses if s != CANCELED]
    if not live:
        return CANCELED
    if any(s == PENDING for s in live):
        return PENDING
    kinds = set(live)
    if kinds == {UN_SHIPPING}:
        return UN_SHIPPING
    if kinds == {SHIPPED}:
        return SHIPPED
    if kinds == {RECEIPTED}:
        return RECEIPTED
    if UN_SHIPPING in kinds:
        return PARTIALLY_SHIPPED
    return PARTIALLY_RECEIVED


@dataclass
class ShopOrders:
    by_sn: dict[str, ParentOrder] = field(default_factory=dict)
    by_created: list[tuple[int, str]] = field(default_factory=list)
    by_updated: list[tuple[int, str]] = field(default_factory=list)

    def add(self, order: ParentOrder) -> None:
        self.by_sn[order.parent_order_sn] = order
        key = (order.created, order.parent_order_sn)
        if not self.by_created or self.by_created[-1] <= key:
            self.by_created.append(key)
        else:
            bisect.insort(self.by_created, key)
        bisect.insort(self.by_updated, (order.updated, order.parent_order_sn))

    def touch(self, order: ParentOrder, when: int) -> None:
        """Move an order to a new update time in the index."""
        old = (order.updated, order.parent_order_sn)
        i = bisect.bisect_left(self.by_updated, old)
        if i < len(self.by_updated) and self.by_updated[i] == old:
            del self.by_updated[i]
        order.updated = when
        order.list_item = None
        bisect.insort(self.by_updated, (when, order.parent_order_sn))

    @staticmethod
    def bounds(index: list[tuple[int, str]], start: int | None, end: int | None) -> tuple[int, int]:
        """Slice of a time index inside [start, end] (both ends inclusive, as documented)."""
        lo = 0 if start is None else bisect.bisect_left(index, (start, ""))
        hi = len(index) if end is None else bisect.bisect_right(index, (end, "\uffff"))
        return lo, max(lo, hi)

    @classmethod
    def _window(cls, index: list[tuple[int, str]], start: int | None, end: int | None) -> list[str]:
        lo, hi = cls.bounds(index, start, end)
        return [sn for _, sn in index[lo:hi]]

    def created_between(self, start: int | None, end: int | None) -> list[str]:
        return self._window(self.by_created, start, end)

    def updated_between(self, start: int | None, end: int | None) -> list[str]:
        return self._window(self.by_updated, start, end)


class OrderBook:
    def __init__(self) -> None:
        self.shops: dict[int, ShopOrders] = {}
        self._owner: dict[str, int] = {}
        self._child_owner: dict[str, str] = {}

    def shop(self, mall_id: int) -> ShopOrders:
        got = self.shops.get(mall_id)
        if got is None:
            got = self.shops[mall_id] = ShopOrders()
        return got

    def add(self, order: ParentOrder) -> None:
        self.shop(order.mall_id).add(order)
        self._owner[order.parent_order_sn] = order.mall_id
        for child in order.children:
            self._child_owner[child.order_sn] = order.parent_order_sn

    def get(self, mall_id: int, parent_order_sn: str) -> ParentOrder | None:
        shop = self.shops.get(mall_id)
        return shop.by_sn.get(parent_order_sn) if shop else None

    def find(self, parent_order_sn: str) -> ParentOrder | None:
        mall = self._owner.get(parent_order_sn)
        return None if mall is None else self.get(mall, parent_order_sn)

    def set_status(self, order: ParentOrder, status: int, when: int) -> int:
        """Set every live child to ``status``; returns the parent's old status."""
        old = order.status
        for child in order.children:
            if child.status != CANCELED:
                child.status = status
        self.refresh(order, when)
        return old

    def refresh(self, order: ParentOrder, when: int) -> None:
        order.status = aggregate_status(c.status for c in order.children)
        self.shop(order.mall_id).touch(order, when)

    def __len__(self) -> int:
        return sum(len(s.by_sn) for s in self.shops.values())
