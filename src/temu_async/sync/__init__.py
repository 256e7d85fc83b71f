"""Bulk sync over many shops of one app: orders (incremental, resumable) and prices.

::

    from temu_async import TemuApp
    from temu_async.sync import OrderSync, SqliteStore

    async with TemuApp(key, secret, region="us") as app:
        shops = [app.shop(token, name=name) for name, token in tokens.items()]
        with SqliteStore("out/temu.sqlite") as store:
            summary = await OrderSync(shops, store).run()
"""

from __future__ import annotations

from temu_async.store_errors import StoreError, StoreLocked
from temu_async.sync.coverage import Coverage
from temu_async.sync.jsonl_sink import JsonlSink
from temu_async.sync.orders import OrderSync, OrderSyncOptions, SyncError
from temu_async.sync.prices import (
    PriceChange,
    PricePull,
    PricePullOptions,
    PushResult,
    plan_push,
    push_prices,
    read_price_csv,
    write_report,
)
from temu_async.sync.progress import Progress, ProgressSnapshot, SyncSummary
from temu_async.sync.push_report import PushReport
from temu_async.sync.records import OrderRecord, OrderSink, ShopState
from temu_async.sync.report import ProgressPrinter, choose_mode, summary_json, summary_text
from temu_async.sync.sqlite_store import PriceRow, SqliteStore
from temu_async.sync.write_log import PriceWrite, PriceWriteLog

__all__ = [
    "Coverage",
    "JsonlSink",
    "OrderRecord",
    "OrderSink",
    "OrderSync",
    "OrderSyncOptions",
    "PriceChange",
    "PricePull",
    "PricePullOptions",
    "PriceRow",
    "PriceWrite",
    "PriceWriteLog",
    "Progress",
    "ProgressPrinter",
    "ProgressSnapshot",
    "PushReport",
    "PushResult",
    "ShopState",
    "SqliteStore",
    "StoreError",
    "StoreLocked",
    "SyncError",
    "SyncSummary",
    "choose_mode",
    "plan_push",
    "push_prices",
    "read_price_csv",
    "summary_json",
    "summary_text",
    "write_report",
]
