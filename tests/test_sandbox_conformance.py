"""Every type the sandbox really implements answers in exactly the catalogue's shape.

The client decodes results strictly into the generated Structs; when a gateway's
answer differs from the documented types it falls back to a lossless conversion and
logs a warning. The sandbox must never need that fallback, or tests against it would
hide decode problems that matter against Temu.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from temu_async import ShopClient, TemuApp
from temu_async.sandbox import ManualClock, Sandbox, SandboxConfig

Step = Callable[[ShopClient, Sandbox], Awaitable[Any]]


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(SandboxConfig(seed=11, shops=1, orders=60, clock=ManualClock())) as sb:
        yield sb


def _mall(sb: Sandbox) -> int:
    return sb.credentials.shops[0].mall_id


def _goods(sb: Sandbox) -> Any:
    return next(iter(sb.world.goods[_mall(sb)].values()))


def _order(sb: Sandbox) -> Any:
    return next(iter(sb.world.orders.shop(_mall(sb)).by_sn.values()))


def _parcel() -> dict[str, str]:
    return {
        "weight": "2",
        "weight_unit": "lb",
        "length": "10",
        "width": "8",
        "height": "4",
        "dimension_unit": "in",
    }


def _unshipped(sb: Sandbox) -> Any:
    return next(o for o in sb.world.orders.shop(_mall(sb)).by_sn.values() if o.status == 2)


async def _buy(s: ShopClient, sb: Sandbox, ship_later: bool = False) -> str:
    """Buy one label through the typed methods; returns the package number."""
    order = _unshipped(sb)
    wid = sb.world.shops[_mall(sb)].warehouses[0].warehouse_id
    services = await s.logistics.shipping_services(
        warehouse_id=wid,
        ship_order_info_list=[
            {"orderSn": c.order_sn, "parentOrderSn": order.parent_order_sn, "quantity": c.quantity}
            for c in order.children
        ],
        **_parcel(),
    )
    channel = services.online_channel_dto_list[0]
    created = await s.fulfillment.shipment_create(
        send_type=0,
        ship_later=ship_later,
        send_request_list=[
            {
                "warehouseId": wid,
                "shipCompanyId": channel.ship_company_id,
                "channelId": channel.channel_id,
                "weight": "2",
                "weightUnit": "lb",
                "length": "10",
                "width": "8",
                "height": "4",
                "dimensionUnit": "in",
                "interlineShipCompanyList": [],
                "sendSubRequestList": [],
                "orderSendInfoList": [
                    {
                        "quantity": c.quantity,
                        "orderSn": c.order_sn,
                        "parentOrderSn": order.parent_order_sn,
                        "goodsId": c.goods_id,
                        "skuId": c.sku_id,
                    }
                    for c in order.children
                ],
            }
        ],
    )
    sb.clock.advance(sb.config.label_delay + 1)  # type: ignore[attr-defined]
    return created.package_sn_list[0]


async def _result(s: ShopClient, sb: Sandbox) -> Any:
    return await s.fulfillment.shipment_result(package_sn_list=[await _buy(s, sb)])


async def _document(s: ShopClient, sb: Sandbox) -> Any:
    package = await _buy(s, sb)
    return await s.fulfillment.shipment_document(
        package_sn_list=[package], document_type="SHIPPING_LABEL_PDF"
    )


async def _unshipped_packages(s: ShopClient, sb: Sandbox) -> Any:
    await _buy(s, sb, ship_later=True)
    return await s.fulfillment.unshipped_packages(page_number=1, page_size=10)


async def _confirm_package(s: ShopClient, sb: Sandbox) -> Any:
    package = await _buy(s, sb, ship_later=True)
    result = await s.fulfillment.shipment_result(package_sn_list=[package])
    tracking = result.package_info_result_list[0].tracking_number
    return await s.fulfillment.shipped_package_confirm(
        package_send_info_list=[
            {"packageSn": package, "trackingNumber": tracking, "packageDetail": []}
        ]
    )


STEPS: dict[str, Step] = {
    "logistics.shipping_services": lambda s, sb: s.logistics.shipping_services(
        warehouse_id=sb.world.shops[_mall(sb)].warehouses[0].warehouse_id,
        order_sn_list=[_unshipped(sb).children[0].order_sn],
        **_parcel(),
    ),
    "fulfillment.shipment_create": _buy,
    "fulfillment.shipment_result": _result,
    "fulfillment.shipment_document": _document,
    "fulfillment.unshipped_packages": _unshipped_packages,
    "fulfillment.shipped_package_confirm": _confirm_package,
    "order.list_v2": lambda s, sb: s.order.list_v2(page_size=50),
    "order.detail_v2": lambda s, sb: s.order.detail_v2(parent_order_sn=_order(sb).parent_order_sn),
    "order.shipping_info_v2": lambda s, sb: s.order.shipping_info_v2(
        parent_order_sn=_order(sb).parent_order_sn
    ),
    "order.amount": lambda s, sb: s.order.amount(parent_order_sn=_order(sb).parent_order_sn),
    "goods.list": lambda s, sb: s.goods.list(
        page_no=1, page_size=20, goods_search_type=1, goods_status_filter_type=1
    ),
    "goods.detail": lambda s, sb: s.goods.detail(goods_id=_goods(sb).goods_id),
    "goods.sku_list": lambda s, sb: s.goods.sku_list(sku_search_type=2, sku_status_filter_type=1),
    "price.sku_prices": lambda s, sb: s.price.sku_prices(
        query_supplier_price_base_list=[
            {"goodsId": _goods(sb).goods_id, "skuIdList": [k.sku_id for k in _goods(sb).skus]}
        ]
    ),
    "price.price_orders": lambda s, sb: s.price.price_orders(page=1, size=20),
    "price.recommended_prices": lambda s, sb: s.price.recommended_prices(
        recommended_price_type=10, goods_id_list=[_goods(sb).goods_id]
    ),
    "logistics.companies": lambda s, sb: s.logistics.companies(region_id=211),
    "logistics.warehouses": lambda s, sb: s.logistics.warehouses(),
    "promotion.activities": lambda s, sb: s.promotion.activities(
        page_number=1, page_size=20, activity_type=2
    ),
    "auth.token_info": lambda s, sb: s.auth.token_info(),
}


@pytest.mark.filterwarnings("ignore:bg.order.amount.query is deprecated:DeprecationWarning")
@pytest.mark.parametrize("name", sorted(STEPS))
async def test_real_behaviour_answers_decode_strictly(
    sandbox: Sandbox, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="temu_async")
    creds = sandbox.credentials
    async with TemuApp(creds.app_key, creds.app_secret, "global", base_url=sandbox.url) as app:
        result = await STEPS[name](app.shop(creds.shops[0].access_token), sandbox)
    assert result is not None
    mismatches = [r.getMessage() for r in caplog.records if "documented types" in r.getMessage()]
    assert mismatches == []
