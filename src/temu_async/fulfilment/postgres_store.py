"""The fulfilment store on PostgreSQL: label packages and confirms shared by many workers.

The same four methods as :class:`~temu_async.fulfilment.sqlite_store.SqliteFulfilmentStore`,
on the schema :class:`~temu_async.sync.postgres_store.PostgresStore` migrates (one
``fulfilment`` table). A ``save`` is one committed transaction when it returns, which is
what keeps a rerun after a crash from buying a label twice. Needs the ``postgres`` extra.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec

from temu_async.fulfilment.store import FulfilmentRecord
from temu_async.store_errors import StoreError
from temu_async.sync.postgres_schema import migrate

__all__ = ["PostgresFulfilmentStore"]

_SAVE = """
INSERT INTO fulfilment (kind, shop, key, phase, data_json, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5::jsonb, $6, $6)
ON CONFLICT (kind, shop, key) DO UPDATE SET
    phase = excluded.phase, data_json = excluded.data_json, updated_at = excluded.updated_at
"""


class PostgresFulfilmentStore:
    """Open with ``await PostgresFulfilmentStore.open("postgresql://…")``."""

    def __init__(self, pool: Any, where: str) -> None:
        self._pool = pool
        self._where = where

    @classmethod
    async def open(cls, url: str, *, pool_size: int = 4) -> PostgresFulfilmentStore:
        try:
            import asyncpg
        except ImportError:
            raise StoreError(
                "PostgreSQL needs asyncpg: pip install 'temu-async[postgres]'"
            ) from None
        where = f"PostgreSQL {url.rpartition('@')[2]}"
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=pool_size)
            async with pool.acquire() as conn:
                await migrate(conn)
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"{where}: cannot be used ({type(exc).__name__}: {exc})") from None
        return cls(pool, where)

    def __repr__(self) -> str:
        return f"PostgresFulfilmentStore({self._where!r})"

    async def __aenter__(self) -> PostgresFulfilmentStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def get(self, kind: str, shop: str, key: str) -> FulfilmentRecord | None:
        row = await self._pool.fetchrow(
            "SELECT phase, data_json::text, updated_at FROM fulfilment"
            " WHERE kind = $1 AND shop = $2 AND key = $3",
            kind,
            shop,
            key,
        )
        if row is None:
            return None
        return FulfilmentRecord(kind, shop, key, row[0], msgspec.json.decode(row[1]), row[2])

    async def save(self, record: FulfilmentRecord) -> None:
        now = time.time()
        record.updated_at = now
        data = msgspec.json.encode(record.data).decode()
        await self._pool.execute(
            _SAVE, record.kind, record.shop, record.key, record.phase, data, now
        )

    async def records(self, kind: str, shop: str | None = None) -> list[FulfilmentRecord]:
        sql = "SELECT shop, key, phase, data_json::text, updated_at FROM fulfilment WHERE kind = $1"
        args: list[Any] = [kind]
        if shop is not None:
            sql += " AND shop = $2"
            args.append(shop)
        rows = await self._pool.fetch(sql + " ORDER BY created_at, key", *args)
        return [
            FulfilmentRecord(kind, r[0], r[1], r[2], msgspec.json.decode(r[3]), r[4]) for r in rows
        ]

    async def close(self) -> None:
        await self._pool.close()
