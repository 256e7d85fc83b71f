"""The per-row report of a price push, written row by row as the push goes.

Each row is written and flushed the moment its fate is known, so a push that is
killed still leaves the report of everything it did. Cells are neutralised
against spreadsheet formulas (:func:`temu_async.sync.csv_io.neutralise`): a shop
name or a gateway message is echoed, and neither may run when the report is opened.
JSON is for programs and is written as it is.

``csv`` writes a header then one line per row; ``json`` writes JSON Lines (one
object per row), which a killed run cannot leave half-valid.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import TextIO

from temu_async.sync.csv_io import safe_writer
from temu_async.sync.price_push import PushResult

__all__ = ["REPORT_FIELDS", "PushReport", "write_report"]

REPORT_FIELDS = (
    "line",
    "shop",
    "goods_id",
    "sku_id",
    "old_price",
    "new_price",
    "currency",
    "status",
    "verified",
    "detail",
)
FORMATS = ("csv", "json")


class PushReport:
    """``report.row(result)`` per row; pass ``report.row`` as ``push_prices(on_row=...)``."""

    def __init__(self, out: TextIO, fmt: str = "csv") -> None:
        if fmt not in FORMATS:
            raise ValueError(f"report format must be csv or json, got {fmt!r}")
        self.fmt = fmt
        self._out = out
        self._csv = safe_writer(out, REPORT_FIELDS) if fmt == "csv" else None
        if self._csv is not None:
            self._csv.header()
        self.rows = 0

    def row(self, result: PushResult) -> None:
        data = asdict(result)
        if self._csv is not None:
            self._csv.row(data)
        else:
            # JSON is read by programs, not spreadsheets: the values stay as they are.
            record = {k: data[k] for k in REPORT_FIELDS}
            self._out.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._out.flush()
        self.rows += 1


def write_report(rows: Sequence[PushResult], out: TextIO, fmt: str = "csv") -> None:
    """All rows at once (a finished push); the same format as :class:`PushReport`."""
    report = PushReport(out, fmt)
    for r in rows:
        report.row(r)
