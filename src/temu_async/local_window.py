"""The in-process rate backend: a strict window over write times, with paced grants.

Counts one process's slots; the Redis backend (:mod:`temu_async.redis_throttle`) does
the same across processes. The rules both follow are in :mod:`temu_async.throttle`.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections import deque
from collections.abc import Callable, Sequence

from temu_async.rate_backend import (
    Limit,
    LimitKey,
    Slot,
    all_unwritten,
    burst,
    too_far,
)

__all__ = ["LocalWindow"]


class _KeyState:
    """One limit key's counts in a :class:`LocalWindow`."""

    __slots__ = ("blocked_until", "burst_grants", "pending", "rate", "stamps", "tat")

    def __init__(self, rate: int, burst_grants: int) -> None:
        self.rate = rate
        self.burst_grants = burst_grants
        """Grants beyond the first that may go at once from a cold start."""
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

    # Every request passes through _state, _earliest and _commit, so they are written for
    # few attribute lookups and no allocation: at loopback speed this path runs between
    # two socket operations, with little of it left in the CPU's caches.

    def _state(self, limit: Limit) -> _KeyState:
        state = self._keys.get(limit.key)
        if state is None or state.rate != limit.rate:
            fresh = _KeyState(limit.rate, burst(limit, self._burst_fraction) - 1)
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
            free = state.rate - state.pending
            if free <= 0:
                return None
            stamps = state.stamps
            if len(stamps) >= free:
                edge = stamps[-free] + limit.period + margin
                if edge > at:
                    at = edge
            paced = state.tat - state.burst_grants * ((limit.period + margin) / state.rate)
            if paced > at:
                at = paced
            if state.blocked_until > at:
                at = state.blocked_until
        return at

    def _commit(self, limits: Sequence[Limit], at: float) -> None:
        # Right after _earliest, which made sure every key has its current state.
        margin = self._margin
        keys = self._keys
        for limit in limits:
            state = keys[limit.key]
            state.pending += 1
            tat = state.tat
            state.tat = (tat if tat > at else at) + (limit.period + margin) / state.rate
        # Half-life of about 140 grants (7 s at 20/s) back towards the base margin.
        if margin != self._base_margin:
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
            if state.pending > 0:
                state.pending -= 1
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
            if state.pending > 0:
                state.pending -= 1
        self._wake()

    def _wake(self) -> None:
        changed = self._changed
        if changed is not None:
            if not changed.done():
                changed.set_result(None)
            self._changed = None  # the next reservation that waits makes a fresh one

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
