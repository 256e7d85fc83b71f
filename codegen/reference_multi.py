"""Reader for linkfox-temu pages that describe several types each (``product-query-apis.md``).

Most linkfox pages hold one type (``references/apis/<type>.md``, read by
:mod:`codegen.reference_linkfox`). A few skills instead group their types by topic: one
``## N. <title> — `<type>``` section per type, with a ``### 业务参数（`params`）`` table, a
``### 响应（`result`）`` table and ``#### `<path>[]``` tables for nested levels. Their tables
use JSON type words (``integer``, ``array``), rows may be dotted paths
(``productOrigin.region1ShortName``), ranges (``cat1Id … cat10Id``) or alternatives
(``catId / leafCatId``), and a description may list an object's keys (``{ catId, catName }``).

Each section becomes a :class:`~codegen.reference_linkfox.LinkfoxPage`, so the importer
merges it like any other linkfox page. :func:`mentioned_names` collects every type name any
linkfox page mentions (README tables, catalogue pages, prose), for the coverage check.
"""

from __future__ import annotations

import re
from pathlib import Path

from codegen.reference_linkfox import (
    LinkfoxPage,
    bounds_for,
    find_by_path_end,
    place,
    region_of,
)
from codegen.reference_tree import COMMON_PARAMS, merge
from temu_async.catalogue import Field

__all__ = ["is_multi_page", "mentioned_names", "read_multi_page"]

TYPE_NAME = r"(?:bg|temu)\.[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)+"
_SECTION = re.compile(rf"^##\s+\d+\.\s+.*?`({TYPE_NAME})`\s*$", re.M)
_JSON_WORDS: dict[str, tuple[str, str | None]] = {
    "integer": ("integer", None),
    "int": ("integer", None),
    "long": ("long", None),
    "string": ("string", None),
    "boolean": ("boolean", None),
    "bool": ("boolean", None),
    "number": ("number", None),
    "object": ("object", None),
    "array": ("list", "any"),
    "string[]": ("list", "string"),
    "integer[]": ("list", "integer"),
    "long[]": ("list", "long"),
    "object[]": ("list", "object"),
}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RANGE = re.compile(r"^([A-Za-z_]+?)(\d+)([A-Za-z_]*)\s*(?:…|\.\.\.|~|-)\s*\1(\d+)\3$")
_KEYS = re.compile(r"\{\s*([A-Za-z_][\w\[\]]*(?:\s*,\s*[A-Za-z_][\w\[\]]*)*)\s*\}")


def is_multi_page(text: str) -> bool:
    """A page with at least one ``## N. … — `type``` section."""
    return _SECTION.search(text) is not None


def _type_word(cell: str) -> tuple[str, str | None] | None:
    word = cell.strip().strip("`").strip().lower()
    if word in _JSON_WORDS:
        return _JSON_WORDS[word]
    if "/" in word:
        # ``string/number``: the page does not commit to one type.
        kinds = {_JSON_WORDS.get(w.strip(), ("any", None)) for w in word.split("/")}
        return kinds.pop() if len(kinds) == 1 else ("any", None)
    return None


def _names(cell: str) -> list[tuple[list[str], bool]]:
    """The dotted paths one name cell stands for, each with whether the row's required flag
    applies to it: ``a / b`` alternatives are each optional (one of them is needed), and in a
    range ``cat1Id … cat10Id`` only the first level is always needed (the rest as deep as
    the leaf goes)."""
    out: list[tuple[list[str], bool]] = []
    alternatives = len(cell.split(" / ")) > 1
    for alt in cell.replace("`", "").split(" / "):
        alt = alt.strip()
        m = _RANGE.match(alt)
        if m:
            lo, hi = int(m.group(2)), int(m.group(4))
            out.extend(
                ([f"{m.group(1)}{i}{m.group(3)}"], i == lo and not alternatives)
                for i in range(lo, hi + 1)
            )
            continue
        parts = [p.strip().removesuffix("[]") for p in alt.split(".")]
        if parts and all(_NAME.match(p) for p in parts):
            out.append((parts, not alternatives))
    return out


def _int_enum(desc: str) -> dict[int | str, str] | None:
    """``0 未加入，1 已加入`` / ```1` 增减变更；`2` 覆盖变更`` / ``1=服饰`` (two or more values)."""
    plain = desc.replace("*", "")
    if "`" in plain:
        # Backticked values: only those are values (``800×800`` after one is its meaning).
        pairs = re.findall(r"`(\d+)`\s*([^`，,；;。（(]+)", plain)
    else:
        pairs = re.findall(
            r"(?<![\w.])(\d+)\s*(?:=|:|：)?\s*([^\s\d，,；;。（(=][^，,；;。（(]*)", plain
        )
    if len(pairs) < 2 or len({k for k, _ in pairs}) != len(pairs):
        return None
    return {int(k): v.strip() for k, v in pairs}


def _child_keys(desc: str) -> list[Field] | None:
    """``{ productSkuId, extCode, skuSpecList[] }``: the object's keys (types unstated)."""
    m = _KEYS.search(desc)
    if not m:
        return None
    out = []
    for key in (k.strip() for k in m.group(1).split(",")):
        if key.endswith("[]"):
            out.append(Field(name=key[:-2], type="list", items="any"))
        else:
            out.append(Field(name=key, type="any"))
    return out


def _table(rows: list[list[str]]) -> list[Field] | None:
    """The fields of one table (header 参数/字段 | 类型 | [必填/条件] | 说明), or None."""
    header = [c.strip() for c in rows[0]] if rows else []
    if len(header) < 3 or header[0] not in ("参数", "字段", "参数名") or header[1] != "类型":
        return None
    has_flag = len(header) >= 4 and header[2] in ("必填", "条件", "是否必填")
    out: list[Field] = []
    for cells in rows[1:]:
        if len(cells) < 3:
            continue
        typed = _type_word(cells[1])
        if typed is None:
            continue
        kind, items = typed
        desc = cells[3] if has_flag and len(cells) > 3 else cells[2]
        for path, flagged in _names(cells[0]):
            if path[0] in COMMON_PARAMS:
                continue
            f = Field(name=path[-1], type=kind, items=items)  # type: ignore[arg-type]
            if has_flag:
                # 是 = always required; 否 / 条件 / ``mode=1`` = not always.
                f.required = flagged and cells[2].replace("*", "").strip() == "是"
            for key, value in bounds_for(desc, kind).items():
                setattr(f, key, value)
            if (items or kind) in ("integer", "long"):
                f.enum = _int_enum(desc)
            keys = _child_keys(desc)
            if keys and kind in ("object", "list"):
                if kind == "list":
                    f.items = "object"
                f.fields = keys
            place(out, path[:-1], f)
    return out


def _tables(text: str) -> list[tuple[str, list[list[str]]]]:
    """Each table with the ``####``/``###`` heading above it (code blocks skipped)."""
    out: list[tuple[str, list[list[str]]]] = []
    heading = ""
    table: list[str] = []
    in_code = False
    for line in [*text.splitlines(), ""]:
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        if line.lstrip().startswith("|"):
            table.append(line)
            continue
        if table:
            rows = [[c.strip() for c in t.strip().strip("|").split("|")] for t in table]
            rows = [r for r in rows if not all(set(c) <= set("-: ") for c in r)]
            out.append((heading, rows))
            table = []
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
    return out


def _scope(heading: str) -> list[str] | None:
    """``#### `properties[].values[]` 元素`` → ["properties", "values"]."""
    m = re.search(r"`([^`]+)`", heading)
    if not m:
        return None
    parts = [p.strip().removesuffix("[]") for p in m.group(1).split(".")]
    return parts if all(_NAME.match(p) for p in parts) else None


def _part(text: str, roots: set[str]) -> list[Field]:
    """One part (params or result) of a section: the root table, then scoped tables."""
    root: list[Field] = []
    for heading, rows in _tables(text):
        fields = _table(rows)
        if fields is None:
            continue
        scope = _scope(heading)
        if heading.startswith(("业务参数", "响应")) or (scope is not None and scope[0] in roots):
            root = merge(root, fields)
            continue
        if scope is None:
            # "规格维度元素（典型）": a level the heading does not name cannot be placed.
            continue
        targets = find_by_path_end(root, scope)
        for target in targets:
            if target.type == "list":
                target.items = "object"
            elif target.type == "any":
                target.type = "object"
            if target.type == "object" or target.items == "object":
                target.fields = merge(target.fields or [], fields)
        if not targets:
            # A table for a level the root table does not list: create it.
            holder = Field(name=scope[-1], type="list", items="object", fields=fields)
            place(root, scope[:-1], holder)
    return root


def _subsections(body: str) -> list[tuple[str, str]]:
    """``### heading`` → its text (``####`` tables stay with their ``###``)."""
    parts = re.split(r"^###\s+(?!#)(.+?)\s*$", body, flags=re.M)
    return [(parts[i].strip(), parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


def _menu_code(path: Path, text: str) -> str | None:
    for source in [
        text,
        *(p.read_text(encoding="utf-8") for p in path.parent.glob("*catalog*.md")),
    ]:
        m = re.search(r"(?<!sub_)menu_code=([0-9a-f]{32})", source)
        if m:
            return m.group(1)
    return None


def read_multi_page(path: Path) -> list[LinkfoxPage]:
    """One :class:`LinkfoxPage` per ``## N. … — `type``` section of the page."""
    text = path.read_text(encoding="utf-8")
    region = region_of(path)
    menu = _menu_code(path, text)
    heads = list(_SECTION.finditer(text))
    bodies: list[tuple[str, str]] = []
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        body = text[m.end() : end]
        # The page's closing "## 相关文档" list is not part of the last section.
        tail = re.search(r"^##\s+(?!\d+\.)", body, re.M)
        bodies.append((m.group(1), body[: tail.start()] if tail else body))
    pages: list[LinkfoxPage] = []
    for name, body in bodies:
        page = LinkfoxPage(type=name, path=path, region=region)
        subs = _subsections(body)
        params_text = "".join(f"### {h}\n{t}" for h, t in subs if "业务参数" in h)
        result_text = "".join(f"### {h}\n{t}" for h, t in subs if h.startswith("响应"))
        page.params = _part(params_text, {"params", "request"})
        response = _part(result_text, {"result"})
        page.response = response or None
        sub = re.search(r"sub_menu_code[^0-9a-f]*([0-9a-f]{32})", body)
        if sub and menu and region:
            page.doc_url = (
                f"https://partner-{region}.temu.com/documentation?"
                f"menu_code={menu}&sub_menu_code={sub.group(1)}"
            )
        pages.append(page)
    # "响应字段见 §1": the result is the one an earlier section documents.
    for page, (_name, body) in zip(pages, bodies, strict=True):
        ref = re.search(r"响应字段见\s*\**§(\d+)", body)
        if page.response is None and ref and 0 < int(ref.group(1)) <= len(pages):
            page.response = merge(pages[int(ref.group(1)) - 1].response, None) or None
    return pages


def mentioned_names(text: str) -> set[str]:
    """Every backticked type name in a page (tables, lists, prose)."""
    return set(re.findall(rf"`({TYPE_NAME})`", text))
