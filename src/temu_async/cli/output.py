"""How the CLI talks to its user: logging on stderr for one command, and error lines."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Iterator

__all__ = ["cli_logging", "cli_wording", "fail"]

# The library's messages name its keyword arguments; on the command line the same
# switch is a flag, and that is what the user can act on.
_FLAGS = {
    "allow_unknown=True": "--allow-unknown",
    "rate_limit=": "--rate-limit ",
    "base_url=": "--base-url ",
}


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "ts": round(record.created, 3),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            }
        )


@contextlib.contextmanager
def cli_logging(args: argparse.Namespace) -> Iterator[None]:
    """Our loggers print to stderr for the length of one command, then are put back.

    ``main()`` also runs in-process (tests, scripts that embed the CLI); leaving the
    package logger muted or detached would silence the host's own logging afterwards.
    """
    root = logging.getLogger("temu_async")
    saved = (root.handlers[:], root.propagate, root.level)
    _setup_logging(args)
    try:
        yield
    finally:
        root.handlers[:], root.propagate, root.level = saved[0], saved[1], saved[2]


def _setup_logging(args: argparse.Namespace) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if getattr(args, "log_format", "text") == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("temu_async")
    root.handlers[:] = [handler]
    root.propagate = False
    verbose = getattr(args, "verbose", 0)
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)


def fail(message: str, code: int = 2) -> int:
    """Print one error line; ``code`` 2 is bad input or settings, 70 a fault of ours."""
    print(f"temu-async: error: {message}", file=sys.stderr)
    return code


def cli_wording(message: str) -> str:
    """``message`` with the library's keyword arguments replaced by the CLI's flags."""
    for keyword, flag in _FLAGS.items():
        message = message.replace(keyword, flag)
    return message
