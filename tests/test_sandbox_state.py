"""Seeded state and real behaviour: orders (filters, pages, movement), shipment, tokens, stock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sandbox_support import call, small_catalogue

from temu_async.sandbox import ManualClock, OrderStatusChange, Sandbox, SandboxConfig

LIST = "bg.order.list.v2.get"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    cfg = SandboxConfig(
        seed=21,
        orders=300,
        catalogue=small_catalogue(),
        clock=ManualClock(),
        rate_limit=10_000,
        order_arrival_per_hour=6,
    )
    async with Sandbox(cfg) as running:
        yield running


async def _all(
    session: aiohttp.ClientSession, sb: Sandbox, params: dict[str, Any], size: int = 37
) -> list[dict[str, Any]]:
    """Walk every page; check totals agree on every page."""
    items: list[dict[str, Any]] = []
    page = 1
    total = None
    while True:
        got = await call(session, sb, LIST, {**params, "pageNumber": page, "pageSize": size})
        assert got["success"], got
        res = got["result"]
        total = res["totalItemNum"] if total is None else total
        assert res["totalItemNum"] == total
        items.extend(res["pageItems"])
        if len(res["pageItems"]) < size:
            break
        page += 1
    assert len(items) == total
    return items


def test_same_seed_same_world() -> None:
    cfg = dict(seed=4, orders=50, catalogue=small_catalogue(), clock=ManualClock())
    a, b = Sandbox(SandboxConfig(**cfg)), Sandbox(SandboxConfig(**{**cfg, "clock": ManualClock()}))  # type: ignore[arg-type]
    assert a.credentials == b.credentials
    sns = lambda s: [sn for _, sn in s.world.orders.shop(s.credentials.shops[0].mall_id).by_created]  # noqa: E731
    assert sns(a) == sns(b)
    c = Sandbox(SandboxConfig(**{**cfg, "seed": 5, "clock": ManualClock()}))  # type: ignore[arg-type]
    assert c.credentials.app_key != a.credentials.app_key


async def test_order_list_pages_and_filters(sb: Sandbox, session: aiohttp.ClientSession) -> None:
    everything = await _all(session, sb, {})
    assert len(everything) == 300
    times = [i["parentOrderMap"]["parentOrderTime"] for i in everything]
    assert times == sorted(times, reverse=True)  # newest first
    assert len({i["parentOrderMap"]["parentOrderSn"] for i in everything}) == 300
    assert all(i["orderList"] and i["orderList"][0]["orderSn"] for i in everything)

    by_status: dict[int, int] = {}
    for i in everything:
        by_status[i["parentOrderMap"]["parentOrderStatus"]] = (
            by_status.get(i["parentOrderMap"]["parentOrderStatus"], 0) + 1
        )
    assert {2, 5}.issubset(by_status)  # history holds unshipped and received orders
    for status, count in by_status.items():
        got = await _all(session, sb, {"parentOrderStatus": status})
        assert len(got) == count
        assert {i["parentOrderMap"]["parentOrderStatus"] for i in got} == {status}

    lo, hi = sorted(times)[100], sorted(times)[199]
    window = await _all(session, sb, {"createAfter": lo, "createBefore": hi})
    assert len(window) == sum(lo <= t <= hi for t in times)  # both ends inclusive
    assert len(window) >= 100

    updates = sorted(i["parentOrderMap"]["updateTime"] for i in everything)
    u_lo, u_hi = updates[50], updates[120]
    upd = await _all(
        session, sb, {"updateAtStart": u_lo, "updateAtEnd": u_hi, "sortby": "updateTime"}
    )
    assert len(upd) == sum(u_lo <= u <= u_hi for u in updates)
    got_updates = [i["parentOrderMap"]["updateTime"] for i in upd]
    assert got_updates == sorted(got_updates, reverse=True)

    combo = await _all(session, sb, {"createAfter": lo, "createBefore": hi, "parentOrderStatus": 5})
    assert len(combo) == sum(
        lo <= i["parentOrderMap"]["parentOrderTime"] <= hi
        and i["parentOrderMap"]["parentOrderStatus"] == 5
        for i in everything
    )

    pick = [
        everything[3]["parentOrderMap"]["parentOrderSn"],
        everything[250]["parentOrderMap"]["parentOrderSn"],
        "PO-211-0",
    ]
    by_sn = await call(session, sb, LIST, {"parentOrderSnList": pick})
    assert {i["parentOrderMap"]["parentOrderSn"] for i in by_sn["result"]["pageItems"]} == set(
        pick[:2]
    )

    beyond = await call(session, sb, LIST, {"pageNumber": 99, "pageSize": 10})
    assert beyond["result"] == {"totalItemNum": 300, "pageItems": []}
    default = await call(session, sb, LIST)
    assert len(default["result"]["pageItems"]) == 10  # server default page size


async def test_filter_errors(sb: Sandbox, session: aiohttp.ClientSession) -> None:
    ms = await call(
        session, sb, LIST, {"updateAtStart": 1_700_000_000_000, "updateAtEnd": 1_700_000_000_001}
    )
    assert ms["errorCode"] == 140020014
    one = await call(session, sb, LIST, {"updateAtEnd": 5})
    assert (one["errorCode"], one["errorMsg"]) == (140020013, "updateAtStart not passed in")


async def test_orders_move_with_the_clock_and_the_hook_sees_it() -> None:
    seen: list[OrderStatusChange] = []

    async def hook(change: OrderStatusChange) -> None:
        seen.append(change)

    clock = ManualClock()
    cfg = SandboxConfig(
        seed=8,
        orders=10,
        catalogue=small_catalogue(),
        clock=clock,
        order_arrival_per_hour=30,
        cancel_rate=0.0,
        on_order_status_change=hook,
    )
    async with Sandbox(cfg) as sb, aiohttp.ClientSession() as session:
        before = (await call(session, sb, LIST, {"pageSize": 100}))["result"]["totalItemNum"]
        start = int(clock.now())
        clock.advance(2 * 3600)
        got = await call(
            session,
            sb,
            LIST,
            {"pageSize": 100, "updateAtStart": start + 1, "updateAtEnd": int(clock.now())},
        )
        changed = got["result"]["pageItems"]
        assert got["result"]["totalItemNum"] > 0  # something moved in the window
        new = [i for i in changed if i["parentOrderMap"]["parentOrderTime"] > start]
        assert new, "orders arrived while the clock moved"
        # Orders older than the pending period were confirmed: PENDING -> UN_SHIPPING.
        confirmed = [i for i in new if i["parentOrderMap"]["parentOrderTime"] + 3600 <= clock.now()]
        assert confirmed and all(i["parentOrderMap"]["parentOrderStatus"] == 2 for i in confirmed)
        assert any(c.old_status == 1 and c.new_status == 2 for c in seen)
        assert all(c.mall_id in {s.mall_id for s in sb.credentials.shops} for c in seen)
        total = (await call(session, sb, LIST))["result"]["totalItemNum"]
        assert total > before


async def test_shipment_confirm_moves_orders_to_shipped(
    sb: Sandbox, session: aiohttp.ClientSession
) -> None:
    waiting = (await call(session, sb, LIST, {"parentOrderStatus": 2, "pageSize": 2}))["result"][
        "pageItems"
    ]
    assert len(waiting) == 2
    wid = (await call(session, sb, "bg.logistics.warehouse.list.get"))["result"]["warehouseList"][
        0
    ]["warehouseId"]
    req = [
        {
            "carrierId": 699272611,
            "trackingNumber": f"9400{n}",
            "selfShippingWarehouseId": wid,
            "orderSendInfoList": [
                {
                    "parentOrderSn": item["parentOrderMap"]["parentOrderSn"],
                    "orderSn": c["orderSn"],
                    "goodsId": c["goodsId"],
                    "skuId": c["skuId"],
                    "quantity": c["quantity"],
                }
                for c in item["orderList"]
            ],
        }
        for n, item in enumerate(waiting)
    ]
    got = await call(
        session, sb, "bg.logistics.shipment.v2.confirm", {"sendType": 0, "sendRequestList": req}
    )
    assert got["success"] is True, got
    for item in waiting:
        sn = item["parentOrderMap"]["parentOrderSn"]
        detail = (await call(session, sb, "bg.order.detail.v2.get", {"parentOrderSn": sn}))[
            "result"
        ]
        assert detail["parentOrderMap"]["parentOrderStatus"] == 4
        assert {c["orderStatus"] for c in detail["orderList"]} == {4}
        assert detail["parentOrderMap"]["parentShippingTime"] == int(sb.clock.now())
    again = await call(
        session, sb, "bg.logistics.shipment.v2.confirm", {"sendType": 0, "sendRequestList": req}
    )
    assert again["errorCode"] == 120012004
    sb.clock.advance(3 * 86400)  # type: ignore[attr-defined]
    detail = await call(
        session,
        sb,
        "bg.order.detail.v2.get",
        {"parentOrderSn": waiting[0]["parentOrderMap"]["parentOrderSn"]},
    )
    assert detail["result"]["parentOrderMap"]["parentOrderStatus"] == 5


async def test_shipment_confirm_refuses_unknown_orders_without_changing_anything(
    sb: Sandbox, session: aiohttp.ClientSession
) -> None:
    item = (await call(session, sb, LIST, {"parentOrderStatus": 2, "pageSize": 1}))["result"][
        "pageItems"
    ][0]
    wid = sb.world.shops[sb.credentials.shops[0].mall_id].warehouses[0].warehouse_id
    good = {
        "parentOrderSn": item["parentOrderMap"]["parentOrderSn"],
        "orderSn": item["orderList"][0]["orderSn"],
        "quantity": 1,
    }
    bad = {"parentOrderSn": "PO-211-1", "orderSn": "211-1", "quantity": 1}
    got = await call(
        session,
        sb,
        "bg.logistics.shipment.v2.confirm",
        {
            "sendType": 0,
            "sendRequestList": [
                {
                    "carrierId": 699272611,
                    "trackingNumber": "1",
                    "selfShippingWarehouseId": wid,
                    "orderSendInfoList": [good, bad],
                }
            ],
        },
    )
    assert got["errorCode"] == 120012064
    assert (
        sb.counters.requests_by_type["bg.logistics.shipment.v2.confirm"] == 1
    )  # executed, refused by business
    again = await call(
        session, sb, "bg.order.detail.v2.get", {"parentOrderSn": good["parentOrderSn"]}
    )
    assert again["result"]["parentOrderMap"]["parentOrderStatus"] == 2


async def test_token_create_is_single_use_and_replaces_the_old_token(
    sb: Sandbox, session: aiohttp.ClientSession
) -> None:
    shop = sb.credentials.shops[0]
    code = shop.auth_codes[0]
    got = await call(session, sb, "bg.open.accesstoken.create", {"code": code}, token=code)
    assert got["success"] is True, got
    res = got["result"]
    assert res["mallId"] == shop.mall_id and res["accessToken"] != shop.access_token
    assert res["expiredTime"] > sb.clock.now() and "bg.order.list.v2.get" in res["apiScopeList"]
    again = await call(session, sb, "bg.open.accesstoken.create", {"code": code}, token=code)
    assert (again["errorCode"], again["errorMsg"]) == (
        110020002,
        "Invalid code, please check and try again.",
    )
    old = await call(session, sb, "bg.open.accesstoken.info.get", token=shop.access_token)
    assert old["errorCode"] == 3000034
    new = await call(session, sb, "bg.open.accesstoken.info.get", token=res["accessToken"])
    assert new["success"] is True and sb.credentials.shops[0].access_token == res["accessToken"]


async def test_codes_expire_after_ten_minutes(sb: Sandbox, session: aiohttp.ClientSession) -> None:
    code = sb.credentials.shops[1].auth_codes[0]
    sb.clock.advance(601)  # type: ignore[attr-defined]
    got = await call(session, sb, "bg.open.accesstoken.create", {"code": code}, token=code)
    assert got["errorCode"] == 110020002
    fresh = sb.issue_code(sb.credentials.shops[1].mall_id)
    assert (await call(session, sb, "bg.open.accesstoken.create", {"code": fresh}, token=fresh))[
        "success"
    ]


async def test_stock_edit_changes_the_sku_list(sb: Sandbox, session: aiohttp.ClientSession) -> None:
    skus = (
        await call(session, sb, "bg.local.goods.sku.list.query", {"pageNo": 1, "pageSize": 100})
    )["result"]
    first = skus["skuList"][0]
    assert skus["total"] >= len(skus["skuList"]) > 0
    got = await call(
        session,
        sb,
        "bg.local.goods.stock.edit",
        {
            "goodsId": first["goodsId"],
            "skuStockChangeList": [{"skuId": first["skuId"], "stockDiff": 7}],
        },
    )
    assert got["success"] is True, got
    after = (
        await call(session, sb, "bg.local.goods.sku.list.query", {"pageNo": 1, "pageSize": 100})
    )["result"]["skuList"][0]
    assert after["stock"] == first["stock"] + 7
    too_low = await call(
        session,
        sb,
        "bg.local.goods.stock.edit",
        {
            "goodsId": first["goodsId"],
            "skuStockChangeList": [{"skuId": first["skuId"], "stockDiff": -(10**6)}],
        },
    )
    assert too_low["errorCode"] == 150013002
    other_shop = await call(
        session,
        sb,
        "bg.local.goods.stock.edit",
        {
            "goodsId": first["goodsId"],
            "skuStockChangeList": [{"skuId": first["skuId"], "stockDiff": 1}],
        },
        shop=1,
    )
    assert other_shop["errorCode"] == 150010188


def test_indexes_match_the_orders_after_time_passes() -> None:
    clock = ManualClock()
    sb = Sandbox(
        SandboxConfig(
            seed=2,
            orders=400,
            catalogue=small_catalogue(),
            clock=clock,
            cancel_rate=0.3,
            order_arrival_per_hour=20,
        )
    )
    for _ in range(10):
        clock.advance(4 * 3600)
        sb.world.advance(clock.now())
    for shop in sb.world.orders.shops.values():
        assert shop.by_updated == sorted((o.updated, sn) for sn, o in shop.by_sn.items())
        assert shop.by_created == sorted((o.created, sn) for sn, o in shop.by_sn.items())
        assert len(shop.by_sn) > 400
