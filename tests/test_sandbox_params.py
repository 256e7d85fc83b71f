"""Business params against the catalogue, and catalogue-shaped results for other types."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sandbox_support import call, small_catalogue

from temu_async.sandbox import ManualClock, Sandbox, SandboxConfig


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    cfg = SandboxConfig(seed=11, orders=20, catalogue=small_catalogue(), clock=ManualClock())
    async with Sandbox(cfg) as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def _line(**over: Any) -> dict[str, Any]:
    line = {"parentOrderSn": "PO-1", "orderSn": "1", "quantity": 1}
    line.update(over)
    return line


def _confirm(**over: Any) -> dict[str, Any]:
    req: dict[str, Any] = {
        "carrierId": 699272611,
        "trackingNumber": "T",
        "selfShippingWarehouseId": "W",
        "orderSendInfoList": [_line()],
    }
    req.update(over)
    return {"sendType": 0, "sendRequestList": [req]}


@pytest.mark.parametrize(
    ("type_", "params", "message"),
    [
        ("bg.order.detail.v2.get", {}, "BAD_PARAMS: parentOrderSn is required"),
        (
            "bg.order.detail.v2.get",
            {"parentOrderSn": 12},
            "BAD_PARAMS: parentOrderSn: expected string, got integer",
        ),
        (
            "bg.order.list.v2.get",
            {"pageSize": "10"},
            "BAD_PARAMS: pageSize: expected integer, got string",
        ),
        (
            "bg.order.list.v2.get",
            {"pageSize": True},
            "BAD_PARAMS: pageSize: expected integer, got boolean",
        ),
        (
            "bg.order.list.v2.get",
            {"pageSize": 101},
            "BAD_PARAMS: pageSize: 101 is above the maximum 100",
        ),
        (
            "bg.order.list.v2.get",
            {"pageNumber": 0},
            "BAD_PARAMS: pageNumber: 0 is below the minimum 1",
        ),
        (
            "bg.order.list.v2.get",
            {"createAfter": 2**63},
            f"BAD_PARAMS: createAfter: {2**63} does not fit in a integer",
        ),
        (
            "bg.order.list.v2.get",
            {"parentOrderStatus": 7},
            "BAD_PARAMS: parentOrderStatus: 7 is not one of 0, 1, 2, 3, 4, 5, 41, 51",
        ),
        (
            "bg.order.list.v2.get",
            {"sortby": "price"},
            "BAD_PARAMS: sortby: 'price' is not one of createTime, updateTime",
        ),
        (
            "bg.order.list.v2.get",
            {"parentOrderSnList": ["a"] * 21},
            "BAD_PARAMS: parentOrderSnList: allows at most 20 items, got 21",
        ),
        (
            "bg.order.list.v2.get",
            {"parentOrderSnList": ["a", 1]},
            "BAD_PARAMS: parentOrderSnList[1]: expected string, got integer",
        ),
        (
            "bg.logistics.shipment.v2.confirm",
            {"sendType": 0},
            "BAD_PARAMS: sendRequestList is required",
        ),
        (
            "bg.logistics.shipment.v2.confirm",
            {"sendType": 0, "sendRequestList": []},
            "BAD_PARAMS: sendRequestList: needs at least 1 items, got 0",
        ),
        (
            "bg.logistics.shipment.v2.confirm",
            _confirm(carrierId="699272611"),
            "BAD_PARAMS: sendRequestList[0].carrierId: expected long, got string",
        ),
        (
            "bg.logistics.shipment.v2.confirm",
            _confirm(orderSendInfoList=[_line(quantity=0)]),
            "BAD_PARAMS: sendRequestList[0].orderSendInfoList[0].quantity: 0 is below the minimum 1",
        ),
        (
            "bg.logistics.shipment.v2.confirm",
            _confirm(orderSendInfoList=[{"orderSn": "1", "quantity": 1}]),
            "BAD_PARAMS: sendRequestList[0].orderSendInfoList[0].parentOrderSn is required",
        ),
    ],
)
async def test_bad_params_name_the_param_and_the_rule(
    sb: Sandbox, session: aiohttp.ClientSession, type_: str, params: dict[str, Any], message: str
) -> None:
    got = await call(session, sb, type_, params)
    assert (got["success"], got["errorCode"], got["errorMsg"]) == (False, 3000000, message)
    assert sb.counters.executed == 0
    assert sb.counters.rejections[3000000] == 1


async def test_a_null_param_counts_as_absent_and_unknown_params_pass(
    sb: Sandbox, session: aiohttp.ClientSession
) -> None:
    got = await call(
        session, sb, "bg.order.list.v2.get", {"pageSize": None, "somethingNew": [1, {"a": 2}]}
    )
    assert got["success"] is True


async def test_type_specific_missing_param_code(
    sb: Sandbox, session: aiohttp.ClientSession
) -> None:
    # bg.order.list.v2.get documents "{*} not passed in" (140020013); a required param of
    # such a type answers with it. Here the pair rule of the handler shows the same code.
    got = await call(session, sb, "bg.order.list.v2.get", {"createAfter": 1})
    assert (got["errorCode"], got["errorMsg"]) == (140020013, "createBefore not passed in")


async def test_synthetic_result_follows_the_catalogue(
    sb: Sandbox, session: aiohttp.ClientSession
) -> None:
    got = await call(session, sb, "bg.local.goods.cats.get", {"parentCatId": 0})
    assert got["success"] is True
    assert got["result"] == {"goodsCatsList": [{"catId": 1, "catName": "catName-1", "leaf": False}]}
    missing = await call(session, sb, "bg.local.goods.cats.get", {})
    assert missing["errorMsg"] == "BAD_PARAMS: parentCatId is required"
    companies = await call(session, sb, "bg.logistics.companies.get")
    assert (
        isinstance(companies["result"], list)
        and companies["result"][0]["logisticsServiceProviderName"] == "USPS"
    )
