"""Per-row reports, written as each row settles (a killed run keeps what it did).

Cells are neutralised like every CSV the SDK writes (``sync.csv_io``): an order
number or a server message that begins like a formula cannot run in a spreadsheet.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections import Counter
from collections.abc import Iterable
from typing import Any, TextIO

from temu_async.sync.csv_io import safe_writer

__all__ = ["RowWriter", "open_report", "summary"]


class RowWriter:
    """CSV of dataclass rows, header from the first row's fields, flushed per row."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._writer: Any = None

    def write(self, row: Any) -> None:
        data = dataclasses.asdict(row)
        if self._writer is None:
            self._writer = safe_writer(self._out, list(data))
            self._writer.header()
        self._writer.row(data)


def summary(outcomes: Iterable[str]) -> str:
    counts = Counter(outcomes)
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items())) or "nothing to do"


def open_report(stack: contextlib.ExitStack, path: str | None) -> TextIO:
    """The report's file (opened before anything is sent), or stdout without one.

    Raises ValueError naming the file when it cannot be written.
    """
    if not path:
        return sys.stdout
    try:
        return stack.enter_context(open(path, "w", newline="", encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"--report {path}: cannot write it ({exc.strerror})") from None
