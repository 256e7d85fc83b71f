"""What event hooks and OpenTelemetry cost per call: off, a no-op hook, instrumented.

Client CPU per call over real HTTP on loopback (the sandbox in its own process, as in
``loopback_cpu_bench.py``), for the small read ``bg.logistics.companies.get``, one call
at a time. Every configuration is its own ``TemuApp`` on the same sandbox, measured in
the same run in short rounds of shuffled order, so a burst of load on the machine hits
all of them alike:

* ``no hook support``: the pipeline's loop called directly (``Pipeline._run`` with no
  watch), the code path without the hook wrapper: the floor;
* ``off``: ``Pipeline.run`` with no hook registered, what every user gets by default;
* ``no-op hook``: one hook that does nothing (every event is built and delivered);
* ``otel, no provider``: ``instrument(app)`` with OpenTelemetry's default no-op providers;
* ``otel, SDK``: ``instrument(app)`` with the SDK's TracerProvider (no exporter, so no
  export thread adds CPU) and a MeterProvider with an in-memory reader.

``off`` against ``no hook support`` is the cost of hooks nobody uses; the others are what
switching them on costs. Each figure is the median over repeats of (CPU / calls). A second
table runs the same configurations with the socket left out (every post answered at once
with one recorded answer of the sandbox), where the machine's noise is smaller against the
differences sought.

Run: ``.venv/bin/python bench/hooks_overhead_bench.py [--quick]`` (needs the otel extra and
opentelemetry-sdk, both in ``.[dev]``).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench_sandbox import SandboxInfo, bench_sandbox

from temu_async import TemuApp
from temu_async.options import DEFAULT_OPTIONS
from temu_async.throttle import Slot
from temu_async.transport import Answer

TYPE = "bg.logistics.companies.get"
PARAMS = {"regionId": 211}
CONFIGS = ("no hook support", "off", "no-op hook", "otel, no provider", "otel, SDK")


def _app(info: SandboxInfo) -> TemuApp:
    return TemuApp(
        info.app_key, info.app_secret, region="us", base_url=info.url, rate_limit=1_000_000
    )


def _caller(app: TemuApp, token: str, direct: bool) -> Callable[[], Awaitable[Any]]:
    pipeline = app.pipeline
    if direct:

        async def call() -> Any:
            return await pipeline._run(
                TYPE, PARAMS, token, "bench", Any, DEFAULT_OPTIONS, None, None
            )

    else:

        async def call() -> Any:
            return await pipeline.run(TYPE, PARAMS, token=token, tenant="bench")

    return call


def _configure(name: str, app: TemuApp) -> None:
    if name == "no-op hook":
        app.add_hook(lambda event: None)
    elif name == "otel, no provider":
        from opentelemetry import metrics, trace

        from temu_async.otel import instrument

        instrument(
            app,
            tracer_provider=trace.NoOpTracerProvider(),
            meter_provider=metrics.NoOpMeterProvider(),
        )
    elif name == "otel, SDK":
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider

        from temu_async.otel import instrument

        instrument(
            app,
            tracer_provider=TracerProvider(),
            meter_provider=MeterProvider(metric_readers=[InMemoryMetricReader()]),
        )


async def _cpu(fn: Callable[[], Awaitable[Any]], n: int) -> float:
    t0 = time.process_time()
    for _ in range(n):
        await fn()
    return (time.process_time() - t0) / n * 1e6


class _Canned:
    """A transport that answers every post with one recorded answer (no socket)."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer

    async def post(
        self, body: bytes, *, timeout: float | None = None, slot: Slot | None = None
    ) -> Answer:
        if slot is not None:
            slot.sent()  # "written" at once (the rate slot must end, or the window fills)
        return self.answer


async def _record_answer(app: TemuApp, token: str) -> Answer:
    _entry, business = app.pipeline.prepare(TYPE, PARAMS, DEFAULT_OPTIONS)
    return await app.transport.post(app.pipeline.sign_body(TYPE, token, business))


async def _run(
    info: SandboxInfo, repeats: int, calls: int, *, canned: bool = False
) -> dict[str, float]:
    token = info.shops[0].token
    apps = {name: _app(info) for name in CONFIGS}
    try:
        callers = {}
        answer = await _record_answer(apps["off"], token) if canned else None
        for name, app in apps.items():
            _configure(name, app)
            if answer is not None:
                app.pipeline.transport = _Canned(answer)  # type: ignore[assignment]
            callers[name] = _caller(app, token, direct=name == "no hook support")
        for fn in callers.values():  # warm-up: connections, decoders, lazy imports
            for _ in range(20):
                await fn()
        samples: dict[str, list[float]] = {name: [] for name in CONFIGS}
        order = list(CONFIGS)
        rng = random.Random(7)
        for _ in range(repeats):
            # Short rounds in a shuffled order: a burst of load from elsewhere on the
            # machine lands on every configuration alike, and on none in a fixed slot.
            rng.shuffle(order)
            for name in order:
                samples[name].append(await _cpu(callers[name], calls))
    finally:
        for app in apps.values():
            await app.close()
    return {name: statistics.median(values) for name, values in samples.items()}


def measure(quick: bool = False) -> tuple[dict[str, float], dict[str, float]]:
    """(loopback, no network) µs per call by configuration."""
    repeats, calls = (3, 60) if quick else (41, 100)
    with bench_sandbox(shops=1, orders=20) as sandbox:
        loopback = asyncio.run(_run(sandbox.info, repeats, calls))
        canned = asyncio.run(_run(sandbox.info, repeats, calls * 10, canned=True))
    return loopback, canned


def print_result(us: dict[str, float], where: str) -> None:
    base = us["off"]
    print(f"client CPU per call, {TYPE}, {where} (median µs; ratio to `off`)")
    for name in CONFIGS:
        print(f"  {name:<20}{us[name]:>8.1f} µs  {us[name] / base:5.3f}x")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer calls and repeats")
    args = parser.parse_args()
    loopback, canned = measure(args.quick)
    print_result(loopback, "on loopback")
    print_result(canned, "no network (a recorded answer)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
