"""Self-shipment confirms from a CSV: once per row, a row-by-row report."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from labels_support import label_config, mall_id, unshipped

from temu_async import TemuApp
from temu_async.fulfilment import (
    ConfirmRow,
    FulfilmentRecord,
    SqliteFulfilmentStore,
    confirm_shipments,
    read_ship_csv,
)
from temu_async.fulfilment.report import RowWriter
from temu_async.sandbox import Sandbox
from temu_async.sandbox.models import SHIPPED
from temu_async.sandbox.world import LOGISTICS_COMPANIES

CONFIRM = "bg.logistics.shipment.v2.confirm"
CARRIER = LOGISTICS_COMPANIES[0][0]


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    lines = ["parentOrderSn,carrierId,trackingNumber"]
    lines += [f"{sn},{CARRIER},{tracking}" for sn, tracking in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


class Crash(BaseException):
    pass


class CrashAfterSend(SqliteFulfilmentStore):
    """The process dies right after the gateway confirmed row ``key``, before the save."""

    def __init__(self, path: Path, key: str) -> None:
        super().__init__(path)
        self.key = key

    async def save(self, record: FulfilmentRecord) -> None:
        if record.key == self.key and record.phase == "confirmed":
            raise Crash
        await super().save(record)


async def test_rows_are_confirmed_once_even_across_a_crash(tmp_path: Path) -> None:
    async with Sandbox(label_config()) as sb:
        sns = unshipped(sb, 4)
        path = write_csv(tmp_path / "ship.csv", [(sn, f"1Z{i:016d}") for i, sn in enumerate(sns)])
        lines = read_ship_csv(path)
        creds = sb.credentials
        out = io.StringIO()
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            crashing = CrashAfterSend(tmp_path / "state.db", lines[2].key)
            with pytest.raises(Crash):
                await confirm_shipments(shop, crashing, lines, on_row=RowWriter(out).write)
            await crashing.close()
            # The report already holds the two rows that settled before the crash.
            assert [r["outcome"] for r in csv.DictReader(io.StringIO(out.getvalue()))] == [
                "confirmed",
                "confirmed",
            ]
            store = SqliteFulfilmentStore(tmp_path / "state.db")
            rows = await confirm_shipments(shop, store, lines, resend_after=0)
            await store.close()
    assert [r.outcome for r in rows] == ["already", "already", "confirmed", "confirmed"]
    assert rows[2].message == "found confirmed on lookup"
    assert sb.counters.requests_by_type[CONFIRM] == 4
    for sn in sns:
        order = sb.world.orders.get(mall_id(sb), sn)
        assert order is not None and order.status == SHIPPED


async def test_refusals_are_reported_per_row(tmp_path: Path) -> None:
    async with Sandbox(label_config()) as sb:
        sns = unshipped(sb, 2)
        path = write_csv(
            tmp_path / "ship.csv",
            [(sns[0], "1Z0001"), ("PO-211-00000000000000000", "1Z0002"), (sns[1], " ")],
        )
        with pytest.raises(ValueError, match="line 4, column 'trackingNumber': is required"):
            read_ship_csv(path)
        path = write_csv(tmp_path / "ship.csv", [(sns[0], "1Z0001"), ("PO-211-0", "1Z0002")])
        creds = sb.credentials
        async with TemuApp(creds.app_key, creds.app_secret, base_url=sb.url) as app:
            shop = app.shop(creds.shops[0].access_token)
            store = SqliteFulfilmentStore(tmp_path / "state.db")
            rows = await confirm_shipments(shop, store, read_ship_csv(path))
            await store.close()
    assert rows == [
        ConfirmRow(2, sns[0], "1Z0001", "confirmed"),
        ConfirmRow(3, "PO-211-0", "1Z0002", "refused", "order not found in this shop"),
    ]
    assert sb.counters.requests_by_type[CONFIRM] == 1


def test_the_csv_is_checked_whole_before_anything_is_sent(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    header = "parentOrderSn,carrierId,trackingNumber\n"
    cases = {
        "parentOrderSn,trackingNumber\nPO-1,1Z\n": "line 1: .*missing column carrierId",
        header + "PO-1,UPS,1Z\n": "line 2, column 'carrierId': must be a positive integer",
        header + "PO-1,１２,1Z\n": "line 2, column 'carrierId'.*full-width",
        header + "PO-1,1,1Z\nPO-1,1,1Z\n": "line 3: repeats line 2",
        header + "=cmd|' /C calc'!A0,1,1Z\n": "line 2, column 'parentOrderSn'.*not an order",
        header + "PO-1,1,1Z,extra\n": "line 2: 4 cells",
        "parentOrderSn,parent_order_sn,carrierId,trackingNumber\n": "names parentOrderSn twice",
        "": "empty file",
    }
    for text, needle in cases.items():
        bad.write_text(text)
        with pytest.raises(ValueError, match=needle):
            read_ship_csv(bad)
    bad.write_bytes(b"\xef\xbb\xbf" + (header + "PO-1,1,1Z\n\n").encode())
    [line] = read_ship_csv(bad)  # a BOM and a blank line are fine
    assert (line.line, line.parent_order_sn, line.carrier_id) == (2, "PO-1", 1)


def test_reports_neutralise_formula_cells() -> None:
    out = io.StringIO()
    writer = RowWriter(out)
    writer.write(ConfirmRow(2, "=cmd|' /C calc'!A0", "-5", "refused", "@SUM(A1)"))
    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["parent_order_sn"] == "'=cmd|' /C calc'!A0"
    assert row["message"] == "'@SUM(A1)"
    assert row["tracking_number"] == "-5"  # a plain number stays a number
