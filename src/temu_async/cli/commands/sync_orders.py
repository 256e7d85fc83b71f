"""``temu-async sync orders``: incremental order sync into SQLite, PostgreSQL or JSON Lines.

With ``--db postgresql://…`` the same command runs as one of several workers: started in
several processes or on several hosts, they split the shops between them through leases
in the database (:class:`~temu_async.sync.leases.LeasedOrderSync`); ``--redis`` shares the
app's rate budget between them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from temu_async.cli.connect import make_app, pick_shops
from temu_async.cli.flags import add_connection_flags, add_store_flags, add_token_env_flags
from temu_async.cli.progress import print_summary, with_progress
from temu_async.cli.settings import ConfigError, load_settings
from temu_async.cli.stores import is_postgres_url, open_postgres
from temu_async.cli.values import finite, whole
from temu_async.sync.jsonl_sink import JsonlSink
from temu_async.sync.orders import DAY, OrderSync, OrderSyncOptions
from temu_async.sync.records import OrderSink
from temu_async.sync.sqlite_store import SqliteStore

if TYPE_CHECKING:
    from temu_async.client import ShopClient


def add_arguments(o: argparse.ArgumentParser) -> None:
    add_store_flags(o)
    o.add_argument("--jsonl", metavar="FILE", help="write JSON Lines instead of SQLite")
    o.add_argument(
        "--since-days", type=finite(0, above=True), default=30.0, help="first run reaches back (30)"
    )
    o.add_argument("--overlap", type=whole(0), default=600, help="seconds re-walked (600)")
    o.add_argument("--page-size", type=whole(1, 100), default=100)
    o.add_argument("--concurrency", type=whole(1), default=4, help="requests in flight per shop")
    o.add_argument("--detail", action="store_true", help="add bg.order.detail.v2.get per order")
    o.add_argument(
        "--shipping", action="store_true", help="add bg.order.shippinginfo.v2.get per order"
    )
    w = o.add_argument_group("workers (with --db postgresql://…)")
    w.add_argument("--worker-id", metavar="ID", help="this worker's name (default host:pid:…)")
    w.add_argument(
        "--lease",
        type=finite(0, above=True),
        default=30.0,
        metavar="S",
        help="seconds a shop lease lasts (30)",
    )
    add_token_env_flags(o)
    add_connection_flags(o)


def _order_options(args: argparse.Namespace) -> OrderSyncOptions:
    try:
        return OrderSyncOptions(
            since=int(args.since_days * DAY),
            overlap=args.overlap,
            page_size=args.page_size,
            concurrency=args.concurrency,
            detail=args.detail,
            shipping=args.shipping,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _jsonl(path: str) -> JsonlSink:
    if Path(path).is_dir():
        raise ConfigError(f"--jsonl {path}: is a directory; give a file path")
    try:
        return JsonlSink(path)
    except OSError as exc:
        raise ConfigError(f"--jsonl {path}: cannot use it ({exc.strerror})") from None
    except ValueError as exc:  # a file not written by a sink, or a damaged one
        raise ConfigError(f"--jsonl {exc}") from None


async def run(args: argparse.Namespace) -> int:
    s = load_settings(args)
    options = _order_options(args)
    async with make_app(s, args) as app:
        shops = pick_shops(app, s, args.shop)
        sink: OrderSink
        if is_postgres_url(args.db) and not args.jsonl:
            return await _run_worker(args, shops, options)
        if args.jsonl:
            sink = _jsonl(args.jsonl)
            where = f"JSONL {args.jsonl}"
        else:
            sink = SqliteStore(args.db, lock_wait=args.lock_wait)
            where = f"SQLite {args.db}"
        try:
            sync = OrderSync(shops, sink, options)
            summary = await with_progress(args, sync.progress, sync.run)
        finally:
            sink.close()
    print_summary(args, summary, sys.stdout)
    if args.log_format != "json":
        print(f"orders in {where}")
    return 0 if summary.ok else 1


async def _run_worker(
    args: argparse.Namespace, shops: list[ShopClient], options: OrderSyncOptions
) -> int:
    from temu_async.sync.leases import LeasedOrderSync

    store = open_postgres(args.db)
    try:
        worker = LeasedOrderSync(shops, store, options, worker_id=args.worker_id, lease=args.lease)
    except ValueError as exc:
        store.close()
        raise ConfigError(str(exc)) from None
    try:
        summary = await with_progress(args, worker.progress, worker.run)
    finally:
        store.close()
    print_summary(args, summary, sys.stdout)
    if args.log_format != "json":
        synced = ", ".join(worker.synced) or "none (other workers had them)"
        print(f"orders in PostgreSQL; worker {worker.worker_id} synced: {synced}")
    return 0 if summary.ok else 1
