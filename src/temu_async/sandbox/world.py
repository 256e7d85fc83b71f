"""The sandbox's world: seeded apps, shops, goods, prices and orders, moving with the clock.

Everything is drawn from generators seeded with the run seed and a label, so two
sandboxes with the same seed and clock hold the same data. Orders move through
a heap of timed events (confirm after the pending period, buyer cancellation,
receipt after delivery, new arrivals); :meth:`World.advance` plays every event
due by a given time, so a test can jump the clock and see the effect.
"""

from __future__ import annotations

import heapq
import random
import string
from dataclasses import dataclass

from .codes import BusinessError
from .config import DAY, SandboxConfig
from .labels import FAILED, SUCCESSFUL, LabelDesk, Package
from .models import (
    APPROVED,
    CANCELED,
    PENDING,
    RECEIPTED,
    SHIPPED,
    UN_SHIPPING,
    UNDER_REVIEW,
    WAITING_FOR_SELLER,
    Activity,
    AfterSale,
    App,
    AuthCode,
    ChildOrder,
    Goods,
    OrderStatusChange,
    ParentOrder,
    PriceOrder,
    Shop,
    Sku,
    Token,
    Warehouse,
)
from .orderbook import OrderBook

__all__ = ["LOGISTICS_COMPANIES", "World"]

# A few carriers as the US gateway lists them (id, provider name, brand).
LOGISTICS_COMPANIES: tuple[tuple[int, str, str], ...] = (
    (699272611, "USPS", "USPS"),
    (699272612, "UPS", "UPS"),
    (699272613, "FedEx", "FedEx"),
    (699272614, "DHL eCommerce", "DHL"),
    (699272615, "OnTrac", "OnTrac"),
)

_TOKEN_CHARS = string.ascii_lowercase + string.digits
_ADJECTIVES = ("Cotton", "Steel", "Bamboo", "Ceramic", "Linen", "Silicone", "Wooden", "Glass")
_NOUNS = ("Mug", "Lamp", "Towel", "Organizer", "Planter", "Bottle", "Tray", "Hanger")
_SPECS = ("Red", "Blue", "Green", "Black", "White", "Grey")
_NAMES = ("Ada Park", "Ben Cruz", "Cleo Diaz", "Dev Shah", "Eva Moss", "Finn Lowe")
_STATES = (("Austin", "TX", "73301"), ("Denver", "CO", "80201"), ("Salem", "OR", "97301"))


def _token(rng: random.Random, prefix: str, length: int) -> str:
    return prefix + "".join(rng.choice(_TOKEN_CHARS) for _ in range(length))


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass(order=True)
class _Event:
    due: int
    seq: int
    kind: str
    mall_id: int
    sn: str = ""


class World:
    def __init__(self, config: SandboxConfig, type_names: list[str]) -> None:
        self.config = config
        self.all_scopes = frozenset(type_names)
        self.apps: dict[str, App] = {}
        self.shops: dict[int, Shop] = {}
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, AuthCode] = {}
        self.goods: dict[int, dict[int, Goods]] = {}
        """mall_id -> goods_id -> goods"""
        self.skus: dict[int, Sku] = {}
        self.price_orders: dict[int, dict[int, PriceOrder]] = {}
        """mall_id -> price_order_id -> price order"""
        self.orders = OrderBook()
        self.after_sales: dict[int, list[AfterSale]] = {}
        self.activities: list[Activity] = []
        self._events: list[_Event] = []
        self._seq = 0
        self._rng = random.Random(f"{config.seed}:world")
        self._order_rngs: dict[int, random.Random] = {}
        self._counter = 0
        self.now = 0
        self.labels = LabelDesk(
            seed=config.seed,
            delay=config.label_delay,
            failure_rate=config.label_failure_rate,
            fail_first=config.label_fail_first,
        )

    # ---- ids -----------------------------------------------------------------
    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _order_sn(self, rng: random.Random, parent: bool) -> str:
        digits = f"{rng.randrange(10**16, 10**17)}"
        region = self.config.region_id
        return f"PO-{region}-{digits}" if parent else f"{region}-{digits}"

    # ---- seeding ---------------------------------------------------------------
    def seed(self, now: float) -> None:
        cfg = self.config
        self.now = int(now)
        rng = self._rng
        for a in range(cfg.apps):
            app = App(
                app_key=f"{rng.getrandbits(128):032x}", app_secret=f"{rng.getrandbits(160):040x}"
            )
            self.apps[app.app_key] = app
            for s in range(cfg.shops):
                mall_id = 634_418_200_000_000 + a * 1000 + s + 1
                self._seed_shop(app, mall_id)
        self._seed_activities()

    def _seed_shop(self, app: App, mall_id: int) -> None:
        cfg = self.config
        rng = self._rng
        shop = Shop(mall_id=mall_id, app_key=app.app_key, region_id=cfg.region_id)
        shop.warehouses = [
            Warehouse(f"WH{mall_id % 100000:05d}{i}", f"Warehouse {i + 1}", i == 0)
            for i in range(2)
        ]
        self.shops[mall_id] = shop
        token = Token(
            access_token=_token(rng, "upl", 56),
            app_key=app.app_key,
            mall_id=mall_id,
            scopes=set(self.all_scopes),
            expires_at=int(self.now + cfg.token_lifetime),
        )
        self.tokens[token.access_token] = token
        for _ in range(cfg.codes_per_shop):
            self.issue_code(mall_id)
        self._seed_goods(mall_id)
        self._seed_orders(mall_id)

    def _seed_goods(self, mall_id: int) -> None:
        cfg = self.config
        rng = random.Random(f"{cfg.seed}:goods:{mall_id}")
        shop_goods: dict[int, Goods] = {}
        prices: dict[int, PriceOrder] = {}
        for g in range(cfg.goods):
            goods_id = 601_099_548_000_000 + (mall_id % 1000) * 10_000 + g
            created = self.now - rng.randrange(DAY, 200 * DAY)
            goods = Goods(
                goods_id=goods_id,
                mall_id=mall_id,
                name=f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {g + 1}",
                cat_id=rng.choice((24210, 24350, 26117, 30045)),
                out_goods_sn=f"G-{mall_id % 10000:04d}-{g:03d}",
                created=created,
                status_changed=created,
            )
            for k, spec in enumerate(rng.sample(_SPECS, rng.randint(1, 3))):
                sku = Sku(
                    sku_id=17_592_352_000_000 + (mall_id % 1000) * 100_000 + g * 10 + k,
                    goods_id=goods_id,
                    spec=spec,
                    out_sku_sn=f"S-{mall_id % 10000:04d}-{g:03d}-{k}",
                    stock=rng.randint(0, 400),
                    supply_price=_money(rng.randint(299, 8999)),
                    currency="USD",
                    created=created,
                )
                goods.skus.append(sku)
                self.skus[sku.sku_id] = sku
            shop_goods[goods_id] = goods
            if g % 3 == 0:
                po_id = 710_125_012_000_000 + (mall_id % 1000) * 1000 + g
                source = int(float(goods.skus[0].supply_price) * 100)
                prices[po_id] = PriceOrder(
                    price_order_id=po_id,
                    price_order_sn=f"PR{po_id}",
                    mall_id=mall_id,
                    goods_id=goods_id,
                    sku_ids=[s.sku_id for s in goods.skus],
                    pricing_type=1 if g % 2 == 0 else 2,
                    status=WAITING_FOR_SELLER,
                    suggest_price=_money(max(100, source * 85 // 100)),
                    source_price=_money(source),
                    currency="USD",
                    created=self.now - rng.randrange(3600, 20 * DAY),
                    commit_id=202_096_000 + g,
                )
        self.goods[mall_id] = shop_goods
        self.price_orders[mall_id] = prices

    def _shop_rng(self, mall_id: int) -> random.Random:
        rng = self._order_rngs.get(mall_id)
        if rng is None:
            rng = self._order_rngs[mall_id] = random.Random(f"{self.config.seed}:orders:{mall_id}")
        return rng

    def _new_order(self, mall_id: int, created: int, rng: random.Random) -> ParentOrder:
        cfg = self.config
        goods = list(self.goods[mall_id].values())
        city, state, post = rng.choice(_STATES)
        order = ParentOrder(
            parent_order_sn=self._order_sn(rng, True),
            mall_id=mall_id,
            region_id=cfg.region_id,
            status=PENDING,
            created=created,
            updated=created,
            expect_ship_latest=created + cfg.pending_seconds + cfg.ship_within,
            latest_delivery=created + cfg.pending_seconds + cfg.ship_within + 7 * DAY,
            buyer_name=rng.choice(_NAMES),
            address_line1=f"{rng.randint(1, 9999)} Main St",
            city=city,
            state=state,
            post_code=post,
        )
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            g = rng.choice(goods)
            sku = rng.choice(g.skus)
            order.children.append(
                ChildOrder(
                    order_sn=self._order_sn(rng, False),
                    goods_id=g.goods_id,
                    sku_id=sku.sku_id,
                    goods_name=g.name,
                    spec=sku.spec,
                    quantity=rng.choice((1, 1, 1, 2, 3)),
                    unit_price=sku.supply_price,
                    currency=sku.currency,
                    status=PENDING,
                )
            )
        return order

    def _seed_orders(self, mall_id: int) -> None:
        cfg = self.config
        rng = self._shop_rng(mall_id)
        span = max(1, int(cfg.history_days * DAY))
        times = sorted(self.now - rng.randrange(60, span + 60) for _ in range(cfg.orders))
        for created in times:
            order = self._new_order(mall_id, created, rng)
            self._plan_history(order, rng)
        if cfg.order_arrival_per_hour > 0:
            self._push(self.now + self._gap(rng), "arrive", mall_id)

    def _gap(self, rng: random.Random) -> int:
        return max(1, int(rng.expovariate(self.config.order_arrival_per_hour / 3600.0)))

    def _plan_history(self, order: ParentOrder, rng: random.Random) -> None:
        """Play an old order's life up to now; schedule what is still ahead of it."""
        cfg = self.config
        now = self.now
        confirm_at = order.created + cfg.pending_seconds
        if rng.random() < cfg.cancel_rate:
            cancel_at = order.created + int(rng.random() * cfg.pending_seconds)
            if cancel_at <= now:
                self._set_all(order, CANCELED, cancel_at)
            else:
                self._push(cancel_at, "cancel", order.mall_id, order.parent_order_sn)
            self.orders.add(order)
            return
        if confirm_at > now:
            self.orders.add(order)
            self._push(confirm_at, "confirm", order.mall_id, order.parent_order_sn)
            return
        order.confirmed = confirm_at
        ship_at = confirm_at + int(rng.uniform(0.2, 1.5) * DAY)
        if ship_at > now:
            self._set_all(order, UN_SHIPPING, confirm_at)
            self.orders.add(order)
            return
        order.shipped_at = ship_at
        for child in order.children:
            child.shipped_at = ship_at
        receive_at = ship_at + cfg.delivery_seconds
        if receive_at <= now:
            self._set_all(order, RECEIPTED, receive_at)
            self.orders.add(order)
            if rng.random() < 0.1:
                self._seed_after_sale(order, rng)
        else:
            self._set_all(order, SHIPPED, ship_at)
            self.orders.add(order)
            self._push(receive_at, "receive", order.mall_id, order.parent_order_sn)

    @staticmethod
    def _set_all(order: ParentOrder, status: int, when: int) -> None:
        # Only for orders not yet in the book (no index to move).
        for child in order.children:
            child.status = status
        order.status = status
        order.updated = when

    def _seed_after_sale(self, order: ParentOrder, rng: random.Random) -> None:
        child = order.children[0]
        n = self._next()
        self.after_sales.setdefault(order.mall_id, []).append(
            AfterSale(
                parent_after_sales_sn=f"PAS-{order.region_id}-{n:012d}",
                after_sales_sn=f"AS-{order.region_id}-{n:012d}",
                mall_id=order.mall_id,
                parent_order_sn=order.parent_order_sn,
                order_sn=child.order_sn,
                goods_id=child.goods_id,
                sku_id=child.sku_id,
                quantity=child.quantity,
                status=rng.choice((1, 2, 3)),
                type=rng.choice((1, 2)),
            )
        )

    def _seed_activities(self) -> None:
        rng = random.Random(f"{self.config.seed}:activities")
        for i in range(8):
            start = self.now + (i - 4) * 7 * DAY
            end = start + 14 * DAY
            status = 1 if start > self.now else (2 if end > self.now else 3)
            joined = {m for m in self.shops if rng.random() < 0.5}
            self.activities.append(
                Activity(
                    activity_id=5_000_100 + i,
                    name=f"{('Lightning', 'Weekend', 'Clearance', 'Seasonal')[i % 4]} Deals #{i + 1}",
                    activity_type=(1, 5, 13)[i % 3],
                    status=status,
                    start=start,
                    end=end,
                    joined_malls=joined,
                )
            )

    # ---- tokens and codes --------------------------------------------------------
    def issue_code(self, mall_id: int) -> str:
        """A fresh single-use authorization code for a shop (valid ``code_lifetime`` s)."""
        shop = self.shops[mall_id]
        code = _token(self._rng, "code", 40)
        self.codes[code] = AuthCode(
            code=code,
            app_key=shop.app_key,
            mall_id=mall_id,
            expires_at=self.now + self.config.code_lifetime,
        )
        return code

    def exchange_code(self, app_key: str, code: str, now: int) -> Token:
        entry = self.codes.get(code)
        if entry is None or entry.used or entry.app_key != app_key or now > entry.expires_at:
            raise BusinessError(110020002, "Invalid code, please check and try again.")
        entry.used = True
        for old in self.tokens.values():
            if old.mall_id == entry.mall_id and old.app_key == app_key:
                old.revoked = True
        token = Token(
            access_token=_token(self._rng, "upl", 56),
            app_key=app_key,
            mall_id=entry.mall_id,
            scopes=set(self.all_scopes),
            expires_at=int(now + self.config.token_lifetime),
        )
        self.tokens[token.access_token] = token
        return token

    def shop_token(self, mall_id: int) -> Token:
        """The shop's current (newest, not revoked) token."""
        for t in reversed(list(self.tokens.values())):
            if t.mall_id == mall_id and not t.revoked:
                return t
        raise KeyError(mall_id)

    # ---- time ----------------------------------------------------------------------
    def _push(self, due: int, kind: str, mall_id: int, sn: str = "") -> None:
        self._seq += 1
        heapq.heappush(self._events, _Event(due, self._seq, kind, mall_id, sn))

    # ---- seller price changes -------------------------------------------------
    def open_price_change(
        self, mall_id: int, goods: Goods, prices: dict[int, str], now: int
    ) -> list[PriceOrder]:
        """A seller's price change: one price order per new price (an order carries one
        target price), under review for ``price_review_seconds``, then approved and
        applied; at once when that is 0."""
        by_price: dict[str, list[int]] = {}
        for sku_id, price in prices.items():
            by_price.setdefault(price, []).append(sku_id)
        skus = {s.sku_id: s for s in goods.skus}
        wait = self.config.price_review_seconds
        opened = []
        for price, sku_ids in by_price.items():
            po_id = 711_240_000_000_000 + self._next()
            first = skus[sku_ids[0]]
            po = PriceOrder(
                price_order_id=po_id,
                price_order_sn=f"PR{po_id}",
                mall_id=mall_id,
                goods_id=goods.goods_id,
                sku_ids=sorted(sku_ids),
                pricing_type=2,
                status=UNDER_REVIEW,
                suggest_price=price,
                source_price=first.supply_price,
                currency=first.currency,
                created=now,
                commit_id=202_096_500 + self._next(),
            )
            self.price_orders.setdefault(mall_id, {})[po_id] = po
            opened.append(po)
            if wait > 0:
                self._push(now + wait, "price_review", mall_id, str(po_id))
            else:
                self._approve(po)
        return opened

    def _approve(self, po: PriceOrder) -> None:
        if po.status != UNDER_REVIEW:
            return  # decided otherwise meanwhile (a test may reject it by hand)
        po.status = APPROVED
        po.commit_version += 1
        for sku in self.goods[po.mall_id][po.goods_id].skus:
            if sku.sku_id in po.sku_ids:
                sku.supply_price = po.suggest_price

    def advance(self, now: float) -> list[OrderStatusChange]:
        """Play every event due by ``now``; return the parent status changes it made."""
        target = int(now)
        changes: list[OrderStatusChange] = []
        events = self._events
        while events and events[0].due <= target:
            ev = heapq.heappop(events)
            self.now = max(self.now, ev.due)
            if ev.kind == "arrive":
                rng = self._shop_rng(ev.mall_id)
                order = self._new_order(ev.mall_id, ev.due, rng)
                self.orders.add(order)
                if rng.random() < self.config.cancel_rate:
                    at = ev.due + int(rng.random() * self.config.pending_seconds)
                    self._push(at, "cancel", ev.mall_id, order.parent_order_sn)
                else:
                    self._push(
                        ev.due + self.config.pending_seconds,
                        "confirm",
                        ev.mall_id,
                        order.parent_order_sn,
                    )
                self._push(ev.due + self._gap(rng), "arrive", ev.mall_id)
                continue
            if ev.kind in ("label", "ship_later"):
                self._package_event(ev, changes)
                continue
            if ev.kind == "price_review":
                self._approve(self.price_orders[ev.mall_id][int(ev.sn)])
                continue
            found = self.orders.get(ev.mall_id, ev.sn)
            if found is None:
                continue
            order = found
            if ev.kind == "receive":
                # Only children shipped long enough ago arrive (partial shipments).
                self._receive_shipped(order, ev.due, changes)
                continue
            if order.status != PENDING:
                continue
            new = UN_SHIPPING if ev.kind == "confirm" else CANCELED
            if ev.kind == "confirm":
                order.confirmed = ev.due
            old = self.orders.set_status(order, new, ev.due)
            self._note(changes, order, old, ev.due)
        self.now = max(self.now, target)
        return changes

    def _receive_shipped(
        self, order: ParentOrder, when: int, changes: list[OrderStatusChange]
    ) -> None:
        old = order.status
        arrived = False
        for child in order.children:
            if child.status == SHIPPED and child.shipped_at + self.config.delivery_seconds <= when:
                child.status = RECEIPTED
                arrived = True
        if arrived:
            self.orders.refresh(order, when)
            self._note(changes, order, old, when)

    def _note(
        self, changes: list[OrderStatusChange], order: ParentOrder, old: int, when: int
    ) -> None:
        if order.status != old:
            changes.append(
                OrderStatusChange(
                    app_key=self.shops[order.mall_id].app_key,
                    mall_id=order.mall_id,
                    parent_order_sn=order.parent_order_sn,
                    old_status=old,
                    new_status=order.status,
                    at=when,
                )
            )

    def ship(
        self,
        order: ParentOrder,
        order_sns: set[str],
        when: int,
        warehouse_id: str,
        changes: list[OrderStatusChange],
    ) -> None:
        """Mark children shipped (all when ``order_sns`` is empty) and plan their receipt."""
        old = order.status
        for child in order.children:
            if child.status == UN_SHIPPING and (not order_sns or child.order_sn in order_sns):
                child.status = SHIPPED
                child.shipped_at = when
                child.warehouse_id = warehouse_id
        order.shipped_at = when
        self.orders.refresh(order, when)
        self._push(
            when + self.config.delivery_seconds, "receive", order.mall_id, order.parent_order_sn
        )
        self._note(changes, order, old, when)

    # ---- buy-shipping packages ---------------------------------------------------------
    def buy_label(self, package: Package, when: int) -> None:
        """Start (or restart, after a failure) the asynchronous purchase of a label."""
        package.status = 0
        package.fail_reason = ""
        self._push(when + self.labels.delay, "label", package.mall_id, package.package_sn)

    def _package_event(self, ev: _Event, changes: list[OrderStatusChange]) -> None:
        package = self.labels.packages.get(ev.sn)
        if package is None:
            return
        if ev.kind == "label" and package.status == 0:
            status, reason = self.labels.outcome(package)
            package.status, package.fail_reason = status, reason
            package.settled_at = ev.due
            if status == FAILED:
                return
            package.tracking_number = self.labels.tracking(package)
            if package.ship_later:
                self._push(
                    ev.due + package.ship_later_hours * 3600, "ship_later", ev.mall_id, ev.sn
                )
                return
        if package.status == SUCCESSFUL and not package.shipped:
            self.ship_package(package, ev.due, changes)

    def ship_package(self, package: Package, when: int, changes: list[OrderStatusChange]) -> None:
        """Move a bought package's orders to shipped."""
        package.shipped = True
        by_parent: dict[str, set[str]] = {}
        for line in package.lines:
            by_parent.setdefault(line.parent_order_sn, set()).add(line.order_sn)
        warehouse = str(package.request.get("warehouseId", ""))
        for parent_sn, order_sns in by_parent.items():
            order = self.orders.get(package.mall_id, parent_sn)
            if order is not None:
                self.ship(order, order_sns, when, warehouse, changes)
