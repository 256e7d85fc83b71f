"""The sandbox on the generated catalogue (skipped until codegen has written catalogue.json)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sandbox_support import call, sign

from temu_async.sandbox import CATALOGUE_PATH, ManualClock, Sandbox, SandboxConfig, load_catalogue

pytestmark = pytest.mark.skipif(
    not CATALOGUE_PATH.exists(), reason="catalogue.json not generated yet"
)


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(
        SandboxConfig(seed=6, orders=150, rate_limit=100_000, clock=ManualClock())
    ) as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def test_every_type_answers_an_envelope(sb: Sandbox, session: aiohttp.ClientSession) -> None:
    cat = load_catalogue()
    creds = sb.credentials
    for spec in cat.types:
        body: dict[str, Any] = {
            "type": spec.type,
            "app_key": creds.app_key,
            "access_token": creds.shops[0].access_token,
            "timestamp": int(sb.server_time()),
            "data_type": "JSON",
        }
        body["sign"] = sign(creds.app_secret, body)
        async with session.post(sb.url, json=body) as resp:
            assert resp.status == 200
            got = await resp.json()
        assert isinstance(got["success"], bool) and isinstance(got["errorCode"], int), spec.type
        if spec.documented and any(p.required for p in spec.params):
            assert got["success"] is False, spec.type


async def test_the_order_flow_passes_the_real_param_rules(
    sb: Sandbox, session: aiohttp.ClientSession
) -> None:
    page = await call(
        session,
        sb,
        "bg.order.list.v2.get",
        {"pageNumber": 1, "pageSize": 5, "parentOrderStatus": 2},
    )
    assert page["success"], page
    item = page["result"]["pageItems"][0]
    sn = item["parentOrderMap"]["parentOrderSn"]
    for t in ("bg.order.detail.v2.get", "bg.order.shippinginfo.v2.get", "bg.order.amount.query"):
        assert (await call(session, sb, t, {"parentOrderSn": sn}))["success"], t
    carriers = await call(session, sb, "bg.logistics.companies.get", {"regionId": 211})
    wh = await call(session, sb, "bg.logistics.warehouse.list.get")
    confirm = await call(
        session,
        sb,
        "bg.logistics.shipment.v2.confirm",
        {
            "sendType": 0,
            "sendRequestList": [
                {
                    "carrierId": carriers["result"][0]["logisticsServiceProviderId"],
                    "trackingNumber": "9400100000000000000001",
                    "selfShippingWarehouseId": wh["result"]["warehouseList"][0]["warehouseId"],
                    "orderSendInfoList": [
                        {
                            "parentOrderSn": sn,
                            "orderSn": c["orderSn"],
                            "goodsId": c["goodsId"],
                            "skuId": c["skuId"],
                            "quantity": c["quantity"],
                        }
                        for c in item["orderList"]
                    ],
                }
            ],
        },
    )
    assert confirm["success"], confirm
    after = await call(session, sb, "bg.order.detail.v2.get", {"parentOrderSn": sn})
    assert after["result"]["parentOrderMap"]["parentOrderStatus"] == 4


async def test_goods_and_prices_pass_the_real_param_rules(
    sb: Sandbox, session: aiohttp.ClientSession
) -> None:
    goods = await call(
        session,
        sb,
        "bg.local.goods.list.query",
        {"pageNo": 1, "pageSize": 10, "goodsSearchType": 1, "goodsStatusFilterType": 1},
    )
    assert goods["success"], goods
    g = goods["result"]["goodsList"][0]
    stock = await call(
        session,
        sb,
        "bg.local.goods.stock.edit",
        {
            "goodsId": g["goodsId"],
            "skuStockChangeList": [{"skuId": g["skuIdList"][0], "stockDiff": 1}],
        },
    )
    assert stock["success"], stock
    prices = await call(
        session,
        sb,
        "bg.local.goods.sku.list.price.query",
        {"querySupplierPriceBaseList": [{"goodsId": g["goodsId"], "skuIdList": g["skuIdList"]}]},
    )
    assert prices["success"], prices
    orders = await call(session, sb, "bg.local.goods.priceorder.query", {"page": 1, "size": 20})
    assert orders["success"], orders
