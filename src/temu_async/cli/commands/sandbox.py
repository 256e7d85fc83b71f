"""``temu-async sandbox``: the local fake gateway, run until Ctrl-C (see sandbox/cli.py)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from temu_async.sandbox import cli as sandbox_cli


def add_arguments(p: argparse.ArgumentParser) -> None:
    sandbox_cli.add_arguments(p)


def run(args: argparse.Namespace) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(sandbox_cli.serve(args))
    return 0
