"""A strict sliding-window limiter: never more than N admissions in any 1-second window.

This is how PROTOCOL.md says the gateway counts, and it is the reference the
client's throttle is measured against: a token bucket that starts full lets
2N-1 through in the first second, and this window refuses the extra ones.
Only admitted requests occupy the window; a refused one was never executed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

__all__ = ["SlidingWindow", "max_in_window", "try_admit"]


class SlidingWindow:
    def __init__(self, limit: int, window: float = 1.0) -> None:
        if limit < 1:
            raise ValueError("rate limit must be >= 1 per window")
        self.limit = limit
        self.window = window
        self._admitted: deque[float] = deque()

    def _trim(self, now: float) -> None:
        edge = now - self.window
        q = self._admitted
        while q and q[0] <= edge:
            q.popleft()

    def has_room(self, now: float) -> bool:
        self._trim(now)
        return len(self._admitted) < self.limit

    def admit(self, now: float) -> None:
        self._admitted.append(now)


def try_admit(windows: Sequence[SlidingWindow], now: float) -> bool:
    """Admit into every window, or into none (app-level and type-level limits together)."""
    if all(w.has_room(now) for w in windows):
        for w in windows:
            w.admit(now)
        return True
    return False


def max_in_window(timestamps: Iterable[float], window: float = 1.0) -> int:
    """The largest number of timestamps inside any half-open window of that length."""
    ts = sorted(timestamps)
    best = 0
    lo = 0
    for hi, t in enumerate(ts):
        while ts[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best
