"""The default sync store: one SQLite file holding orders, prices and checkpoints.

WAL mode, so readers (a dashboard, a test) can query while a sync writes. Every
commit is one ``BEGIN IMMEDIATE ... COMMIT``: the page's rows and the shop's
checkpoint land together or not at all, which is what makes ``kill -9`` safe.
``synchronous=NORMAL`` survives a killed process; pass ``durable=True`` for
``FULL`` (also survives power loss, at some speed).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from temu_async.sync.records import CommitResult, OrderRecord, ShopState, StoredVersion

__all__ = ["PriceRow", "SqliteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    shop            TEXT NOT NULL,
    parent_order_sn TEXT NOT NULL,
    status          INTEGER,
    update_time     INTEGER,
    create_time     INTEGER,
    parent_json     TEXT NOT NULL,
    children_json   TEXT NOT NULL,
    detail_json     TEXT,
    shipping_json   TEXT,
    synced_at       INTEGER NOT NULL,
    PRIMARY KEY (shop, parent_order_sn)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS orders_by_update ON orders (shop, update_time);
CREATE TABLE IF NOT EXISTS sync_state (
    kind       TEXT NOT NULL,
    shop       TEXT NOT NULL,
    state_json TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, shop)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS prices (
    shop       TEXT NOT NULL,
    goods_id   INTEGER NOT NULL,
    sku_id     INTEGER NOT NULL,
    amount     TEXT,
    currency   TEXT,
    goods_name TEXT,
    pulled_at  INTEGER NOT NULL,
    PRIMARY KEY (shop, goods_id, sku_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS price_pushes (
    id         INTEGER PRIMARY KEY,
    shop       TEXT NOT NULL,
    goods_id   INTEGER NOT NULL,
    sku_id     INTEGER NOT NULL,
    old_amount TEXT,
    new_amount TEXT NOT NULL,
    currency   TEXT,
    outcome    TEXT NOT NULL,
    detail     TEXT,
    pushed_at  INTEGER NOT NULL
);
"""

# A newer version never loses to an older page (two windows can both hold an order
# that changed between their requests). Enrichment already stored is kept when
# this run did not ask for it.
_UPSERT = """
INSERT INTO orders (shop, parent_order_sn, status, update_time, create_time,
                    parent_json, children_json, detail_json, shipping_json, synced_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (shop, parent_order_sn) DO UPDATE SET
    status = excluded.status,
    update_time = excluded.update_time,
    create_time = excluded.create_time,
    parent_json = excluded.parent_json,
    children_json = excluded.children_json,
    detail_json = COALESCE(excluded.detail_json, orders.detail_json),
    shipping_json = COALESCE(excluded.shipping_json, orders.shipping_json),
    synced_at = excluded.synced_at
WHERE orders.update_time IS NULL
   OR excluded.update_time IS NULL
   OR excluded.update_time >= orders.update_time
"""

_ORDERS = "orders"
_CHUNK = 500
"""Most host parameters per ``IN (...)`` (SQLite's limit is at least 999)."""


def _json(value: Any) -> str | None:
    return None if value is None else msgspec.json.encode(value).decode()


@dataclass(frozen=True)
class PriceRow:
    shop: str
    goods_id: int
    sku_id: int
    amount: str | None
    currency: str | None
    goods_name: str | None = None


class SqliteStore:
    """Orders keyed by (shop, parentOrderSn), SKU prices, checkpoints, a price push log."""

    def __init__(self, path: str | Path, *, durable: bool = False) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are opened explicitly, never implicitly.
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        cur = self._db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        else:
            cur.execute("COMMIT")
        finally:
            cur.close()

    # ---- orders -------------------------------------------------------------------

    def load_state(self, shop: str, kind: str = _ORDERS) -> ShopState:
        row = self._db.execute(
            "SELECT state_json FROM sync_state WHERE kind = ? AND shop = ?", (kind, shop)
        ).fetchone()
        return ShopState() if row is None else ShopState.decode(row[0])

    def stored_versions(self, shop: str, sns: Sequence[str]) -> dict[str, StoredVersion]:
        out: dict[str, StoredVersion] = {}
        for i in range(0, len(sns), _CHUNK):
            part = list(sns[i : i + _CHUNK])
            marks = ",".join("?" * len(part))
            rows = self._db.execute(
                "SELECT parent_order_sn, update_time, detail_json IS NOT NULL,"
                " shipping_json IS NOT NULL FROM orders"
                f" WHERE shop = ? AND parent_order_sn IN ({marks})",
                (shop, *part),
            )
            for sn, updated, has_detail, has_shipping in rows:
                out[sn] = StoredVersion(updated, bool(has_detail), bool(has_shipping))
        return out

    def commit(
        self, shop: str, records: Iterable[OrderRecord], state: ShopState, kind: str = _ORDERS
    ) -> CommitResult:
        batch = list(records)
        result = CommitResult()
        now = int(time.time())
        rows = []
        with self._tx() as cur:
            before = self._versions_in(cur, shop, [r.parent_order_sn for r in batch])
            for rec in batch:
                old = before.get(rec.parent_order_sn, ...)
                if old is ...:
                    result.new += 1
                    result.fresh_sns.append(rec.parent_order_sn)
                elif old is not None and rec.update_time is not None and rec.update_time < old:
                    result.stale += 1
                    continue
                elif old == rec.update_time and old is not None:
                    result.same += 1
                else:
                    result.changed += 1
                    result.fresh_sns.append(rec.parent_order_sn)
                rows.append(
                    (
                        shop,
                        rec.parent_order_sn,
                        rec.status,
                        rec.update_time,
                        rec.create_time,
                        _json(rec.parent),
                        _json(rec.children),
                        _json(rec.detail),
                        _json(rec.shipping),
                        now,
                    )
                )
                # Later duplicates in the same batch compare against this version.
                before[rec.parent_order_sn] = rec.update_time
            cur.executemany(_UPSERT, rows)
            cur.execute(
                "INSERT INTO sync_state (kind, shop, state_json, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (kind, shop) DO UPDATE SET state_json = excluded.state_json,"
                " updated_at = excluded.updated_at",
                (kind, shop, state.encode().decode(), now),
            )
        return result

    @staticmethod
    def _versions_in(cur: sqlite3.Cursor, shop: str, sns: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        unique = list(dict.fromkeys(sns))
        for i in range(0, len(unique), _CHUNK):
            part = unique[i : i + _CHUNK]
            marks = ",".join("?" * len(part))
            cur.execute(
                "SELECT parent_order_sn, update_time FROM orders"
                f" WHERE shop = ? AND parent_order_sn IN ({marks})",
                (shop, *part),
            )
            out.update(cur.fetchall())
        return out

    def order_count(self, shop: str | None = None) -> int:
        if shop is None:
            row = self._db.execute("SELECT COUNT(*) FROM orders").fetchone()
        else:
            row = self._db.execute("SELECT COUNT(*) FROM orders WHERE shop = ?", (shop,)).fetchone()
        return int(row[0])

    def order_sns(self, shop: str) -> set[str]:
        rows = self._db.execute("SELECT parent_order_sn FROM orders WHERE shop = ?", (shop,))
        return {r[0] for r in rows}

    def order_versions(self, shop: str) -> dict[str, tuple[int | None, int | None]]:
        """parentOrderSn -> (update_time, status), for checks and reports."""
        rows = self._db.execute(
            "SELECT parent_order_sn, update_time, status FROM orders WHERE shop = ?", (shop,)
        )
        return {sn: (updated, status) for sn, updated, status in rows}

    def order(self, shop: str, parent_order_sn: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT parent_json, children_json, detail_json, shipping_json FROM orders"
            " WHERE shop = ? AND parent_order_sn = ?",
            (shop, parent_order_sn),
        ).fetchone()
        if row is None:
            return None
        parent, children, detail, shipping = (
            msgspec.json.decode(v) if v is not None else None for v in row
        )
        return {
            "parentOrderMap": parent,
            "orderList": children,
            "detail": detail,
            "shipping": shipping,
        }

    def shops(self) -> list[str]:
        rows = self._db.execute("SELECT DISTINCT shop FROM orders ORDER BY shop")
        return [r[0] for r in rows]

    # ---- prices -------------------------------------------------------------------

    def put_prices(self, rows: Iterable[PriceRow]) -> tuple[int, int]:
        """Upsert SKU prices; returns (new rows, rows whose price changed)."""
        batch = list(rows)
        now = int(time.time())
        new = changed = 0
        with self._tx() as cur:
            for r in batch:
                cur.execute(
                    "SELECT amount, currency FROM prices WHERE shop = ? AND goods_id = ?"
                    " AND sku_id = ?",
                    (r.shop, r.goods_id, r.sku_id),
                )
                old = cur.fetchone()
                if old is None:
                    new += 1
                elif tuple(old) != (r.amount, r.currency):
                    changed += 1
            cur.executemany(
                "INSERT INTO prices (shop, goods_id, sku_id, amount, currency, goods_name,"
                " pulled_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (shop, goods_id, sku_id) DO UPDATE SET amount = excluded.amount,"
                " currency = excluded.currency,"
                " goods_name = COALESCE(excluded.goods_name, prices.goods_name),"
                " pulled_at = excluded.pulled_at",
                [
                    (r.shop, r.goods_id, r.sku_id, r.amount, r.currency, r.goods_name, now)
                    for r in batch
                ],
            )
        return new, changed

    def drop_prices_before(self, shop: str, pulled_before: int) -> int:
        """Forget SKUs a complete pull no longer saw (deleted goods, removed SKUs)."""
        with self._tx() as cur:
            cur.execute(
                "DELETE FROM prices WHERE shop = ? AND pulled_at < ?", (shop, pulled_before)
            )
            return cur.rowcount

    def prices(self, shop: str | None = None) -> dict[tuple[str, int, int], PriceRow]:
        sql = "SELECT shop, goods_id, sku_id, amount, currency, goods_name FROM prices"
        rows = (
            self._db.execute(sql + " WHERE shop = ?", (shop,))
            if shop is not None
            else self._db.execute(sql)
        )
        return {(r[0], r[1], r[2]): PriceRow(*r) for r in rows}

    def log_push(
        self,
        shop: str,
        goods_id: int,
        sku_id: int,
        old: str | None,
        new: str,
        currency: str | None,
        outcome: str,
        detail: str,
    ) -> None:
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO price_pushes (shop, goods_id, sku_id, old_amount, new_amount,"
                " currency, outcome, detail, pushed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (shop, goods_id, sku_id, old, new, currency, outcome, detail, int(time.time())),
            )
