"""Per-call options: the one piece of the client that generated code needs to name.

It lives apart from ``client`` so that the generated groups import only the small
core (this module and :mod:`temu_async.group`), never the client that composes them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CallOptions"]


@dataclass(frozen=True)
class CallOptions:
    """Per-call overrides of the app's defaults."""

    timeout: float | None = None
    max_retries: int | None = None
    max_wait: float | None = None
    """Longest wait for a rate slot before ThrottleTimeout."""
    allow_unknown: bool = False
    """Send params the catalogue does not know (for fields Temu added since)."""
