"""``temu-async webhooks replay EVENT_ID...``: make dead (or done) events due again."""

from __future__ import annotations

import argparse

from temu_async.cli.commands.webhooks_list import add_db_argument, open_inbox


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_db_argument(p)
    p.add_argument("event_id", nargs="+", help="event ids from `webhooks list`")


def run(args: argparse.Namespace) -> int:
    failed = 0
    with open_inbox(args) as inbox:
        for event_id in args.event_id:
            if inbox.replay(event_id):
                print(f"{event_id}: due again now (the running receiver picks it up)")
                continue
            failed += 1
            found = inbox.get(event_id)
            why = "no such event" if found is None else f"it is {found.state}, not dead or done"
            print(f"{event_id}: not replayed: {why}")
    return 1 if failed else 0
