"""Client CPU per call of ``shop.order.list_v2`` with a 100-order answer, without network.

temu-async: the generated method's wire dict, the catalogue checks, one encoding per value,
stamp + sign + body, and the decode of the envelope into the generated Structs. These are
the same steps a real call runs (the app's pipeline: ``prepare``, ``sign_body``, ``decoder``);
only the socket is left out.

Reference: what a plain client does (the approach of Temu's own Python example): a dict of
params, the TestSign algorithm (sorted keys, ``json.dumps(value).strip('"')`` per value,
MD5, upper case), ``json.dumps`` of the body, ``json.loads`` of the same page into dicts.

Run: ``.venv/bin/python bench/call_cpu_bench.py``. Prints µs per call and the ratio.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import msgspec

from temu_async import catalogue
from temu_async._generated.order import OrderListV2Result
from temu_async.catalogue import Field
from temu_async.client import CallOptions, TemuApp

TYPE = "bg.order.list.v2.get"
APP_KEY = "4ebbc9d3a1e28f2b7cc5e2b1f0a36d92"
APP_SECRET = "c7e0a1a63542be4de3cb5488f9fba8149e8fc290"
TOKEN = "upldtaqkr5n1ngfzqmaqdqfbz3mhpgxh6vpbkvhf5qkbpmdd0sxdj7n3ub"
ORDERS = 100

KWARGS: dict[str, Any] = {
    "page_number": 1,
    "page_size": 100,
    "parent_order_status": 2,
    "update_at_start": 1_717_000_000,
    "update_at_end": 1_717_086_400,
    "parent_order_sn_list": None,
    "region_id": None,
}
WIRE = {
    "pageNumber": 1,
    "pageSize": 100,
    "parentOrderStatus": 2,
    "updateAtStart": 1_717_000_000,
    "updateAtEnd": 1_717_086_400,
}


def _value(f: Field, i: int, kind: str | None = None) -> Any:
    kind = kind or f.type
    if kind in ("integer", "long"):
        if f.enum:
            keys = list(f.enum)
            return keys[i % len(keys)]
        return 1_717_000_000_000 + i * 7919 if "ime" in f.name else 100_000_000 + i * 31
    if kind == "string":
        return f"{f.name}-{i:06d}"
    if kind == "boolean":
        return i % 2 == 0
    if kind == "number":
        return 12.5 + i
    if kind == "any":
        return {"k": i}
    if kind == "object":
        return _object(f.fields, i)
    if kind == "list":
        item = f.items or "any"
        n = 2 if f.name == "orderList" else 1  # parent orders usually hold a few child orders
        if item == "object":
            return [_object(f.fields, i * 10 + j) for j in range(n)]
        return [_value(f, i * 10 + j, item) for j in range(n)]
    raise AssertionError(kind)


def _object(fields: list[Field] | None, i: int) -> dict[str, Any]:
    return {f.name: _value(f, i) for f in fields or ()}


def canned_page() -> bytes:
    spec = catalogue.types_by_name()[TYPE]
    assert spec.response is not None
    items_field = next(f for f in spec.response if f.name == "pageItems")
    result = {
        "totalItemNum": 1234,
        "pageItems": [_object(items_field.fields, i) for i in range(ORDERS)],
    }
    envelope = {
        "success": True,
        "errorCode": 1000000,
        "errorMsg": "",
        "requestId": "us-0a1b2c3d",
        "result": result,
    }
    return json.dumps(envelope, ensure_ascii=False).encode()


# --- the two pipelines ---------------------------------------------------------------------


def ours(app: TemuApp, page: bytes) -> Callable[[], Any]:
    opts = CallOptions()
    pipeline = app.pipeline

    def call() -> Any:
        # What the generated method and Group._call do with the keyword arguments.
        wire = {
            "pageNumber": KWARGS["page_number"],
            "pageSize": KWARGS["page_size"],
            "parentOrderStatus": KWARGS["parent_order_status"],
            "parentOrderSnList": KWARGS["parent_order_sn_list"],
            "updateAtStart": KWARGS["update_at_start"],
            "updateAtEnd": KWARGS["update_at_end"],
            "regionId": KWARGS["region_id"],
        }
        wire = {k: v for k, v in wire.items() if v is not None}
        _, business = pipeline.prepare(TYPE, wire, opts)
        pipeline.sign_body(TYPE, TOKEN, business)
        return pipeline.decoder.decode(TYPE, OrderListV2Result, 200, page, "application/json")

    return call


def reference(page: bytes) -> Callable[[], Any]:
    def call() -> Any:
        params: dict[str, Any] = {
            "type": TYPE,
            "app_key": APP_KEY,
            "access_token": TOKEN,
            "timestamp": int(time.time()),
            "data_type": "JSON",
            **WIRE,
        }
        text = "".join(
            key + json.dumps(value, ensure_ascii=False, separators=(",", ":")).strip('"')
            for key, value in sorted(params.items())
            if value is not None
        )
        params["sign"] = hashlib.md5((APP_SECRET + text + APP_SECRET).encode()).hexdigest().upper()
        json.dumps(params).encode()
        return json.loads(page)["result"]

    return call


def per_call_us(fn: Callable[[], Any], seconds: float = 1.0, repeats: int = 7) -> float:
    fn()
    n = 1
    while True:  # calibrate a batch that runs about seconds / repeats
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - t0 > seconds / repeats:
            break
        n *= 2
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(runs)


def main() -> int:
    page = canned_page()
    app = TemuApp(APP_KEY, APP_SECRET, region="us")
    ours_call = ours(app, page)
    typed = ours_call()
    assert isinstance(typed, OrderListV2Result) and len(typed.page_items or ()) == ORDERS
    plain = reference(page)()
    assert msgspec.to_builtins(typed) == plain, "both pipelines must read the same data"

    # The parts, for orientation.
    decoder = msgspec.json.Decoder(OrderListV2Result)
    result_bytes = msgspec.json.encode(json.loads(page)["result"])
    parts = {
        "ours: checks + encode + sign + body": per_call_us(
            lambda: app.pipeline.sign_body(
                TYPE, TOKEN, app.pipeline.prepare(TYPE, WIRE, CallOptions())[1]
            )
        ),
        "ours: decode page into Structs": per_call_us(lambda: decoder.decode(result_bytes)),
        "reference: json.loads of the page": per_call_us(lambda: json.loads(page)),
    }
    ours_us = per_call_us(ours_call)
    ref_us = per_call_us(reference(page))
    print(f"order.list_v2, {ORDERS}-order page ({len(page) / 1024:.0f} KiB), CPU per call:")
    print(f"  temu-async (checks, sign, body, decode to Structs) {ours_us:9.1f} µs")
    print(f"  reference (dict, TestSign, json.dumps/json.loads)  {ref_us:9.1f} µs")
    print(f"  ratio reference / temu-async: {ref_us / ours_us:.2f}x")
    for name, us in parts.items():
        print(f"    {name:<40} {us:9.1f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
