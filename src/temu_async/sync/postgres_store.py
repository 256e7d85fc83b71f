"""The production sync store: PostgreSQL, shared by many workers on many hosts.

The same contract as :class:`~temu_async.sync.sqlite_store.SqliteStore`: orders upserted by
(shop, parentOrderSn) keeping the newest by update time, SKU prices, a price push log, and
the per-shop checkpoint committed in the same transaction as its rows. On top, shop leases
(:mod:`temu_async.sync.leases`) let several workers split the shops between them.

The sync calls its store from one writer thread with plain (blocking) calls, so this class
offers the same blocking methods; underneath, an asyncpg pool lives on an event loop of the
store's own, in a background thread. Needs the ``postgres`` extra (asyncpg).

A commit can be *fenced*: after :meth:`fence` (the lease worker does it), a shop's rows and
checkpoint are written only while that worker still holds the shop's lease, checked inside
the same transaction. A worker that stalled past its lease can then never overwrite the
work of the worker that took the shop over.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Iterable, Sequence
from typing import Any, TypeVar

import msgspec

from temu_async.store_errors import StoreError
from temu_async.sync.postgres_schema import migrate
from temu_async.sync.records import (
    CommitResult,
    OrderRecord,
    ShopState,
    StoredVersion,
    order_rows,
    rows_to_write,
)
from temu_async.sync.sqlite_store import PriceRow
from temu_async.sync.write_log import (
    APPLIED,
    OPEN_STATES,
    PRICE_WRITES_SELECT,
    PriceWrite,
    WriteState,
    price_write_from_row,
)

__all__ = ["LeaseLost", "PostgresStore"]

T = TypeVar("T")
_ORDERS = "orders"

_UPSERT = """
INSERT INTO orders (shop, parent_order_sn, status, update_time, create_time,
                    parent_json, children_json, detail_json, shipping_json, synced_at)
VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9::jsonb, $10)
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


class LeaseLost(RuntimeError):
    """This worker no longer holds the shop's lease: its rows were not written."""


def _redacted(url: str) -> str:
    """The URL without its password, for reprs and errors."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at:
        return url
    user = creds.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}" if ":" in creds else url


async def _end_of_lease(
    conn: Any, shop: str, owner: str, until: Any | None, *, released: bool
) -> None:
    """Record in the owner's latest history row of ``shop`` how long it held the lease
    (``until`` None: the transaction's own now())."""
    await conn.execute(
        "UPDATE shop_lease_history SET held_until = COALESCE($3::timestamptz, now()),"
        " released = $4"
        " WHERE id = (SELECT max(id) FROM shop_lease_history WHERE shop = $1 AND owner = $2)",
        shop,
        owner,
        until,
        released,
    )


class _LoopThread:
    """An event loop in a daemon thread; blocking callers submit coroutines to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="temu-postgres", daemon=True
        )
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class PostgresStore:
    """Orders, prices, checkpoints and shop leases in PostgreSQL (``postgresql://…``)."""

    def __init__(self, url: str, *, pool_size: int = 4, connect_timeout: float = 10.0) -> None:
        try:
            import asyncpg
        except ImportError:
            raise RuntimeError(
                "PostgresStore needs asyncpg: pip install 'temu-async[postgres]'"
            ) from None
        self.url = url
        self._asyncpg = asyncpg
        self._fences: dict[str, str] = {}
        self._loop = _LoopThread()
        try:
            self._pool: asyncpg.Pool = self._loop.run(self._open(url, pool_size, connect_timeout))
            self.migrated_from = self._loop.run(self._migrate())
        except Exception as exc:
            self._loop.stop()
            raise RuntimeError(
                f"cannot use PostgreSQL at {_redacted(url)}: {type(exc).__name__}: {exc}"
            ) from None

    def __repr__(self) -> str:
        return f"PostgresStore({_redacted(self.url)!r})"

    async def _open(self, url: str, size: int, timeout: float) -> Any:
        # The pool binds to the loop it is created on: create it on the store's own.
        return await self._asyncpg.create_pool(url, min_size=1, max_size=size, timeout=timeout)

    async def _migrate(self) -> int:
        async with self._pool.acquire() as conn:
            return await migrate(conn)

    def close(self) -> None:
        try:
            self._loop.run(self._pool.close())
        finally:
            self._loop.stop()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fetch(self, sql: str, *args: Any) -> list[Any]:
        return self._loop.run(self._pool.fetch(sql, *args))

    def _execute(self, sql: str, *args: Any) -> str:
        return self._loop.run(self._pool.execute(sql, *args))

    # ---- orders -------------------------------------------------------------------

    def load_state(self, shop: str, kind: str = _ORDERS) -> ShopState:
        rows = self._fetch(
            "SELECT state_json::text FROM sync_state WHERE kind = $1 AND shop = $2", kind, shop
        )
        return ShopState() if not rows else ShopState.decode(rows[0][0])

    def stored_versions(self, shop: str, sns: Sequence[str]) -> dict[str, StoredVersion]:
        rows = self._fetch(
            "SELECT parent_order_sn, update_time, detail_json IS NOT NULL,"
            " shipping_json IS NOT NULL FROM orders"
            " WHERE shop = $1 AND parent_order_sn = ANY($2::text[])",
            shop,
            list(sns),
        )
        return {r[0]: StoredVersion(r[1], bool(r[2]), bool(r[3])) for r in rows}

    def fence(self, shop: str, owner: str | None) -> None:
        """Write ``shop`` only while ``owner`` holds its lease (None: unfenced)."""
        if owner is None:
            self._fences.pop(shop, None)
        else:
            self._fences[shop] = owner

    def commit(
        self, shop: str, records: Iterable[OrderRecord], state: ShopState, kind: str = _ORDERS
    ) -> CommitResult:
        return self._loop.run(self._commit(shop, list(records), state, kind))

    async def _commit(
        self, shop: str, batch: list[OrderRecord], state: ShopState, kind: str
    ) -> CommitResult:
        now = int(time.time())
        async with self._pool.acquire() as conn, conn.transaction():
            owner = self._fences.get(shop)
            if owner is not None:
                holder = await conn.fetchval(
                    "SELECT owner FROM shop_leases WHERE shop = $1 AND expires_at > now()"
                    " FOR UPDATE",
                    shop,
                )
                if holder != owner:
                    raise LeaseLost(
                        f"shop {shop}: the lease is no longer this worker's ({owner}); "
                        "nothing written"
                    )
            sns = list(dict.fromkeys(r.parent_order_sn for r in batch))
            stored = {
                r[0]: r[1]
                for r in await conn.fetch(
                    "SELECT parent_order_sn, update_time FROM orders"
                    " WHERE shop = $1 AND parent_order_sn = ANY($2::text[]) FOR UPDATE",
                    shop,
                    sns,
                )
            }
            result, to_write = rows_to_write(batch, stored)
            rows = order_rows(shop, to_write, now)
            if rows:
                await conn.executemany(_UPSERT, rows)
            await conn.execute(
                "INSERT INTO sync_state (kind, shop, state_json, updated_at)"
                " VALUES ($1, $2, $3::jsonb, $4)"
                " ON CONFLICT (kind, shop) DO UPDATE SET state_json = excluded.state_json,"
                " updated_at = excluded.updated_at",
                kind,
                shop,
                state.encode().decode(),
                now,
            )
        return result

    def order_count(self, shop: str | None = None) -> int:
        if shop is None:
            rows = self._fetch("SELECT count(*) FROM orders")
        else:
            rows = self._fetch("SELECT count(*) FROM orders WHERE shop = $1", shop)
        return int(rows[0][0])

    def order_sns(self, shop: str) -> set[str]:
        return {
            r[0] for r in self._fetch("SELECT parent_order_sn FROM orders WHERE shop = $1", shop)
        }

    def order_versions(self, shop: str) -> dict[str, tuple[int | None, int | None]]:
        """parentOrderSn -> (update_time, status), for checks and reports."""
        rows = self._fetch(
            "SELECT parent_order_sn, update_time, status FROM orders WHERE shop = $1", shop
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    def order(self, shop: str, parent_order_sn: str) -> dict[str, Any] | None:
        rows = self._fetch(
            "SELECT parent_json::text, children_json::text, detail_json::text,"
            " shipping_json::text FROM orders WHERE shop = $1 AND parent_order_sn = $2",
            shop,
            parent_order_sn,
        )
        if not rows:
            return None
        parent, children, detail, shipping = (
            msgspec.json.decode(v) if v is not None else None for v in rows[0]
        )
        return {
            "parentOrderMap": parent,
            "orderList": children,
            "detail": detail,
            "shipping": shipping,
        }

    def shops(self) -> list[str]:
        return [r[0] for r in self._fetch("SELECT DISTINCT shop FROM orders ORDER BY shop")]

    # ---- prices -------------------------------------------------------------------

    def put_prices(self, rows: Iterable[PriceRow]) -> tuple[int, int]:
        """Upsert SKU prices; returns (new rows, rows whose price changed)."""
        return self._loop.run(self._put_prices(list(rows)))

    async def _put_prices(self, batch: list[PriceRow]) -> tuple[int, int]:
        now = int(time.time())
        new = changed = 0
        async with self._pool.acquire() as conn, conn.transaction():
            for r in batch:
                old = await conn.fetchrow(
                    "SELECT amount, currency FROM prices WHERE shop = $1 AND goods_id = $2"
                    " AND sku_id = $3 FOR UPDATE",
                    r.shop,
                    r.goods_id,
                    r.sku_id,
                )
                if old is None:
                    new += 1
                elif (old[0], old[1]) != (r.amount, r.currency):
                    changed += 1
            await conn.executemany(
                "INSERT INTO prices (shop, goods_id, sku_id, amount, currency, goods_name,"
                " pulled_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
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
        status = self._execute(
            "DELETE FROM prices WHERE shop = $1 AND pulled_at < $2", shop, pulled_before
        )
        return int(status.split()[-1])

    def prices(self, shop: str | None = None) -> dict[tuple[str, int, int], PriceRow]:
        sql = "SELECT shop, goods_id, sku_id, amount, currency, goods_name FROM prices"
        rows = self._fetch(sql + " WHERE shop = $1", shop) if shop is not None else self._fetch(sql)
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
        self._execute(
            "INSERT INTO price_pushes (shop, goods_id, sku_id, old_amount, new_amount,"
            " currency, outcome, detail, pushed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            shop,
            goods_id,
            sku_id,
            old,
            new,
            currency,
            outcome,
            detail,
            int(time.time()),
        )

    # ---- the price write log (see temu_async.sync.write_log) -------------------------

    def begin_price_writes(self, writes: Sequence[PriceWrite]) -> list[int]:
        """Commit one ``sending`` row per write, in one transaction; their ids.

        Refused (StoreError, nothing committed) when a SKU has an open write, or when its
        stored price is no longer the write's old price: another worker changed it since
        this push planned, and sending would repeat (or undo) that change.
        """
        return self._loop.run(self._begin(list(writes)))

    async def _begin(self, writes: list[PriceWrite]) -> list[int]:
        now = int(time.time() * 1000)
        ids: list[int] = []
        async with self._pool.acquire() as conn, conn.transaction():
            for w in writes:
                stored = await conn.fetchrow(
                    "SELECT amount FROM prices WHERE shop = $1 AND goods_id = $2 AND sku_id = $3"
                    " FOR UPDATE",
                    w.shop,
                    w.goods_id,
                    w.sku_id,
                )
                if stored is not None and stored[0] != w.old_amount:
                    raise StoreError(
                        f"{self}: SKU {w.sku_id} of shop {w.shop} is now {stored[0]}, not "
                        f"{w.old_amount} as planned (another push changed it); plan again"
                    )
                try:
                    write_id = await conn.fetchval(
                        "INSERT INTO price_writes (shop, goods_id, sku_id, old_amount,"
                        " new_amount, currency, state, detail, started_at)"
                        " VALUES ($1, $2, $3, $4, $5, $6, 'sending', $7, $8) RETURNING id",
                        w.shop,
                        w.goods_id,
                        w.sku_id,
                        w.old_amount,
                        w.new_amount,
                        w.currency,
                        w.detail,
                        now,
                    )
                except self._asyncpg.UniqueViolationError:
                    raise StoreError(
                        f"{self}: SKU {w.sku_id} of shop {w.shop} has a price write whose"
                        " outcome is not known yet; it must be read back before another is sent"
                    ) from None
                ids.append(int(write_id))
        return ids

    def settle_price_writes(self, outcomes: Sequence[tuple[int, WriteState, str]]) -> None:
        """Record each write's outcome in one transaction; ``applied`` updates the price."""
        self._loop.run(self._settle(list(outcomes)))

    async def _settle(self, outcomes: list[tuple[int, WriteState, str]]) -> None:
        now = int(time.time() * 1000)
        async with self._pool.acquire() as conn, conn.transaction():
            for write_id, state, detail in outcomes:
                row = await conn.fetchrow(
                    "UPDATE price_writes SET state = $1, detail = $2, settled_at = $3"
                    " WHERE id = $4 RETURNING shop, goods_id, sku_id, new_amount, currency",
                    state,
                    detail,
                    now,
                    write_id,
                )
                if row is None:
                    raise StoreError(f"{self}: no price write with id {write_id}")
                if state == APPLIED:
                    await conn.execute(
                        "UPDATE prices SET amount = $1, currency = COALESCE($2, currency)"
                        " WHERE shop = $3 AND goods_id = $4 AND sku_id = $5",
                        row[3],
                        row[4],
                        row[0],
                        row[1],
                        row[2],
                    )

    def open_price_writes(self, shop: str | None = None) -> list[PriceWrite]:
        """Writes still ``sending`` or ``unknown``, oldest first."""
        sql = PRICE_WRITES_SELECT + " WHERE state = ANY($1::text[])"
        args: list[Any] = [sorted(OPEN_STATES)]
        if shop is not None:
            sql += " AND shop = $2"
            args.append(shop)
        rows = self._fetch(sql + " ORDER BY id", *args)
        return [price_write_from_row(r) for r in rows]

    # ---- shop leases ----------------------------------------------------------------

    def acquire_lease(self, shop: str, owner: str, ttl: float) -> bool:
        """Take ``shop`` for ``ttl`` seconds unless another owner holds a live lease."""
        return self._loop.run(self._acquire(shop, owner, ttl))

    async def _acquire(self, shop: str, owner: str, ttl: float) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "INSERT INTO shop_leases (shop, owner, expires_at)"
                " VALUES ($1, $2, now() + make_interval(secs => $3))"
                " ON CONFLICT (shop) DO UPDATE SET owner = excluded.owner,"
                " expires_at = excluded.expires_at"
                " WHERE shop_leases.expires_at <= now() OR shop_leases.owner = excluded.owner"
                " RETURNING expires_at",
                shop,
                owner,
                float(ttl),
            )
            if row is None:
                return False
            await conn.execute(
                "INSERT INTO shop_lease_history (shop, owner, acquired_at, held_until)"
                " VALUES ($1, $2, now(), $3)",
                shop,
                owner,
                row[0],
            )
            return True

    def renew_lease(self, shop: str, owner: str, ttl: float) -> bool:
        """Extend a lease this owner still holds; False when it ran out or was taken."""
        return self._loop.run(self._renew(shop, owner, ttl))

    async def _renew(self, shop: str, owner: str, ttl: float) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "UPDATE shop_leases SET expires_at = now() + make_interval(secs => $3)"
                " WHERE shop = $1 AND owner = $2 AND expires_at > now() RETURNING expires_at",
                shop,
                owner,
                float(ttl),
            )
            if row is None:
                return False
            await _end_of_lease(conn, shop, owner, row[0], released=False)
            return True

    def release_lease(self, shop: str, owner: str) -> None:
        self._loop.run(self._release(shop, owner))

    async def _release(self, shop: str, owner: str) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            done = await conn.execute(
                "DELETE FROM shop_leases WHERE shop = $1 AND owner = $2", shop, owner
            )
            if done.split()[-1] != "0":
                await _end_of_lease(conn, shop, owner, None, released=True)

    def lease_candidates(
        self, shops: Sequence[str], fresh_since: int, kind: str = _ORDERS
    ) -> tuple[list[str], list[str]]:
        """(fresh, free) among ``shops``, in one query: ``fresh`` ones a finished sync has
        brought up to ``fresh_since``; ``free`` ones that are not fresh and that no live
        lease holds (worth trying to lease)."""
        rows = self._fetch(
            "SELECT s.shop, (st.state_json ->> 'synced_through')::bigint,"
            " st.state_json ? 'run_start', l.shop IS NOT NULL"
            " FROM unnest($1::text[]) AS s(shop)"
            " LEFT JOIN sync_state st ON st.kind = $2 AND st.shop = s.shop"
            " LEFT JOIN shop_leases l ON l.shop = s.shop AND l.expires_at > now()",
            list(shops),
            kind,
        )
        fresh, free = [], []
        for shop, through, in_progress, leased in rows:
            if through is not None and not in_progress and through >= fresh_since:
                fresh.append(shop)
            elif not leased:
                free.append(shop)
        return fresh, free

    def lease_history(self, shop: str | None = None) -> list[tuple[str, str, float, float]]:
        """(shop, owner, acquired, held until) of every lease taken, as unix seconds."""
        sql = (
            "SELECT shop, owner, extract(epoch FROM acquired_at)::float8,"
            " extract(epoch FROM held_until)::float8 FROM shop_lease_history"
        )
        rows = (
            self._fetch(sql + " WHERE shop = $1 ORDER BY id", shop)
            if shop is not None
            else self._fetch(sql + " ORDER BY id")
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]
