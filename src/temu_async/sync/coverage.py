"""Which update-time seconds of a run are already stored: a set of closed integer intervals.

An order's update time only ever moves forward. So once every order whose update
time lies in ``[a, b]`` has been stored, that stays true for the rest of the run:
an order that changes afterwards leaves ``[a, b]`` for a later second, which the
run (or the next one, through the overlap) walks anyway. That is what lets a
killed run resume from its coverage instead of starting over.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

__all__ = ["Coverage", "Interval"]

Interval = tuple[int, int]
"""Closed: both ends are included (the order filters treat their bounds that way)."""


class Coverage:
    """Disjoint, sorted, non-adjacent closed intervals of whole seconds."""

    __slots__ = ("_spans",)

    def __init__(self, spans: Iterable[Interval] = ()) -> None:
        self._spans: list[Interval] = []
        for lo, hi in spans:
            self.add(lo, hi)

    def __iter__(self) -> Iterator[Interval]:
        return iter(self._spans)

    def __len__(self) -> int:
        return len(self._spans)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Coverage) and self._spans == other._spans

    def __repr__(self) -> str:
        return f"Coverage({self._spans!r})"

    def spans(self) -> list[Interval]:
        return list(self._spans)

    def add(self, lo: int, hi: int) -> None:
        """Mark ``[lo, hi]`` covered; an empty interval (``hi < lo``) is ignored."""
        if hi < lo:
            return
        kept: list[Interval] = []
        for a, b in self._spans:
            # Touching intervals merge too: [1, 4] and [5, 9] cover [1, 9].
            if b < lo - 1 or a > hi + 1:
                kept.append((a, b))
            else:
                lo, hi = min(lo, a), max(hi, b)
        kept.append((lo, hi))
        kept.sort()
        self._spans = kept

    def missing(self, lo: int, hi: int) -> list[Interval]:
        """The parts of ``[lo, hi]`` not covered yet, in order."""
        out: list[Interval] = []
        at = lo
        for a, b in self._spans:
            if b < at:
                continue
            if a > hi:
                break
            if a > at:
                out.append((at, a - 1))
            at = max(at, b + 1)
            if at > hi:
                return out
        if at <= hi:
            out.append((at, hi))
        return out

    def covers(self, lo: int, hi: int) -> bool:
        return not self.missing(lo, hi)

    def cut_after(self, limit: int) -> Coverage:
        """A copy without any second after ``limit``."""
        return Coverage((a, min(b, limit)) for a, b in self._spans if a <= limit)
