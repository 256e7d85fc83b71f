"""One contract, two stores: SqliteStore and PostgresStore (a real PostgreSQL on loopback).

Every test here runs against both backends; what one store promises, the other keeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from temu_async.store_errors import StoreError
from temu_async.sync import SqliteStore
from temu_async.sync.records import OrderRecord, ShopState
from temu_async.sync.sqlite_store import PriceRow
from temu_async.sync.write_log import PriceWrite

pg = pytest.importorskip("asyncpg")


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "sqlite":
        with SqliteStore(tmp_path / "store.sqlite") as s:
            yield s
        return
    from temu_async.sync.postgres_store import PostgresStore

    with PostgresStore(request.getfixturevalue("postgres_url")) as s:
        yield s


def rec(sn: str, updated: int | None, status: int = 1, **kw: Any) -> OrderRecord:
    parent = {"parentOrderSn": sn, "updateTime": updated, "parentOrderStatus": status}
    return OrderRecord(sn, updated, parent, [{"orderSn": sn + "-1"}], **kw)


def test_upsert_keeps_the_newest_version_and_counts_what_it_did(store: Any) -> None:
    state = ShopState(synced_through=100)
    first = store.commit("s1", [rec("A", 10), rec("B", 20)], state)
    assert (first.new, first.changed, first.same, first.stale) == (2, 0, 0, 0)
    again = store.commit("s1", [rec("A", 10), rec("B", 15, status=9), rec("C", 5)], state)
    assert (again.new, again.changed, again.same, again.stale) == (1, 0, 1, 1)
    newer = store.commit("s1", [rec("A", 30, status=4)], state)
    assert (newer.changed, newer.fresh_sns) == (1, ["A"])
    assert store.order_versions("s1") == {"A": (30, 4), "B": (20, 1), "C": (5, 1)}
    assert store.order_count() == 3 and store.order_count("s1") == 3
    assert store.order_sns("s1") == {"A", "B", "C"}
    assert store.shops() == ["s1"]


def test_rows_of_one_shop_do_not_touch_another(store: Any) -> None:
    store.commit("s1", [rec("A", 10)], ShopState())
    store.commit("s2", [rec("A", 99, status=3)], ShopState())
    assert store.order_versions("s1") == {"A": (10, 1)}
    assert store.order_versions("s2") == {"A": (99, 3)}


def test_checkpoint_is_committed_with_its_rows_or_not_at_all(store: Any) -> None:
    store.commit("s1", [rec("A", 10)], ShopState(synced_through=10))
    broken = rec("B", 20)
    broken.parent["bad"] = object()  # cannot be stored: the commit fails mid-way
    with pytest.raises(TypeError):
        store.commit("s1", [rec("A", 50), broken], ShopState(synced_through=50))
    assert store.load_state("s1").synced_through == 10
    assert store.order_versions("s1") == {"A": (10, 1)}
    assert store.load_state("nobody") == ShopState()


def test_enrichment_stays_when_a_later_page_lacks_it(store: Any) -> None:
    store.commit("s1", [rec("A", 10, detail={"d": 1}, shipping={"s": 2})], ShopState())
    store.commit("s1", [rec("A", 11)], ShopState())
    row = store.order("s1", "A")
    assert row["detail"] == {"d": 1} and row["shipping"] == {"s": 2}
    assert row["parentOrderMap"]["updateTime"] == 11
    versions = store.stored_versions("s1", ["A", "missing"])
    assert list(versions) == ["A"]
    assert versions["A"].has_detail and versions["A"].has_shipping
    assert store.order("s1", "missing") is None


def test_prices_upsert_and_drop_and_the_push_log(store: Any) -> None:
    rows = [PriceRow("s1", 1, 11, "9.99", "USD", "Mug"), PriceRow("s1", 1, 12, "5.00", "USD")]
    assert store.put_prices(rows) == (2, 0)
    assert store.put_prices([PriceRow("s1", 1, 11, "8.99", "USD")]) == (0, 1)
    prices = store.prices("s1")
    assert prices[("s1", 1, 11)] == PriceRow("s1", 1, 11, "8.99", "USD", "Mug")
    assert store.prices() == prices
    assert store.drop_prices_before("s1", 2**62) == 2
    assert store.prices() == {}
    store.log_push("s1", 1, 11, "8.99", "7.99", "USD", "changed", "ok")


def test_an_older_schema_upgrades_in_place_and_keeps_its_rows(postgres_url: str) -> None:
    import asyncio

    import asyncpg

    from temu_async.sync.postgres_schema import SCHEMA_VERSION, migrate
    from temu_async.sync.postgres_store import PostgresStore

    url = postgres_url

    async def make_v1() -> None:
        conn = await asyncpg.connect(url)
        assert await migrate(conn, target=1) == 0
        await conn.execute(
            "INSERT INTO orders (shop, parent_order_sn, status, update_time, parent_json,"
            " children_json, synced_at) VALUES ('s1', 'OLD', 2, 7, '{}', '[]', 1)"
        )
        await conn.execute(
            "INSERT INTO sync_state VALUES ('orders', 's1', '{\"synced_through\": 7}', 1)"
        )
        await conn.close()

    asyncio.run(make_v1())
    with PostgresStore(url) as store:
        assert store.migrated_from == 1
        assert store.order_versions("s1") == {"OLD": (7, 2)}
        assert store.load_state("s1").synced_through == 7
        assert store.acquire_lease("s1", "w1", 30)  # a table of the newer schema
    with PostgresStore(url) as again:
        assert again.migrated_from == SCHEMA_VERSION  # nothing left to do


def test_the_write_log_refuses_a_second_open_write_for_a_sku(store: Any) -> None:
    [first] = store.begin_price_writes([PriceWrite("a", 1, 2, "1.00", "2.00", "USD")])
    with pytest.raises(StoreError, match=r"SKU 2 of shop a .* read back"):
        store.begin_price_writes(
            [
                PriceWrite("a", 1, 3, "1.00", "2.00", "USD"),
                PriceWrite("a", 1, 2, "1.00", "3.00", "USD"),
            ]
        )
    # Nothing of the refused batch was committed.
    assert [(w.sku_id, w.state) for w in store.open_price_writes()] == [(2, "sending")]
    store.settle_price_writes([(first, "unknown", "timeout")])
    assert [w.state for w in store.open_price_writes("a")] == ["unknown"]
    store.settle_price_writes([(first, "not_applied", "read back 1.00")])
    assert store.open_price_writes() == []
    # An applied write moves the stored price, in the same transaction as its outcome.
    store.put_prices([PriceRow("a", 1, 2, "1.00", "USD")])
    [again] = store.begin_price_writes([PriceWrite("a", 1, 2, "1.00", "3.00", "USD")])
    assert store.prices()[("a", 1, 2)].amount == "1.00"
    store.settle_price_writes([(again, "applied", "price order 9")])
    assert store.prices()[("a", 1, 2)].amount == "3.00"
    with pytest.raises(StoreError, match="no price write with id 999"):
        store.settle_price_writes([(999, "failed", "")])


def test_postgres_refuses_a_write_planned_against_a_price_another_push_changed(
    postgres_url: str,
) -> None:
    # Two workers pushing the same CSV: the second plans from the old price, the first
    # applies; the second's intent must be refused rather than send the change again.

    from temu_async.sync.postgres_store import PostgresStore

    with PostgresStore(postgres_url) as store:
        store.put_prices([PriceRow("a", 1, 2, "1.00", "USD")])
        [first] = store.begin_price_writes([PriceWrite("a", 1, 2, "1.00", "3.00", "USD")])
        store.settle_price_writes([(first, "applied", "ok")])
        with pytest.raises(StoreError, match=r"SKU 2 of shop a is now 3.00, not 1.00"):
            store.begin_price_writes([PriceWrite("a", 1, 2, "1.00", "3.00", "USD")])
        assert store.open_price_writes() == []
