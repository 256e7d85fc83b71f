"""Price types: supply price query, price orders (query / accept / negotiate), price
changes, recommended prices.

Price order statuses are the catalogue's (``models.UNDER_REVIEW`` ...): Temu's offers
wait for the seller (101) until accepted (203) or countered (204); a seller's own change
is under review (100) until approved (201), after ``price_review_seconds``.
"""

from __future__ import annotations

from typing import Any

from ..codes import BusinessError
from ..models import SELLER_ACCEPTED, SELLER_COUNTERED, WAITING_FOR_SELLER, Goods, PriceOrder
from .base import Call, int_param, page_params, paged, str_list

__all__ = ["HANDLERS"]

_INVALID = (150010003, "Invalid Request Parameters")
_NOT_MINE = (150010188, "The mall and goods not match.")


def _money(value: Any) -> str:
    """A positive decimal string with at most two places, or a 150010003 refusal."""
    amount = value.get("amount") if isinstance(value, dict) else None
    if not isinstance(amount, str):
        raise BusinessError(*_INVALID)
    whole, dot, frac = amount.partition(".")
    if not whole.isdigit() or (dot and not frac.isdigit()):
        raise BusinessError(*_INVALID)
    if len(frac) > 2:
        raise BusinessError(150011018, "Price currency USD can have at most 2 decimal points.")
    cents = int(whole) * 100 + int((frac + "00")[:2])
    if cents <= 0:
        raise BusinessError(*_INVALID)
    return f"{cents // 100}.{cents % 100:02d}"


def _goods(call: Call, goods_id: Any) -> Goods:
    g = call.world.goods.get(call.mall_id, {}).get(goods_id) if isinstance(goods_id, int) else None
    if g is None:
        raise BusinessError(*_NOT_MINE)
    return g


def sku_price_query(call: Call) -> dict[str, Any]:
    items = call.body.get("querySupplierPriceBaseList")
    if not isinstance(items, list):
        raise BusinessError(*_INVALID)
    out = []
    for item in items:
        g = _goods(call, item.get("goodsId") if isinstance(item, dict) else None)
        wanted = set(item.get("skuIdList") or [])
        out.append(
            {
                "goodsId": g.goods_id,
                "openapiSkuSupplierPriceDTOList": [
                    {
                        "skuId": s.sku_id,
                        "supplierPrice": {"amount": s.supply_price, "currency": s.currency},
                    }
                    for s in g.skus
                    if not wanted or s.sku_id in wanted
                ],
            }
        )
    return {"openapiGoodsSupplierPriceDTOList": out}


def _price_order_row(po: PriceOrder, goods: Goods | None) -> dict[str, Any]:
    return {
        "priceOrderId": po.price_order_id,
        "priceOrderSn": po.price_order_sn,
        "goodsId": po.goods_id,
        "pricingType": po.pricing_type,
        "specName": [s.spec for s in goods.skus] if goods else [],
        "skuIdList": po.sku_ids,
        "status": po.status,
        "suggestSupplierPrice": {"amount": po.suggest_price, "currency": po.currency},
        "targetSupplierPrice": {"amount": po.suggest_price, "currency": po.currency},
        "sourceSupplierPrice": {"amount": po.source_price, "currency": po.currency},
        "supplierPrice": {"amount": po.source_price, "currency": po.currency},
        "reason": "",
        "rejectTypeDesc": "",
        "priceCommitId": po.commit_id,
        "priceCommitVersion": po.commit_version,
    }


def price_order_query(call: Call) -> dict[str, Any]:
    body = call.body
    number, per = page_params(body, "page", "size", default_size=20)
    sns = set(str_list(body, "priceOrderSnList"))
    goods_ids = {int(v) for v in str_list(body, "goodsIdList") if v.isdigit()}
    one_goods = body.get("goodsId")
    if isinstance(one_goods, str) and one_goods.isdigit():
        goods_ids.add(int(one_goods))
    status = int_param(body, "status")
    po_type = int_param(body, "priceOrderType")
    # Creation-time bounds are epoch milliseconds; the world keeps seconds.
    created_from = int_param(body, "priceOrderCreateTimeFrom")
    created_to = int_param(body, "priceOrderCreateTimeTo")
    rows = sorted(call.world.price_orders.get(call.mall_id, {}).values(), key=lambda p: -p.created)
    rows = [
        p
        for p in rows
        if (created_from is None or p.created * 1000 >= created_from)
        and (created_to is None or p.created * 1000 <= created_to)
        and (not sns or p.price_order_sn in sns)
        and (not goods_ids or p.goods_id in goods_ids)
        and (status is None or p.status == status)
        and (po_type is None or p.pricing_type == po_type)
    ]
    goods = call.world.goods.get(call.mall_id, {})
    return {
        "pageNum": number,
        "total": len(rows),
        "priceAuditList": [
            _price_order_row(p, goods.get(p.goods_id)) for p in paged(rows, number, per)
        ],
    }


def _price_order(call: Call, po_id: Any, goods_id: Any, version: Any) -> PriceOrder:
    po = (
        call.world.price_orders.get(call.mall_id, {}).get(po_id) if isinstance(po_id, int) else None
    )
    if po is None or po.goods_id != goods_id:
        raise BusinessError(*_INVALID)
    if version is not None and version != po.commit_version:
        raise BusinessError(150010005, "Try again later")
    if po.status != WAITING_FOR_SELLER:
        raise BusinessError(
            2000000, f"price order {po.price_order_id} is not waiting for the seller"
        )
    return po


def price_order_accept(call: Call) -> dict[str, Any]:
    items = call.body.get("priceOrderInfoList")
    if not isinstance(items, list) or not items:
        raise BusinessError(*_INVALID)
    orders = [
        _price_order(call, i.get("priceOrderId"), i.get("goodsId"), i.get("priceCommitVersion"))
        for i in items
        if isinstance(i, dict)
    ]
    goods = call.world.goods.get(call.mall_id, {})
    for po in orders:
        po.status = SELLER_ACCEPTED
        po.commit_version += 1
        for sku in goods[po.goods_id].skus:
            if sku.sku_id in po.sku_ids:
                sku.supply_price = po.suggest_price
    return {"success": True}


def price_order_negotiate(call: Call) -> dict[str, Any]:
    body = call.body
    po = _price_order(
        call, body.get("priceOrderId"), body.get("goodsId"), body.get("priceCommitVersion")
    )
    lines = body.get("negotiatedPriceSkuList")
    if not isinstance(lines, list) or not lines:
        raise BusinessError(*_INVALID)
    for line in lines:
        if not isinstance(line, dict) or line.get("skuId") not in po.sku_ids:
            raise BusinessError(150010189, "The sku and goods not match")
        po.suggest_price = _money(line.get("newSupplierPrice"))
    po.status = SELLER_COUNTERED
    po.commit_version += 1
    return {"success": True}


def change_sku_price(call: Call) -> dict[str, Any]:
    g = _goods(call, call.body.get("goodsId"))
    groups = call.body.get("changeSkuPriceDTOList")
    if not isinstance(groups, list) or not groups:
        raise BusinessError(*_INVALID)
    skus = {s.sku_id: s for s in g.skus}
    planned: dict[int, str] = {}
    for group in groups:
        lines = group.get("skuChangePriceBaseDTOList") if isinstance(group, dict) else None
        if not isinstance(lines, list):
            raise BusinessError(*_INVALID)
        for line in lines:
            sku_id = line.get("skuId") if isinstance(line, dict) else None
            if sku_id not in skus:
                raise BusinessError(150010189, "The sku and goods not match")
            if sku_id in planned:
                raise BusinessError(150010190, "The sku repeat in batch change sku price")
            planned[sku_id] = _money(line.get("newSupplierPrice"))
    # A price change opens price orders that Temu reviews; the price takes effect when
    # one is approved (at once unless the sandbox is configured with a review time).
    opened = call.world.open_price_change(call.mall_id, g, planned, call.now)
    return {
        "successSkuList": sorted(planned),
        "failedSkuList": [],
        "failedSkuReasonMap": {},
        "successPriceOrderList": [
            {"priceOrderSn": po.price_order_sn, "skuIdList": po.sku_ids} for po in opened
        ],
    }


def recommended_price(call: Call) -> dict[str, Any]:
    ids = call.body.get("goodsIdList")
    if not isinstance(ids, list) or not ids:
        raise BusinessError(*_INVALID)
    out = []
    for goods_id in ids:
        g = _goods(call, goods_id)
        out.append(
            {
                "goodsId": g.goods_id,
                "skuList": [
                    {
                        "skuId": s.sku_id,
                        "recommendedSupplyPrice": {
                            "amount": _discount(s.supply_price),
                            "currency": s.currency,
                        },
                    }
                    for s in g.skus
                ],
            }
        )
    return {"goodsList": out}


def _discount(amount: str) -> str:
    whole, _, frac = amount.partition(".")
    cents = (int(whole) * 100 + int((frac + "00")[:2])) * 9 // 10
    return f"{cents // 100}.{cents % 100:02d}"


HANDLERS = {
    "bg.local.goods.sku.list.price.query": sku_price_query,
    "bg.local.goods.priceorder.query": price_order_query,
    "bg.local.goods.priceorder.accept": price_order_accept,
    "bg.local.goods.priceorder.negotiate": price_order_negotiate,
    "bg.local.goods.priceorder.change.sku.price": change_sku_price,
    "temu.local.goods.recommendedprice.query": recommended_price,
}
