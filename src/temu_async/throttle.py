"""Client-side rate limiting that never exceeds the gateway's limit.

Temu counts requests per app_key (all shops of one app share the budget) and some
types have a limit of their own; assume the server counts strictly per second. A
token bucket that starts full lets ``2N - 1`` requests through in the first second
and gets the surplus rejected, so neither is used here.

Two layers:

* a :class:`RateBackend` *reserves* one slot in several limits at once and says how
  long to wait until it may be used. :class:`LocalWindow` keeps a sliding log of
  grant times in this process; the Redis backend (``temu_async.redis_throttle``)
  does the same across processes and hosts.
* :class:`Throttle` is the fair front door: callers queue per *tenant* (one shop),
  and tenants are served round robin, one reservation at a time. One shop's bulk job
  therefore cannot starve another shop's single call, and a reservation is never
  made far ahead of time, which would defeat the round robin.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from temu_async.errors import ThrottleTimeout

__all__ = ["Limit", "LocalWindow", "RateBackend", "Throttle", "ThrottleStats"]


@dataclass(frozen=True)
class Limit:
    """At most ``rate`` requests in any window of ``period`` seconds, counted under ``key``."""

    key: str
    rate: int
    period: float = 1.0

    def __post_init__(self) -> None:
        if self.rate < 1 or self.period <= 0:
            raise ValueError(f"limit {self.key!r}: rate must be >= 1 and period > 0")


@runtime_checkable
class RateBackend(Protocol):
    """Where slots are counted. Implementations must commit all limits or none."""

    async def reserve(self, limits: Sequence[Limit], max_wait: float) -> float:
        """Commit one slot in every limit; return the seconds until it may be used.

        Raise :class:`ThrottleTimeout` (committing nothing) when that is more than
        ``max_wait`` away.
        """
        ...

    async def penalize(self, limits: Sequence[Limit], seconds: float) -> None:
        """Grant nothing under these limits for ``seconds`` (the gateway said 4000004)."""
        ...

    async def close(self) -> None: ...


def too_far(wait: float, max_wait: float, where: str = "") -> ThrottleTimeout:
    """The error for a slot further away than the caller will wait (``where``: " in ...")."""
    return ThrottleTimeout(
        f"the next free slot{where} is {wait:.2f} s away, more than max_wait={max_wait:.2f} s",
        hint="raise max_wait, lower the concurrency, or spread the work over time",
    )


class LocalWindow:
    """A strict sliding window per key, with paced grants, for one process.

    Two rules, both applied:

    * the window: a slot is granted no earlier than ``period + margin`` after the slot
      ``rate`` grants back, so no window of ``period`` seconds ever holds more than
      ``rate`` grants, from a cold start and after idling alike;
    * the pace: after a small burst (``burst_fraction`` of the rate, at least one),
      grants are spaced ``period / rate`` apart (GCRA). Requests sent in one burst reach
      the gateway spread by network and server queueing, and the spread differs from
      burst to burst, which can squeeze ``rate + 1`` arrivals into one second even when
      the grants never were; evenly spaced requests do not queue, so they arrive as
      evenly as they were sent.

    ``margin`` absorbs what jitter remains between handing out a slot and the request
    reaching the gateway. Each 4000004 (:meth:`penalize`) widens it by the base margin,
    up to ``max_margin``, since the jitter on this path was evidently larger; it then
    decays back towards the base a little with every grant.
    """

    def __init__(
        self,
        *,
        margin: float = 0.025,
        max_margin: float = 0.25,
        burst_fraction: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if margin < 0 or max_margin < margin or not 0 <= burst_fraction <= 1:
            raise ValueError("need 0 <= margin <= max_margin, and burst_fraction within [0, 1]")
        self._base_margin = margin
        self._max_margin = max_margin
        self._margin = margin
        self._burst_fraction = burst_fraction
        self._clock = clock
        self._grants: dict[str, deque[float]] = {}
        self._tat: dict[str, float] = {}
        """GCRA's theoretical arrival time per key: when the pace allows the next grant."""
        self._blocked_until: dict[str, float] = {}

    def _burst(self, limit: Limit) -> int:
        return max(1, int(limit.rate * self._burst_fraction))

    def _earliest(self, limits: Sequence[Limit], now: float) -> float:
        """When every limit allows the next grant (``now`` or later)."""
        at = now
        for limit in limits:
            log = self._grants.get(limit.key)
            if log is not None and len(log) >= limit.rate:
                at = max(at, log[-limit.rate] + limit.period + self._margin)
            tat = self._tat.get(limit.key)
            if tat is not None:
                spacing = limit.period / limit.rate
                at = max(at, tat - (self._burst(limit) - 1) * spacing)
            at = max(at, self._blocked_until.get(limit.key, 0.0))
        return at

    def _record(self, limits: Sequence[Limit], at: float) -> None:
        for limit in limits:
            log = self._grants.get(limit.key)
            if log is None or (log.maxlen or 0) < limit.rate:
                log = deque(log or (), maxlen=limit.rate)
                self._grants[limit.key] = log
            log.append(at)
            self._tat[limit.key] = max(self._tat.get(limit.key, at), at) + limit.period / limit.rate
        # Half-life of about 140 grants (7 s at 20/s) back towards the base margin.
        self._margin = self._base_margin + (self._margin - self._base_margin) * 0.995

    async def reserve(self, limits: Sequence[Limit], max_wait: float) -> float:
        now = self._clock()
        at = self._earliest(limits, now)
        wait = at - now
        if wait > max_wait:
            raise too_far(wait, max_wait)
        self._record(limits, at)
        return wait

    def earliest(self, limits: Sequence[Limit]) -> float:
        """When a slot under every limit is free (this window's clock; now or later).

        With :meth:`record_now`, the throttle's way of granting a slot at the instant it
        is used: a slot reserved for a planned time and used later (the event loop was
        busy) would sit in the log earlier than its request went out, and the window
        would count it short.
        """
        return self._earliest(limits, self._clock())

    def record_now(self, limits: Sequence[Limit]) -> None:
        """Record a grant at this instant (the caller checked :meth:`earliest`)."""
        self._record(limits, self._clock())

    @property
    def margin(self) -> float:
        """The current safety margin in seconds (widened by recent 4000004s)."""
        return self._margin

    async def penalize(self, limits: Sequence[Limit], seconds: float) -> None:
        self._margin = min(self._max_margin, self._margin + self._base_margin)
        until = self._clock() + seconds
        for limit in limits:
            self._blocked_until[limit.key] = max(self._blocked_until.get(limit.key, 0.0), until)

    async def close(self) -> None:
        return None


@dataclass
class ThrottleStats:
    granted: int = 0
    waited_seconds: float = 0.0
    penalties: int = 0
    per_tenant: dict[str, int] = field(default_factory=dict)


@dataclass(eq=False)
class _Waiter:
    limits: Sequence[Limit]
    deadline: float
    enqueued: float
    future: asyncio.Future[float]
    taken: asyncio.Future[None]
    """Set by the caller once it has used (or given up) its turn."""


class Throttle:
    """Fair, strict admission for one app: ``await throttle.acquire(limits, tenant)``."""

    def __init__(
        self,
        backend: RateBackend | None = None,
        *,
        max_wait: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend: RateBackend = backend if backend is not None else LocalWindow(clock=clock)
        self.max_wait = max_wait
        self.stats = ThrottleStats()
        self._clock = clock
        self._queues: dict[str, deque[_Waiter]] = {}
        self._ring: deque[str] = deque()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._serving = False
        """The dispatcher holds a waiter it has taken off the queues."""
        # A backend that can say when a slot is free and record one at the instant it is
        # used (LocalWindow) gets grants stamped when the caller proceeds; others (Redis)
        # reserve a slot ahead and the dispatcher sleeps until it.
        self._local: LocalWindow | None = (
            self.backend if isinstance(self.backend, LocalWindow) else None
        )

    async def acquire(
        self, limits: Sequence[Limit], tenant: str = "", *, max_wait: float | None = None
    ) -> float:
        """Wait for a slot in every limit; return the seconds spent waiting."""
        if self._closed:
            raise RuntimeError("the throttle is closed")
        local = self._local
        if (
            local is not None
            and not self._ring
            and not self._serving
            and local.earliest(limits) <= self._clock()
        ):
            # Nobody waits and a slot is free: granting here is what the dispatcher
            # would do, minus two turns of the event loop.
            local.record_now(limits)
            self._count(tenant, 0.0)
            return 0.0
        loop = asyncio.get_running_loop()
        now = self._clock()
        budget = self.max_wait if max_wait is None else max_wait
        waiter = _Waiter(limits, now + budget, now, loop.create_future(), loop.create_future())
        queue = self._queues.get(tenant)
        if queue is None:
            self._queues[tenant] = queue = deque()
            self._ring.append(tenant)
        queue.append(waiter)
        self._ensure_dispatcher()
        assert self._wake is not None
        self._wake.set()
        try:
            waited = await waiter.future
            if local is not None:
                # Our turn: the slot is stamped now, as this task goes on to send, not when
                # the dispatcher woke (the loop may have run other work in between).
                local.record_now(limits)
                waited = self._clock() - waiter.enqueued
        finally:
            if not waiter.taken.done():
                waiter.taken.set_result(None)  # the dispatcher may serve the next one
        self._count(tenant, waited)
        return waited

    def _count(self, tenant: str, waited: float) -> None:
        self.stats.granted += 1
        self.stats.waited_seconds += waited
        self.stats.per_tenant[tenant] = self.stats.per_tenant.get(tenant, 0) + 1

    async def penalize(self, limits: Sequence[Limit], seconds: float) -> None:
        self.stats.penalties += 1
        await self.backend.penalize(limits, seconds)

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for queue in self._queues.values():
            for waiter in queue:
                if not waiter.future.done():
                    waiter.future.set_exception(RuntimeError("the throttle was closed"))
        self._queues.clear()
        self._ring.clear()
        await self.backend.close()

    def _ensure_dispatcher(self) -> None:
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(
                self._dispatch(), name="temu-async-throttle"
            )

    def _next_waiter(self) -> _Waiter | None:
        while self._ring:
            tenant = self._ring.popleft()
            queue = self._queues[tenant]
            waiter = queue.popleft()
            if queue:
                self._ring.append(tenant)
            else:
                del self._queues[tenant]
            if not waiter.future.done():
                return waiter
        return None

    async def _dispatch(self) -> None:
        assert self._wake is not None
        while True:
            waiter = self._next_waiter()
            if waiter is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            self._serving = True
            try:
                await self._serve(waiter)
            finally:
                self._serving = False

    async def _serve(self, waiter: _Waiter) -> None:
        if self._local is not None:
            await self._serve_local(waiter, self._local)
            return
        try:
            wait = await self.backend.reserve(
                waiter.limits, max(0.0, waiter.deadline - self._clock())
            )
        except asyncio.CancelledError:
            if not waiter.future.done():
                waiter.future.set_exception(RuntimeError("the throttle was closed"))
            raise
        except Exception as exc:  # a backend failure belongs to this caller only
            if not waiter.future.done():
                waiter.future.set_exception(exc)
            return
        if wait > 0:
            # Sleep here, not in the caller: the next reservation must not be made
            # before this one is due, or round robin would not be fair.
            await asyncio.sleep(wait)
        if not waiter.future.done():
            waiter.future.set_result(self._clock() - waiter.enqueued)

    async def _serve_local(self, waiter: _Waiter, window: LocalWindow) -> None:
        try:
            while not waiter.future.done():
                at = window.earliest(waiter.limits)
                now = self._clock()  # read after: a free slot gives at <= now exactly
                wait = at - now
                if wait > waiter.deadline - now:
                    max_wait = max(0.0, waiter.deadline - waiter.enqueued)
                    waiter.future.set_exception(too_far(wait, max_wait))
                    return
                if wait <= 0:
                    waiter.future.set_result(now - waiter.enqueued)
                    # Hold the turn until the caller has stamped its slot: nobody else
                    # may be granted against a window that does not show it yet.
                    await waiter.taken
                    return
                await asyncio.sleep(wait)
        except asyncio.CancelledError:
            if not waiter.future.done():
                waiter.future.set_exception(RuntimeError("the throttle was closed"))
            raise
