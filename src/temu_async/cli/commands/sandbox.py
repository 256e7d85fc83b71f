"""``temu-async sandbox``: the local fake gateway, run until Ctrl-C (see sandbox/cli.py)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math

from temu_async.cli.settings import ConfigError
from temu_async.sandbox import cli as sandbox_cli


def add_arguments(p: argparse.ArgumentParser) -> None:
    sandbox_cli.add_arguments(p)


def _check(args: argparse.Namespace) -> None:
    """The sandbox's own parser takes plain ints and floats; refuse what it cannot serve."""
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be from 0 to 65535, got {args.port}")
    for name in ("apps", "shops"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name} must be >= 1, got {getattr(args, name)}")
    for name in ("orders", "goods"):
        if getattr(args, name) < 0:
            raise ConfigError(f"--{name} must be >= 0, got {getattr(args, name)}")
    for name in ("latency_ms", "jitter_ms"):
        value = getattr(args, name)
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"--{name.replace('_', '-')} must be a finite number >= 0")
    if args.rate_limit is not None and args.rate_limit < 1:
        raise ConfigError(f"--rate-limit must be >= 1, got {args.rate_limit}")


def run(args: argparse.Namespace) -> int:
    _check(args)
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(sandbox_cli.serve(args))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc});"
                " is the port in use? --port 0 picks a free one"
            ) from None
    return 0
