"""Reader for linkfox-temu pages (per-type field trees, in Chinese with English).

A page has field tables under headings that name their scope (`` `request` ``,
`` `sendRequestList[]` ``, `` `result.pageItems[]` ``, `` `parentOrderMap` ``), enum tables
(值 | 说明) under a heading naming the field, required flags (必填 是/否), bounds in prose
(最大 100, 单次最多 20 条) and an error table. Those pages were written for a proxy that
wraps the params as ``params.request``; here the ``request`` level is dropped because
Temu's body is flat.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen.reference_tree import COMMON_PARAMS, from_example, merge, scalar_of
from temu_async.catalogue import Field, walk

__all__ = ["LinkfoxPage", "bounds_for", "bounds_from_text", "read_linkfox_page", "region_of"]

_TYPE_WORDS = {
    "STRING": ("string", None),
    "INTEGER": ("integer", None),
    "INT": ("integer", None),
    "LONG": ("long", None),
    "BOOLEAN": ("boolean", None),
    "OBJECT": ("object", None),
    "MAP": ("object", None),
    "MONEYAMOUNT": ("object", None),
    "NUMBER": ("number", None),
    "DOUBLE": ("number", None),
    "FLOAT": ("number", None),
    "STRING[]": ("list", "string"),
    "INTEGER[]": ("list", "integer"),
    "LONG[]": ("list", "long"),
    "OBJECT[]": ("list", "object"),
    "BOOLEAN[]": ("list", "boolean"),
    "NUMBER[]": ("list", "number"),
    "INTEGER/LONG": ("long", None),
    "LONG/INTEGER": ("long", None),
    "LONG/NUMBER": ("number", None),
    "INTEGER/NUMBER": ("number", None),
    "OBJECT或OBJECT[]": ("any", None),
}
_MONEY = "\0money"
_ENVELOPE = {"success", "errorCode", "errorMsg", "result", "requestId", "response"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class LinkfoxPage:
    type: str
    path: Path
    region: str | None
    params: list[Field] = field(default_factory=list)
    response: list[Field] | None = None
    errors: dict[int, str] = field(default_factory=dict)
    scopes: list[str] = field(default_factory=list)
    doc_url: str | None = None
    stated_params: list[Field] = field(default_factory=list)
    """What the page's tables and diagrams state, before the JSON examples fill gaps."""
    stated_response: list[Field] = field(default_factory=list)


def region_of(path: Path) -> str | None:
    """``linkfox-temu-order-eu`` → ``eu``; folders without a region suffix → None."""
    for part in path.parts:
        m = re.match(r"^linkfox-temu-.+-(us|eu|global)$", part)
        if m:
            return m.group(1)
    return None


def _type_of(cell: str) -> tuple[str, str | None] | None:
    word = re.sub(r"[`\s]", "", cell).upper()
    return _TYPE_WORDS.get(word.replace("或", "或"))


def bounds_for(text: str, kind: str) -> dict[str, int]:
    """Prose bounds mapped to the field's kind: lengths for strings, counts for lists."""
    found = bounds_from_text(text, kind == "list")
    if kind == "string":
        return {"max_length": found["maximum"]} if "maximum" in found else {}
    if kind not in ("list", "integer", "long", "number"):
        return {}
    return found


def bounds_from_text(text: str, is_list: bool) -> dict[str, int]:
    """Bounds a description states in prose (最大 100, 单次最多 20 条, 1~100, 不超过 50)."""
    out: dict[str, int] = {}
    plain = text.replace("*", "").replace("`", "")
    hi_key = "max_items" if is_list else "maximum"
    lo_key = "min_items" if is_list else "minimum"
    m = re.search(
        r"(?:最大|最多|不超过|不得超过|上限|限制|max(?:imum)?)\s*(?:为|是|is|:|：)?\s*(\d+)",
        plain,
        re.I,
    )
    if m:
        out[hi_key] = int(m.group(1))
    m = re.search(r"(?:须|需|必须)?小于\s*(\d+)", plain)
    if m and hi_key not in out:
        out[hi_key] = int(m.group(1)) - 1
    m = re.search(r"(\d+)\s*(?:~|～|-|到|至)\s*(\d+)\s*(?:之间|条|个|$|，|,|；)", plain)
    if m and int(m.group(1)) <= int(m.group(2)) and int(m.group(2)) > 1:
        out.setdefault(lo_key, int(m.group(1)))
        out.setdefault(hi_key, int(m.group(2)))
    m = re.search(r"(?:最少|至少|不少于)\s*(\d+)", plain)
    if m:
        out.setdefault(lo_key, int(m.group(1)))
    return out


def _default_from_text(text: str, kind: str) -> int | None:
    if kind not in ("integer", "long"):
        return None
    m = re.search(r"默认\s*(?:为|是)?\s*`?(-?\d+)`?", text.replace("*", ""))
    return int(m.group(1)) if m else None


def _inline_enum(text: str) -> dict[int | str, str] | None:
    """``1: Pending, 2: Requested`` (or backticked numbers) in a description, when it lists 2+."""
    plain = text.replace("*", "")
    pairs = re.findall(
        r"(?<![\w.`])`?(\d+)`?\s*(?::|：|=|-|`)\s*([A-Za-z][A-Za-z /_-]*[A-Za-z])", plain
    )
    if len(pairs) < 2 or len({k for k, _ in pairs}) != len(pairs):
        return None
    return {int(k): v.strip() for k, v in pairs}


def _rows(lines: list[str]) -> list[list[str]]:
    rows = []
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if all(set(c) <= set("-: ") for c in cells):
            continue
        rows.append(cells)
    return rows


def _blocks(text: str) -> list[tuple[str, list[list[str]]]]:
    """Each markdown table with the nearest heading above it."""
    out: list[tuple[str, list[list[str]]]] = []
    heading = ""
    table: list[str] = []
    in_code = False
    for line in [*text.splitlines(), ""]:
        if line.startswith("```"):
            in_code = not in_code
        if in_code:
            continue
        if line.lstrip().startswith("|"):
            table.append(line)
            continue
        if table:
            out.append((heading, _rows(table)))
            table = []
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif _BOLD_SCOPE.match(line):
            # A bold path on its own line (**`goodsProperties[]`**) heads the next table too.
            heading = line.strip().strip("*").strip()
    return out


_BOLD_SCOPE = re.compile(r"^\*\*`[^`]+`\*\*\s*$")


_BARE_PATH = re.compile(r"^[A-Za-z_]\w*(?:\[\])?(?:\.[A-Za-z_]\w*(?:\[\])?)*$")


def _scopes(heading: str) -> list[list[str]]:
    """Paths a heading names: `` `result.pageItems[]` `` → [["result", "pageItems"]].

    Backticked tokens first; a heading that is a bare path (``request.skuList[]``) counts too.
    """
    tokens = re.findall(r"`([^`]+)`", heading)
    if not tokens:
        first = re.split(r"[\s（(：:]", heading.strip(), maxsplit=1)[0]
        tokens = [first] if _BARE_PATH.match(first) else []
    out = []
    for token in tokens:
        parts = [p.replace("[]", "").strip() for p in token.split(".")]
        if all(_NAME.match(p) for p in parts):
            out.append(parts)
    return out


def find_by_path_end(tree: list[Field], path: list[str]) -> list[Field]:
    """Fields whose dotted path ends with ``path`` (searched anywhere in the tree)."""
    hits: list[Field] = []

    def walk(fields: list[Field], trail: list[str]) -> None:
        for f in fields:
            here = [*trail, f.name]
            if here[-len(path) :] == path:
                hits.append(f)
            if f.fields:
                walk(f.fields, here)

    walk(tree, [])
    return hits


def _field_table(rows: list[list[str]]) -> list[Field] | None:
    header = rows[0] if rows else []
    if len(header) < 3 or header[0] not in ("参数", "字段", "参数名") or header[1] != "类型":
        return None
    has_req = len(header) >= 4 and "必填" in header[2]
    out: list[Field] = []
    for cells in rows[1:]:
        if len(cells) < 3:
            continue
        for path in _row_paths(cells[0]):
            _add_row(out, path, cells, has_req)
    return out


def _row_paths(cell: str) -> list[list[str]]:
    """The fields one name cell lists: ``length / width / height`` is three rows with the
    same facts, and a flat page spells the path (``request.goodsId``, ``list[].child``)."""
    out = []
    for raw in cell.replace("`", "").split("/"):
        path = [p.strip().removesuffix("[]") for p in raw.strip().split(".")]
        if len(path) > 1 and path[0] in ("request", "params", "result", "response"):
            path = path[1:]  # the wrapper level is not on the wire
        if path and all(_NAME.match(p) for p in path):
            out.append(path)
    return out


def _add_row(out: list[Field], path: list[str], cells: list[str], has_req: bool) -> None:
    name = path[-1]
    typed = _type_of(cells[1])
    if typed is None:
        return
    kind, items = typed
    desc = cells[3] if has_req and len(cells) > 3 else cells[2]
    f = Field(name=name, type=kind, items=items)  # type: ignore[arg-type]
    if re.sub(r"[`\s]", "", cells[1]).upper() == "MONEYAMOUNT":
        f.summary = _MONEY  # filled from the page's MoneyAmount table, then cleared
    if kind == "list" and items is None:
        f.items = "any"
    if has_req:
        f.required = "是" in cells[2] and "否" not in cells[2]
    for key, value in bounds_for(desc, kind).items():
        setattr(f, key, value)
    f.default = _default_from_text(desc, kind)
    if (items or kind) in ("integer", "long"):
        f.enum = _inline_enum(desc)
    place(out, path[:-1], f)


def place(tree: list[Field], parents: list[str], leaf: Field) -> None:
    """Put ``leaf`` below the ``parents`` path, creating the objects a flat row skips."""
    level = tree
    for part in parents:
        parent = next((f for f in level if f.name == part), None)
        if parent is None:
            parent = Field(name=part, type="object")
            level.append(parent)
        if parent.type == "list" and parent.items in ("any", None):
            parent.items = "object"
        elif parent.type == "any":
            parent.type = "object"
        if parent.fields is None:
            parent.fields = []
        level = parent.fields
    known = next((f for f in level if f.name == leaf.name), None)
    if known is None:
        level.append(leaf)
    else:
        level[level.index(known)] = merge([leaf], [known])[0]


def _enum_table(rows: list[list[str]]) -> list[tuple[str, str]] | None:
    header = rows[0] if rows else []
    if len(header) < 2 or header[0] != "值":
        return None
    out = []
    for cells in rows[1:]:
        m = re.fullmatch(r"`([^`]+)`", cells[0].strip())
        if m:
            out.append((m.group(1), re.sub(r"[*`]", "", cells[1]).strip()))
    return out


def _enum_for(f: Field, values: list[tuple[str, str]]) -> dict[int | str, str] | None:
    scalar = scalar_of(f)
    out: dict[int | str, str] = {}
    for raw, meaning in values:
        if scalar in ("integer", "long"):
            if not re.fullmatch(r"-?\d+", raw):
                return None
            out[int(raw)] = meaning
        elif scalar == "string":
            out[raw] = meaning
        else:
            return None
    return out or None


def _attach(root: list[Field], tables: list[tuple[list[list[str]], list[Field]]]) -> None:
    """Hang each scoped table under the field its heading names; repeat until stable."""
    pending = list(tables)
    while pending:
        left = []
        for scopes, children in pending:
            placed = False
            for scope in scopes:
                for target in find_by_path_end(root, scope):
                    if target.type == "list" and target.items in ("any", None):
                        target.items = "object"
                    if target.type in ("object", "any") or target.items == "object":
                        if target.type == "any":
                            target.type = "object"
                        target.fields = merge(target.fields or [], children)
                        placed = True
            if not placed:
                left.append((scopes, children))
        if len(left) == len(pending):
            break
        pending = left


_TREE_LINE = re.compile(r"^(?P<indent>[\s│]*)[├└]──\s*(?P<body>.+)$")


def _diagram(block: str, root_names: set[str]) -> list[Field]:
    """Fields from a page's text tree (``├── name[] (TYPE) ← 必填``), below the root object.

    The diagrams are complete where tables are missing; their facts are names, nesting,
    list markers, an optional type word and 必填 marks.
    """
    top: list[Field] = []
    stack: list[tuple[int, list[Field]]] = [(-1, top)]
    for line in block.splitlines():
        m = _TREE_LINE.match(line)
        if not m:
            continue
        depth = len(m.group("indent"))
        body = m.group("body")
        note = re.search(r"\(([^)]*)\)", body)
        required = (
            "必填" in body and "选填" not in body and "否" not in (note.group(1) if note else "")
        )
        names_part = re.split(r"\s+(?:\(|←|（)", body, maxsplit=1)[0]
        while stack and stack[-1][0] >= depth:
            stack.pop()
        level = stack[-1][1]
        last: Field | None = None
        for raw in names_part.split("/"):
            token = raw.strip()
            is_list = token.endswith("[]")
            # A flat diagram spells the path on each line (`list[].child`).
            *parents, name = [p.removesuffix("[]") for p in token.removesuffix("[]").split(".")]
            if not _NAME.match(name) or not all(_NAME.match(p) for p in parents):
                continue
            typed = _type_of(note.group(1).split(",")[0]) if note else None
            kind, items = typed if typed else (("list", "any") if is_list else ("any", None))
            if is_list and kind != "list":
                kind, items = "list", kind
            f = Field(name=name, type=kind, items=items, required=required)  # type: ignore[arg-type]
            place(level, parents, f)
            last = f
        if last is not None:
            children: list[Field] = []
            last.fields = children
            stack.append((depth, children))
    # Drop the wrapper levels (params → request, response → result) and the envelope.
    fields = top
    for _ in range(3):
        wrapper = [f for f in fields if f.name in {"params", "response", *root_names}]
        if len(wrapper) == 1 and wrapper[0].fields is not None:
            inner = [
                f for f in wrapper[0].fields if f.name not in _ENVELOPE or f.name in root_names
            ]
            fields = inner
            if wrapper[0].name in root_names:
                break
        else:
            break
    return _settle(fields)


def _settle(fields: list[Field]) -> list[Field]:
    """Give diagram nodes with children an object shape; empty child lists go away."""
    for f in fields:
        if f.fields:
            if f.type == "list":
                f.items = "object"
            elif f.type == "any":
                f.type = "object"
            _settle(f.fields)
        else:
            f.fields = None
    return fields


def _part(
    text: str, root_names: set[str]
) -> tuple[list[Field], list[tuple[str, list[tuple[str, str]]]]]:
    root: list[Field] = []
    scoped: list[tuple[list[list[str]], list[Field]]] = []
    enums: list[tuple[str, list[tuple[str, str]]]] = []
    money: list[Field] | None = None
    for heading, rows in _blocks(text):
        children = _field_table(rows)
        if children is not None:
            scopes = _scopes(heading)
            names = {tuple(s) for s in scopes}
            envelope = {c.name for c in children} >= {"success", "errorCode"}
            if envelope or names & {("response",)}:
                continue
            if "MoneyAmount" in heading or "金额块" in heading:
                money = children
                continue
            # A heading naming no field at all (plain words) may head the root table; one
            # naming something we cannot place (`inputText.$value`) must not.
            unnamed = not scopes and "`" not in heading
            if names & {(n,) for n in root_names} or (unnamed and not root):
                root = merge(root, [c for c in children if c.name not in COMMON_PARAMS])
            elif scopes:
                # `request.goodsBasic` → `goodsBasic`: the request wrapper is not on the wire.
                trimmed = [s[1:] if s[0] in root_names and len(s) > 1 else s for s in scopes]
                scoped.append((trimmed, children))
            # A table under a heading that names no field cannot be placed: left out.
            continue
        values = _enum_table(rows)
        if values:
            enums.append((heading, values))
    for block in re.findall(r"```text\s*\n(.*?)```", text, re.S):
        root = merge(root, _diagram(block, root_names))
    _attach(root, scoped)
    if money:
        for _path, f in walk(root):
            if f.type == "object" and f.fields is None and f.summary == _MONEY:
                f.fields = merge([], money)
    for _path, f in walk(root):
        if f.summary == _MONEY:
            f.summary = ""
    return root, enums


def _apply_enums(tree: list[Field], enums: list[tuple[str, list[tuple[str, str]]]]) -> None:
    for heading, values in enums:
        for scope in _scopes(heading)[:1]:
            for target in find_by_path_end(tree, scope):
                if target.enum is None:
                    target.enum = _enum_for(target, values)


def _json_examples(text: str) -> list[Any]:
    out = []
    for raw in re.findall(r"```json\s*\n(.*?)```", text, re.S):
        try:
            out.append(json.loads(raw))
        except json.JSONDecodeError:
            continue
    return out


def _errors(text: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for _heading, rows in _blocks(text):
        if not rows or ("errorCode" not in rows[0][0] and "错误码" not in rows[0][0]):
            continue
        for cells in rows[1:]:
            code = cells[0].strip("` ")
            if code.isdigit() and len(cells) > 1:
                out[int(code)] = cells[1].strip().strip("`").strip()
    return out


def read_linkfox_page(path: Path) -> LinkfoxPage:
    text = path.read_text(encoding="utf-8")
    m = re.search(r"`((?:bg|temu)\.[A-Za-z0-9_.]+)`", text.splitlines()[0] if text else "")
    if not m:
        raise ValueError(f"{path}: the title names no type")
    page = LinkfoxPage(type=m.group(1), path=path, region=region_of(path))
    split = re.search(r"^##\s+Response", text, re.M)
    req_text = text[: split.start()] if split else text
    resp_text = text[split.start() :] if split else ""
    err = re.search(r"^##\s+(Error Code|常见业务错误码)", resp_text, re.M)
    if err:
        resp_text, err_text = resp_text[: err.start()], resp_text[err.start() :]
    else:
        err_text = ""
    params, enums = _part(req_text, {"request", "params"})
    page.stated_params = copy.deepcopy(params)
    for example in _json_examples(req_text):
        body = example.get("request") if isinstance(example, dict) else None
        if isinstance(body, dict):
            params = merge(params, from_example(body, skip=COMMON_PARAMS))
    _apply_enums(params, enums)
    page.params = params
    if resp_text:
        response, enums = _part(resp_text, {"result"})
        page.stated_response = [copy.deepcopy(f) for f in response if f.name not in _ENVELOPE]
        # An enum table in the response part that says it also filters (入参) names a param too.
        _apply_enums(page.params, [(h, v) for h, v in enums if "入参" in h])
        for example in _json_examples(resp_text):
            if isinstance(example, dict) and isinstance(example.get("result"), dict):
                response = merge(response, from_example(example["result"]))
        _apply_enums(response, enums)
        page.response = [f for f in response if f.name not in _ENVELOPE] or None
    page.errors = _errors(err_text)
    link = re.search(
        r"\*\*Partner 文档\*\*\s*\|\s*(https://partner[\w.-]*\.temu\.com/documentation\?"
        r"menu_code=[0-9a-f]{32}&sub_menu_code=[0-9a-f]{32})",
        text,
    )
    page.doc_url = link.group(1) if link else None
    for _heading, rows in _blocks(text):
        if rows and rows[0][0] == "Permission Package":
            page.scopes = [r[0] for r in rows[1:] if r and r[0]]
    return page
