"""The sandbox's data: apps, shops, tokens, goods, prices, orders.

Mutable dataclasses, owned by one :class:`~temu_async.sandbox.world.World`; the
request handlers turn them into wire dicts. Secrets are kept out of reprs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

__all__ = [
    "Activity",
    "AfterSale",
    "App",
    "AuthCode",
    "ChildOrder",
    "Goods",
    "OrderStatusChange",
    "ParentOrder",
    "PriceOrder",
    "Shop",
    "Sku",
    "Token",
    "Warehouse",
]

# Order statuses (parentOrderStatus / orderStatus).
PENDING = 1
UN_SHIPPING = 2
CANCELED = 3
SHIPPED = 4
RECEIPTED = 5
PARTIALLY_SHIPPED = 41
PARTIALLY_RECEIVED = 51


@dataclass
class App:
    app_key: str
    app_secret: str = field(repr=False)


@dataclass
class Token:
    access_token: str = field(repr=False)
    app_key: str
    mall_id: int
    scopes: set[str]
    expires_at: int
    revoked: bool = False
    """Replaced by a newer token for the same shop (``bg.open.accesstoken.create``)."""


@dataclass
class AuthCode:
    code: str = field(repr=False)
    app_key: str
    mall_id: int
    expires_at: int
    used: bool = False


@dataclass
class Warehouse:
    warehouse_id: str
    name: str
    default: bool


@dataclass
class Shop:
    mall_id: int
    app_key: str
    region_id: int
    warehouses: list[Warehouse] = field(default_factory=list)


@dataclass
class Sku:
    sku_id: int
    goods_id: int
    spec: str
    out_sku_sn: str
    stock: int
    supply_price: str
    """Decimal amount as a string, the way the API carries money."""
    currency: str
    on_sale: bool = True
    created: int = 0


@dataclass
class Goods:
    goods_id: int
    mall_id: int
    name: str
    cat_id: int
    out_goods_sn: str
    created: int
    on_sale: bool = True
    status_changed: int = 0
    skus: list[Sku] = field(default_factory=list)


# Price order statuses, as the catalogue names them (bg.local.goods.priceorder.query).
UNDER_REVIEW = 100
WAITING_FOR_SELLER = 101
APPROVED = 201
SELLER_ACCEPTED = 203
SELLER_COUNTERED = 204
REJECTED = 206


@dataclass
class PriceOrder:
    price_order_id: int
    price_order_sn: str
    mall_id: int
    goods_id: int
    sku_ids: list[int]
    pricing_type: int
    status: int
    """The catalogue's codes: 100 under Temu's review, 101 waiting for the seller, 201
    approved, 203 accepted by the seller, 204 the seller proposed another price, 206
    rejected."""
    suggest_price: str
    source_price: str
    currency: str
    created: int
    commit_id: int
    commit_version: int = 1


@dataclass
class ChildOrder:
    order_sn: str
    goods_id: int
    sku_id: int
    goods_name: str
    spec: str
    quantity: int
    unit_price: str
    """Supply price per unit at order time (string money)."""
    currency: str
    status: int
    shipped_at: int = 0
    warehouse_id: str = ""


@dataclass
class ParentOrder:
    parent_order_sn: str
    mall_id: int
    region_id: int
    status: int
    created: int
    updated: int
    expect_ship_latest: int
    latest_delivery: int
    confirmed: int = 0
    """When the pending period ended (parentConfirmTime); 0 while pending."""
    shipped_at: int = 0
    children: list[ChildOrder] = field(default_factory=list)
    buyer_name: str = ""
    address_line1: str = ""
    city: str = ""
    state: str = ""
    post_code: str = ""
    packages: list[str] = field(default_factory=list)
    list_item: msgspec.Raw | None = field(default=None, repr=False, compare=False)
    """Cached ``pageItems`` entry for the list type, as JSON; dropped whenever the order
    changes. Bytes, not dicts: the garbage collector never walks them (see orders.py)."""


@dataclass
class AfterSale:
    parent_after_sales_sn: str
    after_sales_sn: str
    mall_id: int
    parent_order_sn: str
    order_sn: str
    goods_id: int
    sku_id: int
    quantity: int
    status: int
    type: int


@dataclass
class Activity:
    activity_id: int
    name: str
    activity_type: int
    status: int
    start: int
    end: int
    joined_malls: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class OrderStatusChange:
    """Passed to the ``on_order_status_change`` hook (the future webhook push)."""

    app_key: str
    mall_id: int
    parent_order_sn: str
    old_status: int
    new_status: int
    at: int
    """Server time of the change, unix seconds."""
