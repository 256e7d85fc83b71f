"""The PostgreSQL store's schema, as numbered migrations applied on open.

Each migration is applied once, in order, inside one transaction together with the bump of
``temu_schema.version``; an advisory lock makes several workers that start at once apply
them one after the other (the later ones find nothing left to do). Migrations only ever add:
an older database upgrades in place and keeps its rows. A database newer than this code is
refused rather than written with assumptions that no longer hold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncpg
    import asyncpg.pool

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SchemaTooNew", "migrate"]

_LOCK = 0x7465_6D75  # "temu": the advisory lock id migrations serialise on

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE orders (
            shop            TEXT NOT NULL,
            parent_order_sn TEXT NOT NULL,
            status          INTEGER,
            update_time     BIGINT,
            create_time     BIGINT,
            parent_json     JSONB NOT NULL,
            children_json   JSONB NOT NULL,
            detail_json     JSONB,
            shipping_json   JSONB,
            synced_at       BIGINT NOT NULL,
            PRIMARY KEY (shop, parent_order_sn)
        );
        CREATE INDEX orders_by_update ON orders (shop, update_time);
        CREATE TABLE sync_state (
            kind       TEXT NOT NULL,
            shop       TEXT NOT NULL,
            state_json JSONB NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (kind, shop)
        );
        CREATE TABLE prices (
            shop       TEXT NOT NULL,
            goods_id   BIGINT NOT NULL,
            sku_id     BIGINT NOT NULL,
            amount     TEXT,
            currency   TEXT,
            goods_name TEXT,
            pulled_at  BIGINT NOT NULL,
            PRIMARY KEY (shop, goods_id, sku_id)
        );
        CREATE TABLE price_pushes (
            id         BIGSERIAL PRIMARY KEY,
            shop       TEXT NOT NULL,
            goods_id   BIGINT NOT NULL,
            sku_id     BIGINT NOT NULL,
            old_amount TEXT,
            new_amount TEXT NOT NULL,
            currency   TEXT,
            outcome    TEXT NOT NULL,
            detail     TEXT,
            pushed_at  BIGINT NOT NULL
        );
        """,
    ),
    (
        2,
        # Shops leased to workers: who holds one and until when (database time, so the
        # workers' own clocks never matter), plus every lease ever taken, for audits.
        """
        CREATE TABLE shop_leases (
            shop       TEXT PRIMARY KEY,
            owner      TEXT NOT NULL,
            expires_at TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE shop_lease_history (
            id          BIGSERIAL PRIMARY KEY,
            shop        TEXT NOT NULL,
            owner       TEXT NOT NULL,
            acquired_at TIMESTAMPTZ NOT NULL,
            held_until  TIMESTAMPTZ NOT NULL,
            released    BOOLEAN NOT NULL DEFAULT FALSE
        );
        CREATE INDEX shop_lease_history_by_shop ON shop_lease_history (shop, acquired_at);
        """,
    ),
    (
        3,
        # The price write log (temu_async.sync.write_log): an intent before each price
        # change, its outcome after; at most one open write per SKU, by the database.
        """
        CREATE TABLE price_writes (
            id         BIGSERIAL PRIMARY KEY,
            shop       TEXT NOT NULL,
            goods_id   BIGINT NOT NULL,
            sku_id     BIGINT NOT NULL,
            old_amount TEXT,
            new_amount TEXT NOT NULL,
            currency   TEXT,
            state      TEXT NOT NULL,
            detail     TEXT NOT NULL DEFAULT '',
            started_at BIGINT NOT NULL,
            settled_at BIGINT
        );
        CREATE UNIQUE INDEX price_writes_open ON price_writes (shop, goods_id, sku_id)
            WHERE state IN ('sending', 'unknown');
        """,
    ),
    (
        4,
        # Fulfilment state (temu_async.fulfilment.store): label packages and confirms.
        """
        CREATE TABLE fulfilment (
            kind       TEXT NOT NULL,
            shop       TEXT NOT NULL,
            key        TEXT NOT NULL,
            phase      TEXT NOT NULL,
            data_json  JSONB NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (kind, shop, key)
        );
        """,
    ),
)

SCHEMA_VERSION = MIGRATIONS[-1][0]


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer temu-async than this one."""


async def migrate(
    conn: asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any],
    target: int = SCHEMA_VERSION,
) -> int:
    """Bring the schema up to ``target``; returns the version it was at before."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
        await conn.execute("CREATE TABLE IF NOT EXISTS temu_schema (version INTEGER NOT NULL)")
        current = await conn.fetchval("SELECT max(version) FROM temu_schema")
        before = int(current or 0)
        if before > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"the database's schema is version {before}, this temu-async knows up to "
                f"{SCHEMA_VERSION}: upgrade temu-async"
            )
        for version, sql in MIGRATIONS:
            if before < version <= target:
                await conn.execute(sql)
                await conn.execute("INSERT INTO temu_schema (version) VALUES ($1)", version)
    return before
