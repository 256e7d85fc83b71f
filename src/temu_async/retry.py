"""When to send a request again, and how long to wait first.

What is retryable is data: each gateway code's ``retryable`` flag in the catalogue
(4000000, 4000004, "try again later" codes), plus transport failures and HTTP 5xx.
Exponential backoff with full jitter spreads the retries of many callers; a per-app
budget stops an outage from multiplying the traffic.

Writes the catalogue marks non-idempotent are sent again only when the gateway
provably did not run them: a rate-limit rejection, or a connection that was never
made. Any other failure of such a write surfaces as
:class:`~temu_async.errors.OutcomeUnknown`.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from temu_async.errors import (
    ConnectError,
    RateLimited,
    TemuError,
    TransportError,
)

__all__ = ["RetryBudget", "RetryPolicy"]


@dataclass
class RetryBudget:
    """Retries may add at most ``ratio`` of the first attempts, plus ``floor`` per ``window``.

    Counted per app over a sliding ``window`` of seconds: when most calls are failing,
    retries stop instead of doubling the load on a struggling gateway.
    """

    ratio: float = 0.2
    floor: int = 10
    window: float = 10.0
    clock: Callable[[], float] = time.monotonic
    _firsts: deque[float] = field(default_factory=deque)
    _retries: deque[float] = field(default_factory=deque)

    def _trim(self, now: float) -> None:
        cut = now - self.window
        while self._firsts and self._firsts[0] < cut:
            self._firsts.popleft()
        while self._retries and self._retries[0] < cut:
            self._retries.popleft()

    def record_first(self) -> None:
        now = self.clock()
        self._trim(now)
        self._firsts.append(now)

    def try_spend(self) -> bool:
        now = self.clock()
        self._trim(now)
        if len(self._retries) < self.floor + self.ratio * len(self._firsts):
            self._retries.append(now)
            return True
        return False


@dataclass
class RetryPolicy:
    max_retries: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_total_wait: float = 60.0
    """No retry starts later than this after the first attempt."""
    rate_limit_penalty: float = 1.0
    """Seconds the whole app's budget is pushed back after a 4000004."""
    budget: RetryBudget | None = field(default_factory=RetryBudget)
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2**attempt)]."""
        return self.rng.uniform(0.0, min(self.max_delay, self.base_delay * (2**attempt)))

    def should_retry(self, error: TemuError, *, attempt: int, idempotent: bool) -> bool:
        """``attempt`` counts retries already made (0 after the first failure)."""
        if attempt >= self.max_retries or not error.retryable:
            return False
        if not idempotent and not provably_not_run(error):
            return False
        return self.budget is None or self.budget.try_spend()


def provably_not_run(error: TemuError) -> bool:
    """True when the gateway certainly did not execute the request."""
    if isinstance(error, RateLimited):
        return True
    if isinstance(error, ConnectError):
        return True
    return isinstance(error, TransportError) and not error.sent
