"""``temu-async demo`` (``make demo``): a sandbox in its own process, two order syncs
and a price pull into SQLite, then where to look."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from temu_async.cli.flags import add_connection_flags
from temu_async.cli.progress import print_summary, with_progress
from temu_async.cli.settings import ConfigError
from temu_async.cli.values import finite, whole
from temu_async.client import TemuApp
from temu_async.sandbox.process import SandboxProcess
from temu_async.sync.orders import OrderSync
from temu_async.sync.prices import PricePull
from temu_async.sync.sqlite_store import SqliteStore


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="out", help="directory for demo.sqlite (default ./out)")
    p.add_argument("--shops", type=whole(1, 100), default=3)
    p.add_argument("--orders", type=whole(0), default=1500, help="orders per shop")
    p.add_argument("--latency-ms", type=finite(0), default=150.0)
    p.add_argument("--seed", type=int, default=7)
    add_connection_flags(p)


async def run(args: argparse.Namespace) -> int:
    out_dir = Path(args.out)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"--out {args.out}: cannot make it a directory ({exc.strerror})"
        ) from None
    db = out_dir / "demo.sqlite"
    for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        leftover.unlink(missing_ok=True)  # the sandbox is new each time: so is its copy
    print(
        f"starting the sandbox: {args.shops} shops x {args.orders:,} orders, "
        f"{args.latency_ms:.0f} ms latency, 20 requests/s per app ...",
        file=sys.stderr,
    )
    # Its own process, as a remote gateway would be: nothing it does delays our requests.
    with SandboxProcess(
        seed=args.seed,
        shops=args.shops,
        orders=args.orders,
        goods=24,
        latency_ms=args.latency_ms,
    ) as sb:
        info = sb.info
        print(f"sandbox at {info.url}", file=sys.stderr)
        async with TemuApp(
            info.app_key, info.app_secret, region="global", base_url=info.url
        ) as app:
            shops = [app.shop(s.token, name=f"mall-{s.mall_id}") for s in info.shops]
            with SqliteStore(db) as store:
                print("\n1) order sync, first run (30 days of history):", file=sys.stderr)
                sync = OrderSync(shops, store)
                first = await with_progress(args, sync.progress, sync.run)
                print_summary(args, first, sys.stdout)
                print("\n2) order sync again: incremental from the checkpoint:", file=sys.stderr)
                again = OrderSync(shops, store)
                second = await with_progress(args, again.progress, again.run)
                print_summary(args, second, sys.stdout)
                print("\n3) price pull (every SKU's supply price):", file=sys.stderr)
                pull = PricePull(shops, store)
                prices = await with_progress(args, pull.progress, pull.run)
                print_summary(args, prices, sys.stdout)
                stored = store.order_count()
        expected = sb.order_count()
        rejected = sb.counters()["rejections"].get("4000004", 0)
    print(
        f"\nSQLite file: {db.resolve()}\n"
        f"  {stored:,} orders stored (the sandbox holds {expected:,}); "
        f"gateway rate-limit rejections: {rejected}\n"
        f"  try: sqlite3 {db} 'SELECT shop, COUNT(*) FROM orders GROUP BY shop'"
    )
    ok = first.ok and second.ok and prices.ok
    return 0 if ok else 1
