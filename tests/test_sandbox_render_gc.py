"""Rendered orders stay out of the garbage collector's way.

The sandbox caches each order's rendered page item for the life of the world. If those
structures were tracked by the cyclic collector, every full collection would walk all of
them and stall the sandbox's loop for tens of milliseconds once the world is large, and
requests arriving meanwhile would be counted late and bunched (a rate-window artefact
no real gateway shows). So they are cached as encoded JSON, which the collector ignores.
"""

from __future__ import annotations

import gc

import msgspec

from temu_async.sandbox import Sandbox, SandboxConfig
from temu_async.sandbox.handlers.orders import _page


def test_a_rendered_page_holds_nothing_the_collector_must_walk() -> None:
    sb = Sandbox(SandboxConfig(seed=3, shops=1, orders=40, order_arrival_per_hour=0.0))
    book = next(iter(sb.world.orders.shops.values()))
    orders = list(book.by_sn.values())
    page = _page(len(orders), orders)
    items = page["pageItems"]
    assert len(items) == 40
    assert not any(gc.is_tracked(item) for item in items)
    # The cache is the same item as before, only encoded: the order's own fields.
    decoded = msgspec.json.decode(msgspec.json.encode(page))
    first = decoded["pageItems"][0]
    assert first["parentOrderMap"]["parentOrderSn"] == orders[0].parent_order_sn
    assert [c["orderSn"] for c in first["orderList"]] == [c.order_sn for c in orders[0].children]
    # A second page of the same orders reuses the cache (the same objects).
    assert _page(len(orders), orders)["pageItems"][0] is items[0]
