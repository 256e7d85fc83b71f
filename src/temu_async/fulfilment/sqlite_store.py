"""The embedded fulfilment store: one SQLite table, one transaction per save.

WAL and ``synchronous=FULL`` by default: the record written before a label purchase
is the only thing that stops a rerun after a crash from buying it again, so it
must be on disk when ``save`` returns, not merely handed to the OS.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import msgspec

from temu_async.fulfilment.store import FulfilmentRecord
from temu_async.store_errors import StoreError, StoreLocked

__all__ = ["SqliteFulfilmentStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS fulfilment (
    kind       TEXT NOT NULL,
    shop       TEXT NOT NULL,
    key        TEXT NOT NULL,
    phase      TEXT NOT NULL,
    data_json  TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (kind, shop, key)
) WITHOUT ROWID;
"""

_SAVE = """
INSERT INTO fulfilment (kind, shop, key, phase, data_json, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (kind, shop, key) DO UPDATE SET
    phase = excluded.phase, data_json = excluded.data_json, updated_at = excluded.updated_at
"""


class SqliteFulfilmentStore:
    def __init__(self, path: str | Path, *, durable: bool = True, lock_wait: float = 10.0) -> None:
        self.path = Path(path)
        where = f"SQLite file {path}"
        if "://" in str(path):
            raise StoreError(f"{where}: looks like a URL, not a file path")
        try:
            if self.path.is_dir():
                raise StoreError(f"{where}: is a directory; give a file path")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None)
        except OSError as exc:
            raise StoreError(f"{where}: cannot create it ({exc.strerror})") from None
        except sqlite3.Error as exc:
            raise StoreError(f"{where}: cannot be opened ({exc})") from None
        try:
            self._db.execute(f"PRAGMA busy_timeout={int(lock_wait * 1000)}")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            self._db.close()
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise StoreLocked(where, lock_wait) from None
            if "not a database" in text:
                raise StoreError(f"{where}: is not an SQLite database; give a new file") from None
            if "disk I/O" in text:
                raise StoreError(f"{where}: cannot hold a database (a device?)") from None
            raise StoreError(f"{where}: cannot be used ({text})") from None

    def __repr__(self) -> str:
        return f"SqliteFulfilmentStore({str(self.path)!r})"

    async def __aenter__(self) -> SqliteFulfilmentStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def get(self, kind: str, shop: str, key: str) -> FulfilmentRecord | None:
        row = self._db.execute(
            "SELECT phase, data_json, updated_at FROM fulfilment WHERE kind=? AND shop=? AND key=?",
            (kind, shop, key),
        ).fetchone()
        if row is None:
            return None
        return FulfilmentRecord(kind, shop, key, row[0], msgspec.json.decode(row[1]), row[2])

    async def save(self, record: FulfilmentRecord) -> None:
        now = time.time()
        record.updated_at = now
        data = msgspec.json.encode(record.data).decode()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute(
                _SAVE, (record.kind, record.shop, record.key, record.phase, data, now, now)
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    async def records(self, kind: str, shop: str | None = None) -> list[FulfilmentRecord]:
        sql = "SELECT shop, key, phase, data_json, updated_at FROM fulfilment WHERE kind=?"
        args: tuple[str, ...] = (kind,)
        if shop is not None:
            sql += " AND shop=?"
            args += (shop,)
        rows = self._db.execute(sql + " ORDER BY created_at, key", args).fetchall()
        return [
            FulfilmentRecord(kind, r[0], r[1], r[2], msgspec.json.decode(r[3]), r[4]) for r in rows
        ]

    async def close(self) -> None:
        self._db.close()
