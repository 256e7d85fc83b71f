"""Bad input is refused locally, naming the param and the rule, before anything is sent.

Every case runs against a live sandbox (the real catalogue) and then asserts that the
sandbox received nothing at all: a refusal that costs a round trip is a failure here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import pytest

from temu_async import TemuApp
from temu_async._generated.fulfillment import (
    FulfillmentShipmentConfirmV2SendRequestParam as SendRequest,
)
from temu_async._generated.fulfillment import (
    OrderSendInfo as SendInfo,
)
from temu_async.client import ShopClient
from temu_async.errors import ParamError
from temu_async.sandbox import ManualClock, Sandbox, SandboxConfig

LIST = "bg.order.list.v2.get"
DETAIL = "bg.order.detail.v2.get"
CONFIRM = "bg.logistics.shipment.v2.confirm"
OUT_SN = "bg.local.goods.out.sn.set"
UNKNOWN = "bg.brand.new.type"  # not in the catalogue: only the wire rules apply
GLOBAL_ONLY = "bg.arbok.open.product.cert.query"


def _self_containing() -> list[Any]:
    value: list[Any] = []
    value.append(value)
    return value


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def _line(**kw: Any) -> dict[str, Any]:
    line = {"parentOrderSn": "PO-1", "orderSn": "O-1", "quantity": 1}
    line.update(kw)
    return line


def _request(**kw: Any) -> dict[str, Any]:
    req: dict[str, Any] = {
        "carrierId": 1,
        "trackingNumber": "TN1",
        "selfShippingWarehouseId": "WH1",
        "orderSendInfoList": [_line()],
    }
    req.update(kw)
    return {k: v for k, v in req.items() if v is not ...}


# (type, params, param named in the error, the rule's words) for shop.call(type, params)
CALL_CASES: list[tuple[str, Any, str | None, str]] = [
    # missing, extra, wrong-typed
    (DETAIL, {}, "parentOrderSn", "is required"),
    (LIST, {"pageSize": 10, "page_size": 10}, "page_size", f"is not a param of {LIST}"),
    (LIST, {"pageSize": "10"}, "pageSize", "must be an integer, got str '10'"),
    (LIST, {"pageSize": True}, "pageSize", "must be an integer, got bool"),
    (LIST, {"pageSize": 10.0}, "pageSize", "must be an integer, got float"),
    (LIST, {"pageSize": 101}, "pageSize", "must be <= 100"),
    (LIST, {"parentOrderStatus": 7}, "parentOrderStatus", "must be one of"),
    (LIST, {"sortby": "price"}, "sortby", "must be one of 'createTime'"),
    (LIST, {"regionId": 2**64}, "regionId", "must fit in 64 bits"),
    (LIST, {"parentOrderSnList": "PO-1"}, "parentOrderSnList", "must be a list, got str"),
    # oversize and broken lists
    (
        LIST,
        {"parentOrderSnList": [f"PO-{i}" for i in range(21)]},
        "parentOrderSnList",
        "must hold at most 20 item(s), got 21",
    ),
    (LIST, {"parentOrderSnList": ["PO-1", None]}, "parentOrderSnList[1]", "cannot be null"),
    (LIST, {"parentOrderSnList": ["PO-1", 2]}, "parentOrderSnList[1]", "must be a string"),
    (
        OUT_SN,
        {"modifyList": [{"goodsId": i} for i in range(51)]},
        "modifyList",
        "at most 50 item(s)",
    ),
    # huge strings
    (
        OUT_SN,
        {"modifyList": [{"goodsId": 1, "outGoodsSn": "x" * 1_000_000}]},
        "modifyList[0].outGoodsSn",
        "must be at most 40 characters, got 1000000",
    ),
    # nested objects
    (CONFIRM, {"sendType": 0}, "sendRequestList", "is required"),
    (
        CONFIRM,
        {"sendType": 0, "sendRequestList": [_request(carrierId=...)]},
        "sendRequestList[0].carrierId",
        "is required",
    ),
    (
        CONFIRM,
        {"sendType": 0, "sendRequestList": [_request(carrierId="DHL")]},
        "sendRequestList[0].carrierId",
        "must be an integer",
    ),
    (
        CONFIRM,
        {"sendType": 0, "sendRequestList": [_request(orderSendInfoList=[_line(quantity="1")])]},
        "sendRequestList[0].orderSendInfoList[0].quantity",
        "must be an integer, got str",
    ),
    (
        CONFIRM,
        {"sendType": 0, "sendRequestList": ["PO-1"]},
        "sendRequestList[0]",
        "must be an object (dict), got str",
    ),
    (
        CONFIRM,
        {"sendType": 0, "sendRequestList": [_request(tracking_number="TN1")]},
        "sendRequestList[0].tracking_number",
        "is not a param",
    ),
    (CONFIRM, {"sendType": 3, "sendRequestList": [_request()]}, "sendType", "must be one of"),
    # non-UTF-8 bytes, lone surrogates
    (DETAIL, {"parentOrderSn": b"PO-\xff"}, "parentOrderSn", "must be a string, got bytes"),
    (UNKNOWN, {"note": b"\xff\xfe"}, "note", "got bytes (bytes would be sent base64-encoded)"),
    (UNKNOWN, {"deep": {"list": [1, bytearray(b"x")]}}, "deep.list[1]", "must be text"),
    (DETAIL, {"parentOrderSn": "PO-\ud800"}, "parentOrderSn", "lone surrogate at position 3"),
    (UNKNOWN, {"note": {"k": "\udfff"}}, "note", "lone surrogate"),
    (UNKNOWN, {"bad\ud800name": 1}, "'bad\\ud800name'", "param names must be valid Unicode"),
    # numbers JSON cannot carry faithfully
    (UNKNOWN, {"price": float("nan")}, "price", "must be a finite number, got nan"),
    (UNKNOWN, {"price": float("inf")}, "price", "must be a finite number, got inf"),
    (UNKNOWN, {"price": 1e16}, "price", "would need an exponent"),
    (UNKNOWN, {"price": 1.5e-7}, "price", "would need an exponent"),
    (UNKNOWN, {"prices": [1.5, -2e20]}, "prices[1]", "would need an exponent"),
    (UNKNOWN, {"shape": {"w": float("-inf")}}, "shape.w", "must be a finite number"),
    # values JSON cannot hold at all
    (UNKNOWN, {"when": object()}, "when", "cannot be sent as JSON"),
    (UNKNOWN, {"map": {(1, 2): "x"}}, "map", "cannot be sent as JSON"),
    (UNKNOWN, {"loop": _self_containing()}, "loop", "nested too deeply (or contains itself)"),
    (UNKNOWN, {"deep": _deep(100_000)}, "deep", "nested too deeply"),
    (UNKNOWN, {7: "x"}, "7", "param names must be strings"),
    # the client's own params
    (LIST, {"access_token": "x"}, "access_token", "is a common param the client sets itself"),
    (UNKNOWN, {"sign": "ABC"}, "sign", "is a common param"),
    (UNKNOWN, {"timestamp": 1}, "timestamp", "is a common param"),
    # params that are not a mapping
    (LIST, [("pageSize", 10)], None, "params must be a mapping, got list"),
    (LIST, "pageSize=10", None, "params must be a mapping, got str"),
    # type names that are not Temu type names
    ("", {}, "type", "must be an API type name"),
    ("bg order list", {}, "type", "got str 'bg order list'"),
    ("bg.order.list.v2.get ", {}, "type", "must be an API type name"),
    ("https://openapi-b-us.temu.com/openapi/router", {}, "type", "dotted words"),
    ("list_v2", {}, "type", "dotted words"),
    ("BG.ORDER.LIST", {}, "type", "dotted words"),
    (12345, {}, "type", "got int 12345"),  # type: ignore[list-item]
]


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    config = SandboxConfig(seed=5, shops=1, orders=5, goods=1, clock=ManualClock())
    async with Sandbox(config) as sandbox:
        yield sandbox


@pytest.fixture
async def shop(sb: Sandbox) -> AsyncIterator[ShopClient]:
    creds = sb.credentials.apps[0]
    async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
        yield app.shop(creds.shops[0].access_token)


def _check(err: ParamError, param: str | None, rule: str) -> None:
    assert err.local, "a local refusal has no gateway code"
    assert err.param == param
    assert rule in str(err), f"{rule!r} not in {str(err)!r}"
    if param is not None:
        assert str(err).startswith(f"param {param}:")
    assert len(str(err)) < 600, "the message must stay readable (no huge value echoed)"


@pytest.mark.parametrize(
    ("type_name", "params", "param", "rule"),
    CALL_CASES,
    ids=[f"{i}-{c[2] or 'params'}" for i, c in enumerate(CALL_CASES)],
)
async def test_call_refuses_bad_input_before_sending(
    sb: Sandbox, shop: ShopClient, type_name: str, params: Any, param: str | None, rule: str
) -> None:
    with pytest.raises(ParamError) as info:
        await shop.call(type_name, params)
    _check(info.value, param, rule)
    assert sb.counters.received == 0


async def test_wrong_region_for_a_type_is_refused(sb: Sandbox) -> None:
    creds = sb.credentials.apps[0]
    async with TemuApp(creds.app_key, creds.app_secret, region="us", base_url=sb.url) as app:
        with pytest.raises(ParamError, match="not offered in region 'us'") as info:
            await app.shop(creds.shops[0].access_token).call(GLOBAL_ONLY, {"productId": 1})
    assert "global" in str(info.value) and "check_region=False" in str(info.value)
    assert sb.counters.received == 0


async def test_unknown_call_option_is_refused(sb: Sandbox, shop: ShopClient) -> None:
    with pytest.raises(TypeError, match="unknown call option"):
        await shop.call(LIST, {}, retries=3)
    assert sb.counters.received == 0


# Typed methods: keyword arguments, nested Structs and plain dicts.

# Any, not ShopClient: these are the calls an untyped caller makes (mypy would catch most).
Typed = Callable[[Any], Awaitable[Any]]


def _confirm(requests: Any, send_type: Any = 0) -> Typed:
    return lambda shop: shop.fulfillment.shipment_confirm_v2(
        send_type=send_type, send_request_list=requests
    )


def _send_request(**kw: Any) -> SendRequest:
    values: dict[str, Any] = {
        "order_send_info_list": [SendInfo(quantity=1, order_sn="O-1", parent_order_sn="PO-1")],
        "self_shipping_warehouse_id": "WH1",
        "carrier_id": 1,
        "tracking_number": "TN1",
    }
    values.update(kw)
    return SendRequest(**values)


TYPED_CASES: list[tuple[str, Typed, str | None, str]] = [
    ("page-size-str", lambda s: s.order.list_v2(page_size="10"), "pageSize", "must be an integer"),
    ("page-size-big", lambda s: s.order.list_v2(page_size=1000), "pageSize", "must be <= 100"),
    (
        "status-enum",
        lambda s: s.order.list_v2(parent_order_status=9),
        "parentOrderStatus",
        "must be one of",
    ),
    (
        "sn-list-oversize",
        lambda s: s.order.list_v2(parent_order_sn_list=[str(i) for i in range(30)]),
        "parentOrderSnList",
        "at most 20",
    ),
    (
        "sn-bytes",
        lambda s: s.order.detail_v2(parent_order_sn=b"\xff"),
        "parentOrderSn",
        "must be a string, got bytes",
    ),
    (
        "dict-with-snake-case-names",
        _confirm([{"carrier_id": 1, "tracking_number": "TN1"}]),
        "sendRequestList[0].carrier_id",
        "is not a param",
    ),
    (
        "struct-of-the-wrong-level",
        _confirm([SendInfo(quantity=1, order_sn="O-1", parent_order_sn="PO-1")]),
        "sendRequestList[0].quantity",
        "is not a param",
    ),
    (
        "struct-and-dict-mixed-bad-dict",
        _confirm([_send_request(), {"carrierId": 2, "trackingNumber": "TN2"}]),
        "sendRequestList[1].orderSendInfoList",
        "is required",
    ),
    (
        "struct-with-bad-nested-dict",
        _confirm([_send_request(order_send_info_list=[{"quantity": 0, "orderSn": "O-1"}])]),
        "sendRequestList[0].orderSendInfoList[0].parentOrderSn",
        "is required",
    ),
    (
        "struct-where-a-list-goes",
        _confirm(_send_request()),
        "sendRequestList",
        "must be a list, got dict",
    ),
    (
        "struct-where-a-scalar-goes",
        _confirm([_send_request()], send_type=_send_request()),
        "sendType",
        "must be an integer, got dict",
    ),
    (
        "struct-with-wrong-typed-field",
        _confirm([_send_request(carrier_id="DHL")]),
        "sendRequestList[0].carrierId",
        "must be an integer, got str",
    ),
]


def _typed_params() -> list[Any]:
    return [pytest.param(call, param, rule, id=name) for name, call, param, rule in TYPED_CASES]


@pytest.mark.parametrize(("call", "param", "rule"), _typed_params())
async def test_typed_methods_refuse_bad_input_before_sending(
    sb: Sandbox, shop: ShopClient, call: Typed, param: str | None, rule: str
) -> None:
    with pytest.raises(ParamError) as info:
        await call(shop)
    _check(info.value, param, rule)
    assert sb.counters.received == 0


async def test_a_good_call_does_reach_the_sandbox(sb: Sandbox, shop: ShopClient) -> None:
    # The control: the same fixture sends when the input is fine.
    await shop.call(LIST, {"pageSize": 10})
    result = await shop.order.list_v2(page_size=10)
    assert msgspec.to_builtins(result)["totalItemNum"] == 5
    assert sb.counters.received == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", "secret"), "app_key must be a non-empty string"),
        ((None, "secret"), "app_key must be a non-empty string"),
        (("key", ""), "app_secret must be a non-empty string"),
        (("key", " secret"), "app_secret must not contain whitespace"),
        (("key", "sec\nret"), "app_secret must not contain whitespace"),
        (("kéy", "secret"), "app_key must be printable ASCII"),
        (("key", "secret\x00"), "app_secret must be printable ASCII"),
    ],
)
def test_bad_app_credentials_are_refused_without_echoing_them(
    args: tuple[Any, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as info:
        TemuApp(*args)
    assert "secret" not in str(info.value).replace("app_secret", "")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", "access_token must be a non-empty string"),
        ("tok en", "access_token must not contain whitespace"),
        ("tok\u00e9n", "access_token must be printable ASCII"),
        (b"token", "access_token must be a non-empty string"),
    ],
)
async def test_bad_access_token_is_refused_without_echoing_it(token: Any, message: str) -> None:
    async with TemuApp("key", "secret") as app:
        with pytest.raises(ValueError, match=message) as info:
            app.shop(token)
    assert "tok" not in str(info.value).replace("access_token", "")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"region": "cn"}, "region must be one of"),
        ({"timeout": 0}, "timeout must be > 0"),
        ({"base_url": "http://127.0.0.1:1/openapi/router?app_secret=x"}, "query string"),
    ],
)
def test_bad_app_options_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TemuApp("key", "secret", **kwargs)
