"""Flags several commands share: connection and output, shop selection, the SQLite file."""

from __future__ import annotations

import argparse

from temu_async.cli.settings import REGIONS
from temu_async.cli.values import finite, whole

__all__ = [
    "DEFAULT_DB",
    "add_connection_flags",
    "add_lock_wait_flag",
    "add_store_flags",
    "add_token_env_flags",
]

DEFAULT_DB = "out/temu.sqlite"


def add_connection_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("connection and output")
    g.add_argument("--config", metavar="FILE", help="TOML/JSON config (default: $TEMU_CONFIG)")
    g.add_argument("--region", choices=REGIONS, help="default: $TEMU_REGION or us")
    g.add_argument(
        "--base-url",
        metavar="URL",
        help="gateway URL, e.g. a sandbox's (default: $TEMU_BASE_URL, else the region's real one)",
    )
    g.add_argument("--rate-limit", type=whole(1), metavar="N", help="requests/s for the app")
    g.add_argument(
        "--redis",
        metavar="URL",
        help="share the app's rate budget with other processes through Redis (redis://…)",
    )
    g.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    g.add_argument("--log-format", choices=("text", "json"), default="text")
    g.add_argument(
        "--progress-interval",
        type=finite(0, above=True),
        metavar="S",
        help="seconds between progress lines",
    )
    g.add_argument("--verbose", "-v", action="count", default=0)


def add_store_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        default=DEFAULT_DB,
        help=f"SQLite file, or a postgresql://… URL (default {DEFAULT_DB})",
    )
    add_lock_wait_flag(p)
    p.add_argument("--shop", action="append", metavar="NAME", help="only this shop (repeatable)")


def add_lock_wait_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lock-wait",
        type=finite(0),
        default=10.0,
        metavar="S",
        help="seconds to wait once for another process's lock on --db (default 10)",
    )


def add_token_env_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--token-env", metavar="VAR", help="one shop, token in $VAR")
    p.add_argument("--shop-name", metavar="NAME", help="name for the --token-env shop")
