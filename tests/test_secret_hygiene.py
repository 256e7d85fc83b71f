"""No app_secret, access_token or sign value reaches logs, reprs, exceptions or URLs.

A whole three-shop order sync runs at DEBUG level against the sandbox, with faults on
(so retry, resync and error paths log), a token that expires mid-run, a
re-authorisation, a write that ends in OutcomeUnknown and a local ParamError. Between
the client and the sandbox sits a recording relay on loopback: it is the server side
of the wire, and it collects every request's URL, headers and the ``sign`` values
actually sent. Then every text the run produced is searched for every secret.
"""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from temu_async import TemuApp
from temu_async.errors import OutcomeUnknown, ParamError, TemuError
from temu_async.retry import RetryPolicy
from temu_async.sandbox import FaultSpec, ManualClock, Sandbox, SandboxConfig
from temu_async.sync import JsonlSink, OrderSync, OrderSyncOptions, summary_json, summary_text


@dataclass
class Relay:
    """Forwards each POST to the sandbox unchanged and records what it saw."""

    upstream: str
    urls: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    signs: list[str] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    url: str = ""
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/openapi/router", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/openapi/router"
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        self.urls.append(str(request.url))
        self.headers.append(repr(dict(request.headers)))
        try:
            body = json.loads(raw)
            self.signs.append(body["sign"])
            self.tokens.add(body["access_token"])
        except (ValueError, KeyError, TypeError):
            pass
        assert self._session is not None
        async with self._session.post(
            self.upstream, data=raw, headers={"Content-Type": "application/json"}
        ) as resp:
            data = await resp.read()
            headers = {k: v for k, v in resp.headers.items() if k in ("Date", "Content-Type")}
            return web.Response(status=resp.status, body=data, headers=headers)


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    config = SandboxConfig(seed=23, shops=3, orders=30, goods=2, clock=ManualClock())
    async with Sandbox(config) as sandbox:
        yield sandbox


@pytest.fixture
async def relay(sb: Sandbox) -> AsyncIterator[Relay]:
    r = Relay(sb.url)
    await r.start()
    yield r
    await r.stop()


CONFIRM_PARAMS = {
    "sendType": 0,
    "sendRequestList": [
        {
            "carrierId": 1,
            "trackingNumber": "TN1",
            "selfShippingWarehouseId": "WH1",
            "orderSendInfoList": [{"parentOrderSn": "PO-1", "orderSn": "O-1", "quantity": 1}],
        }
    ],
}


async def test_no_secret_reaches_logs_reprs_errors_or_urls(
    sb: Sandbox, relay: Relay, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger: ours, aiohttp's, asyncio's
    creds = sb.credentials.apps[0]
    texts: list[str] = []
    errors: list[BaseException] = []
    objects: list[Any] = []
    sb.faults.set_default(
        FaultSpec(
            error_rates={500: 0.1, 4000004: 0.1, 4000000: 0.05},
            malformed_json_rate=0.05,
            html_rate=0.05,
        )
    )
    sb.faults.clock_offset = -400.0  # one TimestampError and a resync
    policy = RetryPolicy(base_delay=0.005, max_delay=0.02, rate_limit_penalty=0.05, budget=None)
    path = tmp_path / "orders.jsonl"

    async def sync(app: TemuApp) -> None:
        fresh = sb.credentials.apps[0].shops  # after a re-authorisation: the new token
        shops = [app.shop(s.access_token, name=f"shop-{i}") for i, s in enumerate(fresh)]
        sink = JsonlSink(path)
        try:
            run = OrderSync(shops, sink, OrderSyncOptions(page_size=10))
            summary = await run.run()
        finally:
            sink.close()
        objects.extend([*shops, run, run.progress, run.progress.snapshot(), summary, sink])
        texts.extend([summary_text(summary), summary_json(summary), *summary.errors.values()])

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with TemuApp(
            creds.app_key, creds.app_secret, base_url=relay.url, retry=policy, max_wait=30
        ) as app:
            objects.extend([app, app.throttle, app.transport, app.retry])

            async def expire_soon() -> None:
                while sb.counters.received < 5:
                    await asyncio.sleep(0.001)
                sb.expire_token(creds.shops[2].access_token)

            trigger = asyncio.create_task(expire_soon())
            await sync(app)
            trigger.cancel()
            sb.faults.clear()  # the code exchange is a write: no faults for it
            info = await app.exchange_code(sb.issue_code(creds.shops[2].mall_id))
            objects.append(info)
            await sync(app)

            shop = app.shop(sb.credentials.apps[0].shops[0].access_token)
            sb.faults.set_for_type("bg.logistics.shipment.v2.confirm", drop_rate=1.0)
            for call in (
                shop.call("bg.logistics.shipment.v2.confirm", CONFIRM_PARAMS),
                shop.call("bg.order.list.v2.get", {"pageSize": 1000}),
                shop.call("bg.order.list.v2.get", {"accessToken": info.access_token}),
            ):
                try:
                    await call
                except TemuError as exc:
                    errors.append(exc)
        texts.extend(str(w.message) for w in caught)

    assert [type(e) for e in errors] == [OutcomeUnknown, ParamError, ParamError]
    assert any("TokenError" in t for t in texts), "the token expiry path did not run"
    for err in errors:
        texts += [str(err), repr(err), "".join(traceback.format_exception(err))]
        texts += [repr(v) for v in vars(err).values()]
        if err.__cause__ is not None:
            texts += [str(err.__cause__), repr(err.__cause__)]
    texts += [repr(o) for o in objects] + [str(o) for o in objects]
    texts += [record.getMessage() for record in caplog.records]
    texts += [
        "".join(traceback.format_exception(*r.exc_info)) for r in caplog.records if r.exc_info
    ]
    texts += relay.urls + relay.headers
    everything = "\n".join(texts)

    secrets = {creds.app_secret, *relay.tokens, *relay.signs}
    assert info.access_token in relay.tokens  # the new token was used, and is checked
    assert len(relay.signs) >= 25, "the run should have sent many signed requests"
    assert len(caplog.records) >= 10, "DEBUG logging should have captured the run"
    leaked = sorted(s for s in secrets if s in everything)
    assert not leaked, f"{len(leaked)} secret(s) leaked"
    assert all(url.endswith("/openapi/router") for url in relay.urls)
