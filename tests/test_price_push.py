"""Price push against the sandbox: each change executed once, whatever happens in between.

"Executed" is counted on the gateway's side: every accepted price change opens a
price order in the sandbox's world, listing its SKUs, so the changes per SKU are
the price orders naming it (minus those the world was seeded with).
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from temu_async import TemuApp
from temu_async.client import ShopClient
from temu_async.retry import RetryPolicy
from temu_async.sandbox import ManualClock, Sandbox, SandboxConfig
from temu_async.sync import PricePull, SqliteStore, push_prices, read_price_csv
from temu_async.sync.price_push import CHANGE_PRICE_TYPE, PRICE_ORDER_TYPE, SKU_PRICE_TYPE


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    async with Sandbox(SandboxConfig(seed=21, shops=1, orders=3, goods=12, rate_limit=1000)) as s:
        yield s


def _app(sb: Sandbox, *, timeout: float = 30.0) -> TemuApp:
    c = sb.credentials
    return TemuApp(
        c.app_key,
        c.app_secret,
        region="global",
        base_url=sb.url,
        rate_limit=1000,
        timeout=timeout,
        retry=RetryPolicy(base_delay=0.01, max_retries=2),
    )


def _skus(sb: Sandbox) -> list[tuple[int, int, str]]:
    mall = sb.credentials.shops[0].mall_id
    return sorted(
        (g.goods_id, s.sku_id, s.supply_price)
        for g in sb.world.goods[mall].values()
        for s in g.skus
    )


def _changes_per_sku(sb: Sandbox, seeded: set[int]) -> Counter[int]:
    mall = sb.credentials.shops[0].mall_id
    out: Counter[int] = Counter()
    for po_id, po in sb.world.price_orders[mall].items():
        if po_id not in seeded:
            out.update(po.sku_ids)
    return out


def _seeded(sb: Sandbox) -> set[int]:
    return set(sb.world.price_orders[sb.credentials.shops[0].mall_id])


def _new_price(old: str) -> str:
    return f"{float(old) + 1.11:.2f}"


def _csv(rows: list[tuple[int, int, str]]) -> str:
    return "goodsId,skuId,price\n" + "".join(f"{g},{s},{p}\n" for g, s, p in rows)


async def _setup(sb: Sandbox, app: TemuApp, store: SqliteStore) -> dict[str, ShopClient]:
    cred = sb.credentials.shops[0]
    shop = app.shop(cred.access_token, name="main")
    summary = await PricePull([shop], store).run()
    assert summary.ok, summary.errors
    return {"main": shop}


async def test_a_push_run_twice_sends_each_change_once(sb: Sandbox, tmp_path: Path) -> None:
    seeded = _seeded(sb)
    targets = [(g, s, _new_price(p)) for g, s, p in _skus(sb)[:8]]
    changes = read_price_csv(io.StringIO(_csv(targets)), default_shop="main")
    async with _app(sb) as app:
        with SqliteStore(tmp_path / "p.sqlite") as store:
            shops = await _setup(sb, app, store)
            first = await push_prices(shops, store, changes)
            assert {r.status for r in first} == {"applied"}
            sent = sb.counters.requests_by_type[CHANGE_PRICE_TYPE]
            assert sent == len({g for g, _, _ in targets})  # one request per goods
            # The stored price follows the push: nothing left to send.
            stored = {(g, s): r.amount for (_, g, s), r in store.prices().items()}
            assert {(g, s): stored[(g, s)] for g, s, _ in targets} == {
                (g, s): p for g, s, p in targets
            }
            second = await push_prices(shops, store, changes)
            assert {r.status for r in second} == {"unchanged"}
            dry = await push_prices(shops, store, changes, dry_run=True)
            assert {r.status for r in dry} == {"unchanged"}
    assert sb.counters.requests_by_type[CHANGE_PRICE_TYPE] == sent
    assert _changes_per_sku(sb, seeded) == Counter({s: 1 for _, s, _ in targets})


async def test_a_dropped_write_is_read_back_then_sent_once(sb: Sandbox, tmp_path: Path) -> None:
    seeded = _seeded(sb)
    (g, s, old), *_ = _skus(sb)
    changes = read_price_csv(io.StringIO(_csv([(g, s, _new_price(old))])), default_shop="main")
    async with _app(sb) as app:
        with SqliteStore(tmp_path / "p.sqlite") as store:
            shops = await _setup(sb, app, store)
            # The gateway reads the request, then the connection dies before it runs.
            sb.faults.set_for_type(CHANGE_PRICE_TYPE, drop_rate=1.0)
            [row] = await push_prices(shops, store, changes)
            assert row.status == "unknown" and "reads the price back" in row.detail
            assert [w.state for w in store.open_price_writes()] == ["unknown"]
            sb.faults.clear()
            # A dry run says the row will be read back first; it reads and sends nothing.
            [dry] = await push_prices(shops, store, changes, dry_run=True)
            assert (dry.status, dry.verified) == ("would change", "to be read back")
            reads = sb.counters.requests_by_type[SKU_PRICE_TYPE]
            [row] = await push_prices(shops, store, changes)
            assert (row.status, row.verified) == ("applied", "not applied, sent again")
            assert sb.counters.requests_by_type[SKU_PRICE_TYPE] == reads + 1
            assert store.open_price_writes() == []
    assert _changes_per_sku(sb, seeded) == Counter({s: 1})


async def test_a_timed_out_write_that_ran_is_verified_and_not_sent_again(
    sb: Sandbox, tmp_path: Path
) -> None:
    seeded = _seeded(sb)
    (g, s, old), *_ = _skus(sb)
    new = _new_price(old)
    changes = read_price_csv(io.StringIO(_csv([(g, s, new)])), default_shop="main")
    async with _app(sb, timeout=0.3) as app:
        with SqliteStore(tmp_path / "p.sqlite") as store:
            shops = await _setup(sb, app, store)
            # It runs on the gateway; the answer comes back after the client gave up.
            sb.faults.set_for_type(CHANGE_PRICE_TYPE, latency_ms=800)
            [row] = await push_prices(shops, store, changes)
            assert row.status == "unknown"
            sb.faults.clear()
            sent = sb.counters.requests_by_type[CHANGE_PRICE_TYPE]
            [row] = await push_prices(shops, store, changes)
            assert (row.status, row.verified) == ("applied", "applied")
            assert row.old_price == old and "read back" in row.detail
            assert sb.counters.requests_by_type[CHANGE_PRICE_TYPE] == sent  # nothing sent
            assert store.prices()[("main", g, s)].amount == new
            # And a third run has nothing to do at all.
            [row] = await push_prices(shops, store, changes)
            assert row.status == "unchanged"
    assert _changes_per_sku(sb, seeded) == Counter({s: 1})


async def test_a_write_that_cannot_be_read_back_stays_unknown_and_unsent(
    sb: Sandbox, tmp_path: Path
) -> None:
    seeded = _seeded(sb)
    (g, s, old), *_ = _skus(sb)
    changes = read_price_csv(io.StringIO(_csv([(g, s, _new_price(old))])), default_shop="main")
    async with _app(sb) as app:
        with SqliteStore(tmp_path / "p.sqlite") as store:
            shops = await _setup(sb, app, store)
            sb.faults.set_for_type(CHANGE_PRICE_TYPE, drop_rate=1.0)
            await push_prices(shops, store, changes)
            sb.faults.clear()
            sb.faults.set_for_type(SKU_PRICE_TYPE, drop_rate=1.0)
            sent = sb.counters.requests_by_type[CHANGE_PRICE_TYPE]
            [row] = await push_prices(shops, store, changes)
            assert (row.status, row.verified) == ("unknown", "still unknown")
            assert "read-back failed" in row.detail and "not sent" in row.detail
            assert sb.counters.requests_by_type[CHANGE_PRICE_TYPE] == sent
            assert [w.state for w in store.open_price_writes()] == ["unknown"]
            sb.faults.clear()
            [row] = await push_prices(shops, store, changes)
            assert (row.status, row.verified) == ("applied", "not applied, sent again")
    assert _changes_per_sku(sb, seeded) == Counter({s: 1})


async def test_a_change_waiting_for_review_counts_as_applied(sb: Sandbox, tmp_path: Path) -> None:
    # On Temu a price change opens a price order; the SKU's price may move only once it
    # is approved. The read-back then finds the old price and a price order with the new.
    seeded = _seeded(sb)
    (g, s, old), *_ = _skus(sb)
    new = _new_price(old)
    changes = read_price_csv(io.StringIO(_csv([(g, s, new)])), default_shop="main")
    mall = sb.credentials.shops[0].mall_id
    sku = next(k for k in sb.world.goods[mall][g].skus if k.sku_id == s)
    async with _app(sb, timeout=0.3) as app:
        with SqliteStore(tmp_path / "p.sqlite") as store:
            shops = await _setup(sb, app, store)
            sb.faults.set_for_type(CHANGE_PRICE_TYPE, latency_ms=800)
            await push_prices(shops, store, changes)
            sb.faults.clear()
            sku.supply_price = old  # under review: not in force yet
            orders = sb.counters.requests_by_type[PRICE_ORDER_TYPE]
            [row] = await push_prices(shops, store, changes)
            assert (row.status, row.verified) == ("applied", "applied")
            assert "price order 7" in row.detail  # its id
            assert sb.counters.requests_by_type[PRICE_ORDER_TYPE] == orders + 1
    assert _changes_per_sku(sb, seeded) == Counter({s: 1})


def _review_sandbox(clock: ManualClock) -> Sandbox:
    return Sandbox(
        SandboxConfig(
            seed=21,
            shops=1,
            orders=3,
            goods=12,
            rate_limit=1000,
            clock=clock,
            price_review_seconds=120,
        )
    )


def _stored(store: SqliteStore, goods_id: int, sku_id: int) -> str | None:
    return store.prices()[("main", goods_id, sku_id)].amount


async def test_a_change_under_review_is_not_sent_again_after_a_pull(tmp_path: Path) -> None:
    clock = ManualClock()
    async with _review_sandbox(clock) as sb:
        seeded = _seeded(sb)
        (g, s, old), *_ = _skus(sb)
        new = _new_price(old)
        changes = read_price_csv(io.StringIO(_csv([(g, s, new)])), default_shop="main")
        async with _app(sb) as app:
            with SqliteStore(tmp_path / "p.sqlite") as store:
                shops = await _setup(sb, app, store)
                [first] = await push_prices(shops, store, changes)
                assert first.status == "applied"
                # Temu reviews the change: the SKU still reads at its old price, and a
                # pull in the meantime stores that old price again.
                assert (await PricePull([shops["main"]], store).run()).ok
                assert _stored(store, g, s) == old
                [again] = await push_prices(shops, store, changes)
                assert again.status == "awaiting review", again
                assert "awaits Temu's review" in again.detail
                assert _changes_per_sku(sb, seeded) == Counter({s: 1})
                # Approved: the price takes effect, and the next pull and push agree.
                clock.advance(121)
                assert (await PricePull([shops["main"]], store).run()).ok
                assert _stored(store, g, s) == new
                [done] = await push_prices(shops, store, changes)
                assert done.status == "unchanged"
        assert _changes_per_sku(sb, seeded) == Counter({s: 1})


async def test_a_change_that_review_rejected_is_sent_again(tmp_path: Path) -> None:
    clock = ManualClock()
    async with _review_sandbox(clock) as sb:
        seeded = _seeded(sb)
        mall = sb.credentials.shops[0].mall_id
        (g, s, old), *_ = _skus(sb)
        changes = read_price_csv(io.StringIO(_csv([(g, s, _new_price(old))])), default_shop="main")
        async with _app(sb) as app:
            with SqliteStore(tmp_path / "p.sqlite") as store:
                shops = await _setup(sb, app, store)
                [first] = await push_prices(shops, store, changes)
                assert first.status == "applied"
                [mine] = [po for i, po in sb.world.price_orders[mall].items() if i not in seeded]
                mine.status = 206  # Temu rejected it: the change did not take
                assert (await PricePull([shops["main"]], store).run()).ok
                [again] = await push_prices(shops, store, changes)
                assert again.status == "applied"
        # Sent twice, and rightly: the first proposal was refused, not repeated.
        assert _changes_per_sku(sb, seeded) == Counter({s: 2})


async def test_rows_wait_when_the_reviews_cannot_be_listed(sb: Sandbox, tmp_path: Path) -> None:
    (g, s, old), *_ = _skus(sb)
    changes = read_price_csv(io.StringIO(_csv([(g, s, _new_price(old))])), default_shop="main")
    async with _app(sb) as app:
        with SqliteStore(tmp_path / "p.sqlite") as store:
            shops = await _setup(sb, app, store)
            sb.faults.set_for_type(PRICE_ORDER_TYPE, drop_rate=1.0)
            [row] = await push_prices(shops, store, changes)
            assert row.status == "unknown" and "under review" in row.detail
            assert sb.counters.requests_by_type[CHANGE_PRICE_TYPE] == 0  # nothing sent
            sb.faults.clear()
            [row] = await push_prices(shops, store, changes)
            assert row.status == "applied"


def test_the_sandbox_cli_sets_the_review_time() -> None:
    import argparse

    from temu_async.sandbox.cli import add_arguments, config_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--price-review-seconds", "90"])
    assert config_from_args(args, catalogue=None).price_review_seconds == 90
    assert config_from_args(parser.parse_args([])).price_review_seconds == 0


async def test_reviews_are_read_page_by_page_up_to_a_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from temu_async.sync import price_push

    clock = ManualClock()
    async with _review_sandbox(clock) as sb:
        seeded = _seeded(sb)
        by_goods = {g: (g, s, _new_price(p)) for g, s, p in _skus(sb)}
        targets = list(by_goods.values())[:3]  # three goods: three price orders
        changes = read_price_csv(io.StringIO(_csv(targets)), default_shop="main")
        async with _app(sb) as app:
            with SqliteStore(tmp_path / "p.sqlite") as store:
                shops = await _setup(sb, app, store)
                assert {r.status for r in await push_prices(shops, store, changes)} == {"applied"}
                assert (await PricePull([shops["main"]], store).run()).ok
                monkeypatch.setattr(price_push, "_PRICE_ORDER_PAGE", 1)
                rows = await push_prices(shops, store, changes)  # three pages of one
                assert {r.status for r in rows} == {"awaiting review"}
                monkeypatch.setattr(price_push, "_REVIEW_PAGES_MAX", 2)
                rows = await push_prices(shops, store, changes)
                assert {r.status for r in rows} == {"unknown"}
                assert "more than 2 pages" in rows[0].detail
        assert _changes_per_sku(sb, seeded) == Counter({s: 1 for _, s, _ in targets})
