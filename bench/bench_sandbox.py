"""The sandbox as every bench starts it: in its own process, with a still world.

No orders arrive during a run (pages stay alike from repeat to repeat), no per-type
limits, and an app limit out of reach unless the bench sets one.
"""

from __future__ import annotations

from typing import Any

from temu_async.sandbox.process import SandboxInfo, SandboxProcess

__all__ = ["SandboxInfo", "SandboxProcess", "bench_sandbox"]

STILL: dict[str, Any] = {
    "rate_limit": 1_000_000,
    "type_limits_enabled": False,
    "order_arrival_per_hour": 0.0,
}


def bench_sandbox(*, latency_ms: float = 0.0, **config: Any) -> SandboxProcess:
    return SandboxProcess(latency_ms=latency_ms, **{**STILL, **config})
