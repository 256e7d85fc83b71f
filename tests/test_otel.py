"""OpenTelemetry spans and metrics (issue 21, item 2), captured with the SDK's in-memory
exporter and metric reader, from real calls to the sandbox on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from temu_async.client import TemuApp
from temu_async.errors import RateLimited
from temu_async.otel import TemuInstrumentation, instrument
from temu_async.retry import RetryPolicy
from temu_async.sandbox import FaultSpec, Sandbox, SandboxConfig

READ = "bg.logistics.warehouse.list.get"


@dataclass
class Telemetry:
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def points(self, name: str) -> list[Any]:
        data = self.metrics.get_metrics_data()
        assert data is not None
        out = []
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        out.extend(metric.data.data_points)
        return out

    def total(self, name: str, **attributes: object) -> float:
        return sum(
            p.value
            for p in self.points(name)
            if all(p.attributes.get(k) == v for k, v in attributes.items())
        )


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Telemetry(exporter, reader, tracer_provider, meter_provider)
    tracer_provider.shutdown()
    meter_provider.shutdown()


@pytest.fixture
async def sb() -> AsyncIterator[Sandbox]:
    config = SandboxConfig(seed=4, shops=1, orders=2, goods=1, order_arrival_per_hour=0)
    async with Sandbox(config) as sandbox:
        yield sandbox


def _app(sb: Sandbox, **kw: Any) -> TemuApp:
    kw.setdefault(
        "retry",
        RetryPolicy(base_delay=0.005, max_delay=0.02, rate_limit_penalty=0.01, budget=None),
    )
    c = sb.credentials
    return TemuApp(c.app_key, c.app_secret, region="us", base_url=sb.url, **kw)


def _instrument(app: TemuApp, t: Telemetry) -> TemuInstrumentation:
    return instrument(app, tracer_provider=t.tracer_provider, meter_provider=t.meter_provider)


def _assert_no_secret(sb: Sandbox, spans: list[ReadableSpan]) -> None:
    """No credential in any attribute or event attribute, under any key."""
    secrets = [sb.credentials.app_secret, *(s.access_token for s in sb.credentials.shops)]
    for span in spans:
        bags = [dict(span.attributes or {})] + [dict(e.attributes or {}) for e in span.events]
        for bag in bags:
            for key, value in bag.items():
                assert not any(w in key.lower() for w in ("token", "secret", "sign"))
                assert not any(s in str(value) for s in secrets)


async def test_one_span_per_call_named_by_its_type(sb: Sandbox, telemetry: Telemetry) -> None:
    async with _app(sb) as app:
        _instrument(app, telemetry)
        shop = app.shop(sb.credentials.shops[0].access_token, name="north")
        await shop.call(READ)
        await shop.call("bg.order.list.v2.get", {"pageSize": 5})
    spans = telemetry.finished()
    assert [s.name for s in spans] == [READ, "bg.order.list.v2.get"]
    span = spans[0]
    assert span.kind is SpanKind.CLIENT and span.status.status_code is StatusCode.UNSET
    attrs = dict(span.attributes or {})
    assert attrs["temu.api_type"] == READ and attrs["temu.shop"] == "north"
    assert str(attrs["temu.request_id"]).startswith("us-")
    assert (attrs["temu.outcome"], attrs["temu.attempts"], attrs["temu.retries"]) == ("ok", 1, 0)
    assert attrs["temu.throttle_wait"] == 0.0
    assert "temu.error_code" not in attrs
    assert span.end_time is not None and span.start_time is not None
    assert span.end_time > span.start_time
    _assert_no_secret(sb, spans)
    assert telemetry.total("temu.calls", **{"temu.api_type": READ, "temu.outcome": "ok"}) == 1
    assert telemetry.total("temu.calls") == 2
    assert telemetry.points("temu.throttle.wait") == []  # nothing had to wait
    (duration,) = [
        p for p in telemetry.points("temu.call.duration") if p.attributes["temu.api_type"] == READ
    ]
    assert duration.count == 1 and duration.sum > 0


async def test_retries_are_span_events_and_metrics(sb: Sandbox, telemetry: Telemetry) -> None:
    sb.faults.set_default(FaultSpec(error_rates={4000004: 1.0}))
    async with _app(sb) as app:
        _instrument(app, telemetry)
        shop = app.shop(sb.credentials.shops[0].access_token)
        with pytest.raises(RateLimited):
            await shop.call(READ, max_retries=2)
    (span,) = telemetry.finished()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "RateLimited"
    attrs = dict(span.attributes or {})
    assert attrs["temu.error_code"] == 4000004 and attrs["temu.retries"] == 2
    assert attrs["temu.attempts"] == 3 and attrs["temu.outcome"] == "error"
    retries = [e for e in span.events if e.name == "temu.retry"]
    assert [dict(e.attributes or {})["temu.attempt"] for e in retries] == [1, 2]
    assert all(dict(e.attributes or {})["temu.error_code"] == 4000004 for e in retries)
    _assert_no_secret(sb, [span])
    assert telemetry.total("temu.rate_limited") == 3  # every 4000004 answer, retried or not
    assert telemetry.total("temu.retries", **{"temu.retry_reason": "retry"}) == 2
    assert telemetry.total("temu.errors", **{"temu.error_code": 4000004}) == 1
    assert telemetry.total("temu.calls", **{"temu.outcome": "error"}) == 1


async def test_a_clock_resync_is_a_retry_event_of_a_successful_span(
    sb: Sandbox, telemetry: Telemetry
) -> None:
    sb.faults.clock_offset = -900.0
    async with _app(sb) as app:
        _instrument(app, telemetry)
        await app.shop(sb.credentials.shops[0].access_token).call(READ)
    (span,) = telemetry.finished()
    (retry,) = span.events
    assert (
        retry.name == "temu.retry" and dict(retry.attributes or {})["temu.retry_reason"] == "clock"
    )
    assert dict(span.attributes or {})["temu.outcome"] == "ok"
    assert telemetry.total("temu.retries", **{"temu.retry_reason": "clock"}) == 1


async def test_throttle_waits_and_concurrent_spans(sb: Sandbox, telemetry: Telemetry) -> None:
    async with _app(sb, rate_limit=2) as app:
        _instrument(app, telemetry)
        shop = app.shop(sb.credentials.shops[0].access_token)
        await asyncio.gather(*(shop.call(READ) for _ in range(4)))
    spans = telemetry.finished()
    assert len(spans) == 4 and len({s.context.span_id for s in spans}) == 4
    waited = [s for s in spans if dict(s.attributes or {})["temu.throttle_wait"] > 0]
    assert waited and all(any(e.name == "temu.throttle_wait" for e in s.events) for s in waited)
    (hist,) = telemetry.points("temu.throttle.wait")
    assert hist.count == len(waited) and hist.sum == pytest.approx(
        sum(float(dict(s.attributes or {})["temu.throttle_wait"]) for s in spans)
    )


async def test_the_call_span_nests_under_the_callers_and_leaves_it_current(
    sb: Sandbox, telemetry: Telemetry
) -> None:
    tracer = telemetry.tracer_provider.get_tracer("app")
    async with _app(sb) as app:
        _instrument(app, telemetry)
        shop = app.shop(sb.credentials.shops[0].access_token)
        with tracer.start_as_current_span("handle-order") as parent:
            await shop.call(READ)
            assert trace.get_current_span() is parent  # the call's span was detached
            with pytest.raises(RateLimited):
                sb.faults.set_default(FaultSpec(error_rates={4000004: 1.0}))
                await shop.call(READ, max_retries=0)
            assert trace.get_current_span() is parent
    call, failed, outer = telemetry.finished()
    assert outer.name == "handle-order"
    for span in (call, failed):
        assert span.parent is not None and span.parent.span_id == outer.context.span_id


async def test_uninstrument_and_no_double_instrumentation(
    sb: Sandbox, telemetry: Telemetry
) -> None:
    async with _app(sb) as app:
        telemetry_hook = _instrument(app, telemetry)
        with pytest.raises(ValueError, match="already instrumented"):
            _instrument(app, telemetry)
        shop = app.shop(sb.credentials.shops[0].access_token)
        await shop.call(READ)
        telemetry_hook.uninstrument()
        assert app.pipeline.hooks is None
        await shop.call(READ)
    assert len(telemetry.finished()) == 1
    assert telemetry.total("temu.calls") == 1


async def test_the_api_alone_records_nothing_and_breaks_nothing(sb: Sandbox) -> None:
    # What an app gets with only the `otel` extra (opentelemetry-api) and no SDK set up.
    from opentelemetry import metrics

    seen: list[object] = []
    async with _app(sb) as app:
        hook = instrument(
            app,
            tracer_provider=trace.NoOpTracerProvider(),
            meter_provider=metrics.NoOpMeterProvider(),
        )
        app.add_hook(seen.append)
        shop = app.shop(sb.credentials.shops[0].access_token)
        assert isinstance(await shop.call(READ), dict)
        with pytest.raises(RateLimited):
            sb.faults.set_default(FaultSpec(error_rates={4000004: 1.0}))
            await shop.call(READ, max_retries=1)
        assert not trace.get_current_span().get_span_context().is_valid
        hook.uninstrument()
        assert app.pipeline.hooks is not None and app.pipeline.hooks.callbacks == (seen.append,)
    assert len(seen) > 0
