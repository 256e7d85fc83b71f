"""``temu-async ship --csv FILE``: confirm self-shipped orders with tracking numbers.

CSV columns: parentOrderSn, carrierId, trackingNumber [, orderSn] [, warehouseId].
Each row is confirmed once; a rerun reports rows already confirmed as ``already``.
"""

from __future__ import annotations

import argparse
import sys

from temu_async.cli.flags import add_connection_flags
from temu_async.cli.fulfilment_run import run_on_shop
from temu_async.cli.settings import ConfigError
from temu_async.fulfilment.report import summary
from temu_async.fulfilment.ship_csv import confirm_shipments, read_ship_csv

DEFAULT_DB = "out/fulfilment.sqlite"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--csv", required=True, metavar="FILE", help="orders and tracking numbers")
    p.add_argument(
        "--db",
        default=DEFAULT_DB,
        help=f"state: a SQLite file or a postgresql://… URL (default {DEFAULT_DB})",
    )
    p.add_argument("--report", metavar="FILE", help="per-row CSV report (default: stdout)")
    p.add_argument("--shop", metavar="NAME", help="which configured shop")
    p.add_argument("--token-env", metavar="VAR", help="read the access token from $VAR")
    p.add_argument("--shop-name", help=argparse.SUPPRESS)
    add_connection_flags(p)


async def run(args: argparse.Namespace) -> int:
    try:
        lines = read_ship_csv(args.csv)
    except ValueError as exc:  # CsvError: names the line and column
        text = str(exc)
        raise ConfigError(text if text.startswith(args.csv) else f"{args.csv}: {text}") from None
    rows = await run_on_shop(
        args,
        lambda shop, store, on_row: confirm_shipments(shop, store, lines, on_row=on_row),
    )
    where = f"; report in {args.report}" if args.report else ""
    print(f"ship: {summary(r.outcome for r in rows)}{where}", file=sys.stderr)
    return 0 if all(r.outcome in ("confirmed", "already") for r in rows) else 1
