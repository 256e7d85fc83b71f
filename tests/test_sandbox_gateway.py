"""The sandbox's gateway checks, over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from golden import GOLDEN_SECRET, GOLDEN_SIGN, golden_params
from sandbox_support import call, post, sign, signed_body, small_catalogue

from temu_async.sandbox import ManualClock, Sandbox, SandboxConfig, expected_sign


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    cfg = SandboxConfig(
        seed=3, apps=2, shops=2, orders=40, catalogue=small_catalogue(), clock=ManualClock()
    )
    async with Sandbox(cfg) as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def test_golden_vector_from_the_docs() -> None:
    params = golden_params()
    secret = GOLDEN_SECRET
    assert expected_sign(secret, params) == GOLDEN_SIGN
    # None values are left out, and a string keeps inner quotes (only the JSON pair goes).
    assert expected_sign(secret, {**params, "version": None}) == GOLDEN_SIGN
    assert expected_sign(secret, {"a": '"x"'}) != expected_sign(secret, {"a": "x"})


async def test_a_correct_request_succeeds(sb: Sandbox, session: aiohttp.ClientSession) -> None:
    got = await call(session, sb, "bg.open.accesstoken.info.get")
    assert got["success"] is True and got["errorCode"] == 1000000
    assert got["result"]["mallId"] == sb.credentials.shops[0].mall_id
    assert got["requestId"].startswith("us-")


async def test_rejects_a_body_signed_over_a_different_key_order(
    sb: Sandbox, session: aiohttp.ClientSession
) -> None:
    nested = {"sendType": 0, "sendRequestList": [{"trackingNumber": "T1", "carrierId": 699272611}]}
    body = signed_body(sb, "bg.local.goods.cats.get", {"parentCatId": 0, "x": nested})
    # Same data, nested keys reordered after signing: the bytes differ, so must the sign.
    body["x"] = {
        "sendRequestList": [{"carrierId": 699272611, "trackingNumber": "T1"}],
        "sendType": 0,
    }
    got = await post(session, sb, body)
    assert (got["errorCode"], got["errorMsg"]) == (3000001, "SIGN_UNVALID")
    assert sb.counters.rejections[3000001] == 1
    # Signed over what is sent, the same body passes.
    body["sign"] = sign(sb.credentials.app_secret, body)
    assert (await post(session, sb, body))["success"] is True


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda b: b.pop("type"), 3000002),
        (lambda b: b.update(type="bg.no.such.type"), 3000003),
        (lambda b: b.pop("app_key"), 3000025),
        (lambda b: b.update(app_key="0" * 32), 3000026),
        (lambda b: b.pop("access_token"), 3000030),
        (lambda b: b.update(access_token="nope"), 3000031),
        (lambda b: b.pop("timestamp"), 3000010),
        (lambda b: b.update(timestamp="soon"), 3000011),
        (lambda b: b.pop("data_type"), 3000013),
        (lambda b: b.update(data_type="XML"), 3000014),
        (lambda b: b.pop("sign"), 3000040),
    ],
)
async def test_each_gateway_check_answers_its_code(
    sb: Sandbox, session: aiohttp.ClientSession, change: Any, code: int
) -> None:
    body = signed_body(sb, "bg.open.accesstoken.info.get")
    change(body)
    if "sign" in body:
        body["sign"] = sign(sb.credentials.app_secret, body)
    got = await post(session, sb, body)
    assert got["success"] is False
    assert got["errorCode"] == code
    assert sb.counters.executed == 0


async def test_timestamp_window(sb: Sandbox, session: aiohttp.ClientSession) -> None:
    now = int(sb.server_time())
    old = await call(session, sb, "bg.open.accesstoken.info.get", timestamp=now - 301)
    assert (old["errorCode"], old["errorMsg"]) == (3000012, "timestamp is expired.")
    ahead = await call(session, sb, "bg.open.accesstoken.info.get", timestamp=now + 301)
    assert (ahead["errorCode"], ahead["errorMsg"]) == (3000011, "timestamp is invalid.")
    edge = await call(session, sb, "bg.open.accesstoken.info.get", timestamp=now - 300)
    assert edge["success"] is True
    as_text = await call(session, sb, "bg.open.accesstoken.info.get", timestamp=str(now))  # type: ignore[arg-type]
    assert as_text["success"] is True


async def test_token_of_another_app(sb: Sandbox, session: aiohttp.ClientSession) -> None:
    other = sb.credentials.apps[1].shops[0].access_token
    got = await call(session, sb, "bg.open.accesstoken.info.get", token=other)
    assert (got["errorCode"], got["errorMsg"]) == (
        3000033,
        "access_token and app_key are not mapping.",
    )


async def test_expired_token_and_missing_scope(sb: Sandbox, session: aiohttp.ClientSession) -> None:
    shop0, shop1 = sb.credentials.shops
    sb.set_scopes(shop1.access_token, {"bg.open.accesstoken.info.get"})
    assert (await call(session, sb, "bg.open.accesstoken.info.get", shop=1))["success"] is True
    got = await call(session, sb, "bg.order.list.v2.get", shop=1)
    assert got["errorCode"] == 3000032
    sb.expire_token(shop0.access_token)
    got = await call(session, sb, "bg.open.accesstoken.info.get")
    assert got["errorCode"] == 3000034


async def test_checks_run_in_gateway_order(sb: Sandbox, session: aiohttp.ClientSession) -> None:
    # Unknown token AND stale timestamp AND bad sign: the token check comes first.
    body = signed_body(sb, "bg.open.accesstoken.info.get", token="nope", timestamp=1)
    body["sign"] = "BAD"
    assert (await post(session, sb, body))["errorCode"] == 3000031
    body = signed_body(sb, "bg.open.accesstoken.info.get", timestamp=1)
    body["sign"] = "BAD"
    assert (await post(session, sb, body))["errorCode"] == 3000012


async def test_not_json(sb: Sandbox, session: aiohttp.ClientSession) -> None:
    got = await post(session, sb, b"type=bg.order.list.v2.get")
    assert got["errorCode"] == 3000000 and "JSON" in got["errorMsg"]


async def test_first_of_a_duplicated_key_wins(sb: Sandbox, session: aiohttp.ClientSession) -> None:
    body = signed_body(sb, "bg.open.accesstoken.info.get")
    text = json.dumps(body)[:-1] + ', "sign": "FORGED"}'
    assert (await post(session, sb, text.encode()))["success"] is True
    text = json.dumps({**body, "sign": "FORGED"})[:-1] + f', "sign": "{body["sign"]}"}}'
    assert (await post(session, sb, text.encode()))["errorCode"] == 3000001


async def test_burst_over_the_limit(session: aiohttp.ClientSession) -> None:
    # The limiter's clock is frozen so all 25 land in one window however slow the machine.
    cfg = SandboxConfig(
        seed=5,
        orders=5,
        catalogue=small_catalogue(20),
        clock=ManualClock(),
        limiter_clock=lambda: 100.0,
    )
    async with Sandbox(cfg) as sb:
        bodies = [signed_body(sb, "bg.open.accesstoken.info.get") for _ in range(25)]
        got = await asyncio.gather(*(post(session, sb, b) for b in bodies))
        codes = sorted(g["errorCode"] for g in got)
        assert codes.count(4000004) == 5
        assert codes.count(1000000) == 20
        assert sb.counters.rejections[4000004] == 5
        assert sb.counters.requests_by_type["bg.open.accesstoken.info.get"] == 20
        assert len(sb.counters.arrivals[sb.credentials.app_key]) == 25
        assert sb.max_in_window() == 20


async def test_window_slides(session: aiohttp.ClientSession) -> None:
    now = [0.0]
    cfg = SandboxConfig(
        seed=5,
        orders=5,
        catalogue=small_catalogue(3),
        clock=ManualClock(),
        limiter_clock=lambda: now[0],
    )
    async with Sandbox(cfg) as sb:

        async def once() -> int:
            return (await call(session, sb, "bg.open.accesstoken.info.get"))["errorCode"]

        assert [await once() for _ in range(4)] == [1000000] * 3 + [4000004]
        now[0] = 0.999
        assert await once() == 4000004
        now[0] = 1.0  # the first three left the window (it is half-open)
        assert [await once() for _ in range(4)] == [1000000] * 3 + [4000004]


async def test_type_limit_and_app_limit_both_apply(session: aiohttp.ClientSession) -> None:
    cfg = SandboxConfig(
        seed=5,
        orders=5,
        catalogue=small_catalogue(5),
        clock=ManualClock(),
        limiter_clock=lambda: 7.0,
        type_rate_limits={"bg.local.goods.priceorder.query": 2},
    )
    async with Sandbox(cfg) as sb:
        codes = [
            (await call(session, sb, "bg.local.goods.priceorder.query"))["errorCode"]
            for _ in range(3)
        ]
        assert codes == [1000000, 1000000, 4000004]
        codes = [
            (await call(session, sb, "bg.open.accesstoken.info.get"))["errorCode"] for _ in range(4)
        ]
        # The refused priceorder call did not use app budget: 2 + 3 = 5.
        assert codes == [1000000, 1000000, 1000000, 4000004]


async def test_date_header_and_timestamp_use_the_offset_clock(
    sb: Sandbox, session: aiohttp.ClientSession
) -> None:
    sb.faults.clock_offset = 3600
    body = signed_body(sb, "bg.open.accesstoken.info.get", timestamp=int(sb.clock.now()))
    async with session.post(sb.url, json=body) as resp:
        got = await resp.json()
        date = resp.headers["Date"]
    assert got["errorCode"] == 3000012
    from email.utils import parsedate_to_datetime

    assert parsedate_to_datetime(date).timestamp() == int(sb.clock.now()) + 3600
    assert (await call(session, sb, "bg.open.accesstoken.info.get"))["success"] is True
