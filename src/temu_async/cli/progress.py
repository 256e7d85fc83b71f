"""Progress lines and the final summary of the long-running sync commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import TextIO

from temu_async.sync.progress import Progress, SyncSummary
from temu_async.sync.report import ProgressPrinter, choose_mode, summary_json, summary_text

__all__ = ["print_summary", "with_progress"]


def print_summary(args: argparse.Namespace, summary: SyncSummary, out: TextIO) -> None:
    if args.log_format == "json":
        out.write(summary_json(summary) + "\n")
    else:
        out.write(summary_text(summary) + "\n")
    out.flush()


async def with_progress(
    args: argparse.Namespace, progress: Progress, job: Callable[[], Awaitable[SyncSummary]]
) -> SyncSummary:
    mode = choose_mode(quiet=args.quiet, log_format=args.log_format, stream=sys.stderr)
    async with ProgressPrinter(progress, mode=mode, interval=args.progress_interval):
        return await job()
