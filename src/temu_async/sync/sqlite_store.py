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

from temu_async.store_errors import StoreError, StoreLocked
from temu_async.sync.records import (
    CommitResult,
    OrderRecord,
    ShopState,
    StoredVersion,
    order_rows,
    rows_to_write,
)
from temu_async.sync.write_log import (
    APPLIED,
    OPEN_STATES,
    PRICE_WRITES_SELECT,
    PriceWrite,
    WriteState,
    price_write_from_row,
)

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
CREATE TABLE IF NOT EXISTS price_writes (
    id         INTEGER PRIMARY KEY,
    shop       TEXT NOT NULL,
    goods_id   INTEGER NOT NULL,
    sku_id     INTEGER NOT NULL,
    old_amount TEXT,
    new_amount TEXT NOT NULL,
    currency   TEXT,
    state      TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    started_at INTEGER NOT NULL,
    settled_at INTEGER
);
-- At most one open write per SKU: a second intent for a SKU whose last write may have run
-- is refused by the database itself, whatever the caller does.
CREATE UNIQUE INDEX IF NOT EXISTS price_writes_open ON price_writes (shop, goods_id, sku_id)
    WHERE state IN ('sending', 'unknown');
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


@dataclass(frozen=True)
class PriceRow:
    shop: str
    goods_id: int
    sku_id: int
    amount: str | None
    currency: str | None
    goods_name: str | None = None


def _locked(exc: sqlite3.Error) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc)
    )


def _open_error(where: str, exc: BaseException) -> StoreError:
    text = str(exc)
    if "file is not a database" in text:
        why = "is not an SQLite database; give --db a new or an SQLite file"
    elif "unable to open" in text:
        why = "cannot be opened as a database file (a directory, or no permission?)"
    elif "disk I/O error" in text:
        why = "cannot be used as a database file (a device such as /dev/null?)"
    elif "readonly" in text:
        why = "is read-only"
    else:
        why = f"cannot be used ({text})"
    return StoreError(f"{where}: {why}")


class SqliteStore:
    """Orders keyed by (shop, parentOrderSn), SKU prices, checkpoints, the price write log.

    Opening takes the write lock once (to create the tables), so a database another
    process holds locked fails here, before a sync sends anything, with
    :class:`~temu_async.store_errors.StoreLocked` after one wait of
    ``lock_wait`` seconds. A lock met later is waited for once; after that the
    store fails fast until the lock is gone, so many shops do not each wait in turn.
    """

    def __init__(self, path: str | Path, *, durable: bool = False, lock_wait: float = 10.0) -> None:
        self.path = Path(path)
        self.lock_wait = lock_wait
        self._gave_up = False
        where = f"SQLite file {path}"
        self._where = where
        if "://" in str(path):
            raise StoreError(
                f"{where}: looks like a URL, not a file path (this store is SQLite; give a file)"
            )
        try:
            if str(path) != ":memory:":
                if self.path.is_dir():
                    raise StoreError(f"{where}: is a directory; give a file path")
                self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: transactions are opened explicitly, never implicitly.
            self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        except OSError as exc:
            raise StoreError(f"{where}: cannot create it ({exc.strerror})") from None
        except sqlite3.Error as exc:
            raise _open_error(where, exc) from None
        try:
            self._db.execute(f"PRAGMA busy_timeout={int(lock_wait * 1000)}")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            # Taking the write lock here finds a locked or unwritable file before any
            # request is sent.
            self._db.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._db.close()
            if _locked(exc):
                raise StoreLocked(where, lock_wait) from None
            raise _open_error(where, exc) from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _begin(self, cur: sqlite3.Cursor) -> None:
        try:
            cur.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            if not _locked(exc):
                raise StoreError(f"{self._where}: {exc}") from None
            if not self._gave_up:
                # Waited once: from now on fail fast until the lock is gone, so the
                # other shops of this run do not each wait the full time again.
                self._gave_up = True
                self._db.execute("PRAGMA busy_timeout=0")
            raise StoreLocked(self._where, self.lock_wait) from None
        if self._gave_up:
            self._gave_up = False
            self._db.execute(f"PRAGMA busy_timeout={int(self.lock_wait * 1000)}")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        cur = self._db.cursor()
        self._begin(cur)
        try:
            yield cur
        except BaseException as exc:
            if self._db.in_transaction:
                cur.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"{self._where}: {exc}") from exc
            raise
        else:
            try:
                cur.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    cur.execute("ROLLBACK")
                raise StoreError(f"{self._where}: {exc}") from exc
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
        now = int(time.time())
        with self._tx() as cur:
            stored = self._versions_in(cur, shop, [r.parent_order_sn for r in batch])
            result, to_write = rows_to_write(batch, stored)
            rows = order_rows(shop, to_write, now)
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

    # ---- the price write log (contract: temu_async.sync.write_log) -----------------

    def begin_price_writes(self, writes: Sequence[PriceWrite]) -> list[int]:
        """Commit one ``sending`` row per write, in one transaction; their ids.

        A SKU with an open write (``sending``/``unknown``) is refused (StoreError) and
        nothing is committed: its last write may have run, and must be read back first.
        """
        now = int(time.time() * 1000)
        ids: list[int] = []
        with self._tx() as cur:
            for w in writes:
                try:
                    cur.execute(
                        "INSERT INTO price_writes (shop, goods_id, sku_id, old_amount,"
                        " new_amount, currency, state, detail, started_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, 'sending', ?, ?)",
                        (
                            w.shop,
                            w.goods_id,
                            w.sku_id,
                            w.old_amount,
                            w.new_amount,
                            w.currency,
                            w.detail,
                            now,
                        ),
                    )
                except sqlite3.IntegrityError:
                    raise StoreError(
                        f"{self._where}: SKU {w.sku_id} of shop {w.shop} has a price write whose"
                        " outcome is not known yet; it must be read back before another is sent"
                    ) from None
                assert cur.lastrowid is not None
                ids.append(cur.lastrowid)
        return ids

    def settle_price_writes(self, outcomes: Sequence[tuple[int, WriteState, str]]) -> None:
        """Record each write's outcome in one transaction; ``applied`` updates the price."""
        now = int(time.time() * 1000)
        with self._tx() as cur:
            for write_id, state, detail in outcomes:
                cur.execute(
                    "UPDATE price_writes SET state = ?, detail = ?, settled_at = ? WHERE id = ?",
                    (state, detail, now, write_id),
                )
                if cur.rowcount != 1:
                    raise StoreError(f"{self._where}: no price write with id {write_id}")
                if state == APPLIED:
                    cur.execute(
                        "SELECT shop, goods_id, sku_id, new_amount, currency FROM price_writes"
                        " WHERE id = ?",
                        (write_id,),
                    )
                    shop, goods_id, sku_id, amount, currency = cur.fetchone()
                    cur.execute(
                        "UPDATE prices SET amount = ?, currency = COALESCE(?, currency)"
                        " WHERE shop = ? AND goods_id = ? AND sku_id = ?",
                        (amount, currency, shop, goods_id, sku_id),
                    )

    def open_price_writes(self, shop: str | None = None) -> list[PriceWrite]:
        """Writes still ``sending`` or ``unknown``, oldest first."""
        sql = PRICE_WRITES_SELECT + " WHERE state IN (?, ?)"
        args: tuple[Any, ...] = tuple(sorted(OPEN_STATES))
        if shop is not None:
            sql += " AND shop = ?"
            args += (shop,)
        rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        return [price_write_from_row(r) for r in rows]

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
        """One line of the old push log (table ``price_pushes``); the push itself now keeps
        the write log above (``price_writes``). Kept for callers that log on their own."""
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO price_pushes (shop, goods_id, sku_id, old_amount, new_amount,"
                " currency, outcome, detail, pushed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (shop, goods_id, sku_id, old, new, currency, outcome, detail, int(time.time())),
            )
