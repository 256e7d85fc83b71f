"""Four processes, one app_key, one Redis: the shared budget holds across processes.

Each worker is ``test_redis_throttle_worker.py`` run as a script, with 25 concurrent
callers; all four start together and run for DURATION seconds. The gateway they all
hit runs in the test process and records when each request arrived, so what is
measured is what a gateway would count.

Two gateways: a tiny aiohttp server that answers like Temu and refuses (4000004) any
request over 20 in a 1-second window; and the sandbox, reached through ``TemuApp``
with ``throttle_backend=RedisWindow(...)``, half the calls on a type that has a
limit of its own (those reservations commit two keys at once).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from windows import max_in_window

WORKERS = 4
RATE = 20
DURATION = 5.3
WORKER = Path(__file__).resolve().with_name("test_redis_throttle_worker.py")


# --- the test process --------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _short_collector_pauses() -> Iterator[None]:
    """The gateways run in this (pytest) process, whose heap holds whatever earlier tests
    left behind: a full collection over all of it can stall the gateway's loop for longer
    than the clients' 25 ms margin, and the requests that arrived meanwhile are then
    counted together. That is the gateway's clock failing, not the budget. Freezing the
    heap that was there before the test keeps the collector's pauses short."""
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


async def run_workers(cfgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        for _ in cfgs
    ]
    try:
        for proc, cfg in zip(procs, cfgs, strict=True):
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps(cfg).encode() + b"\n")
            await proc.stdin.drain()
        for proc in procs:
            assert proc.stdout is not None
            assert (await asyncio.wait_for(proc.stdout.readline(), 30)).strip() == b"ready"
        for proc in procs:  # all start together
            assert proc.stdin is not None
            proc.stdin.write(f"go {DURATION}\n".encode())
            await proc.stdin.drain()
        summaries = []
        for proc in procs:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), DURATION + 30)
            summaries.append(json.loads(line))
            assert await asyncio.wait_for(proc.wait(), 10) == 0
        return summaries
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


class StrictGateway:
    """Answers like Temu, records arrivals, refuses anything over RATE per second."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self.rejected = 0
        self.by_worker: dict[int, int] = {}
        self._window: deque[float] = deque()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        body = await request.json()
        self.arrivals.append(now)
        worker = int(body["worker"])
        self.by_worker[worker] = self.by_worker.get(worker, 0) + 1
        while self._window and self._window[0] <= now - 1.0:
            self._window.popleft()
        if len(self._window) >= RATE:
            self.rejected += 1
            return web.json_response(
                {
                    "success": False,
                    "errorCode": 4000004,
                    "errorMsg": "RATE_LIMIT_EXCEED_EXCEPTION",
                    "requestId": f"r{len(self.arrivals)}",
                }
            )
        self._window.append(now)
        return web.json_response(
            {
                "success": True,
                "errorCode": 1000000,
                "errorMsg": "",
                "requestId": f"r{len(self.arrivals)}",
                "result": {},
            }
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/openapi/router", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/openapi/router"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    from redis_server import running_redis

    with running_redis() as srv:
        yield srv.url


def check_budget(arrivals: list[float]) -> None:
    arrivals = sorted(arrivals)
    span = arrivals[-1] - arrivals[0]
    assert span >= 5.0, f"ran for {span:.2f} s only"
    assert max_in_window(arrivals) <= RATE
    achieved = (len(arrivals) - 1) / span
    assert achieved >= 18, f"{achieved:.1f}/s"


@pytest.mark.slow
@pytest.mark.redis
async def test_four_processes_share_one_budget_on_a_strict_gateway(redis_url: str) -> None:
    gateway = StrictGateway()
    await gateway.start()
    try:
        cfgs = [
            {
                "mode": "raw",
                "worker": w,
                "redis_url": redis_url,
                "url": gateway.url,
                "app_key": "app-mp",
            }
            for w in range(WORKERS)
        ]
        summaries = await run_workers(cfgs)
    finally:
        await gateway.stop()
    assert gateway.rejected == 0
    assert all(s["errors"] == {} for s in summaries), summaries
    check_budget(gateway.arrivals)
    # Every process got a real share of the budget, not just one of them.
    total = len(gateway.arrivals)
    assert all(gateway.by_worker.get(w, 0) >= total / 10 for w in range(WORKERS))


@pytest.mark.slow
@pytest.mark.redis
async def test_four_temu_apps_share_one_budget_on_the_sandbox(redis_url: str) -> None:
    from sandbox_support import small_catalogue

    from temu_async.sandbox import Sandbox, SandboxConfig

    config = SandboxConfig(seed=5, orders=5, catalogue=small_catalogue(RATE), rate_limit=RATE)
    async with Sandbox(config) as sb:
        creds = sb.credentials
        cfgs = [
            {
                "mode": "app",
                "worker": w,
                "redis_url": redis_url,
                "url": sb.url,
                "app_key": creds.app_key,
                "app_secret": creds.app_secret,
                "tokens": [shop.access_token for shop in creds.shops],
            }
            for w in range(WORKERS)
        ]
        summaries = await run_workers(cfgs)
        arrivals = list(sb.counters.arrivals[creds.app_key])
        rejections = dict(sb.counters.rejections)
        executed = dict(sb.counters.requests_by_type)
    assert rejections == {}
    assert all(s["errors"] == {} for s in summaries), summaries
    assert executed.get("bg.local.goods.priceorder.query", 0) > 0  # two limits per call
    check_budget(arrivals)
