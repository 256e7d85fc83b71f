"""Progress numbers (rates, ETA, throttle counts) and the four output modes."""

from __future__ import annotations

import asyncio
import io
import json

from temu_async.sync.progress import Progress
from temu_async.sync.report import ProgressPrinter, choose_mode, summary_json, summary_text
from temu_async.throttle import Throttle


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _progress() -> tuple[Progress, _Clock, Throttle]:
    clock = _Clock()
    throttle = Throttle()
    throttle.stats.granted = 7  # served before this run: not counted
    progress = Progress("orders", throttle, clock=clock)
    a, b = progress.shop("a"), progress.shop("b")
    clock.now += 10
    a.fetched, a.requests, a.remaining = 500, 5, 1000
    b.fetched, b.requests, b.remaining = 100, 1, None
    throttle.stats.granted += 8  # 6 calls, 2 retries
    throttle.stats.penalties += 2
    throttle.stats.waited_seconds += 3.0
    return progress, clock, throttle


def test_snapshot_rates_eta_and_retries() -> None:
    progress, _clock, _ = _progress()
    snap = progress.snapshot()
    shop_a = snap.shops[0]
    assert shop_a.rate == 50.0 and shop_a.eta == 20.0
    assert snap.shops[1].eta is None and snap.eta is None  # b is not sized yet
    assert (snap.requests, snap.retries, snap.rejections) == (8, 2, 2)
    progress.shop("b").remaining = 100
    assert progress.snapshot().eta == 20.0
    progress.finish("b", error="TokenError: expired")
    progress.finish("a")
    summary = progress.summary()
    assert summary.errors == {"b": "TokenError: expired"} and not summary.ok
    assert "finished with errors" in summary_text(summary)
    assert json.loads(summary_json(summary))["errors"] == {"b": "TokenError: expired"}


def test_mode_choice() -> None:
    assert choose_mode(quiet=True, log_format="json", stream=_Tty()) == "quiet"
    assert choose_mode(quiet=False, log_format="json", stream=_Tty()) == "json"
    assert choose_mode(quiet=False, log_format="text", stream=_Tty()) == "tty"
    assert choose_mode(quiet=False, log_format="text", stream=io.StringIO()) == "lines"


async def test_printers_write_their_format() -> None:
    progress, _, _ = _progress()
    outputs = {}
    for mode, stream in (("json", io.StringIO()), ("lines", io.StringIO()), ("tty", _Tty())):
        async with ProgressPrinter(progress, mode=mode, stream=stream, interval=0.01):  # type: ignore[arg-type]
            await asyncio.sleep(0.05)
        outputs[mode] = stream.getvalue()
    record = json.loads(outputs["json"].splitlines()[0])
    assert record["event"] == "progress" and record["shops"][0]["name"] == "a"
    assert "500 fetched" not in outputs["lines"] and "orders: 600 fetched" in outputs["lines"]
    # A redraw moves the cursor back over the previous block (3 lines).
    assert "\x1b[3F\x1b[J" in outputs["tty"] and "ETA 20s" in outputs["tty"]
    quiet = io.StringIO()
    async with ProgressPrinter(progress, mode="quiet", stream=quiet, interval=0.01):
        await asyncio.sleep(0.03)
    assert quiet.getvalue() == ""
