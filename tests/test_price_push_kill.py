"""A 200-row price push killed with SIGKILL three times, over dropped connections and
timeouts, then rerun: every SKU's price is changed exactly once on the gateway, and
every row's final state is honest.

The push runs in a child process (tests/price_push_proc.py) against the sandbox in
this one, so the sandbox sees the killed process's half-finished requests as a real
gateway would, and its world says what was executed.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import signal
import sqlite3
import sys
from collections import Counter
from pathlib import Path

from temu_async import TemuApp
from temu_async.sandbox import Sandbox, SandboxConfig
from temu_async.sync import PricePull, SqliteStore
from temu_async.sync.price_push import CHANGE_PRICE_TYPE, SKU_PRICE_TYPE

DRIVER = Path(__file__).with_name("price_push_proc.py")
ROWS = 200


def _report(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        # A killed run may leave a half-written last line; the flushed rows are whole.
        return [r for r in csv.DictReader(fh) if r.get("detail") is not None]


async def _run(settings: dict[str, object], kill_after: int | None) -> tuple[int | None, bool]:
    """Run the push; with ``kill_after``, SIGKILL it once that many rows were sent."""
    proc = await asyncio.create_subprocess_exec(sys.executable, str(DRIVER), json.dumps(settings))
    report = Path(str(settings["report"]))
    killed = False
    while proc.returncode is None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(proc.wait(), 0.02)
        if kill_after is not None and proc.returncode is None:
            sent = [r for r in _report(report) if r["status"] != "unchanged"]
            if len(sent) >= kill_after:
                proc.send_signal(signal.SIGKILL)
                await proc.wait()
                killed = True
    return proc.returncode, killed


async def test_sigkill_three_times_then_rerun_changes_every_sku_exactly_once(
    tmp_path: Path,
) -> None:
    config = SandboxConfig(seed=5, shops=1, orders=3, goods=140, rate_limit=1000)
    async with Sandbox(config) as sb:
        cred = sb.credentials.shops[0]
        mall = cred.mall_id
        seeded = set(sb.world.price_orders[mall])
        skus = sorted(
            (g.goods_id, s.sku_id, s.supply_price)
            for g in sb.world.goods[mall].values()
            for s in g.skus
        )[:ROWS]
        assert len(skus) == ROWS
        target = {s: f"{float(p) + 0.37:.2f}" for _, s, p in skus}
        csv_path = tmp_path / "prices.csv"
        csv_path.write_text(
            "goodsId,skuId,price\n" + "".join(f"{g},{s},{target[s]}\n" for g, s, _ in skus)
        )
        db = tmp_path / "p.sqlite"
        c = sb.credentials
        async with TemuApp(
            c.app_key, c.app_secret, region="global", base_url=sb.url, rate_limit=1000
        ) as app:
            with SqliteStore(db) as store:
                summary = await PricePull([app.shop(cred.access_token, name="main")], store).run()
                assert summary.ok

        # Dropped connections and answers slower than the client's 0.4 s timeout (the
        # change ran; the client cannot know), and a lossy read-back.
        sb.faults.set_for_type(CHANGE_PRICE_TYPE, drop_rate=0.12, jitter_ms=900)
        sb.faults.set_for_type(SKU_PRICE_TYPE, drop_rate=0.1)

        def settings(run: int) -> dict[str, object]:
            return {
                "url": sb.url,
                "app_key": c.app_key,
                "app_secret": c.app_secret,
                "token": cred.access_token,
                "db": str(db),
                "csv": str(csv_path),
                "report": str(tmp_path / f"report-{run}.csv"),
                "timeout": 0.4,
            }

        # Three kills at three points of the push: early, mid-way, and late.
        for run, kill_after in enumerate((12, 30, 25)):
            code, killed = await _run(settings(run), kill_after)
            assert killed, f"run {run} finished before it could be killed (exit {code})"
        # A rerun with the faults still on, then reruns without them until done.
        runs = 3
        code, _ = await _run(settings(runs), None)
        sb.faults.clear()
        while code != 0 and runs < 8:
            runs += 1
            code, _ = await _run(settings(runs), None)
        assert code == 0, _report(tmp_path / f"report-{runs}.csv")

        # The gateway executed exactly one change per SKU, to the CSV's price.
        executed: Counter[int] = Counter()
        for po_id, po in sb.world.price_orders[mall].items():
            if po_id not in seeded:
                executed.update(po.sku_ids)
        assert executed == Counter({s: 1 for s in target})
        assert {
            s.sku_id: s.supply_price
            for g in sb.world.goods[mall].values()
            for s in g.skus
            if s.sku_id in target
        } == target
        assert sb.counters.faults["drop"] > 0  # the faults did happen

    # The log's final word on every SKU: one applied write; every other write closed
    # as failed or verified not applied (each of those provably did not run).
    with sqlite3.connect(db) as con:
        states = con.execute(
            "SELECT sku_id, state, COUNT(*) FROM price_writes GROUP BY sku_id, state"
        ).fetchall()
        stored = dict(con.execute("SELECT sku_id, amount FROM prices").fetchall())
    applied = {sku: n for sku, state, n in states if state == "applied"}
    assert applied == {s: 1 for s in target}
    assert {state for _, state, _ in states} <= {"applied", "failed", "not_applied"}
    assert {s: stored[s] for s in target} == target
    # The final report: every row applied (sent or verified) or already unchanged.
    final = _report(tmp_path / f"report-{runs}.csv")
    assert len(final) == ROWS
    assert {r["status"] for r in final} <= {"applied", "unchanged"}
    # Across the runs, rows were resolved by reading back, and said so.
    verified = Counter(
        r["verified"] for run in range(runs + 1) for r in _report(tmp_path / f"report-{run}.csv")
    )
    assert verified["applied"] + verified["not applied, sent again"] > 0
