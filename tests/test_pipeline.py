"""The request pipeline end to end on a loopback aiohttp gateway: documented faults, lost
answers to writes, an outage against the retry budget, and refusals before running.

The gateway here answers from a per-test plan and can drop the connection after reading
the request, which the tiny gateway cannot. Retry delays are tiny; the budget is the
default one (its numbers are what is under test).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from temu_async import catalogue as model
from temu_async.catalogue import Catalogue, Field, TypeSpec
from temu_async.client import TemuApp
from temu_async.errors import (
    HTTPStatusError,
    OutcomeUnknown,
    ParamError,
    TransportError,
)
from temu_async.retry import RetryBudget, RetryPolicy

TOKEN = "shop-token-0123456789abcdef"
READ = TypeSpec(
    type="bg.test.read",
    method="read",
    group="test",
    summary="A read.",
    idempotent=True,
    params=[Field(name="n", type="integer")],
)
WRITE = TypeSpec(
    type="bg.test.write",
    method="write",
    group="test",
    summary="A write that must not run twice.",
    idempotent=False,
    params=[Field(name="goodsId", type="long", required=True), Field(name="note", type="string")],
)
# The real gateway-wide codes: what each means for the decision is the catalogue's data.
CATALOGUE = Catalogue(default_rate_limit=20, errors=model.load().errors, types=[READ, WRITE])


def ok(n: int) -> web.Response:
    return web.json_response(
        {"success": True, "errorCode": 1000000, "requestId": f"r{n}", "result": {"n": n}}
    )


def code(c: int) -> web.Response:
    return web.json_response({"success": False, "errorCode": c, "errorMsg": "no", "requestId": "r"})


class Drop(Exception):
    """Close the connection without an answer (after the request was read)."""


Plan = Callable[[int], web.StreamResponse]


class Gateway:
    def __init__(self) -> None:
        self.plan: Plan = ok
        self.count = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.count += 1
        try:
            return self.plan(self.count)
        except Drop:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError from None

    async def start(self) -> None:
        app = web.Application(client_max_size=64 << 20)
        app.router.add_post("/openapi/router", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/openapi/router"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def gw() -> AsyncIterator[Gateway]:
    g = Gateway()
    await g.start()
    try:
        yield g
    finally:
        await g.stop()


def policy(**kw: Any) -> RetryPolicy:
    kw.setdefault("base_delay", 0.005)
    kw.setdefault("max_delay", 0.02)
    kw.setdefault("rate_limit_penalty", 0.01)
    return RetryPolicy(**kw)  # with the default budget


def app_for(gw: Gateway, **kw: Any) -> TemuApp:
    kw.setdefault("retry", policy())
    kw.setdefault("rate_limit", 100_000)
    return TemuApp("app-key", "app-secret", base_url=gw.url, catalogue=CATALOGUE, **kw)


def html(n: int) -> web.Response:
    return web.Response(status=200, text="<html>busy</html>", content_type="text/html")


def drop(n: int) -> web.Response:
    raise Drop


FAULTS: list[Plan] = [
    lambda n: code(4000000),
    lambda n: code(4000004),
    lambda n: web.Response(status=502),
    html,
    drop,
]


async def test_twenty_reads_through_every_other_answer_a_fault_all_succeed(gw: Gateway) -> None:
    # Never two faults in a row, so one retry always gets through; with the old budget
    # (10 retries per 10 s) 3 of these 20 failed.
    faults = iter(FAULTS * 4)

    def plan(n: int) -> web.StreamResponse:
        return next(faults)(n) if n % 2 == 1 else ok(n)

    gw.plan = plan
    async with app_for(gw) as app:
        shop = app.shop(TOKEN)
        results = [await shop.call("bg.test.read", {"n": i}) for i in range(20)]
    assert [r["n"] for r in results] == list(range(2, 41, 2))
    assert gw.count == 40


async def test_a_write_whose_answer_is_lost_is_sent_once_and_is_outcome_unknown(
    gw: Gateway,
) -> None:
    gw.plan = drop
    async with app_for(gw, retry=policy(max_retries=5)) as app:
        with pytest.raises(OutcomeUnknown, match="may or may not have run") as info:
            await app.shop(TOKEN).call("bg.test.write", {"goodsId": 1})
    assert gw.count == 1
    cause = info.value.__cause__
    assert isinstance(cause, TransportError) and cause.sent
    assert cause.api_type == "bg.test.write"


async def test_http_413_is_a_refusal_not_an_unknown_outcome(gw: Gateway) -> None:
    gw.plan = lambda n: web.Response(status=413)
    async with app_for(gw) as app:
        with pytest.raises(HTTPStatusError, match="HTTP 413") as info:
            await app.shop(TOKEN).call("bg.test.write", {"goodsId": 1})
    assert not info.value.retryable
    assert gw.count == 1


async def test_a_body_over_the_cap_is_refused_before_sending(gw: Gateway) -> None:
    async with app_for(gw, max_body_bytes=4096) as app:
        with pytest.raises(ParamError, match="over the 4096-byte limit") as info:
            await app.shop(TOKEN).call("bg.test.write", {"goodsId": 1, "note": "x" * 5000})
        assert info.value.param == "note" and info.value.local
        # Just under the cap goes out.
        await app.shop(TOKEN).call("bg.test.write", {"goodsId": 1, "note": "x" * 3000})
    assert gw.count == 1


async def test_the_default_cap_refuses_a_ten_megabyte_param(gw: Gateway) -> None:
    async with app_for(gw) as app:
        with pytest.raises(ParamError, match="1048576-byte limit") as info:
            await app.shop(TOKEN).call("bg.any.unknown", {"parentOrderSn": "P" * 10_000_000})
    assert info.value.param == "parentOrderSn"
    assert gw.count == 0


async def test_under_a_total_outage_retries_stay_within_the_budget(gw: Gateway) -> None:
    gw.plan = lambda n: web.Response(status=500)
    budget = RetryBudget()  # 20 % + 10/s over 10 s (Finagle's defaults)
    calls = 300
    async with app_for(gw, retry=policy(max_retries=4, budget=budget)) as app:
        shop = app.shop(TOKEN)
        results = await asyncio.gather(
            *(shop.call("bg.test.read", {"n": i}) for i in range(calls)), return_exceptions=True
        )
    assert all(isinstance(r, HTTPStatusError) for r in results)
    floor = budget.per_second * budget.window
    # Without the budget: 5 sends per call (1500). With it: the first attempts, 20 % more,
    # and the floor (this run takes well under the 10 s window).
    assert calls < gw.count <= 1.2 * calls + floor


async def test_a_type_under_a_rate_limit_outage_in_the_patient_profile_stops_at_its_wait(
    gw: Gateway,
) -> None:
    gw.plan = lambda n: code(4000004)
    patient = policy(patient_max_wait=0.3, patient_max_delay=0.02, rate_limit_penalty=0.0)
    async with app_for(gw, retry=patient) as app:
        shop = app.shop(TOKEN)
        with pytest.raises(Exception, match="4000004"):
            await shop.call("bg.test.read", max_retries=1)
        quick = gw.count
        with pytest.raises(Exception, match="4000004"):
            await shop.call("bg.test.read", patient=True)
    assert quick == 2
    assert gw.count - quick > 5  # waited the rate limit out well past max_retries


async def test_patient_reads_under_a_total_outage_stay_within_the_budget_too(gw: Gateway) -> None:
    # Patience waits out a busy gateway, but every resend still spends the app's budget.
    gw.plan = lambda n: code(4000000)
    budget = RetryBudget()
    patient = policy(
        budget=budget, patient_max_wait=30.0, patient_max_delay=0.02, rate_limit_penalty=0.0
    )
    calls = 100
    async with app_for(gw, retry=patient) as app:
        shop = app.shop(TOKEN)
        results = await asyncio.gather(
            *(shop.call("bg.test.read", {"n": i}, patient=True) for i in range(calls)),
            return_exceptions=True,
        )
    assert all("4000000" in str(r) for r in results)
    assert calls < gw.count <= 1.2 * calls + budget.per_second * budget.window
