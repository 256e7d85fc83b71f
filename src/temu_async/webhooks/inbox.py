"""The durable intake: received events in a SQLite file until they are processed.

Temu wants HTTP 200 within 500 ms, while the work an event triggers (a sync, a label, a
message to a person) may take seconds and may fail. So a receiver stores the verified event
here, answers 200, and a :class:`~temu_async.webhooks.processor.WebhookProcessor` runs the
callback later, at least once, with retries and dead letters.

One row per *event* (:attr:`WebhookDelivery.event_id`), never per delivery: a second
delivery of an event already here is recognised by the primary key and not stored again.
Rows move ``pending`` -> ``running`` (leased to one processor for ``lease`` seconds, so a
processor killed mid-callback gives the event back when its lease runs out) -> ``done``, or
back to ``pending`` with a later ``next_at`` after a failure, or to ``dead`` after the last
attempt. Done rows are kept for the replay horizon and then pruned; dead ones stay until an
operator replays or deletes them (``temu-async webhooks list|replay``).

WAL mode and a busy timeout let the CLI read the file while a receiver writes it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import msgspec

from temu_async.webhooks.events import EventRegistry, WebhookDelivery, to_event
from temu_async.webhooks.replay import open_sqlite

__all__ = ["STATES", "InboxEvent", "WebhookInbox"]

State = Literal["pending", "running", "done", "dead"]
STATES: tuple[State, ...] = ("pending", "running", "done", "dead")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_events (
    event_id    TEXT PRIMARY KEY,
    app_key     TEXT NOT NULL,
    event_code  TEXT NOT NULL,
    timestamp   INTEGER NOT NULL,
    ext_param   TEXT NOT NULL,
    payload     BLOB NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at REAL NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     REAL NOT NULL,
    lease_until REAL,
    last_error  TEXT,
    finished_at REAL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS webhook_events_due ON webhook_events (state, next_at);
"""

_COLUMNS = (
    "event_id, app_key, event_code, timestamp, ext_param, payload, delivery_id, received_at, "
    "state, attempts, next_at, last_error, finished_at"
)


class InboxEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One stored event, as a processor or an operator sees it."""

    event_id: str
    """The event's identity: the same for every delivery of it. Use it to make a callback
    idempotent (it may run more than once if the process dies mid-way)."""
    delivery: WebhookDelivery
    state: State
    attempts: int
    """Callback runs started so far (1 while the first runs)."""
    received_at: float
    """Unix seconds when the first delivery was stored."""
    next_at: float
    last_error: str | None = None
    finished_at: float | None = None


class WebhookInbox:
    """Received webhook events in one SQLite file (``":memory:"`` for a test)."""

    def __init__(
        self,
        path: str | Path,
        *,
        registry: EventRegistry | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = str(path)
        self._db = open_sqlite(self.path, "webhook inbox", _SCHEMA)
        self._registry = registry
        self._clock = clock

    def __repr__(self) -> str:
        return f"WebhookInbox({self.path!r})"

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> WebhookInbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE: two processors on one file never lease the same row.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # ---- intake -------------------------------------------------------------------------
    def add(self, delivery: WebhookDelivery) -> bool:
        """Store a verified delivery's event; False when that event is already stored."""
        now = self._clock()
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO webhook_events (event_id, app_key, event_code, timestamp, ext_param,"
                " payload, delivery_id, received_at, state, next_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT DO NOTHING",
                (
                    delivery.event_id,
                    delivery.app_key,
                    delivery.event_code,
                    delivery.timestamp,
                    delivery.ext_param,
                    msgspec.json.encode(delivery.payload),
                    delivery.delivery_id,
                    now,
                    now,
                ),
            )
            return cur.rowcount == 1

    # ---- processing ---------------------------------------------------------------------
    def lease_due(self, limit: int, lease: float) -> list[InboxEvent]:
        """Take up to ``limit`` events that are due (or whose lease ran out) for ``lease`` s."""
        now = self._clock()
        with self._tx() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM webhook_events"
                " WHERE (state = 'pending' AND next_at <= ?)"
                " OR (state = 'running' AND lease_until <= ?)"
                " ORDER BY next_at, received_at LIMIT ?",
                (now, now, limit),
            ).fetchall()
            db.executemany(
                "UPDATE webhook_events SET state = 'running', attempts = attempts + 1,"
                " lease_until = ? WHERE event_id = ?",
                [(now + lease, row[0]) for row in rows],
            )
        return [self._event(row, state="running", attempts=row[9] + 1) for row in rows]

    def next_due(self) -> float | None:
        """When the earliest pending event (or running lease) comes due; None if none."""
        row = self._db.execute(
            "SELECT MIN(CASE state WHEN 'pending' THEN next_at ELSE lease_until END)"
            " FROM webhook_events WHERE state IN ('pending', 'running')"
        ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def mark_done(self, event_id: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE webhook_events SET state = 'done', lease_until = NULL, last_error = NULL,"
                " finished_at = ? WHERE event_id = ?",
                (self._clock(), event_id),
            )

    def mark_failed(self, event_id: str, error: str, retry_at: float | None) -> None:
        """Record a failed run: due again at ``retry_at``, or dead when it is None."""
        with self._tx() as db:
            if retry_at is None:
                db.execute(
                    "UPDATE webhook_events SET state = 'dead', lease_until = NULL,"
                    " last_error = ?, finished_at = ? WHERE event_id = ?",
                    (error, self._clock(), event_id),
                )
            else:
                db.execute(
                    "UPDATE webhook_events SET state = 'pending', lease_until = NULL,"
                    " last_error = ?, next_at = ? WHERE event_id = ?",
                    (error, retry_at, event_id),
                )

    # ---- operators ----------------------------------------------------------------------
    def get(self, event_id: str) -> InboxEvent | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM webhook_events WHERE event_id = ?", (event_id,)
        ).fetchone()
        return None if row is None else self._event(row)

    def list(self, state: State | None = None, limit: int = 100) -> list[InboxEvent]:
        """Stored events, newest first, optionally of one state."""
        if state is not None and state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}, got {state!r}")
        where, args = ("WHERE state = ?", (state,)) if state else ("", ())
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM webhook_events {where}"
            " ORDER BY received_at DESC, event_id LIMIT ?",
            (*args, limit),
        ).fetchall()
        return [self._event(row) for row in rows]

    def counts(self) -> dict[str, int]:
        """How many events are in each state (every state named, zeros included)."""
        out: dict[str, int] = dict.fromkeys(STATES, 0)
        for state, n in self._db.execute(
            "SELECT state, COUNT(*) FROM webhook_events GROUP BY state"
        ):
            out[state] = n
        return out

    def replay(self, event_id: str) -> bool:
        """Make a dead (or done) event due now, with a fresh attempt count.

        False when there is no such event, or it is still pending or running.
        """
        with self._tx() as db:
            cur = db.execute(
                "UPDATE webhook_events SET state = 'pending', attempts = 0, next_at = ?,"
                " finished_at = NULL WHERE event_id = ? AND state IN ('dead', 'done')",
                (self._clock(), event_id),
            )
            return cur.rowcount == 1

    def prune(self, older_than: float) -> int:
        """Delete done events finished more than ``older_than`` seconds ago."""
        with self._tx() as db:
            cur = db.execute(
                "DELETE FROM webhook_events WHERE state = 'done' AND finished_at < ?",
                (self._clock() - older_than,),
            )
            return cur.rowcount

    def _event(
        self, row: tuple[Any, ...], *, state: State | None = None, attempts: int | None = None
    ) -> InboxEvent:
        (
            event_id,
            app_key,
            code,
            timestamp,
            ext_param,
            payload_bytes,
            delivery_id,
            received_at,
            stored_state,
            stored_attempts,
            next_at,
            last_error,
            finished_at,
        ) = row
        payload = msgspec.json.decode(payload_bytes)
        delivery = WebhookDelivery(
            app_key=str(app_key),
            event_code=str(code),
            timestamp=int(timestamp),
            ext_param=str(ext_param),
            event=to_event(str(code), payload, self._registry),
            payload=payload,
            delivery_id=str(delivery_id),
            event_id=str(event_id),
        )
        return InboxEvent(
            event_id=str(event_id),
            delivery=delivery,
            state=(state or stored_state),
            attempts=int(attempts if attempts is not None else stored_attempts),
            received_at=float(received_at),
            next_at=float(next_at),
            last_error=None if last_error is None else str(last_error),
            finished_at=None if finished_at is None else float(finished_at),
        )
