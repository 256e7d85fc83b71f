from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web
from tiny_gateway import TinyGateway, fail, ok
from windows import max_in_window

from temu_async.catalogue import Catalogue, Field, RateLimit, TypeSpec
from temu_async.client import CallOptions, TemuApp
from temu_async.errors import (
    ConnectError,
    HTTPStatusError,
    MalformedResponse,
    OutcomeUnknown,
    ParamError,
    RequestTimeout,
    ResponseDecodeError,
    SignatureError,
    TemuError,
    TokenError,
)
from temu_async.retry import RetryPolicy

TOKEN = "shop-token-abcdef123456"

READ = TypeSpec(
    type="bg.test.read",
    method="read",
    group="test",
    summary="A read.",
    idempotent=True,
    params=[
        Field(name="pageSize", type="integer", maximum=100, minimum=1),
        Field(name="status", type="integer", enum={1: "a", 2: "b"}),
        Field(
            name="items",
            type="list",
            items="object",
            max_items=2,
            fields=[Field(name="skuId", type="long", required=True)],
        ),
    ],
)
WRITE = TypeSpec(
    type="bg.test.write",
    method="write",
    group="test",
    summary="A write.",
    idempotent=False,
    params=[Field(name="goodsId", type="long", required=True)],
)
LIMITED = TypeSpec(
    type="bg.test.limited",
    method="limited",
    group="test",
    summary="Own limit.",
    idempotent=True,
    rate_limit=RateLimit(per_second=5),
)
EU_ONLY = TypeSpec(
    type="bg.test.eu", method="eu", group="test", summary="EU.", idempotent=True, regions=["eu"]
)
CATALOGUE = Catalogue(default_rate_limit=20, types=[READ, WRITE, LIMITED, EU_ONLY])


class Result(msgspec.Struct):
    echo: str
    count: int = 0


def make_app(gw: TinyGateway, **kwargs: Any) -> TemuApp:
    kwargs.setdefault("retry", RetryPolicy(base_delay=0.01, max_delay=0.05))
    kwargs.setdefault("catalogue", CATALOGUE)
    return TemuApp(gw.app_key, gw.app_secret, "us", base_url=gw.url, **kwargs)


async def test_call_sends_a_flat_signed_body(gateway: TinyGateway) -> None:
    async with make_app(gateway) as app:
        result = await app.shop(TOKEN).call("bg.test.read", {"pageSize": 10, "status": 1})
    assert result == {"echo": "bg.test.read"}
    body = gateway.parsed()
    assert body["pageSize"] == 10 and body["status"] == 1  # flat, not under "request"
    assert "request" not in body
    assert body["type"] == "bg.test.read"
    assert body["app_key"] == gateway.app_key
    assert body["access_token"] == TOKEN
    assert body["data_type"] == "JSON"
    assert re.fullmatch(r"\d{10}", str(body["timestamp"]))
    assert re.fullmatch(r"[0-9A-F]{32}", body["sign"])
    # The secret never leaves the process: not in the body, not in the URL.
    assert gateway.app_secret.encode() not in gateway.bodies[-1]
    assert "?" not in gateway.urls[-1]


async def test_unknown_types_are_callable_with_plain_params(gateway: TinyGateway) -> None:
    async with make_app(gateway) as app:
        result = await app.shop(TOKEN).call("bg.brand.new.type", {"anything": [1, {"b": "c"}]})
    assert result == {"echo": "bg.brand.new.type"}
    assert gateway.parsed()["anything"] == [1, {"b": "c"}]


async def test_result_decodes_into_the_given_type(gateway: TinyGateway) -> None:
    async with make_app(gateway) as app:
        result = await app.shop(TOKEN).call("bg.test.read", result_type=Result)
    assert result == Result(echo="bg.test.read")


async def test_result_mismatch_keeps_the_raw_data(gateway: TinyGateway) -> None:
    gateway.script = lambda body, n: ok({"echo": 5})
    async with make_app(gateway) as app:
        with pytest.raises(ResponseDecodeError) as info:
            await app.shop(TOKEN).call("bg.test.read", result_type=Result)
    assert info.value.raw == {"echo": 5}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"pageSize": 101}, r"param pageSize: must be <= 100, got 101"),
        ({"pageSize": 0}, r"param pageSize: must be >= 1"),
        ({"pageSize": "10"}, r"param pageSize: must be an integer, got str"),
        ({"pageSize": True}, r"param pageSize: must be an integer, got bool"),
        ({"status": 3}, r"param status: must be one of 1 \(a\), 2 \(b\); got 3"),
        ({"items": [{}, {}]}, r"param items\[0\]\.skuId: is required"),
        ({"items": [{"skuId": 1}] * 3}, r"param items: must hold at most 2 item\(s\), got 3"),
        ({"items": [{"skuId": 1, "extra": 2}]}, r"param items\[0\]\.extra: is not a param"),
        ({"pagesize": 10}, r"param pagesize: is not a param of bg\.test\.read"),
        ({"sign": "x"}, r"param sign: is a common param"),
        ({"pageSize": float("nan")}, r"must be an integer"),
    ],
)
async def test_bad_params_are_refused_before_sending(
    gateway: TinyGateway, params: dict[str, Any], message: str
) -> None:
    async with make_app(gateway) as app:
        with pytest.raises(ParamError, match=message) as info:
            await app.shop(TOKEN).call("bg.test.read", params)
    assert info.value.local
    assert gateway.bodies == []


async def test_required_param_and_unknown_param_escape_hatch(gateway: TinyGateway) -> None:
    async with make_app(gateway) as app:
        shop = app.shop(TOKEN)
        with pytest.raises(ParamError, match="param goodsId: is required"):
            await shop.call("bg.test.write", {})
        await shop.call("bg.test.read", {"newField": 1}, allow_unknown=True)
    assert gateway.parsed()["newField"] == 1


async def test_wrong_region_is_refused_locally(gateway: TinyGateway) -> None:
    async with make_app(gateway) as app:
        with pytest.raises(ParamError, match="not offered in region 'us'"):
            await app.shop(TOKEN).call("bg.test.eu")
    assert gateway.bodies == []


async def test_gateway_errors_become_typed_exceptions(gateway: TinyGateway) -> None:
    gateway.script = lambda body, n: fail(3000034, "access_token expired")
    async with make_app(gateway, catalogue=_with_gateway_codes()) as app:
        with pytest.raises(TokenError) as info:
            await app.shop(TOKEN).call("bg.test.read")
    err = info.value
    assert err.code == 3000034
    assert err.api_type == "bg.test.read"
    assert err.request_id == "r-3000034"
    assert "re-authorise" in str(err)
    assert len(gateway.bodies) == 1  # not retried


async def test_a_wrong_secret_reads_as_a_signature_error(gateway: TinyGateway) -> None:
    async with TemuApp(
        gateway.app_key, "not-the-secret", base_url=gateway.url, catalogue=_with_gateway_codes()
    ) as app:
        with pytest.raises(SignatureError, match="3000001"):
            await app.shop(TOKEN).call("bg.test.read")


async def test_rate_limited_read_is_retried_and_penalises_the_app(gateway: TinyGateway) -> None:
    gateway.script = lambda body, n: fail(4000004, "rate limit") if n <= 2 else ok({"echo": "x"})
    async with make_app(gateway, catalogue=_with_gateway_codes()) as app:
        result = await app.shop(TOKEN).call("bg.test.read")
        assert app.throttle.stats.penalties == 2
    assert result == {"echo": "x"}
    assert len(gateway.bodies) == 3
    # Each retry is a fresh signature over the same business bytes.
    assert gateway.parsed(0)["sign"] and gateway.parsed(2)["sign"]


async def test_rate_limited_write_is_retried_because_it_did_not_run(
    gateway: TinyGateway,
) -> None:
    gateway.script = lambda body, n: fail(4000004) if n == 1 else ok(True)
    async with make_app(gateway, catalogue=_with_gateway_codes()) as app:
        assert await app.shop(TOKEN).call("bg.test.write", {"goodsId": 1}) is True
    assert len(gateway.bodies) == 2


async def test_ambiguous_write_failure_is_not_repeated(gateway: TinyGateway) -> None:
    gateway.script = lambda body, n: web.Response(status=502, text="bad gateway")
    async with make_app(gateway) as app:
        with pytest.raises(OutcomeUnknown, match="may or may not have run") as info:
            await app.shop(TOKEN).call("bg.test.write", {"goodsId": 1})
    assert isinstance(info.value.__cause__, HTTPStatusError)
    assert len(gateway.bodies) == 1


async def test_read_is_retried_through_5xx(gateway: TinyGateway) -> None:
    gateway.script = lambda body, n: web.Response(status=503) if n < 3 else ok({"echo": "y"})
    async with make_app(gateway) as app:
        assert await app.shop(TOKEN).call("bg.test.read") == {"echo": "y"}
    assert len(gateway.bodies) == 3


async def test_retries_stop_at_max_retries(gateway: TinyGateway) -> None:
    gateway.script = lambda body, n: web.Response(status=500)
    async with make_app(gateway) as app:
        with pytest.raises(HTTPStatusError):
            await app.shop(TOKEN).call("bg.test.read", options=CallOptions(max_retries=2))
    assert len(gateway.bodies) == 3


async def test_html_body_is_a_malformed_response(gateway: TinyGateway) -> None:
    gateway.script = lambda body, n: web.Response(
        text="<html>oops</html>", content_type="text/html"
    )
    async with make_app(gateway, retry=RetryPolicy(max_retries=0)) as app:
        with pytest.raises(MalformedResponse, match=r"not JSON.*text/html"):
            await app.shop(TOKEN).call("bg.test.read")


async def test_clock_skew_is_resynced_from_the_date_header(gateway: TinyGateway) -> None:
    gateway.clock_offset = 400.0
    async with make_app(gateway, catalogue=_with_gateway_codes()) as app:
        assert await app.shop(TOKEN).call("bg.test.read") == {"echo": "bg.test.read"}
        assert 398 <= app.clock_offset <= 402
    assert len(gateway.bodies) == 2
    first, second = gateway.parsed(0), gateway.parsed(1)
    assert second["timestamp"] - first["timestamp"] >= 398


async def test_connection_refused_is_a_connect_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/openapi/router"
    policy = RetryPolicy(max_retries=1, base_delay=0.01)
    async with TemuApp("k", "s", base_url=url, retry=policy, catalogue=CATALOGUE) as app:
        with pytest.raises(ConnectError) as info:
            await app.shop(TOKEN).call("bg.test.write", {"goodsId": 1})
    assert info.value.sent is False


async def test_timeout_starts_after_the_throttle(gateway: TinyGateway) -> None:
    # With a 1/s limit the second call waits ~1 s for its slot; a 0.5 s HTTP timeout
    # must not count that wait.
    slow = Catalogue(default_rate_limit=1, types=[READ])
    async with make_app(gateway, catalogue=slow, timeout=0.5) as app:
        shop = app.shop(TOKEN)
        await asyncio.gather(shop.call("bg.test.read"), shop.call("bg.test.read"))
    assert len(gateway.bodies) == 2


@pytest.mark.slow
async def test_arrivals_at_the_server_never_exceed_the_limit(gateway: TinyGateway) -> None:
    async with make_app(gateway) as app:
        shops = [app.shop(f"{TOKEN}-{i}") for i in range(4)]
        loop = asyncio.get_running_loop()
        stop_at = loop.time() + 3.0

        async def caller(i: int) -> None:
            while loop.time() < stop_at:
                await shops[i % 4].call("bg.test.read")

        await asyncio.gather(*(caller(i) for i in range(100)))
    assert max_in_window(gateway.arrivals) <= 20
    span = gateway.arrivals[-1] - gateway.arrivals[0]
    assert len(gateway.arrivals) / max(span, 3.0) >= 18


async def test_type_limit_applies_on_top_of_the_app_limit(gateway: TinyGateway) -> None:
    async with make_app(gateway) as app:
        shop = app.shop(TOKEN)
        await asyncio.gather(*(shop.call("bg.test.limited") for _ in range(8)))
    assert max_in_window(gateway.arrivals) <= 5


async def test_secrets_never_reach_reprs_errors_or_logs(
    gateway: TinyGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    signs: list[str] = []
    gateway.script = lambda body, n: (
        signs.append(body["sign"]),
        fail(4000004) if n == 1 else fail(3000034),
    )[1]
    errors: list[BaseException] = []
    async with make_app(gateway, catalogue=_with_gateway_codes()) as app:
        shop = app.shop(TOKEN)
        try:
            await shop.call("bg.test.read")
        except TemuError as exc:
            errors.append(exc)
        try:
            await shop.call("bg.test.read", {"pageSize": 1000})
        except TemuError as exc:
            errors.append(exc)
        texts = [repr(app), str(app), repr(shop), str(shop), repr(app._secret), repr(shop._token)]
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [r.getMessage() for r in caplog.records]
    everything = "\n".join(texts)
    assert len(errors) == 2 and signs
    for secret in (gateway.app_secret, TOKEN, *signs):
        assert secret not in everything


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"app_key": ""}, "app_key must be a non-empty string"),
        ({"app_key": "abc "}, "app_key must not contain whitespace"),
        ({"app_secret": "sécret"}, "app_secret must be printable ASCII"),
        ({"region": "mars"}, "region must be one of"),
        ({"base_url": "http://x/router?app_secret=1"}, "must not carry a query string"),
    ],
)
def test_bad_credentials_are_refused_at_construction(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"app_key": "key", "app_secret": "secret", **kwargs}
    with pytest.raises(ValueError, match=message):
        TemuApp(**args)


def _with_gateway_codes() -> Catalogue:
    from temu_async.catalogue import ErrorCode

    return Catalogue(
        default_rate_limit=20,
        types=CATALOGUE.types,
        errors=[
            ErrorCode(
                code=3000001, name="SIGN_UNVALID", message="sign invalid", category="signature"
            ),
            ErrorCode(
                code=3000034,
                name="ACCESS_TOKEN_EXPIRED",
                message="expired",
                category="token",
                hint="the seller must re-authorise the app",
            ),
            ErrorCode(
                code=3000012, name="TIMESTAMP_EXPIRED", message="expired", category="timestamp"
            ),
            ErrorCode(
                code=4000004,
                name="RATE_LIMIT",
                message="rate",
                category="rate_limited",
                retryable=True,
                pushes_back=True,
            ),
        ],
    )


def test_body_json_is_parseable_by_the_stdlib() -> None:
    # Sanity for the helper the other tests rely on.
    assert json.loads(b'{"a":1}') == {"a": 1}


class Timed(msgspec.Struct):
    update_time: str | None = msgspec.field(default=None, name="updateTime")
    goods_id: int | None = msgspec.field(default=None, name="goodsId")
    on_sale: bool | None = msgspec.field(default=None, name="onSale")


TIMED = TypeSpec(
    type="bg.test.timed",
    method="timed",
    group="test",
    summary="Documented types differ from what the server sends.",
    idempotent=True,
    response=[
        Field(name="updateTime", type="string"),
        Field(name="goodsId", type="long"),
        Field(name="onSale", type="boolean"),
    ],
)


async def test_lossless_doc_mismatch_is_conformed_and_logged_once(
    gateway: TinyGateway, caplog: pytest.LogCaptureFixture
) -> None:
    gateway.script = lambda body, n: ok({"updateTime": 1700000000, "goodsId": "42", "onSale": 1})
    cat = Catalogue(types=[TIMED])
    async with make_app(gateway, catalogue=cat) as app:
        shop = app.shop(TOKEN)
        first = await shop.call("bg.test.timed", result_type=Timed)
        second = await shop.call("bg.test.timed", result_type=Timed)
    assert first == second == Timed(update_time="1700000000", goods_id=42, on_sale=True)
    warned = [r for r in caplog.records if "differs from the documented types" in r.getMessage()]
    assert len(warned) == 1


async def test_lossy_mismatch_still_fails_with_the_raw_data(gateway: TinyGateway) -> None:
    gateway.script = lambda body, n: ok({"goodsId": "not a number"})
    async with make_app(gateway, catalogue=Catalogue(types=[TIMED])) as app:
        with pytest.raises(ResponseDecodeError, match=r"goodsId") as info:
            await app.shop(TOKEN).call("bg.test.timed", result_type=Timed)
    assert info.value.raw == {"goodsId": "not a number"}


async def test_a_callers_session_gets_our_headers_and_timeout(gateway: TinyGateway) -> None:
    # A session the caller owns has its own defaults (here: no timeout at all, no JSON
    # content type); the app's timeout and headers must still apply to every request.
    seen: list[str] = []

    async def slow(body: dict[str, Any], n: int) -> Any:
        if n == 2:
            await asyncio.sleep(2.0)
        return ok({"echo": "late"})

    gateway.script = slow
    own = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
    try:
        async with make_app(
            gateway, session=own, timeout=0.3, retry=RetryPolicy(max_retries=0)
        ) as app:
            shop = app.shop(TOKEN)
            await shop.call("bg.test.read")
            seen.append(gateway.content_types[-1])
            with pytest.raises(RequestTimeout):
                await shop.call("bg.test.read")
        assert not own.closed, "the app must not close a session it does not own"
    finally:
        await own.close()
    assert seen == ["application/json"]
