"""The sandbox pushing webhooks: order status changes as signed, encrypted HTTP POSTs.

With ``SandboxConfig.webhook_url`` set, every parent-order status change the world makes is
turned into the deliveries Temu would send for it (:func:`order_events`) and POSTed to the URL,
built by :func:`temu_async.webhooks.build_push` with the app's own key and secret, so a
receiver mounted with :func:`temu_async.webhooks.webhook_handler` verifies them for real.

Temu's real schedule on a fake clock: give :class:`PushPolicy` ``retry_delays=
TEMU_RETRY_DELAYS`` and a ``timeline`` (a :class:`~temu_async.sandbox.clock.ManualClock`,
also used for ``x-tm-timestamp``); retries then wait on that clock, and
``await pusher.advance(seconds)`` moves it from one due retry to the next, sending each.
Knobs for what Temu does not document or a test needs: ``restamp`` (a retry signed anew
with the time it is sent, instead of the first delivery's bytes), :meth:`set_receiver_down`
(every attempt fails as if the receiver were unreachable) and :meth:`lose_acks` (the
receiver's next 200s are lost, as when they arrive after 500 ms, so Temu sends again).

Deliveries never run on the request path: the world's change only puts a job on a queue, and
one background task (started on first use, owned by the sandbox, drained by
``Sandbox.close()``) sends them in order. As with Temu, only HTTP 200 within a short time
(500 ms) counts as received; anything else is tried again after the next of
:attr:`PushPolicy.retry_delays`, with the same bytes (the receiver's replay cache releases a
delivery it answered 500 to, so a retry of those bytes is accepted). The retry waits are
real seconds, not the sandbox's business clock, and much shorter than Temu's own schedule
(:data:`TEMU_RETRY_DELAYS`) so a test sees the retry.

The pusher never logs or reprs an app secret or a signature.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from ..webhooks.sender import WebhookPush, build_push
from .clock import ManualClock
from .models import OrderStatusChange, ParentOrder
from .webhook_events import CANCEL_EVENT, ORDER_EVENTS, ORDER_STATUS_EVENT, order_events

__all__ = [
    "CANCEL_EVENT",
    "ORDER_EVENTS",
    "ORDER_STATUS_EVENT",
    "TEMU_RETRY_DELAYS",
    "PushOutcome",
    "PushPolicy",
    "WebhookPusher",
    "check_events",
    "check_webhook_url",
    "order_events",
]

log = logging.getLogger("temu_async.sandbox.webhooks")

TEMU_RETRY_DELAYS: tuple[float, ...] = (120, 600, 1800, 3600, 3600, 3600, 43200, 43200)
"""Temu's documented retry schedule in seconds (webhook integration guide): 8 retries."""

_HISTORY = 1000  # outcomes kept for inspection; a long CLI run must not grow without bound


@dataclass(frozen=True)
class PushPolicy:
    """How deliveries are sent and retried."""

    retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0)
    """Seconds to wait before each retry of an unacknowledged delivery; its length is the
    number of retries. Temu's own, hours-long schedule is :data:`TEMU_RETRY_DELAYS`."""
    reply_within: float = 0.5
    """Seconds the receiver has to answer. Temu counts a reply after 500 ms as failed."""
    drain_timeout: float = 5.0
    """Seconds ``Sandbox.close()`` waits for queued deliveries and retries; what is left then
    is dropped and counted as failed."""
    clock: Callable[[], float] = time.time
    """Unix seconds for ``x-tm-timestamp``. The wall clock by default, because a receiver
    checks the header against its own clock, while the sandbox's business clock may be a
    ManualClock moved hours ahead. (Payload times such as ``updateTime`` are business time.)"""
    timeline: ManualClock | None = None
    """A fake clock the retries wait on (moved by :meth:`WebhookPusher.advance`) instead of
    real timers; it also stamps ``x-tm-timestamp`` then."""
    restamp: bool = False
    """Sign each retry anew with the time it is sent (a new timestamp and signature, the
    same event); by default a retry repeats the first delivery byte for byte."""

    def __post_init__(self) -> None:
        delays = self.retry_delays
        if isinstance(delays, (str, bytes)) or not isinstance(delays, (tuple, list)):
            raise ValueError("retry_delays must be a tuple of seconds (one per retry)")
        for d in delays:
            if not _is_seconds(d, allow_zero=True):
                raise ValueError(f"retry_delays must hold finite seconds >= 0, got {d!r}")
        object.__setattr__(self, "retry_delays", tuple(float(d) for d in delays))
        if not _is_seconds(self.reply_within):
            raise ValueError(f"reply_within must be seconds > 0, got {self.reply_within!r}")
        if not _is_seconds(self.drain_timeout, allow_zero=True):
            raise ValueError(f"drain_timeout must be seconds >= 0, got {self.drain_timeout!r}")
        if not callable(self.clock):
            raise ValueError("clock must be a function returning unix seconds")
        if self.timeline is not None:
            if not isinstance(self.timeline, ManualClock):
                raise ValueError("timeline must be a ManualClock (or None for real timers)")
            object.__setattr__(self, "clock", self.timeline.now)


def _is_seconds(value: object, allow_zero: bool = False) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and (value >= 0 if allow_zero else value > 0)


@dataclass(frozen=True)
class PushOutcome:
    """What became of one delivery."""

    app_key: str
    event_code: str
    payload: dict[str, Any]
    delivered: bool
    """The receiver answered 200 in time."""
    attempts: int
    """HTTP attempts made (1 + retries); 0 if it was dropped before the first."""
    status: int | None
    """HTTP status of the last attempt; None when there was no answer (connection refused,
    no reply in time) or no attempt."""
    error: str | None = None
    """Why the last attempt failed; None when delivered."""


def check_webhook_url(url: object, name: str = "webhook_url") -> str | None:
    """``url`` if it is None or an absolute http(s) URL; ValueError naming ``name`` if not."""
    if url is None:
        return None
    if not isinstance(url, str):
        raise ValueError(f"{name} must be an http(s) URL string or None, got {type(url).__name__}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be an absolute http:// or https:// URL with a host")
    return url


def check_events(events: object, name: str = "webhook_events") -> tuple[str, ...]:
    """``events`` as a tuple of event codes; ValueError naming ``name`` if it is not one."""
    if isinstance(events, str) or not isinstance(events, Iterable):
        # A bare string would iterate as single letters: refuse it rather than subscribe to "b".
        raise ValueError(f"{name} must be a tuple of event codes, e.g. ({ORDER_STATUS_EVENT!r},)")
    out = tuple(events)
    for code in out:
        if not isinstance(code, str) or not code.strip():
            raise ValueError(f"{name} must hold non-empty event code strings, got {code!r}")
    return out


@dataclass(eq=False)
class _Job:
    app_key: str
    event_code: str
    payload: dict[str, Any]
    secret: str = field(repr=False)
    future: asyncio.Future[PushOutcome]
    push: WebhookPush | None = None
    """Built on the first attempt and reused, byte for byte, by every retry."""
    attempts: int = 0
    status: int | None = None
    error: str | None = None
    timer: asyncio.TimerHandle | None = None
    due: float | None = None
    """With a timeline: when (on it) the next retry is due."""


class WebhookPusher:
    """Queues deliveries and sends them from one background task, with retries.

    Counters (read them in tests): ``sent`` (acknowledged deliveries), ``failed`` (given up or
    dropped), ``retried`` (retry attempts made), ``attempts`` (all HTTP attempts),
    ``statuses`` (answers by HTTP status; 0 for no answer) and ``outcomes`` (the latest
    :class:`PushOutcome` records, oldest first).
    """

    def __init__(
        self,
        *,
        url: str | None,
        events: Iterable[str],
        policy: PushPolicy,
        secret_for: Callable[[str], str | None],
        region_id: int,
        delivery_seconds: int,
    ) -> None:
        self._url = check_webhook_url(url)
        self.events = check_events(events)
        if not isinstance(policy, PushPolicy):
            raise ValueError("webhook_policy must be a PushPolicy")
        self.policy = policy
        self._secret_for = secret_for
        self._region_id = region_id
        self._delivery_seconds = delivery_seconds
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._unfinished: set[_Job] = set()
        self._idle: asyncio.Event | None = None
        self._closed = False
        self.sent = 0
        self.failed = 0
        self.retried = 0
        self.attempts = 0
        self.statuses: Counter[int] = Counter()
        self.outcomes: deque[PushOutcome] = deque(maxlen=_HISTORY)
        self._receiver_down = False
        self._acks_to_lose = 0
        self.acks_lost = 0

    def __repr__(self) -> str:
        return (
            f"WebhookPusher(url={self._url!r}, sent={self.sent}, failed={self.failed}, "
            f"retried={self.retried}, pending={len(self._unfinished)})"
        )

    # ---- settings -------------------------------------------------------------------
    @property
    def url(self) -> str | None:
        """Where deliveries go; None turns automatic pushes off."""
        return self._url

    @url.setter
    def url(self, value: str | None) -> None:
        self._url = check_webhook_url(value)

    @property
    def pending(self) -> int:
        """Deliveries queued, in flight or waiting for a retry."""
        return len(self._unfinished)

    def set_receiver_down(self, down: bool) -> None:
        """While True, every attempt fails as if the receiver could not be reached."""
        self._receiver_down = bool(down)

    def lose_acks(self, count: int) -> None:
        """Treat the receiver's next ``count`` 200 answers as lost (too late for Temu)."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"count must be an integer >= 0, got {count!r}")
        self._acks_to_lose = count

    async def advance(self, seconds: float) -> None:
        """Move the timeline ``seconds`` ahead, sending each retry as it comes due.

        Needs ``policy.timeline``. Retries are sent in order of their due time, and each
        one's attempt finishes before the clock moves on, as on a real (slow) schedule.
        """
        timeline = self.policy.timeline
        if timeline is None:
            raise RuntimeError("advance() needs PushPolicy(timeline=ManualClock(...))")
        if not _is_seconds(seconds, allow_zero=True):
            raise ValueError(f"seconds must be finite and >= 0, got {seconds!r}")
        end = timeline.now() + seconds
        while True:
            await self._settle()
            waiting = [j for j in self._unfinished if j.due is not None]
            if not waiting:
                break
            job = min(waiting, key=lambda j: (j.due, j.attempts))
            assert job.due is not None
            if job.due > end:
                break
            if job.due > timeline.now():
                timeline.set(job.due)
            job.due = None
            self._requeue(job)
        if end > timeline.now():
            timeline.set(end)
        await self._settle()

    async def _settle(self) -> None:
        # Until every job is finished or waiting for a later due time on the timeline.
        while any(j.due is None for j in self._unfinished):
            await asyncio.sleep(0.001)

    def reset(self) -> None:
        """Zero the counters and forget the outcomes (pending deliveries carry on)."""
        self.sent = self.failed = self.retried = self.attempts = 0
        self.statuses.clear()
        self.outcomes.clear()

    # ---- producing ------------------------------------------------------------------
    def notify(self, change: OrderStatusChange, order: ParentOrder | None) -> None:
        """Queue the subscribed events for one world change (no-op without a URL).

        Payloads are built now, while the order is as the change left it.
        """
        if self._url is None or self._closed:
            return
        secret = self._secret_for(change.app_key)
        if secret is None:
            log.warning("webhook push: no app %s in the world; change dropped", change.app_key)
            return
        for code, payload in order_events(
            change,
            order,
            region_id=self._region_id,
            delivery_seconds=self._delivery_seconds,
            events=self.events,
        ):
            self._enqueue(change.app_key, code, payload, secret)

    def enqueue(
        self,
        app_key: str,
        event_code: str,
        payload: Mapping[str, Any],
        *,
        app_secret: str | None = None,
    ) -> asyncio.Future[PushOutcome]:
        """Queue one delivery of any event; the future resolves with its outcome.

        ``app_secret`` (default: the app's own) signs and encrypts it; pass another to see a
        receiver refuse it. Needs a running event loop.
        """
        if not isinstance(app_key, str) or not app_key:
            raise ValueError("app_key must be a non-empty string")
        if not isinstance(event_code, str) or not event_code.strip():
            raise ValueError("event_code must be a non-empty event code string")
        if not isinstance(payload, Mapping):
            raise ValueError(
                f"payload must be a mapping (the event's camelCase fields), "
                f"got {type(payload).__name__}"
            )
        if self._url is None:
            raise RuntimeError("no webhook URL: set SandboxConfig.webhook_url or set_webhook_url()")
        if self._closed:
            raise RuntimeError("the sandbox is closed: start it again to push webhooks")
        secret = self._secret_for(app_key) if app_secret is None else app_secret
        if secret is None:
            raise ValueError("app_key is not one of the sandbox's apps (see sandbox.credentials)")
        if not isinstance(secret, str):
            raise ValueError("app_secret must be a string")
        return self._enqueue(app_key, event_code, dict(payload), secret)

    async def push(
        self,
        app_key: str,
        event_code: str,
        payload: Mapping[str, Any],
        *,
        app_secret: str | None = None,
    ) -> PushOutcome:
        """:meth:`enqueue` and wait until the delivery is acknowledged or given up."""
        future = self.enqueue(app_key, event_code, payload, app_secret=app_secret)
        return await asyncio.shield(future)

    def _enqueue(
        self, app_key: str, event_code: str, payload: dict[str, Any], secret: str
    ) -> asyncio.Future[PushOutcome]:
        loop = asyncio.get_running_loop()
        if self._queue is None or self._idle is None:
            self._queue = asyncio.Queue()
            self._idle = asyncio.Event()
        job = _Job(app_key, event_code, payload, secret, loop.create_future())
        self._unfinished.add(job)
        self._idle.clear()
        self._queue.put_nowait(job)
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._run(), name="sandbox-webhook-push")
        return job.future

    # ---- waiting and closing ---------------------------------------------------------
    async def drain(self, timeout: float | None = None) -> bool:
        """Wait until nothing is queued, in flight or waiting for a retry.

        True when drained; False if ``timeout`` seconds passed first.
        """
        if self._idle is None or not self._unfinished:
            return True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    def open(self) -> None:
        """Accept pushes again after :meth:`close` (the sandbox was started again)."""
        self._closed = False

    async def close(self) -> None:
        """Drain (up to ``policy.drain_timeout``), then drop what is left and stop."""
        self._closed = True
        if not await self.drain(self.policy.drain_timeout):
            log.warning(
                "webhook push: %d deliveries still pending after %.1f s; dropping them",
                len(self._unfinished),
                self.policy.drain_timeout,
            )
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
        for job in list(self._unfinished):
            self._give_up(job, "dropped: the sandbox closed before it was delivered")
        self._queue = None
        self._idle = None
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    # ---- sending ---------------------------------------------------------------------
    async def _run(self) -> None:
        queue = self._queue
        assert queue is not None
        while True:
            job = await queue.get()
            if job not in self._unfinished:
                continue  # given up while it waited
            try:
                await self._attempt(job)
            except Exception as exc:  # never let one bad job stop every later delivery
                log.exception("webhook push of %s failed unexpectedly", job.event_code)
                self._give_up(job, f"sandbox error: {type(exc).__name__}")

    async def _attempt(self, job: _Job) -> None:
        url = self._url
        if url is None:
            self._give_up(job, "no webhook URL any more")
            return
        if job.push is None or self.policy.restamp:
            job.push = build_push(
                job.app_key,
                job.secret,
                job.event_code,
                job.payload,
                timestamp=int(self.policy.clock() * 1000),
            )
        job.attempts += 1
        self.attempts += 1
        if job.attempts > 1:
            self.retried += 1
        if self._receiver_down:
            job.status, job.error = None, "connection refused (the receiver is down)"
        else:
            job.status, job.error = await self._send(url, job.push)
            if job.status == 200 and self._acks_to_lose:
                self._acks_to_lose -= 1
                self.acks_lost += 1
                job.status, job.error = None, "the 200 was lost (it came too late for Temu)"
        self.statuses[job.status or 0] += 1
        if job.status == 200:
            self.sent += 1
            self._finish(job, delivered=True)
            return
        retries = self.policy.retry_delays
        if job.attempts > len(retries):
            self._give_up(job, job.error or "not acknowledged")
            return
        delay = retries[job.attempts - 1]
        log.info(
            "webhook %s: attempt %d failed (%s); retrying in %.2f s",
            job.event_code,
            job.attempts,
            job.error,
            delay,
        )
        if self.policy.timeline is not None:
            job.due = self.policy.timeline.now() + delay
        else:
            job.timer = asyncio.get_running_loop().call_later(delay, self._requeue, job)

    def _requeue(self, job: _Job) -> None:
        job.timer = None
        if job in self._unfinished and self._queue is not None:
            self._queue.put_nowait(job)

    async def _send(self, url: str, push: WebhookPush) -> tuple[int | None, str | None]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        limit = self.policy.reply_within
        try:
            async with self._session.post(
                url,
                data=push.body,
                headers=push.headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=limit),
            ) as resp:
                await resp.read()
                status = resp.status
        except asyncio.TimeoutError:
            # Checked before ClientError: aiohttp's timeouts are both.
            return None, f"no answer within {limit:g} s"
        except aiohttp.ClientError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return status, None if status == 200 else f"HTTP {status} (Temu needs 200)"

    def _finish(self, job: _Job, *, delivered: bool) -> None:
        self._unfinished.discard(job)
        if job.timer is not None:
            job.timer.cancel()
            job.timer = None
        outcome = PushOutcome(
            app_key=job.app_key,
            event_code=job.event_code,
            payload=job.payload,
            delivered=delivered,
            attempts=job.attempts,
            status=job.status,
            error=None if delivered else job.error,
        )
        self.outcomes.append(outcome)
        if not job.future.done():
            job.future.set_result(outcome)
        if not self._unfinished and self._idle is not None:
            self._idle.set()

    def _give_up(self, job: _Job, why: str) -> None:
        if job not in self._unfinished:
            return
        self.failed += 1
        job.error = why
        log.warning(
            "webhook %s for app %s: giving up after %d attempt(s): %s",
            job.event_code,
            job.app_key,
            job.attempts,
            why,
        )
        self._finish(job, delivered=False)
