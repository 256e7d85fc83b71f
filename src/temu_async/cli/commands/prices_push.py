"""``temu-async sync prices push FILE.csv``: send the prices that changed, report per row."""

from __future__ import annotations

import argparse
import sys

from temu_async.cli.connect import make_app, pick_shops
from temu_async.cli.flags import DEFAULT_DB, add_connection_flags
from temu_async.cli.settings import ConfigError, load_settings
from temu_async.sync.prices import push_prices, read_price_csv, report_text, write_report
from temu_async.sync.sqlite_store import SqliteStore


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("csv", help="CSV with goodsId, skuId, price [, currency] [, shop]")
    p.add_argument("--db", default=DEFAULT_DB, help="where pulled prices are")
    p.add_argument("--dry-run", action="store_true", help="show what would change, send none")
    p.add_argument("--report", metavar="FILE", help="per-row results (default: stdout)")
    p.add_argument("--report-format", choices=("csv", "json"))
    p.add_argument("--shop-name", metavar="NAME", help="shop for rows without a shop column")
    p.add_argument("--token-env", metavar="VAR", help="one shop, token in $VAR")
    add_connection_flags(p)


async def run(args: argparse.Namespace) -> int:
    s = load_settings(args)
    names = [n for n, _ in s.shops]
    default_shop = args.shop_name
    if default_shop is None and len(s.shops) == 1:
        default_shop = names[0]
    async with make_app(s, args) as app:
        shops = {shop.name: shop for shop in pick_shops(app, s, None)}
        if default_shop is None and len(shops) == 1:
            default_shop = next(iter(shops))
        try:
            changes = read_price_csv(args.csv, default_shop=default_shop)
        except OSError as exc:
            raise ConfigError(f"{args.csv}: cannot read it ({exc.strerror})") from None
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        with SqliteStore(args.db) as store:
            try:
                rows = await push_prices(shops, store, changes, dry_run=args.dry_run)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
    fmt = args.report_format or ("json" if str(args.report or "").endswith(".json") else "csv")
    if args.report:
        with open(args.report, "w", newline="", encoding="utf-8") as fh:
            write_report(rows, fh, fmt)
    else:
        write_report(rows, sys.stdout, fmt)
    label = "dry run" if args.dry_run else "push"
    where = f"; report in {args.report}" if args.report else ""
    print(f"price {label}: {report_text(rows)}{where}", file=sys.stderr)
    bad = any(r.status in ("failed", "unknown — verify") for r in rows)
    return 1 if bad else 0
