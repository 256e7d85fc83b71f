"""How often and how long a request may be sent again: the numbers of the one policy.

Whether a given failure is sent again is :func:`temu_async.decide.decide`'s call (from
data: each gateway code's flags in ``spec/gateway.yaml``, the type's ``idempotent`` and
``retryable_errors``). This module holds the numbers it works with: backoff (exponential
with full jitter, so many callers spread out), the caps on retries and total wait, two
profiles (interactive, and patient bulk reads), and a per-app :class:`RetryBudget` so an
outage cannot multiply the traffic.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from temu_async.decide import Limits

__all__ = ["RetryBudget", "RetryPolicy"]


def _finite(name: str, value: float, *, low: float, strict: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < low or (strict and value == low):
        sign = ">" if strict else ">="
        raise ValueError(f"{name} must be a finite number {sign} {low:g}, got {value!r}")


def _count(name: str, value: int, *, low: int = 0) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


class _WindowCount:
    """Events over about the last ``window`` seconds, counted in ten slices.

    A count per slice, not a time per event: the budget sees every request of its app,
    so a deque of times would hold ``rate x window`` entries (tens of thousands at
    loopback speed) and allocate one for every request. Whole slices expire at once,
    so the window reaches back between 0.9 and 1.0 of ``window`` (Finagle counts its
    budget in slices the same way).
    """

    __slots__ = ("_counts", "_current", "_slice", "total")

    SLICES = 10

    def __init__(self, window: float) -> None:
        self._slice = window / self.SLICES
        self._counts = [0] * self.SLICES
        self._current = 0  # the slice number (time // slice) that the last event fell in
        self.total = 0

    def _advance(self, now: float) -> None:
        current = int(now // self._slice)
        behind = current - self._current
        if behind <= 0:
            return
        counts = self._counts
        if behind >= self.SLICES:
            counts[:] = [0] * self.SLICES
            self.total = 0
        else:
            for step in range(1, behind + 1):
                index = (self._current + step) % self.SLICES
                self.total -= counts[index]
                counts[index] = 0
        self._current = current

    def add(self, now: float) -> None:
        self._advance(now)
        self._counts[self._current % self.SLICES] += 1
        self.total += 1

    def count(self, now: float) -> int:
        self._advance(now)
        return self.total


@dataclass
class RetryBudget:
    """Retries may add at most ``ratio`` of the first attempts, plus ``per_second``
    retries per second, counted per app over a sliding ``window`` of seconds.

    The defaults are Finagle's RetryBudget (``percentCanRetry`` 0.2,
    ``minRetriesPerSec`` 10, ``ttl`` 10 s): when most calls are failing, retries stop at
    20 % extra load instead of doubling it, and a quiet app can still retry a few calls.
    ``floor`` sets the allowance without traffic directly (a count per window); by
    default it is ``per_second * window``.
    """

    ratio: float = 0.2
    per_second: float = 10.0
    window: float = 10.0
    floor: int | None = None
    clock: Callable[[], float] = time.monotonic
    _firsts: _WindowCount = field(init=False, repr=False)
    _retries: _WindowCount = field(init=False, repr=False)
    _floor: float = field(default=0.0, init=False, repr=False)

    def __post_init__(self) -> None:
        _finite("RetryBudget ratio", self.ratio, low=0.0)
        _finite("RetryBudget per_second", self.per_second, low=0.0)
        _finite("RetryBudget window", self.window, low=0.0, strict=True)
        if self.floor is not None:
            _count("RetryBudget floor", self.floor)
        self._floor = self.per_second * self.window if self.floor is None else self.floor
        self._firsts = _WindowCount(self.window)
        self._retries = _WindowCount(self.window)

    def record_first(self) -> None:
        self._firsts.add(self.clock())

    def can_spend(self) -> bool:
        now = self.clock()
        return self._retries.count(now) < self._floor + self.ratio * self._firsts.count(now)

    def spend(self) -> None:
        self._retries.add(self.clock())

    def try_spend(self) -> bool:
        if self.can_spend():
            self.spend()
            return True
        return False


@dataclass
class RetryPolicy:
    """The numbers of the retry policy, and its patient profile for bulk reads."""

    max_retries: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_total_wait: float = 60.0
    """No retry starts later than this after the first attempt."""
    rate_limit_penalty: float = 1.0
    """Seconds the whole app's budget is pushed back after a code that says so (4000004)."""
    patient_max_wait: float = 300.0
    """The patient profile (``CallOptions(patient=True)``, used by the bulk syncs) waits
    out rate limits and system-busy stretches this long in all, however many retries
    that takes (the retry budget still caps them under an outage)."""
    patient_max_delay: float = 15.0
    budget: RetryBudget | None = field(default_factory=RetryBudget)
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        _count("max_retries", self.max_retries)
        _finite("base_delay", self.base_delay, low=0.0)
        _finite("max_delay", self.max_delay, low=0.0)
        _finite("max_total_wait", self.max_total_wait, low=0.0)
        _finite("rate_limit_penalty", self.rate_limit_penalty, low=0.0)
        _finite("patient_max_wait", self.patient_max_wait, low=0.0)
        _finite("patient_max_delay", self.patient_max_delay, low=0.0)

    def limits(self, *, patient: bool, max_retries: int | None = None) -> Limits:
        """The numbers :func:`~temu_async.decide.decide` works with for one call (built
        only once a call has failed: a call that succeeds never needs them)."""
        return Limits(
            max_retries=self.max_retries if max_retries is None else max_retries,
            base_delay=self.base_delay,
            max_delay=self.max_delay,
            max_total_wait=self.max_total_wait,
            patient=patient,
            patient_max_wait=self.patient_max_wait,
            patient_max_delay=self.patient_max_delay,
        )

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2**attempt)]."""
        return self.jitter(min(self.max_delay, self.base_delay * 2.0 ** min(attempt, 32)))

    def jitter(self, cap: float) -> float:
        return self.rng.uniform(0.0, cap)
