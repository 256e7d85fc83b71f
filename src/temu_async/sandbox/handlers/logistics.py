"""Logistics types: carriers, warehouses, label purchase (create) and shipment confirm."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..codes import BusinessError
from ..models import SHIPPED, UN_SHIPPING, ParentOrder
from ..world import LOGISTICS_COMPANIES
from .base import Call

__all__ = ["HANDLERS"]

_CARRIER_IDS = {str(cid) for cid, _, _ in LOGISTICS_COMPANIES}


def companies(call: Call) -> list[dict[str, Any]]:
    return [
        {
            "logisticsServiceProviderId": cid,
            "logisticsServiceProviderName": name,
            "logisticsBrandName": brand,
        }
        for cid, name, brand in LOGISTICS_COMPANIES
    ]


def warehouses(call: Call) -> dict[str, Any]:
    return {
        "warehouseList": [
            {
                "warehouseId": w.warehouse_id,
                "warehouseName": w.name,
                "defaultWarehouse": w.default,
                "pushOrderToOpenPlatform": False,
                "cooperativeWarehouseAuthorizationStatus": False,
                "warehouseBrand": "",
                "supportsUspsGroundAdvantage": True,
                "regionId1": call.shop.region_id,
                "warehouseManagementType": 1,
                "enableBuyShippingLabel": True,
            }
            for w in call.shop.warehouses
        ]
    }


def _send_requests(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = body.get("sendRequestList")
    if not isinstance(items, list) or not items:
        raise BusinessError(3000000, "BAD_PARAMS: sendRequestList is required")
    if not all(isinstance(i, dict) for i in items):
        raise BusinessError(3000000, "BAD_PARAMS: sendRequestList items must be objects")
    return items


def _lines(call: Call, request: Mapping[str, Any]) -> list[tuple[ParentOrder, str]]:
    """(parent order, child order sn) for every line of one package, checked."""
    lines = request.get("orderSendInfoList")
    if not isinstance(lines, list) or not lines:
        raise BusinessError(3000000, "BAD_PARAMS: orderSendInfoList is required")
    out = []
    for line in lines:
        if not isinstance(line, dict) or not line.get("orderSn"):
            raise BusinessError(
                120011113,
                "Invalid request: The `orderSendInfoList` is missing the `orderSn` value for "
                "one or more orders.",
            )
        order = call.world.orders.get(call.mall_id, str(line.get("parentOrderSn")))
        if order is None or all(c.order_sn != line["orderSn"] for c in order.children):
            raise BusinessError(
                120012064,
                "The parentOrderSn is not valid for the selected selfShippingWarehouseId.",
            )
        out.append((order, str(line["orderSn"])))
    return out


def _child_status(order: ParentOrder, order_sn: str) -> int:
    return next(c.status for c in order.children if c.order_sn == order_sn)


def shipment_create(call: Call) -> dict[str, Any]:
    warehouse_ids = {w.warehouse_id for w in call.shop.warehouses}
    packages: list[tuple[list[tuple[ParentOrder, str]], str]] = []
    for request in _send_requests(call.body):
        wid = str(request.get("warehouseId", ""))
        if wid not in warehouse_ids:
            raise BusinessError(
                120011110,
                "No eligible channelId meet the specified requirements. "
                "Please check the parameters.",
            )
        if request.get("shipCompanyId") is None and request.get("shipLogisticsType") is None:
            raise BusinessError(120011112, "Missing parameter `shipCompanyId`.")
        lines = _lines(call, request)
        for order, sn in lines:
            if _child_status(order, sn) != UN_SHIPPING:
                raise BusinessError(
                    120012004,
                    "The order has been shipped. This submission is "
                    "not effective for the shipped order.",
                )
        packages.append((lines, wid))
    sns = []
    for lines, _ in packages:
        package_sn = f"PK-{call.world._next():010d}"
        sns.append(package_sn)
        for order in {id(o): o for o, _ in lines}.values():
            order.packages.append(package_sn)
    return {"packageSnList": sns, "warningMessage": []}


def shipment_confirm(call: Call) -> dict[str, Any]:
    warehouse_ids = {w.warehouse_id for w in call.shop.warehouses}
    plan: list[tuple[ParentOrder, set[str], str]] = []
    for request in _send_requests(call.body):
        tracking = request.get("trackingNumber")
        if not isinstance(tracking, str) or not tracking.strip():
            raise BusinessError(120014001, "Tracking number is blank.")
        if str(request.get("carrierId")) not in _CARRIER_IDS:
            raise BusinessError(
                120014022, "Incorrect trackingNumber/carrierId. Please check and retry."
            )
        wid = request.get("selfShippingWarehouseId")
        if call.spec.type.endswith("v2.confirm") and str(wid) not in warehouse_ids:
            raise BusinessError(
                120012064,
                "The parentOrderSn is not valid for the selected selfShippingWarehouseId.",
            )
        by_order: dict[str, tuple[ParentOrder, set[str]]] = {}
        for order, sn in _lines(call, request):
            status = _child_status(order, sn)
            if status >= SHIPPED and status != 41:
                raise BusinessError(
                    120012004,
                    "The order has been shipped. This submission is "
                    "not effective for the shipped order.",
                )
            if status != UN_SHIPPING:
                raise BusinessError(2000000, f"order {sn} cannot ship in status {status}")
            by_order.setdefault(order.parent_order_sn, (order, set()))[1].add(sn)
        plan.extend((o, sns, str(wid or "")) for o, sns in by_order.values())
    # Checked everything first: a refused request changes nothing.
    for order, sns, wid in plan:
        call.world.ship(order, sns, call.now, wid, call.changes)
    return {"assistantAgreementText": "", "warningMessage": []}


HANDLERS = {
    "bg.logistics.companies.get": companies,
    "bg.logistics.warehouse.list.get": warehouses,
    "bg.logistics.shipment.create": shipment_create,
    "bg.logistics.shipment.v2.confirm": shipment_confirm,
    "bg.logistics.shipment.confirm": shipment_confirm,
}
