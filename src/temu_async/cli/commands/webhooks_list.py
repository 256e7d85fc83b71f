"""``temu-async webhooks list``: what the durable receiver's inbox holds, newest first.

The inbox is the SQLite file a :class:`~temu_async.webhooks.WebhookReceiver` stores events
in (``db=``). Dead letters (events whose callback kept failing) stay there until replayed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
from pathlib import Path

from temu_async.cli.settings import ConfigError
from temu_async.cli.values import whole
from temu_async.webhooks.inbox import STATES, InboxEvent, WebhookInbox


def add_db_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        default="webhooks.sqlite",
        help="the receiver's inbox file (WebhookReceiver(db=...); default webhooks.sqlite)",
    )


def open_inbox(args: argparse.Namespace) -> WebhookInbox:
    path = Path(args.db)
    if not path.is_file():
        raise ConfigError(f"--db {args.db}: no such inbox file (the receiver's db= path)")
    try:
        return WebhookInbox(path)
    except ValueError as exc:
        raise ConfigError(f"--db {args.db}: {exc}") from None
    except sqlite3.DatabaseError:
        raise ConfigError(
            f"--db {args.db}: not an SQLite inbox (give the file the receiver's db= names)"
        ) from None


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _row(e: InboxEvent) -> dict[str, object]:
    return {
        "event_id": e.event_id,
        "state": e.state,
        "event_code": e.delivery.event_code,
        "attempts": e.attempts,
        "received_at": _when(e.received_at),
        "last_error": e.last_error,
        "payload": e.delivery.payload,
    }


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_db_argument(p)
    p.add_argument("--state", choices=STATES, help="only events in this state")
    p.add_argument("--limit", type=whole(1), default=50, help="newest N events (default 50)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")


def run(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise ConfigError(f"--limit must be >= 1, got {args.limit}")
    with open_inbox(args) as inbox:
        events = inbox.list(args.state, args.limit)
        counts = inbox.counts()
    if args.json:
        for e in events:
            print(json.dumps(_row(e), ensure_ascii=False))
        return 0
    print("  ".join(f"{state} {n}" for state, n in counts.items()))
    for e in events:
        error = f"  {e.last_error}" if e.last_error else ""
        print(
            f"{e.event_id}  {e.state:<7}  {e.delivery.event_code:<34}  "
            f"tries {e.attempts}  {_when(e.received_at)}{error}"
        )
    return 0
