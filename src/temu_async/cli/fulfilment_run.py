"""What ``labels buy`` and ``ship`` share: the report, the state store, one shop, in order.

The report opens first (a bad ``--report`` path fails before anything is sent), the
store next, then the app; the store is closed whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temu_async.cli.connect import make_app, one_shop
from temu_async.cli.settings import ConfigError, load_settings
from temu_async.cli.stores import open_fulfilment_store
from temu_async.client import ShopClient
from temu_async.fulfilment.report import RowWriter, open_report
from temu_async.fulfilment.store import FulfilmentStore

__all__ = ["run_on_shop"]

R = TypeVar("R")
Work = Callable[[ShopClient, FulfilmentStore, Callable[[Any], None]], Awaitable[list[R]]]


async def run_on_shop(args: argparse.Namespace, work: Work[R]) -> list[R]:
    """Run ``work(shop, store, on_row)`` for ``--shop`` with ``--db`` and ``--report``."""
    s = load_settings(args)
    with contextlib.ExitStack() as stack:
        try:
            report = RowWriter(open_report(stack, args.report))
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        store = await open_fulfilment_store(args.db)
        try:
            async with make_app(s, args) as app:
                return await work(one_shop(app, s, args.shop), store, report.write)
        finally:
            await store.close()
