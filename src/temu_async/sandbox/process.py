"""The sandbox in a process of its own: a gateway that shares no CPU and no GIL with you.

In one process (even on its own thread, see :mod:`.thread`) the sandbox's work delays the
client's requests by a few milliseconds now and then, enough to blur a rate-limit
measurement or to push a request past the window's margin. A remote gateway does not do
that, and neither does this::

    with SandboxProcess(shops=10, latency_ms=150, rate_limit=20) as sb:
        app = TemuApp(sb.info.app_key, sb.info.app_secret, base_url=sb.info.url)
        ...
        sb.counters()["rejections"]

The keyword arguments are :class:`~temu_async.sandbox.SandboxConfig` fields (plain values
only) plus ``latency_ms``. The parent reads the credentials from the child's first output
line, then talks to it over stdin/stdout, one JSON line per command: counters, reset,
latency, order count, shippable orders. The child serves until its stdin closes, so a
crashed parent never leaves it behind.

By hand (prints the credentials, then waits for commands)::

    python -m temu_async.sandbox.process '{"shops": 10, "rate_limit": 20}' --latency-ms 150
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import ssl
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["SandboxInfo", "SandboxProcess", "ShopInfo"]


@dataclass(frozen=True)
class ShopInfo:
    mall_id: int
    token: str
    warehouse_id: str


@dataclass(frozen=True)
class SandboxInfo:
    url: str
    base_url: str
    app_key: str
    app_secret: str
    shops: tuple[ShopInfo, ...]
    carrier_id: int
    orders: int
    """Orders in the world when it started."""
    cert_pem: str | None = None
    """The certificate to trust when the sandbox serves TLS (``tls=True``)."""

    def ssl_context(self) -> ssl.SSLContext:
        """A client SSL context trusting the sandbox's certificate (``tls=True`` only)."""
        if self.cert_pem is None:
            raise RuntimeError("the sandbox serves plain HTTP: start it with tls=True")
        return ssl.create_default_context(cadata=self.cert_pem)


class SandboxProcess:
    """A running sandbox child; use as a context manager."""

    def __init__(self, *, latency_ms: float = 0.0, **config: Any) -> None:
        cmd = [
            sys.executable,
            "-m",
            "temu_async.sandbox.process",
            json.dumps(config),
            f"--latency-ms={latency_ms}",
        ]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._lock = threading.Lock()
        try:
            first = self._read()
        except BaseException:
            self.close()
            raise
        self.info = SandboxInfo(
            url=first["url"],
            base_url=first["base_url"],
            app_key=first["app_key"],
            app_secret=first["app_secret"],
            shops=tuple(ShopInfo(**s) for s in first["shops"]),
            carrier_id=first["carrier_id"],
            orders=first["orders"],
            cert_pem=first.get("cert_pem"),
        )

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _read(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            code = self._proc.wait(timeout=10)
            raise RuntimeError(f"the sandbox process ended (exit status {code})")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"sandbox process: {answer['error']}")
        return answer

    def command(self, name: str, **args: Any) -> dict[str, Any]:
        with self._lock:
            assert self._proc.stdin is not None
            self._proc.stdin.write(json.dumps({"cmd": name, **args}) + "\n")
            self._proc.stdin.flush()
            return self._read()

    def counters(self) -> dict[str, Any]:
        """received, executed, rejections by code, admitted, and the most requests admitted
        (``max_in_window``) and arrived (``max_arrivals_in_window``) in any 1-second window."""
        return self.command("counters")

    def reset(self, rate_limit: int | None = None) -> None:
        """Zero the counters and empty the rate windows (optionally with a new limit)."""
        self.command("reset", rate_limit=rate_limit)

    def set_latency(self, latency_ms: float) -> None:
        self.command("latency", ms=latency_ms)

    def order_count(self) -> int:
        """Orders in the world now (new ones arrive over time unless the config stops them)."""
        count: int = self.command("orders")["orders"]
        return count

    def shippable(self, mall_id: int, limit: int) -> list[dict[str, Any]]:
        """Parent orders of one shop that can be confirmed shipped, with their lines."""
        orders: list[dict[str, Any]] = self.command("shippable", mall_id=mall_id, limit=limit)[
            "orders"
        ]
        return orders

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- the child ---------------------------------------------------------------------------


async def _serve(config: dict[str, Any], latency_ms: float) -> int:
    from .config import SandboxConfig
    from .faults import FaultSpec
    from .limiter import max_in_window
    from .server import Sandbox
    from .world import LOGISTICS_COMPANIES

    try:
        cfg = SandboxConfig(**config, faults=FaultSpec(latency_ms=latency_ms))
    except TypeError as exc:
        _say({"error": f"bad sandbox config: {exc}"})
        return 2
    async with Sandbox(cfg) as sb:
        world = sb.world
        creds = sb.credentials
        # The world is hundreds of thousands of long-lived objects. Left to the collector,
        # each full pass over them stalls the loop for tens of milliseconds, and requests
        # arriving meanwhile are counted late, bunched together: a jitter no remote
        # gateway would add. Frozen, the passes skip them (this process is ours alone).
        gc.collect()
        gc.freeze()
        shops = [
            {
                "mall_id": s.mall_id,
                "token": s.access_token,
                "warehouse_id": world.shops[s.mall_id].warehouses[0].warehouse_id,
            }
            for s in creds.shops
        ]
        _say(
            {
                "url": sb.url,
                "base_url": sb.base_url,
                "app_key": creds.app_key,
                "app_secret": creds.app_secret,
                "shops": shops,
                "carrier_id": LOGISTICS_COMPANIES[0][0],
                "orders": len(world.orders),
                "cert_pem": sb.cert_pem.decode("ascii") if sb.cert_pem else None,
            }
        )
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return 0
            try:
                request = json.loads(line)
                cmd = request["cmd"]
                if cmd == "counters":
                    c = sb.counters
                    admitted = c.admitted.get(creds.app_key, [])
                    arrivals = c.arrivals.get(creds.app_key, [])
                    _say(
                        {
                            "received": c.received,
                            "executed": c.executed,
                            "rejections": {str(k): v for k, v in c.rejections.items()},
                            "admitted": len(admitted),
                            "max_in_window": sb.max_in_window(creds.app_key),
                            "max_arrivals_in_window": max_in_window(arrivals),
                        }
                    )
                elif cmd == "reset":
                    sb.counters.reset()
                    sb.set_rate_limit(request.get("rate_limit") or sb.rate_limit)
                    _say({"ok": True})
                elif cmd == "latency":
                    sb.faults.set_default(latency_ms=float(request["ms"]))
                    _say({"ok": True})
                elif cmd == "arrivals":
                    _say({"arrivals": sb.counters.arrivals.get(creds.app_key, [])})
                elif cmd == "orders":
                    _say({"orders": len(world.orders)})
                elif cmd == "shippable":
                    _say({"orders": _shippable(world, int(request["mall_id"]), request["limit"])})
                else:
                    _say({"error": f"unknown command {cmd!r}"})
            except Exception as exc:  # report to the parent; keep serving
                _say({"error": f"{type(exc).__name__}: {exc}"})


def _shippable(world: Any, mall_id: int, limit: int) -> list[dict[str, Any]]:
    from .models import UN_SHIPPING

    found: list[dict[str, Any]] = []
    for order in world.orders.shops[mall_id].by_sn.values():
        if len(found) >= limit:
            break
        if order.status == UN_SHIPPING and all(ch.status == UN_SHIPPING for ch in order.children):
            found.append(
                {
                    "parent_order_sn": order.parent_order_sn,
                    "lines": [
                        {
                            "order_sn": ch.order_sn,
                            "goods_id": ch.goods_id,
                            "sku_id": ch.sku_id,
                            "quantity": ch.quantity,
                        }
                        for ch in order.children
                    ],
                }
            )
    return found


def _say(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The sandbox in a child process (see module doc).")
    parser.add_argument("config", help="SandboxConfig fields as a JSON object")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    config = json.loads(args.config)
    if not isinstance(config, dict):
        parser.error("config must be a JSON object")
    return asyncio.run(_serve(config, args.latency_ms))


if __name__ == "__main__":
    sys.exit(main())
