"""Time for the sandbox: a real clock for demos, a hand-driven one for tests.

The business clock drives order creation, status changes, token expiry and the
timestamp check. It is injectable so a test can jump an hour ahead without
waiting; the rate limiter keeps its own monotonic clock (see ``limiter.py``).
"""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> float:
        """Unix time in seconds."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that only moves when told to: ``advance`` / ``set``."""

    def __init__(self, start: float | None = None) -> None:
        # Default start: the wall clock's current whole second, so a real client's
        # timestamps (taken from its own clock) pass the +-300 s check. Pass a fixed
        # start for data whose absolute times repeat between runs.
        self._now = float(int(time.time()) if start is None else start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("ManualClock.advance: seconds must be >= 0 (time does not run back)")
        self._now += seconds
        return self._now

    def set(self, when: float) -> None:
        self._now = float(when)
