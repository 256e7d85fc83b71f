"""A price push in a process of its own, for tests that kill it with SIGKILL.

    python tests/price_push_proc.py SETTINGS_JSON

SETTINGS_JSON: url, app_key, app_secret, token, db, csv, report, timeout. The
report is the CSV the CLI writes, row by row; the exit status is 0 when every row
ended applied or unchanged, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import json
import sys

from temu_async import TemuApp
from temu_async.retry import RetryPolicy
from temu_async.sync import SqliteStore, push_prices, read_price_csv
from temu_async.sync.push_report import PushReport


async def main(settings: dict[str, object]) -> int:
    changes = read_price_csv(str(settings["csv"]), default_shop="main")
    async with TemuApp(
        str(settings["app_key"]),
        str(settings["app_secret"]),
        region="global",
        base_url=str(settings["url"]),
        rate_limit=1000,
        timeout=float(settings["timeout"]),  # type: ignore[arg-type]
        retry=RetryPolicy(base_delay=0.01, max_retries=4),
    ) as app:
        shop = app.shop(str(settings["token"]), name="main")
        with (
            SqliteStore(str(settings["db"])) as store,
            open(str(settings["report"]), "w", newline="", encoding="utf-8") as out,
        ):
            report = PushReport(out, "csv")
            rows = await push_prices({"main": shop}, store, changes, on_row=report.row)
    return 0 if all(r.status in ("applied", "unchanged") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(json.loads(sys.argv[1]))))
