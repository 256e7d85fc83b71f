"""Remembering which deliveries were already accepted, so a captured one cannot be replayed.

A delivery's signature covers its timestamp, so a replay inside the freshness window carries
the same signature; outside the window the timestamp check refuses it anyway. The cache
therefore only has to remember a key until its timestamp goes stale, which bounds it in time.

:class:`ReplayCache` is the whole contract, so a multi-process receiver can plug in a shared
store. With redis, for example::

    class RedisReplayCache:
        def __init__(self, redis): self.redis = redis
        async def claim(self, key, ttl):
            return bool(await self.redis.set(f"temu:webhook:{key}", 1, nx=True, px=int(ttl * 1000)))
        async def release(self, key):
            await self.redis.delete(f"temu:webhook:{key}")
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["MemoryReplayCache", "ReplayCache"]


@runtime_checkable
class ReplayCache(Protocol):
    """Where accepted delivery keys are remembered."""

    async def claim(self, key: str, ttl: float) -> bool:
        """Remember ``key`` for ``ttl`` seconds. False if it is already remembered.

        Must be atomic: of two concurrent claims of one key, exactly one returns True.
        """
        ...

    async def release(self, key: str) -> None:
        """Forget ``key`` (processing failed: Temu's retry of it must get through)."""
        ...


class MemoryReplayCache:
    """An in-process :class:`ReplayCache` holding at most ``max_entries`` keys.

    When full of unexpired keys it forgets the oldest: memory stays bounded under a flood, at
    the cost of being able to replay a delivery that was pushed out (its signature must still
    be valid and its timestamp fresh, so the window is the tolerance at most).
    """

    def __init__(
        self, max_entries: int = 10_000, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not isinstance(max_entries, int) or isinstance(max_entries, bool) or max_entries < 1:
            raise ValueError(f"max_entries must be a positive integer, got {max_entries!r}")
        self._max = max_entries
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._expiry)

    def __repr__(self) -> str:
        return f"MemoryReplayCache(entries={len(self._expiry)}, max_entries={self._max})"

    async def claim(self, key: str, ttl: float) -> bool:
        # No await in here: check-and-set is atomic on the event loop.
        now = self._clock()
        expires = self._expiry.get(key)
        if expires is not None and expires > now:
            return False
        self._expiry.pop(key, None)
        self._expiry[key] = now + max(ttl, 0.0)
        self._prune(now)
        return True

    async def release(self, key: str) -> None:
        self._expiry.pop(key, None)

    def _prune(self, now: float) -> None:
        # Keys are in insertion order; TTLs differ a little per key, so this drops the expired
        # ones at the old end and stops at the first live one (cheap, amortised O(1)).
        while self._expiry:
            oldest, expires = next(iter(self._expiry.items()))
            if expires > now and len(self._expiry) <= self._max:
                break
            del self._expiry[oldest]
