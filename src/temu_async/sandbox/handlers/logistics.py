"""Logistics types: carriers, warehouses, shipping services, buy-shipping labels
(create, result, update, documents, unshipped packages, confirm) and self-shipment."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..codes import BusinessError
from ..labels import CHANNELS, FAILED, SUCCESSFUL, Line, Package, ShippingChannel
from ..models import SHIPPED, UN_SHIPPING, ParentOrder
from ..world import LOGISTICS_COMPANIES
from .base import Call, page_params, paged, str_list

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


def _number(request: Mapping[str, Any], name: str) -> float:
    value = request.get(name)
    try:
        return float(str(value))
    except ValueError:
        raise BusinessError(120011020, f"Invalid request parameters: {name}") from None


def _channel_for(request: Mapping[str, Any]) -> ShippingChannel:
    channel = next((c for c in CHANNELS if c.channel_id == request.get("channelId")), None)
    if channel is None or request.get("shipCompanyId") != channel.ship_company_id:
        raise BusinessError(
            120011110,
            "No eligible channelId meet the specified requirements. Please check the parameters.",
        )
    return channel


def shipping_services(call: Call) -> dict[str, Any]:
    if str(call.body.get("warehouseId")) not in {w.warehouse_id for w in call.shop.warehouses}:
        raise BusinessError(120011006, "The parameter warehouseId is invalid.")
    infos = call.body.get("shipOrderInfoList") or []
    sns = str_list(call.body, "orderSnList")
    if sns and infos:
        raise BusinessError(
            120018070, "Only one of orderSnList or <parentOrderSn, orderSn> list can be provided."
        )
    if not sns and not infos:
        raise BusinessError(
            120018072,
            "At least one of orderSnList or <parentOrderSn, orderSn> list must be provided.",
        )
    for info in infos:
        order = call.world.orders.get(call.mall_id, str(info.get("parentOrderSn")))
        if order is None or all(c.order_sn != info.get("orderSn") for c in order.children):
            raise BusinessError(120018071, "The orderSn is not found under the parentOrderSn.")
    weight = _number(call.body, "weight")
    desk = call.world.labels
    return {
        "onlineChannelDtoList": [
            {
                "channelId": c.channel_id,
                "shipCompanyId": c.ship_company_id,
                "shippingCompanyName": c.company,
                "shipLogisticsType": c.logistics_type,
                "estimatedAmount": desk.quote(c, weight),
                "estimatedCurrencyCode": "USD",
                "estimatedText": f"{c.days[0]}-{c.days[1]} business days",
                "channelRules": "",
                "pickupRules": "",
                "infoNeeded": [],
                "supportInterlineShipping": False,
                "interlineChannelInfoList": [],
                "availablePickupTimeSlotList": [],
                "isNoContactDeliveryChannel": False,
            }
            for c in CHANNELS
        ],
        "unavailableChannelDtoList": [],
    }


def _package_lines(call: Call, request: Mapping[str, Any]) -> list[Line]:
    lines = []
    for order, sn in _lines(call, request):
        if _child_status(order, sn) != UN_SHIPPING:
            raise BusinessError(
                120012004,
                "The order has been shipped. This submission is not effective for the shipped order.",
            )
        child = next(c for c in order.children if c.order_sn == sn)
        lines.append(Line(order.parent_order_sn, sn, child.quantity, child.goods_id, child.sku_id))
    return lines


def shipment_create(call: Call) -> dict[str, Any]:
    desk = call.world.labels
    warehouse_ids = {w.warehouse_id for w in call.shop.warehouses}
    ship_later = call.body.get("shipLater") is True
    hours_text = call.body.get("shipLaterLimitTime")
    hours = 24
    if hours_text is not None:
        if not str(hours_text).isdigit() or not 1 <= int(str(hours_text)) <= 72:
            raise BusinessError(
                120015532, "shipLaterLimitTime is invalid, please check the valid value"
            )
        hours = int(str(hours_text))
    planned: list[tuple[list[Line], dict[str, Any]]] = []
    for request in _send_requests(call.body):
        if str(request.get("warehouseId", "")) not in warehouse_ids:
            raise BusinessError(120011006, "The parameter warehouseId is invalid.")
        _channel_for(request)
        lines = _package_lines(call, request)
        for line in lines:
            desk.create_requests[line.order_sn] += 1
        for line in lines:
            existing = next(
                (
                    p
                    for p in desk.packages.values()
                    if any(x.order_sn == line.order_sn for x in p.lines)
                ),
                None,
            )
            if existing is not None:
                raise BusinessError(
                    120012020,
                    f"Buy shipping failed. Package number {existing.package_sn} is existent. "
                    "Courier and tracking number cannot be entered directly. "
                    "Please edit or try again on the order details page.",
                )
        planned.append((lines, dict(request)))
    sns = []
    for lines, request in planned:
        package = Package(
            package_sn=f"PK-{call.world._next():010d}",
            mall_id=call.mall_id,
            lines=lines,
            request=request,
            ship_later=ship_later,
            ship_later_hours=hours,
        )
        desk.packages[package.package_sn] = package
        sns.append(package.package_sn)
        for line in lines:
            desk.purchases[line.order_sn] += 1
        for parent in dict.fromkeys(line.parent_order_sn for line in lines):
            order = call.world.orders.get(call.mall_id, parent)
            if order is not None:
                order.packages.append(package.package_sn)
        call.world.buy_label(package, call.now)
    answer: dict[str, Any] = {"packageSnList": sns, "warningMessage": []}
    if ship_later:
        answer["shipLaterLimitTime"] = str(hours)
    return answer


def _package(call: Call, sn: object) -> Package:
    package = call.world.labels.packages.get(str(sn))
    if package is None or package.mall_id != call.mall_id:
        raise BusinessError(
            120018027,
            "The packageSn is invalid. Please check the request area or if the packageSn is "
            "nonexistent etc.",
        )
    return package


def _result_item(call: Call, package: Package) -> dict[str, Any]:
    request = package.request
    channel = call.world.labels.channel(request.get("channelId"))
    warehouse = next(
        (w for w in call.shop.warehouses if w.warehouse_id == request.get("warehouseId")), None
    )
    return {
        "packageSn": package.package_sn,
        "shippingLabelStatus": package.status,
        "failReasonText": package.fail_reason,
        "trackingNumber": package.tracking_number,
        "channelId": channel.channel_id if channel else 0,
        "shipLogisticsType": channel.logistics_type if channel else "",
        "shipCompanyId": channel.ship_company_id if channel else 0,
        "shippingCompanyName": channel.company if channel else "",
        "warehouseId": str(request.get("warehouseId", "")),
        "warehouseName": warehouse.name if warehouse else "",
        "packageDeliveryType": 2,
        "dimensionUnit": str(request.get("dimensionUnit", "")),
        "length": str(request.get("length", "")),
        "width": str(request.get("width", "")),
        "height": str(request.get("height", "")),
        "weight": str(request.get("weight", "")),
        "weightUnit": str(request.get("weightUnit", "")),
        "warningMessage": [],
        "orderSendInfoList": [
            {
                "orderSn": line.order_sn,
                "parentOrderSn": line.parent_order_sn,
                "quantity": line.quantity,
                "goodsId": line.goods_id,
                "skuId": line.sku_id,
                "mallId": package.mall_id,
            }
            for line in package.lines
        ],
    }


def shipment_result(call: Call) -> dict[str, Any]:
    packages = [_package(call, sn) for sn in str_list(call.body, "packageSnList")]
    return {"packageInfoResultList": [_result_item(call, p) for p in packages]}


def shipment_update(call: Call) -> bool:
    items = call.body.get("retrySendPackageRequestList")
    if not isinstance(items, list) or not items:
        raise BusinessError(3000000, "BAD_PARAMS: retrySendPackageRequestList is required")
    warehouse_ids = {w.warehouse_id for w in call.shop.warehouses}
    planned = []
    for request in items:
        package = _package(call, request.get("packageSn"))
        if package.status != FAILED:
            raise BusinessError(
                120018002, "The package is not in failed state, please check the package status."
            )
        if str(request.get("warehouseId", "")) not in warehouse_ids:
            raise BusinessError(120011006, "The parameter warehouseId is invalid.")
        _channel_for(request)
        planned.append((package, request))
    for package, request in planned:
        package.attempts += 1
        package.request = dict(request)
        call.world.buy_label(package, call.now)
    return True


def shipment_document(call: Call) -> dict[str, Any]:
    kind = call.body.get("documentType") or "SHIPPING_LABEL_PDF"
    urls = []
    warnings = []
    for sn in str_list(call.body, "packageSnList"):
        package = _package(call, sn)
        if package.status != SUCCESSFUL:
            warnings.append(f"package {sn} has no label yet (shippingLabelStatus {package.status})")
            continue
        urls.append(
            {
                "packageSn": sn,
                "documentType": kind,
                "url": call.world.labels.issue(package, str(kind), call.now),
            }
        )
    return {"shippingLabelUrlList": urls, "warningMessage": warnings}


def unshipped_packages(call: Call) -> dict[str, Any]:
    number, per = page_params(call.body, "pageNumber", "pageSize")
    parents = set(str_list(call.body, "parentOrderSnList"))
    orders = set(str_list(call.body, "orderSnList"))
    found = [
        p
        for p in call.world.labels.packages.values()
        if p.mall_id == call.mall_id
        and p.status == SUCCESSFUL
        and not p.shipped
        and (not parents or any(x.parent_order_sn in parents for x in p.lines))
        and (not orders or any(x.order_sn in orders for x in p.lines))
    ]
    return {
        "totalItemNum": len(found),
        "unshippedPackage": [
            {
                "packageSn": p.package_sn,
                "trackingNumber": p.tracking_number,
                "carrierId": int(str(p.request.get("shipCompanyId", 0))),
                "carrierName": (
                    c.company
                    if (c := call.world.labels.channel(p.request.get("channelId")))
                    else ""
                ),
                "subPackageSnList": [],
                "packageDetail": {
                    "shippableOrders": [
                        {
                            "orderSn": x.order_sn,
                            "parentOrderSn": x.parent_order_sn,
                            "quantity": x.quantity,
                            "mallId": p.mall_id,
                        }
                        for x in p.lines
                    ],
                    "canceledOrders": [],
                },
            }
            for p in paged(found, number, per)
        ],
    }


def shipped_package_confirm(call: Call) -> dict[str, Any]:
    items = call.body.get("packageSendInfoList")
    if not isinstance(items, list) or not items:
        raise BusinessError(3000000, "BAD_PARAMS: packageSendInfoList is required")
    planned = []
    for item in items:
        package = _package(call, item.get("packageSn"))
        if package.status != SUCCESSFUL or package.tracking_number != item.get("trackingNumber"):
            raise BusinessError(
                120014002,
                f"The field trackingNumber {item.get('trackingNumber')} does not match packageSn "
                f"{package.package_sn}. Please check the matching relationship between the two fields.",
            )
        if package.shipped:
            raise BusinessError(
                120012004,
                "The order has been shipped. This submission is not effective for the shipped order.",
            )
        planned.append(package)
    for package in planned:
        call.world.ship_package(package, call.now, call.changes)
    return {"warningMessage": []}


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
    "bg.logistics.shippingservices.get": shipping_services,
    "bg.logistics.shipment.create": shipment_create,
    "bg.logistics.shipment.result.get": shipment_result,
    "bg.logistics.shipment.update": shipment_update,
    "bg.logistics.shipment.document.get": shipment_document,
    "bg.order.unshipped.package.get": unshipped_packages,
    "bg.logistics.shipped.package.confirm": shipped_package_confirm,
    "bg.logistics.shipment.v2.confirm": shipment_confirm,
    "bg.logistics.shipment.confirm": shipment_confirm,
}
