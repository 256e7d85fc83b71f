"""Peak memory of the client while the order sync streams 100,000 orders into SQLite.

The sandbox (``temu_async.sandbox.process``) holds 10 shops x 10,000 orders, answers at once and
allows 1,000,000 requests/s, so the sync runs as fast as the client can go. The client
is a fresh interpreter of its own (this file with ``--client``): it imports, opens one
``TemuApp`` and ``SqliteStore``, notes its peak RSS (``resource.getrusage``, the
baseline), runs ``OrderSync(...).run()`` over all shops, and notes the peak again. The
difference is what the sync itself needed while the pages streamed through: a client
that kept every order in memory would grow with the order count.

Run: ``.venv/bin/python bench/memory_bench.py [--orders-per-shop 10000] [--shops 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_sandbox import bench_sandbox

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class MemoryResult:
    orders: int
    """Orders the sandbox holds."""
    stored: int
    """Orders the sync stored."""
    requests: int
    wall_s: float
    baseline_mib: float
    """Peak RSS after imports and setup, before the sync."""
    peak_mib: float
    """Peak RSS of the client process over the whole run."""

    @property
    def growth_mib(self) -> float:
        return self.peak_mib - self.baseline_mib


def _peak_mib() -> float:
    # VmHWM, this process's own high-water mark: ru_maxrss survives exec on Linux, so a
    # client started from a big parent (make bench) would report the parent's peak.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def _client(hello: dict[str, Any], db: Path) -> dict[str, Any]:
    from temu_async import TemuApp
    from temu_async.sync import OrderSync, OrderSyncOptions, SqliteStore

    async with TemuApp(
        hello["app_key"],
        hello["app_secret"],
        region="us",
        base_url=hello["url"],
        rate_limit=1_000_000,
    ) as app:
        shops = [app.shop(s["token"], name=f"mall-{s['mall_id']}") for s in hello["shops"]]
        with SqliteStore(db) as store:
            sync = OrderSync(shops, store, OrderSyncOptions(concurrency=4))
            baseline = _peak_mib()
            started = time.perf_counter()
            summary = await sync.run()
            wall = time.perf_counter() - started
            stored = store.order_count()
    if summary.errors:
        raise RuntimeError(f"the sync failed: {summary.errors}")
    return {
        "stored": stored,
        "requests": summary.requests,
        "wall_s": wall,
        "baseline_mib": baseline,
        "peak_mib": _peak_mib(),
    }


def _client_main() -> int:
    hello = json.loads(sys.stdin.readline())
    with tempfile.TemporaryDirectory(prefix="memory-bench-") as tmp:
        out = asyncio.run(_client(hello, Path(tmp) / "orders.sqlite"))
    print(json.dumps(out))
    return 0


def measure(shops: int = 10, orders_per_shop: int = 10_000) -> MemoryResult:
    # 20 days of history: all inside the sync's default 30-day first reach.
    with bench_sandbox(shops=shops, orders=orders_per_shop, history_days=20.0, seed=3) as sandbox:
        info = sandbox.info
        hello = {
            "url": info.url,
            "app_key": info.app_key,
            "app_secret": info.app_secret,
            "shops": [{"mall_id": s.mall_id, "token": s.token} for s in info.shops],
        }
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--client"],
            cwd=ROOT,
            input=json.dumps(hello) + "\n",
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"memory bench client failed:\n{proc.stderr.strip()[-2000:]}")
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        return MemoryResult(orders=info.orders, **out)


def print_result(r: MemoryResult) -> None:
    print(
        f"order sync, {r.stored:,} of {r.orders:,} orders into SQLite in {r.wall_s:.1f} s "
        f"({r.requests:,} requests): peak RSS {r.peak_mib:.0f} MiB "
        f"(baseline {r.baseline_mib:.0f} MiB, +{r.growth_mib:.0f} MiB during the sync)"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shops", type=int, default=10)
    parser.add_argument("--orders-per-shop", type=int, default=10_000)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        return _client_main()
    print_result(measure(args.shops, args.orders_per_shop))
    return 0


if __name__ == "__main__":
    sys.exit(main())
