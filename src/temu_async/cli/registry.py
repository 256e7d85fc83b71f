"""The command table and the parser built from it.

A command is one module in :mod:`temu_async.cli.commands` plus one line in
:data:`COMMANDS`. The module defines ``add_arguments(parser)`` and ``run(args)``
(plain or ``async``); its imports are its own business, because only the module
of the command being run is imported (``temu-async types`` never loads the sync,
SQLite or CSV code). ``--help`` lists every command from this table alone.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["COMMANDS", "GROUPS", "Command", "build_parser"]


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]
    """Words on the command line: ``("sync", "prices", "pull")``."""
    module: str
    """Module under ``temu_async.cli.commands``."""
    help: str


COMMANDS: tuple[Command, ...] = (
    Command(("call",), "call", "call one API type, print the result"),
    Command(("types",), "types", "list the API types of the catalogue"),
    Command(("describe",), "describe", "params, result, limits and errors of one type"),
    Command(("sandbox",), "sandbox", "run the local fake gateway and print its credentials"),
    Command(("sync", "orders"), "sync_orders", "incremental order sync"),
    Command(("sync", "prices", "pull"), "prices_pull", "store every SKU's price"),
    Command(
        ("sync", "prices", "push"),
        "prices_push",
        "send changed prices from a CSV (goodsId,skuId,price)",
    ),
    Command(("demo",), "demo", "sandbox + order sync + price pull"),
    Command(("labels", "buy"), "labels_buy", "buy and download shipping labels for orders"),
    Command(("ship",), "ship", "confirm self-shipped orders from a CSV of tracking numbers"),
    Command(("doctor",), "doctor", "check credentials, region, scopes, expiry, clock, Redis"),
    Command(("webhooks", "list"), "webhooks_list", "events in the webhook receiver's inbox"),
    Command(("webhooks", "replay"), "webhooks_replay", "run dead-letter events again"),
)

# Help and metavar of the words that group commands (``sync``, ``sync prices``).
GROUPS: dict[tuple[str, ...], tuple[str, str]] = {
    (): ("", "COMMAND"),
    ("sync",): ("bulk sync: orders, prices", "WHAT"),
    ("sync", "prices"): ("SKU supply prices: pull, push", "pull|push"),
    ("labels",): ("buy-shipping labels: buy", "buy"),
    ("webhooks",): ("the durable webhook receiver's inbox: list, replay", "list|replay"),
}

_DESCRIPTION = "Temu Partner API from the command line: calls, catalogue, sandbox, syncs."
_EPILOG = (
    "Credentials: TEMU_APP_KEY, TEMU_APP_SECRET, TEMU_ACCESS_TOKEN(S), TEMU_REGION,"
    " or --config FILE. They are never accepted as arguments."
    " TEMU_BASE_URL (or --base-url) points the commands at another gateway, such as"
    " `temu-async sandbox`; unset, they call the region's real gateway."
)


def _chosen(argv: Sequence[str]) -> Command | None:
    """The command ``argv`` names, judged from its leading words (options skipped)."""
    words = [a for a in argv if not a.startswith("-")]
    for command in COMMANDS:
        if tuple(words[: len(command.path)]) == command.path:
            return command
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The full parser; given ``argv``, only the command it names gets its arguments.

    That keeps ``temu-async types`` from importing every other command's module.
    """
    parser = argparse.ArgumentParser(prog="temu-async", description=_DESCRIPTION, epilog=_EPILOG)
    only = _chosen(argv) if argv is not None else None
    subparsers: dict[tuple[str, ...], argparse._SubParsersAction[argparse.ArgumentParser]] = {}

    def subs_of(path: tuple[str, ...]) -> argparse._SubParsersAction[argparse.ArgumentParser]:
        if path not in subparsers:
            if path:
                help_text, _ = GROUPS[path]
                owner = subs_of(path[:-1]).add_parser(path[-1], help=help_text)
            else:
                owner = parser
            dest = "command" if not path else "_".join(("sub", *path))
            subparsers[path] = owner.add_subparsers(
                dest=dest, required=True, metavar=GROUPS[path][1]
            )
        return subparsers[path]

    for command in COMMANDS:
        p = subs_of(command.path[:-1]).add_parser(command.path[-1], help=command.help)
        if argv is None or command is only:
            _attach(p, command)
    return parser


def _attach(p: argparse.ArgumentParser, command: Command) -> None:
    module = importlib.import_module(f"temu_async.cli.commands.{command.module}")
    module.add_arguments(p)
    run = module.run
    p.set_defaults(run=run, is_async=inspect.iscoroutinefunction(run))
