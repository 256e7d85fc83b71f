"""The price CSV a push reads: ``goodsId,skuId,price[,currency][,shop]``, one row per SKU.

Every row is checked before anything is sent; an error names the line and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from temu_async.sync.csv_io import CsvError, ascii_int, read_csv

__all__ = ["PriceChange", "read_price_csv"]

_PRICE = re.compile(r"[0-9]{1,9}(\.[0-9]{1,2})?", re.ASCII)
_CURRENCY = re.compile(r"[A-Z]{3}", re.ASCII)
_HEADERS = {
    "goodsid": "goodsId",
    "goods_id": "goodsId",
    "skuid": "skuId",
    "sku_id": "skuId",
    "price": "price",
    "currency": "currency",
    "shop": "shop",
}


@dataclass(frozen=True)
class PriceChange:
    line: int
    """Line of the CSV (the header is line 1)."""
    shop: str
    goods_id: int
    sku_id: int
    price: str
    """Normalised: two decimal places."""
    currency: str | None = None


def read_price_csv(
    source: str | Path | TextIO | bytes, *, default_shop: str | None = None
) -> list[PriceChange]:
    """Read the rows; a bad one raises :class:`~temu_async.sync.csv_io.CsvError` (a ValueError).

    UTF-8 (with or without a BOM) and UTF-16 with a BOM are read; anything else is
    refused. A column named twice, a digit outside 0-9 (full-width, superscript) and a
    SKU set twice are refused.
    """
    table = read_csv(source, name="price CSV")
    columns = table.columns(_HEADERS)
    for needed in ("goodsId", "skuId", "price"):
        if needed not in columns:
            raise CsvError(
                f"price CSV: the header lacks the column {needed!r} (got {table.header});"
                " expected goodsId,skuId,price[,currency][,shop]",
                line=1,
            )
    names = {c: h for c, h in zip(columns, table.header, strict=False) if c is not None}
    out: list[PriceChange] = []
    seen: dict[tuple[str, int, int], int] = {}
    for line, raw in table.rows():
        if not any(cell.strip() for cell in raw):
            continue
        if len(raw) > len(columns):
            raise CsvError(
                f"{len(raw)} cells but the header has {len(columns)} columns",
                line=line,
                column=None,
            )
        row = {c: v.strip() for c, v in zip(columns, raw, strict=False) if c is not None}
        shop = row.get("shop") or default_shop
        if not shop:
            raise CsvError(
                "no shop (add a shop column, or name the one shop to push to)",
                line=line,
                column=names.get("shop"),
            )
        goods_id = ascii_int(row.get("goodsId", ""), line=line, column=names["goodsId"])
        sku_id = ascii_int(row.get("skuId", ""), line=line, column=names["skuId"])
        price = row.get("price", "")
        if not _PRICE.fullmatch(price) or Decimal(price) <= 0:
            raise CsvError(
                f"must be a positive amount with at most 2 decimals in the digits 0-9,"
                f" got {price!r}",
                line=line,
                column=names["price"],
            )
        currency = row.get("currency") or None
        if currency is not None and not _CURRENCY.fullmatch(currency):
            raise CsvError(
                f"must be a three-letter currency code such as USD, got {currency!r}",
                line=line,
                column=names.get("currency"),
            )
        key = (shop, goods_id, sku_id)
        if key in seen:
            raise CsvError(
                f"skuId {sku_id} already set on line {seen[key]}",
                line=line,
                column=names["skuId"],
            )
        seen[key] = line
        out.append(PriceChange(line, shop, goods_id, sku_id, f"{Decimal(price):.2f}", currency))
    return out
