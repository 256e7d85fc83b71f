"""``new-type`` and the reference readers: a doc page becomes a catalogue entry whose
params, nesting and error codes match what the page (and the catalogue) say."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from codegen.check import run as check_spec
from codegen.importer import (
    draft_from_page,
    guess_group,
    guess_method,
    read_sources,
    run,
    sources_yaml,
)
from codegen.load import load_catalogue
from codegen.reference_linkfox import bounds_from_text, read_linkfox_page
from codegen.reference_temudocs import read_doc_page
from temu_async.catalogue import Catalogue, Field, problems, walk

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec"
REFERENCE = ROOT.parent / "shared" / "reference"
DOCS = REFERENCE / "temu-docs" / "api-reference"
needs_reference = pytest.mark.skipif(not DOCS.is_dir(), reason="reference pages not checked out")

# A page in the temu-docs layout, written for this test (numeric type codes, error table,
# curl request and JSON response examples).
PAGE = """# bg.demo.widget.list.get

**List Widgets**

Lists widgets.

## Request Parameters

| Parameter | Type | Required | Description | Example |
|---|---|---|---|---|
| pageNumber | 1 | No |  |  |
| pageSize | 1 | No |  |  |
| widgetIdList | 8 | No |  |  |
| ownerId | 2 | No |  |  |
| filter | 6 | No |  |  |

## Response Parameters

| Parameter | Type | Required | Description | Example |
|---|---|---|---|---|
| success | 5 | No |  |  |
| result | 6 | No |  |  |

## Error Codes

| Error Code | Message |
|---|---|
| 990001 | Widget not found |
| 990002 | {*} is too large |

## Request Example

```bash
curl -X POST 'https://example.invalid/openapi/router' -d '{
  "type" : "test",
  "app_key" : "test",
  "pageNumber" : 1,
  "pageSize" : 1,
  "widgetIdList" : [ 1, 1 ],
  "ownerId" : 1,
  "filter" : { "colour" : "test", "sizes" : [ { "min" : 1, "max" : 1 } ] }
}'
```

## Response Example

```json
{
  "result" : {
    "total" : 1,
    "widgets" : [ { "widgetId" : 1, "name" : "test", "tags" : [ "test" ], "active" : true } ]
  },
  "success" : true
}
```
"""


@pytest.fixture
def page(tmp_path: Path) -> Path:
    path = tmp_path / "bg.demo.widget.list.get.md"
    path.write_text(PAGE, encoding="utf-8")
    return path


def tree(fields: list[Field] | None) -> dict[str, tuple[str, str | None]]:
    return {p: (f.type, f.items) for p, f in walk(fields)}


# --------------------------------------------------------------------------- one page


def test_page_params_from_table_and_example(page: Path) -> None:
    doc = read_doc_page(page)
    assert doc.type == "bg.demo.widget.list.get"
    assert tree(doc.params) == {
        "pageNumber": ("integer", None),
        "pageSize": ("integer", None),
        "widgetIdList": ("list", "long"),  # ids in examples are read as LONG
        "ownerId": ("long", None),  # the table's LONG beats the example's 1
        "filter": ("object", None),
        "filter.colour": ("string", None),
        "filter.sizes": ("list", "object"),
        "filter.sizes.min": ("integer", None),
        "filter.sizes.max": ("integer", None),
    }
    # Common params from the example never become business params.
    assert "type" not in tree(doc.params) and "app_key" not in tree(doc.params)


def test_page_response_and_errors(page: Path) -> None:
    doc = read_doc_page(page)
    assert tree(doc.response) == {
        "total": ("integer", None),
        "widgets": ("list", "object"),
        "widgets.widgetId": ("long", None),
        "widgets.name": ("string", None),
        "widgets.tags": ("list", "string"),
        "widgets.active": ("boolean", None),
    }
    assert doc.errors == {990001: "Widget not found", 990002: "{*} is too large"}


def test_draft_guesses_group_method_and_pagination(page: Path) -> None:
    spec = draft_from_page(read_doc_page(page))
    assert (spec.group, spec.method) == ("demo", "widget_list")
    assert spec.idempotent is True and spec.documented is True
    assert spec.paginate is not None
    assert (spec.paginate.page, spec.paginate.size) == ("pageNumber", "pageSize")
    assert (spec.paginate.items, spec.paginate.total) == ("widgets", "total")


def test_new_type_prints_yaml(page: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(page, SPEC, group="order") == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed[0]["type"] == "bg.demo.widget.list.get"
    assert printed[0]["errors"] == {990001: "Widget not found", 990002: "{*} is too large"}


def test_new_type_write_appends_and_refuses_a_second_time(
    page: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "spec"
    shutil.copytree(SPEC, spec)
    before = load_catalogue(spec)
    assert run(page, spec, group="order", write=True) == 0
    after = load_catalogue(spec)
    added = after.by_type()["bg.demo.widget.list.get"]
    assert added.group == "order" and added.method == "demo_widget_list"
    assert len(after.types) == len(before.types) + 1
    assert problems(after) == []
    # The placeholder summary keeps check-spec red until a person writes one.
    capsys.readouterr()
    assert check_spec(spec) == 1
    assert "placeholder" in capsys.readouterr().err
    assert run(page, spec, group="order", write=True) == 1
    assert "already in spec/types/order.yaml" in capsys.readouterr().err
    assert len(load_catalogue(spec).types) == len(after.types)


def test_new_type_write_to_a_new_group_creates_the_file(page: Path, tmp_path: Path) -> None:
    spec = tmp_path / "spec"
    shutil.copytree(SPEC, spec)
    assert run(page, spec, write=True) == 0
    assert (spec / "types" / "demo.yaml").is_file()
    assert load_catalogue(spec).by_type()["bg.demo.widget.list.get"].group == "demo"


def test_new_type_refuses_a_known_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "spec"
    shutil.copytree(SPEC, spec)
    known = tmp_path / "page.md"
    known.write_text(PAGE.replace("bg.demo.widget.list.get", "bg.order.list.v2.get"))
    before = (spec / "types" / "order.yaml").read_text()
    assert run(known, spec, write=True) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    assert (spec / "types" / "order.yaml").read_text() == before


def test_new_type_rejects_a_page_without_a_type(tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text("# How to release a product\n\nProse only.\n")
    assert run(guide, SPEC) == 2


def test_method_and_group_names() -> None:
    assert guess_group("bg.order.list.v2.get") == "order"
    assert guess_method("bg.order.list.v2.get", "order") == "list_v2"
    assert guess_method("bg.order.detail.v2.get", "order") == "detail_v2"
    assert guess_group("bg.logistics.shipment.v2.confirm") == "fulfillment"
    assert guess_group("bg.logistics.companies.get") == "logistics"
    assert guess_method("bg.logistics.companies.get", "logistics") == "companies"
    assert guess_group("bg.local.goods.priceorder.query") == "price"
    assert guess_method("temu.local.goods.brand.trademark.V2.get", "goods") == "brand_trademark_v2"
    assert guess_method("bg.arbok.open.cert.uploadProductCert", "compliance") == (
        "arbok_cert_upload_product_cert"
    )


# --------------------------------------------------------------------------- linkfox reader

LINKFOX_PAGE = """# Demo — `bg.demo.widget.send`

## Request 结构（官方顶层）

### `request` 内字段

| 参数 | 类型 | 必填 | 说明 |
|------|------|------|------|
| mode | INTEGER | **是** | 模式，见下表 |
| widgetList | OBJECT[] | **是** | 列表，单次最多 20 条 |
| note | STRING | 否 | 备注 |

#### `mode`

| 值 | 说明 |
|----|------|
| `0` | Single（单个） |
| `1` | Batch（批量） |

#### `widgetList[]` 元素字段

| 参数 | 类型 | 必填 | 说明 |
|------|------|------|------|
| widgetId | LONG | **是** | ID |
| count | INTEGER | 否 | 数量，最大 100 |

---

## Response（Temu `body` 解析后）

### `response` 顶层字段

| 参数 | 类型 | 说明 |
|------|------|------|
| success | BOOLEAN | ok |
| result | OBJECT | result |

### `result`

| 参数 | 类型 | 说明 |
|------|------|------|
| sentList | OBJECT[] | sent |

### `result.sentList[]`

| 参数 | 类型 | 说明 |
|------|------|------|
| widgetId | LONG | ID |

## Error Code（Partner 表）

| errorCode | errorMsg | 建议 |
|-----------|----------|------|
| 990010 | widget busy | retry |
"""


def test_linkfox_page_nesting_required_enum_bounds(tmp_path: Path) -> None:
    folder = tmp_path / "skills" / "linkfox-temu-demo-eu" / "references" / "apis"
    folder.mkdir(parents=True)
    path = folder / "bg-demo-widget-send.md"
    path.write_text(LINKFOX_PAGE, encoding="utf-8")
    lf = read_linkfox_page(path)
    assert lf.type == "bg.demo.widget.send" and lf.region == "eu"
    by_path = dict(walk(lf.params))
    assert set(by_path) == {"mode", "widgetList", "widgetList.widgetId", "widgetList.count", "note"}
    assert by_path["mode"].required and by_path["mode"].enum == {
        0: "Single（单个）",
        1: "Batch（批量）",
    }
    assert by_path["widgetList"].required and by_path["widgetList"].max_items == 20
    assert by_path["widgetList.widgetId"].type == "long" and by_path["widgetList.widgetId"].required
    assert by_path["widgetList.count"].maximum == 100 and not by_path["widgetList.count"].required
    assert not by_path["note"].required
    assert [p for p, _ in walk(lf.response)] == ["sentList", "sentList.widgetId"]
    assert lf.errors == {990010: "widget busy"}


def test_bounds_from_prose() -> None:
    assert bounds_from_text("每页条数，**默认 10**，**最大 100**", False) == {"maximum": 100}
    assert bounds_from_text("父订单号列表，**单次最多 20 条**", True) == {"max_items": 20}
    assert bounds_from_text("列表大小应在 1 到 100 之间", True) == {
        "min_items": 1,
        "max_items": 100,
    }
    assert bounds_from_text("每页大小，小于 100", False) == {"maximum": 99}
    assert bounds_from_text("商品名称", False) == {}


# --------------------------------------------------------------------------- real pages


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(SPEC)


PAGES = [
    "order/bg.order.list.v2.get.md",
    "order/bg.order.detail.v2.get.md",
    "product/bg.local.goods.list.query.md",
    "product/bg.local.goods.stock.edit.md",
    "shipping/bg.logistics.shipment.v2.confirm.md",
    "shipping/bg.logistics.shipment.create.md",
    "shipping/bg.logistics.companies.get.md",
    "promotions/bg.promotion.activity.query.md",
    "returns/bg.aftersales.parentaftersales.list.get.md",
    "ads/temu.searchrec.ad.create.md",
    "warehouse/bg.cooperativewarehouse.fulfill.submit.md",
    "compliance/bg.compliance.edit.md",
]


@needs_reference
@pytest.mark.parametrize("rel", PAGES)
def test_real_page_reproduces_catalogue_params_and_errors(catalogue: Catalogue, rel: str) -> None:
    page = DOCS / rel
    if not page.is_file():
        pytest.skip(f"{rel} not in this reference checkout")
    spec = draft_from_page(read_doc_page(page))
    held = catalogue.by_type()[spec.type]
    assert spec.group == held.group, "the importer files the type where the catalogue has it"
    top_held = {f.name: f for f in held.params}
    for f in spec.params:
        assert f.name in top_held, f"{spec.type}: param {f.name} not in the catalogue"
        assert f.type == top_held[f.name].type, f"{spec.type}.{f.name}: type differs"
    # Every nested path the page's example shows is in the catalogue too.
    held_paths = {p for p, _ in walk(held.params)}
    assert {p for p, _ in walk(spec.params)} <= held_paths
    for code, message in spec.errors.items():
        assert held.errors.get(code) == message, f"{spec.type}: error {code} differs"
    assert spec.result_type == held.result_type
    if spec.response:
        assert {p for p, _ in walk(spec.response)} <= {p for p, _ in walk(held.response)}


@needs_reference
def test_committed_sources_list_is_current() -> None:
    assert sources_yaml(read_sources()) == (SPEC / "sources.yaml").read_text(encoding="utf-8")
