"""Per-row reports, written as each row settles (a killed run keeps what it did)."""

from __future__ import annotations

import csv
import dataclasses
from collections import Counter
from collections.abc import Iterable
from typing import Any, TextIO

__all__ = ["RowWriter", "summary"]


class RowWriter:
    """CSV of dataclass rows, header from the first row's fields, flushed per row."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._writer: csv.DictWriter[str] | None = None

    def write(self, row: Any) -> None:
        data = dataclasses.asdict(row)
        if self._writer is None:
            self._writer = csv.DictWriter(self._out, fieldnames=list(data))
            self._writer.writeheader()
        self._writer.writerow(data)
        self._out.flush()


def summary(outcomes: Iterable[str]) -> str:
    counts = Counter(outcomes)
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items())) or "nothing to do"
