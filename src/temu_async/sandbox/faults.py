"""Fault knobs: what can go wrong between a client and the gateway, on purpose.

A :class:`FaultSpec` applies to the whole run (``Faults.default``) or to one type
(``Faults.set_for_type``), changeable while the sandbox runs. Every random draw
comes from a generator seeded from the sandbox seed and the type name, so the
same sequence of requests meets the same sequence of faults.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["FaultDecision", "FaultSpec", "Faults"]

INJECTABLE_CODES = frozenset({4000000, 4000004})


@dataclass
class FaultSpec:
    """One set of fault rates. Rates are probabilities in [0, 1] per request."""

    latency_ms: float = 0.0
    """Added before answering (also before a dropped connection)."""
    jitter_ms: float = 0.0
    """Uniform extra latency in [0, jitter_ms)."""
    error_rates: dict[int, float] = field(default_factory=dict)
    """Envelope codes 4000000 / 4000004, or HTTP statuses 500-599, mapped to a rate."""
    drop_rate: float = 0.0
    """Close the connection without any response."""
    malformed_json_rate: float = 0.0
    """HTTP 200, JSON content type, a truncated body."""
    html_rate: float = 0.0
    """An HTML error page (as a proxy or WAF would send) instead of JSON."""
    html_status: int = 200

    def __post_init__(self) -> None:
        for code, rate in self.error_rates.items():
            if code not in INJECTABLE_CODES and not 500 <= code <= 599:
                raise ValueError(
                    f"error_rates: {code} is neither 4000000, 4000004 nor an HTTP 5xx status"
                )
            _check_rate(f"error_rates[{code}]", rate)
        for name in ("drop_rate", "malformed_json_rate", "html_rate"):
            _check_rate(name, getattr(self, name))
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise ValueError("latency_ms and jitter_ms must be >= 0")
        total = sum(self.error_rates.values()) + self.drop_rate
        total += self.malformed_json_rate + self.html_rate
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {total:.3f}, more than 1")

    @property
    def active(self) -> bool:
        return bool(
            self.latency_ms
            or self.jitter_ms
            or any(self.error_rates.values())
            or self.drop_rate
            or self.malformed_json_rate
            or self.html_rate
        )


def _check_rate(name: str, rate: float) -> None:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{name}: {rate} is not a probability in [0, 1]")


FaultKind = Literal["none", "error", "http", "drop", "malformed", "html"]


@dataclass(frozen=True)
class FaultDecision:
    delay: float = 0.0
    """Seconds to wait before acting."""
    kind: FaultKind = "none"
    code: int = 0
    """The envelope code (kind ``error``) or HTTP status (kind ``http`` / ``html``)."""


NO_FAULT = FaultDecision()


class Faults:
    """The live fault settings of one sandbox, plus the server clock offset."""

    def __init__(self, seed: int, default: FaultSpec | None = None) -> None:
        self._seed = seed
        self.default = default or FaultSpec()
        self._per_type: dict[str, FaultSpec] = {}
        self._rngs: dict[str, random.Random] = {}
        self.clock_offset: float = 0.0
        """Seconds added to the server clock (Date header and the timestamp check)."""

    def set_default(self, spec: FaultSpec | None = None, **changes: object) -> FaultSpec:
        """Replace the run-wide spec, or change some of its fields (``latency_ms=50``)."""
        base = spec if spec is not None else self.default
        self.default = dataclasses.replace(base, **changes) if changes else base  # type: ignore[arg-type]
        return self.default

    def set_for_type(
        self, type_name: str, spec: FaultSpec | None = None, **changes: object
    ) -> FaultSpec:
        """Faults for one type; they replace (not add to) the run-wide spec for it."""
        base = spec if spec is not None else self._per_type.get(type_name, FaultSpec())
        new = dataclasses.replace(base, **changes) if changes else base  # type: ignore[arg-type]
        self._per_type[type_name] = new
        return new

    def clear_type(self, type_name: str) -> None:
        self._per_type.pop(type_name, None)

    def clear(self) -> None:
        """No faults, no clock offset."""
        self.default = FaultSpec()
        self._per_type.clear()
        self.clock_offset = 0.0

    def spec_for(self, type_name: str) -> FaultSpec:
        return self._per_type.get(type_name, self.default)

    def _rng(self, type_name: str) -> random.Random:
        rng = self._rngs.get(type_name)
        if rng is None:
            # String seeds hash deterministically (unlike hash()), so runs repeat.
            rng = self._rngs[type_name] = random.Random(f"{self._seed}:faults:{type_name}")
        return rng

    def decide(self, type_name: str) -> FaultDecision:
        spec = self.spec_for(type_name)
        if not spec.active:
            return NO_FAULT
        rng = self._rng(type_name)
        delay = spec.latency_ms / 1000.0
        if spec.jitter_ms:
            delay += rng.random() * spec.jitter_ms / 1000.0
        # One draw picks at most one fault, walking the rates in a fixed order.
        draw = rng.random()
        edge = 0.0
        for code in sorted(spec.error_rates):
            edge += spec.error_rates[code]
            if draw < edge:
                kind: FaultKind = "http" if code < 1000 else "error"
                return FaultDecision(delay, kind, code)
        for kind, rate in (
            ("drop", spec.drop_rate),
            ("malformed", spec.malformed_json_rate),
            ("html", spec.html_rate),
        ):
            edge += rate
            if draw < edge:
                return FaultDecision(delay, kind, spec.html_status if kind == "html" else 0)  # type: ignore[arg-type]
        return FaultDecision(delay)
