"""What a long sync has done so far, per shop and in total: the numbers behind progress output.

The sync engines write into a :class:`Progress`; renderers (``report.py``), tests
and a service's own metrics read :meth:`Progress.snapshot`. Nothing here prints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from temu_async.throttle import Throttle

__all__ = ["Progress", "ProgressSnapshot", "ShopProgress", "ShopSnapshot", "SyncSummary"]


@dataclass
class ShopProgress:
    name: str
    started: float
    finished: float | None = None
    requests: int = 0
    """Calls the sync made for this shop (retries inside the client are not counted here)."""
    fetched: int = 0
    """Orders (or prices) received, including ones already stored; with detail or shipping
    calls, an order counts once its extra calls are done (so the rate, and the ETA, reflect
    the work per order)."""
    written: int = 0
    """Rows inserted or changed in the store."""
    new: int = 0
    """Rows that were not in the store before."""
    remaining: int | None = None
    """Estimated items still to fetch (or to complete); None until some work has been sized."""
    error: str | None = None


@dataclass(frozen=True)
class ShopSnapshot:
    name: str
    fetched: int
    written: int
    new: int
    requests: int
    elapsed: float
    rate: float
    """Items fetched per second since the shop started."""
    eta: float | None
    done: bool
    error: str | None


@dataclass(frozen=True)
class ProgressSnapshot:
    label: str
    elapsed: float
    fetched: int
    written: int
    new: int
    requests: int
    rate: float
    eta: float | None
    shops_done: int
    """Shops that finished without an error."""
    shops_total: int
    throttle_wait: float
    """Seconds callers spent queued for a rate slot, summed over all of them: concurrent
    callers wait at the same time, so this can exceed the elapsed time."""
    rejections: int
    """Rate-limit answers the client saw (each pushed the app's budget back)."""
    retries: int
    shops: tuple[ShopSnapshot, ...]
    shops_failed: int = 0
    """Shops that stopped with an error (not done: their data is incomplete)."""

    @property
    def throttle_wait_mean(self) -> float:
        """Seconds the average request waited for its rate slot."""
        return self.throttle_wait / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class SyncSummary:
    """The result of one run; also what ``--log-format json`` prints at the end."""

    label: str
    orders: int
    """Items fetched (orders for an order sync, SKU prices for a price pull)."""
    written: int
    new: int
    requests: int
    """Requests sent, retries included (the app's throttle grants during the run)."""
    retries: int
    rejections: int
    throttle_wait: float
    """Seconds queued for a rate slot, summed over concurrent callers (can exceed the wall
    time): :attr:`throttle_wait_mean` is the figure to read."""
    wall_seconds: float
    shops: tuple[ShopSnapshot, ...]
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def unchanged(self) -> int:
        """Items fetched that matched what was stored (or were read twice in this run)."""
        return max(0, self.orders - self.written)

    @property
    def throttle_wait_mean(self) -> float:
        """Seconds the average request waited for its rate slot."""
        return self.throttle_wait / self.requests if self.requests else 0.0


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def _eta(remaining: int | None, rate: float) -> float | None:
    if remaining is None:
        return None
    if remaining <= 0:
        return 0.0
    return remaining / rate if rate > 0 else None


class Progress:
    """Shared by the shops of one run. ``throttle`` is the app's, for wait and rejection counts."""

    def __init__(
        self,
        label: str,
        throttle: Throttle | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self._clock = clock
        self.started = clock()
        self.shops: dict[str, ShopProgress] = {}
        self._throttle = throttle
        stats = throttle.stats if throttle is not None else None
        # The app may have served calls before this run: count only what happens during it.
        self._base_granted = stats.granted if stats else 0
        self._base_wait = stats.waited_seconds if stats else 0.0
        self._base_penalties = stats.penalties if stats else 0

    def shop(self, name: str) -> ShopProgress:
        got = self.shops.get(name)
        if got is None:
            got = self.shops[name] = ShopProgress(name, started=self._clock())
        return got

    def finish(self, name: str, error: str | None = None) -> None:
        shop = self.shop(name)
        shop.finished = self._clock()
        shop.error = error
        if error is None:
            shop.remaining = 0

    def _throttle_numbers(self) -> tuple[int, float, int]:
        if self._throttle is None:
            return 0, 0.0, 0
        s = self._throttle.stats
        return (
            s.granted - self._base_granted,
            s.waited_seconds - self._base_wait,
            s.penalties - self._base_penalties,
        )

    def snapshot(self) -> ProgressSnapshot:
        now = self._clock()
        shops = []
        for p in self.shops.values():
            elapsed = (p.finished or now) - p.started
            rate = _rate(p.fetched, elapsed)
            done = p.finished is not None
            shops.append(
                ShopSnapshot(
                    name=p.name,
                    fetched=p.fetched,
                    written=p.written,
                    new=p.new,
                    requests=p.requests,
                    elapsed=elapsed,
                    rate=rate,
                    eta=0.0 if done else _eta(p.remaining, rate),
                    done=done,
                    error=p.error,
                )
            )
        elapsed = now - self.started
        fetched = sum(s.fetched for s in shops)
        rate = _rate(fetched, elapsed)
        live = [s for s in shops if not s.done]
        etas = [s.eta for s in live]
        eta = None if any(e is None for e in etas) else max((e or 0.0 for e in etas), default=0.0)
        calls = sum(s.requests for s in shops)
        granted, waited, penalties = self._throttle_numbers()
        return ProgressSnapshot(
            label=self.label,
            elapsed=elapsed,
            fetched=fetched,
            written=sum(s.written for s in shops),
            new=sum(s.new for s in shops),
            requests=max(granted, calls),
            rate=rate,
            eta=eta,
            shops_done=sum(1 for s in shops if s.done and not s.error),
            shops_failed=sum(1 for s in shops if s.error),
            shops_total=len(shops),
            throttle_wait=waited,
            rejections=penalties,
            retries=max(0, granted - calls),
            shops=tuple(shops),
        )

    def summary(self) -> SyncSummary:
        snap = self.snapshot()
        return SyncSummary(
            label=self.label,
            orders=snap.fetched,
            written=snap.written,
            new=snap.new,
            requests=snap.requests,
            retries=snap.retries,
            rejections=snap.rejections,
            throttle_wait=snap.throttle_wait,
            wall_seconds=snap.elapsed,
            shops=snap.shops,
            errors={s.name: s.error for s in snap.shops if s.error},
        )
