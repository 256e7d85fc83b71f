"""Reader for one temu-docs page (the English partner docs, one markdown page per type).

A page has a parameter table (top-level names with numeric type codes, or type words in
the hand-cleaned variants), an error table, a curl request example and a JSON response
example. The tables give the documented top-level types; the examples give nesting,
list element shapes and the fields of ``result``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen.reference_tree import COMMON_PARAMS, from_example, merge
from temu_async.catalogue import Field

__all__ = ["TYPE_CODES", "DocPage", "read_doc_page"]

# The docs' numeric codes: 1 INTEGER, 2 LONG, 4 STRING, 5 BOOLEAN, 6 OBJECT, 8 LIST.
TYPE_CODES = {
    "1": "integer",
    "2": "long",
    "4": "string",
    "5": "boolean",
    "6": "object",
    "8": "list",
    "INTEGER": "integer",
    "LONG": "long",
    "STRING": "string",
    "BOOLEAN": "boolean",
    "OBJECT": "object",
    "LIST": "list",
    "DOUBLE": "number",
    "FLOAT": "number",
    "NUMBER": "number",
}
ENVELOPE = frozenset({"success", "errorCode", "errorMsg", "result", "requestId", "response"})
_TYPE_NAME = re.compile(r"^#\s+((?:bg|temu)\.[A-Za-z0-9_.]+)\s*$", re.M)


@dataclass
class DocPage:
    """What one page states about a type."""

    type: str
    path: Path
    title: str = ""
    params: list[Field] = field(default_factory=list)
    response: list[Field] | None = None
    result_type: str = "object"
    errors: dict[int, str] = field(default_factory=dict)
    scopes: list[str] = field(default_factory=list)
    stated_params: list[Field] = field(default_factory=list)
    """The parameter table alone (top-level names, types, required), without the example."""


def _sections(text: str) -> dict[str, str]:
    """``## Heading`` → body, for the page's second-level sections."""
    out: dict[str, str] = {}
    parts = re.split(r"^##\s+(.+?)\s*$", text, flags=re.M)
    for i in range(1, len(parts) - 1, 2):
        out.setdefault(parts[i].strip().lower(), parts[i + 1])
    return out


def _table_rows(body: str, keep_indent: bool = False) -> list[list[str]]:
    rows = []
    for line in body.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            continue
        raw = line[1:-1] if line.endswith("|") else line[1:]
        cells = [c.strip() for c in raw.split("|")]
        if keep_indent and cells:
            # Hand-cleaned pages nest child rows by indenting the name (`|   complianceType |`).
            first = raw.split("|")[0]
            cells[0] = " " * (len(first) - len(first.lstrip()) - 1) + cells[0]
        if all(set(c) <= set("-: ") for c in cells):
            continue
        rows.append(cells)
    return rows[1:] if rows else []  # drop the header


def _clean(cell: str) -> str:
    return cell.strip().strip("`").strip()


_LIST_WORDS = {"OBJECT[]": "object", "STRING[]": "string", "LONG[]": "long", "INTEGER[]": "integer"}


def _table_fields(body: str) -> list[Field]:
    out: list[Field] = []
    stack: list[tuple[int, Field]] = []
    for cells in _table_rows(body, keep_indent=True):
        if len(cells) < 2:
            continue
        indent = len(cells[0]) - len(cells[0].lstrip())
        name, code = _clean(cells[0]), _clean(cells[1]).upper()
        if name in COMMON_PARAMS or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            continue
        kind = TYPE_CODES.get(code)
        items: str | None = "any" if kind == "list" else None
        if code in _LIST_WORDS:
            kind, items = "list", _LIST_WORDS[code]
        if kind is None:
            continue
        f = Field(name=name, type=kind, items=items)  # type: ignore[arg-type]
        if len(cells) > 2 and cells[2].strip().lower() == "true":
            f.required = True
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if stack:
            parent = stack[-1][1]
            if parent.type == "list" and parent.items == "any":
                parent.items = "object"
            parent.fields = [*(parent.fields or []), f]
        else:
            out.append(f)
        stack.append((indent, f))
    return out


def _json_block(body: str, fence: str) -> Any:
    m = re.search(rf"```{fence}\s*\n(.*?)```", body, re.S)
    if not m:
        return None
    raw = m.group(1)
    if fence == "bash":
        m2 = re.search(r"-d\s+'(.*)'", raw, re.S)
        if not m2:
            return None
        raw = m2.group(1)
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return None


def _errors(body: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for cells in _table_rows(body):
        if len(cells) >= 2 and cells[0].strip().isdigit():
            out[int(cells[0])] = cells[1].strip()
    return out


def read_doc_page(path: Path) -> DocPage:
    """Parse one page. Raises ValueError when the page names no type."""
    text = path.read_text(encoding="utf-8")
    m = _TYPE_NAME.search(text)
    if not m:
        raise ValueError(f"{path}: no `# <type>` heading: not an API type page")
    page = DocPage(type=m.group(1), path=path)
    title = re.search(r"^\*\*(?!Method|URL|Last|Description)([^*]+)\*\*\s*$", text, re.M)
    if title:
        page.title = title.group(1).strip()
    sec = _sections(text)
    table = _table_fields(sec.get("request parameters", ""))
    page.stated_params = table
    example_req = None
    for key in ("request example", "request example (curl)"):
        example_req = example_req or _json_block(sec.get(key, ""), "bash")
    shown = from_example(example_req, skip=COMMON_PARAMS) if isinstance(example_req, dict) else []
    # The table holds the documented top-level types; the example adds nesting beneath them.
    page.params = merge(table, shown)
    resp = _json_block(sec.get("response example", ""), "json")
    if isinstance(resp, dict) and "result" in resp:
        result = resp["result"]
        if isinstance(result, dict):
            page.response = from_example(result)
        elif isinstance(result, list):
            # For a list result the catalogue's response describes one element.
            page.result_type = "list"
            elements = [from_example(e) for e in result if isinstance(e, dict)]
            for shown in elements:
                page.response = merge(page.response, shown)
        elif result is not None:
            page.result_type = "scalar"
    page.errors = _errors(sec.get("error codes", ""))
    scope = sec.get("permission package", "")
    page.scopes = [c[0] for c in _table_rows(scope) if c and c[0]]
    return page
