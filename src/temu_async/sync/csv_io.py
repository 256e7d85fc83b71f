"""Reading and writing the CSV files the SDK exchanges with spreadsheets.

Reading: the bytes are decoded first (UTF-8, with or without a BOM; UTF-16 with a
BOM, as Excel's "Unicode text" saves it), so an encoding problem is one clear
error instead of a codec traceback. Headers are unique; a field longer than the
``csv`` module's limit is reported with its line. Every error is a
:class:`CsvError` naming the line and, where there is one, the column.

Writing: a cell that a spreadsheet would run as a formula (it begins with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) gets a leading apostrophe, so a
report that echoes a cell from an untrusted source cannot run
``=cmd|' /C calc'!A0`` when someone opens it. Plain numbers such as ``-5`` or
``+1.50`` are left as they are: they are data, and no spreadsheet runs them.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "CsvError",
    "CsvTable",
    "ascii_int",
    "neutralise",
    "read_csv",
    "safe_writer",
]

_FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?", re.ASCII)
_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)


class CsvError(ValueError):
    """A CSV that cannot be read as given; the message names the file, line and column."""

    def __init__(self, message: str, *, line: int | None = None, column: str | None = None):
        where = []
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.line = line
        self.column = column


def neutralise(value: Any) -> Any:
    """``value`` as a spreadsheet will show it and never run it (see the module doc)."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_LEADS):
        return value
    if _NUMBER.fullmatch(value):
        return value
    return "'" + value


class _SafeWriter:
    """``csv.writer`` whose rows are neutralised cell by cell and flushed row by row."""

    def __init__(self, out: TextIO, fields: Sequence[str]) -> None:
        self._out = out
        self._fields = list(fields)
        # CRLF, as RFC 4180 has it: the csv module then quotes a cell holding a lone CR
        # too (with "\n" it would not, and the CR would split the row when read back).
        self._writer = csv.writer(out, lineterminator="\r\n")

    def header(self) -> None:
        self._writer.writerow([neutralise(f) for f in self._fields])
        self._out.flush()

    def row(self, values: Mapping[str, Any]) -> None:
        cells = [values.get(f) for f in self._fields]
        self._writer.writerow(["" if c is None else neutralise(c) for c in cells])
        self._out.flush()


def safe_writer(out: TextIO, fields: Sequence[str]) -> _SafeWriter:
    """A writer for ``fields``; call ``.header()`` once, then ``.row(mapping)`` per row."""
    return _SafeWriter(out, fields)


def _decode(raw: bytes, name: str) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise CsvError(f"{name}: starts with a UTF-16 mark but is not valid UTF-16") from None
    elif len(raw) >= 4 and (raw[1:4:2] == b"\0\0" or raw[0:4:2] == b"\0\0"):
        raise CsvError(
            f"{name}: looks like UTF-16 without a byte-order mark; save it as 'CSV UTF-8'"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CsvError(
            f"{name}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as 'CSV UTF-8'",
            line=line,
        ) from None


class CsvTable:
    """A read CSV: ``header`` (as written) and ``rows()`` yielding (line, cells)."""

    def __init__(self, text: str, name: str) -> None:
        self.name = name
        self._reader = csv.reader(io.StringIO(text, newline=""))
        first = self._next()
        if first is None:
            raise CsvError(f"{name}: empty file (expected a header line)")
        self.header = [h.strip() for h in first[1]]

    def _next(self) -> tuple[int, list[str]] | None:
        start = self._reader.line_num + 1
        try:
            cells = next(self._reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            if "field limit" in str(exc):
                # Usually a quote left open: the rest of the file became one field.
                message = (
                    f"a field is longer than {csv.field_size_limit():,} characters"
                    " (is a quote left open?)"
                )
            else:
                message = str(exc)
            raise CsvError(f"{self.name}: {message}", line=start) from None
        return start, cells

    def columns(self, names: Mapping[str, str]) -> list[str | None]:
        """The canonical name of each header cell (``names``: folded spelling -> canonical).

        A column named twice (even in two spellings) is refused: which one wins would be a guess.
        """
        out: list[str | None] = []
        seen: dict[str, str] = {}
        for raw in self.header:
            canon = names.get(raw.lower().replace(" ", ""))
            if canon is not None:
                if canon in seen:
                    raise CsvError(
                        f"{self.name}: the header names {canon} twice ({seen[canon]!r} and"
                        f" {raw!r}); keep one",
                        line=1,
                        column=raw,
                    )
                seen[canon] = raw
            out.append(canon)
        return out

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        while True:
            got = self._next()
            if got is None:
                return
            yield got


def read_csv(source: str | Path | TextIO | bytes, *, name: str | None = None) -> CsvTable:
    """Open a CSV from a path, bytes or a text stream (see the module doc for encodings)."""
    if isinstance(source, (str, Path)):
        label = name or str(source)
        try:
            raw = Path(source).read_bytes()
        except IsADirectoryError:
            raise CsvError(f"{label}: is a directory, not a CSV file") from None
        except OSError as exc:
            raise CsvError(f"{label}: cannot read it ({exc.strerror})") from None
        return CsvTable(_decode(raw, label), label)
    if isinstance(source, bytes):
        label = name or "CSV"
        return CsvTable(_decode(source, label), label)
    return CsvTable(source.read(), name or "CSV")


def ascii_int(value: str, *, line: int, column: str) -> int:
    """A positive integer written in ASCII digits; full-width or superscript digits refused."""
    if not _ASCII_DIGITS.fullmatch(value):
        hint = ""
        if value and all(c.isdigit() or c.isdecimal() for c in value):
            hint = " (only the digits 0-9: full-width or superscript digits are not numbers here)"
        raise CsvError(f"must be a positive integer, got {value!r}{hint}", line=line, column=column)
    number = int(value)
    if number <= 0:
        raise CsvError(f"must be a positive integer, got {value!r}", line=line, column=column)
    return number
