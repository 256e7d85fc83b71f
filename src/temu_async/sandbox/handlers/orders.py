"""Order types: list v2 (filters, windows, pages), detail v2, shipping info v2, amounts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from ..codes import BusinessError
from ..models import ChildOrder, ParentOrder
from .base import Call, int_param, page_params, paged, str_list

__all__ = ["HANDLERS"]

_SECONDS_LIMIT = 10**10
"""A timestamp above this is in milliseconds (the filters take seconds)."""
_FULFILLMENT = "fulfillBySeller"


def parent_map(order: ParentOrder) -> dict[str, Any]:
    return {
        "parentOrderSn": order.parent_order_sn,
        "parentOrderStatus": order.status,
        "parentOrderTime": order.created,
        "parentConfirmTime": order.confirmed,
        "expectShipLatestTime": order.expect_ship_latest,
        "parentOrderPendingFinishTime": order.created + 3600,
        "latestDeliveryTime": order.latest_delivery,
        "parentShippingTime": order.shipped_at,
        "siteId": 100,
        "regionId": order.region_id,
        "parentOrderLabel": [],
        "fulfillmentWarning": [],
        "hasShippingFee": False,
        "updateTime": order.updated,
        "orderPaymentType": "PPD",
        "batchOrderNumberList": [],
        "shippingMethod": 1,
        "isShipmentConsolidatedByMainMall": False,
    }


def child_map(order: ParentOrder, child: ChildOrder) -> dict[str, Any]:
    return {
        "orderSn": child.order_sn,
        "quantity": child.quantity,
        "canceledQuantityBeforeShipment": child.quantity if child.status == 3 else 0,
        "originalOrderQuantity": child.quantity,
        "goodsId": child.goods_id,
        "skuId": child.sku_id,
        "spec": child.spec,
        "originalSpecName": child.spec,
        "thumbUrl": f"https://img.sandbox.invalid/{child.goods_id}.jpg",
        "goodsName": child.goods_name,
        "originalGoodsName": child.goods_name,
        "orderStatus": child.status,
        "productList": [
            {
                "productId": child.goods_id,
                "productSkuId": child.sku_id,
                "soldFactor": 1,
                "extCode": "",
            }
        ],
        "packageAbnormalTypeList": [],
        "orderLabel": [],
        "fulfillmentWarning": [],
        "fulfillmentType": _FULFILLMENT,
        "inventoryDeductionWarehouseId": child.warehouse_id,
        "inventoryDeductionWarehouseName": "",
        "orderPaymentType": "PPD",
        "isCancelledDuringPending": child.status == 3 and order.confirmed == 0,
        "orderShippingTime": child.shipped_at,
        "orderCreateTime": order.created,
        "isShipmentConsolidatedByMainMall": False,
    }


def _window(
    body: Mapping[str, Any], start: str, end: str, paired: bool
) -> tuple[int | None, int | None]:
    lo = int_param(body, start)
    hi = int_param(body, end)
    for name, v in ((start, lo), (end, hi)):
        if v is not None and v >= _SECONDS_LIMIT:
            raise BusinessError(
                140020014,
                f"The format of {name} is inaccurate and requires a second level timestamp",
            )
    if paired and (lo is None) != (hi is None):
        raise BusinessError(140020013, f"{end if hi is None else start} not passed in")
    if lo is not None and hi is not None and hi < lo:
        if start == "parentConfirmTimeStart":
            raise BusinessError(
                140020012,
                "parentConfirmTimeEnd needs to be greater than the parentConfirmTimeStart",
            )
        raise BusinessError(3000000, f"BAD_PARAMS: {end} is before {start}")
    return lo, hi


def list_v2(call: Call) -> dict[str, Any]:
    body = call.body
    shop = call.world.orders.shop(call.mall_id)
    number, per = page_params(body, "pageNumber", "pageSize")
    created = _window(body, "createAfter", "createBefore", True)
    updated = _window(body, "updateAtStart", "updateAtEnd", True)
    confirmed = _window(body, "parentConfirmTimeStart", "parentConfirmTimeEnd", True)
    expect = _window(body, "expectShipLatestTimeStart", "expectShipLatestTimeEnd", False)
    status = int_param(body, "parentOrderStatus", 0) or 0
    sns = str_list(body, "parentOrderSnList")
    region = int_param(body, "regionId")
    sku_id = int_param(body, "skuId")
    fulfillment = str_list(body, "fulfillmentTypeList")
    sort_by = body.get("sortby") or "createTime"

    no_window = (None, None)
    only_windows = not (
        sns
        or status
        or confirmed != no_window
        or expect != no_window
        or region is not None
        or sku_id is not None
        or fulfillment
    )
    if only_windows:
        # Fast path: the answer is one slice of a time index, already in order; only
        # the page's orders are touched.
        index = None
        if sort_by == "updateTime" and created == no_window:
            index, window = shop.by_updated, updated
        elif sort_by != "updateTime" and updated == no_window:
            index, window = shop.by_created, created
        if index is not None:
            lo, hi = shop.bounds(index, *window)
            top = hi - (number - 1) * per
            bottom = max(lo, top - per)
            keys = index[bottom:top] if top > lo else []
            return _page(hi - lo, [shop.by_sn[sn] for _, sn in reversed(keys)])

    # Narrow with the cheapest index first, then filter only that slice.
    if sns:
        candidates = [o for sn in dict.fromkeys(sns) if (o := shop.by_sn.get(sn)) is not None]
    elif updated != (None, None):
        candidates = [shop.by_sn[sn] for sn in shop.updated_between(*updated)]
    elif created != (None, None):
        candidates = [shop.by_sn[sn] for sn in shop.created_between(*created)]
    else:
        candidates = [shop.by_sn[sn] for _, sn in shop.by_created]

    def keep(o: ParentOrder) -> bool:
        if status and o.status != status:
            return False
        if created[0] is not None and not created[0] <= o.created <= (created[1] or 0):
            return False
        if updated[0] is not None and not updated[0] <= o.updated <= (updated[1] or 0):
            return False
        if confirmed[0] is not None and not (
            o.confirmed and confirmed[0] <= o.confirmed <= (confirmed[1] or 0)
        ):
            return False
        if expect[0] is not None and o.expect_ship_latest < expect[0]:
            return False
        if expect[1] is not None and o.expect_ship_latest > expect[1]:
            return False
        if region is not None and o.region_id != region:
            return False
        if sku_id is not None and all(c.sku_id != sku_id for c in o.children):
            return False
        return not (fulfillment and _FULFILLMENT not in fulfillment)

    matched = [o for o in candidates if keep(o)]
    if sort_by == "updateTime":
        matched.sort(key=lambda o: (o.updated, o.parent_order_sn), reverse=True)
    else:
        matched.sort(key=lambda o: (o.created, o.parent_order_sn), reverse=True)
    return _page(len(matched), paged(matched, number, per))


def _page(total: int, orders: list[ParentOrder]) -> dict[str, Any]:
    return {
        "totalItemNum": total,
        "pageItems": [_list_item(o) for o in orders],
    }


def _list_item(order: ParentOrder) -> msgspec.Raw:
    # Rendering is most of a list call's cost; an order only changes through
    # OrderBook.touch, which drops this cache. It is kept as encoded JSON: as dicts and
    # lists, every order ever rendered stayed on the garbage collector's lists, and each
    # full collection of a large world stalled the loop for tens of milliseconds, long
    # enough for requests arriving meanwhile to be counted late and bunched at the rate
    # window, which no real gateway does.
    item = order.list_item
    if item is None:
        item = order.list_item = msgspec.Raw(
            msgspec.json.encode(
                {
                    "parentOrderMap": parent_map(order),
                    "orderList": [child_map(order, c) for c in order.children],
                }
            )
        )
    return item


def _order(call: Call) -> ParentOrder:
    sn = call.body.get("parentOrderSn")
    order = call.world.orders.get(call.mall_id, sn) if isinstance(sn, str) else None
    if order is None:
        raise BusinessError(140020002, "Order not found")
    return order


def detail_v2(call: Call) -> dict[str, Any]:
    order = _order(call)
    pm = parent_map(order)
    pm.pop("updateTime")
    pm.update(
        {"regionName1": "United States", "regionName2": order.state, "regionName3": order.city}
    )
    children = []
    for c in order.children:
        cm = child_map(order, c)
        cm["packageSnInfo"] = [
            {"packageSn": p, "packageDeliveryType": 1, "callSuccess": True} for p in order.packages
        ]
        cm["hasUploadedEvidence"] = False
        children.append(cm)
    return {"parentOrderMap": pm, "orderList": children}


def shipping_info_v2(call: Call) -> dict[str, Any]:
    sn = call.body.get("parentOrderSn")
    order = call.world.orders.get(call.mall_id, sn) if isinstance(sn, str) else None
    if order is None:
        raise BusinessError(180020003, "Invalid param")
    first, _, last = order.buyer_name.partition(" ")
    return {
        "receiptName": order.buyer_name,
        "receiptAdditionalName": "",
        "mobile": "+1 555 0100",
        "backupMobile": "",
        "mail": f"{first.lower()}@buyer.sandbox.invalid",
        "regionName1": "United States",
        "regionName2": order.state,
        "regionName3": order.city,
        "regionName4": "",
        "addressLine1": order.address_line1,
        "addressLine2": "",
        "addressLine3": "",
        "postCode": order.post_code,
        "addressLineAll": f"{order.address_line1}, {order.city}, {order.state} {order.post_code}",
        "addressExtra": {
            "firstName": first,
            "lastName": last,
            "additionalFirstName": "",
            "additionalLastName": "",
        },
        "warning": {"isRestriction": False, "reason": 0},
    }


def _cents(amount: str) -> int:
    whole, _, frac = amount.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def _amount(cents: int, currency: str) -> dict[str, Any]:
    # The amount type documents `amount` as an integer: minor units (cents).
    return {"amount": cents, "currency": currency}


def amount_query(call: Call) -> dict[str, Any]:
    order = _order(call)
    currency = order.children[0].currency if order.children else "USD"
    lines = []
    total = 0
    for c in order.children:
        unit = _cents(c.unit_price)
        total += unit * c.quantity
        lines.append(
            {
                "orderSn": c.order_sn,
                "basePrice": _amount(unit * c.quantity, c.currency),
                "unitBasePrice": _amount(unit, c.currency),
                "quantity": c.quantity,
                "unitRetailPrice": _amount(unit * 2, c.currency),
                "discountFromSeller": _amount(0, c.currency),
                "discountFromTEMU": _amount(0, c.currency),
                "shipAmountTotal": _amount(0, c.currency),
            }
        )
    zero = _amount(0, currency)
    return {
        "parentOrderMap": {
            "parentOrderSn": order.parent_order_sn,
            "basePriceTotal": _amount(total, currency),
            "shippingAmountTotal": zero,
            "taxTotal": zero,
            "discountFromSeller": zero,
            "discountFromTEMU": zero,
            "refundsTotal": zero,
            "estimatedRevenueDeduction": zero,
            "estimatedRevenue": _amount(total, currency),
            "retailPriceTotal": _amount(total * 2, currency),
            "customerPaid": _amount(total * 2, currency),
            "totalDiscount": zero,
            "signOnDelivery": zero,
        },
        "orderList": lines,
        "warning": [],
    }


HANDLERS = {
    "bg.order.list.v2.get": list_v2,
    "bg.order.detail.v2.get": detail_v2,
    "bg.order.shippinginfo.v2.get": shipping_info_v2,
    "bg.order.amount.query": amount_query,
}
