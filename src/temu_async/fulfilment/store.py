"""Where fulfilment state lives between (and across) runs: a small protocol.

One record per unit of work (a parent order's label package, a CSV row's confirm),
identified by ``(kind, shop, key)``. ``phase`` says how far the work got; ``data``
holds whatever the step needs to resume (the request as sent, the package number,
the tracking number). ``save`` must be durable when it returns: the pipelines
rely on "the intent is on disk before the write is sent".

SQLite (:mod:`temu_async.fulfilment.sqlite_store`) is the embedded default; a
PostgreSQL store implements the same four methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["FulfilmentRecord", "FulfilmentStore"]


@dataclass
class FulfilmentRecord:
    kind: str
    """``label`` or ``confirm``."""
    shop: str
    key: str
    """The parent order number (labels) or the CSV row's parent order + tracking (confirms)."""
    phase: str
    data: dict[str, Any] = field(default_factory=dict)
    updated_at: float = 0.0


class FulfilmentStore(Protocol):
    async def get(self, kind: str, shop: str, key: str) -> FulfilmentRecord | None:
        """The record, or None when this work was never started."""
        ...

    async def save(self, record: FulfilmentRecord) -> None:
        """Insert or replace the record; durable (committed) when it returns."""
        ...

    async def records(self, kind: str, shop: str | None = None) -> list[FulfilmentRecord]:
        """Every record of a kind (of one shop), oldest first."""
        ...

    async def close(self) -> None: ...
