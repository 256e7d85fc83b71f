"""A realistic use of the typed client, checked by mypy --strict (tests/test_generated_typing.py).

Not collected by pytest (no test_ prefix) and never run against Temu: it exists so that a
change in the generator that loosens or breaks the types fails the test suite.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from temu_async._generated.order import OrderListV2PageItem, OrderListV2Result
from temu_async.client import CallOptions, ShopClient, TemuApp


@dataclass
class Shipment:
    parent_order_sn: str
    child_orders: list[str]
    units: int


def to_shipment(item: OrderListV2PageItem) -> Shipment | None:
    parent = item.parent_order_map
    if parent is None or parent.parent_order_sn is None:
        return None
    children = item.order_list or []
    return Shipment(
        parent_order_sn=parent.parent_order_sn,
        child_orders=[o.order_sn for o in children if o.order_sn is not None],
        units=sum(o.quantity or 0 for o in children),
    )


async def pending_shipments(shop: ShopClient, since: int) -> list[Shipment]:
    out: list[Shipment] = []
    async for item in shop.order.list_v2.items(
        parent_order_status=2,
        update_at_start=since,
        page_size=100,
        options=CallOptions(timeout=20.0),
    ):
        shipment = to_shipment(item)
        if shipment is not None:
            out.append(shipment)
    return out


async def first_page_total(shop: ShopClient) -> int:
    page: OrderListV2Result = await shop.order.list_v2(page_number=1, page_size=10)
    return page.total_item_num or 0


async def main() -> None:
    async with TemuApp("app-key", "app-secret", region="us") as app:
        shop = app.shop("access-token", name="demo-shop")
        total = await first_page_total(shop)
        shipments = await pending_shipments(shop, since=1_700_000_000)
        print(total, sum(s.units for s in shipments))


if __name__ == "__main__":
    asyncio.run(main())
