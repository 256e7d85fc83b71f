"""The worker process of ``test_redis_throttle_multiprocess.py`` (holds no tests).

Run as ``python tests/test_redis_throttle_worker.py``: reads its settings as one JSON
line on stdin, builds everything, prints ``ready``, starts on ``go <seconds>``, runs
25 concurrent callers until the time is up, and prints a JSON summary. It does not
import pytest, so four of them start quickly.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

RATE = 20
TASKS = 25

Starter = Callable[[], Awaitable[asyncio.Event]]


async def _raw_worker(cfg: dict[str, Any], started: Starter) -> dict[str, Any]:
    from temu_async.redis_throttle import RedisWindow
    from temu_async.throttle import Limit, Throttle

    throttle = Throttle(RedisWindow(cfg["redis_url"]))
    limits = [Limit(cfg["app_key"], RATE)]
    summary: dict[str, Any] = {"ok": 0, "errors": {}}

    async with aiohttp.ClientSession() as session:

        async def caller(n: int) -> None:
            while True:
                await throttle.acquire(limits, f"shop{n % 5}")
                body = {"type": "bg.test", "app_key": cfg["app_key"], "worker": cfg["worker"]}
                async with session.post(cfg["url"], json=body) as resp:
                    answer = await resp.json()
                if answer["success"]:
                    summary["ok"] += 1
                else:
                    code = str(answer["errorCode"])
                    summary["errors"][code] = summary["errors"].get(code, 0) + 1

        await _run_until(await started(), [caller(n) for n in range(TASKS)])
    await throttle.close()
    return summary


async def _app_worker(cfg: dict[str, Any], started: Starter) -> dict[str, Any]:
    from sandbox_support import small_catalogue

    from temu_async.client import TemuApp
    from temu_async.errors import TemuError
    from temu_async.redis_throttle import RedisWindow
    from temu_async.retry import RetryPolicy

    summary: dict[str, Any] = {"ok": 0, "errors": {}}
    app = TemuApp(
        cfg["app_key"],
        cfg["app_secret"],
        base_url=cfg["url"],
        catalogue=small_catalogue(RATE),
        throttle_backend=RedisWindow(cfg["redis_url"]),
        retry=RetryPolicy(max_retries=0),  # a rejection must show, not be retried away
    )
    shops = [app.shop(token) for token in cfg["tokens"]]
    calls = [
        ("bg.open.accesstoken.info.get", {}),
        ("bg.local.goods.priceorder.query", {"page": 1, "size": 10}),  # its own 30/s too
    ]

    async def caller(n: int) -> None:
        shop = shops[n % len(shops)]
        i = n
        while True:
            type_name, params = calls[i % len(calls)]
            i += 1
            try:
                await shop.call(type_name, params)
                summary["ok"] += 1
            except TemuError as exc:
                key = f"{type(exc).__name__} {exc.code}"
                summary["errors"][key] = summary["errors"].get(key, 0) + 1

    async with app:
        await _run_until(await started(), [caller(n) for n in range(TASKS)])
    return summary


async def _run_until(stop: asyncio.Event, callers: list[Any]) -> None:
    tasks = [asyncio.ensure_future(c) for c in callers]
    await stop.wait()
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            raise result


async def _worker_main() -> None:
    loop = asyncio.get_running_loop()
    cfg = json.loads(await loop.run_in_executor(None, sys.stdin.readline))

    async def started() -> asyncio.Event:
        """Say ready (everything imported and built), wait for go, return the stop event."""
        stop = asyncio.Event()
        print("ready", flush=True)
        line = await loop.run_in_executor(None, sys.stdin.readline)
        loop.call_later(float(line.split()[1]), stop.set)
        return stop

    run = _app_worker if cfg["mode"] == "app" else _raw_worker
    summary = await run(cfg, started)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    asyncio.run(_worker_main())
