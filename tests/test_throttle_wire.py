"""Rate slots counted at the wire: a real client against a real loopback gateway.

The first connection of the app is slow to open (its name takes over a second to
resolve, as a cold DNS cache or a slow handshake would). Requests admitted after it
go out on other connections meanwhile; when the slow one finally leaves, the gateway
must still never see more than the limit in any second: with the in-process window
and with the Redis one alike.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from redis_server import RedisServer, running_redis
from tiny_gateway import TinyGateway
from windows import max_in_window

from temu_async import TemuApp
from temu_async.throttle import RateBackend

RATE = 5


class SlowFirstLookup(AbstractResolver):
    """Resolves every name to 127.0.0.1; the first lookup takes ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lookups = 0

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups += 1
        if self.lookups == 1:
            await asyncio.sleep(self.delay)
        return [
            {
                "hostname": host,
                "host": "127.0.0.1",
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


@pytest.fixture(params=["local", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest) -> RateBackend | None:
    if request.param == "local":
        return None  # the app's default LocalWindow
    from temu_async.redis_throttle import RedisWindow

    server: RedisServer = request.getfixturevalue("redis")
    return RedisWindow(server.url, prefix=f"wire-{id(request)}")


@pytest.mark.slow
async def test_a_slow_connection_set_up_does_not_bunch_requests_at_the_gateway(
    gateway: TinyGateway, backend: RateBackend | None
) -> None:
    port = gateway.url.split(":")[2].split("/")[0]
    resolver = SlowFirstLookup(delay=1.3)
    connector = aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        app = TemuApp(
            gateway.app_key,
            gateway.app_secret,
            base_url=f"http://gateway.test:{port}/openapi/router",
            rate_limit=RATE,
            session=session,
            throttle_backend=backend,
        )
        shop = app.shop("token-wire")
        results: list[Any] = await asyncio.gather(
            *(shop.call("bg.local.echo", {}) for _ in range(3 * RATE))
        )
        await app.close()
    assert results == [{"echo": "bg.local.echo"}] * (3 * RATE)
    assert resolver.lookups >= 2  # the others did not wait for the slow connection
    assert len(gateway.arrivals) == 3 * RATE
    # Counted at its grant, the slow request would land in a second that already holds
    # the RATE requests paced after it.
    assert max_in_window(gateway.arrivals) <= RATE


@pytest.mark.slow
async def test_a_slot_handed_over_early_is_written_only_when_due(gateway: TinyGateway) -> None:
    # The throttle hands each slot over `lead` before it is due (here most of the pace
    # interval of 0.51 s), so that the request is built and connected in time; its bytes
    # must still wait for the slot.
    async with TemuApp(
        gateway.app_key, gateway.app_secret, base_url=gateway.url, rate_limit=2
    ) as app:
        app.throttle.lead = 0.4
        shop = app.shop("token-lead")
        await asyncio.gather(*(shop.call("bg.local.echo", {}) for _ in range(5)))
    assert len(gateway.arrivals) == 5
    assert max_in_window(gateway.arrivals) <= 2
    assert max_in_window(gateway.arrivals, 0.45) <= 1  # paced 0.51 s apart, not 0.11


async def test_a_queued_call_holds_one_coroutine_of_ours(gateway: TinyGateway) -> None:
    # At hundreds of apps per process thousands of calls wait for their slots, and every
    # object a waiting call holds is walked by each full collection. A waiting call is
    # the pipeline's one coroutine: no async wrapper per layer (shop, app, throttle).
    import gc
    import os

    import temu_async

    package = os.path.dirname(os.path.abspath(temu_async.__file__))

    def our_coroutines() -> list[Any]:
        return [
            o
            for o in gc.get_objects()
            if type(o).__name__ == "coroutine" and o.cr_code.co_filename.startswith(package)
        ]

    # Coroutines left by earlier tests (say a Redis script call cut off when its loop
    # closed) are not this test's business: count only those born during it.
    gc.collect()
    before = {id(o) for o in our_coroutines()}
    async with TemuApp(
        gateway.app_key, gateway.app_secret, base_url=gateway.url, rate_limit=1
    ) as app:
        shop = app.shop("token-queued")
        calls = [asyncio.ensure_future(shop.call("bg.local.echo", {})) for _ in range(30)]
        await asyncio.sleep(0.2)  # the first went out; the others wait for slots
        ours = [o.cr_code.co_qualname for o in our_coroutines() if id(o) not in before]
        waiting = sum(1 for c in calls if not c.done())
        for c in calls:
            c.cancel()
        await asyncio.gather(*calls, return_exceptions=True)
    assert waiting >= 25
    # The throttle's dispatcher task is the one coroutine that is not a call's.
    assert sorted(set(ours)) == ["Pipeline._run", "Throttle._dispatch", "Throttle._serve"]
    assert ours.count("Pipeline._run") == len(calls)  # one per call, waiting or done
