"""Runs the label pipeline in its own process, to be killed with SIGKILL mid-run.

argv: sandbox router URL, store path, out dir, parent order numbers (comma list),
kill spec. Credentials come in the environment (LW_APP_KEY, LW_APP_SECRET,
LW_TOKEN). The kill spec ``PHASE:N:before|after`` sends SIGKILL to this process
when the N-th record is saved in PHASE: ``before`` that save reaches the store, or
right after it; ``none`` runs to the end.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from temu_async import TemuApp
from temu_async.fulfilment import FulfilmentRecord, LabelOptions, Parcel, SqliteFulfilmentStore
from temu_async.fulfilment.labels import buy_labels


class KillingStore(SqliteFulfilmentStore):
    def __init__(self, path: str, spec: str) -> None:
        super().__init__(path)
        parts = spec.split(":")
        if len(parts) == 3:
            self.phase, self.left, self.when = parts[0], int(parts[1]), parts[2]
        else:
            self.phase, self.left, self.when = "", -1, ""

    def _maybe_die(self, record: FulfilmentRecord, when: str) -> None:
        if record.phase == self.phase and when == self.when and self.left == 0:
            os.kill(os.getpid(), signal.SIGKILL)

    async def save(self, record: FulfilmentRecord) -> None:
        if record.phase == self.phase:
            self.left -= 1
        self._maybe_die(record, "before")
        await super().save(record)
        self._maybe_die(record, "after")


async def main(url: str, db: str, out: str, orders: str, spec: str) -> int:
    env = os.environ
    async with TemuApp(env["LW_APP_KEY"], env["LW_APP_SECRET"], base_url=url) as app:
        shop = app.shop(env["LW_TOKEN"])
        store = KillingStore(db, spec)
        options = LabelOptions(
            parcel=Parcel(weight="2", length="10", width="8", height="4"),
            poll_initial=0.05,
            concurrency=10,
            resend_after=0.5,
        )
        rows = await buy_labels(shop, store, orders.split(","), Path(out), options)
        await store.close()
    bad = [r for r in rows if r.outcome != "downloaded"]
    for row in bad:
        print(row, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:6])))
