"""Client-side rate limiting that never exceeds the gateway's limit.

Temu counts requests per app_key (all shops of one app share the budget) and some
types have a limit of their own; assume the server counts strictly per second. A
token bucket that starts full lets ``2N - 1`` requests through in the first second
and gets the surplus rejected, so neither is used here.

A slot counts from the moment its request is written
------------------------------------------------------
Admitting a request and writing it are two moments, and anything can come between
them: opening the connection, a TLS handshake, a garbage collection, a busy event
loop. A limiter that counts its grants would then see them evenly spread while the
gateway sees the delayed requests arrive bunched with later ones. So a grant here is
a :class:`Slot` that stays *pending* until its holder reports the write
(:meth:`Slot.sent`, called by the transport as the request's bytes go out) or gives
it back unused (:meth:`Slot.release`). A pending slot holds its place in the window
at an unknown time no earlier than now; once written it is counted at its write
time. A new slot is granted only when the ``rate``-th most recent slot is written
and at least ``period + margin`` old, so no ``period`` of writes ever holds more than
``rate``, however late some of them left. Since every slot is thus chained to an
earlier write, lateness costs throughput: the throttle hands a slot over ``lead``
(20 ms) before it is due, the caller builds and connects its request meanwhile, and
only the write waits for the slot (:meth:`Slot.until_due`).

Grants are also paced ``(period + margin) / rate`` apart (GCRA) after a small burst
(``burst_fraction`` of the rate, a quarter by default, at least one) from a cold start
or after idling: requests sent in one big burst reach the gateway spread by queueing
that differs from burst to burst, evenly spaced ones arrive as they were sent. Both
backends do exactly this, with the same defaults, so one process and many behave
alike.

Two layers:

* a :class:`RateBackend` (``temu_async.rate_backend``: the protocol, :class:`Limit` and
  :class:`Slot`) reserves one slot in several limits at once and counts its write.
  :class:`LocalWindow` (``temu_async.local_window``) counts in this process; the Redis
  backend (``temu_async.redis_throttle``) counts across processes and hosts.
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

from temu_async.local_window import LocalWindow
from temu_async.rate_backend import Limit, LimitKey, RateBackend, Slot

__all__ = ["Limit", "LimitKey", "LocalWindow", "RateBackend", "Slot", "Throttle", "ThrottleStats"]


@dataclass
class ThrottleStats:
    granted: int = 0
    waited_seconds: float = 0.0
    penalties: int = 0
    per_tenant: dict[str, int] = field(default_factory=dict)


class _Waiter(asyncio.Future[Slot]):
    """A queued caller: the future it awaits, carrying what the dispatcher needs.

    One object per queued call instead of a record plus a future (every queued call's
    objects are what the collector walks at scale).
    """

    __slots__ = ("deadline", "enqueued", "limits", "tenant")

    def __init__(
        self,
        limits: Sequence[Limit],
        tenant: str,
        deadline: float,
        enqueued: float,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        super().__init__(loop=loop)
        self.limits = limits
        self.tenant = tenant
        self.deadline = deadline
        self.enqueued = enqueued

    def abandon(self) -> None:
        """The caller stopped waiting (cancelled): a slot granted meanwhile goes back."""
        if self.done() and not self.cancelled() and self.exception() is None:
            self.result().release()


class Throttle:
    """Fair, strict admission for one app.

    ``slot = await throttle.admit(limits, tenant)`` hands out a :class:`Slot` for the
    caller to end with ``sent()`` / ``release()`` after ``await slot.until_due()`` (the
    client passes it to the transport, which does all three as the body is written);
    ``await throttle.acquire(limits, tenant)`` waits until the slot is due and counts it
    as used at once, for requests sent some other way.
    """

    def __init__(
        self,
        backend: RateBackend | None = None,
        *,
        max_wait: float = 300.0,
        lead: float = 0.02,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if lead < 0:
            raise ValueError(f"lead must be >= 0 seconds, got {lead!r}")
        self.backend: RateBackend = backend if backend is not None else LocalWindow(clock=clock)
        self.max_wait = max_wait
        self.lead = lead
        """Seconds before its slot is due that a caller gets it, to build and connect its
        request meanwhile; the request still waits for the slot before it is written."""
        self.stats = ThrottleStats()
        self._clock = clock
        self._queues: dict[str, deque[_Waiter]] = {}
        self._ring: deque[str] = deque()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._serving = False
        """The dispatcher holds a waiter it has taken off the queues."""

    async def admit(
        self, limits: Sequence[Limit], tenant: str = "", *, max_wait: float | None = None
    ) -> Slot:
        """Wait for a slot in every limit; the caller ends it (``sent()`` / ``release()``)."""
        ticket = self.take(limits, tenant, max_wait=max_wait)
        if isinstance(ticket, Slot):
            return ticket
        try:
            return await ticket
        except asyncio.CancelledError:
            ticket.abandon()
            raise

    def take(
        self, limits: Sequence[Limit], tenant: str = "", *, max_wait: float | None = None
    ) -> Slot | _Waiter:
        """:meth:`admit` without a coroutine of its own: the slot if one is free this
        instant and nobody queues, else the caller's place in the queue, a future of the
        slot. Whoever awaits that future and is cancelled calls its ``abandon()``.

        The pipeline uses this so that a queued call is one coroutine, not two.
        """
        if self._closed:
            raise RuntimeError("the throttle is closed")
        if not self._ring and not self._serving:
            # Nobody waits: a slot free this instant is what the dispatcher would grant,
            # minus two turns of the event loop.
            slot = self.backend.grant_now(limits)
            if slot is not None:
                self._count(tenant, 0.0)
                return slot
        now = self._clock()
        budget = self.max_wait if max_wait is None else max_wait
        waiter = _Waiter(limits, tenant, now + budget, now, asyncio.get_running_loop())
        queue = self._queues.get(tenant)
        if queue is None:
            self._queues[tenant] = queue = deque()
            self._ring.append(tenant)
        queue.append(waiter)
        self._ensure_dispatcher()
        assert self._wake is not None
        self._wake.set()
        return waiter

    async def acquire(
        self, limits: Sequence[Limit], tenant: str = "", *, max_wait: float | None = None
    ) -> float:
        """Wait for a slot and count it as written now; return the seconds spent waiting."""
        slot = await self.admit(limits, tenant, max_wait=max_wait)
        try:
            await slot.until_due()
        except BaseException:
            slot.release()
            raise
        slot.sent()
        return slot.waited

    def _count(self, tenant: str, waited: float) -> None:
        stats = self.stats
        stats.granted += 1
        stats.waited_seconds += waited
        stats.per_tenant[tenant] = stats.per_tenant.get(tenant, 0) + 1

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
                if not waiter.done():
                    waiter.set_exception(RuntimeError("the throttle was closed"))
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
            if not waiter.done():
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
        future = waiter
        try:
            slot = await self.backend.reserve(
                waiter.limits, max(0.0, waiter.deadline - self._clock())
            )
        except asyncio.CancelledError:
            if not future.done():
                future.set_exception(RuntimeError("the throttle was closed"))
            raise
        except Exception as exc:  # a backend failure belongs to this caller only
            if not future.done():
                future.set_exception(exc)
            return
        try:
            if slot.delay > self.lead:
                # Sleep here, not in the caller: the next reservation must not be made
                # before this one is (nearly) due, or round robin would not be fair. The
                # caller gets it `lead` early, to have its request ready on time: waiting
                # for its slot then starts only as the request's bytes are about to go.
                await asyncio.sleep(slot.delay - self.lead)
        except asyncio.CancelledError:
            slot.release()
            if not future.done():
                future.set_exception(RuntimeError("the throttle was closed"))
            raise
        if future.done():
            slot.release()  # the caller gave up while its slot came due
        else:
            slot.waited = self._clock() - waiter.enqueued
            self._count(waiter.tenant, slot.waited)
            future.set_result(slot)
