"""The figures a sync reports are ones a reader can trust (issue 21): an ETA during a
``--detail`` run, the throttle wait per request rather than summed over concurrent
callers, and every fetched item accounted for."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from temu_async.client import TemuApp
from temu_async.sandbox import Sandbox, SandboxConfig
from temu_async.sandbox.faults import FaultSpec
from temu_async.sync.orders import OrderSync, OrderSyncOptions
from temu_async.sync.progress import Progress, ShopSnapshot
from temu_async.sync.report import summary_json, summary_text
from temu_async.sync.sqlite_store import SqliteStore
from temu_async.throttle import Throttle


async def test_a_detail_sync_has_an_eta_from_its_first_order_on(tmp_path: Path) -> None:
    config = SandboxConfig(
        seed=8,
        shops=2,
        orders=120,
        rate_limit=100,
        order_arrival_per_hour=0,
        faults=FaultSpec(latency_ms=5),
    )
    samples: list[tuple[float, ShopSnapshot]] = []
    async with Sandbox(config) as sb:
        c = sb.credentials
        async with TemuApp(
            c.app_key, c.app_secret, region="global", base_url=sb.url, rate_limit=100
        ) as app:
            shops = [app.shop(s.access_token, name=f"mall-{s.mall_id}") for s in c.shops]
            with SqliteStore(tmp_path / "o.sqlite") as store:
                sync = OrderSync(shops, store, OrderSyncOptions(detail=True))
                run = asyncio.create_task(sync.run())
                while not run.done():
                    await asyncio.sleep(0.05)
                    samples += [(time.monotonic(), s) for s in sync.progress.snapshot().shops]
                summary = await run
                ended = time.monotonic()
    assert summary.ok and summary.new == 240
    counted = [(at, s) for at, s in samples if s.fetched > 0 and not s.done]
    assert len(counted) > 10, "the run was too short to judge its progress"
    # Known from the first finished order to the end (it was '?' until the last windows).
    etas = [(round(at, 2), s.name[-1], s.fetched, s.eta) for at, s in counted]
    assert all(s.eta is not None for _, s in counted), [e for e in etas if e[3] is None][:5]
    # And it means something: in the middle of the run, within a factor of 3 of the truth
    # (per shop; the shops share the app's rate, so they end close together).
    middle = counted[len(counted) // 4 : 3 * len(counted) // 4]
    for at, s in middle:
        assert s.eta is not None
        truth = ended - at
        assert truth / 3 <= s.eta <= truth * 3, (s.eta, truth)


def test_the_summary_accounts_for_every_fetched_item_and_waits_per_request() -> None:
    clock = [0.0]
    throttle = Throttle()
    progress = Progress("orders", throttle, clock=lambda: clock[0])
    shop = progress.shop("a")
    shop.fetched, shop.written, shop.new, shop.requests = 4536, 4500, 4500, 54
    throttle.stats.granted, throttle.stats.waited_seconds = 54, 17.28  # 12 callers at once
    clock[0] = 2.7
    progress.finish("a")
    summary = progress.summary()
    text = summary_text(summary)
    assert (
        "4,536 fetched (4,500 new, 0 changed, 36 already stored or read twice, unchanged)" in text
    )
    # 17.3 s summed over concurrent callers in a 2.7 s run: reported per request instead.
    assert "throttle wait 0.32 s per request on average" in text and "17.3" not in text
    data = json.loads(summary_json(summary))
    assert data["unchanged"] == 36 and data["throttle_wait_mean"] == 0.32
    assert data["throttle_wait"] == 17.28  # the sum stays, documented as a sum

    nothing_extra = Progress("prices")
    p = nothing_extra.shop("b")
    p.fetched = p.written = p.new = 10
    nothing_extra.finish("b")
    assert "unchanged" not in summary_text(nothing_extra.summary())
