"""The sandbox pushing webhooks end to end: world changes -> signed, encrypted POSTs -> a real
``webhook_handler`` on loopback -> typed events; refusals, retries, draining, settings."""

from __future__ import annotations

import argparse
import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web
from sandbox_support import call, small_catalogue

from temu_async._generated.events import (
    CancelOrderStatusChangeEvent,
    OrderStatusChangeEvent,
)
from temu_async.sandbox import ManualClock, OrderStatusChange, Sandbox, SandboxConfig
from temu_async.sandbox.cli import add_arguments, config_from_args, describe
from temu_async.sandbox.models import (
    CANCELED,
    PARTIALLY_RECEIVED,
    PARTIALLY_SHIPPED,
    RECEIPTED,
    SHIPPED,
    UN_SHIPPING,
    ChildOrder,
    ParentOrder,
)
from temu_async.sandbox.webhook_push import (
    CANCEL_EVENT,
    ORDER_STATUS_EVENT,
    PushPolicy,
    order_events,
)
from temu_async.webhooks import RawEvent, WebhookDelivery, webhook_handler

PATH = "/temu/webhook"
HOUR = 3600
FAST = PushPolicy(retry_delays=(0.05,), reply_within=2.0, drain_timeout=5.0)
"""Quick retries for tests; a generous reply limit so a loaded machine does not fail them."""

OnEvent = Callable[[WebhookDelivery], Awaitable[None]]


class Receiver:
    """A real aiohttp app on 127.0.0.1 with ``webhook_handler`` mounted at PATH.

    The route exists from the start (its URL goes into the sandbox's config); the handler
    behind it is mounted once the sandbox's app key and secret are known.
    """

    def __init__(self) -> None:
        self.deliveries: list[WebhookDelivery] = []
        self.statuses: list[int] = []
        self.failures_left = 0
        self._handler: Callable[[web.Request], Awaitable[web.StreamResponse]] | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    def mount(self, app_key: str, app_secret: str) -> None:
        self._handler = webhook_handler(app_key, app_secret, self._on_event)

    async def _on_event(self, delivery: WebhookDelivery) -> None:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise RuntimeError("receiver's storage is down")  # the handler answers 500
        self.deliveries.append(delivery)

    async def _route(self, request: web.Request) -> web.StreamResponse:
        assert self._handler is not None, "mount() the handler first"
        response = await self._handler(request)
        self.statuses.append(response.status)
        return response

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post(PATH, self._route)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}{PATH}"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = await Receiver().start()
    try:
        yield r
    finally:
        await r.close()


def _config(url: str | None, **kw: Any) -> SandboxConfig:
    base: dict[str, Any] = dict(
        seed=8,
        shops=2,
        orders=40,
        catalogue=small_catalogue(),
        clock=ManualClock(),
        rate_limit=10_000,
        order_arrival_per_hour=3,
        cancel_rate=0.3,
        webhook_url=url,
        webhook_policy=FAST,
    )
    base.update(kw)
    return SandboxConfig(**base)


@pytest.fixture
async def sb(receiver: Receiver) -> AsyncIterator[Sandbox]:
    async with Sandbox(_config(receiver.url)) as running:
        app = running.credentials.apps[0]
        receiver.mount(app.app_key, app.app_secret)
        yield running


def _expected_order_events(sb: Sandbox, changes: list[OrderStatusChange]) -> set[tuple[Any, ...]]:
    """Straight from the world: every child of every changed order, as the change left it
    (confirmation and cancellation move all children at once)."""
    out = set()
    for ch in changes:
        order = sb.world.orders.get(ch.mall_id, ch.parent_order_sn)
        assert order is not None
        for child in order.children:
            assert child.status == ch.new_status
            out.add((ch.mall_id, ch.parent_order_sn, child.order_sn, child.status, ch.at))
    return out


async def test_order_changes_arrive_as_typed_verified_events(
    sb: Sandbox, receiver: Receiver
) -> None:
    sb.clock.advance(3 * HOUR)  # type: ignore[attr-defined]
    changes = await sb.advance()
    statuses = {c.new_status for c in changes}
    assert UN_SHIPPING in statuses and CANCELED in statuses, statuses  # both kinds happened
    assert await sb.webhooks.drain(5.0)

    orders = [d for d in receiver.deliveries if d.event_code == ORDER_STATUS_EVENT]
    assert orders and all(isinstance(d.event, OrderStatusChangeEvent) for d in orders)
    got = set()
    for d in orders:
        ev = d.event
        assert isinstance(ev, OrderStatusChangeEvent)
        assert d.app_key == sb.credentials.apps[0].app_key
        got.add((ev.mall_id, ev.parent_order_sn, ev.order_sn, ev.order_status, ev.update_time))
    assert len(got) == len(orders)  # one delivery per child order, none twice
    assert got == _expected_order_events(sb, changes)

    cancels = [d for d in receiver.deliveries if d.event_code == CANCEL_EVENT]
    cancelled = {(c.mall_id, c.parent_order_sn, c.at) for c in changes if c.new_status == CANCELED}
    seen = set()
    for d in cancels:
        ev = d.event
        assert isinstance(ev, CancelOrderStatusChangeEvent)
        assert (ev.parent_after_sales_status, ev.apply_operator_role) == (5, 1)
        assert ev.parent_after_sales_sn and ev.parent_after_sales_sn.startswith("PAS-211-")
        assert ev.update_at is not None and ev.update_at % 1000 == 0  # milliseconds
        seen.add((ev.mall_id, ev.parent_order_sn, (ev.update_at or 0) // 1000))
    assert seen == cancelled and len(cancels) == len(cancelled)

    pusher = sb.webhooks
    assert pusher.sent == len(receiver.deliveries) == len(orders) + len(cancels)
    assert (pusher.failed, pusher.retried, pusher.pending) == (0, 0, 0)
    assert set(receiver.statuses) == {200}


async def test_split_shipments_and_receipts_name_the_moved_children_only(
    sb: Sandbox, receiver: Receiver
) -> None:
    """Shipments through the router move some children; each webhook names just those, and
    so do the receipts days later."""
    malls = [s.mall_id for s in sb.credentials.apps[0].shops]

    def waiting() -> list[ParentOrder]:
        return [
            o
            for m in malls
            for o in sb.world.orders.shop(m).by_sn.values()
            if o.status == UN_SHIPPING and len(o.children) >= 2
        ]

    for _ in range(20):  # let new orders arrive and be confirmed
        if waiting():
            break
        sb.clock.advance(2 * HOUR)  # type: ignore[attr-defined]
        await sb.advance()
    order = waiting()[0]
    first, rest = order.children[0], order.children[1:]
    assert await sb.webhooks.drain(5.0)
    before = len(receiver.deliveries)

    async def ship(session: aiohttp.ClientSession, children: list[ChildOrder]) -> None:
        wid = sb.world.shops[order.mall_id].warehouses[0].warehouse_id
        lines = [
            {"parentOrderSn": order.parent_order_sn, "orderSn": c.order_sn, "quantity": c.quantity}
            for c in children
        ]
        request = {
            "carrierId": 699272611,
            "trackingNumber": "9400100000000000000001",
            "selfShippingWarehouseId": wid,
            "orderSendInfoList": lines,
        }
        got = await call(
            session,
            sb,
            "bg.logistics.shipment.v2.confirm",
            {"sendType": 1, "sendRequestList": [request]},
            shop=malls.index(order.mall_id),
        )
        assert got["success"] is True, got
        assert await sb.webhooks.drain(5.0)

    def about_order() -> list[tuple[str | None, int | None]]:
        """This order's events since the last look (other orders move too meanwhile)."""
        out = []
        for d in receiver.deliveries[before:]:
            if d.event_code != ORDER_STATUS_EVENT:
                continue
            assert isinstance(d.event, OrderStatusChangeEvent)
            if d.event.parent_order_sn == order.parent_order_sn:
                out.append((d.event.order_sn, d.event.order_status))
        del receiver.deliveries[before:]
        return out

    first_at = int(sb.clock.now())
    async with aiohttp.ClientSession() as session:
        await ship(session, [first])
        assert order.status == PARTIALLY_SHIPPED
        assert about_order() == [(first.order_sn, SHIPPED)]
        sb.clock.advance(60)  # type: ignore[attr-defined]
        await ship(session, rest)
        assert order.status == SHIPPED
        assert about_order() == [(c.order_sn, SHIPPED) for c in rest]

    sb.clock.set(first_at + sb.config.delivery_seconds)  # type: ignore[attr-defined]
    await sb.advance()
    assert await sb.webhooks.drain(5.0)
    assert order.status == PARTIALLY_RECEIVED
    assert about_order() == [(first.order_sn, RECEIPTED)]
    sb.clock.advance(60)  # type: ignore[attr-defined]
    await sb.advance()
    assert await sb.webhooks.drain(5.0)
    assert order.status == RECEIPTED
    assert about_order() == [(c.order_sn, RECEIPTED) for c in rest]


async def test_wrong_secret_is_refused_with_401_and_counted_failed(
    sb: Sandbox, receiver: Receiver
) -> None:
    app = sb.credentials.apps[0]
    payload = {"mallId": app.shops[0].mall_id, "parentOrderSn": "PO-211-1", "orderStatus": 2}
    outcome = await sb.push_event(
        app.app_key, ORDER_STATUS_EVENT, payload, app_secret="not-the-app-secret-at-all"
    )
    assert not outcome.delivered
    assert outcome.status == 401 and outcome.error and "401" in outcome.error
    assert outcome.attempts == 1 + len(FAST.retry_delays)  # Temu retries any non-200
    assert receiver.deliveries == [] and receiver.statuses == [401, 401]
    assert (sb.webhooks.sent, sb.webhooks.failed) == (0, 1)
    assert sb.webhooks.statuses[401] == 2

    # The same event signed with the app's own secret goes through.
    good = await sb.push_event(app.app_key, ORDER_STATUS_EVENT, payload)
    assert good.delivered and good.status == 200 and good.attempts == 1
    assert [d.payload for d in receiver.deliveries] == [payload]
    assert (sb.webhooks.sent, sb.webhooks.failed) == (1, 1)
    assert [o.delivered for o in sb.webhooks.outcomes] == [False, True]
    sb.webhooks.reset()
    assert (sb.webhooks.sent, sb.webhooks.failed, sb.webhooks.attempts) == (0, 0, 0)
    assert not sb.webhooks.statuses and not sb.webhooks.outcomes


async def test_a_500_is_retried_with_the_same_delivery_and_then_accepted(
    sb: Sandbox, receiver: Receiver
) -> None:
    receiver.failures_left = 1
    app = sb.credentials.apps[0]
    payload = {"mallId": app.shops[0].mall_id, "parentOrderSn": "PO-211-7", "orderSn": "211-7"}
    outcome = await sb.push_event(app.app_key, ORDER_STATUS_EVENT, payload)
    assert outcome.delivered and outcome.attempts == 2 and outcome.status == 200
    assert receiver.statuses == [500, 200]
    assert len(receiver.deliveries) == 1 and receiver.deliveries[0].payload == payload
    assert (sb.webhooks.sent, sb.webhooks.retried, sb.webhooks.failed) == (1, 1, 0)


async def test_push_event_sends_any_event_untyped_ones_arrive_raw(
    sb: Sandbox, receiver: Receiver
) -> None:
    app = sb.credentials.apps[0]
    outcome = await sb.push_event(app.app_key, "bg_brand_new_event", {"anything": [1, 2]})
    assert outcome.delivered
    (delivery,) = receiver.deliveries
    assert isinstance(delivery.event, RawEvent)
    assert delivery.event.data == {"anything": [1, 2]}
    assert delivery.ext_param == "{}"


async def test_pushes_left_when_closing_are_drained(receiver: Receiver) -> None:
    async with Sandbox(_config(receiver.url)) as sb:
        app = sb.credentials.apps[0]
        receiver.mount(app.app_key, app.app_secret)
        sb.clock.advance(3 * HOUR)  # type: ignore[attr-defined]
        changes = await sb.advance()
        assert changes and sb.webhooks.pending > 0  # queued, not sent inline
        pusher = sb.webhooks
    assert pusher.pending == 0 and pusher.failed == 0
    assert pusher.sent == len(receiver.deliveries) >= len(changes)


async def test_close_drops_what_it_cannot_deliver_in_time(receiver: Receiver) -> None:
    """A receiver that is always down: close() waits ``drain_timeout``, then the pending
    retry is dropped and counted failed; the caller waiting on it gets the outcome."""
    slow_retry = PushPolicy(retry_delays=(30.0,), reply_within=2.0, drain_timeout=0.1)
    async with Sandbox(_config(receiver.url, webhook_policy=slow_retry)) as sb:
        app = sb.credentials.apps[0]
        receiver.mount(app.app_key, app.app_secret)
        receiver.failures_left = 99
        future = sb.webhooks.enqueue(app.app_key, ORDER_STATUS_EVENT, {"mallId": 1})
        assert not await sb.webhooks.drain(0.3)  # first attempt failed, retry waits 30 s
        assert receiver.statuses == [500]
    outcome = future.result()
    assert not outcome.delivered and outcome.attempts == 1 and "dropped" in (outcome.error or "")
    assert (sb.webhooks.failed, sb.webhooks.sent, sb.webhooks.pending) == (1, 0, 0)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_connection_refused_is_retried_then_failed() -> None:
    url = f"http://127.0.0.1:{_closed_port()}{PATH}"
    async with Sandbox(_config(url)) as sb:
        app = sb.credentials.apps[0]
        outcome = await sb.push_event(app.app_key, ORDER_STATUS_EVENT, {"mallId": 1})
    assert not outcome.delivered and outcome.status is None and outcome.attempts == 2
    assert outcome.error and "Connect" in outcome.error
    assert (sb.webhooks.failed, sb.webhooks.retried, sb.webhooks.statuses[0]) == (1, 1, 2)


async def test_a_reply_slower_than_the_limit_counts_as_failed_and_is_retried() -> None:
    """Temu counts a 200 after its time limit as a failure. A plain route (no verifier, so
    the retry's identical bytes are not refused as a replay) answers late once."""
    arrivals: list[bytes] = []

    async def late_once(request: web.Request) -> web.Response:
        arrivals.append(await request.read())
        if len(arrivals) == 1:
            await asyncio.sleep(0.6)
        return web.Response(text="{}")

    app = web.Application()
    app.router.add_post(PATH, late_once)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}{PATH}"
    policy = PushPolicy(retry_delays=(0.05,), reply_within=0.2)
    try:
        async with Sandbox(_config(url, webhook_policy=policy)) as sb:
            app_key = sb.credentials.apps[0].app_key
            outcome = await sb.push_event(app_key, ORDER_STATUS_EVENT, {"mallId": 1})
    finally:
        await runner.cleanup()
    assert outcome.delivered and outcome.attempts == 2
    assert (sb.webhooks.statuses[0], sb.webhooks.statuses[200], sb.webhooks.retried) == (1, 1, 1)
    assert len(arrivals) == 2 and arrivals[0] == arrivals[1]  # a retry resends the same bytes


async def test_without_a_url_nothing_is_pushed_and_push_event_says_why() -> None:
    async with Sandbox(_config(None)) as sb:
        sb.clock.advance(3 * HOUR)  # type: ignore[attr-defined]
        assert await sb.advance()
        assert sb.webhooks.pending == 0 and sb.webhooks.attempts == 0
        with pytest.raises(RuntimeError, match="webhook_url"):
            await sb.push_event(sb.credentials.apps[0].app_key, ORDER_STATUS_EVENT, {})


async def test_set_webhook_url_and_subscription_filter(receiver: Receiver) -> None:
    cfg = _config(None, webhook_events=(CANCEL_EVENT,))
    async with Sandbox(cfg) as sb:
        app = sb.credentials.apps[0]
        receiver.mount(app.app_key, app.app_secret)
        sb.set_webhook_url(receiver.url)
        sb.clock.advance(3 * HOUR)  # type: ignore[attr-defined]
        changes = await sb.advance()
        assert await sb.webhooks.drain(5.0)
    cancelled = [c for c in changes if c.new_status == CANCELED]
    assert cancelled and len(cancelled) < len(changes)
    assert [d.event_code for d in receiver.deliveries] == [CANCEL_EVENT] * len(cancelled)


async def test_push_event_refuses_bad_input_before_sending(sb: Sandbox) -> None:
    app_key = sb.credentials.apps[0].app_key
    with pytest.raises(ValueError, match="app_key"):
        await sb.push_event("no-such-app", ORDER_STATUS_EVENT, {})
    with pytest.raises(ValueError, match="event_code"):
        await sb.push_event(app_key, " ", {})
    with pytest.raises(ValueError, match="payload"):
        await sb.push_event(app_key, ORDER_STATUS_EVENT, [1, 2])  # type: ignore[arg-type]
    assert sb.webhooks.attempts == 0


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"webhook_url": "ftp://127.0.0.1/x"}, "webhook_url"),
        ({"webhook_url": "/relative/path"}, "webhook_url"),
        ({"webhook_events": ORDER_STATUS_EVENT}, "webhook_events"),
        ({"webhook_events": ("",)}, "webhook_events"),
    ],
)
def test_bad_settings_are_refused_at_construction(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Sandbox(_config(None, **kw))


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"retry_delays": (-1.0,)}, "retry_delays"),
        ({"retry_delays": 3}, "retry_delays"),
        ({"reply_within": 0}, "reply_within"),
        ({"drain_timeout": float("nan")}, "drain_timeout"),
    ],
)
def test_bad_policy_is_refused(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PushPolicy(**kw)


def _order(statuses: list[int], shipped_at: list[int]) -> ParentOrder:
    order = ParentOrder(
        parent_order_sn="PO-211-12345678901234567",
        mall_id=5,
        region_id=211,
        status=0,
        created=0,
        updated=0,
        expect_ship_latest=0,
        latest_delivery=0,
    )
    for i, (st, at) in enumerate(zip(statuses, shipped_at, strict=True)):
        order.children.append(
            ChildOrder(f"211-{i}", 1, 1, "g", "s", 1, "1.00", "USD", st, shipped_at=at)
        )
    return order


def test_order_events_name_the_children_each_change_moved() -> None:
    def change(old: int, new: int, at: int) -> OrderStatusChange:
        return OrderStatusChange("k", 5, "PO-211-12345678901234567", old, new, at)

    def moved(order: ParentOrder, ch: OrderStatusChange) -> list[tuple[Any, Any]]:
        events = order_events(ch, order, region_id=211, delivery_seconds=100)
        return [
            (p["orderSn"], p["orderStatus"]) for code, p in events if code == ORDER_STATUS_EVENT
        ]

    # Second shipment of a partly shipped order: only the child shipped now.
    shipped = _order([SHIPPED, SHIPPED, UN_SHIPPING], [10, 50, 0])
    assert moved(shipped, change(PARTIALLY_SHIPPED, PARTIALLY_SHIPPED, 50)) == [("211-1", 4)]
    # Receipt of the first shipment only.
    received = _order([RECEIPTED, SHIPPED], [10, 50])
    assert moved(received, change(SHIPPED, PARTIALLY_RECEIVED, 110)) == [("211-0", 5)]
    # Cancellation: every child, plus the settled cancellation case.
    cancelled = _order([CANCELED, CANCELED], [0, 0])
    events = order_events(change(1, CANCELED, 70), cancelled, region_id=211, delivery_seconds=100)
    assert [code for code, _ in events] == [ORDER_STATUS_EVENT] * 2 + [CANCEL_EVENT]
    assert events[-1][1] == {
        "mallId": 5,
        "parentAfterSalesSn": "PAS-211-12345678901234567",
        "parentOrderSn": "PO-211-12345678901234567",
        "parentAfterSalesStatus": 5,
        "updateAt": 70_000,
        "applyOperatorRole": 1,
    }
    # The payloads decode into the generated Structs with every documented field set.
    typed = msgspec.convert(events[0][1], OrderStatusChangeEvent)
    assert typed == OrderStatusChangeEvent(
        mall_id=5,
        parent_order_sn="PO-211-12345678901234567",
        order_sn="211-0",
        order_status=3,
        update_time=70,
    )
    only = order_events(
        change(1, CANCELED, 70),
        cancelled,
        region_id=211,
        delivery_seconds=100,
        events=(ORDER_STATUS_EVENT,),
    )
    assert {code for code, _ in only} == {ORDER_STATUS_EVENT}


def test_cli_webhook_url() -> None:
    url = "http://127.0.0.1:8765/temu/webhook"
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--webhook-url", url, "--orders", "5"])
    cfg = config_from_args(args, catalogue=small_catalogue())
    assert cfg.webhook_url == url
    text = describe(Sandbox(cfg))
    assert f"-> {url}" in text and ORDER_STATUS_EVENT in text
    plain = config_from_args(parser.parse_args([]), catalogue=small_catalogue())
    assert plain.webhook_url is None
