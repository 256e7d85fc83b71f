"""Generated code for shapes chosen on purpose (tests/fixtures/spec_small), run for real.

The fixture catalogue is generated into a temporary root; its group modules are loaded
from there (they import only the runtime package) and talk to a loopback gateway through
a TemuApp that is given the fixture catalogue.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest
from tiny_gateway import TinyGateway, ok

from codegen.generate import GENERATED_DIR, run
from codegen.load import load_catalogue
from temu_async.client import ShopClient, TemuApp
from temu_async.errors import ParamError

REPO = Path(__file__).resolve().parent.parent
SPEC_SMALL = Path(__file__).parent / "fixtures" / "spec_small"
CATALOGUE = load_catalogue(SPEC_SMALL)


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModuleType]:
    root = tmp_path_factory.mktemp("fixture") / "repo"
    (root / "src" / "temu_async").mkdir(parents=True)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    assert run(SPEC_SMALL, root) == 0
    modules: dict[str, ModuleType] = {}
    for name in ("order", "logistics", "events"):
        path = root / GENERATED_DIR / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"_spec_small_{name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        modules[name] = module
    return modules


@pytest.fixture
async def shop(gateway: TinyGateway) -> AsyncIterator[ShopClient]:
    app = TemuApp(
        gateway.app_key,
        gateway.app_secret,
        base_url=gateway.url,
        catalogue=CATALOGUE,
        rate_limit=1000,
    )
    yield app.shop("test-token")
    await app.close()


def order_page(page: int, size: int, total: int) -> dict[str, Any]:
    start = (page - 1) * size
    items = [
        {
            "parentOrderMap": {
                "parentOrderSn": f"PO-{i}",
                "parentOrderStatus": 99,  # a status the catalogue does not list
                "mallId": 2**60 + i,
                "extra": {"anything": [i]},
            },
            "orderList": [
                {
                    "orderSn": f"O-{i}",
                    "goodsId": 2**53 + 1,
                    "quantity": 2,
                    "price": 3,  # an integer where the catalogue says number
                    "productList": [{"productSkuId": 5, "class": "c", "newField": 1}],
                }
            ],
        }
        for i in range(start, min(start + size, total))
    ]
    return ok({"totalItemNum": total, "pageItems": items, "serverAddedThis": True})


async def test_typed_read_decodes_nested_structs(
    gen: dict[str, ModuleType], gateway: TinyGateway, shop: ShopClient
) -> None:
    order = gen["order"]
    gateway.script = lambda body, n: order_page(body["pageNumber"], body["pageSize"], 2)
    group = order.OrderGroup(shop)
    result = await group.list_v2(
        page_number=1, page_size=10, parent_order_status=1, id_="t", options_=False
    )
    body = gateway.parsed()
    assert body["type"] == "bg.order.list.v2.get"
    assert body["parentOrderStatus"] == 1
    assert body["id"] == "t"
    assert body["options"] is False
    assert isinstance(result, order.OrderListV2Result)
    assert result.total_item_num == 2
    first = result.page_items[0]
    assert isinstance(first, order.OrderListV2PageItem)
    assert first.parent_order_map.parent_order_status == 99
    assert first.parent_order_map.mall_id == 2**60
    assert first.order_list[0].goods_id == 2**53 + 1
    assert isinstance(first.order_list[0].goods_id, int)
    assert first.order_list[0].price == 3.0
    assert first.order_list[0].product_list[0].class_ == "c"


async def test_write_takes_typed_structs_or_plain_dicts_alike(
    gen: dict[str, ModuleType], gateway: TinyGateway, shop: ShopClient
) -> None:
    lg = gen["logistics"]
    gateway.script = lambda body, n: ok({"packageSnList": ["PK1"]})
    group = lg.LogisticsGroup(shop)
    typed = await group.ship(
        send_type=0,
        send_request_list=[
            lg.LogisticsShipSendRequestParam(
                carrier_id=2**40,
                tracking_number="T1",
                order_send_info_list=[
                    lg.LogisticsShipOrderSendInfoParam(order_sn="O1", quantity=1)
                ],
            )
        ],
        address=lg.LogisticsShipAddressParam(region_name="CA"),
    )
    plain = await group.ship(
        send_type=0,
        send_request_list=[
            {
                "carrierId": 2**40,
                "trackingNumber": "T1",
                "orderSendInfoList": [{"orderSn": "O1", "quantity": 1}],
            }
        ],
        address={"regionName": "CA"},
    )
    assert typed == plain == lg.LogisticsShipResult(package_sn_list=["PK1"])
    # Same bytes on the wire either way (unset optional fields are left out, not null).
    first, second = (json.loads(b) for b in gateway.bodies)
    for body in (first, second):
        body.pop("timestamp"), body.pop("sign")
    assert first == second
    assert first["sendRequestList"] == [
        {
            "carrierId": 2**40,
            "trackingNumber": "T1",
            "orderSendInfoList": [{"orderSn": "O1", "quantity": 1}],
        }
    ]
    assert (
        b'"sendRequestList":[{"carrierId":1099511627776,"trackingNumber":"T1"' in gateway.bodies[0]
    )


@pytest.mark.parametrize(
    ("kwargs", "param", "rule"),
    [
        ({"send_type": 7}, "sendType", "must be one of 0 (single), 1 (split), 2 (merged); got 7"),
        ({"send_request_list": []}, "sendRequestList", "at least 1 item"),
        (
            {"send_request_list": [{"carrierId": 1, "trackingNumber": "T"}] * 6},
            "sendRequestList",
            "at most 5 item",
        ),
        (
            {"send_request_list": [{"trackingNumber": "T"}]},
            "sendRequestList[0].carrierId",
            "is required",
        ),
        (
            {
                "send_request_list": [
                    {
                        "carrierId": 1,
                        "trackingNumber": "T",
                        "orderSendInfoList": [{"orderSn": "O", "quantity": 0}],
                    }
                ]
            },
            "sendRequestList[0].orderSendInfoList[0].quantity",
            "must be >= 1",
        ),
    ],
    ids=["enum", "too-few", "too-many", "nested-required", "nested-bound"],
)
async def test_bad_params_raise_before_sending(
    gen: dict[str, ModuleType],
    gateway: TinyGateway,
    shop: ShopClient,
    kwargs: dict[str, Any],
    param: str,
    rule: str,
) -> None:
    lg = gen["logistics"]
    args: dict[str, Any] = {
        "send_type": 0,
        "send_request_list": [{"carrierId": 1, "trackingNumber": "T"}],
        **kwargs,
    }
    with pytest.raises(ParamError) as info:
        await lg.LogisticsGroup(shop).ship(**args)
    assert info.value.param == param
    assert rule in str(info.value)
    assert gateway.bodies == []


async def test_a_typed_nested_struct_is_checked_like_a_dict(
    gen: dict[str, ModuleType], gateway: TinyGateway, shop: ShopClient
) -> None:
    lg = gen["logistics"]
    bad = lg.LogisticsShipSendRequestParam(
        carrier_id=1,
        tracking_number="T",
        order_send_info_list=[lg.LogisticsShipOrderSendInfoParam(order_sn="O", quantity=0)],
    )
    with pytest.raises(ParamError, match=r"orderSendInfoList\[0\]\.quantity"):
        await lg.LogisticsGroup(shop).ship(send_type=1, send_request_list=[bad])
    assert gateway.bodies == []


async def test_max_length_and_list_result(
    gen: dict[str, ModuleType], gateway: TinyGateway, shop: ShopClient
) -> None:
    order = gen["order"]
    group = order.OrderGroup(shop)
    with pytest.raises(ParamError, match="at most 40 characters"):
        await group.amount(order_sn="x" * 41)
    gateway.script = lambda body, n: ok([{"currency": "USD", "amount": 2**62}, {"currency": "EUR"}])
    result = await group.amount(order_sn="O1")
    assert result == [
        order.OrderAmountItem(currency="USD", amount=2**62),
        order.OrderAmountItem(currency="EUR"),
    ]


async def test_pages_and_items_follow_the_catalogue(
    gen: dict[str, ModuleType], gateway: TinyGateway, shop: ShopClient
) -> None:
    order = gen["order"]
    asked: list[tuple[int, int]] = []

    def answer(body: dict[str, Any], n: int) -> dict[str, Any]:
        asked.append((body["pageNumber"], body["pageSize"]))
        return order_page(body["pageNumber"], body["pageSize"], 250)

    gateway.script = answer
    group = order.OrderGroup(shop)
    sns = [
        item.parent_order_map.parent_order_sn
        async for item in group.list_v2.items(page_number=None, page_size=None)  # type: ignore[arg-type]
    ]
    # No size given: the catalogue's max_size; stops once the reported total is reached.
    assert asked == [(1, 100), (2, 100), (3, 100)]
    assert sns == [f"PO-{i}" for i in range(250)]
    asked.clear()
    pages = [p async for p in group.list_v2.pages(page_number=2, page_size=80)]
    assert asked == [(2, 80), (3, 80), (4, 80)]
    assert [len(p.page_items) for p in pages] == [80, 80, 10]


async def test_deprecated_and_undocumented_types(
    gen: dict[str, ModuleType], gateway: TinyGateway, shop: ShopClient
) -> None:
    order = gen["order"]
    group = order.OrderGroup(shop)
    gateway.script = lambda body, n: ok({"total": 3})
    with pytest.warns(DeprecationWarning, match="use bg.order.list.v2.get"):
        assert await group.list() == order.OrderListResult(total=3)
    gateway.script = lambda body, n: ok({"whatever": [1]})
    assert await group.mystery(anyWireName="v", other=2) == {"whatever": [1]}
    body = gateway.parsed()
    assert (body["type"], body["anyWireName"], body["other"]) == ("bg.order.mystery.get", "v", 2)


def test_events_registry_and_structs(gen: dict[str, ModuleType]) -> None:
    events = gen["events"]
    assert set(events.EVENTS) == {"bg_order_status_change_event", "bg_with_nested_event"}
    cls = events.EVENTS["bg_order_status_change_event"]
    assert cls.CODE == "bg_order_status_change_event"
    ev = msgspec.convert({"mallId": 2**55, "orderSn": "O1", "orderStatus": 77, "brandNew": 1}, cls)
    assert (ev.mall_id, ev.order_sn, ev.order_status) == (2**55, "O1", 77)
    nested = msgspec.convert(
        {"shop": {"mallId": 1}, "lines": [{"skuId": 2, "extra": [1]}]},
        events.EVENTS["bg_with_nested_event"],
    )
    assert nested.shop.mall_id == 1 and nested.lines[0].extra == [1]
    with pytest.raises(AttributeError):
        ev.order_sn = "changed"  # frozen: an event is a fact


def test_gc_free_structs_only_where_no_cycle_can_form(gen: dict[str, ModuleType]) -> None:
    order = gen["order"]
    assert order.OrderListV2Result.__struct_config__.gc is False
    assert order.OrderListV2PageItem.__struct_config__.gc is False
    # Holds `extra: Any`: a user could hang a cycle on it, so the collector keeps watching.
    assert order.OrderListV2ParentOrderMap.__struct_config__.gc is True
    page = msgspec.json.decode(
        msgspec.json.encode(order_page(1, 3, 3)["result"]), type=order.OrderListV2Result
    )
    assert not gc.is_tracked(page)
    assert gc.is_tracked(page.page_items[0].parent_order_map)
