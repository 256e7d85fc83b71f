"""Shared by the sandbox tests: a small in-code catalogue and a raw signed-request helper.

The helper signs on its own (hashlib over the JSON it is about to send) so the
tests do not lean on the sandbox's checker or on the SDK's signer.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import aiohttp

from temu_async.catalogue import Catalogue, Field, Paginate, RateLimit, TypeSpec
from temu_async.sandbox import Sandbox


def _t(type_: str, method: str, group: str, **kw: Any) -> TypeSpec:
    return TypeSpec(
        type=type_,
        method=method,
        group=group,
        summary=f"{type_} in tests.",
        idempotent=kw.pop("idempotent", True),
        **kw,
    )


def small_catalogue(default_rate_limit: int = 20) -> Catalogue:
    send_line = [
        Field(name="parentOrderSn", type="string", required=True),
        Field(name="orderSn", type="string", required=True),
        Field(name="goodsId", type="long"),
        Field(name="skuId", type="long"),
        Field(name="quantity", type="integer", required=True, minimum=1),
    ]
    return Catalogue(
        default_rate_limit=default_rate_limit,
        types=[
            _t(
                "bg.open.accesstoken.create",
                "create",
                "auth",
                params=[Field(name="code", type="string")],
            ),
            _t("bg.open.accesstoken.info.get", "info", "auth"),
            _t(
                "bg.order.list.v2.get",
                "list_v2",
                "order",
                params=[
                    Field(name="pageNumber", type="integer", minimum=1),
                    Field(name="pageSize", type="integer", minimum=1, maximum=100),
                    Field(
                        name="parentOrderStatus",
                        type="integer",
                        enum={
                            0: "all",
                            1: "PENDING",
                            2: "UN_SHIPPING",
                            3: "CANCELED",
                            4: "SHIPPED",
                            5: "RECEIPTED",
                            41: "p",
                            51: "p",
                        },
                    ),
                    Field(name="parentOrderSnList", type="list", items="string", max_items=20),
                    Field(name="createAfter", type="integer"),
                    Field(name="createBefore", type="integer"),
                    Field(name="updateAtStart", type="integer"),
                    Field(name="updateAtEnd", type="integer"),
                    Field(
                        name="sortby", type="string", enum={"createTime": "c", "updateTime": "u"}
                    ),
                ],
                paginate=Paginate(
                    page="pageNumber", size="pageSize", items="pageItems", total="totalItemNum"
                ),
                response=[
                    Field(name="totalItemNum", type="integer"),
                    Field(
                        name="pageItems",
                        type="list",
                        items="object",
                        fields=[
                            Field(name="parentOrderMap", type="object"),
                            Field(name="orderList", type="list", items="object"),
                        ],
                    ),
                ],
                errors={140020013: "{*} not passed in"},
            ),
            _t(
                "bg.order.detail.v2.get",
                "detail_v2",
                "order",
                params=[Field(name="parentOrderSn", type="string", required=True)],
            ),
            _t(
                "bg.logistics.shipment.v2.confirm",
                "confirm_v2",
                "logistics",
                idempotent=False,
                params=[
                    Field(
                        name="sendType",
                        type="integer",
                        required=True,
                        enum={0: "single", 1: "split", 2: "merge"},
                    ),
                    Field(
                        name="sendRequestList",
                        type="list",
                        items="object",
                        required=True,
                        min_items=1,
                        fields=[
                            Field(name="carrierId", type="long", required=True),
                            Field(name="trackingNumber", type="string", required=True),
                            Field(name="selfShippingWarehouseId", type="string", required=True),
                            Field(
                                name="orderSendInfoList",
                                type="list",
                                items="object",
                                required=True,
                                fields=send_line,
                            ),
                        ],
                    ),
                ],
            ),
            _t("bg.logistics.warehouse.list.get", "warehouses", "logistics"),
            _t("bg.logistics.companies.get", "companies", "logistics", result_type="list"),
            _t(
                "bg.local.goods.stock.edit",
                "stock_edit",
                "goods",
                idempotent=False,
                params=[
                    Field(name="goodsId", type="long", required=True),
                    Field(
                        name="skuStockChangeList",
                        type="list",
                        items="object",
                        fields=[
                            Field(name="skuId", type="long", required=True),
                            Field(name="stockDiff", type="integer", required=True),
                        ],
                    ),
                ],
            ),
            _t(
                "bg.local.goods.sku.list.query",
                "sku_list",
                "goods",
                params=[
                    Field(name="pageNo", type="integer"),
                    Field(name="pageSize", type="integer"),
                ],
            ),
            _t(
                "bg.local.goods.priceorder.query",
                "priceorder_query",
                "price",
                rate_limit=RateLimit(per_second=30),
                params=[
                    Field(name="page", type="integer"),
                    Field(name="size", type="integer", maximum=99),
                ],
            ),
            _t(
                "bg.local.goods.cats.get",
                "cats",
                "goods",
                params=[Field(name="parentCatId", type="long", required=True)],
                response=[
                    Field(
                        name="goodsCatsList",
                        type="list",
                        items="object",
                        fields=[
                            Field(name="catId", type="long"),
                            Field(name="catName", type="string"),
                            Field(name="leaf", type="boolean"),
                        ],
                    ),
                ],
            ),
        ],
    )


def sign(secret: str, body: dict[str, Any]) -> str:
    parts = []
    for key in sorted(k for k in body if k != "sign" and body[k] is not None):
        text = json.dumps(body[key], separators=(",", ":"), ensure_ascii=False)
        if isinstance(body[key], str):
            text = text[1:-1]
        parts.append(key + text)
    return hashlib.md5((secret + "".join(parts) + secret).encode()).hexdigest().upper()


def signed_body(
    sb: Sandbox,
    type_: str,
    params: dict[str, Any] | None = None,
    *,
    shop: int = 0,
    app: int = 0,
    token: str | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    creds = sb.credentials
    a = creds.apps[app]
    body: dict[str, Any] = {
        "type": type_,
        "app_key": a.app_key,
        "access_token": token if token is not None else a.shops[shop].access_token,
        "timestamp": int(sb.server_time()) if timestamp is None else timestamp,
        "data_type": "JSON",
    }
    body.update(params or {})
    body["sign"] = sign(a.app_secret, body)
    return body


async def post(
    session: aiohttp.ClientSession, sb: Sandbox, body: dict[str, Any] | bytes
) -> dict[str, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    async with session.post(
        sb.url, data=data, headers={"Content-Type": "application/json"}
    ) as resp:
        assert resp.status == 200, resp.status
        result: dict[str, Any] = await resp.json()
        return result


async def call(
    session: aiohttp.ClientSession,
    sb: Sandbox,
    type_: str,
    params: dict[str, Any] | None = None,
    **kw: Any,
) -> dict[str, Any]:
    return await post(session, sb, signed_body(sb, type_, params, **kw))
