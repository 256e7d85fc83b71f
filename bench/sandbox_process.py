"""The sandbox in a process of its own, so a bench's client process pays none of its CPU.

``SandboxProcess(...)`` starts ``python bench/sandbox_process.py`` with the wanted config,
reads its credentials from the first line of its output, and then talks to it over
stdin/stdout, one JSON line per command: read the counters, reset them (and the rate
windows), change latency or the rate limit, list shippable orders. The child serves until
its stdin closes, so a crashed bench never leaves it behind.

Run by hand (prints the credentials, then waits for commands)::

    .venv/bin/python bench/sandbox_process.py --shops 10 --latency-ms 150 --rate-limit 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Shop:
    mall_id: int
    token: str
    warehouse_id: str


@dataclass(frozen=True)
class SandboxInfo:
    url: str
    base_url: str
    app_key: str
    app_secret: str
    shops: tuple[Shop, ...]
    carrier_id: int
    orders: int


class SandboxProcess:
    """A running sandbox child; use as a context manager."""

    def __init__(
        self,
        *,
        shops: int = 2,
        orders: int = 200,
        rate_limit: int = 1_000_000,
        latency_ms: float = 0.0,
        history_days: float = 30.0,
        seed: int = 1,
    ) -> None:
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            f"--shops={shops}",
            f"--orders={orders}",
            f"--rate-limit={rate_limit}",
            f"--latency-ms={latency_ms}",
            f"--history-days={history_days}",
            f"--seed={seed}",
        ]
        self._proc = subprocess.Popen(
            cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self._lock = threading.Lock()
        first = self._read()
        self.info = SandboxInfo(
            url=first["url"],
            base_url=first["base_url"],
            app_key=first["app_key"],
            app_secret=first["app_secret"],
            shops=tuple(Shop(**s) for s in first["shops"]),
            carrier_id=first["carrier_id"],
            orders=first["orders"],
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


def _child(args: argparse.Namespace) -> int:
    return asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> int:
    from temu_async.sandbox import FaultSpec, Sandbox, SandboxConfig, max_in_window
    from temu_async.sandbox.models import UN_SHIPPING
    from temu_async.sandbox.world import LOGISTICS_COMPANIES

    config = SandboxConfig(
        seed=args.seed,
        shops=args.shops,
        orders=args.orders,
        rate_limit=args.rate_limit,
        type_limits_enabled=False,
        history_days=args.history_days,
        # A still world: no new orders arrive while a bench runs, so pages stay alike.
        order_arrival_per_hour=0.0,
        faults=FaultSpec(latency_ms=args.latency_ms),
    )
    async with Sandbox(config) as sb:
        world = sb.world
        creds = sb.credentials
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
                elif cmd == "shippable":
                    book = world.orders.shops[int(request["mall_id"])]
                    found: list[dict[str, Any]] = []
                    for order in book.by_sn.values():
                        if len(found) >= int(request["limit"]):
                            break
                        if order.status == UN_SHIPPING and all(
                            ch.status == UN_SHIPPING for ch in order.children
                        ):
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
                    _say({"orders": found})
                else:
                    _say({"error": f"unknown command {cmd!r}"})
            except Exception as exc:  # report to the parent; keep serving
                _say({"error": f"{type(exc).__name__}: {exc}"})


def _say(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=2)
    parser.add_argument("--orders", type=int, default=200, help="orders per shop")
    parser.add_argument("--rate-limit", type=int, default=1_000_000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--history-days", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    return _child(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
