"""Goods types: list, detail, SKU list, stock edit, sale status."""

from __future__ import annotations

from typing import Any

from ..codes import BusinessError
from ..models import Goods, Sku
from .base import Call, int_param, page_params, paged, str_list

__all__ = ["HANDLERS"]

_NOT_MINE = (150010188, "The mall and goods not match.")


def _price(amount: str, currency: str) -> dict[str, str]:
    return {"amount": amount, "currency": currency}


def _goods_row(g: Goods) -> dict[str, Any]:
    first = g.skus[0]
    return {
        "goodsId": g.goods_id,
        "goodsName": g.name,
        "specName": ", ".join(s.spec for s in g.skus),
        "thumbUrl": f"https://img.sandbox.invalid/{g.goods_id}.jpg",
        "outGoodsSn": g.out_goods_sn,
        "status4VO": 1,
        "subStatus4VO": 1 if g.on_sale else 2,
        "currency": first.currency,
        "price": first.supply_price,
        "outSkuSnList": [s.out_sku_sn for s in g.skus],
        "skuIdList": [s.sku_id for s in g.skus],
        "quantity": sum(s.stock for s in g.skus),
        "crtTime": g.created * 1000,
        "goodsStatusChangeTime": str(g.status_changed * 1000),
        "catId": g.cat_id,
    }


def _sku_row(g: Goods, s: Sku) -> dict[str, Any]:
    return {
        "goodsName": g.name,
        "specName": s.spec,
        "thumbUrl": f"https://img.sandbox.invalid/{g.goods_id}.jpg",
        "goodsId": g.goods_id,
        "skuId": s.sku_id,
        "skuSn": s.out_sku_sn,
        "stock": s.stock,
        "price": s.supply_price,
        "crtTime": s.created * 1000,
        "status4VO": 1,
        "subStatus4VO": 1 if s.on_sale and g.on_sale else 2,
        "goodsIsOnSale": 1 if g.on_sale else 0,
        "currency": s.currency,
        "specList": [{"specName": s.spec}],
    }


def _goods(call: Call, goods_id: Any) -> Goods:
    goods = (
        call.world.goods.get(call.mall_id, {}).get(goods_id) if isinstance(goods_id, int) else None
    )
    if goods is None:
        raise BusinessError(*_NOT_MINE)
    return goods


def goods_list(call: Call) -> dict[str, Any]:
    body = call.body
    number, per = page_params(body, "pageNo", "pageSize")
    wanted = {int(v) for v in str_list(body, "goodsIdList") if v.isdigit()}
    text = body.get("searchText")
    rows = sorted(call.world.goods.get(call.mall_id, {}).values(), key=lambda g: -g.created)
    if wanted:
        rows = [g for g in rows if g.goods_id in wanted]
    if isinstance(text, str) and text:
        rows = [g for g in rows if text.lower() in g.name.lower() or text == g.out_goods_sn]
    return {
        "pageNo": number,
        "total": len(rows),
        "goodsList": [_goods_row(g) for g in paged(rows, number, per)],
    }


def goods_detail(call: Call) -> dict[str, Any]:
    g = _goods(call, call.body.get("goodsId"))
    return {
        "goodsId": g.goods_id,
        "catId": g.cat_id,
        "subStatus": 1 if g.on_sale else 2,
        "goodsName": g.name,
        "goodsDesc": f"{g.name}, seeded by the sandbox.",
        "bulletPoints": [],
        "outGoodsSn": g.out_goods_sn,
        "skuList": [
            {
                "skuId": s.sku_id,
                "outSkuSn": s.out_sku_sn,
                "supplierPrice": _price(s.supply_price, s.currency),
                "quantity": s.stock,
                "specList": [{"specName": s.spec}],
            }
            for s in g.skus
        ],
    }


def sku_list(call: Call) -> dict[str, Any]:
    body = call.body
    number, per = page_params(body, "pageNo", "pageSize")
    wanted = {int(v) for v in str_list(body, "skuIdList") if v.isdigit()}
    rows = [
        (g, s)
        for g in sorted(call.world.goods.get(call.mall_id, {}).values(), key=lambda g: -g.created)
        for s in g.skus
        if not wanted or s.sku_id in wanted
    ]
    return {
        "pageNo": number,
        "total": len(rows),
        "skuList": [_sku_row(g, s) for g, s in paged(rows, number, per)],
    }


def stock_edit(call: Call) -> dict[str, Any]:
    g = _goods(call, call.body.get("goodsId"))
    diff = call.body.get("skuStockChangeList")
    target = call.body.get("skuStockTargetList")
    if bool(diff) == bool(target):
        raise BusinessError(150013003, "Only one stock adjustment method can be active at a time.")
    items = diff or target
    if not isinstance(items, list):
        raise BusinessError(150010003, "Invalid Request Parameters")
    skus = {s.sku_id: s for s in g.skus}
    field = "stockDiff" if diff else "stockTarget"
    seen: set[int] = set()
    planned: list[tuple[Sku, int]] = []
    for item in items:
        sku_id = item.get("skuId") if isinstance(item, dict) else None
        value = item.get(field) if isinstance(item, dict) else None
        if sku_id not in skus or not isinstance(value, int) or isinstance(value, bool):
            raise BusinessError(150010003, "Invalid Request Parameters")
        if sku_id in seen:
            raise BusinessError(
                150013001, "Duplicate SKUs detected. Please remove them and try again"
            )
        seen.add(sku_id)
        new = skus[sku_id].stock + value if diff else value
        if not 0 <= new <= 1_000_000:
            raise BusinessError(150013002, "Quantity must be between 0 and 1000000")
        planned.append((skus[sku_id], new))
    for sku, new in planned:
        sku.stock = new
    return {
        "goodsId": g.goods_id,
        "skuStockEditStatusInfoList": [
            {"skuId": s.sku_id, "stockEditStatus": True, "errorCode": 0, "errorMsg": ""}
            for s, _ in planned
        ],
        "operateResult": True,
        "msg": "",
    }


def sale_status_set(call: Call) -> dict[str, Any]:
    g = _goods(call, call.body.get("goodsId"))
    onsale = int_param(call.body, "onsale")
    if onsale not in (0, 1):
        raise BusinessError(150010003, "Invalid Request Parameters")
    sku_ids = call.body.get("skuIdList") or []
    if sku_ids:
        skus = {s.sku_id: s for s in g.skus}
        if any(i not in skus for i in sku_ids):
            raise BusinessError(150010003, "Invalid Request Parameters")
        for i in sku_ids:
            skus[i].on_sale = bool(onsale)
    else:
        g.on_sale = bool(onsale)
        g.status_changed = call.now
    return {"success": True}


HANDLERS = {
    "bg.local.goods.list.query": goods_list,
    "bg.local.goods.detail.query": goods_detail,
    "bg.local.goods.sku.list.query": sku_list,
    "bg.local.goods.stock.edit": stock_edit,
    "bg.local.goods.sale.status.set": sale_status_set,
}
