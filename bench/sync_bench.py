"""Order sync at the rate limit: how close does a many-shop sync get to requests ÷ rate?

10 shops under one app, a 20/s limit, 150 ms latency, 11,000 orders. The sandbox runs
in a child process (as a remote gateway would: its CPU does not compete with the
client's event loop) and reports its own counters at the end. Prints orders, requests,
wall seconds, the floor (requests ÷ rate), their ratio, and the gateway's rate-limit
rejections. Target: ratio <= 1.05 with 0 rejections.

    .venv/bin/python bench/sync_bench.py [--shops 10] [--orders 1100] [--rate 20] [--latency-ms 150]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench_sandbox import SandboxInfo, bench_sandbox

from temu_async import LocalWindow, TemuApp
from temu_async.sync import OrderSync, OrderSyncOptions, SqliteStore
from temu_async.sync.progress import SyncSummary


@dataclass(frozen=True)
class SyncResult:
    shops: int
    rate: int
    latency_ms: float
    expected: int
    """Orders the sandbox holds."""
    stored: int
    requests: int
    """Requests the sandbox received (refused ones included)."""
    sent: int
    """Requests the client sent (its own count)."""
    retries: int
    wall_s: float
    rejections: int
    """4000004 answers."""
    max_in_window: int
    """The most requests the sandbox admitted in any 1-second window."""
    throttle_wait_s: float
    errors: tuple[str, ...]

    @property
    def floor_s(self) -> float:
        return self.requests / self.rate

    @property
    def ratio(self) -> float:
        return self.wall_s / self.floor_s


async def _sync(
    info: SandboxInfo, rate: int, concurrency: int, margin: float | None, db: Path
) -> tuple[SyncSummary, float, int]:
    backend = None if margin is None else LocalWindow(margin=margin)
    async with TemuApp(
        info.app_key,
        info.app_secret,
        region="global",
        base_url=info.url,
        rate_limit=rate,
        throttle_backend=backend,
    ) as app:
        shops = [app.shop(s.token, name=f"mall-{s.mall_id}") for s in info.shops]
        with SqliteStore(db) as store:
            sync = OrderSync(shops, store, OrderSyncOptions(concurrency=concurrency))
            started = time.perf_counter()
            summary = await sync.run()
            wall = time.perf_counter() - started
            stored = store.order_count()
    return summary, wall, stored


def measure(
    *,
    shops: int = 10,
    orders: int = 1100,
    rate: int = 20,
    latency_ms: float = 150.0,
    concurrency: int = 4,
    seed: int = 11,
    margin: float | None = None,
) -> SyncResult:
    with (
        bench_sandbox(
            seed=seed,
            shops=shops,
            orders=orders,
            goods=12,
            rate_limit=rate,
            type_limits_enabled=True,
            latency_ms=latency_ms,
        ) as sandbox,
        tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp,
    ):
        summary, wall, stored = asyncio.run(
            _sync(sandbox.info, rate, concurrency, margin, Path(tmp) / "orders.sqlite")
        )
        counters = sandbox.counters()
        expected = sandbox.order_count()
    return SyncResult(
        shops=shops,
        rate=rate,
        latency_ms=latency_ms,
        expected=expected,
        stored=stored,
        requests=counters["received"],
        sent=summary.requests,
        retries=summary.retries,
        wall_s=wall,
        rejections=counters["rejections"].get("4000004", 0),
        max_in_window=counters["max_in_window"],
        throttle_wait_s=summary.throttle_wait,
        errors=tuple(f"{shop}: {why}" for shop, why in summary.errors.items()),
    )


def print_result(r: SyncResult) -> None:
    print(
        f"shops            {r.shops} under one app, limit {r.rate}/s, latency {r.latency_ms:.0f} ms"
    )
    print(f"orders           {r.stored:,} stored of {r.expected:,} in the sandbox")
    print(
        f"requests         {r.requests:,} received by the gateway "
        f"({r.sent:,} sent by the client, {r.retries} retries)"
    )
    print(f"wall seconds     {r.wall_s:.2f}")
    print(f"floor seconds    {r.floor_s:.2f} (requests ÷ rate)")
    print(f"ratio            {r.ratio:.3f} (target <= 1.05)")
    print(f"rejections       {r.rejections} rate-limit (4000004)")
    print(f"max in 1 s       {r.max_in_window} admitted in any 1-second window")
    print(f"throttle wait    {r.throttle_wait_s:.1f} s summed over callers")


def main() -> int:
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
    args = parser.parse_args()
    r = measure(
        shops=args.shops,
        orders=args.orders,
        rate=args.rate,
        latency_ms=args.latency_ms,
        concurrency=args.concurrency,
        seed=args.seed,
        margin=args.margin,
    )
    print_result(r)
    if r.stored != r.expected or r.errors:
        print(f"MISMATCH or errors: {r.errors}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
