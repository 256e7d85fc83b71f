"""After-sales list and promotion activities."""

from __future__ import annotations

from typing import Any

from .base import Call, int_param, page_params, paged, str_list

__all__ = ["HANDLERS"]


def after_sales_list(call: Call) -> dict[str, Any]:
    number, per = page_params(call.body, "pageNo", "pageSize")
    wanted = set(str_list(call.body, "parentAfterSalesSnList"))
    rows = [
        a
        for a in call.world.after_sales.get(call.mall_id, [])
        if not wanted or a.parent_after_sales_sn in wanted
    ]
    return {
        "total": len(rows),
        "pageNumber": number,
        "data": [
            {
                "parentAfterSalesSn": a.parent_after_sales_sn,
                "afterSalesSn": a.after_sales_sn,
                "productSkuId": a.sku_id,
                "applyAfterSalesGoodsNumber": a.quantity,
                "goodsId": a.goods_id,
                "skuId": a.sku_id,
                "productList": [{"productSkuId": a.sku_id, "extCode": ""}],
                "afterSalesStatus": a.status,
                "afterSalesType": a.type,
            }
            for a in paged(rows, number, per)
        ],
    }


def activity_query(call: Call) -> dict[str, Any]:
    body = call.body
    number, per = page_params(body, "pageNumber", "pageSize")
    kind = int_param(body, "activityType")
    status = int_param(body, "activityStatus")
    ids = set(body.get("activityIdList") or [])
    joined_only = body.get("onlyQueryJoinedActivity") is True
    mall = call.mall_id
    rows = [
        a
        for a in call.world.activities
        if (kind is None or a.activity_type == kind)
        and (status is None or a.status == status)
        and (not ids or a.activity_id in ids)
        and (not joined_only or mall in a.joined_malls)
    ]
    return {
        "total": len(rows),
        "activityList": [
            {
                "activityId": a.activity_id,
                "activityName": a.name,
                "activityType": a.activity_type,
                "activityStatus": a.status,
                "activityStartTime": a.start * 1000,
                "activityEndTime": a.end * 1000,
                "isJoinedActivity": mall in a.joined_malls,
            }
            for a in paged(rows, number, per)
        ],
    }


HANDLERS = {
    "bg.aftersales.aftersales.list.get": after_sales_list,
    "bg.promotion.activity.query": activity_query,
}
