"""Price sync against the sandbox: pull every SKU, CSV checks, dry-run diff, push only the
changed rows, and a push whose outcome is unknown reported as such (never resent)."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from temu_async import TemuApp
from temu_async.retry import RetryPolicy
from temu_async.sandbox import Sandbox, SandboxConfig
from temu_async.sync import PricePull, SqliteStore, push_prices, read_price_csv, write_report
from temu_async.sync.prices import CHANGE_PRICE_TYPE, SKU_PRICE_TYPE, plan_push


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    config = SandboxConfig(seed=9, shops=2, orders=5, goods=25, rate_limit=1000)
    async with Sandbox(config) as running:
        yield running


def _app(sb: Sandbox) -> TemuApp:
    c = sb.credentials
    # No retry budget games: a dropped write must surface at once.
    return TemuApp(
        c.app_key,
        c.app_secret,
        region="global",
        base_url=sb.url,
        rate_limit=1000,
        retry=RetryPolicy(base_delay=0.01),
    )


def _sku_prices(sb: Sandbox, mall_id: int) -> dict[tuple[int, int], str]:
    return {
        (g.goods_id, s.sku_id): s.supply_price
        for g in sb.world.goods[mall_id].values()
        for s in g.skus
    }


async def _pull(sb: Sandbox, app: TemuApp, store: SqliteStore) -> None:
    shops = [app.shop(s.access_token, name=f"mall-{s.mall_id}") for s in sb.credentials.shops]
    summary = await PricePull(shops, store).run()
    assert summary.ok, summary.errors


async def test_pull_stores_every_sku_price_in_chunks(sb: Sandbox, tmp_path: Path) -> None:
    async with _app(sb) as app:
        with SqliteStore(tmp_path / "p.sqlite") as store:
            await _pull(sb, app, store)
            for cred in sb.credentials.shops:
                want = _sku_prices(sb, cred.mall_id)
                got = {
                    (g, s): row.amount
                    for (_, g, s), row in store.prices(f"mall-{cred.mall_id}").items()
                }
                assert got == want
    # 25 goods per shop, 20 goods per query (no bound in the catalogue): 2 per shop.
    assert sb.counters.requests_by_type[SKU_PRICE_TYPE] == 4


def test_csv_rows_are_checked_before_anything_is_sent(tmp_path: Path) -> None:
    def read(text: str) -> object:
        return read_price_csv(io.StringIO(text), default_shop="s")

    rows = read("goodsId,skuId,price\n1,2,3.5\n\n1,3,10\n")
    assert [(r.line, r.price) for r in rows] == [(2, "3.50"), (4, "10.00")]  # type: ignore[attr-defined]
    for text, needle in [
        ("goodsId,price\n1,2\n", "skuId"),
        ("goodsId,skuId,price\n1,x,2\n", "line 2, column 'skuId'"),
        ("goodsId,skuId,price\n1,2,2.345\n", "line 2, column 'price'"),
        ("goodsId,skuId,price\n1,2,0\n", "positive"),
        (
            "goodsId,skuId,price\n1,2,2\n1,2,3\n",
            "line 3, column 'skuId': skuId 2 already set on line 2",
        ),
    ]:
        with pytest.raises(ValueError, match=needle):
            read(text)
    with pytest.raises(ValueError, match="no shop"):
        read_price_csv(io.StringIO("goodsId,skuId,price\n1,2,3\n"))


async def test_dry_run_then_push_sends_only_changed_rows(sb: Sandbox, tmp_path: Path) -> None:
    cred = sb.credentials.shops[0]
    shop_name = f"mall-{cred.mall_id}"
    prices = sorted(_sku_prices(sb, cred.mall_id).items())
    (g1, s1), p1 = prices[0]
    (g2, s2), p2 = prices[-1]
    csv_text = (
        "goodsId,skuId,price\n"
        f"{g1},{s1},{p1}\n"  # unchanged
        f"{g2},{s2},77.70\n"  # changed
        f"{g2},999,5.00\n"  # not a stored SKU
    )
    changes = read_price_csv(io.StringIO(csv_text), default_shop=shop_name)
    async with _app(sb) as app:
        with SqliteStore(tmp_path / "p.sqlite") as store:
            await _pull(sb, app, store)
            shops = {shop_name: app.shop(cred.access_token, name=shop_name)}
            dry = await push_prices(shops, store, changes, dry_run=True)
            assert [r.status for r in dry] == ["unchanged", "would change", "not found"]
            assert dry[1].old_price == p2 and dry[1].new_price == "77.70"
            assert sb.counters.requests_by_type[CHANGE_PRICE_TYPE] == 0

            done = await push_prices(shops, store, changes)
            assert [r.status for r in done] == ["unchanged", "applied", "not found"]
            assert sb.counters.requests_by_type[CHANGE_PRICE_TYPE] == 1
            assert _sku_prices(sb, cred.mall_id)[(g2, s2)] == "77.70"
            out = io.StringIO()
            write_report(done, out, "json")
            report = [json.loads(line) for line in out.getvalue().splitlines()]
            assert report[1]["status"] == "applied" and report[1]["detail"].startswith(
                "price order"
            )


async def test_a_push_that_may_have_run_is_reported_unknown_and_not_resent(
    sb: Sandbox, tmp_path: Path
) -> None:
    cred = sb.credentials.shops[0]
    shop_name = f"mall-{cred.mall_id}"
    (goods_id, sku_id), _ = sorted(_sku_prices(sb, cred.mall_id).items())[0]
    changes = read_price_csv(
        io.StringIO(f"goodsId,skuId,price\n{goods_id},{sku_id},12.34\n"), default_shop=shop_name
    )
    async with _app(sb) as app:
        with SqliteStore(tmp_path / "p.sqlite") as store:
            await _pull(sb, app, store)
            # The gateway reads the request, then the connection dies: did it run?
            sb.faults.set_for_type(CHANGE_PRICE_TYPE, drop_rate=1.0)
            shops = {shop_name: app.shop(cred.access_token, name=shop_name)}
            rows = await push_prices(shops, store, changes)
    assert [r.status for r in rows] == ["unknown"]
    assert "not safe to repeat" in rows[0].detail
    assert sb.counters.faults["drop"] == 1  # sent once, never again
    out = io.StringIO()
    write_report(rows, out, "csv")
    assert ",unknown," in out.getvalue().splitlines()[1]


def test_plan_flags_a_currency_that_differs_from_the_stored_one(tmp_path: Path) -> None:
    from temu_async.sync import PriceRow

    with SqliteStore(tmp_path / "p.sqlite") as store:
        store.put_prices([PriceRow("s", 1, 2, "9.99", "USD")])
        changes = read_price_csv(
            io.StringIO("goodsId,skuId,price,currency\n1,2,9.99,EUR\n"), default_shop="s"
        )
        [row] = plan_push(store, changes)
    assert row.status == "failed" and "EUR" in row.detail
