"""Fault knobs: latency, injected codes, HTTP 5xx, dropped connections, broken bodies."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sandbox_support import call, signed_body, small_catalogue

from temu_async.sandbox import Faults, FaultSpec, ManualClock, Sandbox, SandboxConfig

INFO = "bg.open.accesstoken.info.get"
LIST = "bg.order.list.v2.get"


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    cfg = SandboxConfig(
        seed=31, orders=10, catalogue=small_catalogue(), clock=ManualClock(), rate_limit=10_000
    )
    async with Sandbox(cfg) as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def _raw(
    session: aiohttp.ClientSession, sb: Sandbox, type_: str = INFO
) -> tuple[int, str, bytes]:
    async with session.post(sb.url, json=signed_body(sb, type_)) as resp:
        return resp.status, resp.content_type, await resp.read()


async def test_injected_codes_per_type_and_run_wide(
    sb: Sandbox, session: aiohttp.ClientSession
) -> None:
    sb.faults.set_for_type(LIST, error_rates={4000004: 1.0})
    got = await call(session, sb, LIST)
    assert (got["success"], got["errorCode"], got["errorMsg"]) == (
        False,
        4000004,
        "RATE_LIMIT_EXCEED_EXCEPTION",
    )
    assert (await call(session, sb, INFO))["success"] is True  # other types untouched
    sb.faults.set_default(error_rates={4000000: 1.0})
    assert (await call(session, sb, INFO))["errorCode"] == 4000000
    assert (await call(session, sb, LIST))["errorCode"] == 4000004  # the type's own spec wins
    assert sb.counters.faults["error"] == 3
    assert sb.counters.executed == 1  # injected refusals never ran
    sb.faults.clear()
    assert (await call(session, sb, LIST))["success"] is True


async def test_http_5xx(sb: Sandbox, session: aiohttp.ClientSession) -> None:
    sb.faults.set_default(error_rates={503: 1.0})
    status, ctype, body = await _raw(session, sb)
    assert status == 503 and ctype == "text/html" and b"503" in body
    assert sb.counters.executed == 0


async def test_html_and_malformed_bodies(sb: Sandbox, session: aiohttp.ClientSession) -> None:
    sb.faults.set_default(html_rate=1.0, html_status=502)
    status, ctype, body = await _raw(session, sb)
    assert (status, ctype) == (502, "text/html") and body.lstrip().startswith(b"<html>")
    sb.faults.set_default(FaultSpec(malformed_json_rate=1.0))
    status, ctype, body = await _raw(session, sb)
    assert (status, ctype) == (200, "application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)


async def test_dropped_connection(sb: Sandbox, session: aiohttp.ClientSession) -> None:
    sb.faults.set_for_type(INFO, drop_rate=1.0)
    with pytest.raises((aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)):
        await _raw(session, sb)
    assert sb.counters.faults["drop"] == 1 and sb.counters.executed == 0
    sb.faults.clear_type(INFO)
    # The server keeps serving after a dropped connection.
    assert (await call(session, sb, INFO))["success"] is True


async def test_latency_is_added(sb: Sandbox, session: aiohttp.ClientSession) -> None:
    sb.faults.set_default(latency_ms=150)
    started = time.monotonic()
    assert (await call(session, sb, INFO))["success"] is True
    assert time.monotonic() - started >= 0.15


def test_fault_draws_repeat_under_the_seed() -> None:
    def run(seed: int) -> list[tuple[float, str, int]]:
        f = Faults(
            seed,
            FaultSpec(
                jitter_ms=40, error_rates={4000000: 0.2, 502: 0.1}, drop_rate=0.1, html_rate=0.1
            ),
        )
        return [(d.delay, d.kind, d.code) for d in (f.decide(LIST) for _ in range(200))]

    first = run(7)
    assert first == run(7)
    assert first != run(8)
    kinds = {k for _, k, _ in first}
    assert kinds == {"none", "error", "http", "drop", "html"}
    assert all(0 <= d < 0.04 for d, _, _ in first)
    share = sum(k == "error" for _, k, _ in first) / len(first)
    assert 0.1 < share < 0.3


def test_fault_spec_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="error_rates: 3000000"):
        FaultSpec(error_rates={3000000: 0.5})
    with pytest.raises(ValueError, match="more than 1"):
        FaultSpec(error_rates={4000000: 0.7}, drop_rate=0.5)
    with pytest.raises(ValueError, match="drop_rate"):
        FaultSpec(drop_rate=1.5)
