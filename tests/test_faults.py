"""Reliability under faults: retry classification, clock skew, and a multi-shop order sync
that ends with every order stored exactly once (or stops clearly and resumes cleanly).

Three layers, each against a real server on loopback:

* the tiny gateway (any answer, byte for byte) for the retry rules one call at a time;
* the sandbox's fault knobs on one write type, for what a non-idempotent write does;
* the sandbox's fault knobs across a whole ``OrderSync`` of three shops, comparing the
  stored orders with the sandbox's world (frozen by a ManualClock, so the comparison is
  exact): each fault alone, all of them mixed, and outages that stop the run.

Retry delays are tiny (the policy's numbers are what is under test, not wall time).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from tiny_gateway import TinyGateway, fail, ok

from temu_async.catalogue import Catalogue, ErrorCode, Field, TypeSpec
from temu_async.client import ShopClient, TemuApp
from temu_async.errors import (
    BusinessError,
    ConnectError,
    HTTPStatusError,
    MalformedResponse,
    OutcomeUnknown,
    RateLimited,
    RequestTimeout,
    ServerError,
    TimestampError,
    TokenError,
    TransportError,
)
from temu_async.retry import RetryBudget, RetryPolicy
from temu_async.sandbox import FaultSpec, ManualClock, Sandbox, SandboxConfig
from temu_async.sync import JsonlSink, OrderSync, OrderSyncOptions, SyncSummary

TOKEN = "shop-token-0123456789abcdef"

# --- layer 1: retry rules on the tiny gateway ----------------------------------------------

GATEWAY_CODES = [
    ErrorCode(code=3000012, name="TIMESTAMP_EXPIRED", message="expired", category="timestamp"),
    ErrorCode(code=3000034, name="ACCESS_TOKEN_EXPIRED", message="expired", category="token"),
    ErrorCode(
        code=4000000,
        name="SYSTEM_EXCEPTION",
        message="sys",
        category="system",
        retryable=True,
        pushes_back=True,
        may_have_run=True,
    ),
    ErrorCode(
        code=4000004,
        name="RATE_LIMIT_EXCEED_EXCEPTION",
        message="rate",
        category="rate_limited",
        retryable=True,
        pushes_back=True,
    ),
    ErrorCode(code=6000001, name="RPC_INTERFACE_NOT_FOUND", message="rpc", category="system"),
]
READ = TypeSpec(
    type="bg.test.read",
    method="read",
    group="test",
    summary="A read with a documented 'try again later' code.",
    idempotent=True,
    errors={150010005: "Try again later", 150010003: "Invalid Request Parameters"},
    retryable_errors=[150010005],
)
WRITE = TypeSpec(
    type="bg.test.write",
    method="write",
    group="test",
    summary="A write that must not run twice.",
    idempotent=False,
    params=[Field(name="goodsId", type="long", required=True)],
    errors={120014006: "System abnormality, please try again later"},
    retryable_errors=[120014006],
)
CATALOGUE = Catalogue(default_rate_limit=50, errors=GATEWAY_CODES, types=[READ, WRITE])


class _MaxRng(random.Random):
    """Backoff always takes its ceiling, so the delays are known in advance."""

    def uniform(self, a: float, b: float) -> float:
        return b


def fast_policy(**kw: Any) -> RetryPolicy:
    kw.setdefault("base_delay", 0.005)
    kw.setdefault("max_delay", 0.02)
    kw.setdefault("rate_limit_penalty", 0.1)
    kw.setdefault("budget", None)
    # The syncs read in the patient profile, which waits out a busy gateway this long.
    kw.setdefault("patient_max_wait", 10.0)
    kw.setdefault("patient_max_delay", 0.05)
    return RetryPolicy(**kw)


def tiny_app(gw: TinyGateway, **kw: Any) -> TemuApp:
    kw.setdefault("retry", fast_policy())
    return TemuApp(gw.app_key, gw.app_secret, base_url=gw.url, catalogue=CATALOGUE, **kw)


def failing_first(times: int, reply: Any, then: Any = None) -> Callable[[Any, int], Any]:
    """A script: ``reply`` for the first ``times`` requests, then ``then`` (ok by default)."""
    return lambda body, n: reply() if n <= times else (then or ok({"done": n}))


async def test_documented_try_again_code_of_the_type_is_retried_for_a_read(
    gateway: TinyGateway,
) -> None:
    gateway.script = failing_first(2, lambda: fail(150010005, "Try again later"))
    async with tiny_app(gateway) as app:
        assert await app.shop(TOKEN).call("bg.test.read") == {"done": 3}
    assert len(gateway.bodies) == 3


async def test_other_business_codes_are_final(gateway: TinyGateway) -> None:
    gateway.script = failing_first(5, lambda: fail(150010003, "Invalid Request Parameters"))
    async with tiny_app(gateway) as app:
        with pytest.raises(BusinessError, match="150010003 Invalid Request") as info:
            await app.shop(TOKEN).call("bg.test.read")
    assert not info.value.retryable
    assert len(gateway.bodies) == 1


async def test_try_again_code_on_a_write_is_raised_not_repeated(gateway: TinyGateway) -> None:
    # The service answered (so it is not OutcomeUnknown), but "try again" on a write that
    # must not run twice is the caller's decision: the error says it is transient.
    gateway.script = failing_first(5, lambda: fail(120014006, "System abnormality"))
    async with tiny_app(gateway) as app:
        with pytest.raises(BusinessError) as info:
            await app.shop(TOKEN).call("bg.test.write", {"goodsId": 1})
    assert info.value.retryable
    assert len(gateway.bodies) == 1


async def test_system_exception_on_a_read_is_retried_and_penalises_the_app(
    gateway: TinyGateway,
) -> None:
    # 4000000 is also how an interface-level limit shows up: it slows the whole app down.
    gateway.script = failing_first(2, lambda: fail(4000000, "SYSTEM_EXCEPTION"))
    async with tiny_app(gateway) as app:
        assert await app.shop(TOKEN).call("bg.test.read") == {"done": 3}
        assert app.throttle.stats.penalties == 2
    assert len(gateway.bodies) == 3


async def test_rpc_not_found_is_a_server_error_but_not_retried(gateway: TinyGateway) -> None:
    gateway.script = failing_first(5, lambda: fail(6000001, "RPC_INTERFACE_NOT_FOUND"))
    async with tiny_app(gateway) as app:
        with pytest.raises(ServerError):
            await app.shop(TOKEN).call("bg.test.read")
        assert app.throttle.stats.penalties == 0
    assert len(gateway.bodies) == 1


async def test_system_exception_on_a_write_is_outcome_unknown(gateway: TinyGateway) -> None:
    gateway.script = failing_first(5, lambda: fail(4000000, "SYSTEM_EXCEPTION"))
    async with tiny_app(gateway) as app:
        with pytest.raises(OutcomeUnknown, match="may or may not have run") as info:
            await app.shop(TOKEN).call("bg.test.write", {"goodsId": 1})
        assert app.throttle.stats.penalties == 1
    assert isinstance(info.value.__cause__, ServerError)
    assert len(gateway.bodies) == 1


async def test_rate_limited_write_is_retried_until_max_retries_then_raised(
    gateway: TinyGateway,
) -> None:
    gateway.script = failing_first(99, lambda: fail(4000004, "RATE_LIMIT_EXCEED_EXCEPTION"))
    async with tiny_app(gateway, retry=fast_policy(max_retries=3)) as app:
        with pytest.raises(RateLimited):
            await app.shop(TOKEN).call("bg.test.write", {"goodsId": 1})
        assert app.throttle.stats.penalties == 4
    assert len(gateway.bodies) == 4


async def test_per_call_max_retries_overrides_the_policy(gateway: TinyGateway) -> None:
    gateway.script = failing_first(99, lambda: web.Response(status=503))
    async with tiny_app(gateway, retry=fast_policy(max_retries=5)) as app:
        with pytest.raises(HTTPStatusError, match="HTTP 503"):
            await app.shop(TOKEN).call("bg.test.read", max_retries=0)
        assert len(gateway.bodies) == 1
        with pytest.raises(HTTPStatusError):
            await app.shop(TOKEN).call("bg.test.read", max_retries=1)
    assert len(gateway.bodies) == 3


async def test_per_call_timeout_read_retries_then_write_is_outcome_unknown(
    gateway: TinyGateway,
) -> None:
    async def slow(body: Any, n: int) -> Any:
        await asyncio.sleep(0.5)
        return ok({"late": True})

    gateway.script = slow
    async with tiny_app(gateway, retry=fast_policy(max_retries=1)) as app:
        with pytest.raises(RequestTimeout, match=r"within 0\.1 s"):
            await app.shop(TOKEN).call("bg.test.read", timeout=0.1)
        assert len(gateway.bodies) == 2
        with pytest.raises(OutcomeUnknown) as info:
            await app.shop(TOKEN).call("bg.test.write", {"goodsId": 1}, timeout=0.1)
    assert isinstance(info.value.__cause__, RequestTimeout)
    assert len(gateway.bodies) == 3


async def test_retry_budget_caps_retries_across_calls(gateway: TinyGateway) -> None:
    gateway.script = failing_first(99, lambda: web.Response(status=500))
    budget = RetryBudget(ratio=0.0, floor=2, window=60.0)
    async with tiny_app(gateway, retry=fast_policy(max_retries=5, budget=budget)) as app:
        shop = app.shop(TOKEN)
        for _ in range(3):
            with pytest.raises(HTTPStatusError):
                await shop.call("bg.test.read")
    # Three first attempts, and only the two retries the budget allowed.
    assert len(gateway.bodies) == 5


async def test_budget_ratio_lets_retries_grow_with_traffic() -> None:
    now = [0.0]
    budget = RetryBudget(ratio=0.5, floor=0, window=10.0, clock=lambda: now[0])
    for _ in range(4):
        budget.record_first()
    assert [budget.try_spend() for _ in range(3)] == [True, True, False]
    now[0] = 11.0  # the window slid past all of it
    assert not budget.try_spend()
    budget.record_first()
    budget.record_first()
    assert budget.try_spend()


def test_budget_window_forgets_one_slice_at_a_time() -> None:
    # Counts are kept per tenth of the window, so what happened in a slice is forgotten
    # at once when the window has moved a whole window past the slice's start.
    now = [0.0]
    budget = RetryBudget(ratio=1.0, floor=0, window=10.0, clock=lambda: now[0])
    budget.record_first()  # slice [0, 1)
    budget.record_first()
    now[0] = 5.0
    budget.record_first()  # slice [5, 6)
    now[0] = 9.9
    assert budget.try_spend()  # 1 retry, 3 first attempts
    assert budget.can_spend()
    now[0] = 10.5  # [0, 1) left the window: 1 first attempt, 1 retry
    assert not budget.can_spend()
    now[0] = 19.5  # everything left the window, the retry of [9, 10) too
    assert not budget.can_spend()
    budget.record_first()
    assert budget.try_spend()


async def test_max_total_wait_stops_retrying(gateway: TinyGateway) -> None:
    gateway.script = failing_first(99, lambda: web.Response(status=502))
    # Every backoff is exactly 0.2 s: a retry at ~0 s fits in 0.3 s, the next (~0.2 s) not.
    policy = fast_policy(
        max_retries=50, base_delay=0.2, max_delay=0.2, max_total_wait=0.3, rng=_MaxRng()
    )
    async with tiny_app(gateway, retry=policy) as app:
        with pytest.raises(HTTPStatusError):
            await app.shop(TOKEN).call("bg.test.read")
    assert len(gateway.bodies) == 2


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    policy = RetryPolicy(base_delay=0.25, max_delay=2.0, rng=_MaxRng())
    assert [policy.backoff(n) for n in range(6)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    jittered = RetryPolicy(base_delay=0.25, max_delay=2.0, rng=random.Random(5))
    draws = [jittered.backoff(3) for _ in range(200)]
    assert all(0.0 <= d <= 2.0 for d in draws)
    assert min(draws) < 0.2 and max(draws) > 1.8  # spread over the whole range


async def test_clock_skew_resyncs_once_then_gives_up(gateway: TinyGateway) -> None:
    gateway.script = lambda body, n: fail(3000012, "timestamp is expired.")
    async with tiny_app(gateway) as app:
        with pytest.raises(TimestampError):
            await app.shop(TOKEN).call("bg.test.read")
    assert len(gateway.bodies) == 2  # the first, and one re-signed after the resync


async def test_connection_refused_write_is_retried_because_nothing_was_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        app = TemuApp(
            "app-key",
            "app-secret",
            base_url=f"http://127.0.0.1:{port}/openapi/router",
            catalogue=CATALOGUE,
            retry=fast_policy(max_retries=2),
        )
        with caplog.at_level(logging.INFO, logger="temu_async"):
            async with app:
                with pytest.raises(ConnectError) as info:
                    await app.shop(TOKEN).call("bg.test.write", {"goodsId": 1})
    assert not info.value.sent
    retries = [r.getMessage() for r in caplog.records if "ConnectError; retry" in r.getMessage()]
    assert len(retries) == 2


# --- layer 2: a write under the sandbox's fault knobs --------------------------------------

CONFIRM = "bg.logistics.shipment.v2.confirm"
CONFIRM_PARAMS = {
    "sendType": 0,
    "sendRequestList": [
        {
            "carrierId": 1,
            "trackingNumber": "TN0001",
            "selfShippingWarehouseId": "WH1",
            "orderSendInfoList": [{"parentOrderSn": "PO-1", "orderSn": "O-1", "quantity": 1}],
        }
    ],
}


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    config = SandboxConfig(seed=11, shops=3, orders=36, goods=2, clock=ManualClock())
    async with Sandbox(config) as sandbox:
        yield sandbox


def sandbox_app(sb: Sandbox, **kw: Any) -> TemuApp:
    creds = sb.credentials.apps[0]
    kw.setdefault("retry", fast_policy(max_retries=10))
    return TemuApp(creds.app_key, creds.app_secret, base_url=sb.url, **kw)


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        (FaultSpec(error_rates={500: 1.0}), HTTPStatusError),
        (FaultSpec(error_rates={502: 1.0}), HTTPStatusError),
        (FaultSpec(error_rates={4000000: 1.0}), ServerError),
        (FaultSpec(drop_rate=1.0), TransportError),
        (FaultSpec(malformed_json_rate=1.0), MalformedResponse),
        (FaultSpec(html_rate=1.0), MalformedResponse),
        (FaultSpec(html_rate=1.0, html_status=504), HTTPStatusError),
    ],
    ids=["500", "502", "4000000", "drop", "malformed", "html", "html-504"],
)
async def test_ambiguous_write_failure_is_sent_once_and_outcome_unknown(
    sb: Sandbox, fault: FaultSpec, cause: type[Exception]
) -> None:
    sb.faults.set_for_type(CONFIRM, fault)
    async with sandbox_app(sb) as app:
        shop = app.shop(sb.credentials.apps[0].shops[0].access_token)
        with pytest.raises(OutcomeUnknown, match="check the effect") as info:
            await shop.call(CONFIRM, CONFIRM_PARAMS)
    assert type(info.value.__cause__) is cause
    assert sb.counters.received == 1


async def test_rate_limited_write_is_resent_because_it_did_not_run(sb: Sandbox) -> None:
    sb.faults.set_for_type(CONFIRM, FaultSpec(error_rates={4000004: 1.0}))
    async with sandbox_app(sb, retry=fast_policy(max_retries=3)) as app:
        shop = app.shop(sb.credentials.apps[0].shops[0].access_token)
        with pytest.raises(RateLimited):
            await shop.call(CONFIRM, CONFIRM_PARAMS)
        assert app.throttle.stats.penalties == 4
    assert sb.counters.received == 4
    assert sb.counters.executed == 0


@pytest.mark.parametrize(
    "fault",
    [
        FaultSpec(error_rates={500: 0.5}),
        FaultSpec(error_rates={4000000: 0.5}),
        FaultSpec(drop_rate=0.5),
        FaultSpec(malformed_json_rate=0.5),
        FaultSpec(html_rate=0.5, html_status=502),
    ],
    ids=["500", "4000000", "drop", "malformed", "html"],
)
async def test_reads_get_through_the_same_faults(sb: Sandbox, fault: FaultSpec) -> None:
    sb.faults.set_default(fault)
    async with sandbox_app(sb) as app:
        shop = app.shop(sb.credentials.apps[0].shops[0].access_token)
        for _ in range(6):
            assert isinstance(await shop.call("bg.logistics.warehouse.list.get"), dict)
    assert sb.counters.executed == 6
    assert sum(sb.counters.faults.values()) >= 1
    assert sb.counters.received == 6 + sum(sb.counters.faults.values())


@pytest.mark.parametrize("offset", [400.0, -400.0])
async def test_clock_offset_is_learnt_from_the_date_header(sb: Sandbox, offset: float) -> None:
    sb.faults.clock_offset = offset
    async with sandbox_app(sb) as app:
        shop = app.shop(sb.credentials.apps[0].shops[0].access_token)
        await shop.call("bg.logistics.warehouse.list.get")
        assert abs(app.clock_offset - offset) < 3
        await shop.call("bg.logistics.warehouse.list.get")
    refused = 3000011 if offset < 0 else 3000012
    assert dict(sb.counters.rejections) == {refused: 1}  # one refusal, then signed right
    assert sb.counters.executed == 2


# --- layer 3: a multi-shop order sync under faults ----------------------------------------


def shop_clients(sb: Sandbox, app: TemuApp) -> list[ShopClient]:
    return [
        app.shop(s.access_token, name=f"shop-{i}")
        for i, s in enumerate(sb.credentials.apps[0].shops)
    ]


async def run_sync(sb: Sandbox, app: TemuApp, path: Path, **opts: Any) -> SyncSummary:
    opts.setdefault("page_size", 10)
    sink = JsonlSink(path)
    try:
        return await OrderSync(shop_clients(sb, app), sink, OrderSyncOptions(**opts)).run()
    finally:
        sink.close()


def assert_exact(sb: Sandbox, path: Path) -> None:
    """Every order of the world up to each shop's checkpoint is stored once, none extra."""
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    versions = [(r["shop"], r["parentOrderSn"], r["updateTime"]) for r in rows]
    assert len(versions) == len(set(versions)), "an order version was stored twice"
    latest: dict[tuple[str, str], int] = {}
    for shop, sn, updated in versions:
        latest[(shop, sn)] = max(updated, latest.get((shop, sn), updated))
    checkpoint = json.loads(path.with_name(path.name + ".checkpoint.json").read_text())
    for i, creds in enumerate(sb.credentials.apps[0].shops):
        name = f"shop-{i}"
        through = checkpoint["shops"][name]["synced_through"]
        world = {
            sn: order.updated
            for sn, order in sb.world.orders.shop(creds.mall_id).by_sn.items()
            if order.updated <= through
        }
        stored = {sn: t for (shop, sn), t in latest.items() if shop == name}
        assert len(world) >= 30, "the world should hold the seeded orders"
        assert stored == world, f"{name}: lost {set(world) - set(stored)}"


# Rates stay moderate: with 10 retries a request fails for good with p = rate**11.
FAULTS = {
    "5xx": FaultSpec(error_rates={500: 0.15, 502: 0.1, 503: 0.1}),
    "drops": FaultSpec(drop_rate=0.3),
    "malformed": FaultSpec(malformed_json_rate=0.3),
    "html": FaultSpec(html_rate=0.3, html_status=200),
    "html-5xx": FaultSpec(html_rate=0.3, html_status=503),
    "4000004-storm": FaultSpec(error_rates={4000004: 0.4}),
    "4000000-throttle": FaultSpec(error_rates={4000000: 0.3}),
    "timeouts": FaultSpec(jitter_ms=400.0),
    "latency": FaultSpec(latency_ms=20.0, jitter_ms=30.0),
    "mixed": FaultSpec(
        latency_ms=2.0,
        jitter_ms=300.0,
        error_rates={500: 0.05, 503: 0.05, 4000000: 0.05, 4000004: 0.1},
        drop_rate=0.05,
        malformed_json_rate=0.05,
        html_rate=0.05,
    ),
}


@pytest.mark.parametrize("name", list(FAULTS))
async def test_sync_finishes_exactly_under_faults(sb: Sandbox, tmp_path: Path, name: str) -> None:
    sb.faults.set_default(FAULTS[name])
    if name == "mixed":
        sb.faults.clock_offset = 400.0
    path = tmp_path / "orders.jsonl"
    # A request slower than 0.2 s times out and is retried: "timeouts" (jitter up to
    # 0.4 s) times out about half of them.
    async with sandbox_app(sb, timeout=0.2) as app:
        summary = await run_sync(sb, app, path)
        penalties = app.throttle.stats.penalties
    assert summary.ok, summary.errors
    assert_exact(sb, path)
    if name == "timeouts":  # latency is not a fault the sandbox counts; the retries are
        assert summary.retries >= 3, "no request timed out"
    elif name != "latency":
        assert sum(sb.counters.faults.values()) >= 3, "the faults did not fire"
    limited = sb.counters.rejections[4000004] + sb.counters.rejections[4000000]
    if FAULTS[name].jitter_ms or FAULTS[name].latency_ms:
        # An answer that came after the client's timeout was never seen by it.
        assert penalties <= limited
    else:
        assert penalties == limited  # every rate answer slowed the whole app down


@pytest.mark.parametrize("offset", [400.0, -400.0])
async def test_sync_finishes_with_the_gateway_clock_off(
    sb: Sandbox, tmp_path: Path, offset: float
) -> None:
    sb.faults.clock_offset = offset
    path = tmp_path / "orders.jsonl"
    async with sandbox_app(sb) as app:
        summary = await run_sync(sb, app, path)
    assert summary.ok, summary.errors
    assert_exact(sb, path)
    assert sum(sb.counters.rejections.values()) >= 1  # the skew was met, and overcome


async def _when_received(sb: Sandbox, count: int, action: Callable[[], Any]) -> None:
    while sb.counters.received < count:
        await asyncio.sleep(0.001)
    action()


async def run_with(
    coro: Awaitable[SyncSummary], sb: Sandbox, after: int, action: Callable[[], Any]
) -> SyncSummary:
    trigger = asyncio.create_task(_when_received(sb, after, action))
    try:
        return await coro
    finally:
        trigger.cancel()


@pytest.mark.parametrize(
    "outage",
    [
        FaultSpec(drop_rate=1.0),
        FaultSpec(error_rates={503: 1.0}),
        FaultSpec(latency_ms=400.0),
        FaultSpec(error_rates={4000004: 1.0}),
    ],
    ids=["drops", "503", "timeouts", "rate-limited"],
)
async def test_outage_mid_run_stops_clearly_and_resumes_exactly(
    sb: Sandbox, tmp_path: Path, outage: FaultSpec
) -> None:
    path = tmp_path / "orders.jsonl"
    # The sync's patient reads wait a busy gateway out for 1 s here, then stop.
    policy = fast_policy(max_retries=2, patient_max_wait=1.0)
    async with sandbox_app(sb, timeout=0.2, retry=policy) as app:
        summary = await run_with(
            run_sync(sb, app, path), sb, 6, lambda: sb.faults.set_default(outage)
        )
        assert set(summary.errors) == {"shop-0", "shop-1", "shop-2"}
        for text in summary.errors.values():
            # The error names what failed: the class and the transport's or gateway's reason.
            assert text.split(":")[0] in {
                "TransportError",
                "HTTPStatusError",
                "RequestTimeout",
                "RateLimited",
            }
            assert "[bg.order.list.v2.get" in text
        checkpoint = json.loads(path.with_name(path.name + ".checkpoint.json").read_text())
        assert all(s.get("synced_through") is None for s in checkpoint["shops"].values())

    sb.faults.clear()
    async with sandbox_app(sb) as app:  # a new process resumes from the checkpoint
        resumed = await run_sync(sb, app, path)
    assert resumed.ok, resumed.errors
    assert_exact(sb, path)


async def test_token_expiring_mid_run_stops_that_shop_and_resumes_after_reauth(
    sb: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "orders.jsonl"
    shops = sb.credentials.apps[0].shops
    async with sandbox_app(sb) as app:
        summary = await run_with(
            run_sync(sb, app, path), sb, 4, lambda: sb.expire_token(shops[1].access_token)
        )
        assert set(summary.errors) == {"shop-1"}
        assert summary.errors["shop-1"].startswith("TokenError: 3000034")
        assert "re-authorise" in summary.errors["shop-1"]

        # The seller re-authorises: a new code, exchanged for a new token.
        info = await app.exchange_code(sb.issue_code(shops[1].mall_id))
        assert info.access_token != shops[1].access_token
        resumed = await run_sync(sb, app, path)
    assert resumed.ok, resumed.errors
    assert_exact(sb, path)


async def test_expired_token_is_not_retried(sb: Sandbox) -> None:
    token = sb.credentials.apps[0].shops[0].access_token
    sb.expire_token(token)
    async with sandbox_app(sb) as app:
        with pytest.raises(TokenError, match="3000034"):
            await app.shop(token).call("bg.order.list.v2.get", {"pageSize": 10})
    assert sb.counters.received == 1
