"""The sandbox's buy-shipping desk refuses what Temu refuses (raw calls)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from labels_support import label_config, mall_id, unshipped

from temu_async import BusinessError, ShopClient, TemuApp
from temu_async.sandbox import ManualClock, Sandbox

PARCEL = {
    "weight": "2",
    "weightUnit": "lb",
    "length": "10",
    "width": "8",
    "height": "4",
    "dimensionUnit": "in",
}


def _request(sb: Sandbox, sn: str, **extra: Any) -> dict[str, Any]:
    order = sb.world.orders.get(mall_id(sb), sn)
    assert order is not None
    return {
        "warehouseId": sb.world.shops[mall_id(sb)].warehouses[0].warehouse_id,
        "shipCompanyId": 699272612,
        "channelId": 410002,
        **PARCEL,
        "interlineShipCompanyList": [],
        "sendSubRequestList": [],
        "orderSendInfoList": [
            {
                "quantity": c.quantity,
                "orderSn": c.order_sn,
                "parentOrderSn": sn,
                "goodsId": c.goods_id,
                "skuId": c.sku_id,
            }
            for c in order.children
        ],
        **extra,
    }


async def _create(shop: ShopClient, request: dict[str, Any]) -> str:
    answer = await shop.call(
        "bg.logistics.shipment.create", {"sendType": 0, "sendRequestList": [request]}
    )
    return str(answer["packageSnList"][0])


async def test_purchase_is_asynchronous_and_refusals_match_temu() -> None:
    clock = ManualClock()
    async with Sandbox(label_config(clock=clock, label_delay=30, label_fail_first=1)) as sb:
        creds = sb.credentials
        sns = unshipped(sb, 2)
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            package = await _create(shop, _request(sb, sns[0]))

            async def status() -> int:
                r = await shop.call(
                    "bg.logistics.shipment.result.get", {"packageSnList": [package]}
                )
                return int(r["packageInfoResultList"][0]["shippingLabelStatus"])

            assert await status() == 0
            docs = await shop.call(
                "bg.logistics.shipment.document.get", {"packageSnList": [package]}
            )
            assert docs["shippingLabelUrlList"] == [] and docs["warningMessage"]
            retry = {k: v for k, v in _request(sb, sns[0]).items() if k != "sendSubRequestList"}
            retry["packageSn"] = package
            with pytest.raises(BusinessError) as info:
                await shop.call(
                    "bg.logistics.shipment.update", {"retrySendPackageRequestList": [retry]}
                )
            assert info.value.code == 120018002  # not in failed state
            with pytest.raises(BusinessError) as info:
                await _create(shop, _request(sb, sns[0]))
            assert info.value.code == 120012020 and package in info.value.message
            clock.advance(30)
            assert await status() == 2
            assert (
                await shop.call(
                    "bg.logistics.shipment.update", {"retrySendPackageRequestList": [retry]}
                )
                is True
            )
            assert await status() == 0
            clock.advance(30)
            assert await status() == 1
            with pytest.raises(BusinessError) as info:
                await _create(shop, _request(sb, sns[1], warehouseId="WH-nope"))
            assert info.value.code == 120011006
            with pytest.raises(BusinessError) as info:
                await _create(shop, _request(sb, sns[1], channelId=410003))  # carrier mismatch
            assert info.value.code == 120011110
            with pytest.raises(BusinessError) as info:
                await shop.call("bg.logistics.shipment.result.get", {"packageSnList": ["PK-x"]})
            assert info.value.code == 120018027
        assert (
            sb.world.labels.purchases[_request(sb, sns[0])["orderSendInfoList"][0]["orderSn"]] == 1
        )
        url = sb.world.labels.files_url + "/not-a-token"
        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            assert resp.status == 404
