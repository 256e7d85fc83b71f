"""One app_key's rate budget shared by every process and host, counted in Redis.

Temu counts requests per app_key, not per process: four workers that each keep 20/s
locally send 80/s and get rejected. :class:`RedisWindow` is a
:class:`~temu_async.throttle.RateBackend` whose reservations live in Redis, so all
workers of one app draw from one budget.

Each reservation is one ``EVALSHA`` of one Lua script (one round trip). The script
reads Redis's own clock (``TIME``), so hosts with skewed clocks still agree, checks
every limit of the call, and commits all of them or none. The caller then sleeps
until its slot is due; nobody polls.

The maths (GCRA, the "generic cell rate algorithm", with no burst)
-----------------------------------------------------------------
Per limit key Redis stores one number, the TAT ("theoretical arrival time"): the
earliest moment the next request under that key may go out. With ``T`` the emission
interval of the limit, a reservation made at server time ``now`` gets the slot::

    at = max(now, TAT_1, ..., TAT_k)          # every limit of the call must allow it
    TAT_i := at + T_i                         # for every limit, in the same script

So two grants under one key are always at least ``T`` apart. The usual GCRA burst
tolerance is zero here on purpose: any burst lets ``burst + rate - 1`` requests into
the first window, which a gateway that counts strictly per window rejects. With

    T = (period + margin) / rate

any ``rate + 1`` consecutive grants span at least ``rate * T = period + margin``, so
no window of ``period`` seconds ever holds more than ``rate`` grants: from a cold
start (no key: ``at = now``), after idling (the key expired: ``at = now``) and in
steady state alike. ``margin`` (25 ms by default, as in ``LocalWindow``) absorbs the
jitter between the slot and the request reaching the gateway (event-loop lag,
network paths of different length). The cost is throughput: ``rate * period /
(period + margin)`` per period, 19.5/s for 20/s.

A penalty (the gateway answered 4000004) sets ``TAT := max(TAT, now + seconds)``,
so every process waits it out. Each key expires when its TAT has passed: an idle
app leaves nothing behind, and a missing key means exactly "free now".

Key layout
----------
``Limit.key`` is ``"<app_key>"`` for the app-wide limit and ``"<app_key>:<rest>"``
for a narrower one (the client uses ``"<app_key>:<type>"``). It maps to
``"<prefix>:{<app_key>}:rate"`` and ``"<prefix>:{<app_key>}:rate:<rest>"``. The braces
are a Redis Cluster hash tag: every key of one app lands in one slot, which a
multi-key script needs in a cluster. All limits of one reservation must therefore
belong to the same app_key.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from temu_async.errors import TemuError
from temu_async.throttle import Limit, LocalWindow, too_far

if TYPE_CHECKING:
    from redis.asyncio import Redis, RedisCluster

__all__ = ["FailurePolicy", "RedisUnavailable", "RedisWindow", "redis_key"]

log = logging.getLogger(__name__)

FailurePolicy = Literal["fail_closed", "fallback_local"]
_POLICIES: tuple[str, ...] = ("fail_closed", "fallback_local")

# A reservation slot further away than this is treated as "never" (a float max_wait of
# inf would not survive the trip into Lua as an integer).
_FOREVER_US = 10**15

# Times travel in whole microseconds of Redis server time: a double holds them exactly
# (1.7e15 < 2**53), and "%.0f" writes them without Lua's 14-digit tostring rounding.
_SCRIPT = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

local function store(key, tat)
  -- Once TAT has passed the key means nothing (a missing key is "free now"): expire it.
  local ttl = math.ceil((tat - now) / 1000) + 1
  redis.call('SET', key, string.format('%.0f', tat), 'PX', string.format('%d', ttl))
end

if ARGV[1] == 'reserve' then
  local max_wait = tonumber(ARGV[2])
  local at = now
  for i = 1, #KEYS do
    local tat = tonumber(redis.call('GET', KEYS[i]))
    if tat and tat > at then at = tat end
  end
  local wait = at - now
  if wait > max_wait then
    return {0, wait}
  end
  for i = 1, #KEYS do
    store(KEYS[i], at + tonumber(ARGV[2 + i]))
  end
  return {1, wait}
elseif ARGV[1] == 'penalize' then
  local blocked = now + tonumber(ARGV[2])
  for i = 1, #KEYS do
    local tat = tonumber(redis.call('GET', KEYS[i]))
    if not tat or tat < blocked then store(KEYS[i], blocked) end
  end
  return {1, 0}
end
return redis.error_reply('temu-async rate script: unknown mode ' .. tostring(ARGV[1]))
"""
_SCRIPT_SHA = hashlib.sha1(_SCRIPT.encode()).hexdigest()


class RedisUnavailable(TemuError):
    """Redis could not be reached, so the shared rate budget could not be checked.

    Raised under ``on_unavailable="fail_closed"``. Nothing was sent to Temu. The
    message names the Redis URL without its credentials.
    """

    retryable = True


def redis_key(limit_key: str, prefix: str = "temu") -> str:
    """The Redis key that counts ``limit_key`` (see the module docstring for the layout)."""
    app, sep, rest = limit_key.partition(":")
    if not app:
        raise ValueError(
            f"limit key {limit_key!r}: must start with the app_key (the part before the "
            "first ':' becomes the Redis Cluster hash tag)"
        )
    key = f"{prefix}:{{{app}}}:rate"
    return f"{key}:{rest}" if sep else key


def _redacted(url: str) -> str:
    """The URL with user, password and query (which may carry a password) removed."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        netloc = f"{host}:{parts.port}" if parts.port is not None else host
    except ValueError:
        return "<unparsable Redis URL>"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _describe_client(client: Any) -> str:
    kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", None)
    if isinstance(kwargs, dict) and "host" in kwargs:
        return f"redis://{kwargs['host']}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"
    if isinstance(kwargs, dict) and "path" in kwargs:
        return f"unix://{kwargs['path']}"
    return f"the given {type(client).__name__} client"


def _unavailable_errors() -> tuple[type[BaseException], ...]:
    from redis import exceptions as rexc

    # ConnectionError covers refused, reset, DNS, auth and "loading"; ReadOnlyError is a
    # replica answering during failover; InvalidResponse is something that is not Redis
    # on that port. Anything else Redis reports is a bug or a misconfiguration and
    # surfaces as it is.
    return (
        rexc.ConnectionError,
        rexc.TimeoutError,
        rexc.ReadOnlyError,
        rexc.InvalidResponse,
        OSError,
        TimeoutError,
    )


class RedisWindow:
    """A :class:`~temu_async.throttle.RateBackend` shared through Redis.

    ``RedisWindow("redis://host:6379/0")`` opens (and on :meth:`close` closes) its own
    connection pool; ``RedisWindow(client=redis_client)`` uses yours (a
    ``redis.asyncio.Redis`` or ``RedisCluster``) and leaves it open.

    ``margin``: seconds added to every ``period`` against jitter (see the module doc).
    ``prefix``: first part of every key, to keep several deployments apart in one Redis.
    ``on_unavailable``: what to do when Redis cannot be reached: ``"fail_closed"``
    raises :class:`RedisUnavailable`; ``"fallback_local"`` keeps going with a
    per-process :class:`~temu_async.throttle.LocalWindow` at ``fallback_fraction`` of
    every rate, warns once per outage, and tries Redis again every ``probe_interval``
    seconds until it answers. ``timeout``: socket connect/read timeout in seconds for
    the pool this class creates.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Redis | RedisCluster | None = None,
        margin: float = 0.025,
        prefix: str = "temu",
        on_unavailable: FailurePolicy = "fail_closed",
        fallback_fraction: float = 0.5,
        probe_interval: float = 1.0,
        timeout: float = 2.0,
    ) -> None:
        if (url is None) == (client is None):
            raise ValueError("pass exactly one of url (a redis:// URL) or client")
        if not (isinstance(margin, (int, float)) and 0 <= margin < 1):
            raise ValueError(f"margin must be >= 0 and < 1 second, got {margin!r}")
        if not prefix or any(c in prefix for c in "{}"):
            raise ValueError(f"prefix must be non-empty and free of '{{' and '}}', got {prefix!r}")
        if on_unavailable not in _POLICIES:
            raise ValueError(f"on_unavailable must be one of {_POLICIES}, got {on_unavailable!r}")
        if not (0 < fallback_fraction <= 1):
            raise ValueError(f"fallback_fraction must be > 0 and <= 1, got {fallback_fraction!r}")
        if probe_interval <= 0:
            raise ValueError(f"probe_interval must be > 0 seconds, got {probe_interval!r}")
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds, got {timeout!r}")
        try:
            import redis.asyncio as aioredis
        except ImportError as exc:
            raise ImportError(
                "RedisWindow needs the redis package: pip install 'temu-async[redis]'"
            ) from exc
        if client is None:
            assert url is not None
            self.url = _redacted(url)
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            # One immediate retry replaces a pooled connection a Redis restart left dead.
            # No backoff: a limiter that waits seconds for Redis is worse than one that
            # reports it gone (a retried script that did run only wastes one slot).
            self._client: Redis | RedisCluster = aioredis.Redis.from_url(
                url,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 1),
            )
            self._owns_client = True
        else:
            self.url = _describe_client(client)
            self._client = client
            self._owns_client = False
        self.margin = float(margin)
        self.prefix = prefix
        self.on_unavailable: FailurePolicy = on_unavailable
        self.fallback_fraction = float(fallback_fraction)
        self.probe_interval = float(probe_interval)
        self._unavailable = _unavailable_errors()
        self._local = LocalWindow(margin=self.margin)
        self._local_limits: dict[Limit, Limit] = {}
        self._keys: dict[str, str] = {}
        self._down_since: float | None = None
        self._next_probe = 0.0

    def __repr__(self) -> str:
        return f"RedisWindow(url={self.url!r}, on_unavailable={self.on_unavailable!r})"

    @property
    def degraded(self) -> bool:
        """True while Redis is unreachable and the local fallback is counting."""
        return self._down_since is not None

    # --- RateBackend ------------------------------------------------------------------

    async def reserve(self, limits: Sequence[Limit], max_wait: float) -> float:
        if not limits:
            return 0.0
        keys = self._redis_keys(limits)
        if self._use_local():
            return await self._local.reserve(self._scaled(limits), max_wait)
        args: list[str | int] = ["reserve", _micros(max_wait)]
        args += [math.ceil((lim.period + self.margin) * 1_000_000 / lim.rate) for lim in limits]
        try:
            granted, wait_us = await self._run(keys, args)
        except self._unavailable as exc:
            self._went_down(exc)
            return await self._local.reserve(self._scaled(limits), max_wait)
        self._came_back()
        wait = int(wait_us) / 1_000_000
        if not int(granted):
            raise too_far(wait, max_wait, " in the shared budget")
        return wait

    async def penalize(self, limits: Sequence[Limit], seconds: float) -> None:
        if not limits or seconds <= 0:
            return
        keys = self._redis_keys(limits)
        if self._use_local():
            await self._local.penalize(self._scaled(limits), seconds)
            return
        try:
            await self._run(keys, ["penalize", _micros(seconds)])
        except self._unavailable as exc:
            self._went_down(exc)
            await self._local.penalize(self._scaled(limits), seconds)
            return
        self._came_back()

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    # --- internals --------------------------------------------------------------------

    def _redis_keys(self, limits: Sequence[Limit]) -> list[str]:
        keys: list[str] = []
        for limit in limits:
            key = self._keys.get(limit.key)
            if key is None:
                key = self._keys[limit.key] = redis_key(limit.key, self.prefix)
            keys.append(key)
        apps = {limit.key.partition(":")[0] for limit in limits}
        if len(apps) > 1:
            raise ValueError(
                f"limits {[lim.key for lim in limits]}: one reservation must stay within one "
                "app_key (its keys share one Redis Cluster slot)"
            )
        return keys

    async def _run(self, keys: list[str], args: list[str | int]) -> tuple[Any, Any]:
        from redis.exceptions import NoScriptError

        client: Any = self._client  # Redis and RedisCluster type evalsha differently
        try:
            reply = await client.evalsha(_SCRIPT_SHA, len(keys), *keys, *args)
        except NoScriptError:
            # A restart, failover or SCRIPT FLUSH dropped the cache: load once, run again.
            await client.script_load(_SCRIPT)
            reply = await client.evalsha(_SCRIPT_SHA, len(keys), *keys, *args)
        granted, wait = reply
        return granted, wait

    def _use_local(self) -> bool:
        """In fallback, and not yet time to ask Redis whether it is back."""
        return self._down_since is not None and time.monotonic() < self._next_probe

    def _went_down(self, exc: BaseException) -> None:
        if self.on_unavailable == "fail_closed":
            raise RedisUnavailable(
                f"Redis at {self.url} is unreachable ({type(exc).__name__}: {exc}); "
                "the shared rate budget cannot be checked, so nothing was sent",
                hint="start or fix Redis, check the URL, or use on_unavailable='fallback_local'",
            ) from exc
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
            log.warning(
                "Redis at %s is unreachable (%s: %s); throttling locally at %.0f%% of each "
                "rate until it answers again",
                self.url,
                type(exc).__name__,
                exc,
                self.fallback_fraction * 100,
            )
        self._next_probe = now + self.probe_interval

    def _came_back(self) -> None:
        if self._down_since is not None:
            log.info(
                "Redis at %s answers again after %.1f s; back to the shared rate budget",
                self.url,
                time.monotonic() - self._down_since,
            )
            self._down_since = None

    def _scaled(self, limits: Sequence[Limit]) -> list[Limit]:
        scaled: list[Limit] = []
        for limit in limits:
            local = self._local_limits.get(limit)
            if local is None:
                rate = max(1, math.floor(limit.rate * self.fallback_fraction))
                local = self._local_limits[limit] = Limit(limit.key, rate, limit.period)
            scaled.append(local)
        return scaled


def _micros(seconds: float) -> int:
    if seconds != seconds or seconds <= 0:  # NaN or nothing
        return 0
    return min(_FOREVER_US, math.ceil(seconds * 1_000_000))
