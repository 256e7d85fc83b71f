"""OpenTelemetry for temu-async: a span per API call and a few metrics, from the event hooks.

Needs the ``otel`` extra (``pip install 'temu-async[otel]'``, the opentelemetry-api
package); the application brings its own SDK and exporters, as usual with OpenTelemetry.
Nothing is recorded until it is switched on for an app::

    from temu_async.otel import instrument

    telemetry = instrument(app)          # the global tracer and meter providers
    ...
    telemetry.uninstrument()             # back to no hooks at all

Spans: one per call, named by its API type (``bg.order.list.v2.get``), kind CLIENT,
current while the call runs (so an instrumented HTTP client's spans nest under it),
with the attributes ``temu.api_type``, ``temu.shop``, ``temu.request_id``,
``temu.error_code`` (on failure), ``temu.attempts``, ``temu.retries``,
``temu.throttle_wait`` (seconds) and ``temu.outcome``; a ``temu.retry`` event per retry
and a ``temu.throttle_wait`` event per wait for a rate slot. Never a token, secret or
signature: the events it is built from carry none.

Metrics (meter ``temu_async``): ``temu.calls`` (by type and outcome), ``temu.errors``
(by type, code and error class), ``temu.rate_limited`` (4000004 answers, retried or
not), ``temu.retries`` (by type and reason), ``temu.throttle.wait`` (seconds a call
waited for rate slots, a histogram of the calls that had to wait) and ``temu.call.duration`` (seconds, a histogram).
The shop is a span attribute only: as a metric attribute it would multiply the series
by the number of shops.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import Token
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from temu_async.events import (
    CallFinished,
    CallStarted,
    Event,
    ResponseReceived,
    RetryScheduled,
    ThrottleWaited,
)

if TYPE_CHECKING:
    from temu_async.client import TemuApp

__all__ = ["TemuInstrumentation", "instrument"]

RATE_LIMITED = 4000004
_SCOPE = "temu_async"


def _version() -> str:
    from temu_async import __version__

    return __version__


class TemuInstrumentation:
    """The hook that turns one app's events into spans and metrics."""

    def __init__(
        self,
        app: TemuApp,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self._tracer = trace.get_tracer(_SCOPE, _version(), tracer_provider=tracer_provider)
        meter = metrics.get_meter(_SCOPE, _version(), meter_provider=meter_provider)
        self._calls = meter.create_counter(
            "temu.calls", unit="{call}", description="API calls finished, by type and outcome"
        )
        self._errors = meter.create_counter(
            "temu.errors", unit="{call}", description="Calls that raised, by type, code and error"
        )
        self._rate_limited = meter.create_counter(
            "temu.rate_limited",
            unit="{answer}",
            description="4000004 answers (RATE_LIMIT_EXCEED), retried or not",
        )
        self._retries = meter.create_counter(
            "temu.retries", unit="{retry}", description="Attempts after a failure, by reason"
        )
        self._throttle_wait = meter.create_histogram(
            "temu.throttle.wait",
            unit="s",
            description="Seconds a call that had to wait spent waiting for rate slots",
        )
        self._duration = meter.create_histogram(
            "temu.call.duration", unit="s", description="Seconds from call to result or error"
        )
        # call_id -> the span and the context token that made it current.
        self._open: dict[int, tuple[trace.Span, Token[otel_context.Context]]] = {}
        self._handlers: dict[type[Any], Callable[[Any], None]] = {
            CallStarted: self._started,
            ThrottleWaited: self._waited,
            ResponseReceived: self._answered,
            RetryScheduled: self._retrying,
            CallFinished: self._finished,
        }
        self._app = app
        self._remove: Callable[[], None] | None = app.add_hook(self)

    def __call__(self, event: Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def uninstrument(self) -> None:
        """Stop recording; spans of calls still running are ended as they are."""
        if self._remove is not None:
            self._remove()
            self._remove = None
        for span, _token in self._open.values():
            span.end()
        self._open.clear()

    # --- one handler per event ----------------------------------------------------------

    def _started(self, e: CallStarted) -> None:
        span = self._tracer.start_span(
            e.api_type,
            kind=SpanKind.CLIENT,
            start_time=int(e.started_at * 1e9),
            attributes={"temu.api_type": e.api_type, "temu.shop": e.shop},
        )
        # Current for the length of the call: the hooks run in the calling task.
        token = otel_context.attach(trace.set_span_in_context(span))
        self._open[e.call_id] = (span, token)

    def _waited(self, e: ThrottleWaited) -> None:
        found = self._open.get(e.call_id)
        if found is not None:
            found[0].add_event(
                "temu.throttle_wait", {"temu.attempt": e.attempt, "temu.wait": e.waited}
            )

    def _answered(self, e: ResponseReceived) -> None:
        if e.code == RATE_LIMITED:
            self._rate_limited.add(1, {"temu.api_type": e.api_type})
        found = self._open.get(e.call_id)
        if found is not None and e.request_id is not None:
            found[0].set_attribute("temu.request_id", e.request_id)

    def _retrying(self, e: RetryScheduled) -> None:
        self._retries.add(1, {"temu.api_type": e.api_type, "temu.retry_reason": e.reason})
        found = self._open.get(e.call_id)
        if found is None:
            return
        attributes: dict[str, str | int | float] = {
            "temu.attempt": e.attempt,
            "temu.error": e.error,
            "temu.retry_delay": e.delay,
            "temu.retry_reason": e.reason,
        }
        if e.code is not None:
            attributes["temu.error_code"] = e.code
        found[0].add_event("temu.retry", attributes)

    def _finished(self, e: CallFinished) -> None:
        labels = {"temu.api_type": e.api_type, "temu.outcome": e.outcome}
        self._calls.add(1, labels)
        self._duration.record(e.duration, labels)
        if e.throttle_wait > 0.0:
            # Waits that happened: a call that found a free slot adds no point, and
            # temu.calls says how many calls there were in all.
            self._throttle_wait.record(e.throttle_wait, {"temu.api_type": e.api_type})
        if e.outcome != "ok":
            errors: dict[str, str | int] = {
                "temu.api_type": e.api_type,
                "temu.error": e.error or e.outcome,
            }
            if e.code is not None:
                errors["temu.error_code"] = e.code
            self._errors.add(1, errors)
        found = self._open.pop(e.call_id, None)
        if found is None:
            return
        span, token = found
        span.set_attributes(
            {
                "temu.outcome": e.outcome,
                "temu.attempts": e.attempts,
                "temu.retries": e.retries,
                "temu.throttle_wait": e.throttle_wait,
            }
        )
        if e.request_id is not None:
            span.set_attribute("temu.request_id", e.request_id)
        if e.outcome != "ok":
            if e.code is not None:
                span.set_attribute("temu.error_code", e.code)
            span.set_status(Status(StatusCode.ERROR, e.error or e.outcome))
        span.end()
        otel_context.detach(token)


def instrument(
    app: TemuApp,
    *,
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
) -> TemuInstrumentation:
    """Record spans and metrics for every call of ``app`` (the global providers unless given).

    Instrumenting the same app twice is refused: each call would count twice.
    """
    hooks = app.pipeline.hooks
    if hooks is not None and any(isinstance(h, TemuInstrumentation) for h in hooks.callbacks):
        raise ValueError("this app is already instrumented (call .uninstrument() first)")
    return TemuInstrumentation(app, tracer_provider=tracer_provider, meter_provider=meter_provider)
