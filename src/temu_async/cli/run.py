"""``main()``: parse, set up logging, run one command, turn known failures into exit codes."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Sequence

from temu_async.cli.output import cli_logging, cli_wording, fail
from temu_async.cli.registry import build_parser
from temu_async.cli.settings import ConfigError
from temu_async.errors import TemuError
from temu_async.store_errors import StoreError

__all__ = ["main"]

log = logging.getLogger("temu_async.cli")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    # Commands without the connection flags still meet code that reads them.
    for name, value in (("quiet", False), ("log_format", "text"), ("verbose", 0)):
        if not hasattr(args, name):
            setattr(args, name, value)
    if not hasattr(args, "progress_interval"):
        args.progress_interval = None
    with cli_logging(args):
        try:
            return _run_command(args)
        except BrokenPipeError:
            # The reader went away (``temu-async types | head``): what it wanted it has.
            return _closed_pipe()


def _closed_pipe() -> int:
    """Exit quietly when stdout's reader is gone, as ``cat`` would.

    Python would report the error again while flushing stdout at exit, so stdout is
    pointed at /dev/null first. 141 is what a shell reports for a SIGPIPE death.
    """
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return 141


def _internal(args: argparse.Namespace, exc: Exception) -> int:
    """Not an error we know how to word: still one line, never a traceback (unless asked
    for with -vv), and an exit status (70, EX_SOFTWARE) that says it is ours to fix."""
    if args.verbose > 1:
        raise exc
    return fail(
        f"internal error ({type(exc).__name__}: {cli_wording(str(exc))}); this is a bug"
        " in temu-async, please report it (-vv shows where it happened)",
        code=70,
    )


def _run_command(args: argparse.Namespace) -> int:
    started = time.monotonic()
    try:
        code = int(asyncio.run(args.run(args)) if args.is_async else args.run(args))
    except ConfigError as exc:
        return fail(str(exc))
    except RuntimeError as exc:
        if "make generate" in str(exc):  # the catalogue is missing
            return fail(str(exc))
        return _internal(args, exc)
    except StoreError as exc:  # names the file and what to do
        return fail(str(exc))
    except TemuError as exc:  # never carries a secret (see errors.py)
        return fail(cli_wording(f"{type(exc).__name__}: {exc}"))
    except KeyboardInterrupt:
        print("\ninterrupted: the next run resumes from the last checkpoint", file=sys.stderr)
        return 130
    except BrokenPipeError:
        raise  # main() ends quietly on a closed stdout
    except Exception as exc:
        return _internal(args, exc)
    log.debug("finished in %.1f s", time.monotonic() - started)
    return code
