"""Self-fulfilment: confirm shipments from a CSV of orders and tracking numbers.

Each row becomes one ``bg.logistics.shipment.v2.confirm`` (the current version the
fulfilment guide names). A confirm is not safe to repeat, so a row's intent is
committed to the store before it is sent; a row found mid-flight (a killed run, an
``OutcomeUnknown``) is settled by reading the order's status first: shipped means
the confirm landed. The report is written row by row, as each row settles.

CSV columns (header names, case-insensitive): ``parentOrderSn``, ``carrierId``,
``trackingNumber``, and optionally ``orderSn`` (blank: every unshipped child of the
parent order) and ``warehouseId`` (blank: the shop's default warehouse).
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temu_async.client import ShopClient
from temu_async.errors import ApiError, OutcomeUnknown, ParamError
from temu_async.fulfilment.store import FulfilmentRecord, FulfilmentStore
from temu_async.sync.csv_io import CsvError, ascii_int, read_csv

__all__ = ["ConfirmRow", "ShipLine", "confirm_shipments", "read_ship_csv"]

KIND = "confirm"
UN_SHIPPING = 2
_SHIPPED = frozenset({4, 5, 41, 51})
CONFIRM = "bg.logistics.shipment.v2.confirm"


@dataclass(frozen=True)
class ShipLine:
    line: int
    """Line number in the CSV (the header is line 1)."""
    parent_order_sn: str
    carrier_id: int
    tracking_number: str
    order_sns: tuple[str, ...] = ()
    warehouse_id: str = ""

    @property
    def key(self) -> str:
        return f"{self.parent_order_sn}|{self.tracking_number}"


@dataclass
class ConfirmRow:
    line: int
    parent_order_sn: str
    tracking_number: str
    outcome: str
    """confirmed, already (found confirmed by an earlier run), refused, pending, error."""
    message: str = ""


_CANONICAL = ("parentOrderSn", "carrierId", "trackingNumber", "orderSn", "warehouseId")
# Header spellings taken: camelCase as the API writes it, snake_case, any case or spaces.
_COLUMNS = {
    spelling: name
    for name in _CANONICAL
    for spelling in (
        name.lower(),
        "".join(f"_{c.lower()}" if c.isupper() else c for c in name),
    )
}
_SN = re.compile(r"[A-Za-z0-9_.:/-]{1,64}", re.ASCII)


def read_ship_csv(source: str | Path | bytes, *, name: str | None = None) -> list[ShipLine]:
    """Read and check the whole file first: a bad row stops the run before any send.

    Raises :class:`~temu_async.sync.csv_io.CsvError` (a ValueError) naming the line
    and column.
    """
    table = read_csv(source, name=name)
    columns = table.columns(_COLUMNS)
    for need in ("parentOrderSn", "carrierId", "trackingNumber"):
        if need not in columns:
            raise CsvError(
                f"{table.name}: missing column {need} (have: {', '.join(table.header)})", line=1
            )
    lines: list[ShipLine] = []
    seen: dict[str, int] = {}
    for number, cells in table.rows():
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(columns):
            raise CsvError(f"{len(cells)} cells, the header has {len(columns)}", line=number)
        row = {c: v.strip() for c, v in zip(columns, cells, strict=True) if c is not None}
        for column in ("parentOrderSn", "trackingNumber"):
            if not row.get(column):
                raise CsvError("is required", line=number, column=column)
            if not _SN.fullmatch(row[column]):
                raise CsvError(
                    f"{row[column][:40]!r} is not an order or tracking number "
                    "(letters, digits and - _ . : / only, at most 64)",
                    line=number,
                    column=column,
                )
        carrier = ascii_int(row.get("carrierId", ""), line=number, column="carrierId")
        order_sns = tuple(row.get("orderSn", "").replace(";", " ").split())
        for sn in order_sns:
            if not _SN.fullmatch(sn):
                raise CsvError(f"{sn[:40]!r} is not an order number", line=number, column="orderSn")
        item = ShipLine(
            number,
            row["parentOrderSn"],
            carrier,
            row["trackingNumber"],
            order_sns,
            row.get("warehouseId", ""),
        )
        if item.key in seen:
            raise CsvError(
                f"repeats line {seen[item.key]} (same parentOrderSn and trackingNumber)",
                line=number,
            )
        seen[item.key] = number
        lines.append(item)
    return lines


async def confirm_shipments(
    shop: ShopClient,
    store: FulfilmentStore,
    lines: Sequence[ShipLine],
    *,
    on_row: Callable[[ConfirmRow], Awaitable[None] | None] | None = None,
    resend_after: float = 120.0,
) -> list[ConfirmRow]:
    """Confirm each line once; rows come back (and reach ``on_row``) in file order."""
    default_warehouse: list[str] = []
    rows = []
    for line in lines:
        try:
            row = await _one(shop, store, line, default_warehouse, resend_after)
        except ApiError as exc:
            row = ConfirmRow(
                line.line, line.parent_order_sn, line.tracking_number, "error", str(exc)
            )
        rows.append(row)
        if on_row is not None:
            maybe = on_row(row)
            if maybe is not None:
                await maybe
    return rows


async def _one(
    shop: ShopClient,
    store: FulfilmentStore,
    line: ShipLine,
    default_warehouse: list[str],
    resend_after: float,
) -> ConfirmRow:
    def row(outcome: str, message: str = "") -> ConfirmRow:
        return ConfirmRow(line.line, line.parent_order_sn, line.tracking_number, outcome, message)

    record = await store.get(KIND, shop.name, line.key)
    if record is not None and record.phase in ("confirmed", "refused"):
        return row(
            "already" if record.phase == "confirmed" else "refused", record.data.get("message", "")
        )
    order = await _order(shop, line.parent_order_sn)
    if record is not None and record.phase == "confirming":
        if order is not None and _shipped(order, record.data["order_sns"]):
            await _save(store, record, "confirmed", message="found confirmed on lookup")
            return row("confirmed", "found confirmed on lookup")
        if time.time() - float(record.data.get("intent_at", 0)) < resend_after:
            return row("pending", "the confirm may still be on its way; a later run checks again")
    if order is None:
        return row("refused", "order not found in this shop")
    children = {c["orderSn"]: c for c in order.get("orderList") or []}
    wanted = list(line.order_sns) or [
        sn for sn, c in children.items() if c.get("orderStatus") == UN_SHIPPING
    ]
    unknown = [sn for sn in wanted if sn not in children]
    if unknown:
        return row("refused", f"not a child order of {line.parent_order_sn}: {', '.join(unknown)}")
    if not wanted or _shipped(order, wanted):
        return row("refused", "nothing left to ship in this order")
    warehouse = line.warehouse_id or await _default_warehouse(shop, default_warehouse)
    request = {
        "orderSendInfoList": [
            {
                "quantity": children[sn]["quantity"],
                "orderSn": sn,
                "parentOrderSn": line.parent_order_sn,
                "goodsId": children[sn]["goodsId"],
                "skuId": children[sn]["skuId"],
            }
            for sn in wanted
        ],
        "selfShippingWarehouseId": warehouse,
        "carrierId": line.carrier_id,
        "trackingNumber": line.tracking_number,
    }
    record = record or FulfilmentRecord(KIND, shop.name, line.key, "new")
    await _save(store, record, "confirming", intent_at=time.time(), order_sns=wanted)
    try:
        await shop.call(CONFIRM, {"sendType": 0, "sendRequestList": [request]})
    except OutcomeUnknown as exc:
        return row("pending", f"outcome unknown ({exc.message}); a later run looks it up")
    except ApiError as exc:
        if exc.retryable:
            await _save(store, record, "new", message=str(exc))
            return row("error", str(exc))
        await _save(store, record, "refused", message=str(exc))
        return row("refused", str(exc))
    await _save(store, record, "confirmed", message="")
    return row("confirmed")


async def _save(store: FulfilmentStore, record: FulfilmentRecord, phase: str, **data: Any) -> None:
    record.phase = phase
    record.data.update(data)
    await store.save(record)


def _shipped(order: dict[str, Any], order_sns: Sequence[str]) -> bool:
    status = {c["orderSn"]: c.get("orderStatus") for c in order.get("orderList") or []}
    return all(status.get(sn) in _SHIPPED for sn in order_sns)


async def _order(shop: ShopClient, parent_sn: str) -> dict[str, Any] | None:
    page = await shop.call(
        "bg.order.list.v2.get", {"pageNumber": 1, "pageSize": 10, "parentOrderSnList": [parent_sn]}
    )
    for item in page.get("pageItems") or []:
        if item["parentOrderMap"]["parentOrderSn"] == parent_sn:
            return dict(item)
    return None


async def _default_warehouse(shop: ShopClient, cache: list[str]) -> str:
    if not cache:
        answer = await shop.call("bg.logistics.warehouse.list.get", {})
        houses = answer.get("warehouseList") or []
        if not houses:
            raise ParamError("warehouseId", "the shop has no warehouse; give one per row")
        default = [w for w in houses if w.get("defaultWarehouse")] or houses
        cache.append(str(default[0]["warehouseId"]))
    return cache[0]
