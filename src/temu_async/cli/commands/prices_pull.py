"""``temu-async sync prices pull``: every SKU's supply price into SQLite or PostgreSQL."""

from __future__ import annotations

import argparse
import sys

from temu_async.cli.connect import make_app, pick_shops
from temu_async.cli.flags import add_connection_flags, add_store_flags, add_token_env_flags
from temu_async.cli.progress import print_summary, with_progress
from temu_async.cli.settings import ConfigError, load_settings
from temu_async.cli.stores import open_store, where
from temu_async.cli.values import whole
from temu_async.sync.prices import PricePull, PricePullOptions


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_store_flags(p)
    p.add_argument("--goods-per-request", type=whole(1), metavar="N")
    add_token_env_flags(p)
    add_connection_flags(p)


async def run(args: argparse.Namespace) -> int:
    s = load_settings(args)
    async with make_app(s, args) as app:
        shops = pick_shops(app, s, args.shop)
        with open_store(args) as store:
            try:
                pull = PricePull(
                    shops, store, PricePullOptions(goods_per_request=args.goods_per_request)
                )
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            summary = await with_progress(args, pull.progress, pull.run)
    print_summary(args, summary, sys.stdout)
    if args.log_format != "json":
        print(f"prices in {where(args)} (table prices)")
    return 0 if summary.ok else 1
