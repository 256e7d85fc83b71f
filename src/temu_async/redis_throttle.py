"""One app_key's rate budget shared by every process and host, counted in Redis.

Temu counts requests per app_key, not per process: four workers that each keep 20/s
locally send 80/s and get rejected. :class:`RedisWindow` is a
:class:`~temu_async.throttle.RateBackend` whose slots live in Redis, so all workers
of one app draw from one budget, with the same rules as the in-process
:class:`~temu_async.throttle.LocalWindow`: grants paced from a cold start, and a
strict window over the times requests were *written*.

Each reservation is one ``EVALSHA`` of one Lua script (one round trip). The script
reads Redis's own clock (``TIME``), so hosts with skewed clocks still agree, checks
every limit of the call, and commits all of them or none. The caller then sleeps
until its slot is due; nobody polls (except while every place in a window is held
by slots not yet written, which takes a stall of about a whole period).

Per limit, Redis keeps two keys
-------------------------------
* the pace: the TAT ("theoretical arrival time" of GCRA), the moment the pace
  allows the next slot. A grant at server time ``at`` sets ``TAT := max(TAT, at) + T``
  with ``T = (period + margin) / rate``; a slot may come ``(burst - 1) * T`` ahead of
  the TAT, so a cold start or an idle app sends a small burst (a quarter of the rate
  by default, as ``LocalWindow``) and is paced from then on;
* the write log: a sorted set of this limit's recent slots. A slot enters it at
  reservation, *pending*, scored at a time in the future (``at + pending_ttl``);
  when its request is written, the client re-scores it at the write time (Redis
  time, computed so it is never earlier than the write); unwritten, it is removed.

A reservation made at server time ``now`` gets::

    at = max(now, TAT_i - (burst_i - 1) * T_i,
             log_i[rate_i-th most recent] + period_i + margin)        for every i

and waits (re-asking) while the ``rate``-th most recent entry of some log is still
pending: its write time is unknown, but no earlier than now. So no window of
``period`` seconds ever holds more than ``rate`` written requests, from a cold start,
after idling and across a stall between admission and write alike. ``margin`` (25 ms
by default, as in ``LocalWindow``) absorbs the jitter between the write and the
request reaching the gateway. The cost is throughput: at most ``rate * period /
(period + margin)`` per period, 19.5/s for 20/s.

A penalty (the gateway answered 4000004) sets ``TAT := max(TAT, now + seconds)``, so
every process waits it out. Keys expire when they can no longer matter: an idle app
leaves nothing behind, and a missing key means exactly "free now". A client that
dies holding pending slots loses them after ``pending_ttl`` seconds.

Write stamps and releases leave in the background, pipelined in batches, never on
the request's path.

Key layout
----------
A :class:`~temu_async.throttle.Limit` of app ``A`` maps to ``"<prefix>:{A}:rate"``
(pace) and ``"<prefix>:{A}:sent"`` (write log), and a type's own limit to
``"<prefix>:{A}:rate:<type>"`` and ``"<prefix>:{A}:sent:<type>"``. The braces are a
Redis Cluster hash tag: every key of one app lands in one slot, which a multi-key
script needs in a cluster. All limits of one reservation must therefore belong to
the same app_key.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import os
import time
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from temu_async.errors import TemuError
from temu_async.local_window import LocalWindow
from temu_async.rate_backend import Limit, Slot, all_unwritten, burst, too_far
from temu_async.redis_script import SCRIPT as _SCRIPT
from temu_async.redis_script import SCRIPT_SHA as _SCRIPT_SHA

if TYPE_CHECKING:
    from redis.asyncio import Redis, RedisCluster

__all__ = ["FailurePolicy", "RedisUnavailable", "RedisWindow", "redis_key"]

log = logging.getLogger(__name__)

FailurePolicy = Literal["fail_closed", "fallback_local"]
_POLICIES: tuple[str, ...] = ("fail_closed", "fallback_local")

# A reservation slot further away than this is treated as "never" (a float max_wait of
# inf would not survive the trip into Lua as an integer).
_FOREVER_US = 10**15


class RedisUnavailable(TemuError):
    """Redis could not be reached, so the shared rate budget could not be checked.

    Raised under ``on_unavailable="fail_closed"``. Nothing was sent to Temu. The
    message names the Redis URL without its credentials.
    """

    retryable = True


def redis_key(limit: Limit | str, prefix: str = "temu", kind: str = "rate") -> str:
    """The Redis key that counts ``limit`` (see the module docstring for the layout).

    ``kind``: ``"rate"`` for the pace, ``"sent"`` for the write log.
    """
    if isinstance(limit, str):
        warnings.warn(
            "redis_key('<app_key>:<type>') is deprecated; pass the Limit",
            DeprecationWarning,
            stacklevel=2,
        )
        app, sep, rest = limit.partition(":")
        if not app:
            raise ValueError(f"limit key {limit!r}: must start with the app_key")
        limit = Limit(app, 1, api_type=rest if sep else None)
    key = f"{prefix}:{{{limit.app_key}}}:{kind}"
    return key if limit.api_type is None else f"{key}:{limit.api_type}"


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
    the pool this class creates. ``pending_ttl``: how long a slot admitted but never
    reported written or released keeps its place (its holder died).
    ``poll_interval``: how often a reservation asks again while a window is held by
    slots not yet written. ``burst_fraction``: how much of a rate may go at once from a
    cold start or after idling (as in ``LocalWindow``; the same default).
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
        pending_ttl: float = 60.0,
        poll_interval: float = 0.02,
        burst_fraction: float = 0.25,
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
        if not 0 <= burst_fraction <= 1:
            raise ValueError(f"burst_fraction must be within [0, 1], got {burst_fraction!r}")
        if pending_ttl <= 0:
            raise ValueError(f"pending_ttl must be > 0 seconds, got {pending_ttl!r}")
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be > 0 seconds, got {poll_interval!r}")
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
        self.burst_fraction = float(burst_fraction)
        self.pending_ttl = float(pending_ttl)
        self.poll_interval = float(poll_interval)
        self._unavailable = _unavailable_errors()
        self._local = LocalWindow(margin=self.margin, burst_fraction=self.burst_fraction)
        self._local_limits: dict[Limit, Limit] = {}
        self._keys: dict[tuple[str, str | None], tuple[str, str]] = {}
        self._down_since: float | None = None
        self._next_probe = 0.0
        # Slot names: unique across processes and hosts sharing the Redis.
        self._name = f"{os.getpid()}-{os.urandom(4).hex()}"
        self._serial = itertools.count()
        self._outbox: list[tuple[Slot, float]] = []
        """Stamps (with their local write time) and releases (time < 0) to send."""
        self._outbox_ready: asyncio.Event | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._flushing = asyncio.Lock()

    def __repr__(self) -> str:
        return f"RedisWindow(url={self.url!r}, on_unavailable={self.on_unavailable!r})"

    @property
    def degraded(self) -> bool:
        """True while Redis is unreachable and the local fallback is counting."""
        return self._down_since is not None

    # --- RateBackend ------------------------------------------------------------------

    def grant_now(self, limits: Sequence[Limit]) -> Slot | None:
        return None  # only Redis can say, and that takes a round trip

    async def reserve(self, limits: Sequence[Limit], max_wait: float) -> Slot:
        if not limits:
            return Slot(self._local, limits)
        keys = self._reserve_keys(limits)
        if self._use_local():
            return await self._local.reserve(self._scaled(limits), max_wait)
        member = f"{self._name}-{next(self._serial)}"
        deadline = time.monotonic() + max_wait
        args: list[str | int] = ["reserve", 0, member, _micros(self.pending_ttl)]
        for lim in limits:
            span = _micros(lim.period + self.margin)
            interval = math.ceil(span / lim.rate)
            args += [interval, lim.rate, span, (burst(lim, self.burst_fraction) - 1) * interval]
        while True:
            remaining = deadline - time.monotonic()
            args[1] = _micros(remaining)
            try:
                granted, wait_us = await self._run(keys, args)
            except self._unavailable as exc:
                self._went_down(exc)
                return await self._local.reserve(self._scaled(limits), max(0.0, remaining))
            self._came_back()
            wait = int(wait_us) / 1_000_000
            if int(granted):
                return Slot(self, limits, wait, member)
            if wait >= 0:
                raise too_far(wait, max_wait, " in the shared budget")
            # Held by slots admitted (here or elsewhere) and not yet written.
            if remaining < self.poll_interval:
                raise all_unwritten(max_wait, " in the shared budget")
            await asyncio.sleep(self.poll_interval)

    def stamp(self, slot: Slot) -> None:
        self._post(slot, time.monotonic())

    def release(self, slot: Slot) -> None:
        self._post(slot, -1.0)

    async def penalize(self, limits: Sequence[Limit], seconds: float) -> None:
        if not limits or seconds <= 0:
            return
        keys = [self._limit_keys(limit)[0] for limit in limits]
        self._one_app(limits)
        if self._use_local():
            await self._local.penalize(self._scaled(limits), seconds)
            return
        tolerances = [
            (burst(lim, self.burst_fraction) - 1)
            * math.ceil(_micros(lim.period + self.margin) / lim.rate)
            for lim in limits
        ]
        try:
            await self._run(keys, ["penalize", _micros(seconds), *tolerances])
        except self._unavailable as exc:
            self._went_down(exc)
            await self._local.penalize(self._scaled(limits), seconds)
            return
        self._came_back()

    async def flush(self) -> None:
        """Send the writes and releases reported so far now (they go in the background)."""
        await self._flush()

    async def close(self) -> None:
        if self._flusher is not None:
            await self._flush()
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        if self._owns_client:
            await self._client.aclose()

    # --- writes and releases, in the background -------------------------------------------

    def _post(self, slot: Slot, written: float) -> None:
        self._outbox.append((slot, written))
        if self._flusher is None or self._flusher.done():
            self._outbox_ready = asyncio.Event()
            self._flusher = asyncio.get_running_loop().create_task(
                self._flush_loop(), name="temu-async-redis-stamps"
            )
        assert self._outbox_ready is not None
        self._outbox_ready.set()

    async def _flush_loop(self) -> None:
        assert self._outbox_ready is not None
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            await self._flush()

    async def _flush(self) -> None:
        async with self._flushing:  # a flush() returns after any batch already on its way
            batch, self._outbox = self._outbox, []
            if batch:
                await self._send(batch)

    async def _send(self, batch: list[tuple[Slot, float]]) -> None:
        # One script per app_key (its keys share a Redis Cluster slot), all at once.
        calls: dict[str, tuple[list[str], list[str | int], list[str | int]]] = {}
        now = time.monotonic()
        for slot, written in batch:
            if not slot.limits:
                continue
            keys, spans, entries = calls.setdefault(slot.limits[0].app_key, ([], [], []))
            # The age is measured before the script reads Redis's clock, so the stamp
            # lands at or after the real write, never before it.
            age = -1 if written < 0 else max(0, math.floor((now - written) * 1_000_000))
            entries += [slot.token, age, len(slot.limits)]
            for limit in slot.limits:
                log_key = self._limit_keys(limit)[1]
                if log_key not in keys:
                    keys.append(log_key)
                    spans.append(_micros(limit.period + self.margin))
                entries.append(keys.index(log_key) + 1)
        try:
            await asyncio.gather(
                *(
                    self._run(keys, ["settle", *spans, *entries])
                    for keys, spans, entries in calls.values()
                )
            )
        except self._unavailable as exc:
            # Lost updates keep their slots pending until pending_ttl: slower, never over
            # the limit. Reservations report the outage themselves.
            log.debug("could not send %d rate-slot updates to Redis: %s", len(batch), exc)

    # --- internals --------------------------------------------------------------------

    def _limit_keys(self, limit: Limit) -> tuple[str, str]:
        keys = self._keys.get(limit.key)
        if keys is None:
            keys = self._keys[limit.key] = (
                redis_key(limit, self.prefix),
                redis_key(limit, self.prefix, "sent"),
            )
        return keys

    def _one_app(self, limits: Sequence[Limit]) -> None:
        first = limits[0].app_key
        if any(limit.app_key != first for limit in limits):
            raise ValueError(
                f"limits {[lim.key for lim in limits]}: one reservation must stay within one "
                "app_key (its keys share one Redis Cluster slot)"
            )

    def _reserve_keys(self, limits: Sequence[Limit]) -> list[str]:
        self._one_app(limits)
        keys: list[str] = []
        for limit in limits:
            keys.extend(self._limit_keys(limit))
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
                local = self._local_limits[limit] = Limit(
                    limit.app_key, rate, limit.period, limit.api_type
                )
            scaled.append(local)
        return scaled


def _micros(seconds: float) -> int:
    if seconds != seconds or seconds <= 0:  # NaN or nothing
        return 0
    return min(_FOREVER_US, math.ceil(seconds * 1_000_000))
