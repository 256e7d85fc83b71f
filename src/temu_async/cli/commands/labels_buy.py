"""``temu-async labels buy --orders SN,... --out DIR``: buy and download shipping labels.

Resumable: state lives in ``--db``; run the same command again after a crash or an
interruption and it carries on without buying any label twice.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from temu_async.cli.flags import add_connection_flags
from temu_async.cli.fulfilment_run import run_on_shop
from temu_async.cli.settings import ConfigError
from temu_async.errors import ParamError
from temu_async.fulfilment.labels import LabelOptions, buy_labels, check_order_sn
from temu_async.fulfilment.policy import Cheapest, Fastest, Given, Parcel, ServicePolicy
from temu_async.fulfilment.report import summary

DEFAULT_DB = "out/fulfilment.sqlite"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--orders", metavar="SN,SN", help="parent order numbers, comma-separated")
    p.add_argument("--orders-file", metavar="FILE", help="parent order numbers, one per line")
    p.add_argument("--out", required=True, metavar="DIR", help="where the label files go")
    p.add_argument(
        "--db",
        default=DEFAULT_DB,
        help=f"state: a SQLite file or a postgresql://… URL (default {DEFAULT_DB})",
    )
    p.add_argument(
        "--policy",
        default="cheapest",
        metavar="cheapest|fastest|CHANNEL:CARRIER",
        help="which shipping service: cheapest (default), fastest, or a channelId:shipCompanyId",
    )
    p.add_argument("--warehouse", metavar="ID", help="ship-from warehouse (default: the default)")
    p.add_argument("--weight", required=True, help="package weight, e.g. 2")
    p.add_argument("--length", required=True)
    p.add_argument("--width", required=True)
    p.add_argument("--height", required=True)
    p.add_argument("--weight-unit", default="lb")
    p.add_argument("--dimension-unit", default="in")
    p.add_argument("--max-attempts", type=int, default=3, help="purchases per package")
    p.add_argument("--ship-later", action="store_true", help="buy now, ship on confirmation")
    p.add_argument("--ship-later-hours", type=int, metavar="N")
    p.add_argument("--png", action="store_true", help="PNG labels instead of PDF")
    p.add_argument("--report", metavar="FILE", help="per-order CSV report (default: stdout)")
    p.add_argument("--shop", metavar="NAME", help="which configured shop")
    p.add_argument("--token-env", metavar="VAR", help="read the access token from $VAR")
    p.add_argument("--shop-name", help=argparse.SUPPRESS)
    add_connection_flags(p)


def _policy(text: str) -> ServicePolicy:
    if text == "cheapest":
        return Cheapest()
    if text == "fastest":
        return Fastest()
    channel, _, carrier = text.partition(":")
    if not channel.isdigit() or not carrier.isdigit():
        raise ConfigError(
            f"--policy: expected cheapest, fastest or CHANNEL:CARRIER numbers, got {text!r}"
        )
    return Given(int(channel), int(carrier))


def _orders(args: argparse.Namespace) -> list[str]:
    sns: list[str] = []
    if args.orders:
        sns += [s.strip() for s in args.orders.split(",") if s.strip()]
    if args.orders_file:
        try:
            text = Path(args.orders_file).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise ConfigError(f"--orders-file {args.orders_file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"--orders-file {args.orders_file}: not UTF-8 text") from None
        sns += [line.strip() for line in text.splitlines() if line.strip()]
    if not sns:
        raise ConfigError("no orders: give --orders SN,SN or --orders-file FILE")
    try:
        return [check_order_sn(sn) for sn in sns]
    except ParamError as exc:
        raise ConfigError(f"--orders: {exc.rule}") from None


async def run(args: argparse.Namespace) -> int:
    orders = _orders(args)
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {args.out}: is a file, not a directory")
    if args.ship_later_hours is not None and not 1 <= args.ship_later_hours <= 72:
        raise ConfigError("--ship-later-hours: must be between 1 and 72")
    try:
        options = LabelOptions(
            parcel=Parcel(
                weight=args.weight,
                length=args.length,
                width=args.width,
                height=args.height,
                weight_unit=args.weight_unit,
                dimension_unit=args.dimension_unit,
            ),
            policy=_policy(args.policy),
            warehouse_id=args.warehouse,
            max_attempts=args.max_attempts,
            ship_later=args.ship_later,
            ship_later_hours=args.ship_later_hours,
            document_type="SHIPPING_LABEL_PNG" if args.png else "SHIPPING_LABEL_PDF",
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    rows = await run_on_shop(
        args,
        lambda shop, store, on_row: buy_labels(
            shop, store, orders, args.out, options, on_row=on_row
        ),
    )
    where = f"; report in {args.report}" if args.report else ""
    print(f"labels: {summary(r.outcome for r in rows)}{where}", file=sys.stderr)
    return 0 if all(r.outcome in ("downloaded", "skipped") for r in rows) else 1
