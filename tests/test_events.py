"""Event hooks on TemuApp (issue 21, item 1), against the sandbox on loopback.

Each test drives real calls through the pipeline and reads the events a hook received:
their order, their fields, that none carries a credential, and that with no hook the
pipeline builds none.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator
from types import FrameType
from typing import Any

import msgspec
import pytest

from temu_async import events as ev
from temu_async.client import ShopClient, TemuApp
from temu_async.errors import ParamError, RateLimited, ScopeError, TransportError
from temu_async.retry import RetryPolicy
from temu_async.sandbox import FaultSpec, Sandbox, SandboxConfig

READ = "bg.logistics.warehouse.list.get"


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    config = SandboxConfig(seed=3, shops=1, orders=2, goods=1, order_arrival_per_hour=0)
    async with Sandbox(config) as sandbox:
        yield sandbox


def _app(sb: Sandbox, **kw: Any) -> TemuApp:
    kw.setdefault(
        "retry",
        RetryPolicy(base_delay=0.005, max_delay=0.02, rate_limit_penalty=0.01, budget=None),
    )
    c = sb.credentials
    return TemuApp(c.app_key, c.app_secret, region="us", base_url=sb.url, **kw)


def _shop(sb: Sandbox, app: TemuApp) -> ShopClient:
    return app.shop(sb.credentials.shops[0].access_token, name="north")


def _no_secret(sb: Sandbox, seen: list[ev.Event]) -> None:
    text = b"".join(msgspec.json.encode(e) for e in seen)
    for secret in (sb.credentials.app_secret, sb.credentials.shops[0].access_token):
        assert secret.encode() not in text
    assert b"sign" not in text.lower()


async def test_a_successful_call_tells_its_story(sb: Sandbox) -> None:
    seen: list[ev.Event] = []
    async with _app(sb) as app:
        app.add_hook(seen.append)
        await _shop(sb, app).call(READ)
    kinds = [type(e) for e in seen]
    assert kinds == [ev.CallStarted, ev.RequestSent, ev.ResponseReceived, ev.CallFinished]
    started, sent, answered, finished = seen
    assert isinstance(started, ev.CallStarted) and isinstance(sent, ev.RequestSent)
    assert isinstance(answered, ev.ResponseReceived) and isinstance(finished, ev.CallFinished)
    assert {e.call_id for e in seen} == {started.call_id}
    assert all(e.api_type == READ and e.shop == "north" for e in seen)
    assert sent.attempt == 1 and sent.body_bytes > 100
    assert answered.status == 200 and answered.code == 1000000 and answered.error is None
    assert answered.request_id is not None and answered.request_id.startswith("us-")
    assert 0 < answered.elapsed < 5
    assert finished.outcome == "ok" and finished.error is None
    assert finished.request_id == answered.request_id
    assert (finished.attempts, finished.retries) == (1, 0)
    assert finished.duration >= answered.elapsed
    assert finished.started_at == started.started_at
    _no_secret(sb, seen)
    with pytest.raises(AttributeError):
        finished.outcome = "error"  # type: ignore[misc]


async def test_retries_are_scheduled_then_the_call_fails(sb: Sandbox) -> None:
    sb.faults.set_default(FaultSpec(error_rates={4000004: 1.0}))
    seen: list[ev.Event] = []
    async with _app(sb) as app:
        app.add_hook(seen.append)
        with pytest.raises(RateLimited):
            await _shop(sb, app).call(READ, max_retries=2)
    retries = [e for e in seen if isinstance(e, ev.RetryScheduled)]
    assert [r.attempt for r in retries] == [1, 2]
    assert all(r.code == 4000004 and r.reason == "retry" and r.delay > 0 for r in retries)
    assert all(r.error == "RateLimited" for r in retries)
    answers = [e for e in seen if isinstance(e, ev.ResponseReceived)]
    assert [a.code for a in answers] == [4000004] * 3
    assert all(a.request_id for a in answers)
    finished = seen[-1]
    assert isinstance(finished, ev.CallFinished)
    assert finished.outcome == "error" and finished.error == "RateLimited"
    assert (finished.code, finished.attempts, finished.retries) == (4000004, 3, 2)
    assert finished.request_id == answers[-1].request_id
    _no_secret(sb, seen)


async def test_a_dropped_connection_is_an_answer_without_status(sb: Sandbox) -> None:
    sb.faults.set_default(FaultSpec(drop_rate=1.0))
    seen: list[ev.Event] = []
    async with _app(sb) as app:
        app.add_hook(seen.append)
        with pytest.raises(TransportError):
            await _shop(sb, app).call(READ, max_retries=1)
    answers = [e for e in seen if isinstance(e, ev.ResponseReceived)]
    assert len(answers) == 2 and all(a.status == 0 and a.error for a in answers)
    assert isinstance(seen[-1], ev.CallFinished) and seen[-1].outcome == "error"


async def test_a_clock_resync_is_a_resend_not_a_retry(sb: Sandbox) -> None:
    sb.faults.clock_offset = 900.0
    seen: list[ev.Event] = []
    async with _app(sb) as app:
        app.add_hook(seen.append)
        await _shop(sb, app).call(READ)
    (resync,) = [e for e in seen if isinstance(e, ev.RetryScheduled)]
    assert resync.reason == "clock" and resync.delay == 0.0 and resync.code == 3000012
    finished = seen[-1]
    assert isinstance(finished, ev.CallFinished)
    assert (finished.outcome, finished.attempts, finished.retries) == ("ok", 2, 0)


async def test_throttle_waits_are_reported(sb: Sandbox) -> None:
    seen: list[ev.Event] = []
    async with _app(sb, rate_limit=2) as app:
        app.add_hook(seen.append)
        shop = _shop(sb, app)
        await asyncio.gather(*(shop.call(READ) for _ in range(4)))
    waits = [e for e in seen if isinstance(e, ev.ThrottleWaited)]
    assert waits and all(w.waited > 0 for w in waits)
    finished = [e for e in seen if isinstance(e, ev.CallFinished)]
    assert len({f.call_id for f in finished}) == 4
    assert sum(f.throttle_wait for f in finished) == pytest.approx(sum(w.waited for w in waits))
    # Each call's events stay in order under its own id even though the calls interleave.
    for f in finished:
        mine = [e for e in seen if e.call_id == f.call_id]
        assert isinstance(mine[0], ev.CallStarted) and mine[-1] is f


async def test_a_local_refusal_finishes_without_sending(sb: Sandbox) -> None:
    seen: list[ev.Event] = []
    async with _app(sb) as app:
        app.add_hook(seen.append)
        with pytest.raises(ParamError):
            await _shop(sb, app).call("bg.order.list.v2.get", {"pageSize": "many"})
    assert [type(e) for e in seen] == [ev.CallStarted, ev.CallFinished]
    finished = seen[-1]
    assert isinstance(finished, ev.CallFinished)
    assert finished.outcome == "error" and finished.error == "ParamError"
    assert finished.attempts == 0 and finished.request_id is None
    assert sb.counters.received == 0


async def test_a_scope_refusal_is_seen_by_hooks_and_only_raised_when_awaited(
    sb: Sandbox,
) -> None:
    seen: list[ev.Event] = []
    async with _app(sb) as app:
        app.add_hook(seen.append)
        shop = app.shop(
            sb.credentials.shops[0].access_token, name="north", scopes=["bg.order.list.v2.get"]
        )
        pending = shop.call("bg.logistics.companies.get", {"regionId": 211})
        assert seen == []  # nothing ran yet: the call is a coroutine until awaited
        with pytest.raises(ScopeError, match="not in the apiScopeList of north"):
            await pending
    assert [type(e) for e in seen] == [ev.CallStarted, ev.CallFinished]
    finished = seen[-1]
    assert isinstance(finished, ev.CallFinished)
    assert finished.outcome == "error" and finished.error == "ScopeError"
    assert sb.counters.received == 0


async def test_a_cancelled_call_still_finishes(sb: Sandbox) -> None:
    sb.faults.set_default(FaultSpec(latency_ms=2000))
    seen: list[ev.Event] = []
    async with _app(sb) as app:
        app.add_hook(seen.append)
        task = asyncio.ensure_future(_shop(sb, app).call(READ))
        while not any(isinstance(e, ev.RequestSent) for e in seen):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finished = seen[-1]
    assert isinstance(finished, ev.CallFinished) and finished.outcome == "cancelled"


async def test_a_failing_hook_is_logged_once_and_never_breaks_the_call(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[ev.Event] = []

    def broken(event: ev.Event) -> None:
        raise RuntimeError("hook bug")

    async with _app(sb) as app:
        app.add_hook(broken)
        app.add_hook(seen.append)  # runs even though the one before it raised
        with caplog.at_level(logging.WARNING, logger="temu_async"):
            for _ in range(2):
                assert isinstance(await _shop(sb, app).call(READ), dict)
    assert len([e for e in seen if isinstance(e, ev.CallFinished)]) == 2
    failures = [r for r in caplog.records if "event hook" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is not None


async def test_removing_hooks_and_no_event_built_without_one(sb: Sandbox) -> None:
    seen: list[ev.Event] = []
    async with _app(sb) as app:
        remove = app.add_hook(seen.append)
        shop = _shop(sb, app)
        await shop.call(READ)
        first = [e.call_id for e in seen if isinstance(e, ev.CallStarted)]
        remove()
        assert app.pipeline.hooks is None
        count = len(seen)

        # With no hook nothing in events.py runs at all: no watch, no event object.
        entered: list[str] = []
        events_file = ev.__file__

        def profiler(frame: FrameType, what: str, arg: object) -> None:
            if what == "call" and frame.f_code.co_filename == events_file:
                entered.append(frame.f_code.co_name)

        sys.setprofile(profiler)
        try:
            await shop.call(READ)
        finally:
            sys.setprofile(None)
        assert entered == [] and len(seen) == count

        # The profiler does see events.py when a hook is there (the check above can fail).
        app.add_hook(seen.append)
        sys.setprofile(profiler)
        try:
            await shop.call(READ)
        finally:
            sys.setprofile(None)
        assert "watch" in entered
        later = [e.call_id for e in seen if isinstance(e, ev.CallStarted)]
        assert later[-1] > first[-1]  # ids keep rising across hook changes
        app.remove_hook(seen.append)  # a bound method removes by equality
        assert app.pipeline.hooks is None
        with pytest.raises(TypeError):
            app.add_hook("not callable")  # type: ignore[arg-type]
