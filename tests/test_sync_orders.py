"""Order sync against the sandbox: exact copies, incremental runs, orders moving mid-walk,
crowded seconds, enrichment, JSONL, and a SIGKILLed run that resumes with nothing lost."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import tiny_gateway

from temu_async import TemuApp
from temu_async.sandbox import FaultSpec, Sandbox, SandboxConfig
from temu_async.sandbox.thread import SandboxThread
from temu_async.sync import JsonlSink, OrderSync, OrderSyncOptions, SqliteStore
from temu_async.sync.orders import LIST_TYPE

ROOT = Path(__file__).resolve().parents[1]


def _config(**kw: object) -> SandboxConfig:
    base: dict[str, object] = {
        "seed": 5,
        "shops": 3,
        "orders": 300,
        "goods": 6,
        "order_arrival_per_hour": 0,  # a fixed set of orders to compare against
        "rate_limit": 1000,
    }
    base.update(kw)
    return SandboxConfig(**base)  # type: ignore[arg-type]


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(_config()) as running:
        yield running


def _app(sb: Sandbox, **kw: object) -> TemuApp:
    c = sb.credentials
    return TemuApp(c.app_key, c.app_secret, region="global", base_url=sb.url, rate_limit=1000, **kw)  # type: ignore[arg-type]


def _name(mall_id: int) -> str:
    return f"mall-{mall_id}"


def _world(sb: Sandbox) -> dict[str, dict[str, tuple[int, int]]]:
    """Shop name -> parentOrderSn -> (update time, status), straight from the sandbox."""
    return {
        _name(m): {sn: (o.updated, o.status) for sn, o in shop.by_sn.items()}
        for m, shop in sb.world.orders.shops.items()
    }


async def test_first_run_copies_every_order_then_the_next_run_is_incremental(
    sb: Sandbox, tmp_path: Path
) -> None:
    async with _app(sb) as app:
        shops = [app.shop(s.access_token, name=_name(s.mall_id)) for s in sb.credentials.shops]
        with SqliteStore(tmp_path / "o.sqlite") as store:
            first = await OrderSync(shops, store, OrderSyncOptions(page_size=50)).run()
            assert first.ok and first.new == 900
            for name, orders in _world(sb).items():
                assert store.order_versions(name) == orders
            assert store.order_count() == 900
            state = store.load_state(shops[0].name)
            assert state.synced_through is not None and not state.in_progress

            sb.counters.reset()
            again = await OrderSync(shops, store, OrderSyncOptions(page_size=50)).run()
            assert again.ok and again.new == 0 and store.order_count() == 900
            # Only the overlap is walked again: one page per shop.
            assert sb.counters.requests_by_type[LIST_TYPE] == 3
            row = store.order(shops[0].name, next(iter(_world(sb)[shops[0].name])))
            assert row is not None and row["orderList"] and row["detail"] is None
    # WAL mode, so readers need not wait for the writer.
    with sqlite3.connect(tmp_path / "o.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_orders_changing_during_the_walk_are_neither_lost_nor_left_stale(
    tmp_path: Path,
) -> None:
    async with Sandbox(_config(orders=600)) as sb:
        sb.faults.set_default(latency_ms=5)
        rng = random.Random(3)
        touched: set[str] = set()

        async def churn() -> None:
            # Move random orders to "now" while the sync pages: with offset paging,
            # each move would shift a neighbour past a page boundary unseen.
            while True:
                await asyncio.sleep(0.003)
                mall = rng.choice(list(sb.world.orders.shops))
                book = sb.world.orders.shops[mall]
                order = book.by_sn[rng.choice(list(book.by_sn))]
                book.touch(order, int(time.time()))
                touched.add(order.parent_order_sn)

        async with _app(sb) as app:
            shops = [app.shop(s.access_token, name=_name(s.mall_id)) for s in sb.credentials.shops]
            with SqliteStore(tmp_path / "o.sqlite") as store:
                options = OrderSyncOptions(page_size=10, concurrency=3, settle=0)
                mover = asyncio.create_task(churn())
                try:
                    first = await OrderSync(shops, store, options).run()
                finally:
                    mover.cancel()
                assert first.ok and len(touched) > 20
                world = _world(sb)
                run_end = store.load_state(shops[0].name).synced_through
                assert run_end is not None
                for name, orders in world.items():
                    # Run 1 holds every order, except ones that moved past its end
                    # before their window was walked: those belong to run 2.
                    later = {sn for sn, (updated, _) in orders.items() if updated >= run_end}
                    assert store.order_sns(name) | later == set(orders), "an order was missed"
                await asyncio.sleep(1.1)  # the moved orders' second is now in the past
                second = await OrderSync(shops, store, options).run()
                assert second.ok
                for name, orders in world.items():
                    assert store.order_versions(name) == orders, "a stale version survived"


async def test_a_second_holding_more_than_a_page_is_read_by_page_numbers(
    sb: Sandbox, tmp_path: Path
) -> None:
    mall = sb.credentials.shops[0].mall_id
    book = sb.world.orders.shops[mall]
    crowded = int(time.time()) - 3600
    for order in list(book.by_sn.values())[:57]:
        book.touch(order, crowded)
    async with _app(sb) as app:
        shop = app.shop(sb.credentials.shops[0].access_token, name=_name(mall))
        with SqliteStore(tmp_path / "o.sqlite") as store:
            summary = await OrderSync([shop], store, OrderSyncOptions(page_size=10)).run()
            assert summary.ok
            assert store.order_versions(_name(mall)) == _world(sb)[_name(mall)]


async def test_detail_and_shipping_enrichment_only_for_new_or_changed_orders(
    tmp_path: Path,
) -> None:
    async with Sandbox(_config(shops=1, orders=40)) as sb, _app(sb) as app:
        cred = sb.credentials.shops[0]
        shop = app.shop(cred.access_token, name=_name(cred.mall_id))
        options = OrderSyncOptions(detail=True, shipping=True)
        with SqliteStore(tmp_path / "o.sqlite") as store:
            assert (await OrderSync([shop], store, options).run()).ok
            sn = next(iter(sb.world.orders.shops[cred.mall_id].by_sn))
            row = store.order(shop.name, sn)
            assert row is not None
            assert row["detail"]["parentOrderMap"]["parentOrderSn"] == sn
            assert row["shipping"]["receiptName"]
            assert sb.counters.requests_by_type["bg.order.detail.v2.get"] == 40
            assert sb.counters.requests_by_type["bg.order.shippinginfo.v2.get"] == 40
            sb.counters.reset()
            assert (await OrderSync([shop], store, options).run()).ok
            # Nothing changed: the overlap page comes back, no order is enriched again.
            assert sb.counters.requests_by_type["bg.order.detail.v2.get"] == 0


async def test_jsonl_appends_each_version_once_and_drops_an_uncommitted_tail(
    sb: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "orders.jsonl"
    async with _app(sb) as app:
        shops = [app.shop(s.access_token, name=_name(s.mall_id)) for s in sb.credentials.shops]
        sink = JsonlSink(path)
        assert (await OrderSync(shops, sink).run()).ok
        sink.close()
        lines = path.read_bytes().splitlines()
        assert len(lines) == 900
        with open(path, "ab") as fh:  # a commit cut short by a crash
            fh.write(b'{"shop": "mall-1", "parentOrderSn": "PO-half')
        sink = JsonlSink(path)
        assert (await OrderSync(shops, sink).run()).ok
        sink.close()
    rows = [msgspec.json.decode(line) for line in path.read_bytes().splitlines()]
    assert len(rows) == 900
    seen = {(r["shop"], r["parentOrderSn"]) for r in rows}
    world = _world(sb)
    assert seen == {(name, sn) for name, orders in world.items() for sn in orders}


def test_options_refuse_bad_values() -> None:
    with pytest.raises(ValueError, match="page_size"):
        OrderSyncOptions(page_size=101)
    with pytest.raises(ValueError, match="sortby"):
        OrderSyncOptions(extra_params={"sortby": "createTime"})


# ---- kill -9 and resume ------------------------------------------------------------------


def _count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.slow
def test_a_killed_sync_resumes_with_no_order_lost_or_duplicated(tmp_path: Path) -> None:
    db = tmp_path / "orders.sqlite"
    config = _config(shops=3, orders=1200, rate_limit=20, faults=FaultSpec(latency_ms=40))
    with SandboxThread(config) as sb:
        creds = sb.credentials
        env = {
            **os.environ,
            "TEMU_APP_KEY": creds.app_key,
            "TEMU_APP_SECRET": creds.app_secret,
            "TEMU_REGION": "global",
            "TEMU_BASE_URL": sb.url,
            "TEMU_ACCESS_TOKENS": ",".join(
                f"{_name(s.mall_id)}={s.access_token}" for s in creds.shops
            ),
        }
        cmd = [sys.executable, "-m", "temu_async.cli", "sync", "orders", "--db", str(db)]
        cmd += ["--page-size", "20", "--quiet"]
        child = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while _count(db) < 700 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert child.poll() is None, "the sync finished before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.wait()
        partial = _count(db)
        assert 0 < partial < 3600
        with SqliteStore(db) as store:
            assert any(store.load_state(_name(s.mall_id)).in_progress for s in creds.shops)

        # Resume until done (a shop that ran out of rate-limit retries resumes again).
        for _ in range(3):
            done = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, timeout=60)
            if done.returncode == 0:
                break
        assert done.returncode == 0, done.stderr.decode()
        world = _world(sb)  # type: ignore[arg-type]
    with SqliteStore(db) as store:
        for name, orders in world.items():
            assert store.order_sns(name) == set(orders)
            assert store.order_count(name) == len(orders)
            assert not store.load_state(name).in_progress
    with sqlite3.connect(db) as conn:
        dupes = conn.execute(
            "SELECT COUNT(*) FROM (SELECT shop, parent_order_sn FROM orders"
            " GROUP BY 1, 2 HAVING COUNT(*) > 1)"
        ).fetchone()[0]
    assert dupes == 0 and sum(len(o) for o in world.values()) == 3600


async def test_fields_the_catalogue_does_not_know_yet_are_stored_not_dropped(
    gateway: Any, tmp_path: Path
) -> None:
    # The sync reads orders through the typed Struct, which ignores unknown fields; the
    # stored row must still hold everything Temu sent (a field added after this release).
    now = int(time.time())

    def answer(body: dict[str, Any], n: int) -> dict[str, Any]:
        if body["type"] != LIST_TYPE:
            return tiny_gateway.ok({})
        item = {
            "parentOrderMap": {
                "parentOrderSn": "PO-1",
                "parentOrderStatus": 2,
                "updateTime": now - 100,
                "brandNewParentField": {"kept": True},
            },
            "orderList": [{"orderSn": "PO-1-1", "brandNewChildField": 7}],
        }
        return tiny_gateway.ok({"totalItemNum": 1, "pageItems": [item]})

    gateway.script = answer
    async with TemuApp(
        gateway.app_key, gateway.app_secret, base_url=gateway.url, rate_limit=100
    ) as app:
        shop = app.shop("token-1", name="s1")
        with SqliteStore(tmp_path / "o.sqlite") as store:
            summary = await OrderSync(
                [shop], store, OrderSyncOptions(since=3600, max_window=3600)
            ).run()
            assert summary.ok, summary.errors
            row = store.order("s1", "PO-1")
    assert row is not None
    assert row["parentOrderMap"]["brandNewParentField"] == {"kept": True}
    assert row["orderList"] == [{"orderSn": "PO-1-1", "brandNewChildField": 7}]
