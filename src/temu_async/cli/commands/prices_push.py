"""``temu-async sync prices push FILE.csv``: send the prices that changed, report per row.

The report is written row by row as the push goes (a killed push leaves the rows it
finished). Earlier writes whose outcome was never known are read back first.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TextIO

from temu_async.cli.connect import make_app, pick_shops
from temu_async.cli.flags import DEFAULT_DB, add_connection_flags, add_lock_wait_flag
from temu_async.cli.settings import ConfigError, load_settings
from temu_async.cli.stores import is_postgres_url, open_store
from temu_async.sync.price_csv import read_price_csv
from temu_async.sync.price_push import ROW_FAILED, ROW_UNKNOWN, push_prices, report_counts
from temu_async.sync.push_report import PushReport


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("csv", help="CSV with goodsId, skuId, price [, currency] [, shop]")
    p.add_argument(
        "--db",
        default=DEFAULT_DB,
        help="where pulled prices are: a SQLite file or a postgresql://… URL (several workers "
        "may then push the same CSV: each shop is pushed once, under a lease)",
    )
    p.add_argument("--worker-id", metavar="ID", help="with PostgreSQL: this worker's name")
    add_lock_wait_flag(p)
    p.add_argument("--dry-run", action="store_true", help="show what would change, send none")
    p.add_argument("--report", metavar="FILE", help="per-row results (default: stdout)")
    p.add_argument("--report-format", choices=("csv", "json"), help="json: JSON Lines")
    p.add_argument("--shop-name", metavar="NAME", help="shop for rows without a shop column")
    p.add_argument("--token-env", metavar="VAR", help="one shop, token in $VAR")
    add_connection_flags(p)


def _open_report(path: str | None) -> contextlib.AbstractContextManager[TextIO]:
    if path is None:
        return contextlib.nullcontext(sys.stdout)
    try:
        return open(path, "w", newline="", encoding="utf-8")
    except IsADirectoryError:
        raise ConfigError(f"--report {path}: is a directory; give a file path") from None
    except OSError as exc:
        raise ConfigError(f"--report {path}: cannot write it ({exc.strerror})") from None


async def run(args: argparse.Namespace) -> int:
    s = load_settings(args)
    names = [n for n, _ in s.shops]
    default_shop = args.shop_name
    if default_shop is None and len(s.shops) == 1:
        default_shop = names[0]
    json_names = (".json", ".jsonl")
    fmt = args.report_format or ("json" if str(args.report or "").endswith(json_names) else "csv")
    async with make_app(s, args) as app:
        shops = {shop.name: shop for shop in pick_shops(app, s, None)}
        if default_shop is None and len(shops) == 1:
            default_shop = next(iter(shops))
        try:
            # Every row is checked before the store is opened or anything is sent.
            changes = read_price_csv(args.csv, default_shop=default_shop)
        except ValueError as exc:
            raise ConfigError(f"{exc}") from None
        with open_store(args) as store, _open_report(args.report) as out:
            report = PushReport(out, fmt)
            try:
                if is_postgres_url(args.db):
                    from temu_async.sync.leases import push_prices_leased

                    rows = await push_prices_leased(
                        shops,
                        store,  # type: ignore[arg-type]
                        changes,
                        worker_id=args.worker_id,
                        dry_run=args.dry_run,
                        on_row=report.row,
                    )
                else:
                    rows = await push_prices(
                        shops, store, changes, dry_run=args.dry_run, on_row=report.row
                    )
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
    label = "dry run" if args.dry_run else "push"
    where = f"; report in {args.report}" if args.report else ""
    print(f"price {label}: {report_counts(rows)}{where}", file=sys.stderr)
    bad = any(r.status in (ROW_FAILED, ROW_UNKNOWN) for r in rows)
    return 1 if bad else 0
