"""The aiohttp handler end to end: a real server on loopback, a real client POSTing."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web

from temu_async.webhooks import (
    MemoryReplayCache,
    RawEvent,
    WebhookDelivery,
    WebhookPush,
    build_push,
    webhook_handler,
)

APP_KEY = "handler-app"
SECRET = "handler-secret-0123456789"
PATH = "/temu/webhook"
CODE = "bg_order_status_change_event"
PAYLOAD: dict[str, Any] = {
    "mallId": 634418212175626,
    "parentOrderSn": "PO-211-00012345",
    "orderSn": "211-00012345",
    "orderStatus": 4,
    "updateTime": 1726127013,
}


def generated_events() -> dict[str, type[msgspec.Struct]] | None:
    try:
        module = importlib.import_module("temu_async._generated.events")
    except ModuleNotFoundError:
        return None
    events: dict[str, type[msgspec.Struct]] = module.EVENTS
    return events


@asynccontextmanager
async def serving(
    on_event: Callable[[WebhookDelivery], Awaitable[None]], **kw: Any
) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post(PATH, webhook_handler(APP_KEY, SECRET, on_event, **kw))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        yield f"http://127.0.0.1:{port}{PATH}"
    finally:
        await runner.cleanup()


class Inbox:
    def __init__(self) -> None:
        self.deliveries: list[WebhookDelivery] = []

    async def __call__(self, delivery: WebhookDelivery) -> None:
        self.deliveries.append(delivery)


async def post(url: str, push: WebhookPush, **headers: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=push.body, headers=push.headers | headers) as resp,
    ):
        return resp.status, await resp.text()


async def test_signed_delivery_is_acknowledged_and_handed_over() -> None:
    inbox = Inbox()
    push = build_push(APP_KEY, SECRET, CODE, PAYLOAD)  # timestamped now
    async with serving(inbox) as url:
        status, text = await post(url, push)
    assert (status, msgspec.json.decode(text)) == (200, {"result": {}})
    [delivery] = inbox.deliveries
    assert delivery.event_code == CODE
    assert delivery.app_key == APP_KEY
    assert delivery.payload == PAYLOAD
    assert delivery.timestamp == int(push.headers["x-tm-timestamp"])

    events = generated_events()
    if events is None or CODE not in events:
        assert delivery.event == RawEvent(code=CODE, data=PAYLOAD)
    else:
        assert isinstance(delivery.event, events[CODE])
        as_wire = msgspec.to_builtins(delivery.event)
        assert {k: as_wire.get(k) for k in PAYLOAD} == PAYLOAD


async def test_the_test_event_of_the_partner_platform_is_received() -> None:
    inbox = Inbox()
    push = build_push(APP_KEY, SECRET, "bg_open_event_test", b'{"orderSn":"XXYYZZ","status":1}')
    async with serving(inbox) as url:
        assert (await post(url, push))[0] == 200
    assert inbox.deliveries[0].payload == {"orderSn": "XXYYZZ", "status": 1}


async def test_a_repeated_delivery_is_acknowledged_but_not_handed_over_twice() -> None:
    inbox = Inbox()
    push = build_push(APP_KEY, SECRET, CODE, PAYLOAD)
    async with serving(inbox) as url:
        assert (await post(url, push))[0] == 200
        # Temu re-sends when our 200 was late; acknowledging stops its retries.
        assert (await post(url, push))[0] == 200
    assert len(inbox.deliveries) == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"x-tm-signature": "0" * 64}, (401, "signature does not match")),
        ({"x-tm-event-code": "bg_aftersales_status_change"}, (401, "signature does not match")),
        ({"x-tm-app-key": "someone-else"}, (401, "unknown app key")),
        ({"x-tm-timestamp": "1726127013525"}, (400, "timestamp outside the accepted window")),
        ({"x-tm-timestamp": "soon"}, (400, "malformed delivery")),
    ],
)
async def test_refusals_answer_4xx_with_a_short_reason(
    change: dict[str, str], expected: tuple[int, str]
) -> None:
    inbox = Inbox()
    push = build_push(APP_KEY, SECRET, CODE, PAYLOAD)
    async with serving(inbox) as url:
        assert await post(url, push, **change) == expected
    assert inbox.deliveries == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{}", (400, "malformed delivery")),
        (b'{"eventData":"AAAAAAAAAAAAAAAAAAAAAA=="}', (401, "signature does not match")),
    ],
)
async def test_bad_bodies(body: bytes, expected: tuple[int, str]) -> None:
    inbox = Inbox()
    push = build_push(APP_KEY, SECRET, CODE, PAYLOAD)
    async with serving(inbox) as url:
        assert await post(url, WebhookPush(headers=push.headers, body=body)) == expected
    assert inbox.deliveries == []


async def test_failing_callback_answers_500_and_the_retry_is_accepted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[WebhookDelivery] = []

    async def flaky(delivery: WebhookDelivery) -> None:
        calls.append(delivery)
        if len(calls) == 1:
            raise RuntimeError("database is down")

    push = build_push(APP_KEY, SECRET, CODE, PAYLOAD)
    with caplog.at_level(logging.WARNING, logger="temu_async.webhooks"):
        async with serving(flaky) as url:
            assert await post(url, push) == (500, "event handler failed")
            assert (await post(url, push))[0] == 200  # Temu's retry of the same delivery
            assert (await post(url, push))[0] == 200  # acknowledged, not re-run
    assert len(calls) == 2
    assert "database is down" in caplog.text
    assert SECRET not in caplog.text
    assert push.headers["x-tm-signature"] not in caplog.text


async def test_shared_replay_cache_across_two_mounted_handlers() -> None:
    cache = MemoryReplayCache()
    inbox_a, inbox_b = Inbox(), Inbox()
    push = build_push(APP_KEY, SECRET, CODE, PAYLOAD)
    async with (
        serving(inbox_a, replay_cache=cache) as url_a,
        serving(inbox_b, replay_cache=cache) as url_b,
    ):
        assert (await post(url_a, push))[0] == 200
        assert (await post(url_b, push))[0] == 200
    assert (len(inbox_a.deliveries), len(inbox_b.deliveries)) == (1, 0)


async def test_custom_registry_types_the_event() -> None:
    class Changed(msgspec.Struct, rename="camel"):
        order_sn: str
        order_status: int

    inbox = Inbox()
    async with serving(inbox, registry={CODE: Changed}) as url:
        assert (await post(url, build_push(APP_KEY, SECRET, CODE, PAYLOAD)))[0] == 200
    assert inbox.deliveries[0].event == Changed(order_sn="211-00012345", order_status=4)


def test_bad_arguments_fail_at_mount_time() -> None:
    with pytest.raises(TypeError, match="on_event"):
        webhook_handler(APP_KEY, SECRET, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="app_secret"):
        webhook_handler(APP_KEY, "short", Inbox())
    with pytest.raises(ValueError, match="tolerance"):
        webhook_handler(APP_KEY, SECRET, Inbox(), tolerance=0)
