"""What Temu sends for one order change: the event codes and their payloads.

The sandbox's pusher (:mod:`.webhook_push`) delivers these; this module only decides them,
from the world's record of a parent order's status change. Payload fields and units follow
spec/events.yaml.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .models import (
    CANCELED,
    PARTIALLY_RECEIVED,
    PARTIALLY_SHIPPED,
    RECEIPTED,
    SHIPPED,
    OrderStatusChange,
    ParentOrder,
)

__all__ = ["CANCEL_EVENT", "ORDER_EVENTS", "ORDER_STATUS_EVENT", "order_events"]

ORDER_STATUS_EVENT = "bg_order_status_change_event"
CANCEL_EVENT = "bg_cancel_order_status_change"
ORDER_EVENTS: tuple[str, ...] = (ORDER_STATUS_EVENT, CANCEL_EVENT)
"""The events the sandbox's order changes produce (the default subscription)."""

_BUYER = 1  # applyOperatorRole: the sandbox's cancellations are all the buyer's
_REFUNDED = 5  # parentAfterSalesStatus of a settled cancellation


def _changed_children(
    order: ParentOrder, change: OrderStatusChange, delivery_seconds: int
) -> list[tuple[str, int]]:
    """(orderSn, status) of the child orders this parent change moved.

    The world records changes per parent; which children moved follows from how it moves
    them: confirmation and cancellation move every live child, a shipment the children
    shipped at that moment, a receipt those shipped exactly ``delivery_seconds`` earlier.
    """
    new, at = change.new_status, change.at
    if new in (SHIPPED, PARTIALLY_SHIPPED):
        moved = [c for c in order.children if c.status == SHIPPED and c.shipped_at == at]
    elif new in (RECEIPTED, PARTIALLY_RECEIVED):
        moved = [
            c
            for c in order.children
            if c.status == RECEIPTED and c.shipped_at + delivery_seconds == at
        ]
    else:
        moved = [c for c in order.children if c.status == new]
    if not moved:
        # A move the rules above do not know: report every child as it now stands.
        moved = list(order.children)
    return [(c.order_sn, c.status) for c in moved]


def order_events(
    change: OrderStatusChange,
    order: ParentOrder | None,
    *,
    region_id: int,
    delivery_seconds: int,
    events: Iterable[str] = ORDER_EVENTS,
) -> list[tuple[str, dict[str, Any]]]:
    """The (event code, payload) pairs Temu sends for one parent status change.

    ``bg_order_status_change_event`` once per child order that moved (the payload names a
    child ``orderSn`` and its ``orderStatus``), and for a cancellation also
    ``bg_cancel_order_status_change``, settled (refunded) for the buyer. Only codes in
    ``events`` are produced. Payload fields and units follow spec/events.yaml.
    """
    wanted = set(events)
    out: list[tuple[str, dict[str, Any]]] = []
    if ORDER_STATUS_EVENT in wanted:
        children: Sequence[tuple[str | None, int]] = [(None, change.new_status)]
        if order is not None:
            children = _changed_children(order, change, delivery_seconds)
        for order_sn, status in children:
            payload: dict[str, Any] = {
                "mallId": change.mall_id,
                "parentOrderSn": change.parent_order_sn,
            }
            if order_sn is not None:
                payload["orderSn"] = order_sn
            payload["orderStatus"] = status
            payload["updateTime"] = change.at  # seconds, per the docs
            out.append((ORDER_STATUS_EVENT, payload))
    if CANCEL_EVENT in wanted and change.new_status == CANCELED:
        out.append(
            (
                CANCEL_EVENT,
                {
                    "mallId": change.mall_id,
                    "parentAfterSalesSn": _cancel_case_sn(change.parent_order_sn, region_id),
                    "parentOrderSn": change.parent_order_sn,
                    "parentAfterSalesStatus": _REFUNDED,
                    "updateAt": change.at * 1000,  # milliseconds, per the docs
                    "applyOperatorRole": _BUYER,
                },
            )
        )
    return out


def _cancel_case_sn(parent_order_sn: str, region_id: int) -> str:
    # Derived from the order number, so the same order always names the same case; the
    # world's seeded after-sales numbers have 12 digits, these the order's 17: no clash.
    digits = parent_order_sn.rsplit("-", 1)[-1]
    return f"PAS-{region_id}-{digits}"
