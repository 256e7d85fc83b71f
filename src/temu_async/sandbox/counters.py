"""What the sandbox saw: counters for tests and benches to read.

Plain containers, filled by the request path; ``Counters.reset()`` starts a new
measurement without restarting the server.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

__all__ = ["Counters"]


@dataclass
class Counters:
    arrivals: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    """Per app_key: limiter-clock time of every request that reached the rate limiter
    (it passed type/app/token/timestamp/sign checks), admitted or not."""
    admitted: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    """Per app_key: limiter-clock time of every request the limiter let through."""
    rejections: Counter[int] = field(default_factory=Counter)
    """Error envelopes sent, by code (gateway checks, params, limits, injected faults)."""
    requests_by_type: Counter[str] = field(default_factory=Counter)
    """Requests executed (business logic ran, success or business error), by type."""
    faults: Counter[str] = field(default_factory=Counter)
    """Injected faults by kind: error, http, drop, malformed, html."""
    received: int = 0
    """Every HTTP request on the router path, whatever became of it."""

    def reset(self) -> None:
        self.arrivals.clear()
        self.admitted.clear()
        self.rejections.clear()
        self.requests_by_type.clear()
        self.faults.clear()
        self.received = 0

    @property
    def executed(self) -> int:
        return sum(self.requests_by_type.values())
