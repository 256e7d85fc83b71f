"""``--db``: a SQLite file, or a ``postgresql://`` URL for PostgreSQL (and several workers)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from temu_async.cli.settings import ConfigError

if TYPE_CHECKING:
    from temu_async.fulfilment.store import FulfilmentStore
    from temu_async.sync.postgres_store import PostgresStore
    from temu_async.sync.sqlite_store import SqliteStore

__all__ = ["is_postgres_url", "open_fulfilment_store", "open_store"]


def is_postgres_url(db: str) -> bool:
    return db.startswith(("postgresql://", "postgres://"))


def open_postgres(url: str) -> PostgresStore:
    from temu_async.sync.postgres_store import PostgresStore

    try:
        return PostgresStore(url)
    except RuntimeError as exc:  # its message names the server, never the password
        raise ConfigError(f"--db: {exc}") from None


def open_store(args: argparse.Namespace) -> SqliteStore | PostgresStore:
    """The store ``--db`` names (SQLite waits ``--lock-wait`` for another writer)."""
    if is_postgres_url(args.db):
        return open_postgres(args.db)
    from temu_async.sync.sqlite_store import SqliteStore

    return SqliteStore(args.db, lock_wait=args.lock_wait)


async def open_fulfilment_store(db: str) -> FulfilmentStore:
    """Label and confirm state: a SQLite file, or PostgreSQL for several workers."""
    if is_postgres_url(db):
        from temu_async.fulfilment.postgres_store import PostgresFulfilmentStore

        return await PostgresFulfilmentStore.open(db)
    from temu_async.fulfilment.sqlite_store import SqliteFulfilmentStore

    return SqliteFulfilmentStore(db)


def where(args: argparse.Namespace) -> str:
    """How a summary line names the store (no password)."""
    if is_postgres_url(args.db):
        host = args.db.rpartition("@")[2]
        return f"PostgreSQL {host}"
    return f"SQLite {args.db}"
