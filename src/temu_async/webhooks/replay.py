"""Remembering which events were already accepted, so that none is processed twice.

A repeat is recognised by the event (:attr:`WebhookDelivery.event_id`: app key, event code
and a digest of the decrypted payload), not by the delivery's signature: Temu may stamp a
retry anew, which changes the signature but not the event. Keys are remembered for the
verifier's whole horizon (Temu's ~28 h retry schedule plus a margin), because a copy of an
event can arrive that late.

:class:`ReplayCache` is the whole contract. Three stores ship: :class:`MemoryReplayCache`
(one process, lost on restart), :class:`SqliteReplayCache` (durable, one host) and
:class:`~temu_async.webhooks.redis_replay.RedisReplayCache` (several receivers).
"""

from __future__ import annotations

import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

__all__ = ["MemoryReplayCache", "ReplayCache", "SqliteReplayCache"]


@runtime_checkable
class ReplayCache(Protocol):
    """Where accepted delivery keys are remembered."""

    async def claim(self, key: str, ttl: float) -> bool:
        """Remember ``key`` for ``ttl`` seconds. False if it is already remembered.

        Must be atomic: of two concurrent claims of one key, exactly one returns True.
        """
        ...

    async def release(self, key: str) -> None:
        """Forget ``key`` (processing failed: Temu's retry of it must get through)."""
        ...


class MemoryReplayCache:
    """An in-process :class:`ReplayCache` holding at most ``max_entries`` keys.

    When full of unexpired keys it forgets the oldest: memory stays bounded under a flood, at
    the cost of accepting again an event that was pushed out. It forgets everything on a
    restart: use :class:`SqliteReplayCache` (or Redis) where a repeat must never run twice.
    """

    def __init__(
        self, max_entries: int = 10_000, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not isinstance(max_entries, int) or isinstance(max_entries, bool) or max_entries < 1:
            raise ValueError(f"max_entries must be a positive integer, got {max_entries!r}")
        self._max = max_entries
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._expiry)

    def __repr__(self) -> str:
        return f"MemoryReplayCache(entries={len(self._expiry)}, max_entries={self._max})"

    async def claim(self, key: str, ttl: float) -> bool:
        # No await in here: check-and-set is atomic on the event loop.
        now = self._clock()
        expires = self._expiry.get(key)
        if expires is not None and expires > now:
            return False
        self._expiry.pop(key, None)
        self._expiry[key] = now + max(ttl, 0.0)
        self._prune(now)
        return True

    async def release(self, key: str) -> None:
        self._expiry.pop(key, None)

    def _prune(self, now: float) -> None:
        # Keys are in insertion order; TTLs differ a little per key, so this drops the expired
        # ones at the old end and stops at the first live one (cheap, amortised O(1)).
        while self._expiry:
            oldest, expires = next(iter(self._expiry.items()))
            if expires > now and len(self._expiry) <= self._max:
                break
            del self._expiry[oldest]


def open_sqlite(path: str, what: str, schema: str) -> sqlite3.Connection:
    """A webhook SQLite file (WAL, autocommit) with ``schema`` applied; ValueError naming
    ``what`` when the path is a directory or not a usable database."""
    if path != ":memory:" and Path(path).is_dir():
        raise ValueError(f"{what} {path!r} is a directory, not a database file")
    try:
        db = sqlite3.connect(path, timeout=5.0, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(schema)
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"{what} {path!r} cannot be used: {exc}") from None
    return db


class SqliteReplayCache:
    """A durable :class:`ReplayCache` in a SQLite file: a receiver restart forgets nothing.

    Several processes on one host may share the file (claims are one atomic statement).
    Expired keys are deleted as new ones come in, so the file holds about one horizon of
    events.
    """

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = str(path)
        self._db = open_sqlite(
            self.path,
            "replay cache",
            "CREATE TABLE IF NOT EXISTS webhook_seen"
            " (key TEXT PRIMARY KEY, expires_at REAL NOT NULL) WITHOUT ROWID;",
        )
        self._clock = clock
        self._claims = 0

    def __repr__(self) -> str:
        return f"SqliteReplayCache({self.path!r})"

    def close(self) -> None:
        self._db.close()

    async def claim(self, key: str, ttl: float) -> bool:
        now = self._clock()
        # One statement: a fresh key is inserted, an expired one taken over, a live one kept
        # (the WHERE of the upsert leaves it alone and no row counts as changed).
        cur = self._db.execute(
            "INSERT INTO webhook_seen (key, expires_at) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at"
            " WHERE webhook_seen.expires_at <= ?",
            (key, now + max(ttl, 0.0), now),
        )
        self._claims += 1
        if self._claims % 1000 == 0:
            self._db.execute("DELETE FROM webhook_seen WHERE expires_at <= ?", (now,))
        return cur.rowcount == 1

    async def release(self, key: str) -> None:
        self._db.execute("DELETE FROM webhook_seen WHERE key = ?", (key,))
