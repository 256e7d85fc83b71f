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

* a :class:`RateBackend` reserves one slot in several limits at once and counts its
  write. :class:`LocalWindow` counts in this process; the Redis backend
  (``temu_async.redis_throttle``) counts across processes and hosts.
* :class:`Throttle` is the fair front door: callers queue per *tenant* (one shop),
  and tenants are served round robin, one reservation at a time. One shop's bulk job
  therefore cannot starve another shop's single call, and a reservation is never
  made far ahead of time, which would defeat the round robin.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from temu_async.errors import ThrottleTimeout

__all__ = ["Limit", "LimitKey", "LocalWindow", "RateBackend", "Slot", "Throttle", "ThrottleStats"]

LimitKey = tuple[str, str | None]
"""What a limit counts under: ``(app_key, None)`` app-wide, ``(app_key, type)`` per type."""


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``rate`` requests in any window of ``period`` seconds.

    Counted per app_key, or per (app_key, ``api_type``) for a type's own limit.
    """

    app_key: str
    rate: int
    period: float = 1.0
    api_type: str | None = None

    def __post_init__(self) -> None:
        if self.api_type is None and ":" in self.app_key:
            # The old spelling Limit("<app_key>:<type>", rate); kept working for now.
            warnings.warn(
                "Limit('<app_key>:<type>', rate) is deprecated; use "
                "Limit(app_key, rate, api_type=type)",
                DeprecationWarning,
                stacklevel=3,
            )
            app_key, _, api_type = self.app_key.partition(":")
            object.__setattr__(self, "app_key", app_key)
            object.__setattr__(self, "api_type", api_type)
        if not self.app_key:
            raise ValueError("limit: app_key must be a non-empty string")
        if self.rate < 1 or self.period <= 0:
            raise ValueError(f"limit {self.key!r}: rate must be >= 1 and period > 0")

    @property
    def key(self) -> LimitKey:
        return (self.app_key, self.api_type)


class Slot:
    """One admitted request's place under every limit of its call.

    Its holder must end it exactly once: :meth:`sent` when the request's bytes are
    written (from then on it counts at that instant), or :meth:`release` when the
    request was never written (the place is given back). Both are idempotent, and
    either one ends it, so ``release()`` in a ``finally`` after ``sent()`` is a no-op.
    """

    __slots__ = ("_backend", "_open", "delay", "due", "limits", "token", "waited")

    def __init__(
        self, backend: RateBackend, limits: Sequence[Limit], delay: float = 0.0, token: str = ""
    ) -> None:
        self._backend = backend
        self._open = True
        self.limits = limits
        self.delay = delay
        """Seconds from the reservation until the slot may be used."""
        self.due = time.monotonic() + delay if delay > 0 else 0.0
        """When (``time.monotonic()``) the request may be written at the earliest."""
        self.token = token
        """The backend's name for this slot (Redis: the member in the write log)."""
        self.waited = 0.0
        """Seconds the caller spent queueing for it."""

    @property
    def open(self) -> bool:
        """Neither sent nor released yet."""
        return self._open

    async def until_due(self) -> None:
        """Wait until the slot may be used (the throttle may hand it over a little early,
        so that the request is ready to leave when it is due)."""
        wait = self.due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def sent(self) -> None:
        """The request is being written now: count the slot at this instant."""
        if self._open:
            self._open = False
            self._backend.stamp(self)

    def release(self) -> None:
        """The request was not written (and will not be): give the place back."""
        if self._open:
            self._open = False
            self._backend.release(self)


@runtime_checkable
class RateBackend(Protocol):
    """Where slots are counted. Implementations commit all limits of a call or none."""

    def grant_now(self, limits: Sequence[Limit]) -> Slot | None:
        """A slot free this instant, committed; or None (none free, or the backend
        cannot tell without a round trip). Lets an idle throttle skip its queue."""
        ...

    async def reserve(self, limits: Sequence[Limit], max_wait: float) -> Slot:
        """Commit one slot in every limit; its ``delay`` says when it may be used.

        Raise :class:`ThrottleTimeout` (committing nothing) when that is more than
        ``max_wait`` away.
        """
        ...

    def stamp(self, slot: Slot) -> None:
        """Count ``slot`` as written now (called through :meth:`Slot.sent`)."""
        ...

    def release(self, slot: Slot) -> None:
        """Give an unwritten ``slot`` back (called through :meth:`Slot.release`)."""
        ...

    async def penalize(self, limits: Sequence[Limit], seconds: float) -> None:
        """Grant nothing under these limits for ``seconds`` (the gateway said 4000004)."""
        ...

    async def close(self) -> None: ...


def burst(limit: Limit, fraction: float) -> int:
    """How many grants of ``limit`` may go at once from a cold start (at least one)."""
    return max(1, int(limit.rate * fraction))


def too_far(wait: float, max_wait: float, where: str = "") -> ThrottleTimeout:
    """The error for a slot further away than the caller will wait (``where``: " in ...")."""
    return ThrottleTimeout(
        f"the next free slot{where} is {wait:.2f} s away, more than max_wait={max_wait:.2f} s",
        hint="raise max_wait, lower the concurrency, or spread the work over time",
    )


def all_unwritten(max_wait: float, where: str = "") -> ThrottleTimeout:
    """The error when every place stayed held by requests not yet written."""
    return ThrottleTimeout(
        f"every slot{where} stayed held by requests admitted but not yet written for "
        f"max_wait={max_wait:.2f} s (connections that do not open?)",
        hint="check the network to the gateway, or raise max_wait",
    )


class _KeyState:
    """One limit key's counts in a :class:`LocalWindow`."""

    __slots__ = ("blocked_until", "pending", "stamps", "tat")

    def __init__(self, rate: int) -> None:
        self.stamps: deque[float] = deque(maxlen=rate)
        """Write times of the most recent written slots (oldest first)."""
        self.pending = 0
        """Slots granted and not yet written or released."""
        self.tat = 0.0
        """GCRA's theoretical arrival time: when the pace allows the next grant."""
        self.blocked_until = 0.0


class LocalWindow:
    """Counts slots in this process: a strict window over write times, paced grants.

    ``margin`` is added to every period against the jitter between a request being
    written and reaching the gateway. Each 4000004 (:meth:`penalize`) widens it by the
    base margin, up to ``max_margin``, since the jitter on this path was evidently
    larger; it then decays back towards the base a little with every grant.
    """

    def __init__(
        self,
        *,
        margin: float = 0.025,
        max_margin: float = 0.25,
        burst_fraction: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if margin < 0 or max_margin < margin:
            raise ValueError("need 0 <= margin <= max_margin")
        if not 0 <= burst_fraction <= 1:
            raise ValueError(f"burst_fraction must be within [0, 1], got {burst_fraction!r}")
        self._burst_fraction = burst_fraction
        self._base_margin = margin
        self._max_margin = max_margin
        self._margin = margin
        self._clock = clock
        self._keys: dict[LimitKey, _KeyState] = {}
        self._changed: asyncio.Future[None] | None = None
        """Resolved when a slot is written or released (for a reservation that waits)."""

    def _state(self, limit: Limit) -> _KeyState:
        state = self._keys.get(limit.key)
        if state is None or state.stamps.maxlen != limit.rate:
            fresh = _KeyState(limit.rate)
            if state is not None:  # the rate changed: keep what was counted
                fresh.stamps.extend(state.stamps)
                fresh.pending, fresh.tat = state.pending, state.tat
                fresh.blocked_until = state.blocked_until
            state = self._keys[limit.key] = fresh
        return state

    def _earliest(self, limits: Sequence[Limit], now: float) -> float | None:
        """When every limit allows the next grant (``now`` or later); None while the
        window's oldest counted place is a slot not yet written (its time is unknown)."""
        at = now
        margin = self._margin
        for limit in limits:
            state = self._state(limit)
            free = limit.rate - state.pending
            if free <= 0:
                return None
            stamps = state.stamps
            if len(stamps) >= free:
                edge = stamps[-free] + limit.period + margin
                if edge > at:
                    at = edge
            paced = state.tat - (burst(limit, self._burst_fraction) - 1) * (
                (limit.period + margin) / limit.rate
            )
            if paced > at:
                at = paced
            if state.blocked_until > at:
                at = state.blocked_until
        return at

    def _commit(self, limits: Sequence[Limit], at: float) -> None:
        margin = self._margin
        for limit in limits:
            state = self._keys[limit.key]
            state.pending += 1
            state.tat = max(state.tat, at) + (limit.period + margin) / limit.rate
        # Half-life of about 140 grants (7 s at 20/s) back towards the base margin.
        self._margin = self._base_margin + (margin - self._base_margin) * 0.995

    # --- RateBackend --------------------------------------------------------------------

    def grant_now(self, limits: Sequence[Limit]) -> Slot | None:
        now = self._clock()
        at = self._earliest(limits, now)
        if at is None or at > now:
            return None
        self._commit(limits, now)
        return Slot(self, limits)

    async def reserve(self, limits: Sequence[Limit], max_wait: float) -> Slot:
        deadline = self._clock() + max_wait
        while True:
            now = self._clock()
            at = self._earliest(limits, now)
            if at is not None:
                if at > deadline:
                    raise too_far(at - now, max_wait)
                self._commit(limits, at)
                return Slot(self, limits, at - now)
            # Written or released, one of the pending slots decides when the next is free.
            if self._changed is None or self._changed.done():
                self._changed = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(asyncio.shield(self._changed), deadline - now)
            except asyncio.TimeoutError:
                raise all_unwritten(max_wait) from None

    def stamp(self, slot: Slot) -> None:
        now = self._clock()
        for limit in slot.limits:
            state = self._state(limit)
            state.pending = max(0, state.pending - 1)
            stamps = state.stamps
            stamps.append(now)
            # Writes older than the window no longer limit anything: drop them, so a high
            # limit does not keep (and the collector walk) up to ``rate`` old stamps.
            cut = now - limit.period - self._max_margin
            while stamps[0] < cut:
                stamps.popleft()
        self._wake()

    def release(self, slot: Slot) -> None:
        for limit in slot.limits:
            state = self._state(limit)
            state.pending = max(0, state.pending - 1)
        self._wake()

    def _wake(self) -> None:
        changed = self._changed
        if changed is not None and not changed.done():
            changed.set_result(None)

    async def penalize(self, limits: Sequence[Limit], seconds: float) -> None:
        self._margin = min(self._max_margin, self._margin + self._base_margin)
        until = self._clock() + seconds
        for limit in limits:
            state = self._state(limit)
            state.blocked_until = max(state.blocked_until, until)

    async def close(self) -> None:
        return None

    # --- reading it -----------------------------------------------------------------------

    def earliest(self, limits: Sequence[Limit]) -> float:
        """When a slot under every limit is free (this window's clock; now or later;
        ``inf`` while it waits for slots not yet written)."""
        at = self._earliest(limits, self._clock())
        return float("inf") if at is None else at

    def pending(self, limit: Limit) -> int:
        """Slots of ``limit`` granted and neither written nor released."""
        state = self._keys.get(limit.key)
        return 0 if state is None else state.pending

    def record_now(self, limits: Sequence[Limit]) -> None:
        """Deprecated: count a slot as written at this instant without reserving it."""
        warnings.warn(
            "LocalWindow.record_now() is deprecated; use grant_now() and Slot.sent()",
            DeprecationWarning,
            stacklevel=2,
        )
        self._commit(limits, self._clock())
        Slot(self, limits).sent()

    @property
    def margin(self) -> float:
        """The current safety margin in seconds (widened by recent 4000004s)."""
        return self._margin


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
