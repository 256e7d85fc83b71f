"""Reader for the seed doc (``seeds/temu_partner_api_doc.md``, the partner docs in Chinese).

The seed names every type it knows in its module lists and its API 范围列表, and details a
dozen of them: a request table (参数名 | 类型 | 必填 | 说明, nested rows spelled
``list[].child``), a response table (``result.x[].y``), an error table, the permission
package and sometimes a rate limit (AppKey: 30次 / 1秒). Where sources disagree the seed wins.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from codegen.reference_linkfox import bounds_for
from codegen.reference_tree import COMMON_PARAMS, from_example, merge
from temu_async.catalogue import Field

__all__ = ["SeedType", "read_seed", "seed_type_names"]

_NAME = r"(?:bg|temu)\.[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)+"
_TYPE_WORDS = {
    "STRING": ("string", None),
    "INTEGER": ("integer", None),
    "LONG": ("long", None),
    "BOOLEAN": ("boolean", None),
    "OBJECT": ("object", None),
    "STRING[]": ("list", "string"),
    "INTEGER[]": ("list", "integer"),
    "LONG[]": ("list", "long"),
    "OBJECT[]": ("list", "object"),
}


@dataclass
class SeedType:
    type: str
    params: list[Field] = field(default_factory=list)
    response: list[Field] | None = None
    errors: dict[int, str] = field(default_factory=dict)
    rate_limit: int | None = None
    scope: str | None = None
    doc_url: str | None = None
    stated_response: list[Field] = field(default_factory=list)
    """The response table alone (the params are the table already)."""
    params_stated: bool = True
    """False when the params come from an example (no required flags, examples' types)."""


def seed_type_names(text: str) -> set[str]:
    """Every type the seed names: in list items, headings and table cells."""
    names: set[str] = set()
    for line in text.splitlines():
        s = line.strip()
        if s.startswith(("- `", "#", "| `")):
            names.update(re.findall(rf"`({_NAME})`", s))
            m = re.match(rf"^#+\s+({_NAME})\b", s)
            if m:
                names.add(m.group(1))
    return names


def _tables_after(body: str, marker: str) -> list[list[str]]:
    """Rows of the first table after a line mentioning ``marker`` (header row dropped)."""
    lines = body.splitlines()
    for i, line in enumerate(lines):
        if marker in line and not line.lstrip().startswith("|"):
            rows: list[list[str]] = []
            started = False
            for nxt in lines[i + 1 :]:
                if nxt.lstrip().startswith("|"):
                    started = True
                    cells = [c.strip() for c in nxt.strip().strip("|").split("|")]
                    if not all(set(c) <= set("-: ") for c in cells):
                        rows.append(cells)
                elif started or nxt.startswith("#") or nxt.startswith("**"):
                    break
            if rows:
                return rows[1:]
    return []


def _int_enum(desc: str) -> dict[int | str, str] | None:
    text = desc.replace("**", "")
    pairs = re.findall(
        r"(?<![\w.])(\d+)\s*(?:-|：|:)\s*([A-Za-z_\u4e00-\u9fff][^，,；;。\d]*)", text
    )
    if len(pairs) < 2:
        pairs = re.findall(r"(?<![\w.])(\d+)\s*为\s*([^，,；;。\s]+)", text)
    if len(pairs) < 2:
        return None
    return {int(k): v.strip(" （）()") for k, v in pairs}


def _place(tree: list[Field], path: list[str], leaf: Field) -> None:
    """Insert ``leaf`` at ``path`` (parents created as objects when a row skips them)."""
    level = tree
    for part in path[:-1]:
        parent = next((f for f in level if f.name == part), None)
        if parent is None:
            parent = Field(name=part, type="object")
            level.append(parent)
        if parent.fields is None:
            parent.fields = []
        level = parent.fields
    level.append(leaf)


def _tree(rows: list[list[str]], *, with_required: bool, strip: str | None) -> list[Field]:
    out: list[Field] = []
    for cells in rows:
        if len(cells) < 3:
            continue
        raw = cells[0].strip("` ")
        if strip is not None:
            if not raw.startswith(strip + "."):
                continue
            raw = raw[len(strip) + 1 :]
        path = [p.replace("[]", "") for p in raw.split(".")]
        if path[0] in COMMON_PARAMS or not all(re.match(r"^[A-Za-z_]\w*$", p) for p in path):
            continue
        typed = _TYPE_WORDS.get(cells[1].strip("` ").upper())
        if typed is None:
            continue
        kind, items = typed
        desc = cells[3] if with_required and len(cells) > 3 else cells[2]
        leaf = Field(name=path[-1], type=kind, items=items)  # type: ignore[arg-type]
        if with_required:
            leaf.required = cells[2].strip() == "是"
        for key, value in bounds_for(desc, kind).items():
            setattr(leaf, key, value)
        if (items or kind) in ("integer", "long"):
            leaf.enum = _int_enum(desc)
            m = re.search(r"默认(?:值)?为\s*(\d+)", desc)
            if m:
                leaf.default = int(m.group(1))
        _place(out, path, leaf)
    return out


def _sections(text: str) -> dict[str, str]:
    """Type name → its section body, for the types the seed details."""
    out: dict[str, str] = {}
    heads = list(re.finditer(rf"^(#{{3,5}})\s+({_NAME})\b.*$", text, re.M))
    for m in heads:
        level = len(m.group(1))
        end = len(text)
        for nxt in re.finditer(r"^(#{1,6})\s", text[m.end() :], re.M):
            if len(nxt.group(1)) <= level:
                end = m.end() + nxt.start()
                break
        body = text[m.end() : end]
        # A detailed section is followed by one-line list items of other types: stop there.
        cut = re.search(r"^- `(?:bg|temu)\.", body, re.M)
        out[m.group(2)] = body[: cut.start()] if cut else body
    return out


def _scopes(body: str) -> list[str]:
    """Permission packages listed under 权限包 (a table or a bullet list)."""
    lines = body.splitlines()
    for i, line in enumerate(lines):
        if "权限包" not in line or line.lstrip().startswith("|"):
            continue
        out: list[str] = []
        for nxt in lines[i + 1 :]:
            s = nxt.strip()
            if not s:
                if out:
                    break
                continue
            if s.startswith(("#", "**", ">")):
                break
            m = re.match(r"^(?:\|\s*|-\s*)`?([A-Z][A-Za-z ]+?)`?\s*(?:\||\(|$)", s)
            if m and m.group(1).strip() not in ("权限包",):
                out.append(m.group(1).strip())
        return out
    return []


def _signature_example(text: str) -> list[Field]:
    """bg.logistics.shipment.confirm's params, in the key order of the docs' sign string."""
    m = re.search(r"^sendRequestList(\[.*\])$", text, re.M)
    if not m:
        return []
    params = from_example({"sendRequestList": json.loads(m.group(1))})
    sent = re.search(r"^sendType(\d+)$", text, re.M)
    if sent:
        params.append(Field(name="sendType", type="integer"))
    return params


def read_seed(path: Path) -> tuple[set[str], dict[str, SeedType]]:
    """All type names the seed knows, and the detail of those it documents."""
    text = path.read_text(encoding="utf-8")
    names = seed_type_names(text)
    details: dict[str, SeedType] = {}
    for name, body in _sections(text).items():
        params = _tree(_tables_after(body, "请求参数"), with_required=True, strip=None)
        resp_rows = _tables_after(body, "响应参数")
        response = _tree(resp_rows, with_required=False, strip="result")
        stated = copy.deepcopy(response)
        for raw in re.findall(r"```json\s*\n(.*?)```", body, re.S):
            try:
                example = json.loads(raw)
            except json.JSONDecodeError:
                continue
            if isinstance(example, dict) and isinstance(example.get("result"), dict):
                response = merge(response, from_example(example["result"]))
        errors = {
            int(c[0].strip("` ")): c[1].strip()
            for c in _tables_after(body, "错误码")
            if c and c[0].strip("` ").isdigit()
        }
        if not (params or response or errors):
            continue
        st = SeedType(type=name, params=params, response=response or None, errors=errors)
        st.stated_response = stated
        rl = re.search(r"限流规则\**[:：]?\s*\**\s*AppKey[:：]\s*(\d+)\s*次\s*/\s*1\s*秒", body)
        st.rate_limit = int(rl.group(1)) if rl else None
        scopes = _scopes(body)
        st.scope = ", ".join(scopes) if scopes else None
        url = re.search(r"直达链接\**[:：]\s*\[(https://[^\]]+)\]", body)
        st.doc_url = url.group(1) if url else None
        details[name] = st
    confirm = _signature_example(text)
    if confirm:
        details["bg.logistics.shipment.confirm"] = SeedType(
            type="bg.logistics.shipment.confirm", params=confirm, params_stated=False
        )
    return names, details
