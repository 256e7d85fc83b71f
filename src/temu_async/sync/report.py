"""Progress output for long syncs: a live block on a terminal, periodic lines in a log,
JSON lines for services, or nothing. Plain text, no third-party progress library.

Progress goes to stderr; the final summary goes wherever the caller says (the CLI
prints it on stdout, so ``temu-async sync orders --log-format json > run.json`` works).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from dataclasses import asdict
from types import TracebackType
from typing import Any, Literal, TextIO

from temu_async.sync.progress import Progress, ProgressSnapshot, ShopSnapshot, SyncSummary

__all__ = ["Mode", "ProgressPrinter", "choose_mode", "summary_json", "summary_text"]

Mode = Literal["tty", "lines", "json", "quiet"]
_SHOWN_SHOPS = 12


def choose_mode(*, quiet: bool, log_format: str, stream: TextIO) -> Mode:
    if quiet:
        return "quiet"
    if log_format == "json":
        return "json"
    isatty = getattr(stream, "isatty", None)
    return "tty" if isatty is not None and isatty() else "lines"


def _secs(value: float | None) -> str:
    if value is None:
        return "?"
    value = max(0.0, value)
    if value < 60:
        return f"{value:.0f}s" if value >= 10 else f"{value:.1f}s"
    minutes, seconds = divmod(int(value), 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _failed(s: ProgressSnapshot) -> str:
    return f" ({s.shops_failed} failed)" if s.shops_failed else ""


def _state_word(s: ShopSnapshot) -> str:
    # A shop that stopped on an error is not done: its data is incomplete.
    return " failed" if s.error else " done" if s.done else ""


def _total_line(s: ProgressSnapshot) -> str:
    return (
        f"{s.label}: {s.fetched:,} fetched ({s.rate:,.0f}/s) · {s.requests:,} requests · "
        f"throttle wait {_secs(s.throttle_wait_mean)}/request · rejections {s.rejections} · "
        f"shops {s.shops_done}/{s.shops_total}{_failed(s)} · ETA {_secs(s.eta)} · "
        f"elapsed {_secs(s.elapsed)}"
    )


def _shop_line(s: ShopSnapshot, width: int) -> str:
    if s.error:
        state = f"error: {s.error}"
    elif s.done:
        state = f"done in {_secs(s.elapsed)}"
    else:
        state = f"ETA {_secs(s.eta)}"
    return (
        f"  {s.name:<{width}} {s.fetched:>9,} fetched {s.rate:>7,.0f}/s "
        f"{s.requests:>6,} req  {state}"
    )


def _shop_dict(s: ShopSnapshot) -> dict[str, Any]:
    out = asdict(s)
    out["elapsed"] = round(s.elapsed, 3)
    out["rate"] = round(s.rate, 1)
    out["eta"] = None if s.eta is None else round(s.eta, 1)
    return out


class ProgressPrinter:
    """``async with ProgressPrinter(progress, mode=...):`` around a run."""

    def __init__(
        self,
        progress: Progress,
        *,
        mode: Mode,
        stream: TextIO | None = None,
        interval: float | None = None,
    ) -> None:
        self.progress = progress
        self.mode = mode
        self.stream = stream or sys.stderr
        self.interval = interval or {"tty": 0.25, "lines": 10.0, "json": 10.0}.get(mode, 10.0)
        self._task: asyncio.Task[None] | None = None
        self._drawn = 0

    async def __aenter__(self) -> ProgressPrinter:
        if self.mode != "quiet":
            self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.mode == "tty":
            self._draw()  # the final state stays on screen

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self._draw()

    def _draw(self) -> None:
        snap = self.progress.snapshot()
        if self.mode == "json":
            record = {
                "event": "progress",
                **{k: v for k, v in asdict(snap).items() if k != "shops"},
                "shops": [_shop_dict(s) for s in snap.shops],
            }
            for key in ("elapsed", "rate", "throttle_wait"):
                record[key] = round(record[key], 3)
            record["throttle_wait_mean"] = round(snap.throttle_wait_mean, 4)
            self.stream.write(json.dumps(record) + "\n")
        elif self.mode == "lines":
            shops = ", ".join(
                f"{s.name} {s.fetched:,}{_state_word(s)}" for s in snap.shops[:_SHOWN_SHOPS]
            )
            more = len(snap.shops) - _SHOWN_SHOPS
            tail = f", +{more} more" if more > 0 else ""
            self.stream.write(_total_line(snap) + f" | {shops}{tail}\n")
        elif self.mode == "tty":
            width = max((len(s.name) for s in snap.shops), default=4)
            lines = [_total_line(snap)]
            lines += [_shop_line(s, width) for s in snap.shops[:_SHOWN_SHOPS]]
            if len(snap.shops) > _SHOWN_SHOPS:
                lines.append(f"  ... and {len(snap.shops) - _SHOWN_SHOPS} more shops")
            # Back to the top of the previous block, clear it, draw the new one.
            up = f"\x1b[{self._drawn}F\x1b[J" if self._drawn else ""
            self.stream.write(up + "\n".join(lines) + "\n")
            self._drawn = len(lines)
        self.stream.flush()


def summary_text(summary: SyncSummary) -> str:
    changed = summary.written - summary.new
    # Every fetched item is accounted for: a fetched count above new + changed is items
    # already stored as they are, or read twice where the walk's windows meet.
    unchanged = (
        f", {summary.unchanged:,} already stored or read twice, unchanged"
        if summary.unchanged
        else ""
    )
    lines = [
        f"{summary.label} sync {'done' if summary.ok else 'finished with errors'} in "
        f"{summary.wall_seconds:.1f} s: {summary.orders:,} fetched "
        f"({summary.new:,} new, {changed:,} changed{unchanged}), {summary.requests:,} requests "
        f"({summary.retries} retries), {summary.rejections} rate-limit rejections, "
        f"throttle wait {summary.throttle_wait_mean:.2f} s per request on average"
    ]
    for shop in summary.shops:
        state = f"failed: {shop.error}" if shop.error else f"{shop.elapsed:.1f} s"
        lines.append(
            f"  {shop.name}: {shop.fetched:,} fetched, {shop.new:,} new, "
            f"{shop.requests:,} requests, {state}"
        )
    return "\n".join(lines)


def summary_json(summary: SyncSummary) -> str:
    data = asdict(summary)
    data["event"] = "summary"
    data["ok"] = summary.ok
    data["wall_seconds"] = round(summary.wall_seconds, 3)
    data["throttle_wait"] = round(summary.throttle_wait, 3)  # summed over callers
    data["throttle_wait_mean"] = round(summary.throttle_wait_mean, 4)
    data["unchanged"] = summary.unchanged
    data["shops"] = [_shop_dict(s) for s in summary.shops]
    return json.dumps(data)
