"""The vocabulary every rate backend shares: a :class:`Limit`, the :class:`Slot` a backend
hands out, the :class:`RateBackend` protocol, and the errors for a slot too far away.

How slots are counted, and why at the write, is in :mod:`temu_async.throttle`.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from temu_async.errors import ThrottleTimeout

__all__ = ["Limit", "LimitKey", "RateBackend", "Slot", "all_unwritten", "burst", "too_far"]

LimitKey = tuple[str, str | None]
"""What a limit counts under: ``(app_key, None)`` app-wide, ``(app_key, type)`` per type."""


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``rate`` requests in any window of ``period`` seconds.

    Counted per app_key, or per (app_key, ``api_type``) for a type's own limit.
    """

    app_key: str
    rate: int
    period: float = 1.0
    api_type: str | None = None
    key: LimitKey = field(init=False, repr=False, compare=False)
    """``(app_key, api_type)``: what the limit counts under. A field set once rather than a
    property, since backends look it up several times for every request."""

    def __post_init__(self) -> None:
        if self.api_type is None and ":" in self.app_key:
            # The old spelling Limit("<app_key>:<type>", rate); kept working for now.
            warnings.warn(
                "Limit('<app_key>:<type>', rate) is deprecated; use "
                "Limit(app_key, rate, api_type=type)",
                DeprecationWarning,
                stacklevel=3,
            )
            app_key, _, api_type = self.app_key.partition(":")
            object.__setattr__(self, "app_key", app_key)
            object.__setattr__(self, "api_type", api_type)
        if not self.app_key:
            raise ValueError("limit: app_key must be a non-empty string")
        object.__setattr__(self, "key", (self.app_key, self.api_type))
        if self.rate < 1 or self.period <= 0:
            raise ValueError(f"limit {self.key!r}: rate must be >= 1 and period > 0")


class Slot:
    """One admitted request's place under every limit of its call.

    Its holder must end it exactly once: :meth:`sent` when the request's bytes are
    written (from then on it counts at that instant), or :meth:`release` when the
    request was never written (the place is given back). Both are idempotent, and
    either one ends it, so ``release()`` in a ``finally`` after ``sent()`` is a no-op.
    """

    __slots__ = ("_backend", "_open", "delay", "due", "limits", "token", "waited")

    def __init__(
        self, backend: RateBackend, limits: Sequence[Limit], delay: float = 0.0, token: str = ""
    ) -> None:
        self._backend = backend
        self._open = True
        self.limits = limits
        self.delay = delay
        """Seconds from the reservation until the slot may be used."""
        self.due = time.monotonic() + delay if delay > 0 else 0.0
        """When (``time.monotonic()``) the request may be written at the earliest."""
        self.token = token
        """The backend's name for this slot (Redis: the member in the write log)."""
        self.waited = 0.0
        """Seconds the caller spent queueing for it."""

    @property
    def open(self) -> bool:
        """Neither sent nor released yet."""
        return self._open

    async def until_due(self) -> None:
        """Wait until the slot may be used (the throttle may hand it over a little early,
        so that the request is ready to leave when it is due)."""
        wait = self.due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def sent(self) -> None:
        """The request is being written now: count the slot at this instant."""
        if self._open:
            self._open = False
            self._backend.stamp(self)

    def release(self) -> None:
        """The request was not written (and will not be): give the place back."""
        if self._open:
            self._open = False
            self._backend.release(self)


@runtime_checkable
class RateBackend(Protocol):
    """Where slots are counted. Implementations commit all limits of a call or none."""

    def grant_now(self, limits: Sequence[Limit]) -> Slot | None:
        """A slot free this instant, committed; or None (none free, or the backend
        cannot tell without a round trip). Lets an idle throttle skip its queue."""
        ...

    async def reserve(self, limits: Sequence[Limit], max_wait: float) -> Slot:
        """Commit one slot in every limit; its ``delay`` says when it may be used.

        Raise :class:`ThrottleTimeout` (committing nothing) when that is more than
        ``max_wait`` away.
        """
        ...

    def stamp(self, slot: Slot) -> None:
        """Count ``slot`` as written now (called through :meth:`Slot.sent`)."""
        ...

    def release(self, slot: Slot) -> None:
        """Give an unwritten ``slot`` back (called through :meth:`Slot.release`)."""
        ...

    async def penalize(self, limits: Sequence[Limit], seconds: float) -> None:
        """Grant nothing under these limits for ``seconds`` (the gateway said 4000004)."""
        ...

    async def close(self) -> None: ...


def burst(limit: Limit, fraction: float) -> int:
    """How many grants of ``limit`` may go at once from a cold start (at least one)."""
    return max(1, int(limit.rate * fraction))


def too_far(wait: float, max_wait: float, where: str = "") -> ThrottleTimeout:
    """The error for a slot further away than the caller will wait (``where``: " in ...")."""
    return ThrottleTimeout(
        f"the next free slot{where} is {wait:.2f} s away, more than max_wait={max_wait:.2f} s",
        hint="raise max_wait, lower the concurrency, or spread the work over time",
    )


def all_unwritten(max_wait: float, where: str = "") -> ThrottleTimeout:
    """The error when every place stayed held by requests not yet written."""
    return ThrottleTimeout(
        f"every slot{where} stayed held by requests admitted but not yet written for "
        f"max_wait={max_wait:.2f} s (connections that do not open?)",
        hint="check the network to the gateway, or raise max_wait",
    )
