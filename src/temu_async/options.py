"""Per-call options: the one piece of the client that generated code needs to name.

It lives apart from ``client`` so that the generated groups import only the small
core (this module and :mod:`temu_async.group`), never the client that composes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["DEFAULT_OPTIONS", "PATIENT", "CallOptions"]


@dataclass(frozen=True, slots=True)
class CallOptions:
    """Per-call overrides of the app's defaults (checked when built: a bad value is a
    ValueError naming it, never a call that cannot time out)."""

    timeout: float | None = None
    """Seconds for one attempt's answer (> 0)."""
    max_retries: int | None = None
    """Retries after the first attempt (>= 0)."""
    max_wait: float | None = None
    """Longest wait for a rate slot before ThrottleTimeout (>= 0 seconds)."""
    allow_unknown: bool = False
    """Send params the catalogue does not know (for fields Temu added since)."""
    patient: bool = False
    """The patient bulk-read profile: rate limits and system-busy stretches are waited
    out up to the policy's ``patient_max_wait`` instead of raised after a few retries."""

    def __post_init__(self) -> None:
        if self.timeout is not None:
            _seconds("timeout", self.timeout, zero_ok=False)
        if self.max_wait is not None:
            _seconds("max_wait", self.max_wait, zero_ok=True)
        if self.max_retries is not None and (
            not isinstance(self.max_retries, int)
            or isinstance(self.max_retries, bool)
            or self.max_retries < 0
        ):
            raise ValueError(f"max_retries must be an integer >= 0, got {self.max_retries!r}")
        for name in ("allow_unknown", "patient"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")


def _seconds(name: str, value: object, *, zero_ok: bool) -> None:
    ok = (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value >= 0 if zero_ok else value > 0)
    )
    if not ok:
        rule = ">= 0" if zero_ok else "> 0"
        raise ValueError(f"{name} must be {rule} seconds (a finite number), got {value!r}")


DEFAULT_OPTIONS = CallOptions()
"""Shared by every call that passes no options (it is immutable)."""

PATIENT = CallOptions(patient=True)
"""The patient bulk-read profile, shared: what the syncs pass to every read."""
