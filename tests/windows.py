"""Counting events per window: the yardstick of every rate-limit test.

Kept apart from ``temu_async.sandbox.max_in_window`` on purpose: tests that check the
sandbox's own counting need a second, independent count.
"""

from __future__ import annotations


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most events that fall in any half-open window of ``window`` seconds."""
    times = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best
