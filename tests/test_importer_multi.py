"""Topic pages that detail several types each, and type names pages only mention: the
importer reads both, and ``check-spec`` names every such type the catalogue lacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen.check import SourceIndex, source_problems
from codegen.importer import draft_type, read_sources, sources_yaml
from codegen.load import load_catalogue
from codegen.reference_multi import is_multi_page, read_multi_page
from temu_async.catalogue import walk

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec"
LINKFOX = ROOT.parent / "shared" / "reference" / "linkfox-temu"
ADD_PRODUCT = LINKFOX / "skills" / "linkfox-temu-add-product-us" / "references"
needs_reference = pytest.mark.skipif(
    not ADD_PRODUCT.is_dir(), reason="reference pages not checked out"
)

# Written for this test in the layout of the linkfox topic pages: two types, JSON type
# words, dotted rows, a range row, alternatives, inline enums, a scoped nested table,
# an object whose keys sit in the description, a result shared by reference (§1).
TOPIC_PAGE = """# Widget API — 参数参考

Partner US 菜单 **Widget**（`menu_code=0123456789abcdef0123456789abcdef`）。

---

## 1. 挂件列表 — `bg.demo.widget.list`

- **sub_menu_code**：`fedcba9876543210fedcba9876543210`

### 网关 Body

| 参数 | 类型 | 必填 | 说明 |
|------|------|------|------|
| site | string | 是 | 默认 `us` |

### 业务参数（`params`）

| 参数 | 类型 | 必填 | 说明 |
|------|------|------|------|
| page | integer | 是 | 页码 |
| pageSize | integer | 是 | 每页条数，最大 50 |
| lvl1Id … lvl3Id | integer | 是 | 各级分组 |
| codeA / codeB | string | 是 | 二选一 |
| state | integer | 否 | 0 关闭，1 打开 |
| mode | integer | 否 | `1` 增减；`2` 覆盖 |
| origin.region.code | string | 是 | 区域码 |

### 响应（`result`）

| 字段 | 类型 | 说明 |
|------|------|------|
| total | integer | 条数 |
| rows | array | 列表 |

#### `rows[]`

| 字段 | 类型 | 说明 |
|------|------|------|
| widgetId | integer | ID |
| leaf | object | 叶子 `{ catId, catName }` |
| tags | array | 标签 |

#### 说明元素（典型）

| 字段 | 类型 | 说明 |
|------|------|------|
| stray | string | cannot be placed |

---

## 2. 挂件同类 — `bg.demo.widget.twin`

### 业务参数（`params`）

| 参数 | 类型 | 必填 | 说明 |
|------|------|------|------|
| widgetId | integer | 是 | ID |

响应字段见 **§1** `rows[]` 表。

---

## 相关文档

- [其他](./other.md)
"""


@pytest.fixture()
def topic_page(tmp_path: Path) -> Path:
    folder = tmp_path / "skills" / "linkfox-temu-widgets-us" / "references"
    folder.mkdir(parents=True)
    path = folder / "widget-apis.md"
    path.write_text(TOPIC_PAGE, encoding="utf-8")
    return path


def test_each_section_is_one_type_with_region_and_doc_link(topic_page: Path) -> None:
    assert is_multi_page(TOPIC_PAGE)
    pages = read_multi_page(topic_page)
    assert [p.type for p in pages] == ["bg.demo.widget.list", "bg.demo.widget.twin"]
    first = pages[0]
    assert first.region == "us"
    assert first.doc_url == (
        "https://partner-us.temu.com/documentation?menu_code=0123456789abcdef0123456789abcdef"
        "&sub_menu_code=fedcba9876543210fedcba9876543210"
    )
    assert pages[1].doc_url is None  # the section names no sub_menu_code


def test_params_rows_dotted_ranges_alternatives_enums_bounds(topic_page: Path) -> None:
    params = dict(walk(read_multi_page(topic_page)[0].params))
    # The gateway table (site) is the proxy's, not Temu's.
    assert "site" not in params
    assert params["page"].required and params["page"].type == "integer"
    assert params["pageSize"].maximum == 50
    # A range row: every level exists; only the first is always needed.
    assert [params[f"lvl{i}Id"].required for i in (1, 2, 3)] == [True, False, False]
    # Alternatives: both exist, neither alone is required.
    assert not params["codeA"].required and not params["codeB"].required
    assert params["state"].enum == {0: "关闭", 1: "打开"}
    assert params["mode"].enum == {1: "增减", 2: "覆盖"}
    # A dotted row creates the objects it passes through.
    assert params["origin"].type == "object" and params["origin.region"].type == "object"
    assert params["origin.region.code"].required


def test_result_nesting_scoped_tables_and_listed_keys(topic_page: Path) -> None:
    response = dict(walk(read_multi_page(topic_page)[0].response))
    assert set(response) == {
        "total",
        "rows",
        "rows.widgetId",
        "rows.leaf",
        "rows.leaf.catId",
        "rows.leaf.catName",
        "rows.tags",
    }
    assert response["rows"].type == "list" and response["rows"].items == "object"
    assert response["rows.tags"].items == "any"  # the page never says what the list holds


def test_a_result_given_by_reference_is_the_referenced_one(topic_page: Path) -> None:
    first, twin = read_multi_page(topic_page)
    assert [p for p, _ in walk(twin.response)] == [p for p, _ in walk(first.response)]
    assert [p for p, _ in walk(twin.params)] == ["widgetId"]


def test_mentioned_names_must_be_in_the_catalogue() -> None:
    cat = load_catalogue(SPEC)
    src = SourceIndex(mentioned={"bg.demo.nowhere.get": "temu-docs/guide.md"})
    found = source_problems(cat, src)
    assert found == [
        "bg.demo.nowhere.get: mentioned in temu-docs/guide.md but missing from the catalogue"
    ]
    known = cat.types[0].type
    assert source_problems(cat, SourceIndex(mentioned={known: "x.md"})) == []


# --------------------------------------------------------------------------- real pages


@needs_reference
def test_the_cross_border_types_are_read_from_the_topic_pages() -> None:
    src = read_sources()
    cross_border = {
        "temu.goods.add",
        "temu.goods.list.get",
        "temu.goods.detail.get",
        "temu.goods.update",
        "temu.goods.edit.property",
        "temu.goods.edit.sensitive.attr",
        "temu.goods.migrate",
        "temu.goods.price.list.get",
        "bg.goods.cats.get",
        "bg.goods.attrs.get",
        "bg.goods.category.mapping",
        "bg.glo.goods.parentspec.get",
        "bg.glo.goods.brand.get",
        "bg.btg.goods.stock.quantity.get",
        "bg.btg.goods.stock.quantity.update",
    }
    assert cross_border <= set(src.linkfox)
    draft = draft_type(src, "bg.btg.goods.stock.quantity.update")
    params = dict(walk(draft.params))
    assert params["quantityChangeMode"].required
    assert params["skuStockChangeList.productSkuId"].required
    assert not params["skuStockChangeList.stockDiff"].required  # needed for mode 1 only
    assert draft.regions == ["us"]
    assert draft.doc_url is not None and "e84f651da04f4fedb85d37e375a4e2d8" in draft.doc_url
    # "响应字段见 §1": bg.goods.attrs.get returns the attribute template of §1.
    attrs = dict(walk(draft_type(src, "bg.goods.attrs.get").response))
    assert "properties.values.vid" in attrs


@needs_reference
def test_readme_and_guide_mentions_are_collected_without_fragments() -> None:
    src = read_sources()
    assert "temu.cooperativewarehouse.skurelationship.create" in src.mentioned
    assert "temu.searchrec.ad.batch.modify" in src.mentioned
    # `bg.local.goods.spec.id`.get in a guide is a piece of bg.local.goods.spec.id.get.
    assert "bg.local.goods.spec.id" not in src.mentioned
    # A detailed type is never listed as merely mentioned.
    assert not set(src.mentioned) & set(src.linkfox)


@needs_reference
def test_every_reference_type_name_is_in_the_catalogue() -> None:
    src = read_sources()
    held = set(load_catalogue(SPEC).by_type())
    assert src.all_types() - held == set()
    assert sources_yaml(src) == (SPEC / "sources.yaml").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- flat trees

# A per-type page whose diagram and table spell the full path on every row (the linkfox
# tax pages do): the reader must rebuild the nesting, not drop the rows.
FLAT_PAGE = """# 挂件明细 — `bg.demo.widget.detail`

## Request 结构（官方业务参数）

### `request` 内字段

| 参数 | 类型 | 必填 | 说明 |
|------|------|------|------|
| widgetSn | STRING | **是** | widget number |

---

## Response（Temu `body` 解析后）

```text
response
├── success (BOOLEAN)
└── result (OBJECT)
    ├── lines[] (OBJECT[])
    ├── lines[].meta (OBJECT)
    ├── lines[].meta.createdMillis (INTEGER)
    ├── lines[].parts[] (OBJECT[])
    ├── lines[].parts[].amount (INTEGER)
```

### `result`

| 参数 | 类型 | 说明 |
|------|------|------|
| lines[] | OBJECT[] | lines |
| lines[].meta | OBJECT | meta |
| lines[].meta.createdMillis | INTEGER | created |
| lines[].parts[] | OBJECT[] | parts |
| lines[].parts[].amount | INTEGER | amount |
| lines[].parts[].label | STRING | only in the table |
"""


def test_flat_rows_rebuild_the_nested_result(tmp_path: Path) -> None:
    from codegen.reference_linkfox import read_linkfox_page

    folder = tmp_path / "skills" / "linkfox-temu-demo-eu" / "references" / "apis"
    folder.mkdir(parents=True)
    path = folder / "bg-demo-widget-detail.md"
    path.write_text(FLAT_PAGE, encoding="utf-8")
    page = read_linkfox_page(path)
    tree = dict(walk(page.response))
    assert set(tree) == {
        "lines",
        "lines.meta",
        "lines.meta.createdMillis",
        "lines.parts",
        "lines.parts.amount",
        "lines.parts.label",
    }
    assert tree["lines"].type == "list" and tree["lines"].items == "object"
    assert tree["lines.parts"].items == "object"
    assert tree["lines.meta.createdMillis"].type == "integer"
    assert [p for p, _ in walk(page.params)] == ["widgetSn"]


@needs_reference
def test_tax_result_trees_are_complete_as_their_pages_say() -> None:
    src = read_sources()
    held = load_catalogue(SPEC).by_type()
    for name in (n for n in held if n.startswith("temu.pay.tax.")):
        draft = draft_type(src, name)
        mine = {p: f.type for p, f in walk(held[name].response)}
        theirs = {p: f.type for p, f in walk(draft.response)}
        # Every documented field is held with the type its table gives (the catalogue may
        # hold more: the upload result's own `success`, which the reader treats as envelope).
        assert theirs.items() <= mine.items(), name
        assert {p: (f.type, f.required) for p, f in walk(held[name].params)} == {
            p: (f.type, f.required) for p, f in walk(draft.params)
        }, name
    detail = dict(walk(held["temu.pay.tax.invoice.detail.query"].response))
    assert len(detail) == 48
    info = dict(walk(held["temu.pay.tax.invoice.info.query"].response))
    assert {"taxInvoiceInfoList.invoiceNumber", "taxInvoiceInfoList.invoiceTime"} <= set(info)
    assert all(f.summary for f in detail.values())


BOLD_PAGE = """# 挂件更新 — `bg.demo.widget.update`

## Request 结构（官方业务参数）

### `request`

| 参数 | 类型 | 必填 | 说明 |
|------|------|------|------|
| widgetProperty | OBJECT | 否 | properties |

## request.widgetProperty

| 参数 | 类型 | 必填 | 说明 |
|------|------|------|------|
| properties | OBJECT[] | 否 | list |

**`properties[]`**

| 参数 | 类型 | 必填 | 说明 |
|------|------|------|------|
| vid | LONG | 否 | value id |
| length / width | STRING | **是** | size |
"""


def test_a_bold_path_line_heads_the_table_below_it(tmp_path: Path) -> None:
    from codegen.reference_linkfox import read_linkfox_page

    folder = tmp_path / "skills" / "linkfox-temu-demo-us" / "references" / "apis"
    folder.mkdir(parents=True)
    path = folder / "bg-demo-widget-update.md"
    path.write_text(BOLD_PAGE, encoding="utf-8")
    tree = dict(walk(read_linkfox_page(path).stated_params))
    assert set(tree) == {
        "widgetProperty",
        "widgetProperty.properties",
        "widgetProperty.properties.vid",
        "widgetProperty.properties.length",
        "widgetProperty.properties.width",
    }
    assert tree["widgetProperty.properties.vid"].type == "long"
    # "length / width" is two fields with the row's facts.
    assert tree["widgetProperty.properties.width"].required
