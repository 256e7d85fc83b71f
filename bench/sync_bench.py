"""Order sync at the rate limit: how close does a many-shop sync get to requests ÷ rate?

10 shops under one app, a 20/s limit, 150 ms latency, 10,000+ orders. The sandbox
runs in a child process (as a remote gateway would: its CPU does not compete with
the client's event loop) and reports its own counters at the end. Prints orders,
requests, wall seconds, the floor (requests ÷ rate), their ratio, and the gateway's
rate-limit rejections. Target: ratio <= 1.05 with 0 rejections.

    .venv/bin/python bench/sync_bench.py [--shops 10] [--orders 1100] [--rate 20] [--latency-ms 150]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from temu_async import LocalWindow, TemuApp
from temu_async.sandbox import FaultSpec, Sandbox, SandboxConfig
from temu_async.sync import OrderSync, OrderSyncOptions, SqliteStore


def _config(args: argparse.Namespace) -> SandboxConfig:
    return SandboxConfig(
        seed=args.seed,
        shops=args.shops,
        orders=args.orders,
        goods=12,
        rate_limit=args.rate,
        faults=FaultSpec(latency_ms=args.latency_ms),
        order_arrival_per_hour=0,  # a fixed set of orders to compare against
    )


async def _serve(args: argparse.Namespace) -> None:
    """Child side: run the sandbox until stdin says stop, then report counters."""
    async with Sandbox(_config(args)) as sb:
        creds = sb.credentials
        if args.freeze:
            gc.freeze()
        hello = {
            "url": sb.url,
            "app_key": creds.app_key,
            "app_secret": creds.app_secret,
            "shops": [{"mall_id": s.mall_id, "token": s.access_token} for s in creds.shops],
        }
        print(json.dumps(hello), flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.readline)
        key = creds.app_key
        report = {
            "received": sb.counters.received,
            "rejections": {str(k): v for k, v in sb.counters.rejections.items()},
            "max_in_window": sb.max_in_window(key),
            "orders": {str(m): len(shop.by_sn) for m, shop in sb.world.orders.shops.items()},
        }
        print(json.dumps(report), flush=True)


def _backend(args: argparse.Namespace) -> LocalWindow | None:
    return None if args.margin is None else LocalWindow(margin=args.margin)


async def _run(args: argparse.Namespace, hello: dict[str, Any], db: Path) -> dict[str, Any]:
    async with TemuApp(
        hello["app_key"],
        hello["app_secret"],
        region="global",
        base_url=hello["url"],
        rate_limit=args.rate,
        throttle_backend=_backend(args),
    ) as app:
        shops = [app.shop(s["token"], name=f"mall-{s['mall_id']}") for s in hello["shops"]]
        with SqliteStore(db) as store:
            sync = OrderSync(shops, store, OrderSyncOptions(concurrency=args.concurrency))
            started = time.perf_counter()
            summary = await sync.run()
            wall = time.perf_counter() - started
            stored = {s.name: store.order_count(s.name) for s in shops}
        return {"summary": summary, "wall": wall, "stored": stored}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shops", type=int, default=10)
    parser.add_argument("--orders", type=int, default=1100, help="orders per shop")
    parser.add_argument("--rate", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight per shop")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--margin", type=float, default=None, help="LocalWindow margin (default: the client's)"
    )
    parser.add_argument("--freeze", action="store_true", help="diagnostic: gc.freeze() the sandbox")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args))
        return

    child_args = [
        sys.executable,
        __file__,
        "--serve",
        "--shops",
        str(args.shops),
        "--orders",
        str(args.orders),
        "--rate",
        str(args.rate),
        "--latency-ms",
        str(args.latency_ms),
        "--seed",
        str(args.seed),
    ]
    with (
        subprocess.Popen(
            child_args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        ) as child,
        tempfile.TemporaryDirectory() as tmp,
    ):
        assert child.stdin is not None and child.stdout is not None
        hello = json.loads(child.stdout.readline())
        result = asyncio.run(_run(args, hello, Path(tmp) / "bench.sqlite"))
        child.stdin.write("stop\n")
        child.stdin.flush()
        counters = json.loads(child.stdout.readline())

    summary = result["summary"]
    expected = sum(counters["orders"].values())
    stored = sum(result["stored"].values())
    requests = counters["received"]
    floor = requests / args.rate
    rejections = counters["rejections"].get("4000004", 0)
    print(
        f"shops            {args.shops} under one app, limit {args.rate}/s, "
        f"latency {args.latency_ms:.0f} ms"
    )
    print(f"orders           {stored:,} stored of {expected:,} in the sandbox")
    print(
        f"requests         {requests:,} received by the gateway "
        f"({summary.requests:,} sent by the client, {summary.retries} retries)"
    )
    print(f"wall seconds     {result['wall']:.2f}")
    print(f"floor seconds    {floor:.2f} (requests ÷ rate)")
    print(f"ratio            {result['wall'] / floor:.3f} (target <= 1.05)")
    useful = (requests - rejections) / args.rate
    print(
        f"ratio (useful)   {result['wall'] / useful:.3f} "
        f"(against {useful:.2f} s: the floor without the rejected requests)"
    )
    print(
        f"rejections       {rejections} rate-limit (4000004); all errors: {counters['rejections']}"
    )
    print(f"max in 1 s       {counters['max_in_window']} admitted in any 1-second window")
    print(f"throttle wait    {summary.throttle_wait:.1f} s summed over callers")
    if stored != expected or summary.errors:
        print(f"MISMATCH or errors: {summary.errors}")
        sys.exit(1)


if __name__ == "__main__":
    main()
