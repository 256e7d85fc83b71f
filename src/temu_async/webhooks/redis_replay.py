"""A :class:`~temu_async.webhooks.replay.ReplayCache` in Redis, for several receivers.

When two or more processes (or hosts) receive webhooks for one app behind a load balancer,
Temu's retry of an event may reach another process than the first delivery did. Sharing the
record of accepted events in Redis makes "already accepted" true for all of them. Needs the
``redis`` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisReplayCache"]


class RedisReplayCache:
    """Accepted events as Redis keys that expire after the replay horizon.

    ``SET key 1 NX PX ttl`` is atomic on the server: of two receivers claiming one event at
    the same moment, exactly one gets it.
    """

    def __init__(self, redis: Redis | Any, *, prefix: str = "temu:webhook:") -> None:
        self.redis = redis
        self.prefix = prefix

    def __repr__(self) -> str:
        return f"RedisReplayCache(prefix={self.prefix!r})"

    async def claim(self, key: str, ttl: float) -> bool:
        done = await self.redis.set(self.prefix + key, b"1", nx=True, px=max(1, int(ttl * 1000)))
        return bool(done)

    async def release(self, key: str) -> None:
        await self.redis.delete(self.prefix + key)
