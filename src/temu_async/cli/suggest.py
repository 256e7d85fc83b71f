"""Near names for a mistyped API type, by edit distance over the whole dotted name.

Matching on one dotted word (the old way) sent ``bg.order.lst.v2.get`` to every type
ending in ``.get``; a typo is a few edited characters, so measure exactly that.
"""

from __future__ import annotations

from collections.abc import Iterable

from temu_async import catalogue

__all__ = ["edit_distance", "near_names", "unknown_type_message"]


def edit_distance(a: str, b: str, limit: int | None = None) -> int:
    """Levenshtein distance (insert, delete, substitute); stops early past ``limit``."""
    if len(a) < len(b):
        a, b = b, a
    if limit is not None and len(a) - len(b) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if limit is not None and min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def near_names(name: str, known: Iterable[str], count: int = 5) -> list[str]:
    """Up to ``count`` known names, nearest first.

    Near means within a third of ``name``'s length in edits; a name that holds
    ``name`` whole (``order.list`` in ``bg.order.list.v2.get``) comes after those.
    """
    limit = max(2, len(name) // 3)
    scored = []
    for candidate in known:
        distance = edit_distance(name, candidate, limit)
        if distance <= limit:
            scored.append((0, distance, candidate))
        elif name and name in candidate:
            scored.append((1, len(candidate), candidate))
    return [candidate for *_, candidate in sorted(scored)[:count]]


def unknown_type_message(name: str) -> str:
    """``unknown type 'x' (did you mean: a, b?)`` against the catalogue's types."""
    near = near_names(name, catalogue.types_by_name())
    hint = f" (did you mean: {', '.join(near)}?)" if near else " (see: temu-async types)"
    return f"unknown type {name!r}: not in the catalogue{hint}"
