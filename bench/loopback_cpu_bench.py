"""Client CPU per call over real HTTP on loopback: temu-async vs the reference vs ``temu-api``.

The sandbox runs in a separate process (``temu_async.sandbox.process``) with no added latency and
no effective rate limit, so ``time.process_time()`` in this process counts only the
client: building params, checks, signing, the body, aiohttp (or requests), decoding.
Calls run one at a time; each figure is the median over repeats of (CPU / calls).

Three calls, each in the idiom of its client:

* small read: ``bg.logistics.companies.get`` (the region's carriers, four of them);
* page read: ``bg.order.list.v2.get`` with ``pageSize=100`` (a 100-order page);
* nested write: ``bg.logistics.shipment.v2.confirm`` shipping two parent orders per call
  (``sendRequestList`` of objects holding ``orderSendInfoList`` objects). Every call ships
  orders not shipped before, so every answer is a success.

temu-async uses its generated methods (``shop.order.list_v2`` ...) and Structs;
the reference client (``reference_client.py``) dicts; ``temu-api`` 0.2.1 (sync, requests)
its own methods, pointed at the sandbox's base URL. That package opens a new connection
per call (``requests.post`` without a session) and signs with ``str(value)``: its figures
are what that library costs as published.

The "aiohttp floor" is aiohttp alone: one pre-signed body per scenario POSTed on a session
and its answer read as bytes (no params, signing or decoding). What a client adds above
it is what the client itself costs.

Run: ``.venv/bin/python bench/loopback_cpu_bench.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from bench_sandbox import SandboxInfo, SandboxProcess, bench_sandbox
from reference_client import ReferenceClient

from temu_async import TemuApp
from temu_async._generated.fulfillment import (
    FulfillmentShipmentConfirmV2SendRequestParam as PackageParam,
)
from temu_async.signing import sign_encoded
from temu_async.types import OrderSendInfo as LineParam
from temu_async.wire import build_body, encode_params

CLIENTS = ("temu-async", "reference", "temu-api", "aiohttp floor")
SCENARIOS = ("small read", "100-order page", "nested write")
ORDERS_PER_WRITE = 2
REGION_ID = 211  # the sandbox's shops are US shops


@dataclass(frozen=True)
class Plan:
    repeats: int
    calls: dict[str, int]

    @classmethod
    def for_mode(cls, quick: bool) -> Plan:
        if quick:
            return cls(3, {"small read": 40, "100-order page": 15, "nested write": 15})
        # Many short samples rather than a few long ones: this machine's speed drifts
        # within seconds, and a median over 31 rounds of neighbouring samples is steady
        # to about 1%, where 7 rounds moved the nested write's ratio by 5% run to run.
        return cls(31, {"small read": 100, "100-order page": 30, "nested write": 40})

    def writes_per_client(self) -> int:
        return (self.repeats * self.calls["nested write"] + 2) * ORDERS_PER_WRITE


@dataclass
class CpuResult:
    us: dict[str, dict[str, float | None]] = field(default_factory=dict)
    """scenario -> client -> median µs of CPU per call (None: not measured)."""
    above_floor: dict[str, dict[str, float]] = field(default_factory=dict)
    """scenario -> aiohttp client -> median over rounds of (its µs - the floor's µs in the
    same round): what the client adds to aiohttp itself."""
    notes: dict[str, str] = field(default_factory=dict)
    """client -> why something is missing or how it was measured."""


def _tracking(sn: str) -> str:
    return "TN" + sn.replace("-", "")[-12:]


class _Orders:
    """Hands out shippable parent orders, each once."""

    def __init__(self, orders: list[dict[str, Any]]) -> None:
        self._it: Iterator[dict[str, Any]] = iter(orders)

    def take(self, n: int) -> list[dict[str, Any]]:
        got = [next(self._it) for _ in range(n)]
        return got


# --- the three clients, each in its own idiom -----------------------------------------------


def _ours(
    app: TemuApp, info: SandboxInfo, pool: _Orders
) -> dict[str, Callable[[], Awaitable[Any]]]:
    reader = app.shop(info.shops[0].token)
    writer_shop = info.shops[1]
    writer = app.shop(writer_shop.token)

    async def small() -> Any:
        result = await reader.logistics.companies(region_id=REGION_ID)
        assert result
        return result

    async def page() -> Any:
        result = await reader.order.list_v2(page_number=1, page_size=100)
        assert len(result.page_items or ()) == 100
        return result

    async def write() -> Any:
        packages = [
            PackageParam(
                order_send_info_list=[
                    LineParam(
                        quantity=line["quantity"],
                        order_sn=line["order_sn"],
                        parent_order_sn=order["parent_order_sn"],
                        goods_id=line["goods_id"],
                        sku_id=line["sku_id"],
                    )
                    for line in order["lines"]
                ],
                self_shipping_warehouse_id=writer_shop.warehouse_id,
                carrier_id=info.carrier_id,
                tracking_number=_tracking(order["parent_order_sn"]),
            )
            for order in pool.take(ORDERS_PER_WRITE)
        ]
        return await writer.fulfillment.shipment_confirm_v2(send_type=0, send_request_list=packages)

    return {"small read": small, "100-order page": page, "nested write": write}


def _wire_packages(orders: list[dict[str, Any]], warehouse_id: str, carrier_id: int) -> list[Any]:
    return [
        {
            "orderSendInfoList": [
                {
                    "quantity": line["quantity"],
                    "orderSn": line["order_sn"],
                    "parentOrderSn": order["parent_order_sn"],
                    "goodsId": line["goods_id"],
                    "skuId": line["sku_id"],
                }
                for line in order["lines"]
            ],
            "selfShippingWarehouseId": warehouse_id,
            "carrierId": carrier_id,
            "trackingNumber": _tracking(order["parent_order_sn"]),
        }
        for order in orders
    ]


def _reference(
    client: ReferenceClient, info: SandboxInfo, pool: _Orders
) -> dict[str, Callable[[], Awaitable[Any]]]:
    reader = info.shops[0].token
    writer_shop = info.shops[2]

    async def small() -> Any:
        result = await client.call("bg.logistics.companies.get", reader, {"regionId": REGION_ID})
        assert result
        return result

    async def page() -> Any:
        result = await client.call(
            "bg.order.list.v2.get", reader, {"pageNumber": 1, "pageSize": 100}
        )
        assert len(result["pageItems"]) == 100
        return result

    async def write() -> Any:
        packages = _wire_packages(
            pool.take(ORDERS_PER_WRITE), writer_shop.warehouse_id, info.carrier_id
        )
        return await client.call(
            "bg.logistics.shipment.v2.confirm",
            writer_shop.token,
            {"sendType": 0, "sendRequestList": packages},
        )

    return {"small read": small, "100-order page": page, "nested write": write}


def _temu_api(info: SandboxInfo, pool: _Orders) -> dict[str, Callable[[], Any]] | str:
    """The ``temu-api`` package's calls, or why they cannot run."""
    try:
        from temu_api import TemuClient  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return "temu-api is not installed (pip install -r bench/requirements.txt)"
    # It appends /openapi/router to the base URL it is given: the sandbox's own path.
    reader = TemuClient(info.app_key, info.app_secret, info.shops[0].token, info.base_url)
    writer_shop = info.shops[3]
    writer = TemuClient(info.app_key, info.app_secret, writer_shop.token, info.base_url)

    def ok(answer: Any) -> Any:
        if not answer.get("success"):
            raise RuntimeError(f"temu-api call refused: {answer.get('errorCode')} {answer}")
        return answer["result"]

    def small() -> Any:
        return ok(reader.logistics.companies(region_id=REGION_ID))

    def page() -> Any:
        result = ok(reader.order.list_orders_v2(page_number=1, page_size=100))
        assert len(result["pageItems"]) == 100
        return result

    def write() -> Any:
        packages = _wire_packages(
            pool.take(ORDERS_PER_WRITE), writer_shop.warehouse_id, info.carrier_id
        )
        return ok(writer.fulfillment.shipment_v2_confirm(send_type=0, send_request_list=packages))

    return {"small read": small, "100-order page": page, "nested write": write}


def _floor(
    info: SandboxInfo, session: aiohttp.ClientSession, write_orders: list[Any]
) -> dict[str, Callable[[], Awaitable[Any]]]:
    """aiohttp alone, on bodies signed once (a repeated write is refused: a small answer)."""
    reader = info.shops[0].token
    writer_shop = info.shops[1]
    packages = _wire_packages(write_orders, writer_shop.warehouse_id, info.carrier_id)
    calls: dict[str, tuple[str, str, dict[str, Any]]] = {
        "small read": ("bg.logistics.companies.get", reader, {"regionId": REGION_ID}),
        "100-order page": ("bg.order.list.v2.get", reader, {"pageNumber": 1, "pageSize": 100}),
        "nested write": (
            "bg.logistics.shipment.v2.confirm",
            writer_shop.token,
            {"sendType": 0, "sendRequestList": packages},
        ),
    }
    headers = {"Content-Type": "application/json"}

    def poster(body: bytes) -> Callable[[], Awaitable[Any]]:
        async def post() -> Any:
            async with session.post(info.url, data=body, headers=headers) as resp:
                return await resp.read()

        return post

    out = {}
    for scenario, (type_name, token, params) in calls.items():
        common = {
            "type": type_name,
            "app_key": info.app_key,
            "access_token": token,
            "timestamp": int(time.time()),
            "data_type": "JSON",
        }
        fields = encode_params({**common, **params})
        fields["sign"] = b'"' + sign_encoded(fields.items(), info.app_secret).encode() + b'"'
        out[scenario] = poster(build_body(fields))
    return out


# --- measuring ----------------------------------------------------------------------------
#
# Every sample starts from a collected heap. The collector's full collections are paid by
# whichever allocation crosses its threshold, and the objects counted towards that
# threshold were promoted by every client measured before: without the collection a
# sample could pay for the previous client's garbage (the 100-order page's figure used to
# jump between two values from run to run for that reason alone).


async def _cpu_async(fn: Callable[[], Awaitable[Any]], n: int) -> float:
    gc.collect()
    t0 = time.process_time()
    for _ in range(n):
        await fn()
    return (time.process_time() - t0) / n * 1e6


def _cpu_sync(fn: Callable[[], Any], n: int) -> float:
    gc.collect()
    t0 = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - t0) / n * 1e6


async def _run(sandbox: SandboxProcess, plan: Plan) -> CpuResult:
    info = sandbox.info
    want = plan.writes_per_client()
    pools = []
    for shop in info.shops[1:4]:
        orders = sandbox.shippable(shop.mall_id, want)
        if len(orders) < want:
            raise RuntimeError(
                f"shop {shop.mall_id} has {len(orders)} shippable orders, need {want}"
            )
        pools.append(_Orders(orders))

    result = CpuResult()
    samples: dict[str, dict[str, list[float]]] = {s: {c: [] for c in CLIENTS} for s in SCENARIOS}
    async with (
        TemuApp(
            info.app_key,
            info.app_secret,
            region="us",
            base_url=info.url,
            rate_limit=1_000_000,
        ) as app,
        ReferenceClient(info.url, info.app_key, info.app_secret) as ref,
        aiohttp.ClientSession() as raw_session,
    ):
        floor = _floor(info, raw_session, sandbox.shippable(info.shops[1].mall_id, 2))
        ours = _ours(app, info, pools[0])
        theirs = _reference(ref, info, pools[1])
        legacy = _temu_api(info, pools[2])
        if isinstance(legacy, str):
            result.notes["temu-api"] = legacy
        # Warm-up: connections, lazy imports, decoders, caches.
        for scenario in SCENARIOS:
            for _ in range(2):
                await ours[scenario]()
                await theirs[scenario]()
                await floor[scenario]()
                if not isinstance(legacy, str):
                    legacy[scenario]()
        # Rounds: a burst of load on the machine hits every client alike, and the order
        # within a round is shuffled (seeded), so no client always follows the same one.
        order = random.Random(14)
        for _ in range(plan.repeats):
            for scenario in SCENARIOS:
                n = plan.calls[scenario]
                clients: list[tuple[str, Callable[[], Any], bool]] = [
                    ("temu-async", ours[scenario], True),
                    ("reference", theirs[scenario], True),
                    ("aiohttp floor", floor[scenario], True),
                ]
                if not isinstance(legacy, str):
                    clients.append(("temu-api", legacy[scenario], False))
                order.shuffle(clients)
                for client, fn, is_async in clients:
                    us = await _cpu_async(fn, n) if is_async else _cpu_sync(fn, n)
                    samples[scenario][client].append(us)
        # A type whose answer missed the generated model went through the lossless
        # fallback decode on every call: say so, its figure is not the normal path.
        if app._conformed:
            result.notes["temu-async"] = (
                "decoded through the fallback (answer differs from the catalogue): "
                + ", ".join(sorted(app._conformed))
            )
    for scenario, by_client in samples.items():
        result.us[scenario] = {
            client: (statistics.median(values) if values else None)
            for client, values in by_client.items()
        }
        floor_us = by_client["aiohttp floor"]
        result.above_floor[scenario] = {
            client: statistics.median(
                a - b for a, b in zip(by_client[client], floor_us, strict=True)
            )
            for client in ("temu-async", "reference")
        }
    return result


def measure(quick: bool = False) -> CpuResult:
    plan = Plan.for_mode(quick)
    # Four shops: one for reads, one per client for writes (each ships its own orders).
    # A 6-hour history leaves most orders confirmed and not yet shipped.
    per_shop = max(200, int(plan.writes_per_client() * 1.4) + 100)
    with bench_sandbox(shops=4, orders=per_shop, history_days=0.25) as sandbox:
        return asyncio.run(_run(sandbox, plan))


def print_result(result: CpuResult) -> None:
    print("client CPU per call, µs (median; sandbox in another process, loopback, 0 ms latency)")
    print(f"  {'':<16}" + "".join(f"{c:>22}" for c in CLIENTS))
    for scenario in SCENARIOS:
        row = result.us[scenario]
        base = row["temu-async"]
        cells = []
        for client in CLIENTS:
            us = row.get(client)
            if us is None:
                cells.append(f"{'n/a':>22}")
            elif client == "temu-async" or not base:
                cells.append(f"{us:>19.0f} µs")
            else:
                cells.append(f"{us:>10.0f} µs ({us / base:4.2f}x)")
        print(f"  {scenario:<16}" + "".join(cells))
    print("  above the aiohttp floor (median of each round's difference), µs:")
    for scenario in SCENARIOS:
        above = result.above_floor[scenario]
        cells = [f"{client} {us:+.0f}" for client, us in above.items()]
        print(f"    {scenario:<16}" + "   ".join(cells))
    for client, note in result.notes.items():
        print(f"  {client}: {note}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer calls and repeats")
    args = parser.parse_args()
    print_result(measure(args.quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
