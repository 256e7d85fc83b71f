"""Throughput at the rate limit: 10 shops of one app, 20 requests/s, 150 ms per answer.

The sandbox (its own process, ``temu_async.sandbox.process``) counts per app_key in a strict
1-second sliding window and answers 4000004 beyond it, as PROTOCOL.md says the gateway
does. Each case keeps 4 calls per shop in flight (40 in all) for ``--duration`` seconds
and reports the successful calls per second as a share of the limit, plus what the
sandbox saw: rejections and the most requests it admitted in any 1-second window.

* temu-async: one ``TemuApp(rate_limit=20)``, ten ``app.shop(...)``, the generated
  ``shop.logistics.companies(region_id=211)``; its throttle is a strict sliding window shared by all
  shops, served round robin.
* aiolimiter, naively: one ``AsyncLimiter(20, 1)`` in front of the reference client
  (``reference_client.py``). Its bucket starts full and refills continuously, so it lets
  a burst through at the start and drifts over the window edge later; each refusal is
  a call lost (the reference client does not retry).
* sequential: the reference client, one call at a time over the ten shops.

Run: ``.venv/bin/python bench/throughput_bench.py [--duration 60] [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiolimiter import AsyncLimiter
from bench_sandbox import SandboxInfo, bench_sandbox
from reference_client import GatewayRefusal, ReferenceClient

from temu_async import TemuApp
from temu_async.errors import TemuError

LIMIT = 20
SHOPS = 10
LATENCY_MS = 150.0
IN_FLIGHT_PER_SHOP = 4
TYPE = "bg.logistics.companies.get"
REGION_ID = 211
CASES = ("temu-async", "aiolimiter (naive)", "sequential")


@dataclass
class CaseResult:
    case: str
    duration: float
    ok: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    """Client-side failures by kind (an error code or exception name)."""
    rejections: dict[str, int] = field(default_factory=dict)
    """Sandbox: error answers by code."""
    received: int = 0
    max_in_window: int = 0
    """The most requests the sandbox admitted in any 1 s (never above the limit)."""
    max_sent_in_window: int = 0
    """The most requests that arrived at the sandbox in any 1 s, refused ones included."""

    @property
    def rate(self) -> float:
        return self.ok / self.duration

    @property
    def share(self) -> float:
        return self.rate / LIMIT

    @property
    def rate_limited(self) -> int:
        return self.rejections.get("4000004", 0)


async def _drive(
    workers: Sequence[Callable[[], Awaitable[Any]]], duration: float, result: CaseResult
) -> None:
    """Run every worker in a loop until ``duration`` is up; count what succeeded by then."""

    async def loop(call: Callable[[], Awaitable[Any]]) -> None:
        while True:
            try:
                await call()
            except (TemuError, GatewayRefusal) as exc:
                kind = str(getattr(exc, "code", None) or type(exc).__name__)
                result.errors[kind] = result.errors.get(kind, 0) + 1
                result.failed += 1
            else:
                result.ok += 1

    tasks = [asyncio.create_task(loop(w)) for w in workers]
    await asyncio.sleep(duration)
    # Whatever is still in flight at the deadline is not counted.
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _temu_async(info: SandboxInfo, duration: float, result: CaseResult) -> None:
    async with TemuApp(
        info.app_key, info.app_secret, region="us", base_url=info.url, rate_limit=LIMIT
    ) as app:
        shops = [app.shop(s.token, name=f"shop-{i}") for i, s in enumerate(info.shops)]
        workers = [
            functools.partial(shop.logistics.companies, region_id=REGION_ID)
            for shop in shops
            for _ in range(IN_FLIGHT_PER_SHOP)
        ]
        await _drive(workers, duration, result)


async def _aiolimiter(info: SandboxInfo, duration: float, result: CaseResult) -> None:
    limiter = AsyncLimiter(LIMIT, 1)
    async with ReferenceClient(info.url, info.app_key, info.app_secret) as client:

        def worker(token: str) -> Callable[[], Awaitable[Any]]:
            async def call() -> Any:
                async with limiter:
                    return await client.call(TYPE, token, {"regionId": REGION_ID})

            return call

        workers = [worker(s.token) for s in info.shops for _ in range(IN_FLIGHT_PER_SHOP)]
        await _drive(workers, duration, result)


async def _sequential(info: SandboxInfo, duration: float, result: CaseResult) -> None:
    async with ReferenceClient(info.url, info.app_key, info.app_secret) as client:
        tokens = [s.token for s in info.shops]
        turn = 0

        async def call() -> Any:
            nonlocal turn
            token = tokens[turn % len(tokens)]
            turn += 1
            return await client.call(TYPE, token, {"regionId": REGION_ID})

        await _drive([call], duration, result)


RUNNERS = {"temu-async": _temu_async, "aiolimiter (naive)": _aiolimiter, "sequential": _sequential}


def measure(duration: float, cases: tuple[str, ...] = CASES) -> list[CaseResult]:
    results = []
    with bench_sandbox(shops=SHOPS, orders=20, rate_limit=LIMIT, latency_ms=LATENCY_MS) as sandbox:
        for case in cases:
            time.sleep(1.1)  # nothing of the last case left in any window
            sandbox.reset(rate_limit=LIMIT)
            result = CaseResult(case, duration)
            asyncio.run(RUNNERS[case](sandbox.info, duration, result))
            seen = sandbox.counters()
            result.rejections = seen["rejections"]
            result.received = seen["received"]
            result.max_in_window = seen["max_in_window"]
            result.max_sent_in_window = seen["max_arrivals_in_window"]
            results.append(result)
    return results


def print_results(results: list[CaseResult]) -> None:
    if not results:
        return
    d = results[0].duration
    print(
        f"throughput at the limit: {SHOPS} shops, one app, {LIMIT}/s, {LATENCY_MS:.0f} ms latency, "
        f"{d:.0f} s, {IN_FLIGHT_PER_SHOP * SHOPS} calls in flight"
    )
    print(
        f"  {'':<20} {'ok/s':>7} {'÷ limit':>8} {'4000004':>8} {'sent':>7} {'max sent in 1 s':>16}"
    )
    for r in results:
        print(
            f"  {r.case:<20} {r.rate:7.2f} {r.share:8.3f} {r.rate_limited:8d} "
            f"{r.received:7d} {r.max_sent_in_window:16d}"
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per case")
    parser.add_argument("--quick", action="store_true", help="15 s per case")
    args = parser.parse_args()
    print_results(measure(15.0 if args.quick else args.duration))
    return 0


if __name__ == "__main__":
    sys.exit(main())
